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

/// With a wake hook (a driver that parks its thread), `run_forever` marks the executor asleep
/// as it takes each batch: a wake from another thread while it idles, or while it runs a batch,
/// reaches the hook, and no wake-up is lost. A lost one would leave `idle` parked until its
/// timeout, which the test reports.
#[test]
fn wakes_from_another_thread_reach_the_wake_hook_and_none_is_lost() {
    use std::sync::OnceLock;
    use std::thread::{self, Thread};
    use std::time::{Duration, Instant};

    use ebbtide_core::sync::spsc;
    use ebbtide_core::Pool;

    const MESSAGES: u32 = 64;
    static RUNNER_THREAD: OnceLock<Thread> = OnceLock::new();
    static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
    static EXECUTOR: Executor = Executor::with_wake_hook(&|| {
        HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
        if let Some(thread) = RUNNER_THREAD.get() {
            thread.unpark();
        }
    });
    static RECEIVER: TaskCell<128> = TaskCell::new();
    static CHANNEL: spsc::Channel<u32, 2> = spsc::Channel::new();
    static SUM: AtomicUsize = AtomicUsize::new(0);
    RUNNER_THREAD.set(thread::current()).unwrap();

    let mut runner = EXECUTOR.runner().unwrap();
    let (mut tx, mut rx) = CHANNEL.split();
    runner
        .spawner()
        .spawn_uncancellable(&RECEIVER, move || async move {
            while let Some(value) = rx.recv().await {
                SUM.fetch_add(value as usize, Ordering::SeqCst);
            }
        })
        .unwrap();
    let sender = thread::spawn(move || {
        for value in 1..=MESSAGES {
            // Some sends find the receiver waiting (the runner idle), some find room.
            loop {
                match tx.try_send(value) {
                    Ok(()) => break,
                    Err(_) => thread::yield_now(),
                }
            }
            if value % 16 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        // Dropping the sender ends the receiver's loop.
    });

    run_until_stopped(&mut runner, || {
        if RECEIVER.is_empty() {
            std::panic::panic_any(Stop);
        }
        let parked = Instant::now();
        thread::park_timeout(Duration::from_secs(5));
        // The sender never pauses for long: a park that waited out its timeout missed a wake.
        assert!(
            parked.elapsed() < Duration::from_secs(5),
            "idle waited out its timeout: a wake-up was lost"
        );
    });
    sender.join().unwrap();
    let expected = (MESSAGES * (MESSAGES + 1) / 2) as usize;
    assert_eq!(SUM.load(Ordering::SeqCst), expected);
    assert!(HOOK_CALLS.load(Ordering::SeqCst) > 0);
}
