//! Builds, uses and drops 1,000 runtimes on fresh threads, and prints the open file descriptors
//! and the resident memory after the first and after the last (Linux: /proc/self).
//!
//! ```text
//! cargo run --release -p ebbtide-std --example runtime_cycles
//! ```

use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Resident memory in KiB (VmRSS).
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One cycle, on a new thread (as libtest runs each test): build, spawn and join a task that
/// sleeps, drop.
fn cycle(i: usize) {
    std::thread::spawn(move || {
        let runtime = Runtime::new().unwrap();
        let answer = runtime.block_on(async move {
            let task = ebbtide_std::spawn(async move {
                sleep(Duration::from_micros(100)).await;
                i
            })
            .unwrap();
            task.await.unwrap()
        });
        assert_eq!(answer, i);
    })
    .join()
    .unwrap();
}

fn main() {
    cycle(0);
    let (fds, rss) = (open_fds(), rss_kib());
    println!("after 1 runtime:     {fds} fds open, RSS {rss} KiB");
    for i in 1..1000 {
        cycle(i);
    }
    let (fds, rss) = (open_fds(), rss_kib());
    println!("after 1000 runtimes: {fds} fds open, RSS {rss} KiB");
}
