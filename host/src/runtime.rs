//! The runtime shell: a driver, an executor and task memory, run by one thread.
//!
//! A host driver (ebbtide-std, ebbtide-wasi) implements [`HostDriver`] (its [`Park`], plus how to
//! build, wake, close and reuse it) and wraps [`Runtime<D>`] in its own `Runtime` type. Everything
//! else lives here, once: the current runtime of a thread, spawning through a spawn gate, the run
//! loop with panic catching ([`ebbtide_core::driver::block_on`] over the driver), shutdown, and
//! the reuse of a dropped runtime's parts.
//!
//! # Dropping a runtime
//!
//! Dropping a [`Runtime`] cancels every task (their futures are dropped on the runtime's thread)
//! and gives its parts back for the next runtime: the executor, the driver with its file
//! descriptors and the task slots go to a process-wide bin, and the next runtime built with the
//! same capacities takes them from there instead of allocating and opening new ones. A process
//! that builds and drops runtimes one after another (a test binary full of
//! `#[ebbtide_std::test]`s, on a new thread each) keeps its file descriptors and memory flat.
//! (Those parts cannot simply be freed: a waker of a finished task, an IO object or a `Handle`
//! may outlive the runtime anywhere and still point at them.)
//!
//! What outlives a runtime is harmless and inert afterwards, even once a new runtime reuses the
//! parts: [`Handle::spawn`] fails with [`SpawnError::Shutdown`], an old task's `JoinHandle`
//! yields its output or `Cancelled`, an IO object fails (the driver's business, told by
//! [`HostDriver::close`]), and an old waker at most wakes a new task once (a spurious wake-up,
//! which every future tolerates). See the `recycle` source file for why the reuse is sound.
//!
//! A runtime that ran [`spawn_local`](crate::spawn_local) tasks and is dropped away from their
//! thread leaks its tasks and parts instead (see
//! [Moving a runtime](Runtime#moving-a-runtime-between-threads)).

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};

use ebbtide_core::driver::{self, Park, Wait};
use ebbtide_core::time::queue::{self, TimerQueue};
use ebbtide_core::{Executor, Runner};

pub use crate::driver::HostDriver;
pub use crate::memory::Options;
pub use crate::shell::SpawnGuard;

use crate::clock::{Clock, Step};
use crate::context;
use crate::home::HomeRunner;
use crate::join::{JoinHandle, SpawnError};
use crate::memory::{self, TaskMemory};
use crate::recycle;
use crate::shell::Shell;
use crate::thread_park;
/// A runtime over the host driver `D`: one thread runs every task, and waits through `D` for IO
/// and the next timer in one wait. Drivers wrap it in their own `Runtime` type.
///
/// Memory for tasks is reserved when the runtime is built, and grows by segments when a size
/// class runs out, up to the [`Options`]' limit (see [`memory`]); spawning allocates only when it
/// grows a class. Dropping the runtime cancels its tasks and keeps its parts for the next runtime with the
/// same capacities (see the [module docs](self)).
///
/// # Moving a runtime between threads
///
/// A runtime is `Send`: it may be built on one thread and run on another, and run on different
/// threads one `block_on` after another, as long as it never ran a task that is not `Send`.
/// The first [`spawn_local`](crate::spawn_local) binds it to the thread that runs it then, its
/// *home*, for the rest of its life: [`block_on`](Runtime::block_on) on another thread panics,
/// and dropping it on another thread while it still has tasks (finished ones waiting for their
/// `JoinHandle` included) does not drop them there. It leaks them instead, with the runtime's
/// task memory and executor (which are then not reused): their destructors never run, their
/// `JoinHandle`s never complete, the handles' spawns fail and the IO objects fail as after any
/// shutdown. Drop such a runtime on its home thread.
///
/// Unlike Tokio's, a runtime is not `Sync` (its `block_on` takes the one thread that drives IO
/// and timers): share a [`Handle`], which is `Send + Sync` and whose
/// [`block_on`](Handle::block_on) gives other threads what Tokio's `&Runtime::block_on` gives
/// them on a current-thread runtime.
///
/// ```
/// let runtime = ebbtide_std::Runtime::new().unwrap();
/// let answer = std::thread::spawn(move || runtime.block_on(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime<D: HostDriver> {
    shell: &'static Shell,
    /// Taken out when the runtime drops, to go to the bin with the rest. Bound to a thread once
    /// a `!Send` task is spawned (see the `home` module): what makes the runtime `Send`.
    runner: ManuallyDrop<HomeRunner>,
    driver: ManuallyDrop<RefCell<D>>,
    /// The task memory's capacities, to find this runtime's parts again in the bin.
    options: Options,
    /// Called before the runtime blocks in the OS with nothing to run: returns how many tasks it
    /// put on this runtime's queue (work stealing, see [`Runtime::set_steal_hook`]).
    steal: Option<Box<dyn Fn() -> usize + Send + Sync>>,
    /// Called after a batch of tasks when more are ready (the runtime stays busy): lets a
    /// work-stealing driver wake an idle runtime to take some (see [`Runtime::set_busy_hook`]).
    busy: Option<Box<dyn Fn() + Send + Sync>>,
}

impl<D: HostDriver> Runtime<D> {
    /// A runtime with `options`' task memory and a driver built with `driver_options` (or the
    /// parts of a dropped runtime that match them).
    ///
    /// # Errors
    ///
    /// Those of [`HostDriver::new`].
    pub fn new(options: &Options, driver_options: &D::Options) -> io::Result<Runtime<D>> {
        if let Some(parts) = recycle::take::<D>(options, driver_options) {
            let recycle::Parts {
                shell,
                runner,
                mut driver,
            } = parts;
            if driver.reopen(driver_options).is_ok() {
                // A stale root waker may have been woken meanwhile.
                runner.take_root_wake();
                shell.reopen();
                context::register(shell);
                return Ok(Runtime {
                    shell,
                    runner: ManuallyDrop::new(HomeRunner::new(runner)),
                    driver: ManuallyDrop::new(RefCell::new(driver)),
                    options: options.clone(),
                    steal: None,
                    busy: None,
                });
            }
            // The driver could not be reopened: its parts stay leaked; build anew.
        }
        let driver = D::new(driver_options)?;
        let shared: &'static D::Shared = driver.shared();
        let address = (shared as *const D::Shared).addr();
        // The hook runs on whichever thread wakes a task while the runtime waits. On the
        // runtime's own thread it has nothing to do: that thread polls the executor again before
        // it waits.
        let wake_hook: &'static (dyn Fn() + Send + Sync) = Box::leak(Box::new(move || {
            if !context::is_current_driver(address) {
                D::unpark(shared);
            }
        }));
        let executor: &'static Executor = Box::leak(Box::new(Executor::with_wake_hook(wake_hook)));
        let shell: &'static Shell = Box::leak(Box::new(Shell {
            executor,
            tasks: memory::reserve(options),
            task_limit: options.total_limit(),
            spawn_gate: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            driver: shared,
            wake_hook,
            // With ebbtide-core's `one-timer-queue`, only the global queue keeps task timers
            // (another would wake them at once, over and over): every runtime uses it then.
            timers: if D::FIRES_TIMERS && !queue::ONE_TIMER_QUEUE {
                Box::leak(Box::new(TimerQueue::with_own_lock()))
            } else {
                queue::global()
            },
            clock: Clock::new(D::real_now),
            local_tasks: AtomicBool::new(false),
        }));
        context::register(shell);
        let runner = executor.runner().expect("a new executor has its runner");
        Ok(Runtime {
            shell,
            runner: ManuallyDrop::new(HomeRunner::new(runner)),
            driver: ManuallyDrop::new(RefCell::new(driver)),
            options: options.clone(),
            steal: None,
            busy: None,
        })
    }

    /// Says whether this runtime is one worker of several, whose clocks could not be paused
    /// together: then [`time::pause`](crate::time::pause) panics on it. Reused parts forget it:
    /// every runtime built says it again.
    #[doc(hidden)]
    pub fn set_one_of_several(&self, yes: bool) {
        self.shell.clock.set_one_of_several(yes);
    }

    /// Sets the work-stealing hook: called on the runtime's thread, inside `block_on`, whenever
    /// the runtime is about to wait in the OS with no task ready; it may put tasks on this
    /// runtime's queue ([`Handle::steal_from`]) and returns how many (or any number above 0 when
    /// it may have queued some otherwise, by waking them on this thread, which calls no wake
    /// hook), and then the runtime looks at IO without waiting and polls them instead.
    #[doc(hidden)]
    pub fn set_steal_hook(&mut self, hook: Box<dyn Fn() -> usize + Send + Sync>) {
        self.steal = Some(hook);
    }

    /// Sets the busy hook: called on the runtime's thread after each batch of tasks that left
    /// more ready, so that a work-stealing driver can wake an idle runtime to take some. It must
    /// be quick (a relaxed load when nobody is idle).
    #[doc(hidden)]
    pub fn set_busy_hook(&mut self, hook: Box<dyn Fn() + Send + Sync>) {
        self.busy = Some(hook);
    }

    /// Runs `future` to completion on this thread, running spawned tasks, IO and timers
    /// meanwhile; returns its output.
    ///
    /// A task that panics is caught (its `JoinHandle` yields [`JoinError::Panic`]) and the
    /// runtime keeps serving the others.
    ///
    /// [`JoinError::Panic`]: crate::JoinError::Panic
    ///
    /// # Errors
    ///
    /// The first error of the driver's [`Park::park`]; tasks stay as they are.
    ///
    /// # Panics
    ///
    /// If called from inside a runtime or [`Handle::block_on`] (await the future instead), or if
    /// `future` panics. Also on a thread other than the runtime's home, once the runtime has run
    /// [`spawn_local`](crate::spawn_local) tasks (see
    /// [Moving a runtime](Runtime#moving-a-runtime-between-threads)).
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, D::Error> {
        let _enter = context::enter(self.shell);
        let runner = self.runner.claim(self.shell);
        let mut driver = self.driver.borrow_mut();
        let mut park = CatchPanics {
            driver: &mut *driver,
            shell: self.shell,
            runner,
            steal: self.steal.as_deref(),
            busy: self.busy.as_deref(),
            #[cfg(feature = "deadlock-detection")]
            dropped_timers_seen: None,
        };
        driver::block_on(runner, &mut park, future)
    }

    /// Pauses the runtime's clock before it runs (what `Builder::start_paused` does): see
    /// [`time::pause`](crate::time::pause).
    ///
    /// # Panics
    ///
    /// When the clock is already paused.
    pub fn pause_clock(&self) {
        self.shell.clock.pause();
    }

    /// A handle to this runtime, for other threads.
    pub fn handle(&self) -> Handle {
        Handle::of(self.shell)
    }

    /// The driver's shared part.
    pub fn driver_shared(&self) -> &'static D::Shared {
        self.driver.borrow().shared()
    }

    /// Calls `f` with the driver (for its own settings between runs).
    ///
    /// # Panics
    ///
    /// Inside [`block_on`](Runtime::block_on) (from a task).
    pub fn with_driver<R>(&self, f: impl FnOnce(&mut D) -> R) -> R {
        f(&mut self.driver.borrow_mut())
    }
}

/// The driver's [`Park`], with every task's poll under `catch_unwind`, the runtime's paused clock
/// (see `clock`) in its waits, and the runtime's own timer queue (`Shell::timers`) as the loop's,
/// with the program's global queue folded in: timers set on other threads (a foreign executor,
/// `Handle::block_on`) go there, and every runtime's wait ends at its next deadline.
struct CatchPanics<'a, D> {
    driver: &'a mut D,
    shell: &'static Shell,
    runner: &'a Runner,
    /// The work-stealing hook, if any (see [`Runtime::set_steal_hook`]).
    steal: Option<&'a (dyn Fn() -> usize + Send + Sync)>,
    /// The busy hook, if any (see [`Runtime::set_busy_hook`]).
    busy: Option<&'a (dyn Fn() + Send + Sync)>,
    /// `queue::dropped_timers()` when the queue was last emptied to see through dropped timers
    /// (`None`: not yet in this `block_on`); see [`CatchPanics::see_through_dropped_timers`].
    #[cfg(feature = "deadlock-detection")]
    dropped_timers_seen: Option<u32>,
}

/// How long a paused runtime waits in real time, at most, while a blocking job is in flight, before
/// it looks again whether its clock may advance: 1 ms.
const BUSY_RECHECK_TICKS: u64 = ebbtide_core::time::TICK_HZ / 1_000;

impl<D: HostDriver> CatchPanics<'_, D> {
    /// Before a wait for a timer: if timers were dropped since the queue was last emptied, and
    /// the driver would report a deadlock but for the queue's timers, the wait may be for a
    /// deadline nothing waits for any more. Then the queue is emptied instead, waking everything
    /// in it (`true`: skip the wait): what still waits queues its timer again when polled, and
    /// the next wait is for that, or the driver's deadlock report if nothing did.
    #[cfg(feature = "deadlock-detection")]
    fn see_through_dropped_timers(&mut self) -> bool {
        let dropped = queue::dropped_timers();
        if self.dropped_timers_seen == Some(dropped)
            || self.shell.clock.is_virtual()
            || !self.driver.reports_deadlock()
        {
            return false;
        }
        self.dropped_timers_seen = Some(dropped);
        self.shell.timers.reset(self.driver.now());
        true
    }

    /// The park of the paused clock or of the driver.
    #[inline]
    fn park_own(&mut self, wait: Wait) -> Result<(), D::Error> {
        if self.shell.clock.is_virtual() {
            return self.park_virtual(wait);
        }
        self.driver.park(wait)
    }

    /// A park while the global queue has timers (set on threads that run no runtime): its next
    /// deadline bounds the wait too, and its timers that are due are fired afterwards, by
    /// whichever runtime gets there first.
    #[cold]
    fn park_with_global(&mut self, wait: Wait) -> Result<(), D::Error> {
        let global = queue::global();
        // `wake_expired` rather than `next_deadline`: it also makes the deadline the queue last
        // reported exact (an entry that left the queue may have left an earlier one behind, and
        // a timer queued after it, but before ours, would not end this wait), and lowers the
        // hint that sent us here when the queue is empty.
        let deadline = global.wake_expired(self.driver.now());
        // What it woke may be this runtime's (a task or the `block_on` future, whose wake on
        // this thread does not end a wait): then only look.
        let wait = if wait != Wait::Poll
            && (self.shell.executor.has_ready_tasks() || self.runner.root_woken())
        {
            Wait::Poll
        } else {
            wait
        };
        self.park_own(match (wait, deadline) {
            (Wait::Poll, _) | (_, None) => wait,
            (Wait::Until(own), Some(at)) => Wait::Until(own.min(at)),
            (Wait::Forever, Some(at)) => Wait::Until(at),
        })?;
        if let Some(at) = deadline {
            let now = self.driver.now();
            if at <= now {
                global.wake_expired(now);
            }
        }
        Ok(())
    }

    /// A park of a runtime whose clock is virtual: the timers of its own list count too.
    #[cold]
    fn park_virtual(&mut self, wait: Wait) -> Result<(), D::Error> {
        let clock = &self.shell.clock;
        match clock.step(self.driver.now()) {
            Step::Fired => self.driver.park(Wait::Poll),
            Step::Wait(None) => self.driver.park(wait),
            Step::Wait(Some(at)) => self.driver.park(match wait {
                Wait::Poll => Wait::Poll,
                Wait::Until(deadline) => Wait::Until(deadline.min(at)),
                Wait::Forever => Wait::Until(at),
            }),
            Step::Advance => {
                // Auto-advance, as Tokio's paused clock: only when nothing else can happen first.
                // IO that is ready goes first, and so does a blocking job in flight.
                self.driver.park(Wait::Poll)?;
                if wait == Wait::Poll
                    || self.shell.executor.has_ready_tasks()
                    || self.runner.root_woken()
                {
                    return Ok(());
                }
                if D::is_busy(self.driver.shared()) {
                    let recheck = self.driver.now().saturating_add(BUSY_RECHECK_TICKS);
                    return self.driver.park(match wait {
                        Wait::Until(deadline) => Wait::Until(deadline.min(recheck)),
                        _ => Wait::Until(recheck),
                    });
                }
                clock.auto_advance();
                Ok(())
            }
        }
    }
}

impl<D: HostDriver> Park for CatchPanics<'_, D> {
    type Error = D::Error;
    const FIRES_TIMERS: bool = D::FIRES_TIMERS;

    /// The real clock: the timer queues run on it (a paused runtime's timers are not there).
    #[inline]
    fn now(&self) -> u64 {
        self.driver.now()
    }

    /// One relaxed load on the way when no timer was set from outside a runtime: the global
    /// queue is only looked at while it may have timers. A timer that goes there while this
    /// runtime waits makes `schedule_wake` return `true` (the hint was down, so its deadline is
    /// the earliest), and `ebbtide_host::schedule_wake` then ends every runtime's wait.
    #[inline]
    fn park(&mut self, mut wait: Wait) -> Result<(), D::Error> {
        // About to block with nothing to run: steal first, and if that found work only look at
        // IO (the loop polls the stolen tasks next).
        if wait != Wait::Poll {
            if let Some(steal) = self.steal {
                if steal() > 0 {
                    wait = Wait::Poll;
                }
            }
        }
        #[cfg(feature = "deadlock-detection")]
        if matches!(wait, Wait::Until(_)) && self.see_through_dropped_timers() {
            return Ok(());
        }
        if D::FIRES_TIMERS
            && queue::global().may_have_timers()
            && !std::ptr::eq(self.shell.timers, queue::global())
        {
            return self.park_with_global(wait);
        }
        self.park_own(wait)
    }

    /// The runtime's own queue (see `Shell::timers`); the global one is folded in by `park`.
    #[inline]
    fn timer_queue(&self) -> &'static TimerQueue {
        self.shell.timers
    }

    /// A panic from a task has already been turned into its `JoinHandle`'s error by
    /// `CatchUnwind`; one that escapes anyway (from a task spawned through ebbtide-core directly,
    /// or a destructor) is caught here so the runtime keeps serving the other tasks.
    #[inline]
    fn poll_tasks(&mut self, runner: &Runner) -> bool {
        // After a panic, poll again: the rest of the batch was put back in the queue.
        let more = catch_unwind(AssertUnwindSafe(|| runner.poll())).unwrap_or(true);
        if more {
            if let Some(busy) = self.busy {
                busy();
            }
        }
        more
    }
}

/// How many rounds of cancelling and polling a dropping runtime tries before it gives up on
/// reusing its parts (each round finishes every task there is; only tasks spawned while the
/// runtime drops, which the spawn gate refuses, could need another).
const SHUTDOWN_ROUNDS: usize = 8;

/// Cancels every unfinished task of `tasks` (see `Runner::cancel_all`), on this thread. A
/// destructor that panics is caught: its task still counts as dropped (a destructor runs once,
/// even if it unwinds, and the task completes all the same), and the rest are cancelled, so a
/// runtime's `Drop` never unwinds and never leaves a task behind. Returns how many tasks were
/// unfinished.
fn cancel_all_catching_panics(tasks: &'static TaskMemory, runner: &Runner) -> usize {
    let mut cancelled = 0;
    loop {
        // SAFETY: the task memory is this runtime's own (our caller's): every task in it was
        // spawned on its executor, whose runner is ours, and we are not inside its poll.
        match catch_unwind(AssertUnwindSafe(|| unsafe { tasks.cancel_all(runner) })) {
            Ok(count) => return cancelled + count,
            // That task completed although its destructor unwound: go on with the others.
            Err(_) => cancelled += 1,
        }
    }
}

impl<D: HostDriver> Drop for Runtime<D> {
    /// Shuts down: every task that has not finished is dropped, on this thread; then the parts
    /// go to the bin for the next runtime (see the [module docs](self)).
    fn drop(&mut self) {
        let enter = context::enter(self.shell);
        // From here on the runtime's IO objects fail, its handles cannot spawn and a task's
        // destructor cannot make new IO objects or tasks.
        D::close(self.driver.get_mut().shared());
        self.shell.close();
        context::unregister(self.shell);
        let Some(runner) = self.runner.for_drop(self.shell) else {
            // Dropped away from its home thread while tasks that may be `!Send` are left: they
            // must not be dropped here. Leak them with the runner and the parts; the driver
            // (which no task points at: they reach its leaked shared part) is dropped.
            drop(enter);
            // SAFETY: the field is not used again: this is the end of `drop`.
            drop(unsafe { ManuallyDrop::take(&mut self.driver) });
            return;
        };
        let mut finished = false;
        for _ in 0..SHUTDOWN_ROUNDS {
            let cancelled = cancel_all_catching_panics(self.shell.tasks, runner);
            // Tasks that were queued (or whose poll panicked) are dropped, not polled, by these
            // polls.
            while catch_unwind(AssertUnwindSafe(|| runner.poll())).unwrap_or(true) {}
            if cancelled == 0 {
                // Every task in the pools is complete: no future is left, only outputs that
                // wait for their `JoinHandle`s.
                finished = true;
                break;
            }
        }
        drop(enter);
        // A paused clock's timers and wakers go; the parts' next runtime starts on real time.
        self.shell.clock.reset();
        // So do the timers of the runtime's own queue: they belong to its tasks, all complete
        // now (or leaked with the parts), and to its `block_on` futures, all gone. Their wakers
        // are woken (at most spuriously) and dropped outside the queue's lock.
        if !std::ptr::eq(self.shell.timers, queue::global()) {
            self.shell.timers.reset(D::real_now());
        }
        // SAFETY: neither field is used again: this is the end of `drop`.
        let (runner, driver) = unsafe {
            (
                ManuallyDrop::take(&mut self.runner).into_inner(),
                ManuallyDrop::take(&mut self.driver).into_inner(),
            )
        };
        if finished {
            // SAFETY: every task of this runtime is complete (`finished`), its futures dropped on
            // this thread, and no new one can be spawned into its pools: the spawn gate stays
            // closed until the parts are reused, and the shell never hands out a core `Spawner`
            // for its executors. See `recycle::Parts`.
            let parts = unsafe { recycle::Parts::new(self.shell, runner, driver) };
            recycle::put(self.options.clone(), parts);
        }
        // Otherwise the parts are leaked as they are, the runner and driver dropped here (which
        // frees nothing a waker may point at).
    }
}

impl<D: HostDriver> fmt::Debug for Runtime<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.shell.tasks.len())
            .field("task_capacity", &self.shell.tasks.capacity())
            .finish_non_exhaustive()
    }
}

/// A handle to a runtime: spawn onto it from any thread.
///
/// A handle may outlive its runtime: spawning through it then fails with
/// [`SpawnError::Shutdown`], also when a new runtime reuses the old one's parts.
///
/// # Examples
///
/// ```
/// use ebbtide_std::Runtime;
///
/// let runtime = Runtime::new().unwrap();
/// let handle = runtime.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 7 }).unwrap()).join().unwrap();
/// assert_eq!(runtime.block_on(task).unwrap(), 7);
/// ```
#[derive(Clone, Copy)]
pub struct Handle {
    shell: &'static Shell,
    /// The shell's generation while the handle's runtime runs.
    generation: u64,
}

impl Handle {
    /// The handle of the runtime the current thread is running.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Handle::try_current).
    pub fn current() -> Handle {
        Self::try_current().expect(
            "there is no ebbtide runtime on this thread: call this inside Runtime::block_on or a \
             task, or pass a Handle in",
        )
    }

    /// The handle of the runtime the current thread is running (or borrows, inside
    /// [`Handle::block_on`]), if any.
    pub fn try_current() -> Option<Handle> {
        context::current_or_borrowed()
    }

    /// The handle of `shell`'s runtime as it is now.
    pub(crate) fn of(shell: &'static Shell) -> Handle {
        Handle {
            shell,
            generation: shell.generation(),
        }
    }

    /// Runs `future` to completion on the calling thread, inside this runtime's context; returns
    /// its output. Like Tokio's `Handle::block_on` on a current-thread runtime.
    ///
    /// The thread is blocked (parked while `future` waits). Inside `future`,
    /// [`spawn`](crate::spawn) puts `Send` tasks on this runtime, [`Handle::current`] is this
    /// handle, and a driver's IO objects made there register with this runtime's driver.
    ///
    /// The calling thread does not run the runtime: tasks, IO and timers are driven only by the
    /// thread inside [`Runtime::block_on`]. So anything in `future` that relies on IO or timers
    /// (or awaits a task) makes progress only while another thread is inside
    /// `Runtime::block_on` of this runtime (for a timer, of any runtime of the process); if none
    /// is, it waits until one is. (Tokio documents the same for its current-thread runtime.) Its
    /// wakes and timers end that thread's wait as any other thread's do.
    ///
    /// When the handle's runtime was dropped, `future` still runs, but spawning inside it fails
    /// with [`SpawnError::Shutdown`], IO objects fail as they do after a runtime's shutdown, and a
    /// timer panics if no runtime at all is alive in the process.
    ///
    /// # Panics
    ///
    /// If the thread is already inside a runtime ([`Runtime::block_on`], a task, or
    /// `Handle::block_on`): "Cannot start an ebbtide runtime from within a runtime" (await the
    /// future instead). [`spawn_local`](crate::spawn_local) inside `future` panics: this thread
    /// does not run the runtime, so it cannot take a task that is not `Send`. And if `future`
    /// panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::Runtime;
    ///
    /// let runtime = Runtime::new().unwrap();
    /// let handle = runtime.handle();
    /// // Another thread blocks on a future in the runtime's context...
    /// let user = std::thread::spawn(move || {
    ///     handle.block_on(async {
    ///         let task = ebbtide_std::spawn(async { 6 * 7 }).unwrap();
    ///         task.await.unwrap()
    ///     })
    /// });
    /// // ...while this one runs the runtime (and its task) until that thread is done.
    /// let answer = runtime.block_on(async {
    ///     ebbtide_std::spawn_blocking(move || user.join().unwrap()).await
    /// });
    /// assert_eq!(answer.unwrap(), 42);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _borrow = context::enter_borrowed(*self);
        thread_park::block_on(future)
    }

    /// Lets one spawn in, for work a driver runs besides tasks (a blocking pool's jobs): while
    /// the guard lives, the runtime cannot finish shutting down.
    ///
    /// # Errors
    ///
    /// [`SpawnError::Shutdown`] when the handle's runtime was dropped.
    pub fn enter_spawn(&self) -> Result<SpawnGuard<'static>, SpawnError> {
        self.shell.enter_spawn(self.generation)
    }

    /// Spawns a `Send` task on the runtime, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] when the task's size class is full and at its limit (see
    /// [`Options`]); [`SpawnError::Shutdown`]
    /// when the runtime was dropped (the future is dropped, not run).
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shell.spawn(self.generation, future)
    }

    /// [`spawn`](Handle::spawn), giving the future back (unpolled) when the spawn is refused, so
    /// that the caller can try elsewhere or later: a multi-worker runtime tries its other
    /// workers when one worker's task memory is at its limit.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Handle::spawn), with the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_host::SpawnError;
    ///
    /// let runtime = ebbtide_std::Runtime::new().unwrap();
    /// let handle = runtime.block_on(async { ebbtide_host::Handle::current() });
    /// drop(runtime);
    /// let (error, future) = handle.try_spawn(async { 1 }).unwrap_err();
    /// assert!(matches!(error, SpawnError::Shutdown));
    /// // Not lost: another runtime can run it.
    /// assert_eq!(ebbtide_std::Runtime::new().unwrap().block_on(future), 1);
    /// ```
    pub fn try_spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shell.try_spawn(self.generation, future, true)
    }

    /// [`spawn`](Handle::spawn) for a task that stays on this runtime even when its driver steals
    /// work between runtimes (ebbtide-std's `Handle::spawn_on` promises the worker).
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Handle::spawn).
    pub fn spawn_unmovable<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shell
            .try_spawn(self.generation, future, false)
            .map_err(|(error, _refused)| error)
    }

    /// Work stealing between runtimes of one driver (ebbtide-std's workers): moves about half of
    /// the `Send` tasks queued on `victim`'s executor to this runtime's; returns how many moved.
    /// See [`Executor::steal_from`].
    ///
    /// # Safety
    ///
    /// The runtimes are one group, and the group's shutdown calls [`send_home`] with every one
    /// of them while none of them runs (no `block_on`, no steal), before any of them drops: a
    /// runtime's `Drop` cancels its tasks on its own thread, which must not hold a task that
    /// another runtime may poll. Both handles are live.
    #[doc(hidden)]
    pub unsafe fn steal_from(&self, victim: &Handle) -> usize {
        // SAFETY: by our caller, no runtime cancels a pool whose tasks were moved before they
        // are all sent home, while none of the group runs.
        unsafe { self.shell.executor.steal_from(victim.shell.executor) }
    }

    /// [`steal_from`](Handle::steal_from), queued tasks only (see
    /// [`Executor::steal_queued_from`]).
    ///
    /// # Safety
    ///
    /// As for [`steal_from`](Handle::steal_from).
    #[doc(hidden)]
    pub unsafe fn steal_queued_from(&self, victim: &Handle) -> usize {
        // SAFETY: as in `steal_from`.
        unsafe { self.shell.executor.steal_queued_from(victim.shell.executor) }
    }
}

/// Sends every task of `runtimes` that a steal moved (see [`Handle::steal_from`]) back to the
/// runtime whose task memory it lives in, and waits until none is left elsewhere (a waker on
/// another thread may be about to push one onto the queue it was on: this loops, yielding, until
/// that push lands and is sent home too).
///
/// # Safety
///
/// None of `runtimes` runs (no `block_on` on any thread, hence no poll and no steal) during the
/// call; they are every runtime that may hold one another's tasks.
#[doc(hidden)]
pub unsafe fn send_home(runtimes: &[Handle]) {
    let home_of = |address: usize| {
        runtimes
            .iter()
            .find(|runtime| runtime.shell.tasks.contains_addr(address))
            .map(|runtime| runtime.shell.executor)
    };
    loop {
        for runtime in runtimes {
            // SAFETY: `home_of` names the executor whose task memory holds the task, the one it
            // was spawned on; by our caller none of them is polled.
            unsafe { runtime.shell.executor.drain_home(home_of) };
        }
        let elsewhere: usize = runtimes
            .iter()
            // SAFETY: every task of a runtime's memory was spawned on its executor, and by our
            // caller none of the runtimes is polled or stolen from.
            .map(|runtime| unsafe { runtime.shell.tasks.reclaim_idle(runtime.shell.executor) })
            .sum();
        if elsewhere == 0 {
            return;
        }
        // A waker set SCHEDULED and is about to push onto the queue the task was on.
        std::thread::yield_now();
    }
}

impl Handle {
    /// Ends the runtime's wait in the OS, unless called on its own thread (its executor's wake
    /// hook): a work-stealing driver wakes an idle runtime so that it steals.
    #[doc(hidden)]
    pub fn unpark(&self) {
        self.shell.unpark();
    }

    /// Whether `self` and `other` are handles of the same runtime parts.
    #[doc(hidden)]
    pub fn same_runtime(&self, other: &Handle) -> bool {
        std::ptr::eq(self.shell, other.shell)
    }

    /// The shared part of the runtime's driver, if it is a `T`.
    pub fn driver<T: Any>(&self) -> Option<&'static T> {
        self.shell.driver.downcast_ref()
    }

    /// Tasks alive (running, waiting, or finished with a live `JoinHandle`).
    pub fn tasks(&self) -> usize {
        self.shell.tasks.len()
    }

    /// Task slots now, over every size class: the reservation plus what the classes grew by.
    /// It only grows (and stays as it is when a new runtime reuses this one's memory).
    pub fn task_capacity(&self) -> usize {
        self.shell.tasks.capacity()
    }

    /// How many more tasks each size class (256 B, 1 KiB, 4 KiB, 16 KiB) may take before a spawn
    /// into it fails with [`SpawnError::PoolFull`]: its limit less its live tasks (about
    /// `usize::MAX` for a class without a limit). A hint for load shedding (ebbtide-hyper sizes
    /// HTTP/2's `max_concurrent_streams` with it); other threads change it meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().task_limit(64).build().unwrap();
    /// let rooms = runtime.block_on(async { ebbtide_host::Handle::current().task_rooms() });
    /// // The block_on future is not a task: every class has all its room.
    /// assert_eq!(rooms[0], 64);
    /// ```
    pub fn task_rooms(&self) -> [usize; 4] {
        self.shell.tasks.class_rooms()
    }

    /// The most task slots the runtime may have, over every size class (see [`Options`]); `None`
    /// when the classes grow as far as memory allows.
    pub fn task_limit(&self) -> Option<usize> {
        self.shell.task_limit
    }

    /// Whether the handle's runtime is alive (built, and not dropped).
    pub fn is_live(&self) -> bool {
        self.generation & 1 == 0 && self.shell.generation() == self.generation
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("tasks", &self.tasks())
            .field("task_capacity", &self.task_capacity())
            .finish_non_exhaustive()
    }
}
