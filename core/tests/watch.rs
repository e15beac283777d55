//! The watch cell: the latest value wins, one send wakes many receivers, closing, and no
//! receiver ever sees a version older than one it was told about.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};

use ebbtide_core::sync::watch::Watch;
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_latest_value_wins() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static STATE: Watch<u32> = Watch::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let mut rx = STATE.receiver();
    let reader = runner
        .spawner()
        .spawn(&POOL, async move {
            rx.changed().await.unwrap();
            let value = rx.get();
            (value, rx.has_changed())
        })
        .unwrap();
    runner.poll(); // waits for a change
    let tx = STATE.sender();
    for value in 1..=5 {
        tx.send(value);
    }
    assert_eq!(tx.send_replace(6), 5);
    tx.send_modify(|value| *value *= 10);
    assert_eq!(runner.run_until(reader, || {}), Ok((60, false)));
    assert_eq!(STATE.get(), 60);
}

#[test]
fn changed_wakes_every_waiting_receiver() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<40> = TaskPool::new();
    static STATE: Watch<&str> = Watch::new("init");
    // More receivers than one wake batch holds, and no fixed cap.
    let receivers = if cfg!(miri) { 20 } else { 40 };
    let runner = EXECUTOR.runner().unwrap();
    let tx = STATE.sender();
    let handles: Vec<_> = (0..receivers)
        .map(|_| {
            let mut rx = tx.subscribe();
            runner
                .spawner()
                .spawn(&POOL, async move {
                    rx.changed().await.unwrap();
                    rx.get()
                })
                .unwrap()
        })
        .collect();
    runner.poll();
    assert!(handles.iter().all(|h| !h.is_finished()), "no change yet");
    tx.send("go");
    runner.poll();
    assert!(
        handles.iter().all(|h| h.is_finished()),
        "one send wakes all"
    );
    for handle in handles {
        assert_eq!(runner.run_until(handle, || {}), Ok("go"));
    }
}

#[test]
fn sender_dropped_makes_changed_fail_once_nothing_is_new() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static STATE: Watch<u32> = Watch::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let tx = STATE.sender();
    let tx2 = tx.clone();
    let mut waiting = STATE.receiver();
    let mut behind = STATE.receiver();
    let waiter = runner
        .spawner()
        .spawn(&POOL, async move { waiting.changed().await })
        .unwrap();
    runner.poll();
    drop(tx);
    runner.poll();
    assert!(!waiter.is_finished(), "a sender is left");
    assert!(!STATE.is_closed());
    tx2.send(1);
    drop(tx2);
    assert!(STATE.is_closed());
    assert_eq!(runner.run_until(waiter, || {}), Ok(Ok(())));
    // A change made before the close is reported first, then the error; the value stays.
    ebbtide_core::block_on(async {
        assert!(behind.changed().await.is_ok());
        assert!(behind.changed().await.is_err());
        assert!(behind.changed().await.is_err());
    });
    assert_eq!(behind.get(), 1);
}

#[test]
fn a_waiting_receiver_is_woken_by_the_close() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static STATE: Watch<u32> = Watch::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let tx = STATE.sender();
    let mut rx = STATE.receiver();
    let waiter = runner
        .spawner()
        .spawn(&POOL, async move { rx.changed().await })
        .unwrap();
    runner.poll();
    assert!(!waiter.is_finished());
    drop(tx);
    assert!(runner.run_until(waiter, || {}).unwrap().is_err());
}

#[test]
fn a_receiver_never_sees_a_stale_version() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static COUNTER: Watch<u32> = Watch::new(0);
    let updates: u32 = if cfg!(miri) { 20 } else { 1000 };
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let readers: Vec<_> = (0..3u32)
        .map(|id| {
            let mut rx = COUNTER.receiver();
            spawner
                .spawn(&POOL, async move {
                    let mut last = 0;
                    let mut wakes = 0;
                    while rx.changed().await.is_ok() {
                        let value = rx.get();
                        // Strictly newer than anything seen before: never stale or repeated.
                        assert!(value > last, "saw {value} after {last}");
                        last = value;
                        wakes += 1;
                        // Readers run at different speeds, so they skip different values.
                        for _ in 0..id {
                            yield_now().await;
                        }
                    }
                    (last, wakes)
                })
                .unwrap()
        })
        .collect();
    let writer = spawner
        .spawn(&POOL, async move {
            let tx = COUNTER.sender();
            for value in 1..=updates {
                tx.send_modify(|counter| *counter = value);
                if value % 3 == 0 {
                    yield_now().await;
                }
            }
        })
        .unwrap();
    assert_eq!(runner.run_until(writer, || {}), Ok(()));
    for reader in readers {
        let (last, wakes) = runner.run_until(reader, || {}).unwrap();
        assert_eq!(last, updates, "every reader ends on the final value");
        assert!(wakes >= 1 && wakes <= updates);
    }
}

#[test]
fn send_if_modified_only_reports_real_changes() {
    let watch = Watch::new(10);
    let tx = watch.sender();
    let mut rx = watch.receiver();
    assert!(!tx.send_if_modified(|_| false));
    {
        let mut changed = pin!(rx.changed());
        assert_eq!(poll_once(changed.as_mut()), Poll::Pending);
        assert!(tx.send_if_modified(|value| {
            *value += 1;
            true
        }));
        assert_eq!(poll_once(changed.as_mut()), Poll::Ready(Ok(())));
    }
    assert!(
        !rx.has_changed(),
        "the completed `changed` marked the version seen"
    );
    assert_eq!(rx.get(), 11);
}

#[test]
fn cancelled_changed_does_not_mark_the_change_seen() {
    let watch = Watch::new(0);
    let tx = watch.sender();
    let mut rx = watch.receiver();
    {
        let mut changed = pin!(rx.changed());
        assert_eq!(poll_once(changed.as_mut()), Poll::Pending);
    }
    tx.send(1);
    drop(rx.changed()); // created and dropped unpolled
    assert!(rx.has_changed());
    let cloned = rx.clone();
    assert_eq!(rx.get_and_update(), 1);
    assert!(!rx.has_changed());
    assert!(cloned.has_changed(), "a clone keeps its own seen version");
}
