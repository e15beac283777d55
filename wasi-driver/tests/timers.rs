//! Timers on a WASI host: sleep order, timeout, interval.
// Also on the host under Miri (the `miri` stage of `cargo xtask ci`), on the driver's host stub:
// it waits for timers with a thread sleep, so everything but the WASI calls runs there.
#![cfg(any(target_os = "wasi", miri))]

use std::cell::RefCell;
use std::rc::Rc;

use ebbtide_wasi::time::{interval, sleep, timeout, Duration, Instant};
use ebbtide_wasi::Runtime;

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's clock advances with every instruction it interprets: a task's first poll \
              takes more of it than the 5 ms between these deadlines"
)]
fn sleeps_wake_in_deadline_order() {
    let runtime = Runtime::new().unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    runtime.block_on(async {
        let mut handles = Vec::new();
        for ms in [30u64, 10, 20, 0, 5] {
            let order = order.clone();
            handles.push(
                ebbtide_wasi::spawn_local(async move {
                    let start = Instant::now();
                    sleep(Duration::from_millis(ms)).await;
                    assert!(start.elapsed() >= Duration::from_millis(ms));
                    order.borrow_mut().push(ms);
                })
                .unwrap(),
            );
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), [0, 5, 10, 20, 30]);
}

#[test]
fn sleep_waits_at_least_its_duration() {
    let runtime = Runtime::new().unwrap();
    let elapsed = runtime.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(25)).await;
        start.elapsed()
    });
    assert!(elapsed >= Duration::from_millis(25), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn sub_millisecond_sleep_is_not_early() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        for _ in 0..20 {
            let start = Instant::now();
            sleep(Duration::from_micros(300)).await;
            assert!(start.elapsed() >= Duration::from_micros(300));
        }
    });
}

#[test]
fn timeout_fires_and_passes() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let late = timeout(Duration::from_millis(5), sleep(Duration::from_secs(10))).await;
        assert!(late.is_err());
        let on_time = timeout(Duration::from_secs(10), async {
            sleep(Duration::from_millis(1)).await;
            7
        })
        .await;
        assert_eq!(on_time.unwrap(), 7);
    });
}

#[test]
fn interval_ticks_at_its_period() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(10));
        for _ in 0..5 {
            ticks.tick().await;
        }
        // The first tick is immediate: four periods passed.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(40), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    });
}

#[test]
fn many_concurrent_sleepers() {
    let runtime = Runtime::builder().task_capacity(200).build().unwrap();
    runtime.block_on(async {
        let handles: Vec<_> = (0..150u64)
            .map(|i| {
                ebbtide_wasi::spawn(async move {
                    sleep(Duration::from_millis(i % 17)).await;
                    i
                })
                .unwrap()
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        assert_eq!(sum, (0..150).sum());
    });
}

#[test]
fn a_far_timer_does_not_break_the_wait() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let far = ebbtide_wasi::spawn(sleep(Duration::from_secs(10 * 365 * 86_400))).unwrap();
        let late = timeout(
            Duration::from_millis(3),
            sleep(Duration::from_secs(1_000_000)),
        )
        .await;
        assert!(late.is_err());
        far.abort();
    });
}
