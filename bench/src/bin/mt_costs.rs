//! The unit costs of ebbtide-std's multi-worker paths, for `SCALING.md`: what one cross-worker
//! operation costs next to the same operation on one worker.
//!
//! ```text
//! cargo run --release -p ebbtide-bench --bin mt_costs [ROUNDS]
//! ```
//!
//! Each line runs one operation `ROUNDS` times (100,000 by default) on a runtime of two workers
//! and prints, per operation, the wall time and the CPU time of the whole process
//! (`getrusage`, every thread, spinning or parked); the median of 5 runs:
//!
//! - `wake, same worker`: two tasks on worker 0 take turns through two [`Notify`]s; one
//!   operation is one wake and the poll it leads to.
//! - `wake, other worker`: the same, one task on each worker. The woken worker is parked in
//!   the OS each time (its partner is waiting too), so the operation includes the eventfd write
//!   that ends its `epoll_wait`: the worst case of a cross-worker wake.
//! - `spawn+run, same worker`: a task on worker 0 spawns `ROUNDS` empty tasks there and awaits
//!   the last.
//! - `spawn+run, other worker`: the same tasks go to worker 1 (`Handle::spawn_on`).
//! - `private Notify, 1 worker` / `2 workers at once`: a task takes a permit it stored itself
//!   from a `Notify` of its own (`notify_one`, then `notified().await`, which is ready): two
//!   lock round trips per operation on a lock nobody else uses. With both workers doing it at
//!   once, the line shows what the lock of core's primitives shares between them: their default
//!   `CriticalSectionRawMutex` is, on std, one process-wide lock.
//! - `thread wake (floor)`: no runtime: two threads take turns through `thread::park` and
//!   `unpark` (a futex each way), what waking a sleeping thread costs on this machine at least.
//!
//! The machine decides the absolute numbers (cores shared with other work make them noisy); the
//! ratio between the two lines of a pair is the cost of crossing workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ebbtide_bench::net::process_cpu_ns;
use ebbtide_std::sync::Notify;
use ebbtide_std::{Handle, Runtime};

/// Runs of each measurement; the median is printed.
const RUNS: usize = 5;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("ROUNDS is a whole number"))
        .unwrap_or(100_000);
    let runtime = Runtime::builder()
        .worker_threads(2)
        .task_slots([rounds + 1_024, 64, 16, 4])
        .build()
        .expect("runtime");
    let handle = runtime.handle();
    println!("{rounds} rounds, 2 workers, median of {RUNS} runs");
    println!(
        "{:<26} {:>10} {:>10}",
        "operation", "wall ns/op", "cpu ns/op"
    );
    runtime.block_on(async {
        for (name, worker) in [("wake, same worker", 0), ("wake, other worker", 1)] {
            let mut samples = Vec::new();
            for _ in 0..RUNS {
                samples.push(ping_pong(&handle, worker, rounds).await);
            }
            report(name, samples, 2 * rounds);
        }
        for (name, worker) in [
            ("spawn+run, same worker", 0),
            ("spawn+run, other worker", 1),
        ] {
            let mut samples = Vec::new();
            for _ in 0..RUNS {
                samples.push(spawn_many(&handle, worker, rounds).await);
            }
            report(name, samples, rounds);
        }
        for (name, workers) in [
            ("private Notify, 1 worker", 1),
            ("private Notify, 2 at once", 2),
        ] {
            let mut samples = Vec::new();
            for _ in 0..RUNS {
                samples.push(private_notify(&handle, workers, rounds).await);
            }
            report(name, samples, rounds);
        }
    });
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        samples.push(thread_ping_pong(rounds));
    }
    report("thread wake (floor)", samples, 2 * rounds);
}

/// `rounds` round trips between two threads through `park`/`unpark`.
fn thread_ping_pong(rounds: usize) -> Sample {
    use std::sync::atomic::AtomicBool;
    // Each side's flag: set by the other to hand it the turn.
    let turns = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let main = std::thread::current();
    let partner = {
        let turns = Arc::clone(&turns);
        std::thread::spawn(move || {
            for _ in 0..rounds {
                while !turns[1].swap(false, Ordering::Acquire) {
                    std::thread::park();
                }
                turns[0].store(true, Ordering::Release);
                main.unpark();
            }
        })
    };
    let cpu = process_cpu_ns();
    let start = Instant::now();
    for _ in 0..rounds {
        turns[1].store(true, Ordering::Release);
        partner.thread().unpark();
        while !turns[0].swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
    let sample = (
        start.elapsed().as_nanos() as u64,
        process_cpu_ns().saturating_sub(cpu),
    );
    partner.join().expect("the partner thread");
    sample
}

/// Wall and CPU nanoseconds of one run.
type Sample = (u64, u64);

/// Times `f`'s future: wall and process CPU nanoseconds.
async fn timed<F: std::future::Future<Output = ()>>(f: F) -> Sample {
    let cpu = process_cpu_ns();
    let start = Instant::now();
    f.await;
    let wall = start.elapsed().as_nanos() as u64;
    (wall, process_cpu_ns().saturating_sub(cpu))
}

/// `rounds` round trips between this task (on worker 0) and a partner on `worker`.
async fn ping_pong(handle: &Handle, worker: usize, rounds: usize) -> Sample {
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let partner = {
        let (ping, pong) = (Arc::clone(&ping), Arc::clone(&pong));
        handle
            .spawn_on(worker, async move {
                for _ in 0..rounds {
                    ping.notified().await;
                    pong.notify_one();
                }
            })
            .expect("spawn the partner")
    };
    let sample = timed(async {
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
    })
    .await;
    partner.await.expect("the partner");
    sample
}

/// `rounds` empty tasks spawned from here onto `worker`; done when the last has run.
async fn spawn_many(handle: &Handle, worker: usize, rounds: usize) -> Sample {
    let left = Arc::new(AtomicUsize::new(rounds));
    let done = Arc::new(Notify::new());
    timed(async {
        for _ in 0..rounds {
            let (left, done) = (Arc::clone(&left), Arc::clone(&done));
            let task = async move {
                if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                    done.notify_one();
                }
            };
            // Detached: the handle is dropped.
            drop(handle.spawn_on(worker, task).expect("spawn"));
        }
        done.notified().await;
    })
    .await
}

/// On each of `workers` workers at once, a task stores and takes a `Notify` permit `rounds`
/// times on a `Notify` of its own.
async fn private_notify(handle: &Handle, workers: usize, rounds: usize) -> Sample {
    timed(async {
        let tasks: Vec<_> = (0..workers)
            .map(|worker| {
                handle
                    .spawn_on(worker, async move {
                        let notify = Notify::new();
                        for _ in 0..rounds {
                            notify.notify_one();
                            notify.notified().await;
                        }
                    })
                    .expect("spawn")
            })
            .collect();
        for task in tasks {
            task.await.expect("a notify task");
        }
    })
    .await
}

fn report(name: &str, mut samples: Vec<Sample>, ops: usize) {
    let median = |values: &mut Vec<u64>| {
        values.sort_unstable();
        values[values.len() / 2] as f64 / ops as f64
    };
    let mut walls: Vec<u64> = samples.iter().map(|s| s.0).collect();
    let mut cpus: Vec<u64> = samples.drain(..).map(|s| s.1).collect();
    println!(
        "{name:<26} {:>10.0} {:>10.0}",
        median(&mut walls),
        median(&mut cpus)
    );
}
