//! The executor's run queue: an intrusive, lock-free stack of task headers.
//!
//! Any thread or interrupt handler pushes with one compare-and-swap on the head. The executor
//! takes the whole stack with one swap and reverses it, so tasks run in the order they were woken.
//! Tasks woken while a batch runs land in the next batch: a task that wakes itself cannot run twice
//! in one batch, so every batch ends.
//!
//! The head also tells pushers whether the executor went to sleep. When a batch ends with the
//! queue empty, the executor swaps `null` for the [`SLEEPING`] mark with one compare-and-swap;
//! a push that replaces the mark learns that the executor may be waiting and must be woken (its
//! driver's wake hook). Because both sides are read-modify-writes of the same word, one of them
//! always sees the other: either the executor's CAS fails (a task arrived; it polls again) or the
//! pusher sees the mark (it calls the hook). No wake-up is lost, and none is sent while the
//! executor is busy.

use core::ptr::{self, NonNull};

use super::header::Header;
use crate::loom::{AtomicPtr, Ordering};

pub(crate) struct RunQueue {
    /// `null`: empty, executor awake; [`SLEEPING`]: empty, executor may be waiting; else the
    /// most recently pushed task.
    head: AtomicPtr<Header>,
}

/// The head's value when the queue is empty and its executor may be asleep. Only compared, never
/// dereferenced: it is the dangling (aligned, non-null) address of `Header`, which no real task
/// slot occupies.
const SLEEPING: *mut Header = NonNull::<Header>::dangling().as_ptr();

impl RunQueue {
    crate::loom_const_fn! {
        pub(crate) fn new() -> RunQueue {
            RunQueue { head: AtomicPtr::new(SLEEPING) }
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
            let below = if head == SLEEPING {
                ptr::null_mut()
            } else {
                head
            };
            next.store(below, Ordering::Relaxed);
            // Release: the task's fields (and `run_next`) are visible to the executor's Acquire.
            match self.head.compare_exchange_weak(
                head,
                task.as_ptr(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return head == SLEEPING,
                Err(actual) => head = actual,
            }
        }
    }

    /// Whether the queue holds a task.
    #[inline]
    pub(crate) fn has_tasks(&self) -> bool {
        let head = self.head.load(Ordering::Acquire);
        !head.is_null() && head != SLEEPING
    }

    /// Marks the executor asleep if the queue is empty; returns `false` if tasks arrived instead.
    #[inline]
    pub(crate) fn try_sleep(&self) -> bool {
        self.head
            .compare_exchange(
                ptr::null_mut(),
                SLEEPING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Takes every queued task, oldest first.
    pub(crate) fn take_all(&self) -> Batch {
        let mut stack = self.head.swap(ptr::null_mut(), Ordering::AcqRel);
        if stack == SLEEPING {
            stack = ptr::null_mut();
        }
        // Reverse the stack into wake order.
        let mut fifo: *mut Header = ptr::null_mut();
        while let Some(task) = NonNull::new(stack) {
            // SAFETY: tasks in a taken stack are valid headers whose `run_next` is owned by the
            // taker until the task is run (SCHEDULED is still set, so nobody pushes them).
            let link = unsafe { &task.as_ref().run_next };
            stack = link.load(Ordering::Relaxed);
            link.store(fifo, Ordering::Relaxed);
            fifo = task.as_ptr();
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
