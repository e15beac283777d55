//! embassy-executor 0.10 (`platform-std`, `executor-thread`) with embassy-sync 0.8 on the executor
//! and channel workloads.
//!
//! Runtime `embassy`: every channel and signal with `NoopRawMutex` (single-executor: the
//! counterpart of ebbtide's `LocalRawMutex`). Runtime `embassy-cs`: the channel workloads with
//! `CriticalSectionRawMutex` (thread-safe: the counterpart of ebbtide's default).
//!
//! Embassy tasks return `()` and have no join handle: a result goes back through a channel, and a
//! `Signal` stands in for a oneshot. Each `#[task]` has a static pool of `pool_size` slots, and a
//! spawn scans its pool from the start for a free slot. A run ends when the root task raises
//! `FINISHED` (`Executor::run_until`); a fresh `Executor` is leaked per run (it is `&'static mut`).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

use ebbtide_bench::{sizes::*, time, CHANNEL_WORKLOADS, EXECUTOR_WORKLOADS};
use embassy_executor::{Executor, Spawner};
use embassy_sync::blocking_mutex::raw::{CriticalSectionRawMutex, NoopRawMutex};
use embassy_sync::channel::Channel;
use embassy_sync::signal::Signal;
use futures_lite::future::yield_now;

static FINISHED: AtomicBool = AtomicBool::new(false);

macro_rules! variant {
    ($name:ident, $mutex:ty) => {
        mod $name {
            use super::*;
            type M = $mutex;

            pub struct State {
                results: Channel<M, usize, SPAWN_LARGE>,
                pings: Vec<Signal<M, u32>>,
                pongs: Vec<Signal<M, u32>>,
                done: Signal<M, ()>,
                uncontended: Channel<M, usize, UNCONTENDED>,
                contended: Channel<M, usize, CONTENDED_CAPACITY>,
                requests: Channel<M, (usize, &'static Signal<M, usize>), REQUEST_CAPACITY>,
                reply: Signal<M, usize>,
            }

            pub fn state() -> &'static State {
                Box::leak(Box::new(State {
                    results: Channel::new(),
                    pings: (0..PING_PONG).map(|_| Signal::new()).collect(),
                    pongs: (0..PING_PONG).map(|_| Signal::new()).collect(),
                    done: Signal::new(),
                    uncontended: Channel::new(),
                    contended: Channel::new(),
                    requests: Channel::new(),
                    reply: Signal::new(),
                }))
            }

            pub fn run(s: &'static State, workload: &'static str) {
                let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
                FINISHED.store(false, Ordering::Relaxed);
                executor.run_until(
                    |spawner| spawner.spawn(root(spawner, s, workload).unwrap()),
                    || FINISHED.load(Ordering::Relaxed),
                );
            }

            #[embassy_executor::task(pool_size = 2)]
            async fn root(spawner: Spawner, s: &'static State, workload: &'static str) {
                match workload {
                    "spawn_many_1000" => spawn_many(spawner, s, SPAWN_SMALL).await,
                    "spawn_many_10000" => spawn_many(spawner, s, SPAWN_LARGE).await,
                    "yield_many" => {
                        for _ in 0..YIELD_TASKS {
                            spawner.spawn(yielder(s).unwrap());
                        }
                        for _ in 0..YIELD_TASKS {
                            s.results.receive().await;
                        }
                    }
                    "ping_pong" => {
                        for i in 0..PING_PONG {
                            spawner.spawn(pinger(spawner, s, i).unwrap());
                        }
                        for _ in 0..PING_PONG {
                            black_box(s.results.receive().await);
                        }
                    }
                    "chained_spawn" => {
                        spawner.spawn(link(spawner, s, CHAIN).unwrap());
                        s.done.wait().await;
                    }
                    // Embassy has no single-producer channel: its `Channel` with one sender.
                    "mpsc_uncontended" | "spsc_uncontended" => {
                        for i in 0..UNCONTENDED {
                            s.uncontended.send(i).await;
                        }
                        for _ in 0..UNCONTENDED {
                            black_box(s.uncontended.receive().await);
                        }
                    }
                    "mpsc_contended" => {
                        for _ in 0..PRODUCERS {
                            spawner.spawn(producer(s).unwrap());
                        }
                        for _ in 0..PRODUCERS * PER_PRODUCER {
                            black_box(s.contended.receive().await);
                        }
                    }
                    "request_reply" => {
                        spawner.spawn(server(s).unwrap());
                        for i in 0..ROUND_TRIPS {
                            s.requests.send((i, &s.reply)).await;
                            black_box(s.reply.wait().await);
                        }
                        // Stops the server.
                        s.requests.send((usize::MAX, &s.reply)).await;
                        s.reply.wait().await;
                    }
                    other => unreachable!("{other}"),
                }
                FINISHED.store(true, Ordering::Relaxed);
            }

            async fn spawn_many(spawner: Spawner, s: &'static State, n: usize) {
                for i in 0..n {
                    spawner.spawn(empty(s, i).unwrap());
                }
                let mut sum = 0;
                for _ in 0..n {
                    sum += s.results.receive().await;
                }
                black_box(sum);
            }

            #[embassy_executor::task(pool_size = 10_000)]
            async fn empty(s: &'static State, i: usize) {
                s.results.send(black_box(i)).await;
            }

            #[embassy_executor::task(pool_size = 200)]
            async fn yielder(s: &'static State) {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
                s.results.send(0).await;
            }

            #[embassy_executor::task(pool_size = 1_000)]
            async fn pinger(spawner: Spawner, s: &'static State, i: usize) {
                spawner.spawn(ponger(&s.pings[i], &s.pongs[i]).unwrap());
                s.pings[i].signal(i as u32);
                let pong = s.pongs[i].wait().await;
                s.results.send(pong as usize).await;
            }

            #[embassy_executor::task(pool_size = 1_000)]
            async fn ponger(ping: &'static Signal<M, u32>, pong: &'static Signal<M, u32>) {
                let value = ping.wait().await;
                pong.signal(value + 1);
            }

            #[embassy_executor::task(pool_size = 4)]
            async fn link(spawner: Spawner, s: &'static State, n: usize) {
                if n == 0 {
                    s.done.signal(());
                } else {
                    spawner.spawn(link(spawner, s, n - 1).unwrap());
                }
            }

            #[embassy_executor::task(pool_size = 5)]
            async fn producer(s: &'static State) {
                for i in 0..PER_PRODUCER {
                    s.contended.send(i).await;
                }
            }

            #[embassy_executor::task(pool_size = 1)]
            async fn server(s: &'static State) {
                loop {
                    let (value, reply) = s.requests.receive().await;
                    reply.signal(value.wrapping_add(1));
                    if value == usize::MAX {
                        break;
                    }
                }
            }
        }
    };
}

variant!(noop, NoopRawMutex);
variant!(cs, CriticalSectionRawMutex);

fn main() {
    let noop_state = noop::state();
    let cs_state = cs::state();
    ebbtide_bench::main(
        &[
            ("embassy", EXECUTOR_WORKLOADS),
            ("embassy-cs", CHANNEL_WORKLOADS),
        ],
        |runtime, workload| {
            // The task macro wants `'static` arguments: the workload names are few and fixed.
            let workload: &'static str = EXECUTOR_WORKLOADS
                .iter()
                .find(|w| **w == workload)
                .expect("a known workload");
            if runtime == "embassy" {
                time(|| noop::run(noop_state, workload))
            } else {
                time(|| cs::run(cs_state, workload))
            }
        },
    );
}
