//! Which runtime the current thread runs, and every runtime of the process.

use std::cell::Cell;
use std::sync::Mutex;
use std::task::Waker;

use ebbtide_core::time::queue;

use crate::runtime::Handle;
use crate::shell::Shell;

thread_local! {
    /// The runtime whose `block_on` (or `Drop`) this thread is inside, if any.
    static CURRENT: Cell<Option<&'static Shell>> = const { Cell::new(None) };
    /// The runtime whose context this thread borrows inside `Handle::block_on`, if any: its
    /// `spawn`, `Handle::current` and IO objects reach that runtime, but the thread does not run
    /// it (so `spawn_local` is refused, and wakes and timers from here unpark the runtime's own
    /// thread, as from any other thread: [`current`] stays `None`).
    static BORROWED: Cell<Option<Handle>> = const { Cell::new(None) };
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
        if current.get().is_some() || borrowed().is_some() {
            panic!(
                "Cannot start an ebbtide runtime from within a runtime: block_on was called on a \
                 thread that is already running one or inside Handle::block_on (await the future \
                 instead)"
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

/// The runtime whose context this thread borrows (inside [`Handle::block_on`]), if any.
#[inline]
pub(crate) fn borrowed() -> Option<Handle> {
    BORROWED.with(Cell::get)
}

/// The runtime this thread runs, else the one whose context it borrows: what `spawn`,
/// `Handle::current` and the drivers' IO types reach. A running runtime is entered at its current
/// generation; a borrowed one at the generation of the `Handle` that lent it, so that a handle of
/// a dropped runtime keeps failing even when a new runtime reuses the parts.
#[inline]
pub(crate) fn current_or_borrowed() -> Option<Handle> {
    match current() {
        Some(shell) => Some(Handle::of(shell)),
        None => borrowed(),
    }
}

/// Marks this thread as borrowing `handle`'s runtime until the guard drops (see
/// [`Handle::block_on`]).
///
/// # Panics
///
/// If the thread already runs or borrows a runtime.
pub(crate) fn enter_borrowed(handle: Handle) -> BorrowGuard {
    if current().is_some() || borrowed().is_some() {
        panic!(
            "Cannot start an ebbtide runtime from within a runtime: Handle::block_on was called \
             on a thread that is already running one or inside Handle::block_on (await the \
             future instead)"
        );
    }
    BORROWED.with(|borrowed| borrowed.set(Some(handle)));
    BorrowGuard { _private: () }
}

pub(crate) struct BorrowGuard {
    _private: (),
}

impl Drop for BorrowGuard {
    fn drop(&mut self) {
        BORROWED.with(|borrowed| borrowed.set(None));
    }
}

/// A host time driver's `embassy_time_driver::Driver::schedule_wake`: queues the timer and keeps
/// rule 3 of [`ebbtide_core::driver`] (a deadline that moved earlier ends the runtimes' waits).
///
/// On the thread of a runtime whose clock was [paused](crate::time::pause), the timer goes to
/// that runtime's virtual clock instead.
///
/// On a thread that runs a runtime, the timer goes to that runtime's own timer queue: the
/// runtime computes its wait from it right before it waits, so the timer needs no signal, and no
/// other runtime ever wakes up for it. A timer set on any other thread (a future polled by
/// another executor, or inside [`Handle::block_on`]) goes to the program's global queue and ends
/// every runtime's wait: each runtime folds the global queue into its waits, so one of them
/// fires it on time.
///
/// # Panics
///
/// When the calling thread runs no runtime and no runtime is alive in the process: nothing could
/// ever fire the timer, so the future would hang (Tokio panics outside a runtime too).
///
/// # Examples
///
/// ```no_run
/// use core::task::Waker;
///
/// struct MyTimeDriver;
///
/// impl embassy_time_driver::Driver for MyTimeDriver {
///     fn now(&self) -> u64 {
///         # 0
///         // read the clock
///     }
///     fn schedule_wake(&self, at: u64, waker: &Waker) {
///         ebbtide_host::schedule_wake(at, waker);
///     }
/// }
/// ```
pub fn schedule_wake(at: u64, waker: &Waker) {
    if crate::clock::schedule_virtual(at, waker) {
        return;
    }
    if let Some(shell) = current() {
        let _ = shell.timers.schedule_wake(at, waker);
        return;
    }
    schedule_global(at, waker);
}

/// As [`schedule_wake`], except for a timer set off every runtime's thread (and outside
/// [`Handle::block_on`]) under a waker that is not an ebbtide task's: the waker of another
/// executor's future (Tokio's, `futures::executor`'s). That timer goes to `elsewhere`, a place
/// of the driver's own that fires it whether or not a runtime is alive and holds any number of
/// them (ebbtide-std's timer thread), instead of the global queue, whose table of such wakers is
/// small and which only a live runtime drives.
///
/// # Examples
///
/// ```no_run
/// use core::task::Waker;
///
/// fn my_timer_thread(at: u64, waker: &Waker) {
///     // keep a clone of `waker`, and wake it at `at`
///     # let _ = (at, waker);
/// }
///
/// struct MyTimeDriver;
///
/// impl embassy_time_driver::Driver for MyTimeDriver {
///     fn now(&self) -> u64 {
///         # 0
///         // read the clock
///     }
///     fn schedule_wake(&self, at: u64, waker: &Waker) {
///         ebbtide_host::schedule_wake_or(at, waker, my_timer_thread);
///     }
/// }
/// ```
pub fn schedule_wake_or(at: u64, waker: &Waker, elsewhere: fn(u64, &Waker)) {
    if crate::clock::schedule_virtual(at, waker) {
        return;
    }
    if let Some(shell) = current() {
        let _ = shell.timers.schedule_wake(at, waker);
        return;
    }
    if borrowed().is_none() && !ebbtide_core::task::is_task_waker(waker) {
        elsewhere(at, waker);
        return;
    }
    schedule_global(at, waker);
}

/// A timer set off every runtime's thread, in the program's global queue.
fn schedule_global(at: u64, waker: &Waker) {
    let runtimes = runtimes();
    if runtimes.is_empty() {
        drop(runtimes);
        panic!(
            "a timer (sleep, timeout, interval) was polled outside any ebbtide runtime, and no \
             runtime is alive to fire it: await it inside Runtime::block_on or a task the runtime \
             runs (or #[ebbtide_std::main] / #[ebbtide_std::test])"
        );
    }
    if queue::schedule_wake(at, waker) {
        for shell in runtimes.iter() {
            shell.unpark();
        }
    }
}
