//! The timer queue, for authors of time drivers.
//!
//! ebbtide reads time through the [`embassy-time-driver`](embassy_time_driver) contract: a
//! program links exactly one driver, which supplies `now()` and `schedule_wake(at, waker)`. A
//! driver only has to keep a clock and one alarm; this module keeps the timers, in a
//! [`TimerQueue`]. The program has **one global queue** ([`global`]), which the free functions of
//! this module use; a host with several runtimes gives each runtime a queue of its own (see
//! [`TimerQueue`]), whose methods of the same names work the same way. A driver implements the
//! contract on top of three functions:
//!
//! - [`schedule_wake`]: call it from the driver's `schedule_wake`. When it returns `true`, the
//!   earliest deadline became earlier: end the current wait (or move the alarm) no later than
//!   `at`.
//! - [`wake_expired`]: call it when the alarm fires or the wait ends, with the current time. It
//!   wakes every timer that is due and returns when to call it again.
//! - [`next_deadline`]: when to call `wake_expired` next, for a driver that computes its wait
//!   before blocking.
//!
//! A driver that calls them from inside a critical section of its own (a microcontroller's,
//! which updates its alarm in the same section) calls [`schedule_wake_in`] and
//! [`wake_expired_in`] instead: the global queue's lock, a critical section too, then takes no
//! other (about 60 bytes less flash on a Cortex-M4 and fewer instructions per timer).
//!
//! A host driver's loop (ebbtide-std, ebbtide-wasi) does: poll the executor; if nothing is ready,
//! wait in the OS until [`next_deadline`] (or an IO event, or a wake from another thread); call
//! [`wake_expired`]; repeat. A microcontroller driver sets a hardware alarm to the value
//! [`wake_expired`] returns, and lowers it (inside a critical section, keeping the earlier of the
//! two) when [`schedule_wake`] returns `true`. A wake-up that comes early is harmless: it only
//! costs a call to [`wake_expired`] that finds nothing to do. A wake-up that comes late makes
//! timers late, so the alarm must never be later than the last deadline you were given.
//!
//! # How timers are kept
//!
//! - A timer of an **ebbtide task** (its waker is an ebbtide task waker) costs nothing: the task
//!   header has room for one timer entry, which is linked into a hierarchical timing wheel (see
//!   the `wheel` source file for its design). Every task can sleep at once; inserting, moving and
//!   expiring a timer are O(1). A task is queued at most once: scheduling it again keeps the
//!   *earlier* of the two deadlines, and a later deadline is re-registered by the future when its
//!   task is woken (this is also how embassy's integrated timer queue behaves, and what
//!   embassy-time's `Timer` expects).
//! - With the **`small-timer-queue`** feature (for small targets with a handful of tasks), the
//!   entries are kept in one list sorted by deadline instead of the wheel (see the `list` source
//!   file): inserting and moving a timer are O(n) in the number of queued timers, and the queue's
//!   timers shrink from about 1.6 KB to 12 bytes (on 32-bit targets; 24 for the whole queue, its
//!   lock and armed deadline included) plus the foreign-waker table, which has 4 entries instead
//!   of 32; each task header loses the wheel's back link (a word). Everything else on this page
//!   holds as written, except with `task-timers-only` too (no foreign-waker table): then the
//!   list is the whole queue, 8 bytes (a head and the lock's flags), and it keeps neither an
//!   armed deadline nor the time of the last [`wake_expired`], so a deadline that has already
//!   passed is queued like any other (and [`schedule_wake`] says `true` if it comes first, so the
//!   driver's alarm, lowered into the past, fires at once), where the other configurations wake
//!   its waker at once.
//! - A task that finishes stays in the queue until its deadline passes; if a new task is spawned
//!   in the same slot meanwhile, it is woken once, spuriously. Nothing else happens.
//! - A **foreign waker** (from another executor, or [`block_on`](crate::block_on)'s no-op waker)
//!   goes into a fixed table of [`FOREIGN_WAKER_CAPACITY`] entries. Wakers that
//!   [`will_wake`](core::task::Waker::will_wake) each other share an entry with the earlier
//!   deadline. When the table is full, the waker is woken at once instead: a spurious but correct
//!   wake-up (its future polls again and finds its deadline not yet reached), never a panic and
//!   never a lost wake-up.
//! - With the **`one-timer-queue`** feature only the [`global`] queue keeps task timers (another
//!   queue takes a task's waker as a foreign one): see [`TimerQueue`].
//! - With the **`task-timers-only`** feature there is no table at all: every foreign waker is
//!   woken at once, each time it is polled (a busy wait, never a lost wake-up). For programs
//!   whose timers all run in ebbtide tasks, as on a microcontroller whose `main` only spawns and
//!   runs the executor (embassy's integrated queue panics on a foreign waker instead); it saves
//!   the table's RAM and about 0.5 KB of flash.
//!
//! The global queue's lock is a `critical-section`, so all of this may be called from any thread
//! or interrupt handler (a queue made with [`TimerQueue::with_own_lock`] is for threads only). No user code runs while it is held: a foreign waker is cloned before the lock is
//! taken, and woken or dropped after it is released, so a waker's `clone`, `wake` and `drop` may
//! call back into this module.
//!
//! # Examples
//!
//! A driver's `schedule_wake`, and the wait of its loop:
//!
//! ```
//! use core::task::Waker;
//! use ebbtide_core::time::queue;
//!
//! struct MyDriver;
//!
//! impl embassy_time_driver::Driver for MyDriver {
//!     fn now(&self) -> u64 {
//!         # 0
//!         // read the clock
//!     }
//!     fn schedule_wake(&self, at: u64, waker: &Waker) {
//!         if queue::schedule_wake(at, waker) {
//!             // The earliest deadline moved earlier: wake the waiting loop, or lower the alarm.
//!         }
//!     }
//! }
//! // Registered once per program with:
//! // embassy_time_driver::time_driver_impl!(static DRIVER: MyDriver = MyDriver);
//!
//! fn after_waiting(now: u64) -> Option<u64> {
//!     // Wake what is due; the return value is when to wake up next.
//!     queue::wake_expired(now)
//! }
//! # let _ = (MyDriver, after_waiting);
//! ```

use core::ptr::{self, NonNull};
use core::task::Waker;

#[cfg(not(feature = "one-timer-queue"))]
use super::entry;
#[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
use super::entry::Deadline;
use super::entry::Scheduled;
#[cfg(feature = "small-timer-queue")]
use super::list::SortedList as Timers;
#[cfg(not(feature = "small-timer-queue"))]
use super::wheel::Wheel as Timers;
use crate::loom::{AtomicBool, Ordering, QueueLock};
#[cfg(not(feature = "task-timers-only"))]
use crate::raw::header::deadline_bits;
use crate::raw::header::{deadline_value, DeadlineBits, Header};
use crate::raw::waker::{header_of, wake_task};

/// How many foreign (non-ebbtide) wakers the queue holds at once: 32, or 4 with the
/// `small-timer-queue` feature, or none with `task-timers-only`; see the [module docs](self) for
/// what happens beyond.
///
/// # Examples
///
/// ```
/// let capacity = ebbtide_core::time::queue::FOREIGN_WAKER_CAPACITY;
/// let expected = if cfg!(feature = "task-timers-only") {
///     0
/// } else if cfg!(feature = "small-timer-queue") {
///     4
/// } else {
///     32
/// };
/// assert_eq!(capacity, expected);
/// ```
pub const FOREIGN_WAKER_CAPACITY: usize = if cfg!(feature = "task-timers-only") {
    0
} else if cfg!(feature = "small-timer-queue") {
    4
} else {
    32
};

/// Whether only the [`global`] queue keeps task timers (the `one-timer-queue` feature): then a
/// task's entry has one possible owner, and no claim or move between queues is built. Another
/// queue takes a task's waker as a foreign one, so a driver that would give each runtime a queue
/// of its own should use the global queue instead when this is `true` (ebbtide-std's runtimes
/// do).
///
/// # Examples
///
/// ```
/// use ebbtide_core::time::queue::{self, TimerQueue};
///
/// static OWN: TimerQueue = TimerQueue::with_own_lock();
/// let timers: &'static TimerQueue =
///     if queue::ONE_TIMER_QUEUE { queue::global() } else { &OWN };
/// assert_eq!(timers.next_deadline(), None);
/// ```
pub const ONE_TIMER_QUEUE: bool = cfg!(feature = "one-timer-queue");

/// How many wakers are taken out of the queue per lock, in [`TimerQueue::wake_expired`].
const TASK_BATCH: usize = 16;
/// None without a foreign-waker table (`task-timers-only`): the batch's foreign half compiles away.
const FOREIGN_BATCH: usize = if FOREIGN_WAKER_CAPACITY == 0 { 0 } else { 4 };

/// What a [`TimerQueue`]'s lock guards.
///
/// Its initial value is all zeros (no `u64::MAX` in it: `armed` is kept inverted), so a `static`
/// queue lives in `.bss` and costs no flash.
struct Queue {
    /// The task timers: the timing wheel, or the sorted list of `small-timer-queue`.
    wheel: Timers,
    /// Foreign wakers and their deadlines (in [`DeadlineBits`], so that the table is 4-byte
    /// aligned on 32-bit targets, even when it is empty).
    foreign: [Option<(DeadlineBits, Waker)>; FOREIGN_WAKER_CAPACITY],
    /// The deadline the driver was last told to wake up at (`u64::MAX`: none). It is never later
    /// than any queued deadline: every earlier insertion lowers it and reports `true`. Not kept
    /// when the sorted list is the whole queue (`small-timer-queue` without a foreign-waker
    /// table): that deadline is then always the first entry's (see [`Queue::first_after`]).
    #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
    armed: Deadline,
}

/// What to do after the lock is released.
#[derive(Clone, Copy)]
enum Outcome {
    /// Queued: whether the earliest deadline became earlier.
    Queued(bool),
    /// The deadline has passed (or the foreign table is full): wake now.
    WakeNow,
    /// A foreign waker needs a new entry: clone it outside the lock, then try again. (Never
    /// without a foreign-waker table.)
    #[cfg(not(feature = "task-timers-only"))]
    NeedsClone,
}

impl Queue {
    /// An empty queue at time 0.
    const EMPTY: Queue = Queue {
        wheel: Timers::new(),
        foreign: [const { None }; FOREIGN_WAKER_CAPACITY],
        #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
        armed: Deadline::NONE,
    };

    /// Records that the driver must wake up by `at`; `true` if that is earlier than before.
    #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
    fn arm(&mut self, at: u64) -> bool {
        if at < self.armed.get() {
            self.armed = Deadline::new(at);
            true
        } else {
            false
        }
    }

    /// Whether queueing `task` at `at` (just done) made the earliest deadline earlier, which the
    /// driver must then be told: `arm` records it in `armed`.
    #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
    #[inline]
    fn first_after(&mut self, _task: NonNull<Header>, at: u64) -> bool {
        self.arm(at)
    }

    /// Whether queueing `task` (just done) made the earliest deadline earlier: with the sorted
    /// list as the whole queue, the driver was last told the first entry's deadline (each
    /// `wake_expired` tells it that, and each earlier insertion comes first), and an entry is
    /// linked after those due no later than it, so this is whether `task` is now first.
    #[cfg(all(feature = "small-timer-queue", feature = "task-timers-only"))]
    #[inline]
    fn first_after(&mut self, task: NonNull<Header>, _at: u64) -> bool {
        self.wheel.is_first(task)
    }

    /// Records the deadline the driver is told by `wake_expired` (`None`: none), and whether
    /// there is one.
    #[inline]
    fn set_armed(&mut self, next: Option<u64>) -> bool {
        #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
        {
            self.armed = next.map_or(Deadline::NONE, Deadline::new);
        }
        next.is_some()
    }

    /// Queues `task`, whose entry this queue owns (see [`TimerQueue::schedule_task`]).
    ///
    /// # Safety
    ///
    /// `task` comes from an ebbtide task waker, and its entry's `queue` names this queue (with
    /// `one-timer-queue`: this is the global queue, the only one that links entries), whose
    /// lock the caller holds.
    unsafe fn schedule_task(&mut self, task: NonNull<Header>, at: u64) -> Outcome {
        // SAFETY: `task` comes from an ebbtide task waker, which is only ever made for a header
        // of a `'static` slot; its entry belongs to this queue (the caller's claim), under this
        // lock.
        match unsafe { self.wheel.schedule(task, at) } {
            Scheduled::Unchanged => Outcome::Queued(false),
            Scheduled::Queued => Outcome::Queued(self.first_after(task, at)),
            Scheduled::Expired => Outcome::WakeNow,
        }
    }

    /// Queues the foreign `waker` for `at`. A new entry takes the clone in `clone`; without one,
    /// [`Outcome::NeedsClone`] asks the caller to make it outside the lock. A clone left in
    /// `clone` is the caller's to drop, after the lock.
    #[cfg(not(feature = "task-timers-only"))]
    fn schedule_foreign(&mut self, at: u64, waker: &Waker, clone: &mut Option<Waker>) -> Outcome {
        // The entry of this waker, if any (`will_wake` compares pointers: no user code). One
        // search for both cases below.
        let existing = self
            .foreign
            .iter()
            .position(|e| matches!(e, Some((_, w)) if w.will_wake(waker)));
        if at <= self.wheel.elapsed() {
            // Due now: woken at once, and its entry (if any) goes, as a task's does, so that it
            // is not woken again at the old deadline. The waker taken out is user code to drop:
            // it goes to the caller in `clone`, dropped after the lock. (`clone` holds a waker
            // only on a second round, which found no entry on its first: then the entry stays,
            // costing at most one spurious wake at its deadline.)
            if clone.is_none() {
                if let Some(index) = existing {
                    *clone = self.foreign[index].take().map(|(_, w)| w);
                }
            }
            return Outcome::WakeNow;
        }
        if let Some(index) = existing {
            let Some((deadline, _)) = &mut self.foreign[index] else {
                unreachable!()
            };
            if at >= deadline_value(*deadline) {
                return Outcome::Queued(false);
            }
            *deadline = deadline_bits(at);
        } else if let Some(free) = self.foreign.iter_mut().find(|e| e.is_none()) {
            let Some(clone) = clone.take() else {
                return Outcome::NeedsClone;
            };
            // `free` is `None`: nothing is dropped here.
            *free = Some((deadline_bits(at), clone));
        } else {
            return Outcome::WakeNow;
        }
        Outcome::Queued(self.arm(at))
    }

    /// Takes one foreign waker that is due at `now` (or any one, if `all`).
    fn take_foreign(
        foreign: &mut [Option<(DeadlineBits, Waker)>],
        now: u64,
        all: bool,
    ) -> Option<Waker> {
        let entry = foreign.iter_mut().find(
            |e| matches!(e, Some((deadline, _)) if all || deadline_value(*deadline) <= now),
        )?;
        entry.take().map(|(_, waker)| waker)
    }

    fn next_deadline(&self) -> Option<u64> {
        let foreign = self
            .foreign
            .iter()
            .flatten()
            .map(|(deadline, _)| deadline_value(*deadline))
            .min();
        match (self.wheel.next_deadline(), foreign) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Wakers taken out of the queue, to be woken after the lock is released.
struct Batch {
    tasks: [Option<NonNull<Header>>; TASK_BATCH],
    foreign: [Option<Waker>; FOREIGN_BATCH],
}

impl Batch {
    /// An empty batch. A constant rather than a function: an array built at run time is
    /// built on the side and then copied (a `memcpy` call); a constant is simply zeroed.
    const EMPTY: Batch = Batch {
        tasks: [None; TASK_BATCH],
        foreign: [const { None }; FOREIGN_BATCH],
    };

    /// Fills the batch from `tasks` and `foreign`; `true` if both ran dry before it was full.
    ///
    /// Called under the queue's lock, on an empty batch (as [`wake`](Batch::wake) leaves it),
    /// so no waker is dropped here.
    fn fill(
        &mut self,
        mut tasks: impl FnMut() -> Option<NonNull<Header>>,
        mut foreign: impl FnMut() -> Option<Waker>,
    ) -> bool {
        for entry in self.tasks.iter_mut() {
            *entry = tasks();
            if entry.is_none() {
                break;
            }
        }
        for entry in self.foreign.iter_mut() {
            debug_assert!(entry.is_none());
            *entry = foreign();
            if entry.is_none() {
                break;
            }
        }
        self.tasks[TASK_BATCH - 1].is_none() && self.foreign.last().is_none_or(Option::is_none)
    }

    /// Wakes everything in the batch, emptying it. Call without the queue's lock.
    ///
    /// By reference, not by value: moving the batch would copy it (a `memcpy` call).
    fn wake(&mut self) {
        for task in self.tasks.iter_mut().filter_map(Option::take) {
            // SAFETY: only headers of ebbtide task wakers enter the wheel, and those come from
            // `'static` task slots.
            unsafe { wake_task(task) };
        }
        for waker in self.foreign.iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }
}

/// A timer queue: the timers of one runtime (or of the whole program, for [`global`]).
///
/// A driver implements the `embassy-time-driver` contract on top of three methods (see the
/// [module docs](self)): [`schedule_wake`](TimerQueue::schedule_wake),
/// [`wake_expired`](TimerQueue::wake_expired) and [`next_deadline`](TimerQueue::next_deadline).
/// The free functions of this module are those methods on the program's [`global`] queue, which
/// is all a program with one runtime (or a microcontroller) needs. A host with several runtimes
/// gives each its own queue, so that a runtime only wakes up for its own deadlines.
///
/// A queue that holds task timers must stay where it is while they are linked to it, so
/// [`schedule_wake`](TimerQueue::schedule_wake) takes `&'static self`: make the queue a `static`,
/// or leak it once (`Box::leak`) and reuse it.
///
/// # Which queue a task's timer is in
///
/// Each task has room for one timer entry, which is in at most one queue at a time: the entry
/// records its queue. The rule the drivers keep is that a task's timers are set on the thread
/// that polls it, through the queue of the runtime that runs it, so the entry stays in that one
/// queue. If the rule is broken (a task's waker handed to a timer that another runtime, or the
/// global queue, keeps), the entry moves: it is taken out of the queue it was in, and queued in
/// the new one for the earlier of its two deadlines. Nothing is lost or corrupted; the old queue
/// may wake up once for nothing.
///
/// With the `one-timer-queue` feature (for small targets, whose one queue is the [`global`]
/// one) only the global queue keeps task timers, and every other queue takes a task's waker as it
/// takes a foreign one (a table entry, or a wake at once with `task-timers-only`). The entry then
/// needs no claim and never moves, which takes about 260 bytes of flash off `bench/size`'s apps.
/// A host whose runtimes have queues of their own (ebbtide-std) should not turn it on: their
/// timers would wait in the foreign table, or in a busy loop.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue::TimerQueue;
///
/// static TIMERS: TimerQueue = TimerQueue::with_own_lock();
///
/// let waker = core::task::Waker::noop();
/// let now = embassy_time_driver::now();
/// assert!(TIMERS.schedule_wake(now + 10, waker), "the first deadline is the earliest");
/// assert_eq!(TIMERS.next_deadline(), Some(now + 10));
/// assert_eq!(TIMERS.wake_expired(now + 10), None);
/// ```
pub struct TimerQueue {
    inner: QueueLock<Queue>,
}

/// The program's queue, behind the free functions.
#[cfg(not(loom))]
static GLOBAL: TimerQueue = TimerQueue::new();

// Under loom, whose objects must be made inside each execution of a model: a fresh queue on first
// use in every execution, dropped at its end.
#[cfg(loom)]
loom::lazy_static! {
    static ref GLOBAL: TimerQueue = TimerQueue::new();
}

/// The program's global timer queue: the one the free functions of this module use, and the one
/// a bare-metal driver's alarm fires. Its lock is a critical section, so any thread or interrupt
/// handler may use it.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue;
///
/// let now = embassy_time_driver::now();
/// queue::global().schedule_wake(now + 7, core::task::Waker::noop());
/// assert!(queue::next_deadline().unwrap() <= now + 7); // the same queue
/// ```
#[inline]
pub fn global() -> &'static TimerQueue {
    // Under loom `GLOBAL` is a lazily made static, which derefs to the queue.
    &GLOBAL
}

impl TimerQueue {
    crate::loom_const_fn! {
        /// An empty queue whose lock is a critical section: any thread or interrupt handler may
        /// use it (what the [`global`] queue is). On std the critical section is one lock for the
        /// whole process; queues that only threads use scale better with
        /// [`with_own_lock`](TimerQueue::with_own_lock).
        ///
        /// Its initial value is all zeros, so a `static` queue lives in `.bss`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::time::queue::TimerQueue;
        ///
        /// static TIMERS: TimerQueue = TimerQueue::new();
        /// assert_eq!(TIMERS.next_deadline(), None);
        /// ```
        pub fn new() -> TimerQueue {
            TimerQueue {
                inner: QueueLock::critical_section(Queue::EMPTY),
            }
        }
    }

    crate::loom_const_fn! {
        /// An empty queue with a lock of its own (a spin lock): queues of different runtimes
        /// never contend. For threads only: an interrupt handler must never use it (it could spin
        /// forever on a lock held by the code it interrupted).
        ///
        /// With `one-timer-queue` and `task-timers-only` such a queue never holds a timer (it
        /// wakes every waker at once, as the [module docs](self) say), and its lock is a critical
        /// section like the global queue's: the spin lock is then not built at all.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::time::queue::TimerQueue;
        ///
        /// // One per runtime, made once and kept (`'static`): a `static`, or a `Box::leak`ed one.
        /// static TIMERS: TimerQueue = TimerQueue::with_own_lock();
        /// assert_eq!(TIMERS.next_deadline(), None);
        /// ```
        pub fn with_own_lock() -> TimerQueue {
            TimerQueue {
                inner: QueueLock::own(Queue::EMPTY),
            }
        }
    }

    /// Runs `f` under the queue's lock. No user code may run inside `f`: never clone, wake or
    /// drop a foreign waker there (it could use the queue again).
    #[inline]
    fn with_queue<R>(&self, f: impl FnOnce(&mut Queue) -> R) -> R {
        self.inner.lock(f)
    }

    /// [`with_queue`](Self::with_queue), taking the lock as `locking` says.
    #[inline]
    fn with_queue_by<R>(&self, locking: impl Locking, f: impl FnOnce(&mut Queue) -> R) -> R {
        locking.with(&self.inner, f)
    }

    /// Whether the driver was told to wake up (`armed` is not "none"): kept equal to that under
    /// the lock, read without it by [`may_have_timers`](TimerQueue::may_have_timers). The lock's
    /// own spare flag, which costs no room.
    #[inline]
    fn armed_hint(&self) -> &AtomicBool {
        self.inner.flag()
    }

    /// Raises `armed_hint` when `outcome` armed the queue (the only way a schedule changes
    /// `armed` from none); under the lock.
    #[inline]
    fn note_armed(&self, outcome: Outcome) {
        if let Outcome::Queued(true) = outcome {
            self.armed_hint().store(true, Ordering::Relaxed);
        }
    }

    /// Keeps `armed_hint` equal to whether the driver was told to wake up (`armed` is not
    /// none, or with the sorted list as the whole queue, whether it has an entry); under the lock.
    #[inline]
    fn set_armed_hint(&self, armed: bool) {
        self.armed_hint().store(armed, Ordering::Relaxed);
    }

    /// Asks for `waker` to be woken at or after tick `at`; call it from your driver's
    /// `schedule_wake`.
    ///
    /// Returns `true` when the earliest deadline of the queue became earlier: the driver must
    /// then make sure it calls [`wake_expired`](TimerQueue::wake_expired) no later than `at` (end
    /// its wait, lower its alarm). Returns `false` when nothing is needed: the deadline is later
    /// than one already armed, or `at` has already passed (then the waker was woken at once), or
    /// `at` is `u64::MAX` (never: it is not queued at all).
    ///
    /// "Already passed" is judged against the `now` of the last `wake_expired` call; a deadline
    /// between that and the real time is queued normally, and the driver's alarm (set for a time
    /// in the past) must fire at once. With `small-timer-queue` and `task-timers-only` the queue
    /// keeps no such time, and every deadline that passed is queued so (see the
    /// [module docs](self)).
    ///
    /// A task's timer that is in another queue moves to this one (see
    /// [Which queue a task's timer is in](TimerQueue#which-queue-a-tasks-timer-is-in)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// let waker = core::task::Waker::noop();
    /// let now = embassy_time_driver::now();
    /// assert!(TIMERS.schedule_wake(now + 1000, waker));
    /// assert!(!TIMERS.schedule_wake(now + 2000, waker), "not earlier");
    /// assert!(!TIMERS.schedule_wake(u64::MAX, waker), "never: not queued");
    /// assert_eq!(TIMERS.next_deadline(), Some(now + 1000));
    /// ```
    pub fn schedule_wake(&'static self, at: u64, waker: &Waker) -> bool {
        self.schedule_wake_by(Take, at, waker)
    }

    /// [`schedule_wake`](TimerQueue::schedule_wake) for a driver that is inside a critical
    /// section already (`cs` proves it), as a microcontroller driver is when it updates its alarm
    /// with the answer: a queue whose lock is a critical section (one made by
    /// [`new`](TimerQueue::new), like the [`global`] one) then takes no other. The same result;
    /// less code and time on a small target, where entering a critical section is a few
    /// instructions but the lock around it is not.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// let now = embassy_time_driver::now();
    /// critical_section::with(|cs| {
    ///     // A driver's `schedule_wake`: queue, and lower the alarm in the same section.
    ///     assert!(TIMERS.schedule_wake_in(cs, now + 1000, core::task::Waker::noop()));
    /// });
    /// assert_eq!(TIMERS.next_deadline(), Some(now + 1000));
    /// ```
    pub fn schedule_wake_in(
        &'static self,
        cs: critical_section::CriticalSection<'_>,
        at: u64,
        waker: &Waker,
    ) -> bool {
        self.schedule_wake_by(Inside(cs), at, waker)
    }

    /// [`schedule_wake`](TimerQueue::schedule_wake), taking the lock as `locking` says.
    #[inline(always)]
    fn schedule_wake_by(&'static self, locking: impl Locking, at: u64, waker: &Waker) -> bool {
        if at == u64::MAX {
            return false;
        }
        // A foreign waker's clone, if one was made and the queue did not keep it; dropped (user
        // code) only after the lock is released.
        #[cfg_attr(feature = "task-timers-only", allow(unused_mut))]
        let mut clone: Option<Waker> = None;
        // With `one-timer-queue` only the global queue keeps task timers: another queue takes a
        // task's waker as it takes a foreign one.
        let task = header_of(waker).filter(|_| !ONE_TIMER_QUEUE || self.is_global());
        let outcome = match task {
            Some(task) => self.schedule_task(locking, task, at),
            // No table to keep it in: woken at once, without taking the lock (the table-full
            // case of the branch below, always).
            #[cfg(feature = "task-timers-only")]
            None => Outcome::WakeNow,
            #[cfg(not(feature = "task-timers-only"))]
            None => loop {
                let outcome = self.with_queue_by(locking, |queue| {
                    let outcome = queue.schedule_foreign(at, waker, &mut clone);
                    self.note_armed(outcome);
                    outcome
                });
                match outcome {
                    // The clone is user code: made outside the lock, then the queue is looked
                    // at afresh (the clone may have changed it). The second round has a clone,
                    // so it never asks again.
                    Outcome::NeedsClone => clone = Some(waker.clone()),
                    outcome => break outcome,
                }
            },
        };
        drop(clone);
        match outcome {
            Outcome::Queued(earlier) => earlier,
            Outcome::WakeNow => {
                waker.wake_by_ref();
                false
            }
            #[cfg(not(feature = "task-timers-only"))]
            Outcome::NeedsClone => unreachable!("handled above"),
        }
    }

    /// Queues the timer of `task` (from an ebbtide task waker) at `at`, first taking its entry
    /// out of any other queue it is in.
    ///
    /// The entry's `queue` field says which queue owns it (null: none). It is set, from null,
    /// only under the lock of the queue it comes to name, and cleared only under the lock of the
    /// queue it names, after that queue unlinked the entry (`Release`); a queue that claims it
    /// (`Acquire`) therefore sees the entry's link as its last owner left it. Only one lock is
    /// ever held at a time.
    #[cfg(not(feature = "one-timer-queue"))]
    fn schedule_task(
        &'static self,
        locking: impl Locking,
        task: NonNull<Header>,
        mut at: u64,
    ) -> Outcome {
        let me = ptr::from_ref(self).cast_mut().cast::<()>();
        // SAFETY: `task` comes from an ebbtide task waker, which is only ever made for a header
        // of a `'static` slot.
        let owner = unsafe { entry::owner(task) };
        loop {
            let current = owner.load(Ordering::Acquire);
            if current.is_null() || current == me {
                let done = self.with_queue_by(locking, |queue| {
                    // Ours already (only our lock, which we hold, changes that: a plain load, the
                    // common case), or claimed now. Otherwise another queue claimed it meanwhile:
                    // look again.
                    let ours = owner.load(Ordering::Relaxed) == me
                        || owner
                            .compare_exchange(
                                ptr::null_mut(),
                                me,
                                Ordering::Acquire,
                                Ordering::Relaxed,
                            )
                            .is_ok();
                    if !ours {
                        return None;
                    }
                    // SAFETY: as above; the entry is this queue's now.
                    let outcome = unsafe { queue.schedule_task(task, at) };
                    if let Outcome::WakeNow = outcome {
                        // Not linked: give the entry up.
                        owner.store(ptr::null_mut(), Ordering::Release);
                    }
                    self.note_armed(outcome);
                    Some(outcome)
                });
                if let Some(outcome) = done {
                    return outcome;
                }
            } else {
                // SAFETY: a non-null `queue` field is only ever set to `me` above, the address of
                // a `&'static TimerQueue`, so it points to a live queue.
                let other = unsafe { &*current.cast_const().cast::<TimerQueue>() };
                other.with_queue_by(locking, |queue| {
                    // Under `other`'s lock the field only changes if it names another queue.
                    if owner.load(Ordering::Relaxed) == current {
                        // SAFETY: as above; the entry belongs to `other`, whose lock we hold.
                        if let Some(deadline) = unsafe { queue.wheel.unlink(task) } {
                            // Keep the earlier deadline, as if the entry had stayed.
                            at = at.min(deadline);
                        }
                        owner.store(ptr::null_mut(), Ordering::Release);
                    }
                });
            }
        }
    }

    /// Queues the timer of `task` (from an ebbtide task waker) at `at`, in the global queue, which
    /// `self` is (the caller checked): with `one-timer-queue` no other queue links a task's
    /// entry, so the entry is this queue's, with no claim to make and no other queue to take it
    /// from.
    #[cfg(feature = "one-timer-queue")]
    fn schedule_task(
        &'static self,
        locking: impl Locking,
        task: NonNull<Header>,
        at: u64,
    ) -> Outcome {
        debug_assert!(self.is_global());
        self.with_queue_by(locking, |queue| {
            // SAFETY: `task` comes from an ebbtide task waker, made only for headers of
            // `'static` slots; its entry belongs to the global queue (the only one that links
            // entries with this feature), which `self` is, and whose lock we hold.
            let outcome = unsafe { queue.schedule_task(task, at) };
            self.note_armed(outcome);
            outcome
        })
    }

    /// Whether this is the program's [`global`] queue.
    #[inline]
    fn is_global(&self) -> bool {
        ptr::eq(self, global())
    }

    /// When [`wake_expired`](TimerQueue::wake_expired) should next be called: no later than the
    /// earliest queued deadline (and sometimes earlier, when a far timer moves to a finer level
    /// of the wheel), or `None` if no timer is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// let now = embassy_time_driver::now();
    /// TIMERS.schedule_wake(now + 5, core::task::Waker::noop());
    /// assert_eq!(TIMERS.next_deadline(), Some(now + 5));
    /// ```
    pub fn next_deadline(&self) -> Option<u64> {
        self.with_queue(|queue| queue.next_deadline())
    }

    /// Whether a timer may be queued: `false` means none is, and the next
    /// [`schedule_wake`](TimerQueue::schedule_wake) will return `true`. One relaxed load, no lock:
    /// for a driver that folds a second queue into its waits only when it has timers.
    ///
    /// A `false` may be stale; a driver that heeds it must be woken by whoever sees
    /// `schedule_wake` return `true`, which happens after the flag was raised.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// assert!(!TIMERS.may_have_timers());
    /// let now = embassy_time_driver::now();
    /// TIMERS.schedule_wake(now + 5, core::task::Waker::noop());
    /// assert!(TIMERS.may_have_timers());
    /// TIMERS.wake_expired(now + 5);
    /// assert!(!TIMERS.may_have_timers());
    /// ```
    #[inline]
    pub fn may_have_timers(&self) -> bool {
        self.armed_hint().load(Ordering::Relaxed)
    }

    /// Wakes every waker whose deadline is `<= now`; returns the next deadline, as
    /// [`next_deadline`](TimerQueue::next_deadline) would.
    ///
    /// Call it with the driver's current time when the alarm fires or the driver's wait ends.
    /// Wakers are woken outside the lock, a few at a time, in deadline order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// let now = embassy_time_driver::now();
    /// TIMERS.schedule_wake(now + 10, core::task::Waker::noop());
    /// assert_eq!(TIMERS.wake_expired(now + 9), Some(now + 10));
    /// assert_eq!(TIMERS.wake_expired(now + 10), None);
    /// ```
    pub fn wake_expired(&self, now: u64) -> Option<u64> {
        self.wake_expired_by(Take, now)
    }

    /// [`wake_expired`](TimerQueue::wake_expired) for a driver that is inside a critical section
    /// already (`cs` proves it), as a microcontroller's alarm interrupt is when it also sets the
    /// next alarm: a queue whose lock is a critical section (one made by
    /// [`new`](TimerQueue::new), like the [`global`] one) then takes no other. The wakers are
    /// woken inside that section, which therefore lasts as long as the wakes do.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// let now = embassy_time_driver::now();
    /// TIMERS.schedule_wake(now + 10, core::task::Waker::noop());
    /// // An alarm interrupt: wake what is due and set the next alarm, in one section.
    /// let next = critical_section::with(|cs| TIMERS.wake_expired_in(cs, now + 10));
    /// assert_eq!(next, None);
    /// ```
    pub fn wake_expired_in(
        &self,
        cs: critical_section::CriticalSection<'_>,
        now: u64,
    ) -> Option<u64> {
        self.wake_expired_by(Inside(cs), now)
    }

    /// [`wake_expired`](TimerQueue::wake_expired), taking the lock as `locking` says.
    ///
    /// With the sorted list as the whole queue (`small-timer-queue` and `task-timers-only`),
    /// the due tasks are taken out one per lock: the first entry is the next due, so a pop is
    /// one unlink, and no batch is built, kept on the stack and emptied.
    #[cfg(all(feature = "small-timer-queue", feature = "task-timers-only"))]
    #[inline(always)]
    fn wake_expired_by(&self, locking: impl Locking, now: u64) -> Option<u64> {
        loop {
            let step = self.with_queue_by(locking, |queue| {
                if let Some(task) = queue.wheel.pop_due(now) {
                    give_up(task);
                    return Err(task);
                }
                let next = queue.next_deadline();
                self.set_armed_hint(queue.set_armed(next));
                Ok(next)
            });
            match step {
                Ok(next) => return next,
                // SAFETY: only headers of ebbtide task wakers enter the list, and those come
                // from `'static` task slots.
                Err(task) => unsafe { wake_task(task) },
            }
        }
    }

    /// [`wake_expired`](TimerQueue::wake_expired), taking the lock as `locking` says.
    #[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
    #[inline(always)]
    fn wake_expired_by(&self, locking: impl Locking, now: u64) -> Option<u64> {
        // Made once: `wake` empties it.
        let mut batch = Batch::EMPTY;
        loop {
            let done = self.with_queue_by(locking, |queue| {
                queue.wheel.advance(now);
                let elapsed = queue.wheel.elapsed();
                let Queue { wheel, foreign, .. } = queue;
                let dry = batch.fill(
                    || wheel.pop_expired().inspect(|&task| give_up(task)),
                    || Queue::take_foreign(foreign, elapsed, false),
                );
                if !dry {
                    return None;
                }
                let next = queue.next_deadline();
                self.set_armed_hint(queue.set_armed(next));
                Some(next)
            });
            batch.wake();
            if let Some(next) = done {
                return next;
            }
        }
    }

    /// Empties the queue, waking every waker in it (spuriously), and moves it to time `now`.
    ///
    /// For a clock that may go back, like the mock clock of `ebbtide-mock-time` between tests,
    /// and for a runtime that drops, whose queue the next runtime reuses. A driver whose clock
    /// only moves forward never needs it otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// static TIMERS: TimerQueue = TimerQueue::new();
    /// TIMERS.schedule_wake(100, core::task::Waker::noop());
    /// TIMERS.reset(0);
    /// assert_eq!(TIMERS.next_deadline(), None);
    /// ```
    pub fn reset(&self, now: u64) {
        let mut batch = Batch::EMPTY;
        loop {
            let done = self.with_queue(|queue| {
                let Queue { wheel, foreign, .. } = queue;
                let dry = batch.fill(
                    || wheel.pop_any().inspect(|&task| give_up(task)),
                    || Queue::take_foreign(foreign, 0, true),
                );
                if dry {
                    queue.wheel.reset(now);
                    self.set_armed_hint(queue.set_armed(None));
                }
                dry
            });
            batch.wake();
            if done {
                return;
            }
        }
    }

    /// Checks the invariants of the timer wheel, panicking if one is broken; returns how many
    /// task timers are queued. For tests.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> usize {
        self.with_queue(|queue| queue.wheel.check_invariants())
    }
}

/// How a queue operation takes the queue's lock: [`Take`] it, or use the caller's critical section
/// ([`Inside`]).
trait Locking: Copy {
    /// Runs `f` under `lock`.
    fn with<R>(self, lock: &QueueLock<Queue>, f: impl FnOnce(&mut Queue) -> R) -> R;
}

/// Takes the queue's lock (the public methods without `_in`).
#[derive(Clone, Copy)]
struct Take;

impl Locking for Take {
    #[inline(always)]
    fn with<R>(self, lock: &QueueLock<Queue>, f: impl FnOnce(&mut Queue) -> R) -> R {
        lock.lock(f)
    }
}

/// The caller is inside a critical section (the methods with `_in`): a critical-section lock
/// enters no other.
#[derive(Clone, Copy)]
struct Inside<'cs>(critical_section::CriticalSection<'cs>);

impl Locking for Inside<'_> {
    #[inline(always)]
    fn with<R>(self, lock: &QueueLock<Queue>, f: impl FnOnce(&mut Queue) -> R) -> R {
        lock.lock_in(self.0, f)
    }
}

impl Default for TimerQueue {
    /// [`TimerQueue::new`]: a queue whose lock is a critical section.
    fn default() -> TimerQueue {
        TimerQueue::new()
    }
}

impl core::fmt::Debug for TimerQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TimerQueue")
            .field("may_have_timers", &self.may_have_timers())
            .finish_non_exhaustive()
    }
}

/// How many timers were dropped before they fired: see [`dropped_timers`].
#[cfg(feature = "dropped-timer-count")]
static DROPPED_TIMERS: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Counts a [`Sleep`](super::Sleep) or [`Timeout`](super::Timeout) dropped while the timer its
/// poll queued had not fired.
#[cfg(feature = "dropped-timer-count")]
#[inline]
pub(crate) fn note_dropped_timer() {
    DROPPED_TIMERS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
}

/// How many [`Sleep`](super::Sleep)s and [`Timeout`](super::Timeout)s of the whole program
/// were dropped while the timer their poll queued had not fired (wrapping), with the
/// `dropped-timer-count` feature.
///
/// A task's timer entry keeps the earliest deadline any of its futures asked for, and a
/// dropped `Sleep` cannot take it back (another future of the task may share it), so the
/// entry stays until it fires, and wakes the task once for nothing. That costs nothing but a
/// spurious wake-up, except to a driver that reports a deadlock when nothing but a timer could
/// ever wake the program (ebbtide-wasi): a stale deadline would hold the report back until it
/// passed. When this count has moved since it last looked, such a driver empties its queue with
/// [`TimerQueue::reset`] instead of waiting: every task and future in it is woken, and those
/// still waiting queue their timers again when polled (as every ebbtide and embassy-time timer
/// does), so what is left afterwards is what something still waits for.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use core::future::Future;
/// use core::pin::pin;
/// use core::task::Context;
/// use ebbtide_core::time::{queue, sleep, Duration};
///
/// let before = queue::dropped_timers();
/// {
///     let mut nap = pin!(sleep(Duration::from_secs(3600)));
///     let mut cx = Context::from_waker(core::task::Waker::noop());
///     assert!(nap.as_mut().poll(&mut cx).is_pending());
/// } // dropped here: queued, not fired
/// assert_eq!(queue::dropped_timers().wrapping_sub(before), 1);
/// // A sleep that was never polled queued nothing.
/// drop(sleep(Duration::from_secs(3600)));
/// assert_eq!(queue::dropped_timers().wrapping_sub(before), 1);
/// # queue::reset(0);
/// ```
#[cfg(feature = "dropped-timer-count")]
pub fn dropped_timers() -> u32 {
    DROPPED_TIMERS.load(core::sync::atomic::Ordering::Relaxed)
}

/// Marks `task`'s entry as in no queue, after its queue unlinked it; under that queue's lock.
#[inline]
fn give_up(task: NonNull<Header>) {
    // With `one-timer-queue` there is no owner to give up: the entry is the global queue's for
    // good.
    #[cfg(feature = "one-timer-queue")]
    let _ = task;
    // SAFETY: only headers of ebbtide task wakers, from `'static` slots, enter a queue.
    #[cfg(not(feature = "one-timer-queue"))]
    unsafe { entry::owner(task) }.store(ptr::null_mut(), Ordering::Release);
}

/// Asks for `waker` to be woken at or after tick `at`; call it from your driver's
/// `schedule_wake`. [`TimerQueue::schedule_wake`] on the [`global`] queue.
///
/// Returns `true` when the earliest deadline of the queue became earlier: the driver must then
/// make sure it calls [`wake_expired`] no later than `at` (end its wait, lower its alarm).
/// Returns `false` when nothing is needed: the deadline is later than one already armed, or
/// `at` has already passed (then the waker was woken at once), or `at` is `u64::MAX` (never: it
/// is not queued at all).
///
/// "Already passed" is judged against the `now` of the last [`wake_expired`] call; a deadline
/// between that and the real time is queued normally, and the driver's alarm (set for a time
/// in the past) must fire at once.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue;
///
/// let waker = core::task::Waker::noop();
/// let now = embassy_time_driver::now();
/// queue::schedule_wake(now + 1000, waker);
/// assert!(queue::next_deadline().unwrap() <= now + 1000);
/// queue::schedule_wake(u64::MAX, waker); // never: not queued
/// ```
#[inline]
pub fn schedule_wake(at: u64, waker: &Waker) -> bool {
    global().schedule_wake(at, waker)
}

/// [`schedule_wake`] for a driver that is inside a critical section already (`cs` proves it):
/// the global queue's lock, a critical section, then takes no other.
/// [`TimerQueue::schedule_wake_in`] on the [`global`] queue.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue;
///
/// let now = embassy_time_driver::now();
/// critical_section::with(|cs| queue::schedule_wake_in(cs, now + 1000, core::task::Waker::noop()));
/// assert!(queue::next_deadline().unwrap() <= now + 1000);
/// ```
#[inline]
pub fn schedule_wake_in(cs: critical_section::CriticalSection<'_>, at: u64, waker: &Waker) -> bool {
    global().schedule_wake_in(cs, at, waker)
}

/// When [`wake_expired`] should next be called: no later than the earliest queued deadline (and
/// sometimes earlier, when a far timer moves to a finer level of the wheel), or `None` if no
/// timer is queued. [`TimerQueue::next_deadline`] on the [`global`] queue.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue;
///
/// let now = embassy_time_driver::now();
/// queue::schedule_wake(now + 5, core::task::Waker::noop());
/// assert_eq!(queue::next_deadline(), Some(now + 5));
/// ```
#[inline]
pub fn next_deadline() -> Option<u64> {
    global().next_deadline()
}

/// Wakes every waker whose deadline is `<= now`; returns the next deadline, as
/// [`next_deadline`] would. [`TimerQueue::wake_expired`] on the [`global`] queue.
///
/// Call it with the driver's current time when the alarm fires or the driver's wait ends.
/// Wakers are woken outside the lock, a few at a time, in deadline order.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use std::task::{Wake, Waker};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use ebbtide_core::time::queue;
///
/// struct Flag(AtomicBool);
/// impl Wake for Flag {
///     fn wake(self: Arc<Self>) {
///         self.0.store(true, Ordering::SeqCst);
///     }
/// }
/// let flag = Arc::new(Flag(AtomicBool::new(false)));
/// let waker = Waker::from(flag.clone());
///
/// let now = embassy_time_driver::now();
/// queue::schedule_wake(now + 10, &waker);
/// assert_eq!(queue::wake_expired(now + 9), Some(now + 10));
/// assert!(!flag.0.load(Ordering::SeqCst));
/// assert_eq!(queue::wake_expired(now + 10), None);
/// assert!(flag.0.load(Ordering::SeqCst));
/// ```
#[inline]
pub fn wake_expired(now: u64) -> Option<u64> {
    global().wake_expired(now)
}

/// [`wake_expired`] for a driver that is inside a critical section already (`cs` proves it): the
/// global queue's lock, a critical section, then takes no other, and the wakers are woken inside
/// the caller's section. [`TimerQueue::wake_expired_in`] on the [`global`] queue.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::queue;
///
/// let now = embassy_time_driver::now();
/// queue::schedule_wake(now + 10, core::task::Waker::noop());
/// critical_section::with(|cs| queue::wake_expired_in(cs, now + 10));
/// ```
#[inline]
pub fn wake_expired_in(cs: critical_section::CriticalSection<'_>, now: u64) -> Option<u64> {
    global().wake_expired_in(cs, now)
}

/// Empties the queue, waking every waker in it (spuriously), and moves it to time `now`.
///
/// For a clock that may go back, like the mock clock of `ebbtide-mock-time` between tests. A
/// driver whose clock only moves forward never needs it. [`TimerQueue::reset`] on the [`global`]
/// queue.
///
/// # Examples
///
/// ```
/// ebbtide_core::time::queue::reset(0);
/// assert_eq!(ebbtide_core::time::queue::next_deadline(), None);
/// ```
#[inline]
pub fn reset(now: u64) {
    global().reset(now)
}

/// Checks the invariants of the global queue's timer wheel, panicking if one is broken; returns
/// how many task timers are queued. For tests.
#[doc(hidden)]
pub fn check_invariants() -> usize {
    global().check_invariants()
}

// The queue's own size on 32-bit targets with the small list and no foreign-waker table, as the
// module docs promise: the list (its head: no time is kept, see the `list` source file) and the
// lock's three flags (the armed hint is one), padded to the word: 8 bytes, embassy's queue's
// size (no armed deadline either: it is the list's first).
#[cfg(all(not(loom), feature = "small-timer-queue", feature = "task-timers-only"))]
const _: () = assert!(usize::BITS != 32 || size_of::<TimerQueue>() == 8);
