//! `timeout` and `timeout_at`: the inner future wins when it is first, the deadline otherwise.

use std::sync::atomic::{AtomicBool, Ordering};

use ebbtide_core::time::{sleep, timeout, timeout_at, Duration, Elapsed, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

fn idle() {
    assert!(
        MockDriver::advance_to_next_deadline(),
        "deadlock: no timer can wake the test"
    );
}

#[test]
fn inner_future_completes_first() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let result = timeout(Duration::from_millis(100), async {
                sleep(Duration::from_millis(30)).await;
                "done"
            })
            .await;
            (result, Instant::now())
        })
        .unwrap();
    assert_eq!(
        runner.run_until(handle, idle),
        // `sleep` and `timeout` round their deadlines up by a tick (never early).
        Ok((Ok("done"), Instant::from_micros(30_001)))
    );
}

#[test]
fn deadline_first_gives_elapsed_and_drops_the_inner_future() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static DROPPED: AtomicBool = AtomicBool::new(false);
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            DROPPED.store(true, Ordering::SeqCst);
        }
    }
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let result = timeout_at(Instant::from_millis(20), async {
                let _guard = Guard;
                sleep(Duration::from_secs(60)).await;
                "too late"
            })
            .await;
            (result, Instant::now(), DROPPED.load(Ordering::SeqCst))
        })
        .unwrap();
    let (result, at, dropped) = runner.run_until(handle, idle).unwrap();
    assert_eq!(result, Err(Elapsed::new()));
    assert_eq!(
        at,
        Instant::from_millis(20),
        "the timeout fired at the wrong time"
    );
    assert!(
        dropped,
        "the inner future must be dropped once the timeout has fired"
    );
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn inner_future_is_polled_first_on_a_tie() {
    let _clock = MockDriver::lock_for_test();
    let result = ebbtide_core::block_on_with_idle(
        timeout(Duration::from_millis(10), sleep(Duration::from_millis(10))),
        idle,
    );
    assert_eq!(result, Ok(()));
    assert_eq!(Instant::now(), Instant::from_micros(10_001));
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn pending_forever_times_out_on_a_foreign_executor() {
    let _clock = MockDriver::lock_for_test();
    let result = ebbtide_core::block_on_with_idle(
        timeout(Duration::from_millis(7), core::future::pending::<u8>()),
        idle,
    );
    assert_eq!(result, Err(Elapsed::new()));
    assert_eq!(Instant::now(), Instant::from_micros(7_001));
    assert_eq!(Elapsed::new().to_string(), "deadline has elapsed");
}
