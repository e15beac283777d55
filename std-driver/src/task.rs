//! Spawning tasks on the current runtime, and their join handles.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub use ebbtide_core::task::{poll_budget, yield_now, YieldNow};
pub use ebbtide_core::SpawnError;

/// A panic payload, as `std::panic::catch_unwind` returns it.
pub type PanicPayload = Box<dyn Any + Send + 'static>;

pin_project_lite::pin_project! {
    /// Polls the inner future inside `catch_unwind`, so a panicking task becomes an error value.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(future: F) -> Self {
        CatchUnwind { future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, PanicPayload>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Spawns `future` on the current thread's runtime.
///
/// Like `tokio::spawn`, from inside `Runtime::block_on` or a task. Never allocates: the task goes
/// in a slot reserved when the runtime was built, of the smallest size class that fits it.
///
/// # Errors
///
/// [`SpawnError::PoolFull`] when every slot of that class holds a task; the runtime keeps
/// running the others. (Raise [`Builder::task_capacity`](crate::Builder::task_capacity).)
///
/// # Panics
///
/// Outside a runtime (use [`Handle::spawn`](crate::Handle::spawn) from other threads).
///
/// # Examples
///
/// ```
/// # use ebbtide_std::Runtime;
/// Runtime::new().unwrap().block_on(async {
///     let handle = ebbtide_std::spawn(async { 6 * 7 }).unwrap();
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub fn spawn<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::Handle::current().spawn(future)
}

/// Spawns a future that is not `Send` on the current thread's runtime; it always runs on this
/// thread.
///
/// # Errors
///
/// [`SpawnError::PoolFull`] when the task's size class is full; [`SpawnError::Shutdown`] while
/// the runtime drops (from the destructor of a task it cancels).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// # use ebbtide_std::Runtime;
/// use std::rc::Rc;
/// Runtime::new().unwrap().block_on(async {
///     let shared = Rc::new(5); // not Send
///     let handle = ebbtide_std::spawn_local(async move { *shared + 1 }).unwrap();
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
pub fn spawn_local<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let shared = crate::context::current()
        .expect("ebbtide_std::spawn_local must be called inside an ebbtide runtime");
    // Refused while the runtime drops (from a task's destructor): a `!Send` task must not
    // outlive the cancellation, or the next runtime, maybe on another thread, would poll it.
    let _gate = shared.enter_spawn(shared.reactor.generation())?;
    // SAFETY: `context::current()` is only set while this thread runs the runtime (inside
    // `Runtime::block_on` or its `Drop`, on the thread that owns the runtime's `!Send` runner),
    // and the runtime is not dropping (the gate is open), so this thread polls `shared.executor`
    // for as long as the task lives.
    unsafe {
        shared
            .pools
            .spawn_local(shared.executor, CatchUnwind::new(future))
    }
    .map(JoinHandle::new)
}

/// An owned permission to await a task's output; see `ebbtide_core::JoinHandle`, plus panics.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task was aborted or panicked (the
/// panic payload is carried in the error). Dropping the handle detaches the task.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: the output waits in the task's slot for the next `await`.
pub struct JoinHandle<T> {
    inner: ebbtide_core::JoinHandle<Result<T, PanicPayload>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: ebbtide_core::JoinHandle<Result<T, PanicPayload>>) -> Self {
        JoinHandle { inner }
    }

    /// Asks the task to stop; its future is dropped before it is polled again.
    pub fn abort(&self) {
        self.inner.abort()
    }

    /// Whether the task finished (returned, panicked, or was aborted).
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|result| match result {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(payload)) => Err(JoinError::Panic(payload)),
                Err(ebbtide_core::JoinError::Cancelled) => Err(JoinError::Cancelled),
                Err(_) => Err(JoinError::Panic(Box::new("the task panicked"))),
            })
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Why a task produced no output.
pub enum JoinError {
    /// The task was aborted.
    Cancelled,
    /// The task panicked; the payload is what `panic!` was given.
    Panic(PanicPayload),
}

impl JoinError {
    /// Whether the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panic(_))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task did not panic.
    pub fn into_panic(self) -> PanicPayload {
        match self {
            JoinError::Panic(payload) => payload,
            JoinError::Cancelled => panic!("JoinError::into_panic on a cancelled task"),
        }
    }

    /// The panic message, if the task panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panic(payload) => payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str)),
            JoinError::Cancelled => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("JoinError::Cancelled"),
            JoinError::Panic(_) => {
                write!(
                    f,
                    "JoinError::Panic({:?})",
                    self.panic_message().unwrap_or("...")
                )
            }
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("the task was aborted"),
            JoinError::Panic(_) => match self.panic_message() {
                Some(message) => write!(f, "the task panicked: {message}"),
                None => f.write_str("the task panicked"),
            },
        }
    }
}

impl std::error::Error for JoinError {}
