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

/// A task of the 4 KiB class (2 KiB of state held across an await) that returns `i`.
async fn four_kib_task(i: usize) -> usize {
    let big = [i as u8; 2048];
    yield_now().await;
    std::hint::black_box(&big);
    i
}

#[test]
fn a_default_runtime_grows_past_its_reservation() {
    // The default reserves 64 slots of 4 KiB (task_capacity(256) / 4); the class grows.
    let n = if cfg!(miri) { 70 } else { 1_000 };
    let runtime = Runtime::new().unwrap();
    let reserved = runtime.task_capacity();
    assert_eq!(reserved, 256 + 128 + 64 + 16);
    assert_eq!(runtime.task_limit(), None);
    let sum = runtime.block_on(async move {
        let tasks: Vec<_> = (0..n)
            .map(|i| ebbtide_wasi::spawn(four_kib_task(i)).expect("memory grows"))
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
    assert!(runtime.task_capacity() >= reserved - 64 + n);
}

#[test]
fn task_limit_refuses_naming_the_setting() {
    let runtime = Runtime::builder()
        .task_capacity(8)
        .task_limit(16)
        .build()
        .unwrap();
    assert_eq!(runtime.task_limit(), Some(16 + 8 + 4 + 1));
    runtime.block_on(async {
        let mut tasks = Vec::new();
        let error = loop {
            match ebbtide_wasi::spawn(four_kib_task(tasks.len())) {
                Ok(task) => tasks.push(task),
                Err(error) => break error,
            }
        };
        assert_eq!(tasks.len(), 4);
        assert!(matches!(error, SpawnError::PoolFull { capacity: 4, .. }));
        assert!(error.to_string().contains("Builder::task_limit"), "{error}");
        for task in tasks {
            task.await.unwrap();
        }
    });
}
