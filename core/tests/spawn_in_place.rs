//! `spawn_with` and `spawn_detached`: futures built in their slot by a maker, with a
//! `JoinHandle` or (`spawn_detached`) without one, the task detached from the start. A full pool
//! gives the maker back uncalled (in `SpawnRefused`), and a maker that panics gives its slot back.
//!
//! `spawn_detached`: Its output is dropped once, when it finishes; its slot is freed then; a
//! panicking one is dropped outside the unwinding as any task is; `cancel_all` drops an
//! unfinished one; a full pool is an error that holds the maker, uncalled (dropped with the
//! error, or spawned again); a maker that panics gives its slot back.

use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ebbtide_core::sync::Notify;
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, SpawnError, TaskPool};

/// Counts its drops.
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_detached_task_runs_drops_its_output_once_and_frees_its_slot() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 128> = TaskPool::new();
    static OUTPUTS: AtomicUsize = AtomicUsize::new(0);
    static GO: Notify = Notify::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    spawner
        .spawn_detached(&POOL, || async {
            GO.notified().await;
            Counted(&OUTPUTS)
        })
        .unwrap();
    spawner
        .spawn_detached(&POOL, || async { Counted(&OUTPUTS) })
        .unwrap();
    // Full: the error names the pool, and the maker is never called.
    let err = spawner
        .spawn_detached(&POOL, || async { unreachable!("never polled") })
        .unwrap_err();
    assert!(matches!(
        err.error(),
        SpawnError::PoolFull { capacity: 2, .. }
    ));
    runner.poll();
    assert_eq!(
        OUTPUTS.load(SeqCst),
        1,
        "the finished task's output was dropped"
    );
    assert_eq!(POOL.len(), 1, "and its slot freed");
    GO.notify_one();
    runner.poll();
    assert_eq!(OUTPUTS.load(SeqCst), 2);
    assert!(POOL.is_empty());
    // The slots are reused.
    spawner.spawn_detached(&POOL, || async {}).unwrap();
    spawner.spawn_detached(&POOL, || async {}).unwrap();
    runner.poll();
    assert!(POOL.is_empty());
    assert_eq!(OUTPUTS.load(SeqCst), 2, "each output dropped once");
}

#[test]
fn a_detached_task_that_panics_is_dropped_and_the_others_run() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    spawner
        .spawn_detached(&POOL, || async {
            let _held = Counted(&DROPS);
            panic!("boom");
        })
        .unwrap();
    spawner
        .spawn_detached(&POOL, || async {
            yield_now().await;
            RAN.fetch_add(1, SeqCst);
        })
        .unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    // The next poll drops the panicked future (its local already went with the unwinding) and
    // frees its slot; the other task finishes.
    while runner.poll() {}
    runner.poll();
    assert_eq!(DROPS.load(SeqCst), 1);
    assert_eq!(RAN.load(SeqCst), 1);
    assert!(POOL.is_empty());
}

#[test]
fn cancel_all_drops_an_unfinished_detached_task() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static NEVER: Notify = Notify::new();
    let runner = EXECUTOR.runner().unwrap();
    runner
        .spawner()
        .spawn_detached(&POOL, || async {
            let _held = Counted(&DROPS);
            NEVER.notified().await;
        })
        .unwrap();
    runner.poll();
    assert_eq!(POOL.len(), 1);
    // SAFETY: only EXECUTOR spawns into POOL.
    let cancelled = unsafe { runner.cancel_all(&POOL) };
    assert_eq!(cancelled, 1);
    runner.poll();
    assert_eq!(DROPS.load(SeqCst), 1);
    assert!(POOL.is_empty());
}

#[test]
fn a_send_spawner_spawns_detached_from_another_thread() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner().make_send();
    std::thread::spawn(move || {
        spawner
            .spawn_detached(&POOL, || async {
                RAN.fetch_add(1, SeqCst);
            })
            .unwrap()
    })
    .join()
    .unwrap();
    runner.poll();
    assert_eq!(RAN.load(SeqCst), 1);
    assert!(POOL.is_empty());
}

#[test]
fn a_full_pool_drops_the_maker_uncalled_and_a_panicking_maker_gives_its_slot_back() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static CAPTURED: AtomicUsize = AtomicUsize::new(0);
    static NEVER: Notify = Notify::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // A maker that panics: nothing was built, and the slot is free again.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        spawner.spawn_detached(&POOL, || -> core::future::Ready<()> { panic!("no future") })
    }));
    assert!(panicked.is_err());
    assert!(
        POOL.is_empty(),
        "the slot claimed for the panicking maker was given back"
    );
    spawner
        .spawn_detached(&POOL, || async { NEVER.notified().await })
        .unwrap();
    // Full: the maker comes back uncalled, with what it captured, which is dropped once, with
    // the error.
    let held = Counted(&CAPTURED);
    let err = spawner
        .spawn_detached(&POOL, move || {
            let _held = held;
            async { unreachable!("never built") }
        })
        .unwrap_err();
    assert!(matches!(err.error(), SpawnError::PoolFull { .. }));
    assert_eq!(CAPTURED.load(SeqCst), 0, "the error holds the maker");
    assert_eq!(
        format!("{err:?}"),
        format!("SpawnRefused {{ error: {:?}, .. }}", err.error())
    );
    assert_eq!(err.to_string(), err.error().to_string());
    drop(err);
    assert_eq!(
        CAPTURED.load(SeqCst),
        1,
        "the maker's capture was dropped once"
    );
    runner.poll();
    assert_eq!(POOL.len(), 1);
}

#[test]
fn spawn_with_builds_in_place_and_joins() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 4200> = TaskPool::new();
    static CAPTURED: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let seed = 3u8;
    let handle = spawner
        .spawn_with(&POOL, move || async move {
            let block = [seed; 4096];
            yield_now().await;
            block.iter().map(|&b| u32::from(b)).sum::<u32>()
        })
        .unwrap();
    // Full: the maker and its capture come back uncalled; `?` (here `From`) turns the refusal
    // into a `SpawnError` and drops them.
    let held = Counted(&CAPTURED);
    let err = spawner
        .spawn_with(&POOL, move || {
            let _held = held;
            async { unreachable!("never built") }
        })
        .unwrap_err();
    assert_eq!(CAPTURED.load(SeqCst), 0);
    let err = SpawnError::from(err);
    assert!(matches!(err, SpawnError::PoolFull { .. }));
    assert_eq!(CAPTURED.load(SeqCst), 1);
    assert_eq!(runner.run_until(handle, || {}), Ok(3 * 4096));
    // A maker that panics gives the slot back; the next spawn gets it.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        spawner.spawn_with(&POOL, || -> core::future::Ready<u32> {
            panic!("no future")
        })
    }));
    assert!(panicked.is_err());
    assert!(POOL.is_empty());
    let handle = spawner.spawn_with(&POOL, || async { 5 }).unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(5));
}

#[test]
fn a_refused_maker_spawns_once_a_slot_frees() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 64> = TaskPool::new();
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    spawner
        .spawn_uncancellable(&POOL, || async { yield_now().await })
        .unwrap();
    let held = Counted(&RAN);
    let refused = spawner
        .spawn_uncancellable(&POOL, move || async move {
            drop(held);
        })
        .unwrap_err();
    assert_eq!(RAN.load(SeqCst), 0);
    while runner.poll() {}
    assert!(POOL.is_empty());
    spawner
        .spawn_uncancellable(&POOL, refused.into_make())
        .unwrap();
    runner.poll();
    assert_eq!(RAN.load(SeqCst), 1, "the retried task ran");
    assert!(POOL.is_empty());
}
