//! `spawn_blocking`: results come back, panics become errors, the pool is bounded, and the
//! runtime keeps running while a job blocks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use ebbtide_std::blocking::try_spawn_blocking;
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::{spawn_blocking, Runtime};

#[test]
fn results_come_back() {
    Runtime::new().unwrap().block_on(async {
        let text = spawn_blocking(|| String::from("from a pool thread"));
        let name = spawn_blocking(|| std::thread::current().name().map(str::to_owned));
        assert_eq!(text.await.unwrap(), "from a pool thread");
        assert_eq!(name.await.unwrap().as_deref(), Some("ebbtide-blocking"));
    });
}

#[test]
fn panics_become_join_error_panic() {
    Runtime::new().unwrap().block_on(async {
        let error = spawn_blocking(|| -> u32 { panic!("boom in a job") })
            .await
            .unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom in a job"));
        // The pool thread survived the panic.
        assert_eq!(spawn_blocking(|| 5).await.unwrap(), 5);
    });
}

#[test]
fn more_jobs_than_threads_all_complete() {
    let runtime = Runtime::builder().max_blocking_threads(3).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let sum = runtime.block_on(async {
        let handles: Vec<_> = (0..40u64)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(StdDuration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..40).sum::<u64>());
    let most = most.load(Ordering::SeqCst);
    assert!(
        (1..=3).contains(&most),
        "{most} jobs ran at once on 3 threads"
    );
}

#[test]
fn timers_fire_while_a_job_blocks() {
    Runtime::new().unwrap().block_on(async {
        let (release, gate) = mpsc::channel::<()>();
        let job = spawn_blocking(move || gate.recv().unwrap());
        // The job blocks until we say so; the runtime still runs timers and tasks.
        let start = StdInstant::now();
        let ticker = ebbtide_std::spawn(async {
            for _ in 0..5 {
                sleep(Duration::from_millis(2)).await;
            }
        })
        .unwrap();
        ticker.await.unwrap();
        assert!(!job.is_finished());
        release.send(()).unwrap();
        // The job's completion wakes this task through the reactor.
        timeout(Duration::from_secs(5), job).await.unwrap().unwrap();
        assert!(start.elapsed() < StdDuration::from_secs(5));
    });
}

#[test]
fn a_dropped_handle_does_not_stop_the_job() {
    Runtime::new().unwrap().block_on(async {
        let (done, finished) = mpsc::channel();
        drop(spawn_blocking(move || done.send(()).unwrap()));
        let waited = spawn_blocking(move || finished.recv_timeout(StdDuration::from_secs(5)));
        waited.await.unwrap().unwrap();
    });
}

#[test]
fn a_full_queue_refuses_try_spawn_blocking() {
    let runtime = Runtime::builder()
        .max_blocking_threads(1)
        .blocking_queue_capacity(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let (release, gate) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        let busy = spawn_blocking(move || {
            started.send(()).unwrap();
            gate.recv().unwrap()
        });
        // The one thread holds `busy` before the queue is filled, so no slot frees meanwhile.
        has_started
            .recv_timeout(StdDuration::from_secs(10))
            .unwrap();
        let mut queued = Vec::new();
        while let Ok(handle) = try_spawn_blocking(|| 1) {
            queued.push(handle);
            assert!(queued.len() <= 3, "the queue took more than its capacity");
        }
        assert!(!queued.is_empty());
        let refused = try_spawn_blocking(|| 2).unwrap_err();
        assert_eq!((refused.into_inner())(), 2);
        // spawn_blocking still queues past the capacity.
        let extra = spawn_blocking(|| 3);
        release.send(()).unwrap();
        busy.await.unwrap();
        for handle in queued {
            assert_eq!(handle.await.unwrap(), 1);
        }
        assert_eq!(extra.await.unwrap(), 3);
    });
}

#[test]
fn dropping_the_runtime_does_not_wait_for_running_jobs() {
    let runtime = Runtime::new().unwrap();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let handle = runtime.handle();
    runtime.block_on(async {
        drop(spawn_blocking(move || {
            started_tx.send(()).unwrap();
            gate.recv().ok();
        }));
    });
    started.recv_timeout(StdDuration::from_secs(5)).unwrap();
    let start = StdInstant::now();
    drop(runtime);
    assert!(start.elapsed() < StdDuration::from_secs(1));
    // After the shutdown, a job spawned through a surviving handle never runs.
    let late = handle.spawn_blocking(|| 1);
    assert!(late.is_finished());
    release.send(()).unwrap();
}
