//! Spawning tasks on the current runtime, and their join handles.

use std::future::Future;

pub use ebbtide_core::task::{poll_budget, yield_now, YieldNow};

pub use crate::join::{JoinError, JoinHandle, PanicPayload, SpawnError};
pub use crate::join_set::JoinSet;

use crate::context;
use crate::join::CatchUnwind;

/// Spawns `future` on the current thread's runtime.
///
/// Like `tokio::spawn`, from inside a runtime's `block_on` or a task. Never allocates: the task
/// goes in a slot reserved when the runtime was built, of the smallest size class that fits it.
///
/// # Errors
///
/// [`SpawnError::PoolFull`] when every slot of that class holds a task and the class is at its
/// limit (a runtime's task memory grows by default; see [`Options`](crate::Options)); the
/// runtime keeps running the others. [`SpawnError::Shutdown`] while the runtime drops (from the destructor of
/// a task it cancels).
///
/// Inside [`Handle::block_on`](crate::Handle::block_on) it spawns onto the handle's runtime.
///
/// # Panics
///
/// Outside a runtime (use a runtime's `Handle::spawn` from other threads).
///
/// # Examples
///
/// ```
/// # ebbtide_std::Runtime::new().unwrap().block_on(async {
/// let handle = ebbtide_std::spawn(async { 6 * 7 }).unwrap();
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
pub fn spawn<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = context::current_or_borrowed().expect(
        "spawn was called outside an ebbtide runtime: call it inside Runtime::block_on, \
         Handle::block_on or a task, or use a Handle from other threads",
    );
    handle.spawn(future)
}

/// Spawns a future that is not `Send` on the current thread's runtime; it always runs on this
/// thread.
///
/// # Errors
///
/// As for [`spawn`].
///
/// The runtime is then bound to this thread: it can no longer be run on another thread (its
/// `block_on` panics there), and dropping it on another thread leaks its tasks (see
/// [`Runtime`](crate::Runtime)).
///
/// # Panics
///
/// Outside a runtime, and inside [`Handle::block_on`](crate::Handle::block_on) (that thread does
/// not run the runtime).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// # ebbtide_std::Runtime::new().unwrap().block_on(async {
/// let shared = Rc::new(5); // not Send
/// let handle = ebbtide_std::spawn_local(async move { *shared + 1 }).unwrap();
/// assert_eq!(handle.await.unwrap(), 6);
/// # });
/// ```
pub fn spawn_local<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(shell) = context::current() else {
        if context::borrowed().is_some() {
            panic!(
                "spawn_local was called inside Handle::block_on: this thread does not run the \
                 runtime, so it cannot give it a task that is not Send; use spawn, or call \
                 spawn_local inside Runtime::block_on or a task"
            );
        }
        panic!(
            "spawn_local was called outside an ebbtide runtime: call it inside Runtime::block_on \
             or a task"
        );
    };
    // Refused while the runtime drops (from a task's destructor): a `!Send` task must not
    // outlive the cancellation, or the next runtime, maybe on another thread, would poll it.
    let _gate = shell.enter_spawn(shell.generation())?;
    // From now on the runtime is bound to this thread: it refuses to run elsewhere, and a drop
    // elsewhere leaks its tasks (see the `home` module).
    shell.mark_local_task();
    // SAFETY: `context::current()` is only set while this thread runs the runtime (inside its
    // `block_on` or its `Drop`, on the thread that holds the runtime's runner; a thread inside
    // `Handle::block_on` only borrows it and is refused above), and the runtime is not dropping
    // (the gate is open). The mark above binds the runner to this thread for as long as the task
    // may live: `HomeRunner` (the `home` module) polls it, and lets its tasks be dropped, only on
    // the thread that last ran the runtime, which is this one; a drop on another thread leaks
    // them. So the task is only ever polled and dropped here.
    unsafe {
        shell
            .tasks
            .spawn_local(shell.executor, CatchUnwind::new(future))
    }
    .map(JoinHandle::new)
}
