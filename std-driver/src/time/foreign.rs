//! Timers of other executors' futures: an ebbtide `sleep` awaited inside Tokio, `futures`'
//! `block_on`, or any thread that runs no ebbtide runtime.
//!
//! Such a timer cannot live in a task header (its waker is not an ebbtide task's) and no
//! runtime's wait may be around to fire it, so it comes here: a map ordered by deadline, and one
//! thread, named `ebbtide-timers` and started the first time a timer comes, that sleeps until the
//! earliest deadline and wakes what is due. It allocates (one entry per waiting waker) and holds
//! any number of timers; with none queued the thread waits on a condition variable, and costs no
//! CPU.
//!
//! One entry per waker (two wakers that [`will_wake`](Waker::will_wake) each other are the same):
//! it keeps the earliest deadline asked for, as a task's timer entry does. A future that asked for
//! a later one is polled when the earlier one fires, and asks again.
//!
//! No waker code runs under the lock: a waker is cloned before it, and woken or dropped after.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

/// What identifies a waker: its data and vtable addresses (what `will_wake` compares).
type WakerKey = (usize, usize);

struct Timers {
    /// Deadline (ticks) and a sequence number (unique) → the waker waiting for it.
    by_deadline: BTreeMap<(u64, u64), WakerKey>,
    /// Each waiting waker's one entry: its deadline and sequence number, and a clone.
    by_waker: BTreeMap<WakerKey, (u64, u64, Waker)>,
    next_seq: u64,
    /// Whether the thread runs (or is being started).
    thread: bool,
}

static TIMERS: Mutex<Timers> = Mutex::new(Timers {
    by_deadline: BTreeMap::new(),
    by_waker: BTreeMap::new(),
    next_seq: 0,
    thread: false,
});

/// Signalled when the earliest deadline moves earlier, or the first timer comes.
static CHANGED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, Timers> {
    // No user code runs under this lock, so a poisoned lock can only come from an allocation
    // failure inside it; the maps are consistent between statements all the same.
    TIMERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn key_of(waker: &Waker) -> WakerKey {
    (waker.data() as usize, waker.vtable() as *const _ as usize)
}

/// Wakes `waker` at or after tick `at` (microseconds of the monotonic clock).
pub(crate) fn schedule_wake(at: u64, waker: &Waker) {
    if at == u64::MAX {
        return;
    }
    let key = key_of(waker);
    // Made before locking: a foreign waker's clone is user code.
    let clone = waker.clone();
    let mut timers = lock();
    let replaced = match timers.by_waker.get(&key) {
        // An entry as early or earlier already wakes it.
        Some(&(old, _, _)) if old <= at => {
            drop(timers);
            drop(clone);
            return;
        }
        Some(&(old, seq, _)) => {
            timers.by_deadline.remove(&(old, seq));
            true
        }
        None => false,
    };
    let seq = timers.next_seq;
    timers.next_seq += 1;
    timers.by_deadline.insert((at, seq), key);
    let old = timers.by_waker.insert(key, (at, seq, clone));
    debug_assert_eq!(old.is_some(), replaced);
    let earliest = timers.by_deadline.first_key_value().map(|(&k, _)| k) == Some((at, seq));
    let start = !timers.thread;
    timers.thread = true;
    drop(timers);
    // The waker the entry held before: user code, unlocked.
    drop(old);
    if start {
        start_thread();
    } else if earliest {
        CHANGED.notify_one();
    }
}

fn start_thread() {
    let started = std::thread::Builder::new()
        .name("ebbtide-timers".into())
        .spawn(run);
    if let Err(error) = started {
        // No thread (the process is out of threads or memory): fire everything now, so that no
        // future waits forever. Each polls again and comes back here; a later timer tries to
        // start the thread again.
        let mut timers = lock();
        timers.thread = false;
        let due: Vec<Waker> = drain(&mut timers, u64::MAX);
        drop(timers);
        wake_all(due);
        log_once(&error);
    }
}

fn log_once(error: &std::io::Error) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "ebbtide: could not start the timer thread for other executors' timers ({error}); \
             they fire at once until it starts"
        );
    }
}

/// Takes every entry due at `now` out of the maps.
fn drain(timers: &mut Timers, now: u64) -> Vec<Waker> {
    let mut due = Vec::new();
    while let Some((&(at, _), &key)) = timers.by_deadline.first_key_value() {
        if at > now {
            break;
        }
        timers.by_deadline.pop_first();
        if let Some((_, _, waker)) = timers.by_waker.remove(&key) {
            due.push(waker);
        }
    }
    due
}

/// Wakes each waker, unlocked; a waker whose `wake` panics does not stop the others (nor the
/// thread).
fn wake_all(due: Vec<Waker>) {
    for waker in due {
        let _ = catch_unwind(AssertUnwindSafe(|| waker.wake()));
    }
}

/// The timer thread: wakes what is due, then sleeps until the earliest deadline (or a new,
/// earlier one).
fn run() {
    let mut timers = lock();
    loop {
        let now = super::now_ticks();
        let due = drain(&mut timers, now);
        if !due.is_empty() {
            drop(timers);
            wake_all(due);
            timers = lock();
            continue;
        }
        timers = match timers.by_deadline.first_key_value() {
            None => CHANGED
                .wait(timers)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some((&(at, _), _)) => {
                CHANGED
                    .wait_timeout(timers, Duration::from_micros(at - now))
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
        };
    }
}

/// How many timers wait here (for tests).
#[doc(hidden)]
pub fn waiting() -> usize {
    lock().by_waker.len()
}
