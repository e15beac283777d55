//! ebbtide-std on the `mt_*` workloads, against the peers' 2-worker runtimes (`mt_tokio`,
//! `mt_smol`).
//!
//! Measured: `ebbtide-2w`, `ebbtide_std::Runtime` with two workers (`worker_threads(2)`:
//! thread-per-core, tasks placed round-robin from outside and kept on their worker from inside),
//! `ebbtide-2w-steal`, the same with `Builder::work_stealing(true)`, and `ebbtide-1w`, one worker (one thread runs every task), the scaling
//! baseline. Worker 0 runs on a thread started here, inside `Runtime::block_on`. The runtime variants this binary runs are
//! [`VARIANTS`], (runtime name, worker threads), and [`start`] is the one place that builds a
//! runtime for a worker count.
//!
//! As with the peers, the benchmark's main thread is not a worker: it spawns through a
//! [`Handle`] (the root task, or every task for `mt_spawn_many_remote_idle` and `mt_yield_many`)
//! and blocks until the tasks are done (see [`ebbtide_bench::mt`]). Tasks spawn with
//! [`ebbtide_std::spawn`], which keeps a task spawned from a worker on that worker; yields are
//! [`ebbtide_std::task::yield_now`]; oneshots are `ebbtide_std::sync::oneshot` (owned, like
//! Tokio's).

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::thread;

use ebbtide_bench::mt::{busy_work, time_cpu, Countdown};
use ebbtide_bench::{sizes::*, MT_WORKLOADS};
use ebbtide_std::sync::oneshot;
use ebbtide_std::task::yield_now;
use ebbtide_std::{Handle, Runtime};

/// The ebbtide runtime variants measured on the `mt_*` workloads: (runtime name, worker
/// threads, work stealing). Two workers (thread-per-core) without and with work stealing
/// (`Builder::work_stealing`, on by default), beside the 1-worker baseline.
const VARIANTS: &[(&str, usize, bool)] = &[
    ("ebbtide-1w", 1, false),
    ("ebbtide-2w", 2, false),
    ("ebbtide-2w-steal", 2, true),
];

fn main() {
    let matrix: Vec<(&str, &[&str])> = VARIANTS
        .iter()
        .map(|(name, _, _)| (*name, MT_WORKLOADS))
        .collect();
    // Built on the first run: a process runs one variant.
    let mut running: Option<Running> = None;
    ebbtide_bench::main(&matrix, |runtime, workload| {
        let (workers, stealing) = VARIANTS
            .iter()
            .find(|(name, _, _)| *name == runtime)
            .map(|(_, workers, stealing)| (*workers, *stealing))
            .expect("a variant of VARIANTS");
        let handle = running
            .get_or_insert_with(|| start(workers, stealing))
            .handle;
        time_cpu(|| run(handle, workload))
    });
    if let Some(running) = running {
        running.stop();
    }
}

/// A runtime running on worker threads of its own, and how to stop it.
struct Running {
    handle: Handle,
    stop: oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl Running {
    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("the worker thread panicked");
    }
}

/// Starts a runtime with `workers` worker threads, stealing work between them if `stealing`.
///
/// One thread, started here, runs worker 0 inside `Runtime::block_on` until
/// [`Running::stop`]; the runtime starts workers 1.. on threads of its own.
fn start(workers: usize, stealing: bool) -> Running {
    // Room for every task of the largest workload up front, on every worker (it would grow in
    // the warm-up run).
    let runtime = Runtime::builder()
        .worker_threads(workers)
        .work_stealing(stealing)
        .task_slots([MT_SPAWN + 1_024, 1_024, 64, 16])
        .build()
        .expect("runtime");
    let handle = runtime.handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = thread::Builder::new()
        .name("ebbtide-worker-0".into())
        .spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })
        .expect("worker thread");
    Running {
        handle,
        stop,
        thread,
    }
}

fn run(handle: Handle, workload: &str) {
    match workload {
        "mt_spawn_many_local" => spawn_many_local(handle),
        "mt_spawn_many_remote_idle" => spawn_many_remote_idle(handle),
        "mt_yield_many" => yield_many(handle),
        "mt_ping_pong" => ping_pong(handle),
        "mt_chained_spawn" => chained_spawn(handle),
        "mt_imbalanced" => imbalanced(handle),
        other => unreachable!("{other}"),
    }
}

/// Spawns a detached task from a task (on its worker).
fn spawn<F>(future: F)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    drop(ebbtide_std::spawn(future).expect("spawn"));
}

/// Spawns a detached task from outside the runtime, through its handle.
fn spawn_remote<F>(handle: Handle, future: F)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    drop(handle.spawn(future).expect("spawn"));
}

/// A root task on a worker spawns 10,000 tasks; the last to run tells the main thread.
fn spawn_many_local(handle: Handle) {
    let (done, rx) = Countdown::new(MT_SPAWN);
    spawn_remote(handle, async move {
        for _ in 0..MT_SPAWN {
            let done = Arc::clone(&done);
            spawn(async move { done.count_down() });
        }
    });
    Countdown::wait(rx);
}

/// The main thread spawns 10,000 tasks into the idle runtime, then awaits every handle.
fn spawn_many_remote_idle(handle: Handle) {
    let tasks: Vec<_> = (0..MT_SPAWN)
        .map(|i| handle.spawn(async move { black_box(i) }).expect("spawn"))
        .collect();
    let sum = handle.block_on(async {
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    black_box(sum);
}

/// The main thread spawns 200 tasks that each yield 1,000 times.
fn yield_many(handle: Handle) {
    let (done, rx) = Countdown::new(MT_YIELD_TASKS);
    for _ in 0..MT_YIELD_TASKS {
        let done = Arc::clone(&done);
        spawn_remote(handle, async move {
            for _ in 0..MT_YIELDS {
                yield_now().await;
            }
            done.count_down();
        });
    }
    Countdown::wait(rx);
}

/// A root task spawns 1,000 tasks, each spawning a child and trading two oneshots with it.
fn ping_pong(handle: Handle) {
    let (done, rx) = Countdown::new(MT_PING_PONG);
    spawn_remote(handle, async move {
        for i in 0..MT_PING_PONG {
            let done = Arc::clone(&done);
            spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<u32>();
                let (pong_tx, pong_rx) = oneshot::channel::<u32>();
                spawn(async move {
                    let value = ping_rx.await.unwrap();
                    pong_tx.send(value + 1).unwrap();
                });
                ping_tx.send(i as u32).unwrap();
                black_box(pong_rx.await.unwrap());
                done.count_down();
            });
        }
    });
    Countdown::wait(rx);
}

fn chain(n: usize, done: Arc<Countdown>) {
    if n == 0 {
        done.count_down();
    } else {
        spawn(async move { chain(n - 1, done) });
    }
}

/// A root task starts a chain of 1,000 tasks, each spawning the next.
fn chained_spawn(handle: Handle) {
    let (done, rx) = Countdown::new(1);
    spawn_remote(handle, async move { chain(MT_CHAIN, done) });
    Countdown::wait(rx);
}

/// A root task spawns 200 tasks (all on its worker), each 20 rounds of busy work and a yield.
fn imbalanced(handle: Handle) {
    let (done, rx) = Countdown::new(IMBALANCED_TASKS);
    spawn_remote(handle, async move {
        for _ in 0..IMBALANCED_TASKS {
            let done = Arc::clone(&done);
            spawn(async move {
                for _ in 0..IMBALANCED_ROUNDS {
                    busy_work(BUSY_STEPS);
                    yield_now().await;
                }
                done.count_down();
            });
        }
    });
    Countdown::wait(rx);
}
