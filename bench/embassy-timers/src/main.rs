//! Timers on the real clock with embassy-executor and embassy-time's `std` driver (an alarm thread;
//! the only time driver in this binary). Completion is counted through a `Signal`.
//!
//! - `timers`: 10,000 tasks each sleep 1 to 10 ms (distinct durations); total time and mean wake
//!   lateness.
//! - `timers_fire_100k`: 100 tasks each await 1,000 `Timer`s of 1 to 10 ms together
//!   ([`join_timers`]): 100,000 timers registered and fired; total time and mean lateness. The
//!   same shape as on the other runtimes, and the one Embassy can run: 100,000 tasks would need
//!   a pool of 100,000, whose spawns scan it from the start (about 5 * 10^9 claims to fill it),
//!   and an integrated timer queue of 100,000 tasks, which the alarm thread walks whole at every
//!   alarm. Embassy's queue keeps one entry per task (its earliest deadline), so a task
//!   re-registers its next deadline each time it is woken.
//! - `timers_cancel_100k`: one task creates 100,000 `Timer`s of about 1 s, polls each once (it
//!   registers) and drops it (it is cancelled: the task's entry stays queued until its deadline,
//!   a spurious wake-up later); total time.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use ebbtide_bench::sizes::{CANCELS, FIRE_PER_TASK, FIRE_TASKS, TIMERS};
use ebbtide_bench::{
    cancel_micros, fire_micros, join_timers, poll_once_and_drop, timer_micros, timer_sample,
};
use embassy_executor::{Executor, Spawner};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Timer;

static LATE_NS: AtomicU64 = AtomicU64::new(0);
static LEFT: AtomicUsize = AtomicUsize::new(0);
static ALL_DONE: Signal<CriticalSectionRawMutex, ()> = Signal::new();
static FINISHED: AtomicBool = AtomicBool::new(false);

/// Counts a finished task; the last one raises [`ALL_DONE`].
fn task_done() {
    if LEFT.fetch_sub(1, Ordering::Relaxed) == 1 {
        ALL_DONE.signal(());
    }
}

#[embassy_executor::task(pool_size = TIMERS)]
async fn sleeper(i: usize) {
    let micros = timer_micros(i);
    let begin = Instant::now();
    Timer::after_micros(micros).await;
    let late = (begin.elapsed().as_nanos() as u64).saturating_sub(micros * 1_000);
    LATE_NS.fetch_add(late, Ordering::Relaxed);
    task_done();
}

#[embassy_executor::task(pool_size = FIRE_TASKS)]
async fn fire_task(t: usize) {
    let begin = Instant::now();
    let timers = (0..FIRE_PER_TASK)
        .map(|k| {
            let micros = fire_micros(t, k);
            (Timer::after_micros(micros), micros)
        })
        .collect();
    let late = join_timers(begin, timers).await;
    LATE_NS.fetch_add(late, Ordering::Relaxed);
    task_done();
}

#[embassy_executor::task]
async fn cancel_task() {
    for i in 0..CANCELS {
        let timer = Timer::after_micros(cancel_micros(i));
        assert!(!poll_once_and_drop(timer).await, "a 1 s timer completed");
    }
    task_done();
}

#[embassy_executor::task]
async fn root(spawner: Spawner, workload: &'static str) {
    match workload {
        "timers" => {
            for i in 0..TIMERS {
                spawner.spawn(sleeper(i).unwrap());
            }
        }
        "timers_fire_100k" => {
            for t in 0..FIRE_TASKS {
                spawner.spawn(fire_task(t).unwrap());
            }
        }
        _ => spawner.spawn(cancel_task().unwrap()),
    }
    ALL_DONE.wait().await;
    FINISHED.store(true, Ordering::Relaxed);
}

fn main() {
    ebbtide_bench::main(
        &[(
            "embassy",
            &["timers", "timers_fire_100k", "timers_cancel_100k"],
        )],
        |_, workload| {
            let (name, tasks, timers) = match workload {
                "timers" => ("timers", TIMERS, TIMERS),
                "timers_fire_100k" => ("timers_fire_100k", FIRE_TASKS, FIRE_TASKS * FIRE_PER_TASK),
                _ => ("timers_cancel_100k", 1, 0),
            };
            LEFT.store(tasks, Ordering::Relaxed);
            FINISHED.store(false, Ordering::Relaxed);
            timer_sample(&LATE_NS, || {
                let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
                executor.run_until(
                    |spawner| spawner.spawn(root(spawner, name).unwrap()),
                    || FINISHED.load(Ordering::Relaxed),
                );
                timers
            })
        },
    );
}
