//! [`Notify`]: wake one task, or every waiting task, without sending data.
//!
//! The semantics are tokio's: [`Notify::notify_one`] wakes the oldest waiter, or stores one
//! permit if nobody waits (the next [`Notify::notified`] then completes at once);
//! [`Notify::notify_waiters`] wakes every waiter present at the call and stores nothing.
//!
//! No user code runs under the `Notify`'s lock: wakers are cloned before it is taken and dropped
//! or woken after it is released, so a foreign waker may use the `Notify` from its `clone`,
//! `wake` or `drop`.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::Notify;
//!
//! static READY: Notify = Notify::new();
//!
//! ebbtide_core::block_on(async {
//!     READY.notify_one(); // stored: nobody waits yet
//!     READY.notified().await; // completes at once, using the permit
//! });
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, NoUserCode, RawMutex};
use crate::loom::{AtomicUsize, Ordering};
use crate::sync::wait_list::{wake_in_batches, Node, WaitList};
use crate::sync::waker::{lock_registering, Kept};

/// Notifies one task, or all waiting tasks, of an event.
///
/// Waiters are served in FIFO order. Generic over the [`RawMutex`] that guards its state (see
/// [`blocking_mutex`](crate::blocking_mutex)).
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Notify;
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<2> = TaskPool::new();
/// static NOTIFY: Notify = Notify::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let waiter = runner
///     .spawner()
///     .spawn(&POOL, async {
///         NOTIFY.notified().await;
///         "woken"
///     })
///     .unwrap();
/// runner.poll(); // the task now waits
/// NOTIFY.notify_one();
/// assert_eq!(runner.run_until(waiter, || {}), Ok("woken"));
/// ```
pub struct Notify<M: RawMutex = CriticalSectionRawMutex> {
    /// The stored `notify_one` permit (the bit [`PERMIT`]) and, above it, the generation that
    /// every `notify_waiters` bumps (by [`GENERATION`]): a `Notified` created before a bump is
    /// notified. One word, so that a `Notify` is a word and a list (12 bytes on 32-bit targets).
    /// Written only under the lock; the generation is read without it by `notified` (any value a
    /// read may return is one the word had at some moment of the call, which is all a snapshot
    /// needs), so a new `Notified` takes no lock (on a microcontroller, no critical section).
    signals: AtomicUsize,
    // `NoUserCode`: no closure of this lock runs user code (wakers are cloned, dropped and woken
    // outside it, and no `T` is dropped inside): see `BlockingMutex`.
    state: BlockingMutex<M, State, NoUserCode>,
}

struct State {
    waiters: WaitList<Waiting>,
}

/// The bit of [`Notify::signals`] that holds a stored `notify_one` for the next waiter.
const PERMIT: usize = 1;

/// One `notify_waiters` in [`Notify::signals`]: the generation counts above the permit bit.
const GENERATION: usize = 2;

/// The payload of a `Notified`'s node.
#[derive(Debug)]
struct Waiting {
    /// `generation` when the `Notified` was created.
    generation: usize,
    phase: Phase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not yet polled.
    Init,
    /// Linked in the list.
    Waiting,
    /// Unlinked by `notify_one`: owns that notification (passed on if dropped unused).
    NotifiedOne,
    /// Unlinked by `notify_waiters`.
    NotifiedAll,
    /// Returned `Ready`.
    Done,
}

impl Notify {
    crate::loom_const_fn! {
        /// A `Notify` with no stored permit, guarded by a
        /// [`CriticalSectionRawMutex`]; see [`Notify::with_mutex`] for another lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::Notify;
        ///
        /// static NOTIFY: Notify = Notify::new();
        /// let local = Notify::new();
        /// local.notify_one();
        /// # let _ = &NOTIFY;
        /// ```
        pub fn new() -> Notify {
            Notify::with_mutex()
        }
    }
}

impl<M: RawMutex> Notify<M> {
    crate::loom_const_fn! {
        /// A `Notify` guarded by the lock `M`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::Notify;
        ///
        /// let notify: Notify<LocalRawMutex> = Notify::with_mutex();
        /// notify.notify_one();
        /// ebbtide_core::block_on(notify.notified());
        /// ```
        pub fn with_mutex() -> Notify<M> {
            Notify {
                signals: AtomicUsize::new(0),
                state: BlockingMutex::new(State {
                    waiters: WaitList::new(),
                }),
            }
        }
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// The future is notified by [`notify_waiters`](Notify::notify_waiters) from the moment it is
    /// created, even before it is first polled. It takes part in
    /// [`notify_one`](Notify::notify_one) (a stored permit, or its turn in the FIFO queue) once it
    /// is polled.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe. If it had been picked by `notify_one` but is dropped before it
    /// completed, the notification passes on to the next waiter (or is stored as the permit), so
    /// none is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let notified = notify.notified();
    /// notify.notify_waiters(); // counts: `notified` exists already
    /// ebbtide_core::block_on(notified);
    /// ```
    pub fn notified(&self) -> Notified<'_, M> {
        let generation = self.signals.load(Ordering::Relaxed) & !PERMIT;
        Notified {
            notify: self,
            node: Node::new(Waiting {
                generation,
                phase: Phase::Init,
            }),
        }
    }

    /// Wakes the oldest waiter, or stores one permit if nobody waits.
    ///
    /// At most one permit is stored: calling this twice with nobody waiting lets only the next
    /// `notified()` through.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::future::Future;
    /// use core::pin::pin;
    /// use core::task::{Context, Waker};
    /// use ebbtide_core::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // still one permit
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(pin!(notify.notified()).poll(&mut cx).is_ready());
    /// assert!(pin!(notify.notified()).poll(&mut cx).is_pending());
    /// ```
    pub fn notify_one(&self) {
        let waker = self
            .state
            .lock(|state| notify_one_locked(state, &self.signals));
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now, without storing a permit.
    ///
    /// Every [`Notified`] that exists at the call (polled or not) completes; those created after
    /// it wait for a later notification.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::future::Future;
    /// use core::pin::pin;
    /// use core::task::{Context, Waker};
    /// use ebbtide_core::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut a = pin!(notify.notified());
    /// let mut b = pin!(notify.notified());
    /// assert!(a.as_mut().poll(&mut cx).is_pending());
    /// notify.notify_waiters();
    /// assert!(a.poll(&mut cx).is_ready());
    /// assert!(b.poll(&mut cx).is_ready());
    /// // No permit was stored.
    /// assert!(pin!(notify.notified()).poll(&mut cx).is_pending());
    /// ```
    pub fn notify_waiters(&self) {
        let mut new_generation = None;
        let signals = &self.signals;
        wake_in_batches(&self.state, |state, batch| {
            let target = *new_generation.get_or_insert_with(|| {
                // Under the lock, as every write of the word; the permit bit stays as it is.
                let bumped = signals.load(Ordering::Relaxed).wrapping_add(GENERATION);
                signals.store(bumped, Ordering::Relaxed);
                bumped & !PERMIT
            });
            while !batch.is_full() {
                // The list is ordered by generation; stop at the first waiter that came after us.
                let before_us = state
                    .waiters
                    .with_front(|w| (target.wrapping_sub(w.payload.generation) as isize) > 0);
                if before_us != Some(true) {
                    return true;
                }
                let waker = state.waiters.pop_front_with(|w| {
                    w.payload.phase = Phase::NotifiedAll;
                    w.waker.take()
                });
                batch.push(waker.flatten());
            }
            false
        });
    }
}

/// Takes the oldest waiter's waker (marking it notified), or stores the permit in `signals`
/// (the `Notify`'s, whose lock is held).
fn notify_one_locked(state: &mut State, signals: &AtomicUsize) -> Option<Kept> {
    let popped = state.waiters.pop_front_with(|w| {
        w.payload.phase = Phase::NotifiedOne;
        w.waker.take()
    });
    match popped {
        Some(waker) => waker,
        None => {
            signals.store(signals.load(Ordering::Relaxed) | PERMIT, Ordering::Relaxed);
            None
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl<M: RawMutex> fmt::Debug for Notify<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (signals, waiting) = self
            .state
            .lock(|s| (self.signals.load(Ordering::Relaxed), !s.waiters.is_empty()));
        let permit = signals & PERMIT != 0;
        f.debug_struct("Notify")
            .field("permit", &permit)
            .field("has_waiters", &waiting)
            .finish()
    }
}

/// The future of [`Notify::notified`].
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Notify;
///
/// let notify = Notify::new();
/// notify.notify_one();
/// let notified: ebbtide_core::sync::notify::Notified<'_> = notify.notified();
/// ebbtide_core::block_on(notified);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a, M: RawMutex = CriticalSectionRawMutex> {
    notify: &'a Notify<M>,
    node: Node<Waiting>,
}

impl<M: RawMutex> Future for Notified<'_, M> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &*self;
        lock_registering(&this.notify.state, cx.waker(), |state, waker| {
            // Under the lock, which orders it after every write before ours.
            let signals = this.notify.signals.load(Ordering::Relaxed);
            let phase = this.node.with(&mut state.waiters, |w| w.payload.phase);
            let ready = match phase {
                Phase::Init => {
                    let created = this.node.with(&mut state.waiters, |w| w.payload.generation);
                    if created != signals & !PERMIT {
                        true
                    } else if signals & PERMIT != 0 {
                        this.notify
                            .signals
                            .store(signals & !PERMIT, Ordering::Relaxed);
                        true
                    } else {
                        // First the waker (it may send us round again), then the state.
                        this.node
                            .with(&mut state.waiters, |w| waker.store(&mut w.waker))?;
                        this.node
                            .with(&mut state.waiters, |w| w.payload.phase = Phase::Waiting);
                        // SAFETY: `this` is pinned (we were polled through `Pin`), and `Drop`
                        // removes the node under this lock; the node is only used with this list,
                        // and is not linked (phase `Init`: it never was).
                        unsafe { state.waiters.push_back(&this.node) };
                        false
                    }
                }
                Phase::Waiting => {
                    this.node
                        .with(&mut state.waiters, |w| waker.store(&mut w.waker))?;
                    false
                }
                Phase::NotifiedOne | Phase::NotifiedAll => true,
                Phase::Done => panic!("`Notified` polled after it completed"),
            };
            if ready {
                this.node
                    .with(&mut state.waiters, |w| w.payload.phase = Phase::Done);
                Ok(Poll::Ready(()))
            } else {
                Ok(Poll::Pending)
            }
        })
    }
}

impl<M: RawMutex> Drop for Notified<'_, M> {
    fn drop(&mut self) {
        let waker = self.notify.state.lock(|state| {
            state.waiters.remove(&self.node);
            let phase = self.node.with(&mut state.waiters, |w| w.payload.phase);
            // A notification this future received but never reported passes on.
            if phase == Phase::NotifiedOne {
                notify_one_locked(state, &self.notify.signals)
            } else {
                None
            }
        });
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<M: RawMutex> fmt::Debug for Notified<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}
