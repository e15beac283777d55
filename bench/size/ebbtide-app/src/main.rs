//! The size benchmark's app on ebbtide-core; `embassy-app` is the same app on embassy.
//!
//! - `producer` sleeps 10 ms and sends a counter (1, 2, ...) over a channel of capacity 4,
//!   [`MESSAGES`] times;
//! - `consumer` receives them, sums them, and after the last one reports and exits QEMU;
//! - `ticker` counts [`TICKS`] ticks of a 25 ms interval (the first one period after start).
//!
//! Three tasks, each in a static pool of its own, on a static `Executor`, an `spsc::Channel` (one
//! producer, as the channel has) with its default `CriticalSectionRawMutex` (a `static mut` of
//! `main`, which cortex-m-rt's `#[entry]` makes a `&'static mut`, split with `split_mut`: no check
//! at run time), `time::sleep` and
//! `time::interval_at`, the board's SysTick driver. The main loop is `Runner::run_forever`,
//! sleeping in `wfi` when no task is ready.
//!
//! With the feature `general` the channel is an `mpsc::Channel` instead (any number of
//! producers, served in FIFO order when they wait: tokio's choice for any such app); `cargo
//! xtask bench` measures both.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::entry;
#[cfg(feature = "general")]
use ebbtide_core::sync::mpsc::{Channel, Receiver, Sender};
#[cfg(not(feature = "general"))]
use ebbtide_core::sync::spsc::{Channel, Receiver, Sender};
use ebbtide_core::time::{interval_at, sleep, Duration, Instant};
use ebbtide_core::{Executor, TaskCell};
use size_bench_board::{finish, CAPACITY, MESSAGES, PERIOD_MS, TICKS, TICK_MS};
// The critical-section implementation (`critical-section-single-core`) lives in cortex-m.
use cortex_m as _;

static EXECUTOR: Executor = Executor::new();
// A pool per task, each sized to its future (checked at compile time: a smaller size fails the
// build), as embassy's `#[task]` gives each task function its own. One pool of three 72-byte
// slots took 56 B more RAM. An `mpsc` send's future holds a wait-list node (16 B).
#[cfg(not(feature = "general"))]
static PRODUCER: TaskCell<40> = TaskCell::new();
#[cfg(feature = "general")]
static PRODUCER: TaskCell<56> = TaskCell::new();
static CONSUMER: TaskCell<48> = TaskCell::new();
static TICKER: TaskCell<40> = TaskCell::new();
static TICKED: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    // `#[entry]` makes this a `&'static mut` (`main` runs once), so the ends need no check at run
    // time (`split_mut`); embassy-app's channel is a `static` too.
    static mut CHANNEL: Channel<u32, CAPACITY> = Channel::new();
    let peripherals = cortex_m::Peripherals::take().unwrap();
    size_bench_board::start(peripherals.SYST);
    let start = Instant::now();

    let mut runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    #[cfg(not(feature = "general"))]
    let (tx, rx) = CHANNEL.split_mut();
    #[cfg(feature = "general")]
    let (tx, rx) = CHANNEL.split();
    spawner
        .spawn_uncancellable(&PRODUCER, || producer(tx))
        .unwrap();
    spawner
        .spawn_uncancellable(&CONSUMER, || consumer(rx, start))
        .unwrap();
    spawner.spawn_uncancellable(&TICKER, ticker).unwrap();

    // The consumer exits QEMU; `run_forever` never returns.
    runner.run_forever(idle)
}

// `mut`: an `spsc::Sender` sends through `&mut self` (an `mpsc` one through `&self`).
#[cfg_attr(feature = "general", allow(unused_mut))]
async fn producer(mut tx: Sender<'static, u32, CAPACITY>) {
    for counter in 1..=MESSAGES {
        sleep(Duration::from_millis(PERIOD_MS)).await;
        if tx.send(counter).await.is_err() {
            return;
        }
    }
}

async fn consumer(mut rx: Receiver<'static, u32, CAPACITY>, start: Instant) {
    let mut sum = 0u32;
    for _ in 0..MESSAGES {
        sum += rx.recv().await.unwrap_or(0);
    }
    finish(
        sum,
        TICKED.load(Ordering::Relaxed),
        start.elapsed().as_millis(),
    )
}

async fn ticker() {
    let period = Duration::from_millis(TICK_MS);
    let mut ticks = interval_at(Instant::now() + period, period);
    for _ in 0..TICKS {
        ticks.tick().await;
        TICKED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sleeps until an interrupt, unless a task is ready. With interrupts masked, a wake between
/// the check and `wfi` leaves its interrupt pending, which ends `wfi`.
fn idle() {
    cortex_m::interrupt::free(|_| {
        if !EXECUTOR.has_ready_tasks() {
            cortex_m::asm::wfi();
        }
    });
}
