//! Storing a task's waker in a primitive without running waker code under the primitive's lock.
//!
//! Cloning and dropping a [`Waker`] call into its vtable, which for a foreign waker is user code,
//! and user code must not run while a primitive's lock is held (it could use the primitive again:
//! see [`blocking_mutex`](crate::blocking_mutex#re-entrancy)). A waiting future therefore stores
//! its waker through a [`Registration`]:
//!
//! - [`lock_registering`] locks the primitive and runs the future's closure, which calls
//!   [`Registration::store`] where it used to write `slot = Some(cx.waker().clone())`.
//! - `store` keeps the stored waker if it [`will_wake`](Waker::will_wake) the new one (the common
//!   re-poll; `will_wake` only compares pointers). Otherwise it needs a clone. The wakers of
//!   ebbtide tasks, a runner's root waker and ebbtide's own no-op waker (the one
//!   [`block_on`](crate::block_on) polls with) are cloned on the spot: their clone copies a
//!   pointer and their drop does nothing, so no user code runs. ([`Waker::noop`] is treated as
//!   foreign: its vtable is a constant that each codegen unit may copy, so its address cannot be
//!   recognised reliably.) Any other waker is not cloned under the lock:
//!   `store` returns [`NeedsClone`], the closure returns it (with `?`) **before changing any
//!   state**, and `lock_registering` unlocks, clones the waker, and runs the closure again with
//!   the clone in hand (the state may have changed meanwhile; the closure decides afresh).
//! - The waker that `store` replaced, and a clone that turned out not to be needed, are dropped
//!   after unlocking.
//!
//! So an ebbtide task pays nothing extra, and a foreign waker pays one more lock round trip only
//! when its clone is actually needed. The hottest paths (mpsc's send and receive) skip the
//! `Registration` for the common case: they check [`clone_runs_no_user_code`] and use
//! [`store_pure`] under one plain lock, and fall back to [`lock_registering`] for a foreign waker.
//!
//! # Without foreign wakers (`task-wakers-only`)
//!
//! With the `task-wakers-only` feature, no primitive ever stores a foreign waker: it stores the
//! no-op kind of [`PureWaker`](crate::raw::waker::PureWaker) in its place (which [`clone_pure`]
//! makes of any waker that is neither a task's nor a root waker) and wakes the foreign waker
//! itself, unlocked, once the poll is done, so the foreign task polls again at once (a busy wait,
//! never a lost wake-up). Every waker a primitive clones under its lock is then pure,
//! [`NeedsClone`] is never returned, and the compiler drops the retry paths and the foreign paths of the hot primitives:
//! code that only small targets with a single executor can do without.
//!
//! A kept waker is then also smaller: a [`Kept`] waker is a
//! [`PureWaker`](crate::raw::waker::PureWaker), the task header's (or the scheduler's) address
//! with its kind in two low bits, one word instead of a `Waker`'s two. Every wait-list node and
//! waker slot is 4 bytes smaller on 32-bit targets (a send future 28 bytes instead of 32).

#[cfg(not(feature = "task-wakers-only"))]
use core::task::RawWaker;
use core::task::Waker;

use crate::blocking_mutex::{BlockingMutex, RawMutex, Reentrancy};

/// A waker as a primitive keeps it in a slot: a [`Waker`], or with `task-wakers-only` (where every
/// kept waker is a task's, a root waker or the no-op waker) a
/// [`PureWaker`](crate::raw::waker::PureWaker), one word instead of two. Both wake with `wake`
/// and `wake_by_ref`; [`clone_pure`] makes one (kept wakers are compared by making the new one
/// and comparing the two: a `PureWaker` is `Eq`, a `Waker` has `will_wake`).
#[cfg(not(feature = "task-wakers-only"))]
pub(crate) type Kept = Waker;
/// See above.
#[cfg(feature = "task-wakers-only")]
pub(crate) type Kept = crate::raw::waker::PureWaker;

/// [`Registration::store`] needs a clone of a foreign waker, which must not be made under the
/// lock: return it from the locked closure (before changing any state) to get one.
#[cfg(not(feature = "task-wakers-only"))]
#[derive(Debug)]
pub(crate) struct NeedsClone;

/// With `task-wakers-only` no clone is ever needed: the type has no value, so the retry paths
/// that handle it compile away.
#[cfg(feature = "task-wakers-only")]
#[derive(Debug)]
pub(crate) enum NeedsClone {}

/// The waker of the task that polls, on its way into a primitive's waker slot.
///
/// See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Registration<'a> {
    waker: &'a Waker,
    /// Before `store`: a clone made with the lock released, for a waker whose clone may run
    /// user code. After `store`: the waker the slot held before. Dropped after unlocking.
    held: Option<Kept>,
}

impl Registration<'_> {
    /// Puts the polling task's waker into `slot`, unless the waker there already wakes it.
    ///
    /// At most one `store` per run of the closure of [`lock_registering`].
    ///
    /// # Errors
    ///
    /// [`NeedsClone`] if a foreign waker must be cloned first; `slot` is unchanged.
    #[inline]
    pub(crate) fn store(&mut self, slot: &mut Option<Kept>) -> Result<(), NeedsClone> {
        // A kept waker is its one word: made once, compared, stored.
        #[cfg(feature = "task-wakers-only")]
        {
            let new = clone_pure(self.waker);
            if slot.as_ref() != Some(&new) {
                // `held` is empty (no clone is ever made ahead): it takes the old waker.
                self.held = slot.replace(new);
            }
            Ok(())
        }
        #[cfg(not(feature = "task-wakers-only"))]
        {
            if let Some(old) = slot {
                if old.will_wake(self.waker) {
                    return Ok(());
                }
            }
            let new = self.clone_waker()?;
            // `held` is empty now (its clone, if any, was just taken): it takes the old waker.
            self.held = slot.replace(new);
            Ok(())
        }
    }

    /// A clone of the polling task's waker (`store`'s, where a foreign waker may need one made
    /// unlocked; with `task-wakers-only` `store` makes its kept waker itself).
    ///
    /// # Errors
    ///
    /// [`NeedsClone`], as for [`store`](Registration::store).
    #[cfg(not(feature = "task-wakers-only"))]
    #[inline]
    fn clone_waker(&mut self) -> Result<Kept, NeedsClone> {
        match self.held.take() {
            Some(spare) => Ok(spare),
            None if clone_runs_no_user_code(self.waker) => Ok(clone_pure(self.waker)),
            None => Err(NeedsClone),
        }
    }
}

/// Puts `waker` into `slot` under a lock, for the hot paths of primitives that check
/// [`clone_runs_no_user_code`] first (so they need no [`Registration`] and no retry): keeps the
/// stored waker if it already wakes the same task, else stores a clone and returns the waker it
/// replaced, which the caller drops **after unlocking** (it may be a foreign waker).
///
/// `waker`'s clone must run no user code (checked in debug builds).
///
/// With `task-wakers-only` it is always inlined: in a task's own poll the waker is the task's,
/// known, and what is left is a compare and a store of its header (where the call passed the
/// waker's two words and the out-of-line copy tested its kind: 56 and 64 B less on the apps of
/// `bench/size`, once `PureWaker::of` is inlined too and the caller's test for a foreign waker
/// folds as well).
#[cfg_attr(feature = "task-wakers-only", inline(always))]
#[cfg_attr(not(feature = "task-wakers-only"), inline)]
#[must_use = "the replaced waker must be dropped after unlocking"]
pub(crate) fn store_pure(slot: &mut Option<Kept>, waker: &Waker) -> Option<Kept> {
    debug_assert!(clone_runs_no_user_code(waker));
    // A kept waker is its one word: made once, compared, stored.
    #[cfg(feature = "task-wakers-only")]
    {
        let new = clone_pure(waker);
        if slot.as_ref() == Some(&new) {
            None
        } else {
            slot.replace(new)
        }
    }
    #[cfg(not(feature = "task-wakers-only"))]
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(clone_pure(waker)),
    }
}

/// A clone of `waker`, whose clone runs no user code ([`clone_runs_no_user_code`]), as a
/// [`Kept`] waker: its two words copied, without a call through its vtable (for those wakers,
/// an ebbtide task's, a runner's root waker and ebbtide's no-op waker, the vtable's `clone`
/// returns the same data and vtable, and their `drop` does nothing, so the copy is the clone),
/// or with `task-wakers-only` its one-word [`PureWaker`](crate::raw::waker::PureWaker). Checked
/// in debug builds.
#[inline(always)]
pub(crate) fn clone_pure(waker: &Waker) -> Kept {
    // With `task-wakers-only` a foreign waker becomes the no-op kind (see the module docs).
    #[cfg(feature = "task-wakers-only")]
    return crate::raw::waker::PureWaker::of(waker);
    #[cfg(not(feature = "task-wakers-only"))]
    debug_assert!(clone_runs_no_user_code(waker));
    // SAFETY: as above: the raw waker is exactly what the vtable's `clone` would return, so it
    // keeps `RawWaker`'s contract as that clone would.
    #[cfg(not(feature = "task-wakers-only"))]
    unsafe {
        Waker::from_raw(RawWaker::new(waker.data(), waker.vtable()))
    }
}

/// After a wait that kept nothing for a foreign waker (with `task-wakers-only` no primitive
/// keeps one): wakes it at once, so that its task polls again (see the module docs). Asked here,
/// after unlocking, rather than told by what the locked part returned: in a task's own poll the
/// waker is the task's, known, and the test folds away, where a test of a third variant of the
/// locked part's result stayed (a compare and a call at every wait, 8 B on a Cortex-M).
#[cfg(feature = "task-wakers-only")]
#[inline(always)]
pub(crate) fn wake_if_foreign(waker: &Waker) {
    if !clone_runs_no_user_code(waker) {
        waker.wake_by_ref();
    }
}

/// Drops a waker that a primitive kept, after unlocking. With `task-wakers-only` a kept waker is
/// a [`PureWaker`](crate::raw::waker::PureWaker), whose drop is nothing. Otherwise it is dropped
/// (it may be foreign).
#[inline(always)]
#[cfg_attr(feature = "task-wakers-only", allow(clippy::drop_non_drop))]
pub(crate) fn drop_kept(waker: Option<Kept>) {
    drop(waker);
}

/// Whether cloning and dropping `waker` runs no user code: an ebbtide task's waker (clone copies
/// the header pointer, drop does nothing), a runner's root waker (the same, for the future of
/// `run_until` or a driver's `block_on`) or ebbtide's no-op waker (recognised by the address of
/// a `static` vtable, so the answer is the same in every function that asks).
///
/// With `task-wakers-only`, ebbtide's no-op waker is not asked about: no primitive keeps a waker
/// other than a task's or a root waker then, and the no-op waker takes the foreign waker's way
/// (woken at once, which does nothing), so that the program has no code for recognising it.
#[inline]
pub(crate) fn clone_runs_no_user_code(waker: &Waker) -> bool {
    let pure = crate::raw::waker::header_of(waker).is_some()
        || crate::raw::scheduler::is_root_waker(waker);
    #[cfg(not(feature = "task-wakers-only"))]
    let pure = pure || crate::raw::waker::is_noop(waker);
    pure
}

/// Runs `f` under `mutex`'s lock with a [`Registration`] of `waker`; if `f` returns
/// [`NeedsClone`], clones `waker` with the lock released and runs `f` again.
///
/// `f` must return `Err(NeedsClone)` before it changes any state, since it runs again. The waker
/// that `store` replaced, or an unused clone, is dropped after unlocking.
///
/// With `task-wakers-only`, a foreign `waker` is never stored: `f` stores a no-op waker in its
/// place, and `waker` is woken after unlocking (see the [module docs](self)).
#[inline(always)]
pub(crate) fn lock_registering<M: RawMutex, S, R, U: Reentrancy>(
    mutex: &BlockingMutex<M, S, U>,
    waker: &Waker,
    mut f: impl FnMut(&mut S, &mut Registration<'_>) -> Result<R, NeedsClone>,
) -> R {
    #[cfg(feature = "task-wakers-only")]
    {
        let foreign = !clone_runs_no_user_code(waker);
        let mut registration = Registration { waker, held: None };
        let out = mutex.lock(|state| f(state, &mut registration));
        // Unlocked: the replaced waker goes (a stand-in's drop runs no user code), then a foreign
        // waker is woken so that its task polls again.
        drop_kept(registration.held);
        if foreign {
            waker.wake_by_ref();
        }
        match out {
            Ok(out) => out,
            Err(never) => match never {},
        }
    }
    #[cfg(not(feature = "task-wakers-only"))]
    {
        let mut registration = Registration { waker, held: None };
        match mutex.lock(|state| f(state, &mut registration)) {
            // `registration` (a replaced waker) is dropped on return, unlocked.
            Ok(out) => out,
            Err(NeedsClone) => retry_with_clone(mutex, registration, f),
        }
    }
}

/// The slow path of [`lock_registering`]: a foreign waker's clone, made unlocked.
#[cfg(not(feature = "task-wakers-only"))]
#[cold]
#[inline(never)]
fn retry_with_clone<M: RawMutex, S, R, U: Reentrancy>(
    mutex: &BlockingMutex<M, S, U>,
    mut registration: Registration<'_>,
    mut f: impl FnMut(&mut S, &mut Registration<'_>) -> Result<R, NeedsClone>,
) -> R {
    loop {
        // Unlocked: the clone may run any code, even code that uses this primitive. (It replaces
        // nothing: `f` failed before any `store`, or took the previous clone and failed again.)
        registration.held = Some(registration.waker.clone());
        if let Ok(out) = mutex.lock(|state| f(state, &mut registration)) {
            // `registration` (an unused clone, a replaced waker) is dropped on return, unlocked.
            return out;
        }
    }
}
