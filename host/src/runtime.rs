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

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ebbtide_core::driver::{self, Park, Wait};
use ebbtide_core::{Executor, Runner};

use crate::context;
use crate::memory::{self, slots_per_class, TaskMemory};
use crate::recycle;
use crate::task::{CatchUnwind, JoinHandle, SpawnError};

/// What a host driver adds to [`Park`] so that the shell can build, wake, close and reuse it.
///
/// # Examples
///
/// A driver with no IO, which parks its thread (`core/tests/driver_thread_park.rs` has a fuller
/// one, with a time driver, running core's behaviour tests):
///
/// ```
/// use std::convert::Infallible;
/// use std::thread::Thread;
/// use ebbtide_core::driver::{Park, Wait};
/// use ebbtide_host::HostDriver;
///
/// /// Parks the thread that built it; `thread::park` latches an `unpark` that came first.
/// struct ThreadDriver(&'static Thread);
///
/// impl Park for ThreadDriver {
///     type Error = Infallible;
///     const FIRES_TIMERS: bool = false; // this sketch links no time driver
///     fn now(&self) -> u64 {
///         unreachable!()
///     }
///     fn park(&mut self, wait: Wait) -> Result<(), Infallible> {
///         if wait != Wait::Poll {
///             std::thread::park();
///         }
///         Ok(())
///     }
/// }
///
/// impl HostDriver for ThreadDriver {
///     type Shared = Thread;
///     type Options = ();
///     fn new(_: &()) -> std::io::Result<Self> {
///         Ok(ThreadDriver(Box::leak(Box::new(std::thread::current()))))
///     }
///     fn shared(&self) -> &'static Thread {
///         self.0
///     }
///     fn unpark(thread: &Thread) {
///         thread.unpark();
///     }
///     // A dropped runtime's parts serve a new runtime on the same thread only.
///     fn can_reuse(&self, _: &()) -> bool {
///         self.0.id() == std::thread::current().id()
///     }
/// }
///
/// let runtime = ebbtide_host::Runtime::<ThreadDriver>::new(&Default::default(), &()).unwrap();
/// let answer = runtime.block_on(async {
///     let task = ebbtide_host::spawn(async { 6 * 7 }).unwrap();
///     task.await.unwrap()
/// });
/// assert_eq!(answer.unwrap(), 42);
/// ```
pub trait HostDriver: Park + Send + Sized + 'static {
    /// What every thread may reach of the driver (the wake-up channel, the table of IO
    /// resources): leaked when the driver is built, so wakers and IO objects that outlive the
    /// runtime still find it. [`Handle::driver`] gives it to the driver's IO types.
    type Shared: Send + Sync + 'static;
    /// The driver's own settings (from its builder).
    type Options: Send + Sync + 'static;

    /// Builds a driver (opens the OS's poller, reserves its tables).
    ///
    /// # Errors
    ///
    /// What the OS says when the driver's resources cannot be had.
    fn new(options: &Self::Options) -> io::Result<Self>;

    /// The driver's shared part.
    fn shared(&self) -> &'static Self::Shared;

    /// Ends the driver's current or next wait, from any thread: the executor's wake hook
    /// (rule 2 of [`ebbtide_core::driver`]). The shell calls it only from threads that do not
    /// run this runtime.
    fn unpark(shared: &Self::Shared);

    /// The runtime is shutting down: from now on the driver's IO objects fail, and whatever it
    /// runs besides tasks (helper threads) stops. Called once, on the runtime's thread, before
    /// its tasks are cancelled. The default does nothing.
    fn close(shared: &Self::Shared) {
        let _ = shared;
    }

    /// Whether this driver, of a dropped runtime, can serve a new runtime built with `options`
    /// (the capacities it reserved match). The default: always.
    fn can_reuse(&self, options: &Self::Options) -> bool {
        let _ = options;
        true
    }

    /// Makes a closed driver serve a new runtime built with `options` (for which
    /// [`can_reuse`](HostDriver::can_reuse) said yes). The default does nothing.
    ///
    /// # Errors
    ///
    /// What the OS says; the parts are then leaked and a new driver is built.
    fn reopen(&mut self, options: &Self::Options) -> io::Result<()> {
        let _ = options;
        Ok(())
    }
}

/// The settings every host runtime shares: task memory. A driver's builder holds one and
/// forwards its methods.
///
/// # Examples
///
/// ```
/// use ebbtide_host::Options;
///
/// let options = Options::new(1024).task_slots([8, 4, 2, 1]);
/// assert_eq!(options.slots(), [8, 4, 2, 1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    task_slots: [usize; 4],
}

impl Options {
    /// Room for about `tasks` tasks (see [`task_capacity`](Options::task_capacity)).
    pub fn new(tasks: usize) -> Options {
        Options {
            task_slots: slots_per_class(tasks),
        }
    }

    /// Room for `n` tasks of up to 256 bytes, `n / 2` of up to 1 KiB, `n / 4` of 4 KiB and
    /// `n / 16` of 16 KiB (at least a few of each): about 2.8 MiB for 1,024.
    pub fn task_capacity(mut self, n: usize) -> Options {
        self.task_slots = slots_per_class(n);
        self
    }

    /// Slots per size class, smallest first (256 B, 1 KiB, 4 KiB, 16 KiB).
    pub fn task_slots(mut self, slots: [usize; 4]) -> Options {
        self.task_slots = slots;
        self
    }

    /// The slots per size class.
    pub fn slots(&self) -> [usize; 4] {
        self.task_slots
    }
}

impl Default for Options {
    /// Room for 1,024 tasks.
    fn default() -> Options {
        Options::new(1024)
    }
}

/// What every thread may reach of a runtime. Leaked when the runtime is built: wakers, handles
/// and IO objects may outlive the `Runtime` and must find this still there. A dropped runtime's
/// shell is reused by a later runtime (see `recycle`); its generation tells them apart.
pub(crate) struct Shell {
    pub(crate) executor: &'static Executor,
    pub(crate) tasks: &'static TaskMemory,
    /// Spawns in flight (times two) and [`GATE_CLOSED`]: a dropping runtime closes the gate, then
    /// waits for the spawns that got in before it cancels every task, so that no task lands in
    /// the pools after the cancellation (where the next runtime would run it).
    spawn_gate: AtomicUsize,
    /// Which runtime owns the shell: even while one runs, odd (closed) from the moment it starts
    /// to drop until the next runtime reuses it. Only ever grows.
    generation: AtomicU64,
    /// The driver's shared part.
    driver: &'static (dyn Any + Send + Sync),
    /// The executor's wake hook: ends the driver's wait unless called from the runtime's thread.
    wake_hook: &'static (dyn Fn() + Send + Sync),
}

/// The bit of `Shell::spawn_gate` that refuses spawns.
const GATE_CLOSED: usize = 1;
/// One spawn in flight, in `Shell::spawn_gate`.
const GATE_SPAWN: usize = 2;

impl Shell {
    /// The current generation.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The driver's shared part, as an address (to tell runtimes apart).
    pub(crate) fn driver_ptr(&self) -> *const () {
        self.driver as *const (dyn Any + Send + Sync) as *const ()
    }

    /// Ends the driver's wait, unless this thread runs the runtime.
    pub(crate) fn unpark(&self) {
        (self.wake_hook)()
    }

    /// Lets one spawn in (until the guard drops) if the runtime of `generation` is alive.
    pub(crate) fn enter_spawn(&self, generation: u64) -> Result<SpawnGuard<'_>, SpawnError> {
        let previous = self.spawn_gate.fetch_add(GATE_SPAWN, Ordering::AcqRel);
        let guard = SpawnGuard {
            gate: &self.spawn_gate,
        };
        // A gate reopened for a new runtime was reopened after the generation moved on (and the
        // `fetch_add` reads the reopening or later), so a stale handle sees the new generation.
        if previous & GATE_CLOSED != 0 || generation & 1 != 0 || self.generation() != generation {
            return Err(SpawnError::Shutdown);
        }
        Ok(guard)
    }

    /// The runtime is dropping: moves the generation on, refuses new spawns, then waits until
    /// the ones in flight are done.
    fn close(&self) {
        let previous = self.generation.fetch_add(1, Ordering::AcqRel);
        debug_assert!(previous & 1 == 0, "a runtime was closed twice");
        self.spawn_gate.fetch_or(GATE_CLOSED, Ordering::AcqRel);
        // Spawns in flight only claim a slot and queue the task (or drop the future when the
        // pool is full); stale handles that knock meanwhile leave at once.
        while self.spawn_gate.load(Ordering::Acquire) >= GATE_SPAWN {
            std::thread::yield_now();
        }
    }

    /// Makes the parts of a dropped runtime serve a new one: a new generation, then the gate
    /// opens again.
    fn reopen(&self) {
        let previous = self.generation.fetch_add(1, Ordering::AcqRel);
        debug_assert!(previous & 1 == 1, "a runtime was reopened while open");
        self.spawn_gate.fetch_and(!GATE_CLOSED, Ordering::AcqRel);
    }
}

/// A spawn let in by the spawn gate; the runtime cannot finish dropping while it lives.
pub struct SpawnGuard<'a> {
    gate: &'a AtomicUsize,
}

impl Drop for SpawnGuard<'_> {
    fn drop(&mut self) {
        self.gate.fetch_sub(GATE_SPAWN, Ordering::AcqRel);
    }
}

impl fmt::Debug for SpawnGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnGuard").finish_non_exhaustive()
    }
}

/// A runtime over the host driver `D`: one thread runs every task, and waits through `D` for IO
/// and the next timer in one wait. Drivers wrap it in their own `Runtime` type.
///
/// Memory for tasks is reserved when the runtime is built; spawning allocates nothing after
/// that. Dropping the runtime cancels its tasks and keeps its parts for the next runtime with the
/// same capacities (see the [module docs](self)).
pub struct Runtime<D: HostDriver> {
    shell: &'static Shell,
    /// Taken out when the runtime drops, to go to the bin with the rest.
    runner: ManuallyDrop<Runner>,
    driver: ManuallyDrop<RefCell<D>>,
    /// The task memory's capacities, to find this runtime's parts again in the bin.
    options: Options,
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
                    runner: ManuallyDrop::new(runner),
                    driver: ManuallyDrop::new(RefCell::new(driver)),
                    options: options.clone(),
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
            tasks: memory::reserve(options.slots()),
            spawn_gate: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            driver: shared,
            wake_hook,
        }));
        context::register(shell);
        let runner = executor.runner().expect("a new executor has its runner");
        Ok(Runtime {
            shell,
            runner: ManuallyDrop::new(runner),
            driver: ManuallyDrop::new(RefCell::new(driver)),
            options: options.clone(),
        })
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
    /// If called from inside a runtime (await the future instead), or if `future` panics.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, D::Error> {
        let _enter = context::enter(self.shell);
        let mut driver = self.driver.borrow_mut();
        driver::block_on(&self.runner, &mut CatchPanics(&mut *driver), future)
    }

    /// A handle to this runtime, for other threads.
    pub fn handle(&self) -> Handle {
        Handle {
            shell: self.shell,
            generation: self.shell.generation(),
        }
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

/// The driver's [`Park`], with every task's poll under `catch_unwind`.
struct CatchPanics<'a, D>(&'a mut D);

impl<D: Park> Park for CatchPanics<'_, D> {
    type Error = D::Error;
    const FIRES_TIMERS: bool = D::FIRES_TIMERS;

    #[inline]
    fn now(&self) -> u64 {
        self.0.now()
    }

    #[inline]
    fn park(&mut self, wait: Wait) -> Result<(), D::Error> {
        self.0.park(wait)
    }

    /// A panic from a task has already been turned into its `JoinHandle`'s error by
    /// `CatchUnwind`; one that escapes anyway (from a task spawned through ebbtide-core directly,
    /// or a destructor) is caught here so the runtime keeps serving the other tasks.
    #[inline]
    fn poll_tasks(&mut self, runner: &Runner) -> bool {
        // After a panic, poll again: the rest of the batch was put back in the queue.
        catch_unwind(AssertUnwindSafe(|| runner.poll())).unwrap_or(true)
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
        let mut finished = false;
        for _ in 0..SHUTDOWN_ROUNDS {
            let cancelled = cancel_all_catching_panics(self.shell.tasks, &self.runner);
            // Tasks that were queued (or whose poll panicked) are dropped, not polled, by these
            // polls.
            while catch_unwind(AssertUnwindSafe(|| self.runner.poll())).unwrap_or(true) {}
            if cancelled == 0 {
                // Every task in the pools is complete: no future is left, only outputs that
                // wait for their `JoinHandle`s.
                finished = true;
                break;
            }
        }
        drop(enter);
        // SAFETY: neither field is used again: this is the end of `drop`.
        let (runner, driver) = unsafe {
            (
                ManuallyDrop::take(&mut self.runner),
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

    /// The handle of the runtime the current thread is running, if any.
    pub fn try_current() -> Option<Handle> {
        context::current().map(|shell| Handle {
            shell,
            generation: shell.generation(),
        })
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
    /// [`SpawnError::PoolFull`] when the task's size class is full; [`SpawnError::Shutdown`]
    /// when the runtime was dropped (the future is dropped, not run).
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _gate = self.enter_spawn()?;
        self.shell
            .tasks
            .spawn(self.shell.executor, CatchUnwind::new(future))
            .map(JoinHandle::new)
    }

    /// The shared part of the runtime's driver, if it is a `T`.
    pub fn driver<T: Any>(&self) -> Option<&'static T> {
        self.shell.driver.downcast_ref()
    }

    /// Tasks alive (running, waiting, or finished with a live `JoinHandle`).
    pub fn tasks(&self) -> usize {
        self.shell.tasks.len()
    }

    /// Task slots, over every size class.
    pub fn task_capacity(&self) -> usize {
        self.shell.tasks.capacity()
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
