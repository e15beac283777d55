//! How to write a driver: the contract between the executor and whatever waits for events.
//!
//! A *driver* runs an [`Executor`](crate::Executor) on one platform. It polls the executor's
//! tasks, and when none is ready it waits (in `epoll`, in `poll_oneoff`, in `wfi`) until
//! something makes a task ready again. ebbtide has three, and they differ only in how they wait:
//! ebbtide-std waits in mio, ebbtide-wasi in `poll_oneoff`, and the bare-metal example in `wfi`.
//! So that is all a driver writes: an implementation of [`Park`]. The loop around it,
//! [`block_on`], is the same for every driver: it polls the top-level future when its waker
//! fired, runs the executor's batches, looks at IO between batches while tasks keep the executor
//! busy, waits when nothing is ready, and fires the timers that are due.
//!
//! # The contract
//!
//! A driver brings three pieces. Each rule below is a promise the loop and the executor rely on;
//! breaking one loses wake-ups (a task that hangs) or burns a core.
//!
//! 1. **A [`Park`]**, which waits.
//!    - [`park(Wait::Until(t))`](Park::park) and [`park(Wait::Forever)`](Park::park) MUST return
//!      once the executor's wake hook has been called after the loop's last
//!      [`Runner::poll`](crate::Runner::poll) (whether the hook ran before `park` was entered or
//!      during the wait: a wake-up is *latched*, as an eventfd, an event flag or a pending
//!      interrupt is).
//!    - `park(Wait::Until(t))` MUST NOT return much later than the clock reaches tick `t`. It MAY
//!      return earlier, for any reason: the loop only looks again.
//!    - `park(Wait::Poll)` MUST NOT block. It dispatches the IO events that are ready (wakes
//!      their tasks) and returns: the loop calls it every [`BATCHES_BETWEEN_IO`] batches while
//!      tasks keep the executor busy, so that IO is never starved.
//!    - `park` MUST NOT poll the executor or run tasks. It MAY wake tasks (that is how IO readiness
//!      reaches them).
//!    - When the driver keeps no timer queue ([`Park::FIRES_TIMERS`] is `false`), it never sees
//!      `Wait::Until`: its alarm interrupt fires the timers itself.
//! 2. **A wake hook**, given to [`Executor::with_wake_hook`](crate::Executor#method.with_wake_hook) (the
//!    `wake-hook` feature). It
//!    MUST make the current or the next `park` return (write the eventfd, set the flag, `sev`). It
//!    runs on whichever thread or interrupt wakes a task, so it MUST be quick and MUST NOT poll
//!    the executor. A driver whose every wake-up happens on the thread that parks (a single-threaded
//!    WASI program) may use [`Executor::new`](crate::Executor::new) without a hook: the loop
//!    polls the executor before it parks.
//! 3. **A time driver**: one `embassy_time_driver::Driver` per program. Its `now()` is the clock
//!    in ticks of [`TICK_HZ`](crate::time::TICK_HZ) and never goes backwards. Its `schedule_wake`
//!    calls [`queue::schedule_wake`], and when that returns
//!    `true` (the earliest deadline moved earlier) and the caller is not the parked thread, it
//!    MUST end the wait as the wake hook does (or lower the hardware alarm).
//!
//! The loop does the timer glue: before it parks it reads
//! [`queue::next_deadline`] and passes it as
//! `Wait::Until`; after the park it calls [`queue::wake_expired`]
//! with [`Park::now`] when that deadline has come. It does so on the queue that
//! [`Park::timer_queue`] names: the program's global queue, or a runtime's own (then the time
//! driver's `schedule_wake` puts the runtime's timers there, see
//! [`TimerQueue`]). A driver with a hardware alarm instead sets
//! [`Park::FIRES_TIMERS`] to `false` and calls `wake_expired` from the alarm's interrupt.
//!
//! # A whole driver
//!
//! A driver for a std thread with no IO: it parks the thread, the wake hook unparks it.
//!
//! ```
//! use std::sync::OnceLock;
//! use std::thread::{self, Thread};
//! use std::time::Duration;
//! use ebbtide_core::driver::{self, Park, Wait};
//! use ebbtide_core::sync::oneshot;
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static THREAD: OnceLock<Thread> = OnceLock::new();
//! fn unpark() {
//!     THREAD.get().expect("the parked thread is set before it runs").unpark();
//! }
//! static EXECUTOR: Executor = Executor::with_wake_hook(&unpark);
//! static POOL: TaskPool<4> = TaskPool::new();
//!
//! /// `thread::park` latches an `unpark` that came first, as rule 1 asks.
//! struct ThreadPark;
//!
//! impl Park for ThreadPark {
//!     type Error = core::convert::Infallible;
//!     // This sketch links no time driver, so it keeps no timers.
//!     const FIRES_TIMERS: bool = false;
//!
//!     fn now(&self) -> u64 {
//!         unreachable!("only called when FIRES_TIMERS")
//!     }
//!
//!     fn park(&mut self, wait: Wait) -> Result<(), Self::Error> {
//!         match wait {
//!             Wait::Poll => {}
//!             Wait::Until(_) | Wait::Forever => thread::park(),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! static ANSWER: oneshot::Channel<u32> = oneshot::Channel::new();
//!
//! THREAD.set(thread::current()).unwrap();
//! let runner = EXECUTOR.runner().unwrap();
//! let (send, recv) = ANSWER.split();
//! // Another thread wakes the parked loop, through the wake hook.
//! thread::spawn(move || {
//!     thread::sleep(Duration::from_millis(10));
//!     send.send(6).unwrap();
//! });
//! let task = runner.spawner().spawn(&POOL, async move { recv.await.unwrap() * 7 }).unwrap();
//! let output = driver::block_on(&runner, &mut ThreadPark, task);
//! assert_eq!(output, Ok(Ok(42)));
//! ```
//!
//! A fuller version of this driver, with its own time driver, runs core's behaviour tests in
//! `core/tests/driver_thread_park.rs`.

use core::future::Future;
use core::task::{Context, Poll};

use crate::executor::Runner;
use crate::time::queue::{self, TimerQueue};

/// How many executor batches the loop runs between two non-blocking looks at IO
/// ([`Wait::Poll`]) while tasks keep the executor busy, so that IO and timers are never starved
/// by ready tasks. (Prime, so that it does not fall in step with a program's own periods.)
pub const BATCHES_BETWEEN_IO: u32 = 61;

/// How long one [`Park::park`] may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Do not block: dispatch the events that are ready and return.
    Poll,
    /// Wait until woken, or until the clock reaches this tick (the timer queue's next deadline).
    Until(u64),
    /// Wait until woken: no timer is pending.
    Forever,
}

/// The one thing a driver writes: how to wait. See the [module docs](self) for the contract
/// (the MUST rules) and an example.
pub trait Park {
    /// Why a wait failed; [`block_on`] returns it. `core::convert::Infallible` when it cannot.
    type Error;

    /// Whether the loop keeps the timer queue through this driver: passes the next deadline in
    /// [`Wait::Until`], and fires the timers that are due after each park, reading the clock with
    /// [`now`](Park::now). `false` for a driver whose alarm interrupt calls
    /// [`queue::wake_expired`] (on the global queue) itself (bare metal): then the loop
    /// never touches the timer queue, never calls `now`, and parks with [`Wait::Forever`].
    const FIRES_TIMERS: bool = true;

    /// The clock, in ticks of [`TICK_HZ`](crate::time::TICK_HZ): the same clock as the program's
    /// `embassy_time_driver::now()`. Only called when [`FIRES_TIMERS`](Park::FIRES_TIMERS).
    fn now(&self) -> u64;

    /// Waits as `wait` says (see the [module docs](self) for the rules), dispatching the events
    /// that came meanwhile.
    ///
    /// # Errors
    ///
    /// Whatever the driver cannot recover from: [`block_on`] stops and returns it.
    fn park(&mut self, wait: Wait) -> Result<(), Self::Error>;

    /// The timer queue the loop keeps through this driver (when
    /// [`FIRES_TIMERS`](Park::FIRES_TIMERS)): its next deadline bounds each wait, and its timers
    /// that are due are fired after each park. The program's [`global`](queue::global) queue
    /// unless overridden: a runtime with a queue of its own (one of several runtimes in a process)
    /// returns it, and its time driver's `schedule_wake` puts that runtime's timers there.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::driver::{Park, Wait};
    /// use ebbtide_core::time::queue::TimerQueue;
    ///
    /// struct MyPark {
    ///     timers: &'static TimerQueue,
    /// }
    ///
    /// impl Park for MyPark {
    ///     type Error = core::convert::Infallible;
    ///     fn now(&self) -> u64 {
    ///         # 0
    ///         // read the clock
    ///     }
    ///     fn park(&mut self, _wait: Wait) -> Result<(), Self::Error> {
    ///         Ok(()) // wait in the OS
    ///     }
    ///     fn timer_queue(&self) -> &'static TimerQueue {
    ///         self.timers
    ///     }
    /// }
    /// static TIMERS: TimerQueue = TimerQueue::with_own_lock();
    /// let _park = MyPark { timers: &TIMERS };
    /// ```
    #[inline]
    fn timer_queue(&self) -> &'static TimerQueue {
        queue::global()
    }

    /// Runs one batch of ready tasks: [`Runner::poll`]. A driver where panics unwind overrides it
    /// to catch a panic that escapes a task (which `Runner::poll` lets through after marking the
    /// task panicked), so that the runtime keeps serving the other tasks.
    #[inline]
    fn poll_tasks(&mut self, runner: &Runner) -> bool {
        runner.poll()
    }
}

/// Runs `future` to completion on `runner`'s thread, running the executor's tasks meanwhile and
/// waiting through `park` whenever nothing is ready: the one run loop of every ebbtide driver.
///
/// `future` is polled when its waker (the runner's [root waker](Runner::root_waker)) fired,
/// tasks when they are ready. Every [`BATCHES_BETWEEN_IO`] batches in a row, `park` is asked to
/// look at IO without waiting. When no task is ready, `park` waits until the next timer deadline
/// (or forever, if none), and the timers that are due are fired afterwards.
///
/// # Errors
///
/// The first error of [`Park::park`]; tasks and timers stay as they are, so the caller may run
/// the loop again.
///
/// # Panics
///
/// If `future` panics (the panic propagates, as from any `poll`), or a task does and
/// [`Park::poll_tasks`] does not catch it. Also if called from inside one of the runner's tasks.
///
/// # Examples
///
/// See the [module docs](self) for a driver, or [`Runner::run_until`] for this loop with an
/// `idle` closure instead of a [`Park`].
pub fn block_on<P: Park, F: Future>(
    runner: &Runner,
    park: &mut P,
    future: F,
) -> Result<F::Output, P::Error> {
    // Pinned on this stack frame, which it never leaves.
    pin_utils::pin_mut!(future);
    let waker = runner.root_waker();
    let mut cx = Context::from_waker(&waker);
    runner.mark_root_woken();
    let mut busy_batches = 0;
    loop {
        if runner.take_root_wake() {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Ok(output);
            }
        }
        let more = park.poll_tasks(runner);
        if !more && !runner.root_woken() {
            wait(park, true)?;
            busy_batches = 0;
        } else {
            busy_batches += 1;
            if busy_batches >= BATCHES_BETWEEN_IO {
                wait(park, false)?;
                busy_batches = 0;
            }
        }
    }
}

/// One park (blocking or only looking), then the timers that came due.
fn wait<P: Park>(park: &mut P, block: bool) -> Result<(), P::Error> {
    if !P::FIRES_TIMERS {
        return park.park(if block { Wait::Forever } else { Wait::Poll });
    }
    let timers = park.timer_queue();
    let deadline = timers.next_deadline();
    park.park(match (block, deadline) {
        (false, _) => Wait::Poll,
        (true, Some(deadline)) => Wait::Until(deadline),
        (true, None) => Wait::Forever,
    })?;
    // Only a deadline that has come needs the queue's lock. A timer set meanwhile from another
    // thread ended the wait (rule 3); the next wait is computed from it.
    if let Some(deadline) = deadline {
        let now = park.now();
        if deadline <= now {
            timers.wake_expired(now);
        }
    }
    Ok(())
}

impl Runner {
    /// Polls `future` and the executor's tasks until `future` completes; a small, portable loop for
    /// tests and bare metal.
    ///
    /// `future` is polled when its waker fires, tasks when they are ready; when neither is, `idle`
    /// is called: pass `|| {}` to spin, `cortex_m::asm::wfi` to sleep until an interrupt, or a
    /// function that advances a mock clock. It is [`driver::block_on`](crate::driver::block_on)
    /// with `idle` as the wait and no timer glue (time moves through the program's own time
    /// driver); a real driver (ebbtide-std, ebbtide-wasi) implements
    /// [`Park`](crate::driver::Park) to wait in the OS instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, TaskPool};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static POOL: TaskPool<2> = TaskPool::new();
    ///
    /// let runner = EXECUTOR.runner().unwrap();
    /// let task = runner.spawner().spawn(&POOL, async { 1 }).unwrap();
    /// let sum = runner.run_until(async { task.await.unwrap() + 1 }, || {});
    /// assert_eq!(sum, 2);
    /// ```
    pub fn run_until<F: Future>(&self, future: F, idle: impl FnMut()) -> F::Output {
        match block_on(self, &mut Idle(idle), future) {
            Ok(output) => output,
            Err(never) => match never {},
        }
    }
}

/// A [`Park`] that calls a closure instead of waiting: [`Runner::run_until`]'s.
struct Idle<F>(F);

impl<F: FnMut()> Park for Idle<F> {
    type Error = core::convert::Infallible;
    const FIRES_TIMERS: bool = false;

    fn now(&self) -> u64 {
        unreachable!("Idle keeps no timers")
    }

    #[inline]
    fn park(&mut self, wait: Wait) -> Result<(), Self::Error> {
        if wait != Wait::Poll {
            (self.0)();
        }
        Ok(())
    }
}
