//! Tasks on the std runtime: capacity errors, panics, shutdown, cross-thread spawns.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::{Handle, JoinError, Runtime, SpawnError};

#[test]
fn spawning_past_capacity_is_an_error_and_the_runtime_keeps_running() {
    let runtime = Runtime::builder()
        .task_slots([4, 1, 1, 1])
        .fixed_task_memory()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut handles = Vec::new();
        for i in 0..4 {
            handles.push(
                ebbtide_std::spawn(async move {
                    sleep(Duration::from_millis(5)).await;
                    i
                })
                .unwrap(),
            );
        }
        let err = ebbtide_std::spawn(async { 99 }).unwrap_err();
        assert!(
            matches!(err, SpawnError::PoolFull { capacity: 4, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("256 bytes"), "{err}");
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, 6);
        // Slots came back: spawning works again.
        assert_eq!(ebbtide_std::spawn(async { 7 }).unwrap().await.unwrap(), 7);
    });
}

#[test]
fn a_panicking_task_yields_its_payload_and_others_continue() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let bad = ebbtide_std::spawn(async {
            sleep(Duration::from_millis(1)).await;
            panic!("task exploded");
        })
        .unwrap();
        let good = ebbtide_std::spawn(async {
            sleep(Duration::from_millis(3)).await;
            "fine"
        })
        .unwrap();
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("task exploded"));
        assert_eq!(good.await.unwrap(), "fine");
    });
}

#[test]
fn abort_cancels_a_sleeping_task() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let long = ebbtide_std::spawn(sleep(Duration::from_secs(3600))).unwrap();
        sleep(Duration::from_millis(1)).await;
        long.abort();
        let result = timeout(Duration::from_secs(5), long)
            .await
            .expect("abort is prompt");
        assert!(matches!(result, Err(JoinError::Cancelled)));
    });
}

#[test]
fn dropping_the_runtime_drops_every_task() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    {
        let runtime = Runtime::new().unwrap();
        let d = dropped.clone();
        runtime.block_on(async move {
            for _ in 0..10 {
                let flag = Flag(d.clone());
                // Detached tasks that would never finish on their own.
                drop(ebbtide_std::spawn(async move {
                    let _flag = flag;
                    sleep(Duration::from_secs(3600)).await;
                }));
            }
            sleep(Duration::from_millis(1)).await;
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 0);
        assert_eq!(runtime.metrics().tasks(), 10);
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        10,
        "shutdown drops every task"
    );
}

#[test]
fn spawn_from_another_thread_wakes_the_waiting_runtime() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        handle
            .spawn(async move { d.store(true, Ordering::SeqCst) })
            .unwrap()
    });
    runtime.block_on(async {
        // Wait (in the OS) until the remote task has run; bounded.
        timeout(Duration::from_secs(5), async {
            while !done.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap();
    });
    let task = thread.join().unwrap();
    assert!(runtime.block_on(task).is_ok());
}

#[test]
fn spawn_local_runs_non_send_futures() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let counter = std::rc::Rc::new(std::cell::Cell::new(0));
        let c = counter.clone();
        ebbtide_std::spawn_local(async move { c.set(c.get() + 1) })
            .unwrap()
            .await
            .unwrap();
        assert_eq!(counter.get(), 1);
    });
}

#[test]
#[should_panic(expected = "Cannot start an ebbtide runtime from within a runtime")]
fn block_on_inside_a_runtime_panics_clearly() {
    let outer = Runtime::new().unwrap();
    let inner = Runtime::new().unwrap();
    outer.block_on(async { inner.block_on(async {}) });
}

#[test]
fn handle_current_outside_a_runtime_is_none() {
    assert!(Handle::try_current().is_none());
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async { assert!(Handle::try_current().is_some()) });
}
