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

unsafe fn drop(_: *const ()) {}

static NOOP_VTABLE: RawWakerVTable = RawWakerVTable::new(noop_clone, noop, noop, noop);

fn noop_clone(_: *const ()) -> RawWaker {
    RawWaker::new(core::ptr::null(), &NOOP_VTABLE)
}

fn noop(_: *const ()) {}

/// A waker that wakes nothing, recognised by [`is_noop`] wherever it is compared (except with
/// `task-wakers-only`, where it takes a foreign waker's way): the waker of
/// [`block_on`](crate::block_on).
// SAFETY: the vtable's functions do nothing with the data pointer (null), so every operation is
// trivially thread-safe and the contract of `RawWaker` holds.
pub(crate) static NOOP: Waker =
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &NOOP_VTABLE)) };

/// Whether `waker` is (a clone of) [`NOOP`]. Not asked with `task-wakers-only`, where the no-op
/// waker takes a foreign waker's way (see `sync::waker::clone_runs_no_user_code`).
#[cfg(any(test, not(feature = "task-wakers-only")))]
#[inline]
pub(crate) fn is_noop(waker: &Waker) -> bool {
    core::ptr::eq(waker.vtable(), &NOOP_VTABLE)
}

/// A waker whose clone and drop run no user code (a task's, a root waker, [`NOOP`]), kept in one
/// word: its data pointer with its kind in the two low bits (headers and schedulers are aligned
/// to at least 4). With `task-wakers-only` every waker a primitive keeps is one of these, so a
/// slot is half a `Waker` (4 bytes less per wait-list node and waker slot on 32-bit targets).
#[cfg(feature = "task-wakers-only")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct PureWaker(NonNull<()>);

// SAFETY: it stands for a `Waker` (which is `Send` and `Sync`): a `'static` task header or
// scheduler, which waking reaches only through atomics, or nothing.
#[cfg(feature = "task-wakers-only")]
unsafe impl Send for PureWaker {}
// SAFETY: as above; `&PureWaker` only wakes, which is thread-safe.
#[cfg(feature = "task-wakers-only")]
unsafe impl Sync for PureWaker {}

/// The no-op kind of [`PureWaker`] outside loom: a task kind whose "header" is this state word,
/// which no spawn ever claims, so waking it reads the word, finds no task, and does nothing
/// ([`wake`] reads nothing else of a header before it has seen `CLAIMED`). Waking a kept waker
/// then needs no test of its kind in a program without root wakers (18 B of flash on each app of
/// `bench/size`), for 4 bytes of RAM. (Under loom a `static` atomic cannot be built: there the
/// no-op kind is a tag, as the root kind is.)
#[cfg(all(feature = "task-wakers-only", not(loom)))]
static NO_TASK: NoTask = NoTask {
    _align: [],
    state: crate::loom::AtomicU32::new(0),
};

/// A state word aligned as a [`Header`] is (whose first field it stands for), so that a pointer
/// to it is a well-aligned header pointer, and no bigger: 4 bytes on 32-bit targets, 8 on
/// 64-bit.
#[cfg(all(feature = "task-wakers-only", not(loom)))]
#[repr(C)]
struct NoTask {
    _align: [Header; 0],
    state: crate::loom::AtomicU32,
}

// SAFETY: the state word is an atomic; the empty array holds no header.
#[cfg(all(feature = "task-wakers-only", not(loom)))]
unsafe impl Sync for NoTask {}

#[cfg(feature = "task-wakers-only")]
impl PureWaker {
    /// The kinds, in the low bits.
    const TASK: usize = 0;
    const ROOT: usize = 1;
    #[cfg(loom)]
    const NOOP: usize = 2;
    const KIND: usize = 3;

    /// The no-op kind: wakes nothing.
    #[inline]
    fn noop() -> PureWaker {
        #[cfg(not(loom))]
        return PureWaker(NonNull::from(&NO_TASK.state).cast());
        #[cfg(loom)]
        Self::tagged(Self::NOOP, core::ptr::null())
    }

    /// `data` with `kind` in its low bits.
    #[inline]
    fn tagged(kind: usize, data: *const ()) -> PureWaker {
        debug_assert!(kind != Self::TASK && data.addr() & Self::KIND == 0);
        let tagged = data.cast_mut().map_addr(|addr| addr | kind);
        // SAFETY: `kind` is not zero (not a task's), so neither is the address.
        PureWaker(unsafe { NonNull::new_unchecked(tagged) })
    }

    /// `waker` kept: a task's waker as its header, a root waker as its scheduler, and any other
    /// waker as the no-op kind, which wakes nothing. With `task-wakers-only` every primitive
    /// that keeps a waker asks `sync::waker::clone_runs_no_user_code` first whether it is foreign, and then wakes
    /// a foreign one itself: keeping it as the no-op kind loses no wake-up. (ebbtide's own no-op
    /// waker is not recognised here, so that its code is not linked: it is kept as the no-op kind
    /// like any other.)
    /// A task's waker inline (where the waker is known, as in a task's own poll, this is no
    /// code at all); the rest out of line, one copy for every primitive that keeps a waker.
    #[inline(always)]
    pub(crate) fn of(waker: &Waker) -> PureWaker {
        match header_of(waker) {
            // Headers are aligned to at least 4: the kind bits are free (and 0 is a task's).
            Some(header) => PureWaker(header.cast()),
            None => Self::of_other(waker),
        }
    }

    /// [`of`](Self::of) for a waker that is not a task's.
    #[inline(never)]
    fn of_other(waker: &Waker) -> PureWaker {
        if super::scheduler::is_root_waker(waker) {
            // Schedulers are aligned to at least 4 too.
            Self::tagged(Self::ROOT, waker.data())
        } else {
            Self::noop()
        }
    }

    /// Wakes it (a task, a root waker, or nothing). In a program that makes no root waker,
    /// every kind left is a task kind (the no-op one is [`NO_TASK`]'s), and this is a call of
    /// [`wake`]; otherwise a test of the kind and a call. Inlined (out of line, it was a 12 B
    /// stub on a Cortex-M that called `wake`); under loom, where the no-op kind is a tag, out of
    /// line.
    #[cfg_attr(not(loom), inline(always))]
    #[cfg_attr(loom, inline(never))]
    pub(crate) fn wake_by_ref(&self) {
        let ptr = self.0.as_ptr();
        let kind = ptr.addr() & Self::KIND;
        // No root kind exists before the program made a root waker: where that is known, the
        // test goes. Where a root kind exists, this read sees the flag raised: `root_waker`
        // raised it before the waker existed, the kind was made from that waker, and it reached
        // us through whatever handed us this `PureWaker` (a primitive's lock), each step ordered
        // before the next; so a root kind never takes the task's way below.
        if super::scheduler::root_wakers_made() && kind == Self::ROOT {
            // SAFETY: a root kind is only made from a root waker's data, an `&'static Scheduler`.
            unsafe { super::scheduler::wake_root_of(ptr.map_addr(|addr| addr & !Self::KIND)) };
            return;
        }
        #[cfg(loom)]
        if kind == Self::NOOP {
            return;
        }
        debug_assert_eq!(kind, Self::TASK);
        // SAFETY: every other kind is a task kind, made from an ebbtide task waker's header
        // (`of`), which comes from a `'static` slot, or the no-op kind, `NO_TASK`'s address (see
        // `wake_task`).
        unsafe { wake_task(self.0.cast()) }
    }

    /// Wakes it.
    #[inline]
    pub(crate) fn wake(self) {
        self.wake_by_ref();
    }
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
/// `header` must come from `TaskSlot::header_ptr` of a slot in a `'static` pool (or, with
/// `task-wakers-only`, be the address of [`NO_TASK`], a state word that is never claimed).
#[inline(always)]
pub(crate) unsafe fn wake_task(header: NonNull<Header>) {
    // SAFETY: by our caller.
    unsafe { wake(header.as_ptr().cast_const().cast()) }
}

/// The vtable's `wake` and `wake_by_ref`, and [`wake_task`]'s body: one function, so that a
/// vtable call and a direct one (`PureWaker`'s, the timer queue's) reach the same code without a
/// forwarding stub between them.
///
/// # Safety
///
/// `data` is a header pointer of a slot in a `'static` pool: wakers with [`VTABLE`] are only
/// made by `waker_for` (and cloned), and `wake_task`'s caller promises as much.
unsafe fn wake(data: *const ()) {
    // SAFETY: by the caller, a header of a slot that lives forever (or `NO_TASK`).
    let header = unsafe { NonNull::new_unchecked(data.cast_mut().cast::<Header>()) };
    // The state word alone until it says the slot holds a task: the no-op kind of `PureWaker`
    // points at a lone state word (`NO_TASK`), never claimed. The state is the first field of
    // the `#[repr(C)]` header, so the projection stays inside that word.
    // SAFETY: by the caller the pointer is to a header, or to `NO_TASK`, a `'static` state word;
    // the projection only computes the state's address (offset 0), and the reference covers
    // that word alone, whose every access is atomic.
    let state = unsafe { &*core::ptr::addr_of!((*header.as_ptr()).state) };
    // Every wake of a live task is a read-modify-write of its word, the one that finds the task
    // queued too (it sets `SCHEDULED` again, a no-op): its Release half orders what the waking
    // thread wrote before the wake ahead of the executor's dequeue (whose read-modify-write
    // reads this one's value or a later one), and so ahead of the poll that follows. A wake that
    // only loaded the word when it found `SCHEDULED` ordered nothing: the poll could read, say, a
    // flag raised before the wake as it was before (store buffering, each side missing the
    // other's write), and the task waited for a wake that had come: a lost wake-up, which the
    // loom model `a_wake_that_finds_its_task_queued_happens_before_the_poll` finds. Tokio's and
    // Embassy's wakes are read-modify-writes too.
    //
    // The plain read before it only decides whether there is a task to wake: a free slot, a
    // complete task (no poll will come) and the no-op kind's `NO_TASK` are left alone, with no
    // write. Acquire on success: for the scheduler pointer below. (A failed compare-and-swap
    // reads the word again rather than carrying the value it returned: LLVM's ARM expansion then
    // has no success flag to branch on.)
    loop {
        let current = state.load(Ordering::Relaxed);
        if current & CLAIMED == 0 || current & COMPLETE != 0 {
            return;
        }
        if state
            .compare_exchange_weak(
                current,
                current | SCHEDULED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            if current & SCHEDULED != 0 {
                // Queued already: its dequeue, which our write precedes, is its next poll.
                return;
            }
            break;
        }
    }
    // SAFETY: the slot is claimed (we saw `CLAIMED`), so the pointer is a real slot's header.
    let head: &SlotHead = unsafe { super::header::slot_head(header) };
    // SAFETY: we set SCHEDULED on a claimed task, so its spawn (or the steal that moved it last,
    // which wrote `scheduler` while it held SCHEDULED, before the poll that cleared it) happened
    // before our compare-exchange's Acquire, and nobody writes `scheduler` while we hold
    // SCHEDULED: that Acquire orders this load, which needs none of its own. A claimed task's
    // pointer comes from an `&'static Scheduler`.
    let scheduler = unsafe { &*head.header.scheduler.load(Ordering::Relaxed) };
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
        // With `task-wakers-only` it takes the foreign way too (see `clone_runs_no_user_code`).
        assert_eq!(
            crate::sync::waker::clone_runs_no_user_code(&NOOP),
            cfg!(not(feature = "task-wakers-only"))
        );
    }

    #[cfg(feature = "task-wakers-only")]
    #[test]
    fn a_pure_waker_keeps_its_kind_and_wakes_as_the_waker_would() {
        use crate::Executor;
        static EXECUTOR: Executor = Executor::new();
        static OTHER: Executor = Executor::new();
        let runner = EXECUTOR.runner().unwrap();
        let root = runner.root_waker();
        let other = OTHER.runner().unwrap();
        let other_root = other.root_waker();

        let noop = PureWaker::of(&NOOP);
        assert!(noop == PureWaker::of(&NOOP) && noop != PureWaker::of(&root));
        noop.wake_by_ref(); // nothing to wake
                            // A foreign waker is kept as the no-op kind: its owner wakes it itself.
        assert_eq!(PureWaker::of(Waker::noop()), noop);

        let pure = PureWaker::of(&root);
        assert!(pure == PureWaker::of(&root));
        assert!(pure != PureWaker::of(&other_root) && pure != PureWaker::of(&NOOP));
        assert!(!runner.take_root_wake());
        pure.clone().wake();
        assert!(runner.take_root_wake(), "woke the root waker it stands for");
        assert!(!other.take_root_wake(), "and no other");
        assert_eq!(
            core::mem::size_of::<Option<PureWaker>>(),
            core::mem::size_of::<usize>()
        );
    }
}
