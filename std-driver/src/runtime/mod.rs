//! The runtime: an executor, a reactor and task memory, driven by one thread; or several of
//! those, one per worker thread ([`Builder::worker_threads`]).
//!
//! # Workers
//!
//! A runtime of `n` workers is `n` one-thread runtimes built together (thread-per-core): each
//! worker has its own executor, reactor and task memory; blocking jobs of every worker run on
//! worker 0's blocking pool (one per runtime). Worker 0 is run by the
//! thread inside [`Runtime::block_on`]; workers 1..n run on threads of their own
//! (`ebbtide-worker-<i>`) from [`Builder::build`] until the runtime drops. A task starts on the
//! worker it was spawned on, and only an idle worker's steal moves it ([`Builder::work_stealing`],
//! on by default, never for `spawn_local`, `spawn_on` or `spawn_pinned` tasks):
//! [`spawn`](crate::spawn) inside a task puts the new task there, [`Handle::spawn`] places tasks round-robin, and [`Handle::spawn_on`] and
//! [`Handle::spawn_pinned`] choose the worker. [`worker_index`] says which worker the current
//! thread runs. Dropping the runtime stops workers 1..n, each cancelling its tasks on its own
//! thread, joins them, then cancels worker 0's tasks on the dropping thread; then a spawn through
//! any handle fails with [`SpawnError::Shutdown`]. A panic in a task stays in its task's
//! `JoinHandle`, on whichever worker.
//!
//! ```
//! use ebbtide_std::runtime::worker_index;
//!
//! let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
//! let handle = runtime.handle();
//! let on_one = handle.spawn_on(1, async { worker_index() }).unwrap();
//! runtime.block_on(async {
//!     assert_eq!(on_one.await.unwrap(), Some(1));
//! });
//! ```
//!
//! An IO object registers with the reactor of the worker that creates it, and is served there:
//! a listener made on worker 0 accepts only on worker 0. To accept on every worker
//! (thread-per-core), bind one listener per worker to the same address with `SO_REUSEPORT`
//! ([`TcpListener::bind_reuseport`](crate::net::TcpListener::bind_reuseport), or a
//! [`TcpSocket`](crate::net::TcpSocket) with [`set_reuseport`](crate::net::TcpSocket::set_reuseport))
//! and run an accept loop on each worker ([`Handle::spawn_on`], or [`Handle::spawn_pinned`]):
//! the kernel spreads the connections over the listeners, and each connection's task is spawned,
//! and stays, on the worker that accepted it. With port 0, bind the first listener, read its
//! `local_addr`, and bind the others to that exact address. [A listener on every
//! worker](crate::net::TcpSocket#a-listener-on-every-worker) has the whole example.
//!
//! ```
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use ebbtide_std::runtime::worker_index;
//!
//! /// Accepts one connection and says which worker it was accepted on.
//! async fn accept_one(listener: TcpListener) -> Option<usize> {
//!     listener.accept().await.unwrap();
//!     worker_index()
//! }
//!
//! // Without work stealing, so that each accept task reports the worker it was spawned on.
//! let runtime = ebbtide_std::Runtime::builder()
//!     .worker_threads(2)
//!     .work_stealing(false)
//!     .build()
//!     .unwrap();
//! let handle = runtime.handle();
//! runtime.block_on(async {
//!     let first = TcpListener::bind_reuseport("127.0.0.1:0").await.unwrap();
//!     let addr = first.local_addr().unwrap();
//!     let on_zero = ebbtide_std::spawn(accept_one(first)).unwrap();
//!     let on_one = handle
//!         .spawn_on(1, async move {
//!             let listener = TcpListener::bind_reuseport(addr).await.unwrap();
//!             ebbtide_std::spawn(accept_one(listener)).unwrap()
//!         })
//!         .unwrap()
//!         .await
//!         .unwrap();
//!     // Keep connecting until both workers have accepted one. A connection the kernel queued on
//!     // a listener that has just closed (its one accept done) is reset: not an error here.
//!     let mut clients = Vec::new();
//!     while !(on_zero.is_finished() && on_one.is_finished()) {
//!         if let Ok(client) = TcpStream::connect(addr).await {
//!             clients.push(client);
//!         }
//!         ebbtide_std::task::yield_now().await;
//!     }
//!     assert_eq!((on_zero.await.unwrap(), on_one.await.unwrap()), (Some(0), Some(1)));
//! });
//! ```
//!
//! A runtime of several workers keeps the list of its workers' handles (a few dozen bytes) for
//! the life of the process, as the handles that point at it may outlive it.
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
mod workers;

use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::panic::resume_unwind;
use std::thread;

pub use builder::{Builder, WORKER_THREADS_ENV, WORK_STEALING_ENV};
pub use ebbtide_host::memory::SLOT_SIZES;
pub use workers::worker_index;

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
/// for IO and the next timer in one wait. With [`Builder::worker_threads`], several such
/// workers, each on its thread (see [Workers](crate::runtime#workers)).
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
    /// Worker 0, run by the thread inside `block_on`; dropped last, in `Drop`.
    inner: ManuallyDrop<ebbtide_host::Runtime<StdDriver>>,
    /// Every worker, when there are more than one.
    group: Option<&'static workers::Group>,
    /// The threads of workers 1..n.
    threads: Vec<thread::JoinHandle<()>>,
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
        let workers = builder.workers()?;
        let inner = ebbtide_host::Runtime::new(&builder.tasks, &builder.driver)?;
        // Before the pause: reused parts may remember a runtime of several workers.
        inner.set_one_of_several(workers > 1);
        if builder.start_paused {
            inner.pause_clock();
        }
        let mut runtime = Runtime {
            inner: ManuallyDrop::new(inner),
            group: None,
            threads: Vec::new(),
        };
        if workers > 1 {
            // On an error, `runtime` (worker 0) drops here, the other workers were joined.
            let started = workers::start(builder, runtime.inner.handle())?;
            if started.group.stealing {
                runtime.inner.set_steal_hook(started.group.steal_hook(0));
                runtime.inner.set_busy_hook(started.group.busy_hook(0));
            }
            runtime.group = Some(started.group);
            runtime.threads = started.threads;
        }
        Ok(runtime)
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
        let _worker = workers::enter(self.group, Some(0));
        self.inner
            .block_on(future)
            .expect("the OS's wait for events failed")
    }

    /// Spawns a task on this runtime; see [`Handle::spawn`] (which places it on one of the
    /// workers, round-robin).
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
            group: self.group,
        }
    }

    /// Counters that describe the runtime's work, summed over its workers (see
    /// [`Metrics::worker`] for one worker's).
    pub fn metrics(&self) -> Metrics {
        self.handle().metrics()
    }
}

impl Drop for Runtime {
    /// Stops workers 1..n (each drops its host runtime, and cancels its tasks, on its own
    /// thread), joins their threads, then drops worker 0 here, cancelling its tasks on this
    /// thread. Dropped inside a task on one of its own workers (which cannot wait for itself),
    /// the runtime hands these steps to a new thread and the drop returns at once.
    fn drop(&mut self) {
        if let Some(group) = self.group {
            if workers::current_group().is_some_and(|current| std::ptr::eq(current, group))
                && workers::worker_index().is_some_and(|index| index != 0)
            {
                // Dropped inside one of its own workers (moved into a task there): this thread
                // cannot wait for itself to stop. Hand the whole shutdown to a thread of its own,
                // which stops every worker (this one once the task returns) and drops them.
                self.shut_down_elsewhere();
                return;
            }
            group.stop_threads();
            if group.stealing {
                group.shut_down_stealing();
            }
        }
        for thread in self.threads.drain(..) {
            // A worker whose OS wait failed panicked with a message already; its runtime was
            // dropped while it unwound.
            let _ = thread.join();
        }
        let _worker = workers::enter(self.group, Some(0));
        // SAFETY: `inner` is not used again: this is the end of `drop`.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl Runtime {
    /// The shutdown of a runtime dropped on one of its own worker threads, on a new thread
    /// (`ebbtide-shutdown`): the same steps as `Drop`, run where waiting for every worker to
    /// stop is possible. If no thread can be started, the runtime is leaked (with a message on
    /// stderr) rather than hang this worker.
    fn shut_down_elsewhere(&mut self) {
        // SAFETY: `inner` is taken once, here, and `self` is not used again: `drop` returns
        // right after this call without touching `inner`.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        let rest = Runtime {
            inner: ManuallyDrop::new(inner),
            group: self.group.take(),
            threads: std::mem::take(&mut self.threads),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = thread::Builder::new()
            .name("ebbtide-shutdown".into())
            .spawn(move || {
                if let Ok(rest) = rx.recv() {
                    drop::<Runtime>(rest);
                }
            });
        match spawned {
            Ok(_) => {
                // The thread owns it now; its drop runs the ordinary shutdown.
                let _ = tx.send(rest);
            }
            Err(error) => {
                eprintln!(
                    "ebbtide: a runtime dropped inside one of its own workers could not start a \
                     thread to shut down ({error}): it is leaked"
                );
                std::mem::forget(rest);
            }
        }
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
    /// The worker this handle was taken on (worker 0 for [`Runtime::handle`]): the one whose
    /// context [`Handle::block_on`] borrows and whose blocking pool
    /// [`Handle::spawn_blocking`] uses.
    pub(crate) inner: ebbtide_host::Handle,
    /// Every worker, when there are more than one.
    group: Option<&'static workers::Group>,
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
            group: workers::current_group(),
        }
    }

    /// The handle of the runtime the current thread is running (or borrows, inside
    /// [`Handle::block_on`]), if any. On any worker of a runtime, the handle knows every worker
    /// (so [`spawn_on`](Handle::spawn_on) works from tasks too).
    pub fn try_current() -> Option<Handle> {
        ebbtide_host::Handle::try_current().map(|inner| Handle {
            inner,
            group: workers::current_group(),
        })
    }

    /// Runs `future` to completion on the calling thread, inside this runtime's context; returns
    /// its output. Like Tokio's `Handle::block_on` on a current-thread runtime.
    ///
    /// The calling thread blocks (parked while `future` waits). Inside `future`,
    /// [`spawn`](crate::spawn) and [`spawn_blocking`](crate::spawn_blocking) reach this runtime,
    /// [`Handle::current`] is this handle, and sockets, files and other IO objects made there
    /// register with this runtime's reactor. On a runtime of several workers, "this runtime"
    /// there is the worker the handle was taken on (worker 0 for [`Runtime::handle`]), while
    /// [`Handle::spawn`] keeps placing tasks round-robin.
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
        let _borrow = workers::enter(self.group, None);
        self.inner.block_on(future)
    }

    /// Spawns a `Send` task on the runtime, from any thread.
    ///
    /// On a runtime of several workers ([`Builder::worker_threads`]) the tasks spawned through a
    /// handle go to the workers in turn (round-robin, one atomic counter per runtime), wherever
    /// the handle is used; [`spawn`](crate::spawn) inside a task keeps the new task on the
    /// task's worker instead, and [`spawn_on`](Handle::spawn_on) chooses the worker. A task on
    /// worker 0 runs only while a thread is inside [`Runtime::block_on`] (with
    /// [`Builder::work_stealing`], another worker that runs out of work may take it meanwhile).
    /// With work stealing, tasks spawned here may move to another worker later; those of
    /// `spawn_on` stay.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full and at its limit
    /// ([`Builder::task_limit`]; without one, task memory grows) on every worker (each worker
    /// has task memory of its own: a worker at its limit passes the task on to the next one);
    /// [`SpawnError::Shutdown`] when the runtime was dropped (the future is dropped, not run),
    /// also while it drops: a spawn onto a worker that has already shut down fails so.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::runtime::worker_index;
    ///
    /// // Without work stealing: an idle worker could otherwise run a task placed on the other.
    /// let runtime = ebbtide_std::Runtime::builder()
    ///     .worker_threads(2)
    ///     .work_stealing(false)
    ///     .build()
    ///     .unwrap();
    /// let handle = runtime.handle();
    /// let tasks: Vec<_> = (0..4).map(|_| handle.spawn(async { worker_index() }).unwrap()).collect();
    /// runtime.block_on(async {
    ///     let mut placed = Vec::new();
    ///     for task in tasks {
    ///         placed.push(task.await.unwrap().unwrap());
    ///     }
    ///     assert_eq!(placed, [0, 1, 0, 1]);
    /// });
    /// drop(runtime);
    /// assert!(matches!(handle.spawn(async {}), Err(ebbtide_std::SpawnError::Shutdown)));
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Some(group) = self.group else {
            return self.inner.spawn(future);
        };
        // Round-robin; a worker whose task memory is at its limit passes the future on to the
        // next, so a spawn fails only when every worker is full.
        let first = group.next_worker();
        let mut future = future;
        let mut full = None;
        for offset in 0..group.workers.len() {
            let worker = &group.workers[(first + offset) % group.workers.len()];
            match worker.try_spawn(future) {
                Ok(task) => return Ok(task),
                Err((error @ SpawnError::PoolFull { .. }, refused)) => {
                    full = Some(error);
                    future = refused;
                }
                Err((error, _)) => return Err(error),
            }
        }
        Err(full.expect("a worker refused the spawn"))
    }

    /// How many workers the runtime has ([`Builder::worker_threads`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(3).build().unwrap();
    /// assert_eq!(runtime.handle().worker_count(), 3);
    /// assert_eq!(ebbtide_std::Runtime::new().unwrap().handle().worker_count(), 1);
    /// ```
    pub fn worker_count(&self) -> usize {
        self.workers().len()
    }

    /// Spawns a `Send` task on worker `worker` (0 is the one run inside
    /// [`Runtime::block_on`]), from any thread.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Handle::spawn), on that worker.
    ///
    /// # Panics
    ///
    /// When `worker` is not below [`worker_count`](Handle::worker_count), as slice indexing
    /// does: a worker index is the program's own choice, so a wrong one is a bug.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::runtime::worker_index;
    ///
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = ebbtide_std::Handle::current();
    ///     let there = handle.spawn_on(1, async { worker_index() }).unwrap();
    ///     assert_eq!(there.await.unwrap(), Some(1));
    /// });
    /// ```
    pub fn spawn_on<F>(&self, worker: usize, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let workers = self.workers();
        assert!(
            worker < workers.len(),
            "spawn_on: worker {worker} does not exist: the runtime has {} worker(s)",
            workers.len()
        );
        // Stays there, also with work stealing.
        workers[worker].spawn_unmovable(future)
    }

    /// Builds a future that is not `Send` on worker `worker`, with `f` called there, and runs it
    /// there; its `Send` output comes back through the handle. Tokio's `spawn_pinned` shape,
    /// without a pool of its own: it takes two task slots on the worker (a `Send` task that
    /// calls `f` and [`spawn_local`](crate::spawn_local)s the future, then awaits it) and
    /// allocates nothing else.
    ///
    /// Aborting the handle aborts both tasks. A panic in `f` or in the future comes back as
    /// [`JoinError::Panic`](crate::JoinError::Panic); so does a full pool on the worker for the
    /// `!Send` task (the first task is already running then).
    ///
    /// # Errors
    ///
    /// As for [`spawn_on`](Handle::spawn_on), for the first task.
    ///
    /// # Panics
    ///
    /// When `worker` is not below [`worker_count`](Handle::worker_count).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// let handle = runtime.handle();
    /// let task = handle
    ///     .spawn_pinned(1, || {
    ///         let shared = Rc::new(20); // not Send: made on worker 1, stays there
    ///         async move { *shared + 22 }
    ///     })
    ///     .unwrap();
    /// assert_eq!(runtime.block_on(task).unwrap(), 42);
    /// ```
    pub fn spawn_pinned<F, Fut>(
        &self,
        worker: usize,
        f: F,
    ) -> Result<JoinHandle<Fut::Output>, SpawnError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_on(worker, async move {
            let mut local = match crate::spawn_local(f()) {
                Ok(task) => AbortOnDrop(task),
                Err(error) => panic!("spawn_pinned: the worker refused the task: {error}"),
            };
            match (&mut local.0).await {
                Ok(output) => output,
                Err(crate::JoinError::Panic(payload)) => resume_unwind(payload),
                // Only the runtime's shutdown cancels it (nobody else holds its handle), and
                // that cancels this task too.
                Err(_) => std::future::pending().await,
            }
        })
    }

    /// Every worker's host handle.
    fn workers(&self) -> &[ebbtide_host::Handle] {
        match self.group {
            Some(group) => &group.workers,
            None => std::slice::from_ref(&self.inner),
        }
    }

    /// The worker whose blocking pool runs this handle's blocking jobs: worker 0 on a runtime
    /// of several (one pool for the whole runtime, as in Tokio, so that `max_blocking_threads`
    /// bounds the runtime's blocking threads whatever the worker count), else the runtime's one.
    pub(crate) fn blocking_owner(&self) -> ebbtide_host::Handle {
        self.group.map_or(self.inner, |group| group.workers[0])
    }

    /// Counters that describe the runtime's work.
    pub fn metrics(&self) -> Metrics {
        Metrics { handle: *self }
    }
}

/// Aborts the task when dropped (`spawn_pinned`'s `!Send` task, with the task that awaits it).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.worker_count())
            .finish_non_exhaustive()
    }
}

/// Counters that describe a runtime's work (snapshots; other threads may change them), summed
/// over its workers; [`worker`](Metrics::worker) gives one worker's.
#[derive(Clone, Copy)]
pub struct Metrics {
    handle: Handle,
}

impl Metrics {
    fn sum<T: std::iter::Sum>(&self, f: impl Fn(&ebbtide_host::Handle) -> T) -> T {
        self.handle.workers().iter().map(f).sum()
    }

    fn driver(worker: &ebbtide_host::Handle) -> &'static DriverShared {
        worker
            .driver::<DriverShared>()
            .expect("an ebbtide-std handle belongs to a runtime of the std driver")
    }

    /// How many workers the figures cover (1 for [`worker`](Metrics::worker)'s).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// assert_eq!(runtime.metrics().workers(), 2);
    /// assert_eq!(runtime.metrics().worker(1).workers(), 1);
    /// ```
    pub fn workers(&self) -> usize {
        self.handle.worker_count()
    }

    /// The figures of worker `worker` alone.
    ///
    /// # Panics
    ///
    /// When `worker` is not below [`workers`](Metrics::workers).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// let handle = runtime.handle();
    /// let parked = handle.spawn_on(1, std::future::pending::<()>()).unwrap();
    /// let metrics = runtime.metrics();
    /// assert_eq!((metrics.tasks(), metrics.worker(0).tasks(), metrics.worker(1).tasks()), (1, 0, 1));
    /// parked.abort();
    /// ```
    pub fn worker(&self, worker: usize) -> Metrics {
        let workers = self.handle.workers();
        assert!(
            worker < workers.len(),
            "Metrics::worker: worker {worker} does not exist: the runtime has {} worker(s)",
            workers.len()
        );
        Metrics {
            handle: Handle {
                inner: workers[worker],
                group: None,
            },
        }
    }

    /// How many times the workers' threads came back from the OS's wait (or looked at it without
    /// waiting). An idle runtime does not turn: this stays still while nothing happens.
    pub fn reactor_turns(&self) -> u64 {
        self.sum(|worker| Self::driver(worker).reactor.turns())
    }

    /// How many times another thread interrupted a worker's wait in the OS, or the next one (an
    /// `eventfd` or `kqueue` write each): a task woken, spawned or sent to a worker from a thread
    /// other than that worker's while it slept, or was about to. What a worker does for its own
    /// tasks (IO readiness, timers, wakes from its own tasks) never counts, so per request of a
    /// server whose connections each stay on one worker (a listener per worker) it stays at 0;
    /// channels, `spawn_on` and join handles between workers, and work stealing, raise it. The
    /// cross-thread cost a runtime pays: each is a system call on the waking thread, and a
    /// return from the OS's wait on the woken one.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// let before = runtime.metrics().worker(1).remote_wakes();
    /// // This thread is not worker 1's, so worker 1 is woken to run the task.
    /// let task = runtime.handle().spawn_on(1, async { 7 }).unwrap();
    /// assert_eq!(runtime.block_on(task).unwrap(), 7);
    /// assert!(runtime.metrics().worker(1).remote_wakes() > before);
    /// ```
    pub fn remote_wakes(&self) -> u64 {
        self.sum(|worker| Self::driver(worker).reactor.remote_wakes())
    }

    /// Tasks alive (running, waiting, or finished with a live `JoinHandle`).
    pub fn tasks(&self) -> usize {
        self.sum(ebbtide_host::Handle::tasks)
    }

    /// Task slots now, over every size class (and worker): the reservation
    /// ([`Builder::task_capacity`], per worker) plus what the classes grew by when they ran out.
    /// It only grows, up to [`task_limit`](Metrics::task_limit); a runtime that reuses a dropped
    /// runtime's memory starts with what that one grew to.
    pub fn task_capacity(&self) -> usize {
        self.sum(ebbtide_host::Handle::task_capacity)
    }

    /// The most task slots the runtime may have, over every size class (and worker)
    /// ([`Builder::task_limit`], [`Builder::fixed_task_memory`]); `None` when task memory grows
    /// as far as memory allows (the default).
    pub fn task_limit(&self) -> Option<usize> {
        self.sum(ebbtide_host::Handle::task_limit)
    }

    /// Registered IO resources.
    pub fn io_resources(&self) -> usize {
        self.sum(|worker| Self::driver(worker).reactor.io_in_use())
    }

    /// The most IO resources that can be registered at once ([`Builder::io_capacity`] per
    /// worker: an IO object registers with its worker's reactor).
    pub fn io_capacity(&self) -> usize {
        self.sum(|worker| Self::driver(worker).reactor.io_capacity())
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("workers", &self.workers())
            .field("reactor_turns", &self.reactor_turns())
            .field("remote_wakes", &self.remote_wakes())
            .field("tasks", &self.tasks())
            .field("task_capacity", &self.task_capacity())
            .field("task_limit", &self.task_limit())
            .field("io_resources", &self.io_resources())
            .field("io_capacity", &self.io_capacity())
            .finish()
    }
}
