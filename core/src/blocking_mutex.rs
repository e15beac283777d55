//! Short, blocking locks that guard the state of every sync primitive.
//!
//! A sync primitive (channel, [`Notify`](crate::sync::Notify), ...) keeps its state behind a
//! lock that is held for a few instructions and never across an `.await`. Which lock is right
//! depends on who touches the primitive, so each primitive is generic over a [`RawMutex`]:
//!
//! | lock | safe between | cost | use it when |
//! |---|---|---|---|
//! | [`CriticalSectionRawMutex`] (default) | threads **and** interrupt handlers | a `critical-section` acquire | you do not know, or an interrupt handler sends |
//! | [`SpinRawMutex`] | threads (not interrupts on the same core) | one compare-and-swap | several threads, no interrupt handlers |
//! | [`LocalRawMutex`] | nothing: the primitive is `!Sync` | free | every user runs on one executor |
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::blocking_mutex::LocalRawMutex;
//! use ebbtide_core::sync::mpsc;
//!
//! // A channel for tasks of one executor: no lock at all.
//! let channel: mpsc::Channel<u32, 8, LocalRawMutex> = mpsc::Channel::with_mutex();
//! let (tx, mut rx) = channel.split();
//! tx.try_send(7).unwrap();
//! assert_eq!(rx.try_recv(), Ok(7));
//! ```

use core::marker::PhantomData;

use crate::loom::{AtomicBool, Ordering, UnsafeCell};

/// A lock that runs a closure with mutual exclusion.
///
/// # Safety
///
/// An implementation must guarantee that no two calls of [`lock`](RawMutex::lock) on the same
/// value run their closures at the same time, among every context that can reach the value
/// (threads if the implementation is `Sync`, interrupt handlers if it claims to cover them).
pub unsafe trait RawMutex {
    /// An unlocked mutex, for `const` constructors.
    #[cfg(not(loom))]
    const INIT: Self;

    /// An unlocked mutex (loom's atomics have no `const` constructor).
    #[cfg(loom)]
    fn init() -> Self;

    /// Runs `f` while holding the lock.
    fn lock<R>(&self, f: impl FnOnce() -> R) -> R;
}

/// Mutual exclusion through the `critical-section` crate: safe against threads and interrupts.
///
/// On a single-core microcontroller this masks interrupts for the few instructions the closure
/// takes; on std it is the `critical-section` crate's global lock (enable its `std` feature, as
/// the ebbtide drivers do). This is the default lock of every primitive.
#[derive(Debug)]
pub struct CriticalSectionRawMutex {
    #[cfg(loom)]
    spin: SpinRawMutex,
    _private: (),
}

// SAFETY: `critical_section::with` excludes every other critical section, on every thread and
// interrupt, for the duration of the closure. Under loom, a spin lock that loom can model.
unsafe impl RawMutex for CriticalSectionRawMutex {
    #[cfg(not(loom))]
    const INIT: Self = CriticalSectionRawMutex { _private: () };

    #[cfg(loom)]
    fn init() -> Self {
        CriticalSectionRawMutex {
            spin: SpinRawMutex::init(),
            _private: (),
        }
    }

    #[inline]
    fn lock<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(loom)]
        {
            self.spin.lock(f)
        }
        #[cfg(not(loom))]
        {
            critical_section::with(|_| f())
        }
    }
}

/// A spin lock on one atomic flag: safe between threads, cheapest when threads rarely collide.
///
/// Do not use it for a primitive that an interrupt handler touches on a single-core machine: the
/// handler would spin forever on a lock its own core holds.
#[derive(Debug)]
pub struct SpinRawMutex {
    locked: AtomicBool,
}

// SAFETY: the flag is set by a successful compare-and-swap from `false` (Acquire) before the
// closure runs and cleared (Release) after, so closures never overlap and each sees the writes of
// the one before.
unsafe impl RawMutex for SpinRawMutex {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SpinRawMutex {
        locked: AtomicBool::new(false),
    };

    #[cfg(loom)]
    fn init() -> Self {
        SpinRawMutex {
            locked: AtomicBool::new(false),
        }
    }

    #[inline]
    fn lock<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                crate::loom::spin_loop();
            }
        }
        struct Unlock<'a>(&'a AtomicBool);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _unlock = Unlock(&self.locked);
        f()
    }
}

/// No lock at all: the primitive becomes `!Sync` and can only be shared on one thread.
///
/// The fastest choice when every task that uses a primitive runs on the same executor.
#[derive(Debug)]
pub struct LocalRawMutex {
    _not_sync: PhantomData<*mut ()>,
}

// SAFETY: `LocalRawMutex` is `!Sync`, so a value is only ever reached from one thread, and
// ebbtide never calls `lock` re-entrantly on the same primitive.
unsafe impl RawMutex for LocalRawMutex {
    #[cfg(not(loom))]
    const INIT: Self = LocalRawMutex {
        _not_sync: PhantomData,
    };

    #[cfg(loom)]
    fn init() -> Self {
        LocalRawMutex {
            _not_sync: PhantomData,
        }
    }

    #[inline]
    fn lock<R>(&self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

// SAFETY: the marker only removes `Sync`; moving the (stateless) lock to another thread is fine.
unsafe impl Send for LocalRawMutex {}

/// Data behind a [`RawMutex`], reached only inside [`lock`](BlockingMutex::lock).
///
/// Crate-private: ebbtide never locks the same `BlockingMutex` again inside the closure (that
/// would alias the `&mut T`), and never calls a `Waker` inside it (a foreign waker could re-enter
/// the primitive). Primitives take wakers out under the lock and wake them after.
#[derive(Debug)]
pub(crate) struct BlockingMutex<M, T> {
    raw: M,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialised by `raw`; `M: Sync` says the lock works across threads,
// and `T: Send` because the data is handed from thread to thread.
unsafe impl<M: RawMutex + Sync, T: Send> Sync for BlockingMutex<M, T> {}
// SAFETY: moving the mutex moves the data.
unsafe impl<M: RawMutex + Send, T: Send> Send for BlockingMutex<M, T> {}

impl<M: RawMutex, T> BlockingMutex<M, T> {
    crate::loom_const_fn! {
        pub(crate) fn new(data: T) -> BlockingMutex<M, T> {
            BlockingMutex {
                #[cfg(not(loom))]
                raw: M::INIT,
                #[cfg(loom)]
                raw: M::init(),
                data: UnsafeCell::new(data),
            }
        }
    }

    /// Runs `f` with exclusive access to the data.
    #[inline]
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.raw.lock(|| {
            // SAFETY: `raw` excludes every other `lock` of this mutex while the closure runs, and
            // ebbtide never nests a `lock` of the same mutex, so this is the only reference.
            self.data.with_mut(|data| f(unsafe { &mut *data }))
        })
    }

    /// Exclusive access without locking, through `&mut self`.
    #[allow(dead_code)]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no one else can reach the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}
