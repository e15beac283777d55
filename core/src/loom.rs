//! The one place atomics and cells come from.
//!
//! Every atomic and every `UnsafeCell` in ebbtide-core is imported through this module, so that
//! `RUSTFLAGS="--cfg loom"` swaps them for [loom]'s model-checked versions. Outside loom the
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
