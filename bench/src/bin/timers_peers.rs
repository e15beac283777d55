//! Timers on the real clock with Tokio (`current_thread`, `tokio::time::sleep`) and smol
//! (async-executor driven by `async_io::block_on`, `async_io::Timer`). No embassy-time driver here.
//!
//! - `timers`: 10,000 tasks each sleep 1 to 10 ms (distinct durations); total time and mean wake
//!   lateness.
//! - `timers_fire_100k`: 100 tasks each await 1,000 sleeps of 1 to 10 ms together
//!   ([`join_timers`]): 100,000 timers registered and fired; total time and mean lateness. Both
//!   runtimes keep one queue entry per timer. Tokio's `Sleep` is `!Unpin`, so each is boxed
//!   (`Box::pin`), as a program holding many of them must.
//! - `timers_cancel_100k`: one task creates 100,000 sleeps of about 1 s, polls each once (it
//!   registers) and drops it (it is cancelled); total time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ebbtide_bench::sizes::{CANCELS, FIRE_PER_TASK, FIRE_TASKS, TIMERS};
use ebbtide_bench::{
    cancel_micros, fire_micros, join_timers, poll_once_and_drop, timer_micros, timer_sample,
};

static LATE_NS: AtomicU64 = AtomicU64::new(0);

const WORKLOADS: &[&str] = &["timers", "timers_fire_100k", "timers_cancel_100k"];

type Smol = &'static async_executor::Executor<'static>;

fn record(begin: Instant, micros: u64) {
    let late = (begin.elapsed().as_nanos() as u64).saturating_sub(micros * 1_000);
    LATE_NS.fetch_add(late, Ordering::Relaxed);
}

fn main() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ex: Smol = Box::leak(Box::new(async_executor::Executor::new()));
    ebbtide_bench::main(
        &[("tokio-ct", WORKLOADS), ("smol", WORKLOADS)],
        |runtime, workload| {
            timer_sample(&LATE_NS, || match (runtime, workload) {
                ("tokio-ct", "timers") => tokio_rt.block_on(tokio_timers()),
                ("tokio-ct", "timers_fire_100k") => tokio_rt.block_on(tokio_fire()),
                ("tokio-ct", _) => tokio_rt.block_on(tokio_cancel()),
                (_, "timers") => async_io::block_on(ex.run(smol_timers(ex))),
                (_, "timers_fire_100k") => async_io::block_on(ex.run(smol_fire(ex))),
                _ => async_io::block_on(ex.run(smol_cancel(ex))),
            })
        },
    );
}

/// `timers` on Tokio; returns how many timers fired.
async fn tokio_timers() -> usize {
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
    TIMERS
}

/// `timers_fire_100k` on Tokio; returns how many timers fired.
async fn tokio_fire() -> usize {
    let mut handles = Vec::with_capacity(FIRE_TASKS);
    for t in 0..FIRE_TASKS {
        handles.push(tokio::spawn(async move {
            let begin = Instant::now();
            let timers = (0..FIRE_PER_TASK)
                .map(|k| {
                    let micros = fire_micros(t, k);
                    (
                        Box::pin(tokio::time::sleep(Duration::from_micros(micros))),
                        micros,
                    )
                })
                .collect();
            let late = join_timers(begin, timers).await;
            LATE_NS.fetch_add(late, Ordering::Relaxed);
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    FIRE_TASKS * FIRE_PER_TASK
}

/// `timers_cancel_100k` on Tokio; no timer fires.
async fn tokio_cancel() -> usize {
    tokio::spawn(async {
        for i in 0..CANCELS {
            let sleep = tokio::time::sleep(Duration::from_micros(cancel_micros(i)));
            assert!(!poll_once_and_drop(sleep).await, "a 1 s sleep completed");
        }
    })
    .await
    .unwrap();
    0
}

/// `timers` on smol; returns how many timers fired.
async fn smol_timers(ex: Smol) -> usize {
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
    TIMERS
}

/// `timers_fire_100k` on smol; returns how many timers fired.
async fn smol_fire(ex: Smol) -> usize {
    let mut handles = Vec::with_capacity(FIRE_TASKS);
    for t in 0..FIRE_TASKS {
        handles.push(ex.spawn(async move {
            let begin = Instant::now();
            let timers = (0..FIRE_PER_TASK)
                .map(|k| {
                    let micros = fire_micros(t, k);
                    (
                        async_io::Timer::after(Duration::from_micros(micros)),
                        micros,
                    )
                })
                .collect();
            let late = join_timers(begin, timers).await;
            LATE_NS.fetch_add(late, Ordering::Relaxed);
        }));
    }
    for h in handles {
        h.await;
    }
    FIRE_TASKS * FIRE_PER_TASK
}

/// `timers_cancel_100k` on smol; no timer fires.
async fn smol_cancel(ex: Smol) -> usize {
    ex.spawn(async {
        for i in 0..CANCELS {
            let timer = async_io::Timer::after(Duration::from_micros(cancel_micros(i)));
            assert!(!poll_once_and_drop(timer).await, "a 1 s sleep completed");
        }
    })
    .await;
    0
}
