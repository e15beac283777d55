//! The errors of the [`mpsc`](super) channel: each gives the message back where there is one.

use core::fmt;

/// [`Sender::send`](super::Sender::send) failed because the channel was closed; the message is given back.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::{Channel, SendError};
///
/// let channel: Channel<String, 1> = Channel::new();
/// let (tx, rx) = channel.split();
/// drop(rx);
/// let SendError(message) = ebbtide_core::block_on(tx.send("hi".into())).unwrap_err();
/// assert_eq!(message, "hi");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::SendError;
    ///
    /// assert_eq!(SendError(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed: its receiver was dropped or closed it")
    }
}

impl<T> core::error::Error for SendError<T> {}

/// Why [`Sender::try_send`](super::Sender::try_send) failed; either way the message is given back.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::{Channel, TrySendError};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (tx, _rx) = channel.split();
/// tx.try_send(1).unwrap();
/// match tx.try_send(2) {
///     Err(TrySendError::Full(message)) => assert_eq!(message, 2),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// Every slot holds a message (or other senders wait for one).
    Full(T),
    /// The channel is closed by the receiving side.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::TrySendError;
    ///
    /// assert_eq!(TrySendError::Full(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => {
                f.write_str("the channel is full; await `send` to wait for a free slot")
            }
            TrySendError::Closed(_) => {
                f.write_str("the channel is closed: its receiver was dropped or closed it")
            }
        }
    }
}

impl<T> core::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) found no message.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::{Channel, TryRecvError};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (_tx, mut rx) = channel.split();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message is queued now.
    Empty,
    /// No message is queued and the channel is closed: none will come.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty; await `recv` to wait"),
            TryRecvError::Disconnected => f.write_str("the channel is empty and closed"),
        }
    }
}

impl core::error::Error for TryRecvError {}

/// [`Channel::try_split`](super::Channel::try_split) was called on a channel that was split before.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::Channel;
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let _ends = channel.split();
/// let error = channel.try_split().unwrap_err();
/// assert!(error.to_string().contains("split once"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadySplit(pub(in crate::sync) ());

impl fmt::Display for AlreadySplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "Channel::split was called twice: a channel is split once; pass its ends to the \
             tasks that use them (an mpsc Sender is cloned for more producers)",
        )
    }
}

impl core::error::Error for AlreadySplit {}
