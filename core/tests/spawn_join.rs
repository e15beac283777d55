//! Spawning tasks and awaiting their output through `JoinHandle`.

use ebbtide_core::{task::yield_now, Executor, JoinError, SendSpawner, TaskPool};

#[test]
fn output_comes_back_through_the_handle() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async { String::from("hi") })
        .unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(String::from("hi")));
    assert!(
        POOL.is_empty(),
        "slot must be freed once the handle is gone"
    );
}

#[test]
fn tasks_run_in_spawn_order_and_interleave_on_yield() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    static LOG: std::sync::Mutex<Vec<(u8, u8)>> = std::sync::Mutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let handles: Vec<_> = (0..3u8)
        .map(|id| {
            spawner
                .spawn(&POOL, async move {
                    for step in 0..2u8 {
                        LOG.lock().unwrap().push((id, step));
                        yield_now().await;
                    }
                    id
                })
                .unwrap()
        })
        .collect();
    let outputs = runner.run_until(
        async {
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap());
            }
            out
        },
        || {},
    );
    assert_eq!(outputs, vec![0, 1, 2]);
    let log = LOG.lock().unwrap().clone();
    if cfg!(feature = "lifo-batches") {
        // Each round newest first: spawned 0, 1, 2, they run 2, 1, 0 and yield in that order,
        // so the next round runs 0, 1, 2.
        assert_eq!(log, vec![(2, 0), (1, 0), (0, 0), (0, 1), (1, 1), (2, 1)]);
    } else {
        assert_eq!(log, vec![(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
    }
}

#[test]
fn nested_spawn_and_detach() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let runner = EXECUTOR.runner().unwrap();
    let h = runner
        .spawner()
        .spawn(&POOL, async {
            let spawner = SendSpawner::for_current_executor().await;
            // Detached: its handle is dropped at once.
            drop(
                spawner
                    .spawn(&POOL, async {
                        DONE.store(true, std::sync::atomic::Ordering::SeqCst)
                    })
                    .unwrap(),
            );
            let child = spawner.spawn(&POOL, async { 5u64 }).unwrap();
            child.await.unwrap() + 1
        })
        .unwrap();
    assert_eq!(runner.run_until(h, || {}), Ok(6));
    while runner.poll() {}
    assert!(DONE.load(std::sync::atomic::Ordering::SeqCst));
    assert!(POOL.is_empty());
}

#[test]
fn abort_drops_the_future() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    struct Flag;
    static DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    impl Drop for Flag {
        fn drop(&mut self) {
            DROPPED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let runner = EXECUTOR.runner().unwrap();
    let h = runner
        .spawner()
        .spawn(&POOL, async {
            let _f = Flag;
            core::future::pending::<()>().await
        })
        .unwrap();
    runner.poll();
    assert!(!h.is_finished());
    h.abort();
    assert_eq!(runner.run_until(h, || {}), Err(JoinError::Cancelled));
    assert!(DROPPED.load(std::sync::atomic::Ordering::SeqCst));
    assert!(POOL.is_empty());
}
