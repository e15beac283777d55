//! `Notify`: stored permit, FIFO wake-ups, `notify_waiters`, and cancellation passing a
//! notification on.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Mutex as StdMutex;

use ebbtide_core::sync::Notify;
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn notify_one_stores_at_most_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    assert!(poll_once(pin!(notify.notified())).is_ready());
    assert!(poll_once(pin!(notify.notified())).is_pending());
}

#[test]
fn waiters_are_woken_in_fifo_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    static NOTIFY: Notify = Notify::new();
    static ORDER: StdMutex<Vec<u8>> = StdMutex::new(Vec::new());
    // The order the tasks started to wait: the spawn order, or its reverse with the executor's
    // `lifo-batches` feature (the notify's order is what this tests, not the executor's).
    static WAITING: StdMutex<Vec<u8>> = StdMutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let tasks: Vec<_> = (0..3u8)
        .map(|id| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    WAITING.lock().unwrap().push(id);
                    NOTIFY.notified().await;
                    ORDER.lock().unwrap().push(id);
                })
                .unwrap()
        })
        .collect();
    runner.poll(); // all three wait
    for expected_len in 1..=3 {
        NOTIFY.notify_one();
        while runner.poll() {}
        assert_eq!(
            ORDER.lock().unwrap().len(),
            expected_len,
            "one notify_one wakes one task"
        );
    }
    let mut waited = vec![0, 1, 2];
    if cfg!(feature = "lifo-batches") {
        waited.reverse();
    }
    assert_eq!(*WAITING.lock().unwrap(), waited);
    assert_eq!(*ORDER.lock().unwrap(), waited);
    runner.run_until(
        async {
            for t in tasks {
                t.await.unwrap()
            }
        },
        || {},
    );
}

#[test]
fn notify_waiters_wakes_current_waiters_only_and_stores_nothing() {
    let notify = Notify::new();
    // More waiters than one wake batch holds.
    let count = if cfg!(miri) { 20 } else { 100 };
    let mut waiters: Vec<_> = (0..count).map(|_| Box::pin(notify.notified())).collect();
    let unpolled = pin!(notify.notified());
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    notify.notify_waiters();
    let mut later = pin!(notify.notified());
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut()).is_ready());
    }
    assert!(
        poll_once(unpolled).is_ready(),
        "a Notified created before the call counts"
    );
    assert!(
        poll_once(later.as_mut()).is_pending(),
        "created after the call: not notified"
    );
    assert!(
        poll_once(pin!(notify.notified())).is_pending(),
        "no permit stored"
    );
    notify.notify_one();
    assert!(poll_once(later).is_ready());
}

#[test]
fn dropped_waiter_passes_its_notification_on() {
    let notify = Notify::new();
    let mut first = Box::pin(notify.notified());
    let mut second = pin!(notify.notified());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    notify.notify_one(); // picks `first`
    drop(first); // ... which never completes: the notification goes to `second`
    assert!(poll_once(second).is_ready());
    // Nothing left over.
    assert!(poll_once(pin!(notify.notified())).is_pending());
}

#[test]
fn dropped_last_waiter_stores_its_notification() {
    let notify = Notify::new();
    let mut only = Box::pin(notify.notified());
    assert!(poll_once(only.as_mut()).is_pending());
    notify.notify_one();
    drop(only);
    assert!(poll_once(pin!(notify.notified())).is_ready());
}

#[test]
fn dropped_waiting_future_leaves_the_queue() {
    let notify = Notify::new();
    let mut a = Box::pin(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    drop(a); // never notified: nothing to pass on
    notify.notify_one();
    assert!(poll_once(b).is_ready());
}

/// The permit and the `notify_waiters` generation share a word: neither disturbs the other.
#[test]
fn a_stored_permit_survives_notify_waiters_and_is_used_once() {
    let notify = Notify::new();
    let before = pin!(notify.notified());
    notify.notify_one(); // nobody waits: stored
    notify.notify_waiters(); // wakes nobody, bumps the generation, keeps the permit
                             // Created before the bump: completes by the bump, without the permit.
    assert!(poll_once(before).is_ready());
    // Created after: the permit lets exactly one through.
    assert!(poll_once(pin!(notify.notified())).is_ready());
    assert!(poll_once(pin!(notify.notified())).is_pending());
    // Many bumps with a permit stored in between.
    for _ in 0..1000 {
        notify.notify_waiters();
    }
    notify.notify_one();
    for _ in 0..3 {
        notify.notify_waiters();
    }
    assert!(poll_once(pin!(notify.notified())).is_ready());
    assert!(poll_once(pin!(notify.notified())).is_pending());
}

/// A `Notify` is a word, its lock and a list of waiters (the lock is nothing on a
/// microcontroller, where it is a critical section, and a word with `std`, where each primitive
/// has a lock of its own).
#[test]
fn a_notify_is_a_word_its_lock_and_a_list() {
    use core::mem::size_of;
    use ebbtide_core::blocking_mutex::CriticalSectionRawMutex;
    assert_eq!(
        size_of::<Notify>(),
        3 * size_of::<usize>() + size_of::<CriticalSectionRawMutex>()
    );
}

/// `notified()` reads the generation without the lock: a `Notified` made on this thread before
/// another thread's `notify_waiters` completes, and one made after it (the bump seen through the
/// channel that reported it) waits; a permit stored by another thread lets one through.
#[test]
fn notify_waiters_and_permits_from_another_thread() {
    use std::sync::mpsc::channel;
    let notify = Notify::new();
    let (ask, asked) = channel::<bool>();
    let (done, finished) = channel::<()>();
    std::thread::scope(|scope| {
        let notify = &notify;
        scope.spawn(move || {
            for permit in asked {
                if permit {
                    notify.notify_one();
                } else {
                    notify.notify_waiters();
                }
                done.send(()).unwrap();
            }
        });
        let rounds = if cfg!(miri) { 3 } else { 200 };
        for _ in 0..rounds {
            let before = pin!(notify.notified());
            ask.send(false).unwrap();
            finished.recv().unwrap();
            assert!(poll_once(before).is_ready(), "created before the bump");
            assert!(poll_once(pin!(notify.notified())).is_pending(), "after it");
            ask.send(true).unwrap();
            finished.recv().unwrap();
            assert!(poll_once(pin!(notify.notified())).is_ready(), "the permit");
            assert!(poll_once(pin!(notify.notified())).is_pending(), "used once");
        }
        drop(ask);
    });
}
