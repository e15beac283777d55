//! Timers on the real clock with Tokio (`current_thread`, `tokio::time::sleep`) and smol
//! (async-executor driven by `async_io::block_on`, `async_io::Timer`): 10,000 tasks each sleep 1
//! to 10 ms (distinct durations); total time and mean wake lateness. No embassy-time driver here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ebbtide_bench::{sizes::TIMERS, timer_micros, Sample};

static LATE_NS: AtomicU64 = AtomicU64::new(0);

fn record(begin: Instant, micros: u64) {
    let late = (begin.elapsed().as_nanos() as u64).saturating_sub(micros * 1_000);
    LATE_NS.fetch_add(late, Ordering::Relaxed);
}

fn main() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ex: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    ebbtide_bench::main(
        &[("tokio-ct", &["timers"]), ("smol", &["timers"])],
        |runtime, _| {
            LATE_NS.store(0, Ordering::Relaxed);
            let start = Instant::now();
            if runtime == "tokio-ct" {
                tokio_rt.block_on(async {
                    let mut handles = Vec::with_capacity(TIMERS);
                    for i in 0..TIMERS {
                        handles.push(tokio::spawn(async move {
                            let micros = timer_micros(i);
                            let begin = Instant::now();
                            tokio::time::sleep(Duration::from_micros(micros)).await;
                            record(begin, micros);
                        }));
                    }
                    for h in handles {
                        h.await.unwrap();
                    }
                });
            } else {
                async_io::block_on(ex.run(async {
                    let mut handles = Vec::with_capacity(TIMERS);
                    for i in 0..TIMERS {
                        handles.push(ex.spawn(async move {
                            let micros = timer_micros(i);
                            let begin = Instant::now();
                            async_io::Timer::after(Duration::from_micros(micros)).await;
                            record(begin, micros);
                        }));
                    }
                    for h in handles {
                        h.await;
                    }
                }));
            }
            Sample {
                ns: start.elapsed().as_nanos(),
                late_ns: Some(u128::from(LATE_NS.load(Ordering::Relaxed)) / TIMERS as u128),
                extra: Vec::new(),
            }
        },
    );
}
