//! ebbtide-core's executor (static task pools, one `Runner` on this thread, no IO or time driver)
//! on the executor and channel workloads, as ebbtide-std builds it (`src/exec_core.rs` says how
//! `exec_ebbtide_bare` differs).
//!
//! Runtime `ebbtide`: channels with the default lock (`CriticalSectionRawMutex`, thread-safe: the
//! counterpart of Tokio's and smol's). Runtime `ebbtide-local`: the same workloads with
//! `LocalRawMutex` channels (single-executor: the counterpart of Embassy's `NoopRawMutex`).
//! The `owned_*` workloads (runtime `ebbtide`) use the owned, Tokio-style channels of
//! `ebbtide_std::sync` (`mpsc::channel()` and so on) on the same executor.

use ebbtide_bench::{harness, CHANNEL_WORKLOADS, EXECUTOR_WORKLOADS, OWNED_CHANNEL_WORKLOADS};

#[path = "../exec_core.rs"]
mod exec_core;

use exec_core::{Workloads, MID, ROOTS};

fn main() {
    let workloads = Workloads::new();
    harness::main(
        &[
            ("ebbtide", EXECUTOR_WORKLOADS),
            ("ebbtide-local", CHANNEL_WORKLOADS),
            ("ebbtide", OWNED_CHANNEL_WORKLOADS),
        ],
        |runtime, workload| match runtime {
            "ebbtide" if workload.starts_with("owned_") => owned::run(workloads.runner(), workload),
            "ebbtide" => workloads.run(workload, false),
            _ => workloads.run(workload, true),
        },
    );
}

/// The owned-channel workloads: `ebbtide_std::sync`'s Tokio-style channels, each made inside
/// the timed run.
mod owned {
    use std::hint::black_box;

    use ebbtide_bench::{sizes::*, time, Sample};
    use ebbtide_core::task::yield_now;
    use ebbtide_core::Runner;
    use ebbtide_std::sync::{broadcast, mpsc, oneshot};

    use super::{MID, ROOTS};

    pub fn run(runner: &Runner, w: &str) -> Sample {
        match w {
            "owned_mpsc_uncontended" => time(|| mpsc_uncontended(runner)),
            "owned_mpsc_contended" => time(|| mpsc_contended(runner)),
            "owned_unbounded" => time(|| unbounded(runner)),
            "owned_oneshot_ping_pong" => time(|| ping_pong(runner)),
            "owned_request_reply" => time(|| request_reply(runner)),
            "owned_broadcast" => time(|| broadcast(runner)),
            other => unreachable!("{other}"),
        }
    }

    fn mpsc_uncontended(runner: &Runner) {
        runner.run_until(
            async {
                let (tx, mut rx) = mpsc::channel::<usize>(UNCONTENDED);
                for i in 0..UNCONTENDED {
                    tx.send(i).await.unwrap();
                }
                for _ in 0..UNCONTENDED {
                    black_box(rx.recv().await.unwrap());
                }
            },
            || {},
        );
    }

    fn unbounded(runner: &Runner) {
        runner.run_until(
            async {
                let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
                for i in 0..UNCONTENDED {
                    tx.send(i).unwrap();
                }
                for _ in 0..UNCONTENDED {
                    black_box(rx.recv().await.unwrap());
                }
            },
            || {},
        );
    }

    fn mpsc_contended(runner: &Runner) {
        let spawner = runner.spawner();
        runner.run_until(
            async {
                let (tx, mut rx) = mpsc::channel::<usize>(CONTENDED_CAPACITY);
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    drop(
                        spawner
                            .spawn(&MID, async move {
                                for i in 0..PER_PRODUCER {
                                    tx.send(i).await.unwrap();
                                }
                            })
                            .unwrap(),
                    );
                }
                drop(tx);
                for _ in 0..PRODUCERS * PER_PRODUCER {
                    black_box(rx.recv().await.unwrap());
                }
            },
            || {},
        );
    }

    fn ping_pong(runner: &Runner) {
        let spawner = runner.spawner();
        let root = spawner
            .spawn(&ROOTS, async move {
                let mut handles = Vec::with_capacity(PING_PONG);
                for i in 0..PING_PONG {
                    handles.push(
                        spawner
                            .spawn(&MID, async move {
                                let (ping_tx, ping_rx) = oneshot::channel::<u32>();
                                let (pong_tx, pong_rx) = oneshot::channel::<u32>();
                                let child = spawner
                                    .spawn(&MID, async move {
                                        let value = ping_rx.await.unwrap();
                                        pong_tx.send(value + 1).unwrap();
                                    })
                                    .unwrap();
                                ping_tx.send(i as u32).unwrap();
                                let pong = pong_rx.await.unwrap();
                                child.await.unwrap();
                                pong
                            })
                            .unwrap(),
                    );
                }
                for h in handles {
                    black_box(h.await.unwrap());
                }
            })
            .unwrap();
        runner.run_until(root, || {}).unwrap();
    }

    fn request_reply(runner: &Runner) {
        let spawner = runner.spawner();
        runner.run_until(
            async {
                let (tx, mut rx) =
                    mpsc::channel::<(usize, oneshot::Sender<usize>)>(REQUEST_CAPACITY);
                let server = spawner
                    .spawn(&MID, async move {
                        while let Some((value, reply)) = rx.recv().await {
                            let _ = reply.send(value + 1);
                        }
                    })
                    .unwrap();
                for i in 0..ROUND_TRIPS {
                    let (reply_tx, reply_rx) = oneshot::channel();
                    tx.send((i, reply_tx)).await.unwrap();
                    black_box(reply_rx.await.unwrap());
                }
                drop(tx);
                server.await.unwrap();
            },
            || {},
        );
    }

    fn broadcast(runner: &Runner) {
        let spawner = runner.spawner();
        runner.run_until(
            async {
                let (tx, _) = broadcast::channel::<usize>(BROADCAST_CAPACITY);
                let receivers: Vec<_> = (0..BROADCAST_RECEIVERS)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        spawner
                            .spawn(&MID, async move {
                                let mut sum = 0;
                                while let Ok(i) = rx.recv().await {
                                    sum += i;
                                }
                                sum
                            })
                            .unwrap()
                    })
                    .collect();
                yield_now().await;
                for i in 0..BROADCAST_MESSAGES {
                    tx.send(i).unwrap();
                }
                drop(tx);
                for r in receivers {
                    black_box(r.await.unwrap());
                }
            },
            || {},
        );
    }
}
