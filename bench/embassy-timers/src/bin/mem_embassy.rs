//! embassy-executor 0.10 (`platform-std`, `executor-thread`) with embassy-time 0.5's `std` driver on
//! the memory and idle workloads (see [`ebbtide_bench::mem`]). No `rss_10k_idle`: Embassy has no
//! std networking.
//!
//! Method:
//!
//! - `task_bytes`: static, like ebbtide's pools: a task costs one `TaskStorage<F>` (a `#[task]`'s
//!   pool is an array of them, `raw::TaskPool<F, N>`): `size_of::<TaskPool<F, N>>() / N` for
//!   [`parked_task`]'s `F`, minus `size_of::<F>()` = `bytes` (the `TaskHeader`: state, run-queue
//!   link, executor, poll function, and the integrated timer queue's item, which embassy-time's
//!   queue sizes to 6 words when it is linked, as here; 0 without embassy-time). The binary also
//!   spawns 10,000 such tasks into a `TaskPool` and polls each once: `heap_bytes` is the counting
//!   allocator's growth per task meanwhile (0).
//! - `timer_bytes`: the timer queue is integrated (embassy-time-queue-utils' default with the
//!   `std` driver): the queue entry is the item in the task header, present whether or not the
//!   task sleeps, so a timer costs only the growth of the future by `Timer::after(60 s)` against
//!   [`Never`](ebbtide_bench::mem::Never) (`bytes`; `slot_growth` is the growth of a pool's slot,
//!   with the storage's alignment); `heap_bytes`
//!   = the allocator's growth per task between spawning 10,000 sleepers and 10,000 parked tasks
//!   (0).
//! - `idle_wakeups`: `Executor::run_until` on the main thread with one task awaiting
//!   `Timer::after(60 s)` (or a stop signal); a second thread counts the context switches of
//!   every other thread, embassy-time's alarm thread included ([`measure_idle`]), then raises the
//!   stop signal.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

use ebbtide_bench::mem::{
    measure_idle, parked_task, parked_task_size, size_of_val, task_sample, CountingAlloc, Heap,
    LONG_SLEEP, POLLED, TASKS,
};
use ebbtide_bench::Sample;
use embassy_executor::raw::TaskPool;
use embassy_executor::Executor;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Timer;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

static STOP: Signal<CriticalSectionRawMutex, ()> = Signal::new();
static FINISHED: AtomicBool = AtomicBool::new(false);

fn main() {
    ebbtide_bench::main(
        &[("embassy", &["task_bytes", "timer_bytes", "idle_wakeups"])],
        |_, workload| match workload {
            "task_bytes" => task_bytes(),
            "timer_bytes" => timer_bytes(),
            _ => idle_wakeups(),
        },
    );
}

/// Bytes per slot of a pool of tasks whose future is `F`.
fn per_slot<F: std::future::Future + 'static>(_: fn(usize) -> F) -> usize {
    size_of::<TaskPool<F, TASKS>>() / TASKS
}

/// Spawns `TASKS` tasks made by `make` into a fresh (leaked) pool on a fresh (leaked) executor,
/// runs until each was polled once, and returns the allocator's growth per task meanwhile. Embassy
/// cannot cancel a task: they stay parked in their leaked pool.
fn heap_per_task<F: std::future::Future + 'static>(make: fn(usize) -> F) -> f64 {
    let pool: &'static TaskPool<F, TASKS> = Box::leak(Box::new(TaskPool::new()));
    let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
    POLLED.store(0, Ordering::Relaxed);
    let heap = Heap::now();
    executor.run_until(
        |spawner| {
            for i in 0..TASKS {
                spawner.spawn(pool.spawn(|| make(i)).expect("a free slot"));
            }
        },
        || POLLED.load(Ordering::Relaxed) >= TASKS,
    );
    heap.per_task_since(TASKS).0
}

/// The same shape as `parked_task`, asleep instead.
#[allow(clippy::manual_async_fn)]
fn sleeper(i: usize) -> impl std::future::Future<Output = usize> + 'static {
    async move {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Timer::after_secs(LONG_SLEEP.as_secs()).await;
        black_box(i)
    }
}

fn task_bytes() -> Sample {
    let heap_bytes = heap_per_task(parked_task);
    task_sample(per_slot(parked_task) as f64, parked_task_size()).with("heap_bytes", heap_bytes)
}

fn timer_bytes() -> Sample {
    let never = heap_per_task(parked_task);
    let sleeping = heap_per_task(sleeper);
    let growth = size_of_val(&sleeper(0)) as f64 - parked_task_size() as f64;
    Sample::ns(0)
        .with("bytes", growth)
        .with(
            "slot_growth",
            per_slot(sleeper) as f64 - per_slot(parked_task) as f64,
        )
        .with("heap_bytes", sleeping - never)
}

#[embassy_executor::task]
async fn idle_task() {
    futures_lite::future::or(Timer::after_secs(LONG_SLEEP.as_secs()), STOP.wait()).await;
    FINISHED.store(true, Ordering::Relaxed);
}

fn idle_wakeups() -> Sample {
    STOP.reset();
    FINISHED.store(false, Ordering::Relaxed);
    let measurer = std::thread::spawn(|| {
        let sample = measure_idle();
        STOP.signal(());
        sample
    });
    let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
    executor.run_until(
        |spawner| spawner.spawn(idle_task().expect("the idle task is free")),
        || FINISHED.load(Ordering::Relaxed),
    );
    measurer.join().expect("the measuring thread")
}
