//! The owned channels of `ebbtide_host::sync` (`ebbtide_std::sync::{mpsc, oneshot, watch,
//! broadcast}`) without a runtime: a parking `block_on`, hand polling and std threads, so these
//! tests also run under Miri. `owned_channels_runtime.rs` runs them on ebbtide-std's runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use ebbtide_host::sync::{broadcast, mpsc, oneshot, watch};

/// Wakes a thread parked in [`block_on`], and counts its wakes.
struct ThreadWaker {
    thread: thread::Thread,
    wakes: AtomicUsize,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker {
        thread: thread::current(),
        wakes: AtomicUsize::new(0),
    }));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// A waker that counts its wakes (for hand polling).
fn counting_waker() -> (Waker, Arc<ThreadWaker>) {
    let inner = Arc::new(ThreadWaker {
        thread: thread::current(),
        wakes: AtomicUsize::new(0),
    });
    (Waker::from(inner.clone()), inner)
}

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

use std::pin::Pin;

#[test]
fn mpsc_recv_none_after_all_senders_dropped_and_drained() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn mpsc_receiver_dropped_send_hands_value_back_and_closed_resolves() {
    let (tx, rx) = mpsc::channel::<String>(1);
    let (waker, wakes) = counting_waker();
    let mut closed = Box::pin(tx.closed());
    assert!(poll_once(&mut closed, &waker).is_pending());
    drop(rx);
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 1);
    assert!(poll_once(&mut closed, &waker).is_ready());
    drop(closed);
    assert!(tx.is_closed());
    let err = block_on(tx.send("back".to_string())).unwrap_err();
    assert_eq!(err.0, "back");
    assert!(matches!(
        tx.try_send("again".into()),
        Err(mpsc::error::TrySendError::Closed(s)) if s == "again"
    ));
}

#[test]
fn mpsc_receiver_close_fails_waiting_senders_and_keeps_queued_messages() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let (waker, wakes) = counting_waker();
    let mut waiting = tx.send(2);
    assert!(poll_once(&mut waiting, &waker).is_pending());
    rx.close();
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(
        poll_once(&mut waiting, &waker),
        Poll::Ready(Err(mpsc::error::SendError(2)))
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
    block_on(async { assert_eq!(rx.recv().await, None) });
}

#[test]
fn mpsc_try_send_full_and_closed() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(tx.try_send(3), Err(mpsc::error::TrySendError::Full(3)));
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.try_send(3), Ok(()));
    drop(rx);
    assert_eq!(tx.try_send(4), Err(mpsc::error::TrySendError::Closed(4)));
}

#[test]
fn mpsc_send_waits_for_capacity_until_a_recv() {
    let (tx, mut rx) = mpsc::channel(1);
    let (waker, wakes) = counting_waker();
    tx.try_send(1).unwrap();
    let mut second = tx.send(2);
    assert!(poll_once(&mut second, &waker).is_pending());
    assert!(poll_once(&mut second, &waker).is_pending());
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    // The freed slot went to the waiting sender: a newcomer cannot take it.
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(tx.try_send(9), Err(mpsc::error::TrySendError::Full(9)));
    assert_eq!(poll_once(&mut second, &waker), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn mpsc_waiting_senders_are_served_in_order() {
    let (tx, mut rx) = mpsc::channel(1);
    let (waker, _) = counting_waker();
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..=3).map(|i| tx.send(i)).collect();
    for send in &mut sends {
        assert!(poll_once(send, &waker).is_pending());
    }
    for (i, send) in sends.iter_mut().enumerate() {
        assert_eq!(rx.try_recv(), Ok(i));
        assert_eq!(poll_once(send, &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn cancelled_send_loses_neither_the_slot_nor_the_wake() {
    let (tx, mut rx) = mpsc::channel(1);
    let (waker_a, wakes_a) = counting_waker();
    let (waker_b, wakes_b) = counting_waker();
    tx.try_send(0).unwrap();
    let mut a = tx.send(1);
    let mut b = tx.send(2);
    assert!(poll_once(&mut a, &waker_a).is_pending());
    assert!(poll_once(&mut b, &waker_b).is_pending());
    // The slot freed here is granted to `a`, which is then dropped before it runs.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(wakes_a.wakes.load(Ordering::SeqCst), 1);
    drop(a);
    // The slot passed on to `b`, and `b` was woken.
    assert_eq!(wakes_b.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(&mut b, &waker_b), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    // A waiter dropped before it was granted anything leaves the capacity as it was.
    tx.try_send(3).unwrap();
    let mut c = tx.send(4);
    assert!(poll_once(&mut c, &waker_a).is_pending());
    drop(c);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.capacity(), 1);
    assert_eq!(tx.try_send(5), Ok(()));
}

#[test]
fn mpsc_reserve_sets_a_slot_aside() {
    let (tx, mut rx) = mpsc::channel(1);
    block_on(async {
        let permit = tx.reserve().await.unwrap();
        assert_eq!(tx.try_send(1), Err(mpsc::error::TrySendError::Full(1)));
        drop(permit);
        let permit = tx.reserve().await.unwrap();
        permit.send(2);
        assert_eq!(rx.recv().await, Some(2));
        drop(rx);
        assert!(tx.reserve().await.is_err());
    });
}

#[test]
fn mpsc_recv_waits_for_a_permit_in_flight_after_close() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = block_on(tx.reserve()).unwrap();
    rx.close();
    // A slot is still set aside: the channel is not done yet.
    assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Empty));
    let (waker, wakes) = counting_waker();
    assert!(Pin::new(&mut Box::pin(rx.recv()))
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    // A permit taken before the close still sends (as in Tokio): the receiver is woken and
    // receives the value, then sees the end.
    permit.send(5);
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
}

#[test]
fn mpsc_many_producers_on_threads() {
    const THREADS: usize = 4;
    const EACH: usize = if cfg!(miri) { 20 } else { 2_000 };
    let (tx, mut rx) = mpsc::channel(8);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..EACH {
                    block_on(tx.send((t, i))).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0; THREADS];
    block_on(async {
        while let Some((t, i)) = rx.recv().await {
            assert_eq!(next[t], i, "per-producer order");
            next[t] += 1;
        }
    });
    assert_eq!(next, [EACH; THREADS]);
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn unbounded_send_is_sync_and_fails_only_when_closed() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 100);
    let tx2 = tx.clone();
    drop(tx);
    block_on(async {
        for i in 0..100 {
            assert_eq!(rx.recv().await, Some(i));
        }
    });
    rx.close();
    assert_eq!(tx2.send(1).unwrap_err().0, 1);
    block_on(tx2.closed());
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn unbounded_recv_none_after_senders_dropped() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let t = thread::spawn(move || {
        tx.send(7).unwrap();
    });
    block_on(async {
        assert_eq!(rx.recv().await, Some(7));
        assert_eq!(rx.recv().await, None);
    });
    t.join().unwrap();
}

#[test]
fn oneshot_send_recv_and_sender_drop() {
    let (tx, rx) = oneshot::channel();
    let t = thread::spawn(move || tx.send(5).unwrap());
    assert_eq!(block_on(rx), Ok(5));
    t.join().unwrap();

    let (tx, rx) = oneshot::channel::<u8>();
    let t = thread::spawn(move || drop(tx));
    assert!(block_on(rx).is_err());
    t.join().unwrap();
}

#[test]
fn oneshot_receiver_close_and_drop() {
    let (mut tx, rx) = oneshot::channel();
    let (waker, wakes) = counting_waker();
    let mut closed = Box::pin(tx.closed());
    assert!(poll_once(&mut closed, &waker).is_pending());
    drop(rx);
    assert_eq!(wakes.wakes.load(Ordering::SeqCst), 1);
    assert!(poll_once(&mut closed, &waker).is_ready());
    drop(closed);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("x")), Err(String::from("x")));

    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty));
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
}

#[test]
fn watch_changed_borrow_and_update_and_sender_drop() {
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = tx.subscribe();
    assert!(!rx.has_changed().unwrap());
    tx.send(1).unwrap();
    assert!(rx.has_changed().unwrap());
    block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow(), 1);
    assert!(!rx.has_changed().unwrap());
    {
        let value = rx2.borrow_and_update();
        assert!(value.has_changed());
        assert_eq!(*value, 1);
    }
    assert!(!rx2.has_changed().unwrap());
    tx.send_modify(|v| *v += 1);
    assert_eq!(tx.send_replace(10), 2);
    let mut rx3 = rx.clone();
    rx3.mark_unchanged();
    let t = thread::spawn(move || {
        tx.send(11).unwrap();
        drop(tx);
    });
    block_on(async {
        rx3.changed().await.unwrap();
        assert_eq!(*rx3.borrow_and_update(), 11);
        assert!(rx3.changed().await.is_err());
    });
    t.join().unwrap();
    assert!(rx.has_changed().is_err());
    // The value sent last is reported before the error.
    assert!(block_on(rx.changed()).is_ok());
    assert!(block_on(rx.changed()).is_err());
}

#[test]
fn watch_send_fails_without_receivers_and_closed_resolves() {
    let (tx, rx) = watch::channel(String::new());
    let t = thread::spawn(move || drop(rx));
    block_on(tx.closed());
    t.join().unwrap();
    assert!(tx.is_closed());
    assert_eq!(tx.send("x".into()).unwrap_err().0, "x");
    tx.send_replace("y".into());
    assert_eq!(*tx.borrow(), "y");
}

#[test]
fn broadcast_lagged_exact_count_then_closed() {
    let (tx, mut rx) = broadcast::channel(4);
    let mut slow = tx.subscribe();
    for i in 0..10 {
        assert_eq!(tx.send(i).unwrap(), 2);
    }
    // Capacity 4 keeps 6..=9: the slow receiver missed 0..=5.
    assert_eq!(
        slow.try_recv(),
        Err(broadcast::error::TryRecvError::Lagged(6))
    );
    block_on(async {
        assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Lagged(6)));
        for i in 6..10 {
            assert_eq!(rx.recv().await, Ok(i));
            assert_eq!(slow.recv().await, Ok(i));
        }
    });
    assert_eq!(rx.try_recv(), Err(broadcast::error::TryRecvError::Empty));
    let tx2 = tx.clone();
    drop(tx);
    tx2.send(10).unwrap();
    drop(tx2);
    block_on(async {
        assert_eq!(rx.recv().await, Ok(10));
        assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
    });
    assert_eq!(slow.try_recv(), Ok(10));
    assert_eq!(slow.try_recv(), Err(broadcast::error::TryRecvError::Closed));
}

#[test]
fn broadcast_rounds_capacity_like_tokio_and_send_fails_without_receivers() {
    let (tx, mut rx) = broadcast::channel(3); // 4
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(
        rx.try_recv(),
        Err(broadcast::error::TryRecvError::Lagged(1))
    );
    assert_eq!(rx.try_recv(), Ok(1));
    drop(rx);
    assert_eq!(tx.send(9).unwrap_err().0, 9);
}

#[test]
fn broadcast_receivers_on_threads_see_everything() {
    const N: usize = if cfg!(miri) { 10 } else { 1_000 };
    let (tx, _keep) = broadcast::channel(N.next_power_of_two());
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = tx.subscribe();
            thread::spawn(move || {
                block_on(async {
                    let mut sum = 0;
                    while let Ok(i) = rx.recv().await {
                        sum += i;
                    }
                    sum
                })
            })
        })
        .collect();
    for i in 0..N {
        tx.send(i).unwrap();
    }
    drop(tx);
    for h in handles {
        assert_eq!(h.join().unwrap(), N * (N - 1) / 2);
    }
}

#[test]
fn ends_are_send_and_static() {
    fn is_send_static<T: Send + 'static>(_: &T) {}
    fn is_clone<T: Clone>(_: &T) {}
    let (tx, rx) = mpsc::channel::<u8>(1);
    is_send_static(&tx);
    is_send_static(&rx);
    is_clone(&tx);
    let (tx, rx) = mpsc::unbounded_channel::<u8>();
    is_send_static(&tx);
    is_send_static(&rx);
    is_clone(&tx);
    let (tx, rx) = oneshot::channel::<u8>();
    is_send_static(&tx);
    is_send_static(&rx);
    let (tx, rx) = watch::channel(0u8);
    is_send_static(&tx);
    is_send_static(&rx);
    is_clone(&rx);
    let (tx, rx) = broadcast::channel::<u8>(1);
    is_send_static(&tx);
    is_send_static(&rx);
    is_clone(&tx);
}
