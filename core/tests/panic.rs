//! A task that panics: where panics unwind, its handle reports it and the executor goes on.
//!
//! On `no_std` targets panics usually abort through the program's panic handler; this file tests
//! the unwinding case that the std driver relies on.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ebbtide_core::{task::yield_now, Executor, JoinError, TaskPool};

#[test]
fn a_panicking_task_is_reported_and_the_others_keep_running() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let before = spawner
        .spawn(&POOL, async {
            yield_now().await;
            1
        })
        .unwrap();
    let bad = spawner.spawn(&POOL, async { panic!("boom") }).unwrap();
    let after = spawner
        .spawn(&POOL, async {
            yield_now().await;
            2
        })
        .unwrap();

    let unwound = catch_unwind(AssertUnwindSafe(|| runner.poll()));
    assert!(unwound.is_err(), "the panic propagates out of poll");
    // The panicked future is dropped by the next poll, outside the unwinding (never leaked:
    // its slot is reused only after its destructor ran); then the task is finished.
    assert!(!bad.is_finished());
    assert!(runner.poll());
    assert!(bad.is_finished());

    // The rest of the batch was re-queued: everything else still completes.
    let results = runner.run_until(async { (before.await, bad.await, after.await) }, || {});
    assert_eq!(results, (Ok(1), Err(JoinError::Panicked), Ok(2)));
    assert!(JoinError::Panicked.is_panic());
    assert!(
        POOL.is_empty(),
        "the panicked task's slot is released with its handle"
    );
}

#[test]
fn a_detached_panicking_task_frees_its_slot() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    drop(
        runner
            .spawner()
            .spawn(&POOL, async { panic!("detached boom") })
            .unwrap(),
    );
    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    assert!(
        !POOL.is_empty(),
        "the slot stays taken until the panicked future is dropped"
    );
    // The next poll drops the future (outside the unwinding) and frees the slot.
    runner.poll();
    assert!(POOL.is_empty());
    let next = runner.spawner().spawn(&POOL, async { 5 }).unwrap();
    assert_eq!(runner.run_until(next, || {}), Ok(5));
}

/// The same with a published batch (see `SharedBatch`: an executor that a thief tried pops its
/// batch from a shared word): the tasks behind the panicking one are put back too.
#[test]
fn a_panic_in_a_published_batch_requeues_the_rest() {
    static EXECUTOR: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static POOL: TaskPool<4, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    // SAFETY: no pool is cancelled in this test. Nothing is queued: nothing moves, but the
    // executor publishes its batches from now on.
    assert_eq!(unsafe { THIEF.steal_from(&EXECUTOR) }, 0);
    let spawner = runner.spawner();
    let bad = spawner.spawn(&POOL, async { panic!("boom") }).unwrap();
    let after = spawner.spawn(&POOL, async { 2 }).unwrap();
    let last = spawner.spawn(&POOL, async { 3 }).unwrap();

    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    assert!(!after.is_finished() && !last.is_finished());
    let results = runner.run_until(async { (bad.await, after.await, last.await) }, || {});
    assert_eq!(results, (Err(JoinError::Panicked), Ok(2), Ok(3)));
    assert!(POOL.is_empty());
    // Nothing was left in the published batch, and nothing is queued.
    // SAFETY: as above.
    assert_eq!(unsafe { THIEF.steal_from(&EXECUTOR) }, 0);
}
