//! The one place atomics and cells come from.
//!
//! Every atomic, every `UnsafeCell` and the timer queue's lock ([`QueueLock`]) in
//! ebbtide-core is imported through this module, so that `RUSTFLAGS="--cfg loom"` swaps them for
//! [loom]'s model-checked versions. Outside loom the
//! atomics come from `portable-atomic`, which is `core::sync::atomic` on targets that have
//! compare-and-swap and falls back to critical sections on targets that do not (thumbv6m).
//!
//! Loom's atomics cannot be built in a `const fn`; [`loom_const_fn!`] writes a constructor once
//! and makes it `const` only outside loom.
//!
//! [loom]: https://docs.rs/loom

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU16, AtomicU32, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use portable_atomic::{AtomicBool, AtomicPtr, AtomicU16, AtomicU32, AtomicUsize};

pub(crate) use core::sync::atomic::Ordering;

/// A busy-wait hint; under loom, a yield so the model can run the thread we wait for.
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// `UnsafeCell` with loom's closure-based API, so loom can check every access.
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
    #[cfg(not(loom))] core::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    crate::loom_const_fn! {
        pub(crate) fn new(value: T) -> UnsafeCell<T> {
            #[cfg(loom)]
            { UnsafeCell(loom::cell::UnsafeCell::new(value)) }
            #[cfg(not(loom))]
            { UnsafeCell(core::cell::UnsafeCell::new(value)) }
        }
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(loom)]
        {
            self.0.with(f)
        }
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
    }

    /// Runs `f` with a mutable raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(loom)]
        {
            self.0.with_mut(f)
        }
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
    }
}

/// A timer queue's lock around its value: a critical section, or a lock of its own.
///
/// - **Critical section** ([`QueueLock::critical_section`]): the closure runs inside
///   `critical_section::with`, so any thread or interrupt handler may take the lock. The flag
///   `held` is then no lock at all: inside the section nothing else runs, and every closure is
///   the runtime's own and never reaches the same lock again (no user code runs in one), so the
///   section alone makes the one `&mut T`. Debug builds (the tests, Miri) still set `held` and
///   turn a re-entrant use, which would be a bug of ours, into a panic instead of a second
///   `&mut T`; release builds, whose flash on a microcontroller is the point of a
///   critical-section lock, build no check (as [`BlockingMutex`](crate::blocking_mutex) builds
///   none for its `NoUserCode` locks). On std the critical section is one process-wide mutex,
///   shared by every such lock.
/// - **Own lock** ([`QueueLock::own`]): a spin lock on the flag `held`, per instance, so queues
///   of different runtimes never contend. For threads only: an interrupt handler that takes it
///   while the code it interrupted holds it would spin forever. Holders run a few list
///   operations (a bounded batch), never user code, so the wait is short.
///
/// Under loom a critical section is invisible to the model, so both kinds are the spin lock,
/// which loom models (its atomics, and a yield while spinning).
///
/// No user code may run in the closure (a foreign waker's `clone`, `drop` or `wake`): it could
/// reach the lock again.
pub(crate) struct QueueLock<T> {
    /// Whether this is the lock of its own (`true`) or a critical section (see
    /// [`is_own`](Self::is_own)).
    #[cfg_attr(
        any(loom, all(feature = "one-timer-queue", feature = "task-timers-only")),
        allow(dead_code)
    )]
    own: bool,
    /// Set while a closure runs: the spin lock's state, or in debug builds the critical section's
    /// re-entrance check.
    held: AtomicBool,
    /// A flag of the lock's owner, read and written without the lock (see [`flag`](Self::flag)).
    flag: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through `lock`, which hands out `&mut T` to one closure at a
// time (the flag `held`, set with `Acquire` and cleared with `Release`, is the mutual exclusion,
// inside a critical section or not), so sharing the lock moves the value between threads, which
// `T: Send` allows.
unsafe impl<T: Send> Sync for QueueLock<T> {}

impl<T> QueueLock<T> {
    crate::loom_const_fn! {
        /// A lock that is a critical section: any thread or interrupt handler may take it.
        pub(crate) fn critical_section(value: T) -> QueueLock<T> {
            QueueLock {
                own: false,
                held: AtomicBool::new(false),
                flag: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }
    }

    crate::loom_const_fn! {
        /// A lock of its own: threads only, never an interrupt handler.
        pub(crate) fn own(value: T) -> QueueLock<T> {
            QueueLock {
                own: true,
                held: AtomicBool::new(false),
                flag: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }
    }

    /// Whether this is a lock of its own. Never, with `one-timer-queue` and `task-timers-only`:
    /// there only the global queue (a critical section) ever holds a timer (another queue wakes
    /// every waker at once: a task's is foreign to it, and foreign wakers are not kept), so an own
    /// lock guards an empty queue, and taking it as a critical section instead costs nothing
    /// while the spin path is not built.
    #[inline(always)]
    fn is_own(&self) -> bool {
        #[cfg(all(feature = "one-timer-queue", feature = "task-timers-only", not(loom)))]
        return false;
        #[cfg(not(all(feature = "one-timer-queue", feature = "task-timers-only", not(loom))))]
        return self.own;
    }

    /// A flag for the lock's owner to keep beside the value and read without the lock (the timer
    /// queue's "may have timers" hint). It sits in the padding between the lock's two flags and
    /// the value, where a field of the owner would cost a word of its own. Initially `false`.
    #[inline]
    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// Runs `f` with the value, under the lock. `f` must run no user code.
    ///
    /// Taking and giving back the lock are not generic ([`acquire`], [`Held`]'s drop), so each
    /// closure adds only its own body, not a copy of both lock paths.
    ///
    /// # Panics
    ///
    /// In debug builds, for a critical-section lock, if `f` (or an interrupt handler it is
    /// running under) uses this lock again. (An own lock would spin forever instead.) No `f` of
    /// the runtime does: each runs a few list operations and no user code.
    #[inline]
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _held = acquire(&self.held, self.is_own());
        // SAFETY: `acquire` took the lock for this call: for an own lock it set `held`; for a
        // critical-section lock it entered the section, where nothing else runs and `f` (the
        // runtime's own closure, no user code) never takes this lock again (in debug builds
        // `held` checks that). So this is the one `&mut T` until `_held` gives the lock back,
        // after `f` returns (or unwinds).
        self.value.with_mut(|value| f(unsafe { &mut *value }))
    }
}

impl<T> QueueLock<T> {
    /// [`lock`](Self::lock) for a caller that is inside a critical section already (`_cs`
    /// proves it): a critical-section lock then enters no other, and only checks and sets
    /// `held` in debug builds (plain loads and stores: inside the section nothing else runs). A
    /// lock of its own is taken as by `lock`.
    ///
    /// # Panics
    ///
    /// As for `lock`, in debug builds, if `f` uses this lock again.
    #[inline]
    pub(crate) fn lock_in<R>(
        &self,
        _cs: critical_section::CriticalSection<'_>,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        #[cfg(loom)]
        return self.lock(f);
        #[cfg(not(loom))]
        {
            if self.is_own() {
                return self.lock(f);
            }
            if CHECK_REENTRANCE {
                if self.held.load(Ordering::Relaxed) {
                    reentered();
                }
                self.held.store(true, Ordering::Relaxed);
                let _held = Held {
                    held: &self.held,
                    critical_section: None,
                };
                // SAFETY: as below; and `held`, clear until just now and cleared again by
                // `_held` after `f` (also if it unwinds), checks that `f` does not take this
                // lock again: a nested `lock` or `lock_in` panics before it reaches the value.
                return self.value.with_mut(|value| f(unsafe { &mut *value }));
            }
            // SAFETY: inside the critical section no other context runs, and `f` (the
            // runtime's own closure, which runs no user code) never takes this lock again: this
            // is the one `&mut T`. (Debug builds check that, above.)
            self.value.with_mut(|value| f(unsafe { &mut *value }))
        }
    }
}

/// Whether a critical-section [`QueueLock`] checks that it is not taken again while held (see
/// [`QueueLock`]): in debug builds.
#[cfg(not(loom))]
const CHECK_REENTRANCE: bool = cfg!(debug_assertions);

/// A critical-section [`QueueLock`] taken again while held (debug builds). (Under loom every
/// lock is an own lock, which spins instead.)
#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn reentered() -> ! {
    panic!("the timer queue's lock was taken again while held");
}

/// Takes a [`QueueLock`]: enters the critical section (unless `own`), then sets `held` (for an
/// own lock, spinning until it is free; for a critical-section lock, in debug builds only). The
/// returned guard undoes both, also if the holder panics.
///
/// # Panics
///
/// In debug builds, for a critical-section lock whose `held` is already set: the lock was
/// re-entered. The critical section is left before the panic.
#[cfg_attr(loom, allow(unused_variables))]
fn acquire(held: &AtomicBool, own: bool) -> Held<'_> {
    #[cfg(not(loom))]
    if !own {
        // SAFETY: the state is given back to `release` exactly once, by the guard: when the lock
        // is dropped (critical sections taken inside it are left before that, being nested in
        // the holder's scope), or just below if the lock was re-entered.
        let state = unsafe { critical_section::acquire() };
        // Inside the critical section nobody else holds the flag: set means re-entered.
        if CHECK_REENTRANCE && held.swap(true, Ordering::Acquire) {
            // SAFETY: as above; nothing else uses `state`.
            unsafe { critical_section::release(state) };
            reentered();
        }
        return Held {
            held,
            critical_section: Some(state),
        };
    }
    while held
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        while held.load(Ordering::Relaxed) {
            spin_loop();
        }
    }
    Held {
        held,
        #[cfg(not(loom))]
        critical_section: None,
    }
}

/// A taken [`QueueLock`]: its dropping clears `held` (if it was set), then leaves the critical
/// section, if the lock is one.
struct Held<'a> {
    held: &'a AtomicBool,
    /// What `critical_section::acquire` returned, for a critical-section lock.
    #[cfg(not(loom))]
    critical_section: Option<critical_section::RestoreState>,
}

impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        #[cfg(loom)]
        self.held.store(false, Ordering::Release);
        #[cfg(not(loom))]
        match self.critical_section {
            // An own lock: `held` is the lock.
            None => self.held.store(false, Ordering::Release),
            Some(state) => {
                // A critical-section lock: `held` is set in debug builds only.
                if CHECK_REENTRANCE {
                    self.held.store(false, Ordering::Release);
                }
                // SAFETY: `state` came from the `acquire` that made this guard, and is released
                // once, here, after every critical section taken while the lock was held was left.
                unsafe { critical_section::release(state) };
            }
        }
    }
}

/// Defines a function that is `const` except under loom, whose atomics have no `const` constructor.
#[macro_export]
#[doc(hidden)]
macro_rules! loom_const_fn {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $T:ty),* $(,)?) -> $Ret:ty $body:block
    ) => {
        $(#[$meta])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $T),*) -> $Ret $body

        $(#[$meta])*
        #[cfg(loom)]
        $vis fn $name($($arg: $T),*) -> $Ret $body
    };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::QueueLock;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Takes `lock` on another thread: `true` if that finished (the lock and the critical section
    /// were given back), `false` if it still waits after 10 s.
    fn free_elsewhere(lock: &'static QueueLock<u32>) -> bool {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            lock.lock(|value| *value += 1);
            let _ = done.send(());
        });
        finished.recv_timeout(Duration::from_secs(10)).is_ok()
    }

    #[test]
    fn a_panic_under_the_lock_gives_back_the_lock_and_the_critical_section() {
        static LOCK: QueueLock<u32> = QueueLock::critical_section(0);
        let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
            LOCK.lock(|_| panic!("inside the lock"));
        }));
        assert!(unwound.is_err());
        assert!(free_elsewhere(&LOCK), "the critical section was not left");
        assert_eq!(LOCK.lock(|value| *value), 1);
    }

    #[test]
    #[cfg(debug_assertions)] // the check is built in debug builds only
    fn a_reentrant_lock_panics_and_leaves_the_lock_usable() {
        static LOCK: QueueLock<u32> = QueueLock::critical_section(0);
        let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
            LOCK.lock(|_| LOCK.lock(|_| ()));
        }));
        let message = unwound.unwrap_err();
        let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("taken again while held"), "{message}");
        assert!(free_elsewhere(&LOCK), "the critical section was not left");
    }

    #[test]
    fn an_own_lock_is_given_back_after_a_panic() {
        static LOCK: QueueLock<u32> = QueueLock::own(0);
        let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
            LOCK.lock(|_| panic!("inside the lock"));
        }));
        assert!(unwound.is_err());
        assert!(free_elsewhere(&LOCK), "the lock was not given back");
    }
}
