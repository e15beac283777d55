//! The executor's run queue: an intrusive, lock-free stack of task headers.
//!
//! Any thread or interrupt handler pushes with one compare-and-swap on the head. The executor
//! takes the whole stack with one swap and reverses it, so tasks run in the order they were woken.
//! Tasks woken while a batch runs land in the next batch: a task that wakes itself cannot run twice
//! in one batch, so every batch ends.

use core::ptr::{self, NonNull};

use super::header::Header;
use crate::loom::{AtomicPtr, Ordering};

pub(crate) struct RunQueue {
    head: AtomicPtr<Header>,
}

impl RunQueue {
    crate::loom_const_fn! {
        pub(crate) fn new() -> RunQueue {
            RunQueue { head: AtomicPtr::new(ptr::null_mut()) }
        }
    }

    /// Pushes `task`; returns whether the queue was empty.
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
            next.store(head, Ordering::Relaxed);
            // SeqCst: pairs with the executor's `polling` flag (see `Executor::enqueue`).
            match self.head.compare_exchange_weak(
                head,
                task.as_ptr(),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return head.is_null(),
                Err(actual) => head = actual,
            }
        }
    }

    /// Whether the queue holds no task.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.load(Ordering::SeqCst).is_null()
    }

    /// Takes every queued task, oldest first.
    pub(crate) fn take_all(&self) -> Batch {
        let mut stack = self.head.swap(ptr::null_mut(), Ordering::AcqRel);
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
