//! An `embassy-time-driver` over the Cortex-M SysTick: a 1 kHz interrupt counts ticks of 1 ms
//! (the crate's `tick-hz-1_000` feature), and wakes the timers of `ebbtide_core`'s queue when the
//! earliest deadline has come. SysTick counts the board's core clock, [`CORE_HZ`].
//!
//! The "hardware alarm" that `ebbtide_core::time::queue` asks a microcontroller driver to keep
//! is a variable here, [`ALARM`], compared on every tick: it holds the value `wake_expired`
//! returned last, and `schedule_wake` lowers it when the queue's earliest deadline moves earlier.

use core::cell::Cell;
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;
use critical_section::Mutex;
use ebbtide_core::time::queue;

use crate::board::CORE_HZ;

/// The tick rate, which must match the `tick-hz-*` feature of embassy-time-driver.
const TICK_HZ: u32 = 1_000;
const _: () = assert!(TICK_HZ as u64 == embassy_time_driver::TICK_HZ);

/// Ticks since [`start`]. A `u64` (which neither thumbv7m nor thumbv6m can load atomically)
/// behind a critical section: only the SysTick handler writes it, so readers just need a
/// consistent pair of words.
static TICKS: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));

/// When to call `queue::wake_expired` next (`u64::MAX`: no timer queued). Never later than the
/// earliest deadline of the queue.
static ALARM: Mutex<Cell<u64>> = Mutex::new(Cell::new(u64::MAX));

/// Starts the clock: SysTick interrupts at [`TICK_HZ`] from the core clock.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

struct SysTickDriver;

impl embassy_time_driver::Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| TICKS.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        // One critical section around both steps, so the SysTick handler cannot run between
        // the queue's answer and the alarm's update; the queue's lock reuses it (`_in`).
        critical_section::with(|cs| {
            if queue::schedule_wake_in(cs, at, waker) {
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
        let ticks = TICKS.borrow(cs);
        let now = ticks.get() + 1;
        ticks.set(now);
        (now >= ALARM.borrow(cs).get()).then_some(now)
    });
    if let Some(now) = due {
        // Wakes the tasks whose deadline has come (they run once the handler returns and the
        // main loop's `wfi` ends) and arms the next alarm, in one critical section, which the
        // queue's lock reuses (`_in`).
        critical_section::with(|cs| {
            let next = queue::wake_expired_in(cs, now);
            ALARM.borrow(cs).set(next.unwrap_or(u64::MAX));
        });
    }
}
