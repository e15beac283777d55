//! The size benchmark's sensor app on ebbtide-core; `embassy-sensor` is the same app on embassy.
//!
//! A sensor/actuator loop of five tasks (the timeline and the checks are in [`workload`]):
//!
//! - `sensor` samples a simulated sensor every 10 ms (`interval_at`, the first tick one period
//!   after start) and sends each good reading over a channel;
//! - `controller` `select!`s between a reading, a setpoint change and its watchdog (a
//!   `sleep_until` 50 ms after the latest reading, a disabled branch while tripped), and sends a
//!   drive or a safe-state command to the actuator over a third channel;
//! - `actuator` applies the commands; after `Shutdown` it tells the heartbeat to stop (a
//!   `oneshot` message) and ends;
//! - `commander` sends three setpoint changes, sleeping until each is due;
//! - `heartbeat` beats every 100 ms, `select!`ing between its interval and the stop message;
//!   once stopped it reports and exits QEMU.
//!
//! Five tasks, each in a static `TaskCell` of its own size, on a static `Executor`, three
//! `spsc::Channel`s (each has one producer) and a `oneshot::Channel` (the stop is sent once) with
//! their default `CriticalSectionRawMutex`, each a `static mut` of `main` (which cortex-m-rt's
//! `#[entry]` makes a `&'static mut`) split with `split_mut`, which needs no check at run time,
//! `select!` with a precondition (`biased;`: top to
//! bottom, as embassy-futures' `select3` polls), `sleep_until` and `interval_at`, the board's
//! SysTick driver. The main loop is `Runner::run_forever`, sleeping in `wfi` when no task is
//! ready.
//!
//! With the feature `general` it uses the primitives for any number of producers and waiters
//! instead, tokio's choice for any such app: `mpsc::Channel`s (waiting senders served in FIFO
//! order) and a `Notify` for the stop. `cargo xtask bench` measures both.

#![no_std]
#![no_main]

mod workload;

use cortex_m_rt::entry;
use ebbtide_core::select;
#[cfg(feature = "general")]
use ebbtide_core::sync::mpsc::{Channel, Receiver, Sender};
#[cfg(not(feature = "general"))]
use ebbtide_core::sync::oneshot;
#[cfg(not(feature = "general"))]
use ebbtide_core::sync::spsc::{Channel, Receiver, Sender};
#[cfg(feature = "general")]
use ebbtide_core::sync::Notify;
use ebbtide_core::time::{interval_at, sleep_until, Duration, Instant};
use ebbtide_core::{Executor, TaskCell};
use workload::{
    read_sensor, report, Actuator, Command, Controller, Reading, COMMAND_CAPACITY, HEARTBEAT_MS,
    READING_CAPACITY, SAMPLES, SAMPLE_MS, SETPOINT_CAPACITY, SETPOINT_CHANGES, WATCHDOG_MS,
};
// The critical-section implementation (`critical-section-single-core`) lives in cortex-m.
use cortex_m as _;

static EXECUTOR: Executor = Executor::new();
// One pool per task, each sized to its future (checked at compile time), as embassy's
// `#[task]` gives each task function a pool of its own.
// An `mpsc` send's future holds a wait-list node (16 B).
#[cfg(not(feature = "general"))]
static SENSOR: TaskCell<72> = TaskCell::new();
#[cfg(feature = "general")]
static SENSOR: TaskCell<88> = TaskCell::new();
#[cfg(not(feature = "general"))]
static CONTROLLER: TaskCell<96> = TaskCell::new();
#[cfg(feature = "general")]
static CONTROLLER: TaskCell<112> = TaskCell::new();
#[cfg(not(feature = "general"))]
static ACTUATOR: TaskCell<40> = TaskCell::new();
#[cfg(feature = "general")]
static ACTUATOR: TaskCell<32> = TaskCell::new();
#[cfg(not(feature = "general"))]
static COMMANDER: TaskCell<56> = TaskCell::new();
#[cfg(feature = "general")]
static COMMANDER: TaskCell<72> = TaskCell::new();
// A `Notify`'s wait holds a wait-list node.
#[cfg(not(feature = "general"))]
static HEARTBEAT: TaskCell<72> = TaskCell::new();
#[cfg(feature = "general")]
static HEARTBEAT: TaskCell<88> = TaskCell::new();
/// The actuator tells the heartbeat that the run is over (the channels, and the `oneshot` that
/// does this without `general`, are in `main`).
#[cfg(feature = "general")]
static STOP: Notify = Notify::new();

#[entry]
fn main() -> ! {
    // `#[entry]` makes each of these a `&'static mut` (`main` runs once), so the `spsc` and
    // `oneshot` ends need no check at run time (`split_mut`); embassy-sensor's are `static`s too.
    static mut READINGS: Channel<Reading, READING_CAPACITY> = Channel::new();
    static mut SETPOINTS: Channel<i32, SETPOINT_CAPACITY> = Channel::new();
    static mut COMMANDS: Channel<Command, COMMAND_CAPACITY> = Channel::new();
    #[cfg(not(feature = "general"))]
    static mut STOP: oneshot::Channel<()> = oneshot::Channel::new();
    let peripherals = cortex_m::Peripherals::take().unwrap();
    size_bench_board::start(peripherals.SYST);
    let start = Instant::now();

    let mut runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    #[cfg(not(feature = "general"))]
    let ((readings_tx, readings_rx), (setpoints_tx, setpoints_rx), (commands_tx, commands_rx)) = (
        READINGS.split_mut(),
        SETPOINTS.split_mut(),
        COMMANDS.split_mut(),
    );
    #[cfg(feature = "general")]
    let ((readings_tx, readings_rx), (setpoints_tx, setpoints_rx), (commands_tx, commands_rx)) =
        (READINGS.split(), SETPOINTS.split(), COMMANDS.split());
    #[cfg(not(feature = "general"))]
    let (stop_tx, stop_rx) = STOP.split_mut();
    #[cfg(feature = "general")]
    let (stop_tx, stop_rx) = ((), ());
    spawner
        .spawn_uncancellable(&SENSOR, || sensor(readings_tx))
        .unwrap();
    spawner
        .spawn_uncancellable(&CONTROLLER, || {
            controller(readings_rx, setpoints_rx, commands_tx)
        })
        .unwrap();
    spawner
        .spawn_uncancellable(&ACTUATOR, || actuator(commands_rx, stop_tx))
        .unwrap();
    spawner
        .spawn_uncancellable(&COMMANDER, || commander(setpoints_tx, start))
        .unwrap();
    spawner
        .spawn_uncancellable(&HEARTBEAT, || heartbeat(start, stop_rx))
        .unwrap();

    // The heartbeat exits QEMU; `run_forever` never returns.
    runner.run_forever(idle)
}

#[cfg_attr(feature = "general", allow(unused_mut))]
async fn sensor(mut readings: Sender<'static, Reading, READING_CAPACITY>) {
    let period = Duration::from_millis(SAMPLE_MS);
    let mut ticks = interval_at(Instant::now() + period, period);
    for seq in 1..=SAMPLES {
        ticks.tick().await;
        if let Some(value) = read_sensor(seq) {
            if readings.send(Reading { seq, value }).await.is_err() {
                return;
            }
        }
    }
}

#[cfg_attr(feature = "general", allow(unused_mut))]
async fn controller(
    mut readings: Receiver<'static, Reading, READING_CAPACITY>,
    mut setpoints: Receiver<'static, i32, SETPOINT_CAPACITY>,
    mut commands: Sender<'static, Command, COMMAND_CAPACITY>,
) {
    let watchdog = Duration::from_millis(WATCHDOG_MS);
    let mut control = Controller::new();
    // Armed by every reading, disarmed when it trips.
    let mut deadline = Some(Instant::now() + watchdog);
    loop {
        // A closed channel's `None` does not match `Some(..)`: that branch sits this round out.
        let command = select! {
            biased;
            Some(reading) = readings.recv() => {
                deadline = Some(Instant::now() + watchdog);
                control.on_reading(reading)
            }
            Some(setpoint) = setpoints.recv() => {
                control.on_setpoint(setpoint);
                continue;
            }
            () = sleep_until(deadline.unwrap_or(Instant::MAX)), if deadline.is_some() => {
                deadline = None;
                control.on_watchdog()
            }
        };
        if commands.send(command).await.is_err() || command == Command::Shutdown {
            break;
        }
    }
    control.finish();
}

async fn actuator(mut commands: Receiver<'static, Command, COMMAND_CAPACITY>, stop: StopSender) {
    let mut output = Actuator::new();
    while let Some(command) = commands.recv().await {
        if !output.apply(command) {
            break;
        }
    }
    output.finish();
    #[cfg(not(feature = "general"))]
    let _ = stop.send(());
    #[cfg(feature = "general")]
    {
        let () = stop;
        STOP.notify_one();
    }
}

/// The actuator's end of the stop signal.
#[cfg(not(feature = "general"))]
type StopSender = oneshot::Sender<'static, ()>;
/// The actuator's end of the stop signal: the `static` `Notify` itself.
#[cfg(feature = "general")]
type StopSender = ();

#[cfg_attr(feature = "general", allow(unused_mut))]
async fn commander(mut setpoints: Sender<'static, i32, SETPOINT_CAPACITY>, start: Instant) {
    for &(at_ms, setpoint) in &SETPOINT_CHANGES {
        sleep_until(start + Duration::from_millis(at_ms)).await;
        if setpoints.send(setpoint).await.is_err() {
            return;
        }
    }
}

#[cfg(not(feature = "general"))]
async fn heartbeat(start: Instant, mut stop: oneshot::Receiver<'static, ()>) {
    let period = Duration::from_millis(HEARTBEAT_MS);
    let mut ticks = interval_at(Instant::now() + period, period);
    let mut beats = 0;
    loop {
        select! {
            biased;
            _ = ticks.tick() => beats += 1,
            // The message, or the sender dropped without one: either way the run is over.
            _ = &mut stop => break,
        }
    }
    report(beats, start.elapsed().as_millis())
}

#[cfg(feature = "general")]
async fn heartbeat(start: Instant, (): ()) {
    let period = Duration::from_millis(HEARTBEAT_MS);
    let mut ticks = interval_at(Instant::now() + period, period);
    let mut beats = 0;
    loop {
        select! {
            biased;
            _ = ticks.tick() => beats += 1,
            () = STOP.notified() => break,
        }
    }
    report(beats, start.elapsed().as_millis())
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
