//! The bin of dropped runtimes' parts, which the next runtime reuses.
//!
//! A runtime cannot free its executor, reactor, task slots or IO table: wakers, `JoinHandle`s,
//! IO objects and `Handle`s may point at them from anywhere, forever (ground rule 1 of
//! `ebbtide_core::raw`). Leaking them cost every runtime two file descriptors and about 3.2 MiB.
//! Instead, a dropped runtime puts them here, and [`Builder::build`](super::Builder::build) takes
//! a set with the same capacities before it allocates a new one. The bin is process-wide (one per
//! thread would not help: libtest runs every test on a new thread).
//!
//! # Why reusing the parts is sound
//!
//! - **Pointers stay valid**: nothing is freed, so every stale pointer still finds its target.
//! - **Slots and their executor stay together**: a set always holds an executor with the pools
//!   whose tasks it runs, so `cancel_all`'s rule (every task in the pools belongs to this runner's
//!   executor) holds for every later runtime too, and a stale waker of a finished task at most
//!   wakes the new task of its slot once, on the right executor (a spurious wake-up).
//! - **The `Runner` changes threads** (it is `!Send`, because tasks spawned through its
//!   `Spawner` may be `!Send` and must be polled and dropped on the runner's thread). A set only
//!   gets here when no `!Send` future of the old runtime is left and none can come: see
//!   [`Parts::new`]. A finished task's output waits in its slot for its `JoinHandle`, which is
//!   `!Send` when the output is; the new runner never touches a complete task's output (it is not
//!   a future: nothing polls it, `cancel_all` skips it, the slot is not reused before the handle
//!   drops it).
//! - **Stale users fail instead of acting on the new runtime**: the reactor's generation moves
//!   on at each drop and reuse. A `Handle` and a `Registration` remember theirs, so a stale
//!   handle's spawn fails ([`SpawnError::Shutdown`](crate::SpawnError::Shutdown)), a stale IO
//!   object's operations fail, and the spawn gate makes sure no spawn slips in between a
//!   runtime's check and its cancellation. A stale IO object keeps its slot of the IO table until
//!   it drops (its fd also stays in the reused poller's set until it is closed), so the new
//!   runtime never hands that slot out twice.
//!
//! # The bin's size
//!
//! At most [`BIN_CAPACITY`] sets wait here (four file descriptors each: the poller, its
//! registry's duplicate, the waker's eventfd and the timer's timerfd). A set that finds the bin
//! full is leaked as before this bin existed (its two leaked descriptors and its memory stay
//! allocated; the poller and timerfd are closed), which only happens when more than
//! `BIN_CAPACITY` runtimes with the same capacities were alive at once. A runtime whose
//! capacities match no set in the bin is built new.

use std::sync::Mutex;

use ebbtide_core::Runner;

use super::{Builder, Shared};
use crate::reactor::Driver;

/// The most sets of parts the bin keeps.
pub(crate) const BIN_CAPACITY: usize = 64;

/// The capacities a set of parts was built with; a runtime reuses a set only with all equal (the
/// event buffer is not leaked: a reused driver gets a new one when its size differs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    task_slots: [usize; 4],
    io_capacity: usize,
    max_blocking_threads: usize,
    blocking_queue_capacity: usize,
}

impl Key {
    pub(crate) fn of(builder: &Builder) -> Key {
        Key {
            task_slots: builder.task_slots,
            io_capacity: builder.io_capacity,
            max_blocking_threads: builder.max_blocking_threads,
            blocking_queue_capacity: builder.blocking_queue_capacity,
        }
    }
}

/// A dropped runtime's parts.
pub(crate) struct Parts {
    pub(crate) shared: &'static Shared,
    pub(crate) runner: Runner,
    pub(crate) driver: Driver,
}

// SAFETY: `Shared` and `Driver` are `Send` on their own; the `Runner` is the reason `Parts` is
// not. A `Runner` is `!Send` so that (a) its `in_poll` cell is only used by one thread and (b)
// tasks spawned through its `Spawner`, which may be `!Send`, are polled and dropped on one
// thread. (a): the runner is moved, not shared, and not while it polls. (b): `Parts::new`'s
// contract: when `Parts` exist, every task of the executor is complete (its future was dropped
// on the old runtime's thread), and no new task can be spawned onto the executor until a new
// runtime, on the thread that takes the parts, reopens the spawn gate: ebbtide-std spawns only
// through the gate and never hands out a core `Spawner` (or `&Executor`) for its executors, and
// `Spawner::for_current_executor`, the one door core offers to a task, is `unsafe` (its contract
// forbids using the spawner after the task's runtime is gone: a task that kept it and spawned a
// `!Send` future through it later would have the future polled by the next runtime, maybe on
// another thread). What stays
// of the old tasks is complete slots whose outputs belong to their `JoinHandle`s, which are
// `!Send` for `!Send` outputs, and which the new runner never touches.
unsafe impl Send for Parts {}

impl Parts {
    /// The parts of a dropped runtime, to reuse.
    ///
    /// # Safety
    ///
    /// `runner` is the runner of `shared.executor` and `driver` the driver of `shared.reactor`;
    /// every task in `shared.pools` is complete (its future dropped, on `runner`'s thread); and
    /// no task can be spawned onto the executor until [`Shared::reopen`] (the spawn gate is
    /// closed, and no core `Spawner` for the executor exists).
    pub(crate) unsafe fn new(shared: &'static Shared, runner: Runner, driver: Driver) -> Parts {
        debug_assert!(std::ptr::eq(runner.executor(), shared.executor));
        debug_assert!(std::ptr::eq(driver.shared(), shared.reactor));
        Parts {
            shared,
            runner,
            driver,
        }
    }
}

/// Sets of parts waiting for a runtime, with their capacities.
static BIN: Mutex<Vec<(Key, Parts)>> = Mutex::new(Vec::new());

fn bin() -> std::sync::MutexGuard<'static, Vec<(Key, Parts)>> {
    BIN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A set of parts built with `key`'s capacities, if one waits in the bin.
pub(crate) fn take(key: &Key) -> Option<Parts> {
    let mut bin = bin();
    let index = bin.iter().rposition(|(k, _)| k == key)?;
    Some(bin.swap_remove(index).1)
}

/// Puts `parts` in the bin; leaks them when it is full (see the module docs).
pub(crate) fn put(key: Key, parts: Parts) {
    let mut bin = bin();
    if bin.len() < BIN_CAPACITY {
        bin.push((key, parts));
    } else {
        drop(bin);
        // The shared parts stay leaked, as they must; the runner and the driver (the poller's
        // own descriptor and the timer's) go.
        drop(parts);
    }
}
