//! `Semaphore`: FIFO fairness (a large request at the head blocks small ones), close, cancel, and
//! permits coming back on drop.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};

use ebbtide_core::sync::{Semaphore, TryAcquireError};
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn large_request_at_the_head_blocks_later_small_ones() {
    let semaphore = Semaphore::new(3);
    let held = semaphore.try_acquire_many(3).unwrap();
    let mut big = pin!(semaphore.acquire_many(2));
    let mut small = pin!(semaphore.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    drop(held); // 3 back: 2 to `big`, 1 to `small`
    let big_permit = match poll_once(big) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!(
            "big should have its permits: {:?}",
            other.map(|r| r.is_ok())
        ),
    };
    assert_eq!(big_permit.num_permits(), 2);
    assert!(poll_once(small).is_ready());
}

#[test]
fn partial_permits_are_set_aside_for_the_head() {
    let semaphore = Semaphore::new(2);
    let a = semaphore.try_acquire().unwrap();
    let b = semaphore.try_acquire().unwrap();
    let mut big = pin!(semaphore.acquire_many(2));
    let mut small = pin!(semaphore.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    drop(a);
    // The permit went to `big` (which still needs one more), not to `small` or `try_acquire`.
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    drop(b);
    let big_permit = match poll_once(big) {
        Poll::Ready(Ok(permit)) => permit,
        _ => panic!("big should be complete"),
    };
    assert!(poll_once(small.as_mut()).is_pending());
    drop(big_permit);
    assert!(poll_once(small).is_ready());
    assert_eq!(semaphore.available_permits(), 2, "every permit came back");
}

#[test]
fn cancelled_acquire_returns_its_partial_permits_to_the_next_waiter() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut big = Box::pin(semaphore.acquire_many(3));
    let mut small = pin!(semaphore.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    drop(held); // one permit set aside for `big`
    assert!(poll_once(big.as_mut()).is_pending());
    drop(big); // its permit passes to `small`
    assert!(poll_once(small).is_ready());
}

#[test]
fn close_fails_waiters_and_later_acquires() {
    let semaphore = Semaphore::new(0);
    let count = if cfg!(miri) { 20 } else { 100 };
    let mut waiters: Vec<_> = (0..count).map(|_| Box::pin(semaphore.acquire())).collect();
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    semaphore.close();
    assert!(semaphore.is_closed());
    for waiter in &mut waiters {
        assert!(matches!(poll_once(waiter.as_mut()), Poll::Ready(Err(_))));
    }
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    assert!(matches!(
        poll_once(pin!(semaphore.acquire())),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn forget_keeps_permits_out() {
    let semaphore = Semaphore::new(3);
    semaphore.try_acquire_many(2).unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
    semaphore.add_permits(4);
    assert_eq!(semaphore.available_permits(), 5);
}

#[test]
fn add_permits_wakes_more_waiters_than_one_batch() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<40> = TaskPool::new();
    static SEMAPHORE: Semaphore = Semaphore::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            runner
                .spawner()
                .spawn(&POOL, async {
                    SEMAPHORE.acquire().await.unwrap().forget();
                })
                .unwrap()
        })
        .collect();
    runner.poll();
    assert!(tasks.iter().all(|t| !t.is_finished()));
    SEMAPHORE.add_permits(40);
    runner.run_until(
        async {
            for t in tasks {
                t.await.unwrap()
            }
        },
        || {},
    );
    assert_eq!(SEMAPHORE.available_permits(), 0);
}

#[test]
fn tasks_never_exceed_the_permits() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<6> = TaskPool::new();
    static SEMAPHORE: Semaphore = Semaphore::new(2);
    static INSIDE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static MAX: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    use std::sync::atomic::Ordering::SeqCst;
    let rounds = if cfg!(miri) { 5 } else { 200 };
    let runner = EXECUTOR.runner().unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    for _ in 0..rounds {
                        let _permit = SEMAPHORE.acquire().await.unwrap();
                        let now = INSIDE.fetch_add(1, SeqCst) + 1;
                        MAX.fetch_max(now, SeqCst);
                        ebbtide_core::task::yield_now().await;
                        INSIDE.fetch_sub(1, SeqCst);
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
    assert_eq!(MAX.load(SeqCst), 2);
    assert_eq!(SEMAPHORE.available_permits(), 2);
}
