//! ebbtide-core alone on a Cortex-M3 or a Cortex-M0, run under QEMU: the same program on
//! `-machine lm3s6965evb` (Cortex-M3, `thumbv7m-none-eabi`) and `-machine microbit` (Cortex-M0,
//! `thumbv6m-none-eabi`); `build.rs` picks the board from the target, and [`board`] holds the
//! little that differs.
//!
//! Four tasks from static pools on one static executor, timed by a SysTick driver
//! ([`time_driver`]):
//!
//! - `producer` reads a (simulated) sensor every [`PERIOD`] and sends the readings over an
//!   `mpsc` channel; dropping its `Sender` at the end closes the channel.
//! - `consumer` receives them, each `recv` under a `timeout` (a stalled producer is an error),
//!   prints each one and aggregates them.
//! - `heartbeat` ticks an `interval` and `select!`s between the next tick and a stop `Notify`.
//! - `reporter` `join!`s the others under an overall `timeout`, checks the totals, prints the
//!   summary line and exits QEMU through semihosting: code 0 if every check passed, 1 otherwise
//!   (a panic exits with 1 too, through panic-semihosting).
//!
//! The main loop is ebbtide-core's driver loop (`driver::block_on`) over [`Wfi`], this board's
//! whole driver: it sleeps in `wfi` between interrupts, and the SysTick interrupt fires the
//! timers itself.
//!
//! The Cortex-M0 has no atomic read-modify-write instructions: there ebbtide-core's atomics go
//! through `portable-atomic`'s critical sections, which cortex-m's `critical-section-single-core`
//! implementation provides (interrupts off), as it does for the time driver's.

#![no_std]
#![no_main]

mod board;
mod time_driver;

use cortex_m::asm;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
use ebbtide_core::driver::{self, Park, Wait};
use ebbtide_core::sync::{mpsc, Notify};
use ebbtide_core::time::{interval, sleep_until, timeout, Duration, Instant};
use ebbtide_core::{join, select, Executor, JoinHandle, TaskPool};
// The critical-section implementation (from `critical-section-single-core`) lives in cortex-m.
use cortex_m as _;
use panic_semihosting as _;

/// How many readings the producer sends.
const MESSAGES: u32 = 10;
/// The time between two readings.
const PERIOD: Duration = Duration::from_millis(100);
/// The heartbeat's period.
const HEARTBEAT: Duration = Duration::from_millis(250);
/// How long the consumer waits for one reading before it calls the producer stalled.
const STALL: Duration = Duration::from_millis(500);
/// How long the whole run may take.
const DEADLINE: Duration = Duration::from_secs(5);
/// How late (after its due time) a reading may be sent: a tick or two, from the wake-up of the
/// SysTick interrupt to the producer's poll (QEMU translating code on first use costs one).
const MAX_LATE: Duration = Duration::from_millis(10);
/// The tasks spawned below.
const TASKS: usize = 4;

static EXECUTOR: Executor = Executor::new();
static TASK_POOL: TaskPool<TASKS> = TaskPool::named("app");
static READINGS: mpsc::Channel<Reading, 4> = mpsc::Channel::new();
static STOP_HEARTBEAT: Notify = Notify::new();

/// One sensor reading.
#[derive(Clone, Copy)]
struct Reading {
    seq: u32,
    /// Hundredths of a degree Celsius.
    centi_celsius: i32,
    at: Instant,
}

/// What the consumer saw.
struct Stats {
    count: u32,
    sum: i64,
    min: i32,
    max: i32,
    /// The most a reading came after its due time.
    max_late: Duration,
    /// When the channel closed.
    done_at: Instant,
}

#[entry]
fn main() -> ! {
    let peripherals = cortex_m::Peripherals::take().unwrap();
    time_driver::start(peripherals.SYST);
    hprintln!(
        "ebbtide-baremetal: {} readings every {} ms on a {} ({})",
        MESSAGES,
        PERIOD.as_millis(),
        board::CPU,
        board::NAME
    );

    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (tx, mut rx) = READINGS.split();
    let start = Instant::now();

    // Returns the sum of what it sent, for the reporter to compare.
    let producer = spawner
        .spawn(&TASK_POOL, async move {
            let mut sensor = Sensor::new();
            let mut sent = 0i64;
            for seq in 1..=MESSAGES {
                sleep_until(start + PERIOD * seq).await;
                let reading = Reading {
                    seq,
                    centi_celsius: sensor.read(),
                    at: Instant::now(),
                };
                if tx.send(reading).await.is_err() {
                    break;
                }
                sent += i64::from(reading.centi_celsius);
            }
            sent
            // `tx`, the only Sender, is dropped here: the channel closes.
        })
        .unwrap();

    // Returns what it received, or the sequence number it was waiting for when it stalled.
    let consumer = spawner
        .spawn(&TASK_POOL, async move {
            let mut stats = Stats {
                count: 0,
                sum: 0,
                min: i32::MAX,
                max: i32::MIN,
                max_late: Duration::from_ticks(0),
                done_at: start,
            };
            loop {
                match timeout(STALL, rx.recv()).await {
                    Ok(Some(reading)) => {
                        let c = reading.centi_celsius;
                        hprintln!(
                            "  reading {:2} at {:4} ms: {}.{:02} C",
                            reading.seq,
                            reading.at.duration_since(start).as_millis(),
                            c / 100,
                            c % 100
                        );
                        if reading.seq != stats.count + 1 {
                            return Err(stats.count + 1);
                        }
                        stats.count += 1;
                        stats.sum += i64::from(c);
                        stats.min = stats.min.min(c);
                        stats.max = stats.max.max(c);
                        let due = start + PERIOD * reading.seq;
                        stats.max_late = stats.max_late.max(reading.at.duration_since(due));
                    }
                    Ok(None) => {
                        stats.done_at = Instant::now();
                        return Ok(stats);
                    }
                    Err(_elapsed) => return Err(stats.count + 1),
                }
            }
        })
        .unwrap();

    // Returns how many beats it counted.
    let heartbeat = spawner
        .spawn(&TASK_POOL, async {
            let mut ticks = interval(HEARTBEAT);
            let mut beats = 0u32;
            loop {
                select! {
                    _ = ticks.tick() => beats += 1,
                    () = STOP_HEARTBEAT.notified() => return beats,
                }
            }
        })
        .unwrap();

    let reporter = spawner
        .spawn(&TASK_POOL, report(start, producer, consumer, heartbeat))
        .unwrap();

    // `report` exits QEMU itself; reaching the end of the run is a failure.
    let _ = driver::block_on(&runner, &mut Wfi, reporter);
    hprintln!("ebbtide-baremetal: FAILED: the reporter ended without exiting");
    exit(false)
}

/// Waits for the other tasks, checks what they did, prints the summary and exits.
async fn report(
    start: Instant,
    producer: JoinHandle<i64>,
    consumer: JoinHandle<Result<Stats, u32>>,
    heartbeat: JoinHandle<u32>,
) {
    let all = timeout(DEADLINE, async {
        join!(
            producer,
            async {
                let stats = consumer.await;
                STOP_HEARTBEAT.notify_one();
                stats
            },
            heartbeat,
        )
    })
    .await;
    let Ok((Ok(sent), Ok(received), Ok(beats))) = all else {
        hprintln!(
            "ebbtide-baremetal: FAILED: tasks did not finish within {} s",
            DEADLINE.as_secs()
        );
        exit(false)
    };
    let stats = match received {
        Ok(stats) => stats,
        Err(seq) => {
            hprintln!("ebbtide-baremetal: FAILED: reading {} never came", seq);
            exit(false)
        }
    };
    let elapsed = stats.done_at.duration_since(start).as_millis();
    let mean = stats.sum / i64::from(stats.count.max(1));
    hprintln!(
        "  min {} max {} mean {} (centi-degrees), at most {} ms late, {} heartbeats",
        stats.min,
        stats.max,
        mean,
        stats.max_late.as_millis(),
        beats
    );

    // The readings were due every PERIOD, the last one at MESSAGES * PERIOD.
    let expected = (PERIOD * MESSAGES).as_millis();
    let checks = [
        (stats.count == MESSAGES, "message count"),
        (stats.sum == sent, "sum sent != sum received"),
        (stats.max_late <= MAX_LATE, "a reading came late"),
        (
            elapsed >= expected && elapsed <= expected + MAX_LATE.as_millis(),
            "elapsed time",
        ),
        // Ticks at 0, 250, 500 and 750 ms (and maybe 1000) before the stop.
        (beats >= 4, "heartbeats"),
    ];
    if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
        hprintln!(
            "ebbtide-baremetal: FAILED: {} ({} messages, elapsed {} ms)",
            what,
            stats.count,
            elapsed
        );
        exit(false)
    }
    hprintln!(
        "ebbtide-baremetal: OK {} messages, {} tasks, elapsed {}.{:02} s",
        stats.count,
        TASKS,
        elapsed / 1000,
        elapsed % 1000 / 10
    );
    exit(true)
}

/// The driver: sleeps until an interrupt, unless a task is ready.
///
/// With interrupts masked, a wake that comes between the check and `wfi` leaves its interrupt
/// pending, and a pending interrupt ends `wfi` even while masked; it is taken when the critical
/// section ends (the contract's rule 1: a wake-up is latched). (A plain `wfi` would work too: it
/// would only be late by up to one SysTick.) The executor needs no wake hook: every wake-up
/// comes from an interrupt, which ends `wfi` by itself.
struct Wfi;

impl Park for Wfi {
    type Error = core::convert::Infallible;
    /// The SysTick handler fires the timers (see [`time_driver`]).
    const FIRES_TIMERS: bool = false;

    fn now(&self) -> u64 {
        unreachable!("only called when FIRES_TIMERS")
    }

    fn park(&mut self, wait: Wait) -> Result<(), Self::Error> {
        if wait != Wait::Poll {
            cortex_m::interrupt::free(|_| {
                if !EXECUTOR.has_ready_tasks() {
                    asm::wfi();
                }
            });
        }
        Ok(())
    }
}

/// Ends the program: QEMU exits with code 0 (`ok`) or 1.
fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host (on real hardware without a debugger).
    loop {
        asm::wfi();
    }
}

/// A simulated temperature sensor: around 21 C with a little deterministic noise.
struct Sensor {
    state: u32,
}

impl Sensor {
    fn new() -> Sensor {
        Sensor { state: 0x1234_5678 }
    }

    /// Hundredths of a degree Celsius.
    fn read(&mut self) -> i32 {
        // xorshift32
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        2100 + (self.state % 101) as i32 - 50
    }
}
