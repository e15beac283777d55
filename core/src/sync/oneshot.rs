//! A one-shot channel: one value, from one [`Sender`] to one [`Receiver`].
//!
//! A [`Channel`] holds the value; it has a `const` constructor, so it can be a `static`, or it can
//! live on the stack. [`Channel::split`] hands out its two ends, as
//! [`mpsc::Channel::split`](crate::sync::mpsc::Channel::split) does. The semantics are tokio's
//! `oneshot`:
//!
//! - [`Sender::send`] never waits. It fails, handing the value back, if the receiver is gone or
//!   [closed](Receiver::close) the channel.
//! - The [`Receiver`] is itself a future: it completes with the value, or with [`RecvError`] if
//!   the sender was dropped without sending.
//! - [`Sender::closed`] lets a producer notice that nobody wants its answer any more.
//!
//! No user code runs under the channel's lock: wakers are cloned before it is taken and dropped
//! or woken after it is released, and an unreceived value is dropped outside it, so a foreign
//! waker or the value's `Drop` may use the channel again.
//!
//! # Reuse
//!
//! A channel is **reusable**: once *both* ends of a pair are dropped, [`split`](Channel::split)
//! hands out a fresh pair on an empty channel. While either end of the previous pair is alive,
//! `split` panics and [`try_split`](Channel::try_split) returns [`AlreadySplit`]. The ends of a
//! finished exchange go away by themselves: [`Sender::send`] consumes the sender (and releases
//! it in the same lock that stores the value, so the receiver can never see the value while the
//! sender still counts), and awaiting a `Receiver` consumes it. So a `static` channel can carry
//! one value after another:
//!
//! ```
//! use ebbtide_core::sync::oneshot;
//!
//! static REPLY: oneshot::Channel<u32> = oneshot::Channel::new();
//!
//! ebbtide_core::block_on(async {
//!     for round in 0..3 {
//!         let (tx, rx) = REPLY.split(); // a fresh pair: the last one is gone
//!         tx.send(round).unwrap();
//!         assert_eq!(rx.await, Ok(round));
//!     }
//! });
//! ```
//!
//! # Examples
//!
//! A request answered by another task:
//!
//! ```
//! use ebbtide_core::sync::oneshot;
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//! static ANSWER: oneshot::Channel<u32> = oneshot::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let (tx, rx) = ANSWER.split();
//! runner
//!     .spawner()
//!     .spawn(&POOL, async move {
//!         tx.send(42).unwrap();
//!     })
//!     .unwrap();
//! assert_eq!(runner.run_until(rx, || {}), Ok(42));
//! ```

use core::fmt;
use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, NoUserCode, RawMutex};
use crate::sync::waker::{drop_kept, lock_registering, Kept};

/// A one-shot channel for one value of type `T` at a time, guarded by the lock `M`.
///
/// Get its ends with [`split`](Channel::split); split it again once both are dropped. See the
/// [module docs](self) for the semantics.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::{Channel, TryRecvError};
///
/// // On the stack, driven by hand.
/// let channel: Channel<&str> = Channel::new();
/// let (tx, mut rx) = channel.split();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.send("done").unwrap();
/// assert_eq!(rx.try_recv(), Ok("done"));
/// ```
pub struct Channel<T, M: RawMutex = CriticalSectionRawMutex> {
    // `NoUserCode`: no closure of this lock runs user code (wakers are cloned, dropped and woken
    // outside it, and no `T` is dropped inside): see `BlockingMutex`.
    state: BlockingMutex<M, State<T>, NoUserCode>,
}

/// The channel's state.
///
/// Lifecycle of one pair: `split` sets `sender` and `receiver`; `send` (or dropping the sender)
/// clears `sender`; dropping the receiver clears `receiver` and sets `closed`. With both cleared
/// the channel is idle and `split` may start the next pair, resetting everything.
struct State<T> {
    /// The `Sender` of the current pair exists and has not sent.
    sender: bool,
    /// The `Receiver` of the current pair exists.
    receiver: bool,
    /// The receiving side is closed (`Receiver::close`, or the receiver dropped): `send` fails.
    closed: bool,
    /// The value sent and not yet received.
    value: Option<T>,
    /// The receiver's waker, while it waits for the value.
    receiver_waker: Option<Kept>,
    /// The sender's waker, while it waits in `closed()`.
    sender_waker: Option<Kept>,
}

impl<T> State<T> {
    /// Starts a new pair of ends and returns what the last pair left, for the caller to drop
    /// unlocked: normally nothing (the ends take all they leave as they go), but a `Receiver`
    /// that was forgotten leaves its value and waker.
    #[allow(clippy::type_complexity)]
    fn start_pair(&mut self) -> (Option<T>, Option<Kept>, Option<Kept>) {
        self.sender = true;
        self.receiver = true;
        self.closed = false;
        (
            self.value.take(),
            self.receiver_waker.take(),
            self.sender_waker.take(),
        )
    }
}

impl<T> Channel<T> {
    crate::loom_const_fn! {
        /// An empty channel guarded by a [`CriticalSectionRawMutex`]; see
        /// [`Channel::with_mutex`] for another lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::oneshot::Channel;
        ///
        /// static DONE: Channel<()> = Channel::new();
        /// let (tx, rx) = DONE.split();
        /// tx.send(()).unwrap();
        /// assert_eq!(ebbtide_core::block_on(rx), Ok(()));
        /// ```
        pub fn new() -> Channel<T> {
            Channel::with_mutex()
        }
    }
}

impl<T, M: RawMutex> Channel<T, M> {
    crate::loom_const_fn! {
        /// An empty channel guarded by the lock `M`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::oneshot::Channel;
        ///
        /// let channel = Channel::<u32, LocalRawMutex>::with_mutex();
        /// let (tx, mut rx) = channel.split();
        /// tx.send(1).unwrap();
        /// assert_eq!(rx.try_recv(), Ok(1));
        /// ```
        pub fn with_mutex() -> Channel<T, M> {
            Channel {
                state: BlockingMutex::new(State {
                    sender: false,
                    receiver: false,
                    closed: false,
                    value: None,
                    receiver_waker: None,
                    sender_waker: None,
                }),
            }
        }
    }

    /// The two ends of a fresh exchange: the [`Sender`] and the [`Receiver`].
    ///
    /// The channel can be split again once both ends are dropped (see [Reuse](self#reuse)).
    ///
    /// # Panics
    ///
    /// If an end of the previous pair is still alive; use [`try_split`](Channel::try_split) to
    /// get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// tx.send(1).unwrap();
    /// assert_eq!(ebbtide_core::block_on(rx), Ok(1));
    /// // Both ends are gone: split again.
    /// let (tx, rx) = channel.split();
    /// drop(tx);
    /// assert!(ebbtide_core::block_on(rx).is_err());
    /// ```
    pub fn split(&self) -> (Sender<'_, T, M>, Receiver<'_, T, M>) {
        match self.try_split() {
            Ok(ends) => ends,
            Err(error) => panic!("{error}"),
        }
    }

    /// The two ends of a fresh exchange, or [`AlreadySplit`] while an end of the previous pair is
    /// alive.
    ///
    /// # Errors
    ///
    /// [`AlreadySplit`] if the `Sender` (not yet used) or the `Receiver` of the previous pair
    /// still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (tx, rx) = channel.try_split().unwrap();
    /// assert!(channel.try_split().is_err());
    /// tx.send(5).unwrap(); // the sender is used up
    /// assert!(channel.try_split().is_err()); // but the receiver still holds the value
    /// drop(rx);
    /// assert!(channel.try_split().is_ok());
    /// ```
    #[allow(clippy::type_complexity)] // the same pair `split` returns
    pub fn try_split(&self) -> Result<(Sender<'_, T, M>, Receiver<'_, T, M>), AlreadySplit> {
        let old = self.state.lock(|state| {
            if state.sender || state.receiver {
                return Err(AlreadySplit(()));
            }
            // Whatever is left is dropped after unlocking.
            Ok(state.start_pair())
        });
        drop(old?);
        Ok((Sender { channel: self }, Receiver { channel: self }))
    }

    /// The two ends of a fresh exchange, from an exclusive borrow of the channel: nothing to
    /// check at run time, since the borrow proves that no end of an earlier pair is alive (an
    /// end holds a borrow of the channel).
    ///
    /// On a small target, a `static mut` declared in cortex-m-rt's `#[entry]` function is such a
    /// borrow, `'static` and safe to take (see
    /// [`spsc::Channel::split_mut`](crate::sync::spsc::Channel::split_mut)).
    /// [`split`](Channel::split) takes `&self` and checks at run time instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let mut channel: Channel<u32> = Channel::new();
    /// let (tx, rx) = channel.split_mut();
    /// tx.send(5).unwrap();
    /// assert_eq!(ebbtide_core::block_on(rx), Ok(5));
    /// let (tx, rx) = channel.split_mut(); // again: the last pair is gone
    /// drop(tx);
    /// assert!(ebbtide_core::block_on(rx).is_err());
    /// ```
    pub fn split_mut(&mut self) -> (Sender<'_, T, M>, Receiver<'_, T, M>) {
        // No lock is held (the borrow is exclusive): what the last pair left is dropped here.
        drop(self.state.get_mut().start_pair());
        let channel: &Self = self;
        (Sender { channel }, Receiver { channel })
    }

    /// Whether an end of the current pair is alive, so [`split`](Channel::split) would panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// assert!(!channel.is_split());
    /// let ends = channel.split();
    /// assert!(channel.is_split());
    /// drop(ends);
    /// assert!(!channel.is_split());
    /// ```
    pub fn is_split(&self) -> bool {
        self.state.lock(|state| state.sender || state.receiver)
    }
}

impl<T> Default for Channel<T> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T, M: RawMutex> fmt::Debug for Channel<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sender, receiver, closed, full) = self
            .state
            .lock(|s| (s.sender, s.receiver, s.closed, s.value.is_some()));
        f.debug_struct("Channel")
            .field("sender", &sender)
            .field("receiver", &receiver)
            .field("closed", &closed)
            .field("has_value", &full)
            .finish()
    }
}

/// The sending end of a oneshot [`Channel`].
///
/// Dropping it without sending makes the receiver complete with [`RecvError`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::Channel;
///
/// let channel: Channel<u32> = Channel::new();
/// let (tx, rx) = channel.split();
/// drop(tx);
/// assert!(ebbtide_core::block_on(rx).is_err());
/// ```
pub struct Sender<'a, T, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, M>,
}

impl<'a, T, M: RawMutex> Sender<'a, T, M> {
    /// Sends `value` to the receiver, without waiting, and uses up the sender.
    ///
    /// # Errors
    ///
    /// Hands `value` back if the receiver was dropped or [closed](Receiver::close) the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<String> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// drop(rx);
    /// assert_eq!(tx.send("hello".into()), Err("hello".to_string()));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        // `send` releases the sender itself, in the same lock that stores the value.
        let this = ManuallyDrop::new(self);
        let (result, own, stale) = this.channel.state.lock(|state| {
            state.sender = false;
            let own = state.sender_waker.take();
            if state.closed {
                (Err(value), own, None)
            } else {
                // The slot is empty (one send per split, and `try_split` empties it); should it
                // ever not be, the old value is dropped after unlocking, not here.
                let stale = state.value.replace(value);
                (Ok(state.receiver_waker.take()), own, stale)
            }
        });
        // Our own waker (from `closed()`) and any stale value are dropped outside the lock.
        drop_kept(own);
        drop(stale);
        result.map(|receiver| {
            if let Some(waker) = receiver {
                waker.wake();
            }
        })
    }

    /// Whether the receiver is gone or [closed](Receiver::close) the channel, so
    /// [`send`](Sender::send) would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.channel.state.lock(|state| state.closed)
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close) the channel.
    ///
    /// Useful to stop computing an answer nobody waits for any more.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future changes nothing; call `closed` again to keep waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (mut tx, rx) = channel.split();
    /// drop(rx);
    /// ebbtide_core::block_on(tx.closed());
    /// assert!(tx.send(1).is_err());
    /// ```
    pub fn closed(&mut self) -> Closed<'_, 'a, T, M> {
        Closed { sender: self }
    }

    /// Polls whether the receiver is gone: the poll-based form of [`closed`](Sender::closed).
    ///
    /// Only the waker of the latest call is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::task::{Context, Poll, Waker};
    /// use ebbtide_core::sync::oneshot::Channel;
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (mut tx, rx) = channel.split();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(tx.poll_closed(&mut cx), Poll::Pending);
    /// drop(rx);
    /// assert_eq!(tx.poll_closed(&mut cx), Poll::Ready(()));
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        // A replaced waker is dropped outside the lock.
        lock_registering(&self.channel.state, cx.waker(), |state, waker| {
            if state.closed {
                return Ok(Poll::Ready(()));
            }
            waker.store(&mut state.sender_waker)?;
            Ok(Poll::Pending)
        })
    }
}

impl<T, M: RawMutex> Drop for Sender<'_, T, M> {
    fn drop(&mut self) {
        let (receiver, own) = self.channel.state.lock(|state| {
            state.sender = false;
            (state.receiver_waker.take(), state.sender_waker.take())
        });
        drop_kept(own);
        if let Some(waker) = receiver {
            waker.wake();
        }
    }
}

impl<T, M: RawMutex> fmt::Debug for Sender<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", self.channel)
            .finish()
    }
}

/// The future of [`Sender::closed`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::{Channel, Closed};
///
/// let channel: Channel<u32> = Channel::new();
/// let (mut tx, rx) = channel.split();
/// drop(rx);
/// let closed: Closed<'_, '_, u32> = tx.closed();
/// ebbtide_core::block_on(closed);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'s, 'a, T, M: RawMutex = CriticalSectionRawMutex> {
    sender: &'s mut Sender<'a, T, M>,
}

impl<T, M: RawMutex> Future for Closed<'_, '_, T, M> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.sender.poll_closed(cx)
    }
}

impl<T, M: RawMutex> fmt::Debug for Closed<'_, '_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}

/// The receiving end of a oneshot [`Channel`]; a future of the value.
///
/// Awaiting it gives `Ok(value)` once the sender sent, or [`RecvError`] if the sender was dropped
/// without sending (or the receiver [closed](Receiver::close) the channel before anything was
/// sent). Dropping it closes the channel: a later [`Sender::send`] hands its value back.
///
/// # Cancel safety
///
/// Awaiting `&mut receiver` (for example in [`select!`](crate::select)) is cancel safe: if that
/// is dropped before it completes, no value was taken; poll the receiver again to get it.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::Channel;
///
/// let channel: Channel<u32> = Channel::new();
/// let (tx, rx) = channel.split();
/// tx.send(9).unwrap();
/// assert_eq!(ebbtide_core::block_on(rx), Ok(9));
/// ```
pub struct Receiver<'a, T, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, M>,
}

impl<T, M: RawMutex> Receiver<'_, T, M> {
    /// Takes the value if it was sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing was sent yet and the sender is alive,
    /// [`TryRecvError::Closed`] if no value is there and none will come (the sender is gone or
    /// the channel was [closed](Receiver::close)), including after the value was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.channel.state.lock(|state| match state.value.take() {
            Some(value) => Ok(value),
            None if !state.sender || state.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        })
    }

    /// Closes the channel without dropping the receiver: a later [`Sender::send`] fails and
    /// hands its value back, and a sender waiting in [`Sender::closed`] wakes. A value sent
    /// before the call can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::oneshot::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        let sender = self.channel.state.lock(|state| {
            state.closed = true;
            state.sender_waker.take()
        });
        if let Some(waker) = sender {
            waker.wake();
        }
    }
}

impl<T, M: RawMutex> Future for Receiver<'_, T, M> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        // A replaced waker is dropped outside the lock.
        lock_registering(&self.channel.state, cx.waker(), |state, waker| {
            if let Some(value) = state.value.take() {
                return Ok(Poll::Ready(Ok(value)));
            }
            if !state.sender || state.closed {
                return Ok(Poll::Ready(Err(RecvError(()))));
            }
            waker.store(&mut state.receiver_waker)?;
            Ok(Poll::Pending)
        })
    }
}

impl<T, M: RawMutex> Drop for Receiver<'_, T, M> {
    fn drop(&mut self) {
        let (value, own, sender) = self.channel.state.lock(|state| {
            state.receiver = false;
            state.closed = true;
            (
                state.value.take(),
                state.receiver_waker.take(),
                state.sender_waker.take(),
            )
        });
        // An unreceived value and our stale waker are dropped outside the lock.
        drop((value, own));
        if let Some(waker) = sender {
            waker.wake();
        }
    }
}

impl<T, M: RawMutex> fmt::Debug for Receiver<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("channel", self.channel)
            .finish()
    }
}

/// The [`Receiver`] completed without a value: the sender was dropped without sending, or the
/// receiver [closed](Receiver::close) the channel first.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::Channel;
///
/// let channel: Channel<u32> = Channel::new();
/// let (tx, rx) = channel.split();
/// drop(tx);
/// let error = ebbtide_core::block_on(rx).unwrap_err();
/// assert!(error.to_string().contains("without sending"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending (or the receiver closed)")
    }
}

impl core::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::{Channel, TryRecvError};
///
/// let channel: Channel<u32> = Channel::new();
/// let (tx, mut rx) = channel.split();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing was sent yet; the sender may still send.
    Empty,
    /// No value is there and none will come.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("nothing was sent yet; await the receiver to wait"),
            TryRecvError::Closed => f.write_str("no value is there and none will come"),
        }
    }
}

impl core::error::Error for TryRecvError {}

/// [`Channel::try_split`] was called while an end of the previous pair was alive.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::oneshot::Channel;
///
/// let channel: Channel<u32> = Channel::new();
/// let _ends = channel.split();
/// let error = channel.try_split().unwrap_err();
/// assert!(error.to_string().contains("both ends"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadySplit(());

impl fmt::Display for AlreadySplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "oneshot::Channel::split was called while an end of the previous pair was alive: \
             split again once both ends are dropped (a sent Sender and an awaited Receiver are)",
        )
    }
}

impl core::error::Error for AlreadySplit {}
