//! Which runtime the current thread runs, and every runtime of the process.

use std::cell::Cell;
use std::sync::Mutex;

use crate::shell::Shell;

thread_local! {
    /// The runtime whose `block_on` (or `Drop`) this thread is inside, if any.
    static CURRENT: Cell<Option<&'static Shell>> = const { Cell::new(None) };
}

/// Every runtime of this process that is alive (built, not yet dropped). A dropped runtime
/// leaves the list; its parts wait in the bin (see `recycle`), and come back to the list when a
/// new runtime reuses them.
static RUNTIMES: Mutex<Vec<&'static Shell>> = Mutex::new(Vec::new());

fn runtimes() -> std::sync::MutexGuard<'static, Vec<&'static Shell>> {
    RUNTIMES.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register(shell: &'static Shell) {
    runtimes().push(shell);
}

/// Takes a dropped runtime off the list, so that [`deadline_moved_earlier`] no longer wakes it.
pub(crate) fn unregister(shell: &'static Shell) {
    runtimes().retain(|&live| !std::ptr::eq(live, shell));
}

/// The runtime the current thread is running, if any.
#[inline]
pub(crate) fn current() -> Option<&'static Shell> {
    CURRENT.with(Cell::get)
}

/// Whether the current thread is running the runtime whose driver's shared part is at address
/// `driver` right now.
#[inline]
pub(crate) fn is_current_driver(driver: usize) -> bool {
    current().is_some_and(|shell| shell.driver_ptr().addr() == driver)
}

/// Marks this thread as running `shell` until the guard drops.
///
/// # Panics
///
/// If the thread already runs a runtime (a `block_on` inside a task, like Tokio's "cannot start a
/// runtime from within a runtime").
pub(crate) fn enter(shell: &'static Shell) -> EnterGuard {
    CURRENT.with(|current| {
        if current.get().is_some() {
            panic!(
                "Cannot start an ebbtide runtime from within a runtime: block_on was called on a \
                 thread that is already running one (await the future instead)"
            );
        }
        current.set(Some(shell));
    });
    EnterGuard { _private: () }
}

pub(crate) struct EnterGuard {
    _private: (),
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(None));
    }
}

/// Tells the runtimes that the timer queue's earliest deadline moved earlier: call it from a
/// host driver's `embassy_time_driver::Driver::schedule_wake` when
/// [`queue::schedule_wake`](ebbtide_core::time::queue::schedule_wake) returns `true` (rule 3 of
/// [`ebbtide_core::driver`]).
///
/// A runtime thread computes its wait from the queue right before it waits, so a call from a
/// runtime thread does nothing; from any other thread, every runtime's wait is ended, so that one
/// of them fires the timer on time.
pub fn deadline_moved_earlier() {
    if current().is_some() {
        return;
    }
    for shell in runtimes().iter() {
        shell.unpark();
    }
}
