//! A full `mpsc` channel parks its senders in FIFO order, wakes them as slots free, and loses
//! nothing when a send is cancelled.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};
use std::sync::Mutex as StdMutex;

use ebbtide_core::sync::mpsc::{Channel, TrySendError};
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn waiting_senders_are_served_in_fifo_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    static CHANNEL: Channel<u32, 1> = Channel::new();
    static DONE: StdMutex<Vec<u32>> = StdMutex::new(Vec::new());
    // The order the senders started to wait: the spawn order, or its reverse with the executor's
    // `lifo-batches` feature (the channel's order is what this tests, not the executor's).
    static WAITING: StdMutex<Vec<u32>> = StdMutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let (tx, mut rx) = CHANNEL.split();
    tx.try_send(0).unwrap(); // full from now on
    let senders: Vec<_> = [3u32, 1, 2]
        .into_iter()
        .map(|id| {
            let tx = tx.clone();
            runner
                .spawner()
                .spawn(&POOL, async move {
                    // The send waits at its first poll, right after this.
                    WAITING.lock().unwrap().push(id);
                    tx.send(id).await.unwrap();
                    DONE.lock().unwrap().push(id);
                })
                .unwrap()
        })
        .collect();
    runner.poll();
    assert!(DONE.lock().unwrap().is_empty(), "all three wait");
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    let mut received = Vec::new();
    for round in 0..4 {
        received.push(rx.try_recv().unwrap());
        if round < 3 {
            // The slot is set aside for the oldest waiter: `try_send` cannot take it.
            assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        }
        while runner.poll() {}
    }
    let waiting = WAITING.lock().unwrap().clone();
    let mut in_order = vec![3, 1, 2];
    if cfg!(feature = "lifo-batches") {
        in_order.reverse();
    }
    assert_eq!(waiting, in_order);
    assert_eq!(received, [0, waiting[0], waiting[1], waiting[2]]);
    assert_eq!(*DONE.lock().unwrap(), waiting);
    drop(tx);
    assert_eq!(ebbtide_core::block_on(rx.recv()), None);
    for s in senders {
        assert!(s.is_finished());
    }
}

#[test]
fn cancelled_waiting_send_sends_nothing() {
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    tx.try_send(1).unwrap();
    let mut cancelled = Box::pin(tx.send(2));
    let mut kept = pin!(tx.send(3));
    assert!(poll_once(cancelled.as_mut()).is_pending());
    assert!(poll_once(kept.as_mut()).is_pending());
    drop(cancelled);
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll_once(kept).is_ready());
    assert_eq!(rx.try_recv(), Ok(3));
    assert!(rx.try_recv().is_err(), "message 2 was never sent");
}

#[test]
fn cancelled_send_after_a_slot_was_set_aside_passes_the_slot_on() {
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    tx.try_send(1).unwrap();
    let mut first = Box::pin(tx.send(2));
    let mut second = pin!(tx.send(3));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1)); // the slot is set aside for `first`
    drop(first); // ... which is cancelled before it runs: 2 is not sent
    assert!(
        poll_once(second).is_ready(),
        "the slot went to the next waiting sender"
    );
    assert_eq!(rx.try_recv(), Ok(3));
    assert!(rx.try_recv().is_err());
    // And with nobody waiting, a cancelled grant frees the slot.
    let mut only = Box::pin(tx.send(4));
    tx.try_send(5).unwrap_or_else(|_| panic!("empty channel"));
    assert!(poll_once(only.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(5));
    drop(only);
    assert!(!channel.is_full());
    tx.try_send(6).unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
}

#[test]
fn a_stream_of_messages_through_a_small_channel_arrives_whole_and_in_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static CHANNEL: Channel<u32, 2> = Channel::new();
    let count = if cfg!(miri) { 10 } else { 1000 };
    let runner = EXECUTOR.runner().unwrap();
    let (tx, mut rx) = CHANNEL.split();
    runner
        .spawner()
        .spawn(&POOL, async move {
            for n in 0..count {
                tx.send(n).await.unwrap();
            }
        })
        .unwrap();
    let received = runner.run_until(
        async move {
            let mut all = Vec::new();
            while let Some(n) = rx.recv().await {
                assert!(CHANNEL.len() <= 2);
                all.push(n);
            }
            all
        },
        || {},
    );
    assert_eq!(received, (0..count).collect::<Vec<_>>());
}
