//! The executor's run queue: an intrusive, lock-free stack of task headers.
//!
//! Any thread or interrupt handler pushes with one compare-and-swap on the head. The executor
//! takes the whole stack with one swap and reverses it, so tasks run in the order they were woken.
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

/// Whether `head` (or a `run_next` link) is a task rather than one of the two end marks.
#[inline(always)]
fn is_task(head: *mut Header) -> bool {
    // `null` and `AWAKE` are the only values at or below `AWAKE`: a header is aligned and not null.
    head.addr() > AWAKE.addr()
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
    #[inline]
    pub(crate) unsafe fn push(&self, task: NonNull<Header>) -> bool {
        // SAFETY: by the caller the header is valid and its `run_next` is ours.
        let next = unsafe { &task.as_ref().run_next };
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // The old head as it is: a task, or a mark that ends the stack.
            next.store(head, Ordering::Relaxed);
            // Release: the task's fields (and `run_next`) are visible to the executor's Acquire.
            match self.head.compare_exchange_weak(
                head,
                task.as_ptr(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return head.is_null(),
                Err(actual) => head = actual,
            }
        }
    }

    /// Whether the queue holds a task.
    #[inline]
    pub(crate) fn has_tasks(&self) -> bool {
        is_task(self.head.load(Ordering::Acquire))
    }

    /// Marks the executor asleep if the queue is empty; returns `false` if tasks arrived instead.
    #[inline]
    pub(crate) fn try_sleep(&self) -> bool {
        self.head
            .compare_exchange(AWAKE, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Takes every queued task, oldest first, and marks the executor awake.
    pub(crate) fn take_all(&self) -> Batch {
        let stack = self.head.swap(AWAKE, Ordering::AcqRel);
        Self::reverse(stack)
    }

    /// Takes every queued task, oldest first, from any thread (a steal): like
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
                Ok(_) => return Self::reverse(head),
                Err(actual) => head = actual,
            }
        }
    }

    /// Reverses a taken stack into wake order.
    fn reverse(mut stack: *mut Header) -> Batch {
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

/// Tasks taken from a run queue, in the order they were woken.
pub(crate) struct Batch {
    next: *mut Header,
}

impl Iterator for Batch {
    type Item = NonNull<Header>;

    #[inline]
    fn next(&mut self) -> Option<NonNull<Header>> {
        let task = NonNull::new(self.next)?;
        // SAFETY: see `take_all`; the link is read before the task runs and may be re-pushed.
        self.next = unsafe { task.as_ref().run_next.load(Ordering::Relaxed) };
        Some(task)
    }
}
