//! The workers of a runtime: one host runtime per worker thread.
//!
//! Worker 0 is the host runtime the caller's thread runs inside [`Runtime::block_on`]; workers
//! 1..n each run on a thread of their own (`ebbtide-worker-<i>`), in their host runtime's
//! `block_on` of a [`Stop`] future that ends when the [`Runtime`] drops. A [`Group`] lists every
//! worker's host handle; the std [`Handle`] of a runtime with more than one worker points at it.
//!
//! [`Runtime`]: super::Runtime
//! [`Runtime::block_on`]: super::Runtime::block_on
//! [`Handle`]: super::Handle

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Barrier};
use std::task::{Context, Poll};
use std::thread;

use atomic_waker::AtomicWaker;

use super::{Builder, StdDriver};

/// Every worker of a runtime with more than one. Leaked when the runtime is built (handles may
/// outlive it, and their host handles then refuse spawns with `SpawnError::Shutdown`).
pub(crate) struct Group {
    /// Each worker's host handle, worker 0 first.
    pub(crate) workers: Box<[ebbtide_host::Handle]>,
    /// The shutdown signal of each worker (worker 0's is unused: its thread is the caller's).
    stops: Box<[Stop]>,
    /// The next worker `Handle::spawn` places a task on (modulo the worker count).
    next: AtomicUsize,
    /// Whether idle workers steal tasks from the others (`Builder::work_stealing`).
    pub(crate) stealing: bool,
    /// Whether they also take busy workers' IO events (`Builder::steal_io_events`).
    steal_io_events: bool,
    /// Whether they also take the rest of a running batch (`Builder::steal_running_batch`).
    steal_running_batch: bool,
    /// Where the next steal starts looking (modulo the worker count), so that idle workers do
    /// not all pick on the same victim.
    steal_next: AtomicUsize,
    /// With stealing, how many workers are looking at the others' queues right now; at most
    /// [`Group::max_searching`] do at once (see [`Group::steal_hook`]).
    searching: AtomicUsize,
    /// With stealing, which workers went to wait in the OS after they found nothing to steal,
    /// and how many: a busy worker wakes one of them (see [`Group::busy_hook`]).
    idle: Box<[AtomicBool]>,
    idle_count: AtomicUsize,
    /// With stealing, the shutdown's meeting point of every worker (worker 0 in
    /// `Runtime::drop`): once when all stopped, once when the tasks are home (see
    /// [`Group::shut_down_stealing`]).
    barrier: Barrier,
}

impl Group {
    /// The worker the next task spawned from a `Handle` goes to: round-robin.
    pub(crate) fn next_worker(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len()
    }

    /// Tells workers 1..n to stop (their `block_on` returns, then their runtime drops).
    pub(crate) fn stop_threads(&self) {
        for stop in &self.stops[1..] {
            stop.stop();
        }
    }

    /// How many workers may look at the others' queues at once: half of them (at least one), as
    /// Tokio bounds its searching workers. When many workers go idle together, the rest skip
    /// the scan: with as many searchers looking, one more would mostly find the queues already
    /// emptied, and each look reads a cache line of every other worker.
    fn max_searching(&self) -> usize {
        (self.workers.len() / 2).max(1)
    }

    /// The work-stealing hook of worker `index`: before the worker waits in the OS, it takes
    /// about half of the ready `Send` tasks of the first other worker that has any, starting at a
    /// rotating worker (or, when none has, the tasks that a busy worker's unread IO events wake:
    /// see [`search`](Group::search)), unless [`max_searching`](Group::max_searching) workers are
    /// looking already. A worker that took nothing is marked idle, so that a busy worker hands it work
    /// after its next batch (see [`busy_hook`](Group::busy_hook)): a skipped scan loses no work.
    pub(crate) fn steal_hook(&'static self, index: usize) -> Box<dyn Fn() -> usize + Send + Sync> {
        Box::new(move || {
            let moved = self.search(index);
            if moved > 0 {
                return moved;
            }
            // Nothing to take: the worker waits, and a busy worker may wake it (a wake that finds
            // it awake costs it one more look, no more).
            if !self.idle[index].swap(true, Ordering::AcqRel) {
                self.idle_count.fetch_add(1, Ordering::AcqRel);
            }
            0
        })
    }

    /// Worker `index` takes tasks from the first other worker that has any (see
    /// [`steal_hook`](Group::steal_hook)); 0 when it took none or too many workers search, and
    /// at least 1 when it dispatched IO events (which may have queued its own tasks).
    ///
    /// When no run queue has any, it takes the IO events that wait in the pollers of up to
    /// [`HELP_LIMIT`] other workers that are not waiting in them (see `Reactor::help`): their
    /// tasks are woken onto their workers' queues, and it steals from the first such worker.
    fn search(&self, index: usize) -> usize {
        if self.searching.fetch_add(1, Ordering::AcqRel) >= self.max_searching() {
            self.searching.fetch_sub(1, Ordering::AcqRel);
            return 0;
        }
        let count = self.workers.len();
        let thief = &self.workers[index];
        let start = self.steal_next.fetch_add(1, Ordering::Relaxed);
        let others = (0..count)
            .map(|offset| (start + offset) % count)
            .filter(|&victim| victim != index);
        let mut moved = 0;
        for victim in others.clone() {
            // SAFETY: the workers are one group, and `Runtime::drop` runs `shut_down_stealing`
            // (every worker stopped, then every task sent home) before any worker's runtime
            // drops; this hook only runs inside a worker's `block_on`.
            moved = unsafe { self.steal(thief, &self.workers[victim]) };
            if moved > 0 {
                break;
            }
        }
        // Whether an event this worker dispatched may have woken one of its own tasks (one it
        // stole earlier, whose socket the other worker's epoll still holds). Such a task goes
        // to this worker's queue, and its wake calls no wake hook here (a worker's own thread
        // polls its queue before it waits): the worker must not wait then, but look again.
        let mut woke_here = false;
        if moved == 0 && self.steal_io_events {
            let mut helped = 0;
            for victim in others {
                let Some(driver) = self.workers[victim].driver::<super::DriverShared>() else {
                    continue;
                };
                if driver.reactor.is_waiting() {
                    continue;
                }
                if driver.reactor.help() > 0 {
                    woke_here = true;
                    // SAFETY: as above.
                    moved = unsafe { self.steal(thief, &self.workers[victim]) };
                    if moved > 0 {
                        break;
                    }
                }
                helped += 1;
                if helped == HELP_LIMIT {
                    break;
                }
            }
        }
        self.searching.fetch_sub(1, Ordering::AcqRel);
        // At least 1 after a dispatch: the caller then polls instead of waiting.
        moved.max(usize::from(woke_here))
    }

    /// The busy hook of worker `index` (after a batch that left more tasks ready, all of them in
    /// its queue now): hands about half of them to one idle worker, if any, which the push wakes.
    /// One relaxed load when no worker is idle.
    ///
    /// Why the busy worker also gives, when idle workers take: an idle worker that found
    /// nothing sleeps until something wakes it, and a busy worker's backlog can grow meanwhile
    /// without any wake of the idle one. Right after a batch, with tasks left, is the moment to
    /// hand them over.
    pub(crate) fn busy_hook(&'static self, index: usize) -> Box<dyn Fn() + Send + Sync> {
        Box::new(move || {
            if self.idle_count.load(Ordering::Relaxed) == 0 {
                return;
            }
            let count = self.workers.len();
            for offset in 1..count {
                let other = (index + offset) % count;
                if self.idle[other].swap(false, Ordering::AcqRel) {
                    self.idle_count.fetch_sub(1, Ordering::AcqRel);
                    // SAFETY: as in `steal_hook`: this hook only runs inside a worker's
                    // `block_on`, and the group's shutdown sends every task home first.
                    let moved = unsafe { self.steal(&self.workers[other], &self.workers[index]) };
                    if moved == 0 {
                        // The push of a moved task wakes it; otherwise it looks once more.
                        self.workers[other].unpark();
                    }
                    return;
                }
            }
        })
    }

    /// `thief` takes tasks from `victim`: queued ones, and the rest of its running batch if
    /// [`steal_running_batch`](Group::steal_running_batch).
    ///
    /// # Safety
    ///
    /// As for `ebbtide_host::Handle::steal_from`.
    unsafe fn steal(&self, thief: &ebbtide_host::Handle, victim: &ebbtide_host::Handle) -> usize {
        if self.steal_running_batch {
            // SAFETY: by our caller.
            unsafe { thief.steal_from(victim) }
        } else {
            // SAFETY: by our caller.
            unsafe { thief.steal_queued_from(victim) }
        }
    }

    /// The shutdown of a stealing group, on the thread dropping the runtime (worker 0's), after
    /// [`stop_threads`](Group::stop_threads): waits until every worker thread has left its
    /// `block_on` (so nobody polls or steals any worker's tasks), sends every moved task home,
    /// then lets the workers drop their runtimes (each cancelling its own tasks, on its thread).
    pub(crate) fn shut_down_stealing(&self) {
        self.barrier.wait();
        // SAFETY: every worker thread waits at the barrier, out of its `block_on`, and worker 0
        // runs no `block_on`: its thread is here, in `Runtime::drop`. No worker runtime has
        // dropped yet. The group lists every runtime that may hold the others' tasks.
        unsafe { ebbtide_host::runtime::send_home(&self.workers) };
        self.barrier.wait();
    }
}

/// How many other workers' pollers a searching worker reads at most before it waits (one system
/// call each): with many workers, a bound on what an idle worker spends looking (the rotating
/// start spreads the looks over every worker).
const HELP_LIMIT: usize = 2;

/// A worker thread's shutdown signal: set from the thread that drops the runtime.
struct Stop {
    stopped: AtomicBool,
    waker: AtomicWaker,
}

impl Stop {
    fn new() -> Stop {
        Stop {
            stopped: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        // The worker's root waker: its wake hook ends the worker's wait in the OS.
        self.waker.wake();
    }

    fn wait(&self) -> StopWait<'_> {
        StopWait { stop: self }
    }
}

struct StopWait<'a> {
    stop: &'a Stop,
}

impl Future for StopWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.stop.stopped.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.stop.waker.register(cx.waker());
        if self.stop.stopped.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

thread_local! {
    /// The group of the runtime this thread runs a worker of (or borrows, in `Handle::block_on`),
    /// `None` for a runtime of one worker.
    static GROUP: Cell<Option<&'static Group>> = const { Cell::new(None) };
    /// Which worker this thread runs, if any.
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The group of the runtime the current thread runs or borrows (`None` for one worker).
pub(crate) fn current_group() -> Option<&'static Group> {
    GROUP.with(Cell::get)
}

/// Which worker of its runtime the current thread runs: `Some(0)` inside
/// [`Runtime::block_on`](super::Runtime::block_on) (on any runtime, also one of one worker),
/// `Some(i)` on the thread of worker `i` (`ebbtide-worker-<i>`, in its tasks and their
/// destructors), `None` elsewhere (outside any runtime, and inside
/// [`Handle::block_on`](super::Handle::block_on), whose thread runs no worker).
///
/// # Examples
///
/// ```
/// use ebbtide_std::runtime::worker_index;
///
/// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
/// assert_eq!(worker_index(), None);
/// runtime.block_on(async {
///     assert_eq!(worker_index(), Some(0));
///     let on_one = runtime.handle().spawn_on(1, async { worker_index() }).unwrap();
///     assert_eq!(on_one.await.unwrap(), Some(1));
/// });
/// ```
pub fn worker_index() -> Option<usize> {
    WORKER.with(Cell::get)
}

/// Marks this thread as running worker `index` of `group` (or borrowing it, `index` `None`)
/// until the guard drops; the previous marks come back then.
pub(crate) fn enter(group: Option<&'static Group>, index: Option<usize>) -> WorkerGuard {
    let previous = (
        GROUP.with(|g| g.replace(group)),
        WORKER.with(|w| w.replace(index)),
    );
    WorkerGuard { previous }
}

pub(crate) struct WorkerGuard {
    previous: (Option<&'static Group>, Option<usize>),
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let (group, index) = self.previous;
        GROUP.with(|g| g.set(group));
        WORKER.with(|w| w.set(index));
    }
}

/// Workers 1..n of a runtime being built: their threads, started and their host runtimes built.
pub(crate) struct Started {
    pub(crate) threads: Vec<thread::JoinHandle<()>>,
    pub(crate) group: &'static Group,
}

/// Starts workers 1..n of `builder`'s runtime, each building its host runtime on its own thread;
/// `worker_0` is the caller's.
///
/// # Errors
///
/// The first worker whose host runtime could not be built, or whose thread could not start; the
/// workers already started are stopped and joined first.
pub(crate) fn start(builder: &Builder, worker_0: ebbtide_host::Handle) -> io::Result<Started> {
    let count = builder.worker_threads;
    let mut threads = Vec::with_capacity(count - 1);
    let mut readies = Vec::with_capacity(count - 1);
    let mut starts = Vec::with_capacity(count - 1);
    let mut error = None;
    for index in 1..count {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (start_tx, start_rx) = mpsc::channel();
        let builder = builder.clone();
        let spawned = thread::Builder::new()
            .name(format!("ebbtide-worker-{index}"))
            .spawn(move || run(index, &builder, &ready_tx, &start_rx));
        match spawned {
            Ok(thread) => {
                threads.push(thread);
                readies.push(ready_rx);
                starts.push(start_tx);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let mut workers = Vec::with_capacity(count);
    workers.push(worker_0);
    for ready in readies {
        match ready.recv() {
            Ok(Ok(handle)) => workers.push(handle),
            Ok(Err(e)) => {
                error.get_or_insert(e);
            }
            Err(_) => {
                error.get_or_insert_with(|| io::Error::other("an ebbtide worker thread died"));
            }
        }
    }
    if let Some(error) = error {
        // Dropping the senders tells each started worker to drop its runtime and exit.
        drop(starts);
        for thread in threads {
            let _ = thread.join();
        }
        return Err(error);
    }
    let group: &'static Group = Box::leak(Box::new(Group {
        workers: workers.into_boxed_slice(),
        stops: (0..count).map(|_| Stop::new()).collect(),
        next: AtomicUsize::new(0),
        stealing: builder.work_stealing,
        steal_io_events: builder.steal_io_events,
        steal_running_batch: builder.steal_running_batch,
        steal_next: AtomicUsize::new(0),
        searching: AtomicUsize::new(0),
        idle: (0..count).map(|_| AtomicBool::new(false)).collect(),
        idle_count: AtomicUsize::new(0),
        barrier: Barrier::new(count),
    }));
    keep(group);
    for start in starts {
        // A worker that is gone already shows in its `join`.
        let _ = start.send(group);
    }
    Ok(Started { threads, group })
}

/// Every group made so far. A group is leaked on purpose (a `Handle` may outlive its runtime and
/// must still find it); listing it here keeps it reachable, which tells leak checkers (the CI's
/// LeakSanitizer) that it is kept, not lost. A pointer per multi-worker runtime built.
static GROUPS: std::sync::Mutex<Vec<&'static Group>> = std::sync::Mutex::new(Vec::new());

fn keep(group: &'static Group) {
    GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(group);
}

/// A worker thread: builds its host runtime, reports it, then runs it until the runtime drops.
fn run(
    index: usize,
    builder: &Builder,
    ready: &mpsc::Sender<io::Result<ebbtide_host::Handle>>,
    start: &mpsc::Receiver<&'static Group>,
) {
    let mut runtime = match ebbtide_host::Runtime::<StdDriver>::new(&builder.tasks, &builder.driver)
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    runtime.set_one_of_several(true);
    if builder.start_paused {
        runtime.pause_clock();
    }
    if ready.send(Ok(runtime.handle())).is_err() {
        return;
    }
    let Ok(group) = start.recv() else {
        // Another worker failed: the runtime is not built after all.
        return;
    };
    if group.stealing {
        runtime.set_steal_hook(group.steal_hook(index));
        runtime.set_busy_hook(group.busy_hook(index));
    }
    // Marked until the host runtime is dropped (below, on this thread): its tasks' destructors
    // see their worker too.
    let _worker = enter(Some(group), Some(index));
    let ran = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(group.stops[index].wait())
    }));
    if group.stealing {
        // Every worker meets in `Group::shut_down_stealing` before any runtime drops, even one
        // whose loop failed: its tasks may be on other workers.
        group.barrier.wait();
        group.barrier.wait();
    }
    drop(runtime);
    match ran {
        Ok(ran) => ran.expect("the OS's wait for events failed on an ebbtide worker"),
        Err(panic) => resume_unwind(panic),
    }
}
