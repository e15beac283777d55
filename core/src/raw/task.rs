//! The life of a task: spawn, run, complete, join, abort, release. See [`super::state`].

use core::future::Future;
use core::ptr::{self, NonNull};
use core::task::Waker;

use super::header::{
    slot_head, storage_mut, AssertFits, Header, RawTask, SlotHead, TaskSlot, TaskVTable,
};
use super::scheduler::Scheduler;
use super::state::*;
use super::waker::wake_task;
use crate::loom::{AtomicUsize, Ordering};

/// Claims a free slot in `slots`, starting the search at `*hint`, and starts the future `make`
/// returns in it on `scheduler`. Gives `make` back when every slot is taken.
///
/// `kind` says what else the task is (see [`TaskKind`]).
///
/// The size check here is at run time (and folded away): pools check at compile time before they
/// call this (`AssertFits`), except a driver's size classes, which chose `SIZE` from `F`'s size
/// themselves (every `match` arm is instantiated there; only the one that fits runs).
///
/// Only the write of the future is generic: the search, the claim and the writes of the vtable
/// and scheduler are one function ([`claim_slot`]) that every spawn of the program shares.
///
/// The future is made by `make` once a slot is claimed and written straight into the slot's
/// storage: a large future is not built on the stack and then copied. When every slot is taken
/// `make` is given back uncalled; if it panics, the slot is given back (see [`Unclaim`]).
///
/// # Panics
///
/// If `F` or its output does not fit the slots (a bug in the caller's choice of pool).
#[inline]
pub(crate) fn spawn_with<F: Future, M: FnOnce() -> F, H: SearchHint, const SIZE: usize>(
    slots: &'static [TaskSlot<SIZE>],
    hint: &H,
    scheduler: &'static Scheduler,
    make: M,
    kind: TaskKind,
) -> Result<NonNull<Header>, M> {
    let mut claim = CLAIMED | SCHEDULED;
    if kind.movable {
        claim |= SEND;
    }
    if kind.handle {
        claim |= HANDLE;
    }
    if !kind.cancellable {
        claim |= UNCANCELLABLE;
    }
    // Only one of the three is referenced by a spawn (`kind` is a constant at every call site),
    // so a program links only the ends of the kinds it spawns: no drop glue of `F` without
    // cancellable tasks of type `F`, no join protocol without joinable tasks.
    let vtable: *const TaskVTable = match (kind.handle, kind.cancellable) {
        (true, _) => RawTask::<F>::JOINABLE_REF.as_task(),
        (false, true) => RawTask::<F>::DETACHED_REF.as_task(),
        (false, false) => RawTask::<F>::detached_uncancellable(),
    };
    debug_assert!(
        !kind.handle || kind.cancellable,
        "a JoinHandle may abort its task"
    );
    assert!(
        AssertFits::<F, SIZE>::fits(),
        "a future was spawned into a pool whose slots are too small for it"
    );
    // A pointer to the whole slice: its provenance covers every slot.
    let base = NonNull::from(slots).cast::<Header>();
    let claimed = if H::ONE_SLOT {
        debug_assert_eq!(slots.len(), 1);
        // SAFETY: `base` is the one slot of the `'static` slice above, which fits the future.
        unsafe { claim_one(base, scheduler, vtable, claim) }
    } else {
        let slots = SlotArray {
            base,
            len: slots.len(),
            stride: size_of::<TaskSlot<SIZE>>(),
        };
        // SAFETY: `slots` describes the `'static` slice above, whose slots are `TaskSlot<SIZE>`s
        // `stride` bytes apart.
        unsafe { claim_slot(slots, hint, scheduler, vtable, claim) }
    };
    let Some(header) = claimed else {
        return Err(make);
    };
    // If `make` panics, the slot is given back (see `Unclaim`).
    let unclaim = Unclaim(header);
    // SAFETY: ground rule 2: between the claim and the push we own every field. The slot was
    // free, so the storage holds nothing to drop; the future fits it (checked above). `make`'s
    // result goes straight into the storage, so a large future is not built elsewhere first.
    unsafe {
        ptr::write(storage_mut(header).cast::<F>(), make());
        core::mem::forget(unclaim);
        // We claimed the slot with SCHEDULED set.
        scheduler.enqueue(header);
    }
    Ok(header)
}

/// What a spawn makes of its task, beside the future: the bits of its state word that say so,
/// and its vtable.
#[derive(Clone, Copy)]
pub(crate) struct TaskKind {
    /// Sets `SEND`: only for a future whose spawn path required it (and its output) to be
    /// `Send`, so that a steal may move it to another executor's thread.
    pub(crate) movable: bool,
    /// Sets `HANDLE`, which the caller then owns (a `JoinHandle` made from the header); without
    /// it the task is detached from the start, as if its handle had been dropped.
    pub(crate) handle: bool,
    /// Whether the future may be dropped before it completes (an abort, `cancel_all`, a panic in
    /// its poll). Without it the vtable has no `drop_storage` and the task is retired instead
    /// (see `RETIRED`); only for detached tasks (a `JoinHandle` could abort it).
    pub(crate) cancellable: bool,
}

impl TaskKind {
    /// A task with a `JoinHandle` (which may abort it).
    pub(crate) const fn joinable(movable: bool) -> TaskKind {
        TaskKind {
            movable,
            handle: true,
            cancellable: true,
        }
    }

    /// A detached task: cancellable, or not (retired when cancelled).
    pub(crate) const fn detached(movable: bool, cancellable: bool) -> TaskKind {
        TaskKind {
            movable,
            handle: false,
            cancellable,
        }
    }
}

/// Where a pool's next search for a free slot starts: a hint, read and written without ordering
/// (a stale or truncated one only makes a search longer).
pub(crate) trait SearchHint {
    /// Whether the pool has exactly one slot (a [`TaskCell`](crate::TaskCell)): the claim then
    /// tries that slot and searches nothing.
    const ONE_SLOT: bool = false;
    /// Where to start; taken modulo the number of slots.
    fn start(&self) -> usize;
    /// Remembers where the next search starts: one past the slot just taken.
    fn set(&self, next: usize);
}

impl SearchHint for AtomicUsize {
    #[inline]
    fn start(&self) -> usize {
        self.load(Ordering::Relaxed)
    }

    #[inline]
    fn set(&self, next: usize) {
        self.store(next, Ordering::Relaxed);
    }
}

/// Gives back a slot that [`spawn_with`] claimed when the future's `make` panics: the slot goes
/// back to all-free (state 0). Nothing else knows it yet: it is in no run queue, no waker or
/// handle for it was made, and a stale waker of the slot's last task does nothing to a state with
/// `SCHEDULED` set (a concurrent `cancel_all` may add `CANCELLED`, which the reset drops too).
struct Unclaim(NonNull<Header>);

impl Drop for Unclaim {
    #[cold]
    fn drop(&mut self) {
        // SAFETY: ground rule 1: the header is in a `'static` slot.
        let head = unsafe { slot_head(self.0) };
        head.header.state.swap(0, Ordering::Release);
    }
}

/// The slots of a pool with their size erased: `len` slots, `stride` bytes apart from `base`.
#[derive(Clone, Copy)]
struct SlotArray {
    /// The first slot, as a pointer made from a reference to the whole `'static` slice.
    base: NonNull<Header>,
    len: usize,
    /// `size_of::<TaskSlot<SIZE>>()`.
    stride: usize,
}

/// The part of [`spawn_with`] that does not depend on the future's type, shared by every spawn of
/// the program: finds a free slot in `slots` starting at `*hint`, claims it with the state `claim`
/// (which has `SCHEDULED`), and writes its vtable and scheduler. The caller then owns every field
/// of the slot (ground rule 2): it writes the future and pushes the task. `None` when every slot
/// is taken.
///
/// # Safety
///
/// `slots.base` points at the first of `slots.len` `'static` [`TaskSlot`]s that are
/// `slots.stride` bytes apart (a slice of `TaskSlot<SIZE>`, its provenance covering the whole
/// slice), and the slots' storage fits the future that `vtable` is made for.
#[inline(never)]
unsafe fn claim_slot<H: SearchHint>(
    slots: SlotArray,
    hint: &H,
    scheduler: &'static Scheduler,
    vtable: *const TaskVTable,
    claim: u32,
) -> Option<NonNull<Header>> {
    let len = slots.len;
    if len == 0 {
        return None;
    }
    let mut index = hint.start() % len;
    for _ in 0..len {
        // SAFETY: `index < len`, so the slot is inside the slice (by the caller), and the
        // pointer keeps the provenance of the whole slice.
        let header = unsafe { slots.base.byte_add(index * slots.stride) };
        index += 1;
        if index == len {
            index = 0;
        }
        // SAFETY: a header of a `'static` slot (by the caller).
        let state = unsafe { &slot_head(header).header.state };
        // A plain read first: a full pool (or a full segment of a growing one) is scanned without
        // a read-modify-write per taken slot.
        if state.load(Ordering::Relaxed) != 0 {
            continue;
        }
        // SAFETY: as above.
        if unsafe { try_claim(header, scheduler, vtable, claim) } {
            // `index` is already one past the slot taken.
            hint.set(index);
            return Some(header);
        }
    }
    None
}

/// [`claim_slot`] for a pool of one slot (a [`TaskCell`](crate::TaskCell)): tries `header`'s slot,
/// and searches nothing. Shared by every such spawn of the program, which passes the slot alone.
/// Its compare-and-swap has no plain read before it: nothing is scanned (8 B of flash).
///
/// # Safety
///
/// As for [`try_claim`].
#[inline(never)]
unsafe fn claim_one(
    header: NonNull<Header>,
    scheduler: &'static Scheduler,
    vtable: *const TaskVTable,
    claim: u32,
) -> Option<NonNull<Header>> {
    // SAFETY: by our caller.
    unsafe { try_claim(header, scheduler, vtable, claim) }.then_some(header)
}

/// Claims the slot of `header` with the state `claim` if it is free, and then writes its vtable and
/// scheduler; `false` if it is taken.
///
/// # Safety
///
/// `header` is the header of a `'static` task slot whose storage fits the future that `vtable` is
/// made for.
#[inline(always)]
unsafe fn try_claim(
    header: NonNull<Header>,
    scheduler: &'static Scheduler,
    vtable: *const TaskVTable,
    claim: u32,
) -> bool {
    // SAFETY: a header of a `'static` slot (by the caller).
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    // Claim with SCHEDULED set: no waker (not even a stale one) can push the task before we have
    // written its scheduler and vtable.
    if state
        .compare_exchange(0, claim, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    // SAFETY: ground rule 2: between the claim and the push we own every field; `vtable` is
    // one of `spawn_with`'s (by our caller).
    unsafe { head.header.vtable.set(vtable) };
    // Relaxed: every reader of the pointer is ordered after this store by the push that follows
    // (its Release, acquired by the executor's `take_all`): the executor itself, and a waker,
    // whose compare-and-swap that sets `SCHEDULED` acquires the executor's release of that bit
    // (the first one comes after the first poll). A thief's `drain_home` only compares it. A
    // Release store was a barrier more on ARM (4 B of flash at every pool's claim).
    head.header
        .scheduler
        .store(ptr::from_ref(scheduler).cast_mut(), Ordering::Relaxed);
    true
}

/// How a completed task ended, for the bits it leaves in the state word.
#[derive(Clone, Copy)]
enum Ending {
    Output = OUTPUT as isize,
    Cancelled = CANCELLED as isize,
    Panicked = PANICKED as isize,
}

/// Runs one dequeued task: polls it, or drops it if it was aborted.
///
/// A poll that returns `Pending` costs one atomic read-modify-write on the state word (clearing
/// `SCHEDULED`); `RUNNING` is only taken when the task completes (see [`super::state`]).
///
/// # Safety
///
/// `header` was taken from its scheduler's run queue (its `SCHEDULED` bit is set and the queue no
/// longer holds it), and this is the thread that polls that scheduler.
///
/// With `steal-batch`, `Scheduler::poll` has two loops that call it (the local batch and the
/// published one), and with two call sites LLVM kept it out of line: a call, a return and a
/// prologue/epilogue on every task run (~11 instructions per `yield_now`, callgrind, bench-lto).
/// So it is always inlined there; without the feature there is one call site and the plain hint
/// (and the code, and the flash size) stay as they were.
#[cfg_attr(feature = "steal-batch", inline(always))]
#[cfg_attr(not(feature = "steal-batch"), inline)]
pub(crate) unsafe fn run(header: NonNull<Header>) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    // Leave the queue: from here on a wake pushes the task again, for the next batch. `SCHEDULED`
    // is set (we took the task out of a queue), so subtracting it clears it, and a subtraction
    // returns the word it changed in one instruction on x86 (`lock xadd`; a result-using
    // `fetch_and` is a compare-and-swap loop there) and in one exclusive-access loop on ARM, with
    // no load after it.
    let previous = state.fetch_sub(SCHEDULED, Ordering::AcqRel);
    debug_assert!(
        previous & SCHEDULED != 0 && (previous & RUNNING == 0 || previous & COMPLETE != 0),
        "{:?}",
        State(previous)
    );
    // The word our read-modify-write changed holds every bit set before it: a `CANCELLED` that
    // `abort` set before we cleared `SCHEDULED` (one set after it comes with a wake that queues
    // the task again), and `COMPLETE`, which only this thread sets. (Tested on `previous`, whose
    // other bits are the word's now: no subtraction on the hot path.)
    // The vtable (an uncancellable task's `poll`) was written at spawn, before the first push,
    // and is the task's until its slot is freed, which only its executor does from here.
    let vtable = &head.header.vtable;
    if previous & (COMPLETE | CANCELLED) != 0 {
        if previous & UNCANCELLABLE != 0 {
            // The finish of every uncancellable task, which has no vtable.
            // SAFETY: by our caller; the task was spawned detached and uncancellable.
            unsafe { finish_detached(header, previous - SCHEDULED) };
        } else {
            // SAFETY: by our caller; the task is not uncancellable, so its slot points at a
            // vtable, and `finish` is the one of its kind.
            unsafe { (vtable.finish())(header, previous - SCHEDULED) };
        }
        return;
    }
    // The task is live and not complete: its storage is this thread's (ground rule 2), and no
    // other party touches it until its end sets COMPLETE.
    // A fresh cooperative budget for this poll, if the header holds the counter (else the
    // scheduler reset its own).
    head.header.budget.reset();
    // SAFETY: the storage holds the live future and is ours (see above); the vtable's `poll`
    // ends the task if the future is done, as its kind does.
    unsafe { (vtable.poll(previous))(header) };
}

/// Finishes the task (see [`poll_unwound`]) if a `poll` in a vtable unwinds: made before the
/// future is polled, forgotten once the poll (and, when the future is done, its drop) returned.
pub(crate) struct PanicGuard<'a>(pub(crate) NonNull<Header>, pub(crate) &'a SlotHead);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: made only by a vtable's `poll`, which runs the live task on its executor's
        // thread (by `run`'s caller); it is dropped only when that poll unwound.
        unsafe { poll_unwound(self.0, self.1) };
    }
}

/// A task's `poll` unwound (a panic, on targets where panics unwind).
///
/// The future is not dropped here, inside the unwinding (a destructor that panicked too would
/// abort the process), nor leaked (its slot would be reused while pinned parts of it, such as a
/// node in a wait list, are still reachable: that breaks the `Pin` guarantee). It is marked
/// `CANCELLED | PANICKED` and queued, like an aborted task: the executor's next poll drops it,
/// outside any unwinding, and then completes the task as panicked. (If it was the destructor of a
/// finished future that unwound, the future is gone and the vtable's `poll` pointed the slot at
/// the `GONE` vtable, whose drop does nothing: the task is finished the same way.)
///
/// # Safety
///
/// As for [`run`]: the caller polled the live task on its executor's thread, and that poll
/// unwound.
#[cold]
unsafe fn poll_unwound(header: NonNull<Header>, head: &SlotHead) {
    let previous = head
        .header
        .state
        .fetch_or(CANCELLED | PANICKED | SCHEDULED, Ordering::AcqRel);
    if previous & SCHEDULED == 0 {
        // We set SCHEDULED, so the push is ours (a wake during the poll would have pushed it
        // already, and then its queue entry serves).
        // SAFETY: the scheduler was written at spawn, before the first poll.
        let scheduler = unsafe { &*head.header.scheduler.load(Ordering::Acquire) };
        // SAFETY: we set SCHEDULED.
        unsafe { scheduler.enqueue(header) };
    }
}

/// The rare cases of [`run`]: a task aborted (or whose poll panicked) before this poll, or a
/// complete task that was woken before it completed and so was still queued. The `finish` of a
/// joinable task's vtable (a general form, right for every kind of task).
///
/// # Safety
///
/// As for [`run`], after it cleared `SCHEDULED`; `current` was read after that and has
/// `COMPLETE` or `CANCELLED`.
#[cold]
#[inline(never)]
pub(crate) unsafe fn run_finishing(header: NonNull<Header>, current: u32) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    if current & COMPLETE != 0 {
        // `complete` found the task queued and left RUNNING set for this queue entry (see
        // `release_running`): now let the slot go.
        debug_assert!(current & RUNNING != 0, "{:?}", State(current));
        // SAFETY: we hold RUNNING on a complete task.
        unsafe { release_running(header, head) };
        return;
    }
    // SAFETY: the task is live and not complete, on its executor's thread (by our caller): the
    // storage holds the live future, which is never used again, and completing it is ours.
    unsafe { drop_then_complete(header, head, current) };
}

/// The `finish` of [`GONE`](super::header::GONE): the task's future is gone (its destructor
/// unwound after it returned `Ready`) and no output was stored, so its end is
/// [`run_finishing`]'s without a drop, right for every kind of task (an uncancellable one too:
/// there is nothing left to retire).
///
/// # Safety
///
/// As for [`run_finishing`].
#[cold]
#[inline(never)]
pub(crate) unsafe fn run_finishing_gone(header: NonNull<Header>, current: u32) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    if current & COMPLETE != 0 {
        // SAFETY: as in `run_finishing`: we hold RUNNING on a complete task.
        unsafe { release_running(header, head) };
        return;
    }
    // SAFETY: the future is gone, and we are its executor's thread outside a poll of it.
    unsafe { complete(header, head, ending_of_cancelled(current)) };
}

/// [`run_finishing`] for a detached, cancellable task (the `finish` of
/// [`RawTask::DETACHED`]): no `JoinHandle` can hold the slot, so the end is
/// [`complete_detached`]'s.
///
/// # Safety
///
/// As for [`run_finishing`], and the task was spawned detached (its `HANDLE` never set).
#[cold]
#[inline(never)]
pub(crate) unsafe fn run_finishing_detached(header: NonNull<Header>, current: u32) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    if current & COMPLETE != 0 {
        // SAFETY: we hold RUNNING on a complete detached task (see `complete_detached`).
        unsafe { free_detached(head, current) };
        return;
    }
    /// Completes the task when dropped: after the destructor returned, or while it unwinds.
    struct Complete<'a>(&'a SlotHead, Ending);
    impl Drop for Complete<'_> {
        fn drop(&mut self) {
            // SAFETY: the future's destructor ran (or unwound, which also ends it), on the
            // executor's thread; the task is detached (by the caller of `run_finishing_detached`).
            unsafe { complete_detached(self.0, self.1 as u32) };
        }
    }
    let _complete = Complete(head, ending_of_cancelled(current));
    // SAFETY: the vtable was written at spawn: a detached cancellable task's is a `DropVTable`
    // (`RawTask::DETACHED`), and `GONE` has a finish of its own. By our caller, the storage holds
    // the live future, never used again.
    unsafe { head.header.vtable.drops().drop_future(header) };
}

/// The end of a detached task on its executor's thread, for the ways that need no drop: the
/// poll that saw its future return (`current` is `COMPLETE` alone: the future and its output are
/// gone), and, as [`run_finishing`] for a detached, uncancellable task (which [`run`] calls for
/// every such task: they have no vtable), a dequeue that found it complete (it was woken before
/// it completed: this queue entry lets the slot go) or cancelled (it is retired, see `RETIRED`,
/// its future never dropped; or, where panics unwind, ended as [`run_finishing_gone`] ends it if
/// its future is gone).
///
/// One out-of-line function for the three: a poll's completion is a call with a constant, and
/// the finish of an uncancellable task is this function itself, not a forwarding one (8 and
/// 12 B of flash on `bench/size`'s apps, and 24 and 20 B before that for one call to
/// [`complete_detached`] rather than a branch to a second step).
///
/// # Safety
///
/// The caller is the thread of the task's executor, outside a poll of it, and the task was
/// spawned detached; `current` is `COMPLETE` alone and the future (and output) are gone, or the
/// caller is [`run`] (as for [`run_finishing`]) and `current` is the word it read, with
/// `COMPLETE` or, for a task spawned uncancellable only, `CANCELLED`.
#[inline(never)]
pub(crate) unsafe fn finish_detached(header: NonNull<Header>, current: u32) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    // An uncancellable task whose future's destructor unwound (only where panics unwind): the
    // future is gone, so the task is not retired but ended as `GONE`'s `finish` ends every kind.
    #[cfg(panic = "unwind")]
    // SAFETY: we run the task, on its executor's thread (by our caller).
    if current & COMPLETE == 0 && unsafe { head.header.vtable.is_gone() } {
        // SAFETY: as for `run_finishing`, by our caller (then `run`, the only caller with a
        // word that has no `COMPLETE`).
        unsafe { run_finishing_gone(header, current) };
        return;
    }
    // Complete (from the poll, or a queue entry after it): `RUNNING` goes up with `COMPLETE`, or
    // both are set already (the read-modify-write changes nothing), and the slot is let go if
    // the task is not queued. Cancelled: `RUNNING` goes up with `COMPLETE` and is never given
    // up, `RETIRED` keeping `complete_detached` from freeing the slot (see `retire`); its
    // `CANCELLED` (and `PANICKED`) are set already.
    let bits = if current & COMPLETE != 0 { 0 } else { RETIRED };
    // SAFETY: the task is detached, on its executor's thread outside a poll (by our caller):
    // its future is gone, or it is live and never used again: retired, its future is never
    // dropped and nothing reaches it.
    unsafe { complete_detached(head, bits) };
}

/// Completes a detached task on its executor's thread: its future is gone and so is its output
/// (a detached task keeps none), so nothing else is left to do than to let the slot go, unless
/// the task is still queued (it was woken before it completed), in which case `RUNNING` passes
/// to that queue entry, as in [`release_running`]. No `JoinHandle` to wake or wait for: its
/// `HANDLE` and `JOIN_WAKER` are never set. `bits`: those of an [`Ending`] (none for a task
/// that returned), with `RETIRED` for an uncancellable task that is retired instead (its slot
/// then stays taken: see [`retire`]).
///
/// Also the end of the queue entry of a task that completed while queued
/// ([`finish_detached`]): `bits` is then empty, `COMPLETE` and `RUNNING` are set already
/// (the read-modify-write changes nothing) and `SCHEDULED` is clear, so the slot is let go (or,
/// retired, kept).
///
/// # Safety
///
/// The caller is the thread of the task's executor, outside a poll of it, and the task was
/// spawned detached; its future (and output) are gone, or (`RETIRED`) never used again.
#[inline(always)]
pub(crate) unsafe fn complete_detached(head: &SlotHead, bits: u32) {
    // Release: the future's drop happens before whatever frees the slot next, here (whose
    // store is Release too) or after a dequeue of the task, whose read-modify-write acquires
    // this one (a thief's too). No Acquire: nothing is read after it but the word itself (no
    // output, no join waker), and whoever set `SCHEDULED` wrote nothing of the task that this
    // thread reads. One barrier less on ARM (4 B of flash).
    let previous = head
        .header
        .state
        .fetch_or(COMPLETE | RUNNING | bits, Ordering::Release);
    debug_assert!(
        previous & (HANDLE | JOIN_WAKER) == 0
            && (previous & (COMPLETE | RUNNING) == 0
                || (bits == 0 && previous & (COMPLETE | RUNNING) == COMPLETE | RUNNING)),
        "a detached task completes once: {:?}",
        State(previous)
    );
    if previous & SCHEDULED == 0 {
        // SAFETY: we hold RUNNING on a complete task that nobody else can reach: no handle, not
        // queued, and wakers refuse COMPLETE.
        unsafe { free_detached(head, previous | bits) };
    }
}

/// Returns the slot of a complete detached task to the pool, unless it is retired.
///
/// # Safety
///
/// The caller holds `RUNNING` on a complete detached task that is not queued (`current`: its
/// state word, which nobody else changes now).
unsafe fn free_detached(head: &SlotHead, current: u32) {
    debug_assert!(
        current & (OUTPUT | HANDLE) == 0,
        "a detached task keeps no output: {:?}",
        State(current)
    );
    if current & RETIRED == 0 {
        head.header.state.store(0, Ordering::Release);
    }
}

/// How a task that is `CANCELLED` before it completed ends: `Panicked` if the cancellation came
/// from a panic in its poll (see [`poll_unwound`]), else `Cancelled`.
fn ending_of_cancelled(current: u32) -> Ending {
    if current & PANICKED != 0 {
        Ending::Panicked
    } else {
        Ending::Cancelled
    }
}

/// Drops the live future, then completes the task as `ending`, even if the destructor unwinds:
/// a destructor runs once, panicking or not, so the task must never be dropped again.
///
/// # Safety
///
/// The storage holds the task's live future, which is never used again, and the caller may
/// [`complete`] the task (it is the executor's thread, outside a poll of this task, or holds
/// `RUNNING` on an idle task).
unsafe fn drop_then_complete(header: NonNull<Header>, head: &SlotHead, current: u32) {
    let ending = ending_of_cancelled(current);
    if current & UNCANCELLABLE != 0 {
        // An uncancellable task: its future stays where it is, never dropped (see `RETIRED`).
        // SAFETY: by our caller, completing the task is ours.
        unsafe { retire(header, head, ending) };
        return;
    }
    // SAFETY: the vtable was written at spawn, before the first push: a cancellable task's is a
    // `DropVTable`, and a `GONE` task is never dropped here (its vtable's finish completes it,
    // and `cancel_now` leaves it alone: it is queued).
    let vtable = unsafe { head.header.vtable.drops() };
    /// Completes the task when dropped: after the destructor returned, or while it unwinds.
    struct Complete<'a> {
        header: NonNull<Header>,
        head: &'a SlotHead,
        ending: Ending,
    }
    impl Drop for Complete<'_> {
        fn drop(&mut self) {
            // SAFETY: the future's destructor ran (or unwound, which also ends it), and by the
            // caller of `drop_then_complete` completing the task is ours.
            unsafe { complete(self.header, self.head, self.ending) };
        }
    }
    let _complete = Complete {
        header,
        head,
        ending,
    };
    // SAFETY: by our caller, the storage holds the live future, never used again (and the
    // vtable drops it: it has a `drop_storage`).
    unsafe { vtable.drop_future(header) };
}

/// Ends a cancelled task whose future may not be dropped (spawned uncancellable): marks it
/// `COMPLETE | RUNNING | RETIRED` in one step and never gives up `RUNNING`, so nothing frees the
/// slot (see [`release_running`]) and the future stays in it, never polled and never dropped.
/// Wakers refuse it (`COMPLETE`); it has no `JoinHandle` to wake. The same step as [`complete`]'s,
/// with `RETIRED` among the bits, after which `release_running` lets go of nothing.
///
/// # Safety
///
/// As for [`complete`]: the caller is [`drop_then_complete`]'s, the executor's thread, outside a
/// poll of the task.
#[cold]
unsafe fn retire(header: NonNull<Header>, head: &SlotHead, ending: Ending) {
    // SAFETY: by our caller.
    unsafe { complete_with(header, head, ending as u32 | RETIRED) };
}

/// Completes a joinable task whose future returned: its output is in the storage.
///
/// # Safety
///
/// As for [`complete`], and the output is in the storage.
pub(crate) unsafe fn complete_output(header: NonNull<Header>, head: &SlotHead) {
    // SAFETY: by our caller.
    unsafe { complete(header, head, Ending::Output) };
}

/// Marks the task complete (taking `RUNNING` with it), wakes its joiner, and gives up `RUNNING`.
///
/// # Safety
///
/// The future is gone (moved into the output, dropped, or its destructor unwound), and the caller is the thread
/// of the task's executor, which owned the live task's storage until now: [`run`] (which holds no
/// `RUNNING` for a poll) or [`cancel_now`] (which took `RUNNING` to drop an idle task).
unsafe fn complete(header: NonNull<Header>, head: &SlotHead, ending: Ending) {
    // SAFETY: by our caller.
    unsafe { complete_with(header, head, ending as u32) };
}

/// [`complete`] with `bits` (an [`Ending`]'s, and `RETIRED` for [`retire`]) set with `COMPLETE`.
///
/// # Safety
///
/// As for [`complete`].
unsafe fn complete_with(header: NonNull<Header>, head: &SlotHead, bits: u32) {
    // RUNNING goes up with COMPLETE, in one step: nobody frees a slot without COMPLETE, and with
    // it they see RUNNING too and leave the slot (and the output) to us.
    let previous = head
        .header
        .state
        .fetch_or(COMPLETE | RUNNING | bits, Ordering::AcqRel);
    debug_assert!(
        bits & RETIRED == 0 || previous & (HANDLE | JOIN_WAKER | COMPLETE) == 0,
        "an uncancellable task is detached and retired once: {:?}",
        State(previous)
    );
    if previous & JOIN_WAKER != 0 {
        // SAFETY: JOIN_WAKER was set and COMPLETE now is: the handle no longer touches the field
        // (its CAS to clear JOIN_WAKER fails on COMPLETE), so the waker is ours to take.
        unsafe { head.join_waker().wake() };
    }
    // SAFETY: we hold RUNNING.
    unsafe { release_running(header, head) };
}

/// Gives up `RUNNING` on a complete task, freeing the slot if nothing else holds it.
///
/// If the task is still queued (it was woken before it completed), `RUNNING` stays set and passes
/// to that queue entry: the executor calls this again when it dequeues the task. Nothing can queue
/// a complete task, and only that dequeue clears `SCHEDULED`, so the hand-over is stable.
///
/// # Safety
///
/// The caller holds `RUNNING` on a task whose state has `COMPLETE`.
unsafe fn release_running(header: NonNull<Header>, head: &SlotHead) {
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    loop {
        // A retired task keeps `RUNNING` forever (see `retire`); a queued one passes it to its
        // queue entry.
        if current & (SCHEDULED | RETIRED) != 0 {
            return;
        }
        if current & HANDLE == 0 {
            // Nobody else can reach the slot: no handle, not queued, and wakers refuse COMPLETE.
            // SAFETY: we hold RUNNING, so the output (if any) is ours to drop.
            unsafe { free(header, head, current) };
            return;
        }
        match state.compare_exchange_weak(
            current,
            current & !RUNNING,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// Drops the output (if still there) and returns the slot to the pool.
///
/// # Safety
///
/// The caller is the last owner of the complete task: no handle, not queued, and (if someone else
/// could have held it) not running.
unsafe fn free(header: NonNull<Header>, head: &SlotHead, current: u32) {
    /// Frees the slot when dropped: after the output's destructor returned, or while it
    /// unwinds (a destructor runs once: the output is gone either way).
    struct Release<'a>(&'a SlotHead);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.header.state.store(0, Ordering::Release);
        }
    }
    let _release = Release(head);
    if current & OUTPUT != 0 {
        // SAFETY: the output is in the storage and nobody else can reach it.
        unsafe { head.header.vtable.drops().drop_output(header) };
    }
}

/// What a `JoinHandle` finds when it looks at its task.
pub(crate) enum JoinPoll<T> {
    Output(T),
    Cancelled,
    Panicked,
    Pending,
}

/// Polls the task for its output, registering `waker` to be woken when it completes.
///
/// # Safety
///
/// The caller is the task's `JoinHandle`, `T` is the task's output type, and the output has not
/// been taken yet.
pub(crate) unsafe fn poll_join<T>(header: NonNull<Header>, waker: &Waker) -> JoinPoll<T> {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    if current & COMPLETE != 0 {
        // SAFETY: by the caller.
        return unsafe { take_output(header, head, current) };
    }
    if current & JOIN_WAKER != 0 {
        // A waker is registered. Take the field back by clearing JOIN_WAKER; this fails only
        // when the task completes first, and then the output is ready.
        loop {
            match state.compare_exchange_weak(
                current,
                current & !JOIN_WAKER,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) if actual & COMPLETE != 0 => {
                    // SAFETY: by the caller.
                    return unsafe { take_output(header, head, actual) };
                }
                Err(actual) => current = actual,
            }
        }
    }
    // JOIN_WAKER is clear: the field is ours.
    // SAFETY: ground rule 2.
    if !unsafe { head.join_waker().store(waker) } {
        // A foreign waker, which this configuration does not keep (`task-wakers-only`, see
        // `join_waker`): JOIN_WAKER stays clear, so the task's completion wakes no one, and the
        // waker is woken now, so that its task polls the handle again.
        waker.wake_by_ref();
        return JoinPoll::Pending;
    }
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & COMPLETE != 0 {
            // The task finished before it could see our waker: drop it ourselves.
            // SAFETY: JOIN_WAKER is still clear, so the field is still ours.
            unsafe { head.join_waker().clear() };
            // SAFETY: by the caller.
            return unsafe { take_output(header, head, current) };
        }
        match state.compare_exchange_weak(
            current,
            current | JOIN_WAKER,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return JoinPoll::Pending,
            Err(actual) => current = actual,
        }
    }
}

/// # Safety
///
/// As for [`poll_join`], and `current` has `COMPLETE`.
unsafe fn take_output<T>(header: NonNull<Header>, head: &SlotHead, current: u32) -> JoinPoll<T> {
    if current & OUTPUT != 0 {
        // Only the handle clears OUTPUT once COMPLETE is set, and the slot cannot be freed while
        // HANDLE is set.
        head.header.state.fetch_and(!OUTPUT, Ordering::AcqRel);
        // SAFETY: the storage holds the task's output of type `T` (by the caller), and clearing
        // OUTPUT made it ours.
        JoinPoll::Output(unsafe { ptr::read(storage_mut(header).cast::<T>()) })
    } else if current & PANICKED != 0 {
        JoinPoll::Panicked
    } else {
        JoinPoll::Cancelled
    }
}

/// The task's state word, for `Debug` output.
pub(crate) fn state_of(header: NonNull<Header>) -> State {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    State(head.header.state.load(Ordering::Acquire))
}

/// Whether the task has completed (returned, been aborted, or panicked).
pub(crate) fn is_complete(header: NonNull<Header>) -> bool {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    head.header.state.load(Ordering::Acquire) & COMPLETE != 0
}

/// Asks the task to stop: its future is dropped the next time the executor reaches it.
///
/// # Safety
///
/// The caller is the task's `JoinHandle` (so the slot still belongs to this task).
pub(crate) unsafe fn abort(header: NonNull<Header>) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & (COMPLETE | CANCELLED) != 0 {
            return;
        }
        match state.compare_exchange_weak(
            current,
            current | CANCELLED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
    // SAFETY: ground rule 1.
    unsafe { wake_task(header) };
}

/// Drops the task's `JoinHandle`: detaches a running task, or frees a finished one.
///
/// # Safety
///
/// The caller is the task's `JoinHandle`, giving up `HANDLE`.
pub(crate) unsafe fn drop_handle(header: NonNull<Header>) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    loop {
        let next = current & !(HANDLE | JOIN_WAKER);
        match state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
    if current & JOIN_WAKER != 0 && current & COMPLETE == 0 {
        // We cleared JOIN_WAKER before the executor set COMPLETE: the waker is ours to drop.
        // SAFETY: ground rule 2.
        unsafe { head.join_waker().clear() };
    }
    if current & COMPLETE != 0 && current & (RUNNING | SCHEDULED) == 0 {
        // SAFETY: complete, and we were the last holder.
        unsafe { free(header, head, current & !(HANDLE | JOIN_WAKER)) };
    }
}

/// Cancels the task in this slot, if any: an idle task's future is dropped now; a task in a run
/// queue (or being spawned) is marked `CANCELLED`, and its executor drops it without polling it
/// when it reaches it. Returns whether there was an unfinished task.
///
/// # Safety
///
/// `header` comes from a `'static` slot; the caller is the thread that polls the task's executor,
/// not inside a poll (so its executor is not polling the task now: the storage of an idle task
/// is this thread's).
pub(crate) unsafe fn cancel_now(header: NonNull<Header>) -> bool {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(header) };
    let state = &head.header.state;
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & CLAIMED == 0 || current & (COMPLETE | RUNNING) != 0 {
            return false;
        }
        // A queued task (or one being spawned: spawn claims with SCHEDULED) only gets the bit;
        // touching its storage now could race with the spawner.
        let next = if current & SCHEDULED != 0 {
            current | CANCELLED
        } else {
            current | CANCELLED | RUNNING
        };
        match state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) if current & SCHEDULED != 0 => return true,
            Ok(_) => break,
            Err(actual) => current = actual,
        }
    }
    debug_assert!(
        !head.header.scheduler.load(Ordering::Relaxed).is_null(),
        "a claimed task has an executor"
    );
    // SAFETY: we hold RUNNING on an idle task on its executor's thread, outside its poll, so the
    // storage holds its live future, never used again, and completing it is ours.
    unsafe { drop_then_complete(header, head, current) };
    true
}
