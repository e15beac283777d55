//! The part of an executor that its tasks point at: the run queue, the wake hook, the root
//! waker's flag, and the budget counter on targets whose headers have no room for it.
//!
//! Every task header holds a pointer to its scheduler, written at spawn: a waker follows it to
//! push the task, and code inside a task follows it (from the `Context`'s waker, see
//! [`Scheduler::current`]) to find its executor or its budget. The safe `Executor` is a
//! `#[repr(transparent)]` wrapper around a `Scheduler`, which [`SchedulerWrapper`] turns a
//! scheduler reference back into.
//!
//! The *root waker* is the waker of a driver's own top-level future (`Runner::run_until`'s, or a
//! driver's `block_on`): it points at the scheduler, raises a flag and calls the wake hook.

use core::ops::ControlFlow;
use core::ptr::{self, NonNull};
#[cfg(feature = "task-wakers-only")]
use core::sync::atomic::{AtomicBool as StdAtomicBool, Ordering as StdOrdering};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};

use super::budget::InScheduler;
use super::header::Header;
use super::run_queue::{Batch, Mark, RunQueue, SharedBatch};
use super::task;
use super::waker::header_of;
#[cfg(feature = "steal")]
use crate::loom::AtomicPtr;
use crate::loom::{AtomicBool, Ordering};

/// The shared core of an executor: what its tasks, their wakers and its root waker reach.
pub(crate) struct Scheduler {
    run_queue: RunQueue,
    /// The rest of the running batch, where thieves reach it, once a thief tried this scheduler
    /// (see [`SharedBatch`]).
    shared_batch: SharedBatch,
    /// What is left of the running task's cooperative budget, on targets where the header does
    /// not hold it (empty elsewhere): see [`super::budget`].
    budget: InScheduler,
    #[cfg(feature = "wake-hook")]
    wake_hook: Option<&'static (dyn Fn() + Send + Sync)>,
    /// Whether the one runner (the handle that polls) was handed out.
    runner_taken: AtomicBool,
    /// Set by the root waker.
    root_woken: AtomicBool,
    /// The task being run now (null between tasks and between batches). A task woken during its
    /// own poll (a `yield_now`, a wake from another thread) is queued again while that poll still
    /// runs; a thief must not take it then (see `super::steal`). One plain store per task; none
    /// without the `steal` feature, where no thief exists.
    #[cfg(feature = "steal")]
    running: AtomicPtr<Header>,
}

impl Scheduler {
    crate::loom_const_fn! {
        /// A scheduler with an empty run queue that calls `wake_hook` (if any) when a task becomes
        /// ready while it is not being polled.
        pub(crate) fn new(wake_hook: Option<&'static (dyn Fn() + Send + Sync)>) -> Scheduler {
            #[cfg(not(feature = "wake-hook"))]
            let _ = wake_hook;
            Scheduler {
                run_queue: RunQueue::new(),
                shared_batch: SharedBatch::new(),
                budget: InScheduler::new(),
                #[cfg(feature = "wake-hook")]
                wake_hook,
                runner_taken: AtomicBool::new(false),
                root_woken: AtomicBool::new(false),
                #[cfg(feature = "steal")]
                running: AtomicPtr::new(core::ptr::null_mut()),
            }
        }
    }

    /// Takes the one runner: `true` the first time, `false` ever after.
    pub(crate) fn take_runner(&self) -> bool {
        // Relaxed: the flag guards no data, only its own uniqueness, which any read-modify-write
        // gives (exactly one swap reads `false`); the run queue and the tasks are ordered by
        // their own atomics. No barriers around it on ARM (8 B of flash).
        !self.runner_taken.swap(true, Ordering::Relaxed)
    }

    /// Runs every task that is ready now, once each, in run order (see `Batch`); returns
    /// whether tasks became ready meanwhile. If it returns `false`, the next push calls the wake
    /// hook (see [`RunQueue`] for why no wake-up is lost).
    ///
    /// Once a thief tried this scheduler, the batch is published ([`SharedBatch`]) and popped one
    /// task at a time, so that a thief can take what is left of it; until then it runs from a
    /// local list.
    ///
    /// If a task's poll unwinds, the rest of the batch is put back in the run queue.
    ///
    /// # Safety
    ///
    /// Every call for this scheduler comes from the same thread (the runner's), and never from
    /// inside a poll of one of its tasks.
    pub(crate) unsafe fn poll(&self) -> bool {
        // SAFETY: by our caller.
        unsafe { self.run_batch(self.run_queue.take_all()) };
        // From here on, a push calls the wake hook (see `RunQueue`).
        !self.run_queue.try_sleep()
    }

    /// Runs the tasks, calling `idle` whenever none is ready, until `idle` breaks:
    /// `Runner::run_forever`, whose `idle` never does.
    ///
    /// [`poll`](Scheduler::poll) in a loop, but the executor goes to sleep as it takes the next
    /// batch, with one swap: if the batch is empty, it is asleep and calls `idle`, then takes the
    /// next batch awake. When tasks did arrive, it stays marked asleep while it runs them, so a
    /// push meanwhile calls the wake hook when none was needed: a spurious wake-up of a driver
    /// that has one (a bare-metal loop has none), for less code than `poll`'s swap and
    /// compare-and-swap per round.
    ///
    /// Without the `wake-hook` feature no push reads the mark, so each round takes the queue
    /// (leaving it asleep) and calls `idle` when it was empty: one test instead of two, and no
    /// mark to keep (16 B of flash on `bench/size`'s apps).
    ///
    /// # Safety
    ///
    /// As for [`poll`](Scheduler::poll).
    #[inline(always)]
    pub(crate) unsafe fn run_rounds<B>(&self, mut idle: impl FnMut() -> ControlFlow<B>) -> B {
        #[cfg(not(feature = "wake-hook"))]
        loop {
            let batch = self.run_queue.take_all_as(Mark::ASLEEP);
            if batch.is_empty() {
                if let ControlFlow::Break(value) = idle() {
                    return value;
                }
            } else {
                // SAFETY: by our caller.
                unsafe { self.run_batch(batch) };
            }
        }
        #[cfg(feature = "wake-hook")]
        let mut mark = Mark::AWAKE;
        #[cfg(feature = "wake-hook")]
        loop {
            let batch = self.run_queue.take_all_as(mark);
            if mark.is_asleep() && batch.is_empty() {
                // Asleep, as the run queue's head says: a push from here on calls the wake hook.
                if let ControlFlow::Break(value) = idle() {
                    // The queue is as a `poll` that returned `false` leaves it: asleep, or holding
                    // the tasks pushed since (each push called the wake hook).
                    return value;
                }
                mark = Mark::AWAKE;
            } else {
                // SAFETY: by our caller.
                unsafe { self.run_batch(batch) };
                mark = Mark::ASLEEP;
            }
        }
    }

    /// Runs `batch`, the tasks just taken from our run queue (see [`poll`](Scheduler::poll)).
    ///
    /// # Safety
    ///
    /// As for [`poll`](Scheduler::poll), and `batch` came out of our run queue.
    #[inline(always)]
    unsafe fn run_batch(&self, batch: Batch) {
        /// Puts the rest of the batch (local or published) back if a task's poll unwinds.
        struct Requeue<'a> {
            scheduler: &'a Scheduler,
            batch: Batch,
        }
        impl Drop for Requeue<'_> {
            // Inlined, and the work passed by value: the guard's address then never escapes, so
            // its fields stay in registers across the polls (the landing pad reads them there)
            // instead of the batch cursor being stored and reloaded around every task's poll.
            #[inline(always)]
            fn drop(&mut self) {
                let batch = core::mem::replace(&mut self.batch, Batch::empty());
                // SAFETY: the guard's batch holds tasks that are still SCHEDULED and out of any
                // queue, and we are the scheduler's polling thread (by `poll`'s caller).
                unsafe { self.scheduler.end_batch(batch) };
            }
        }

        if self.shared_batch.is_open() {
            // SAFETY: we are the executor's thread (by our caller), and the last published batch
            // is all popped or taken: the last `poll` ended (or unwound) with it empty.
            unsafe { self.shared_batch.publish(batch) };
            let guard = Requeue {
                scheduler: self,
                batch: Batch::empty(),
            };
            // SAFETY: as above.
            while let Some(task) = unsafe { self.shared_batch.pop() } {
                // SAFETY: the task came out of our run queue, by way of our published batch.
                unsafe { self.run(task) };
            }
            drop(guard);
        } else {
            let mut guard = Requeue {
                scheduler: self,
                batch,
            };
            for task in guard.batch.by_ref() {
                // SAFETY: the task came out of our run queue.
                unsafe { self.run(task) };
            }
            drop(guard);
        }
    }

    /// Ends a batch (or what is left of it after a task's poll unwound): clears `running`, and
    /// puts `rest` and whatever is left of the published batch back in the run queue.
    ///
    /// # Safety
    ///
    /// Called by the polling thread; the tasks of `rest` are still `SCHEDULED` and out of any
    /// queue (taken from our run queue and not run yet).
    #[inline(never)]
    unsafe fn end_batch(&self, rest: Batch) {
        // Release: the last poll is done (see `running`).
        #[cfg(feature = "steal")]
        self.running.store(core::ptr::null_mut(), Ordering::Release);
        for task in rest {
            // SAFETY: by our caller, the task is still SCHEDULED and out of any queue.
            unsafe { self.run_queue.push(task) };
        }
        if self.shared_batch.is_open() {
            for task in self.shared_batch.take() {
                // SAFETY: as above: we took it out of the published batch.
                unsafe { self.run_queue.push(task) };
            }
        }
    }

    /// Runs one task of the batch.
    ///
    /// # Safety
    ///
    /// As for [`poll`](Scheduler::poll), and the task came out of our run queue.
    #[inline(always)]
    unsafe fn run(&self, task: NonNull<Header>) {
        // A fresh budget for the task, if the scheduler holds the counter (else `task::run`
        // resets the one in the task's header).
        self.budget.reset();
        // Release: the previous task's poll is done, for a thief that reads this (see
        // `running`); the store comes before the task can be queued again.
        #[cfg(feature = "steal")]
        self.running.store(task.as_ptr(), Ordering::Release);
        // SAFETY: the task came out of our run queue, on the polling thread (by our caller).
        unsafe { task::run(task) };
    }

    /// Whether `task` is being run by this scheduler now (or was the last one run in a batch that
    /// has not ended): a thief leaves it alone. Acquire: when it is not, the poll that queued it
    /// again is over, and its writes are visible.
    #[cfg(feature = "steal")]
    #[inline]
    pub(super) fn is_running(&self, task: NonNull<Header>) -> bool {
        self.running.load(Ordering::Acquire) == task.as_ptr()
    }

    /// The run queue, for [`super::steal`].
    #[cfg(feature = "steal")]
    #[inline]
    pub(super) fn run_queue(&self) -> &RunQueue {
        &self.run_queue
    }

    /// The published rest of the running batch, for [`super::steal`].
    #[cfg(feature = "steal")]
    #[inline]
    pub(super) fn shared_batch(&self) -> &SharedBatch {
        &self.shared_batch
    }

    /// Whether a task is ready to run.
    pub(crate) fn has_tasks(&self) -> bool {
        self.run_queue.has_tasks()
    }

    /// Whether the scheduler has a wake hook.
    pub(crate) fn has_wake_hook(&self) -> bool {
        #[cfg(feature = "wake-hook")]
        return self.wake_hook.is_some();
        #[cfg(not(feature = "wake-hook"))]
        false
    }

    /// Pushes a task whose `SCHEDULED` bit the caller set.
    ///
    /// Calls the wake hook if the last `poll` returned `false` and none ran since (see
    /// `RunQueue` for why no wake-up is lost).
    ///
    /// # Safety
    ///
    /// The caller set the task's `SCHEDULED` bit (so it is in no queue and nobody else touches
    /// its `run_next`).
    // Always inlined: without a wake hook it is the push alone, which LLVM otherwise kept as a
    // forwarding function of its own for some callers (12 B of flash); with one, a push and a
    // test.
    #[inline(always)]
    pub(super) unsafe fn enqueue(&self, task: NonNull<Header>) {
        // SAFETY: by our caller.
        if unsafe { self.run_queue.push(task) } {
            self.call_wake_hook();
        }
    }

    /// Calls the wake hook, if any.
    fn call_wake_hook(&self) {
        #[cfg(feature = "wake-hook")]
        if let Some(hook) = self.wake_hook {
            hook();
        }
    }

    /// The budget slot of this scheduler (empty on targets where headers hold the counter).
    #[inline(always)]
    pub(super) fn budget(&self) -> &InScheduler {
        &self.budget
    }

    /// The scheduler of the task whose waker `cx` carries, if it is an ebbtide task.
    ///
    /// It is meant for code inside a task's poll; `cx` proves nothing about the thread.
    #[inline]
    pub(crate) fn current(cx: &Context<'_>) -> Option<&'static Scheduler> {
        let header = header_of(cx.waker())?;
        // SAFETY: ground rule 1: the header is in a static slot.
        Scheduler::of_task(unsafe { header.as_ref() })
    }

    /// The scheduler of the task `header`, from inside its poll; `None` if no task was ever
    /// spawned in the slot.
    #[inline]
    pub(super) fn of_task(header: &'static Header) -> Option<&'static Scheduler> {
        // SAFETY: the scheduler was written at spawn (or by the steal that moved the task), before
        // the task was polled, and a claimed task's scheduler pointer comes from an
        // `&'static Scheduler`; a never-claimed slot's is null.
        unsafe { header.scheduler.load(Ordering::Acquire).as_ref() }
    }

    /// The root waker: waking it, from any thread, raises a flag (which
    /// [`take_root_wake`](Scheduler::take_root_wake) reads) and calls the wake hook. It points at the (static) scheduler, so it
    /// may outlive its loop harmlessly; its clone and drop run no user code.
    pub(crate) fn root_waker(&'static self) -> Waker {
        let data = self as *const Scheduler as *const ();
        // Before the waker exists: whoever is handed it (or a clone) learns that a root waker
        // was made, through the same synchronisation that handed it over.
        #[cfg(feature = "task-wakers-only")]
        ROOT_WAKERS_MADE.store(true, StdOrdering::Relaxed);
        // SAFETY: the data is a `'static` scheduler and every vtable function is thread-safe.
        unsafe { Waker::from_raw(RawWaker::new(data, &ROOT_WAKER_VTABLE)) }
    }

    /// Whether the root waker was woken since the last call (clearing the flag).
    pub(crate) fn take_root_wake(&self) -> bool {
        self.root_woken.swap(false, Ordering::AcqRel)
    }

    /// Whether the root waker was woken and not yet taken.
    pub(crate) fn root_woken(&self) -> bool {
        self.root_woken.load(Ordering::Acquire)
    }

    /// Raises the root waker's flag without calling the wake hook: the loop that owns the root
    /// future polls it once before any wake.
    pub(crate) fn mark_root_woken(&self) {
        self.root_woken.store(true, Ordering::Release);
    }

    /// What waking the root waker does.
    fn wake_root(&self) {
        if !self.root_woken.swap(true, Ordering::AcqRel) {
            self.call_wake_hook();
        }
    }
}

/// A type that is nothing but a [`Scheduler`] (the safe `Executor`), which a scheduler reference
/// may be turned back into.
///
/// # Safety
///
/// The type must be `#[repr(transparent)]` over a `Scheduler`, with no other field that has a
/// size or an invariant of its own: every `&'static Scheduler` is then a valid `&'static Self`.
pub(crate) unsafe trait SchedulerWrapper: Sized + 'static {
    /// The wrapper that is `scheduler`.
    #[inline]
    fn from_scheduler(scheduler: &'static Scheduler) -> &'static Self {
        const {
            assert!(
                size_of::<Self>() == size_of::<Scheduler>()
                    && align_of::<Self>() == align_of::<Scheduler>()
            )
        };
        // SAFETY: by the trait's contract `Self` has the layout of `Scheduler` and nothing a
        // `Scheduler` could break; the provenance and lifetime are the scheduler's.
        unsafe { &*(scheduler as *const Scheduler).cast::<Self>() }
    }
}

/// Whether `waker` is a root waker (whose clone and drop run no user code).
///
/// With `task-wakers-only` (small targets) it also asks [`ROOT_WAKERS_MADE`]: in a program that
/// never makes a root waker (a firmware's main loop is `Runner::run_forever`, which has no root
/// future) nothing stores to that static, so the compiler knows it stays `false`, and every
/// branch for root wakers (here, and in `wake_root_of`) goes, with the root vtable and its
/// functions (148 to 204 bytes of flash on `bench/size`'s apps). A root waker is never missed:
/// its `root_waker` raised the flag before the waker existed, and whoever holds the waker got it
/// after that. Elsewhere the test is the vtable's alone: a driver's loop, which knows its waker is
/// a root waker, folds it away (asking the flag too cost x86 11 instructions per message of an
/// mpsc channel used by a root future).
#[inline]
pub(crate) fn is_root_waker(waker: &Waker) -> bool {
    // The flag first: where it is known to be `false`, nothing of the test is left.
    #[cfg(feature = "task-wakers-only")]
    if !root_wakers_made() {
        return false;
    }
    ptr::eq(waker.vtable(), &ROOT_WAKER_VTABLE)
}

/// Whether the program made a root waker yet (see [`is_root_waker`]).
#[cfg(feature = "task-wakers-only")]
#[inline]
pub(super) fn root_wakers_made() -> bool {
    ROOT_WAKERS_MADE.load(StdOrdering::Relaxed)
}

/// Whether the program made a root waker yet; only ever set, by [`Scheduler::root_waker`]. A
/// plain `core` atomic even under loom: it only goes from `false` to `true`, and a `static` must
/// be const-built.
#[cfg(feature = "task-wakers-only")]
static ROOT_WAKERS_MADE: StdAtomicBool = StdAtomicBool::new(false);

static ROOT_WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(
    |data| RawWaker::new(data, &ROOT_WAKER_VTABLE),
    root_wake,
    root_wake,
    |_| {},
);

/// Wakes the root waker of the scheduler at `data`, as its waker would.
///
/// # Safety
///
/// `data` is the data of a root waker: an `&'static Scheduler` (see [`Scheduler::root_waker`]).
///
/// Only a root waker's data has the root kind (`PureWaker`, the one-word join waker), so none
/// exists before the program made a root waker: the test lets the compiler drop the wake in a
/// program that makes none (see [`is_root_waker`]).
#[cfg(feature = "task-wakers-only")]
pub(super) unsafe fn wake_root_of(data: *const ()) {
    if root_wakers_made() {
        root_wake(data);
    }
}

fn root_wake(data: *const ()) {
    // SAFETY: root wakers are made by `Scheduler::root_waker` from an `&'static Scheduler`.
    let scheduler = unsafe { &*(data as *const Scheduler) };
    scheduler.wake_root();
}
