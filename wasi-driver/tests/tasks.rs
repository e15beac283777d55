//! Spawning, joining, aborting, pool limits and the runtime's lifecycle on a WASI host.
// Also on the host under Miri (the `miri` stage of `cargo xtask ci`), on the driver's host stub:
// it waits for timers with a thread sleep, so everything but the WASI calls runs there.
#![cfg(any(target_os = "wasi", miri))]

use std::rc::Rc;

use ebbtide_wasi::task::yield_now;
use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::{Runtime, SpawnError};

#[test]
fn spawn_and_join() {
    let runtime = Runtime::new().unwrap();
    let answer = runtime.block_on(async {
        let a = ebbtide_wasi::spawn(async { 40 }).unwrap();
        let b = ebbtide_wasi::spawn(async {
            yield_now().await;
            2
        })
        .unwrap();
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(answer, 42);
}

#[test]
fn runtime_spawn_before_block_on() {
    let runtime = Runtime::new().unwrap();
    let task = runtime.spawn(async { "early" }).unwrap();
    assert_eq!(runtime.block_on(task).unwrap(), "early");
}

#[test]
fn spawn_local_takes_non_send_futures() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let shared = Rc::new(5);
        let task = ebbtide_wasi::spawn_local(async move { *shared + 1 }).unwrap();
        assert_eq!(task.await.unwrap(), 6);
    });
}

#[test]
fn abort_gives_cancelled() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let task = ebbtide_wasi::spawn(sleep(Duration::from_secs(60))).unwrap();
        yield_now().await;
        task.abort();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.to_string(), "the task was aborted");
    });
}

#[test]
fn full_pool_is_an_error() {
    let runtime = Runtime::builder()
        .task_slots([2, 1, 1, 1])
        .fixed_task_memory()
        .build()
        .unwrap();
    runtime.block_on(async {
        let a = ebbtide_wasi::spawn(async {}).unwrap();
        let b = ebbtide_wasi::spawn(async {}).unwrap();
        let err = ebbtide_wasi::spawn(async {}).unwrap_err();
        assert!(matches!(err, SpawnError::PoolFull { capacity: 2, .. }));
        a.await.unwrap();
        b.await.unwrap();
        // Slots come back once tasks finish and their handles are gone.
        ebbtide_wasi::spawn(async {}).unwrap().await.unwrap();
    });
}

#[test]
fn dropping_the_runtime_cancels_its_tasks() {
    let runtime = Runtime::new().unwrap();
    let task = runtime.spawn(sleep(Duration::from_secs(60))).unwrap();
    runtime.block_on(yield_now());
    assert_eq!(runtime.task_count(), 1);
    drop(runtime);
    assert!(task.is_finished());
}

#[test]
fn runtimes_run_one_after_another() {
    for i in 0..3 {
        let runtime = Runtime::builder().task_capacity(8).build().unwrap();
        let value = runtime.block_on(async move {
            sleep(Duration::from_millis(1)).await;
            i
        });
        assert_eq!(value, i);
    }
}
