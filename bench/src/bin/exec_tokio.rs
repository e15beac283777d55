//! Tokio on the executor and channel workloads: `tokio-ct` (current_thread runtime) and `tokio-mt1`
//! (multi_thread runtime with one worker; the root future runs on the main thread, the tasks on the
//! worker, so every wake of the root crosses threads).

use std::hint::black_box;

use ebbtide_bench::{sizes::*, time, EXECUTOR_WORKLOADS, OWNED_CHANNEL_WORKLOADS};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{broadcast, mpsc, oneshot};

fn main() {
    let ct = Builder::new_current_thread().build().unwrap();
    let mt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    ebbtide_bench::main(
        &[
            ("tokio-ct", EXECUTOR_WORKLOADS),
            ("tokio-mt1", EXECUTOR_WORKLOADS),
            ("tokio-ct", OWNED_CHANNEL_WORKLOADS),
            ("tokio-mt1", OWNED_CHANNEL_WORKLOADS),
        ],
        |runtime, workload| {
            let rt = if runtime == "tokio-ct" { &ct } else { &mt };
            time(|| run(rt, workload))
        },
    );
}

fn run(rt: &Runtime, workload: &str) {
    match workload {
        "spawn_many_1000" => spawn_many(rt, SPAWN_SMALL),
        "spawn_many_10000" => spawn_many(rt, SPAWN_LARGE),
        "yield_many" => yield_many(rt),
        "ping_pong" => ping_pong(rt),
        "chained_spawn" => chained_spawn(rt),
        // Tokio has no single-producer channel: its mpsc with one sender.
        "mpsc_uncontended" | "spsc_uncontended" => mpsc_uncontended(rt),
        "mpsc_contended" => mpsc_contended(rt),
        "request_reply" => request_reply(rt),
        // Tokio's channels are owned already: the same code.
        "owned_mpsc_uncontended" => mpsc_uncontended(rt),
        "owned_mpsc_contended" => mpsc_contended(rt),
        "owned_unbounded" => unbounded(rt),
        "owned_oneshot_ping_pong" => ping_pong(rt),
        "owned_request_reply" => request_reply(rt),
        "owned_broadcast" => broadcast(rt),
        other => unreachable!("{other}"),
    }
}

fn spawn_many(rt: &Runtime, n: usize) {
    rt.block_on(async move {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            handles.push(tokio::spawn(async move { black_box(i) }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        black_box(sum)
    });
}

fn yield_many(rt: &Runtime) {
    rt.block_on(async {
        let mut handles = Vec::with_capacity(YIELD_TASKS);
        for _ in 0..YIELD_TASKS {
            handles.push(tokio::spawn(async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn ping_pong(rt: &Runtime) {
    rt.block_on(async {
        let mut handles = Vec::with_capacity(PING_PONG);
        for i in 0..PING_PONG {
            handles.push(tokio::spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<u32>();
                let (pong_tx, pong_rx) = oneshot::channel::<u32>();
                let child = tokio::spawn(async move {
                    let value = ping_rx.await.unwrap();
                    pong_tx.send(value + 1).unwrap();
                });
                ping_tx.send(i as u32).unwrap();
                let pong = pong_rx.await.unwrap();
                child.await.unwrap();
                pong
            }));
        }
        for h in handles {
            black_box(h.await.unwrap());
        }
    });
}

fn chain(n: usize, done: oneshot::Sender<()>) {
    tokio::spawn(async move {
        if n == 0 {
            let _ = done.send(());
        } else {
            chain(n - 1, done);
        }
    });
}

fn chained_spawn(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        chain(CHAIN, tx);
        rx.await.unwrap();
    });
}

fn mpsc_uncontended(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<usize>(UNCONTENDED);
        for i in 0..UNCONTENDED {
            tx.send(i).await.unwrap();
        }
        for _ in 0..UNCONTENDED {
            black_box(rx.recv().await.unwrap());
        }
    });
}

fn mpsc_contended(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<usize>(CONTENDED_CAPACITY);
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..PER_PRODUCER {
                    tx.send(i).await.unwrap();
                }
            });
        }
        drop(tx);
        for _ in 0..PRODUCERS * PER_PRODUCER {
            black_box(rx.recv().await.unwrap());
        }
    });
}

fn request_reply(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<(usize, oneshot::Sender<usize>)>(REQUEST_CAPACITY);
        let server = tokio::spawn(async move {
            while let Some((value, reply)) = rx.recv().await {
                let _ = reply.send(value + 1);
            }
        });
        for i in 0..ROUND_TRIPS {
            let (reply_tx, reply_rx) = oneshot::channel();
            tx.send((i, reply_tx)).await.unwrap();
            black_box(reply_rx.await.unwrap());
        }
        drop(tx);
        server.await.unwrap();
    });
}

fn unbounded(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        for i in 0..UNCONTENDED {
            tx.send(i).unwrap();
        }
        for _ in 0..UNCONTENDED {
            black_box(rx.recv().await.unwrap());
        }
    });
}

fn broadcast(rt: &Runtime) {
    rt.block_on(async {
        let (tx, _) = broadcast::channel::<usize>(BROADCAST_CAPACITY);
        let receivers: Vec<_> = (0..BROADCAST_RECEIVERS)
            .map(|_| {
                let mut rx = tx.subscribe();
                tokio::spawn(async move {
                    let mut sum = 0;
                    while let Ok(i) = rx.recv().await {
                        sum += i;
                    }
                    sum
                })
            })
            .collect();
        tokio::task::yield_now().await;
        for i in 0..BROADCAST_MESSAGES {
            tx.send(i).unwrap();
        }
        drop(tx);
        for r in receivers {
            black_box(r.await.unwrap());
        }
    });
}
