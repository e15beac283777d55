//! Shutting an executor down: `Runner::cancel_all` drops every unfinished task exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::{task::yield_now, Executor, JoinError, Runner, TaskPool};

static DROPS: AtomicUsize = AtomicUsize::new(0);

struct CountDrop;
impl Drop for CountDrop {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn idle_queued_and_finished_tasks_are_each_handled_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let finished = spawner.spawn(&POOL, async { 1 }).unwrap();
    let idle = spawner
        .spawn(&POOL, async {
            let _guard = CountDrop;
            core::future::pending::<()>().await
        })
        .unwrap();
    let yielding = spawner
        .spawn(&POOL, async {
            let _guard = CountDrop;
            loop {
                yield_now().await;
            }
        })
        .unwrap();
    runner.poll(); // `finished` completes; `idle` parks; `yielding` is queued again
    assert!(finished.is_finished());
    let detached_queued = spawner.spawn(&POOL, async { CountDrop }).unwrap();
    drop(detached_queued);

    // SAFETY: only EXECUTOR spawns into POOL.
    let cancelled = unsafe { runner.cancel_all(&POOL) };
    assert_eq!(
        cancelled, 3,
        "idle, yielding and the never-polled detached task"
    );
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the idle task is dropped at once"
    );
    runner.poll();
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        2,
        "queued tasks are dropped, not polled, next poll"
    );

    assert_eq!(
        ebbtide_core::block_on(finished),
        Ok(1),
        "finished outputs survive"
    );
    assert_eq!(ebbtide_core::block_on(idle), Err(JoinError::Cancelled));
    assert_eq!(ebbtide_core::block_on(yielding), Err(JoinError::Cancelled));
    assert!(POOL.is_empty());
    assert!(!runner.poll());
}

#[test]
fn a_task_cannot_poll_its_own_executor() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 128> = TaskPool::new();
    let runner: &'static Runner = Box::leak(Box::new(EXECUTOR.runner().unwrap()));
    let sneaky = runner
        .spawner()
        .spawn(&POOL, async move {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.poll()));
            result.is_err()
        })
        .unwrap();
    assert_eq!(
        runner.run_until(sneaky, || {}),
        Ok(true),
        "re-entrant poll must panic"
    );
}
