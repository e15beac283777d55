//! The one place atomics and cells come from.
//!
//! Every atomic, every `UnsafeCell` and the timer queue's lock ([`CriticalSectionMutex`]) in
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
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use portable_atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize};

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

/// A lock around a value that any thread or interrupt handler may use: the timer queue's.
///
/// Outside loom it is exactly a `critical_section::Mutex<RefCell<T>>`: the closure runs in a
/// critical section, and the `RefCell` turns a re-entrant use (a closure that reaches the same
/// lock again, which a critical section allows) into a panic instead of a second `&mut T`.
/// Under loom, a critical section is invisible to the model, so it is a `loom::sync::Mutex`,
/// which loom models (and where re-entrance is a deadlock loom reports).
///
/// No user code may run in the closure (a foreign waker's `clone`, `drop` or `wake`): it could
/// reach the lock again. The `RefCell` only keeps a mistake sound.
pub(crate) struct CriticalSectionMutex<T> {
    #[cfg(not(loom))]
    inner: critical_section::Mutex<core::cell::RefCell<T>>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

impl<T> CriticalSectionMutex<T> {
    crate::loom_const_fn! {
        pub(crate) fn new(value: T) -> CriticalSectionMutex<T> {
            #[cfg(not(loom))]
            {
                CriticalSectionMutex {
                    inner: critical_section::Mutex::new(core::cell::RefCell::new(value)),
                }
            }
            #[cfg(loom)]
            {
                CriticalSectionMutex { inner: loom::sync::Mutex::new(value) }
            }
        }
    }

    /// Runs `f` with the value, under the lock. `f` must run no user code.
    ///
    /// # Panics
    ///
    /// Outside loom, if `f` (or an interrupt handler it is running under) uses this lock again.
    #[inline]
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(not(loom))]
        {
            critical_section::with(|cs| f(&mut self.inner.borrow_ref_mut(cs)))
        }
        #[cfg(loom)]
        {
            f(&mut self.inner.lock().unwrap())
        }
    }
}

/// Declares a `static` [`CriticalSectionMutex`] of a value, for a program-wide queue:
/// `global_lock! { static NAME: Type = init; }`.
///
/// Outside loom a plain `static` (its initialiser must be `const`). Under loom, whose objects
/// must be made inside each execution of a model, a `loom::lazy_static`: a fresh value is made
/// on first use in every execution, and dropped at its end.
macro_rules! global_lock {
    ($(#[$meta:meta])* static $name:ident: $T:ty = $init:expr;) => {
        $(#[$meta])*
        #[cfg(not(loom))]
        static $name: $crate::loom::CriticalSectionMutex<$T> =
            $crate::loom::CriticalSectionMutex::new($init);

        #[cfg(loom)]
        loom::lazy_static! {
            $(#[$meta])*
            static ref $name: $crate::loom::CriticalSectionMutex<$T> =
                $crate::loom::CriticalSectionMutex::new($init);
        }
    };
}
pub(crate) use global_lock;

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
