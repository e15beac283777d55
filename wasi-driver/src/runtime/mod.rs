//! The runtime: an executor, a reactor and task memory, driven by `poll_oneoff`.
//!
//! # Dropping a runtime
//!
//! Dropping a [`Runtime`] cancels every task and puts its parts (the executor and its runner,
//! the reactor, the task slots) in a bin, which the next [`Runtime::new`] / [`Builder::build`]
//! with the same capacities on the same thread takes them from instead of allocating: a program
//! (or a test binary) that builds and drops runtimes one after another keeps its memory flat.
//! The parts cannot be freed: a waker of a finished task or an IO object may outlive the runtime
//! and still point at them. The bin is per thread (wasm32-wasip1 has one), so a runner never
//! changes threads. An IO object of a dropped runtime fails (the reactor's epoch moved on), an
//! old task's `JoinHandle` yields its output or `Cancelled`, and an old waker at most wakes a new
//! task once (a spurious wake-up).

mod builder;
pub(crate) mod pools;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::pin::pin;
use std::task::{Context, Poll};

pub use builder::Builder;
pub use pools::SLOT_SIZES;

use ebbtide_core::time::queue;
use ebbtide_core::{Executor, Runner};

use crate::reactor::Reactor;
use crate::task::{JoinHandle, SpawnError};

/// How many executor batches run between two non-blocking looks at the host while tasks keep the
/// runtime busy, so that IO and timers are never starved by ready tasks.
const BATCHES_BETWEEN_IO: u32 = 61;

/// The longest single wait, in nanoseconds (one day). A timer further away is waited for in
/// several waits (an early wake-up only costs a look at the timer queue); this keeps the host
/// from overflowing `now + timeout`.
const MAX_WAIT_NS: u64 = 86_400 * 1_000_000_000;

/// What the tasks of a runtime may reach. Leaked when the runtime is built: wakers and IO objects
/// may outlive the `Runtime` and must find this still there.
pub(crate) struct Shared {
    pub(crate) executor: &'static Executor,
    pub(crate) reactor: &'static Reactor,
    pub(crate) pools: &'static pools::Pools,
}

thread_local! {
    /// The runtime whose `block_on` is running, if any. (wasm32-wasip1 has one thread.)
    static CURRENT: Cell<Option<&'static Shared>> = const { Cell::new(None) };
}

/// The runtime that is running, if any.
pub(crate) fn current() -> Option<&'static Shared> {
    CURRENT.with(Cell::get)
}

/// The running runtime's reactor, or an error that says there is none.
pub(crate) fn current_reactor() -> io::Result<&'static Reactor> {
    current().map(|shared| shared.reactor).ok_or_else(|| {
        io::Error::other(
            "no ebbtide runtime is running: use IO objects inside Runtime::block_on or a task it \
             runs",
        )
    })
}

struct Enter;

impl Enter {
    fn new(shared: &'static Shared) -> Enter {
        CURRENT.with(|current| {
            if current.get().is_some() {
                panic!(
                    "Cannot start an ebbtide runtime from within a runtime: block_on was called \
                     inside block_on (await the future instead)"
                );
            }
            current.set(Some(shared));
        });
        Enter
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(None));
    }
}

/// Why [`Runtime::try_block_on`] gave up.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The future is not finished, no task is ready, no timer is pending and no task waits for
    /// a file descriptor: nothing can ever make progress.
    Deadlock,
    /// The host refused to wait on a socket (`poll_oneoff` answered `BADF` for a call with a
    /// socket subscription): the preview 1 host of current wasmtime cannot poll sockets.
    HostCannotPollSockets(io::Error),
    /// `poll_oneoff` failed.
    Wait(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Deadlock => f.write_str(
                "deadlock: block_on's future is pending, but no task is ready, no timer is \
                 pending and no task waits for IO, so nothing can wake it",
            ),
            Error::HostCannotPollSockets(e) => write!(
                f,
                "this WASI host cannot wait on sockets (poll_oneoff answered {e}); run with a host \
                 that can, e.g. `wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT --env \
                 LISTEN_FDS=1 app.wasm` (wasmtime 46 or older: later versions dropped preview 1 \
                 sockets)"
            ),
            Error::Wait(e) => write!(f, "poll_oneoff failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Deadlock => None,
            Error::HostCannotPollSockets(e) | Error::Wait(e) => Some(e),
        }
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match &error {
            Error::Deadlock => io::ErrorKind::Other,
            Error::HostCannotPollSockets(_) => io::ErrorKind::Unsupported,
            Error::Wait(e) => e.kind(),
        };
        io::Error::new(kind, error)
    }
}

/// An ebbtide runtime for WASI: one thread runs every task, and waits in one `poll_oneoff` call
/// for the next timer and the file descriptors tasks wait on.
///
/// Memory for tasks and the reactor's table is reserved when the runtime is built; spawning,
/// sleeping and IO allocate nothing after that.
///
/// # Differences from ebbtide-std
///
/// - [`block_on`](Runtime::block_on) panics when the program is deadlocked (on wasm the panic
///   aborts the program with the message); [`try_block_on`](Runtime::try_block_on) returns that
///   as an [`Error`] instead.
/// - There is one thread: no `Handle` for other threads, no `spawn_blocking`.
/// - Panics abort on wasm32-wasip1 (`panic = "abort"` is the target's default): a task that
///   panics ends the program, so [`JoinError::Panic`](crate::JoinError::Panic) never happens
///   there.
///
/// # Examples
///
/// (Not run by `cargo test`: doctests cannot run on wasm32-wasip1.)
///
/// ```no_run
/// use ebbtide_wasi::{time::{sleep, Duration}, Runtime};
///
/// let runtime = Runtime::new().unwrap();
/// let answer = runtime.block_on(async {
///     let task = ebbtide_wasi::spawn(async {
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
    /// The capacities, to find the parts again in the bin.
    key: Key,
}

/// The capacities a dropped runtime's parts were built with.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    task_slots: [usize; 4],
    io_capacity: usize,
}

/// The most sets of parts the bin keeps; more are leaked (as every runtime's were before the
/// bin), which only happens when more runtimes with the same capacities were alive at once.
const BIN_CAPACITY: usize = 16;

thread_local! {
    /// Dropped runtimes' parts, for the next runtime on this thread. Every task in their pools
    /// is complete (see `Drop for Runtime`); the runner stays on the thread that took it.
    static BIN: RefCell<Vec<(Key, &'static Shared, Runner)>> = const { RefCell::new(Vec::new()) };
}

impl Runtime {
    /// A runtime with the default settings (see [`Builder`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to choose capacities.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_capacity(32).build().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn from_builder(builder: &Builder) -> io::Result<Runtime> {
        let key = Key {
            task_slots: builder.task_slots,
            io_capacity: builder.io_capacity,
        };
        let reused = BIN.with_borrow_mut(|bin| {
            let index = bin.iter().rposition(|(k, ..)| *k == key)?;
            let (_, shared, runner) = bin.swap_remove(index);
            Some((shared, runner))
        });
        if let Some((shared, runner)) = reused {
            // A stale root waker may have been woken meanwhile.
            runner.take_root_wake();
            return Ok(Runtime {
                shared,
                runner: ManuallyDrop::new(runner),
                key,
            });
        }
        // No wake hook: there is one thread, and it polls the executor before every wait.
        let executor: &'static Executor = Box::leak(Box::new(Executor::new()));
        let reactor: &'static Reactor = Box::leak(Box::new(Reactor::new(builder.io_capacity)));
        let pools: &'static pools::Pools = Box::leak(Box::new(pools::reserve(builder.task_slots)));
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            executor,
            reactor,
            pools,
        }));
        let runner = executor.runner().expect("a new executor has its runner");
        Ok(Runtime {
            shared,
            runner: ManuallyDrop::new(runner),
            key,
        })
    }

    /// Runs `future` to completion, running spawned tasks, IO and timers meanwhile; returns its
    /// output.
    ///
    /// # Panics
    ///
    /// With the message of [`Error`] when [`try_block_on`](Runtime::try_block_on) would return
    /// one: a deadlock (nothing can ever wake the future), a host that cannot poll sockets, or a
    /// failed `poll_oneoff`. Also if called inside `block_on` (await the future instead).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// assert_eq!(runtime.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.try_block_on(future) {
            Ok(output) => output,
            Err(error) => panic!("ebbtide_wasi::Runtime::block_on: {error}"),
        }
    }

    /// Runs `future` to completion like [`block_on`](Runtime::block_on), but returns an
    /// [`Error`] instead of panicking when the runtime cannot go on.
    ///
    /// # Errors
    ///
    /// - [`Error::Deadlock`]: the future is pending, no task is ready, no timer is pending and
    ///   no task waits for a file descriptor. (`poll_oneoff` is never called with nothing to
    ///   wait for.) Tasks and timers stay as they are: the runtime may be used again.
    /// - [`Error::HostCannotPollSockets`]: a task waits on a socket and the host cannot poll it.
    /// - [`Error::Wait`]: `poll_oneoff` failed otherwise.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ebbtide_wasi::{Error, Runtime};
    ///
    /// let runtime = Runtime::new().unwrap();
    /// let stuck = runtime.try_block_on(std::future::pending::<()>());
    /// assert!(matches!(stuck, Err(Error::Deadlock)));
    /// ```
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        let _enter = Enter::new(self.shared);
        let mut future = pin!(future);
        let waker = self.runner.root_waker();
        let mut cx = Context::from_waker(&waker);
        waker.wake_by_ref();
        let mut busy_batches = 0;
        loop {
            if self.runner.take_root_wake() {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return Ok(output);
                }
            }
            let more = self.runner.poll();
            if !more && !self.runner.root_woken() {
                self.park(true)?;
                busy_batches = 0;
            } else {
                busy_batches += 1;
                if busy_batches >= BATCHES_BETWEEN_IO {
                    self.park(false)?;
                    busy_batches = 0;
                }
            }
        }
    }

    /// Waits in `poll_oneoff` (or only looks, if `!block`), then fires due timers.
    fn park(&self, block: bool) -> Result<(), Error> {
        let timeout_ns = if block {
            queue::next_deadline().map(|deadline| {
                // Ticks are whole µs and `now` is rounded down, so this never ends early.
                let now = crate::time::now_ticks();
                deadline
                    .saturating_sub(now)
                    .saturating_mul(1_000)
                    .min(MAX_WAIT_NS)
            })
        } else {
            Some(0)
        };
        if timeout_ns.is_none() && !self.shared.reactor.has_waiters() {
            return Err(Error::Deadlock);
        }
        self.shared.reactor.turn(timeout_ns)?;
        queue::wake_expired(crate::time::now_ticks());
        Ok(())
    }

    /// Spawns a task on this runtime; see [`spawn`](crate::spawn).
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// let task = runtime.spawn(async { 7 }).unwrap();
    /// assert_eq!(runtime.block_on(task).unwrap(), 7);
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared
            .pools
            .spawn(self.shared.executor, future)
            .map(JoinHandle::new)
    }

    /// Tasks alive right now, all size classes together.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// assert_eq!(runtime.task_count(), 0);
    /// ```
    pub fn task_count(&self) -> usize {
        self.shared.pools.len()
    }

    /// Task slots, all size classes together.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_capacity(64).build().unwrap();
    /// assert!(runtime.task_capacity() >= 64);
    /// ```
    pub fn task_capacity(&self) -> usize {
        self.shared.pools.capacity()
    }

    /// How many file descriptors the reactor can hold (see [`Builder::io_capacity`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().io_capacity(8).build().unwrap();
    /// assert_eq!(runtime.io_capacity(), 8);
    /// ```
    pub fn io_capacity(&self) -> usize {
        self.shared.reactor.capacity()
    }
}

/// How many rounds of cancelling and polling a dropping runtime tries before it gives up on
/// reusing its parts (one finishes every task; no task can be spawned onto a dropping runtime).
const SHUTDOWN_ROUNDS: usize = 8;

impl Drop for Runtime {
    /// Shuts down: every task that has not finished is dropped; then the parts go to the bin
    /// (see the [module docs](self)).
    fn drop(&mut self) {
        let mut finished = false;
        for _ in 0..SHUTDOWN_ROUNDS {
            // SAFETY: the pools are this runtime's own: every task in them was spawned on its
            // executor, whose runner is ours, and we are not inside its poll.
            let cancelled = unsafe { self.shared.pools.cancel_all(&self.runner) };
            // Tasks that were queued are dropped (not polled) by these polls.
            while self.runner.poll() {}
            if cancelled == 0 {
                // Every task is complete: no future is left, only outputs for `JoinHandle`s.
                finished = true;
                break;
            }
        }
        self.shared.reactor.close();
        // SAFETY: the runner is not used again: this is the end of `drop`.
        let runner = unsafe { ManuallyDrop::take(&mut self.runner) };
        if finished {
            let parts = (self.key.clone(), self.shared, runner);
            // The bin is gone while the thread exits: the parts are leaked then.
            let _ = BIN.try_with(|bin| {
                let mut bin = bin.borrow_mut();
                if bin.len() < BIN_CAPACITY {
                    bin.push(parts);
                }
            });
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.task_count())
            .field("task_capacity", &self.task_capacity())
            .field("reactor", self.shared.reactor)
            .finish()
    }
}
