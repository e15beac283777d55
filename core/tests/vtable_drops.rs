//! The drops a task's vtable does from outside its poll: an output nobody took (its
//! `JoinHandle` dropped before the task finished), dropped by the executor through the task's
//! `DropVTable`, whose destructor is user code that looks at the pool again.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_core::{Executor, TaskPool};

static EXECUTOR: Executor = Executor::new();
static POOL: TaskPool<2, 64> = TaskPool::new();
static DROPS: AtomicUsize = AtomicUsize::new(0);
static TAKEN_DURING_DROP: AtomicUsize = AtomicUsize::new(usize::MAX);

/// An output whose destructor reads the pool it lives in (re-entrant user code in the middle of
/// the executor's drop of the slot's contents).
struct Nosy;

impl Drop for Nosy {
    fn drop(&mut self) {
        TAKEN_DURING_DROP.store(POOL.len(), SeqCst);
        DROPS.fetch_add(1, SeqCst);
    }
}

#[test]
fn an_output_nobody_took_is_dropped_once_by_the_executor_and_its_slot_freed() {
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    for round in 1..=3 {
        // The handle goes before the task runs: the executor drops the output as the task ends.
        drop(spawner.spawn(&POOL, async { Nosy }).unwrap());
        assert_eq!(
            DROPS.load(SeqCst),
            round - 1,
            "nothing dropped before the task ran"
        );
        while runner.poll() {}
        assert_eq!(DROPS.load(SeqCst), round, "dropped once");
        assert_eq!(
            TAKEN_DURING_DROP.load(SeqCst),
            1,
            "the slot stays taken while its output is dropped"
        );
        assert!(POOL.is_empty(), "and is freed after");
    }
    // The pool serves other tasks as before.
    let handle = spawner.spawn(&POOL, async { 5u8 }).unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(5));
}
