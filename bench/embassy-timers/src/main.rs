//! Timers on the real clock with embassy-executor and embassy-time's `std` driver (an alarm thread;
//! the only time driver in this binary): 10,000 tasks each sleep 1 to 10 ms (distinct durations);
//! total time and mean wake lateness. Completion is counted through a `Signal`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use ebbtide_bench::{sizes::TIMERS, timer_micros, Sample};
use embassy_executor::{Executor, Spawner};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;

static LATE_NS: AtomicU64 = AtomicU64::new(0);
static LEFT: AtomicUsize = AtomicUsize::new(0);
static ALL_DONE: Signal<CriticalSectionRawMutex, ()> = Signal::new();
static FINISHED: AtomicBool = AtomicBool::new(false);

#[embassy_executor::task(pool_size = 10_000)]
async fn sleeper(i: usize) {
    let micros = timer_micros(i);
    let begin = Instant::now();
    embassy_time::Timer::after_micros(micros).await;
    let late = (begin.elapsed().as_nanos() as u64).saturating_sub(micros * 1_000);
    LATE_NS.fetch_add(late, Ordering::Relaxed);
    if LEFT.fetch_sub(1, Ordering::Relaxed) == 1 {
        ALL_DONE.signal(());
    }
}

#[embassy_executor::task]
async fn root(spawner: Spawner) {
    for i in 0..TIMERS {
        spawner.spawn(sleeper(i).unwrap());
    }
    ALL_DONE.wait().await;
    FINISHED.store(true, Ordering::Relaxed);
}

fn main() {
    ebbtide_bench::main(&[("embassy", &["timers"])], |_, _| {
        LATE_NS.store(0, Ordering::Relaxed);
        LEFT.store(TIMERS, Ordering::Relaxed);
        FINISHED.store(false, Ordering::Relaxed);
        let start = Instant::now();
        let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
        executor.run_until(
            |spawner| spawner.spawn(root(spawner).unwrap()),
            || FINISHED.load(Ordering::Relaxed),
        );
        Sample {
            ns: start.elapsed().as_nanos(),
            late_ns: Some(u128::from(LATE_NS.load(Ordering::Relaxed)) / TIMERS as u128),
            extra: Vec::new(),
        }
    });
}
