//! Tokio's multi-thread runtime on the `mt_*` workloads: `tokio-mt2`,
//! `new_multi_thread().worker_threads(2)` with IO and time enabled (as in Tokio's own
//! `rt_multi_threaded` benchmark). Work stealing, a LIFO slot and a global inject queue: a task
//! spawned from a worker goes to that worker's local queue, one spawned from outside to the
//! inject queue.
//!
//! The benchmark's main thread is not a worker: it spawns through the runtime and blocks until
//! the tasks are done (see [`ebbtide_bench::mt`]).

use std::hint::black_box;
use std::sync::Arc;

use ebbtide_bench::mt::{busy_work, time_cpu, Countdown};
use ebbtide_bench::{sizes::*, MT_WORKLOADS, PEER_WORKERS};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::oneshot;

fn main() {
    let rt = Builder::new_multi_thread()
        .worker_threads(PEER_WORKERS)
        .enable_all()
        .build()
        .expect("runtime");
    ebbtide_bench::main(&[("tokio-mt2", MT_WORKLOADS)], |_, workload| {
        time_cpu(|| run(&rt, workload))
    });
}

fn run(rt: &Runtime, workload: &str) {
    match workload {
        "mt_spawn_many_local" => spawn_many_local(rt),
        "mt_spawn_many_remote_idle" => spawn_many_remote_idle(rt),
        "mt_yield_many" => yield_many(rt),
        "mt_ping_pong" => ping_pong(rt),
        "mt_chained_spawn" => chained_spawn(rt),
        "mt_imbalanced" => imbalanced(rt),
        other => unreachable!("{other}"),
    }
}

/// A root task on a worker spawns 10,000 tasks; the last to run tells the main thread.
fn spawn_many_local(rt: &Runtime) {
    let (done, rx) = Countdown::new(MT_SPAWN);
    rt.spawn(async move {
        for _ in 0..MT_SPAWN {
            let done = Arc::clone(&done);
            tokio::spawn(async move { done.count_down() });
        }
    });
    Countdown::wait(rx);
}

/// The main thread spawns 10,000 tasks into the idle runtime, then awaits every handle.
fn spawn_many_remote_idle(rt: &Runtime) {
    let handles: Vec<_> = (0..MT_SPAWN)
        .map(|i| rt.spawn(async move { black_box(i) }))
        .collect();
    let sum = rt.block_on(async {
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    black_box(sum);
}

/// The main thread spawns 200 tasks that each yield 1,000 times.
fn yield_many(rt: &Runtime) {
    let (done, rx) = Countdown::new(MT_YIELD_TASKS);
    for _ in 0..MT_YIELD_TASKS {
        let done = Arc::clone(&done);
        rt.spawn(async move {
            for _ in 0..MT_YIELDS {
                tokio::task::yield_now().await;
            }
            done.count_down();
        });
    }
    Countdown::wait(rx);
}

/// A root task spawns 1,000 tasks, each spawning a child and trading two oneshots with it.
fn ping_pong(rt: &Runtime) {
    let (done, rx) = Countdown::new(MT_PING_PONG);
    rt.spawn(async move {
        for i in 0..MT_PING_PONG {
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<u32>();
                let (pong_tx, pong_rx) = oneshot::channel::<u32>();
                tokio::spawn(async move {
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
        tokio::spawn(async move { chain(n - 1, done) });
    }
}

/// A root task starts a chain of 1,000 tasks, each spawning the next.
fn chained_spawn(rt: &Runtime) {
    let (done, rx) = Countdown::new(1);
    rt.spawn(async move { chain(MT_CHAIN, done) });
    Countdown::wait(rx);
}

/// A root task spawns 200 tasks (all on its worker), each 20 rounds of busy work and a yield.
fn imbalanced(rt: &Runtime) {
    let (done, rx) = Countdown::new(IMBALANCED_TASKS);
    rt.spawn(async move {
        for _ in 0..IMBALANCED_TASKS {
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                for _ in 0..IMBALANCED_ROUNDS {
                    busy_work(BUSY_STEPS);
                    tokio::task::yield_now().await;
                }
                done.count_down();
            });
        }
    });
    Countdown::wait(rx);
}
