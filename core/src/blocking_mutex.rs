//! Short, blocking locks that guard the state of every sync primitive.
//!
//! A sync primitive (channel, [`Notify`](crate::sync::Notify), ...) keeps its state behind a
//! lock that is held for a few instructions and never across an `.await`. Which lock is right
//! depends on who touches the primitive, so each primitive is generic over a [`RawMutex`]:
//!
//! | lock | safe between | cost | use it when |
//! |---|---|---|---|
//! | [`CriticalSectionRawMutex`] (default) | threads **and** interrupt handlers | a `critical-section` acquire (with the `std` feature: a lock per value) | you do not know, or an interrupt handler sends |
//! | [`SpinRawMutex`] | threads (not interrupts on the same core) | one compare-and-swap | several threads, no interrupt handlers |
//! | [`LocalRawMutex`] | nothing: the primitive is `!Sync` | free | every user runs on one executor |
//!
//! # Re-entrancy
//!
//! No foreign waker is cloned, woken or dropped while a primitive's lock is held (only ebbtide's
//! own wakers are cloned in place: their clone copies a pointer), and no message is dropped
//! there, so a foreign waker or a `Drop` may use the primitive again. A few methods do run
//! user code under the lock, because the value they read lives there: the closures of
//! `Watch::with` and `send_modify`, `T::clone` in `Watch::get` and broadcast receives, and `T`'s
//! `Debug`. If that code uses the same primitive again, the inner call panics (with
//! [`CriticalSectionRawMutex`] and [`LocalRawMutex`], whose locks nest) or spins forever (with
//! [`SpinRawMutex`]); either way the state is never reached twice, and after the panic the
//! primitive works as before.
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
/// value from different contexts run their closures at the same time, among every context that
/// can reach the value (threads if the implementation is `Sync`, interrupt handlers if it claims
/// to cover them), and that each closure sees the writes of the closures that ran before it.
///
/// A call made from inside a running closure (same context, same value) may nest, as
/// [`CriticalSectionRawMutex`] and [`LocalRawMutex`] do: the primitives check for that
/// themselves and panic rather than touch their state twice.
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
/// takes. This is the default lock of every primitive.
///
/// With ebbtide-core's `std` feature (which the ebbtide drivers turn on), each value is a lock of
/// its own instead: one word, taken with a compare-and-swap, that lets its holding thread in
/// again (so it nests as a critical section does). The `critical-section` crate's std implementation is one lock for the
/// whole process, which every primitive of every worker would share: with two workers each using
/// a `Notify` of its own, an operation cost 10 to 19 times what it costs on one (`cargo run
/// --release -p ebbtide-bench --bin mt_costs`, the `private Notify` lines). On std no interrupt
/// handler can reach a primitive, so nothing is lost; what changes is that two primitives no
/// longer share one lock: user code that runs under one primitive's lock (the closure of
/// `Watch::send_modify`, say) and waits on another's, while a second thread does the reverse,
/// deadlocks, as it would with Tokio's per-channel locks.
#[derive(Debug)]
pub struct CriticalSectionRawMutex {
    #[cfg(loom)]
    spin: SpinRawMutex,
    #[cfg(all(feature = "std", not(loom)))]
    own: OwnLock,
    _private: (),
}

// SAFETY: `critical_section::with` excludes every other critical section, on every thread and
// interrupt, for the duration of the closure. With `std`, `OwnLock` excludes every other thread:
// its word goes from 0 to a thread's mark only by a compare-and-swap (Acquire) and back to 0 only
// when that thread's outer closure ends (Release); a nested call on the holding thread is the
// nesting the trait allows. Under loom, a spin lock that loom can model.
unsafe impl RawMutex for CriticalSectionRawMutex {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = CriticalSectionRawMutex {
        #[cfg(feature = "std")]
        own: OwnLock::INIT,
        _private: (),
    };

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
        #[cfg(all(feature = "std", not(loom)))]
        {
            self.own.lock(f)
        }
        #[cfg(all(not(feature = "std"), not(loom)))]
        {
            critical_section::with(|_| f())
        }
    }
}

/// A lock per value for [`CriticalSectionRawMutex`] on std: one word that holds the identity of
/// the thread holding the lock (0: free). Taking it free is one compare-and-swap; the holder's
/// nested `lock` sees its own mark and runs its closure at once (as a nested critical section
/// does) instead of deadlocking. A thread that finds the lock taken spins briefly, then yields
/// its core, then sleeps in short naps: the primitives hold it for a few dozen instructions,
/// so waiting long only happens when the holder was descheduled.
#[cfg(all(feature = "std", not(loom)))]
#[derive(Debug)]
struct OwnLock {
    /// The holding thread's [`thread_mark`], or 0.
    holder: core::sync::atomic::AtomicUsize,
}

#[cfg(all(feature = "std", not(loom)))]
impl OwnLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: OwnLock = OwnLock {
        holder: core::sync::atomic::AtomicUsize::new(0),
    };

    #[inline]
    fn lock<R>(&self, f: impl FnOnce() -> R) -> R {
        use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
        let me = thread_mark();
        match self.holder.compare_exchange(0, me, Acquire, Relaxed) {
            Ok(_) => {}
            // Only this thread ever stores `me`, and it clears it when its outer call ends:
            // seeing `me` means this call is nested in one that holds the lock.
            Err(holder) if holder == me => return f(),
            Err(_) => self.lock_contended(me),
        }
        /// Frees the lock when the closure returns or unwinds.
        struct Unlock<'a>(&'a core::sync::atomic::AtomicUsize);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                self.0.store(0, Release);
            }
        }
        let _unlock = Unlock(&self.holder);
        f()
    }

    /// Waits until the lock is free and takes it for `me`.
    #[cold]
    fn lock_contended(&self, me: usize) {
        use core::sync::atomic::Ordering::{Acquire, Relaxed};
        let mut attempts = 0u32;
        loop {
            if self.holder.load(Relaxed) == 0
                && self
                    .holder
                    .compare_exchange(0, me, Acquire, Relaxed)
                    .is_ok()
            {
                return;
            }
            attempts = attempts.saturating_add(1);
            match attempts {
                0..=64 => core::hint::spin_loop(),
                65..=128 => std::thread::yield_now(),
                _ => std::thread::sleep(core::time::Duration::from_micros(20)),
            }
        }
    }
}

/// A number that identifies the calling thread among the live ones, never 0: the address of a
/// thread-local byte (it has no destructor, so it is readable even while the thread exits).
#[cfg(all(feature = "std", not(loom)))]
#[inline]
fn thread_mark() -> usize {
    std::thread_local! {
        static MARK: u8 = const { 0 };
    }
    MARK.with(|mark| core::ptr::from_ref(mark).addr())
}

/// A spin lock on one atomic flag: safe between threads, cheapest when threads rarely collide.
///
/// Do not use it for a primitive that an interrupt handler touches on a single-core machine: the
/// handler would spin forever on a lock its own core holds. For the same reason it does not nest:
/// user code that re-enters a primitive from inside its lock (see
/// [Re-entrancy](self#re-entrancy)) spins forever instead of panicking.
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

// SAFETY: `LocalRawMutex` is `!Sync`, so a value is only ever reached from one thread: two
// closures can only overlap by nesting, and `BlockingMutex`'s re-entrancy flag turns a nested
// `lock` into a panic before it reaches the data.
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
/// Crate-private. `lock` hands the closure `&mut T`, so a second `lock` of the same mutex while
/// the first closure runs would alias it. [`CriticalSectionRawMutex`] nests (critical-section's std
/// implementation lets the holding thread in again; on single-core bare metal a nested section
/// just restores the interrupt state) and [`LocalRawMutex`] has no lock at all, so the raw lock
/// alone does not prevent that. Two rules do:
///
/// - Primitives run no user code under the lock where they can avoid it: wakers are cloned before
///   locking and dropped or woken after unlocking (see `sync::waker`), values are dropped after
///   unlocking. What is left (the closures of `Watch::with` and `send_modify`, `T::clone` in
///   `Watch::get` and broadcast receives, `T: Debug`) is documented on each method.
/// - A re-entrancy flag, set while a closure runs, makes a nested `lock` of the same mutex panic
///   (before it touches the data) instead of aliasing. This makes every safe call sequence sound,
///   whatever user code does. With [`SpinRawMutex`] a nested `lock` spins forever before it
///   reaches the flag: a hang, not undefined behaviour.
///
/// The flag is on by default ([`UserCode`]). A primitive none of whose `lock` closures can run
/// user code (no closure or `T` method of the caller's, no waker's vtable, no drop of a `T`) may
/// name its mutex `BlockingMutex<M, T, NoUserCode>` to skip the flag on its hot paths, and its
/// bytes: then only ebbtide's own code runs inside, which never nests a `lock` of the same
/// mutex. Choosing [`NoUserCode`] is a promise about every closure the primitive passes to
/// `lock`, checked in review like an `unsafe` block: say so where the field is declared.
#[derive(Debug)]
pub(crate) struct BlockingMutex<M, T, R = UserCode> {
    raw: M,
    /// The re-entrancy flag, or nothing (see the type's docs).
    reentrancy: R,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` and the flag is serialised by `raw`; `M: Sync` says the lock works
// across threads, and `T: Send` because the data is handed from thread to thread.
unsafe impl<M: RawMutex + Sync, T: Send, R: Reentrancy> Sync for BlockingMutex<M, T, R> {}
// SAFETY: moving the mutex moves the data.
unsafe impl<M: RawMutex + Send, T: Send, R: Reentrancy> Send for BlockingMutex<M, T, R> {}

/// What a [`BlockingMutex`] does about a `lock` nested inside one of its closures: [`UserCode`]
/// panics (its closures may run user code), [`NoUserCode`] has nothing to check (its closures
/// never do). Sealed: only these two keep the promise `lock` relies on.
pub(crate) trait Reentrancy: sealed::Sealed {
    /// A flag that is not set.
    #[cfg(not(loom))]
    const INIT: Self;
    /// A flag that is not set.
    #[cfg(loom)]
    fn init() -> Self;

    /// Runs `f`, which has the mutex's data to itself, from inside the raw lock: makes sure no
    /// `lock` of the same mutex nested inside `f` reaches the data.
    fn enter<R>(&self, f: impl FnOnce() -> R) -> R;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::UserCode {}
    impl Sealed for super::NoUserCode {}
}

/// The re-entrancy flag of a [`BlockingMutex`] whose closures may run user code: whether a
/// closure of `lock` runs now. Read and written only with the raw lock held, never through a
/// reference that lives across the closure.
#[derive(Debug)]
pub(crate) struct UserCode(UnsafeCell<bool>);

/// No re-entrancy flag: the promise of a [`BlockingMutex`] whose closures run no user code, so
/// that nothing nests a `lock` of it (see the type's docs).
#[derive(Debug)]
pub(crate) struct NoUserCode;

impl Reentrancy for UserCode {
    #[cfg(not(loom))]
    const INIT: Self = UserCode(UnsafeCell::new(false));
    #[cfg(loom)]
    fn init() -> Self {
        UserCode(UnsafeCell::new(false))
    }

    #[inline]
    fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the raw lock is held (by our caller), so no other context reads or writes the
        // flag; a nested `lock` from inside `f` (same context) reads it through the raw pointer
        // too, and no reference to it lives across `f`.
        if self.0.with(|busy| unsafe { *busy }) {
            // Nested inside a running closure of this mutex, which owns the flag and the data:
            // touch neither. Its `Busy` guard clears the flag when this panic unwinds through it.
            reentered();
        }
        // SAFETY: as above.
        self.0.with_mut(|busy| unsafe { *busy = true });
        let _busy = Busy(&self.0);
        f()
    }
}

impl Reentrancy for NoUserCode {
    #[cfg(not(loom))]
    const INIT: Self = NoUserCode;
    #[cfg(loom)]
    fn init() -> Self {
        NoUserCode
    }

    #[inline(always)]
    fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Clears the re-entrancy flag when the closure returns or unwinds (still under the raw lock).
struct Busy<'a>(&'a UnsafeCell<bool>);

impl Drop for Busy<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped inside `raw.lock`'s closure, so the raw lock is held; no reference to
        // the flag exists, only this short write through the raw pointer.
        self.0.with_mut(|busy| unsafe { *busy = false });
    }
}

#[cold]
#[inline(never)]
fn reentered() -> ! {
    panic!(
        "ebbtide: a sync primitive was used from inside its own critical section, e.g. from the \
         closure of `Watch::with` or `send_modify`, from `T::clone` in `Watch::get` or a broadcast \
         receive, or from `T: Debug` (see `ebbtide_core::blocking_mutex`, Re-entrancy)"
    )
}

impl<M: RawMutex, T, R: Reentrancy> BlockingMutex<M, T, R> {
    crate::loom_const_fn! {
        pub(crate) fn new(data: T) -> BlockingMutex<M, T, R> {
            BlockingMutex {
                #[cfg(not(loom))]
                raw: M::INIT,
                #[cfg(loom)]
                raw: M::init(),
                #[cfg(not(loom))]
                reentrancy: R::INIT,
                #[cfg(loom)]
                reentrancy: R::init(),
                data: UnsafeCell::new(data),
            }
        }
    }

    /// Runs `f` with exclusive access to the data.
    ///
    /// # Panics
    ///
    /// If called again for the same mutex from inside `f` (user code that `f` runs re-entered
    /// the primitive); the outer `lock` is left usable once the panic unwinds out of it.
    #[inline]
    pub(crate) fn lock<U>(&self, f: impl FnOnce(&mut T) -> U) -> U {
        self.raw.lock(|| {
            self.reentrancy.enter(|| {
                // SAFETY: `raw` excludes every other context's `lock` while the closure runs,
                // and a nested `lock` from inside `f` never reaches the data: with `UserCode`,
                // its flag (set by `enter`, cleared after `f`) turns it into a panic first; with
                // `NoUserCode`, no closure of this mutex runs user code (the promise of the
                // type's docs), so nothing nests. This is the only reference.
                self.data.with_mut(|data| f(unsafe { &mut *data }))
            })
        })
    }

    /// Exclusive access without locking, through `&mut self`.
    #[allow(dead_code)]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no one else can reach the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

/// A [`BlockingMutex`] over `C` whose lock also guards a second value, `Q`, kept beside the
/// mutex rather than in its data.
///
/// Crate-private. For a primitive whose state is a small part that does not depend on its type
/// parameters (`C`: counts, flags, wakers) and a part that does (`Q`: the messages): code that
/// only needs `C` locks [`mutex`](Self::mutex), a `BlockingMutex<M, C, NoUserCode>` whose type
/// does not name `Q`, so a non-generic function can take it, and a program has one copy of that
/// code for all its channels, not one per message type (on a microcontroller, flash). Code that
/// needs both uses [`lock`](Self::lock).
///
/// The mutex is a [`NoUserCode`] one: the promise of its docs covers every closure given to
/// either method.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct BlockingMutexWith<M, C, Q> {
    /// First, so that a reference to the whole is a reference to the mutex.
    mutex: BlockingMutex<M, C, NoUserCode>,
    /// Reached only under `mutex`'s lock (in `lock`), or through `&mut self`.
    with: UnsafeCell<Q>,
}

// SAFETY: `with` is reached only under `mutex`'s lock, as the mutex's data is, so sharing the
// whole hands `Q` from thread to thread like `C` (`Q: Send`), with the mutex's own conditions.
unsafe impl<M: RawMutex + Sync, C: Send, Q: Send> Sync for BlockingMutexWith<M, C, Q> {}

impl<M: RawMutex, C, Q> BlockingMutexWith<M, C, Q> {
    crate::loom_const_fn! {
        pub(crate) fn new(data: C, with: Q) -> BlockingMutexWith<M, C, Q> {
            BlockingMutexWith {
                mutex: BlockingMutex::new(data),
                with: UnsafeCell::new(with),
            }
        }
    }

    /// Runs `f` with exclusive access to both values.
    #[inline]
    pub(crate) fn lock<U>(&self, f: impl FnOnce(&mut C, &mut Q) -> U) -> U {
        self.mutex.lock(|data| {
            // SAFETY: we are inside a closure of `mutex`'s `lock`, which excludes every other
            // context's `lock`, and nothing nests one (the `NoUserCode` promise, which covers
            // `f`): `with` is reached nowhere else but `get_mut` (through `&mut self`), so this is
            // the only reference.
            self.with.with_mut(|with| f(data, unsafe { &mut *with }))
        })
    }

    /// The mutex alone, for code that needs only `C`: its type does not name `Q`.
    #[inline(always)]
    pub(crate) fn mutex(&self) -> &BlockingMutex<M, C, NoUserCode> {
        &self.mutex
    }

    /// Exclusive access to both without locking, through `&mut self`.
    pub(crate) fn get_mut(&mut self) -> (&mut C, &mut Q) {
        let data = self.mutex.get_mut();
        // SAFETY: `&mut self` proves no one else can reach `with`.
        let with = self.with.with_mut(|with| unsafe { &mut *with });
        (data, with)
    }
}
