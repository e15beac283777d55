//! The paused clock: `#[ebbtide_std::test(start_paused = true)]`, `time::{pause, advance,
//! resume}`, and deadlines given as `std::time::Instant`.
//!
//! A paused runtime's clock is its own: the last tests check that other runtimes of the process
//! keep real time meanwhile, and that a runtime built after a paused one starts on real time.

use std::sync::{Arc, Mutex};
use std::thread;

use ebbtide_std::time::{
    self, interval, sleep, sleep_until, timeout, timeout_at, Duration, Instant,
};

/// What a `sleep(d)` that started at `start` reads when it wakes on a paused clock: its deadline,
/// which `sleep` rounds up by one tick.
fn woke_at(start: Instant, d: Duration) -> Instant {
    start + d + Duration::from_ticks(1)
}

#[ebbtide_std::test(start_paused = true)]
async fn an_hour_of_sleep_takes_no_real_hour() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(Instant::now(), woke_at(start, Duration::from_secs(3600)));
    // Not a speed check: an hour is far beyond any slow machine.
    assert!(real.elapsed() < std::time::Duration::from_secs(600));
}

#[ebbtide_std::test(start_paused = true)]
async fn timers_fire_in_deadline_order_at_their_exact_deadline() {
    let start = Instant::now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for minutes in [30u64, 10, 20, 10, 45] {
        let log = log.clone();
        tasks.push(
            ebbtide_std::spawn(async move {
                sleep(Duration::from_secs(minutes * 60)).await;
                log.lock().unwrap().push((minutes, Instant::now()));
            })
            .unwrap(),
        );
    }
    for task in tasks {
        task.await.unwrap();
    }
    let log = log.lock().unwrap().clone();
    let minutes: Vec<u64> = log.iter().map(|&(m, _)| m).collect();
    assert_eq!(minutes, [10, 10, 20, 30, 45]);
    for (m, at) in log {
        assert_eq!(at, woke_at(start, Duration::from_secs(m * 60)));
    }
}

#[ebbtide_std::test(start_paused = true)]
async fn advance_moves_the_clock_and_wakes_what_came_due() {
    let start = Instant::now();
    let task = ebbtide_std::spawn(async {
        sleep(Duration::from_secs(10)).await;
        Instant::now()
    })
    .unwrap();
    ebbtide_std::task::yield_now().await; // the task sets its timer
    time::advance(Duration::from_secs(5)).await;
    assert_eq!(Instant::now(), start + Duration::from_secs(5));
    assert!(!task.is_finished());
    // `std::time::Duration` works too.
    time::advance(std::time::Duration::from_secs(5)).await;
    assert!(!task.is_finished(), "the deadline is one tick past 10 s");
    time::advance(Duration::from_ticks(1)).await;
    assert_eq!(
        task.await.unwrap(),
        start + Duration::from_secs(10) + Duration::from_ticks(1)
    );
}

#[ebbtide_std::test(start_paused = true)]
async fn timeout_and_interval_run_on_the_paused_clock() {
    let start = Instant::now();
    let elapsed = timeout(Duration::from_secs(30), std::future::pending::<()>()).await;
    assert!(elapsed.is_err());
    assert_eq!(Instant::now(), woke_at(start, Duration::from_secs(30)));

    let start = Instant::now();
    let mut ticks = interval(Duration::from_secs(60));
    for n in 0..5u64 {
        let at = ticks.tick().await;
        assert_eq!(at, start + Duration::from_secs(60 * n));
    }
    assert_eq!(Instant::now(), start + Duration::from_secs(240));
}

#[ebbtide_std::test(start_paused = true)]
async fn a_blocking_job_in_flight_holds_the_clock() {
    // Tokio's rule: the clock does not jump while a blocking job runs, so the job wins the race
    // against a (virtual) 10 s timeout although it takes 30 ms of real time.
    let job = ebbtide_std::task::spawn_blocking(|| {
        thread::sleep(std::time::Duration::from_millis(30));
        7
    });
    let start = Instant::now();
    let answer = timeout(Duration::from_secs(10), job).await;
    assert_eq!(
        answer
            .expect("the clock jumped past a running job")
            .unwrap(),
        7
    );
    assert!(Instant::now() - start < Duration::from_secs(10));
}

// One worker, whatever `EBBTIDE_WORKER_THREADS` says: `pause` needs one.
#[ebbtide_std::test(worker_threads = 1)]
async fn resume_lets_time_flow_again_ahead_by_what_was_advanced() {
    let start = Instant::now();
    time::pause();
    time::advance(Duration::from_secs(3600)).await;
    time::resume();
    let real = std::time::Instant::now();
    sleep(Duration::from_millis(5)).await;
    assert!(
        real.elapsed() >= std::time::Duration::from_millis(5),
        "a resumed clock is real"
    );
    assert!(Instant::now() - start >= Duration::from_secs(3600) + Duration::from_millis(5));
    // Paused again, from where it stands.
    time::pause();
    let at = Instant::now();
    sleep(Duration::from_secs(60)).await;
    assert_eq!(Instant::now(), woke_at(at, Duration::from_secs(60)));
}

#[test]
#[should_panic(expected = "outside an ebbtide runtime")]
fn pause_outside_a_runtime_panics() {
    time::pause();
}

#[ebbtide_std::test]
#[should_panic(expected = "not paused")]
async fn advance_without_pause_panics() {
    time::advance(Duration::from_secs(1)).await;
}

#[ebbtide_std::test(start_paused = true)]
#[should_panic(expected = "already paused")]
async fn pausing_twice_panics() {
    time::pause();
}

#[test]
fn other_runtimes_keep_real_time_while_one_is_paused() {
    let paused = thread::spawn(|| {
        let runtime = ebbtide_std::Runtime::builder()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..2_000 {
                sleep(Duration::from_secs(3600)).await;
            }
            Instant::now() - start
        })
    });
    let runtime = ebbtide_std::Runtime::new().unwrap();
    for _ in 0..20 {
        let real = std::time::Instant::now();
        let start = Instant::now();
        runtime.block_on(sleep(Duration::from_millis(3)));
        // Never early by the real clock, and the runtime's clock is the real one.
        assert!(real.elapsed() >= std::time::Duration::from_millis(3));
        let ticks = (Instant::now() - start).as_ticks();
        assert!(
            ticks < 3_600_000_000,
            "this runtime saw the paused clock jump"
        );
    }
    let virtual_elapsed = paused.join().unwrap();
    assert!(virtual_elapsed >= Duration::from_secs(2_000 * 3600));
}

#[test]
fn a_runtime_after_a_paused_one_starts_on_real_time() {
    for _ in 0..3 {
        let runtime = ebbtide_std::Runtime::builder()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(sleep(Duration::from_secs(3600 * 24)));
        drop(runtime);
        // The next runtime on this thread reuses the parts; its clock is real.
        let runtime = ebbtide_std::Runtime::new().unwrap();
        let real = std::time::Instant::now();
        runtime.block_on(sleep(Duration::from_millis(2)));
        assert!(real.elapsed() >= std::time::Duration::from_millis(2));
    }
}

#[ebbtide_std::test]
async fn deadlines_from_std_instants_are_never_early() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..200u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = std::time::Duration::from_micros(100 + seed % 2_000);
        let target = std::time::Instant::now() + wait;
        if round % 2 == 0 {
            sleep_until(target).await;
        } else {
            let _ = timeout_at(target, std::future::pending::<()>()).await;
        }
        let now = std::time::Instant::now();
        assert!(now >= target, "woke {:?} early", target - now);
    }
    // A deadline in the past completes at once.
    sleep_until(std::time::Instant::now() - std::time::Duration::from_secs(1)).await;
}

#[ebbtide_std::test(start_paused = true)]
async fn ready_io_goes_before_the_clock_jumps() {
    use ebbtide_std::net::UdpSocket;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let start = Instant::now();
    for round in 0..20u8 {
        let sender = ebbtide_std::spawn(async move {
            ebbtide_std::task::yield_now().await;
            let out = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            out.send_to(&[round], addr).await.unwrap();
        })
        .unwrap();
        let mut buf = [0u8; 1];
        // The root future waits for the datagram; the timeout's 1 s timer is the only one.
        let got = timeout(Duration::from_secs(1), socket.recv(&mut buf)).await;
        assert_eq!(got.expect("IO was ready").unwrap(), 1);
        assert_eq!(buf[0], round);
        sender.await.unwrap();
    }
    assert_eq!(
        Instant::now(),
        start,
        "the paused clock jumped while a datagram was ready"
    );
}

/// A paused clock runs on one worker (each worker has its own clock): the environment's worker
/// count is ignored, and an explicit one above 1 is refused with a clear error.
#[test]
fn a_paused_runtime_has_one_worker() {
    let runtime = ebbtide_std::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap();
    assert_eq!(runtime.handle().worker_count(), 1);
    let Err(error) = ebbtide_std::Runtime::builder()
        .worker_threads(2)
        .start_paused(true)
        .build()
    else {
        panic!("two paused workers built");
    };
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("one worker"), "{error}");
    let one = ebbtide_std::Runtime::builder()
        .worker_threads(1)
        .start_paused(true)
        .build()
        .unwrap();
    assert_eq!(one.handle().worker_count(), 1);
}

/// `time::pause` on a runtime of several workers panics, as Tokio's does outside its
/// current-thread runtime: each worker has its own clock, and tasks that move between workers
/// would see two. Parts reused from such a runtime by a runtime of one worker pause again.
#[test]
fn pause_on_a_runtime_of_several_workers_panics() {
    for _ in 0..2 {
        let runtime = ebbtide_std::Runtime::builder()
            .worker_threads(2)
            .build()
            .unwrap();
        let refused = runtime.block_on(async {
            std::panic::catch_unwind(ebbtide_std::time::pause).expect_err("refused")
        });
        let message = refused
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| refused.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(message.contains("one worker"), "{message}");
        // On a worker thread too.
        let on_worker = runtime.block_on(async {
            ebbtide_std::Handle::current()
                .spawn_on(1, async {
                    std::panic::catch_unwind(ebbtide_std::time::pause).is_err()
                })
                .unwrap()
                .await
                .unwrap()
        });
        assert!(on_worker);
        drop(runtime);
        // The same parts, one worker: the clock pauses.
        let one = ebbtide_std::Runtime::builder()
            .worker_threads(1)
            .start_paused(true)
            .build()
            .unwrap();
        one.block_on(async {
            let start = ebbtide_std::time::Instant::now();
            ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_secs(60)).await;
            assert!(start.elapsed() >= ebbtide_std::time::Duration::from_secs(60));
        });
        drop(one);
        let one_again = ebbtide_std::Runtime::builder()
            .worker_threads(1)
            .build()
            .unwrap();
        one_again.block_on(async { ebbtide_std::time::pause() });
    }
}
