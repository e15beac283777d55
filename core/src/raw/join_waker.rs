//! The join waker: the waker of whoever awaits a task's `JoinHandle`, kept in the task's slot.
//!
//! Who may touch it is the state word's business (`JOIN_WAKER`, see [`super::state`]): the handle
//! owns the field while `JOIN_WAKER` is clear, and the task's executor takes it when it completes
//! a task that has `JOIN_WAKER` set. This file only decides how the waker is kept:
//!
//! - By default, as a [`Waker`] (8 bytes on 32-bit targets, 16 on 64-bit), whatever its kind.
//! - With `task-wakers-only` and `one-timer-queue` (small targets with one executor), as one word
//!   in the header: the header of the ebbtide task that awaits, or the scheduler of the runner
//!   whose own future awaits (tagged in its low bit), or null. It takes the 4 bytes the timer
//!   entry's queue field takes elsewhere (with one timer queue the entry needs none), so a slot's
//!   head is 32 bytes on 32-bit targets instead of 40. A foreign waker is not kept, as no
//!   primitive keeps one under `task-wakers-only`: [`JoinWaker::store`] says so, and the handle
//!   wakes it at once instead (a busy wait, never a lost wake-up).

use core::task::Waker;

use crate::loom::UnsafeCell;

/// The join waker field of a task slot; see the [module docs](self).
#[cfg(not(all(feature = "task-wakers-only", feature = "one-timer-queue")))]
pub(crate) struct JoinWaker(UnsafeCell<Option<Waker>>);

#[cfg(not(all(feature = "task-wakers-only", feature = "one-timer-queue")))]
impl JoinWaker {
    crate::loom_const_fn! {
        /// No waker: all zeros.
        pub(crate) fn new() -> JoinWaker {
            JoinWaker(UnsafeCell::new(None))
        }
    }

    /// Keeps a clone of `waker` (dropping the waker kept before, if any); always `true`: every
    /// waker is kept.
    ///
    /// # Safety
    ///
    /// The caller owns the field (the handle, with `JOIN_WAKER` clear).
    #[inline]
    pub(crate) unsafe fn store(&self, waker: &Waker) -> bool {
        // SAFETY: by the caller, no one else touches the field.
        self.0.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        true
    }

    /// Drops the kept waker, if any.
    ///
    /// # Safety
    ///
    /// As for [`store`](JoinWaker::store), or the executor completing the task.
    #[inline]
    pub(crate) unsafe fn clear(&self) {
        // SAFETY: by the caller.
        self.0.with_mut(|w| unsafe { *w = None });
    }

    /// Takes the kept waker, if any, and wakes it.
    ///
    /// # Safety
    ///
    /// As for [`clear`](JoinWaker::clear).
    #[inline]
    pub(crate) unsafe fn wake(&self) {
        // SAFETY: by the caller.
        if let Some(waker) = self.0.with_mut(|w| unsafe { (*w).take() }) {
            waker.wake();
        }
    }
}

/// The join waker field of a task slot, one word; see the [module docs](self).
#[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
pub(crate) struct JoinWaker(UnsafeCell<*const ()>);

/// The low bit of a kept pointer: set for a runner's scheduler, clear for a task's header (both
/// are at least 4-byte aligned, so the bit is free).
#[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
const ROOT: usize = 1;

#[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
impl JoinWaker {
    crate::loom_const_fn! {
        /// No waker: all zeros.
        pub(crate) fn new() -> JoinWaker {
            JoinWaker(UnsafeCell::new(core::ptr::null()))
        }
    }

    /// Keeps `waker` if it is an ebbtide task's or a runner's root waker; `false` for any other
    /// (foreign) waker, which is not kept: the
    /// caller must not set `JOIN_WAKER`, and wakes `waker` itself. Replaces the waker kept before.
    ///
    /// # Safety
    ///
    /// The caller owns the field (the handle, with `JOIN_WAKER` clear).
    #[inline]
    pub(crate) unsafe fn store(&self, waker: &Waker) -> bool {
        let (kept, known) = if let Some(header) = super::waker::header_of(waker) {
            (header.as_ptr().cast_const().cast::<()>(), true)
        } else if super::scheduler::is_root_waker(waker) {
            (waker.data().map_addr(|addr| addr | ROOT), true)
        } else {
            // Any other is foreign, ebbtide's no-op waker included (with `task-wakers-only` it
            // is not recognised: see `sync::waker::clone_runs_no_user_code`).
            (core::ptr::null(), false)
        };
        // SAFETY: by the caller, no one else touches the field.
        self.0.with_mut(|w| unsafe { *w = kept });
        known
    }

    /// Forgets the kept waker, if any (nothing to drop).
    ///
    /// # Safety
    ///
    /// As for [`store`](JoinWaker::store), or the executor completing the task.
    #[inline]
    pub(crate) unsafe fn clear(&self) {
        // SAFETY: by the caller.
        self.0.with_mut(|w| unsafe { *w = core::ptr::null() });
    }

    /// Takes the kept waker, if any, and wakes it.
    ///
    /// # Safety
    ///
    /// As for [`clear`](JoinWaker::clear).
    #[inline]
    pub(crate) unsafe fn wake(&self) {
        // SAFETY: by the caller.
        let kept = self
            .0
            .with_mut(|w| unsafe { core::mem::replace(&mut *w, core::ptr::null()) });
        if kept.is_null() {
            return;
        }
        if kept.addr() & ROOT != 0 {
            let scheduler = kept.map_addr(|addr| addr & !ROOT);
            // SAFETY: a tagged pointer is the data of a root waker (`store`), which is always an
            // `&'static Scheduler` (`Scheduler::root_waker`).
            unsafe { super::scheduler::wake_root_of(scheduler) };
        } else {
            // SAFETY: an untagged non-null pointer is the header of an ebbtide task waker
            // (`store`), which is only made for `'static` slots (ground rule 1).
            unsafe {
                super::waker::wake_task(core::ptr::NonNull::new_unchecked(kept.cast_mut().cast()))
            };
        }
    }
}
