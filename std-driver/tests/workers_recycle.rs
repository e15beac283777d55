//! Multi-worker runtimes built and dropped one after another keep the process flat: every
//! worker's parts (poller, task memory) go back to the bin on its own thread and serve the next
//! runtime, and the worker threads are joined.
//!
//! Alone in its test binary: it counts the process's file descriptors and threads.
#![cfg(target_os = "linux")]

use ebbtide_std::runtime::worker_index;
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn cycle(i: usize) {
    let runtime = Runtime::builder()
        .worker_threads(3)
        .task_capacity(64)
        .io_capacity(64)
        .build()
        .unwrap_or_else(|e| panic!("runtime {i} could not be built: {e}"));
    let handle = runtime.handle();
    let out = runtime.block_on(async move {
        let mut sum = 0;
        for worker in 0..3 {
            let task = handle
                .spawn_on(worker, async move {
                    sleep(Duration::from_micros(100)).await;
                    worker_index().unwrap()
                })
                .unwrap();
            sum += task.await.unwrap();
        }
        // Left running: cancelled by the drop.
        handle.spawn_on(2, std::future::pending::<()>()).unwrap();
        sum
    });
    assert_eq!(out, 3);
}

#[test]
fn multi_worker_runtimes_reuse_their_parts_and_join_their_threads() {
    for i in 0..5 {
        cycle(i);
    }
    let (fds, threads) = (count("/proc/self/fd"), count("/proc/self/task"));
    for i in 0..200 {
        cycle(i);
    }
    assert_eq!(count("/proc/self/fd"), fds);
    // Blocking-pool threads are not involved; the worker threads are joined by each drop.
    assert_eq!(count("/proc/self/task"), threads);
}
