//! One-value channels with owned ends, as in Tokio.
//!
//! [`channel`] makes one; [`Sender::send`] hands over the value without waiting and the
//! [`Receiver`] is a future of it. The static channel of [`ebbtide_core::sync::oneshot`] is here
//! too: [`Channel`], whose `split()` ends are [`SplitSender`] and [`SplitReceiver`].
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::sync::oneshot;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     ebbtide_std::spawn(async move { tx.send(6 * 7).unwrap() }).unwrap();
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::{block_on, lock, register, wake_each, Register};

pub use ebbtide_core::sync::oneshot::{
    AlreadySplit, Channel, Closed as SplitClosed, Receiver as SplitReceiver, Sender as SplitSender,
};

/// The errors of [`Receiver`], at Tokio's paths.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::oneshot::{self, error::TryRecvError};
///
/// let (_tx, mut rx) = oneshot::channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending (or the receiver closed first).
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = ebbtide_std::sync::oneshot::channel::<u8>();
    ///     drop(tx);
    ///     assert!(rx.await.is_err());
    /// });
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the oneshot sender was dropped without sending")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel::<u8>();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender is still there.
        Empty,
        /// No value and none will come (the sender is gone, or the value was already taken).
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("no value was sent yet"),
                TryRecvError::Closed => f.write_str("no value is there and none will come"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

pub use error::{RecvError, TryRecvError};

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped.
    tx_done: bool,
    /// The receiver closed or was dropped.
    rx_closed: bool,
    /// The value was taken by the receiver.
    taken: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

/// Makes a oneshot channel; returns its two ends.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = ebbtide_std::sync::oneshot::channel();
/// tx.send("done").unwrap();
/// assert_eq!(rx.try_recv(), Ok("done"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            tx_done: false,
            rx_closed: false,
            taken: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// The sending end of a oneshot channel.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ebbtide_std::sync::oneshot::channel();
/// drop(rx);
/// assert_eq!(tx.send(1), Err(1));
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving end of a oneshot channel: a future of the value, or of [`RecvError`] when
/// the sender is dropped without sending.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = ebbtide_std::sync::oneshot::channel();
///     tx.send(1).unwrap();
///     assert_eq!(rx.await, Ok(1));
/// });
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_ref()
            .expect("the sender is live until send or drop")
    }

    /// Sends `value`; hands it back if the receiver is closed or dropped.
    ///
    /// # Errors
    ///
    /// The value itself, if the receiver can no longer take it.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = ebbtide_std::sync::oneshot::channel();
    ///     assert_eq!(tx.send('x'), Ok(()));
    ///     assert_eq!(rx.await, Ok('x'));
    /// });
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self
            .inner
            .take()
            .expect("the sender is live until send or drop");
        let mut state = lock(&inner.state);
        if state.rx_closed {
            state.tx_done = true;
            let old = state.tx_waker.take();
            drop(state);
            drop(old);
            return Err(value);
        }
        state.value = Some(value);
        state.tx_done = true;
        let waker = state.rx_waker.take();
        let old = state.tx_waker.take();
        drop(state);
        wake_each(waker);
        drop(old);
        Ok(())
    }

    /// Whether the receiver is closed or dropped (a send would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        lock(&self.inner().state).rx_closed
    }

    /// Polls for the receiver being closed or dropped (the poll form of
    /// [`closed`](Sender::closed)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = ebbtide_std::sync::oneshot::channel::<u8>();
    ///     drop(rx);
    ///     poll_fn(|cx| tx.poll_closed(cx)).await;
    /// });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner();
        let mut fresh = None;
        loop {
            let mut state = lock(&inner.state);
            if state.rx_closed {
                return Poll::Ready(());
            }
            match register(&mut state.tx_waker, cx, &mut fresh) {
                Register::Done(old) => {
                    drop(state);
                    drop(old);
                    return Poll::Pending;
                }
                Register::NeedWaker => {
                    drop(state);
                    fresh = Some(cx.waker().clone());
                }
            }
        }
    }

    /// Resolves once the receiver is closed or dropped: the value is no longer wanted.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = ebbtide_std::sync::oneshot::channel::<u8>();
    ///     ebbtide_std::spawn(async move { drop(rx) }).unwrap();
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let mut state = lock(&inner.state);
            state.tx_done = true;
            let waker = state.rx_waker.take();
            let old = state.tx_waker.take();
            drop(state);
            wake_each(waker);
            drop(old);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Closes the channel: the sender's [`send`](Sender::send) fails from now on and its
    /// [`closed`](Sender::closed) resolves. A value sent before can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        let mut state = lock(&self.inner.state);
        state.rx_closed = true;
        let waker = state.tx_waker.take();
        drop(state);
        wake_each(waker);
    }

    /// Takes the value if it was sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if it was not sent yet, [`TryRecvError::Closed`] if it never
    /// will be (or was already taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.inner.state);
        if let Some(value) = state.value.take() {
            state.taken = true;
            return Ok(value);
        }
        if state.tx_done || state.taken || state.rx_closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Waits for the value, blocking the current thread: for code outside any runtime, e.g. a
    /// plain [`std::thread`] waiting for a task's answer. Parks the thread while it waits;
    /// allocates once per call (the thread's waker).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    ///
    /// On a thread that runs an ebbtide runtime (in its `block_on`, e.g. in a task): await the
    /// receiver there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// let waiter = std::thread::spawn(move || rx.blocking_recv());
    /// ebbtide_std::Runtime::new().unwrap().block_on(async move {
    ///     ebbtide_std::spawn(async move { tx.send(42).unwrap() }).unwrap().await.unwrap();
    /// });
    /// assert_eq!(waiter.join().unwrap(), Ok(42));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        block_on(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut fresh = None;
        loop {
            let mut state = lock(&self.inner.state);
            if let Some(value) = state.value.take() {
                state.taken = true;
                return Poll::Ready(Ok(value));
            }
            if state.tx_done || state.taken || state.rx_closed {
                return Poll::Ready(Err(RecvError(())));
            }
            match register(&mut state.rx_waker, cx, &mut fresh) {
                Register::Done(old) => {
                    drop(state);
                    drop(old);
                    return Poll::Pending;
                }
                Register::NeedWaker => {
                    drop(state);
                    fresh = Some(cx.waker().clone());
                }
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.inner.state);
        state.rx_closed = true;
        let waker = state.tx_waker.take();
        let value = state.value.take();
        let old = state.rx_waker.take();
        drop(state);
        wake_each(waker);
        drop(old);
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
