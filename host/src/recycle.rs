//! The bin of dropped runtimes' parts, which the next runtime reuses.
//!
//! A runtime cannot free its executor, driver, task slots or IO table: wakers, `JoinHandle`s,
//! IO objects and `Handle`s may point at them from anywhere, forever (ground rule 1 of
//! `ebbtide_core::raw`). Leaking them cost every std runtime two file descriptors and about
//! 3.2 MiB. Instead, a dropped runtime puts them here, and [`Runtime::new`](super::Runtime::new)
//! takes a set with the same capacities before it builds a new one. The bin is process-wide (one
//! per thread would not help: libtest runs every test on a new thread), and holds every driver's
//! parts, told apart by type.
//!
//! # Why reusing the parts is sound
//!
//! - **Pointers stay valid**: nothing is freed, so every stale pointer still finds its target.
//! - **Slots and their executor stay together**: a set always holds an executor with the task
//!   memory whose tasks it runs, so `cancel_all`'s rule (every task in the pools belongs to this
//!   runner's executor) holds for every later runtime too, and a stale waker of a finished task
//!   at most wakes the new task of its slot once, on the right executor (a spurious wake-up).
//! - **The `Runner` changes threads** (it is `!Send`, because tasks spawned through its
//!   `Spawner` may be `!Send` and must be polled and dropped on the runner's thread). A set only
//!   gets here when no `!Send` future of the old runtime is left and none can come: see
//!   [`Parts::new`]. A finished task's output waits in its slot for its `JoinHandle`, which is
//!   `!Send` when the output is; the new runner never touches a complete task's output (it is not
//!   a future: nothing polls it, `cancel_all` skips it, the slot is not reused before the handle
//!   drops it).
//! - **Stale users fail instead of acting on the new runtime**: the shell's generation moves on
//!   at each drop and reuse. A `Handle` remembers its generation, so a stale handle's spawn fails
//!   ([`SpawnError::Shutdown`](crate::SpawnError::Shutdown)), and the spawn gate makes sure no
//!   spawn slips in between a runtime's check and its cancellation. The driver does the same for
//!   its IO objects ([`HostDriver::close`](crate::HostDriver::close)).
//!
//! # The bin's size
//!
//! At most [`BIN_CAPACITY`] sets wait here. A set that finds the bin full is leaked (the driver
//! is dropped, which closes what it owns alone), which only happens when more than
//! `BIN_CAPACITY` runtimes were alive at once. A runtime whose capacities match no set in the
//! bin is built new.
//!
//! The key is the [`Options`] a runtime was built with, not what its task memory grew to: a set
//! whose classes grew (see [`memory`](crate::memory)) serves the next runtime with its grown
//! segments, all free of futures (its tasks are complete; their slots come back as their
//! `JoinHandle`s go), and that runtime's task capacity starts there. Its limits are those of the
//! same `Options`, so a grown memory never exceeds them.

use std::any::Any;
use std::sync::{Mutex, MutexGuard};

use ebbtide_core::Runner;

use crate::driver::HostDriver;
use crate::memory::Options;
use crate::shell::Shell;

/// The most sets of parts the bin keeps.
pub(crate) const BIN_CAPACITY: usize = 64;

/// A dropped runtime's parts.
pub(crate) struct Parts<D> {
    pub(crate) shell: &'static Shell,
    pub(crate) runner: Runner,
    pub(crate) driver: D,
}

// SAFETY: `Shell` is `Sync` and the driver `Send` (`HostDriver: Send`); the `Runner` is the
// reason `Parts` is not `Send` on its own. A `Runner` is `!Send` so that (a) its `in_poll` cell is
// only used by one thread and (b) tasks spawned through its `Spawner`, which may be `!Send`, are
// polled and dropped on one thread. (a): the runner is moved, not shared, and not while it polls.
// (b): `Parts::new`'s contract: when `Parts` exist, every task of the executor is complete (its
// future was dropped on the old runtime's thread), and no new task can be spawned onto the
// executor until a new runtime, on the thread that takes the parts, reopens the spawn gate: the
// shell spawns only through the gate and never hands out a core `Spawner` (or `&Executor`) for its
// executors, and `Spawner::for_current_executor`, the one door core offers to a task, is `unsafe`
// (its contract forbids using the spawner after the task's runtime is gone). What stays of the old
// tasks is complete slots whose outputs belong to their `JoinHandle`s, which are `!Send` for
// `!Send` outputs, and which the new runner never touches.
unsafe impl<D: HostDriver> Send for Parts<D> {}

impl<D: HostDriver> Parts<D> {
    /// The parts of a dropped runtime, to reuse.
    ///
    /// # Safety
    ///
    /// `runner` is the runner of `shell.executor` and `driver` the driver whose shared part is
    /// the shell's; every task in `shell.tasks` is complete (its future dropped, on `runner`'s
    /// thread); and no task can be spawned onto the executor until the shell reopens (the spawn
    /// gate is closed, and no core `Spawner` for the executor exists).
    pub(crate) unsafe fn new(shell: &'static Shell, runner: Runner, driver: D) -> Parts<D> {
        debug_assert!(std::ptr::eq(runner.executor(), shell.executor));
        debug_assert!(std::ptr::eq(
            driver.shared() as *const D::Shared as *const (),
            shell.driver_ptr()
        ));
        Parts {
            shell,
            runner,
            driver,
        }
    }
}

/// A set of parts waiting in the bin, with the task memory's capacities.
struct Entry {
    options: Options,
    /// A `Parts<D>` for the driver `D` that built it.
    parts: Box<dyn Any + Send>,
}

/// Sets of parts waiting for a runtime.
static BIN: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn bin() -> MutexGuard<'static, Vec<Entry>> {
    BIN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A set of parts of driver `D` that fits `options` and `driver_options`, if one waits in the
/// bin.
pub(crate) fn take<D: HostDriver>(
    options: &Options,
    driver_options: &D::Options,
) -> Option<Parts<D>> {
    let mut bin = bin();
    let index = bin.iter().rposition(|entry| {
        entry.options == *options
            && entry
                .parts
                .downcast_ref::<Parts<D>>()
                .is_some_and(|parts| parts.driver.can_reuse(driver_options))
    })?;
    let parts = bin.swap_remove(index).parts.downcast::<Parts<D>>();
    Some(*parts.expect("the entry was checked to hold this driver's parts"))
}

/// Puts `parts` in the bin; leaks them when it is full (see the module docs).
pub(crate) fn put<D: HostDriver>(options: Options, parts: Parts<D>) {
    let mut bin = bin();
    if bin.len() < BIN_CAPACITY {
        bin.push(Entry {
            options,
            parts: Box::new(parts),
        });
    } else {
        drop(bin);
        // The shell stays leaked, as it must; the runner and the driver (what it owns alone) go.
        drop(parts);
    }
}
