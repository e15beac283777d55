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
    // The panicking task runs first: spawned first, or last with `lifo-batches` (newest first).
    let lifo = cfg!(feature = "lifo-batches");
    let bad = (!lifo).then(|| spawner.spawn(&POOL, async { panic!("boom") }).unwrap());
    let after = spawner.spawn(&POOL, async { 2 }).unwrap();
    let last = spawner.spawn(&POOL, async { 3 }).unwrap();
    let bad = bad.unwrap_or_else(|| spawner.spawn(&POOL, async { panic!("boom") }).unwrap());

    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    assert!(!after.is_finished() && !last.is_finished());
    let results = runner.run_until(async { (bad.await, after.await, last.await) }, || {});
    assert_eq!(results, (Err(JoinError::Panicked), Ok(2), Ok(3)));
    assert!(POOL.is_empty());
    // Nothing was left in the published batch, and nothing is queued.
    // SAFETY: as above.
    assert_eq!(unsafe { THIEF.steal_from(&EXECUTOR) }, 0);
}

/// Adversarial, for the published batch: its first task is aborted and its future's `Drop`
/// panics while the batch runs; the tasks behind it wake themselves and each other from inside
/// their polls (user code re-entering the scheduler while the batch is popped). Whatever
/// unwinds, the rest of the batch is put back, a thief on another thread can take it, and every
/// task finishes exactly once.
#[test]
fn a_panicking_drop_in_a_published_batch_loses_no_task() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Waker;

    static EXECUTOR: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static POOL: TaskPool<4, 256> = TaskPool::new();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static WAKER: std::sync::Mutex<Option<Waker>> = std::sync::Mutex::new(None);

    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }

    let runner = EXECUTOR.runner().unwrap();
    // SAFETY: no pool is cancelled in this test; nothing is queued yet, but the executor
    // publishes its batches from now on.
    assert_eq!(unsafe { THIEF.steal_from(&EXECUTOR) }, 0);
    let sender = EXECUTOR.send_spawner();
    let doomed = sender
        .spawn(&POOL, async {
            let _guard = PanicOnDrop;
            core::future::pending::<()>().await;
        })
        .unwrap();
    // Parks with its drop guard alive.
    assert!(!runner.poll());
    doomed.abort();
    // Behind it in the same batch: one task that wakes itself (yield) and one that wakes the
    // other from inside its poll.
    let yielder = sender
        .spawn(&POOL, async {
            core::future::poll_fn(|cx| {
                *WAKER.lock().unwrap() = Some(cx.waker().clone());
                core::task::Poll::Ready(())
            })
            .await;
            yield_now().await;
            RUNS.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let waker_task = sender
        .spawn(&POOL, async {
            if let Some(waker) = WAKER.lock().unwrap().take() {
                waker.wake();
            }
            RUNS.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();

    // The cancellation drops `doomed`'s future first in the batch, and its Drop panics.
    let unwound = catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err();
    // Another thread steals whatever was put back and runs it.
    let stolen = std::thread::spawn(|| {
        let thief = THIEF.runner().unwrap();
        // SAFETY: as above.
        let moved = unsafe { THIEF.steal_from(&EXECUTOR) };
        while thief.poll() {}
        moved
    })
    .join()
    .unwrap();
    // Whatever is left runs here.
    while runner.poll() {}
    assert!(
        unwound,
        "the Drop's panic comes out of poll, as a poll's does"
    );
    assert_eq!(
        stolen, 1,
        "the two tasks behind it were put back: every other one moves"
    );
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        2,
        "each task ran to its end once"
    );
    assert!(ebbtide_core::block_on(doomed).unwrap_err().is_cancelled());
    assert_eq!(ebbtide_core::block_on(yielder), Ok(()));
    assert_eq!(ebbtide_core::block_on(waker_task), Ok(()));
    assert!(POOL.is_empty());
}
