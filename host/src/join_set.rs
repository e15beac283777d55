//! [`JoinSet`]: a set of tasks, awaited in the order they finish, like Tokio's.

use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::join::{JoinError, JoinHandle, SpawnError};

/// A set of tasks spawned on the current runtime, whose outputs are taken in the order the tasks
/// finish.
///
/// Like Tokio's `JoinSet`: [`spawn`](JoinSet::spawn) adds a task, [`join_next`](JoinSet::join_next)
/// waits for the next one to finish, and dropping the set aborts every task still in it.
/// Differences: `spawn` returns a `Result` (task memory may be limited, see
/// [`SpawnError`]), and there is no `AbortHandle` (abort them all with
/// [`abort_all`](JoinSet::abort_all)).
///
/// Waiting costs no scan of the set: each task, when it finishes (returns, panics or is
/// aborted), puts its place on a list the set reads. The set allocates when it grows and one
/// shared block when it is made; spawning into a set that has room allocates nothing more.
///
/// # Examples
///
/// ```
/// use ebbtide_std::task::JoinSet;
/// use ebbtide_std::time::{sleep, Duration};
///
/// # ebbtide_std::Runtime::new().unwrap().block_on(async {
/// let mut set = JoinSet::new();
/// for i in [30u64, 10, 20] {
///     set.spawn(async move {
///         sleep(Duration::from_millis(i)).await;
///         i
///     })
///     .unwrap();
/// }
/// let mut order = Vec::new();
/// while let Some(done) = set.join_next().await {
///     order.push(done.unwrap());
/// }
/// assert_eq!(order, [10, 20, 30]);
/// # });
/// ```
pub struct JoinSet<T> {
    /// The tasks' handles by place; `None` where a place is free.
    handles: Vec<Option<JoinHandle<T>>>,
    /// Free places in `handles`.
    free: Vec<usize>,
    /// Places whose task finished (or may have): taken from `finished` and checked by
    /// `poll_join_next`.
    candidates: Vec<usize>,
    len: usize,
    finished: Arc<Finished>,
}

/// Where finished tasks leave their place, and who waits for one.
#[derive(Default)]
struct Finished {
    state: Mutex<FinishedState>,
}

#[derive(Default)]
struct FinishedState {
    places: Vec<usize>,
    waker: Option<Waker>,
}

impl Finished {
    fn lock(&self) -> MutexGuard<'_, FinishedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Lives in a task of the set: when the task's future ends or is dropped (output, panic,
/// abort), it reports the task's place and wakes the waiting `join_next`.
struct ReportOnDrop {
    finished: Arc<Finished>,
    place: usize,
}

impl Drop for ReportOnDrop {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.finished.lock();
            state.places.push(self.place);
            state.waker.take()
        };
        // Woken after unlocking: a waker may run any code.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            handles: Vec::new(),
            free: Vec::new(),
            candidates: Vec::new(),
            len: 0,
            finished: Arc::default(),
        }
    }

    /// How many tasks are in the set (running, or finished and not yet joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The place for a new task, and the guard that reports it.
    fn place(&mut self) -> (usize, ReportOnDrop) {
        let place = self.free.pop().unwrap_or_else(|| {
            self.handles.push(None);
            self.handles.len() - 1
        });
        let report = ReportOnDrop {
            finished: self.finished.clone(),
            place,
        };
        (place, report)
    }

    fn insert(
        &mut self,
        place: usize,
        spawned: Result<JoinHandle<T>, SpawnError>,
    ) -> Result<(), SpawnError> {
        match spawned {
            Ok(handle) => {
                self.handles[place] = Some(handle);
                self.len += 1;
                Ok(())
            }
            Err(error) => {
                // The future (and its report) was dropped unspawned: forget the report.
                self.free.push(place);
                self.finished.lock().places.retain(|&p| p != place);
                Err(error)
            }
        }
    }

    /// Spawns `future` on the current runtime (see [`spawn`](crate::spawn)) into the set.
    ///
    /// # Errors
    ///
    /// As [`spawn`](crate::spawn): the task memory is full, or the runtime is shutting down.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn spawn<F>(&mut self, future: F) -> Result<(), SpawnError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (place, report) = self.place();
        let spawned = crate::spawn(async move {
            let _report = report;
            future.await
        });
        self.insert(place, spawned)
    }

    /// Spawns a future that is not `Send` into the set, on this thread (see
    /// [`spawn_local`](crate::spawn_local)).
    ///
    /// # Errors
    ///
    /// As [`spawn`](JoinSet::spawn).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn spawn_local<F>(&mut self, future: F) -> Result<(), SpawnError>
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        let (place, report) = self.place();
        let spawned = crate::spawn_local(async move {
            let _report = report;
            future.await
        });
        self.insert(place, spawned)
    }

    /// Waits for the next task to finish and returns its output, or `None` if the set is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a task that finished stays in the set until a `join_next` returns it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The output of a task that has finished, if one has, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        match self.poll_join_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => None,
        }
    }

    /// Polls for the next task to finish: `Ready(None)` when the set is empty.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        let waker = cx.waker().clone();
        let replaced = {
            let mut state = self.finished.lock();
            self.candidates.append(&mut state.places);
            state.waker.replace(waker)
        };
        drop(replaced);
        let mut i = 0;
        while i < self.candidates.len() {
            let place = self.candidates[i];
            let Some(handle) = self.handles[place].as_mut() else {
                self.candidates.swap_remove(i);
                continue;
            };
            // A task reports just before its output is stored: if that has not happened yet,
            // the handle wakes us when it does.
            match std::pin::Pin::new(handle).poll(cx) {
                Poll::Ready(output) => {
                    self.candidates.swap_remove(i);
                    self.handles[place] = None;
                    self.free.push(place);
                    self.len -= 1;
                    return Poll::Ready(Some(output));
                }
                Poll::Pending => i += 1,
            }
        }
        Poll::Pending
    }

    /// Aborts every task in the set; they stay in it, and [`join_next`](JoinSet::join_next)
    /// returns them as cancelled (or with their output, if they finished first).
    pub fn abort_all(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on, detached.
    pub fn detach_all(&mut self) {
        self.handles.clear();
        self.free.clear();
        self.candidates.clear();
        self.len = 0;
        self.finished.lock().places.clear();
    }

    /// Aborts every task and waits until all have finished.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs, in the order they finished.
    ///
    /// # Panics
    ///
    /// If a task panicked (the panic is resumed here) or was cancelled.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len);
        while let Some(output) = self.join_next().await {
            match output {
                Ok(output) => outputs.push(output),
                Err(JoinError::Panic(payload)) => std::panic::resume_unwind(payload),
                Err(JoinError::Cancelled) => panic!("JoinSet::join_all: a task was cancelled"),
            }
        }
        outputs
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set, as Tokio's does.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
