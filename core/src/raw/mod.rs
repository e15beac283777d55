//! The unsafe engine: task slots, the state word, wakers and the run queue.
//!
//! # Here be dragons
//!
//! Everything in this module works on raw `NonNull<Header>` pointers into `'static` task slots.
//! The ground rules, which every `unsafe` block below relies on and points back to:
//!
//! 1. **Slots never move and never die.** They live in `'static` pools, so a header pointer is
//!    valid forever, even after its task finished: stale wakers and stale timer entries are
//!    harmless by design (they find `CLAIMED` clear or `COMPLETE` set, or wake a new task once).
//! 2. **The state word hands out the other fields.** Whoever sets `SCHEDULED` owns `run_next` and
//!    may push; the executor's thread owns the storage of a live task (not `COMPLETE`), and
//!    whoever holds `RUNNING` owns it once `COMPLETE` is set; the `JoinHandle` owns the join waker
//!    while `JOIN_WAKER` is clear; spawn owns everything between claiming a free slot and pushing
//!    it. See [`state`] for the diagram.
//! 3. **Pointers carry the whole slot's provenance.** A header pointer is made from a reference to
//!    the whole `TaskSlot`, never from a reference to the header alone.
//!
//! The safe API (`Executor`, `Spawner`, `TaskPool`, `JoinHandle`) is built on the functions here
//! and adds no `unsafe` of its own beyond calling them.

pub(crate) mod budget;
pub(crate) mod header;
pub(crate) mod run_queue;
pub(crate) mod scheduler;
#[cfg(not(loom))]
mod size_check;
pub(crate) mod state;
pub(crate) mod task;
pub(crate) mod waker;

pub use header::{Header, TaskSlot, MAX_TASK_ALIGN};
pub(crate) use scheduler::{Scheduler, SchedulerWrapper};
