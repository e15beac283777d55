//! A runtime's paused clock, for tests: [`pause`], [`advance`] and [`resume`], as in Tokio.
//!
//! ebbtide's clock is the program's time driver (`embassy_time_driver::now()`), one per process,
//! and its timers live in ebbtide-core's timer queues (the runtime's own, or the program's global
//! one for timers set outside runtimes). A paused clock must not move that clock
//! for every runtime of the process (the other tests of a test binary run beside this one), so a
//! runtime whose clock was paused gets a **virtual clock of its own**:
//!
//! - on the runtime's thread, `Instant::now()` reads the virtual clock (the host time drivers ask
//!   [`now`]), and the timers set there (`sleep`, `timeout`, `interval`) go into the runtime's own
//!   list instead of the runtime's timer queue (see [`schedule_wake`](crate::schedule_wake));
//! - the run loop's park looks at that list: while the clock is paused and no task is ready (IO
//!   looked at, and no blocking job in flight), it **advances the clock to the next timer** at
//!   once, as Tokio's paused clock does; once resumed, it waits for the next timer in real time.
//!
//! Other runtimes, and other threads of this one (a blocking job, a thread in
//! `Handle::block_on`), keep the real clock. A runtime that never pauses pays one relaxed atomic
//! load per clock read and per timer.
//!
//! The virtual clock is for tests: its timer list is a `Vec` that allocates as it grows and looks
//! up a task's entry in O(n) of the sleeping tasks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use ebbtide_core::time::Duration;

use crate::context;

/// How many runtimes of the process have a virtual clock: when none does (the usual case), a
/// clock read or a timer never looks at the thread's runtime.
static VIRTUAL_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// A runtime's virtual clock: real time until it is first paused.
pub(crate) struct Clock {
    /// The real clock: the driver's [`HostDriver::real_now`](crate::HostDriver::real_now).
    real: fn() -> u64,
    /// Whether the runtime's clock was paused since the runtime was built (then its timers are
    /// kept in `state.timers`). Written only on the runtime's thread.
    is_virtual: AtomicBool,
    /// Whether the runtime is one worker of several (see [`Clock::set_shared`]): then
    /// [`pause`] refuses, as Tokio's does on its multi-thread runtime.
    one_of_several: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Paused: the virtual time, which moves only by [`advance`] and auto-advance.
    paused: Option<u64>,
    /// Running after [`resume`]: how far the virtual clock is ahead of the real one.
    offset: u64,
    /// The timers set on the runtime's thread: a deadline (virtual ticks) and whom to wake. One
    /// entry per waker (`will_wake`), with the earlier deadline, like the program's queue.
    timers: Vec<(u64, Waker)>,
}

impl State {
    fn now(&self, real: u64) -> u64 {
        self.paused
            .unwrap_or_else(|| real.saturating_add(self.offset))
    }

    /// Takes out the timers due at `now` into `due`.
    fn take_due(&mut self, now: u64, due: &mut Vec<Waker>) {
        let mut i = 0;
        while i < self.timers.len() {
            if self.timers[i].0 <= now {
                due.push(self.timers.swap_remove(i).1);
            } else {
                i += 1;
            }
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.timers.iter().map(|&(at, _)| at).min()
    }
}

/// What the run loop should do in a park, when the runtime's clock is virtual.
pub(crate) enum Step {
    /// Timers came due and were woken: look at IO without waiting, and run the tasks.
    Fired,
    /// The clock is paused and its next timer is at this virtual tick: look at IO without
    /// waiting; if nothing became ready, [`Clock::auto_advance`].
    Advance,
    /// Wait in the OS (resumed with a timer due at this real tick, or nothing to wait for here).
    Wait(Option<u64>),
}

impl Clock {
    pub(crate) fn new(real: fn() -> u64) -> Clock {
        Clock {
            real,
            is_virtual: AtomicBool::new(false),
            one_of_several: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[inline]
    pub(crate) fn is_virtual(&self) -> bool {
        self.is_virtual.load(Ordering::Relaxed)
    }

    /// The virtual time, given the real one.
    fn now(&self, real: u64) -> u64 {
        self.lock().now(real)
    }

    /// Queues a timer of the runtime's thread.
    fn schedule_wake(&self, at: u64, waker: &Waker) {
        let mut state = self.lock();
        if let Some(entry) = state.timers.iter_mut().find(|(_, w)| w.will_wake(waker)) {
            entry.0 = entry.0.min(at);
            return;
        }
        drop(state);
        // Cloned outside the lock: a foreign waker's clone is user code.
        let waker = waker.clone();
        self.lock().timers.push((at, waker));
    }

    /// Pauses the clock at the virtual time it reads now.
    /// Marks the runtime as one worker of several (or not, when its parts are reused by a
    /// runtime of its own). A worker's paused clock would stop time for the tasks on that
    /// worker only, while tasks that move between workers see two clocks.
    pub(crate) fn set_one_of_several(&self, yes: bool) {
        self.one_of_several.store(yes, Ordering::Relaxed);
    }

    pub(crate) fn pause(&self) {
        assert!(
            !self.one_of_several.load(Ordering::Relaxed),
            "time::pause needs a runtime with one worker: this one has several, whose clocks \
             would stop apart (build it with worker_threads(1), or use \
             #[ebbtide_std::test(start_paused = true)], which has one)"
        );
        let real = (self.real)();
        let mut state = self.lock();
        assert!(
            state.paused.is_none(),
            "the runtime's clock is already paused (time::pause was called twice)"
        );
        state.paused = Some(state.now(real));
        if !self.is_virtual.swap(true, Ordering::Relaxed) {
            VIRTUAL_CLOCKS.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn resume(&self) {
        let real = (self.real)();
        let mut state = self.lock();
        let Some(at) = state.paused.take() else {
            drop(state);
            panic!("the runtime's clock is not paused (time::resume without time::pause)");
        };
        state.offset = at.saturating_sub(real);
    }

    /// Moves the paused clock forward by `ticks` and wakes the timers that came due.
    fn advance(&self, ticks: u64) {
        let mut due = Vec::new();
        let mut state = self.lock();
        let Some(at) = state.paused else {
            drop(state);
            panic!("the runtime's clock is not paused: call time::pause before time::advance");
        };
        let at = at.saturating_add(ticks);
        state.paused = Some(at);
        state.take_due(at, &mut due);
        drop(state);
        due.into_iter().for_each(Waker::wake);
    }

    /// One look at the clock before the run loop parks: wakes the timers that are due, and says
    /// how to park. `real` is the real time.
    pub(crate) fn step(&self, real: u64) -> Step {
        let mut due = Vec::new();
        let mut state = self.lock();
        let now = state.now(real);
        state.take_due(now, &mut due);
        let next = state.next_deadline();
        let paused = state.paused.is_some();
        let offset = state.offset;
        drop(state);
        if !due.is_empty() {
            due.into_iter().for_each(Waker::wake);
            return Step::Fired;
        }
        match (paused, next) {
            (true, Some(_)) => Step::Advance,
            (true, None) => Step::Wait(None),
            (false, next) => Step::Wait(next.map(|at| at.saturating_sub(offset))),
        }
    }

    /// Nothing is ready and the clock is paused: jumps to the next timer and wakes what is due.
    pub(crate) fn auto_advance(&self) {
        let mut due = Vec::new();
        let mut state = self.lock();
        if let (Some(_), Some(next)) = (state.paused, state.next_deadline()) {
            state.paused = Some(next);
            state.take_due(next, &mut due);
        }
        drop(state);
        due.into_iter().for_each(Waker::wake);
    }

    /// Back to the real clock, for a runtime that drops (its parts may serve another one): the
    /// timers' wakers are dropped after the lock is released.
    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        let timers = std::mem::take(&mut state.timers);
        *state = State::default();
        drop(state);
        if self.is_virtual.swap(false, Ordering::Relaxed) {
            VIRTUAL_CLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
        drop(timers);
    }
}

/// Whether some runtime of the process has a virtual clock: one relaxed load, the whole cost of
/// the paused clock for the usual program, which has none.
#[inline(always)]
fn any_virtual() -> bool {
    VIRTUAL_CLOCKS.load(Ordering::Relaxed) != 0
}

/// The clock of the current thread's runtime, if it is virtual (kept out of line: the clock
/// reads and timers of a program without a paused clock never come here).
#[cold]
#[inline(never)]
fn current_virtual() -> Option<&'static Clock> {
    context::current()
        .map(|shell| &shell.clock)
        .filter(|clock| clock.is_virtual())
}

/// A host time driver's `embassy_time_driver::Driver::now`: `real()` (the OS's clock in ticks),
/// or, on the thread of a runtime whose clock was [paused](pause), that runtime's virtual time.
///
/// # Examples
///
/// ```no_run
/// struct MyTimeDriver;
///
/// fn os_clock_ticks() -> u64 {
///     # 0
///     // read the OS's monotonic clock
/// }
///
/// impl embassy_time_driver::Driver for MyTimeDriver {
///     fn now(&self) -> u64 {
///         ebbtide_host::now(os_clock_ticks)
///     }
///     fn schedule_wake(&self, at: u64, waker: &core::task::Waker) {
///         ebbtide_host::schedule_wake(at, waker);
///     }
/// }
/// ```
#[inline]
pub fn now(real: impl FnOnce() -> u64) -> u64 {
    let real = real();
    if !any_virtual() {
        return real;
    }
    virtual_now(real)
}

/// [`now`] when some runtime has a virtual clock.
#[cold]
#[inline(never)]
fn virtual_now(real: u64) -> u64 {
    match current_virtual() {
        None => real,
        Some(clock) => clock.now(real),
    }
}

/// Queues a timer in the current runtime's virtual clock, if it has one; `false` otherwise.
#[inline]
pub(crate) fn schedule_virtual(at: u64, waker: &Waker) -> bool {
    if !any_virtual() {
        return false;
    }
    match current_virtual() {
        None => false,
        Some(clock) => {
            clock.schedule_wake(at, waker);
            true
        }
    }
}

fn current_clock(what: &str) -> &'static Clock {
    match context::current() {
        Some(shell) => &shell.clock,
        None => panic!(
            "time::{what} was called outside an ebbtide runtime: call it inside Runtime::block_on \
             or a task (or use #[ebbtide_std::test(start_paused = true)])"
        ),
    }
}

/// Pauses the current runtime's clock, as `tokio::time::pause` does.
///
/// From now on, on this runtime's thread, `Instant::now()` stays where it is until [`advance`]
/// moves it; and when no task is ready, the runtime **advances the clock to the next timer at
/// once** instead of waiting for it. A test with a one-hour `sleep` finishes in microseconds, and
/// always in the same order. IO still happens in real time: the clock advances only when no IO
/// event is ready and no blocking job is in flight.
///
/// The clock is the runtime's own: other runtimes of the process (the other tests of a test
/// binary) keep real time. Timers set before the pause keep their real-time deadlines.
/// `#[ebbtide_std::test(start_paused = true)]` pauses before the test's body runs.
///
/// # Panics
///
/// Outside a runtime, when the clock is already paused, or on a runtime with several workers
/// (as Tokio's `pause` panics outside its current-thread runtime): their clocks would stop apart.
///
/// # Examples
///
/// ```
/// use ebbtide_std::time::{self, sleep, Duration, Instant};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     time::pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await; // no real hour passes
///     assert!(Instant::now() - start >= Duration::from_secs(3600));
/// });
/// ```
pub fn pause() {
    current_clock("pause").pause();
}

/// Resumes the current runtime's paused clock, as `tokio::time::resume` does: time flows again
/// from where the paused clock stood (ahead of the real clock by what was advanced).
///
/// # Panics
///
/// Outside a runtime, or when the clock is not paused.
///
/// # Examples
///
/// ```
/// use ebbtide_std::time::{self, sleep, Duration, Instant};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     time::pause();
///     time::advance(Duration::from_secs(60)).await;
///     time::resume();
///     let start = Instant::now();
///     sleep(Duration::from_millis(2)).await; // really sleeps
///     assert!(Instant::now() - start >= Duration::from_millis(2));
/// });
/// ```
pub fn resume() {
    current_clock("resume").resume();
}

/// Moves the current runtime's paused clock forward by `duration`, wakes the timers that came
/// due, and yields once so that they run, as `tokio::time::advance` does.
///
/// The timers that `duration` passes all come due at once, "at the same time", and run in any
/// order; `advance` does not wait for them to finish (to let each timer run at its own time, use
/// `sleep` and let the paused clock advance by itself).
///
/// # Panics
///
/// Outside a runtime, or when the clock is not paused.
///
/// # Examples
///
/// ```
/// use ebbtide_std::time::{self, Duration, Instant};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::advance(Duration::from_millis(1500)).await;
///     assert_eq!(Instant::now() - start, Duration::from_millis(1500));
/// });
/// ```
pub async fn advance(duration: impl Into<Duration>) {
    let duration: Duration = duration.into();
    current_clock("advance").advance(duration.as_ticks());
    ebbtide_core::task::yield_now().await;
}
