//! Handles to spawned tasks.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use crate::raw::header::Header;
use crate::raw::task::{self, JoinPoll};

/// An owned permission to await a task's output, abort it, or ask whether it finished.
///
/// Awaiting a `JoinHandle` yields `Ok(output)`, or a [`JoinError`] if the task was aborted or
/// panicked. Dropping the handle *detaches* the task: it runs on, and its output is dropped when
/// it finishes. The task's slot goes back to its pool once the task has finished and the handle is
/// gone.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: if the `await` is dropped before the task finishes, the output stays
/// in the task's slot and a later `await` of the same handle (through `&mut`) gets it.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, JoinError, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<4> = TaskPool::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = runner.spawner();
/// let done = spawner.spawn(&POOL, async { "done" }).unwrap();
/// let stuck = spawner.spawn(&POOL, core::future::pending::<()>()).unwrap();
/// stuck.abort();
/// assert_eq!(runner.run_until(done, || {}), Ok("done"));
/// assert_eq!(runner.run_until(stuck, || {}), Err(JoinError::Cancelled));
/// ```
pub struct JoinHandle<T> {
    header: NonNull<Header>,
    /// Whether the output (or error) was already returned by `poll`.
    taken: bool,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out of the slot (so `T: Send` suffices) and touches the slot
// through atomics and the state-word protocol.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state word and requests aborts, both thread-safe.
unsafe impl<T> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `header` is a task just spawned with `HANDLE` set, whose output type is `T`.
    pub(crate) unsafe fn from_raw(header: NonNull<Header>) -> Self {
        JoinHandle {
            header,
            taken: false,
            _output: PhantomData,
        }
    }

    /// Asks the task to stop. Its future is dropped the next time its executor reaches it (before
    /// any further poll), and awaiting this handle then yields [`JoinError::Cancelled`].
    ///
    /// Aborting a task that has already finished does nothing: its output stays available.
    pub fn abort(&self) {
        // SAFETY: we are the task's handle.
        unsafe { task::abort(self.header) }
    }

    /// Whether the task has finished: returned, been aborted, or panicked.
    pub fn is_finished(&self) -> bool {
        task::is_complete(self.header)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(
            !self.taken,
            "JoinHandle polled after it returned the task's output"
        );
        // SAFETY: we are the task's handle, `T` is its output type, and `taken` is false.
        let result = match unsafe { task::poll_join::<T>(self.header, cx.waker()) } {
            JoinPoll::Pending => return Poll::Pending,
            JoinPoll::Output(output) => Ok(output),
            JoinPoll::Cancelled => Err(JoinError::Cancelled),
            JoinPoll::Panicked => Err(JoinError::Panicked),
        };
        self.taken = true;
        Poll::Ready(result)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the task's handle and this is its last use.
        unsafe { task::drop_handle(self.header) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("state", &task::state_of(self.header))
            .finish()
    }
}

/// Why a task produced no output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// The task was aborted through [`JoinHandle::abort`].
    Cancelled,
    /// The task panicked while being polled. (`ebbtide-core` cannot catch panics; a driver that
    /// catches the unwind out of [`Runner::poll`](crate::Runner::poll) keeps the other tasks
    /// running.)
    Panicked,
}

impl JoinError {
    /// Whether the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("the task was aborted before it finished"),
            JoinError::Panicked => f.write_str("the task panicked"),
        }
    }
}

impl core::error::Error for JoinError {}
