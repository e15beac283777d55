//! smol's executor (async-executor, driven by `futures_lite::future::block_on` on this thread) on
//! the executor and channel workloads, with async-channel (smol's channel; a `bounded(1)` channel
//! stands in for a oneshot, which smol does not have).

use std::hint::black_box;

use async_channel::{bounded, Sender};
use async_executor::Executor;
use ebbtide_bench::{sizes::*, time, EXECUTOR_WORKLOADS};
use futures_lite::future;

type Ex = &'static Executor<'static>;

fn main() {
    let ex: Ex = Box::leak(Box::new(Executor::new()));
    ebbtide_bench::main(&[("smol", EXECUTOR_WORKLOADS)], |_, workload| {
        time(|| future::block_on(ex.run(run(ex, workload))))
    });
}

async fn run(ex: Ex, workload: &str) {
    match workload {
        "spawn_many_1000" => spawn_many(ex, SPAWN_SMALL).await,
        "spawn_many_10000" => spawn_many(ex, SPAWN_LARGE).await,
        "yield_many" => yield_many(ex).await,
        "ping_pong" => ping_pong(ex).await,
        "chained_spawn" => chained_spawn(ex).await,
        // No single-producer channel: the bounded channel with one sender.
        "mpsc_uncontended" | "spsc_uncontended" => mpsc_uncontended().await,
        "mpsc_contended" => mpsc_contended(ex).await,
        "request_reply" => request_reply(ex).await,
        other => unreachable!("{other}"),
    }
}

async fn spawn_many(ex: Ex, n: usize) {
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(ex.spawn(async move { black_box(i) }));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.await;
    }
    black_box(sum);
}

async fn yield_many(ex: Ex) {
    let mut handles = Vec::with_capacity(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        handles.push(ex.spawn(async {
            for _ in 0..YIELDS {
                future::yield_now().await;
            }
        }));
    }
    for h in handles {
        h.await;
    }
}

async fn ping_pong(ex: Ex) {
    let mut handles = Vec::with_capacity(PING_PONG);
    for i in 0..PING_PONG {
        handles.push(ex.spawn(async move {
            let (ping_tx, ping_rx) = bounded::<u32>(1);
            let (pong_tx, pong_rx) = bounded::<u32>(1);
            let child = ex.spawn(async move {
                let value = ping_rx.recv().await.unwrap();
                pong_tx.send(value + 1).await.unwrap();
            });
            ping_tx.send(i as u32).await.unwrap();
            let pong = pong_rx.recv().await.unwrap();
            child.await;
            pong
        }));
    }
    for h in handles {
        black_box(h.await);
    }
}

fn chain(ex: Ex, n: usize, done: Sender<()>) {
    ex.spawn(async move {
        if n == 0 {
            let _ = done.send(()).await;
        } else {
            chain(ex, n - 1, done);
        }
    })
    .detach();
}

async fn chained_spawn(ex: Ex) {
    let (tx, rx) = bounded(1);
    chain(ex, CHAIN, tx);
    rx.recv().await.unwrap();
}

async fn mpsc_uncontended() {
    let (tx, rx) = bounded::<usize>(UNCONTENDED);
    for i in 0..UNCONTENDED {
        tx.send(i).await.unwrap();
    }
    for _ in 0..UNCONTENDED {
        black_box(rx.recv().await.unwrap());
    }
}

async fn mpsc_contended(ex: Ex) {
    let (tx, rx) = bounded::<usize>(CONTENDED_CAPACITY);
    for _ in 0..PRODUCERS {
        let tx = tx.clone();
        ex.spawn(async move {
            for i in 0..PER_PRODUCER {
                tx.send(i).await.unwrap();
            }
        })
        .detach();
    }
    drop(tx);
    for _ in 0..PRODUCERS * PER_PRODUCER {
        black_box(rx.recv().await.unwrap());
    }
}

async fn request_reply(ex: Ex) {
    let (tx, rx) = bounded::<(usize, Sender<usize>)>(REQUEST_CAPACITY);
    let server = ex.spawn(async move {
        while let Ok((value, reply)) = rx.recv().await {
            let _ = reply.send(value + 1).await;
        }
    });
    for i in 0..ROUND_TRIPS {
        let (reply_tx, reply_rx) = bounded(1);
        tx.send((i, reply_tx)).await.unwrap();
        black_box(reply_rx.recv().await.unwrap());
    }
    drop(tx);
    server.await;
}
