//! How late (and how often early) ebbtide-std's `sleep` ends, measured by `std::time::Instant`.
//!
//! 10,000 sleeps of 100 µs to 5 ms (xorshift64, fixed seed), in batches of 200 concurrent tasks,
//! on `Runtime::new()`. Two modes: "idle" (only the sleeping tasks) and "busy" (one extra task
//! loops `yield_now().await` plus a little work while the batches run). For each mode prints the
//! count of early wakes (elapsed < requested) and lateness (elapsed - requested) p50, p90, p99,
//! p99.9 and max in µs.
//!
//! ```text
//! cargo build --release -p ebbtide-std --example timer_lateness
//! target/release/examples/timer_lateness
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ebbtide_std::time::{sleep, Duration};

/// Sleeps per mode.
const N: usize = 10_000;
/// Concurrent sleeping tasks per batch.
const BATCH: usize = 200;
const MIN_US: u64 = 100;
const MAX_US: u64 = 5_000;
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

fn xorshift64(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// Nearest-rank percentile of a sorted slice.
fn percentile(sorted: &[i64], p: f64) -> i64 {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(ns: i64) -> f64 {
    ns as f64 / 1_000.0
}

/// Runs the N sleeps; returns (elapsed - requested) in nanoseconds, one per sleep.
async fn run(busy: bool) -> Vec<i64> {
    let stop = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicU64::new(0));
    let busy_task = if busy {
        let stop = stop.clone();
        let spins = spins.clone();
        Some(
            ebbtide_std::spawn(async move {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    // A tiny bit of work between yields.
                    for _ in 0..64 {
                        x = std::hint::black_box(
                            x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                        );
                    }
                    spins.fetch_add(1, Ordering::Relaxed);
                    ebbtide_std::task::yield_now().await;
                }
                x
            })
            .expect("spawn busy task"),
        )
    } else {
        None
    };

    let mut rng = SEED;
    let mut diffs = Vec::with_capacity(N);
    let mut handles = Vec::with_capacity(BATCH);
    for _ in 0..N / BATCH {
        for _ in 0..BATCH {
            let micros = MIN_US + xorshift64(&mut rng) % (MAX_US - MIN_US + 1);
            handles.push(
                ebbtide_std::spawn(async move {
                    let requested = std::time::Duration::from_micros(micros);
                    let start = Instant::now();
                    sleep(Duration::from_micros(micros)).await;
                    let elapsed = start.elapsed();
                    elapsed.as_nanos() as i64 - requested.as_nanos() as i64
                })
                .expect("spawn sleeper"),
            );
        }
        for h in handles.drain(..) {
            diffs.push(h.await.expect("sleeper"));
        }
    }

    stop.store(true, Ordering::Relaxed);
    if let Some(t) = busy_task {
        std::hint::black_box(t.await.expect("busy task"));
        eprintln!("busy task yielded {} times", spins.load(Ordering::Relaxed));
    }
    diffs
}

fn main() {
    let runtime = ebbtide_std::Runtime::new().expect("runtime");
    for (mode, busy) in [("idle", false), ("busy", true)] {
        let mut diffs = runtime.block_on(run(busy));
        diffs.sort_unstable();
        let early = diffs.iter().filter(|&&d| d < 0).count();
        println!(
            "mode={mode} n={} early={early} min_us={:.1} p50_us={:.1} p90_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1}",
            diffs.len(),
            us(diffs[0]),
            us(percentile(&diffs, 0.50)),
            us(percentile(&diffs, 0.90)),
            us(percentile(&diffs, 0.99)),
            us(percentile(&diffs, 0.999)),
            us(diffs[diffs.len() - 1]),
        );
    }
}
