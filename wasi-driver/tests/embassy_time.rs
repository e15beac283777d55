//! embassy-time's `Timer` and `Ticker` on the WASI time driver.
#![cfg(target_os = "wasi")]

use ebbtide_wasi::Runtime;

#[test]
fn embassy_timer_and_ticker() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = embassy_time::Instant::now();
        embassy_time::Timer::after_millis(15).await;
        assert!(start.elapsed() >= embassy_time::Duration::from_millis(15));

        let mut ticker = embassy_time::Ticker::every(embassy_time::Duration::from_millis(5));
        let start = embassy_time::Instant::now();
        for _ in 0..3 {
            ticker.next().await;
        }
        assert!(start.elapsed() >= embassy_time::Duration::from_millis(15));
    });
}

#[test]
fn clocks_agree() {
    let a = embassy_time::Instant::now().as_micros();
    let b = ebbtide_wasi::time::Instant::now().as_micros();
    let c = embassy_time::Instant::now().as_micros();
    assert!(a <= b && b <= c);
}
