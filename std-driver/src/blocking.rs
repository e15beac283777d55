//! Running blocking code (file IO, CPU-heavy work, blocking libraries) off the runtime's thread.
//!
//! The runtime runs every task on one thread, so a task that blocks stops all the others. Hand
//! such work to [`spawn_blocking`]: it runs on a small pool of threads that belongs to the
//! runtime, and the task awaits a [`BlockingHandle`] for the result.
//!
//! # The pool
//!
//! - Threads start lazily, one when a job is queued and no idle thread is waiting, up to
//!   [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads) (16 by default).
//! - An idle thread exits after [`KEEP_ALIVE`] without work, so an idle runtime holds no
//!   threads for long.
//! - Jobs wait in a FIFO queue while every thread is busy. The queue has a capacity
//!   ([`Builder::blocking_queue_capacity`](crate::Builder::blocking_queue_capacity), 1,024 by
//!   default, reserved when the runtime is built):
//!   - [`try_spawn_blocking`] refuses a job when the queue holds that many, handing the closure
//!     back in [`QueueFull`], so a server can shed load;
//!   - [`spawn_blocking`] always queues its job (past the capacity if it must, growing the
//!     queue). It cannot wait for room, being a plain function, and a job that waited inside its
//!     handle would hold the same memory as a queued one while starting later. In practice its
//!     queue is bounded by the tasks that await it (at most
//!     [`Builder::task_capacity`](crate::Builder::task_capacity)) plus detached jobs.
//! - A panic in a job is caught on its thread and handed to the awaiting task as
//!   [`JoinError::Panic`]; the thread carries on.
//! - When the job finishes, the awaiting task is woken through its `Waker`; a wake from a pool
//!   thread interrupts the runtime's wait in the OS.
//!
//! # Allocation
//!
//! Unlike [`spawn`](crate::spawn), `spawn_blocking` allocates: one block per call holds the
//! closure, then its result (and the queue grows past its capacity, see above). Blocking work
//! costs a thread hand-off and a system call or more anyway.
//!
//! # Shutdown
//!
//! Dropping the [`Runtime`] does not wait for blocking jobs: a running job runs
//! on to its end on its (detached) thread and its result is dropped; jobs already queued still
//! run, in order; idle threads exit at once, and each busy one exits when the queue is empty.
//! A job spawned after the shutdown (through a [`Handle`] that outlived the runtime) does not
//! run: its handle yields [`JoinError::Cancelled`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;

use crate::task::{JoinError, PanicPayload};
use crate::{Handle, Runtime};

/// How long an idle pool thread waits for a job before it exits.
///
/// # Examples
///
/// ```
/// assert_eq!(ebbtide_std::blocking::KEEP_ALIVE.as_secs(), 10);
/// ```
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Runs `f` on the current runtime's blocking pool; await the handle for its result.
///
/// The job is queued at once: it runs whether or not the handle is awaited. See the
/// [module docs](self) for the pool's rules, and [`try_spawn_blocking`] to refuse work when the
/// queue is full.
///
/// A job runs outside the runtime: to spawn from it, take a [`Handle`] in.
///
/// Allocates one block per call (unlike [`spawn`](crate::spawn)).
///
/// # Panics
///
/// Outside a runtime (use [`Handle::spawn_blocking`] from other threads).
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let sum = ebbtide_std::spawn_blocking(|| (1..=100u64).sum::<u64>());
///     assert_eq!(sum.await.unwrap(), 5050);
/// });
/// ```
pub fn spawn_blocking<F, T>(f: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Handle::current().spawn_blocking(f)
}

/// Like [`spawn_blocking`], but refuses the job when the pool's queue is full.
///
/// # Errors
///
/// [`QueueFull`], holding `f`, when every pool thread is busy and the queue holds
/// [`Builder::blocking_queue_capacity`](crate::Builder::blocking_queue_capacity) jobs.
///
/// # Panics
///
/// Outside a runtime (use [`Handle::try_spawn_blocking`] from other threads).
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     match ebbtide_std::blocking::try_spawn_blocking(|| "done") {
///         Ok(handle) => assert_eq!(handle.await.unwrap(), "done"),
///         Err(_full) => { /* shed load: answer "busy" */ }
///     }
/// });
/// ```
pub fn try_spawn_blocking<F, T>(f: F) -> Result<BlockingHandle<T>, QueueFull<F>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Handle::current().try_spawn_blocking(f)
}

impl Handle {
    /// Runs `f` on this runtime's blocking pool, from any thread; see [`spawn_blocking`].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::new().unwrap();
    /// let handle = runtime.handle();
    /// let job = std::thread::spawn(move || handle.spawn_blocking(|| 6 * 7)).join().unwrap();
    /// assert_eq!(runtime.block_on(job).unwrap(), 42);
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let packet = Arc::new(Packet::new(f));
        let owner = self.blocking_owner();
        match owner.enter_spawn() {
            Ok(_gate) => {
                pool_of(owner).submit(packet.clone(), Submit::Always);
            }
            // The handle outlived its runtime: the job never runs.
            Err(_) => packet.abandon(None),
        }
        BlockingHandle { packet }
    }

    /// Like [`Handle::spawn_blocking`], but refuses the job when the queue is full; see
    /// [`try_spawn_blocking`].
    ///
    /// # Errors
    ///
    /// [`QueueFull`], holding `f`, when the pool's queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::new().unwrap();
    /// let job = runtime.handle().try_spawn_blocking(|| 1).ok().unwrap();
    /// assert_eq!(runtime.block_on(job).unwrap(), 1);
    /// ```
    pub fn try_spawn_blocking<F, T>(&self, f: F) -> Result<BlockingHandle<T>, QueueFull<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let packet = Arc::new(Packet::new(f));
        let owner = self.blocking_owner();
        let Ok(_gate) = owner.enter_spawn() else {
            // The handle outlived its runtime: the job never runs.
            packet.abandon(None);
            return Ok(BlockingHandle { packet });
        };
        if pool_of(owner).submit(packet.clone(), Submit::IfRoom) {
            Ok(BlockingHandle { packet })
        } else {
            let f = packet.take_job().expect("a refused job was never run");
            Err(QueueFull(f))
        }
    }
}

/// The blocking pool of the host runtime `owner` (see [`Handle::blocking_owner`]).
fn pool_of(owner: ebbtide_host::Handle) -> &'static Pool {
    &owner
        .driver::<crate::runtime::DriverShared>()
        .expect("an ebbtide-std handle belongs to a runtime of the std driver")
        .blocking
}

impl Runtime {
    /// Runs `f` on this runtime's blocking pool; see [`spawn_blocking`].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::new().unwrap();
    /// let job = runtime.spawn_blocking(|| "hi");
    /// assert_eq!(runtime.block_on(job).unwrap(), "hi");
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.handle().spawn_blocking(f)
    }
}

/// The pool's queue was full; the job (the closure) is handed back.
///
/// # Examples
///
/// ```
/// use ebbtide_std::blocking::try_spawn_blocking;
///
/// // One thread, room for one queued job.
/// let runtime = ebbtide_std::Runtime::builder()
///     .max_blocking_threads(1)
///     .blocking_queue_capacity(1)
///     .build()
///     .unwrap();
/// runtime.block_on(async {
///     let (tx, rx) = std::sync::mpsc::channel::<()>();
///     let (started_tx, started) = std::sync::mpsc::channel::<()>();
///     let busy = ebbtide_std::spawn_blocking(move || {
///         started_tx.send(()).unwrap();
///         rx.recv().unwrap()
///     });
///     started.recv().unwrap(); // the one thread is busy: jobs now wait in the queue
///     while try_spawn_blocking(|| ()).is_ok() {} // fill the queue
///     let full = try_spawn_blocking(|| 7).unwrap_err();
///     assert_eq!((full.into_inner())(), 7); // run it here instead
///     tx.send(()).unwrap();
///     busy.await.unwrap();
/// });
/// ```
pub struct QueueFull<F>(F);

impl<F> QueueFull<F> {
    /// The refused closure.
    ///
    /// # Examples
    ///
    /// See [`QueueFull`].
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for QueueFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<F> fmt::Display for QueueFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the blocking pool's queue is full: every thread is busy (raise \
             Builder::max_blocking_threads or Builder::blocking_queue_capacity)",
        )
    }
}

impl<F> std::error::Error for QueueFull<F> {}

/// The result of a [`spawn_blocking`] job, to await.
///
/// Awaiting yields `Ok(output)`, [`JoinError::Panic`] if the job panicked, or
/// [`JoinError::Cancelled`] if it was spawned after its runtime shut down. Dropping the handle
/// detaches the job: it still runs, and its output is dropped on the pool thread.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: the job goes on running, and its output waits for the next `await`
/// of the handle. Dropping the handle never stops the job (a thread cannot be interrupted).
///
/// # Panics
///
/// Polling the handle again after it returned its output panics, as for any finished future.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let job = ebbtide_std::spawn_blocking(|| std::fs::metadata("/").is_ok());
///     assert!(job.await.unwrap());
/// });
/// ```
pub struct BlockingHandle<T> {
    packet: Arc<dyn Output<T>>,
}

impl<T> BlockingHandle<T> {
    /// Whether the job finished (returned or panicked), or will never run.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let mut job = ebbtide_std::spawn_blocking(|| ());
    ///     (&mut job).await.unwrap();
    ///     assert!(job.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.packet.is_finished()
    }
}

impl<T> Future for BlockingHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.packet.poll_output(cx)
    }
}

impl<T> fmt::Debug for BlockingHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A job as the pool sees it: run it, or drop it unrun.
trait Job: Send + Sync {
    /// Runs the closure (catching a panic) and wakes the handle.
    fn run(&self);
    /// Drops the closure without running it and tells the handle: [`JoinError::Cancelled`]
    /// (shutdown), or [`JoinError::Panic`] carrying `failure` (no thread could be started).
    fn abandon(&self, failure: Option<String>);
}

/// A job as its handle sees it.
trait Output<T>: Send + Sync {
    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn is_finished(&self) -> bool;
}

/// Where a job is in its life: `Queued -> Running -> Done -> Taken`, or `Queued -> Cancelled`.
enum Stage<F, T> {
    Queued(F),
    Running,
    Done(Result<T, PanicPayload>),
    Cancelled,
    Taken,
}

/// One allocation per job: the closure, then its result, and the waker of the awaiting task.
struct Packet<F, T> {
    stage: Mutex<Stage<F, T>>,
    waker: AtomicWaker,
}

impl<F, T> Packet<F, T> {
    fn new(f: F) -> Self {
        Packet {
            stage: Mutex::new(Stage::Queued(f)),
            waker: AtomicWaker::new(),
        }
    }

    fn stage(&self) -> MutexGuard<'_, Stage<F, T>> {
        // A panic never happens while the lock is held (the closure runs outside it).
        self.stage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the closure back out of a job that never ran.
    fn take_job(&self) -> Option<F> {
        let mut stage = self.stage();
        match std::mem::replace(&mut *stage, Stage::Cancelled) {
            Stage::Queued(f) => Some(f),
            other => {
                *stage = other;
                None
            }
        }
    }
}

impl<F, T> Job for Packet<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(&self) {
        let f = {
            let mut stage = self.stage();
            match std::mem::replace(&mut *stage, Stage::Running) {
                Stage::Queued(f) => f,
                other => {
                    *stage = other;
                    return;
                }
            }
        };
        let result = catch_unwind(AssertUnwindSafe(f));
        *self.stage() = Stage::Done(result);
        self.waker.wake();
    }

    fn abandon(&self, failure: Option<String>) {
        // Drop the closure outside the lock: its drop may run arbitrary code.
        let job = self.take_job();
        drop(job);
        if let Some(message) = failure {
            *self.stage() = Stage::Done(Err(Box::new(message)));
        }
        self.waker.wake();
    }
}

impl<F, T> Output<T> for Packet<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        // Register first, then look: a job finishing in between wakes the new waker.
        self.waker.register(cx.waker());
        let mut stage = self.stage();
        match &*stage {
            Stage::Queued(_) | Stage::Running => Poll::Pending,
            Stage::Cancelled => Poll::Ready(Err(JoinError::Cancelled)),
            Stage::Taken => panic!("BlockingHandle polled after it returned its output"),
            Stage::Done(_) => match std::mem::replace(&mut *stage, Stage::Taken) {
                Stage::Done(Ok(output)) => Poll::Ready(Ok(output)),
                Stage::Done(Err(payload)) => Poll::Ready(Err(JoinError::Panic(payload))),
                _ => unreachable!(),
            },
        }
    }

    fn is_finished(&self) -> bool {
        !matches!(&*self.stage(), Stage::Queued(_) | Stage::Running)
    }
}

/// Whether [`Pool::submit`] may queue past the capacity.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Submit {
    Always,
    IfRoom,
}

/// A runtime's blocking pool (one per runtime, in its driver's shared part).
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    /// Idle threads wait here for a job (or for the shutdown).
    work: Condvar,
    max_threads: usize,
    queue_capacity: usize,
    keep_alive: Duration,
}

struct PoolState {
    queue: VecDeque<Arc<dyn Job>>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken by one (`notified <= idle`).
    notified: usize,
    shutdown: bool,
}

impl Pool {
    /// A pool of at most `max_threads` threads (at least 1) and a queue of `queue_capacity` jobs.
    pub(crate) fn new(max_threads: usize, queue_capacity: usize) -> Pool {
        Self::with_keep_alive(max_threads, queue_capacity, KEEP_ALIVE)
    }

    fn with_keep_alive(max_threads: usize, queue_capacity: usize, keep_alive: Duration) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                queue: VecDeque::with_capacity(queue_capacity),
                threads: 0,
                idle: 0,
                notified: 0,
                shutdown: false,
            }),
            work: Condvar::new(),
            max_threads: max_threads.max(1),
            queue_capacity,
            keep_alive,
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so it is never poisoned by them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` and makes sure a thread will take it; `false` if refused (queue full).
    fn submit(&'static self, job: Arc<dyn Job>, submit: Submit) -> bool {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            job.abandon(None);
            return true;
        }
        // A thread free to take it now, or one that can be started, or room in the queue. (Jobs
        // an idle thread was woken for but has not taken yet still count as queued.)
        let room = state.idle > state.notified
            || state.threads < self.max_threads
            || state.queue.len() < self.queue_capacity;
        if submit == Submit::IfRoom && !room {
            return false;
        }
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            self.work.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            let started = std::thread::Builder::new()
                .name("ebbtide-blocking".into())
                .spawn(move || self.work_loop());
            if let Err(e) = started {
                state.threads -= 1;
                if state.threads == 0 {
                    // Nobody would ever take the job: fail it now.
                    let job = state.queue.pop_back().expect("just queued");
                    drop(state);
                    job.abandon(Some(format!(
                        "ebbtide-std could not start a blocking pool thread: {e}"
                    )));
                }
            }
        }
        true
    }

    /// A pool thread: runs jobs until it was idle for the keep-alive, or the runtime shut down
    /// and the queue is empty.
    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job.run();
                drop(job);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let deadline = Instant::now() + self.keep_alive;
            let mut timed_out = false;
            loop {
                let now = Instant::now();
                if now >= deadline {
                    timed_out = true;
                    break;
                }
                state = self
                    .work
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                if state.notified > 0 {
                    state.notified -= 1;
                    break;
                }
                if state.shutdown {
                    break;
                }
            }
            state.idle -= 1;
            if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }

    /// The runtime is being dropped: idle threads exit now, busy ones once the queue is empty,
    /// and later jobs are cancelled.
    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.work.notify_all();
    }

    /// A new runtime reuses the pool after [`shutdown`](Pool::shutdown) (see
    /// `ebbtide_host::runtime`): jobs are taken again. Threads still busy with the old runtime's jobs
    /// stay and serve the new one; the thread count never passes `max_threads`.
    pub(crate) fn reopen(&self) {
        self.lock().shutdown = false;
    }

    /// Whether a job is queued or running.
    pub(crate) fn is_busy(&self) -> bool {
        let state = self.lock();
        !state.queue.is_empty() || state.threads > state.idle
    }

    /// Whether the pool was built by `Pool::new(max_threads, queue_capacity)`.
    pub(crate) fn has_capacities(&self, max_threads: usize, queue_capacity: usize) -> bool {
        self.max_threads == max_threads.max(1) && self.queue_capacity == queue_capacity
    }

    /// Threads alive (busy or idle).
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.lock().threads
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Pool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("max_threads", &self.max_threads)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(pool: Pool) -> &'static Pool {
        Box::leak(Box::new(pool))
    }

    fn wait_for(mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn idle_threads_exit_after_keep_alive() {
        let pool = leak(Pool::with_keep_alive(4, 8, Duration::from_millis(50)));
        let packet = Arc::new(Packet::new(|| 1));
        pool.submit(packet.clone(), Submit::Always);
        wait_for(|| Output::is_finished(&*packet));
        assert_eq!(pool.threads(), 1);
        wait_for(|| pool.threads() == 0);
    }

    #[test]
    fn threads_start_lazily_up_to_the_maximum() {
        let pool = leak(Pool::with_keep_alive(2, 8, Duration::from_secs(5)));
        assert_eq!(pool.threads(), 0);
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let packets: Vec<_> = (0..5)
            .map(|_| {
                let gate = gate.clone();
                let packet = Arc::new(Packet::new(move || {
                    let mut open = gate.0.lock().unwrap();
                    while !*open {
                        open = gate.1.wait(open).unwrap();
                    }
                }));
                pool.submit(packet.clone(), Submit::Always);
                packet
            })
            .collect();
        assert_eq!(pool.threads(), 2);
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        wait_for(|| packets.iter().all(|p| Output::is_finished(&**p)));
        pool.shutdown();
        wait_for(|| pool.threads() == 0);
    }

    #[test]
    fn jobs_after_shutdown_are_cancelled() {
        let pool = leak(Pool::new(1, 1));
        pool.shutdown();
        let packet = Arc::new(Packet::new(|| 1));
        pool.submit(packet.clone(), Submit::Always);
        assert!(Output::is_finished(&*packet));
        assert!(packet.take_job().is_none());
    }
}
