//! Time on the std runtime: sleeps, embassy-time's Timer and Ticker, and no busy polling.

use ebbtide_std::time::{interval, sleep, sleep_until, timeout, Duration, Instant};
use ebbtide_std::Runtime;

#[test]
fn sleep_waits_at_least_its_duration() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = std::time::Instant::now();
        sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    });
}

#[test]
// Timers that come due in the same turn of the loop are woken together, in no promised order.
// Miri's clock advances with every basic block it interprets, so all 20 come due at once there.
#[cfg_attr(
    miri,
    ignore = "Miri's clock passes every deadline before the first timer fires"
)]
fn many_timers_fire_in_deadline_order() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        // Every deadline counts from one instant, 2 ms apart, so that the order does not depend
        // on when each task first runs (a preempted batch would shift the later ones).
        let start = Instant::now();
        for i in (0..20u64).rev() {
            let order = order.clone();
            handles.push(
                ebbtide_std::spawn(async move {
                    sleep_until(start + Duration::from_millis(2 + i * 2)).await;
                    order.lock().unwrap().push(i);
                })
                .unwrap(),
            );
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn embassy_time_timer_and_ticker_run_on_the_std_driver() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = embassy_time::Instant::now();
        embassy_time::Timer::after_millis(10).await;
        assert!(start.elapsed() >= embassy_time::Duration::from_millis(10));
        let mut ticker = embassy_time::Ticker::every(embassy_time::Duration::from_millis(2));
        for _ in 0..3 {
            ticker.next().await;
        }
        assert!(start.elapsed() >= embassy_time::Duration::from_millis(14));
    });
}

#[test]
fn interval_ticks_on_the_real_clock() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(5));
        for _ in 0..4 {
            ticks.tick().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(15));
    });
}

#[test]
fn timeout_of_a_pending_future_fires() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let result = timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
        assert!(result.is_err());
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "starts the ebbtide-timers thread, which lives as long as the process"
)]
fn a_sleep_on_another_thread_fires_while_a_runtime_waits() {
    // A foreign executor (a plain thread polling a future) next to a runtime that waits: its
    // timer goes to ebbtide-std's timer thread (`time/foreign.rs`), and fires on time while the
    // runtime sleeps through it.
    let runtime = Runtime::new().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let start = std::time::Instant::now();
        ebbtide_core::block_on(sleep(Duration::from_millis(30)));
        tx.send(start.elapsed()).unwrap();
    });
    runtime.block_on(sleep(Duration::from_millis(200)));
    thread.join().unwrap();
    let waited = rx.recv().unwrap();
    // Never early, by `std::time::Instant` (the deadline is rounded up by a tick).
    assert!(
        waited >= std::time::Duration::from_millis(30),
        "woke after {waited:?}"
    );
}
