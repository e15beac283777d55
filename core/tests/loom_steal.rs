//! Loom models of work stealing (`Executor::steal_from`): a steal racing with the victim's own
//! poll and sleep and with wakes from another thread loses no task and no wake-up, moves only
//! `Send`-spawned tasks, and a task stolen while it is woken and aborted is dropped exactly once.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ebbtide-core --release --test loom_steal`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use ebbtide_core::{Executor, JoinError, Runner, TaskPool};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread::{self, ThreadId};

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// An executor whose hook raises a flag, as a driver's wait would see it.
fn executor_with_flag() -> (&'static Executor, &'static AtomicBool) {
    let flag: &'static AtomicBool = leak(AtomicBool::new(false));
    let hook: &'static (dyn Fn() + Send + Sync) = leak(move || flag.store(true, Ordering::SeqCst));
    (leak(Executor::with_wake_hook(hook)), flag)
}

/// Pending on its first poll (publishing its waker), ready on the next; records the thread of
/// the last poll and counts its drops.
struct TwoPolls {
    polls: usize,
    waker: Arc<Mutex<Option<Waker>>>,
    ran_on: Arc<Mutex<Option<ThreadId>>>,
    dropped: Arc<AtomicUsize>,
}

impl TwoPolls {
    fn new() -> (
        TwoPolls,
        Arc<Mutex<Option<Waker>>>,
        Arc<Mutex<Option<ThreadId>>>,
        Arc<AtomicUsize>,
    ) {
        let waker = Arc::new(Mutex::new(None));
        let ran_on = Arc::new(Mutex::new(None));
        let dropped = Arc::new(AtomicUsize::new(0));
        let future = TwoPolls {
            polls: 0,
            waker: waker.clone(),
            ran_on: ran_on.clone(),
            dropped: dropped.clone(),
        };
        (future, waker, ran_on, dropped)
    }
}

impl Future for TwoPolls {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.polls += 1;
        *self.ran_on.lock().unwrap() = Some(thread::current().id());
        if self.polls == 1 {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    }
}

impl Drop for TwoPolls {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Four threads (victim, waker, thief, and the aborter or none): unbounded, the models run for
/// hours. A preemption bound of 2 explores every interleaving with up to two preemptions, which
/// covers the races named in each model (each needs one or two).
fn builder() -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(
        std::env::var("LOOM_STEAL_PREEMPTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    );
    builder.max_branches = 100_000;
    builder
}

/// The victim's driver: polls; sleeps until the wake hook raises `flag`, or until `done`. A lost
/// wake-up leaves it spinning forever: loom reports it.
fn drive(runner: &Runner, flag: &AtomicBool, done: impl Fn() -> bool) {
    loop {
        flag.store(false, Ordering::SeqCst);
        let more = runner.poll();
        if done() {
            return;
        }
        if !more {
            while !flag.load(Ordering::SeqCst) && !done() {
                thread::yield_now();
            }
        }
    }
}

/// A thief's thread: steals from `victim` once and runs what it took until it has nothing left;
/// returns how many tasks it moved. (No model cancels a pool, as `steal_from` asks.)
fn steal_once(thief: &'static Executor, victim: &'static Executor) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        let runner = thief.runner().unwrap();
        // SAFETY: no pool is cancelled in these models.
        let moved = unsafe { thief.steal_from(victim) };
        if moved > 0 {
            while runner.poll() {}
        }
        moved
    })
}

fn wake(waker: &Arc<Mutex<Option<Waker>>>) {
    let w = waker.lock().unwrap().clone();
    if let Some(w) = w {
        w.wake();
    }
}

/// The victim sleeps with two idle tasks: `send` (spawned through a `SendSpawner`, movable) and
/// `local` (spawned through the runner's `Spawner`, never moved). Another thread wakes both
/// while a thief steals once and polls what it got. Every task runs exactly once more; the local
/// one on the victim's thread, which must be woken for it even when the steal took the stack
/// whose push called the hook and the local task's push came after the steal.
#[test]
fn steal_races_with_wakes_and_the_victims_sleep() {
    builder().check(|| {
        let (victim, victim_flag) = executor_with_flag();
        let (thief, _thief_flag) = executor_with_flag();
        let pool: &'static TaskPool<2, 256> = leak(TaskPool::new());
        let runner = victim.runner().unwrap();
        let (send, send_waker, send_ran_on, send_dropped) = TwoPolls::new();
        let (local, local_waker, local_ran_on, local_dropped) = TwoPolls::new();
        let send = victim.send_spawner().spawn(pool, send).unwrap();
        let local = runner.spawner().spawn(pool, local).unwrap();
        // Both park; the queue is then asleep (`null`).
        assert!(!runner.poll());

        let waking = thread::spawn(move || {
            wake(&send_waker);
            wake(&local_waker);
        });
        let stealing = steal_once(thief, victim);
        let main = thread::current().id();
        // The victim's driver: poll; sleep until the hook fires, or until the local task ran
        // and the send task ran (here or on the thief).
        let done = || {
            local_dropped.load(Ordering::SeqCst) == 1 && send_dropped.load(Ordering::SeqCst) == 1
        };
        drive(&runner, victim_flag, done);
        waking.join().unwrap();
        let moved = stealing.join().unwrap();
        assert!(moved <= 1, "only the Send task may move");
        assert_eq!(
            *local_ran_on.lock().unwrap(),
            Some(main),
            "a local task left its thread"
        );
        if moved == 0 {
            assert_eq!(*send_ran_on.lock().unwrap(), Some(main));
        } else {
            assert_ne!(*send_ran_on.lock().unwrap(), Some(main));
        }
        assert!(send.is_finished() && local.is_finished());
        assert_eq!(ebbtide_core::block_on(send), Ok(7));
        assert_eq!(ebbtide_core::block_on(local), Ok(7));
    });
}

/// A movable task is woken and aborted from two threads while a thief steals from its executor:
/// it completes or is cancelled exactly once, wherever it ran, and its future is dropped once.
#[test]
fn steal_races_with_wake_and_abort_of_the_same_task() {
    builder().check(|| {
        let (victim, victim_flag) = executor_with_flag();
        let (thief, _thief_flag) = executor_with_flag();
        let pool: &'static TaskPool<1, 256> = leak(TaskPool::new());
        let runner = victim.runner().unwrap();
        let (task, waker, _ran_on, dropped) = TwoPolls::new();
        let handle = victim.send_spawner().spawn(pool, task).unwrap();
        assert!(!runner.poll());
        let handle = Arc::new(handle);

        let waking = thread::spawn(move || wake(&waker));
        let aborting = {
            let handle = handle.clone();
            thread::spawn(move || handle.abort())
        };
        let stealing = steal_once(thief, victim);
        let done = || dropped.load(Ordering::SeqCst) == 1;
        drive(&runner, victim_flag, done);
        waking.join().unwrap();
        aborting.join().unwrap();
        stealing.join().unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        let handle = Arc::try_unwrap(handle).ok().unwrap();
        let result = ebbtide_core::block_on(handle);
        assert!(
            matches!(result, Ok(7) | Err(JoinError::Cancelled)),
            "{result:?}"
        );
    });
}

/// Shutdown of a stealing group: a task stolen (and parked) by the thief is sent home while a
/// waker on another thread wakes it, pushing it onto the thief's queue at any moment, before,
/// during or after the drain. The home's `drain_home` + `reclaim_idle` loop ends with the task
/// home, and cancelling it there drops it exactly once, with no other thread touching it.
#[test]
fn send_home_races_with_a_wake() {
    builder().check(|| {
        let (home, _home_flag) = executor_with_flag();
        let (thief, _thief_flag) = executor_with_flag();
        let slots: &'static [ebbtide_core::TaskSlot<256>] =
            Vec::leak(vec![ebbtide_core::TaskSlot::new()]);
        let pool: &'static ebbtide_core::SlicePool<256> =
            leak(ebbtide_core::SlicePool::new("home", slots));
        let home_runner = home.runner().unwrap();
        let thief_runner = thief.runner().unwrap();
        let (task, waker, _ran_on, dropped) = TwoPolls::new();
        let handle = pool.try_spawn(home, task).ok().unwrap();
        // SAFETY: the pool is cancelled below, after its task was sent home and while neither
        // executor is polled.
        assert_eq!(unsafe { thief.steal_from(home) }, 1);
        // Parks on the thief, pointing at it.
        assert!(!thief_runner.poll());

        let waking = thread::spawn(move || wake(&waker));
        // Stop the world (nobody polls either executor from here): send it home.
        loop {
            // SAFETY: `home` spawned every task of `pool`; neither executor is polled.
            unsafe { thief.drain_home(|address| pool.contains_addr(address).then_some(home)) };
            // SAFETY: as above.
            if unsafe { home.reclaim_idle(pool) } == 0 {
                break;
            }
            thread::yield_now();
        }
        // SAFETY: every task of the pool is the home's again.
        unsafe { home_runner.cancel_all(pool) };
        while home_runner.poll() {}
        waking.join().unwrap();
        // A wake after the drain went home too (the pointer is home's).
        while home_runner.poll() {}
        assert!(!thief.has_ready_tasks());
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert_eq!(ebbtide_core::block_on(handle), Err(JoinError::Cancelled));
    });
}

/// Ready on its first poll; records the thread of each poll.
struct Once {
    ran_on: Arc<Mutex<Vec<ThreadId>>>,
}

impl Future for Once {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.ran_on.lock().unwrap().push(thread::current().id());
        Poll::Ready(())
    }
}

/// The victim was stolen from once (so it publishes its batches, see `SharedBatch`) and runs a
/// batch of two tasks, `send` then `local`, popping them one at a time, while a thief takes what
/// is left of that batch and polls what it kept. Each task runs exactly once, the local one on
/// the victim's thread; a pop and a steal never both get a task; and no task a thief put back is
/// left without a wake-up (the victim's loop would spin forever).
#[test]
fn steal_from_a_running_batch_races_with_its_pops() {
    builder().check(|| {
        let (victim, victim_flag) = executor_with_flag();
        let (thief, _thief_flag) = executor_with_flag();
        let pool: &'static TaskPool<2, 256> = leak(TaskPool::new());
        let runner = victim.runner().unwrap();
        // SAFETY: no pool is cancelled in this model. The victim's queue is empty: nothing
        // moves, but its batches are published from now on.
        assert_eq!(unsafe { thief.steal_from(victim) }, 0);
        let send_ran_on = Arc::new(Mutex::new(Vec::new()));
        let local_ran_on = Arc::new(Mutex::new(Vec::new()));
        let send = victim
            .send_spawner()
            .spawn(
                pool,
                Once {
                    ran_on: send_ran_on.clone(),
                },
            )
            .unwrap();
        let local = runner
            .spawner()
            .spawn(
                pool,
                Once {
                    ran_on: local_ran_on.clone(),
                },
            )
            .unwrap();

        let stealing = thread::spawn(move || {
            let runner = thief.runner().unwrap();
            // SAFETY: as above.
            let moved = unsafe { thief.steal_from(victim) };
            while runner.poll() {}
            (moved, thread::current().id())
        });
        let main = thread::current().id();
        let done = || send.is_finished() && local.is_finished();
        drive(&runner, victim_flag, done);
        let (moved, thief_thread) = stealing.join().unwrap();
        assert!(moved <= 1, "only the Send task may move");
        assert_eq!(*local_ran_on.lock().unwrap(), vec![main]);
        let send_ran_on = send_ran_on.lock().unwrap().clone();
        assert_eq!(send_ran_on.len(), 1, "the Send task ran {send_ran_on:?}");
        assert_eq!(send_ran_on[0] == thief_thread, moved == 1);
        assert_eq!(ebbtide_core::block_on(send), Ok(()));
        assert_eq!(ebbtide_core::block_on(local), Ok(()));
    });
}

/// A detached `Send` task (whose end has no join protocol: `complete_detached`) is woken from
/// another thread while a thief steals it: it runs its second poll and ends on one of the two
/// executors, its future is dropped once, its slot is freed, and no wake-up is lost (the victim's
/// driver would spin forever).
#[test]
fn a_detached_task_stolen_while_woken_ends_once_and_frees_its_slot() {
    builder().check(|| {
        let (victim, victim_flag) = executor_with_flag();
        let (thief, _thief_flag) = executor_with_flag();
        let pool: &'static TaskPool<1, 256> = leak(TaskPool::new());
        let runner = victim.runner().unwrap();
        let (task, waker, _ran_on, dropped) = TwoPolls::new();
        victim
            .send_spawner()
            .spawn_detached(pool, move || task)
            .ok()
            .unwrap();
        assert!(!runner.poll());

        let waking = thread::spawn(move || wake(&waker));
        let stealing = steal_once(thief, victim);
        let done = || dropped.load(Ordering::SeqCst) == 1;
        drive(&runner, victim_flag, done);
        waking.join().unwrap();
        stealing.join().unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert!(pool.is_empty(), "the slot is freed where the task ended");
        assert!(!victim.has_ready_tasks() && !thief.has_ready_tasks());
    });
}
