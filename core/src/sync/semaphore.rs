//! [`Semaphore`]: a fair, FIFO counting semaphore.
//!
//! Permits released while tasks wait go to the oldest waiter first, even a partial amount: a
//! request for many permits at the head of the queue collects them as they come back, and later
//! requests (however small) wait behind it. So a large request is never starved, and the order in
//! which tasks asked is the order in which they are served. (This is tokio's `batch_semaphore`.)
//!
//! Invariant: while any task waits, [`Semaphore::available_permits`] is `0`.
//!
//! No user code runs under the semaphore's lock: wakers are cloned before it is taken and dropped
//! or woken after it is released, so a foreign waker may use the semaphore again.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::Semaphore;
//!
//! static CONNECTIONS: Semaphore = Semaphore::new(2);
//!
//! ebbtide_core::block_on(async {
//!     let a = CONNECTIONS.acquire().await.unwrap();
//!     let _b = CONNECTIONS.acquire().await.unwrap();
//!     assert!(CONNECTIONS.try_acquire().is_err());
//!     drop(a);
//!     assert!(CONNECTIONS.try_acquire().is_ok());
//! });
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, NoUserCode, RawMutex};
use crate::sync::wait_list::{wake_in_batches, Node, WaitList};
use crate::sync::waker::lock_registering;

/// A counting semaphore with fair (FIFO) acquisition.
///
/// See the [module docs](self) for the fairness rule. Generic over the [`RawMutex`] that guards
/// its state (see [`blocking_mutex`](crate::blocking_mutex)).
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Semaphore;
///
/// let semaphore = Semaphore::new(3);
/// let permits = semaphore.try_acquire_many(2).unwrap();
/// assert_eq!(semaphore.available_permits(), 1);
/// drop(permits);
/// assert_eq!(semaphore.available_permits(), 3);
/// ```
pub struct Semaphore<M: RawMutex = CriticalSectionRawMutex> {
    // `NoUserCode`: no closure of this lock runs user code (wakers are cloned, dropped and woken
    // outside it, and no `T` is dropped inside): see `BlockingMutex`.
    state: BlockingMutex<M, State, NoUserCode>,
}

struct State {
    /// Permits nobody holds. Always `0` while `waiters` is not empty.
    permits: usize,
    closed: bool,
    waiters: WaitList<Waiting>,
}

/// The payload of an `Acquire`'s node.
#[derive(Debug)]
struct Waiting {
    /// Permits still to be assigned to this waiter.
    remaining: usize,
    phase: Phase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    /// Polled at least once and not yet complete (linked, or unlinked with `remaining == 0`, or
    /// unlinked by `close`).
    Queued,
    Done,
}

impl Semaphore {
    crate::loom_const_fn! {
        /// A semaphore with `permits` permits, guarded by a [`CriticalSectionRawMutex`]; see
        /// [`Semaphore::with_mutex`] for another lock.
        ///
        /// # Panics
        ///
        /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::Semaphore;
        ///
        /// static SLOTS: Semaphore = Semaphore::new(4);
        /// assert_eq!(SLOTS.available_permits(), 4);
        /// ```
        pub fn new(permits: usize) -> Semaphore {
            Semaphore::with_mutex(permits)
        }
    }
}

impl<M: RawMutex> Semaphore<M> {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    crate::loom_const_fn! {
        /// A semaphore with `permits` permits, guarded by the lock `M`.
        ///
        /// # Panics
        ///
        /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::SpinRawMutex;
        /// use ebbtide_core::sync::Semaphore;
        ///
        /// static SLOTS: Semaphore<SpinRawMutex> = Semaphore::with_mutex(1);
        /// assert!(SLOTS.try_acquire().is_ok());
        /// ```
        pub fn with_mutex(permits: usize) -> Semaphore<M> {
            assert!(permits <= Self::MAX_PERMITS, "a semaphore holds at most MAX_PERMITS permits");
            Semaphore {
                state: BlockingMutex::new(State {
                    permits,
                    closed: false,
                    waiters: WaitList::new(),
                }),
            }
        }
    }

    /// How many permits are free now (`0` while any task waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(2);
    /// let _permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.lock(|state| state.permits)
    }

    /// Adds `n` permits, handing them to waiters first, oldest first.
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(0);
    /// semaphore.add_permits(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Takes one permit if one is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if the semaphore is closed, [`TryAcquireError::NoPermits`] if
    /// no permit is free (or tasks wait for them).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(permit);
    /// semaphore.close();
    /// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_, M>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits at once if they are free and nobody waits.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Semaphore::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// assert!(semaphore.try_acquire_many(4).is_err());
    /// let permits = semaphore.try_acquire_many(3).unwrap();
    /// assert_eq!(permits.num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_, M>, TryAcquireError> {
        let n = n as usize;
        self.state.lock(|state| {
            if state.closed {
                Err(TryAcquireError::Closed)
            } else if state.permits >= n {
                state.permits -= n;
                Ok(SemaphorePermit {
                    semaphore: self,
                    permits: n,
                })
            } else {
                Err(TryAcquireError::NoPermits)
            }
        })
    }

    /// Waits for one permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before the permit was assigned.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, but dropping the future loses its place in the queue. Permits already
    /// assigned to a dropped future go back to the semaphore (and to the next waiters).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// ebbtide_core::block_on(async {
    ///     let permit = semaphore.acquire().await.unwrap();
    ///     assert_eq!(permit.num_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_, M> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken together.
    ///
    /// While this request is the oldest, permits that come back are set aside for it, so smaller
    /// requests behind it wait too.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before all `n` permits were assigned.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Semaphore::acquire): permits assigned to a dropped future are returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(5);
    /// ebbtide_core::block_on(async {
    ///     let permits = semaphore.acquire_many(5).await.unwrap();
    ///     assert_eq!(semaphore.available_permits(), 0);
    ///     drop(permits);
    /// });
    /// assert_eq!(semaphore.available_permits(), 5);
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_, M> {
        let n = n as usize;
        Acquire {
            semaphore: self,
            wanted: n,
            node: Node::new(Waiting {
                remaining: n,
                phase: Phase::Init,
            }),
        }
    }

    /// Closes the semaphore: waiting and future acquires fail with [`AcquireError`].
    ///
    /// Permits already held stay valid, and come back on drop as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(0);
    /// semaphore.close();
    /// assert!(ebbtide_core::block_on(semaphore.acquire()).is_err());
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

    /// Whether [`close`](Semaphore::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// assert!(!semaphore.is_closed());
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock(|state| state.closed)
    }

    /// Gives `n` permits back: to waiters first, oldest first, then to the free count.
    fn release(&self, n: usize) {
        let mut left = n;
        wake_in_batches(&self.state, |state, batch| {
            while left > 0 && !batch.is_full() {
                let assigned = state.waiters.with_front(|w| {
                    let take = left.min(w.payload.remaining);
                    w.payload.remaining -= take;
                    left -= take;
                    w.payload.remaining == 0
                });
                match assigned {
                    Some(true) => {
                        batch.push(state.waiters.pop_front_with(|w| w.waker.take()).flatten())
                    }
                    Some(false) => {}
                    None => break,
                }
            }
            if left > 0 && batch.is_full() && !state.waiters.is_empty() {
                return false;
            }
            state.permits = state
                .permits
                .checked_add(left)
                .filter(|&p| p <= Self::MAX_PERMITS)
                .expect("a semaphore holds at most MAX_PERMITS permits");
            left = 0;
            true
        });
    }
}

impl<M: RawMutex> fmt::Debug for Semaphore<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (permits, closed) = self.state.lock(|s| (s.permits, s.closed));
        f.debug_struct("Semaphore")
            .field("permits", &permits)
            .field("closed", &closed)
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::semaphore::{Acquire, Semaphore};
///
/// let semaphore = Semaphore::new(1);
/// let acquire: Acquire<'_> = semaphore.acquire();
/// assert!(ebbtide_core::block_on(acquire).is_ok());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a, M: RawMutex = CriticalSectionRawMutex> {
    semaphore: &'a Semaphore<M>,
    wanted: usize,
    node: Node<Waiting>,
}

impl<'a, M: RawMutex> Future for Acquire<'a, M> {
    type Output = Result<SemaphorePermit<'a, M>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &*self;
        let semaphore = this.semaphore;
        let wanted = this.wanted;
        lock_registering(&semaphore.state, cx.waker(), |state, waker| {
            let State {
                permits,
                closed,
                waiters,
            } = state;
            let (phase, remaining) = this
                .node
                .with(waiters, |w| (w.payload.phase, w.payload.remaining));
            let result = match phase {
                Phase::Init => {
                    if *closed {
                        Poll::Ready(Err(AcquireError(())))
                    } else if *permits >= wanted {
                        *permits -= wanted;
                        Poll::Ready(Ok(()))
                    } else {
                        // First the waker (it may send us round again), then the state.
                        this.node.with(waiters, |w| waker.store(&mut w.waker))?;
                        // Only reached with an empty queue or no free permits (the invariant), so
                        // taking what is free now does not jump the queue.
                        let take = *permits;
                        *permits = 0;
                        this.node.with(waiters, |w| {
                            w.payload.remaining = wanted - take;
                            w.payload.phase = Phase::Queued;
                        });
                        // SAFETY: `this` is pinned (polled through `Pin`), `Drop` removes the node
                        // under this lock, and the node is only used with this list; it is not
                        // linked (phase `Init`: it never was).
                        unsafe { waiters.push_back(&this.node) };
                        Poll::Pending
                    }
                }
                Phase::Queued if remaining == 0 => Poll::Ready(Ok(())),
                Phase::Queued if *closed => {
                    // `close` unlinked us; what we were assigned goes back (nobody waits now).
                    waiters.remove(&this.node);
                    *permits += wanted - remaining;
                    this.node.with(waiters, |w| w.payload.remaining = wanted);
                    Poll::Ready(Err(AcquireError(())))
                }
                Phase::Queued => {
                    this.node.with(waiters, |w| waker.store(&mut w.waker))?;
                    Poll::Pending
                }
                Phase::Done => panic!("`Acquire` polled after it completed"),
            };
            if result.is_ready() {
                this.node.with(waiters, |w| w.payload.phase = Phase::Done);
            }
            Ok(result.map_ok(|()| SemaphorePermit {
                semaphore,
                permits: wanted,
            }))
        })
    }
}

impl<M: RawMutex> Drop for Acquire<'_, M> {
    fn drop(&mut self) {
        let assigned = self.semaphore.state.lock(|state| {
            state.waiters.remove(&self.node);
            self.node
                .with(&mut state.waiters, |w| match w.payload.phase {
                    Phase::Queued => self.wanted - w.payload.remaining,
                    Phase::Init | Phase::Done => 0,
                })
        });
        if assigned > 0 {
            self.semaphore.release(assigned);
        }
    }
}

impl<M: RawMutex> fmt::Debug for Acquire<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .finish_non_exhaustive()
    }
}

/// Permits taken from a [`Semaphore`], given back when this is dropped.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Semaphore;
///
/// let semaphore = Semaphore::new(1);
/// {
///     let _permit = semaphore.try_acquire().unwrap();
///     assert_eq!(semaphore.available_permits(), 0);
/// }
/// assert_eq!(semaphore.available_permits(), 1);
/// ```
#[must_use = "the permits go back as soon as this is dropped"]
pub struct SemaphorePermit<'a, M: RawMutex = CriticalSectionRawMutex> {
    semaphore: &'a Semaphore<M>,
    permits: usize,
}

impl<M: RawMutex> SemaphorePermit<'_, M> {
    /// Keeps the permits out of the semaphore for good (they are not returned on drop).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(2);
    /// semaphore.try_acquire().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(2);
    /// assert_eq!(semaphore.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl<M: RawMutex> Drop for SemaphorePermit<'_, M> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.release(self.permits);
        }
    }
}

impl<M: RawMutex> fmt::Debug for SemaphorePermit<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// The semaphore was closed while (or before) a task waited for permits.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Semaphore;
///
/// let semaphore = Semaphore::new(1);
/// semaphore.close();
/// let error = ebbtide_core::block_on(semaphore.acquire()).unwrap_err();
/// assert_eq!(error.to_string(), "the semaphore was closed; no more permits can be acquired");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore was closed; no more permits can be acquired")
    }
}

impl core::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] failed.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::{Semaphore, TryAcquireError};
///
/// let semaphore = Semaphore::new(0);
/// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free, or other tasks wait for them first.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore was closed"),
            TryAcquireError::NoPermits => {
                f.write_str("no permits are free now; await `acquire` to wait for one")
            }
        }
    }
}

impl core::error::Error for TryAcquireError {}
