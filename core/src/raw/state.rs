//! The task state word.
//!
//! Every task slot has one `AtomicU32` whose bits say where the task is in its life. All
//! transitions are compare-and-swap loops or single read-modify-writes on this word; the other
//! fields of a slot are only touched by whoever a bit in this word makes their owner.
//!
//! ```text
//!   free (0)
//!     │ spawn: CAS 0 → CLAIMED|SCHEDULED|HANDLE; write executor, vtable, future; push to run queue
//!     ▼
//!   scheduled ──(executor dequeues: −SCHEDULED)──▶ polled
//!     ▲                                              │  Pending: (no change)
//!     └──────────(wake: +SCHEDULED, push)─── idle ◀──┤
//!                                                    │  Ready, or CANCELLED seen: future
//!                                                    ▼  dropped, +COMPLETE+RUNNING (one step)
//!                                                 complete ──(−RUNNING; output taken or dropped,
//!                                                             no HANDLE, not RUNNING)──▶ free
//! ```
//!
//! A poll that returns `Pending` costs one read-modify-write (clearing `SCHEDULED`): while a task
//! is live, nobody but its executor's thread touches its storage, so polling it needs no bit.
//! `RUNNING` only guards the end of a task's life, when the `JoinHandle` may free the slot.
//!
//! Invariants:
//! - `SCHEDULED` is set exactly while the task is in a run queue or about to be pushed by whoever
//!   set it; only the thread that sets it may push. A wake that finds it set does nothing.
//! - A wake never sets `SCHEDULED` on a slot without `CLAIMED` or with `COMPLETE`: stale wakers
//!   are harmless. (A stale waker whose slot was reused wakes the new task: a spurious wake.)
//! - A live task's storage (not `COMPLETE`) belongs to its executor's thread: it is written at
//!   spawn before the first push, then only touched by the polls of that executor and by
//!   `cancel_now` on that thread outside a poll. Other threads only look at it once `COMPLETE`
//!   is set.
//! - `RUNNING` is set with `COMPLETE` (or by `cancel_now` before it drops an idle task) and held
//!   until the executor is done with the storage; the slot is never freed while `RUNNING` is set.
//!   If the complete task is still queued (woken before it completed), `RUNNING` stays set until
//!   the executor dequeues it and lets the slot go.
//! - A future is dropped once, by whoever completes the task, and `COMPLETE` is set even if its
//!   destructor unwinds, so no later wake or shutdown drops it again. A future whose poll
//!   unwound is not leaked: it is marked `CANCELLED | PANICKED` and queued, and the next poll
//!   drops it, so its slot (and any pinned node in it) is only reused after its destructor ran.
//! - A task spawned uncancellable has no way to drop its future early: cancelling it (a
//!   `cancel_now`, or a panic in its poll) *retires* it, `COMPLETE | RUNNING | RETIRED` in one
//!   step, and `RUNNING` is then held forever: the slot is never freed, so its pinned future is
//!   never dropped and its memory never reused.
//! - `SEND` is fixed for the life of a task. Only a `SEND` task may change executor, and only
//!   while `SCHEDULED` is held by whoever took it out of a run queue (see [`super::steal`]): the
//!   executor's thread of the second bullet above is the thread of the executor that the header's
//!   `scheduler` names, and that changes only while nobody polls the task.
//! - `JOIN_WAKER` set means the join waker field holds a waker that the completing executor may
//!   take; while it is clear only the `JoinHandle` touches the field.
//!
//! A task's end is its vtable's (see `TaskVTable`): a joinable task's stores the output (`OUTPUT`)
//! and follows the join protocol above; a detached task (spawned without a `JoinHandle`: `HANDLE`,
//! `JOIN_WAKER` and `OUTPUT` are never set) drops its output as its future returns it, and its
//! end is one step, `COMPLETE | RUNNING`, after which the slot is freed at once unless the task
//! is still queued (then, as above, `RUNNING` passes to that queue entry). A program that spawns
//! only detached tasks links no join protocol.

use core::fmt;

/// The slot holds a task (from spawn until the slot is released).
pub(crate) const CLAIMED: u32 = 1 << 0;
/// The task is in (or being pushed to) its executor's run queue.
pub(crate) const SCHEDULED: u32 = 1 << 1;
/// The executor is finishing the task: set with `COMPLETE`, cleared when it is done with the slot.
pub(crate) const RUNNING: u32 = 1 << 2;
/// The future is gone: it returned `Ready`, was aborted, or panicked.
pub(crate) const COMPLETE: u32 = 1 << 3;
/// `abort()` was called: drop the future at the next scheduling point.
pub(crate) const CANCELLED: u32 = 1 << 4;
/// A `JoinHandle` for the task exists.
pub(crate) const HANDLE: u32 = 1 << 5;
/// The storage holds the task's output, not yet taken.
pub(crate) const OUTPUT: u32 = 1 << 6;
/// The join waker field holds a waker the executor may take (see module docs).
pub(crate) const JOIN_WAKER: u32 = 1 << 7;
/// The future panicked while being polled. Set with `CANCELLED` (and a push to the run queue)
/// while the future is still live, so that the next poll drops it, outside the unwinding, and
/// completes the task as panicked. (When the destructor of a finished future is what unwound,
/// the slot's vtable was pointed at one whose drop does nothing: a destructor runs once.)
pub(crate) const PANICKED: u32 = 1 << 8;
/// The task was spawned through a path that requires its future (and output) to be `Send`
/// (`SendSpawner::spawn`, `SlicePool::try_spawn`), so it may be moved to another executor (a
/// steal, see [`super::steal`]). Set at spawn, with `CLAIMED`, and never changed until the slot
/// is freed.
pub(crate) const SEND: u32 = 1 << 9;
/// The task was cancelled (by `cancel_now`, or a panic in its poll) but its future may not be
/// dropped: it was spawned uncancellable (`Spawner::spawn_uncancellable`, `UNCANCELLABLE`, whose
/// vtable has no `drop_storage`). It is *retired* instead: set with `COMPLETE | RUNNING` in one step, and
/// `RUNNING` is never given up, so the future stays in its slot, never polled and never dropped,
/// and the slot is never reused (its memory outlives the pinned future, as `Pin` asks).
pub(crate) const RETIRED: u32 = 1 << 10;
/// The task was spawned uncancellable (`Spawner::spawn_uncancellable`): its header holds its
/// `poll` function instead of a vtable (see `VTableCell`), and a cancellation retires it (see
/// `RETIRED`). Set at spawn, with `CLAIMED`, and never changed until the slot is freed.
pub(crate) const UNCANCELLABLE: u32 = 1 << 11;

/// A copy of a state word that prints its bits by name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct State(pub(crate) u32);

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u32, &str); 12] = [
            (CLAIMED, "CLAIMED"),
            (SCHEDULED, "SCHEDULED"),
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (CANCELLED, "CANCELLED"),
            (HANDLE, "HANDLE"),
            (OUTPUT, "OUTPUT"),
            (JOIN_WAKER, "JOIN_WAKER"),
            (PANICKED, "PANICKED"),
            (SEND, "SEND"),
            (RETIRED, "RETIRED"),
            (UNCANCELLABLE, "UNCANCELLABLE"),
        ];
        if self.0 == 0 {
            return f.write_str("State(free)");
        }
        f.write_str("State(")?;
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                first = false;
                f.write_str(name)?;
            }
        }
        f.write_str(")")
    }
}
