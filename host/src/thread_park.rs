//! Running one future on the calling thread, parked while it waits: the loop of
//! [`Handle::block_on`](crate::Handle::block_on) and of the channels' `blocking_*` methods.
//! Allocates once per call (the waker's `Arc`, which holds the thread's handle); the future
//! stays on the stack. On a target without threads (WASI preview 1) nothing else runs while the
//! thread waits, so a future still pending after its first poll is never woken: a blocking
//! call there waits forever, as any blocking call on the only thread would.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the thread that waits for its future.
struct ThreadWaker {
    thread: Thread,
    /// Set by a wake, cleared before each poll: a wake that comes while the future is polled is
    /// not lost, and a stray `unpark` (or a spurious wake-up of `park`) costs no poll.
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release: what the waker's caller did before the wake is seen by the next poll.
        if !self.woken.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread until it completes, parking the thread while it is pending.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let state = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&state));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Acquire: pairs with the wake's release.
        while !state.woken.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}
