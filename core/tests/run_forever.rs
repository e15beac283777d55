//! `Runner::run_forever`: runs tasks until none is ready, then calls `idle`, forever. The tests
//! leave it by a panic from `idle` (the only way out), which also checks that the runner is
//! usable again afterwards.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::sync::oneshot;
use ebbtide_core::{Executor, Runner, TaskCell, TaskPool};

/// The payload `idle` panics with to end a test's `run_forever`.
struct Stop;

/// Runs `runner` forever until `idle` panics with [`Stop`]; any other panic is resumed.
fn run_until_stopped(runner: &mut Runner, idle: impl FnMut()) {
    let unwound = panic::catch_unwind(AssertUnwindSafe(|| runner.run_forever(idle)));
    match unwound {
        Err(payload) if payload.is::<Stop>() => {}
        Err(payload) => panic::resume_unwind(payload),
        Ok(()) => unreachable!("run_forever returned"),
    }
}

#[test]
fn idle_runs_only_when_no_task_is_ready_and_a_wake_from_it_is_served() {
    static EXECUTOR: Executor = Executor::new();
    static WORKERS: TaskPool<3, 128> = TaskPool::new();
    static WAITER: TaskCell<128> = TaskCell::new();
    static YIELDS: AtomicUsize = AtomicUsize::new(0);
    static GOT: AtomicUsize = AtomicUsize::new(0);
    static CHANNEL: oneshot::Channel<usize> = oneshot::Channel::new();
    let mut runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    for _ in 0..3 {
        spawner
            .spawn_detached(&WORKERS, || async {
                for _ in 0..5 {
                    YIELDS.fetch_add(1, Ordering::SeqCst);
                    ebbtide_core::task::yield_now().await;
                }
            })
            .unwrap();
    }
    let (tx, rx) = CHANNEL.split();
    spawner
        .spawn_uncancellable(&WAITER, move || async move {
            GOT.store(rx.await.unwrap(), Ordering::SeqCst);
        })
        .unwrap();

    let idles = Cell::new(0);
    let mut tx = Some(tx);
    run_until_stopped(&mut runner, || {
        // Called only once the run queue is empty: every yield of the workers ran first.
        assert!(!EXECUTOR.has_ready_tasks());
        assert_eq!(YIELDS.load(Ordering::SeqCst), 15);
        idles.set(idles.get() + 1);
        match tx.take() {
            // The first idle stands for an interrupt that wakes a task: the loop runs it.
            Some(tx) => tx.send(42).unwrap(),
            None => std::panic::panic_any(Stop),
        }
    });
    assert_eq!(idles.get(), 2, "idle once before the wake, once after");
    assert_eq!(GOT.load(Ordering::SeqCst), 42, "the woken task ran");
    assert!(WORKERS.is_empty());
    assert!(
        !runner.poll(),
        "the runner is free again and has nothing to run"
    );
}

#[test]
fn a_panicking_task_leaves_run_forever_and_the_rest_is_served_after() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3, 128> = TaskPool::new();
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let mut runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let bad = spawner
        .spawn(&POOL, async { panic!("task panic") })
        .unwrap();
    for _ in 0..2 {
        spawner
            .spawn_detached(&POOL, || async {
                RAN.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    let unwound = panic::catch_unwind(AssertUnwindSafe(|| runner.run_forever(|| {})));
    assert!(
        unwound.is_err(),
        "the task's panic propagates, as out of `poll`"
    );
    // The driver caught it and goes on: the rest of the batch was put back.
    run_until_stopped(&mut runner, || std::panic::panic_any(Stop));
    assert_eq!(RAN.load(Ordering::SeqCst), 2);
    assert!(ebbtide_core::block_on(bad).is_err());
}
