//! The runtime: the WASI driver (a reactor that waits in `poll_oneoff`) in ebbtide-host's shell.
//!
//! # Dropping a runtime
//!
//! Dropping a [`Runtime`] cancels every task and puts its parts (the executor and its runner,
//! the reactor, the task slots) in the process's bin, which the next [`Runtime::new`] /
//! [`Builder::build`] with the same capacities takes them from instead of allocating: a program
//! (or a test binary) that builds and drops runtimes one after another keeps its memory flat.
//! The parts cannot be freed: a waker of a finished task or an IO object may outlive the runtime
//! and still point at them. An IO object of a dropped runtime fails (the reactor's epoch moved
//! on), an old task's `JoinHandle` yields its output or `Cancelled`, and an old waker at most
//! wakes a new task once (a spurious wake-up). The shell that does this for every host driver is
//! [`ebbtide_host::runtime`].

mod builder;

use std::fmt;
use std::future::Future;
use std::io;

pub use builder::Builder;
pub use ebbtide_host::memory::SLOT_SIZES;

use ebbtide_core::driver::{Park, Wait};
use ebbtide_host::HostDriver;

pub use crate::error::Error;
use crate::reactor::Reactor;
use crate::task::{JoinHandle, SpawnError};

/// The longest single wait, in nanoseconds (one day). A timer further away is waited for in
/// several waits (an early wake-up only costs a look at the timer queue); this keeps the host
/// from overflowing `now + timeout`.
const MAX_WAIT_NS: u64 = 86_400 * 1_000_000_000;

/// The coarsest clock granularity the driver allows for: 1 ms (Node's `node:wasi` truncates
/// clock waits to whole milliseconds).
const MAX_GRANULARITY_NS: u64 = 1_000_000;

/// The WASI driver: the reactor, shared by the runtime's IO objects.
pub(crate) struct WasiDriver {
    reactor: &'static Reactor,
    /// What the host's clock waits are rounded to, as far as the driver has seen: 1 ns until a
    /// wait for a timer ends before its deadline, then the power of ten above how early it
    /// was (at most [`MAX_GRANULARITY_NS`]). Every wait is rounded *up* to it, so a host that
    /// rounds down (Node) never ends a wait early twice, and the runtime never spins through
    /// the last fraction of a wait.
    granularity_ns: u64,
}

impl WasiDriver {
    /// Rounds `ns` up to the granularity.
    fn round_up(&self, ns: u64) -> u64 {
        ns.div_ceil(self.granularity_ns)
            .saturating_mul(self.granularity_ns)
    }

    /// After a wait that only the timer ended, `early_ns` before `deadline`: the host rounds
    /// waits down, so round them up from now on.
    #[cold]
    fn ended_early(&mut self, early_ns: u64) {
        let mut granularity = self.granularity_ns.max(10);
        while granularity < early_ns && granularity < MAX_GRANULARITY_NS {
            granularity *= 10;
        }
        self.granularity_ns = granularity.min(MAX_GRANULARITY_NS);
    }
}

impl Park for WasiDriver {
    type Error = Error;

    #[inline]
    fn now(&self) -> u64 {
        crate::time::now_ticks()
    }

    /// One `poll_oneoff` call: a relative clock subscription for the deadline (rounded up to
    /// the host's granularity), plus one fd subscription per task waiting on an fd.
    fn park(&mut self, wait: Wait) -> Result<(), Error> {
        let timeout_ns = match wait {
            Wait::Poll => Some(0),
            Wait::Until(deadline) => Some(
                // Ticks are whole µs and `now` is rounded down, so this never ends early on a
                // host that waits as long as asked.
                self.round_up(
                    deadline
                        .saturating_sub(self.now())
                        .saturating_mul(1_000)
                        .min(MAX_WAIT_NS),
                ),
            ),
            Wait::Forever if !self.reactor.has_waiters() => return Err(Error::Deadlock),
            Wait::Forever => None,
        };
        let fd_ready = self.reactor.turn(timeout_ns)?;
        if let Wait::Until(deadline) = wait {
            let now = self.now();
            if !fd_ready && now < deadline && timeout_ns != Some(MAX_WAIT_NS) {
                self.ended_early((deadline - now).saturating_mul(1_000));
            }
        }
        Ok(())
    }
}

impl HostDriver for WasiDriver {
    type Shared = Reactor;
    /// The IO capacity.
    type Options = usize;

    /// No task waits for an fd: only a timer could wake the program.
    fn reports_deadlock(&self) -> bool {
        !self.reactor.has_waiters()
    }

    fn new(io_capacity: &usize) -> io::Result<WasiDriver> {
        Ok(WasiDriver {
            reactor: Box::leak(Box::new(Reactor::new(*io_capacity))),
            granularity_ns: 1,
        })
    }

    fn shared(&self) -> &'static Reactor {
        self.reactor
    }

    fn real_now() -> u64 {
        crate::time::now_ticks()
    }

    /// Nothing to do: there is one thread, and it polls the executor before every wait.
    fn unpark(_: &Reactor) {}

    /// IO objects fail from now on, and their waiters are forgotten.
    fn close(reactor: &Reactor) {
        reactor.close();
    }

    fn can_reuse(&self, io_capacity: &usize) -> bool {
        self.reactor.capacity() == (*io_capacity).max(1)
    }
}

/// The running runtime's reactor, or an error that says there is none.
pub(crate) fn current_reactor() -> io::Result<&'static Reactor> {
    ebbtide_host::Handle::try_current()
        .and_then(|handle| handle.driver::<Reactor>())
        .ok_or_else(|| {
            io::Error::other(
                "no ebbtide runtime is running: use IO objects inside Runtime::block_on or a task \
                 it runs",
            )
        })
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
/// - There is one thread: no `Handle` for other threads (so no `Handle::block_on`), no
///   `spawn_blocking`. `Runtime` is `Send` all the same, as ebbtide-std's is, so code generic over
///   both drivers compiles for both.
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
    inner: ebbtide_host::Runtime<WasiDriver>,
}

// `Runtime` is `Send`, like ebbtide-std's (the host shell's runtime is, for every driver).
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Runtime>();
};

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
        let inner = ebbtide_host::Runtime::new(&builder.tasks, &builder.io_capacity)?;
        if builder.start_paused {
            inner.pause_clock();
        }
        Ok(Runtime { inner })
    }

    /// Runs `future` to completion, running spawned tasks, IO and timers meanwhile; returns its
    /// output.
    ///
    /// # Panics
    ///
    /// With the message of [`Error`] when [`try_block_on`](Runtime::try_block_on) would return
    /// one, at the caller's line (`#[track_caller]`): a deadlock (nothing can ever wake the future), a host that cannot poll sockets, or a
    /// failed `poll_oneoff`. Also if called inside `block_on` (await the future instead).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// assert_eq!(runtime.block_on(async { 1 + 1 }), 2);
    /// ```
    #[track_caller]
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
        self.inner.block_on(future)
    }

    /// Spawns a task on this runtime; see [`spawn`](crate::spawn).
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full and at its limit
    /// ([`Builder::task_limit`]; without one, task memory grows).
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
        self.inner.handle().spawn(future)
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
        self.inner.handle().tasks()
    }

    /// Task slots now, over every size class: the reservation
    /// ([`Builder::task_capacity`]) plus what the classes grew by when they ran out. It only
    /// grows, up to [`task_limit`](Runtime::task_limit).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_capacity(64).build().unwrap();
    /// assert!(runtime.task_capacity() >= 64);
    /// ```
    pub fn task_capacity(&self) -> usize {
        self.inner.handle().task_capacity()
    }

    /// The most task slots the runtime may have, over every size class
    /// ([`Builder::task_limit`], [`Builder::fixed_task_memory`]); `None` when task memory grows
    /// as far as memory allows (the default).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_slots([8, 4, 2, 1]).fixed_task_memory().build().unwrap();
    /// assert_eq!(runtime.task_limit(), Some(15));
    /// ```
    pub fn task_limit(&self) -> Option<usize> {
        self.inner.handle().task_limit()
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
        self.inner.driver_shared().capacity()
    }

    /// How many times the runtime has waited in `poll_oneoff` (on this runtime's reactor, which
    /// a runtime built after this one is dropped may reuse, with its count). Each wait is for
    /// the next timer and the fds tasks wait on, or a look without waiting; a program that
    /// sleeps makes about one per sleep. For spotting a runtime that spins.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ebbtide_wasi::time::{sleep, Duration};
    ///
    /// let runtime = ebbtide_wasi::Runtime::new().unwrap();
    /// let before = runtime.host_waits();
    /// runtime.block_on(sleep(Duration::from_millis(5)));
    /// assert!(runtime.host_waits() > before);
    /// ```
    pub fn host_waits(&self) -> u64 {
        self.inner.driver_shared().waits()
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.task_count())
            .field("task_capacity", &self.task_capacity())
            .field("task_limit", &self.task_limit())
            .field("reactor", self.inner.driver_shared())
            .finish()
    }
}
