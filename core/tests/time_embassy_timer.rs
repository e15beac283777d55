//! embassy-time's own `Timer` and `Ticker` run on ebbtide tasks, timed by the mock driver.

use ebbtide_core::time::{Duration, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

fn idle() {
    assert!(
        MockDriver::advance_to_next_deadline(),
        "deadlock: no timer can wake the test"
    );
}

#[test]
fn embassy_timer_after_millis() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            embassy_time::Timer::after_millis(25).await;
            (embassy_time::Instant::now().as_millis(), Instant::now())
        })
        .unwrap();
    assert_eq!(
        runner.run_until(handle, idle),
        Ok((25, Instant::from_millis(25)))
    );
}

#[test]
fn embassy_ticker_every() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let mut ticker = embassy_time::Ticker::every(embassy_time::Duration::from_millis(5));
            let mut at = Vec::new();
            for _ in 0..4 {
                ticker.next().await;
                at.push(Instant::now());
            }
            at
        })
        .unwrap();
    let at = runner.run_until(handle, idle).unwrap();
    let expected: Vec<_> = (1..=4).map(|i| Instant::from_millis(5 * i)).collect();
    assert_eq!(at, expected);
}

#[test]
fn embassy_and_ebbtide_timers_share_the_queue() {
    const N: usize = if cfg!(miri) { 10 } else { 500 };
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<N> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handles: Vec<_> = (0..N as u64)
        .map(|i| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    // embassy-time's `Timer::after` ends at `now + d`; ebbtide's `sleep` one tick
                    // later (it rounds the deadline up, so it never ends early).
                    let due = if i % 2 == 0 {
                        embassy_time::Timer::after_micros(i * 3 + 1).await;
                        i * 3 + 1
                    } else {
                        ebbtide_core::time::sleep(Duration::from_micros(i * 3 + 1)).await;
                        i * 3 + 2
                    };
                    Instant::now() == Instant::from_micros(due)
                })
                .unwrap()
        })
        .collect();
    let on_time = runner.run_until(
        async {
            let mut on_time = 0;
            for handle in handles {
                on_time += handle.await.unwrap() as usize;
            }
            on_time
        },
        idle,
    );
    assert_eq!(on_time, N);
}
