//! What every thread may reach of a runtime: its executor, task memory and spawn gate.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use ebbtide_core::time::queue::TimerQueue;
use ebbtide_core::Executor;

use crate::clock::Clock;
use crate::join::{CatchUnwind, JoinHandle, SpawnError};
use crate::memory::TaskMemory;

/// What every thread may reach of a runtime. Leaked when the runtime is built: wakers, handles
/// and IO objects may outlive the `Runtime` and must find this still there. A dropped runtime's
/// shell is reused by a later runtime (see `recycle`); its generation tells them apart.
pub(crate) struct Shell {
    pub(crate) executor: &'static Executor,
    pub(crate) tasks: &'static TaskMemory,
    /// The most slots `tasks` may have over every class (`Options::total_limit`).
    pub(crate) task_limit: Option<usize>,
    /// Spawns in flight (times two) and [`GATE_CLOSED`]: a dropping runtime closes the gate, then
    /// waits for the spawns that got in before it cancels every task, so that no task lands in
    /// the pools after the cancellation (where the next runtime would run it).
    pub(crate) spawn_gate: AtomicUsize,
    /// Which runtime owns the shell: even while one runs, odd (closed) from the moment it starts
    /// to drop until the next runtime reuses it. Only ever grows.
    pub(crate) generation: AtomicU64,
    /// The driver's shared part.
    pub(crate) driver: &'static (dyn Any + Send + Sync),
    /// The executor's wake hook: ends the driver's wait unless called from the runtime's thread.
    pub(crate) wake_hook: &'static (dyn Fn() + Send + Sync),
    /// The runtime's timer queue: the timers its tasks (and its `block_on` future) set on its
    /// thread. Its own, made with the shell and reused with it; the program's global queue when
    /// the driver does not fire timers (`FIRES_TIMERS` false: its alarm fires the global one).
    pub(crate) timers: &'static TimerQueue,
    /// The runtime's clock: real, or virtual once paused (see `clock`).
    pub(crate) clock: Clock,
    /// Whether a `!Send` task was spawned (`spawn_local`) since the runtime was built or these
    /// parts reused: from then on the runtime is bound to the thread that runs it (see `home`).
    /// Set and read only by the thread that runs the runtime (a moved runtime was handed over
    /// with a happens-before edge), so relaxed accesses suffice.
    pub(crate) local_tasks: AtomicBool,
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

    /// Spawns a `Send` task if the runtime of `generation` is alive; see
    /// [`Handle::spawn`](crate::Handle::spawn).
    pub(crate) fn spawn<F>(
        &self,
        generation: u64,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.try_spawn(generation, future, true)
            .map_err(|(error, _refused)| error)
    }

    /// [`spawn`](Shell::spawn), giving the future back when it is refused; `movable: false`
    /// keeps the task off work stealing (see `TaskMemory::spawn`).
    pub(crate) fn try_spawn<F>(
        &self,
        generation: u64,
        future: F,
        movable: bool,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _gate = match self.enter_spawn(generation) {
            Ok(gate) => gate,
            Err(error) => return Err((error, future)),
        };
        self.tasks
            .spawn(self.executor, CatchUnwind::new(future), movable)
            .map(JoinHandle::new)
            .map_err(|(error, refused)| (error, refused.into_inner()))
    }

    /// The runtime is dropping: moves the generation on, refuses new spawns, then waits until
    /// the ones in flight are done.
    pub(crate) fn close(&self) {
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
    pub(crate) fn reopen(&self) {
        let previous = self.generation.fetch_add(1, Ordering::AcqRel);
        debug_assert!(previous & 1 == 1, "a runtime was reopened while open");
        // Every task of the old runtime is complete (see `recycle::Parts::new`): no `!Send`
        // future is left to bind the new runtime to a thread.
        self.local_tasks.store(false, Ordering::Relaxed);
        self.spawn_gate.fetch_and(!GATE_CLOSED, Ordering::AcqRel);
    }
}

impl Shell {
    /// Records that a `!Send` task is being spawned (see `local_tasks`).
    pub(crate) fn mark_local_task(&self) {
        self.local_tasks.store(true, Ordering::Relaxed);
    }

    /// Whether a `!Send` task was ever spawned on the current runtime of these parts.
    pub(crate) fn had_local_tasks(&self) -> bool {
        self.local_tasks.load(Ordering::Relaxed)
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
