//! A full pool is an error value, never a panic; slots come back once tasks finish.

use ebbtide_core::{Executor, SpawnError, TaskPool};

#[test]
fn full_pool_reports_which_pool_and_how_to_grow_it() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 64> = TaskPool::named("workers");
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let a = spawner.spawn(&POOL, async { 1 }).unwrap();
    let b = spawner.spawn(&POOL, async { 2 }).unwrap();
    let err = spawner.spawn(&POOL, async { 3 }).unwrap_err();
    assert_eq!(
        err,
        SpawnError::PoolFull {
            pool: "workers",
            capacity: 2,
            hint: "raise N in TaskPool<N, SIZE>",
        }
    );
    let message = err.to_string();
    assert!(message.contains("`workers`"), "{message}");
    assert!(message.contains("TaskPool<N, SIZE>"), "{message}");

    // The executor keeps serving the tasks it has.
    assert_eq!(runner.run_until(a, || {}), Ok(1));
    // `a`'s slot is free again now that its handle is gone.
    let c = spawner.spawn(&POOL, async { 3 }).unwrap();
    assert_eq!(
        runner.run_until(async { (b.await, c.await) }, || {}),
        (Ok(2), Ok(3))
    );
    assert!(POOL.is_empty());
}

#[test]
fn a_finished_task_holds_its_slot_until_the_handle_is_dropped() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 64> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let handle = spawner.spawn(&POOL, async { 7u8 }).unwrap();
    while runner.poll() {}
    assert!(handle.is_finished());
    assert_eq!(POOL.len(), 1, "the output waits in the slot for the handle");
    assert!(spawner.spawn(&POOL, async {}).is_err());
    drop(handle); // drops the unread output and frees the slot
    assert!(POOL.is_empty());
    let again = spawner.spawn(&POOL, async { 8u8 }).unwrap();
    assert_eq!(runner.run_until(again, || {}), Ok(8));
}

#[test]
fn detached_tasks_free_their_slots_when_they_finish() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4, 64> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    for round in 0..10 {
        for _ in 0..4 {
            drop(spawner.spawn(&POOL, async move { round }).unwrap());
        }
        assert!(spawner.spawn(&POOL, async {}).is_err());
        while runner.poll() {}
        assert!(POOL.is_empty(), "round {round}");
    }
}

#[test]
fn unread_outputs_are_dropped_exactly_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3, 64> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let detached = spawner.spawn(&POOL, async { Counted }).unwrap();
    drop(detached);
    let kept = spawner.spawn(&POOL, async { Counted }).unwrap();
    let awaited = spawner.spawn(&POOL, async { Counted }).unwrap();
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the detached output is dropped at completion"
    );
    let value = runner.run_until(awaited, || {}).unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    drop(value);
    drop(kept);
    assert_eq!(DROPS.load(Ordering::SeqCst), 3);
    assert!(POOL.is_empty());
}
