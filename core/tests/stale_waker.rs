//! Wakers that outlive their task: waking them is harmless.

use std::sync::Mutex;
use std::task::{Poll, Waker};

use ebbtide_core::{Executor, TaskPool};

static SAVED: Mutex<Option<Waker>> = Mutex::new(None);

async fn save_waker_then_finish() -> u32 {
    let mut first = true;
    core::future::poll_fn(|cx| {
        if first {
            first = false;
            *SAVED.lock().unwrap() = Some(cx.waker().clone());
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(1)
        }
    })
    .await
}

#[test]
fn waking_a_finished_task_does_nothing() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, save_waker_then_finish())
        .unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(1));
    let stale = SAVED.lock().unwrap().take().unwrap();
    // The slot is free: a stale wake must not schedule anything.
    stale.wake_by_ref();
    assert!(!EXECUTOR.has_ready_tasks());
    assert!(!runner.poll());

    // The slot is reused: the stale waker now wakes the new task, spuriously but harmlessly.
    let polls = std::cell::Cell::new(0);
    let polls = &*Box::leak(Box::new(polls));
    let next = runner
        .spawner()
        .spawn(&POOL, async move {
            core::future::poll_fn(|_| {
                polls.set(polls.get() + 1);
                if polls.get() < 3 {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
            "done"
        })
        .unwrap();
    runner.poll();
    assert_eq!(polls.get(), 1);
    stale.wake();
    runner.poll();
    assert_eq!(polls.get(), 2, "a stale wake is at worst a spurious poll");
    assert!(!next.is_finished());
    next.abort();
    assert!(runner.run_until(next, || {}).is_err());
}

#[test]
fn wakers_of_a_task_compare_equal_and_clone_cheaply() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            core::future::poll_fn(|cx| {
                let a = cx.waker().clone();
                let b = a.clone();
                Poll::Ready(a.will_wake(&b) && a.will_wake(cx.waker()))
            }),
        )
        .unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(true));
}
