//! The timer queue, for authors of time drivers.
//!
//! ebbtide reads time through the [`embassy-time-driver`](embassy_time_driver) contract: a
//! program links exactly one driver, which supplies `now()` and `schedule_wake(at, waker)`. A
//! driver only has to keep a clock and one alarm; this module keeps the timers. It holds **one
//! global queue per program**, and a driver implements the contract on top of three functions:
//!
//! - [`schedule_wake`]: call it from the driver's `schedule_wake`. When it returns `true`, the
//!   earliest deadline became earlier: end the current wait (or move the alarm) no later than
//!   `at`.
//! - [`wake_expired`]: call it when the alarm fires or the wait ends, with the current time. It
//!   wakes every timer that is due and returns when to call it again.
//! - [`next_deadline`]: when to call `wake_expired` next, for a driver that computes its wait
//!   before blocking.
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
//!   `static` shrinks from about 1.6 KB to 16 bytes (on 32-bit targets) plus the foreign-waker
//!   table, which has 4 entries instead of 32. Everything else on this page holds as written.
//! - A task that finishes stays in the queue until its deadline passes; if a new task is spawned
//!   in the same slot meanwhile, it is woken once, spuriously. Nothing else happens.
//! - A **foreign waker** (from another executor, or [`block_on`](crate::block_on)'s no-op waker)
//!   goes into a fixed table of [`FOREIGN_WAKER_CAPACITY`] entries. Wakers that
//!   [`will_wake`](core::task::Waker::will_wake) each other share an entry with the earlier
//!   deadline. When the table is full, the waker is woken at once instead: a spurious but correct
//!   wake-up (its future polls again and finds its deadline not yet reached), never a panic and
//!   never a lost wake-up.
//!
//! The lock is a `critical-section`, so all of this may be called from any thread or interrupt
//! handler. No user code runs while it is held: a foreign waker is cloned before the lock is
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

use core::ptr::NonNull;
use core::task::Waker;

#[cfg(feature = "small-timer-queue")]
use super::list::SortedList as Timers;
#[cfg(not(feature = "small-timer-queue"))]
use super::wheel::Wheel as Timers;
use super::wheel::{Deadline, Scheduled};
use crate::loom::global_lock;
use crate::raw::header::Header;
use crate::raw::waker::{header_of, wake_task};

/// How many foreign (non-ebbtide) wakers the queue holds at once: 32, or 4 with the
/// `small-timer-queue` feature; see the [module docs](self) for what happens beyond.
///
/// # Examples
///
/// ```
/// let capacity = ebbtide_core::time::queue::FOREIGN_WAKER_CAPACITY;
/// assert_eq!(capacity, if cfg!(feature = "small-timer-queue") { 4 } else { 32 });
/// ```
pub const FOREIGN_WAKER_CAPACITY: usize = if cfg!(feature = "small-timer-queue") {
    4
} else {
    32
};

/// How many wakers are taken out of the queue per lock, in [`wake_expired`].
const TASK_BATCH: usize = 16;
const FOREIGN_BATCH: usize = 4;

/// The one timer queue of the program.
///
/// Its initial value is all zeros (no `u64::MAX` in it: `armed` is kept inverted), so the static
/// lives in `.bss` and costs no flash.
struct Queue {
    /// The task timers: the timing wheel, or the sorted list of `small-timer-queue`.
    wheel: Timers,
    foreign: [Option<(u64, Waker)>; FOREIGN_WAKER_CAPACITY],
    /// The deadline the driver was last told to wake up at (`u64::MAX`: none). It is never later
    /// than any queued deadline: every earlier insertion lowers it and reports `true`.
    armed: Deadline,
}

global_lock! {
    static QUEUE: Queue = Queue {
        wheel: Timers::new(),
        foreign: [const { None }; FOREIGN_WAKER_CAPACITY],
        armed: Deadline::NONE,
    };
}

/// Runs `f` under the queue's lock. No user code may run inside `f`: never clone, wake or drop a
/// foreign waker there (it could use the queue again).
fn with_queue<R>(f: impl FnOnce(&mut Queue) -> R) -> R {
    QUEUE.lock(f)
}

/// What to do after the lock is released.
enum Outcome {
    /// Queued: whether the earliest deadline became earlier.
    Queued(bool),
    /// The deadline has passed (or the foreign table is full): wake now.
    WakeNow,
    /// A foreign waker needs a new entry: clone it outside the lock, then try again.
    NeedsClone,
}

impl Queue {
    /// Records that the driver must wake up by `at`; `true` if that is earlier than before.
    fn arm(&mut self, at: u64) -> bool {
        if at < self.armed.get() {
            self.armed = Deadline::new(at);
            true
        } else {
            false
        }
    }

    fn schedule_task(&mut self, task: NonNull<Header>, at: u64) -> Outcome {
        // SAFETY: `task` comes from an ebbtide task waker, which is only ever made for a header
        // of a `'static` slot; every timer link is used by this one wheel, under this lock.
        match unsafe { self.wheel.schedule(task, at) } {
            Scheduled::Unchanged => Outcome::Queued(false),
            Scheduled::Queued => Outcome::Queued(self.arm(at)),
            Scheduled::Expired => Outcome::WakeNow,
        }
    }

    /// Queues the foreign `waker` for `at`. A new entry takes the clone in `clone`; without one,
    /// [`Outcome::NeedsClone`] asks the caller to make it outside the lock. A clone left in
    /// `clone` is the caller's to drop, after the lock.
    fn schedule_foreign(&mut self, at: u64, waker: &Waker, clone: &mut Option<Waker>) -> Outcome {
        if at <= self.wheel.elapsed() {
            return Outcome::WakeNow;
        }
        let existing = self
            .foreign
            .iter()
            .position(|e| matches!(e, Some((_, w)) if w.will_wake(waker)));
        if let Some(index) = existing {
            let Some((deadline, _)) = &mut self.foreign[index] else {
                unreachable!()
            };
            if at >= *deadline {
                return Outcome::Queued(false);
            }
            *deadline = at;
        } else if let Some(free) = self.foreign.iter_mut().find(|e| e.is_none()) {
            let Some(clone) = clone.take() else {
                return Outcome::NeedsClone;
            };
            // `free` is `None`: nothing is dropped here.
            *free = Some((at, clone));
        } else {
            return Outcome::WakeNow;
        }
        Outcome::Queued(self.arm(at))
    }

    /// Takes one foreign waker that is due at `now` (or any one, if `all`).
    fn take_foreign(foreign: &mut [Option<(u64, Waker)>], now: u64, all: bool) -> Option<Waker> {
        let entry = foreign
            .iter_mut()
            .find(|e| matches!(e, Some((deadline, _)) if all || *deadline <= now))?;
        entry.take().map(|(_, waker)| waker)
    }

    fn next_deadline(&self) -> Option<u64> {
        let foreign = self
            .foreign
            .iter()
            .flatten()
            .map(|(deadline, _)| *deadline)
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
        self.tasks[TASK_BATCH - 1].is_none() && self.foreign[FOREIGN_BATCH - 1].is_none()
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

/// Asks for `waker` to be woken at or after tick `at`; call it from your driver's
/// `schedule_wake`.
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
pub fn schedule_wake(at: u64, waker: &Waker) -> bool {
    if at == u64::MAX {
        return false;
    }
    // A foreign waker's clone, if one was made and the queue did not keep it; dropped (user
    // code) only after the lock is released.
    let mut clone = None;
    let outcome = match header_of(waker) {
        Some(task) => with_queue(|queue| queue.schedule_task(task, at)),
        None => loop {
            match with_queue(|queue| queue.schedule_foreign(at, waker, &mut clone)) {
                // The clone is user code: made outside the lock, then the queue is looked at
                // afresh (the clone may have changed it). The second round has a clone, so it
                // never asks again.
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
        Outcome::NeedsClone => unreachable!("handled above"),
    }
}

/// When [`wake_expired`] should next be called: no later than the earliest queued deadline (and
/// sometimes earlier, when a far timer moves to a finer level of the wheel), or `None` if no
/// timer is queued.
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
pub fn next_deadline() -> Option<u64> {
    with_queue(|queue| queue.next_deadline())
}

/// Wakes every waker whose deadline is `<= now`; returns the next deadline, as
/// [`next_deadline`] would.
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
pub fn wake_expired(now: u64) -> Option<u64> {
    // Made once: `wake` empties it.
    let mut batch = Batch::EMPTY;
    loop {
        let done = with_queue(|queue| {
            queue.wheel.advance(now);
            let elapsed = queue.wheel.elapsed();
            let Queue { wheel, foreign, .. } = queue;
            let dry = batch.fill(
                || wheel.pop_expired(),
                || Queue::take_foreign(foreign, elapsed, false),
            );
            if !dry {
                return None;
            }
            let next = queue.next_deadline();
            queue.armed = next.map_or(Deadline::NONE, Deadline::new);
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
/// For a clock that may go back, like the mock clock of `ebbtide-mock-time` between tests. A
/// driver whose clock only moves forward never needs it.
///
/// # Examples
///
/// ```
/// ebbtide_core::time::queue::reset(0);
/// assert_eq!(ebbtide_core::time::queue::next_deadline(), None);
/// ```
pub fn reset(now: u64) {
    let mut batch = Batch::EMPTY;
    loop {
        let done = with_queue(|queue| {
            let Queue { wheel, foreign, .. } = queue;
            let dry = batch.fill(|| wheel.pop_any(), || Queue::take_foreign(foreign, 0, true));
            if dry {
                queue.wheel.reset(now);
                queue.armed = Deadline::NONE;
            }
            dry
        });
        batch.wake();
        if done {
            return;
        }
    }
}

/// Checks the invariants of the timer wheel, panicking if one is broken; returns how many task
/// timers are queued. For tests.
#[doc(hidden)]
pub fn check_invariants() -> usize {
    with_queue(|queue| queue.wheel.check_invariants())
}
