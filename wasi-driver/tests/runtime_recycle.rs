//! Dropping a runtime gives its memory back for the next one: a thousand runtimes built and
//! dropped one after another keep the memory flat (they reuse the first one's parts).
//!
//! Runs on the host too (timers work with the host stub); RSS is checked where /proc is.

use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::Runtime;

/// Resident memory in bytes, where the platform tells.
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn a_thousand_runtimes_keep_memory_flat() {
    let cycle = |i: usize| {
        let runtime = Runtime::new().unwrap();
        let out = runtime.block_on(async move {
            let task = ebbtide_wasi::spawn(async move {
                sleep(Duration::from_micros(100)).await;
                i
            })
            .unwrap();
            task.await.unwrap()
        });
        assert_eq!(out, i);
    };
    cycle(0);
    let first = rss_bytes();
    for i in 1..1000 {
        cycle(i);
        if let (Some(first), Some(now)) = (first, rss_bytes()) {
            let grown = now.saturating_sub(first);
            assert!(
                grown < 8 << 20,
                "after {} runtimes RSS grew by {} KiB since the first",
                i + 1,
                grown >> 10
            );
        }
    }
}
