//! Single-value, many-reader channels with owned ends, as in Tokio.
//!
//! [`channel`] makes one holding an initial value. The [`Sender`] replaces the value; each
//! [`Receiver`] [`borrow`](Receiver::borrow)s the newest value and waits for the next with
//! [`changed`](Receiver::changed). The static channel of [`ebbtide_core::sync::watch`] is here
//! too: [`Watch`], whose ends are [`SplitSender`] and [`SplitReceiver`].
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::sync::watch;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     ebbtide_std::spawn(async move { tx.send("ready").unwrap() }).unwrap();
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "ready");
//! });
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::task::{Context, Poll, Waker};

use super::{lock, register, wake_all, wake_each, Register, Slab};

pub use ebbtide_core::sync::watch::{
    Changed as SplitChanged, Receiver as SplitReceiver, Sender as SplitSender, Watch,
};

/// The errors of the watch channel, at Tokio's paths.
///
/// # Examples
///
/// ```
/// use ebbtide_std::sync::watch::{self, error::SendError};
///
/// let (tx, rx) = watch::channel(0);
/// drop(rx);
/// assert_eq!(tx.send(1), Err(SendError(1)));
/// ```
pub mod error {
    use std::fmt;

    /// [`Receiver::changed`](super::Receiver::changed) failed: the sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the watch channel is closed: its sender was dropped")
        }
    }

    impl std::error::Error for RecvError {}

    /// [`Sender::send`](super::Sender::send) failed: no receiver is left. Holds the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// drop(rx);
    /// assert_eq!(tx.send(5).unwrap_err().0, 5);
    /// ```
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("SendError(..)")
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the watch channel has no receiver")
        }
    }

    impl<T> std::error::Error for SendError<T> {}
}

pub use error::{RecvError, SendError};

struct State {
    sender_alive: bool,
    receivers: usize,
    /// One waker slot per receiver.
    wakers: Slab<Option<Waker>>,
    /// `Sender::closed` futures.
    closed_wakers: Slab<Option<Waker>>,
}

struct Shared<T> {
    value: RwLock<T>,
    /// Bumped (under the value's write lock) on every send.
    version: AtomicU64,
    state: Mutex<State>,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn new_receiver(self: &Arc<Self>, seen: u64) -> Receiver<T> {
        let mut state = lock(&self.state);
        state.receivers += 1;
        let slot = state.wakers.insert(None);
        drop(state);
        Receiver {
            shared: self.clone(),
            seen,
            slot,
        }
    }

    /// Wakes every receiver waiting in `changed`.
    fn notify(&self) {
        let state = lock(&self.state);
        wake_all(&self.state, state, |s| &mut s.wakers);
    }
}

/// Makes a watch channel holding `init`; returns its sender and a first receiver.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ebbtide_std::sync::watch::channel(1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicU64::new(0),
        state: Mutex::new(State {
            sender_alive: true,
            receivers: 0,
            wakers: Slab::new(),
            closed_wakers: Slab::new(),
        }),
    });
    let receiver = shared.new_receiver(0);
    (Sender { shared }, receiver)
}

/// The sending end of a watch channel.
///
/// # Examples
///
/// ```
/// let (tx, rx) = ebbtide_std::sync::watch::channel(vec![1]);
/// tx.send_modify(|v| v.push(2));
/// assert_eq!(*rx.borrow(), [1, 2]);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving end of a watch channel. Clone it for another reader; a clone has seen what the
/// original has seen.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
///     let mut other = rx.clone();
///     tx.send(1).unwrap();
///     rx.changed().await.unwrap();
///     other.changed().await.unwrap();
///     assert_eq!(*other.borrow(), 1);
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
    slot: usize,
}

/// A read lock on the value of a watch channel ([`Receiver::borrow`], [`Sender::borrow`]).
/// Hold it briefly: the sender waits for it to send.
///
/// # Examples
///
/// ```
/// let (_tx, rx) = ebbtide_std::sync::watch::channel(String::from("hi"));
/// let value = rx.borrow();
/// assert_eq!(value.len(), 2);
/// assert!(!value.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value is newer than what the receiver had seen when borrowing it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T> Sender<T> {
    /// Replaces the value and notifies the receivers; fails (handing the value back, storing
    /// nothing) when no receiver is left.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when every receiver is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if lock(&self.shared.state).receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value whether or not a receiver is left, notifies the receivers, and
    /// returns the old value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut guard = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let old = std::mem::replace(&mut *guard, value);
            self.shared.version.fetch_add(1, Ordering::SeqCst);
            old
        };
        self.shared.notify();
        old
    }

    /// Changes the value in place with `modify` and notifies the receivers (even with no
    /// receiver left). `modify` runs under the value's write lock: it must not use this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(1);
    /// tx.send_modify(|v| *v += 10);
    /// assert_eq!(*rx.borrow(), 11);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Changes the value in place with `modify`, and notifies the receivers if it returns
    /// `true`. Returns what `modify` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(1);
    /// assert!(!tx.send_if_modified(|_| false));
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let modified = {
            let mut guard = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let modified = modify(&mut guard);
            if modified {
                self.shared.version.fetch_add(1, Ordering::SeqCst);
            }
            modified
        };
        if modified {
            self.shared.notify();
        }
        modified
    }

    /// Borrows the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = ebbtide_std::sync::watch::channel(3);
    /// assert_eq!(*tx.borrow(), 3);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(tx.send(1).is_ok());
    /// assert_eq!(*rx.borrow(), 1);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let seen = self.shared.version.load(Ordering::SeqCst);
        self.shared.new_receiver(seen)
    }

    /// The number of receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// let _other = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }

    /// Whether every receiver is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Resolves once every receiver is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    ///     ebbtide_std::spawn(async move { drop(rx) }).unwrap();
    ///     tx.closed().await;
    /// });
    /// ```
    pub async fn closed(&self) {
        let mut slot = None;
        let guard = SlotGuard {
            state: &self.shared.state,
            slot: &mut slot,
        };
        std::future::poll_fn(|cx| {
            let mut fresh = None;
            loop {
                let mut state = lock(&self.shared.state);
                if state.receivers == 0 {
                    return Poll::Ready(());
                }
                let i = *guard
                    .slot
                    .get_or_insert_with(|| state.closed_wakers.insert(None));
                match register(state.closed_wakers.get_mut(i), cx, &mut fresh) {
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
        })
        .await;
        drop(guard);
    }
}

/// Frees a `Sender::closed` waker slot when the future completes or is dropped.
struct SlotGuard<'a> {
    state: &'a Mutex<State>,
    slot: &'a mut Option<usize>,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            let mut state = lock(self.state);
            let old = state.closed_wakers.remove(i);
            drop(state);
            drop(old);
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.sender_alive = false;
        wake_all(&self.shared.state, state, |s| &mut s.wakers);
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Borrows the newest value without marking it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// tx.send(4).unwrap();
    /// assert_eq!(*rx.borrow(), 4);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let has_changed = self.shared.version.load(Ordering::SeqCst) != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the newest value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
    /// tx.send(4).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 4);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        // Under the read lock no send is under way: this version is the value's.
        let version = self.shared.version.load(Ordering::SeqCst);
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a value newer than the one seen is there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if !lock(&self.shared.state).sender_alive {
            return Err(RecvError(()));
        }
        Ok(self.shared.version.load(Ordering::SeqCst) != self.seen)
    }

    /// Marks the newest value seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(Ordering::SeqCst);
    }

    /// Waits for a value newer than the one seen, and marks it seen. Fails once the sender is
    /// dropped (after any value it sent last was reported).
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone and nothing new is there.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, mut rx) = ebbtide_std::sync::watch::channel(0);
    ///     ebbtide_std::spawn(async move { tx.send(1).unwrap() }).unwrap();
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        std::future::poll_fn(|cx| self.poll_changed(cx)).await
    }

    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        let mut fresh = None;
        loop {
            let mut state = lock(&self.shared.state);
            // Read under the state lock: a send bumps the version before it takes this lock
            // to wake, so a version read as unchanged here is followed by a wake.
            let version = self.shared.version.load(Ordering::SeqCst);
            if version != self.seen {
                self.seen = version;
                return Poll::Ready(Ok(()));
            }
            if !state.sender_alive {
                return Poll::Ready(Err(RecvError(())));
            }
            match register(state.wakers.get_mut(self.slot), cx, &mut fresh) {
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

    /// Whether `other` watches the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = ebbtide_std::sync::watch::channel(0);
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.new_receiver(self.seen)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.receivers -= 1;
        let old = state.wakers.remove(self.slot);
        let closers = if state.receivers == 0 {
            state.closed_wakers.take_all()
        } else {
            Vec::new()
        };
        drop(state);
        drop(old);
        wake_each(closers);
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}
