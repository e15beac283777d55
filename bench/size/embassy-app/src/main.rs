//! The size benchmark's app on embassy-executor; `ebbtide-app` is the same app on ebbtide.
//!
//! - `producer` sleeps 10 ms and sends a counter (1, 2, ...) over a channel of capacity 4,
//!   [`MESSAGES`] times;
//! - `consumer` receives them, sums them, and after the last one reports and exits QEMU;
//! - `ticker` counts [`TICKS`] ticks of a 25 ms `Ticker` (the first one period after start).
//!
//! Three `#[task]`s (pool size 1 each) on the Cortex-M thread-mode `Executor`, embassy-sync's
//! `Channel` with `CriticalSectionRawMutex`, embassy-time's `Timer` and `Ticker`, the board's
//! SysTick driver. The executor's loop sleeps in `wfe` when no task is ready.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::entry;
use embassy_executor::Executor;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::{Duration, Instant, Ticker, Timer};
use size_bench_board::{finish, CAPACITY, MESSAGES, PERIOD_MS, TICKS, TICK_MS};
// The critical-section implementation (`critical-section-single-core`) lives in cortex-m.
use cortex_m as _;

static CHANNEL: Channel<CriticalSectionRawMutex, u32, CAPACITY> = Channel::new();
static TICKED: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    let peripherals = cortex_m::Peripherals::take().unwrap();
    size_bench_board::start(peripherals.SYST);
    let start = Instant::now();

    let executor = cortex_m::singleton!(: Executor = Executor::new()).unwrap();
    // The consumer exits QEMU; `run` never returns.
    executor.run(|spawner| {
        spawner.spawn(producer().unwrap());
        spawner.spawn(consumer(start).unwrap());
        spawner.spawn(ticker().unwrap());
    })
}

#[embassy_executor::task]
async fn producer() {
    for counter in 1..=MESSAGES {
        Timer::after(Duration::from_millis(PERIOD_MS)).await;
        CHANNEL.send(counter).await;
    }
}

#[embassy_executor::task]
async fn consumer(start: Instant) {
    let mut sum = 0u32;
    for _ in 0..MESSAGES {
        sum += CHANNEL.receive().await;
    }
    finish(
        sum,
        TICKED.load(Ordering::Relaxed),
        start.elapsed().as_millis(),
    )
}

#[embassy_executor::task]
async fn ticker() {
    let mut ticks = Ticker::every(Duration::from_millis(TICK_MS));
    for _ in 0..TICKS {
        ticks.next().await;
        TICKED.fetch_add(1, Ordering::Relaxed);
    }
}
