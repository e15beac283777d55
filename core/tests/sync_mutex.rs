//! The async `Mutex`: exclusion across `.await`, FIFO hand-over, cancellation, plain access.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Mutex as StdMutex;

use ebbtide_core::sync::Mutex;
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, TaskPool};

#[test]
fn guard_excludes_other_tasks_across_awaits() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    static COUNTER: Mutex<u64> = Mutex::new(0);
    let rounds = if cfg!(miri) { 10 } else { 1000 };
    let runner = EXECUTOR.runner().unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    for _ in 0..rounds {
                        let mut counter = COUNTER.lock().await;
                        let seen = *counter;
                        yield_now().await; // others run, and must wait for the lock
                        *counter = seen + 1;
                    }
                })
                .unwrap()
        })
        .collect();
    runner.run_until(
        async {
            for t in tasks {
                t.await.unwrap()
            }
        },
        || {},
    );
    assert_eq!(*COUNTER.try_lock().unwrap(), 4 * rounds);
}

#[test]
fn lock_is_handed_over_in_fifo_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    static LOCK: Mutex<()> = Mutex::new(());
    static ORDER: StdMutex<Vec<u8>> = StdMutex::new(Vec::new());
    // The order the tasks started to wait: the spawn order, or its reverse with the executor's
    // `lifo-batches` feature (the lock's order is what this tests, not the executor's).
    static WAITING: StdMutex<Vec<u8>> = StdMutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let guard = LOCK.try_lock().unwrap();
    let tasks: Vec<_> = [3u8, 1, 2]
        .into_iter()
        .map(|id| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    WAITING.lock().unwrap().push(id);
                    let _guard = LOCK.lock().await;
                    ORDER.lock().unwrap().push(id);
                })
                .unwrap()
        })
        .collect();
    runner.poll();
    assert!(LOCK.try_lock().is_err(), "held, and tasks wait");
    drop(guard);
    runner.run_until(
        async {
            for t in tasks {
                t.await.unwrap()
            }
        },
        || {},
    );
    let mut waited = vec![3, 1, 2];
    if cfg!(feature = "lifo-batches") {
        waited.reverse();
    }
    assert_eq!(*WAITING.lock().unwrap(), waited);
    assert_eq!(*ORDER.lock().unwrap(), waited);
}

#[test]
fn cancelled_lock_does_not_keep_the_mutex() {
    let mutex = Mutex::new(1);
    let mut cx = Context::from_waker(Waker::noop());
    let guard = mutex.try_lock().unwrap();
    {
        let mut waiting = Box::pin(mutex.lock());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        drop(guard); // the lock is handed to `waiting` ...
    } // ... which is dropped before it completes
    {
        let mut next = pin!(mutex.lock());
        match next.as_mut().poll(&mut cx) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the cancelled waiter kept the lock"),
        }
    }
    assert_eq!(mutex.into_inner(), 2);
}

#[test]
fn get_mut_and_into_inner() {
    let mut mutex = Mutex::new(String::from("a"));
    mutex.get_mut().push('b');
    assert_eq!(format!("{:?}", mutex), "Mutex { data: \"ab\" }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{:?}", mutex), "Mutex { data: <locked> }");
    drop(guard);
    assert_eq!(mutex.into_inner(), "ab");
}
