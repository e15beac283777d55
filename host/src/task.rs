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
    let shell = context::current().expect(
        "spawn was called outside an ebbtide runtime: call it inside Runtime::block_on or a task, \
         or use a Handle from other threads",
    );
    shell.spawn(shell.generation(), future)
}

/// Spawns a future that is not `Send` on the current thread's runtime; it always runs on this
/// thread.
///
/// # Errors
///
/// As for [`spawn`].
///
/// # Panics
///
/// Outside a runtime.
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
    let shell = context::current().expect(
        "spawn_local was called outside an ebbtide runtime: call it inside Runtime::block_on or \
         a task",
    );
    // Refused while the runtime drops (from a task's destructor): a `!Send` task must not
    // outlive the cancellation, or the next runtime, maybe on another thread, would poll it.
    let _gate = shell.enter_spawn(shell.generation())?;
    // SAFETY: `context::current()` is only set while this thread runs the runtime (inside its
    // `block_on` or its `Drop`, on the thread that owns the runtime's `!Send` runner), and the
    // runtime is not dropping (the gate is open), so this thread polls `shell.executor` for as
    // long as the task lives.
    unsafe {
        shell
            .tasks
            .spawn_local(shell.executor, CatchUnwind::new(future))
    }
    .map(JoinHandle::new)
}
