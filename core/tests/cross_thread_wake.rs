//! Waking and spawning from other threads reaches the executor and calls its wake hook.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::Duration;

use ebbtide_core::{Executor, TaskPool};

#[test]
fn a_wake_from_another_thread_calls_the_hook_and_runs_the_task() {
    static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
    fn hook() {
        HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
    }
    static EXECUTOR: Executor = Executor::with_wake_hook(&hook);
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    static GO: AtomicUsize = AtomicUsize::new(0);

    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            core::future::poll_fn(|cx| {
                if GO.load(Ordering::SeqCst) == 1 {
                    return Poll::Ready("woken");
                }
                *WAKER.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }),
        )
        .unwrap();
    let calls_after_spawn = HOOK_CALLS.load(Ordering::SeqCst);
    assert!(!runner.poll(), "the task parked; nothing is ready");
    assert!(!handle.is_finished());

    let thread = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(10));
        GO.store(1, Ordering::SeqCst);
        WAKER.lock().unwrap().take().unwrap().wake();
    });
    // Wait the way a driver would: until the hook says a task is ready.
    while HOOK_CALLS.load(Ordering::SeqCst) == calls_after_spawn {
        std::thread::yield_now();
    }
    thread.join().unwrap();
    runner.poll();
    assert!(handle.is_finished());
    assert_eq!(runner.run_until(handle, || {}), Ok("woken"));
}

#[test]
fn many_threads_spawn_through_a_send_spawner() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<64, 64> = TaskPool::new();
    static SUM: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let spawner = EXECUTOR.send_spawner();
            std::thread::spawn(move || {
                (0..8)
                    .map(|i| {
                        spawner
                            .spawn(
                                &POOL,
                                async move { SUM.fetch_add(t * 8 + i, Ordering::SeqCst) },
                            )
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    runner.run_until(
        async {
            for h in handles {
                h.await.unwrap();
            }
        },
        || {},
    );
    assert_eq!(SUM.load(Ordering::SeqCst), (0..32).sum::<usize>());
    assert!(POOL.is_empty());
}
