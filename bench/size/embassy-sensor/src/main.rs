//! The size benchmark's sensor app on embassy-executor; `ebbtide-sensor` is the same app on
//! ebbtide.
//!
//! A sensor/actuator loop of five tasks (the timeline and the checks are in [`workload`], the
//! same file as ebbtide-sensor's):
//!
//! - `sensor` samples a simulated sensor every 10 ms (a `Ticker`, the first tick one period
//!   after start) and sends each good reading over a channel;
//! - `controller` `select3`s between a reading, a setpoint change and its watchdog (a
//!   `Timer::at` 50 ms after the latest reading, pending forever while tripped), and sends a
//!   drive or a safe-state command to the actuator over a third channel;
//! - `actuator` applies the commands; after `Shutdown` it signals the heartbeat and ends;
//! - `commander` sends three setpoint changes, sleeping until each is due;
//! - `heartbeat` beats every 100 ms, `select`ing between its `Ticker` and a `Signal`; once
//!   signalled it reports and exits QEMU.
//!
//! Five `#[task]`s (pool size 1 each) on the Cortex-M thread-mode `Executor`, three embassy-sync
//! `Channel`s and a `Signal` with `CriticalSectionRawMutex`, embassy-futures' `select` and
//! `select3`, embassy-time's `Timer` and `Ticker`, the board's SysTick driver. The executor's
//! loop sleeps in `wfe` when no task is ready.

#![no_std]
#![no_main]

#[path = "../../ebbtide-sensor/src/workload.rs"]
mod workload;

use core::future::pending;

use cortex_m_rt::entry;
use embassy_executor::Executor;
use embassy_futures::select::{select, select3, Either, Either3};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Instant, Ticker, Timer};
use workload::{
    read_sensor, report, Actuator, Command, Controller, Reading, COMMAND_CAPACITY, HEARTBEAT_MS,
    READING_CAPACITY, SAMPLES, SAMPLE_MS, SETPOINT_CAPACITY, SETPOINT_CHANGES, WATCHDOG_MS,
};
// The critical-section implementation (`critical-section-single-core`) lives in cortex-m.
use cortex_m as _;

static READINGS: Channel<CriticalSectionRawMutex, Reading, READING_CAPACITY> = Channel::new();
static SETPOINTS: Channel<CriticalSectionRawMutex, i32, SETPOINT_CAPACITY> = Channel::new();
static COMMANDS: Channel<CriticalSectionRawMutex, Command, COMMAND_CAPACITY> = Channel::new();
/// The actuator tells the heartbeat that the run is over.
static STOP: Signal<CriticalSectionRawMutex, ()> = Signal::new();

#[entry]
fn main() -> ! {
    let peripherals = cortex_m::Peripherals::take().unwrap();
    size_bench_board::start(peripherals.SYST);
    let start = Instant::now();

    let executor = cortex_m::singleton!(: Executor = Executor::new()).unwrap();
    // The heartbeat exits QEMU; `run` never returns.
    executor.run(|spawner| {
        spawner.spawn(sensor().unwrap());
        spawner.spawn(controller().unwrap());
        spawner.spawn(actuator().unwrap());
        spawner.spawn(commander(start).unwrap());
        spawner.spawn(heartbeat(start).unwrap());
    })
}

#[embassy_executor::task]
async fn sensor() {
    let mut ticks = Ticker::every(Duration::from_millis(SAMPLE_MS));
    for seq in 1..=SAMPLES {
        ticks.next().await;
        if let Some(value) = read_sensor(seq) {
            READINGS.send(Reading { seq, value }).await;
        }
    }
}

#[embassy_executor::task]
async fn controller() {
    let watchdog = Duration::from_millis(WATCHDOG_MS);
    let mut control = Controller::new();
    // Armed by every reading, disarmed when it trips.
    let mut deadline = Some(Instant::now() + watchdog);
    loop {
        let tripped = async {
            match deadline {
                Some(at) => Timer::at(at).await,
                None => pending().await,
            }
        };
        let command = match select3(READINGS.receive(), SETPOINTS.receive(), tripped).await {
            Either3::First(reading) => {
                deadline = Some(Instant::now() + watchdog);
                control.on_reading(reading)
            }
            Either3::Second(setpoint) => {
                control.on_setpoint(setpoint);
                continue;
            }
            Either3::Third(()) => {
                deadline = None;
                control.on_watchdog()
            }
        };
        COMMANDS.send(command).await;
        if command == Command::Shutdown {
            break;
        }
    }
    control.finish();
}

#[embassy_executor::task]
async fn actuator() {
    let mut output = Actuator::new();
    while output.apply(COMMANDS.receive().await) {}
    output.finish();
    STOP.signal(());
}

#[embassy_executor::task]
async fn commander(start: Instant) {
    for &(at_ms, setpoint) in &SETPOINT_CHANGES {
        Timer::at(start + Duration::from_millis(at_ms)).await;
        SETPOINTS.send(setpoint).await;
    }
}

#[embassy_executor::task]
async fn heartbeat(start: Instant) {
    let mut ticks = Ticker::every(Duration::from_millis(HEARTBEAT_MS));
    let mut beats = 0;
    // `Either::Second`: the actuator's signal.
    while let Either::First(()) = select(ticks.next(), STOP.wait()).await {
        beats += 1;
    }
    report(beats, start.elapsed().as_millis())
}
