//! The cooperative budget: a task whose resources are always ready still lets others run; and,
//! with the `no-coop-budget` feature, that it does not (as on Embassy): there, each test checks
//! that the ready loop kept the executor until it ended.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ebbtide_core::sync::{mpsc, Semaphore};
use ebbtide_core::{Executor, TaskPool};

/// Whether tasks have a budget in this build.
const BUDGET: bool = !cfg!(feature = "no-coop-budget");

/// Spawns `first` and `second` so that `first` runs first: in spawn order, or the other way
/// round with `lifo-batches` (a round runs newest first).
fn in_run_order<A, B>(first: impl FnOnce() -> A, second: impl FnOnce() -> B) -> (A, B) {
    if cfg!(feature = "lifo-batches") {
        let b = second();
        (first(), b)
    } else {
        let a = first();
        (a, second())
    }
}

#[test]
fn an_always_ready_semaphore_loop_yields_to_other_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    static PERMITS: Semaphore = Semaphore::new(1);
    static OTHER_RAN: AtomicBool = AtomicBool::new(false);
    static SEEN_AFTER: AtomicUsize = AtomicUsize::new(usize::MAX);

    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (greedy, other) = in_run_order(
        || {
            spawner
                .spawn(&POOL, async {
                    // Never waits: the permit is always there. Without a budget this loop runs
                    // to the end in one poll and the other task only runs afterwards.
                    for i in 0..10_000 {
                        drop(PERMITS.acquire().await.unwrap());
                        if OTHER_RAN.load(Ordering::SeqCst) {
                            SEEN_AFTER.store(i, Ordering::SeqCst);
                            return;
                        }
                    }
                })
                .unwrap()
        },
        || {
            spawner
                .spawn(&POOL, async { OTHER_RAN.store(true, Ordering::SeqCst) })
                .unwrap()
        },
    );
    runner.run_until(
        async { (greedy.await.unwrap(), other.await.unwrap()) },
        || {},
    );
    let seen = SEEN_AFTER.load(Ordering::SeqCst);
    if BUDGET {
        assert!(
            seen <= 128,
            "the other task ran only after {seen} ready acquisitions"
        );
    } else {
        assert_eq!(seen, usize::MAX, "without a budget the loop ended first");
    }
}

#[test]
fn a_full_channel_drained_in_a_loop_yields_every_budget() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    static CHANNEL: mpsc::Channel<u32, 512> = mpsc::Channel::new();
    static POLLS_OF_OTHER: AtomicUsize = AtomicUsize::new(0);
    static RECEIVED: AtomicUsize = AtomicUsize::new(0);

    let (tx, mut rx) = CHANNEL.split();
    for i in 0..512 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (drain, ticker) = in_run_order(
        || {
            spawner
                .spawn(&POOL, async move {
                    while rx.recv().await.is_some() {
                        RECEIVED.fetch_add(1, Ordering::SeqCst);
                    }
                })
                .unwrap()
        },
        || {
            spawner
                .spawn(&POOL, async {
                    while RECEIVED.load(Ordering::SeqCst) < 512 {
                        POLLS_OF_OTHER.fetch_add(1, Ordering::SeqCst);
                        ebbtide_core::task::yield_now().await;
                    }
                })
                .unwrap()
        },
    );
    runner.run_until(
        async { (drain.await.unwrap(), ticker.await.unwrap()) },
        || {},
    );
    // 512 messages at 128 per poll: the drain is made to yield after each 128, and the ticker
    // runs in between: after 128, 256 and 384 messages (at 512 it sees the work done). Without a
    // budget the drain ran to its end in its first poll, before the ticker's first. With
    // `lifo-batches` the two take turns being first in a round (each round runs in the reverse
    // of the order they yielded in the last): drain, ticker; ticker, drain; drain, ticker;
    // ticker, drain. The ticker runs after 128, 128, 384 and 384 messages.
    let expected = match (BUDGET, cfg!(feature = "lifo-batches")) {
        (false, _) => 0,
        (true, false) => 3,
        (true, true) => 4,
    };
    assert_eq!(POLLS_OF_OTHER.load(Ordering::SeqCst), expected);
}

/// Without a budget, `poll_budget` never says `Pending` in a task, however often it is asked
/// (with one, the 129th call in a poll does).
#[test]
fn poll_budget_in_a_task_is_pending_only_with_a_budget() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 256> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let task = runner
        .spawner()
        .spawn(&POOL, async {
            core::future::poll_fn(|cx| {
                let ready = (0..1_000)
                    .take_while(|_| ebbtide_core::task::poll_budget(cx).is_ready())
                    .count();
                core::task::Poll::Ready(ready)
            })
            .await
        })
        .unwrap();
    let ready = runner.run_until(task, || {}).unwrap();
    assert_eq!(ready, if BUDGET { 128 } else { 1_000 });
}
