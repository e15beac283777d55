//! The unsafe engine: task slots, the state word, wakers, the run queue and the scheduler.
//!
//! # Here be dragons
//!
//! Everything in this module works on raw `NonNull<Header>` pointers into `'static` task slots.
//! The ground rules, which every `unsafe` block below relies on and points back to:
//!
//! 1. **Slots never move and never die.** They live in `'static` pools, so a header pointer is
//!    valid forever, even after its task finished: stale wakers and stale timer entries are
//!    harmless by design (they find `CLAIMED` clear or `COMPLETE` set, or wake a new task once).
//!    The same holds for the [`Scheduler`] a header points at: it is part of a `'static`
//!    executor.
//! 2. **The state word hands out the other fields.** Whoever sets `SCHEDULED` owns `run_next` and
//!    may push; the executor's thread owns the storage of a live task (not `COMPLETE`), and
//!    whoever holds `RUNNING` owns it once `COMPLETE` is set; the `JoinHandle` owns the join waker
//!    while `JOIN_WAKER` is clear; spawn owns everything between claiming a free slot and pushing
//!    it. See [`state`] for the diagram.
//! 3. **Pointers carry the whole slot's provenance.** A header pointer is made from a reference to
//!    the whole `TaskSlot`, never from a reference to the header alone.
//!
//! # The fence
//!
//! This module imports nothing from the safe layer above it: only `core`, the loom shim
//! (`crate::loom`, `crate::loom_const_fn!`) and its own modules. What a task needs of its executor
//! lives here, in the [`Scheduler`] its header points at: the run queue, the wake hook, the root
//! waker (a driver's top-level waker) and, on targets whose headers have no room for it, the
//! cooperative budget counter ([`budget`] decides where that counter lives, once). Every waker
//! vtable and every read of a header or a scheduler out of a waker is here too.
//!
//! The safe API (`Executor`, `Runner`, `Spawner`, `TaskPool`, `JoinHandle`) is built on the
//! functions here and adds no `unsafe` of its own beyond calling them (and declaring, once, that
//! `Executor` is a transparent wrapper around its `Scheduler`: see [`SchedulerWrapper`]).

pub(crate) mod budget;
pub(crate) mod header;
pub(crate) mod join_waker;
pub(crate) mod pool_head;
pub(crate) mod run_queue;
pub(crate) mod scheduler;
#[cfg(not(loom))]
mod size_check;
pub(crate) mod state;
#[cfg(feature = "steal")]
pub(crate) mod steal;
pub(crate) mod task;
pub(crate) mod waker;

pub use header::{TaskSlot, MAX_TASK_ALIGN};
pub(crate) use scheduler::{Scheduler, SchedulerWrapper};
