//! The shared, non-generic slot claim of every spawn (`raw::task::claim_slot`) under its
//! adversaries: spawns racing from several threads into one small pool, and a refused future
//! whose `Drop` panics. Runs under Miri (every `soundness_*` test does).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use ebbtide_core::{Executor, SpawnError, TaskPool};

/// Counts the polls of each spawned task by its number.
static RUNS: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];

#[test]
fn spawns_racing_from_threads_claim_each_slot_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    const THREADS: usize = 4;
    const TRIES: usize = 4;
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner().make_send();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let mut won = Vec::new();
                for attempt in 0..TRIES {
                    let id = thread * TRIES + attempt;
                    match spawner.spawn(&POOL, async move {
                        RUNS[id].fetch_add(1, Ordering::SeqCst);
                        id
                    }) {
                        Ok(handle) => won.push((id, handle)),
                        Err(SpawnError::PoolFull { .. }) => {}
                        Err(other) => panic!("unexpected {other}"),
                    }
                }
                won
            })
        })
        .collect();
    let won: Vec<_> = handles
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    // Nothing ran yet, so exactly the pool's 4 slots were taken, each by one spawn.
    assert_eq!(won.len(), 4, "claimed slots");
    while runner.poll() {}
    for (id, handle) in won {
        assert_eq!(ebbtide_core::block_on(handle), Ok(id));
        assert_eq!(RUNS[id].load(Ordering::SeqCst), 1, "task {id} ran once");
    }
    let ran: usize = RUNS.iter().map(|runs| runs.load(Ordering::SeqCst)).sum();
    assert_eq!(ran, 4, "refused futures never ran");
    assert!(POOL.is_empty());
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("refused future's Drop");
    }
}

#[test]
fn a_refused_future_whose_drop_panics_leaves_the_pool_working() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let first = spawner.spawn(&POOL, async { 1 }).unwrap();
    // The pool is full: the future is refused and dropped inside `spawn`, and its Drop panics.
    let bomb = PanicOnDrop;
    let refused = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = spawner.spawn(&POOL, async move {
            let _bomb = &bomb;
        });
    }));
    assert!(refused.is_err(), "the Drop's panic reaches the caller");
    // The claimed task and the pool are untouched.
    while runner.poll() {}
    assert_eq!(ebbtide_core::block_on(first), Ok(1));
    assert!(POOL.is_empty());
    let again = spawner.spawn(&POOL, async { 2 }).unwrap();
    while runner.poll() {}
    assert_eq!(ebbtide_core::block_on(again), Ok(2));
}

/// A maker (`spawn_with`, `spawn_detached`) is user code that runs while its slot is claimed but
/// not yet queued. It re-enters the pool: it spawns a sibling (which must take another slot), and
/// the sibling's own maker panics (whose slot must be given back), before building its future.
/// Every slot ends up free, and no task runs twice or not at all.
#[test]
fn a_maker_that_re_enters_the_pool_and_one_that_panics_leave_every_slot_sound() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    static RAN: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let outer = spawner
        .spawn_with(&POOL, || {
            // Our slot is claimed: the sibling takes the other one.
            spawner
                .spawn_detached(&POOL, || async { RAN[1].fetch_add(1, Ordering::SeqCst) })
                .unwrap();
            // Both slots are taken now: a third spawn is refused, its maker never called.
            let refused = spawner.spawn_detached(&POOL, || -> core::future::Ready<()> {
                unreachable!("a full pool never calls the maker")
            });
            assert!(matches!(
                refused.map_err(SpawnError::from),
                Err(SpawnError::PoolFull { .. })
            ));
            async { RAN[0].fetch_add(1, Ordering::SeqCst) }
        })
        .unwrap();
    while runner.poll() {}
    assert_eq!(ebbtide_core::block_on(outer), Ok(0));
    assert!(POOL.is_empty());
    // A maker that spawns a sibling, then panics: the sibling stays and runs, the maker's own
    // slot is given back.
    let panicked = panic::catch_unwind(AssertUnwindSafe(|| {
        spawner.spawn_detached(&POOL, || -> core::future::Ready<()> {
            spawner
                .spawn_detached(&POOL, || async { RAN[1].fetch_add(1, Ordering::SeqCst) })
                .unwrap();
            panic!("the maker panics after spawning");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(POOL.len(), 1, "only the sibling holds a slot");
    while runner.poll() {}
    assert!(POOL.is_empty());
    let ran: Vec<usize> = RAN.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    assert_eq!(ran, [1, 2], "each task ran once");
}

/// `spawn_detached` from several threads at once into one small pool: each slot is claimed by one
/// maker, the refused makers are never called, and every claimed task runs once.
#[test]
fn detached_spawns_racing_from_threads_claim_each_slot_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    static MADE: AtomicUsize = AtomicUsize::new(0);
    static RAN: AtomicUsize = AtomicUsize::new(0);
    const THREADS: usize = 4;
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner().make_send();
    let barrier = Arc::new(Barrier::new(THREADS));
    let won: usize = (0..THREADS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                (0..2)
                    .filter(|_| {
                        spawner
                            .spawn_detached(&POOL, || {
                                MADE.fetch_add(1, Ordering::SeqCst);
                                async { RAN.fetch_add(1, Ordering::SeqCst) }
                            })
                            .is_ok()
                    })
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .sum();
    assert_eq!(won, 3, "the pool's three slots, each claimed once");
    assert_eq!(
        MADE.load(Ordering::SeqCst),
        3,
        "only the claimed makers were called"
    );
    while runner.poll() {}
    assert_eq!(RAN.load(Ordering::SeqCst), 3);
    assert!(POOL.is_empty());
}
