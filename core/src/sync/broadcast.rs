//! A multi-producer, multi-consumer broadcast channel: every receiver gets every message.
//!
//! A [`Channel`] keeps the last `N` messages in a ring of slots, each tagged with the message's
//! position (a `u64` sequence number); it has a `const` constructor, so it can be a `static`, or
//! it can live on the stack. The semantics are tokio's `broadcast`:
//!
//! - [`Sender::send`] never waits: when the ring is full it overwrites the oldest message. It
//!   returns how many receivers will see the message, and fails, handing the message back, if
//!   there are none (or the channel is closed).
//! - [`Channel::subscribe`] creates a [`Receiver`] that starts at the tail: it sees the messages
//!   sent after it was created, in order.
//! - A receiver that fell more than `N` messages behind gets
//!   [`RecvError::Lagged(n)`](RecvError::Lagged) (`n` = how many messages it missed), then
//!   continues from the oldest message still in the ring.
//! - Each slot counts the receivers that still have to read its message; the last one takes the
//!   message out (no clone), and a dropped receiver gives up its share at once, so a message is
//!   released as soon as every live receiver has it.
//!
//! # Closing
//!
//! Senders are counted, as in tokio: [`Channel::sender`] makes one, and [`Sender`] is `Clone`.
//! The channel **closes for good** when the last `Sender` is dropped (after at least one was
//! made), or when [`Channel::close`] is called. Once closed, sends fail, and each receiver gets
//! the messages still in the ring, then [`RecvError::Closed`]. A `Sender` made after the channel
//! closed is refused the same way. So keep one `Sender` alive as long as the channel is in use:
//! a `CHANNEL.sender().send(x)` whose sender is dropped right away closes the channel.
//!
//! # Locking
//!
//! The state is behind one short lock. Wakers are cloned before it is taken and dropped or woken
//! after it is released, and messages are dropped outside it, so user code there may use the
//! channel again. `T::clone` does run inside it (a receiver that is not the last one of a message
//! clones it there, since a send may overwrite the slot at any time), so keep `clone` cheap
//! (`Copy` data, `&'static` references, reference-counted handles; on a microcontroller it runs
//! with interrupts masked) and do not use the channel from it: such a call **panics** (or, with a
//! [`SpinRawMutex`](crate::blocking_mutex::SpinRawMutex), spins forever). A receive whose clone
//! panicked took nothing: the receiver still has that message to read.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::broadcast::{self, RecvError};
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//! static EVENTS: broadcast::Channel<u32, 4> = broadcast::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let tx = EVENTS.sender();
//! let mut rx = EVENTS.subscribe();
//! let listener = runner
//!     .spawner()
//!     .spawn(&POOL, async move {
//!         let mut sum = 0;
//!         loop {
//!             match rx.recv().await {
//!                 Ok(event) => sum += event,
//!                 Err(RecvError::Lagged(_)) => continue,
//!                 Err(RecvError::Closed) => return sum,
//!             }
//!         }
//!     })
//!     .unwrap();
//! for event in 1..=3 {
//!     assert_eq!(tx.send(event), Ok(1)); // one receiver
//! }
//! drop(tx); // closes the channel: the listener drains it, then stops
//! assert_eq!(runner.run_until(listener, || {}), Ok(6));
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, RawMutex};
use crate::sync::wait_list::{wake_in_batches, Node, WaitList};
use crate::sync::waker::lock_registering;

/// A broadcast channel keeping the last `N` messages of type `T`, guarded by the lock `M`.
///
/// Make senders with [`sender`](Channel::sender) and receivers with
/// [`subscribe`](Channel::subscribe). See the [module docs](self) for the semantics.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::Channel;
///
/// // On the stack, driven by hand.
/// let channel: Channel<u8, 4> = Channel::new();
/// let tx = channel.sender();
/// let mut a = channel.subscribe();
/// let mut b = channel.subscribe();
/// assert_eq!(tx.send(1), Ok(2));
/// assert_eq!(a.try_recv(), Ok(1));
/// assert_eq!(b.try_recv(), Ok(1));
/// ```
pub struct Channel<T: Clone, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    state: BlockingMutex<M, State<T, N>>,
}

/// One message of the ring.
struct Slot<T> {
    /// The position of the message in this slot (meaningful while `value` is `Some`).
    position: u64,
    /// How many receivers still have to read it; the last one takes `value` out.
    remaining: usize,
    value: Option<T>,
}

struct State<T, const N: usize> {
    /// Message `p` lives in `slots[p % N]` while `p >= tail - N`.
    slots: [Slot<T>; N],
    /// The position of the next message to be sent; messages `tail - N .. tail` are in the ring.
    tail: u64,
    /// Live `Sender`s.
    senders: usize,
    /// Live `Receiver`s.
    receivers: usize,
    /// No more messages will come (see [Closing](self#closing)).
    closed: bool,
    /// Receivers waiting for a message at position `tail`, oldest first.
    waiters: WaitList<Waiting>,
}

/// The payload of a `RecvFuture`'s node.
#[derive(Debug)]
struct Waiting {
    /// The receiver's next position, kept here while the future lives (written back on drop).
    next: u64,
    /// `tail` when the node was linked: the node waits for the message at that position.
    /// Nodes are linked in order of it, which lets a send wake exactly those before it.
    waits_for: u64,
}

impl<T: Clone, const N: usize> State<T, N> {
    /// The oldest position still in the ring.
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(N as u64)
    }

    fn slot(&mut self, position: u64) -> &mut Slot<T> {
        &mut self.slots[(position % N as u64) as usize]
    }

    /// Takes the message at `*next` for a receiver, advancing `*next`.
    fn recv(&mut self, next: &mut u64) -> Result<T, TryRecvError> {
        if *next >= self.tail {
            return Err(if self.closed {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = self.oldest();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let position = *next;
        let slot = self.slot(position);
        debug_assert_eq!(slot.position, position);
        // The clone (user code, which may panic) comes before any change, so a panic leaves the
        // message unread by this receiver and the counts right.
        let value = if slot.remaining == 1 {
            slot.value.take()
        } else {
            slot.value.clone()
        };
        slot.remaining -= 1;
        *next += 1;
        Ok(value.expect("a message is kept until every receiver counted for it has read it"))
    }

    /// Gives up a dropped receiver's share of the message at `position` (if it is still in the
    /// ring); returns the message if that receiver was its last reader.
    fn release(&mut self, position: u64) -> Option<T> {
        if position < self.oldest() || position >= self.tail {
            return None;
        }
        let slot = self.slot(position);
        slot.remaining -= 1;
        if slot.remaining == 0 {
            slot.value.take()
        } else {
            None
        }
    }
}

impl<T: Clone, const N: usize> Channel<T, N> {
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
        /// use ebbtide_core::sync::broadcast::Channel;
        ///
        /// static TICKS: Channel<u64, 8> = Channel::new();
        /// assert_eq!(TICKS.capacity(), 8);
        /// ```
        pub fn new() -> Channel<T, N> {
            Channel::with_mutex()
        }
    }
}

impl<T: Clone, const N: usize, M: RawMutex> Channel<T, N, M> {
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
        /// use ebbtide_core::sync::broadcast::Channel;
        ///
        /// let channel = Channel::<u32, 2, LocalRawMutex>::with_mutex();
        /// assert_eq!(channel.receiver_count(), 0);
        /// ```
        pub fn with_mutex() -> Channel<T, N, M> {
            assert!(N > 0, "a broadcast::Channel needs a capacity N of at least 1");
            Channel {
                state: BlockingMutex::new(State {
                    slots: [const {
                        Slot {
                            position: 0,
                            remaining: 0,
                            value: None,
                        }
                    }; N],
                    tail: 0,
                    senders: 0,
                    receivers: 0,
                    closed: false,
                    waiters: WaitList::new(),
                }),
            }
        }
    }

    /// A new [`Sender`]. The channel closes when the last sender is dropped (see
    /// [Closing](self#closing)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let _rx = channel.subscribe();
    /// assert_eq!(tx.send(1), Ok(1));
    /// ```
    pub fn sender(&self) -> Sender<'_, T, N, M> {
        self.state.lock(|state| state.senders += 1);
        Sender { channel: self }
    }

    /// A new [`Receiver`] that gets every message sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut early = channel.subscribe();
    /// tx.send(1).unwrap();
    /// let mut late = channel.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(early.try_recv(), Ok(1));
    /// assert_eq!(late.try_recv(), Ok(2)); // starts after 1
    /// assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn subscribe(&self) -> Receiver<'_, T, N, M> {
        let next = self.state.lock(|state| {
            state.receivers += 1;
            state.tail
        });
        Receiver {
            channel: self,
            next,
        }
    }

    /// Closes the channel for good: sends fail from now on, and receivers get the messages still
    /// in the ring, then [`RecvError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut rx = channel.subscribe();
    /// tx.send(1).unwrap();
    /// channel.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&self) {
        wake_in_batches(&self.state, |state, batch| {
            state.closed = true;
            while !batch.is_full() {
                match state.waiters.pop_front_with(|w| w.waker.take()) {
                    Some(waker) => batch.push(waker),
                    None => return true,
                }
            }
            false
        });
    }

    /// Whether the channel is closed (see [Closing](self#closing)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// assert!(!channel.is_closed());
    /// drop(tx);
    /// assert!(channel.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock(|state| state.closed)
    }

    /// How many receivers exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let rx = channel.subscribe();
    /// assert_eq!(channel.receiver_count(), 1);
    /// drop(rx);
    /// assert_eq!(channel.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.state.lock(|state| state.receivers)
    }

    /// The number of messages the ring keeps, `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 3> = Channel::new();
    /// assert_eq!(channel.capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<T: Clone, const N: usize> Default for Channel<T, N> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T: Clone, const N: usize, M: RawMutex> fmt::Debug for Channel<T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tail, senders, receivers, closed) = self
            .state
            .lock(|s| (s.tail, s.senders, s.receivers, s.closed));
        f.debug_struct("Channel")
            .field("sent", &tail)
            .field("capacity", &N)
            .field("senders", &senders)
            .field("receivers", &receivers)
            .field("closed", &closed)
            .finish()
    }
}

/// A sending end of a broadcast [`Channel`]; clone it for more producers.
///
/// When the last `Sender` is dropped the channel closes (see [Closing](self#closing)).
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
///
/// let channel: Channel<u32, 4> = Channel::new();
/// let tx = channel.sender();
/// let tx2 = tx.clone();
/// let mut rx = tx.subscribe();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// drop((tx, tx2));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub struct Sender<'a, T: Clone, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
}

impl<'a, T: Clone, const N: usize, M: RawMutex> Sender<'a, T, N, M> {
    /// Sends `value` to every receiver, without waiting: if the ring is full, the oldest message
    /// is overwritten (receivers that had not read it get [`RecvError::Lagged`]).
    ///
    /// Returns how many receivers will see the message.
    ///
    /// # Errors
    ///
    /// [`SendError`], carrying `value` back, if there is no receiver or the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, SendError};
    ///
    /// let channel: Channel<&str, 2> = Channel::new();
    /// let tx = channel.sender();
    /// assert_eq!(tx.send("nobody listens"), Err(SendError("nobody listens")));
    /// let _rx = channel.subscribe();
    /// assert_eq!(tx.send("hello"), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut value = Some(value);
        let mut outcome = None;
        let mut overwritten = None;
        wake_in_batches(&self.channel.state, |state, batch| {
            if let Some(value) = value.take() {
                if state.closed || state.receivers == 0 {
                    outcome = Some(Err(SendError(value)));
                    return true;
                }
                let position = state.tail;
                let receivers = state.receivers;
                let slot = state.slot(position);
                overwritten = slot.value.replace(value);
                slot.position = position;
                slot.remaining = receivers;
                state.tail += 1;
                outcome = Some(Ok((receivers, state.tail)));
            }
            let Some(Ok((_, after))) = outcome else {
                return true;
            };
            while !batch.is_full() {
                // Nodes are in order of `waits_for`; wake those waiting for our message or older.
                if state.waiters.with_front(|w| w.payload.waits_for < after) != Some(true) {
                    return true;
                }
                batch.push(state.waiters.pop_front_with(|w| w.waker.take()).flatten());
            }
            false
        });
        // The overwritten message (if no one had read it last) is dropped outside the lock.
        drop(overwritten);
        match outcome {
            Some(Ok((receivers, _))) => Ok(receivers),
            Some(Err(error)) => Err(error),
            None => unreachable!("the first batch decides the outcome"),
        }
    }

    /// A new [`Receiver`], as [`Channel::subscribe`] makes.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut rx = tx.subscribe();
    /// tx.send(4).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(4));
    /// ```
    pub fn subscribe(&self) -> Receiver<'a, T, N, M> {
        self.channel.subscribe()
    }

    /// How many receivers exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let _a = tx.subscribe();
    /// let _b = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.channel.receiver_count()
    }

    /// The channel this sender feeds.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// assert_eq!(tx.channel().capacity(), 2);
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

impl<T: Clone, const N: usize, M: RawMutex> Clone for Sender<'_, T, N, M> {
    fn clone(&self) -> Self {
        self.channel.sender()
    }
}

impl<T: Clone, const N: usize, M: RawMutex> Drop for Sender<'_, T, N, M> {
    fn drop(&mut self) {
        let last = self.channel.state.lock(|state| {
            state.senders -= 1;
            state.senders == 0
        });
        if last {
            self.channel.close();
        }
    }
}

impl<T: Clone, const N: usize, M: RawMutex> fmt::Debug for Sender<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", self.channel)
            .finish()
    }
}

/// A receiving end of a broadcast [`Channel`]: gets every message sent after it was made.
///
/// Dropping it gives up its share of the messages it has not read, so they are released as soon
/// as the other receivers have them.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::Channel;
///
/// let channel: Channel<u32, 2> = Channel::new();
/// let tx = channel.sender();
/// let mut rx = channel.subscribe();
/// tx.send(7).unwrap();
/// assert_eq!(ebbtide_core::block_on(rx.recv()), Ok(7));
/// ```
pub struct Receiver<'a, T: Clone, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
    /// The position of the next message this receiver reads.
    next: u64,
}

impl<'a, T: Clone, const N: usize, M: RawMutex> Receiver<'a, T, N, M> {
    /// Receives the next message, waiting while there is none.
    ///
    /// # Errors
    ///
    /// - [`RecvError::Lagged(n)`](RecvError::Lagged) if the receiver fell behind and `n`
    ///   messages were overwritten before it read them; the next call returns the oldest message
    ///   still in the ring.
    /// - [`RecvError::Closed`] once the channel is closed and this receiver has read everything.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken (the
    /// receiver's position is unchanged).
    ///
    /// # Panics
    ///
    /// If `T::clone` uses this channel (see [Locking](self#locking)), when the future is polled; nothing is received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, RecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut rx = channel.subscribe();
    /// for message in 1..=3 {
    ///     tx.send(message).unwrap(); // 1 is overwritten by 3
    /// }
    /// drop(tx);
    /// ebbtide_core::block_on(async {
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    ///     assert_eq!(rx.recv().await, Ok(2));
    ///     assert_eq!(rx.recv().await, Ok(3));
    ///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// });
    /// ```
    pub fn recv(&mut self) -> RecvFuture<'_, 'a, T, N, M> {
        RecvFuture {
            node: Node::new(Waiting {
                next: self.next,
                waits_for: 0,
            }),
            receiver: self,
        }
    }

    /// Takes the next message if there is one.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is no new message, [`TryRecvError::Lagged`] as for
    /// [`recv`](Receiver::recv), [`TryRecvError::Closed`] if there is none and none will come.
    ///
    /// # Panics
    ///
    /// If `T::clone` uses this channel (see [Locking](self#locking)); nothing is received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut rx = channel.subscribe();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let next = &mut self.next;
        self.channel.state.lock(|state| state.recv(next))
    }

    /// A new receiver of the same channel, starting at the tail (not at this one's position).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let mut rx = channel.subscribe();
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn resubscribe(&self) -> Receiver<'a, T, N, M> {
        self.channel.subscribe()
    }

    /// How many messages this receiver has not read yet, counting those already overwritten.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let tx = channel.sender();
    /// let rx = channel.subscribe();
    /// for message in 0..5 {
    ///     tx.send(message).unwrap();
    /// }
    /// assert_eq!(rx.behind(), 5);
    /// ```
    pub fn behind(&self) -> u64 {
        self.channel.state.lock(|state| state.tail - self.next)
    }

    /// The channel this receiver reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::Channel;
    ///
    /// let channel: Channel<u32, 2> = Channel::new();
    /// let rx = channel.subscribe();
    /// assert_eq!(rx.channel().receiver_count(), 1);
    /// ```
    pub fn channel(&self) -> &'a Channel<T, N, M> {
        self.channel
    }
}

impl<T: Clone, const N: usize, M: RawMutex> Drop for Receiver<'_, T, N, M> {
    fn drop(&mut self) {
        let (oldest, end) = self.channel.state.lock(|state| {
            state.receivers -= 1;
            (state.oldest(), state.tail)
        });
        // Messages before `oldest` are overwritten already: skip them without a lock each.
        self.next = self.next.max(oldest);
        // Messages `next .. end` counted us. Give up our share one message at a time, so that a
        // message we were the last reader of is dropped outside the lock.
        while self.next < end {
            let position = self.next;
            self.next += 1;
            let released = self.channel.state.lock(|state| state.release(position));
            drop(released);
        }
    }
}

impl<T: Clone, const N: usize, M: RawMutex> fmt::Debug for Receiver<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
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
/// use ebbtide_core::sync::broadcast::{Channel, RecvFuture};
///
/// let channel: Channel<u32, 2> = Channel::new();
/// let tx = channel.sender();
/// let mut rx = channel.subscribe();
/// tx.send(1).unwrap();
/// let recv: RecvFuture<'_, '_, u32, 2> = rx.recv();
/// assert_eq!(ebbtide_core::block_on(recv), Ok(1));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'r, 'a, T: Clone, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    /// Borrowed for the future's life; its position is kept in `node` meanwhile and written back
    /// on drop (the future is pinned, so it cannot hand out `&mut` to this field while polled).
    receiver: &'r mut Receiver<'a, T, N, M>,
    node: Node<Waiting>,
}

impl<T: Clone, const N: usize, M: RawMutex> Future for RecvFuture<'_, '_, T, N, M> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &*self;
        let node = &this.node;
        // A replaced waker is dropped outside the lock.
        lock_registering(&this.receiver.channel.state, cx.waker(), |state, waker| {
            let mut next = node.with(&mut state.waiters, |w| w.payload.next);
            // `recv` changes nothing if `T::clone` panics, and nothing when it finds no message.
            let received = state.recv(&mut next);
            node.with(&mut state.waiters, |w| w.payload.next = next);
            let ready = match received {
                Ok(value) => Ok(value),
                Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
                Err(TryRecvError::Empty) => {
                    let tail = state.tail;
                    node.with(&mut state.waiters, |w| {
                        waker.store(&mut w.waker)?;
                        w.payload.waits_for = tail;
                        Ok(())
                    })?;
                    if !node.is_linked(&state.waiters) {
                        // SAFETY: `this` is pinned (polled through `Pin`), its `Drop` removes the
                        // node under this lock, and the node is only used with this list; it is
                        // not linked (just checked).
                        unsafe { state.waiters.push_back(node) };
                    }
                    return Ok(Poll::Pending);
                }
            };
            // Done waiting: leave the list if a send has not unlinked us yet.
            state.waiters.remove(node);
            Ok(Poll::Ready(ready))
        })
    }
}

impl<T: Clone, const N: usize, M: RawMutex> Drop for RecvFuture<'_, '_, T, N, M> {
    fn drop(&mut self) {
        let node = &self.node;
        let (next, waker) = self.receiver.channel.state.lock(|state| {
            state.waiters.remove(node);
            node.with(&mut state.waiters, |w| (w.payload.next, w.waker.take()))
        });
        crate::sync::waker::drop_kept(waker);
        self.receiver.next = next;
    }
}

impl<T: Clone, const N: usize, M: RawMutex> fmt::Debug for RecvFuture<'_, '_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

/// [`Sender::send`] failed: there is no receiver, or the channel is closed. The message is given
/// back.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::{Channel, SendError};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let tx = channel.sender();
/// let SendError(message) = tx.send(5).unwrap_err();
/// assert_eq!(message, 5);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::broadcast::SendError;
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
        f.write_str("the broadcast channel has no receiver, or is closed")
    }
}

impl<T> core::error::Error for SendError<T> {}

/// Why [`Receiver::recv`] returned no message.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::{Channel, RecvError};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let tx = channel.sender();
/// let mut rx = channel.subscribe();
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// ebbtide_core::block_on(async {
///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
///     assert_eq!(rx.recv().await, Ok(2));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// The receiver fell behind: this many messages were overwritten before it read them. The
    /// next receive returns the oldest message still in the ring.
    Lagged(u64),
    /// The channel is closed and this receiver has read every message.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(missed) => {
                write!(f, "the receiver lagged behind by {missed} messages")
            }
            RecvError::Closed => f.write_str("the broadcast channel is closed and drained"),
        }
    }
}

impl core::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no message.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::broadcast::{Channel, TryRecvError};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let tx = channel.sender();
/// let mut rx = channel.subscribe();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No new message now.
    Empty,
    /// The receiver fell behind by this many messages (see [`RecvError::Lagged`]).
    Lagged(u64),
    /// The channel is closed and this receiver has read every message.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new message; await `recv` to wait"),
            TryRecvError::Lagged(missed) => {
                write!(f, "the receiver lagged behind by {missed} messages")
            }
            TryRecvError::Closed => f.write_str("the broadcast channel is closed and drained"),
        }
    }
}

impl core::error::Error for TryRecvError {}
