//! Timers on the real clock with ebbtide-std (its own time driver: no other in this binary):
//! 10,000 tasks each sleep 1 to 10 ms (distinct durations); total time and mean wake lateness.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ebbtide_bench::{sizes::TIMERS, timer_micros, Sample};
use ebbtide_std::time::{sleep, Duration};

static LATE_NS: AtomicU64 = AtomicU64::new(0);

fn main() {
    let runtime = ebbtide_std::Builder::new()
        .task_slots([TIMERS + 64, 16, 16, 16])
        .build()
        .expect("runtime");
    ebbtide_bench::main(&[("ebbtide", &["timers"])], |_, _| {
        LATE_NS.store(0, Ordering::Relaxed);
        let start = Instant::now();
        runtime.block_on(async {
            let mut handles = Vec::with_capacity(TIMERS);
            for i in 0..TIMERS {
                handles.push(
                    ebbtide_std::spawn(async move {
                        let micros = timer_micros(i);
                        let begin = Instant::now();
                        sleep(Duration::from_micros(micros)).await;
                        let late = begin.elapsed().as_nanos() as u64 - micros * 1_000;
                        LATE_NS.fetch_add(late, Ordering::Relaxed);
                    })
                    .expect("spawn"),
                );
            }
            for h in handles {
                h.await.expect("task");
            }
        });
        Sample {
            ns: start.elapsed().as_nanos(),
            late_ns: Some(u128::from(LATE_NS.load(Ordering::Relaxed)) / TIMERS as u128),
            extra: Vec::new(),
        }
    });
}
