//! The channel and `Notify` work with a foreign executor's waker and across OS threads.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;

use ebbtide_core::sync::mpsc::{Channel, TrySendError};
use ebbtide_core::sync::{Notify, Semaphore};
use ebbtide_core::{Executor, TaskPool};

#[test]
fn foreign_waker_and_another_thread() {
    static CHANNEL: Channel<u32, 2> = Channel::new();
    let count: u32 = if cfg!(miri) { 10 } else { 1000 };
    let (tx, mut rx) = CHANNEL.split();
    // The sender runs on another OS thread under futures-lite's executor, whose waker unparks it.
    let producer = thread::spawn(move || {
        futures_lite::future::block_on(async {
            for n in 0..count {
                tx.send(n).await.unwrap();
            }
        })
    });
    let received = futures_lite::future::block_on(async {
        let mut all = Vec::new();
        while let Some(n) = rx.recv().await {
            all.push(n);
        }
        all
    });
    producer.join().unwrap();
    assert_eq!(received, (0..count).collect::<Vec<_>>());
}

#[test]
fn plain_thread_try_sends_to_an_ebbtide_task() {
    static WOKEN: AtomicBool = AtomicBool::new(false);
    fn hook() {
        WOKEN.store(true, SeqCst);
    }
    static EXECUTOR: Executor = Executor::with_wake_hook(&hook);
    static POOL: TaskPool<1> = TaskPool::new();
    static CHANNEL: Channel<u32, 4> = Channel::new();
    let count: u32 = if cfg!(miri) { 10 } else { 1000 };
    let runner = EXECUTOR.runner().unwrap();
    let (tx, mut rx) = CHANNEL.split();
    let sum = runner
        .spawner()
        .spawn(&POOL, async move {
            let mut sum = 0u64;
            while let Some(n) = rx.recv().await {
                sum += u64::from(n);
            }
            sum
        })
        .unwrap();
    runner.poll(); // the task waits for a message
    let producer = thread::spawn(move || {
        for n in 0..count {
            let mut value = n;
            loop {
                match tx.try_send(value) {
                    Ok(()) => break,
                    Err(TrySendError::Full(v)) => {
                        value = v;
                        thread::yield_now();
                    }
                    Err(TrySendError::Closed(_)) => panic!("the receiver is alive"),
                }
            }
        }
    });
    assert_eq!(
        runner.run_until(sum, thread::yield_now),
        Ok(u64::from(count) * u64::from(count - 1) / 2)
    );
    producer.join().unwrap();
    assert!(
        WOKEN.load(SeqCst),
        "a send from another thread woke the executor through its hook"
    );
}

#[test]
fn notify_and_semaphore_across_threads() {
    static NOTIFY: Notify = Notify::new();
    static SEMAPHORE: Semaphore = Semaphore::new(0);
    let rounds = if cfg!(miri) { 5 } else { 200 };
    let waiter = thread::spawn(move || {
        futures_lite::future::block_on(async {
            for _ in 0..rounds {
                NOTIFY.notified().await;
                SEMAPHORE.add_permits(1);
            }
        })
    });
    futures_lite::future::block_on(async {
        for _ in 0..rounds {
            NOTIFY.notify_one();
            SEMAPHORE.acquire().await.unwrap().forget();
        }
    });
    waiter.join().unwrap();
    assert_eq!(SEMAPHORE.available_permits(), 0);
}

#[test]
fn endpoints_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Channel<String, 4>>();
    assert_send_sync::<ebbtide_core::sync::mpsc::Sender<'static, String, 4>>();
    assert_send_sync::<ebbtide_core::sync::mpsc::Receiver<'static, String, 4>>();
    assert_send_sync::<ebbtide_core::sync::mpsc::SendFuture<'static, String, 4>>();
    assert_send_sync::<ebbtide_core::sync::notify::Notified<'static>>();
    assert_send_sync::<ebbtide_core::sync::semaphore::Acquire<'static>>();
    assert_send_sync::<ebbtide_core::sync::Mutex<String>>();
}
