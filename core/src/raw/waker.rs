//! The one waker vtable of ebbtide tasks.
//!
//! A task's waker is the header pointer with [`VTABLE`]: cloning copies the pointer, dropping does
//! nothing (slots are static, so there is no count to keep), waking sets `SCHEDULED` and pushes
//! the task onto its scheduler's run queue. Code that wants to know whether a waker belongs to an
//! ebbtide task (the timer queue, the cooperative budget) compares vtable addresses.
//!
//! It also holds ebbtide's own no-op waker, [`NOOP`], for the same reason: a primitive recognises
//! it by its vtable's address, and only a `static` has one address. [`Waker::noop`]'s vtable is a
//! promoted constant, which each codegen unit may copy, so comparing against it can answer
//! differently in two functions of the same program.

use core::ptr::NonNull;
use core::task::{RawWaker, RawWakerVTable, Waker};

use super::header::{Header, SlotHead};
use super::state::{CLAIMED, COMPLETE, SCHEDULED};
use crate::loom::Ordering;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

unsafe fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: wakers with this vtable are only made by `waker_for`, from a header pointer of a
    // static slot.
    unsafe { wake_task(NonNull::new_unchecked(data as *mut Header)) }
}

unsafe fn drop(_: *const ()) {}

static NOOP_VTABLE: RawWakerVTable = RawWakerVTable::new(noop_clone, noop, noop, noop);

fn noop_clone(_: *const ()) -> RawWaker {
    RawWaker::new(core::ptr::null(), &NOOP_VTABLE)
}

fn noop(_: *const ()) {}

/// A waker that wakes nothing, recognised by [`is_noop`] wherever it is compared: the stand-in a
/// primitive keeps in place of a foreign waker under `task-wakers-only`, and the waker of
/// [`block_on`](crate::block_on).
// SAFETY: the vtable's functions do nothing with the data pointer (null), so every operation is
// trivially thread-safe and the contract of `RawWaker` holds.
pub(crate) static NOOP: Waker =
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &NOOP_VTABLE)) };

/// Whether `waker` is (a clone of) [`NOOP`].
#[inline]
pub(crate) fn is_noop(waker: &Waker) -> bool {
    core::ptr::eq(waker.vtable(), &NOOP_VTABLE)
}

/// The waker of the task `header`.
///
/// # Safety
///
/// `header` must come from `TaskSlot::header_ptr` of a slot in a `'static` pool.
#[inline]
pub(crate) unsafe fn waker_for(header: NonNull<Header>) -> Waker {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for such a pointer: it stays
    // valid forever and every operation is thread-safe.
    unsafe { Waker::from_raw(RawWaker::new(header.as_ptr() as *const (), &VTABLE)) }
}

/// The task behind `waker`, if it is an ebbtide task waker.
#[inline]
pub(crate) fn header_of(waker: &Waker) -> Option<NonNull<Header>> {
    if core::ptr::eq(waker.vtable(), &VTABLE) {
        // SAFETY: wakers with this vtable are only made by `waker_for` (and `clone`, which copies
        // its data), from a `NonNull` header pointer. Skipping the null test saves a compare and
        // branch on every `poll_budget`.
        Some(unsafe { NonNull::new_unchecked(waker.data() as *mut Header) })
    } else {
        None
    }
}

/// Schedules the task `header`, from any thread or interrupt handler.
///
/// Does nothing for a free slot, a finished task, or a task already scheduled.
///
/// # Safety
///
/// `header` must come from `TaskSlot::header_ptr` of a slot in a `'static` pool.
pub(crate) unsafe fn wake_task(header: NonNull<Header>) {
    // SAFETY: by the caller, the slot lives forever.
    let head: &SlotHead = unsafe { super::header::slot_head(header) };
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & CLAIMED == 0 || current & (COMPLETE | SCHEDULED) != 0 {
            return;
        }
        match state.compare_exchange_weak(
            current,
            current | SCHEDULED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
    // SAFETY: we set SCHEDULED on a claimed task, so its spawn (or the steal that moved it last,
    // which wrote `scheduler` while it held SCHEDULED, before the poll that cleared it) happened
    // before our Acquire, and nobody writes `scheduler` while we hold SCHEDULED. A claimed task's
    // pointer comes from an `&'static Scheduler`.
    let scheduler = unsafe { &*head.header.scheduler.load(Ordering::Acquire) };
    // SAFETY: we set SCHEDULED.
    unsafe { scheduler.enqueue(header) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_noop_waker_and_its_clones_are_recognised_and_wake_nothing() {
        assert!(is_noop(&NOOP));
        let clone = NOOP.clone();
        assert!(is_noop(&clone));
        assert!(clone.will_wake(&NOOP));
        clone.wake_by_ref();
        clone.wake();
        assert!(header_of(&NOOP).is_none());
        // `Waker::noop` is not ours: it is treated as a foreign waker (still correct, one more
        // lock round trip), since its vtable's address is not unique in a program.
        assert!(!is_noop(Waker::noop()));
        assert!(!crate::sync::waker::clone_runs_no_user_code(Waker::noop()));
        assert!(crate::sync::waker::clone_runs_no_user_code(&NOOP));
    }
}
