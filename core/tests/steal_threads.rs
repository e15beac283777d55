//! Work stealing between two executors on two threads (`Executor::steal_from`), and sending the
//! stolen tasks home for shutdown (`Executor::reclaim_idle`, `Executor::drain_home`). Small
//! enough for Miri: `cargo +nightly miri test -p ebbtide-core --test steal_threads`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread::{self, ThreadId};

use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, Pool, SlicePool, TaskPool, TaskSlot};

const TASKS: usize = if cfg!(miri) { 6 } else { 64 };

#[test]
fn a_thief_runs_send_tasks_and_never_a_local_one() {
    // Statics, so that Miri's leak check sees them kept.
    static VICTIM: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static POOL: TaskPool<{ 2 * TASKS }, 256> = TaskPool::new();
    let (victim, thief, pool) = (&VICTIM, &THIEF, &POOL);
    let runner = victim.runner().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(Vec::<(bool, ThreadId)>::new()));
    let mut handles = Vec::new();
    for i in 0..2 * TASKS {
        let done = done.clone();
        let threads = threads.clone();
        let local = i % 2 == 1;
        let future = async move {
            for _ in 0..4 {
                threads
                    .lock()
                    .unwrap()
                    .push((local, thread::current().id()));
                yield_now().await;
            }
            done.fetch_add(1, Ordering::SeqCst);
            i
        };
        let handle = if local {
            runner.spawner().spawn(pool, future).unwrap()
        } else {
            victim.send_spawner().spawn(pool, future).unwrap()
        };
        handles.push(handle);
    }
    let stealing = {
        let done = done.clone();
        thread::spawn(move || {
            let runner = thief.runner().unwrap();
            let mut moved = 0;
            while done.load(Ordering::SeqCst) < 2 * TASKS {
                // SAFETY: no pool is cancelled in this test.
                moved += unsafe { thief.steal_from(victim) };
                runner.poll();
                thread::yield_now();
            }
            (moved, thread::current().id())
        })
    };
    let main = thread::current().id();
    while done.load(Ordering::SeqCst) < 2 * TASKS {
        runner.poll();
        thread::yield_now();
    }
    let (moved, thief_thread) = stealing.join().unwrap();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(ebbtide_core::block_on(handle), Ok(i));
    }
    for &(local, thread) in threads.lock().unwrap().iter() {
        if local {
            assert_eq!(thread, main, "a local task ran on the thief");
        } else {
            assert!(thread == main || thread == thief_thread);
        }
    }
    // Whether the thief got any depends on the scheduling of the two threads; it never takes a
    // local task (checked above), so at most the `Send` ones (each once per queue visit).
    let _ = moved;
    assert!(pool.is_empty());
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn stolen_tasks_go_home_for_shutdown() {
    static HOME: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static SLOTS: [TaskSlot<256>; TASKS] = [const { TaskSlot::new() }; TASKS];
    static POOL: SlicePool<256> = SlicePool::new("home", &SLOTS);
    let (home, thief, pool) = (&HOME, &THIEF, &POOL);
    let runner = home.runner().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    let polled_by_thief = Arc::new(AtomicUsize::new(0));
    let wakers = Arc::new(Mutex::new(Vec::<Waker>::new()));
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let guard = Dropped(dropped.clone());
        let polled_by_thief = polled_by_thief.clone();
        let wakers = wakers.clone();
        let home_thread = thread::current().id();
        let handle = pool
            .try_spawn(home, async move {
                let _guard = guard;
                std::future::poll_fn(|cx| {
                    if thread::current().id() != home_thread {
                        polled_by_thief.fetch_add(1, Ordering::SeqCst);
                    }
                    wakers.lock().unwrap().push(cx.waker().clone());
                    std::task::Poll::<()>::Pending
                })
                .await;
            })
            .ok()
            .unwrap();
        handles.push(handle);
    }
    // The thief takes half, polls them (they park, pointing at the thief), and stops.
    let stopped = Arc::new(AtomicBool::new(false));
    let moved = {
        let stopped = stopped.clone();
        thread::spawn(move || {
            let runner = thief.runner().unwrap();
            // SAFETY: the pool is cancelled below, after every task was sent home while no
            // executor runs.
            let moved = unsafe { thief.steal_from(home) };
            runner.poll();
            stopped.store(true, Ordering::SeqCst);
            moved
        })
        .join()
        .unwrap()
    };
    assert!(stopped.load(Ordering::SeqCst));
    assert_eq!(moved, TASKS.div_ceil(2));
    assert_eq!(polled_by_thief.load(Ordering::SeqCst), moved);
    // The rest park at home.
    runner.poll();
    // Wake every task: those the thief holds go to the thief's queue, which nobody polls now.
    for waker in wakers.lock().unwrap().drain(..) {
        waker.wake();
    }
    // Shutdown: nobody polls either executor. Queued tasks come home from the thief's queue,
    // idle ones (none left here: all were woken) are claimed; then the home cancels them all.
    // SAFETY: every task of `pool` was spawned on `home`; neither executor is polled now.
    let sent = unsafe { thief.drain_home(|address| pool.contains_addr(address).then_some(home)) };
    assert_eq!(sent, moved);
    // SAFETY: as above.
    assert_eq!(unsafe { home.reclaim_idle(pool) }, 0);
    assert!(!thief.has_ready_tasks());
    // SAFETY: every task of the pool is the home's again.
    let cancelled = unsafe { runner.cancel_all(pool) };
    assert_eq!(cancelled, TASKS);
    while runner.poll() {}
    assert_eq!(dropped.load(Ordering::SeqCst), TASKS);
    for handle in handles {
        assert_eq!(
            ebbtide_core::block_on(handle),
            Err(ebbtide_core::JoinError::Cancelled)
        );
    }
    assert!(pool.is_empty());
}

#[test]
fn idle_stolen_tasks_are_claimed_back() {
    static HOME: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static SLOTS: [TaskSlot<256>; 4] = [const { TaskSlot::new() }; 4];
    static POOL: SlicePool<256> = SlicePool::new("home", &SLOTS);
    let (home, thief, pool) = (&HOME, &THIEF, &POOL);
    let runner = home.runner().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let guard = Dropped(dropped.clone());
        // Detached: the handle is dropped at once.
        drop(
            pool.try_spawn(home, async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
            .ok()
            .unwrap(),
        );
    }
    let moved = thread::spawn(move || {
        let runner = thief.runner().unwrap();
        // SAFETY: the pool is cancelled below, after every task was sent home.
        let moved = unsafe { thief.steal_from(home) };
        runner.poll();
        moved
    })
    .join()
    .unwrap();
    assert_eq!(moved, 2);
    runner.poll();
    // Two idle tasks point at the thief: claimed back (and queued at home, a spurious wake).
    // SAFETY: every task of `pool` was spawned on `home`; neither executor is polled now.
    assert_eq!(unsafe { home.reclaim_idle(pool) }, 0);
    assert!(home.has_ready_tasks());
    // SAFETY: as above, now that all are home.
    assert_eq!(unsafe { runner.cancel_all(pool) }, 4);
    while runner.poll() {}
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
    assert!(pool.is_empty());
}

/// A thief takes tasks out of the victim's running batch: the victim's first task of a batch
/// blocks its thread (as a descheduled or stuck worker would) until the thief has stolen; the
/// `Send` tasks queued behind it in the same batch run on the thief meanwhile.
#[test]
fn a_thief_takes_the_rest_of_a_running_batch() {
    static VICTIM: Executor = Executor::new();
    static THIEF: Executor = Executor::new();
    static POOL: TaskPool<{ TASKS + 1 }, 256> = TaskPool::new();
    let (victim, thief, pool) = (&VICTIM, &THIEF, &POOL);
    let runner = victim.runner().unwrap();
    // SAFETY: no pool is cancelled in this test. The first steal finds nothing, and makes the
    // victim publish its batches.
    assert_eq!(unsafe { thief.steal_from(victim) }, 0);
    let stolen = Arc::new(AtomicBool::new(false));
    let blocking = Arc::new(AtomicBool::new(false));
    let spawn_blocker = || {
        let stolen = stolen.clone();
        let blocking = blocking.clone();
        runner
            .spawner()
            .spawn(pool, async move {
                blocking.store(true, Ordering::SeqCst);
                while !stolen.load(Ordering::SeqCst) {
                    thread::yield_now();
                }
            })
            .unwrap()
    };
    let spawn_tasks = || -> Vec<_> {
        (0..TASKS)
            .map(|i| {
                victim
                    .send_spawner()
                    .spawn(pool, async move { (i, thread::current().id()) })
                    .unwrap()
            })
            .collect()
    };
    // The blocker runs first in the batch: spawned first, or last with `lifo-batches` (each
    // batch runs newest first).
    let (blocker, handles) = if cfg!(feature = "lifo-batches") {
        let handles = spawn_tasks();
        (spawn_blocker(), handles)
    } else {
        (spawn_blocker(), spawn_tasks())
    };
    let stealing = {
        let stolen = stolen.clone();
        let blocking = blocking.clone();
        thread::spawn(move || {
            let runner = thief.runner().unwrap();
            // The victim is inside its batch, held up by its first task.
            while !blocking.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            // SAFETY: as above.
            let moved = unsafe { thief.steal_from(victim) };
            while runner.poll() {}
            stolen.store(true, Ordering::SeqCst);
            (moved, thread::current().id())
        })
    };
    // One batch: the blocker, then every `Send` task it holds up.
    runner.poll();
    let (moved, thief_thread) = stealing.join().unwrap();
    while runner.poll() {}
    assert_eq!(ebbtide_core::block_on(blocker), Ok(()));
    assert_eq!(
        moved,
        TASKS.div_ceil(2),
        "every other task of the batch moves"
    );
    let on_thief = handles
        .into_iter()
        .enumerate()
        .map(|(i, handle)| {
            let (j, thread) = ebbtide_core::block_on(handle).unwrap();
            assert_eq!(i, j);
            thread == thief_thread
        })
        .filter(|&on_thief| on_thief)
        .count();
    assert_eq!(on_thief, moved);
    assert!(pool.is_empty());
}
