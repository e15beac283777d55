//! Timers on the real clock with ebbtide-std (its own time driver: no other in this binary).
//!
//! - `timers`: 10,000 tasks each sleep 1 to 10 ms (distinct durations); total time and mean wake
//!   lateness.
//! - `timers_fire_100k`: 100 tasks each await 1,000 sleeps of 1 to 10 ms together
//!   ([`join_timers`]): 100,000 timers registered and fired; total time and mean lateness.
//!   ebbtide's queue keeps one entry per task (its earliest deadline), so a task re-registers its
//!   next deadline each time it is woken.
//! - `timers_cancel_100k`: one task creates 100,000 sleeps of about 1 s, polls each once (it
//!   registers) and drops it (it is cancelled); total time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ebbtide_bench::sizes::{CANCELS, FIRE_PER_TASK, FIRE_TASKS, TIMERS};
use ebbtide_bench::{
    cancel_micros, fire_micros, join_timers, poll_once_and_drop, timer_micros, timer_sample,
};
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

static LATE_NS: AtomicU64 = AtomicU64::new(0);

fn main() {
    let runtime = ebbtide_std::Builder::new()
        .task_slots([TIMERS + 64, FIRE_TASKS + 16, 16, 16])
        .build()
        .expect("runtime");
    ebbtide_bench::main(
        &[(
            "ebbtide",
            &["timers", "timers_fire_100k", "timers_cancel_100k"],
        )],
        |_, workload| {
            timer_sample(&LATE_NS, || match workload {
                "timers" => timers(&runtime),
                "timers_fire_100k" => fire(&runtime),
                _ => cancel(&runtime),
            })
        },
    );
}

/// `timers`; returns how many timers fired.
fn timers(runtime: &Runtime) -> usize {
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
    TIMERS
}

/// `timers_fire_100k`; returns how many timers fired.
fn fire(runtime: &Runtime) -> usize {
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(FIRE_TASKS);
        for t in 0..FIRE_TASKS {
            handles.push(
                ebbtide_std::spawn(async move {
                    let begin = Instant::now();
                    let timers = (0..FIRE_PER_TASK)
                        .map(|k| {
                            let micros = fire_micros(t, k);
                            (sleep(Duration::from_micros(micros)), micros)
                        })
                        .collect();
                    let late = join_timers(begin, timers).await;
                    LATE_NS.fetch_add(late, Ordering::Relaxed);
                })
                .expect("spawn"),
            );
        }
        for h in handles {
            h.await.expect("task");
        }
    });
    FIRE_TASKS * FIRE_PER_TASK
}

/// `timers_cancel_100k`; no timer fires.
fn cancel(runtime: &Runtime) -> usize {
    runtime.block_on(async {
        ebbtide_std::spawn(async {
            for i in 0..CANCELS {
                let ready =
                    poll_once_and_drop(sleep(Duration::from_micros(cancel_micros(i)))).await;
                assert!(!ready, "a 1 s sleep completed at once");
            }
        })
        .expect("spawn")
        .await
        .expect("task");
    });
    0
}
