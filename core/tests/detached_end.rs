//! The end of a detached task (`Spawner::spawn_detached`, `Spawner::spawn_uncancellable`, and a
//! joinable task whose handle was dropped, which ends through the general path): its vtable's
//! own end, which has no join protocol. Adversarial cases: user code that panics in the
//! future's or the output's destructor, a task that completes while it is still queued, a
//! cancellation while idle or queued whose destructor panics. In every case the future and the
//! output are dropped exactly once, the slot is freed once nothing can reach the task, and the
//! executor goes on. Run under Miri by CI.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, TaskPool};

/// Counts its drops in the counter it points at, and panics in the drop if `panics`.
struct Counted {
    drops: &'static AtomicUsize,
    panics: bool,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("a destructor that panics");
        }
    }
}

/// How a test spawns its task.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `spawn`, its `JoinHandle` dropped at once: the general end.
    HandleDropped,
    /// `spawn_detached`.
    Detached,
    /// `spawn_uncancellable`.
    Uncancellable,
}

/// A `Counted` that panics when dropped.
fn bomb(drops: &'static AtomicUsize) -> Counted {
    Counted {
        drops,
        panics: true,
    }
}

const KINDS: [Kind; 3] = [Kind::HandleDropped, Kind::Detached, Kind::Uncancellable];

/// Spawns `future` on `executor`'s runner into `pool` as `kind` says.
fn spawn<F: core::future::Future + 'static>(
    runner: &ebbtide_core::Runner,
    pool: &'static TaskPool<1, 96>,
    kind: Kind,
    future: F,
) {
    let spawner = runner.spawner();
    match kind {
        Kind::HandleDropped => drop(spawner.spawn(pool, future).ok().unwrap()),
        Kind::Detached => spawner.spawn_detached(pool, || future).ok().unwrap(),
        Kind::Uncancellable => spawner.spawn_uncancellable(pool, || future).ok().unwrap(),
    }
}

/// Both counters say that each of the first `round + 1` tasks dropped its future and its output
/// once.
#[track_caller]
fn assert_dropped_once(future: &AtomicUsize, output: &AtomicUsize, round: usize, kind: Kind) {
    assert_eq!(future.load(Ordering::SeqCst), round + 1, "{kind:?}: future");
    assert_eq!(output.load(Ordering::SeqCst), round + 1, "{kind:?}: output");
}

/// A future that returns `()` at its second poll (waking itself at the first) and whose
/// destructor, run once it returned, counts and panics.
struct EndsThenPanics {
    polls: u32,
    drops: &'static AtomicUsize,
}

impl core::future::Future for EndsThenPanics {
    type Output = ();

    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        self.polls += 1;
        if self.polls == 1 {
            cx.waker().wake_by_ref();
            return core::task::Poll::Pending;
        }
        core::task::Poll::Ready(())
    }
}

impl Drop for EndsThenPanics {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        panic!("a destructor that panics");
    }
}

/// The task's future returns, and then its destructor panics: the panic reaches the runner's
/// caller, the future is not dropped again, and the next poll frees the slot, for every kind
/// of task (an uncancellable one too: its future is gone, nothing is left to keep pinned).
#[test]
fn a_future_whose_destructor_panics_at_its_end_is_dropped_once_and_its_slot_freed() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    for (round, kind) in KINDS.into_iter().enumerate() {
        spawn(
            &runner,
            &POOL,
            kind,
            EndsThenPanics {
                polls: 0,
                drops: &DROPS,
            },
        );
        runner.poll();
        assert!(
            catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err(),
            "{kind:?}"
        );
        assert_eq!(DROPS.load(Ordering::SeqCst), round + 1, "{kind:?}");
        runner.poll();
        assert!(POOL.is_empty(), "{kind:?}: the slot is freed");
        assert_eq!(DROPS.load(Ordering::SeqCst), round + 1, "{kind:?}: once");
    }
    // The executor goes on: the slot takes a new task.
    let next = runner.spawner().spawn(&POOL, async { 7 }).ok().unwrap();
    assert_eq!(runner.run_until(next, || {}), Ok(7));
}

/// A detached task's output is dropped when its future returns it (nobody will take it); a
/// destructor that panics there leaves no second drop of the future or the output, and the slot
/// is freed by the next poll.
#[test]
fn a_detached_output_whose_destructor_panics_is_dropped_once_and_its_slot_freed() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    static FUTURE_DROPS: AtomicUsize = AtomicUsize::new(0);
    static OUTPUT_DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    for (round, kind) in KINDS.into_iter().enumerate() {
        spawn(&runner, &POOL, kind, async {
            let _owned = Counted {
                drops: &FUTURE_DROPS,
                panics: false,
            };
            yield_now().await;
            Counted {
                drops: &OUTPUT_DROPS,
                panics: true,
            }
        });
        runner.poll();
        // The panic reaches the caller: from the poll for a detached task (which drops the
        // output as its future returns it), from the slot's release in the same poll for a
        // task whose handle is gone (which kept the output for it).
        assert!(
            catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err(),
            "{kind:?}"
        );
        assert_dropped_once(&FUTURE_DROPS, &OUTPUT_DROPS, round, kind);
        runner.poll();
        assert!(POOL.is_empty(), "{kind:?}: the slot is freed");
        assert_dropped_once(&FUTURE_DROPS, &OUTPUT_DROPS, round, kind);
    }
}

/// A detached task that woke itself and then completed in the same poll is still queued when it
/// completes: its slot stays taken until the executor dequeues that entry, then is freed; the
/// future and the output are dropped once, at the completion.
#[test]
fn a_detached_task_that_completes_while_queued_is_freed_by_its_queue_entry() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    static FUTURE_DROPS: AtomicUsize = AtomicUsize::new(0);
    static OUTPUT_DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    for (round, kind) in KINDS.into_iter().enumerate() {
        spawn(&runner, &POOL, kind, async {
            let _owned = Counted {
                drops: &FUTURE_DROPS,
                panics: false,
            };
            // Queue the task again, and return in the same poll.
            core::future::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                core::task::Poll::Ready(())
            })
            .await;
            Counted {
                drops: &OUTPUT_DROPS,
                panics: false,
            }
        });
        // One poll: the task runs once (its second queue entry is for the next batch).
        runner.poll();
        assert_eq!(FUTURE_DROPS.load(Ordering::SeqCst), round + 1, "{kind:?}");
        // A detached task drops its output at once; one whose handle is gone kept it for the
        // handle (the general end), and drops it when the slot is freed.
        let output_kept = matches!(kind, Kind::HandleDropped) as usize;
        assert_eq!(
            OUTPUT_DROPS.load(Ordering::SeqCst),
            round + 1 - output_kept,
            "{kind:?}"
        );
        assert!(!POOL.is_empty(), "{kind:?}: its queue entry still names it");
        assert!(EXECUTOR.has_ready_tasks(), "{kind:?}");
        runner.poll();
        assert!(POOL.is_empty(), "{kind:?}: freed by its queue entry");
        assert!(!EXECUTOR.has_ready_tasks(), "{kind:?}");
        assert_dropped_once(&FUTURE_DROPS, &OUTPUT_DROPS, round, kind);
    }
}

/// `cancel_all` on detached cancellable tasks, idle and queued, whose futures' destructors
/// panic: each future is dropped once (the queued one by the next poll), every slot is freed,
/// and the tasks' ends run though the destructors unwound.
#[test]
fn cancel_all_of_detached_tasks_whose_destructors_panic_drops_each_once_and_frees_them() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 96> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // Idle: waits forever.
    spawner
        .spawn_detached(&POOL, || async {
            let _bomb = bomb(&DROPS);
            core::future::pending::<()>().await
        })
        .ok()
        .unwrap();
    // Queued: it yields (waking itself) at every poll, holding its bomb.
    spawner
        .spawn_detached(&POOL, || async {
            let _bomb = bomb(&DROPS);
            loop {
                yield_now().await;
            }
        })
        .ok()
        .unwrap();
    runner.poll();
    // The idle one is dropped now; its destructor's panic reaches the caller.
    // SAFETY: only EXECUTOR spawns into POOL.
    let cancelled = catch_unwind(AssertUnwindSafe(|| unsafe { runner.cancel_all(&POOL) }));
    assert!(cancelled.is_err());
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    // Not frozen by the panic: a second call finds the queued one (the first may not have
    // reached it) and marks it; the next poll drops it, outside any unwinding of ours.
    // SAFETY: as above.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { runner.cancel_all(&POOL) }));
    let polled = catch_unwind(AssertUnwindSafe(|| runner.poll()));
    assert!(polled.is_err(), "the queued future's destructor panicked");
    assert_eq!(DROPS.load(Ordering::SeqCst), 2, "each future dropped once");
    runner.poll();
    assert!(POOL.is_empty(), "both slots are freed");
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
    assert!(!EXECUTOR.has_ready_tasks());
}
