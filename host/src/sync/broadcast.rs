//! Multi-producer, multi-consumer channels where every receiver sees every message, with owned
//! ends, as in Tokio.
//!
//! [`channel`] makes one that keeps the last `capacity` messages (rounded up to a power of
//! two, as in Tokio) in a ring allocated once. A receiver that falls further behind gets
//! [`RecvError::Lagged`] with the number of messages it missed, then continues from the oldest
//! one kept. Each receiver gets a clone of each message (`T: Clone`), made under that message's
//! slot read lock, as in Tokio.
//!
//! As in Tokio, a message is dropped as soon as every receiver that was subscribed when it was
//! sent has received it (a receiver dropped before counts as having received it, a lagging one
//! when the message is overwritten): each slot counts the receivers that have yet to read it.
//! The last of them takes the message out of its slot instead of cloning it. Messages are
//! dropped after the locks are released, never under them.
//!
//! The static channel of [`ebbtide_core::sync::broadcast`] is here too: [`Channel`], whose
//! ends are [`SplitSender`] and [`SplitReceiver`].
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::sync::broadcast;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send(10).unwrap();
//!     tx.send(20).unwrap();
//!     assert_eq!(rx1.recv().await, Ok(10));
//!     assert_eq!(rx1.recv().await, Ok(20));
//!     assert_eq!(rx2.recv().await, Ok(10));
//!     assert_eq!(rx2.recv().await, Ok(20));
//! });
//! ```

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll, Waker};

use super::{block_on, lock, register, wake_all, Register, Slab};

pub use ebbtide_core::sync::broadcast::{
    Channel, Receiver as SplitReceiver, RecvError, RecvFuture, SendError, Sender as SplitSender,
    TryRecvError,
};

/// The errors of the broadcast channel, at Tokio's paths.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::broadcast::{self, error::RecvError};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = broadcast::channel::<u8>(1);
///     drop(tx);
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
pub mod error {
    pub use ebbtide_core::sync::broadcast::{RecvError, SendError, TryRecvError};
}

/// A message's place in the ring.
struct Slot<T> {
    /// The receivers that have yet to read the message in `data`: those subscribed when it was
    /// sent, less those that read it (or were dropped). Changed only under `data`'s lock (stored
    /// by a send under the write lock, decremented by a reader under the read lock, or under the
    /// write lock); read without it only as a hint. At zero, the message is taken out (under the
    /// write lock) and dropped after unlocking.
    rem: AtomicUsize,
    data: RwLock<SlotData<T>>,
}

struct SlotData<T> {
    /// The position of the message in `value`.
    pos: u64,
    value: Option<T>,
}

impl<T> Slot<T> {
    fn read(&self) -> RwLockReadGuard<'_, SlotData<T>> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, SlotData<T>> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Tail {
    /// The position of the next message.
    pos: u64,
    senders: usize,
    receivers: usize,
    /// One waker slot per receiver.
    wakers: Slab<Option<Waker>>,
}

struct Shared<T> {
    slots: Box<[Slot<T>]>,
    mask: u64,
    tail: Mutex<Tail>,
}

impl<T> Shared<T> {
    fn slot(&self, pos: u64) -> &Slot<T> {
        &self.slots[(pos & self.mask) as usize]
    }

    /// Takes message `pos` out of its slot if no receiver has it left to read (and it was not
    /// overwritten meanwhile). The caller drops it after unlocking.
    fn take_if_read(&self, pos: u64) -> Option<T> {
        let slot = self.slot(pos);
        let mut data = slot.write();
        if data.pos == pos && slot.rem.load(Ordering::Relaxed) == 0 {
            data.value.take()
        } else {
            None
        }
    }

    /// Counts message `pos` as read by one more receiver (one that will not read it); if it was
    /// the last, takes the message out for the caller to drop after unlocking.
    fn release(&self, pos: u64) -> Option<T> {
        let slot = self.slot(pos);
        let mut data = slot.write();
        if data.pos != pos || data.value.is_none() {
            // Overwritten: the receiver lagged past it.
            return None;
        }
        // Under the write lock nobody else changes `rem`.
        let rem = slot.rem.load(Ordering::Relaxed);
        slot.rem.store(rem - 1, Ordering::Relaxed);
        if rem == 1 {
            data.value.take()
        } else {
            None
        }
    }

    fn new_receiver(self: &Arc<Self>) -> Receiver<T> {
        let mut tail = lock(&self.tail);
        tail.receivers += 1;
        let waker_slot = tail.wakers.insert(None);
        let next = tail.pos;
        drop(tail);
        Receiver {
            shared: self.clone(),
            next,
            waker_slot,
        }
    }
}

impl<T: Clone> Shared<T> {
    /// Reads message `*next` if it is in its slot: clones it under the slot's read lock, or,
    /// for the last receiver to read it, takes it out under the write lock. `None` when it is
    /// not there (not sent yet, or overwritten: the caller tells which under the tail lock).
    ///
    /// `T::clone` runs under the read lock, as in Tokio (a panic there leaves the message
    /// unread); no `T::drop` runs under a lock.
    fn read(&self, next: &mut u64) -> Option<T> {
        let pos = *next;
        let slot = self.slot(pos);
        if slot.rem.load(Ordering::Relaxed) == 1 {
            // Likely the last reader (the hint is checked under the lock): take the message out
            // rather than clone it, with one lock.
            let mut data = slot.write();
            if data.pos != pos || data.value.is_none() {
                return None;
            }
            // Under the write lock nobody else changes `rem` (so no read-modify-write is
            // needed); it is at least 1, since this receiver has not read the message.
            let rem = slot.rem.load(Ordering::Relaxed);
            slot.rem.store(rem - 1, Ordering::Relaxed);
            let value = if rem == 1 {
                data.value.take()
            } else {
                data.value.clone()
            };
            drop(data);
            *next += 1;
            return value;
        }
        let data = slot.read();
        if data.pos != pos || data.value.is_none() {
            return None;
        }
        let value = data.value.clone();
        let last = slot.rem.fetch_sub(1, Ordering::Relaxed) == 1;
        drop(data);
        *next += 1;
        if last {
            // Others read it meanwhile: this was the last read after all.
            drop(self.take_if_read(pos));
        }
        value
    }
}

/// Makes a broadcast channel keeping the last `capacity` messages (rounded up to a power of
/// two); returns a sender and a first receiver.
///
/// # Panics
///
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::broadcast::{self, error::TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel requires capacity > 0");
    let capacity = capacity.next_power_of_two();
    let slots = (0..capacity)
        .map(|_| Slot {
            rem: AtomicUsize::new(0),
            data: RwLock::new(SlotData {
                pos: 0,
                value: None,
            }),
        })
        .collect();
    let shared = Arc::new(Shared {
        slots,
        mask: capacity as u64 - 1,
        tail: Mutex::new(Tail {
            pos: 0,
            senders: 1,
            receivers: 0,
            wakers: Slab::new(),
        }),
    });
    let receiver = shared.new_receiver();
    (Sender { shared }, receiver)
}

/// The sending end of a broadcast channel. Clone it for more producers; receivers see
/// [`RecvError::Closed`] once every sender is dropped and they have caught up.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = ebbtide_std::sync::broadcast::channel(4);
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving end of a broadcast channel: sees every message sent after it subscribed.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = ebbtide_std::sync::broadcast::channel(4);
///     let task = ebbtide_std::spawn(async move { rx.recv().await.unwrap() }).unwrap();
///     tx.send("hello").unwrap();
///     assert_eq!(task.await.unwrap(), "hello");
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next message to receive.
    next: u64,
    waker_slot: usize,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver; returns how many there are. Fails, handing the value
    /// back, when there is none (the value is then not stored).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when no receiver is subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::broadcast::channel(4);
    /// assert_eq!(tx.send(1).unwrap(), 1);
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let shared = &*self.shared;
        let mut tail = lock(&shared.tail);
        if tail.receivers == 0 {
            return Err(SendError(value));
        }
        let pos = tail.pos;
        tail.pos += 1;
        let receivers = tail.receivers;
        let old = {
            let slot = shared.slot(pos);
            let mut data = slot.write();
            data.pos = pos;
            slot.rem.store(receivers, Ordering::Relaxed);
            data.value.replace(value)
        };
        wake_all(&shared.tail, tail, |t| &mut t.wakers);
        drop(old);
        Ok(receivers)
    }

    /// A new receiver that sees the messages sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.new_receiver()
    }

    /// The number of receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::broadcast::channel::<u8>(4);
    /// let _other = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.tail).receivers
    }

    /// Whether `other` sends into the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.tail).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut tail = lock(&self.shared.tail);
        tail.senders -= 1;
        if tail.senders == 0 {
            wake_all(&self.shared.tail, tail, |t| &mut t.wakers);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next message, waiting for one.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] with the number of messages missed when this receiver fell more
    /// than the capacity behind (the next call returns the oldest message kept);
    /// [`RecvError::Closed`] once every sender is dropped and every message was received.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::broadcast::{self, error::RecvError};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(1);
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    ///     assert_eq!(rx.recv().await, Ok(2));
    ///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next message if one is there now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing new is there, [`TryRecvError::Lagged`] and
    /// [`TryRecvError::Closed`] as for [`recv`](Receiver::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::broadcast::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.recv_inner(None) {
            Poll::Ready(Ok(value)) => Ok(value),
            Poll::Ready(Err(RecvError::Lagged(missed))) => Err(TryRecvError::Lagged(missed)),
            Poll::Ready(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            Poll::Pending => Err(TryRecvError::Empty),
        }
    }

    /// Receives the next message, blocking the current thread until there is one: for code
    /// outside any runtime, e.g. a plain [`std::thread`]. Parks the thread while it waits;
    /// allocates once per call (the thread's waker).
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] and [`RecvError::Closed`] as for [`recv`](Receiver::recv).
    ///
    /// # Panics
    ///
    /// On a thread that runs an ebbtide runtime (in its `block_on`, e.g. in a task): await
    /// [`recv`](Receiver::recv) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// let listener = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while let Ok(i) = rx.blocking_recv() {
    ///         got.push(i);
    ///     }
    ///     got
    /// });
    /// ebbtide_std::Runtime::new().unwrap().block_on(async move {
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    /// });
    /// assert_eq!(listener.join().unwrap(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        block_on(self.recv())
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        self.recv_inner(Some(cx))
    }

    fn recv_inner(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Result<T, RecvError>> {
        let shared = &*self.shared;
        let mut fresh = None;
        loop {
            if let Some(value) = shared.read(&mut self.next) {
                return Poll::Ready(Ok(value));
            }
            let mut tail = lock(&shared.tail);
            if tail.pos > self.next {
                let oldest = tail.pos.saturating_sub(shared.mask + 1);
                if self.next < oldest {
                    let missed = oldest - self.next;
                    self.next = oldest;
                    return Poll::Ready(Err(RecvError::Lagged(missed)));
                }
                // Written since the slot was read: read it again.
                continue;
            }
            if tail.senders == 0 {
                return Poll::Ready(Err(RecvError::Closed));
            }
            let Some(cx) = cx.as_deref() else {
                return Poll::Pending;
            };
            match register(tail.wakers.get_mut(self.waker_slot), cx, &mut fresh) {
                Register::Done(old) => {
                    drop(tail);
                    drop(old);
                    return Poll::Pending;
                }
                Register::NeedWaker => {
                    drop(tail);
                    fresh = Some(cx.waker().clone());
                }
            }
        }
    }

    /// A new receiver that sees the messages sent from now on (not the ones this one has yet to
    /// receive).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(fresh.try_recv(), Ok(2));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        self.shared.new_receiver()
    }
}

impl<T> Receiver<T> {
    /// The number of messages this receiver has yet to receive (at most the capacity counts
    /// as kept; more means it lagged).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        (lock(&self.shared.tail).pos - self.next) as usize
    }

    /// Whether this receiver has received everything sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ebbtide_std::sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut tail = lock(&shared.tail);
        tail.receivers -= 1;
        let old = tail.wakers.remove(self.waker_slot);
        let end = tail.pos;
        drop(tail);
        drop(old);
        // Messages sent from now on do not count this receiver; the ones it has yet to read
        // (those still kept) count it as having read them.
        let oldest = end.saturating_sub(shared.mask + 1);
        for pos in self.next.max(oldest)..end {
            // One at a time, each dropped after its slot is unlocked.
            drop(shared.release(pos));
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
