//! A watch cell: one current value, any number of receivers told when it changes.
//!
//! A [`Watch`] holds the latest value and a version number that every send bumps; it has a
//! `const` constructor, so it can be a `static`, or it can live on the stack. The semantics are
//! tokio's `watch`:
//!
//! - [`Sender::send`] (and [`send_replace`](Sender::send_replace),
//!   [`send_modify`](Sender::send_modify), [`send_if_modified`](Sender::send_if_modified))
//!   stores a new value and wakes every receiver waiting in [`Receiver::changed`]. It never
//!   waits and never fails: unlike tokio, the value is stored even when no receiver exists yet,
//!   because the receivers of a `static` watch may come later.
//! - Each [`Receiver`] remembers the version it last *saw*. [`changed`](Receiver::changed)
//!   completes as soon as the current version is newer and marks it seen; the value is then read
//!   with [`get`](Receiver::get) or [`with`](Receiver::with), which always give the **latest**
//!   value. Intermediate values a receiver was too slow for are skipped, never delivered stale.
//! - There is no guard that holds the lock: reads copy the value out ([`Receiver::get`], for
//!   `T: Clone`) or run a short closure on it ([`Receiver::with`]).
//!
//! # Closing
//!
//! Senders are counted: [`Watch::sender`] makes one, and [`Sender`] is `Clone`. When the last
//! `Sender` is dropped (after at least one was made) the watch is **closed** for good:
//! [`changed`](Receiver::changed) then returns [`RecvError`] once the receiver has seen the latest
//! version (a change made before the close is still reported first). The value stays readable.
//! A `Sender` made after the close can still store values (receivers that have not seen them get
//! `Ok` from `changed`), but the watch stays closed.
//!
//! # Locking
//!
//! The state is behind one short lock. Wakers are cloned before it is taken and dropped or woken
//! after it is released, and replaced values are dropped outside it, so that user code may use
//! the watch again. Four kinds of user code do run inside it, because the value lives there:
//! `T::clone` (in [`get`](Watch::get), [`Receiver::get`], [`Receiver::get_and_update`]), `T`'s
//! `Debug` (in the watch's), and the closures of [`with`](Watch::with), [`Receiver::with`],
//! [`send_modify`](Sender::send_modify) and [`send_if_modified`](Sender::send_if_modified).
//! Keep them short (on a microcontroller they run with interrupts masked), and do not use the
//! same watch from them: such a call **panics** (or, with a
//! [`SpinRawMutex`](crate::blocking_mutex::SpinRawMutex), spins forever), the outer call
//! publishes nothing and marks nothing seen, and the watch works as before. Tokio's `watch`
//! holds its lock there too (where re-entering deadlocks).
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::watch::Watch;
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//! static TEMPERATURE: Watch<i32> = Watch::new(20);
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let mut rx = TEMPERATURE.receiver();
//! let reader = runner
//!     .spawner()
//!     .spawn(&POOL, async move {
//!         let mut readings = Vec::new();
//!         while rx.changed().await.is_ok() {
//!             readings.push(rx.get());
//!         }
//!         readings
//!     })
//!     .unwrap();
//! let tx = TEMPERATURE.sender();
//! runner.poll(); // the reader waits for a change
//! tx.send(21);
//! tx.send(22); // the reader has not run: it sees only the latest value
//! drop(tx); // closes the watch
//! assert_eq!(runner.run_until(reader, || {}), Ok(vec![22]));
//! ```

use core::fmt;
use core::future::Future;
use core::mem;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, RawMutex};
use crate::sync::wait_list::{wake_in_batches, Node, WaitList};
use crate::sync::waker::lock_registering;

/// A value of type `T` that receivers can watch for changes, guarded by the lock `M`.
///
/// See the [module docs](self) for the semantics.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::watch::Watch;
///
/// static MODE: Watch<&str> = Watch::new("idle");
/// let tx = MODE.sender();
/// let rx = MODE.receiver();
/// assert!(!rx.has_changed());
/// tx.send("busy");
/// assert!(rx.has_changed());
/// assert_eq!(MODE.get(), "busy");
/// ```
pub struct Watch<T, M: RawMutex = CriticalSectionRawMutex> {
    state: BlockingMutex<M, State<T>>,
}

struct State<T> {
    value: T,
    /// Bumped by every send; a receiver that saw an older version has a change to see.
    version: u64,
    /// Live `Sender`s.
    senders: usize,
    /// The last `Sender` was dropped (see [Closing](self#closing)).
    closed: bool,
    /// Receivers waiting in `changed()` (each has seen `version`), oldest first.
    waiters: WaitList<Waiting>,
}

/// The payload of a `Changed` future's node.
#[derive(Debug)]
struct Waiting {
    /// The receiver's seen version, kept here while the future lives (written back on drop).
    /// Linked nodes have seen the version current when they were linked, so the list is in
    /// order of it, which lets a send wake exactly those before its new version.
    seen: u64,
}

impl<T> Watch<T> {
    crate::loom_const_fn! {
        /// A watch holding `initial` (version 0), guarded by a [`CriticalSectionRawMutex`]; see
        /// [`Watch::with_mutex`] for another lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::watch::Watch;
        ///
        /// static LEVEL: Watch<u8> = Watch::new(3);
        /// assert_eq!(LEVEL.get(), 3);
        /// ```
        pub fn new(initial: T) -> Watch<T> {
            Watch::with_mutex(initial)
        }
    }
}

impl<T, M: RawMutex> Watch<T, M> {
    crate::loom_const_fn! {
        /// A watch holding `initial` (version 0), guarded by the lock `M`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::watch::Watch;
        ///
        /// let watch: Watch<u32, LocalRawMutex> = Watch::with_mutex(1);
        /// assert_eq!(watch.get(), 1);
        /// ```
        pub fn with_mutex(initial: T) -> Watch<T, M> {
            Watch {
                state: BlockingMutex::new(State {
                    value: initial,
                    version: 0,
                    senders: 0,
                    closed: false,
                    waiters: WaitList::new(),
                }),
            }
        }
    }

    /// A new [`Sender`]. The watch closes when the last sender is dropped (see
    /// [Closing](self#closing)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// tx.send(1);
    /// assert_eq!(watch.get(), 1);
    /// ```
    pub fn sender(&self) -> Sender<'_, T, M> {
        self.state.lock(|state| state.senders += 1);
        Sender { watch: self }
    }

    /// A new [`Receiver`] that has seen the current value: its
    /// [`changed`](Receiver::changed) waits for the next send.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// tx.send(1);
    /// let rx = watch.receiver();
    /// assert!(!rx.has_changed());
    /// assert_eq!(rx.get(), 1);
    /// ```
    pub fn receiver(&self) -> Receiver<'_, T, M> {
        let seen = self.state.lock(|state| state.version);
        Receiver { watch: self, seen }
    }

    /// A copy of the current value.
    ///
    /// # Panics
    ///
    /// If `T::clone` uses this watch (see [Locking](self#locking)); the watch is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new([1, 2]);
    /// assert_eq!(watch.get(), [1, 2]);
    /// ```
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.state.lock(|state| state.value.clone())
    }

    /// Runs `f` on the current value, under the lock (keep it short).
    ///
    /// # Panics
    ///
    /// If `f` uses this watch (see [Locking](self#locking)); the watch is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new([1, 2, 3]);
    /// assert_eq!(watch.with(|values| values.iter().sum::<i32>()), 6);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.state.lock(|state| f(&state.value))
    }

    /// Whether the watch is closed (see [Closing](self#closing)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// assert!(!watch.is_closed());
    /// drop(tx);
    /// assert!(watch.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock(|state| state.closed)
    }

    /// Runs `modify` on the value under the lock; if it returns `true`, bumps the version and
    /// wakes the waiting receivers, outside the lock. Returns what `modify` returned, with
    /// whatever `modify` put aside to drop outside the lock.
    fn update<R>(&self, modify: impl FnOnce(&mut T) -> (bool, R)) -> R {
        let mut modify = Some(modify);
        let mut outcome = None;
        let mut new_version = None;
        wake_in_batches(&self.state, |state, batch| {
            if let Some(modify) = modify.take() {
                let (changed, out) = modify(&mut state.value);
                outcome = Some(out);
                if !changed {
                    return true;
                }
                state.version += 1;
                new_version = Some(state.version);
            }
            let Some(target) = new_version else {
                return true;
            };
            while !batch.is_full() {
                if state.waiters.with_front(|w| w.payload.seen < target) != Some(true) {
                    return true;
                }
                batch.push(state.waiters.pop_front_with(|w| w.waker.take()).flatten());
            }
            false
        });
        match outcome {
            Some(out) => out,
            None => unreachable!("the first batch runs `modify`"),
        }
    }
}

impl<T: Default> Default for Watch<T> {
    fn default() -> Self {
        Watch::new(T::default())
    }
}

/// Formats the value under the lock: `T`'s `Debug` must not use the watch (it would panic).
impl<T: fmt::Debug, M: RawMutex> fmt::Debug for Watch<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.lock(|state| {
            f.debug_struct("Watch")
                .field("value", &state.value)
                .field("version", &state.version)
                .field("closed", &state.closed)
                .finish()
        })
    }
}

/// A sending end of a [`Watch`]; clone it for more producers.
///
/// When the last `Sender` is dropped the watch closes (see [Closing](self#closing)).
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::watch::Watch;
///
/// let watch = Watch::new(0);
/// let tx = watch.sender();
/// let tx2 = tx.clone();
/// tx2.send(2);
/// drop(tx);
/// assert!(!watch.is_closed());
/// drop(tx2);
/// assert!(watch.is_closed());
/// ```
pub struct Sender<'a, T, M: RawMutex = CriticalSectionRawMutex> {
    watch: &'a Watch<T, M>,
}

impl<'a, T, M: RawMutex> Sender<'a, T, M> {
    /// Stores `value` (dropping the old one) and wakes every receiver waiting for a change.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new("a");
    /// let tx = watch.sender();
    /// tx.send("b");
    /// assert_eq!(watch.get(), "b");
    /// ```
    pub fn send(&self, value: T) {
        drop(self.send_replace(value));
    }

    /// Stores `value`, wakes every receiver waiting for a change, and returns the old value.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(1);
    /// let tx = watch.sender();
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        self.watch
            .update(|current| (true, mem::replace(current, value)))
    }

    /// Changes the value in place with `modify` (run under the lock: keep it short), then wakes
    /// every receiver waiting for a change. If `modify` panics, nobody is told of a change (what
    /// it changed before panicking stays).
    ///
    /// # Panics
    ///
    /// If `modify` uses this watch (see [Locking](self#locking)); no change is published.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new([0u32; 4]);
    /// let tx = watch.sender();
    /// let rx = watch.receiver();
    /// tx.send_modify(|counters| counters[2] += 1);
    /// assert!(rx.has_changed());
    /// assert_eq!(watch.get(), [0, 0, 1, 0]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.watch.update(|value| (true, modify(value)));
    }

    /// Changes the value in place with `modify` (run under the lock: keep it short); only if
    /// `modify` returns `true` is it a change that receivers are told about. Returns what
    /// `modify` returned.
    ///
    /// # Panics
    ///
    /// If `modify` uses this watch (see [Locking](self#locking)); no change is published.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(5);
    /// let tx = watch.sender();
    /// let rx = watch.receiver();
    /// let raise_to = |target: i32| move |level: &mut i32| {
    ///     let raise = *level < target;
    ///     if raise {
    ///         *level = target;
    ///     }
    ///     raise
    /// };
    /// assert!(!tx.send_if_modified(raise_to(3)));
    /// assert!(!rx.has_changed());
    /// assert!(tx.send_if_modified(raise_to(8)));
    /// assert!(rx.has_changed());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        self.watch.update(|value| {
            let changed = modify(value);
            (changed, changed)
        })
    }

    /// A new [`Receiver`], as [`Watch::receiver`] makes: it has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// let rx = tx.subscribe();
    /// tx.send(1);
    /// assert!(rx.has_changed());
    /// ```
    pub fn subscribe(&self) -> Receiver<'a, T, M> {
        self.watch.receiver()
    }

    /// The watch this sender updates.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(7);
    /// let tx = watch.sender();
    /// assert_eq!(tx.watch().get(), 7);
    /// ```
    pub fn watch(&self) -> &'a Watch<T, M> {
        self.watch
    }
}

impl<T, M: RawMutex> Clone for Sender<'_, T, M> {
    fn clone(&self) -> Self {
        self.watch.sender()
    }
}

impl<T, M: RawMutex> Drop for Sender<'_, T, M> {
    fn drop(&mut self) {
        let mut first = true;
        wake_in_batches(&self.watch.state, |state, batch| {
            if mem::take(&mut first) {
                state.senders -= 1;
                if state.senders > 0 || state.closed {
                    // Still open, or closed before (nobody waits on a closed watch).
                    return true;
                }
                state.closed = true;
            }
            // Every waiter has seen the latest version: wake them all to report the close.
            while !batch.is_full() {
                match state.waiters.pop_front_with(|w| w.waker.take()) {
                    Some(waker) => batch.push(waker),
                    None => return true,
                }
            }
            false
        });
    }
}

impl<T, M: RawMutex> fmt::Debug for Sender<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// A receiving end of a [`Watch`]: reads the value and waits for it to change.
///
/// Cloning it gives a receiver that has seen the same version.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::watch::Watch;
///
/// let watch = Watch::new(0);
/// let tx = watch.sender();
/// let mut rx = watch.receiver();
/// tx.send(1);
/// ebbtide_core::block_on(async {
///     rx.changed().await.unwrap();
///     assert_eq!(rx.get(), 1);
/// });
/// ```
pub struct Receiver<'a, T, M: RawMutex = CriticalSectionRawMutex> {
    watch: &'a Watch<T, M>,
    /// The version this receiver last saw.
    seen: u64,
}

impl<'a, T, M: RawMutex> Receiver<'a, T, M> {
    /// Waits until the value changes after the version this receiver last saw, and marks the
    /// current version seen.
    ///
    /// Completes at once if a change happened since. Read the (latest) value with
    /// [`get`](Receiver::get) or [`with`](Receiver::with).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the watch is closed (its last sender was dropped) and this receiver has
    /// seen the latest version.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the change is not marked seen,
    /// so the next `changed` still reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// let mut rx = watch.receiver();
    /// tx.send(1);
    /// drop(tx);
    /// ebbtide_core::block_on(async {
    ///     assert!(rx.changed().await.is_ok()); // the change made before the close
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, 'a, T, M> {
        Changed {
            node: Node::new(Waiting { seen: self.seen }),
            receiver: self,
        }
    }

    /// Whether the value changed since this receiver last saw it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// let mut rx = watch.receiver();
    /// assert!(!rx.has_changed());
    /// tx.send(1);
    /// assert!(rx.has_changed());
    /// rx.get_and_update();
    /// assert!(!rx.has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.watch.state.lock(|state| state.version != self.seen)
    }

    /// A copy of the current value (without marking it seen).
    ///
    /// # Panics
    ///
    /// If `T::clone` uses this watch (see [Locking](self#locking)); the watch is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(4);
    /// let rx = watch.receiver();
    /// assert_eq!(rx.get(), 4);
    /// ```
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.watch.get()
    }

    /// A copy of the current value, marking it seen.
    ///
    /// # Panics
    ///
    /// If `T::clone` uses this watch (see [Locking](self#locking)); nothing is marked seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// let mut rx = watch.receiver();
    /// tx.send(3);
    /// assert_eq!(rx.get_and_update(), 3);
    /// assert!(!rx.has_changed());
    /// ```
    pub fn get_and_update(&mut self) -> T
    where
        T: Clone,
    {
        let seen = &mut self.seen;
        self.watch.state.lock(|state| {
            // First the clone (user code, which may panic), then mark the version seen.
            let value = state.value.clone();
            *seen = state.version;
            value
        })
    }

    /// Runs `f` on the current value (without marking it seen), under the lock (keep it short).
    ///
    /// # Panics
    ///
    /// If `f` uses this watch (see [Locking](self#locking)); the watch is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new((1, "one"));
    /// let rx = watch.receiver();
    /// assert_eq!(rx.with(|&(_, name)| name.len()), 3);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.watch.with(f)
    }

    /// Marks the current version seen without reading it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(0);
    /// let tx = watch.sender();
    /// let mut rx = watch.receiver();
    /// tx.send(1);
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.watch.state.lock(|state| state.version);
    }

    /// The watch this receiver reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::watch::Watch;
    ///
    /// let watch = Watch::new(2);
    /// let rx = watch.receiver();
    /// assert_eq!(rx.watch().get(), 2);
    /// ```
    pub fn watch(&self) -> &'a Watch<T, M> {
        self.watch
    }
}

impl<T, M: RawMutex> Clone for Receiver<'_, T, M> {
    fn clone(&self) -> Self {
        Receiver {
            watch: self.watch,
            seen: self.seen,
        }
    }
}

impl<T, M: RawMutex> fmt::Debug for Receiver<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::changed`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::watch::{Changed, Watch};
///
/// let watch = Watch::new(0);
/// let tx = watch.sender();
/// let mut rx = watch.receiver();
/// tx.send(1);
/// let changed: Changed<'_, '_, i32> = rx.changed();
/// assert!(ebbtide_core::block_on(changed).is_ok());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Changed<'r, 'a, T, M: RawMutex = CriticalSectionRawMutex> {
    /// Borrowed for the future's life; its seen version is kept in `node` meanwhile and written
    /// back on drop (the future is pinned, so it cannot hand out `&mut` to this field while
    /// polled).
    receiver: &'r mut Receiver<'a, T, M>,
    node: Node<Waiting>,
}

impl<T, M: RawMutex> Future for Changed<'_, '_, T, M> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &*self;
        let node = &this.node;
        // A replaced waker is dropped outside the lock.
        lock_registering(&this.receiver.watch.state, cx.waker(), |state, waker| {
            let version = state.version;
            let seen = node.with(&mut state.waiters, |w| w.payload.seen);
            let ready = if seen != version {
                node.with(&mut state.waiters, |w| w.payload.seen = version);
                Ok(())
            } else if state.closed {
                Err(RecvError(()))
            } else {
                node.with(&mut state.waiters, |w| waker.store(&mut w.waker))?;
                if !node.is_linked(&state.waiters) {
                    // SAFETY: `this` is pinned (polled through `Pin`), its `Drop` removes the
                    // node under this lock, and the node is only used with this list; it is not
                    // linked (just checked).
                    unsafe { state.waiters.push_back(node) };
                }
                return Ok(Poll::Pending);
            };
            // Done waiting: leave the list if a send has not unlinked us yet.
            state.waiters.remove(node);
            Ok(Poll::Ready(ready))
        })
    }
}

impl<T, M: RawMutex> Drop for Changed<'_, '_, T, M> {
    fn drop(&mut self) {
        let node = &self.node;
        let (seen, waker) = self.receiver.watch.state.lock(|state| {
            state.waiters.remove(node);
            node.with(&mut state.waiters, |w| (w.payload.seen, w.waker.take()))
        });
        crate::sync::waker::drop_kept(waker);
        self.receiver.seen = seen;
    }
}

impl<T, M: RawMutex> fmt::Debug for Changed<'_, '_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed").finish_non_exhaustive()
    }
}

/// [`Receiver::changed`] found the watch closed (its last sender dropped) and nothing new.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::watch::Watch;
///
/// let watch = Watch::new(0);
/// let mut rx = watch.receiver();
/// drop(watch.sender());
/// let error = ebbtide_core::block_on(rx.changed()).unwrap_err();
/// assert!(error.to_string().contains("closed"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch is closed (its last sender was dropped) and has no new value")
    }
}

impl core::error::Error for RecvError {}
