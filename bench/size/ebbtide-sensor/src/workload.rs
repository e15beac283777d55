//! The sensor app's workload, without any runtime: its parameters, the simulated sensor, the
//! controller's and the actuator's logic, the results both runtimes must reach, and the report.
//!
//! One file in both apps: `ebbtide-sensor` declares it as `mod workload`, `embassy-sensor`
//! includes the same file by path. The apps' `main.rs` only wire it to their runtime's tasks,
//! channels, timers and `select`, so the two programs compute the same thing and differ only in
//! the runtime.
//!
//! # Timeline (ms after start)
//!
//! - the sensor samples every [`SAMPLE_MS`] (10, 20, ..., 1000); samples [`DROPOUT`] fail (no
//!   reading is sent), so no reading arrives from 400 to 490;
//! - the controller's watchdog trips [`WATCHDOG_MS`] after the latest reading: at 450 (the
//!   dropout: a `Safe` command, the watchdog stays off until the next reading) and at 1050 (after
//!   the last sample: `Shutdown`, the end of the run);
//! - the commander changes the setpoint at [`SETPOINT_CHANGES`] (255, 505, 755);
//! - the heartbeat beats every [`HEARTBEAT_MS`] (100, ..., 1000) until the actuator, having
//!   applied `Shutdown`, tells it to stop (1050); it then reports.
//!
//! # Why both runtimes must agree
//!
//! ebbtide's `select!` starts at a pseudo-random branch, embassy's `select3` polls in order, and
//! the two executors may run the tasks woken in one tick in different orders. None of that may
//! change a result, so the timeline keeps the events that meet in one `select` in different
//! ticks: setpoint changes come at least 3 ms away from any sample (5 ms with these values), and
//! no reading comes in the tick of a watchdog trip (both checked at compile time). Events of one
//! tick in different tasks (a sample and a heartbeat at 100, ..., 1000) touch different
//! counters. Everything checked is then a count or a sum, the same
//! in every order: readings received, samples missed, setpoints applied, drive commands applied
//! and their sum (which depends on the setpoint each reading met, so a setpoint handled in the
//! wrong tick changes it), safe-state commands, watchdog trips and heartbeats. [`EXPECTED`]
//! computes them from the timeline at compile time; the run must also end at [`END_MS`].

use core::cell::Cell;

use critical_section::Mutex;
use size_bench_board::Line;

/// How many times the sensor samples, one every [`SAMPLE_MS`].
pub const SAMPLES: u32 = 100;
/// The sensor's period, in milliseconds.
pub const SAMPLE_MS: u64 = 10;
/// The samples that fail (a sensor dropout): no reading is sent for them.
pub const DROPOUT: (u32, u32) = (41, 48);
/// The watchdog: the controller goes to the safe state when no reading came for this long.
pub const WATCHDOG_MS: u64 = 50;
/// The heartbeat's period, in milliseconds.
pub const HEARTBEAT_MS: u64 = 100;
/// The controller's setpoint until the first change, in tenths of a degree.
pub const INITIAL_SETPOINT: i32 = 220;
/// The commander's setpoint changes: when (ms after start) and the new setpoint.
pub const SETPOINT_CHANGES: [(u64, i32); 3] = [(255, 235), (505, 205), (755, 225)];
/// The capacity of the readings channel (sensor to controller).
pub const READING_CAPACITY: usize = 4;
/// The capacity of the setpoint channel (commander to controller).
pub const SETPOINT_CAPACITY: usize = 2;
/// The capacity of the command channel (controller to actuator).
pub const COMMAND_CAPACITY: usize = 4;
/// The controller's gain: percent of drive per tenth of a degree of error.
const GAIN: i32 = 6;
/// The largest drive, in percent (negative: cooling).
const MAX_DRIVE: i32 = 100;
/// How late (ms) the end may come after [`END_MS`]: under a fraction of a sample period, so a
/// watchdog or a sensor a period late fails. On QEMU with `-icount` the clock counts instructions
/// and the run ends at `END_MS` exactly.
const SLACK_MS: u64 = SAMPLE_MS / 2;

/// One sample of the sensor.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// The sample's number: 1, 2, ..., [`SAMPLES`] (gaps where samples failed).
    pub seq: u32,
    /// Temperature in tenths of a degree.
    pub value: i32,
}

/// What the controller tells the actuator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Drive at this many percent (negative: cool).
    Drive(i32),
    /// The safe state (drive 0): the watchdog tripped.
    Safe,
    /// The safe state, and the end of the run.
    Shutdown,
}

/// The simulated sensor: the temperature at sample `seq` (a slow triangle wave and a little
/// noise), or `None` if the sample fails.
pub const fn read_sensor(seq: u32) -> Option<i32> {
    if seq >= DROPOUT.0 && seq <= DROPOUT.1 {
        return None;
    }
    let phase = (seq % 64) as i32;
    let wave = if phase < 32 { phase } else { 64 - phase };
    // 0..=7, from the top bits of a multiplicative hash.
    let noise = (seq.wrapping_mul(2_654_435_761) >> 29) as i32;
    Some(200 + wave + noise - 3)
}

/// The control law: proportional, clamped to ±[`MAX_DRIVE`].
pub const fn control(setpoint: i32, value: i32) -> i32 {
    let drive = GAIN * (setpoint - value);
    if drive > MAX_DRIVE {
        MAX_DRIVE
    } else if drive < -MAX_DRIVE {
        -MAX_DRIVE
    } else {
        drive
    }
}

/// What the run counted; [`EXPECTED`] is what it must count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Readings the controller received.
    pub readings: u32,
    /// Samples the controller saw missing (gaps in the sequence numbers).
    pub missed: u32,
    /// Setpoint changes the controller applied.
    pub setpoints: u32,
    /// Times the controller's watchdog tripped.
    pub trips: u32,
    /// Drive commands the actuator applied.
    pub drives: u32,
    /// The sum of those drives.
    pub drive_sum: i32,
    /// Safe-state commands (`Safe` and `Shutdown`) the actuator applied.
    pub safe: u32,
    /// Heartbeats.
    pub beats: u32,
}

impl Totals {
    const ZERO: Totals = Totals {
        readings: 0,
        missed: 0,
        setpoints: 0,
        trips: 0,
        drives: 0,
        drive_sum: 0,
        safe: 0,
        beats: 0,
    };
}

/// The results of a correct run, from the timeline.
pub const EXPECTED: Totals = expected().0;
/// When a correct run ends (ms after start): the watchdog's trip after the last reading.
pub const END_MS: u64 = expected().1;

/// Walks the timeline: every sample, the setpoint it meets, the watchdog's gaps.
const fn expected() -> (Totals, u64) {
    let mut t = Totals::ZERO;
    let (mut last_seq, mut last_ms) = (0, 0);
    let mut seq = 1;
    while seq <= SAMPLES {
        if let Some(value) = read_sensor(seq) {
            let at = seq as u64 * SAMPLE_MS;
            // A reading in the tick of a trip would race the watchdog in one `select`.
            assert!(at - last_ms != WATCHDOG_MS);
            if at - last_ms > WATCHDOG_MS {
                t.trips += 1;
            }
            t.readings += 1;
            t.missed += seq - last_seq - 1;
            t.drives += 1;
            t.drive_sum += control(setpoint_at(at), value);
            (last_seq, last_ms) = (seq, at);
        }
        seq += 1;
    }
    // The trip after the last reading ends the run.
    let end = last_ms + WATCHDOG_MS;
    t.trips += 1;
    t.safe = t.trips;
    let mut i = 0;
    while i < SETPOINT_CHANGES.len() {
        if SETPOINT_CHANGES[i].0 < end {
            t.setpoints += 1;
        }
        i += 1;
    }
    t.beats = (end / HEARTBEAT_MS) as u32;
    (t, end)
}

/// The setpoint in force at `ms` after start.
const fn setpoint_at(ms: u64) -> i32 {
    let mut setpoint = INITIAL_SETPOINT;
    let mut i = 0;
    while i < SETPOINT_CHANGES.len() {
        if SETPOINT_CHANGES[i].0 < ms {
            setpoint = SETPOINT_CHANGES[i].1;
        }
        i += 1;
    }
    setpoint
}

// The timeline's rules (see the module docs): a setpoint change never shares a tick with a
// sample or a watchdog trip (all on multiples of SAMPLE_MS), changes come in order, the end
// does not share a tick with a heartbeat, the last sample succeeds (so the controller sees it
// and shuts down after it), and the dropout is long enough to trip the watchdog.
const _: () = {
    let mut i = 0;
    while i < SETPOINT_CHANGES.len() {
        let offset = SETPOINT_CHANGES[i].0 % SAMPLE_MS;
        assert!(offset >= 3 && offset <= SAMPLE_MS - 3);
        assert!(i == 0 || SETPOINT_CHANGES[i - 1].0 < SETPOINT_CHANGES[i].0);
        i += 1;
    }
    assert!(WATCHDOG_MS.is_multiple_of(SAMPLE_MS) && WATCHDOG_MS > SAMPLE_MS);
    assert!(!END_MS.is_multiple_of(HEARTBEAT_MS));
    assert!(read_sensor(SAMPLES).is_some());
    assert!((DROPOUT.1 - DROPOUT.0 + 2) as u64 * SAMPLE_MS > WATCHDOG_MS);
};

/// The controller's state and counts: the runtime-free half of the `controller` task.
pub struct Controller {
    setpoint: i32,
    last_seq: u32,
    readings: u32,
    missed: u32,
    setpoints: u32,
    trips: u32,
}

impl Controller {
    /// Before the first reading: the initial setpoint, nothing counted.
    pub const fn new() -> Controller {
        Controller {
            setpoint: INITIAL_SETPOINT,
            last_seq: 0,
            readings: 0,
            missed: 0,
            setpoints: 0,
            trips: 0,
        }
    }

    /// A reading came: counts it (and the samples missing before it), returns the drive.
    pub fn on_reading(&mut self, reading: Reading) -> Command {
        self.readings += 1;
        if reading.seq > self.last_seq {
            self.missed += reading.seq - self.last_seq - 1;
            self.last_seq = reading.seq;
        }
        Command::Drive(control(self.setpoint, reading.value))
    }

    /// The commander changed the setpoint.
    pub fn on_setpoint(&mut self, setpoint: i32) {
        self.setpoint = setpoint;
        self.setpoints += 1;
    }

    /// The watchdog tripped: the safe state, or the end of the run after the last sample.
    pub fn on_watchdog(&mut self) -> Command {
        self.trips += 1;
        if self.last_seq == SAMPLES {
            Command::Shutdown
        } else {
            Command::Safe
        }
    }

    /// Publishes the counts for [`report`].
    pub fn finish(&self) {
        critical_section::with(|cs| {
            let totals = TOTALS.borrow(cs);
            totals.set(Totals {
                readings: self.readings,
                missed: self.missed,
                setpoints: self.setpoints,
                trips: self.trips,
                ..totals.get()
            });
        });
    }
}

impl Default for Controller {
    fn default() -> Controller {
        Controller::new()
    }
}

/// The actuator's state and counts: the runtime-free half of the `actuator` task.
pub struct Actuator {
    drives: u32,
    drive_sum: i32,
    safe: u32,
}

impl Actuator {
    /// Off, nothing applied yet.
    pub const fn new() -> Actuator {
        Actuator {
            drives: 0,
            drive_sum: 0,
            safe: 0,
        }
    }

    /// Applies a command to the (simulated) output; `false` once it was `Shutdown`.
    pub fn apply(&mut self, command: Command) -> bool {
        let drive = match command {
            Command::Drive(drive) => {
                self.drives += 1;
                self.drive_sum += drive;
                drive
            }
            Command::Safe | Command::Shutdown => {
                self.safe += 1;
                0
            }
        };
        critical_section::with(|cs| OUTPUT.borrow(cs).set(drive));
        command != Command::Shutdown
    }

    /// Publishes the counts for [`report`].
    pub fn finish(&self) {
        critical_section::with(|cs| {
            let totals = TOTALS.borrow(cs);
            totals.set(Totals {
                drives: self.drives,
                drive_sum: self.drive_sum,
                safe: self.safe,
                ..totals.get()
            });
        });
    }
}

impl Default for Actuator {
    fn default() -> Actuator {
        Actuator::new()
    }
}

/// What the controller and the actuator counted, for [`report`].
static TOTALS: Mutex<Cell<Totals>> = Mutex::new(Cell::new(Totals::ZERO));
/// The actuator's output, in percent: the register a real board would write.
static OUTPUT: Mutex<Cell<i32>> = Mutex::new(Cell::new(0));

/// Prints `sensor-app: readings R missed M ... OK` (or `FAILED`) through semihosting and exits
/// QEMU with code 0 if every count matches [`EXPECTED`] and the run ended at [`END_MS`] (plus a
/// little slack), 1 otherwise.
pub fn report(beats: u32, elapsed_ms: u64) -> ! {
    let totals = Totals {
        beats,
        ..critical_section::with(|cs| TOTALS.borrow(cs).get())
    };
    let ok = totals == EXPECTED && (END_MS..=END_MS + SLACK_MS).contains(&elapsed_ms);
    let mut line = Line::<128>::new();
    line.push(b"sensor-app: readings ");
    line.push_u32(totals.readings);
    line.push(b" missed ");
    line.push_u32(totals.missed);
    line.push(b" setpoints ");
    line.push_u32(totals.setpoints);
    line.push(b" drives ");
    line.push_u32(totals.drives);
    line.push(b" sum ");
    line.push_i32(totals.drive_sum);
    line.push(b" safe ");
    line.push_u32(totals.safe);
    line.push(b" trips ");
    line.push_u32(totals.trips);
    line.push(b" beats ");
    line.push_u32(totals.beats);
    line.push(if ok { b" OK\n" } else { b" FAILED\n" });
    size_bench_board::write(line.as_bytes());
    size_bench_board::exit(ok)
}
