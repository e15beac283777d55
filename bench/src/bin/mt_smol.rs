//! smol on the `mt_*` workloads: `smol-mt2`, one `async-executor` `Executor` run on 2 threads,
//! each in `async_io::block_on(executor.run(shutdown))` (the multi-threaded setup smol's docs
//! show, with plain std threads in place of `easy-parallel`). Every spawn goes to the executor's
//! global queue; each runner moves batches of it to a local queue and steals from the others.
//! async-channel's `bounded(1)` stands in for a oneshot.
//!
//! The benchmark's main thread is not a runner: it spawns onto the executor and blocks until the
//! tasks are done (see [`ebbtide_bench::mt`]).

use std::hint::black_box;
use std::sync::Arc;
use std::thread;

use async_channel::bounded;
use async_executor::Executor;
use ebbtide_bench::mt::{busy_work, time_cpu, Countdown};
use ebbtide_bench::{sizes::*, MT_WORKLOADS, PEER_WORKERS};
use futures_lite::future;

type Ex = &'static Executor<'static>;

fn main() {
    let ex: Ex = Box::leak(Box::new(Executor::new()));
    // Dropping the sender ends every runner's `run`.
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let runners: Vec<_> = (0..PEER_WORKERS)
        .map(|i| {
            let stopped = stopped.clone();
            thread::Builder::new()
                .name(format!("smol-runner-{i}"))
                .spawn(move || async_io::block_on(ex.run(stopped.recv())))
                .expect("runner thread")
        })
        .collect();
    ebbtide_bench::main(&[("smol-mt2", MT_WORKLOADS)], |_, workload| {
        time_cpu(|| run(ex, workload))
    });
    drop(stop);
    for runner in runners {
        let _ = runner.join();
    }
}

fn run(ex: Ex, workload: &str) {
    match workload {
        "mt_spawn_many_local" => spawn_many_local(ex),
        "mt_spawn_many_remote_idle" => spawn_many_remote_idle(ex),
        "mt_yield_many" => yield_many(ex),
        "mt_ping_pong" => ping_pong(ex),
        "mt_chained_spawn" => chained_spawn(ex),
        "mt_imbalanced" => imbalanced(ex),
        other => unreachable!("{other}"),
    }
}

/// A root task on a runner spawns 10,000 tasks; the last to run tells the main thread.
fn spawn_many_local(ex: Ex) {
    let (done, rx) = Countdown::new(MT_SPAWN);
    ex.spawn(async move {
        for _ in 0..MT_SPAWN {
            let done = Arc::clone(&done);
            ex.spawn(async move { done.count_down() }).detach();
        }
    })
    .detach();
    Countdown::wait(rx);
}

/// The main thread spawns 10,000 tasks into the idle executor, then awaits every handle.
fn spawn_many_remote_idle(ex: Ex) {
    let tasks: Vec<_> = (0..MT_SPAWN)
        .map(|i| ex.spawn(async move { black_box(i) }))
        .collect();
    let sum = future::block_on(async {
        let mut sum = 0;
        for t in tasks {
            sum += t.await;
        }
        sum
    });
    black_box(sum);
}

/// The main thread spawns 200 tasks that each yield 1,000 times.
fn yield_many(ex: Ex) {
    let (done, rx) = Countdown::new(MT_YIELD_TASKS);
    for _ in 0..MT_YIELD_TASKS {
        let done = Arc::clone(&done);
        ex.spawn(async move {
            for _ in 0..MT_YIELDS {
                future::yield_now().await;
            }
            done.count_down();
        })
        .detach();
    }
    Countdown::wait(rx);
}

/// A root task spawns 1,000 tasks, each spawning a child and trading two messages with it.
fn ping_pong(ex: Ex) {
    let (done, rx) = Countdown::new(MT_PING_PONG);
    ex.spawn(async move {
        for i in 0..MT_PING_PONG {
            let done = Arc::clone(&done);
            ex.spawn(async move {
                let (ping_tx, ping_rx) = bounded::<u32>(1);
                let (pong_tx, pong_rx) = bounded::<u32>(1);
                ex.spawn(async move {
                    let value = ping_rx.recv().await.unwrap();
                    pong_tx.send(value + 1).await.unwrap();
                })
                .detach();
                ping_tx.send(i as u32).await.unwrap();
                black_box(pong_rx.recv().await.unwrap());
                done.count_down();
            })
            .detach();
        }
    })
    .detach();
    Countdown::wait(rx);
}

fn chain(ex: Ex, n: usize, done: Arc<Countdown>) {
    if n == 0 {
        done.count_down();
    } else {
        ex.spawn(async move { chain(ex, n - 1, done) }).detach();
    }
}

/// A root task starts a chain of 1,000 tasks, each spawning the next.
fn chained_spawn(ex: Ex) {
    let (done, rx) = Countdown::new(1);
    ex.spawn(async move { chain(ex, MT_CHAIN, done) }).detach();
    Countdown::wait(rx);
}

/// A root task spawns 200 tasks, each 20 rounds of busy work and a yield.
fn imbalanced(ex: Ex) {
    let (done, rx) = Countdown::new(IMBALANCED_TASKS);
    ex.spawn(async move {
        for _ in 0..IMBALANCED_TASKS {
            let done = Arc::clone(&done);
            ex.spawn(async move {
                for _ in 0..IMBALANCED_ROUNDS {
                    busy_work(BUSY_STEPS);
                    future::yield_now().await;
                }
                done.count_down();
            })
            .detach();
        }
    })
    .detach();
    Countdown::wait(rx);
}
