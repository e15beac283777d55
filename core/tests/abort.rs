//! Aborting tasks: the future is dropped at its next scheduling point, never polled again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use ebbtide_core::{task::yield_now, Executor, JoinError, TaskPool};

/// Counts its drops in the counter it is given: one counter per test, since the tests of this
/// file run in parallel and would otherwise see each other's drops.
struct CountDrop(&'static AtomicUsize);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn abort_before_the_first_poll_never_polls() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            unreachable!("an aborted task must not be polled")
        })
        .unwrap();
    handle.abort();
    handle.abort(); // twice is harmless
    let result: Result<(), JoinError> = runner.run_until(handle, || {});
    assert_eq!(result, Err(JoinError::Cancelled));
    assert!(POOL.is_empty());
}

#[test]
fn abort_of_a_yielding_task_stops_it_at_its_next_poll() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let _guard = CountDrop(&DROPS);
            loop {
                POLLS.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
            }
        })
        .unwrap();
    runner.poll();
    runner.poll();
    assert_eq!(POLLS.load(Ordering::SeqCst), 2);
    let drops_before = DROPS.load(Ordering::SeqCst);
    handle.abort();
    assert!(
        !handle.is_finished(),
        "dropped at the next scheduling point, not inside abort()"
    );
    runner.poll();
    assert_eq!(POLLS.load(Ordering::SeqCst), 2, "no poll after abort");
    assert_eq!(DROPS.load(Ordering::SeqCst), drops_before + 1);
    assert!(handle.is_finished());
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Cancelled));
}

#[test]
fn abort_after_completion_keeps_the_output() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner.spawner().spawn(&POOL, async { 9 }).unwrap();
    runner.poll();
    handle.abort();
    assert_eq!(runner.run_until(handle, || {}), Ok(9));
}

#[test]
fn abort_from_inside_the_task_itself() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    static SLOT: std::sync::Mutex<Option<ebbtide_core::JoinHandle<()>>> =
        std::sync::Mutex::new(None);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let _guard = CountDrop(&DROPS);
            yield_now().await; // let main store our handle
            SLOT.lock().unwrap().as_ref().unwrap().abort();
            // Still running this poll; dropped before the next one.
            core::future::poll_fn(|_| Poll::<()>::Pending).await;
        })
        .unwrap();
    *SLOT.lock().unwrap() = Some(handle);
    let before = DROPS.load(Ordering::SeqCst);
    while runner.poll() {}
    assert!(DROPS.load(Ordering::SeqCst) > before);
    let handle = SLOT.lock().unwrap().take().unwrap();
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Cancelled));
}

#[test]
fn abort_from_another_thread() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let _guard = CountDrop(&DROPS);
            core::future::pending::<()>().await
        })
        .unwrap();
    runner.poll();
    let handle = std::thread::spawn(move || {
        handle.abort();
        handle
    })
    .join()
    .unwrap();
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Cancelled));
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the future is dropped once"
    );
    assert!(POOL.is_empty());
}
