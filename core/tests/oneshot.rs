//! The oneshot channel: send/recv, a dropped end on either side, `try_recv`, `closed()`, and a
//! `static` channel reused for many round trips between two tasks.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_core::sync::{mpsc, oneshot};
use ebbtide_core::{Executor, TaskPool};
use oneshot::{Channel, TryRecvError};

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn value_sent_from_another_task_is_received() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static CHANNEL: Channel<String> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let (tx, rx) = CHANNEL.split();
    let receiver = runner.spawner().spawn(&POOL, rx).unwrap();
    runner.poll(); // the receiver now waits
    assert!(!receiver.is_finished());
    tx.send("pong".into()).unwrap();
    assert_eq!(
        runner.run_until(receiver, || {}),
        Ok(Ok("pong".to_string()))
    );
}

#[test]
fn sender_dropped_without_sending_gives_recv_error() {
    let channel: Channel<u32> = Channel::new();
    let (tx, rx) = channel.split();
    let mut rx = pin!(rx);
    assert_eq!(poll_once(rx.as_mut()), Poll::Pending);
    drop(tx);
    assert!(matches!(poll_once(rx), Poll::Ready(Err(_))));
}

#[test]
fn receiver_dropped_hands_the_value_back_and_wakes_closed() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static CHANNEL: Channel<String> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let (mut tx, rx) = CHANNEL.split();
    assert!(!tx.is_closed());
    let producer = runner
        .spawner()
        .spawn(&POOL, async move {
            tx.closed().await;
            assert!(tx.is_closed());
            tx.send("unwanted".to_string())
        })
        .unwrap();
    runner.poll(); // waits in `closed()`
    assert!(!producer.is_finished());
    drop(rx);
    assert_eq!(
        runner.run_until(producer, || {}),
        Ok(Err("unwanted".to_string()))
    );
}

#[test]
fn receiver_dropped_drops_an_unreceived_value() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, SeqCst);
        }
    }
    let channel: Channel<Counted> = Channel::new();
    let (tx, rx) = channel.split();
    assert!(tx.send(Counted).is_ok());
    assert_eq!(DROPS.load(SeqCst), 0);
    drop(rx);
    assert_eq!(DROPS.load(SeqCst), 1);
    assert!(!channel.is_split(), "both ends are gone");
}

#[test]
fn try_recv_reports_empty_then_value_then_closed() {
    let channel: Channel<u32> = Channel::new();
    let (tx, mut rx) = channel.split();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(7).unwrap();
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = {
        drop(rx);
        channel.split()
    };
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_refuses_later_sends_but_keeps_an_earlier_value() {
    let channel: Channel<u32> = Channel::new();
    let (tx, mut rx) = channel.split();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert!(ebbtide_core::block_on(rx).is_err());

    let (tx, mut rx) = channel.split();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn split_waits_for_both_ends_of_the_previous_pair() {
    let channel: Channel<u32> = Channel::new();
    let (tx, rx) = channel.split();
    assert!(channel.try_split().is_err());
    drop(tx);
    assert!(channel.try_split().is_err(), "the receiver is alive");
    drop(rx);
    let (tx, rx) = channel.try_split().expect("both ends are gone");
    // The fresh pair starts empty and open.
    assert!(!tx.is_closed());
    tx.send(3).unwrap();
    assert_eq!(ebbtide_core::block_on(rx), Ok(3));
}

#[test]
fn static_channels_are_reused_for_many_round_trips_between_two_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8> = TaskPool::new();
    static PING: Channel<u32> = Channel::new();
    static PONG: Channel<u32> = Channel::new();
    type Ends = (
        oneshot::Receiver<'static, u32>,
        oneshot::Sender<'static, u32>,
    );
    static HANDOFF: mpsc::Channel<Ends, 1> = mpsc::Channel::new();
    let rounds: u32 = if cfg!(miri) { 20 } else { 1000 };

    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (handoff_tx, mut handoff_rx) = HANDOFF.split();
    let ponger = spawner
        .spawn(&POOL, async move {
            let mut served = 0u32;
            while let Some((ping_rx, pong_tx)) = handoff_rx.recv().await {
                let ping = ping_rx.await.expect("the pinger sends before dropping");
                pong_tx
                    .send(ping + 1)
                    .expect("the pinger waits for the pong");
                served += 1;
            }
            served
        })
        .unwrap();
    let pinger = spawner
        .spawn(&POOL, async move {
            for round in 0..rounds {
                // Both pairs of the previous round are gone by now: split again.
                let (ping_tx, ping_rx) = PING.split();
                let (pong_tx, pong_rx) = PONG.split();
                assert!(handoff_tx.send((ping_rx, pong_tx)).await.is_ok());
                ping_tx.send(round * 2).unwrap();
                assert_eq!(pong_rx.await, Ok(round * 2 + 1));
            }
        })
        .unwrap();
    assert_eq!(runner.run_until(pinger, || {}), Ok(()));
    assert_eq!(runner.run_until(ponger, || {}), Ok(rounds));
    assert!(!PING.is_split() && !PONG.is_split());
}

/// `split_mut`: a fresh exchange from an exclusive borrow, with no check at run time, as often as
/// wanted; a value left by a forgotten receiver (forgetting is safe) is dropped when the next
/// pair is made, never handed to the new receiver.
#[test]
fn split_mut_makes_fresh_exchanges() {
    struct Counted<'a>(&'a AtomicUsize, u32);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = AtomicUsize::new(0);
    let mut channel: Channel<Counted<'_>> = Channel::new();
    for round in 0..3 {
        let (tx, rx) = channel.split_mut();
        assert!(tx.send(Counted(&drops, round)).is_ok());
        let value = ebbtide_core::block_on(rx).unwrap();
        assert_eq!(value.1, round);
    }
    assert_eq!(drops.load(SeqCst), 3);
    let (tx, rx) = channel.split_mut();
    assert!(tx.send(Counted(&drops, 7)).is_ok());
    core::mem::forget(rx);
    assert_eq!(drops.load(SeqCst), 3, "the value waits in the channel");
    let (tx, mut rx) = channel.split_mut();
    assert_eq!(
        drops.load(SeqCst),
        4,
        "the forgotten exchange's value is dropped"
    );
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    drop(tx);
    assert!(ebbtide_core::block_on(rx).is_err());
}
