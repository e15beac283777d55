//! Cooperation between tasks: yielding and the cooperative budget.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::loom::Ordering;
use crate::raw::budget::current_budget;

/// Whether `waker` wakes an ebbtide task (one made by an [`Executor`](crate::Executor) for a task
/// it runs), as against the waker of another executor, of a runner's own future, or any other.
///
/// A driver uses it to route a timer: an ebbtide task's timer lives in the task's header (no
/// limit, no allocation), any other waker needs a place of its own.
///
/// # Examples
///
/// ```
/// use ebbtide_core::task::is_task_waker;
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static TASKS: TaskPool<1> = TaskPool::new();
///
/// assert!(!is_task_waker(core::task::Waker::noop()));
/// let runner = EXECUTOR.runner().unwrap();
/// let inside = runner
///     .spawner()
///     .spawn(&TASKS, core::future::poll_fn(|cx| {
///         core::task::Poll::Ready(is_task_waker(cx.waker()))
///     }))
///     .unwrap();
/// assert_eq!(runner.run_until(inside, || {}), Ok(true));
/// ```
#[inline]
pub fn is_task_waker(waker: &core::task::Waker) -> bool {
    crate::raw::waker::header_of(waker).is_some()
}

/// Yields to the executor once: the task is woken at once and runs again after every task that
/// was already ready.
///
/// # Examples
///
/// ```
/// # ebbtide_core::block_on(async {
/// ebbtide_core::task::yield_now().await;
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Takes one unit of the current task's cooperative budget.
///
/// Each task may find resources ready 128 times per poll; after that this returns `Pending`
/// (having woken the task), so a task that always finds its channel full of messages still lets
/// the others run. Every ebbtide primitive calls this before it reports `Ready`; call it in your
/// own leaf futures likewise. Outside an ebbtide task (a foreign executor or
/// [`block_on`](crate::block_on)) there is no budget and this is always `Ready`; so it is
/// everywhere with the `no-coop-budget` feature.
///
/// # Examples
///
/// ```
/// use core::task::{Context, Poll};
///
/// fn poll_next_item(cx: &mut Context<'_>) -> Poll<u32> {
///     if ebbtide_core::task::poll_budget(cx).is_pending() {
///         return Poll::Pending;
///     }
///     Poll::Ready(1)
/// }
/// # let _ = poll_next_item;
/// ```
#[inline]
pub fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    // Only the thread that polls the task touches its counter: plain load and store.
    if let Some(budget) = current_budget(cx) {
        let left = budget.load(Ordering::Relaxed);
        if left == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        budget.store(left - 1, Ordering::Relaxed);
    }
    Poll::Ready(())
}

/// `Pending` (having woken the task) if the current task's budget is spent, without taking a
/// unit: for a leaf future to check before work whose result [`poll_budget`] would refuse anyway
/// (a timer's clock read). `Ready` otherwise, and wherever [`poll_budget`] is always `Ready`.
#[inline]
pub(crate) fn poll_budget_left(cx: &mut Context<'_>) -> Poll<()> {
    if let Some(budget) = current_budget(cx) {
        if budget.load(Ordering::Relaxed) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
    }
    Poll::Ready(())
}
