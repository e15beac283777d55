//! `TaskCell`: one task slot with no pool head. It is taken while its task runs (and while a
//! `JoinHandle` keeps its output), refused with the closure given back when taken, freed by every
//! way a task ends (output read, detached end, abort, a panicking destructor, `cancel_all`), and
//! claimed by exactly one of several threads racing for it. Runs under Miri (every `soundness_*`
//! test does).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use ebbtide_core::{Executor, Pool, SpawnError, TaskCell, TaskPool, TaskSlot};

#[test]
fn a_cell_is_one_slot_and_nothing_else() {
    assert_eq!(size_of::<TaskCell<64>>(), size_of::<TaskSlot<64>>());
    assert_eq!(size_of::<TaskCell<8>>(), size_of::<TaskSlot<8>>());
    // A one-slot pool pays for its name and search hint; the cell does not.
    assert_eq!(
        size_of::<TaskPool<1, 64>>() - size_of::<TaskCell<64>>(),
        2 * size_of::<usize>()
    );
    assert_eq!(align_of::<TaskCell<64>>(), align_of::<TaskSlot<64>>());
}

#[test]
fn a_cell_holds_one_task_until_its_handle_is_gone() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    assert!(!CELL.is_taken());
    assert_eq!(
        (CELL.name(), CELL.capacity(), CELL.len()),
        ("TaskCell", 1, 0)
    );

    let handle = spawner.spawn(&CELL, async { 7u8 }).unwrap();
    assert!(CELL.is_taken());
    let err = spawner.spawn(&CELL, async { 8u8 }).unwrap_err();
    assert_eq!(
        err,
        SpawnError::PoolFull {
            pool: "TaskCell",
            capacity: 1,
            hint: "use a TaskPool<N, SIZE> for more than one at a time",
        }
    );
    assert!(err.to_string().contains("TaskPool<N, SIZE>"), "{err}");

    while runner.poll() {}
    assert!(handle.is_finished());
    assert!(
        CELL.is_taken(),
        "the output waits in the cell for the handle"
    );
    assert!(spawner.spawn(&CELL, async { 9u8 }).is_err());
    assert_eq!(ebbtide_core::block_on(handle), Ok(7));
    assert!(!CELL.is_taken());
    assert_eq!(CELL.len(), 0);

    let again = spawner.spawn(&CELL, async { 10u8 }).unwrap();
    assert_eq!(runner.run_until(again, || {}), Ok(10));
    assert!(!CELL.is_taken());
}

/// Counts its drops.
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_refused_spawn_gives_the_closure_back_with_its_captures() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();

    spawner.spawn_uncancellable(&CELL, || async {}).unwrap();
    let captured = Counted(&DROPS);
    let refused = spawner
        .spawn_detached(&CELL, move || async move {
            let _captured = captured;
            RAN.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap_err();
    assert!(matches!(refused.error(), SpawnError::PoolFull { .. }));
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        0,
        "the capture came back intact"
    );

    // The first task ends, which frees the cell: the same closure fits now.
    while runner.poll() {}
    assert!(!CELL.is_taken());
    spawner.spawn_detached(&CELL, refused.into_make()).unwrap();
    while runner.poll() {}
    assert_eq!(RAN.load(Ordering::SeqCst), 1);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    assert!(
        !CELL.is_taken(),
        "a detached task frees its cell when it ends"
    );
}

#[test]
fn a_task_spawned_again_and_again_reuses_its_cell() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    for round in 0..20 {
        let spawned = if round % 2 == 0 {
            spawner
                .spawn_uncancellable(&CELL, || async {
                    ebbtide_core::task::yield_now().await;
                    RUNS.fetch_add(1, Ordering::SeqCst);
                })
                .is_ok()
        } else {
            spawner
                .spawn_detached(&CELL, || async {
                    RUNS.fetch_add(1, Ordering::SeqCst);
                })
                .is_ok()
        };
        assert!(spawned, "round {round}");
        while runner.poll() {}
        assert!(!CELL.is_taken(), "round {round}");
    }
    assert_eq!(RUNS.load(Ordering::SeqCst), 20);
}

/// Panics when dropped (and counts the drop first).
struct PanicsOnDrop(&'static AtomicUsize);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("PanicsOnDrop");
    }
}

#[test]
fn an_aborted_task_whose_destructor_panics_frees_its_cell_once() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    static OTHER: TaskCell<64> = TaskCell::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();

    let guard = PanicsOnDrop(&DROPS);
    let handle = spawner
        .spawn(&CELL, async move {
            let _guard = guard;
            core::future::pending::<()>().await;
        })
        .unwrap();
    let other = spawner.spawn(&OTHER, async { 3 }).unwrap();
    while runner.poll() {}
    handle.abort();
    // The executor drops the aborted future; its destructor panics out of that poll.
    let unwound = panic::catch_unwind(AssertUnwindSafe(|| while runner.poll() {}));
    assert!(
        unwound.is_err(),
        "the destructor's panic reaches the runner"
    );
    while runner.poll() {}
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "dropped exactly once");
    assert!(
        ebbtide_core::block_on(handle).is_err(),
        "the task did not finish"
    );
    assert!(!CELL.is_taken());
    // The other task was served, and the cell takes a new task.
    assert_eq!(ebbtide_core::block_on(other), Ok(3));
    let again = spawner.spawn(&CELL, async { 4 }).unwrap();
    assert_eq!(runner.run_until(again, || {}), Ok(4));
}

#[test]
fn cancel_all_empties_a_cell() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let counted = Counted(&DROPS);
    spawner
        .spawn_detached(&CELL, move || async move {
            let _counted = counted;
            core::future::pending::<()>().await;
        })
        .unwrap();
    while runner.poll() {}
    // SAFETY: every task in the cell is this runner's, and it is not polling.
    assert_eq!(unsafe { runner.cancel_all(&CELL) }, 1);
    while runner.poll() {}
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    assert!(!CELL.is_taken());
    // SAFETY: as above.
    let cancelled = unsafe { runner.cancel_all(&CELL) };
    assert_eq!(cancelled, 0, "nothing left to cancel");
}

#[test]
fn threads_racing_for_a_cell_claim_it_once_per_round() {
    static EXECUTOR: Executor = Executor::new();
    static CELL: TaskCell<64> = TaskCell::new();
    static RAN: AtomicUsize = AtomicUsize::new(0);
    const THREADS: usize = 3;
    const ROUNDS: usize = if cfg!(miri) { 3 } else { 50 };
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner().make_send();
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    spawner
                        .spawn_detached(&CELL, || async {
                            RAN.fetch_add(1, Ordering::SeqCst);
                        })
                        .is_ok()
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(won, 1, "round {round}: one claim wins");
        while runner.poll() {}
        assert_eq!(RAN.load(Ordering::SeqCst), round + 1, "round {round}");
        assert!(!CELL.is_taken(), "round {round}");
    }
}
