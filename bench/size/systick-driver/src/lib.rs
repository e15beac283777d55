//! The board both size-benchmark apps run on, written once so that the two apps differ only in
//! their runtime: QEMU's `mps2-an386` (Cortex-M4F, 25 MHz), its memory map (`memory.x`, found by
//! the linker through this crate's build script), an `embassy-time-driver` on SysTick, the
//! parameters of the workload, the report (semihosting, no `core::fmt`) and the panic handler.
//!
//! The driver keeps a clock and one software alarm. The timer queue behind it is the runtime's:
//! feature `ebbtide` hands deadlines to `ebbtide_core::time::queue` (its timer queue; the app
//! enables `small-timer-queue`, a sorted list through the task headers), feature `embassy` to
//! `embassy_time_queue_utils::Queue` (embassy's integrated queue, whose entries live in
//! embassy-executor's task headers). Those two adapters are the only runtime-specific lines.

#![no_std]

#[cfg(all(feature = "ebbtide", feature = "embassy"))]
compile_error!("enable exactly one of the features `ebbtide` and `embassy`");
#[cfg(not(any(feature = "ebbtide", feature = "embassy")))]
compile_error!("enable one of the features `ebbtide` and `embassy`");

use core::cell::Cell;
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;
use critical_section::{CriticalSection, Mutex};

/// How many counters the producer sends, one every [`PERIOD_MS`].
pub const MESSAGES: u32 = 50;
/// The producer's sleep between two sends, in milliseconds.
pub const PERIOD_MS: u64 = 10;
/// The capacity of the channel between producer and consumer.
pub const CAPACITY: usize = 4;
/// The ticker's period, in milliseconds.
pub const TICK_MS: u64 = 25;
/// How many ticks the ticker counts before it ends (8 × 25 ms: done long before the consumer).
pub const TICKS: u32 = 8;
/// The sum the consumer must see: 1 + 2 + ... + MESSAGES.
pub const EXPECTED_SUM: u32 = MESSAGES * (MESSAGES + 1) / 2;
/// How late (in ms) the last message may come after `MESSAGES * PERIOD_MS`.
const SLACK_MS: u64 = 50;

/// The core clock of QEMU's MPS2 boards (SysTick counts it with `SystClkSource::Core`).
const CORE_HZ: u32 = 25_000_000;
/// The tick rate, which must match the `tick-hz-*` feature of embassy-time-driver.
const TICK_HZ: u32 = 1_000;
const _: () = assert!(TICK_HZ as u64 == embassy_time_driver::TICK_HZ);

/// Ticks since [`start`]; only the SysTick handler writes it.
static TICKS_NOW: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));
/// When to ask the queue for expired timers next (`u64::MAX`: none queued). Never later than
/// the earliest queued deadline.
static ALARM: Mutex<Cell<u64>> = Mutex::new(Cell::new(u64::MAX));

/// Starts the clock: SysTick interrupts at [`TICK_HZ`] from the core clock.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// ebbtide's timer queue in `ebbtide_core` (the app enables `small-timer-queue`: a sorted list
/// through the task headers, and a small foreign-waker table).
#[cfg(feature = "ebbtide")]
mod queue {
    use super::*;
    use ebbtide_core::time::queue;

    /// Queues `waker` at `at`; `true` if the alarm must come no later than `at`. In the
    /// driver's critical section, which the global queue's lock then reuses.
    pub fn schedule_wake(cs: CriticalSection<'_>, at: u64, waker: &Waker) -> bool {
        queue::schedule_wake_in(cs, at, waker)
    }

    /// Wakes what is due at `now`; returns the next deadline (`u64::MAX`: none). In the
    /// handler's critical section, as embassy's queue is.
    pub fn wake_expired(cs: CriticalSection<'_>, now: u64) -> u64 {
        queue::wake_expired_in(cs, now).unwrap_or(u64::MAX)
    }
}

/// embassy's timer queue: a list through the timer items of embassy-executor's task headers.
#[cfg(feature = "embassy")]
mod queue {
    use super::*;
    use core::cell::RefCell;
    use embassy_time_queue_utils::Queue;

    static QUEUE: Mutex<RefCell<Queue>> = Mutex::new(RefCell::new(Queue::new()));

    /// Queues `waker` at `at`; `true` if the alarm must come no later than `at`.
    pub fn schedule_wake(cs: CriticalSection<'_>, at: u64, waker: &Waker) -> bool {
        QUEUE.borrow_ref_mut(cs).schedule_wake(at, waker)
    }

    /// Wakes what is due at `now`; returns the next deadline (`u64::MAX`: none). In the
    /// handler's critical section.
    pub fn wake_expired(cs: CriticalSection<'_>, now: u64) -> u64 {
        QUEUE.borrow_ref_mut(cs).next_expiration(now)
    }
}

struct SysTickDriver;

impl embassy_time_driver::Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| TICKS_NOW.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        // One critical section around both steps, so the SysTick handler cannot run between
        // the queue's answer and the alarm's update.
        critical_section::with(|cs| {
            if queue::schedule_wake(cs, at, waker) {
                let alarm = ALARM.borrow(cs);
                alarm.set(alarm.get().min(at));
            }
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver);

#[exception]
fn SysTick() {
    let due = critical_section::with(|cs| {
        let ticks = TICKS_NOW.borrow(cs);
        let now = ticks.get() + 1;
        ticks.set(now);
        (now >= ALARM.borrow(cs).get()).then_some(now)
    });
    if let Some(now) = due {
        // One critical section around the wakes and the new alarm: the queue's lock and the
        // alarm share it.
        critical_section::with(|cs| {
            let next = queue::wake_expired(cs, now);
            ALARM.borrow(cs).set(next);
        });
    }
}

/// Prints `size-app: sum S ticks T OK` (or `FAILED`) through semihosting and exits QEMU with
/// code 0 if the sum, the tick count and the elapsed time are right, 1 otherwise.
pub fn finish(sum: u32, ticks: u32, elapsed_ms: u64) -> ! {
    let due = u64::from(MESSAGES) * PERIOD_MS;
    let ok =
        sum == EXPECTED_SUM && ticks == TICKS && elapsed_ms >= due && elapsed_ms <= due + SLACK_MS;
    let mut line = Line::<64>::new();
    line.push(b"size-app: sum ");
    line.push_u32(sum);
    line.push(b" ticks ");
    line.push_u32(ticks);
    line.push(if ok { b" OK\n" } else { b" FAILED\n" });
    write(line.as_bytes());
    exit(ok)
}

/// Writes bytes to the host's stdout (nothing without a semihosting host).
pub fn write(bytes: &[u8]) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(bytes);
    }
}

/// Ends the program: QEMU exits with code 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host.
    loop {
        cortex_m::asm::wfi();
    }
}

/// A line of output of up to `N` bytes (more is cut), built without `core::fmt`.
pub struct Line<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Line<N> {
    /// An empty line.
    pub fn new() -> Line<N> {
        Line {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }

    /// Appends `n` in decimal, with a `-` if negative.
    pub fn push_i32(&mut self, n: i32) {
        if n < 0 {
            self.push(b"-");
        }
        self.push_u32(n.unsigned_abs());
    }

    /// Appends `n` in decimal.
    pub fn push_u32(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    /// The line so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Line<N> {
        Line::new()
    }
}

/// Prints a fixed line and exits with code 1 (formatting the message would pull in `core::fmt`).
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    write(b"size-app: PANIC\n");
    exit(false)
}
