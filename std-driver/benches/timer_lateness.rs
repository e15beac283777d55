//! How late ebbtide-std's timers fire: 1,000 sleeps of 1 to 10 ms, from 100 concurrent tasks,
//! each measured against the real clock. Prints p50, p99 and max lateness.
//!
//! `cargo bench -p ebbtide-std --bench timer_lateness`

use std::time::Instant;

use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn main() {
    let runtime = Runtime::new().expect("runtime");
    let lateness_us: Vec<u64> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for task in 0..100u64 {
            tasks.push(
                ebbtide_std::spawn(async move {
                    let mut late = Vec::with_capacity(10);
                    for i in 0..10u64 {
                        // A spread of durations from 1 to 10 ms (deterministic).
                        let micros = 1_000 + (task * 7_919 + i * 104_729) % 9_000;
                        let start = Instant::now();
                        sleep(Duration::from_micros(micros)).await;
                        let waited = start.elapsed().as_micros() as u64;
                        late.push(waited.saturating_sub(micros));
                    }
                    late
                })
                .expect("spawn"),
            );
        }
        let mut all = Vec::with_capacity(1_000);
        for t in tasks {
            all.extend(t.await.expect("task"));
        }
        all
    });
    let mut sorted = lateness_us;
    sorted.sort_unstable();
    println!(
        "timer lateness over {} sleeps of 1-10 ms: p50 {} us, p99 {} us, max {} us",
        sorted.len(),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1]
    );
}
