//! The runtime: an executor, a reactor and task memory, driven by one thread.

mod builder;
pub(crate) mod pools;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
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
/// objects may outlive the `Runtime` and must find this still there.
pub(crate) struct Shared {
    pub(crate) executor: &'static Executor,
    pub(crate) reactor: &'static reactor::Shared,
    pub(crate) pools: &'static pools::Pools,
    /// Added with `blocking`: the runtime's blocking pool.
    pub(crate) blocking: crate::blocking::Pool,
}

/// An ebbtide runtime: one thread runs every task, and waits in the OS (epoll, kqueue or poll)
/// for IO and the next timer in one wait.
///
/// Memory for tasks and IO resources is reserved when the runtime is built; spawning, sleeping
/// and IO allocate nothing after that.
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
    runner: Runner,
    driver: RefCell<Driver>,
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
        }));
        crate::context::register_runtime(shared);
        let runner = executor.runner().expect("a new executor has its runner");
        Ok(Runtime {
            shared,
            runner,
            driver: RefCell::new(driver),
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
        let deadline = ebbtide_core::time::driver::next_deadline();
        self.driver
            .borrow_mut()
            .turn(deadline, block)
            .expect("the OS's wait for events failed");
        // Only a deadline that has come needs the queue's lock. A timer set meanwhile from another
        // thread ended the wait through the waker; the next park waits for it.
        if let Some(deadline) = deadline {
            let now = crate::time::now_ticks();
            if deadline <= now {
                ebbtide_core::time::driver::wake_expired(now);
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

/// Drops every task of `pools` that has not finished, on this thread: idle ones in `cancel_all`,
/// queued ones by the polls after it. A destructor that panics is caught (the task still counts
/// as dropped: a destructor runs once, even if it unwinds) and the shutdown goes on with the
/// rest, so a runtime's `Drop` never unwinds and never leaves a task behind.
pub(crate) fn shutdown_tasks(pools: &'static pools::Pools, runner: &Runner) {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    loop {
        // Each panic completes the task whose destructor unwound, so every round makes progress.
        // SAFETY: the pools are this runtime's own: every task in them was spawned on its
        // executor, whose runner is ours, and we are not inside its poll.
        while catch_unwind(AssertUnwindSafe(|| unsafe { pools.cancel_all(runner) })).is_err() {}
        // Tasks that were queued (or whose poll panicked) are dropped, not polled, by this poll;
        // a task spawned meanwhile (by a destructor) is cancelled by the next round.
        if !poll_catching_panics(runner) {
            break;
        }
    }
}

impl Drop for Runtime {
    /// Shuts down: every task that has not finished is dropped, on this thread.
    fn drop(&mut self) {
        let _enter = crate::context::enter(self.shared);
        // Added with `blocking`: idle pool threads exit; running jobs are detached, not awaited.
        self.shared.blocking.shutdown();
        shutdown_tasks(self.shared.pools, &self.runner);
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
#[derive(Clone, Copy)]
pub struct Handle {
    // `pub(crate)` for `blocking` (`Handle::spawn_blocking`).
    pub(crate) shared: &'static Shared,
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
        crate::context::current().map(|shared| Handle { shared })
    }

    /// Spawns a `Send` task on the runtime, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full.
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
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
