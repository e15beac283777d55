//! The runtime: an executor, a reactor and task memory, driven by one thread.
//!
//! # Dropping a runtime
//!
//! Dropping a [`Runtime`] cancels every task (their futures are dropped on the runtime's thread;
//! see [Threads](Runtime#threads) for a runtime dropped away from its `spawn_local` tasks' thread)
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
//! future tolerates). The shell that does this for every host driver is
//! [`ebbtide_host::runtime`]; this module adds the std driver to it: the reactor (mio) and the
//! blocking pool.

mod builder;

use std::fmt;
use std::future::Future;
use std::io;

pub use builder::Builder;
pub use ebbtide_host::memory::SLOT_SIZES;

use ebbtide_core::driver::{Park, Wait};
use ebbtide_host::HostDriver;

use crate::blocking;
use crate::reactor;
use crate::task::{JoinHandle, SpawnError};

/// The std driver's settings, from the [`Builder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DriverOptions {
    pub(crate) event_capacity: usize,
    pub(crate) io_capacity: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_queue_capacity: usize,
}

/// What every thread may reach of a runtime's std driver: the reactor's shared half and the
/// blocking pool. Leaked with the driver, reused with it.
pub(crate) struct DriverShared {
    pub(crate) reactor: &'static reactor::Reactor,
    pub(crate) blocking: blocking::Pool,
}

/// The std driver: mio's poll and its events on the runtime's thread, and the shared half.
pub(crate) struct StdDriver {
    reactor: reactor::Poller,
    shared: &'static DriverShared,
}

impl Park for StdDriver {
    type Error = io::Error;

    #[inline]
    fn now(&self) -> u64 {
        crate::time::now_ticks()
    }

    /// One wait in the OS (epoll, kqueue or poll), which the reactor's `mio::Waker` ends.
    fn park(&mut self, wait: Wait) -> io::Result<()> {
        match wait {
            Wait::Poll => self.reactor.turn(None, false),
            Wait::Until(deadline) => self.reactor.turn(Some(deadline), true),
            Wait::Forever => self.reactor.turn(None, true),
        }
    }
}

impl HostDriver for StdDriver {
    type Shared = DriverShared;
    type Options = DriverOptions;

    fn new(options: &DriverOptions) -> io::Result<StdDriver> {
        let reactor = reactor::Poller::new(options.event_capacity, options.io_capacity)?;
        let shared = Box::leak(Box::new(DriverShared {
            reactor: reactor.shared(),
            blocking: blocking::Pool::new(
                options.max_blocking_threads,
                options.blocking_queue_capacity,
            ),
        }));
        Ok(StdDriver { reactor, shared })
    }

    fn shared(&self) -> &'static DriverShared {
        self.shared
    }

    fn real_now() -> u64 {
        crate::time::now_ticks()
    }

    /// A blocking job is queued or running: a paused clock waits for it.
    fn is_busy(shared: &DriverShared) -> bool {
        shared.blocking.is_busy()
    }

    fn unpark(shared: &DriverShared) {
        shared.reactor.wake();
    }

    /// IO objects fail from now on; idle blocking threads exit, running jobs are detached.
    fn close(shared: &DriverShared) {
        shared.reactor.close();
        shared.blocking.shutdown();
    }

    /// The IO table and the blocking queue were reserved with the capacities; the event buffer is
    /// not leaked, so a reused driver gets a new one when its size differs.
    fn can_reuse(&self, options: &DriverOptions) -> bool {
        self.shared.reactor.io_capacity() == options.io_capacity
            && self.shared.blocking.has_capacities(
                options.max_blocking_threads,
                options.blocking_queue_capacity,
            )
    }

    fn reopen(&mut self, options: &DriverOptions) -> io::Result<()> {
        self.reactor.set_event_capacity(options.event_capacity);
        self.shared.reactor.reopen();
        self.shared.blocking.reopen();
        Ok(())
    }
}

/// The current thread's runtime's driver (the one it runs, or borrows inside
/// [`Handle::block_on`]), or an error that says there is none.
pub(crate) fn current_driver() -> io::Result<&'static DriverShared> {
    let handle = ebbtide_host::Handle::try_current();
    if handle.is_some_and(|handle| !handle.is_live()) {
        // A `Handle::block_on` of a dropped runtime (whose parts may serve a new runtime by now),
        // or a task's destructor while the runtime drops.
        return Err(reactor::shut_down_error());
    }
    handle
        .and_then(|handle| handle.driver::<DriverShared>())
        .ok_or_else(|| {
            io::Error::other(
                "no ebbtide runtime on this thread: create IO objects inside Runtime::block_on or \
                 a task it runs",
            )
        })
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
///
/// # Threads
///
/// A runtime is `Send`: build it on one thread and run it on another (or on several, one
/// `block_on` after another). Its first [`spawn_local`](crate::spawn_local) binds it to the
/// thread that runs it then: from there on, `block_on` on another thread panics, and dropping it
/// on another thread leaks its remaining tasks (their destructors never run, their `JoinHandle`s
/// never complete) instead of dropping `!Send` futures away from their thread. See
/// [`ebbtide_host::Runtime`](ebbtide_host::Runtime#moving-a-runtime-between-threads).
///
/// Unlike Tokio's, it is not `Sync`: share a [`Handle`] (`Send + Sync`), whose
/// [`block_on`](Handle::block_on) lets other threads block on futures in the runtime's context.
///
/// ```
/// let runtime = ebbtide_std::Runtime::new().unwrap();
/// let answer = std::thread::spawn(move || {
///     runtime.block_on(async { ebbtide_std::spawn(async { 6 * 7 }).unwrap().await.unwrap() })
/// })
/// .join()
/// .unwrap();
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    inner: ebbtide_host::Runtime<StdDriver>,
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
        let inner = ebbtide_host::Runtime::new(&builder.tasks, &builder.driver)?;
        if builder.start_paused {
            inner.pause_clock();
        }
        Ok(Runtime { inner })
    }

    /// Runs `future` to completion on this thread, running spawned tasks, IO and timers
    /// meanwhile; returns its output.
    ///
    /// # Panics
    ///
    /// If called from inside a runtime or [`Handle::block_on`] (await the future instead), or if
    /// the OS's wait fails. Also on a thread other than the one that ran its
    /// [`spawn_local`](crate::spawn_local) tasks (see [Threads](Runtime#threads)).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner
            .block_on(future)
            .expect("the OS's wait for events failed")
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
            inner: self.inner.handle(),
        }
    }

    /// Counters that describe the runtime's work.
    pub fn metrics(&self) -> Metrics {
        self.handle().metrics()
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
    pub(crate) inner: ebbtide_host::Handle,
}

impl Handle {
    /// The handle of the runtime the current thread is running.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Handle::try_current).
    pub fn current() -> Handle {
        Handle {
            inner: ebbtide_host::Handle::current(),
        }
    }

    /// The handle of the runtime the current thread is running (or borrows, inside
    /// [`Handle::block_on`]), if any.
    pub fn try_current() -> Option<Handle> {
        ebbtide_host::Handle::try_current().map(|inner| Handle { inner })
    }

    /// Runs `future` to completion on the calling thread, inside this runtime's context; returns
    /// its output. Like Tokio's `Handle::block_on` on a current-thread runtime.
    ///
    /// The calling thread blocks (parked while `future` waits). Inside `future`,
    /// [`spawn`](crate::spawn) and [`spawn_blocking`](crate::spawn_blocking) reach this runtime,
    /// [`Handle::current`] is this handle, and sockets, files and other IO objects made there
    /// register with this runtime's reactor.
    ///
    /// The calling thread does not drive the runtime: tasks, IO and timers are driven only by the
    /// thread inside [`Runtime::block_on`]. So anything in `future` that relies on IO or timers
    /// (or awaits a task) makes progress only while another thread is inside this runtime's
    /// `Runtime::block_on` (for timers: any runtime's); until one is, it waits. Tokio documents
    /// the same for its current-thread runtime.
    ///
    /// When the handle's runtime was dropped, `future` still runs, but spawning inside it fails
    /// with [`SpawnError::Shutdown`], IO objects fail, and a timer panics if no runtime at all is
    /// alive in the process.
    ///
    /// # Panics
    ///
    /// If the thread is already inside a runtime ([`Runtime::block_on`], a task, or
    /// `Handle::block_on`): "Cannot start an ebbtide runtime from within a runtime" (await the
    /// future instead). [`spawn_local`](crate::spawn_local) inside `future` panics: this thread
    /// does not run the runtime, so it cannot take a task that is not `Send`. And if `future`
    /// panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::Runtime;
    ///
    /// let runtime = Runtime::new().unwrap();
    /// let handle = runtime.handle();
    /// // Another thread blocks on a future in the runtime's context...
    /// let user = std::thread::spawn(move || {
    ///     handle.block_on(async {
    ///         let task = ebbtide_std::spawn(async { 6 * 7 }).unwrap();
    ///         task.await.unwrap()
    ///     })
    /// });
    /// // ...while this one runs the runtime (and its task) until that thread is done.
    /// let answer = runtime.block_on(async {
    ///     ebbtide_std::spawn_blocking(move || user.join().unwrap()).await
    /// });
    /// assert_eq!(answer.unwrap(), 42);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Spawns a `Send` task on the runtime, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full and at its limit
    /// ([`Builder::task_limit`]; without one, task memory grows); [`SpawnError::Shutdown`]
    /// when the runtime was dropped (the future is dropped, not run).
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// The std driver's shared part.
    pub(crate) fn driver(&self) -> &'static DriverShared {
        self.inner
            .driver::<DriverShared>()
            .expect("an ebbtide-std handle belongs to a runtime of the std driver")
    }

    /// Counters that describe the runtime's work.
    pub fn metrics(&self) -> Metrics {
        Metrics { handle: *self }
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
    handle: Handle,
}

impl Metrics {
    /// How many times the runtime's thread came back from the OS's wait (or looked at it without
    /// waiting). An idle runtime does not turn: this stays still while nothing happens.
    pub fn reactor_turns(&self) -> u64 {
        self.handle.driver().reactor.turns()
    }

    /// Tasks alive (running, waiting, or finished with a live `JoinHandle`).
    pub fn tasks(&self) -> usize {
        self.handle.inner.tasks()
    }

    /// Task slots now, over every size class: the reservation ([`Builder::task_capacity`])
    /// plus what the classes grew by when they ran out. It only grows, up to
    /// [`task_limit`](Metrics::task_limit); a runtime that reuses a dropped runtime's memory
    /// starts with what that one grew to.
    pub fn task_capacity(&self) -> usize {
        self.handle.inner.task_capacity()
    }

    /// The most task slots the runtime may have, over every size class
    /// ([`Builder::task_limit`], [`Builder::fixed_task_memory`]); `None` when task memory grows
    /// as far as memory allows (the default).
    pub fn task_limit(&self) -> Option<usize> {
        self.handle.inner.task_limit()
    }

    /// Registered IO resources.
    pub fn io_resources(&self) -> usize {
        self.handle.driver().reactor.io_in_use()
    }

    /// The most IO resources that can be registered at once.
    pub fn io_capacity(&self) -> usize {
        self.handle.driver().reactor.io_capacity()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("reactor_turns", &self.reactor_turns())
            .field("tasks", &self.tasks())
            .field("task_capacity", &self.task_capacity())
            .field("task_limit", &self.task_limit())
            .field("io_resources", &self.io_resources())
            .field("io_capacity", &self.io_capacity())
            .finish()
    }
}
