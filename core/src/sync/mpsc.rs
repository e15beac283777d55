//! A bounded multi-producer, single-consumer channel in a fixed ring of `N` slots.
//!
//! A [`Channel`] holds the messages; it has a `const` constructor, so it can be a `static`, or it
//! can live on the stack. [`Channel::split`] hands out its two ends once: a [`Sender`] (`Clone`,
//! one per producer) and the one [`Receiver`]. The semantics are tokio's bounded `mpsc`:
//!
//! - [`Sender::send`] waits while the channel is full; waiting senders are served in FIFO order:
//!   each slot the receiver frees is set aside for the oldest waiting sender, which puts its
//!   message in when it is next polled. `try_send` never takes a slot set aside this way.
//! - The channel **closes** when the receiver is dropped or [`close`](Receiver::close)d (or
//!   [`Channel::close`] is called), or when the last `Sender` is dropped.
//! - Once closed by the receiver side, `send` and `try_send` fail and hand the message back
//!   ([`SendError`], [`TrySendError::Closed`]); messages already in the channel can still be
//!   received (unless the receiver was dropped, which drops them).
//! - [`Receiver::recv`] returns `None` once the channel is closed **and** drained.
//!
//! No user code runs under the channel's lock: wakers are cloned before it is taken and dropped
//! or woken after it is released, and messages are dropped outside it, so a foreign waker or a
//! message's `Drop` may use the channel again.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::mpsc;
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//! static EVENTS: mpsc::Channel<&str, 2> = mpsc::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let (tx, mut rx) = EVENTS.split();
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
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, NoUserCode, RawMutex};
use crate::sync::wait_list::WaitList;
#[cfg(not(feature = "task-wakers-only"))]
use crate::sync::waker::lock_registering;
use crate::sync::waker::{clone_runs_no_user_code, drop_kept, store_pure, Kept};

mod error;
pub(in crate::sync) mod ring;
mod send;
use ring::{Cursor, Ring};

pub use error::{AlreadySplit, SendError, TryRecvError, TrySendError};
pub use send::SendFuture;

/// A bounded channel of up to `N` messages of type `T`, guarded by the lock `M`.
///
/// Get its ends with [`split`](Channel::split). See the [module docs](self) for the semantics.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::Channel;
///
/// // On the stack, driven by hand.
/// let channel: Channel<u8, 4> = Channel::new();
/// let (tx, mut rx) = channel.split();
/// tx.try_send(1).unwrap();
/// assert_eq!(channel.len(), 1);
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct Channel<T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    // `NoUserCode`: no closure of this lock runs user code (wakers are cloned only when their clone
    // runs no user code, and dropped and woken outside it; no `T` is dropped inside): see
    // `BlockingMutex`.
    state: BlockingMutex<M, State<T, N>, NoUserCode>,
}

/// `repr(C)`, the part that does not depend on `T` and `N` first: code that only touches that
/// part (a `Sender`'s drop, a receiver's drop for messages without a destructor, which only
/// resets the ring's cursor, the count a send's non-generic half reads) reads the same offsets in
/// every channel, so the copies made for channels of different message types are the same code,
/// and the inlined ones need no offset of their own (on small targets that is flash, see
/// `bench/PROFILE.md`; rustc's merging of identical functions, where a target has it, keeps one
/// copy). The ring's slots keep the compiler's layout (a `repr(C)` ring, its indices before the
/// slots, cost x86 an instruction per message for the slots' offset).
#[repr(C)]
struct State<T, const N: usize> {
    /// Everything but the messages (their cursor among it: see [`ring`]).
    ctl: Control,
    /// The messages' slots, where `ctl.cursor` says.
    queue: Ring<T, N>,
}

/// A channel's state apart from its messages: who holds an end, who waits, what was promised.
///
/// Its methods are not generic over `T` and `N` (the queue's length and capacity come in as
/// values), so a program with channels of several message types has one copy of this code, not
/// one per type: on small targets that is flash (see `bench/PROFILE.md`).
///
/// Two words hold four facts, so that a channel is no larger than the messages and the wakers
/// need (48 bytes for four `u32`s on 32-bit targets, as Embassy's): `senders` says whether the
/// channel was split, and `reserved` whether it is closed.
struct Control {
    /// [`SPLIT`] plus the live `Sender`s once split; 0 before (so that a new channel is all
    /// zeros, and a `static` one goes to `.bss` rather than flash).
    senders: usize,
    /// Free slots promised to waiting senders that were granted one but have not yet been
    /// polled to put their message in (`cursor.len() + reserved() <= N`), and the [`CLOSED`] bit:
    /// closed from the receiving side (`close`, or the `Receiver` dropped). The count never
    /// reaches the bit: it is at most `N`, which [`Channel::new`] checks is below it.
    reserved: usize,
    /// The receiver's waker, while it waits for a message.
    receiver: Option<Kept>,
    /// Senders waiting for a slot, oldest first. Non-empty only while no slot is free.
    senders_waiting: WaitList<Turn>,
    /// Where the queued messages are in the ring: here rather than in the ring, at an offset
    /// that does not depend on `T` and `N`, so that what only counts the messages, or forgets
    /// them all, is the same code in every channel (see [`ring`]).
    cursor: Cursor,
}

impl<T, const N: usize> State<T, N> {
    /// How many messages are queued.
    #[inline(always)]
    fn len(&self) -> usize {
        self.ctl.cursor.len()
    }

    /// Appends a message, or gives it back if every slot is taken.
    #[inline(always)]
    fn push_back(&mut self, value: T) -> Result<(), T> {
        self.queue.push_back(&mut self.ctl.cursor, value)
    }

    /// Takes the oldest message out.
    #[inline(always)]
    fn pop_front(&mut self) -> Option<T> {
        self.queue.pop_front(&mut self.ctl.cursor)
    }

    /// Whether a new message may take a slot now without jumping the queue.
    #[inline]
    fn has_free_slot(&self) -> bool {
        self.ctl.has_free_slot(N)
    }

    /// If a slot is free and a sender waits, grants the slot to the oldest waiting sender and
    /// returns its waker (to wake after unlocking).
    #[inline]
    fn grant_free_slot(&mut self) -> Option<Kept> {
        // No sender waits (the common case): nothing to grant, and no need to count the queue.
        if self.ctl.senders_waiting.is_empty() {
            return None;
        }
        self.ctl.grant_free_slot(N)
    }
}

impl<T, const N: usize> Drop for State<T, N> {
    /// Drops the messages still queued (a channel dropped with its messages, or whose receiver
    /// was leaked).
    fn drop(&mut self) {
        self.queue.clear(&mut self.ctl.cursor);
    }
}

/// What [`Control::senders`] counts from once the channel is split: it is 0 before.
const SPLIT: usize = 1;

/// The bit of [`Control::reserved`] that says the channel was closed from the receiving side.
const CLOSED: usize = 1 << (usize::BITS - 1);

impl Control {
    /// The state of a new channel: not split, open, nothing promised, nobody waiting.
    const fn new() -> Control {
        Control {
            senders: 0,
            reserved: 0,
            receiver: None,
            senders_waiting: WaitList::new(),
            cursor: Cursor::new(),
        }
    }

    /// Whether a new message may take a slot now without jumping the queue, of `capacity`
    /// slots.
    #[inline(always)]
    fn has_free_slot(&self, capacity: usize) -> bool {
        let len = self.cursor.len();
        // `reserved` as a number: with `CLOSED` set the sum reaches `capacity` (and no further
        // than `CLOSED + capacity`, as `len + reserved() <= capacity`: it cannot wrap), so a
        // closed channel has no free slot and callers need not test `closed` first. The count
        // first: the common send's loads come together (x86: one instruction fewer per
        // uncontended message, callgrind).
        len + self.reserved < capacity && self.senders_waiting.is_empty()
    }

    /// Closed from the receiving side.
    #[inline(always)]
    fn closed(&self) -> bool {
        self.reserved & CLOSED != 0
    }

    /// Free slots promised to waiting senders (see [`reserved`](Control::reserved)).
    #[inline(always)]
    fn reserved(&self) -> usize {
        self.reserved & !CLOSED
    }

    fn is_closed(&self) -> bool {
        self.closed() || self.senders == SPLIT
    }

    /// [`State::grant_free_slot`] once a sender waits, of `capacity` slots.
    #[inline(never)]
    fn grant_free_slot(&mut self, capacity: usize) -> Option<Kept> {
        // With `CLOSED` set, the sum reaches `capacity` whatever the count: nothing is granted.
        if self.cursor.len() + self.reserved >= capacity {
            return None;
        }
        let reserved = &mut self.reserved;
        self.senders_waiting
            .pop_front_with(|w| {
                w.payload = Turn::Granted;
                *reserved += 1;
                w.waker.take()
            })
            .flatten()
    }

    /// `split` under the lock: whether this was the first call.
    fn split(&mut self) -> bool {
        let first = self.senders == 0;
        if first {
            self.senders = SPLIT + 1;
        }
        first
    }

    /// A `Sender` cloned, under the lock: `false` (and nothing counted) if the count is full.
    fn add_sender(&mut self) -> bool {
        match self.senders.checked_add(1) {
            Some(senders) => {
                self.senders = senders;
                true
            }
            None => false,
        }
    }

    /// One step of `close` under the lock: marks the channel closed, and takes the next waker
    /// to wake after unlocking: the receiver's, then each waiting sender's in turn (its node
    /// unlinked and told `Closed`). `None` once nobody is left to wake. Nobody starts waiting on a
    /// closed channel (a send is refused, a receive on an empty one ends), so the steps end.
    ///
    /// One waker per step, not a batch of them: a close is rare, and its loop is then a lock, a
    /// call and a wake, without a batch's array on the stack or its code (on a microcontroller,
    /// about 150 bytes of flash of a program that drops a channel's end).
    #[inline(never)]
    fn close_step(&mut self) -> Option<Option<Kept>> {
        self.reserved |= CLOSED;
        if let Some(receiver) = self.receiver.take() {
            return Some(Some(receiver));
        }
        self.senders_waiting.pop_front_with(|w| {
            w.payload = Turn::Closed;
            w.waker.take()
        })
    }

    /// A `Sender` dropped, under the lock: the receiver's waker when it was the last one.
    fn drop_sender(&mut self) -> Option<Kept> {
        self.senders -= 1;
        if self.senders == SPLIT {
            self.receiver.take()
        } else {
            None
        }
    }
}

/// What the channel tells a waiting sender, in its node: `Queued` → `Granted` or `Closed`. Written
/// under the lock by whoever unlinks the node (the receiver granting a slot, or `close`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// Linked, waiting for a slot.
    Queued,
    /// Unlinked by the receiver, which reserved a slot for this sender (counted in `reserved`).
    Granted,
    /// Unlinked by `close`: the send fails.
    Closed,
}

impl<T, const N: usize> Channel<T, N> {
    crate::loom_const_fn! {
        /// An empty channel guarded by a [`CriticalSectionRawMutex`]; see
        /// [`Channel::with_mutex`] for another lock.
        ///
        /// # Panics
        ///
        /// If `N` is `0`, or not below 2<sup>`usize::BITS` - 1</sup> (at compile time for a
        /// `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::mpsc::Channel;
        ///
        /// static JOBS: Channel<u32, 8> = Channel::new();
        /// assert_eq!(JOBS.capacity(), 8);
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
        /// If `N` is `0`, or not below 2<sup>`usize::BITS` - 1</sup> (at compile time for a
        /// `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::mpsc::Channel;
        ///
        /// let channel = Channel::<u32, 8, LocalRawMutex>::with_mutex();
        /// assert!(channel.is_empty());
        /// ```
        pub fn with_mutex() -> Channel<T, N, M> {
            assert!(N > 0, "an mpsc::Channel needs a capacity N of at least 1");
            // The count of promised slots (at most `N`) must stay below `CLOSED`.
            assert!(N < CLOSED, "an mpsc::Channel holds fewer than 2^(usize::BITS - 1) messages");
            Channel {
                state: BlockingMutex::new(State {
                    queue: Ring::new(),
                    ctl: Control::new(),
                }),
            }
        }
    }

    /// The channel's two ends: the first [`Sender`] (clone it for more producers) and the
    /// [`Receiver`].
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// static CHANNEL: Channel<u32, 1> = Channel::new();
    /// let (tx, mut rx) = CHANNEL.split();
    /// let tx2 = tx.clone();
    /// tx2.try_send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// # drop(tx);
    /// ```
    pub fn split(&self) -> (Sender<'_, T, N, M>, Receiver<'_, T, N, M>) {
        match self.try_split() {
            Ok(ends) => ends,
            Err(error) => panic!("{error}"),
        }
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let ends = channel.try_split();
    /// assert!(ends.is_ok());
    /// assert!(channel.try_split().is_err());
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn try_split(&self) -> Result<(Sender<'_, T, N, M>, Receiver<'_, T, N, M>), AlreadySplit> {
        let first = self.state.lock(|state| state.ctl.split());
        if first {
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
    /// use ebbtide_core::sync::mpsc::{Channel, TrySendError};
    ///
    /// static CHANNEL: Channel<u32, 4> = Channel::new();
    /// let (tx, mut rx) = CHANNEL.split();
    /// tx.try_send(1).unwrap();
    /// CHANNEL.close();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    /// ebbtide_core::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&self) {
        self.close_and_forget(false);
    }

    /// [`close`](Channel::close); with `forget`, also empties the queue under the same lock
    /// (only for messages without a destructor: nothing user-defined runs under the lock).
    fn close_and_forget(&self, forget: bool) {
        debug_assert!(!forget || !core::mem::needs_drop::<T>());
        // One waker per lock (see `Control::close_step`), each woken unlocked. The queue is
        // emptied under the lock that closes the channel (the first step; after it no message
        // comes in, and emptying an empty queue again is one store).
        while let Some(waker) = self.state.lock(|state| {
            if forget {
                // No destructor to run: the same code for every channel (see `ring`).
                state.ctl.cursor.forget_all();
            }
            state.ctl.close_step()
        }) {
            if let Some(waker) = waker {
                // A waker that panics (a foreign one may) leaves nobody waiting: while it
                // unwinds, the guard's drop goes on with the close. (Where panics abort, the
                // guard is no code at all.)
                let rest = CloseRest(self, forget);
                waker.wake();
                core::mem::forget(rest);
            }
        }
    }

    /// Whether the channel is closed: by the receiving side, or because every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// assert!(!channel.is_closed());
    /// drop(tx);
    /// assert!(channel.is_closed());
    /// # drop(rx);
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock(|state| state.ctl.is_closed())
    }

    /// How many messages are queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, _rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(channel.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock(|state| state.len())
    }

    /// Whether no message is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// assert!(channel.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state.lock(|state| state.ctl.cursor.is_empty())
    }

    /// Whether no slot is free: a `send` would wait. (Slots promised to waiting senders count as
    /// taken.)
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, _rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert!(channel.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.state
            .lock(|state| state.len() + state.ctl.reserved() >= N)
    }

    /// The number of slots, `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 3> = Channel::new();
    /// assert_eq!(channel.capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Takes the oldest message and grants the freed slot to the oldest waiting sender.
    /// Returns the message and that sender's waker (to wake after unlocking).
    fn pop_locked(state: &mut State<T, N>) -> Option<(T, Option<Kept>)> {
        let message = state.pop_front()?;
        Some((message, state.grant_free_slot()))
    }
}

/// The rest of a close whose wake unwound: see [`Channel::close_and_forget`].
struct CloseRest<'a, T, const N: usize, M: RawMutex>(&'a Channel<T, N, M>, bool);

impl<T, const N: usize, M: RawMutex> Drop for CloseRest<'_, T, N, M> {
    fn drop(&mut self) {
        self.0.close_and_forget(self.1);
    }
}

impl<T, const N: usize> Default for Channel<T, N> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for Channel<T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, closed) = self.state.lock(|s| (s.len(), s.ctl.is_closed()));
        f.debug_struct("Channel")
            .field("len", &len)
            .field("capacity", &N)
            .field("closed", &closed)
            .finish()
    }
}

/// The sending end of a [`Channel`]; clone it for more producers.
///
/// When the last `Sender` is dropped the channel closes, and the receiver gets `None` once it has
/// drained the queue.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::Channel;
///
/// let channel: Channel<u32, 4> = Channel::new();
/// let (tx, mut rx) = channel.split();
/// let tx2 = tx.clone();
/// tx.try_send(1).unwrap();
/// tx2.try_send(2).unwrap();
/// drop((tx, tx2));
/// ebbtide_core::block_on(async {
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Sender<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
}

impl<'a, T, const N: usize, M: RawMutex> Sender<'a, T, N, M> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// Waiting senders are served in FIFO order.
    ///
    /// # Errors
    ///
    /// [`SendError`], carrying `value` back, if the channel is closed by the receiving side before
    /// the message went in.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in tokio's sense: if the future is dropped before it completes, the message
    /// was not sent (it is dropped with the future). Its place in the queue of waiting senders is
    /// given up, and a slot the receiver had already set aside for it goes to the next waiting
    /// sender, so dropping a send never stalls the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// ebbtide_core::block_on(async {
    ///     tx.send(1).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T, N, M> {
        SendFuture::new(self.channel, value)
    }

    /// Sends `value` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full (or other senders wait),
    /// [`TrySendError::Closed`] if it is closed by the receiving side; both carry `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::{Channel, TrySendError};
    ///
    /// let channel: Channel<u32, 1> = Channel::new();
    /// let (tx, rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let result = self.channel.state.lock(|state| {
            // A free slot means open (see `Control::has_free_slot`).
            if state.has_free_slot() {
                match state.push_back(value) {
                    Ok(()) => Ok(state.ctl.receiver.take()),
                    Err(value) => Err(TrySendError::Full(value)),
                }
            } else if state.ctl.closed() {
                Err(TrySendError::Closed(value))
            } else {
                Err(TrySendError::Full(value))
            }
        });
        result.map(|receiver| {
            if let Some(waker) = receiver {
                waker.wake();
            }
        })
    }

    /// Whether the channel is closed (sends would fail, or the receiver will get `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, _rx) = channel.split();
    /// assert_eq!(tx.channel().capacity(), 2);
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

/// A `Sender` clone beyond the count's range (only reachable by leaking clones).
#[cold]
#[inline(never)]
fn too_many_senders() -> ! {
    panic!("ebbtide: too many `mpsc::Sender`s of one channel")
}

impl<T, const N: usize, M: RawMutex> Clone for Sender<'_, T, N, M> {
    fn clone(&self) -> Self {
        if !self.channel.state.lock(|state| state.ctl.add_sender()) {
            too_many_senders();
        }
        Sender {
            channel: self.channel,
        }
    }
}

impl<T, const N: usize, M: RawMutex> Drop for Sender<'_, T, N, M> {
    fn drop(&mut self) {
        let receiver = self.channel.state.lock(|state| state.ctl.drop_sender());
        if let Some(waker) = receiver {
            waker.wake();
        }
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for Sender<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", self.channel)
            .finish()
    }
}

/// The receiving end of a [`Channel`].
///
/// Dropping it closes the channel and drops the messages still queued; waiting senders get their
/// messages back in a [`SendError`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::Channel;
///
/// let channel: Channel<u32, 2> = Channel::new();
/// let (tx, mut rx) = channel.split();
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, mut rx) = channel.split();
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, mut rx) = channel.split();
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
    /// use ebbtide_core::sync::mpsc::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let popped = self
            .channel
            .state
            .lock(|state| match Channel::<T, N, M>::pop_locked(state) {
                Some(popped) => Ok(popped),
                None if state.ctl.is_closed() => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            });
        popped.map(|(message, sender)| {
            if let Some(waker) = sender {
                waker.wake();
            }
            message
        })
    }

    /// Closes the channel without dropping the receiver: sends fail from now on (waiting senders
    /// get their messages back), and the messages already queued can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (tx, mut rx) = channel.split();
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.channel.close();
    }

    /// Whether the channel is closed (by the receiving side, or because every sender is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::mpsc::Channel;
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
    /// use ebbtide_core::sync::mpsc::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let (_tx, rx) = channel.split();
    /// assert!(rx.channel().is_empty());
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

fn poll_recv<T, const N: usize, M: RawMutex>(
    channel: &Channel<T, N, M>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    if crate::task::poll_budget(cx).is_pending() {
        return Poll::Pending;
    }
    let waker = cx.waker();
    // One lock on the hot path. The ready path is all that is inlined: an empty channel (close,
    // registering the waker) goes through the out-of-line `empty_locked` and `recv_empty`, which
    // keeps the loops that receive small.
    let step = channel
        .state
        .lock(|state| match Channel::<T, N, M>::pop_locked(state) {
            Some(popped) => Ok(popped),
            None => Err(empty_locked(&mut state.ctl, waker)),
        });
    match step {
        Ok((message, sender)) => {
            if let Some(waker) = sender {
                waker.wake();
            }
            Poll::Ready(Some(message))
        }
        #[cfg(not(feature = "task-wakers-only"))]
        Err(empty) => recv_empty(channel, waker, empty),
        // Without foreign wakers, a few instructions inlined here (a call with its arguments
        // took more: 28 and 8 B on `bench/size`'s general builds).
        #[cfg(feature = "task-wakers-only")]
        Err(empty) => {
            if recv_empty_pure(waker, empty) {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        }
    }
}

/// What [`poll_recv`] found, under the lock, on an empty channel.
enum Empty {
    /// Closed and drained: the receive is `None`.
    Closed,
    /// The receiver's waker is registered; the waker it replaced (if any) is to be dropped
    /// unlocked.
    Registered(Option<Kept>),
    /// A foreign waker, whose clone may run user code: nothing changed.
    Foreign,
}

/// [`poll_recv`] on an empty channel, under the lock. Registering needs a clone of the waker,
/// which is only made under the lock when it runs no user code (an ebbtide task's); a foreign
/// waker goes round through [`poll_recv_foreign`].
#[cold]
#[inline(never)]
fn empty_locked(ctl: &mut Control, waker: &Waker) -> Empty {
    if ctl.is_closed() {
        Empty::Closed
    } else if clone_runs_no_user_code(waker) {
        Empty::Registered(store_pure(&mut ctl.receiver, waker))
    } else {
        Empty::Foreign
    }
}

/// [`poll_recv`] on an empty channel, unlocked: drops the replaced waker, or takes the foreign
/// waker's way.
#[cfg(not(feature = "task-wakers-only"))]
#[cold]
#[inline(never)]
fn recv_empty<T, const N: usize, M: RawMutex>(
    channel: &Channel<T, N, M>,
    waker: &Waker,
    empty: Empty,
) -> Poll<Option<T>> {
    match empty {
        Empty::Closed => Poll::Ready(None),
        // The replaced waker (maybe foreign) is dropped here, unlocked.
        Empty::Registered(replaced) => {
            drop_kept(replaced);
            Poll::Pending
        }
        Empty::Foreign => poll_recv_foreign(channel, waker).map(|popped| {
            popped.map(|(message, sender)| {
                if let Some(waker) = sender {
                    waker.wake();
                }
                message
            })
        }),
    }
}

/// [`poll_recv`] on an empty channel, unlocked, without foreign wakers: whether the channel is
/// closed (the receive is `None`); otherwise the receive waits, and a foreign waker, which no
/// primitive keeps with this feature, is woken to poll again (see `sync::waker`). Inlined.
#[cfg(feature = "task-wakers-only")]
#[inline(always)]
fn recv_empty_pure(waker: &Waker, empty: Empty) -> bool {
    match empty {
        Empty::Closed => return true,
        // The replaced waker is dropped here, unlocked (a pure one has no drop).
        Empty::Registered(replaced) => drop_kept(replaced),
        // Nothing changed under the lock.
        Empty::Foreign => {}
    }
    crate::sync::waker::wake_if_foreign(waker);
    false
}

/// [`poll_recv`] for a receiver polled with a foreign waker, whose clone may run user code: it
/// is cloned outside the lock (see `sync::waker`).
#[cfg(not(feature = "task-wakers-only"))]
#[cold]
#[inline(never)]
fn poll_recv_foreign<T, const N: usize, M: RawMutex>(
    channel: &Channel<T, N, M>,
    waker: &Waker,
) -> Poll<Option<(T, Option<Kept>)>> {
    lock_registering(&channel.state, waker, |state, waker| {
        Ok(match Channel::<T, N, M>::pop_locked(state) {
            Some(popped) => Poll::Ready(Some(popped)),
            None if state.ctl.is_closed() => Poll::Ready(None),
            None => {
                waker.store(&mut state.ctl.receiver)?;
                Poll::Pending
            }
        })
    })
}

impl<T, const N: usize, M: RawMutex> Drop for Receiver<'_, T, N, M> {
    fn drop(&mut self) {
        // Messages without a destructor are forgotten all at once, under the lock that closes
        // the channel.
        if !core::mem::needs_drop::<T>() {
            self.channel.close_and_forget(true);
            return;
        }
        self.channel.close();
        // Drop the queued messages one at a time, each outside the lock.
        while let Some(message) = self.channel.state.lock(|state| state.pop_front()) {
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
/// use ebbtide_core::sync::mpsc::{Channel, RecvFuture};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (tx, mut rx) = channel.split();
/// tx.try_send(1).unwrap();
/// let recv: RecvFuture<'_, u32, 1> = rx.recv();
/// assert_eq!(ebbtide_core::block_on(recv), Some(1));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
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
    fn the_packed_control_keeps_its_four_facts_apart() {
        let mut ctl = Control::new();
        assert!(!ctl.is_closed(), "an unsplit channel is open");
        assert!(ctl.split());
        assert!(!ctl.split(), "split once");
        ctl.reserved += 2;
        assert!(!ctl.closed());
        assert!(ctl.close_step().is_none(), "nobody to wake");
        assert!(ctl.closed() && ctl.is_closed());
        assert_eq!(ctl.reserved(), 2, "closing keeps the promised slots");
        ctl.reserved -= 2;
        assert_eq!(ctl.reserved(), 0);
        assert!(ctl.closed(), "and the promises kept leave it closed");
        // Closed: nothing is granted, whatever the count (none queued here).
        assert!(ctl.grant_free_slot(4).is_none());
    }

    #[test]
    fn the_last_sender_closes_and_a_full_count_panics_instead_of_wrapping() {
        let channel: Channel<u8, 2, LocalRawMutex> = Channel::with_mutex();
        let (tx, _rx) = channel.split();
        channel.state.lock(|state| state.ctl.senders = usize::MAX);
        let clone = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.clone()));
        assert!(clone.is_err(), "a clone beyond the count panics");
        channel.state.lock(|state| {
            assert_eq!(state.ctl.senders, usize::MAX, "and counts nothing");
            state.ctl.senders = SPLIT + 1;
        });
        assert!(channel.try_split().is_err(), "still split");
        drop(tx);
        assert!(channel.is_closed());
    }
}
