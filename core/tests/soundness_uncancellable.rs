//! Tasks spawned with `Spawner::spawn_uncancellable`: their future is never dropped before it
//! completes. Whatever would cancel one (a shutdown's `cancel_all`, idle or queued; a panic in its
//! poll) retires it: never polled again, never dropped, its slot never reused, and its pinned
//! parts (a node in a wait list) stay valid for the primitives that still point at them.
//! Run under Miri by CI, which checks the last point.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::sync::Notify;
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, TaskPool};

/// Counts its drops in the counter it points at.
struct CountDrop(&'static AtomicUsize);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_task_that_ends_frees_its_slot_and_drops_what_it_owned() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 64> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    runner
        .spawner()
        .spawn_uncancellable(&POOL, || async {
            let owned = CountDrop(&DROPS);
            yield_now().await;
            drop(owned);
            // The output is dropped when the detached task is freed.
            CountDrop(&DROPS)
        })
        .unwrap();
    runner.poll();
    assert_eq!(DROPS.load(Ordering::SeqCst), 0);
    runner.poll();
    assert_eq!(DROPS.load(Ordering::SeqCst), 2, "the local and the output");
    assert!(POOL.is_empty());
}

#[test]
fn cancel_all_retires_idle_and_queued_tasks_without_dropping_or_polling_them() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3, 96> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // Idle: parked forever.
    spawner
        .spawn_uncancellable(&POOL, || async {
            let _owned = CountDrop(&DROPS);
            POLLS.fetch_add(1, Ordering::SeqCst);
            core::future::pending::<()>().await
        })
        .unwrap();
    // Queued: yields, so it is in the run queue when `cancel_all` comes.
    spawner
        .spawn_uncancellable(&POOL, || async {
            let _owned = CountDrop(&DROPS);
            loop {
                POLLS.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
            }
        })
        .unwrap();
    runner.poll();
    assert_eq!(POLLS.load(Ordering::SeqCst), 2);
    // A cancellable neighbour is dropped as usual.
    spawner
        .spawn_detached(&POOL, || async {
            let _owned = CountDrop(&DROPS);
            core::future::pending::<()>().await
        })
        .unwrap();
    runner.poll();

    // SAFETY: only EXECUTOR spawns into POOL.
    assert_eq!(unsafe { runner.cancel_all(&POOL) }, 3);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "only the cancellable one");
    for _ in 0..3 {
        runner.poll();
    }
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "retired futures are never dropped"
    );
    assert_eq!(POLLS.load(Ordering::SeqCst), 3, "nor polled again");
    assert_eq!(POOL.len(), 2, "their slots stay taken");
    // A second shutdown finds nothing left to cancel.
    // SAFETY: as above.
    assert_eq!(unsafe { runner.cancel_all(&POOL) }, 0);
    // The freed slot serves a new task; the retired ones are never handed out.
    spawner.spawn_detached(&POOL, || async {}).unwrap();
    assert!(spawner.spawn_detached(&POOL, || async {}).is_err());
    runner.poll();
    assert_eq!(POOL.len(), 2);
}

#[test]
fn a_retired_tasks_wait_list_node_stays_valid() {
    // The task waits in `NOTIFY`'s wait list: a node pinned inside its future. Retired, the
    // future is not dropped, so the node is never unlinked; it must stay valid (Miri checks
    // every access), and the wake it gets must do nothing to the retired task.
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    static NOTIFY: Notify = Notify::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    runner
        .spawner()
        .spawn_uncancellable(&POOL, || async {
            loop {
                POLLS.fetch_add(1, Ordering::SeqCst);
                NOTIFY.notified().await;
            }
        })
        .unwrap();
    runner.poll();
    assert_eq!(POLLS.load(Ordering::SeqCst), 1);
    // SAFETY: only EXECUTOR spawns into POOL.
    assert_eq!(unsafe { runner.cancel_all(&POOL) }, 1);
    NOTIFY.notify_waiters();
    NOTIFY.notify_one();
    runner.poll();
    assert_eq!(POLLS.load(Ordering::SeqCst), 1, "never polled again");
    assert!(!EXECUTOR.has_ready_tasks());
}

/// A hand-written future that owns a `CountDrop` and panics on its second poll: the unwinding
/// does not drop it (it lives in the task's slot), so only a drop of the future would.
struct PanicsOnSecondPoll {
    _owned: CountDrop,
    polled: bool,
}

impl core::future::Future for PanicsOnSecondPoll {
    type Output = ();
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        if self.polled {
            panic!("a task panics");
        }
        self.polled = true;
        cx.waker().wake_by_ref();
        core::task::Poll::Pending
    }
}

#[test]
fn a_panic_in_its_poll_retires_it() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 96> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    runner
        .spawner()
        .spawn_uncancellable(&POOL, || PanicsOnSecondPoll {
            _owned: CountDrop(&DROPS),
            polled: false,
        })
        .unwrap();
    runner.poll();
    let unwound = catch_unwind(AssertUnwindSafe(|| runner.poll()));
    assert!(unwound.is_err(), "the panic reaches the runner's caller");
    // The next poll would drop a cancellable task's future; this one is retired.
    runner.poll();
    runner.poll();
    assert_eq!(DROPS.load(Ordering::SeqCst), 0, "its future is not dropped");
    assert_eq!(POOL.len(), 1, "its slot stays taken");
    // The executor keeps serving the others.
    runner.spawner().spawn_detached(&POOL, || async {}).unwrap();
    runner.poll();
    assert_eq!(POOL.len(), 1);
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a capture's destructor panics");
    }
}

#[test]
fn user_code_in_the_maker_and_the_refusal_leaves_the_pool_whole() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 64> = TaskPool::new();
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // A maker that re-enters the pool (its own slot is claimed: the sibling takes the other),
    // then panics: its slot is given back, the sibling stays.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        spawner.spawn_uncancellable(&POOL, || -> core::future::Ready<()> {
            spawner
                .spawn_uncancellable(&POOL, || async {
                    RAN.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            panic!("the maker panics after spawning");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(POOL.len(), 1, "only the sibling holds a slot");
    // A refused maker whose capture panics when the refusal is dropped: user code, outside
    // every lock; the pool and executor are untouched by it.
    spawner
        .spawn_uncancellable(&POOL, core::future::pending::<()>)
        .unwrap();
    let capture = PanicOnDrop;
    let refused = spawner
        .spawn_uncancellable(&POOL, move || {
            let _capture = capture;
            async {}
        })
        .unwrap_err();
    assert!(catch_unwind(AssertUnwindSafe(move || drop(refused))).is_err());
    runner.poll();
    assert_eq!(RAN.load(Ordering::SeqCst), 1);
    assert_eq!(
        POOL.len(),
        1,
        "the sibling ended; the pending task holds its slot"
    );
}

#[test]
fn a_retired_task_woken_from_other_threads_stays_retired() {
    // Another thread keeps waking the retired task through the wait list its pinned node is
    // still in, while the runner polls: the wakes are refused (`COMPLETE`), the node stays
    // valid (Miri checks), and nothing is polled or dropped.
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    static NOTIFY: Notify = Notify::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    runner
        .spawner()
        .spawn_uncancellable(&POOL, || async {
            let _owned = CountDrop(&DROPS);
            loop {
                POLLS.fetch_add(1, Ordering::SeqCst);
                NOTIFY.notified().await;
            }
        })
        .unwrap();
    runner.poll();
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let waker = std::thread::spawn(move || {
        for _ in 0..rounds {
            NOTIFY.notify_waiters();
            std::thread::yield_now();
        }
    });
    // SAFETY: only EXECUTOR spawns into POOL.
    assert_eq!(unsafe { runner.cancel_all(&POOL) }, 1);
    while !waker.is_finished() {
        runner.poll();
        std::thread::yield_now();
    }
    waker.join().unwrap();
    runner.poll();
    // Polled once, before the shutdown. A wake that queued it before `cancel_all` only left it
    // queued: the shutdown then marks it, and the next poll retires it without polling it.
    assert_eq!(POLLS.load(Ordering::SeqCst), 1, "never polled again");
    assert_eq!(DROPS.load(Ordering::SeqCst), 0, "never dropped");
    assert_eq!(POOL.len(), 1);
}

/// An uncancellable task's future that returns at its second poll, and whose destructor then
/// wakes the task from another thread, spawns a task (user code re-entering the executor while
/// it ends this one) and panics.
struct EndsThenWakesSpawnsAndPanics {
    polls: u32,
    spawner: ebbtide_core::Spawner,
}

static ENDING_WAKER: std::sync::Mutex<Option<std::task::Waker>> = std::sync::Mutex::new(None);
static ENDING_DROPS: AtomicUsize = AtomicUsize::new(0);
static SPAWNED_FROM_DROP_RAN: AtomicUsize = AtomicUsize::new(0);
static FROM_DROP: TaskPool<1, 64> = TaskPool::new();

impl core::future::Future for EndsThenWakesSpawnsAndPanics {
    type Output = ();
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        self.polls += 1;
        if self.polls == 1 {
            *ENDING_WAKER.lock().unwrap() = Some(cx.waker().clone());
            cx.waker().wake_by_ref();
            return core::task::Poll::Pending;
        }
        core::task::Poll::Ready(())
    }
}

impl Drop for EndsThenWakesSpawnsAndPanics {
    fn drop(&mut self) {
        ENDING_DROPS.fetch_add(1, Ordering::SeqCst);
        let waker = ENDING_WAKER.lock().unwrap().clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..3 {
                waker.wake_by_ref();
            }
        })
        .join()
        .unwrap();
        self.spawner
            .spawn_detached(&FROM_DROP, || async {
                SPAWNED_FROM_DROP_RAN.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        panic!("the destructor of a future that returned panics");
    }
}

/// An uncancellable task's header holds its `poll`, not a vtable, and the run loop ends it by
/// its state: here its future returns, and its destructor wakes it from another thread, spawns
/// a task and panics. The future is gone, so the task is ended, not retired: the future is
/// dropped once, the slot is freed (the queued wake from the other thread finds the task
/// cancelled and ends it, later wakes of the stale waker find the slot free), the task spawned
/// from the destructor runs, and the slot takes a new uncancellable task.
#[test]
fn an_uncancellable_end_whose_destructor_wakes_spawns_and_panics_frees_the_slot_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 96> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    spawner
        .spawn_uncancellable(&POOL, move || EndsThenWakesSpawnsAndPanics {
            polls: 0,
            spawner,
        })
        .unwrap();
    runner.poll(); // first poll: the task wakes itself
    let unwound = catch_unwind(AssertUnwindSafe(|| runner.poll()));
    assert!(
        unwound.is_err(),
        "the destructor's panic reaches the runner's caller"
    );
    assert_eq!(ENDING_DROPS.load(Ordering::SeqCst), 1);
    while runner.poll() {}
    assert!(
        POOL.is_empty(),
        "the slot is freed: the future is gone, nothing to retire"
    );
    assert_eq!(ENDING_DROPS.load(Ordering::SeqCst), 1, "dropped once");
    assert_eq!(SPAWNED_FROM_DROP_RAN.load(Ordering::SeqCst), 1);
    // A stale wake from another thread now finds a free slot and changes nothing.
    let waker = ENDING_WAKER.lock().unwrap().take().unwrap();
    std::thread::spawn(move || waker.wake()).join().unwrap();
    assert!(!runner.poll() && POOL.is_empty());
    // The slot takes a new uncancellable task, which runs to its end.
    static AGAIN: AtomicUsize = AtomicUsize::new(0);
    spawner
        .spawn_uncancellable(&POOL, || async {
            yield_now().await;
            AGAIN.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    while runner.poll() {}
    assert_eq!(AGAIN.load(Ordering::SeqCst), 1);
    assert!(POOL.is_empty());
}
