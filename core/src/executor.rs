//! The executor: a run queue that a driver polls, and the spawners that feed it.
//!
//! An [`Executor`] never blocks. A driver calls [`Runner::poll`], which runs every task that is
//! ready and reports whether more became ready meanwhile (through the executor's [`Runner`], which
//! stays on one thread); when none are, the driver waits in the OS (or in `wfi`) until a timer, an
//! IO event, or the executor's *wake hook* says a task became ready from elsewhere. That loop is
//! written once, in [`driver`](crate::driver), with the contract a driver's wait must keep.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<4> = TaskPool::new();
//!
//! let runner = EXECUTOR.runner().expect("nobody else runs this executor");
//! let handle = runner.spawner().spawn(&POOL, async { 40 + 2 }).unwrap();
//! // A real driver loops and waits; here one batch runs the task to completion.
//! runner.poll();
//! assert!(handle.is_finished());
//! // Or let the runner drive its tasks until a future completes:
//! assert_eq!(runner.run_until(handle, || {}), Ok(42));
//! ```

use core::cell::Cell;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::join::JoinHandle;
use crate::pool::Pool;
use crate::raw::{Scheduler, SchedulerWrapper};

/// Runs tasks from static task pools; polled by a driver.
///
/// A driver polls it through its [`Runner`]; see the [crate docs](crate) for a tour.
#[repr(transparent)]
pub struct Executor {
    /// Everything of the executor: the run queue, the wake hook, whether the [`Runner`] was
    /// handed out, the flag of [`Runner::root_waker`]. Tasks point at it.
    scheduler: Scheduler,
}

// SAFETY: `Executor` is `#[repr(transparent)]` over its `Scheduler`, its only field.
unsafe impl SchedulerWrapper for Executor {}

impl Executor {
    crate::loom_const_fn! {
        /// An executor without a wake hook, for drivers that never sleep (or for tests).
        pub fn new() -> Executor {
            Executor { scheduler: Scheduler::new(None) }
        }
    }

    crate::loom_const_fn! {
        /// An executor that calls `hook` whenever a task becomes ready while the executor is not
        /// being polled, so that a sleeping driver wakes up (a `mio::Waker`, an event flag, `sev`).
        ///
        /// The hook is called from whichever thread or interrupt handler wakes the task, once
        /// per time [`Runner::poll`] returned `false` (plus once per wake of
        /// [`Runner::run_until`]'s future). It must be quick and must not poll the executor.
        ///
        /// Only with the `wake-hook` feature: without it an executor keeps no hook, and costs
        /// its 8 bytes (on 32-bit targets) and the test for it in every wake of an idle
        /// executor nowhere. A bare-metal loop that sleeps in `wfi` with interrupts masked needs
        /// none: a wake from an interrupt handler leaves the interrupt pending, which ends `wfi`.
        ///
        /// # Examples
        ///
        /// ```
        /// use core::sync::atomic::{AtomicBool, Ordering};
        /// use ebbtide_core::Executor;
        ///
        /// static READY: AtomicBool = AtomicBool::new(false);
        /// fn on_wake() {
        ///     READY.store(true, Ordering::Release);
        /// }
        /// static EXECUTOR: Executor = Executor::with_wake_hook(&on_wake);
        /// ```
        #[cfg(feature = "wake-hook")]
        pub fn with_wake_hook(hook: &'static (dyn Fn() + Send + Sync)) -> Executor {
            Executor { scheduler: Scheduler::new(Some(hook)) }
        }
    }

    /// The one [`Runner`] of this executor: the handle that polls it, on one thread.
    ///
    /// Returns `None` if it was already taken. A `Runner` is `!Send`, so every poll (and every
    /// task spawned through its [`Spawner`], which need not be `Send`) stays on the thread that
    /// took it.
    pub fn runner(&'static self) -> Option<Runner> {
        if self.scheduler.take_runner() {
            Some(Runner {
                executor: self,
                in_poll: Cell::new(false),
                _not_send: PhantomData,
            })
        } else {
            None
        }
    }

    /// A spawner usable from any thread or interrupt handler, for `Send` futures.
    pub fn send_spawner(&'static self) -> SendSpawner {
        SendSpawner { executor: self }
    }

    /// Whether a task is ready to run: a driver's test before it sleeps (a bare-metal loop's,
    /// with interrupts masked, before `wfi`).
    ///
    /// A look at the run queue that orders nothing (a Relaxed load): a task it reports is run,
    /// with its data synchronised, by the next poll, which takes the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<1> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// assert!(!EXECUTOR.has_ready_tasks());
    /// runner.spawner().spawn(&POOL, async {}).unwrap();
    /// assert!(EXECUTOR.has_ready_tasks());
    /// runner.poll();
    /// assert!(!EXECUTOR.has_ready_tasks());
    /// ```
    pub fn has_ready_tasks(&self) -> bool {
        self.scheduler.has_tasks()
    }

    /// Work stealing: moves about half of the tasks queued on `victim` (every other one that may
    /// move, oldest first) to this executor's queue; returns how many moved. With the
    /// `steal-batch` feature it also counts what is left of the batch `victim` is running: from
    /// the first steal on, `victim` publishes each batch and pops it one task at a time, so that
    /// the tasks behind a task that blocks its thread (or behind a thread the OS descheduled)
    /// can be taken. Only tasks spawned
    /// through a path that required them to be `Send` ([`SendSpawner::spawn`],
    /// [`SlicePool::try_spawn`](crate::SlicePool::try_spawn)) move; the others are put back on
    /// `victim`. Tasks that `victim` is polling right now are in no queue and stay. A moved task
    /// is this executor's from then on: it is polled (and dropped) by whoever polls this
    /// executor, and its wakers push it here.
    ///
    /// No wake-up is lost: see the `raw::steal` source for the argument (a steal never marks a
    /// sleeping executor awake without a wake-up on the way) and `core/tests/loom_steal.rs` for
    /// the models.
    ///
    /// # Safety
    ///
    /// [`Runner::cancel_all`]'s contract counts a moved task as belonging to the executor it was
    /// moved to: the caller must make sure that no runner cancels a pool holding a task that a
    /// steal moved away from that runner's executor, unless no executor that may hold the pool's
    /// tasks is polled meanwhile and every such task was sent home first
    /// ([`drain_home`](Executor::drain_home), [`reclaim_idle`](Executor::reclaim_idle)). (A
    /// driver stops its workers, sends every task home, then cancels.)
    #[cfg(feature = "steal")]
    pub unsafe fn steal_from(&'static self, victim: &'static Executor) -> usize {
        // SAFETY: by our caller.
        unsafe { crate::raw::steal::steal(&self.scheduler, &victim.scheduler, true) }
    }

    /// [`steal_from`](Executor::steal_from), but only tasks waiting in `victim`'s queue: none of
    /// the batch it is running, which it keeps popping. A victim that runs its batches from a
    /// local list goes on doing so.
    ///
    /// # Safety
    ///
    /// As for [`steal_from`](Executor::steal_from).
    #[cfg(feature = "steal")]
    pub unsafe fn steal_queued_from(&'static self, victim: &'static Executor) -> usize {
        // SAFETY: by our caller.
        unsafe { crate::raw::steal::steal(&self.scheduler, &victim.scheduler, false) }
    }

    /// Takes every task out of this executor's queue and queues each on its home executor,
    /// `home_of(address)` (see [`SlicePool::contains_addr`](crate::SlicePool::contains_addr)), or
    /// back here when that is `None` or this executor; returns how many went elsewhere.
    ///
    /// # Safety
    ///
    /// `home_of` returns, for a task, only the executor that task was spawned on (or `None`);
    /// and the contract of [`steal_from`](Executor::steal_from) holds for the pools of the moved
    /// tasks.
    #[cfg(feature = "steal")]
    pub unsafe fn drain_home(
        &'static self,
        mut home_of: impl FnMut(usize) -> Option<&'static Executor>,
    ) -> usize {
        // SAFETY: by our caller.
        unsafe {
            crate::raw::steal::drain_home(&self.scheduler, |address| {
                home_of(address).map(|executor| &executor.scheduler)
            })
        }
    }

    /// Points every idle task of `pool` that another executor holds (after a steal) back at this
    /// executor and queues it here (a spurious wake-up); returns how many of the pool's queued
    /// tasks still point elsewhere: they sit in another executor's queue (take them out with
    /// [`drain_home`](Executor::drain_home)) or a waker is about to push them there. Call both
    /// until this returns 0.
    ///
    /// # Safety
    ///
    /// Every task of `pool` was spawned on this executor, and no executor that may hold one of
    /// them is being polled or stolen from meanwhile (only wakers run).
    #[cfg(feature = "steal")]
    pub unsafe fn reclaim_idle<const SIZE: usize>(
        &'static self,
        pool: &'static crate::SlicePool<SIZE>,
    ) -> usize {
        // SAFETY: by our caller.
        unsafe { crate::raw::steal::reclaim_idle(&self.scheduler, pool.slots()) }
    }

    /// The scheduler that tasks spawned on this executor point at.
    #[inline]
    pub(crate) fn scheduler(&'static self) -> &'static Scheduler {
        &self.scheduler
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("has_ready_tasks", &self.has_ready_tasks())
            .field("has_wake_hook", &self.scheduler.has_wake_hook())
            .finish()
    }
}

/// The handle that polls an [`Executor`], bound to one thread.
///
/// Get it once from [`Executor::runner`]. It is `!Send`: tasks spawned through its
/// [`Spawner`] need not be `Send`, because they are always polled here.
pub struct Runner {
    executor: &'static Executor,
    /// Set while `poll` runs, to refuse re-entrant polls (from a task that reached a leaked
    /// `&'static Runner`), which would poll a running task again.
    in_poll: Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

impl Runner {
    /// Runs every task that is ready now, once each, in the order they were woken (with the
    /// `lifo-batches` feature, newest first). Tasks woken meanwhile, the running ones included,
    /// wait for the next call.
    ///
    /// Returns `true` if tasks became ready meanwhile (call `poll` again soon), `false` if the
    /// run queue is empty: the driver may wait, and the wake hook will be called as soon as a task
    /// becomes ready (from any thread, or from a timer or IO event the driver dispatches itself).
    ///
    /// If a task panics, the panic propagates out of `poll` after the task is marked as panicked
    /// (its `JoinHandle` yields [`JoinError::Panicked`](crate::JoinError::Panicked)) and the rest of
    /// the batch is put back in the run queue, so a driver that catches the panic can go on.
    ///
    /// # Panics
    ///
    /// If called from inside one of the executor's own tasks (through a leaked `&'static Runner`).
    pub fn poll(&self) -> bool {
        let _guard = self.enter("poll");
        // SAFETY: a `Runner` is unique per executor and `!Send`, so every call is on one thread,
        // and `enter` refuses calls from inside a poll.
        unsafe { self.executor.scheduler.poll() }
    }

    /// Runs the executor's tasks forever, calling `idle` whenever none is ready: a firmware's main
    /// loop, as Embassy's `Executor::run` is.
    ///
    /// It is [`run_until`](Runner::run_until) without a future of its own to wait for: `idle` is
    /// called when [`poll`](Runner::poll) found the run queue empty (pass `|| {}` to spin, or a
    /// function that sleeps until an interrupt unless a task became ready meanwhile, as the
    /// example below does). With no future to poll, it keeps no root waker: on a microcontroller
    /// that is less code than `run_until(core::future::pending(), idle)`, which does the same.
    ///
    /// It borrows the runner mutably, where [`poll`](Runner::poll) and
    /// [`run_until`](Runner::run_until) borrow it shared and mark it busy at run time: no other
    /// reference to the runner exists while it runs, so none of the executor's tasks can reach it
    /// (a task that holds a leaked `&'static Runner` cannot call it; see the second example), and
    /// it needs no such mark.
    ///
    /// # Panics
    ///
    /// When a task's poll panics, as [`poll`](Runner::poll) does; the runner may then be run
    /// again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ebbtide_core::{Executor, TaskCell};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static BLINK: TaskCell<64> = TaskCell::new();
    ///
    /// # fn wait_for_interrupt() {}
    /// let mut runner = EXECUTOR.runner().unwrap();
    /// runner.spawner().spawn_uncancellable(&BLINK, || async { /* ... */ }).unwrap();
    /// runner.run_forever(|| {
    ///     // On a Cortex-M, with interrupts masked (`cortex_m::interrupt::free`), so that a wake
    ///     // between the check and the wait leaves its interrupt pending and ends the wait:
    ///     if !EXECUTOR.has_ready_tasks() {
    ///         wait_for_interrupt(); // `cortex_m::asm::wfi()`
    ///     }
    /// });
    /// ```
    ///
    /// A task cannot run its own executor: a runner shared with it is borrowed forever.
    ///
    /// ```compile_fail,E0596
    /// use ebbtide_core::{Executor, Runner, TaskCell};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static SNEAKY: TaskCell<64> = TaskCell::new();
    ///
    /// let runner: &'static Runner = Box::leak(Box::new(EXECUTOR.runner().unwrap()));
    /// runner
    ///     .spawner()
    ///     .spawn_uncancellable(&SNEAKY, move || async move { runner.run_forever(|| {}) })
    ///     .unwrap();
    /// ```
    pub fn run_forever(&mut self, mut idle: impl FnMut()) -> ! {
        let never = || {
            idle();
            ControlFlow::<Infallible>::Continue(())
        };
        match self.run_rounds(never) {}
    }

    /// [`run_forever`](Runner::run_forever) until `idle` returns `true`: for the loom models,
    /// which cannot leave `run_forever` by a panic.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn run_forever_until(&mut self, mut idle: impl FnMut() -> bool) {
        self.run_rounds(|| {
            if idle() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    }

    /// The loop of [`run_forever`](Runner::run_forever).
    #[inline(always)]
    fn run_rounds<B>(&mut self, idle: impl FnMut() -> ControlFlow<B>) -> B {
        // SAFETY: as in `poll`: one thread (a `Runner` is unique and `!Send`), and never from
        // inside a poll: we hold the one `&mut` to the runner, so no task holds a reference to it
        // (a task's `poll` or `run_until` call would need one).
        unsafe { self.executor.scheduler.run_rounds(idle) }
    }

    /// Marks the runner busy until the guard drops; panics if it already is.
    fn enter(&self, what: &'static str) -> impl Drop + '_ {
        struct Leave<'a>(&'a Cell<bool>);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        if self.in_poll.replace(true) {
            panic!("Runner::{what} was called from inside one of the executor's tasks");
        }
        Leave(&self.in_poll)
    }

    /// Cancels every unfinished task in `pool`: how a runtime shuts down. Returns how many tasks
    /// were cancelled.
    ///
    /// Idle tasks have their future dropped here, on the runner's thread; tasks that are already
    /// queued are dropped, without being polled, by the next [`poll`](Runner::poll). Their
    /// `JoinHandle`s yield [`JoinError::Cancelled`](crate::JoinError::Cancelled). Tasks spawned
    /// with [`Spawner::spawn_uncancellable`] are retired instead (counted, never polled again,
    /// their future never dropped and their slot kept).
    ///
    /// # Safety
    ///
    /// Every task in `pool` must belong to this runner's executor: its futures may be `!Send`
    /// and are dropped on this thread. (A pool private to one runtime meets this.) A task that
    /// `Executor::steal_from` (feature `steal`) moved belongs to the executor it was moved to
    /// until it is sent home (`Executor::reclaim_idle`, `Executor::drain_home`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, JoinError, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<4> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let idle = runner.spawner().spawn(&POOL, core::future::pending::<()>()).unwrap();
    /// runner.poll();
    /// let queued = runner.spawner().spawn(&POOL, async { unreachable!("never polled") }).unwrap();
    /// // SAFETY: only EXECUTOR spawns into POOL.
    /// assert_eq!(unsafe { runner.cancel_all(&POOL) }, 2);
    /// runner.poll();
    /// assert_eq!(ebbtide_core::block_on(idle), Err(JoinError::Cancelled));
    /// assert_eq!(ebbtide_core::block_on(queued), Err(JoinError::Cancelled));
    /// assert!(POOL.is_empty());
    /// ```
    ///
    /// # Panics
    ///
    /// If called from inside one of the executor's own tasks.
    pub unsafe fn cancel_all<P: Pool>(&self, pool: &'static P) -> usize {
        let _guard = self.enter("cancel_all");
        // SAFETY: by our caller every task in `pool` is ours; we are the runner's thread, and not
        // inside `poll`, whose only caller is this `Runner`.
        unsafe { pool.cancel_all() }
    }

    /// A spawner for this executor, for futures that need not be `Send`.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            executor: self.executor,
            _not_send: PhantomData,
        }
    }

    /// The executor this runner polls.
    pub fn executor(&self) -> &'static Executor {
        self.executor
    }

    /// The waker for a driver's own top-level future (its `block_on`), for drivers that write
    /// their own loop instead of [`run_until`](Runner::run_until).
    ///
    /// Waking it raises a flag that [`take_root_wake`](Runner::take_root_wake) reads, and calls
    /// the executor's wake hook, from any thread. It points at the (static) executor, so it may
    /// outlive the loop harmlessly.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::task::{Context, Poll};
    /// use ebbtide_core::Executor;
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// let runner = EXECUTOR.runner().unwrap();
    /// let waker = runner.root_waker();
    /// assert!(!runner.take_root_wake());
    /// waker.wake_by_ref();
    /// assert!(runner.take_root_wake());
    /// assert!(!runner.take_root_wake());
    /// ```
    pub fn root_waker(&self) -> Waker {
        self.executor.scheduler().root_waker()
    }

    /// Whether the [`root_waker`](Runner::root_waker) was woken since the last call (clearing
    /// the flag).
    pub fn take_root_wake(&self) -> bool {
        self.executor.scheduler.take_root_wake()
    }

    /// Whether the [`root_waker`](Runner::root_waker) was woken and not yet taken.
    pub fn root_woken(&self) -> bool {
        self.executor.scheduler.root_woken()
    }

    /// Raises the root waker's flag without calling the wake hook, so that a loop polls its
    /// root future once before any wake.
    pub(crate) fn mark_root_woken(&self) {
        self.executor.scheduler.mark_root_woken();
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("executor", self.executor)
            .finish()
    }
}

/// Spawns tasks onto an executor from the thread that polls it.
///
/// `Spawner` is `Copy` and `!Send`: it accepts futures that are not `Send`, because it only
/// exists on the thread that polls its executor. Get one from [`Runner::spawner`] and pass it
/// to the tasks that spawn (inside a task, [`SendSpawner::for_current_executor`] gives a spawner
/// for `Send` futures).
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<8> = TaskPool::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = runner.spawner();
/// let handle = spawner.spawn(&POOL, async move {
///     // Inside a task: spawn a sibling on the same executor.
///     let child = spawner.spawn(&POOL, async { 2 }).unwrap();
///     child.await.unwrap() * 21
/// }).unwrap();
/// assert_eq!(runner.run_until(handle, || {}), Ok(42));
/// ```
///
/// A `Spawner` cannot reach another thread, where it would put `!Send` futures on an executor
/// it does not run:
///
/// ```compile_fail,E0277
/// use ebbtide_core::Executor;
///
/// static EXECUTOR: Executor = Executor::new();
/// let spawner = EXECUTOR.runner().unwrap().spawner();
/// std::thread::spawn(move || drop(spawner));
/// ```
#[derive(Clone, Copy)]
pub struct Spawner {
    executor: &'static Executor,
    _not_send: PhantomData<*const ()>,
}

impl Spawner {
    /// Spawns `future` as a task in `pool`, returning a handle to its output.
    ///
    /// Never allocates. Fails with [`SpawnError::PoolFull`] when every slot of `pool` holds a task
    /// (the future is dropped without being polled). A future bigger than the pool's slots does
    /// not compile.
    pub fn spawn<F, P>(
        &self,
        pool: &'static P,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + 'static,
        P: Pool,
    {
        // Not movable: the future need not be `Send`. A refused future is dropped.
        pool.spawn_on(self.executor, move || future, false)
            .map_err(SpawnError::from)
    }

    /// Spawns the future that `make` returns as a task in `pool`, built in its slot: `make` is
    /// called once a slot is claimed, and its future is written straight into the slot, so a
    /// large future is never built on the stack and copied (the compiler may copy a future
    /// passed by value with a `memcpy`). When the pool is full, `make` is given back uncalled, with
    /// what it captured, in the [`SpawnRefused`] error; if `make` panics, the slot is given back.
    /// Otherwise as [`spawn`](Spawner::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<1, 4200> = TaskPool::new();
    ///
    /// async fn checksum(seed: u8) -> u32 {
    ///     let block = [seed; 4096]; // lives in the task's slot, not on `main`'s stack
    ///     ebbtide_core::task::yield_now().await;
    ///     block.iter().map(|&b| u32::from(b)).sum()
    /// }
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let handle = runner.spawner().spawn_with(&POOL, || checksum(1)).unwrap();
    /// assert_eq!(runner.run_until(handle, || {}), Ok(4096));
    /// ```
    pub fn spawn_with<F, P, M>(
        &self,
        pool: &'static P,
        make: M,
    ) -> Result<JoinHandle<F::Output>, SpawnRefused<M>>
    where
        M: FnOnce() -> F,
        F: Future + 'static,
        P: Pool,
    {
        pool.spawn_on(self.executor, make, false)
    }

    /// Spawns the future that `make` returns as a task in `pool`, without a [`JoinHandle`]. For
    /// small targets, as embassy-executor spawns:
    ///
    /// - **Detached:** the task is detached from the start, as if its handle had been dropped at
    ///   once, and its output is dropped when it finishes. A program that keeps no handles (as is
    ///   usual on a microcontroller, where tasks run forever) then has no handle code at all.
    /// - **Built in place:** `make` is called once a slot is claimed, and its future is written
    ///   straight into the slot: a large future is never built on the stack and copied (the
    ///   compiler may copy a future passed by value with a `memcpy`). When the pool is full,
    ///   `make` is given back uncalled, with what it captured, in the [`SpawnRefused`] error. If
    ///   `make` panics, the slot is given back.
    ///
    /// Fails as [`spawn`](Spawner::spawn) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<1, 64> = TaskPool::new();
    /// static DONE: AtomicU32 = AtomicU32::new(0);
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// runner
    ///     .spawner()
    ///     .spawn_detached(&POOL, || async { DONE.store(1, Ordering::Relaxed) })
    ///     .unwrap();
    /// // The pool is full until the task has run.
    /// assert!(runner.spawner().spawn_detached(&POOL, || async {}).is_err());
    /// runner.poll();
    /// assert_eq!(DONE.load(Ordering::Relaxed), 1);
    /// assert!(POOL.is_empty(), "a finished detached task frees its slot");
    /// ```
    pub fn spawn_detached<F, P, M>(&self, pool: &'static P, make: M) -> Result<(), SpawnRefused<M>>
    where
        M: FnOnce() -> F,
        F: Future + 'static,
        P: Pool,
    {
        pool.spawn_detached_on(self.executor, make, false, true)
    }

    /// [`spawn_detached`](Spawner::spawn_detached) for a task that is never cancelled, as an
    /// Embassy task is not: its future is dropped by nothing but its own completion.
    ///
    /// What that buys: the future's destructor (the drop glue of every `.await` it can be stopped
    /// at: a receiver's close, a waiting send's unlink, ...) is not linked for a cancellation
    /// that never comes. On `bench/size`'s apps that is 88 B of flash (small app) and 296 B
    /// (sensor app), for tasks that run forever or end by themselves.
    ///
    /// What it costs: a task that would be cancelled is *retired* instead. [`Runner::cancel_all`]
    /// (a shutdown) and a panic in its poll (where panics unwind) stop it for good: it is never
    /// polled again, its future is never dropped (what it owns is leaked, and a pinned part of it
    /// stays valid), and its slot is never reused, so the pool has one slot less. Use it for
    /// tasks that live as long as the program, on targets that never shut their executor down.
    ///
    /// # Errors
    ///
    /// As [`spawn_detached`](Spawner::spawn_detached): a full pool gives `make` back in [`SpawnRefused`].
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<2, 64> = TaskPool::new();
    /// static DONE: AtomicU32 = AtomicU32::new(0);
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let spawner = runner.spawner();
    /// spawner
    ///     .spawn_uncancellable(&POOL, || async { DONE.store(1, Ordering::Relaxed) })
    ///     .unwrap();
    /// runner.poll();
    /// assert_eq!(DONE.load(Ordering::Relaxed), 1);
    /// assert!(POOL.is_empty(), "a task that ends frees its slot");
    ///
    /// // One that never ends, cancelled by a shutdown: retired, not dropped.
    /// spawner
    ///     .spawn_uncancellable(&POOL, || core::future::pending::<()>())
    ///     .unwrap();
    /// runner.poll();
    /// // SAFETY: only EXECUTOR spawns into POOL.
    /// assert_eq!(unsafe { runner.cancel_all(&POOL) }, 1);
    /// assert_eq!(POOL.len(), 1, "its slot is kept");
    /// ```
    pub fn spawn_uncancellable<F, P, M>(
        &self,
        pool: &'static P,
        make: M,
    ) -> Result<(), SpawnRefused<M>>
    where
        M: FnOnce() -> F,
        F: Future + 'static,
        P: Pool,
    {
        pool.spawn_detached_on(self.executor, make, false, false)
    }

    /// A `Send` spawner for the same executor.
    pub fn make_send(&self) -> SendSpawner {
        SendSpawner {
            executor: self.executor,
        }
    }

    /// The executor this spawner feeds.
    pub fn executor(&self) -> &'static Executor {
        self.executor
    }

    /// The spawner of the executor running the current task.
    ///
    /// # Safety
    ///
    /// The caller must await this on the thread that polls the current task's executor: directly
    /// in the task, not in a future that the task hands to another thread. The executor is found
    /// through the waker in the `Context`, which any thread can be lent; a `Spawner` obtained on
    /// another thread would put `!Send` futures on an executor that this thread does not run.
    /// The same holds later: the `Spawner` may only be used while this thread still polls that
    /// executor (a driver may hand a finished runtime's executor to another thread, as
    /// ebbtide-std recycles a dropped runtime's parts; do not keep the `Spawner` past the end of
    /// the runtime that ran the task). (Embassy's `Spawner::for_current_executor` is `unsafe` for the same reason.) Safe code
    /// uses [`SendSpawner::for_current_executor`], or is given a `Spawner` by its caller.
    ///
    /// Calling it without `unsafe` does not compile:
    ///
    /// ```compile_fail,E0133
    /// # async fn f() {
    /// let spawner = ebbtide_core::Spawner::for_current_executor().await;
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When awaited outside an ebbtide task (for example directly in [`block_on`](crate::block_on));
    /// use [`Spawner::try_for_current_executor`] to get `None` instead.
    pub async unsafe fn for_current_executor() -> Spawner {
        // SAFETY: by our caller.
        match unsafe { Self::try_for_current_executor() }.await {
            Some(spawner) => spawner,
            None => panic!(
                "Spawner::for_current_executor() was awaited outside an ebbtide task; \
                 pass a Spawner in, or use try_for_current_executor()"
            ),
        }
    }

    /// The spawner of the executor running the current task, or `None` outside an ebbtide task.
    ///
    /// # Safety
    ///
    /// As for [`Spawner::for_current_executor`].
    pub unsafe fn try_for_current_executor() -> impl Future<Output = Option<Spawner>> {
        CurrentExecutor
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

struct CurrentExecutor;

impl Future for CurrentExecutor {
    type Output = Option<Spawner>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Spawner>> {
        Poll::Ready(current_executor(cx).map(|executor| Spawner {
            executor,
            _not_send: PhantomData,
        }))
    }
}

/// The executor of the task whose waker `cx` carries, if it is an ebbtide task.
#[inline]
fn current_executor(cx: &Context<'_>) -> Option<&'static Executor> {
    Scheduler::current(cx).map(Executor::from_scheduler)
}

/// Spawns `Send` tasks onto an executor from any thread or interrupt handler.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<4> = TaskPool::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = EXECUTOR.send_spawner();
/// let handle = std::thread::spawn(move || spawner.spawn(&POOL, async { 7 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(runner.run_until(handle, || {}), Ok(7));
/// ```
#[derive(Clone, Copy)]
pub struct SendSpawner {
    executor: &'static Executor,
}

impl SendSpawner {
    /// The spawner (for `Send` futures) of the executor running the current task.
    ///
    /// # Panics
    ///
    /// When awaited outside an ebbtide task (for example directly in [`block_on`](crate::block_on));
    /// use [`SendSpawner::try_for_current_executor`] to get `None` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, SendSpawner, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<8> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let handle = runner.spawner().spawn(&POOL, async {
    ///     let spawner = SendSpawner::for_current_executor().await;
    ///     let child = spawner.spawn(&POOL, async { 2 }).unwrap();
    ///     child.await.unwrap() * 21
    /// }).unwrap();
    /// assert_eq!(runner.run_until(handle, || {}), Ok(42));
    /// ```
    pub async fn for_current_executor() -> SendSpawner {
        match Self::try_for_current_executor().await {
            Some(spawner) => spawner,
            None => panic!(
                "SendSpawner::for_current_executor() was awaited outside an ebbtide task; \
                 pass a SendSpawner in, or use try_for_current_executor()"
            ),
        }
    }

    /// The spawner (for `Send` futures) of the executor running the current task, or `None`
    /// outside an ebbtide task.
    pub fn try_for_current_executor() -> impl Future<Output = Option<SendSpawner>> {
        core::future::poll_fn(|cx| {
            Poll::Ready(current_executor(cx).map(|executor| SendSpawner { executor }))
        })
    }

    /// Spawns `future` as a task in `pool`; see [`Spawner::spawn`].
    pub fn spawn<F, P>(
        &self,
        pool: &'static P,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send,
        P: Pool,
    {
        // `Send` future and output: a steal may move the task to another executor.
        pool.spawn_on(self.executor, move || future, true)
            .map_err(SpawnError::from)
    }

    /// Spawns the future that `make` returns as a task in `pool`, built in its slot; see
    /// [`Spawner::spawn_with`]. `make` runs on the calling thread, before this returns, so it
    /// need not be `Send`; the future must be.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<1, 64> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let spawner = runner.spawner().make_send();
    /// let handle = std::thread::spawn(move || spawner.spawn_with(&POOL, || async { 7 }).unwrap())
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(runner.run_until(handle, || {}), Ok(7));
    /// ```
    pub fn spawn_with<F, P, M>(
        &self,
        pool: &'static P,
        make: M,
    ) -> Result<JoinHandle<F::Output>, SpawnRefused<M>>
    where
        M: FnOnce() -> F,
        F: Future + Send + 'static,
        F::Output: Send,
        P: Pool,
    {
        pool.spawn_on(self.executor, make, true)
    }

    /// Spawns the future that `make` returns as a task in `pool`, without a [`JoinHandle`] and
    /// built in its slot; see [`Spawner::spawn_detached`]. `make` runs on the calling thread,
    /// before this returns, so it need not be `Send`; the future must be.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<1, 64> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let spawner = runner.spawner().make_send();
    /// std::thread::spawn(move || spawner.spawn_detached(&POOL, || async {}).unwrap())
    ///     .join()
    ///     .unwrap();
    /// runner.poll();
    /// assert!(POOL.is_empty());
    /// ```
    pub fn spawn_detached<F, P, M>(&self, pool: &'static P, make: M) -> Result<(), SpawnRefused<M>>
    where
        M: FnOnce() -> F,
        F: Future + Send + 'static,
        F::Output: Send,
        P: Pool,
    {
        pool.spawn_detached_on(self.executor, make, true, true)
    }

    /// The executor this spawner feeds.
    pub fn executor(&self) -> &'static Executor {
        self.executor
    }
}

impl fmt::Debug for SendSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSpawner").finish_non_exhaustive()
    }
}

/// Why a task could not be spawned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// Every slot of the pool holds a task that is running, or finished with its `JoinHandle`
    /// still alive.
    PoolFull {
        /// The pool's name (see [`TaskPool::named`](crate::TaskPool::named)).
        pool: &'static str,
        /// How many tasks the pool holds.
        capacity: usize,
        /// What to change for more room, completing "wait for tasks to finish and drop their
        /// JoinHandles, or …" in the message: `"raise N in TaskPool<N, SIZE>"` for a
        /// [`TaskPool`](crate::TaskPool); a driver that grows its task memory names its own
        /// setting (ebbtide-std: `Builder::task_limit`).
        hint: &'static str,
    },
    /// The runtime the spawner (a driver's handle) belongs to has shut down: its tasks were
    /// cancelled and it runs no new ones.
    Shutdown,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::PoolFull {
                pool,
                capacity,
                hint,
            } => write!(
                f,
                "task pool `{pool}` is full ({capacity} tasks): wait for tasks to finish and drop \
                 their JoinHandles, or {hint}"
            ),
            SpawnError::Shutdown => f.write_str(
                "the runtime has shut down: a handle that outlived its runtime cannot spawn",
            ),
        }
    }
}

impl core::error::Error for SpawnError {}

/// A spawn that was refused, with the closure it did not call: the error of the spawns that build
/// their future in its slot ([`Spawner::spawn_with`], [`Spawner::spawn_detached`],
/// [`Spawner::spawn_uncancellable`] and [`SendSpawner`]'s), as `try_send` gives its message back.
///
/// The caller may try again later with [`into_make`](SpawnRefused::into_make), or let it go (what
/// the closure captured is dropped with it). `?` turns it into a [`SpawnError`], dropping the
/// closure. Its `Debug` and `Display` show the [`error`](SpawnRefused::error) only, so `unwrap`
/// works for any closure; where panics abort, an `unwrap` that fails drops nothing, so the
/// closure's captures' destructors (a channel end's close, say) are not linked for it.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, SpawnError, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<1, 64> = TaskPool::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = runner.spawner();
/// spawner.spawn_detached(&POOL, || async {}).unwrap();
/// let refused = spawner.spawn_detached(&POOL, || async {}).unwrap_err();
/// assert!(matches!(refused.error(), SpawnError::PoolFull { capacity: 1, .. }));
/// // The slot frees once the first task has run: try again with the same closure.
/// runner.poll();
/// spawner.spawn_detached(&POOL, refused.into_make()).unwrap();
/// ```
pub struct SpawnRefused<M> {
    error: SpawnError,
    make: M,
}

impl<M> SpawnRefused<M> {
    /// The refusal of `make`'s spawn, for `error`.
    pub(crate) fn new(error: SpawnError, make: M) -> SpawnRefused<M> {
        SpawnRefused { error, make }
    }

    /// Why the spawn was refused.
    ///
    /// # Examples
    ///
    /// See [`SpawnRefused`].
    pub fn error(&self) -> SpawnError {
        self.error
    }

    /// The closure, uncalled, to spawn again.
    ///
    /// # Examples
    ///
    /// See [`SpawnRefused`].
    pub fn into_make(self) -> M {
        self.make
    }
}

impl<M> From<SpawnRefused<M>> for SpawnError {
    fn from(refused: SpawnRefused<M>) -> SpawnError {
        refused.error
    }
}

impl<M> fmt::Debug for SpawnRefused<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnRefused")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for SpawnRefused<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<M> core::error::Error for SpawnRefused<M> {}
