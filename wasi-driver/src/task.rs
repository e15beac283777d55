//! Spawning tasks on the running runtime, and their join handles.
//!
//! The same functions and types as ebbtide-std's `task` module. One difference: panics abort on
//! wasm32-wasip1 (the target's default `panic = "abort"`), so there is no panic to catch and a
//! [`JoinError`] only ever says a task was aborted there.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use ebbtide_core::task::{poll_budget, yield_now, YieldNow};
pub use ebbtide_core::SpawnError;

fn current() -> &'static crate::runtime::Shared {
    crate::runtime::current().expect(
        "there is no ebbtide runtime running: call spawn inside Runtime::block_on or a task",
    )
}

/// Spawns `future` on the running runtime.
///
/// Like `tokio::spawn`, from inside `Runtime::block_on` or a task. Never allocates: the task goes
/// in a slot reserved when the runtime was built, of the smallest size class that fits it. WASI
/// preview 1 has one thread, so the `Send` bounds only keep programs portable to ebbtide-std;
/// [`spawn_local`] has none.
///
/// # Errors
///
/// [`SpawnError::PoolFull`] when every slot of that class holds a task; the runtime keeps
/// running the others. (Raise [`Builder::task_capacity`](crate::Builder::task_capacity).)
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```no_run
/// # use ebbtide_wasi::Runtime;
/// Runtime::new().unwrap().block_on(async {
///     let handle = ebbtide_wasi::spawn(async { 6 * 7 }).unwrap();
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub fn spawn<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_local(future)
}

/// Spawns a future that is not `Send` on the running runtime.
///
/// # Errors
///
/// As for [`spawn`].
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```no_run
/// # use ebbtide_wasi::Runtime;
/// use std::rc::Rc;
/// Runtime::new().unwrap().block_on(async {
///     let shared = Rc::new(5); // not Send
///     let handle = ebbtide_wasi::spawn_local(async move { *shared + 1 }).unwrap();
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
pub fn spawn_local<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let shared = current();
    // SAFETY: the current runtime is only set while this thread runs it (inside
    // `Runtime::block_on` or its `Drop`, on the thread that owns the runtime's `!Send` runner),
    // so this thread polls `shared.executor` for as long as the task lives.
    unsafe { shared.pools.spawn_local(shared.executor, future) }.map(JoinHandle::new)
}

/// An owned permission to await a task's output.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task was aborted. Dropping the handle
/// detaches the task.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: the output waits in the task's slot for the next `await`.
///
/// # Examples
///
/// ```no_run
/// # use ebbtide_wasi::Runtime;
/// Runtime::new().unwrap().block_on(async {
///     let stuck = ebbtide_wasi::spawn(std::future::pending::<()>()).unwrap();
///     stuck.abort();
///     assert!(stuck.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct JoinHandle<T> {
    inner: ebbtide_core::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: ebbtide_core::JoinHandle<T>) -> Self {
        JoinHandle { inner }
    }

    /// Asks the task to stop; its future is dropped before it is polled again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    /// let task = ebbtide_wasi::spawn(std::future::pending::<()>()).unwrap();
    /// task.abort();
    /// # });
    /// ```
    pub fn abort(&self) {
        self.inner.abort()
    }

    /// Whether the task finished (returned or was aborted).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    /// let task = ebbtide_wasi::spawn(async {}).unwrap();
    /// ebbtide_wasi::task::yield_now().await;
    /// assert!(task.is_finished());
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(|result| {
            result.map_err(|e| match e {
                ebbtide_core::JoinError::Cancelled => JoinError::Cancelled,
                _ => JoinError::Panic,
            })
        })
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Why a task produced no output.
///
/// # Examples
///
/// ```no_run
/// use ebbtide_wasi::JoinError;
/// assert_eq!(JoinError::Cancelled.to_string(), "the task was aborted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// The task was aborted.
    Cancelled,
    /// The task panicked. Only where panics unwind (not on wasm32-wasip1, where a panic aborts
    /// the program); the payload is not kept.
    Panic,
}

impl JoinError {
    /// Whether the task was aborted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// assert!(ebbtide_wasi::JoinError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// assert!(!ebbtide_wasi::JoinError::Cancelled.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panic)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("the task was aborted"),
            JoinError::Panic => f.write_str("the task panicked"),
        }
    }
}

impl std::error::Error for JoinError {}
