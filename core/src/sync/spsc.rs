//! A bounded single-producer, single-consumer channel in a fixed ring of `N` slots: the
//! semantics of [`mpsc`](crate::sync::mpsc) for a channel with one sender, at less cost.
//!
//! A [`Channel`] holds the messages and has a `const` constructor, so it can be a `static` (or
//! live on the stack). [`Channel::split`] hands out its two ends once: one [`Sender`] and one
//! [`Receiver`], neither of which can be cloned, and whose `send` and `recv` take `&mut self`.
//! So at most one send and one receive wait at a time, and each side's waker has one slot:
//!
//! - no list of waiting senders, hence no wait-list node in a send's future (on 32-bit targets
//!   20 bytes less per `send`, 16 with `task-wakers-only`) and no fair hand-over of freed slots
//!   between senders;
//! - a channel's own state is two wakers, the ring's cursor and a word of flags (on 32-bit
//!   targets 28 bytes besides the slots, against `mpsc`'s 32; 20 against 28 with
//!   `task-wakers-only`);
//! - less code, and fewer instructions per message: on `bench/size`'s apps, whose channels each
//!   have one producer, and in `cargo xtask bench`'s `spsc_uncontended`, see `bench/PROFILE.md`.
//!
//! Otherwise it behaves as `mpsc` does (tokio's bounded `mpsc`):
//!
//! - [`Sender::send`] waits while the channel is full.
//! - The channel **closes** when the receiver is dropped or [`close`](Receiver::close)d (or
//!   [`Channel::close`] is called), or when the sender is dropped.
//! - Once closed by the receiving side, `send` and `try_send` fail and hand the message back
//!   ([`SendError`], [`TrySendError::Closed`]); messages already in the channel can still be
//!   received (unless the receiver was dropped, which drops them).
//! - [`Receiver::recv`] returns `None` once the channel is closed **and** drained.
//!
//! Use `mpsc` when several tasks send on one channel (its `Sender` is `Clone`, and waiting
//! senders are served in FIFO order); use this one when one task does.
//!
//! No user code runs under the channel's lock: wakers are cloned before it is taken (or under
//! it only when their clone runs no user code) and dropped or woken after it is released, and
//! messages are dropped outside it, so a foreign waker or a message's `Drop` may use the channel
//! again.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::spsc;
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//! static EVENTS: spsc::Channel<&str, 2> = spsc::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let (mut tx, mut rx) = EVENTS.split();
//! runner
//!     .spawner()
//!     .spawn(&POOL, async move {
//!         for event in ["a", "b", "c"] {
//!             tx.send(event).await.unwrap(); // waits while 2 are queued
//!         }
//!     }) // `tx` is dropped here: the channel closes
//!     .unwrap();
//! let events = runner.run_until(
//!     async move {
//!         let mut seen = Vec::new();
//!         while let Some(event) = rx.recv().await {
//!             seen.push(event);
//!         }
//!         seen
//!     },
//!     || {},
//! );
//! assert_eq!(events, ["a", "b", "c"]);
//! ```

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{ready, Context, Poll, Waker};

use crate::blocking_mutex::{
    BlockingMutex, BlockingMutexWith, CriticalSectionRawMutex, NoUserCode, RawMutex,
};
use crate::sync::mpsc::ring::{Cursor, Ring};
#[cfg(feature = "task-wakers-only")]
use crate::sync::waker::wake_if_foreign;
use crate::sync::waker::{clone_runs_no_user_code, drop_kept, store_pure, Kept};

pub use crate::sync::mpsc::{AlreadySplit, SendError, TryRecvError, TrySendError};

/// A bounded channel of up to `N` messages of type `T` between one sender and one receiver,
/// guarded by the lock `M`.
///
/// Get its ends with [`split`](Channel::split). See the [module docs](self) for the semantics.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::spsc::Channel;
///
/// // On the stack, driven by hand.
/// let channel: Channel<u8, 4> = Channel::new();
/// let (mut tx, mut rx) = channel.split();
/// tx.try_send(1).unwrap();
/// assert_eq!(channel.len(), 1);
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct Channel<T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    /// The [`Control`] in a mutex whose type does not name `T` and `N` (so that closing, which
    /// only needs it, is one non-generic function: see [`end`]), and under the same lock the
    /// messages' slots, where `Control::cursor` says. `NoUserCode` (see `BlockingMutex`): no
    /// closure of this lock runs user code (wakers are cloned only when their clone runs no user
    /// code, and dropped and woken outside it; no `T` is dropped inside).
    state: BlockingMutexWith<M, Control, Ring<T, N>>,
}

/// The lock of a channel's [`Control`], without its messages: what [`end`] takes.
type ControlLock<M> = BlockingMutex<M, Control, NoUserCode>;

/// A channel's state apart from its messages. Its methods are not generic over `T` and `N`: one
/// copy of their code serves every channel of a program.
struct Control {
    /// [`SPLIT`], [`CLOSED`] and [`SENDER_GONE`]; 0 for a new channel (a `static` one goes to
    /// `.bss`).
    flags: usize,
    /// The receiver's waker, while it waits for a message.
    receiver: Option<Kept>,
    /// The sender's waker, while it waits for a free slot.
    sender: Option<Kept>,
    /// Where the queued messages are in the ring.
    cursor: Cursor,
}

/// The ends were handed out.
const SPLIT: usize = 1;
/// Closed from the receiving side (`close`, or the `Receiver` dropped): sends fail.
const CLOSED: usize = 2;
/// The `Sender` was dropped: the receiver gets `None` once the queue is drained.
const SENDER_GONE: usize = 4;

impl Control {
    const fn new() -> Control {
        Control {
            flags: 0,
            receiver: None,
            sender: None,
            cursor: Cursor::new(),
        }
    }

    /// Closed, from either side: a send fails, and a receive on an empty queue ends.
    #[inline(always)]
    fn is_closed(&self) -> bool {
        self.flags & (CLOSED | SENDER_GONE) != 0
    }

    /// Closes the channel as `why` ([`CLOSED`] or [`SENDER_GONE`]) says, and takes both wakers
    /// to deal with after unlocking: a waiting side must see the close (the other one's waker,
    /// if any, is stale and gets a spurious wake, which costs a poll at most). With `forget`,
    /// also forgets the queued messages (only for messages without a destructor).
    #[inline(always)]
    fn close(&mut self, why: usize, forget: bool) -> [Option<Kept>; 2] {
        self.flags |= why;
        if forget {
            self.cursor.forget_all();
        }
        [self.receiver.take(), self.sender.take()]
    }
}

/// Closes the channel whose control `lock` guards, as `why` says (forgetting its messages with
/// `forget`: only for messages without a destructor), and wakes both sides, unlocked. Not
/// generic over the message type or the capacity: one copy for every channel's close and its
/// ends' drops.
#[inline(never)]
fn end<M: RawMutex>(lock: &ControlLock<M>, why: usize, forget: bool) {
    wake_both(lock.lock(|ctl| ctl.close(why, forget)));
}

/// Marks the channel whose control `lock` guards as split; `true` the first time. Not generic
/// over the message type or the capacity: one copy for every channel's split.
fn mark_split<M: RawMutex>(lock: &ControlLock<M>) -> bool {
    lock.lock(|ctl| {
        // A channel closed before it was split still splits (closed), as an `mpsc` one does.
        let first = ctl.flags & SPLIT == 0;
        ctl.flags |= SPLIT;
        first
    })
}

/// Wakes both wakers that [`Control::close`] took, after unlocking.
#[inline(always)]
fn wake_both([first, second]: [Option<Kept>; 2]) {
    // If the first wake panics (a foreign waker may), the second waker is dropped as the
    // panic unwinds: the side it belonged to is then not woken, as with any panicking wake.
    if let Some(waker) = first {
        waker.wake();
    }
    if let Some(waker) = second {
        waker.wake();
    }
}

/// What a poll found, under the lock, when it has to wait (a full queue for a send, an empty one
/// for a receive).
enum Wait {
    /// Closed: the send fails, the receive is `None`.
    Closed,
    /// The waker is registered; the waker it replaced (if any) is to be dropped unlocked.
    Registered(Option<Kept>),
    /// A foreign waker, whose clone may run user code: nothing changed.
    Foreign,
}

/// The side that must wait, under the lock: registers `waker` in `slot` (its side's), unless the
/// channel is closed or the waker is foreign. Not generic: out of line, one copy serves both
/// sides of every channel. Without foreign wakers (`task-wakers-only`) it is inlined instead:
/// in a task's own poll the waker is the task's, known, so the test for a foreign one and the
/// making of the kept waker fold away, leaving a compare and a store (on the apps of
/// `bench/size`, 36 and 40 bytes less than the call).
#[cfg_attr(not(feature = "task-wakers-only"), cold, inline(never))]
#[cfg_attr(feature = "task-wakers-only", inline(always))]
fn wait_locked(closed: bool, slot: &mut Option<Kept>, waker: &Waker) -> Wait {
    if closed {
        Wait::Closed
    } else if clone_runs_no_user_code(waker) {
        Wait::Registered(store_pure(slot, waker))
    } else {
        Wait::Foreign
    }
}

/// After [`wait_locked`], unlocked, without foreign wakers: whether the channel is closed;
/// otherwise the poll waits, and a foreign waker, which no primitive keeps with this feature, is
/// woken to poll again (see `sync::waker`). Inlined, as `wait_locked` is.
#[cfg(feature = "task-wakers-only")]
#[inline(always)]
fn waited_pure(waker: &Waker, wait: Wait) -> bool {
    match wait {
        Wait::Closed => return true,
        // The replaced waker is dropped here, unlocked (a pure one has no drop).
        Wait::Registered(replaced) => drop_kept(replaced),
        Wait::Foreign => {}
    }
    wake_if_foreign(waker);
    false
}

impl<T, const N: usize> Channel<T, N> {
    crate::loom_const_fn! {
        /// An empty channel guarded by a [`CriticalSectionRawMutex`]; see
        /// [`Channel::with_mutex`] for another lock.
        ///
        /// # Panics
        ///
        /// If `N` is `0` (at compile time for a `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::spsc::Channel;
        ///
        /// static SAMPLES: Channel<u32, 8> = Channel::new();
        /// assert_eq!(SAMPLES.capacity(), 8);
        /// ```
        pub fn new() -> Channel<T, N> {
            Channel::with_mutex()
        }
    }
}

impl<T, const N: usize, M: RawMutex> Channel<T, N, M> {
    crate::loom_const_fn! {
        /// An empty channel guarded by the lock `M`.
        ///
        /// # Panics
        ///
        /// If `N` is `0` (at compile time for a `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::spsc::Channel;
        ///
        /// let channel = Channel::<u32, 8, LocalRawMutex>::with_mutex();
        /// assert!(channel.is_empty());
        /// ```
        pub fn with_mutex() -> Channel<T, N, M> {
            assert!(N > 0, "an spsc::Channel needs a capacity N of at least 1");
            Channel {
                state: BlockingMutexWith::new(Control::new(), Ring::new()),
            }
        }
    }

    /// The channel's two ends: the [`Sender`] and the [`Receiver`].
    ///
    /// A channel is split once. When its ends are gone it stays closed for good.
    ///
    /// # Panics
    ///
    /// If the channel was split before; use [`try_split`](Channel::try_split) to get an error
    /// instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// static CHANNEL: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = CHANNEL.split();
    /// tx.try_send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn split(&self) -> (Sender<'_, T, N, M>, Receiver<'_, T, N, M>) {
        match self.try_split() {
            Ok(ends) => ends,
            Err(error) => panic!("{error}"),
        }
    }

    /// The channel's two ends, from an exclusive borrow of it: nothing to check at run time,
    /// since the borrow proves that no other end exists while these live (they hold it).
    ///
    /// On a small target, a `static mut` declared in cortex-m-rt's `#[entry]` function is such a
    /// borrow, `'static` and safe to take (the attribute turns it into a `&'static mut`: the
    /// function runs once). [`split`](Channel::split) takes `&self` and checks at run time
    /// instead (a lock and a flag: about 20 B of flash per channel on a Cortex-M).
    ///
    /// As with `split`, the ends close the channel for good when they go. The channel is not
    /// marked split (that would cost a store per channel): a later [`split`](Channel::split)
    /// succeeds, with ends of the closed channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let mut channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = channel.split_mut();
    /// tx.try_send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// drop((tx, rx));
    /// let (mut tx, _rx) = channel.split();
    /// assert!(tx.try_send(6).is_err()); // closed for good
    /// ```
    ///
    /// On a Cortex-M, `'static` ends with no check (not run here):
    ///
    /// ```ignore
    /// #[cortex_m_rt::entry]
    /// fn main() -> ! {
    ///     static mut SAMPLES: Channel<u32, 8> = Channel::new();
    ///     let (tx, rx) = SAMPLES.split_mut(); // `SAMPLES: &'static mut Channel<u32, 8>`
    ///     // spawn the producer with `tx` and the consumer with `rx`, then run the executor
    ///     # loop {}
    /// }
    /// ```
    pub fn split_mut(&mut self) -> (Sender<'_, T, N, M>, Receiver<'_, T, N, M>) {
        let channel: &Self = self;
        (Sender { channel }, Receiver { channel })
    }

    /// The channel's two ends, or [`AlreadySplit`] if they were handed out before.
    ///
    /// # Errors
    ///
    /// [`AlreadySplit`] on every call after the first.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let ends = channel.try_split();
    /// assert!(ends.is_ok());
    /// assert!(channel.try_split().is_err());
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn try_split(&self) -> Result<(Sender<'_, T, N, M>, Receiver<'_, T, N, M>), AlreadySplit> {
        if mark_split(self.state.mutex()) {
            Ok((Sender { channel: self }, Receiver { channel: self }))
        } else {
            Err(AlreadySplit(()))
        }
    }

    /// Closes the channel from the receiving side, as [`Receiver::close`] does: sends fail from
    /// now on, and the receiver gets the messages already queued, then `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::{Channel, TrySendError};
    ///
    /// static CHANNEL: Channel<u32, 4> = Channel::new();
    /// let (mut tx, mut rx) = CHANNEL.split();
    /// tx.try_send(1).unwrap();
    /// CHANNEL.close();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    /// ebbtide_core::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&self) {
        end(self.state.mutex(), CLOSED, false);
    }

    /// Whether the channel is closed: by the receiving side, or because the sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// assert!(!channel.is_closed());
    /// drop(tx);
    /// assert!(channel.is_closed());
    /// # drop(rx);
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.mutex().lock(|ctl| ctl.is_closed())
    }

    /// How many messages are queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, _rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(channel.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.state.mutex().lock(|ctl| ctl.cursor.len())
    }

    /// Whether no message is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// assert!(channel.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state.mutex().lock(|ctl| ctl.cursor.is_empty())
    }

    /// Whether every slot is taken: a `send` would wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (mut tx, _rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert!(channel.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.state.mutex().lock(|ctl| ctl.cursor.len() >= N)
    }

    /// The number of slots, `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 3> = Channel::new();
    /// assert_eq!(channel.capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }
}

/// Appends `value` to `queue` unless the channel is closed (`Err(Ok(value))`) or full
/// (`Err(Err(value))`); on success, takes the receiver's waker (to wake after unlocking).
#[inline(always)]
fn push<T, const N: usize>(
    ctl: &mut Control,
    queue: &mut Ring<T, N>,
    value: T,
) -> Result<Option<Kept>, Result<T, T>> {
    if ctl.is_closed() {
        return Err(Ok(value));
    }
    match queue.push_back(&mut ctl.cursor, value) {
        // Only a waiting receiver's slot is written.
        Ok(()) if ctl.receiver.is_some() => Ok(ctl.receiver.take()),
        Ok(()) => Ok(None),
        Err(value) => Err(Err(value)),
    }
}

/// Takes the oldest message out of `queue`, and the sender's waker (to wake after unlocking).
#[inline(always)]
fn pop<T, const N: usize>(ctl: &mut Control, queue: &mut Ring<T, N>) -> Option<(T, Option<Kept>)> {
    let message = queue.pop_front(&mut ctl.cursor)?;
    let sender = if ctl.sender.is_some() {
        ctl.sender.take()
    } else {
        None
    };
    Some((message, sender))
}

impl<T, const N: usize> Default for Channel<T, N> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for Channel<T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, closed) = self
            .state
            .mutex()
            .lock(|ctl| (ctl.cursor.len(), ctl.is_closed()));
        f.debug_struct("Channel")
            .field("len", &len)
            .field("capacity", &N)
            .field("closed", &closed)
            .finish()
    }
}

impl<T, const N: usize, M: RawMutex> Drop for Channel<T, N, M> {
    /// Drops the messages still queued (a channel dropped with its messages, or whose receiver
    /// was leaked).
    fn drop(&mut self) {
        let (ctl, queue) = self.state.get_mut();
        queue.clear(&mut ctl.cursor);
    }
}

/// The sending end of a [`Channel`]: there is one, and it cannot be cloned (use
/// [`mpsc`](crate::sync::mpsc) for several producers).
///
/// When it is dropped the channel closes, and the receiver gets `None` once it has drained the
/// queue.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::spsc::Channel;
///
/// let channel: Channel<u32, 4> = Channel::new();
/// let (mut tx, mut rx) = channel.split();
/// tx.try_send(1).unwrap();
/// drop(tx);
/// ebbtide_core::block_on(async {
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Sender<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
}

impl<'a, T, const N: usize, M: RawMutex> Sender<'a, T, N, M> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// # Errors
    ///
    /// [`SendError`], carrying `value` back, if the channel is closed by the receiving side before
    /// the message went in.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in tokio's sense: if the future is dropped before it completes, the message
    /// was not sent (it is dropped with the future).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (mut tx, mut rx) = channel.split();
    /// ebbtide_core::block_on(async {
    ///     tx.send(1).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// });
    /// ```
    pub fn send(&mut self, value: T) -> SendFuture<'_, T, N, M> {
        SendFuture {
            channel: self.channel,
            value: Some(value),
            _sender: PhantomData,
        }
    }

    /// Sends `value` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full, [`TrySendError::Closed`] if it is closed by
    /// the receiving side; both carry `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::{Channel, TrySendError};
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (mut tx, rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&mut self, value: T) -> Result<(), TrySendError<T>> {
        match self
            .channel
            .state
            .lock(|ctl, queue| push(ctl, queue, value))
        {
            Ok(receiver) => {
                if let Some(waker) = receiver {
                    waker.wake();
                }
                Ok(())
            }
            Err(Ok(value)) => Err(TrySendError::Closed(value)),
            Err(Err(value)) => Err(TrySendError::Full(value)),
        }
    }

    /// Whether the channel is closed (sends would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// The channel this sender feeds.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, _rx) = channel.split();
    /// assert_eq!(tx.channel().capacity(), 2);
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

impl<T, const N: usize, M: RawMutex> Drop for Sender<'_, T, N, M> {
    fn drop(&mut self) {
        end(self.channel.state.mutex(), SENDER_GONE, false);
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for Sender<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", self.channel)
            .finish()
    }
}

/// The future of [`Sender::send`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::spsc::{Channel, SendFuture};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (mut tx, _rx) = channel.split();
/// let send: SendFuture<'_, u32, 1> = tx.send(1);
/// ebbtide_core::block_on(send).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
    /// The message until it goes into the queue (or back to the caller); `None` once the future
    /// completed.
    value: Option<T>,
    /// The sender is borrowed mutably: one send at a time, so one waker slot is enough.
    _sender: PhantomData<&'a mut ()>,
}

// The message is never pinned: it is moved into the queue (or back out) by value. So the future
// may move between polls whatever `T` is.
impl<T, const N: usize, M: RawMutex> Unpin for SendFuture<'_, T, N, M> {}

impl<T, const N: usize, M: RawMutex> Future for SendFuture<'_, T, N, M> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.value.is_none() {
            ready!(crate::task::poll_budget(cx));
            panic!("`SendFuture` polled after it completed")
        }
        ready!(crate::task::poll_budget(cx));
        let waker = cx.waker();
        let Some(value) = this.value.take() else {
            unreachable!("checked above")
        };
        let pushed = this.channel.state.lock(|ctl, queue| {
            push(ctl, queue, value).map_err(|refused| {
                refused.map_err(|value| {
                    let wait = wait_locked(false, &mut ctl.sender, waker);
                    (value, wait)
                })
            })
        });
        match pushed {
            Ok(receiver) => {
                if let Some(waker) = receiver {
                    waker.wake();
                }
                Poll::Ready(Ok(()))
            }
            Err(Ok(value)) => Poll::Ready(Err(SendError(value))),
            Err(Err((value, wait))) => {
                this.value = Some(value);
                this.waited(waker, wait)
            }
        }
    }
}

impl<T, const N: usize, M: RawMutex> SendFuture<'_, T, N, M> {
    /// A full channel, after unlocking: the send waits (`wait` is never `Closed`: the push
    /// tested that first).
    #[cfg(feature = "task-wakers-only")]
    #[inline(always)]
    fn waited(&mut self, waker: &Waker, wait: Wait) -> Poll<Result<(), SendError<T>>> {
        let _closed = waited_pure(waker, wait);
        Poll::Pending
    }

    /// A full channel, after unlocking: drops the replaced waker, or takes the foreign waker's
    /// way (`wait` is never `Closed`: the push tested that first).
    #[cfg(not(feature = "task-wakers-only"))]
    #[inline(always)]
    fn waited(&mut self, waker: &Waker, wait: Wait) -> Poll<Result<(), SendError<T>>> {
        match wait {
            Wait::Closed => unreachable!("the push tested for a close first"),
            // The replaced waker (maybe foreign) is dropped here, unlocked.
            Wait::Registered(replaced) => {
                drop_kept(replaced);
                Poll::Pending
            }
            Wait::Foreign => self.poll_foreign(waker),
        }
    }

    /// The send for a foreign waker, whose clone may run user code: it is cloned before the
    /// lock is taken, and dropped after it is released if it was not needed (see `sync::waker`).
    #[cfg(not(feature = "task-wakers-only"))]
    #[cold]
    #[inline(never)]
    fn poll_foreign(&mut self, waker: &Waker) -> Poll<Result<(), SendError<T>>> {
        let Some(message) = self.value.take() else {
            unreachable!("`poll` put the message back before it came here")
        };
        let mut spare = Some(waker.clone());
        let (step, replaced) =
            self.channel
                .state
                .lock(|ctl, queue| match push(ctl, queue, message) {
                    Ok(receiver) => (Foreign::Sent(receiver), None),
                    Err(Ok(message)) => (Foreign::Refused(message), None),
                    Err(Err(message)) => (
                        Foreign::Waiting(message),
                        store(&mut ctl.sender, &mut spare),
                    ),
                });
        // Unlocked: the waker ours replaced, or the clone that was not needed.
        drop(replaced);
        drop(spare);
        match step {
            Foreign::Sent(receiver) => {
                if let Some(waker) = receiver {
                    waker.wake();
                }
                Poll::Ready(Ok(()))
            }
            Foreign::Refused(message) => Poll::Ready(Err(SendError(message))),
            Foreign::Waiting(message) => {
                self.value = Some(message);
                Poll::Pending
            }
        }
    }
}

/// Puts the clone in `spare` into `slot`, unless the waker there already wakes the same task;
/// returns the waker it replaced. Under the lock: moves wakers, runs none of their code (both
/// are dropped by the caller, unlocked).
#[cfg(not(feature = "task-wakers-only"))]
fn store(slot: &mut Option<Kept>, spare: &mut Option<Waker>) -> Option<Kept> {
    match (slot.as_ref(), spare.as_ref()) {
        (Some(old), Some(new)) if old.will_wake(new) => None,
        _ => match spare.take() {
            Some(new) => slot.replace(new),
            None => None,
        },
    }
}

/// What [`SendFuture::poll_foreign`] did under the lock.
#[cfg(not(feature = "task-wakers-only"))]
enum Foreign<T> {
    /// The message went in; the receiver's waker, to wake after unlocking.
    Sent(Option<Kept>),
    /// The channel is closed: the message comes back.
    Refused(T),
    /// The channel is full and the waker is registered; the message goes back into the future.
    Waiting(T),
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for SendFuture<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}

/// The receiving end of a [`Channel`]: there is one.
///
/// Dropping it closes the channel and drops the messages still queued; a waiting send gets its
/// message back in a [`SendError`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::spsc::Channel;
///
/// let channel: Channel<u32, 2> = Channel::new();
/// let (mut tx, mut rx) = channel.split();
/// tx.try_send(7).unwrap();
/// assert_eq!(ebbtide_core::block_on(rx.recv()), Some(7));
/// ```
pub struct Receiver<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
}

impl<'a, T, const N: usize, M: RawMutex> Receiver<'a, T, N, M> {
    /// Receives the next message, waiting while the channel is empty.
    ///
    /// Returns `None` once the channel is closed and every queued message was received.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// ebbtide_core::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> RecvFuture<'_, T, N, M> {
        RecvFuture {
            channel: self.channel,
            _receiver: PhantomData,
        }
    }

    /// Polls for the next message: the poll-based form of [`recv`](Receiver::recv).
    ///
    /// `Ready(None)` once the channel is closed and drained. Only the waker of the latest call is
    /// woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::task::{Context, Poll, Waker};
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = channel.split();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.try_send(3).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(3)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        poll_recv(self.channel, cx)
    }

    /// Takes a message if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is queued, [`TryRecvError::Disconnected`] if none is queued
    /// and the channel is closed (none ever will be).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = channel.split();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let popped = self.channel.state.lock(|ctl, queue| match pop(ctl, queue) {
            Some(popped) => Ok(popped),
            None if ctl.is_closed() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        });
        popped.map(|(message, sender)| {
            if let Some(waker) = sender {
                waker.wake();
            }
            message
        })
    }

    /// Closes the channel without dropping the receiver: sends fail from now on (a waiting send
    /// gets its message back), and the messages already queued can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (mut tx, mut rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.channel.close();
    }

    /// Whether the channel is closed (by the receiving side, or because the sender is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// The channel this receiver drains.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::spsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (_tx, rx) = channel.split();
    /// assert!(rx.channel().is_empty());
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

/// A receive's poll: one lock on the ready path; an empty channel goes through the non-generic
/// [`wait_locked`].
fn poll_recv<T, const N: usize, M: RawMutex>(
    channel: &Channel<T, N, M>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    ready!(crate::task::poll_budget(cx));
    let waker = cx.waker();
    // Without foreign wakers: the locked part gives the same three things on every path, so
    // that they stay in registers (an enum whose variants place them differently went through
    // the stack).
    #[cfg(feature = "task-wakers-only")]
    {
        let (message, other, closed) = channel.state.lock(|ctl, queue| match pop(ctl, queue) {
            Some((message, sender)) => (Some(message), sender, false),
            None => match wait_locked(ctl.is_closed(), &mut ctl.receiver, waker) {
                Wait::Closed => (None, None, true),
                Wait::Registered(replaced) => (None, replaced, false),
                Wait::Foreign => (None, None, false),
            },
        });
        if let Some(message) = message {
            if let Some(sender) = other {
                sender.wake();
            }
            return Poll::Ready(Some(message));
        }
        // The replaced waker is dropped here, unlocked (a pure one has no drop).
        drop_kept(other);
        if closed {
            return Poll::Ready(None);
        }
        wake_if_foreign(waker);
        Poll::Pending
    }
    #[cfg(not(feature = "task-wakers-only"))]
    {
        let step = channel.state.lock(|ctl, queue| match pop(ctl, queue) {
            Some(popped) => Ok(popped),
            None => Err(wait_locked(ctl.is_closed(), &mut ctl.receiver, waker)),
        });
        match step {
            Ok((message, sender)) => {
                if let Some(waker) = sender {
                    waker.wake();
                }
                Poll::Ready(Some(message))
            }
            Err(Wait::Closed) => Poll::Ready(None),
            // The replaced waker (maybe foreign) is dropped here, unlocked.
            Err(Wait::Registered(replaced)) => {
                drop_kept(replaced);
                Poll::Pending
            }
            Err(Wait::Foreign) => poll_recv_foreign(channel, waker),
        }
    }
}

/// [`poll_recv`] for a receiver polled with a foreign waker, whose clone may run user code: it
/// is cloned before the lock is taken, and dropped after it is released if it was not needed
/// (see `sync::waker`).
#[cfg(not(feature = "task-wakers-only"))]
#[cold]
#[inline(never)]
fn poll_recv_foreign<T, const N: usize, M: RawMutex>(
    channel: &Channel<T, N, M>,
    waker: &Waker,
) -> Poll<Option<T>> {
    let mut spare = Some(waker.clone());
    let (step, replaced) = channel.state.lock(|ctl, queue| match pop(ctl, queue) {
        Some(popped) => (Poll::Ready(Some(popped)), None),
        None if ctl.is_closed() => (Poll::Ready(None), None),
        None => (Poll::Pending, store(&mut ctl.receiver, &mut spare)),
    });
    // Unlocked: the waker ours replaced, or the clone that was not needed.
    drop(replaced);
    drop(spare);
    step.map(|popped| {
        popped.map(|(message, sender)| {
            if let Some(waker) = sender {
                waker.wake();
            }
            message
        })
    })
}

impl<T, const N: usize, M: RawMutex> Drop for Receiver<'_, T, N, M> {
    fn drop(&mut self) {
        // Messages without a destructor are forgotten all at once, under the lock that closes
        // the channel (the same non-generic code for every channel).
        let lock = self.channel.state.mutex();
        if !core::mem::needs_drop::<T>() {
            end(lock, CLOSED, true);
            return;
        }
        end(lock, CLOSED, false);
        // Drop the queued messages one at a time, each outside the lock.
        while let Some(message) = self
            .channel
            .state
            .lock(|ctl, queue| queue.pop_front(&mut ctl.cursor))
        {
            drop(message);
        }
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for Receiver<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("channel", self.channel)
            .finish()
    }
}

/// The future of [`Receiver::recv`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::spsc::{Channel, RecvFuture};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (mut tx, mut rx) = channel.split();
/// tx.try_send(1).unwrap();
/// let recv: RecvFuture<'_, u32, 1> = rx.recv();
/// assert_eq!(ebbtide_core::block_on(recv), Some(1));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
    /// The receiver is borrowed mutably: one receive at a time.
    _receiver: PhantomData<&'a mut ()>,
}

impl<T, const N: usize, M: RawMutex> Future for RecvFuture<'_, T, N, M> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        poll_recv(self.channel, cx)
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for RecvFuture<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::blocking_mutex::LocalRawMutex;

    #[test]
    fn the_flags_keep_split_and_both_closes_apart() {
        let channel: Channel<u8, 2, LocalRawMutex> = Channel::with_mutex();
        assert!(!channel.is_closed(), "an unsplit channel is open");
        let (tx, rx) = channel.split();
        assert!(channel.try_split().is_err(), "split once");
        assert!(!channel.is_closed());
        drop(tx);
        assert!(channel.is_closed(), "the sender's drop closes");
        assert!(channel.try_split().is_err(), "still split");
        drop(rx);
        channel.state.mutex().lock(|ctl| {
            assert_eq!(ctl.flags, SPLIT | CLOSED | SENDER_GONE);
        });
    }
}
