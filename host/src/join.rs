//! A task's output: [`JoinHandle`] and [`JoinError`], one set of types for every host driver, so
//! that `ebbtide_std::JoinError` and `ebbtide_wasi::JoinError` are the same type.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

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

    /// The future back, for a spawn that was refused (never polled, never pinned).
    pub(crate) fn into_inner(self) -> F {
        self.future
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

/// An owned permission to await a task's output, like Tokio's.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task was aborted or panicked (the
/// panic payload is carried in the error). Dropping the handle detaches the task.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: the output waits in the task's slot for the next `await`.
///
/// # Examples
///
/// ```
/// # ebbtide_std::Runtime::new().unwrap().block_on(async {
/// let stuck = ebbtide_std::spawn(std::future::pending::<()>()).unwrap();
/// stuck.abort();
/// assert!(stuck.await.unwrap_err().is_cancelled());
/// # });
/// ```
pub struct JoinHandle<T> {
    inner: ebbtide_core::JoinHandle<Result<T, PanicPayload>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: ebbtide_core::JoinHandle<Result<T, PanicPayload>>) -> Self {
        JoinHandle { inner }
    }

    /// Asks the task to stop; its future is dropped before it is polled again.
    ///
    /// # Examples
    ///
    /// ```
    /// # ebbtide_std::Runtime::new().unwrap().block_on(async {
    /// let task = ebbtide_std::spawn(std::future::pending::<()>()).unwrap();
    /// task.abort();
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.inner.abort()
    }

    /// Whether the task finished (returned, panicked, or was aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// # ebbtide_std::Runtime::new().unwrap().block_on(async {
    /// let task = ebbtide_std::spawn(async {}).unwrap();
    /// ebbtide_std::task::yield_now().await;
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
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|result| match result {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(payload)) => Err(JoinError::Panic(payload)),
                Err(ebbtide_core::JoinError::Cancelled) => Err(JoinError::Cancelled),
                // A panic that `CatchUnwind` did not see: one from the future's destructor.
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
///
/// An enum (Tokio's is an opaque struct) with Tokio's methods: [`is_cancelled`],
/// [`is_panic`], [`into_panic`], [`try_into_panic`]. Where panics abort (wasm32-wasip1's
/// default), a panicking task ends the program, so `Panic` only happens where they unwind.
///
/// [`is_cancelled`]: JoinError::is_cancelled
/// [`is_panic`]: JoinError::is_panic
/// [`into_panic`]: JoinError::into_panic
/// [`try_into_panic`]: JoinError::try_into_panic
///
/// # Examples
///
/// ```
/// # ebbtide_std::Runtime::new().unwrap().block_on(async {
/// let task = ebbtide_std::spawn(async { panic!("boom") }).unwrap();
/// let error = task.await.unwrap_err();
/// assert!(error.is_panic());
/// assert_eq!(error.panic_message(), Some("boom"));
/// # });
/// ```
pub enum JoinError {
    /// The task was aborted, or its runtime shut down before it finished.
    Cancelled,
    /// The task panicked; the payload is what `panic!` was given.
    Panic(PanicPayload),
}

impl JoinError {
    /// Whether the task was aborted (or its runtime shut down first).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ebbtide_host::JoinError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ebbtide_host::JoinError::Panic(Box::new(1)).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panic(_))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task did not panic; see [`try_into_panic`](JoinError::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let payload = ebbtide_host::JoinError::Panic(Box::new(7_u8)).into_panic();
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&7));
    /// ```
    pub fn into_panic(self) -> PanicPayload {
        self.try_into_panic()
            .expect("JoinError::into_panic on a task that was cancelled, not panicked")
    }

    /// The panic payload if the task panicked, or the error back.
    ///
    /// # Errors
    ///
    /// `Err(self)` if the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_host::JoinError;
    /// assert!(JoinError::Cancelled.try_into_panic().is_err());
    /// assert!(JoinError::Panic(Box::new(())).try_into_panic().is_ok());
    /// ```
    pub fn try_into_panic(self) -> Result<PanicPayload, JoinError> {
        match self {
            JoinError::Panic(payload) => Ok(payload),
            JoinError::Cancelled => Err(JoinError::Cancelled),
        }
    }

    /// The panic message, if the task panicked with a string.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = ebbtide_host::JoinError::Panic(Box::new("oops"));
    /// assert_eq!(error.panic_message(), Some("oops"));
    /// ```
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
            JoinError::Panic(_) => write!(
                f,
                "JoinError::Panic({:?})",
                self.panic_message().unwrap_or("...")
            ),
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
