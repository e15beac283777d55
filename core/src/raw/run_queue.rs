//! The executor's run queue: an intrusive, lock-free stack of task headers.
//!
//! Any thread or interrupt handler pushes with one compare-and-swap on the head. The executor
//! takes the whole stack with one swap and reverses it, so tasks run in the order they were woken
//! (with the `lifo-batches` feature it runs the stack as taken, newest first, as Embassy does).
//! Tasks woken while a batch runs land in the next batch: a task that wakes itself cannot run twice
//! in one batch, so every batch ends.
//!
//! The head also tells pushers whether the executor went to sleep. When a batch ends with the
//! queue empty, the executor swaps the [`AWAKE`] mark for `null` (asleep) with one
//! compare-and-swap; a push that finds `null` below it learns that the executor may be waiting and
//! must be woken (its driver's wake hook). Because both sides are read-modify-writes of the same
//! word, one of them always sees the other: either the executor's CAS fails (a task arrived; it
//! polls again) or the pusher sees `null` (it calls the hook). No wake-up is lost, and none is sent
//! while the executor is busy.
//!
//! `null` means asleep (rather than awake-and-empty) so that a push links the old head as it is
//! and tests it for `null`: no mapping of a mark to "end of stack". Both marks end a stack, and
//! both are at or below `AWAKE`'s address, which no (aligned, non-null) header can be, so the
//! executor finds the end of a taken stack with one compare. A new queue is asleep (all-zero).

use core::ptr::{self, NonNull};

use super::header::Header;
use crate::loom::{AtomicPtr, Ordering};

pub(crate) struct RunQueue {
    /// `null`: empty, executor may be asleep; [`AWAKE`]: empty, executor awake; else the most
    /// recently pushed task, whose `run_next` chain ends in `null` or `AWAKE`.
    head: AtomicPtr<Header>,
}

/// The head's value when the queue is empty and its executor is awake (inside `poll`). Only
/// compared, never dereferenced: it is the dangling (aligned, non-null) address of `Header`,
/// which no real task slot occupies.
const AWAKE: *mut Header = NonNull::<Header>::dangling().as_ptr();

/// What an empty queue's head says about its executor: awake, or asleep (a push must wake it).
#[derive(Clone, Copy)]
pub(crate) struct Mark(*mut Header);

impl Mark {
    /// The executor is awake: a push needs no wake-up.
    pub(crate) const AWAKE: Mark = Mark(AWAKE);
    /// The executor may be asleep: a push calls the wake hook.
    pub(crate) const ASLEEP: Mark = Mark(ptr::null_mut());

    /// Whether this is [`Mark::ASLEEP`] (only a wake hook's pushes read the mark).
    #[cfg(feature = "wake-hook")]
    #[inline(always)]
    pub(crate) fn is_asleep(self) -> bool {
        self.0.is_null()
    }
}

/// Whether `head` (or a `run_next` link) is a task rather than one of the two end marks.
#[inline(always)]
fn is_task(head: *mut Header) -> bool {
    // `null` and `AWAKE` are the only values at or below `AWAKE`: a header is aligned and not null.
    head.addr() > AWAKE.addr()
}

/// Whether `next`, a batch's cursor or a `run_next` link in a batch, ends the batch. A reversed
/// batch ends in `null` (the reversal starts its chain there): a test for zero, the smallest
/// code on ARM (`cbz`). A stack taken as it is (`lifo-batches`) ends in either mark.
#[inline(always)]
fn ends_batch(next: *mut Header) -> bool {
    if cfg!(feature = "lifo-batches") {
        !is_task(next)
    } else {
        next.is_null()
    }
}

impl RunQueue {
    crate::loom_const_fn! {
        pub(crate) fn new() -> RunQueue {
            RunQueue { head: AtomicPtr::new(ptr::null_mut()) }
        }
    }

    /// Pushes `task`; returns `true` if the executor may be asleep and must be woken.
    ///
    /// # Safety
    ///
    /// The caller set the task's `SCHEDULED` bit, so the task is in no queue and nobody else
    /// touches `run_next`.
    // Without a wake hook (bare-metal builds) one copy serves every push, the enqueue around it
    // being the push alone (12 B of flash on `bench/size`'s apps against LLVM's choice); with
    // one (ebbtide-std's runtimes) it is inlined into the wake, as the hot path wants.
    #[cfg_attr(feature = "wake-hook", inline)]
    #[cfg_attr(not(feature = "wake-hook"), inline(never))]
    pub(crate) unsafe fn push(&self, task: NonNull<Header>) -> bool {
        // SAFETY: by the caller the header is valid and its `run_next` is ours.
        let next = unsafe { &task.as_ref().run_next };
        loop {
            let head = self.head.load(Ordering::Relaxed);
            // The old head as it is: a task, or a mark that ends the stack.
            next.store(head, Ordering::Relaxed);
            // Release: the task's fields (and `run_next`) are visible to the executor's Acquire.
            if self
                .head
                .compare_exchange_weak(head, task.as_ptr(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return head.is_null();
            }
        }
    }

    /// Whether the queue holds a task.
    ///
    /// Relaxed: a look, not a take. Nothing is read through what it sees (the tasks are taken,
    /// and their fields acquired, by [`take_all`](RunQueue::take_all)), and an Acquire load sees
    /// no newer value than a Relaxed one. A driver's idle test, `wfi` after it (one barrier less
    /// on ARM: 4 B of flash).
    #[inline]
    pub(crate) fn has_tasks(&self) -> bool {
        is_task(self.head.load(Ordering::Relaxed))
    }

    /// Marks the executor asleep if the queue is empty; returns `false` if tasks arrived instead.
    #[inline]
    pub(crate) fn try_sleep(&self) -> bool {
        self.head
            .compare_exchange(AWAKE, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Takes every queued task, in run order (see [`Batch`]), and marks the executor awake.
    pub(crate) fn take_all(&self) -> Batch {
        self.take_all_as(Mark::AWAKE)
    }

    /// Takes every queued task, in run order (see [`Batch`]), and leaves `mark`:
    /// [`Mark::ASLEEP`] makes the pushes that follow call the wake hook, even while the executor
    /// runs the tasks taken (see
    /// [`Scheduler::run_rounds`](super::scheduler::Scheduler::run_rounds), which sleeps this
    /// way when the batch is empty, with one swap instead of `try_sleep`'s compare-and-swap after
    /// `take_all`'s swap).
    #[inline]
    pub(crate) fn take_all_as(&self, mark: Mark) -> Batch {
        let stack = self.head.swap(mark.0, Ordering::AcqRel);
        Self::in_run_order(stack)
    }

    /// Takes every queued task, in run order, from any thread (a steal): like
    /// [`take_all`](RunQueue::take_all), but an empty queue is left as it is.
    ///
    /// The head becomes [`AWAKE`] only if it held a task. Why that keeps every wake-up (see
    /// `super::steal` for the whole argument): the taken stack ends in the mark that was there
    /// when its first task was pushed. `AWAKE`: the executor is awake (between its `take_all`
    /// and its `try_sleep`), and putting `AWAKE` back changes nothing. `null`: the executor went
    /// to sleep, and the push that found `null` called (or is about to call) the wake hook, so
    /// the executor polls again: its `take_all` swaps `AWAKE` for whatever is there and its
    /// `try_sleep` then turns `AWAKE` into `null`, so the next push calls the hook again. An empty
    /// head (`null` or `AWAKE`) is never swapped: turning a sleeping executor's `null` into
    /// `AWAKE` without a wake-up on the way would make the next push skip the hook.
    #[cfg(feature = "steal")]
    pub(crate) fn steal_all(&self) -> Batch {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if !is_task(head) {
                return Batch {
                    next: ptr::null_mut(),
                };
            }
            // Acquire: the pushed tasks' fields (and `run_next` links) are ours to read.
            match self
                .head
                .compare_exchange_weak(head, AWAKE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Self::in_run_order(head),
                Err(actual) => head = actual,
            }
        }
    }

    /// A taken stack as a batch, as it is (`lifo-batches`): newest first, no walk.
    #[cfg(feature = "lifo-batches")]
    #[inline(always)]
    fn in_run_order(stack: *mut Header) -> Batch {
        Batch { next: stack }
    }

    /// A taken stack as a batch, reversed into wake order: oldest first.
    #[cfg(not(feature = "lifo-batches"))]
    fn in_run_order(mut stack: *mut Header) -> Batch {
        // Reverse the stack into wake order.
        let mut fifo: *mut Header = ptr::null_mut();
        while is_task(stack) {
            // SAFETY: tasks in a taken stack are valid headers whose `run_next` is owned by the
            // taker until the task is run (SCHEDULED is still set, so nobody pushes them).
            let link = unsafe { &(*stack).run_next };
            let below = link.load(Ordering::Relaxed);
            link.store(fifo, Ordering::Relaxed);
            fifo = stack;
            stack = below;
        }
        Batch { next: fifo }
    }
}

/// Tasks taken from a run queue, in the order they run: the order they were woken, or with the
/// `lifo-batches` feature its reverse.
pub(crate) struct Batch {
    /// The next task, whose `run_next` chain ends in `null` or [`AWAKE`] (a stack taken as it
    /// is ends in the mark that was the head when its first task was pushed); either, when no
    /// task is left.
    next: *mut Header,
}

impl Batch {
    /// A batch with no task.
    pub(crate) const fn empty() -> Batch {
        Batch {
            next: ptr::null_mut(),
        }
    }

    /// Whether the batch has no task left.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        ends_batch(self.next)
    }
}

/// The rest of a running batch, where thieves can take it: the batch of an executor that was
/// ever stolen from.
///
/// Without it, an executor takes its whole queue at the start of a batch and runs it from a
/// local list: the tasks of a running batch are out of every thief's reach, and when the OS
/// deschedules the executor's thread halfway through a batch, the rest waits for it however idle
/// the other workers are. An executor with a shared batch instead pops its batch one task at a
/// time from this word (one compare-and-swap per task), and a thief takes all that is left with
/// one compare-and-swap.
///
/// # The word
///
/// - `null`: nobody ever tried to steal from this executor; it runs its batches from a local
///   list and pays nothing for this. A thief's first [`take`](SharedBatch::take) turns it into
///   `OPEN`, for good: from its next batch on, the executor publishes them.
/// - `OPEN` ([`AWAKE`]'s address): no task left in the published batch.
/// - a task: the next task to run, whose `run_next` chain (the batch's run order) ends in
///   `null` or `AWAKE` (which is `OPEN`).
///
/// # Why a pop cannot take a task that a thief took (no ABA)
///
/// Only the executor's own thread ever stores a task here ([`publish`](SharedBatch::publish)),
/// and never while it pops. Thieves only store `OPEN`. So while the executor pops, the word can
/// only go from the task it read to `OPEN` (a thief took the rest) and never back to that task:
/// a compare-and-swap that finds the task it read there finds the batch as it read it, and the
/// `run_next` it read (an atomic load of a header that is static memory, even if a thief took
/// the task meanwhile) is the task's link in that batch.
///
/// # Why a steal loses no wake-up
///
/// A shared batch is only non-empty while its executor is inside `Scheduler::poll`, between its
/// `take_all` (head `AWAKE`) and its `try_sleep`. Tasks a thief takes from it and does not keep
/// go back through the ordinary push: before the `try_sleep` (which then fails, so the
/// executor polls again) or after it (the push finds `null` and calls the wake hook).
#[cfg(feature = "steal-batch")]
pub(crate) struct SharedBatch {
    head: AtomicPtr<Header>,
}

/// Without the `steal-batch` feature: never open, no field, and every method a constant the
/// compiler folds away (batches run from a local list; a steal takes queued tasks only).
#[cfg(not(feature = "steal-batch"))]
pub(crate) struct SharedBatch;

/// The shared batch's word when the executor publishes its batches and none is left (see
/// [`SharedBatch`]).
#[cfg(feature = "steal-batch")]
const OPEN: *mut Header = AWAKE;

#[cfg(not(feature = "steal-batch"))]
impl SharedBatch {
    crate::loom_const_fn! {
        pub(crate) fn new() -> SharedBatch {
            SharedBatch
        }
    }

    #[inline(always)]
    pub(crate) fn is_open(&self) -> bool {
        false
    }

    /// Never called: the batch is never open.
    ///
    /// # Safety
    ///
    /// None needed.
    #[inline(always)]
    pub(crate) unsafe fn publish(&self, _batch: Batch) {}

    /// Never called: the batch is never open.
    ///
    /// # Safety
    ///
    /// None needed.
    #[inline(always)]
    pub(crate) unsafe fn pop(&self) -> Option<NonNull<Header>> {
        None
    }

    #[inline(always)]
    pub(crate) fn take(&self) -> Batch {
        Batch::empty()
    }
}

#[cfg(feature = "steal-batch")]
impl SharedBatch {
    crate::loom_const_fn! {
        pub(crate) fn new() -> SharedBatch {
            SharedBatch { head: AtomicPtr::new(ptr::null_mut()) }
        }
    }

    /// Whether the executor publishes its batches (a thief tried to steal from it).
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        !self.head.load(Ordering::Relaxed).is_null()
    }

    /// Publishes `batch` for the executor to pop and thieves to take.
    ///
    /// # Safety
    ///
    /// Called only by the executor's own thread, with the word `OPEN` (the last published batch
    /// is all popped or taken), and `batch` came out of its run queue.
    #[inline]
    pub(crate) unsafe fn publish(&self, batch: Batch) {
        let first = if ends_batch(batch.next) {
            OPEN
        } else {
            batch.next
        };
        // Release: the batch's links are visible to a thief's Acquire.
        self.head.store(first, Ordering::Release);
    }

    /// Pops the next task of the published batch; `None` when none is left.
    ///
    /// # Safety
    ///
    /// Called only by the executor's own thread (see [`SharedBatch`] for why the pop is sound).
    #[inline]
    pub(crate) unsafe fn pop(&self) -> Option<NonNull<Header>> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if !is_task(head) {
                return None;
            }
            // SAFETY: headers live in static slots; the link is an atomic. If a thief took the
            // task meanwhile, the compare-and-swap below fails and the value is not used.
            let next = unsafe { (*head).run_next.load(Ordering::Relaxed) };
            // The batch's end (`null`, or `AWAKE` for a stack taken as it is) is `OPEN`.
            let next = if ends_batch(next) { OPEN } else { next };
            match self
                .head
                .compare_exchange(head, next, Ordering::Acquire, Ordering::Acquire)
            {
                // SAFETY: `head` is a task (checked above), so not null.
                Ok(_) => return Some(unsafe { NonNull::new_unchecked(head) }),
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes every task left in the published batch, in run order, from any thread; the first
    /// call ever also makes the executor publish its batches from then on.
    pub(crate) fn take(&self) -> Batch {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head == OPEN {
                return Batch::empty();
            }
            // A task: take the rest of the batch. `null`: not published yet; open it, so that
            // the executor's next batch is. Acquire: the batch's links (published with Release)
            // are ours to read.
            match self
                .head
                .compare_exchange_weak(head, OPEN, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if is_task(head) => return Batch { next: head },
                Ok(_) => return Batch::empty(),
                Err(actual) => head = actual,
            }
        }
    }
}

impl Iterator for Batch {
    type Item = NonNull<Header>;

    #[inline]
    fn next(&mut self) -> Option<NonNull<Header>> {
        if ends_batch(self.next) {
            return None;
        }
        // SAFETY: a task (checked), so a valid header, not null.
        let task = unsafe { NonNull::new_unchecked(self.next) };
        // SAFETY: see `take_all`; the link is read before the task runs and may be re-pushed.
        self.next = unsafe { task.as_ref().run_next.load(Ordering::Relaxed) };
        Some(task)
    }
}
