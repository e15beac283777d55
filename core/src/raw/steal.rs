//! Moving tasks between executors: work stealing, and sending stolen tasks home at shutdown.
//!
//! # Who may move a task
//!
//! A task's executor is the [`Scheduler`] its header's `scheduler` pointer names: wakers push it
//! there, that executor's thread polls it and owns its live storage (ground rule 2). A task may
//! change executor only when
//!
//! - it has the `SEND` state bit: its spawn path required the future and its output to be `Send`
//!   (`SendSpawner::spawn`, `SlicePool::try_spawn`), so polling and dropping it on another thread
//!   is sound; and
//! - the mover holds `SCHEDULED` on it *and took it out of a run queue* (or claimed `SCHEDULED`
//!   itself on a task nobody polls, in [`reclaim_idle`]): the task is in no queue and no waker
//!   reads its `scheduler` (a waker reads it only after it set `SCHEDULED` itself); and
//! - no poll of it runs. Holding `SCHEDULED` does not say that: a poll starts by clearing
//!   `SCHEDULED`, and a wake *during* the poll (a `yield_now`, or another thread) sets it again
//!   and queues the task while the poll still runs (its owner polls it again later, on the same
//!   thread, which is why the single-executor protocol needs no more). So every scheduler
//!   publishes the task it is running (`Scheduler::running`, one plain Release store per task,
//!   and null when a batch ends), and a thief leaves a task the victim is running where it is.
//!   Why the thief's Acquire load of `running` cannot miss a poll that is still going on: the
//!   victim stored the task there before it cleared `SCHEDULED` for that poll; whoever queued
//!   the task again set `SCHEDULED` after that clear (its read-modify-write acquired it) and
//!   then pushed (Release), and the thief's steal acquired that push; so the thief reads that
//!   store or a later one. A later one (the next task, or null) was stored after the poll
//!   returned, with Release, so the poll's writes are visible to the thief too. (Only the
//!   victim's own scheduler polls a task it queued: `drain_home` and `reclaim_idle` need no
//!   such check because nobody polls while they run.)
//!
//! The mover stores the new `scheduler` (Release) and pushes the task onto the new executor's
//! queue (the push's Release, the taker's Acquire). The new executor's poll clears `SCHEDULED`
//! (Release) before it polls; the next waker sets `SCHEDULED` (Acquire) and only then reads the
//! pointer, so it sees the new executor. Every pointer change is thus ordered before every later
//! read that matters.
//!
//! The storage hand-over follows the same chain: the old executor's last poll ends with its
//! `SCHEDULED` clear (Release); the waker that queued the task again acquired it; its push
//! released it to the queue's head; the thief's compare-and-swap on that head acquires it (every
//! change of a queue head is a read-modify-write, so the release sequence is never broken).
//!
//! # Why a steal loses no wake-up
//!
//! A steal first takes what is left of the victim's running batch, if the victim publishes its
//! batches (see [`SharedBatch`](super::run_queue::SharedBatch) for why that loses nothing: those
//! tasks are handled like the ones below, while the victim is awake). It then takes the victim's
//! whole stack with one compare-and-swap from a task to `AWAKE`
//! (never from an empty head: see [`RunQueue::steal_all`](super::run_queue::RunQueue::steal_all)).
//! The stack ends in `AWAKE` (the victim is between its `take_all` and its `try_sleep`: it will
//! `try_sleep` later and find `AWAKE` or newer tasks, exactly as without the steal) or in `null`
//! (the victim went to sleep, and the push of the stack's oldest task found `null` and calls the
//! victim's wake hook: the victim polls again, its `take_all` finds `AWAKE` or newer tasks, and
//! its `try_sleep` turns `AWAKE` back into `null`). In both cases every push after the steal
//! either lands before the victim's next `take_all` (which takes it) or after its `try_sleep`
//! succeeded (that push finds `null` and calls the hook). The tasks the thief does not keep are
//! pushed back with the ordinary push, which calls the victim's hook when it finds `null`. The
//! kept tasks go onto the thief's queue with the ordinary push too (which calls the thief's hook
//! if the thief sleeps: harmless when the thief is the caller).
//!
//! # Shutdown
//!
//! `Runner::cancel_all` drops idle futures on the calling thread: its contract (every task of the
//! pool belongs to the runner's executor) counts a moved task as belonging to the executor it
//! was moved to. A driver that steals therefore stops every executor that may hold a pool's tasks
//! (no poll, no steal) and sends the tasks home ([`drain_home`], [`reclaim_idle`]) before it
//! cancels that pool.

use core::ptr::{self, NonNull};

use super::header::{slot_head, Header, TaskSlot};
use super::run_queue::Batch;
use super::scheduler::Scheduler;
use super::state::{CLAIMED, COMPLETE, RUNNING, SCHEDULED, SEND};
use crate::loom::Ordering;

/// Points the task at `to` and pushes it there.
///
/// # Safety
///
/// The caller holds `SCHEDULED` on the task, took it out of a run queue (or claimed `SCHEDULED`
/// on a task nobody polls), and may move it to `to` (it has `SEND`, or `to` is the executor it
/// was spawned on).
unsafe fn move_to(task: NonNull<Header>, to: &'static Scheduler) {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(task) };
    head.header
        .scheduler
        .store(ptr::from_ref(to).cast_mut(), Ordering::Release);
    // SAFETY: we hold SCHEDULED (by the caller).
    unsafe { to.enqueue(task) };
}

/// Whether the task may move to another executor: `SEND`, and not held by a `cancel_now` that is
/// dropping it (`RUNNING` without `COMPLETE`; such a task is only in a queue because a wake came
/// meanwhile) nor a complete task whose queue entry holds `RUNNING` (its slot is let go by the
/// executor that dequeues it; leaving it where it is keeps that simple).
fn movable(task: NonNull<Header>) -> bool {
    // SAFETY: ground rule 1.
    let head = unsafe { slot_head(task) };
    // `SEND` never changes while the slot is claimed; a `RUNNING` that `cancel_now` set came
    // before the wake that queued the task, which we acquired through the queue.
    let state = head.header.state.load(Ordering::Acquire);
    state & SEND != 0 && state & (RUNNING | COMPLETE) == 0
}

/// Steals about half of `victim`'s queued tasks (every other movable one, the oldest first) for
/// `thief`, counting the rest of its running batch if `running_batch`; returns how many moved.
/// Tasks that may not move go back to `victim`.
///
/// # Safety
///
/// See [`Executor::steal_from`](crate::Executor::steal_from).
pub(crate) unsafe fn steal(
    thief: &'static Scheduler,
    victim: &'static Scheduler,
    running_batch: bool,
) -> usize {
    if ptr::eq(thief, victim) {
        return 0;
    }
    let mut moved = 0;
    let mut take = true;
    // The rest of the victim's running batch first (it was woken earlier), then its queue.
    let batch = if running_batch {
        victim.shared_batch().take()
    } else {
        Batch::empty()
    };
    let tasks = batch.chain(victim.run_queue().steal_all());
    for task in tasks {
        // A task woken during its own poll is queued while the victim still polls it: it stays.
        if movable(task) && !victim.is_running(task) {
            if take {
                // SAFETY: we took the task out of the victim's queue (it holds SCHEDULED) and
                // it has SEND.
                unsafe { move_to(task, thief) };
                moved += 1;
            } else {
                // SAFETY: as above; it goes back where it was.
                unsafe { victim.enqueue(task) };
            }
            take = !take;
        } else {
            // SAFETY: we took it out of the victim's queue: it goes back, and its pointer (the
            // victim) is unchanged.
            unsafe { victim.enqueue(task) };
        }
    }
    moved
}

/// Takes every task out of `from`'s queue and pushes each onto its home, `home_of(address of the
/// task)`, or back onto `from` when that is `None`; returns how many went elsewhere.
///
/// # Safety
///
/// See [`Executor::drain_home`](crate::Executor::drain_home).
pub(crate) unsafe fn drain_home(
    from: &'static Scheduler,
    mut home_of: impl FnMut(usize) -> Option<&'static Scheduler>,
) -> usize {
    let mut moved = 0;
    // Nobody polls `from` (by our caller), so its published batch is empty; take it anyway.
    let tasks = from
        .shared_batch()
        .take()
        .chain(from.run_queue().steal_all());
    for task in tasks {
        match home_of(task.as_ptr().addr()) {
            Some(home) if !ptr::eq(home, from) => {
                // SAFETY: we took it out of `from`'s queue; by our caller `home` is the
                // executor it was spawned on.
                unsafe { move_to(task, home) };
                moved += 1;
            }
            // SAFETY: we took it out of `from`'s queue: it goes back unchanged.
            _ => unsafe { from.enqueue(task) },
        }
    }
    moved
}

/// For every task in `slots` that `home` does not hold: an idle one (claimed, not complete, not
/// queued) is pointed back at `home` and queued there; returns how many queued ones point
/// elsewhere (they are in another executor's queue, or about to be pushed there by a waker).
///
/// # Safety
///
/// See [`Executor::reclaim_idle`](crate::Executor::reclaim_idle).
pub(crate) unsafe fn reclaim_idle<const SIZE: usize>(
    home: &'static Scheduler,
    slots: &'static [TaskSlot<SIZE>],
) -> usize {
    let home_ptr = ptr::from_ref(home).cast_mut();
    let mut elsewhere = 0;
    for slot in slots {
        let header = slot.header_ptr();
        let state = &slot.head.header.state;
        let mut current = state.load(Ordering::Acquire);
        loop {
            if current & CLAIMED == 0
                || slot.head.header.scheduler.load(Ordering::Acquire) == home_ptr
            {
                break;
            }
            if current & SCHEDULED != 0 {
                elsewhere += 1;
                break;
            }
            if current & (COMPLETE | RUNNING) != 0 {
                // Finished (its output waits for its handle) or being dropped: nothing queues
                // it again, and its executor no longer matters.
                break;
            }
            // Idle: claim SCHEDULED as a wake would, but keep the push (and the pointer) ours.
            match state.compare_exchange_weak(
                current,
                current | SCHEDULED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: we set SCHEDULED on an idle task that (by our caller) nobody
                    // polls, and `home` is the executor it was spawned on.
                    unsafe { move_to(header, home) };
                    break;
                }
                Err(actual) => current = actual,
            }
        }
    }
    elsewhere
}
