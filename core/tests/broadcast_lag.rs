//! The broadcast channel: every receiver gets every message in order, a slow receiver learns
//! exactly how much it missed, closing, and dropped receivers releasing their messages.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_core::sync::broadcast::{Channel, RecvError, SendError, TryRecvError};
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn every_receiver_gets_every_message_in_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static CHANNEL: Channel<u32, 4> = Channel::new();
    let messages: u32 = if cfg!(miri) { 20 } else { 1000 };
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let tx = CHANNEL.sender();
    let listeners: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = CHANNEL.subscribe();
            spawner
                .spawn(&POOL, async move {
                    let mut seen = Vec::new();
                    loop {
                        match rx.recv().await {
                            Ok(message) => seen.push(message),
                            Err(RecvError::Closed) => return seen,
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    let producer = spawner
        .spawn(&POOL, async move {
            for message in 0..messages {
                assert_eq!(tx.send(message), Ok(3));
                // Listeners are woken by the send and run before the ring of 4 wraps.
                if message % 2 == 1 {
                    yield_now().await;
                }
            }
        })
        .unwrap();
    assert_eq!(runner.run_until(producer, || {}), Ok(()));
    let expected: Vec<u32> = (0..messages).collect();
    for listener in listeners {
        assert_eq!(runner.run_until(listener, || {}), Ok(expected.clone()));
    }
}

#[test]
fn a_slow_receiver_gets_lagged_with_the_exact_count_then_continues() {
    let channel: Channel<u32, 4> = Channel::new();
    let tx = channel.sender();
    let mut slow = channel.subscribe();
    let mut fast = channel.subscribe();
    for message in 0..10 {
        assert_eq!(tx.send(message), Ok(2));
        assert_eq!(fast.try_recv(), Ok(message));
    }
    assert_eq!(slow.behind(), 10);
    // 0..6 were overwritten; 6..10 are still in the ring.
    ebbtide_core::block_on(async {
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
        for message in 6..10 {
            assert_eq!(slow.recv().await, Ok(message));
        }
    });
    assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));

    // Lagging again, through `try_recv`, after partly reading.
    for message in 10..20 {
        tx.send(message).unwrap();
    }
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(6)));
    assert_eq!(slow.try_recv(), Ok(16));
    tx.send(20).unwrap();
    assert_eq!(slow.try_recv(), Ok(17));
}

#[test]
fn a_waiting_receiver_is_woken_by_a_send() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static CHANNEL: Channel<&str, 2> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let tx = CHANNEL.sender();
    let mut rx = CHANNEL.subscribe();
    let listener = runner
        .spawner()
        .spawn(&POOL, async move { rx.recv().await })
        .unwrap();
    runner.poll();
    assert!(!listener.is_finished(), "nothing was sent yet");
    assert_eq!(tx.send("wake"), Ok(1));
    assert_eq!(runner.run_until(listener, || {}), Ok(Ok("wake")));
}

#[test]
fn last_sender_dropped_closes_after_the_ring_is_drained() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static CHANNEL: Channel<u32, 4> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let tx = CHANNEL.sender();
    let tx2 = tx.clone();
    let mut waiting = CHANNEL.subscribe();
    let mut queued = CHANNEL.subscribe();
    let waiter = runner
        .spawner()
        .spawn(&POOL, async move { waiting.recv().await })
        .unwrap();
    runner.poll();
    drop(tx);
    assert!(!CHANNEL.is_closed(), "a sender is left");
    tx2.send(1).unwrap();
    drop(tx2);
    assert!(CHANNEL.is_closed());
    assert_eq!(runner.run_until(waiter, || {}), Ok(Ok(1)));
    // Messages sent before the close are still delivered, then `Closed`.
    assert_eq!(queued.try_recv(), Ok(1));
    let mut recv = pin!(queued.recv());
    assert_eq!(
        poll_once(recv.as_mut()),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn a_closed_channel_refuses_sends_and_wakes_every_waiter() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<40> = TaskPool::new();
    static CHANNEL: Channel<u32, 2> = Channel::new();
    // More waiters than one wake batch holds.
    let waiters = if cfg!(miri) { 20 } else { 40 };
    let runner = EXECUTOR.runner().unwrap();
    let tx = CHANNEL.sender();
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let mut rx = CHANNEL.subscribe();
            runner
                .spawner()
                .spawn(&POOL, async move { rx.recv().await })
                .unwrap()
        })
        .collect();
    runner.poll();
    CHANNEL.close();
    assert_eq!(tx.send(1), Err(SendError(1)));
    for handle in handles {
        assert_eq!(runner.run_until(handle, || {}), Ok(Err(RecvError::Closed)));
    }
    let mut late = CHANNEL.subscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_without_receivers_fails_and_counts_receivers() {
    let channel: Channel<u32, 2> = Channel::new();
    let tx = channel.sender();
    assert_eq!(tx.send(1), Err(SendError(1)));
    let a = channel.subscribe();
    let b = tx.subscribe();
    assert_eq!(tx.send(2), Ok(2));
    drop(a);
    assert_eq!(tx.send(3), Ok(1));
    drop(b);
    assert_eq!(tx.send(4), Err(SendError(4)));
}

#[test]
fn a_dropped_receiver_does_not_hold_messages_back() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    #[derive(Debug)]
    struct Counted(u32);
    impl Counted {
        fn new(n: u32) -> Counted {
            LIVE.fetch_add(1, SeqCst);
            Counted(n)
        }
    }
    impl Clone for Counted {
        fn clone(&self) -> Counted {
            Counted::new(self.0)
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, SeqCst);
        }
    }

    let channel: Channel<Counted, 8> = Channel::new();
    let tx = channel.sender();
    let mut reader = channel.subscribe();
    let idle = channel.subscribe();
    for n in 0..3 {
        tx.send(Counted::new(n)).unwrap();
    }
    assert_eq!(LIVE.load(SeqCst), 3, "the ring holds the messages");
    // The reader is not the last reader yet: it gets clones.
    let first = reader.try_recv().unwrap();
    assert_eq!(first.0, 0);
    assert_eq!(LIVE.load(SeqCst), 4);
    drop(first);
    // Dropping the idle receiver releases its share: message 0 is gone from the ring, and the
    // reader becomes the last reader of 1 and 2 (it takes them out, no clone).
    drop(idle);
    assert_eq!(LIVE.load(SeqCst), 2);
    assert_eq!(reader.try_recv().map(|c| c.0), Ok(1));
    assert_eq!(reader.try_recv().map(|c| c.0), Ok(2));
    assert_eq!(
        LIVE.load(SeqCst),
        0,
        "every message left the ring once read"
    );
    // Dropping an unread receiver releases everything it would have read.
    tx.send(Counted::new(3)).unwrap();
    assert_eq!(LIVE.load(SeqCst), 1);
    drop(reader);
    assert_eq!(LIVE.load(SeqCst), 0);
}

#[test]
fn cancelled_recv_keeps_the_position() {
    let channel: Channel<u32, 4> = Channel::new();
    let tx = channel.sender();
    let mut rx = channel.subscribe();
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(poll_once(recv.as_mut()), Poll::Pending);
    } // dropped while waiting
    tx.send(1).unwrap();
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Ok(1)));
    }
    tx.send(2).unwrap();
    assert_eq!(
        rx.try_recv(),
        Ok(2),
        "the completed recv advanced the position"
    );
}

#[test]
fn a_dropped_lagging_receiver_releases_only_what_is_still_in_the_ring() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Clone for Counted {
        fn clone(&self) -> Counted {
            LIVE.fetch_add(1, SeqCst);
            Counted
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, SeqCst);
        }
    }

    let channel: Channel<Counted, 2> = Channel::new();
    let tx = channel.sender();
    let mut reader = channel.subscribe();
    let lagger = channel.subscribe();
    for _ in 0..10 {
        LIVE.fetch_add(1, SeqCst);
        assert_eq!(tx.send(Counted).ok(), Some(2));
        // The reader gets a clone (dropped at once): the lagger still needs the message.
        assert!(reader.try_recv().is_ok());
    }
    assert_eq!(LIVE.load(SeqCst), 2, "overwritten messages were dropped");
    assert_eq!(lagger.behind(), 10);
    drop(lagger);
    assert_eq!(
        LIVE.load(SeqCst),
        0,
        "the lagger was the last reader of the ring"
    );
}
