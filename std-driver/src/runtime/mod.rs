//! The runtime: an executor, a reactor and task memory, driven by one thread.
//!
//! # Dropping a runtime
//!
//! Dropping a [`Runtime`] cancels every task (their futures are dropped on the runtime's thread)
//! and gives its parts back for the next runtime: the executor, the reactor with its file
//! descriptors, the task slots and the table of IO resources go to a process-wide bin, and the
//! next [`Runtime::new`] / [`Builder::build`] with the same capacities takes them from there
//! instead of allocating and opening new ones. A process that builds and drops runtimes one after
//! another (a test binary full of `#[ebbtide_std::test]`s, on a new thread each) keeps its file
//! descriptors and memory flat. (Those parts cannot simply be freed: a waker of a finished task,
//! an IO object or a `Handle` may outlive the runtime anywhere and still point at them.)
//!
//! What outlives a runtime is harmless and inert afterwards, even once a new runtime reuses the
//! parts: [`Handle::spawn`] fails with [`SpawnError::Shutdown`], a blocking job spawned through
//! the handle yields [`JoinError::Cancelled`](crate::JoinError::Cancelled), an IO object's
//! operations fail with `ErrorKind::Other`, an old task's `JoinHandle` yields its output or
//! `Cancelled`, and an old waker at most wakes a new task once (a spurious wake-up, which every
//! future tolerates). See `recycle` for the rules that make the reuse sound.

mod builder;
pub(crate) mod pools;
mod recycle;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

pub use builder::Builder;
pub use pools::SLOT_SIZES;

use ebbtide_core::{Executor, Runner};

use crate::reactor::{self, Driver};
use crate::task::{CatchUnwind, JoinHandle, SpawnError};

/// How many executor batches run between two non-blocking looks at the OS while tasks keep the
/// runtime busy, so that IO and timers are never starved by ready tasks.
const BATCHES_BETWEEN_IO: u32 = 61;

/// What every thread may reach of a runtime. Leaked when the runtime is built: wakers and IO
/// objects may outlive the `Runtime` and must find this still there. A dropped runtime's
/// `Shared` is reused by a later runtime (see `recycle`); its reactor's generation tells them
/// apart.
pub(crate) struct Shared {
    pub(crate) executor: &'static Executor,
    pub(crate) reactor: &'static reactor::Shared,
    pub(crate) pools: &'static pools::Pools,
    /// Added with `blocking`: the runtime's blocking pool.
    pub(crate) blocking: crate::blocking::Pool,
    /// Spawns in flight (times two) and [`GATE_CLOSED`]: a dropping runtime closes the gate, then
    /// waits for the spawns that got in before it cancels every task, so that no task lands in
    /// the pools after the cancellation (where the next runtime would run it).
    spawn_gate: AtomicUsize,
}

/// The bit of `Shared::spawn_gate` that refuses spawns.
const GATE_CLOSED: usize = 1;
/// One spawn in flight, in `Shared::spawn_gate`.
const GATE_SPAWN: usize = 2;

impl Shared {
    /// Lets one spawn in (until the guard drops) if the runtime of `generation` is alive.
    pub(crate) fn enter_spawn(&self, generation: u64) -> Result<SpawnGuard<'_>, SpawnError> {
        let previous = self.spawn_gate.fetch_add(GATE_SPAWN, Ordering::AcqRel);
        let guard = SpawnGuard {
            gate: &self.spawn_gate,
        };
        // A gate reopened for a new runtime was reopened after the generation moved on (and the
        // `fetch_add` reads the reopening or later), so a stale handle sees the new generation.
        if previous & GATE_CLOSED != 0 || !self.reactor.is_live(generation) {
            return Err(SpawnError::Shutdown);
        }
        Ok(guard)
    }

    /// Refuses new spawns, then waits until the ones in flight are done.
    fn close_spawns(&self) {
        self.spawn_gate.fetch_or(GATE_CLOSED, Ordering::AcqRel);
        // Spawns in flight only claim a slot and queue the task (or drop the future when the
        // pool is full); stale handles that knock meanwhile leave at once.
        while self.spawn_gate.load(Ordering::Acquire) >= GATE_SPAWN {
            std::thread::yield_now();
        }
    }

    /// Makes the parts of a dropped runtime serve a new one: a new generation, then the
    /// blocking pool and the gate open again.
    fn reopen(&self) {
        self.reactor.reopen();
        self.blocking.reopen();
        self.spawn_gate.fetch_and(!GATE_CLOSED, Ordering::AcqRel);
    }
}

/// A spawn let in by [`Shared::enter_spawn`].
pub(crate) struct SpawnGuard<'a> {
    gate: &'a AtomicUsize,
}

impl Drop for SpawnGuard<'_> {
    fn drop(&mut self) {
        self.gate.fetch_sub(GATE_SPAWN, Ordering::AcqRel);
    }
}

/// An ebbtide runtime: one thread runs every task, and waits in the OS (epoll, kqueue or poll)
/// for IO and the next timer in one wait.
///
/// Memory for tasks and IO resources is reserved when the runtime is built; spawning, sleeping
/// and IO allocate nothing after that. Dropping the runtime cancels its tasks and keeps that
/// memory and the OS's poller for the next runtime with the same capacities (see
/// [`runtime`](crate::runtime)).
///
/// # Examples
///
/// ```
/// use ebbtide_std::{time::{sleep, Duration}, Runtime};
///
/// let runtime = Runtime::new().unwrap();
/// let answer = runtime.block_on(async {
///     let task = ebbtide_std::spawn(async {
///         sleep(Duration::from_millis(5)).await;
///         42
///     })
///     .unwrap();
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    shared: &'static Shared,
    /// Taken out when the runtime drops, to go to the bin with the rest.
    runner: ManuallyDrop<Runner>,
    driver: ManuallyDrop<RefCell<Driver>>,
    /// The capacities, to find this runtime's parts again in the bin.
    key: recycle::Key,
}

impl Runtime {
    /// A runtime with the default settings (see [`Builder`]).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to choose capacities.
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn from_builder(builder: &Builder) -> io::Result<Runtime> {
        let key = recycle::Key::of(builder);
        if let Some(parts) = recycle::take(&key) {
            let recycle::Parts {
                shared,
                runner,
                mut driver,
            } = parts;
            driver.set_event_capacity(builder.event_capacity);
            // A stale root waker may have been woken meanwhile.
            runner.take_root_wake();
            shared.reopen();
            crate::context::register_runtime(shared);
            return Ok(Runtime {
                shared,
                runner: ManuallyDrop::new(runner),
                driver: ManuallyDrop::new(RefCell::new(driver)),
                key,
            });
        }
        let driver = Driver::new(builder.event_capacity, builder.io_capacity)?;
        let reactor = driver.shared();
        // The hook runs on whichever thread wakes a task while the runtime waits. On the
        // runtime's own thread it has nothing to do: that thread polls the executor again before
        // it waits.
        let hook: &'static (dyn Fn() + Send + Sync) = Box::leak(Box::new(move || {
            if !crate::context::is_current_reactor(reactor) {
                reactor.wake();
            }
        }));
        let executor: &'static Executor = Box::leak(Box::new(Executor::with_wake_hook(hook)));
        let pools: &'static pools::Pools = Box::leak(Box::new(pools::reserve(builder.task_slots)));
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            executor,
            reactor,
            pools,
            // Added with `blocking`:
            blocking: crate::blocking::Pool::new(
                builder.max_blocking_threads,
                builder.blocking_queue_capacity,
            ),
            spawn_gate: AtomicUsize::new(0),
        }));
        crate::context::register_runtime(shared);
        let runner = executor.runner().expect("a new executor has its runner");
        Ok(Runtime {
            shared,
            runner: ManuallyDrop::new(runner),
            driver: ManuallyDrop::new(RefCell::new(driver)),
            key,
        })
    }

    /// Runs `future` to completion on this thread, running spawned tasks, IO and timers
    /// meanwhile; returns its output.
    ///
    /// # Panics
    ///
    /// If called from inside a runtime (await the future instead), or if the OS's wait fails.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = crate::context::enter(self.shared);
        let mut future = pin!(future);
        let waker = self.runner.root_waker();
        let mut cx = Context::from_waker(&waker);
        waker.wake_by_ref();
        let mut busy_batches = 0;
        loop {
            if self.runner.take_root_wake() {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            }
            let more = poll_catching_panics(&self.runner);
            if !more && !self.runner.root_woken() {
                self.park(true);
                busy_batches = 0;
            } else {
                busy_batches += 1;
                if busy_batches >= BATCHES_BETWEEN_IO {
                    self.park(false);
                    busy_batches = 0;
                }
            }
        }
    }

    /// Waits in the OS (or only looks, if `!block`), then fires due timers.
    fn park(&self, block: bool) {
        let deadline = ebbtide_core::time::queue::next_deadline();
        self.driver
            .borrow_mut()
            .turn(deadline, block)
            .expect("the OS's wait for events failed");
        // Only a deadline that has come needs the queue's lock. A timer set meanwhile from another
        // thread ended the wait through the waker; the next park waits for it.
        if let Some(deadline) = deadline {
            let now = crate::time::now_ticks();
            if deadline <= now {
                ebbtide_core::time::queue::wake_expired(now);
            }
        }
    }

    /// Spawns a task on this runtime; see [`spawn`](crate::spawn).
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle().spawn(future)
    }

    /// A handle to this runtime, for other threads.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared,
            generation: self.shared.reactor.generation(),
        }
    }

    /// Counters that describe the runtime's work.
    pub fn metrics(&self) -> Metrics {
        Metrics {
            shared: self.shared,
        }
    }
}

/// Polls the executor. A panic from a task has already been turned into its `JoinHandle`'s error
/// by `CatchUnwind`; a panic that escapes anyway (from a task spawned through ebbtide-core
/// directly) is caught here so the runtime keeps serving the other tasks.
fn poll_catching_panics(runner: &Runner) -> bool {
    // After a panic, poll again: the rest of the batch was put back in the queue.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.poll())).unwrap_or(true)
}

/// How many rounds of cancelling and polling a dropping runtime tries before it gives up on
/// reusing its parts (each round finishes every task there is; only tasks spawned while the
/// runtime drops, which the spawn gate refuses, could need another).
const SHUTDOWN_ROUNDS: usize = 8;

/// Cancels every unfinished task of `pools` (see `Runner::cancel_all`), on this thread. A
/// destructor that panics is caught: its task still counts as dropped (a destructor runs once,
/// even if it unwinds, and the task completes all the same), and the rest are cancelled, so a
/// runtime's `Drop` never unwinds and never leaves a task behind. Returns how many tasks were
/// unfinished.
fn cancel_all_catching_panics(pools: &'static pools::Pools, runner: &Runner) -> usize {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut cancelled = 0;
    loop {
        // SAFETY: the pools are this runtime's own (our caller's): every task in them was spawned
        // on its executor, whose runner is ours, and we are not inside its poll.
        match catch_unwind(AssertUnwindSafe(|| unsafe { pools.cancel_all(runner) })) {
            Ok(count) => return cancelled + count,
            // That task completed although its destructor unwound: go on with the others.
            Err(_) => cancelled += 1,
        }
    }
}

impl Drop for Runtime {
    /// Shuts down: every task that has not finished is dropped, on this thread; then the parts
    /// go to the bin for the next runtime (see the [module docs](self)).
    fn drop(&mut self) {
        let enter = crate::context::enter(self.shared);
        // From here on the runtime's IO objects fail, its handles cannot spawn and a task's
        // destructor cannot make new IO objects or tasks.
        self.shared.reactor.close();
        self.shared.close_spawns();
        crate::context::unregister_runtime(self.shared);
        // Added with `blocking`: idle pool threads exit; running jobs are detached, not awaited.
        self.shared.blocking.shutdown();
        let mut finished = false;
        for _ in 0..SHUTDOWN_ROUNDS {
            let cancelled = cancel_all_catching_panics(self.shared.pools, &self.runner);
            // Tasks that were queued (or whose poll panicked) are dropped, not polled, by these
            // polls.
            while poll_catching_panics(&self.runner) {}
            if cancelled == 0 {
                // Every task in the pools is complete: no future is left, only outputs that
                // wait for their `JoinHandle`s.
                finished = true;
                break;
            }
        }
        drop(enter);
        // SAFETY: neither field is used again: this is the end of `drop`.
        let (runner, driver) = unsafe {
            (
                ManuallyDrop::take(&mut self.runner),
                ManuallyDrop::take(&mut self.driver).into_inner(),
            )
        };
        if finished {
            // SAFETY: every task of this runtime is complete (`finished`), its futures dropped on
            // this thread, and no new one can be spawned into its pools: the spawn gate stays
            // closed until the parts are reused, and ebbtide-std never hands out a core `Spawner`
            // for its executors. See `recycle::Parts`.
            let parts = unsafe { recycle::Parts::new(self.shared, runner, driver) };
            recycle::put(self.key.clone(), parts);
        }
        // Otherwise the parts are leaked as they are, the runner and driver dropped here (which
        // frees nothing a waker may point at).
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// A handle to a runtime: spawn onto it from any thread.
///
/// # Examples
///
/// ```
/// use ebbtide_std::Runtime;
///
/// let runtime = Runtime::new().unwrap();
/// let handle = runtime.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 7 }).unwrap()).join().unwrap();
/// assert_eq!(runtime.block_on(task).unwrap(), 7);
/// ```
///
/// A handle may outlive its runtime: spawning through it then fails with
/// [`SpawnError::Shutdown`], also when a new runtime reuses the old one's parts.
#[derive(Clone, Copy)]
pub struct Handle {
    // `pub(crate)` for `blocking` (`Handle::spawn_blocking`).
    pub(crate) shared: &'static Shared,
    /// The reactor's generation while the handle's runtime runs.
    generation: u64,
}

impl Handle {
    /// The handle of the runtime the current thread is running.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Handle::try_current).
    pub fn current() -> Handle {
        Self::try_current().expect(
            "there is no ebbtide runtime on this thread: call this inside Runtime::block_on or a \
             task, or pass a Handle in",
        )
    }

    /// The handle of the runtime the current thread is running, if any.
    pub fn try_current() -> Option<Handle> {
        crate::context::current().map(|shared| Handle {
            shared,
            generation: shared.reactor.generation(),
        })
    }

    /// Lets a spawn in (see [`Shared::enter_spawn`]).
    pub(crate) fn enter_spawn(&self) -> Result<SpawnGuard<'static>, SpawnError> {
        self.shared.enter_spawn(self.generation)
    }

    /// Spawns a `Send` task on the runtime, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full; [`SpawnError::Shutdown`]
    /// when the runtime was dropped (the future is dropped, not run).
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _gate = self.enter_spawn()?;
        self.shared
            .pools
            .spawn(self.shared.executor, CatchUnwind::new(future))
            .map(JoinHandle::new)
    }

    /// Counters that describe the runtime's work.
    pub fn metrics(&self) -> Metrics {
        Metrics {
            shared: self.shared,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Counters that describe a runtime's work (snapshots; other threads may change them).
#[derive(Clone, Copy)]
pub struct Metrics {
    shared: &'static Shared,
}

impl Metrics {
    /// How many times the runtime's thread came back from the OS's wait (or looked at it without
    /// waiting). An idle runtime does not turn: this stays still while nothing happens.
    pub fn reactor_turns(&self) -> u64 {
        self.shared.reactor.turns()
    }

    /// Tasks alive (running, waiting, or finished with a live `JoinHandle`).
    pub fn tasks(&self) -> usize {
        self.shared.pools.len()
    }

    /// Task slots, over every size class.
    pub fn task_capacity(&self) -> usize {
        self.shared.pools.capacity()
    }

    /// Registered IO resources.
    pub fn io_resources(&self) -> usize {
        self.shared.reactor.io_in_use()
    }

    /// The most IO resources that can be registered at once.
    pub fn io_capacity(&self) -> usize {
        self.shared.reactor.io_capacity()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("reactor_turns", &self.reactor_turns())
            .field("tasks", &self.tasks())
            .field("task_capacity", &self.task_capacity())
            .field("io_resources", &self.io_resources())
            .field("io_capacity", &self.io_capacity())
            .finish()
    }
}
