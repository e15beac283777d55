//! The cooperative budget: a task whose resources are always ready still lets others run; and,
//! with the `no-coop-budget` feature, that it does not (as on Embassy).

use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::sync::{mpsc, Semaphore};
use ebbtide_core::{Executor, TaskPool};

#[test]
#[cfg(not(feature = "no-coop-budget"))]
fn an_always_ready_semaphore_loop_yields_to_other_tasks() {
    use std::sync::atomic::AtomicBool;

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    static PERMITS: Semaphore = Semaphore::new(1);
    static OTHER_RAN: AtomicBool = AtomicBool::new(false);
    static SEEN_AFTER: AtomicUsize = AtomicUsize::new(usize::MAX);

    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let greedy = spawner
        .spawn(&POOL, async {
            // Never waits: the permit is always there. Without a budget this loop would run to
            // the end in one poll and the other task would only run afterwards.
            for i in 0..10_000 {
                drop(PERMITS.acquire().await.unwrap());
                if OTHER_RAN.load(Ordering::SeqCst) {
                    SEEN_AFTER.store(i, Ordering::SeqCst);
                    return;
                }
            }
        })
        .unwrap();
    let other = spawner
        .spawn(&POOL, async { OTHER_RAN.store(true, Ordering::SeqCst) })
        .unwrap();
    runner.run_until(
        async { (greedy.await.unwrap(), other.await.unwrap()) },
        || {},
    );
    let seen = SEEN_AFTER.load(Ordering::SeqCst);
    assert!(
        seen <= 128,
        "the other task ran only after {seen} ready acquisitions"
    );
}

#[test]
#[cfg(not(feature = "no-coop-budget"))]
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
    let drain = spawner
        .spawn(&POOL, async move {
            while rx.recv().await.is_some() {
                RECEIVED.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    let ticker = spawner
        .spawn(&POOL, async {
            while RECEIVED.load(Ordering::SeqCst) < 512 {
                POLLS_OF_OTHER.fetch_add(1, Ordering::SeqCst);
                ebbtide_core::task::yield_now().await;
            }
        })
        .unwrap();
    runner.run_until(
        async { (drain.await.unwrap(), ticker.await.unwrap()) },
        || {},
    );
    // 512 messages at 128 per poll: the drain is made to yield after each 128, and the ticker
    // runs in between: after 128, 256 and 384 messages (at 512 it sees the work done).
    assert_eq!(POLLS_OF_OTHER.load(Ordering::SeqCst), 3);
}

#[test]
#[cfg(feature = "no-coop-budget")]
fn without_a_budget_a_ready_loop_keeps_the_executor_until_it_waits() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    static CHANNEL: mpsc::Channel<u32, 512> = mpsc::Channel::new();
    static POLLS_OF_OTHER: AtomicUsize = AtomicUsize::new(0);
    static RECEIVED: AtomicUsize = AtomicUsize::new(0);
    static PERMITS: Semaphore = Semaphore::new(1);

    let (tx, mut rx) = CHANNEL.split();
    for i in 0..512 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let drain = spawner
        .spawn(&POOL, async move {
            // 512 ready messages and 10,000 ready permits in one poll: nothing makes it yield.
            while rx.recv().await.is_some() {
                RECEIVED.fetch_add(1, Ordering::SeqCst);
            }
            for _ in 0..10_000 {
                drop(PERMITS.acquire().await.unwrap());
            }
            // And `poll_budget` never says `Pending` in a task, however often it is asked.
            let all_ready = core::future::poll_fn(|cx| {
                core::task::Poll::Ready(
                    (0..1_000).all(|_| ebbtide_core::task::poll_budget(cx).is_ready()),
                )
            })
            .await;
            assert!(all_ready);
        })
        .unwrap();
    let ticker = spawner
        .spawn(&POOL, async {
            while RECEIVED.load(Ordering::SeqCst) < 512 {
                POLLS_OF_OTHER.fetch_add(1, Ordering::SeqCst);
                ebbtide_core::task::yield_now().await;
            }
        })
        .unwrap();
    runner.run_until(
        async { (drain.await.unwrap(), ticker.await.unwrap()) },
        || {},
    );
    // The drain ran to its end in its first poll, before the ticker's first poll.
    assert_eq!(POLLS_OF_OTHER.load(Ordering::SeqCst), 0);
}
