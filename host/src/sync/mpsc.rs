//! Multi-producer, single-consumer channels with owned ends, as in Tokio.
//!
//! [`channel`] makes a bounded channel: [`Sender::send`] waits for room, first come first
//! served. [`unbounded_channel`] makes one whose [`UnboundedSender::send`] never waits.
//!
//! A bounded channel allocates when made (its buffer holds `buffer` messages from the start)
//! and never per message. An unbounded one keeps its messages in blocks, as Tokio does: a
//! block is allocated when the last one is full, about as large as the queue already is (32
//! messages at first, up to 16 KiB of them), and an emptied block is kept for reuse (up to 4
//! of them and 32 KiB; more are freed). So a burst of `n` messages allocates `O(log n)` times,
//! a steady flow allocates nothing once warmed up, and after a burst is received the channel
//! holds a few blocks again, not its peak.
//!
//! Blocking the current thread: [`Sender::blocking_send`], [`Receiver::blocking_recv`] and
//! [`UnboundedReceiver::blocking_recv`] let code outside any runtime (a plain
//! [`std::thread`]) talk to tasks; they panic when called on a thread that runs a runtime.
//!
//! The static channel of [`ebbtide_core::sync::mpsc`] is here too: [`Channel`], whose
//! `split()` ends are [`SplitSender`] and [`SplitReceiver`].
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::sync::mpsc;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx) = mpsc::channel(1);
//!     let worker = ebbtide_std::spawn(async move {
//!         tx.send("first").await.unwrap();
//!         tx.send("second").await.unwrap(); // waits until "first" is received
//!     })
//!     .unwrap();
//!     assert_eq!(rx.recv().await, Some("first"));
//!     assert_eq!(rx.recv().await, Some("second"));
//!     assert_eq!(rx.recv().await, None); // the sender was dropped
//!     worker.await.unwrap();
//! });
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::blocks::BlockQueue;
use super::{block_on, lock, register, wake_each, Register, Slab};

pub use ebbtide_core::sync::mpsc::{
    AlreadySplit, Channel, Receiver as SplitReceiver, RecvFuture, SendError, SendFuture,
    Sender as SplitSender, TryRecvError, TrySendError,
};

/// The errors of the channels' operations, at Tokio's paths.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc::{self, error::TrySendError};
///
/// let (tx, rx) = mpsc::channel(1);
/// drop(rx);
/// assert!(matches!(tx.try_send(1), Err(TrySendError::Closed(1))));
/// ```
pub mod error {
    pub use ebbtide_core::sync::mpsc::{SendError, TryRecvError, TrySendError};
}

/// A sender waiting for room: `granted` once a slot was set aside for it.
#[derive(Default)]
struct Waiter {
    waker: Option<Waker>,
    granted: bool,
}

/// The queued messages: a bounded channel's buffer, allocated whole when the channel is made
/// (it never grows), or an unbounded channel's blocks.
enum Buf<T> {
    Bounded(VecDeque<T>),
    Unbounded(BlockQueue<T>),
}

impl<T> Buf<T> {
    fn push_back(&mut self, value: T) {
        match self {
            Buf::Bounded(buf) => buf.push_back(value),
            Buf::Unbounded(buf) => buf.push_back(value),
        }
    }

    fn pop_front(&mut self) -> Option<T> {
        match self {
            Buf::Bounded(buf) => buf.pop_front(),
            Buf::Unbounded(buf) => buf.pop_front(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Buf::Bounded(buf) => buf.len(),
            Buf::Unbounded(buf) => buf.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for Buf<T> {
    fn default() -> Self {
        Buf::Unbounded(BlockQueue::new())
    }
}

struct State<T> {
    buf: Buf<T>,
    /// Bounded: free slots not set aside for anyone. Unbounded: unused.
    available: usize,
    /// Bounded: the capacity. Unbounded: `usize::MAX`.
    bound: usize,
    bounded: bool,
    /// The receiver closed (or was dropped): no more sends, but permits taken before still
    /// fill their slots, as in Tokio.
    rx_closed: bool,
    /// The receiver was dropped: a permit's value is dropped instead of queued.
    rx_dropped: bool,
    senders: usize,
    rx_waker: Option<Waker>,
    /// Senders waiting for room, and their order.
    waiters: Slab<Waiter>,
    queue: VecDeque<usize>,
    /// `Sender::closed` futures.
    closed_waiters: Slab<Option<Waker>>,
}

impl<T> State<T> {
    /// Slots set aside (permits and granted waiters) but not yet filled.
    fn in_flight(&self) -> usize {
        if self.bounded {
            self.bound - self.available - self.buf.len()
        } else {
            0
        }
    }

    /// Gives a slot back: to the first waiting sender, or to the pool. Returns a waker to wake
    /// after unlocking.
    fn release(&mut self) -> Option<Waker> {
        if self.rx_closed {
            self.available += 1;
            // The receiver may be waiting for the slots in flight to come back.
            return self.rx_waker.take();
        }
        match self.queue.pop_front() {
            Some(i) => {
                let waiter = self.waiters.get_mut(i);
                waiter.granted = true;
                waiter.waker.take()
            }
            None => {
                self.available += 1;
                None
            }
        }
    }

    /// Closes the receiving side; returns every waker to wake.
    fn close(&mut self) -> Vec<Waker> {
        if self.rx_closed {
            return Vec::new();
        }
        self.rx_closed = true;
        let mut wakers = self.closed_waiters.take_all();
        for &i in &self.queue {
            if let Some(waker) = self.waiters.get_mut(i).waker.take() {
                wakers.push(waker);
            }
        }
        wakers
    }
}

struct Chan<T> {
    state: Mutex<State<T>>,
}

impl<T> Chan<T> {
    fn new(bounded: bool, capacity: usize) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State {
                buf: if bounded {
                    Buf::Bounded(VecDeque::with_capacity(capacity))
                } else {
                    Buf::Unbounded(BlockQueue::new())
                },
                available: capacity,
                bound: capacity,
                bounded,
                rx_closed: false,
                rx_dropped: false,
                senders: 1,
                rx_waker: None,
                waiters: Slab::new(),
                queue: VecDeque::new(),
                closed_waiters: Slab::new(),
            }),
        })
    }

    fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// Adds a sender unless every sender is gone (for [`WeakSender::upgrade`]).
    fn upgrade_sender(&self) -> bool {
        let mut state = lock(&self.state);
        if state.senders == 0 {
            return false;
        }
        state.senders += 1;
        true
    }

    fn drop_sender(&self) {
        let mut state = lock(&self.state);
        state.senders -= 1;
        let waker = if state.senders == 0 {
            state.rx_waker.take()
        } else {
            None
        };
        drop(state);
        wake_each(waker);
    }

    fn is_closed(&self) -> bool {
        lock(&self.state).rx_closed
    }

    fn poll_closed(&self, slot: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut fresh = None;
        loop {
            let mut state = lock(&self.state);
            if state.rx_closed {
                let old = slot.take().and_then(|i| state.closed_waiters.remove(i));
                drop(state);
                drop(old);
                return Poll::Ready(());
            }
            let i = match *slot {
                Some(i) => i,
                None => {
                    let i = state.closed_waiters.insert(None);
                    *slot = Some(i);
                    i
                }
            };
            match register(state.closed_waiters.get_mut(i), cx, &mut fresh) {
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

    fn drop_closed(&self, slot: Option<usize>) {
        if let Some(i) = slot {
            let mut state = lock(&self.state);
            let old = state.closed_waiters.remove(i);
            drop(state);
            drop(old);
        }
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut fresh = None;
        loop {
            let mut state = lock(&self.state);
            if let Some(value) = state.buf.pop_front() {
                let waker = if state.bounded { state.release() } else { None };
                drop(state);
                wake_each(waker);
                return Poll::Ready(Some(value));
            }
            if (state.senders == 0 || state.rx_closed) && state.in_flight() == 0 {
                return Poll::Ready(None);
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

    fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.state);
        if let Some(value) = state.buf.pop_front() {
            let waker = if state.bounded { state.release() } else { None };
            drop(state);
            wake_each(waker);
            return Ok(value);
        }
        if (state.senders == 0 || state.rx_closed) && state.in_flight() == 0 {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn close(&self) {
        let wakers = lock(&self.state).close();
        wake_each(wakers);
    }

    fn drop_receiver(&self) {
        let mut state = lock(&self.state);
        let wakers = state.close();
        state.rx_dropped = true;
        let values = std::mem::take(&mut state.buf);
        let old = state.rx_waker.take();
        drop(state);
        wake_each(wakers);
        drop(old);
        drop(values);
    }

    /// Pushes `value` into a slot already set aside (or any, when unbounded) and wakes the
    /// receiver. Consumes the guard.
    fn push(&self, mut state: std::sync::MutexGuard<'_, State<T>>, value: T) {
        state.buf.push_back(value);
        let waker = state.rx_waker.take();
        drop(state);
        wake_each(waker);
    }

    /// Waits for a slot. With `value`, fills it in the same critical section.
    fn poll_acquire(
        &self,
        waiter: &mut Option<usize>,
        value: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let mut fresh = None;
        loop {
            let mut state = lock(&self.state);
            if state.rx_closed {
                let mut wake = None;
                let mut old = None;
                if let Some(i) = waiter.take() {
                    let entry = state.waiters.remove(i);
                    if entry.granted {
                        wake = state.release();
                    } else if let Some(at) = state.queue.iter().position(|&q| q == i) {
                        state.queue.remove(at);
                    }
                    old = entry.waker;
                }
                drop(state);
                wake_each(wake);
                drop(old);
                return Poll::Ready(Err(()));
            }
            match *waiter {
                None if state.available > 0 => {
                    state.available -= 1;
                    if let Some(value) = value.take() {
                        self.push(state, value);
                    }
                    return Poll::Ready(Ok(()));
                }
                Some(i) if state.waiters.get_mut(i).granted => {
                    *waiter = None;
                    let old = state.waiters.remove(i).waker;
                    if let Some(value) = value.take() {
                        self.push(state, value);
                    } else {
                        drop(state);
                    }
                    drop(old);
                    return Poll::Ready(Ok(()));
                }
                Some(i) => match register(&mut state.waiters.get_mut(i).waker, cx, &mut fresh) {
                    Register::Done(old) => {
                        drop(state);
                        drop(old);
                        return Poll::Pending;
                    }
                    Register::NeedWaker => {
                        drop(state);
                        fresh = Some(cx.waker().clone());
                    }
                },
                None => match fresh.take() {
                    Some(waker) => {
                        let i = state.waiters.insert(Waiter {
                            waker: Some(waker),
                            granted: false,
                        });
                        state.queue.push_back(i);
                        *waiter = Some(i);
                        return Poll::Pending;
                    }
                    None => {
                        drop(state);
                        fresh = Some(cx.waker().clone());
                    }
                },
            }
        }
    }

    /// A waiting sender went away: gives back its slot if it had been granted one.
    fn cancel_acquire(&self, waiter: Option<usize>) {
        let Some(i) = waiter else { return };
        let mut state = lock(&self.state);
        let entry = state.waiters.remove(i);
        let wake = if entry.granted {
            state.release()
        } else {
            if let Some(at) = state.queue.iter().position(|&q| q == i) {
                state.queue.remove(at);
            }
            None
        };
        drop(state);
        wake_each(wake);
        drop(entry.waker);
    }

    /// Sets a slot aside now if one is free (for the `try_reserve` methods).
    fn try_acquire(&self) -> Result<(), TrySendError<()>> {
        let mut state = lock(&self.state);
        if state.rx_closed {
            return Err(TrySendError::Closed(()));
        }
        if state.available == 0 {
            return Err(TrySendError::Full(()));
        }
        state.available -= 1;
        Ok(())
    }

    /// Fills a slot set aside by a permit, also after the receiver's `close` (it receives the
    /// value before it sees the end, as in Tokio); if the receiver is gone, gives the slot back
    /// and drops `value` (after unlocking).
    fn send_reserved(&self, value: T) {
        let mut state = lock(&self.state);
        if state.rx_dropped {
            let wake = state.release();
            drop(state);
            wake_each(wake);
            drop(value);
        } else {
            self.push(state, value);
        }
    }

    /// Gives back a slot set aside by a [`Permit`] that was not used.
    fn release_permit(&self) {
        let mut state = lock(&self.state);
        let wake = state.release();
        drop(state);
        wake_each(wake);
    }
}

/// Makes a bounded channel for up to `buffer` messages at a time; returns its two ends.
///
/// The buffer is allocated now, once; sending and receiving allocate nothing.
///
/// # Panics
///
/// If `buffer` is 0.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc::{self, error::TrySendError};
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let chan = Chan::new(true, buffer);
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// Makes an unbounded channel; returns its two ends.
///
/// Sending never waits. Messages are kept in blocks that grow with the queue (see the
/// [module docs](self)): a send allocates a block when the last one is full and no emptied block
/// is kept for reuse, so a steady flow of messages allocates nothing once warmed up, and a
/// burst's blocks are freed as it is received (but for a few kept for reuse).
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for i in 0..100 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let mut sum = 0;
/// while let Ok(i) = rx.try_recv() {
///     sum += i;
/// }
/// assert_eq!(sum, 4950);
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(false, usize::MAX);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}

/// The sending end of a bounded channel from [`channel`]. Clone it for more producers; the
/// channel closes for the receiver once every sender is dropped.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     for id in 0..3 {
///         let tx = tx.clone();
///         ebbtide_std::spawn(async move { tx.send(id).await.unwrap() }).unwrap();
///     }
///     drop(tx);
///     let mut ids = Vec::new();
///     while let Some(id) = rx.recv().await {
///         ids.push(id);
///     }
///     ids.sort();
///     assert_eq!(ids, [0, 1, 2]);
/// });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving end of a bounded channel from [`channel`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::channel(2);
///     tx.send(5).await.unwrap();
///     assert_eq!(rx.recv().await, Some(5));
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// The sending end of an unbounded channel from [`unbounded_channel`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// let (tx, rx) = mpsc::unbounded_channel::<u8>();
/// drop(rx);
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving end of an unbounded channel from [`unbounded_channel`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     tx.send('a').unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some('a'));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

/// A slot set aside in a bounded channel by [`Sender::reserve`] or [`Sender::try_reserve`]:
/// [`send`](Permit::send) fills it without waiting; dropping the permit gives the slot back.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve().await.unwrap();
///     assert!(tx.try_send(0).is_err()); // the only slot is set aside
///     permit.send(1);
///     assert_eq!(rx.recv().await, Some(1));
/// });
/// ```
pub struct Permit<'a, T> {
    chan: Option<&'a Chan<T>>,
}

/// A future that resolves once the receiver of a channel is closed or dropped
/// ([`Sender::closed`], [`UnboundedSender::closed`]).
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = mpsc::channel::<u8>(1);
///     drop(rx);
///     tx.closed().await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    chan: &'a Chan<T>,
    slot: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.chan.poll_closed(&mut this.slot, cx)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        self.chan.drop_closed(self.slot.take());
    }
}

/// The future of [`Sender::send`]: waits for room, then sends. Dropping it while it waits
/// gives up its place in line (and the slot, if one was already set aside for it, goes to the
/// next sender in line).
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    waiter: Option<usize>,
}

// Nothing here is pinned structurally: the value is moved out by value.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // Without its value, a poll would take a slot and fill nothing.
        assert!(this.value.is_some(), "`Send` polled after completion");
        match this
            .chan
            .poll_acquire(&mut this.waiter, &mut this.value, cx)
        {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(())) => Poll::Ready(Err(SendError(
                this.value.take().expect("the value stays until it is sent"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_acquire(self.waiter.take());
    }
}

/// The future of [`Sender::reserve`].
#[must_use = "futures do nothing unless awaited"]
pub struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    waiter: Option<usize>,
}

impl<'a, T> Future for Reserve<'a, T> {
    type Output = Result<Permit<'a, T>, SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.chan.poll_acquire(&mut this.waiter, &mut None, cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(Permit {
                chan: Some(this.chan),
            })),
            Poll::Ready(Err(())) => Poll::Ready(Err(SendError(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_acquire(self.waiter.take());
    }
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the slot set aside. After [`Receiver::close`] the value is still
    /// received (a permit taken before the close keeps its slot, as in Tokio); if the receiver
    /// has been dropped meanwhile, the value is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(2);
    ///     tx.reserve().await.unwrap().send("hi");
    ///     assert_eq!(rx.recv().await, Some("hi"));
    /// });
    /// ```
    pub fn send(mut self, value: T) {
        let chan = self.chan.take().expect("a permit sends once");
        chan.send_reserved(value);
    }

    /// Keeps the slot set aside and forgets the permit (an [`OwnedPermit`] takes it over).
    fn keep(mut self) {
        self.chan = None;
    }
}

/// A slot set aside in a bounded channel by [`Sender::reserve_owned`] or
/// [`Sender::try_reserve_owned`]: an owned [`Permit`], holding the [`Sender`] it came from, so
/// it can move into another task or thread. [`send`](OwnedPermit::send) fills the slot without
/// waiting and gives the sender back; dropping the permit (or
/// [`release`](OwnedPermit::release)) gives the slot back.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve_owned().await.unwrap();
///     let task = ebbtide_std::spawn(async move {
///         let tx = permit.send("from a task");
///         drop(tx);
///     })
///     .unwrap();
///     assert_eq!(rx.recv().await, Some("from a task"));
///     task.await.unwrap();
/// });
/// ```
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the slot set aside and gives the sender back. After
    /// [`Receiver::close`] the value is still received (as in Tokio); if the receiver has been
    /// dropped meanwhile, the value is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("a permit sends once");
        sender.chan.send_reserved(value);
        sender
    }

    /// Gives the slot back without sending, and the sender with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("a permit is released once");
        sender.chan.release_permit();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            // The slot first, then the sender (which may be the last one).
            sender.chan.release_permit();
            drop(sender);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// A sender that does not keep the channel open: the receiver sees the channel closed once every
/// [`Sender`] is dropped, whatever the weak ones. [`upgrade`](WeakSender::upgrade) gives a
/// `Sender` while one still exists. Made by [`Sender::downgrade`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel::<u8>(1);
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().try_send(1).unwrap();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert!(rx.try_recv().is_err()); // closed: no sender left
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if any still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.upgrade_sender().then(|| Sender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

/// An [`UnboundedSender`] that does not keep the channel open, as [`WeakSender`] for bounded
/// channels. Made by [`UnboundedSender::downgrade`].
///
/// # Examples
///
/// ```
/// let (tx, _rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().send(1).unwrap();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// An [`UnboundedSender`], if any still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.upgrade_sender().then(|| UnboundedSender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if let Some(chan) = self.chan.take() {
            chan.release_permit();
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room first. Fails, handing the value back, once the receiver
    /// is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            value: Some(value),
            waiter: None,
        }
    }

    /// Sends `value` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the buffer is full (or every free slot is set aside),
    /// [`TrySendError::Closed`] when the receiver is closed or dropped; both hand the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, rx) = mpsc::channel(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = lock(&self.chan.state);
        if state.rx_closed {
            return Err(TrySendError::Closed(value));
        }
        if state.available == 0 {
            return Err(TrySendError::Full(value));
        }
        state.available -= 1;
        self.chan.push(state, value);
        Ok(())
    }

    /// Waits for room and sets a slot aside for a later [`Permit::send`].
    ///
    /// # Errors
    ///
    /// [`SendError`] once the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     permit.send(7);
    ///     assert_eq!(rx.recv().await, Some(7));
    /// });
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve {
            chan: &self.chan,
            waiter: None,
        }
    }

    /// Waits for room and sets a slot aside, like [`reserve`](Sender::reserve), for an
    /// [`OwnedPermit`] that holds this sender: it can move into another task or thread, and
    /// gives the sender back when it sends.
    ///
    /// # Errors
    ///
    /// [`SendError`] once the receiver is closed or dropped (the sender is dropped then).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     let tx = permit.send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     drop(permit); // gives the slot back (and drops the sender)
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.reserve().await?.keep();
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Sets a slot aside if there is room now, for a later [`Permit::send`]. Dropping the
    /// permit gives the slot back.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when every slot is taken or set aside, [`TrySendError::Closed`]
    /// when the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    /// permit.send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// drop(rx);
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_acquire()?;
        Ok(Permit {
            chan: Some(&self.chan),
        })
    }

    /// Sets a slot aside if there is room now, for an [`OwnedPermit`] that holds this sender.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`] as for
    /// [`try_reserve`](Sender::try_reserve), handing the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// let tx = match tx.try_reserve_owned() {
    ///     Err(TrySendError::Full(tx)) => tx,
    ///     _ => unreachable!("the only slot is set aside"),
    /// };
    /// drop(permit.send(2));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// assert!(tx.try_reserve_owned().is_ok());
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_acquire() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Sends `value`, blocking the current thread until there is room: for code outside any
    /// runtime, e.g. a plain [`std::thread`] feeding a task. Parks the thread while it waits;
    /// allocates once per call (the thread's waker).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value once the receiver is closed or dropped.
    ///
    /// # Panics
    ///
    /// On a thread that runs an ebbtide runtime (in its `block_on`, e.g. in a task): await
    /// [`send`](Sender::send) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.blocking_send(i).unwrap();
    ///     }
    /// });
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     for i in 0..3 {
    ///         assert_eq!(rx.recv().await, Some(i));
    ///     }
    /// });
    /// producer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on(self.send(value))
    }

    /// A [`WeakSender`]: one that does not keep the channel open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// Resolves once the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = mpsc::channel::<()>(1);
    ///     rx.close();
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            chan: &self.chan,
            slot: None,
        }
    }

    /// Whether the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::channel::<()>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The number of messages that could be sent now without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::channel(3);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        lock(&self.chan.state).available
    }

    /// The channel's buffer size, as given to [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::channel::<u8>(16);
    /// assert_eq!(tx.max_capacity(), 16);
    /// ```
    pub fn max_capacity(&self) -> usize {
        lock(&self.chan.state).bound
    }

    /// Whether `other` sends into the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting for one. `None` once the channel is closed (every
    /// sender dropped, or [`close`](Receiver::close) called) and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(2);
    ///     tx.send(1).await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives the next message, blocking the current thread until there is one: for code
    /// outside any runtime, e.g. a plain [`std::thread`] fed by tasks. `None` once the channel
    /// is closed and drained. Parks the thread while it waits; allocates once per call (the
    /// thread's waker).
    ///
    /// # Panics
    ///
    /// On a thread that runs an ebbtide runtime (in its `block_on`, e.g. in a task): await
    /// [`recv`](Receiver::recv) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// let consumer = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while let Some(i) = rx.blocking_recv() {
    ///         got.push(i);
    ///     }
    ///     got
    /// });
    /// ebbtide_std::Runtime::new().unwrap().block_on(async move {
    ///     for i in 0..3 {
    ///         tx.send(i).await.unwrap();
    ///     }
    /// });
    /// assert_eq!(consumer.join().unwrap(), [0, 1, 2]);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on(self.recv())
    }

    /// Polls for the next message (the poll form of [`recv`](Receiver::recv)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = ebbtide_std::sync::mpsc::channel(1);
    ///     tx.try_send(3).unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Receives a message if one is queued now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is queued, [`TryRecvError::Disconnected`] if none is
    /// queued and none will come.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Closes the channel: sends fail from now on, and waiting senders wake up with an error.
    /// Messages already queued can still be received, and so can those of permits taken before
    /// the close ([`Sender::reserve`], [`Sender::try_reserve_owned`], ...), which may still send
    /// as in Tokio: `recv` returns `None` once the queue is empty and every such permit was used
    /// or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "the permit may still send");
    /// permit.send(3);
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the channel is closed: by [`close`](Receiver::close) or because every sender
    /// is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let state = lock(&self.chan.state);
        state.rx_closed || state.senders == 0
    }

    /// Whether no message is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::channel(1);
    /// assert!(rx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn is_empty(&self) -> bool {
        lock(&self.chan.state).buf.is_empty()
    }

    /// The number of messages queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.chan.state).buf.len()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` now. Fails, handing it back, only once the receiver is closed or dropped.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value once the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let state = lock(&self.chan.state);
        if state.rx_closed {
            return Err(SendError(value));
        }
        self.chan.push(state, value);
        Ok(())
    }

    /// Resolves once the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    ///     drop(rx);
    ///     tx.closed().await;
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            chan: &self.chan,
            slot: None,
        }
    }

    /// Whether the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Whether `other` sends into the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`]: one that does not keep the channel open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message, waiting for one; `None` once the channel is closed and
    /// drained.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = ebbtide_std::sync::mpsc::unbounded_channel();
    ///     tx.send(1).unwrap();
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives the next message, blocking the current thread until there is one, as
    /// [`Receiver::blocking_recv`]. `None` once the channel is closed and drained.
    ///
    /// # Panics
    ///
    /// On a thread that runs an ebbtide runtime: await [`recv`](UnboundedReceiver::recv)
    /// there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let consumer = std::thread::spawn(move || rx.blocking_recv());
    /// ebbtide_std::Runtime::new().unwrap().block_on(async move {
    ///     ebbtide_std::spawn(async move { tx.send("hi").unwrap() }).unwrap().await.unwrap();
    /// });
    /// assert_eq!(consumer.join().unwrap(), Some("hi"));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on(self.recv())
    }

    /// Polls for the next message.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = ebbtide_std::sync::mpsc::unbounded_channel();
    ///     tx.send(3).unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Receives a message if one is queued now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or [`TryRecvError::Disconnected`], as for [`Receiver::try_recv`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Closes the channel: sends fail from now on; queued messages can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the channel is closed (by [`close`](UnboundedReceiver::close) or because every
    /// sender is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let state = lock(&self.chan.state);
        state.rx_closed || state.senders == 0
    }

    /// The number of messages queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.chan.state).buf.len()
    }

    /// Whether no message is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ebbtide_std::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        lock(&self.chan.state).buf.is_empty()
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver").finish_non_exhaustive()
    }
}
