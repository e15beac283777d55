//! How an `mpsc` channel closes: receiver dropped, last sender dropped, `close()`, split twice.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_core::sync::mpsc::{Channel, SendError, TryRecvError, TrySendError};
use ebbtide_core::{Executor, TaskPool};

fn poll_once<F: Future>(future: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn dropping_the_receiver_gives_senders_their_values_back() {
    let channel: Channel<String, 1> = Channel::new();
    let (tx, rx) = channel.split();
    tx.try_send("queued".into()).unwrap();
    let mut waiting = pin!(tx.send("waiting".into()));
    assert!(
        poll_once(waiting.as_mut()).is_pending(),
        "the channel is full"
    );
    drop(rx);
    assert!(channel.is_closed());
    match poll_once(waiting) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value, "waiting"),
        _ => panic!("a waiting sender must get its value back"),
    }
    assert_eq!(
        tx.try_send("late".into()),
        Err(TrySendError::Closed("late".into()))
    );
    match ebbtide_core::block_on(tx.send("later".into())) {
        Err(SendError(value)) => assert_eq!(value, "later"),
        Ok(()) => panic!("send on a closed channel must fail"),
    }
}

#[test]
fn dropping_the_receiver_drops_queued_messages() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, SeqCst);
        }
    }
    let channel: Channel<Counted, 4> = Channel::new();
    let (tx, rx) = channel.split();
    for _ in 0..3 {
        assert!(tx.try_send(Counted).is_ok());
    }
    drop(rx);
    assert_eq!(DROPS.load(SeqCst), 3);
    assert!(channel.is_empty());
}

/// Messages without a destructor are let go of all at once (one lock, not one per message): the
/// channel is empty all the same, and full of room for nobody (it is closed).
#[test]
fn dropping_the_receiver_empties_a_channel_of_plain_messages() {
    let channel: Channel<u32, 4> = Channel::new();
    let (tx, rx) = channel.split();
    for n in 0..4 {
        tx.try_send(n).unwrap();
    }
    assert!(channel.is_full());
    drop(rx);
    assert!(channel.is_empty());
    assert_eq!(channel.len(), 0);
    assert_eq!(tx.try_send(9), Err(TrySendError::Closed(9)));
}

#[test]
fn last_sender_dropped_lets_the_receiver_drain_then_end() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    static CHANNEL: Channel<u32, 2> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let (tx, mut rx) = CHANNEL.split();
    let producers: Vec<_> = (0..3u32)
        .map(|id| {
            let tx = tx.clone();
            runner
                .spawner()
                .spawn(&POOL, async move {
                    for n in 0..4 {
                        tx.send(id * 10 + n).await.unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    drop(tx); // the clones keep the channel open
    let received = runner.run_until(
        async move {
            let mut all = Vec::new();
            while let Some(message) = rx.recv().await {
                all.push(message);
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            all
        },
        || {},
    );
    let mut sorted = received.clone();
    sorted.sort();
    assert_eq!(sorted, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    for id in 0..3 {
        let mine: Vec<_> = received.iter().filter(|m| *m / 10 == id).collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one sender's messages stay in order"
        );
    }
    for p in producers {
        assert!(p.is_finished());
    }
}

#[test]
fn receiver_waiting_on_an_empty_channel_sees_the_last_sender_go() {
    let channel: Channel<u8, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    drop(tx);
    assert_eq!(poll_once(recv), Poll::Ready(None));
}

#[test]
fn close_keeps_queued_messages_for_the_receiver() {
    static CHANNEL: Channel<u32, 2> = Channel::new();
    let (tx, mut rx) = CHANNEL.split();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let mut waiting = pin!(tx.send(3));
    assert!(poll_once(waiting.as_mut()).is_pending());
    CHANNEL.close();
    assert!(tx.is_closed() && rx.is_closed());
    assert!(matches!(poll_once(waiting), Poll::Ready(Err(SendError(3)))));
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    ebbtide_core::block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn close_wakes_a_waiting_receiver() {
    struct Flag(AtomicUsize);
    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let flag = std::sync::Arc::new(Flag(AtomicUsize::new(0)));
    let waker = Waker::from(flag.clone());
    let channel: Channel<u32, 2> = Channel::new();
    let (_tx, mut rx) = channel.split();
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&waker)),
        Poll::Pending
    );
    channel.close();
    assert_eq!(
        flag.0.load(SeqCst),
        1,
        "the waiting receiver is woken to see the close"
    );
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&waker)),
        Poll::Ready(None)
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn split_twice_is_an_error() {
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, rx) = channel.split();
    assert!(channel.try_split().is_err());
    drop((tx, rx));
    assert!(
        channel.try_split().is_err(),
        "a channel is split once, for good"
    );
    assert!(channel.is_closed());
}

#[test]
#[should_panic(expected = "split was called twice")]
fn split_twice_panics_with_a_clear_message() {
    let channel: Channel<u32, 1> = Channel::new();
    let _ends = channel.split();
    let _again = channel.split();
}

/// A send tests for a free slot before it tests for `close`: the closed bit must make every slot
/// count as taken, with slots free, with messages queued, and with a slot promised to a waiting
/// sender that has not come back for it yet.
#[test]
fn close_refuses_sends_while_slots_are_free_or_promised() {
    // Free slots, nothing queued.
    let channel: Channel<u32, 4> = Channel::new();
    let (tx, mut rx) = channel.split();
    rx.close();
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert!(matches!(
        poll_once(pin!(tx.send(2))),
        Poll::Ready(Err(SendError(2)))
    ));
    assert_eq!(channel.len(), 0);

    // Free slots and a queued message, which the receiver still gets.
    let channel: Channel<u32, 4> = Channel::new();
    let (tx, mut rx) = channel.split();
    tx.try_send(1).unwrap();
    channel.close();
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert!(matches!(
        poll_once(pin!(tx.send(3))),
        Poll::Ready(Err(SendError(3)))
    ));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // A slot promised to a waiting sender (granted by a receive, not yet polled), then closed:
    // neither that sender nor a new one gets in.
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    tx.try_send(1).unwrap();
    let mut granted = pin!(tx.send(2));
    assert!(poll_once(granted.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1), "the receive grants the free slot");
    channel.close();
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert!(matches!(
        poll_once(pin!(tx.send(4))),
        Poll::Ready(Err(SendError(4)))
    ));
    assert!(matches!(poll_once(granted), Poll::Ready(Err(SendError(2)))));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// A waker that counts its wakes.
struct Count(AtomicUsize);

impl std::task::Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// `close` wakes the receiver and every waiting sender, one per lock (more than a batch of them
/// once held), each once; every sender gets its own message back.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker: the counts would be the send's own wake"
)]
fn close_wakes_every_waiting_sender_once_and_gives_each_its_message() {
    const WAITING: usize = 40;
    let channel: Channel<String, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    tx.try_send("queued".into()).unwrap();
    let counts: Vec<_> = (0..WAITING)
        .map(|_| std::sync::Arc::new(Count(AtomicUsize::new(0))))
        .collect();
    let mut sends: Vec<_> = (0..WAITING)
        .map(|i| Box::pin(tx.send(format!("message {i}"))))
        .collect();
    for (send, count) in sends.iter_mut().zip(&counts) {
        let waker = Waker::from(count.clone());
        assert!(send
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    assert_eq!(rx.try_recv().as_deref(), Ok("queued"));
    // The receive granted the free slot to the first sender, which was woken for it.
    assert_eq!(counts[0].0.load(SeqCst), 1);
    channel.close();
    // The first, granted and no longer waiting in the list, is not woken again; the others are
    // woken by the close, once each.
    for (i, count) in counts.iter().enumerate() {
        assert_eq!(count.0.load(SeqCst), 1, "sender {i} woken once");
    }
    for (i, send) in sends.iter_mut().enumerate() {
        match send.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Err(SendError(message))) => assert_eq!(message, format!("message {i}")),
            other => panic!("sender {i}: {other:?}"),
        }
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// A receiver dropped while more senders wait than a batch once held: each is woken and gets
/// its message back, and the queued messages without a destructor are gone with the receiver.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker: the counts would be the send's own wake"
)]
fn dropping_the_receiver_with_many_waiting_senders_wakes_them_all() {
    let channel: Channel<u32, 2> = Channel::new();
    let (tx, rx) = channel.split();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut sends: Vec<_> = (0..33u32).map(|i| Box::pin(tx.send(100 + i))).collect();
    for send in &mut sends {
        assert!(send
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    drop(rx);
    assert_eq!(count.0.load(SeqCst), 33, "every waiting sender woken once");
    assert_eq!(
        channel.len(),
        0,
        "the queued messages went with the receiver"
    );
    for (i, send) in sends.iter_mut().enumerate() {
        assert!(matches!(
            send.as_mut().poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(Err(SendError(m))) if m == 100 + i as u32
        ));
    }
}

/// A waker that panics when woken (a foreign one may) does not leave the other waiting senders
/// hanging: the close goes on while the panic unwinds, and each of them gets its message back.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (it is woken at once, by the send's poll)"
)]
fn a_panicking_waker_does_not_stop_the_close() {
    struct Panics;
    impl std::task::Wake for Panics {
        fn wake(self: std::sync::Arc<Self>) {
            panic!("this waker panics");
        }
    }
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, _rx) = channel.split();
    tx.try_send(0).unwrap();
    let counts: Vec<_> = (0..4)
        .map(|_| std::sync::Arc::new(Count(AtomicUsize::new(0))))
        .collect();
    let panics = Waker::from(std::sync::Arc::new(Panics));
    let mut sends: Vec<_> = (1..=5u32).map(|i| Box::pin(tx.send(i))).collect();
    for (i, send) in sends.iter_mut().enumerate() {
        // The second waiting sender's waker panics.
        let waker = match i {
            1 => panics.clone(),
            i => Waker::from(counts[if i == 0 { 0 } else { i - 1 }].clone()),
        };
        assert!(send
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| channel.close()));
    assert!(closed.is_err(), "the waker's panic comes through");
    for (i, count) in counts.iter().enumerate() {
        assert_eq!(count.0.load(SeqCst), 1, "waker {i} woken once all the same");
    }
    for (i, send) in sends.iter_mut().enumerate() {
        assert!(matches!(
            send.as_mut().poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(Err(SendError(m))) if m == i as u32 + 1
        ));
    }
}

/// A waker that, woken by a close, uses the same channel again (closes it once more, asks for
/// its length, tries a send): the close wakes it outside the channel's lock, so the nested calls
/// neither deadlock nor panic, and the other waiting senders are still woken.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (it is woken at once, by the send's poll)"
)]
fn a_waker_that_uses_the_channel_while_the_close_wakes_it() {
    static CHANNEL: Channel<u32, 1> = Channel::new();
    static REENTERED: AtomicUsize = AtomicUsize::new(0);
    struct Reenters;
    impl std::task::Wake for Reenters {
        fn wake(self: std::sync::Arc<Self>) {
            CHANNEL.close();
            assert!(CHANNEL.is_closed());
            assert_eq!(
                CHANNEL.len(),
                1,
                "the queued message stays for the receiver"
            );
            REENTERED.fetch_add(1, SeqCst);
        }
    }
    let (tx, mut rx) = CHANNEL.split();
    tx.try_send(0).unwrap();
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let reenters = Waker::from(std::sync::Arc::new(Reenters));
    let counting = Waker::from(count.clone());
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    let mut third = Box::pin(tx.send(3));
    assert!(first
        .as_mut()
        .poll(&mut Context::from_waker(&counting))
        .is_pending());
    assert!(second
        .as_mut()
        .poll(&mut Context::from_waker(&reenters))
        .is_pending());
    assert!(third
        .as_mut()
        .poll(&mut Context::from_waker(&counting))
        .is_pending());
    CHANNEL.close();
    assert_eq!(REENTERED.load(SeqCst), 1);
    assert_eq!(count.0.load(SeqCst), 2, "both other senders woken once");
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    for (send, value) in [(first, 1), (second, 2), (third, 3)] {
        let mut send = send;
        assert!(matches!(
            send.as_mut().poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(Err(SendError(m))) if m == value
        ));
    }
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// Senders wait on another thread while this one closes the channel: each gets its message
/// back, and none is left waiting (the close's steps and the senders' polls interleave).
#[test]
fn close_from_another_thread_while_senders_wait() {
    // Fewer rounds under Miri, which checks the threads' accesses but runs them slowly.
    let rounds = if cfg!(miri) { 2 } else { 50 };
    for _ in 0..rounds {
        let channel: Channel<u32, 1> = Channel::new();
        let (tx, _rx) = channel.split();
        tx.try_send(0).unwrap();
        std::thread::scope(|scope| {
            let senders: Vec<_> = (1..=4u32)
                .map(|i| {
                    let tx = tx.clone();
                    scope.spawn(move || ebbtide_core::block_on(tx.send(i)))
                })
                .collect();
            std::thread::yield_now();
            channel.close();
            for (i, sender) in senders.into_iter().enumerate() {
                assert_eq!(sender.join().unwrap(), Err(SendError(i as u32 + 1)));
            }
        });
    }
}
