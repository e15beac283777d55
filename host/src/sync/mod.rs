//! Channels and locks for tasks: core's `const` primitives plus owned, Tokio-style channels.
//!
//! Everything in [`ebbtide_core::sync`] is here under the same name ([`Mutex`], [`Notify`],
//! [`Semaphore`], the static channels such as [`mpsc::Channel`] and [`spsc::Channel`]). Next to each static channel,
//! the owned constructors a Tokio user expects: [`mpsc::channel`], [`mpsc::unbounded_channel`],
//! [`oneshot::channel`], [`watch::channel`] and [`broadcast::channel`]. Their ends are `'static`
//! values that move into a spawned task or another thread. A channel allocates once when it is
//! made (its shared state and, when bounded, its whole buffer) and never per message; the
//! unbounded [`mpsc`] channel allocates a block (growing with the queue) when its blocks are
//! full, and reuses emptied blocks, so it too allocates nothing in a steady flow.
//!
//! As in Tokio, the owned ends also have `blocking_*` methods ([`mpsc::Sender::blocking_send`],
//! [`mpsc::Receiver::blocking_recv`], [`oneshot::Receiver::blocking_recv`], ...) for code that
//! runs outside any runtime, such as a plain [`std::thread`] or a `spawn_blocking` job: they
//! park the thread while they wait, and panic on a thread that runs a runtime (where waiting
//! would stop the very tasks that could wake it).
//!
//! The borrowed ends of a static channel keep their types under `Split*` names, e.g.
//! [`mpsc::SplitSender`] is [`ebbtide_core::sync::mpsc::Sender`].
//!
//! Locking: the owned channels keep their state behind a [`std::sync::Mutex`] and never run
//! user code while holding it: wakers are cloned before and woken or dropped after, and values
//! are dropped after unlocking (a broadcast message, once its last receiver has read it, too).
//! Two exceptions follow Tokio: [`watch::Sender::send_modify`] runs its closure under the
//! value's write lock, and [`broadcast::Receiver::recv`] clones a message under its slot's read
//! lock.
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::sync::mpsc;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     let producer = ebbtide_std::spawn(async move {
//!         for i in 0..3 {
//!             tx.send(i).await.unwrap();
//!         }
//!     })
//!     .unwrap();
//!     let mut got = Vec::new();
//!     while let Some(i) = rx.recv().await {
//!         got.push(i);
//!     }
//!     producer.await.unwrap();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

use std::future::Future;
use std::sync::{Mutex as StdMutex, MutexGuard as StdMutexGuard, PoisonError};
use std::task::{Context, Waker};

pub use ebbtide_core::sync::{
    mutex, notify, semaphore, spsc, AcquireError, Mutex, MutexGuard, Notify, Semaphore,
    SemaphorePermit, TryAcquireError,
};

mod blocks;
pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

/// The panic message of the `blocking_*` methods called on a runtime thread (Tokio's words).
const BLOCKING_IN_RUNTIME: &str = "Cannot block the current thread from within a runtime. This \
     happens because a function attempted to block the current thread while the thread is being \
     used to drive asynchronous tasks (an ebbtide runtime's block_on runs on it; await instead)";

/// Runs `future` to completion on the current thread, parking the thread while it is pending:
/// the channels' `blocking_*` methods (see `thread_park` for the cost, and for targets without
/// threads).
///
/// # Panics
///
/// On a thread that runs an ebbtide runtime (inside its `block_on`, in a task or not): blocking
/// it would stop the tasks that could make the future ready.
#[track_caller]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    assert!(crate::context::current().is_none(), "{BLOCKING_IN_RUNTIME}");
    crate::thread_park::block_on(future)
}

/// Locks `mutex`, ignoring poisoning: no user code runs under these locks, so a panic cannot
/// leave the state half-updated.
pub(crate) fn lock<S>(mutex: &StdMutex<S>) -> StdMutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The outcome of [`register`].
pub(crate) enum Register {
    /// The waker is in place; the one it replaced (if any) is to be dropped after unlocking.
    Done(Option<Waker>),
    /// A clone of the context's waker is needed: unlock, clone it into `fresh`, and retry.
    NeedWaker,
}

/// Puts the context's waker in `slot` without cloning it under the lock: if `slot` already
/// wakes the same task nothing changes; otherwise `fresh` (a clone made before locking) goes in.
pub(crate) fn register(
    slot: &mut Option<Waker>,
    cx: &Context<'_>,
    fresh: &mut Option<Waker>,
) -> Register {
    if let Some(waker) = slot {
        if waker.will_wake(cx.waker()) {
            return Register::Done(None);
        }
    }
    match fresh.take() {
        Some(waker) => Register::Done(slot.replace(waker)),
        None => Register::NeedWaker,
    }
}

/// A slab of waker slots: an entry per waiting party, found by index, reused once freed.
/// It grows to the largest number of parties ever registered at once and never shrinks, so a
/// steady state allocates nothing.
#[derive(Default)]
pub(crate) struct Slab<E> {
    entries: Vec<E>,
    free: Vec<usize>,
}

impl<E: Default> Slab<E> {
    pub(crate) const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, entry: E) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        }
    }

    /// Frees slot `i` and returns its entry.
    pub(crate) fn remove(&mut self, i: usize) -> E {
        self.free.push(i);
        std::mem::take(&mut self.entries[i])
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> &mut E {
        &mut self.entries[i]
    }
}

impl Slab<Option<Waker>> {
    /// Takes up to `batch.len()` wakers from slot `*from` on; returns how many it took and moves
    /// `*from` past the last slot it looked at.
    pub(crate) fn take_wakers(&mut self, from: &mut usize, batch: &mut [Option<Waker>]) -> usize {
        let mut n = 0;
        while *from < self.entries.len() && n < batch.len() {
            if let Some(waker) = self.entries[*from].take() {
                batch[n] = Some(waker);
                n += 1;
            }
            *from += 1;
        }
        n
    }

    /// Takes every waker (used when a channel closes: once per channel, so the `Vec` is fine).
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        self.entries.iter_mut().filter_map(Option::take).collect()
    }
}

/// Wakes every waker of the slab that `slab` selects in `mutex`'s state, in batches of 16 taken
/// under the lock and woken after unlocking (no allocation). Consumes the guard.
pub(crate) fn wake_all<'a, S>(
    mutex: &'a StdMutex<S>,
    mut guard: StdMutexGuard<'a, S>,
    slab: impl Fn(&mut S) -> &mut Slab<Option<Waker>>,
) {
    const BATCH: usize = 16;
    let mut from = 0;
    loop {
        let mut batch: [Option<Waker>; BATCH] = Default::default();
        let n = slab(&mut guard).take_wakers(&mut from, &mut batch);
        let more = from < slab(&mut guard).entries.len();
        drop(guard);
        for waker in batch.iter_mut().take(n) {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
        if !more {
            return;
        }
        guard = lock(mutex);
    }
}

/// Wakes `wakers` (after the caller unlocked).
pub(crate) fn wake_each(wakers: impl IntoIterator<Item = Waker>) {
    for waker in wakers {
        waker.wake();
    }
}
