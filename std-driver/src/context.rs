//! Which runtime the current thread runs, and every runtime of the process.

use std::cell::Cell;
use std::io;
use std::sync::Mutex;

use crate::reactor;
use crate::runtime::Shared;

thread_local! {
    /// The runtime whose `block_on` this thread is inside, if any.
    static CURRENT: Cell<Option<&'static Shared>> = const { Cell::new(None) };
}

/// Every runtime of this process that is alive (built, not yet dropped). A dropped runtime
/// leaves the list; its parts wait in the bin (see `runtime::recycle`), and come back to the list
/// when a new runtime reuses them.
static RUNTIMES: Mutex<Vec<&'static Shared>> = Mutex::new(Vec::new());

pub(crate) fn register_runtime(shared: &'static Shared) {
    RUNTIMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(shared);
}

/// Takes a dropped runtime off the list, so that `deadline_moved_earlier` no longer wakes it.
pub(crate) fn unregister_runtime(shared: &'static Shared) {
    RUNTIMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|&live| !std::ptr::eq(live, shared));
}

/// The runtime the current thread is running, if any.
pub(crate) fn current() -> Option<&'static Shared> {
    CURRENT.with(Cell::get)
}

/// Whether the current thread is running the runtime of `reactor` right now.
pub(crate) fn is_current_reactor(reactor: &reactor::Shared) -> bool {
    current().is_some_and(|current| std::ptr::eq(current.reactor, reactor))
}

/// The current runtime's reactor, or an error that says there is none.
pub(crate) fn reactor() -> io::Result<&'static reactor::Shared> {
    current().map(|shared| shared.reactor).ok_or_else(|| {
        io::Error::other(
            "no ebbtide runtime on this thread: create IO objects inside Runtime::block_on or a \
             task it runs",
        )
    })
}

/// Marks this thread as running `shared` until the guard drops.
///
/// # Panics
///
/// If the thread already runs a runtime (a `block_on` inside a task, like Tokio's "cannot start a
/// runtime from within a runtime").
pub(crate) fn enter(shared: &'static Shared) -> EnterGuard {
    CURRENT.with(|current| {
        if current.get().is_some() {
            panic!(
                "Cannot start an ebbtide runtime from within a runtime: block_on was called on a \
                 thread that is already running one (await the future instead)"
            );
        }
        current.set(Some(shared));
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

/// The earliest timer deadline moved earlier (see `time`). A runtime thread computes its wait
/// from the deadline right before it waits, so it needs nothing; from any other thread, wake every
/// runtime so that one of them fires the timer on time.
pub(crate) fn deadline_moved_earlier() {
    if current().is_some() {
        return;
    }
    for shared in RUNTIMES.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        shared.reactor.wake();
    }
}
