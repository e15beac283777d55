//! `ebbtide_spawn`, `ebbtide_timer` and `ebbtide_timer_cancel`: a task each.

use std::sync::Arc;

use ebbtide_std::time::{Duration, Instant};
use ebbtide_std::JoinHandle;

use crate::error::{EINVAL, ENOENT};
use crate::raw::Callback;
use crate::rt::{Completion, RtShared};
use crate::table::{table, Entry, Kind};

/// The longest timer delay: one year. Longer ones are `-EINVAL`.
pub(crate) const MAX_DELAY_NS: u64 = 365 * 24 * 3600 * 1_000_000_000;

/// A pending timer: its task, once spawned.
pub(crate) struct TimerSlot {
    pub(crate) rt: Arc<RtShared>,
    task: Option<JoinHandle<()>>,
}

/// `ebbtide_spawn`: a task that calls `cb(user, 0)`.
pub(crate) fn spawn(rt: &Arc<RtShared>, cb: Callback) -> Result<(), i32> {
    let completion = Completion::new(cb);
    let shared = rt.clone();
    rt.spawn(async move { completion.complete(&shared, 0) })?;
    Ok(())
}

/// `ebbtide_timer`: a task that sleeps `delay_ns`, then calls `cb(user, 0)` unless cancelled
/// first (then `cb(user, -ECANCELED)`). Returns the timer's id.
pub(crate) fn start(rt: &Arc<RtShared>, delay_ns: u64, cb: Callback) -> Result<u64, i32> {
    if delay_ns > MAX_DELAY_NS {
        return Err(EINVAL);
    }
    rt.check_open()?;
    let id = table().insert(Entry::Timer(TimerSlot {
        rt: rt.clone(),
        task: None,
    }))?;
    // The delay counts from now, not from when the task first runs. On ebbtide's clock, read
    // once here (a `std::time::Instant` would cost two more reads to convert when the task first
    // polls its sleep: a clock read is tens of nanoseconds on a VM), and rounded as `sleep`
    // rounds: up to a whole tick, plus one tick (the clock floors), so never early.
    let delay = Duration::from(std::time::Duration::from_nanos(delay_ns));
    let now = Instant::now();
    let deadline = if delay_ns == 0 {
        now
    } else {
        now + delay + Duration::from_ticks(1)
    };
    let completion = Completion::new(cb);
    let shared = rt.clone();
    let spawned = rt.spawn(async move {
        ebbtide_std::time::sleep_until(deadline).await;
        // Whoever takes the entry out decides: here the timer fires, in `cancel` it is
        // cancelled (and `completion`, dropped, reports -ECANCELED).
        let fired = table().remove(id, Kind::Timer);
        if fired.is_some() {
            drop(fired);
            completion.complete(&shared, 0);
        }
    });
    let mut table = table();
    match spawned {
        Ok(task) => {
            let stale = match table.get(id, Kind::Timer) {
                Some(Entry::Timer(slot)) => slot.task.replace(task),
                // It fired already: the handle detaches.
                _ => Some(task),
            };
            drop(table);
            drop(stale);
            Ok(id)
        }
        Err(code) => {
            let entry = table.remove(id, Kind::Timer);
            drop(table);
            drop(entry);
            Err(code)
        }
    }
}

/// `ebbtide_timer_cancel`: `-ENOENT` unless the timer is pending on `rt`.
pub(crate) fn cancel(rt: &Arc<RtShared>, id: u64) -> Result<(), i32> {
    let mut table = table();
    match table.get(id, Kind::Timer) {
        Some(entry) if Arc::ptr_eq(entry.rt(), rt) => {}
        _ => return Err(ENOENT),
    }
    let entry = table.remove(id, Kind::Timer);
    drop(table);
    if let Some(Entry::Timer(slot)) = entry {
        if let Some(task) = slot.task {
            // Dropped before its next poll: its completion reports -ECANCELED.
            task.abort();
        }
    }
    Ok(())
}
