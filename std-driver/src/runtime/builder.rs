//! Choosing a runtime's capacities.

use std::io;

use super::{DriverOptions, Runtime};

/// Capacities of a [`Runtime`], chosen before it is built.
///
/// Everything here is reserved at build time. Task memory is the one thing that grows: a size
/// class whose slots run out gets a new segment of slots (as many as it had: it doubles), so by
/// default a runtime serves as many concurrent tasks as memory allows, and spawning allocates
/// only when it grows a class. Grown memory is kept (wakers may point at it) and serves the next
/// runtime built with the same settings.
///
/// To bound task memory, set [`task_limit`](Builder::task_limit) (or
/// [`task_slot_limits`](Builder::task_slot_limits)): a class at its limit refuses spawns with
/// `SpawnError::PoolFull`, whose message names `Builder::task_limit`. That is backpressure: a
/// server logs it and turns the client away instead of running out of memory. For memory that is
/// all reserved up front and never grows, use [`task_capacity`](Builder::task_capacity) (or
/// [`task_slots`](Builder::task_slots)) with [`fixed_task_memory`](Builder::fixed_task_memory).
///
/// Running out of anything is an error value where it happens (`SpawnError::PoolFull`, an
/// `io::Error` on registration), never a panic.
///
/// # Examples
///
/// ```
/// use ebbtide_std::Runtime;
///
/// let runtime = Runtime::builder()
///     .task_capacity(64)
///     .event_capacity(256)
///     .io_capacity(128)
///     .build()
///     .unwrap();
/// assert_eq!(runtime.metrics().io_capacity(), 128);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    /// Task memory, the part every host driver shares.
    pub(crate) tasks: ebbtide_host::Options,
    /// Whether the clock starts paused (`start_paused`).
    pub(crate) start_paused: bool,
    /// How many workers (`worker_threads`), at least 1.
    pub(crate) worker_threads: usize,
    /// Whether `worker_threads` was called (rather than the default or the environment's).
    worker_threads_explicit: bool,
    /// Whether idle workers steal tasks from busy ones (`work_stealing`).
    pub(crate) work_stealing: bool,
    /// Whether stealing workers also take busy workers' IO events (`steal_io_events`).
    pub(crate) steal_io_events: bool,
    /// Whether stealing workers also take the rest of a busy worker's running batch
    /// (`steal_running_batch`).
    pub(crate) steal_running_batch: bool,
    pub(crate) driver: DriverOptions,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// The environment variable that sets the default worker count of every [`Builder`] (as
/// `TOKIO_WORKER_THREADS` does Tokio's): a whole number from 1. An explicit
/// [`worker_threads`](Builder::worker_threads) wins over it.
pub const WORKER_THREADS_ENV: &str = "EBBTIDE_WORKER_THREADS";

/// The environment variable that turns [`work_stealing`](Builder::work_stealing) on (`1`) or
/// off (`0`) by default for every [`Builder`], so that a whole test suite can run with stealing;
/// an explicit `work_stealing` wins over it.
pub const WORK_STEALING_ENV: &str = "EBBTIDE_WORK_STEALING";

/// `EBBTIDE_WORK_STEALING`, if set.
///
/// # Panics
///
/// When it is set to anything but `0` or `1`.
fn work_stealing_from_env() -> Option<bool> {
    let value = std::env::var_os(WORK_STEALING_ENV)?;
    match value.to_str().map(str::trim) {
        Some("1") => Some(true),
        Some("0") => Some(false),
        _ => panic!("{WORK_STEALING_ENV}={value:?}: expected 0 or 1"),
    }
}

/// `EBBTIDE_WORKER_THREADS`, if set.
///
/// # Panics
///
/// When it is set to anything but a whole number from 1 (a typo must not silently run a
/// program on one worker).
fn worker_threads_from_env() -> Option<usize> {
    let value = std::env::var_os(WORKER_THREADS_ENV)?;
    match parse_worker_threads(&value) {
        Some(n) => Some(n),
        None => panic!("{WORKER_THREADS_ENV}={value:?}: expected a whole number from 1"),
    }
}

/// A worker count from the environment: a whole number from 1, spaces around it allowed.
fn parse_worker_threads(value: &std::ffi::OsStr) -> Option<usize> {
    let n = value.to_str()?.trim().parse::<usize>().ok()?;
    (n >= 1).then_some(n)
}

impl Builder {
    /// The defaults: 1,024 tasks, 1,024 events per wait, 4,096 IO resources, 1 worker (or
    /// the number in the `EBBTIDE_WORKER_THREADS` environment variable, as Tokio reads
    /// `TOKIO_WORKER_THREADS`: see [`worker_threads`](Builder::worker_threads)).
    ///
    /// # Panics
    ///
    /// When `EBBTIDE_WORKER_THREADS` is set to anything but a whole number from 1.
    pub fn new() -> Builder {
        Builder {
            tasks: ebbtide_host::Options::new(1024),
            start_paused: false,
            worker_threads: worker_threads_from_env().unwrap_or(1),
            worker_threads_explicit: false,
            work_stealing: work_stealing_from_env().unwrap_or(true),
            steal_io_events: true,
            steal_running_batch: true,
            driver: DriverOptions {
                event_capacity: 1024,
                io_capacity: 4096,
                max_blocking_threads: 16,
                blocking_queue_capacity: 1024,
            },
        }
    }

    /// Reserves room for `n` tasks when the runtime is built (the default is 1,024). Slots
    /// come in four size classes ([`SLOT_SIZES`](crate::runtime::SLOT_SIZES)): `n` of 256
    /// bytes, `n / 2` of 1 KiB, `n / 4` of 4 KiB and `n / 16` of 16 KiB (at least a few of
    /// each): about 2.8 MiB for 1,024. A class that runs out grows beyond this unless
    /// [`task_limit`](Builder::task_limit) or [`fixed_task_memory`](Builder::fixed_task_memory)
    /// forbids it. Use [`task_slots`](Builder::task_slots) to set each class.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().task_capacity(64).build().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn task_capacity(mut self, n: usize) -> Builder {
        self.tasks = self.tasks.task_capacity(n);
        self
    }

    /// Slots per size class reserved when the runtime is built, smallest first (see
    /// [`SLOT_SIZES`](crate::runtime::SLOT_SIZES)). They grow like
    /// [`task_capacity`](Builder::task_capacity)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder()
    ///     .task_slots([8, 4, 2, 1])
    ///     .fixed_task_memory()
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(runtime.metrics().task_capacity(), 15);
    /// ```
    pub fn task_slots(mut self, per_class: [usize; 4]) -> Builder {
        self.tasks = self.tasks.task_slots(per_class);
        self
    }

    /// Bounds task memory: each size class grows to at most what
    /// [`task_capacity(n)`](Builder::task_capacity) reserves (`n` tasks of up to 256 bytes,
    /// `n / 2` of 1 KiB, `n / 4` of 4 KiB, `n / 16` of 16 KiB, at least a few of each). A spawn
    /// into a class at its limit fails with `SpawnError::PoolFull` (backpressure: the future is
    /// dropped, not run). A reservation above the limit is cut to it. Without a limit (the
    /// default), classes grow as far as memory allows.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::{Runtime, SpawnError};
    ///
    /// // 16 slots of 4 KiB at most, 4 reserved up front.
    /// let runtime = Runtime::builder().task_capacity(16).task_limit(64).build().unwrap();
    /// runtime.block_on(async {
    ///     let mut tasks = Vec::new();
    ///     let error = loop {
    ///         let big = [0u8; 2048];
    ///         match ebbtide_std::spawn(async move { big.len() }) {
    ///             Ok(task) => tasks.push(task),
    ///             Err(error) => break error,
    ///         }
    ///     };
    ///     assert_eq!(tasks.len(), 16);
    ///     assert!(matches!(error, SpawnError::PoolFull { capacity: 16, .. }));
    ///     assert!(error.to_string().contains("Builder::task_limit"));
    /// });
    /// ```
    pub fn task_limit(mut self, n: usize) -> Builder {
        self.tasks = self.tasks.task_limit(n);
        self
    }

    /// Bounds each size class to at most `per_class` slots, smallest first; see
    /// [`task_limit`](Builder::task_limit).
    pub fn task_slot_limits(mut self, per_class: [usize; 4]) -> Builder {
        self.tasks = self.tasks.task_slot_limits(per_class);
        self
    }

    /// Task memory never grows: what [`task_capacity`](Builder::task_capacity) (or
    /// [`task_slots`](Builder::task_slots)) reserves is all there is, and a full class refuses
    /// spawns with `SpawnError::PoolFull`. For a program that wants its whole footprint
    /// allocated when it starts.
    pub fn fixed_task_memory(mut self) -> Builder {
        self.tasks = self.tasks.fixed();
        self
    }

    /// How many OS events one wait can return.
    pub fn event_capacity(mut self, n: usize) -> Builder {
        self.driver.event_capacity = n;
        self
    }

    /// How many IO resources (sockets, fds) can be registered at once.
    pub fn io_capacity(mut self, n: usize) -> Builder {
        self.driver.io_capacity = n;
        self
    }

    /// How many threads [`spawn_blocking`](crate::spawn_blocking) may run at once (16 by
    /// default; at least 1), for the whole runtime: its workers share one pool. Threads start
    /// when needed and exit after [`KEEP_ALIVE`](crate::blocking::KEEP_ALIVE) idle.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().max_blocking_threads(2).build().unwrap();
    /// assert_eq!(runtime.block_on(runtime.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.driver.max_blocking_threads = n;
        self
    }

    /// How many blocking jobs may wait for a thread before
    /// [`try_spawn_blocking`](crate::blocking::try_spawn_blocking) refuses more (1,024 by
    /// default, reserved at build time; see [`blocking`](crate::blocking)).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().blocking_queue_capacity(64).build().unwrap();
    /// assert_eq!(runtime.block_on(runtime.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    pub fn blocking_queue_capacity(mut self, n: usize) -> Builder {
        self.driver.blocking_queue_capacity = n;
        self
    }

    /// Starts the runtime with its clock paused, as Tokio's `Builder::start_paused`: see
    /// [`time::pause`](crate::time::pause). What `#[ebbtide_std::test(start_paused = true)]` uses.
    ///
    /// A paused runtime has one worker, as Tokio's needs its `current_thread` runtime: each
    /// worker has its own clock, which jumps ahead when that worker has nothing to do, so on
    /// several workers a timer could fire while another worker still had work. The worker count
    /// of `EBBTIDE_WORKER_THREADS` is ignored then; an explicit
    /// [`worker_threads`](Builder::worker_threads) above 1 makes [`build`](Builder::build) fail
    /// with `InvalidInput`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::time::{sleep, Duration, Instant};
    ///
    /// let runtime = ebbtide_std::Runtime::builder().start_paused(true).build().unwrap();
    /// runtime.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(24 * 3600)).await; // a day, at once
    ///     assert!(start.elapsed() >= Duration::from_secs(24 * 3600));
    /// });
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// How many workers the runtime has: 1 by default (every task on the thread inside
    /// [`Runtime::block_on`], as before workers existed), or the number in the
    /// `EBBTIDE_WORKER_THREADS` environment variable ([`WORKER_THREADS_ENV`]) when it is set,
    /// which lets a whole test suite run on several workers without a change to its code. The
    /// default stays 1 because a task starts on the worker it is spawned on (and only ready
    /// `Send` tasks move, by [`work_stealing`](Builder::work_stealing)): extra workers help a
    /// program that spreads its work over them (a listener per worker, `Handle::spawn`), or
    /// whose busy tasks stealing spreads, while a program that runs one task at a time would
    /// start threads for nothing. (Tokio's `Runtime::new()` starts a worker per CPU; its
    /// workers steal each other's tasks.)
    ///
    /// A runtime of `n` workers is `n` runtimes of one thread each (thread-per-core), built
    /// together: each worker has its own executor, reactor (mio poller), task memory (all the
    /// capacities of this builder are per worker) and blocking pool
    /// ([`spawn_blocking`](crate::spawn_blocking) in a task uses its worker's pool,
    /// `Handle::spawn_blocking` the pool of the worker the handle was taken on: worker 0 for
    /// `Runtime::handle`). Worker 0 is run by the
    /// thread inside [`Runtime::block_on`] (so [`spawn_local`](crate::spawn_local) there works
    /// as always); workers 1..n each run on a thread of their own, named `ebbtide-worker-<i>`,
    /// from [`build`](Builder::build) until the runtime drops. A task starts on the worker it was
    /// spawned on, and stays there unless a worker with nothing to do takes it
    /// ([`work_stealing`](Builder::work_stealing), on by default): [`spawn`](crate::spawn) in a
    /// task puts the new task on the same worker, [`Handle::spawn`](crate::Handle::spawn) places tasks round-robin,
    /// [`Handle::spawn_on`](crate::Handle::spawn_on) and
    /// [`Handle::spawn_pinned`](crate::Handle::spawn_pinned) choose the worker, and
    /// [`worker_index`](crate::runtime::worker_index) tells a task where it runs.
    ///
    /// An IO object belongs to the reactor of the worker it was made on. Moved to a task on
    /// another worker, it keeps working, but through its first worker: that worker's thread
    /// reads its readiness and wakes the task across threads (so it waits while that worker is
    /// not driven, as worker 0 outside `block_on`), and it fails once that worker shuts down. To
    /// move a socket for good, turn it into its std type (`into_std`, which deregisters it) and
    /// back (`from_std`) inside a task on the target worker, as a server that accepts on one
    /// worker and serves on all does:
    ///
    /// ```
    /// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
    /// runtime.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (stream, _) = listener.accept().await.unwrap();
    ///     let stream = stream.into_std().unwrap();
    ///     let echo = ebbtide_std::Handle::current()
    ///         .spawn_on(1, async move {
    ///             let mut stream = TcpStream::from_std(stream).unwrap(); // worker 1's reactor now
    ///             let mut buf = [0u8; 5];
    ///             stream.read_exact(&mut buf).await.unwrap();
    ///             stream.write_all(&buf).await.unwrap();
    ///         })
    ///         .unwrap();
    ///     client.write_all(b"hello").await.unwrap();
    ///     let mut reply = [0u8; 5];
    ///     client.read_exact(&mut reply).await.unwrap();
    ///     assert_eq!(&reply, b"hello");
    ///     echo.await.unwrap();
    /// });
    /// ```
    ///
    /// Dropping the runtime stops workers 1..n (each cancels its tasks on its own thread), joins
    /// their threads, then cancels worker 0's tasks on the dropping thread. A worker stops when
    /// its thread next comes back to its run loop: a task that blocks its worker's thread holds
    /// the drop up until it yields. A paused clock needs one worker, as in Tokio: with
    /// [`start_paused`](Builder::start_paused) the runtime has one (an explicit count above 1 is
    /// an error), and [`time::pause`](crate::time::pause) panics on a runtime with several.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::runtime::worker_index;
    ///
    /// // Without work stealing, so that where a task starts is where it runs to the end.
    /// let runtime = ebbtide_std::Runtime::builder()
    ///     .worker_threads(2)
    ///     .work_stealing(false)
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async {
    ///     let handle = ebbtide_std::Handle::current();
    ///     let task = handle
    ///         .spawn_on(1, async {
    ///             // Spawned inside a task: on this task's worker.
    ///             ebbtide_std::spawn(async { worker_index() }).unwrap().await.unwrap()
    ///         })
    ///         .unwrap();
    ///     assert_eq!(task.await.unwrap(), Some(1));
    /// });
    /// ```
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n >= 1, "worker_threads: a runtime needs at least 1 worker");
        self.worker_threads = n;
        self.worker_threads_explicit = true;
        self
    }

    /// Lets a worker that runs out of tasks take some from the others before it waits in the OS
    /// (work stealing); on by default. Only matters with more than one
    /// [worker](Builder::worker_threads).
    ///
    /// A worker about to wait first looks at the other workers' run queues (starting at a
    /// different one each time) and takes about half of the ready tasks of the first that has
    /// any. Only tasks spawned with [`spawn`](crate::spawn) (or [`Handle::spawn`],
    /// `JoinSet::spawn`: tasks whose future is `Send`) move; [`spawn_local`](crate::spawn_local)
    /// tasks and the tasks of [`Handle::spawn_on`] and [`Handle::spawn_pinned`] stay on their
    /// worker. A moved task keeps running on the worker that took it (until another takes it
    /// again): [`worker_index`](crate::runtime::worker_index) says where it runs now, timers it
    /// sets go to that worker's queue, and an IO object it made earlier stays with the reactor of
    /// the worker that made it (see above: it keeps working, through that worker). Only ready
    /// tasks are taken, never one that is running.
    ///
    /// When no run queue has any, the worker on Linux (epoll) also takes the IO events waiting
    /// in the poller of each other worker that is not waiting in it itself (one busy running
    /// tasks, or stuck in a task that does not yield, or descheduled by the OS): the events wake
    /// their tasks onto that worker's queue, and the worker steals them. So a worker that is
    /// busy or stuck does not hold up the connections it owns while another has nothing to do,
    /// as Tokio's workers, which share one IO driver, do not either. A worker asleep in its own
    /// wait is not woken for another's events: the help comes when it next wakes (for its own
    /// IO or a timer), so a runtime whose every other worker is asleep still waits for the stuck
    /// one. (kqueue and poll(2): the owner alone takes its events.)
    ///
    /// The `EBBTIDE_WORK_STEALING` environment variable ([`WORK_STEALING_ENV`], `1` or `0`)
    /// sets the default.
    ///
    /// On by default (it matters only with 2 workers or more), as in Tokio's multi-thread
    /// runtime: measured on 2 workers against Tokio's and smol's (`cargo xtask bench --only
    /// mt_`), ebbtide with stealing is ahead of or level with both on every workload, while
    /// without it a burst of busy tasks spawned on one worker runs on that worker alone (the
    /// `mt_imbalanced` workload: 2x the peers' time). What it costs: a burst of spawns that one
    /// worker could have run alone is partly handed to another (Tokio's `spawn_many_local`
    /// shape: 1.5x the time without stealing, still a fifth of the peers'), and a task moved
    /// away from the worker whose reactor holds its sockets is woken across threads. Turn it off
    /// for strict thread-per-core, where each worker's tasks must stay put (a listener per
    /// worker whose connections never share anything). With stealing on, dropping the runtime
    /// first stops every worker,
    /// sends every moved task back to the worker whose task memory holds it, then lets each worker
    /// cancel its own tasks as without stealing.
    ///
    /// [`Handle::spawn`]: crate::Handle::spawn
    /// [`Handle::spawn_on`]: crate::Handle::spawn_on
    /// [`Handle::spawn_pinned`]: crate::Handle::spawn_pinned
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder()
    ///     .worker_threads(2)
    ///     .work_stealing(true)
    ///     .build()
    ///     .unwrap();
    /// let sum = runtime.block_on(async {
    ///     let tasks: Vec<_> = (0..8u64).map(|i| ebbtide_std::spawn(async move { i }).unwrap()).collect();
    ///     let mut sum = 0;
    ///     for task in tasks {
    ///         sum += task.await.unwrap();
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 28);
    /// ```
    pub fn work_stealing(mut self, on: bool) -> Builder {
        self.work_stealing = on;
        self
    }

    /// With [`work_stealing`](Builder::work_stealing), whether a worker that finds no queued
    /// task also takes the IO events of busy workers (on by default; see `work_stealing`). Off,
    /// it only takes queued tasks: for measuring what the IO events' part is worth.
    #[doc(hidden)]
    pub fn steal_io_events(mut self, on: bool) -> Builder {
        self.steal_io_events = on;
        self
    }

    /// With [`work_stealing`](Builder::work_stealing), whether a thief also takes what is left
    /// of the batch a busy worker is running (on by default), not only the tasks queued behind
    /// it. Off: for measuring what that is worth.
    #[doc(hidden)]
    pub fn steal_running_batch(mut self, on: bool) -> Builder {
        self.steal_running_batch = on;
        self
    }

    /// Builds the runtime: reserves the memory and opens the OS's poller (of every worker, and
    /// starts the worker threads; see [`worker_threads`](Builder::worker_threads)).
    ///
    /// # Errors
    ///
    /// What the OS says when the driver's resources (or a worker's thread) cannot be had.
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::from_builder(&self)
    }

    /// The number of workers to start: [`worker_threads`](Builder::worker_threads), or 1 with a
    /// paused clock (see [`start_paused`](Builder::start_paused)).
    pub(crate) fn workers(&self) -> io::Result<usize> {
        if !self.start_paused {
            return Ok(self.worker_threads);
        }
        if self.worker_threads_explicit && self.worker_threads > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "start_paused with worker_threads({}): a paused clock needs a runtime of one \
                     worker (each worker has its own clock)",
                    self.worker_threads
                ),
            ));
        }
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_worker_threads;

    #[test]
    fn worker_counts_from_the_environment_are_whole_numbers_from_one() {
        let parse = |text: &str| parse_worker_threads(std::ffi::OsStr::new(text));
        assert_eq!(parse("4"), Some(4));
        assert_eq!(parse(" 2\n"), Some(2));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("two"), None);
        assert_eq!(parse(""), None);
    }
}
