//! Tokio-style permits (`try_reserve`, `reserve_owned`, `OwnedPermit`), weak senders and the
//! `blocking_*` methods of the owned channels, between plain std threads (no runtime, so these
//! run under Miri too; `owned_channels_runtime.rs` has the runtime cases).

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use ebbtide_host::sync::mpsc::{self, error::TrySendError};
use ebbtide_host::sync::{broadcast, oneshot};

/// Counts its wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let inner = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (Waker::from(inner.clone()), inner)
}

fn poll_once<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Polls a future that is ready at once.
fn now<F: Future>(future: F) -> F::Output {
    match poll_once(pin!(future), Waker::noop()) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("not ready"),
    }
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_permit_reserved_then_dropped_gives_the_slot_back() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    drop(permit);
    assert_eq!(tx.capacity(), 1);
    // The same with `reserve`.
    drop(now(tx.reserve()).unwrap());
    assert_eq!(tx.capacity(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_dropped_permit_hands_its_slot_to_a_waiting_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    let (waker, wakes) = counting_waker();
    let mut send = pin!(tx.send(7));
    assert!(poll_once(send.as_mut(), &waker).is_pending());
    drop(permit);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(send.as_mut(), &waker), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn owned_permits_give_the_slot_and_the_sender_back() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.clone().try_reserve_owned().unwrap();
    let permit2 = now(tx.clone().reserve_owned()).unwrap();
    assert_eq!(tx.capacity(), 0);
    // Full: the sender comes back.
    let tx = match tx.try_reserve_owned() {
        Err(TrySendError::Full(tx)) => tx,
        _ => panic!("expected Full"),
    };
    // Released: the slot and the sender.
    let tx2 = permit.release();
    assert!(tx2.same_channel(&tx));
    assert_eq!(tx.capacity(), 1);
    // Dropped: the slot.
    drop(permit2);
    assert_eq!(tx.capacity(), 2);
    let tx3 = tx2.try_reserve_owned().unwrap().send(3);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx3.capacity(), 2);
    // Closed: the sender comes back from `try_reserve_owned`; `reserve_owned` fails.
    rx.close();
    assert!(matches!(
        tx3.try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));
    assert!(now(tx.reserve_owned()).is_err());
}

#[test]
fn an_owned_permit_moved_into_another_thread_sends() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = now(tx.reserve_owned()).unwrap();
    let sender = thread::spawn(move || {
        let tx = permit.send(String::from("from a thread"));
        // The permit gave the sender back: it can send again (waiting for room).
        tx.blocking_send(String::from("again")).unwrap();
    });
    assert_eq!(rx.blocking_recv().as_deref(), Some("from a thread"));
    assert_eq!(rx.blocking_recv().as_deref(), Some("again"));
    // The thread's sender was the last one.
    assert_eq!(rx.blocking_recv(), None);
    sender.join().unwrap();
}

#[test]
fn the_last_sender_in_a_dropped_owned_permit_closes_the_channel() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let permit = tx.try_reserve_owned().unwrap();
    let (waker, wakes) = counting_waker();
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut(), &waker).is_pending());
    drop(permit);
    assert!(wakes.0.load(Ordering::SeqCst) >= 1);
    assert_eq!(poll_once(recv.as_mut(), &waker), Poll::Ready(None));
}

#[test]
fn a_permit_sent_after_close_is_received_and_its_value_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    rx.close();
    // Taken before the close, the permit still sends (as in Tokio).
    let tx2 = permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let received = rx.try_recv().expect("the permit's value");
    drop(received);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(rx.try_recv().is_err());
    drop((tx, tx2, rx));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_permit_sent_after_the_receiver_was_dropped_drops_its_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    drop(rx);
    let tx2 = permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop((tx, tx2));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn blocking_send_and_recv_between_threads_in_order() {
    let n = if cfg!(miri) { 20 } else { 5_000 };
    let (tx, mut rx) = mpsc::channel(2);
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..n {
                    tx.blocking_send((p, i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0, 0];
    while let Some((p, i)) = rx.blocking_recv() {
        assert_eq!(i, next[p], "each producer's messages in order");
        next[p] += 1;
    }
    assert_eq!(next, [n, n]);
    for p in producers {
        p.join().unwrap();
    }
}

#[test]
fn blocking_send_fails_once_the_receiver_is_dropped() {
    let (tx, rx) = mpsc::channel(1);
    tx.blocking_send(1).unwrap();
    // The next send waits for room until the receiver drops.
    let sender = thread::spawn(move || tx.blocking_send(2));
    drop(rx);
    assert_eq!(sender.join().unwrap().unwrap_err().0, 2);
}

#[test]
fn blocking_recv_of_the_other_channels() {
    let (utx, mut urx) = mpsc::unbounded_channel();
    let (otx, orx) = oneshot::channel();
    let (btx, mut brx) = broadcast::channel(4);
    let waiter = thread::spawn(move || {
        let a = urx.blocking_recv();
        let b = orx.blocking_recv();
        let c = brx.blocking_recv();
        let d = urx.blocking_recv();
        (a, b, c, d, brx.blocking_recv())
    });
    utx.send(1).unwrap();
    otx.send(2).unwrap();
    btx.send(3).unwrap();
    drop((utx, btx));
    let (a, b, c, d, e) = waiter.join().unwrap();
    assert_eq!((a, b, c, d), (Some(1), Ok(2), Ok(3), None));
    assert_eq!(e, Err(broadcast::error::RecvError::Closed));
    // A oneshot whose sender is dropped.
    let (otx, orx) = oneshot::channel::<u8>();
    drop(otx);
    assert!(orx.blocking_recv().is_err());
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let weak = tx.downgrade();
    let strong = weak.upgrade().unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    strong.try_send(1).unwrap();
    drop(strong);
    assert!(rx.is_closed());
    assert!(weak.clone().upgrade().is_none());
    assert_eq!(rx.blocking_recv(), Some(1));
    assert_eq!(rx.blocking_recv(), None);

    let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
    let weak = utx.downgrade();
    weak.upgrade().unwrap().send(2).unwrap();
    drop(utx);
    assert!(weak.upgrade().is_none());
    assert_eq!(urx.blocking_recv(), Some(2));
    assert_eq!(urx.blocking_recv(), None);
}
