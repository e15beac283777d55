//! The broadcast channel drops a message as soon as every receiver that has to read it did (as
//! Tokio does): receivers count per slot, a dropped receiver counts as having read its unread
//! messages, a later subscriber does not hold earlier ones. Values count their live copies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use ebbtide_host::sync::broadcast::{self, error::TryRecvError};

/// Live copies and clones of each message id.
struct Registry {
    live: Vec<AtomicUsize>,
    clones: AtomicUsize,
}

impl Registry {
    fn new(ids: usize) -> Arc<Registry> {
        Arc::new(Registry {
            live: (0..ids).map(|_| AtomicUsize::new(0)).collect(),
            clones: AtomicUsize::new(0),
        })
    }

    fn make(self: &Arc<Self>, id: usize) -> Tracked {
        self.live[id].fetch_add(1, Ordering::SeqCst);
        Tracked {
            id,
            registry: self.clone(),
        }
    }

    fn live(&self, id: usize) -> usize {
        self.live[id].load(Ordering::SeqCst)
    }

    fn live_total(&self) -> usize {
        self.live.iter().map(|n| n.load(Ordering::SeqCst)).sum()
    }
}

struct Tracked {
    id: usize,
    registry: Arc<Registry>,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.registry.clones.fetch_add(1, Ordering::SeqCst);
        self.registry.make(self.id)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.registry.live[self.id].fetch_sub(1, Ordering::SeqCst);
    }
}

fn recv_id(rx: &mut broadcast::Receiver<Tracked>) -> Result<usize, TryRecvError> {
    rx.try_recv().map(|t| t.id)
}

#[test]
fn a_message_is_dropped_once_every_receiver_received_it() {
    let reg = Registry::new(4);
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for id in 0..4 {
        assert_eq!(tx.send(reg.make(id)).ok(), Some(2));
    }
    for id in 0..4 {
        assert_eq!(recv_id(&mut rx1), Ok(id));
        assert_eq!(reg.live(id), 1, "message {id} is kept for rx2");
    }
    for id in 0..4 {
        assert_eq!(recv_id(&mut rx2), Ok(id));
        assert_eq!(reg.live(id), 0, "message {id} was received by both");
    }
    // rx1 got clones, rx2 (the last reader) took the messages: one clone each.
    assert_eq!(reg.clones.load(Ordering::SeqCst), 4);
    assert_eq!(recv_id(&mut rx1), Err(TryRecvError::Empty));
}

#[test]
fn a_single_receiver_takes_messages_without_cloning() {
    let reg = Registry::new(1);
    let (tx, mut rx) = broadcast::channel(2);
    for _ in 0..10 {
        tx.send(reg.make(0)).unwrap();
        assert_eq!(recv_id(&mut rx), Ok(0));
        assert_eq!(reg.live(0), 0);
    }
    assert_eq!(reg.clones.load(Ordering::SeqCst), 0);
}

#[test]
fn a_dropped_receiver_releases_its_unread_messages() {
    let reg = Registry::new(6);
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for id in 0..6 {
        tx.send(reg.make(id)).unwrap();
    }
    // rx2 reads two of six, then drops.
    assert_eq!(recv_id(&mut rx2), Ok(0));
    assert_eq!(recv_id(&mut rx2), Ok(1));
    // rx1 reads three: 0 and 1 are gone (both read them), 2 read by rx1 only.
    for id in 0..3 {
        assert_eq!(recv_id(&mut rx1), Ok(id));
    }
    assert_eq!((reg.live(0), reg.live(1), reg.live(2)), (0, 0, 1));
    drop(rx2);
    // 2 was read by rx1 and (now) counts as read by rx2.
    assert_eq!(reg.live(2), 0);
    assert_eq!((reg.live(3), reg.live(4), reg.live(5)), (1, 1, 1));
    for id in 3..6 {
        assert_eq!(recv_id(&mut rx1), Ok(id));
        assert_eq!(reg.live(id), 0);
    }
    // The last receiver dropping with unread messages frees them too.
    tx.send(reg.make(0)).unwrap();
    assert_eq!(reg.live(0), 1);
    drop(rx1);
    assert_eq!(reg.live_total(), 0);
    assert!(tx.send(reg.make(1)).is_err());
    assert_eq!(reg.live_total(), 0);
}

#[test]
fn a_later_subscriber_does_not_hold_earlier_messages() {
    let reg = Registry::new(4);
    let (tx, mut rx1) = broadcast::channel(4);
    tx.send(reg.make(0)).unwrap();
    tx.send(reg.make(1)).unwrap();
    let mut late = tx.subscribe();
    let mut resub = rx1.resubscribe();
    tx.send(reg.make(2)).unwrap();
    for id in 0..3 {
        assert_eq!(recv_id(&mut rx1), Ok(id));
    }
    // 0 and 1 were for rx1 only; 2 waits for the later receivers.
    assert_eq!((reg.live(0), reg.live(1), reg.live(2)), (0, 0, 1));
    assert_eq!(recv_id(&mut late), Ok(2));
    assert_eq!(reg.live(2), 1);
    assert_eq!(recv_id(&mut resub), Ok(2));
    assert_eq!(reg.live_total(), 0);
}

#[test]
fn lagged_receivers_keep_their_semantics_and_overwritten_messages_drop() {
    let reg = Registry::new(6);
    let (tx, mut slow) = broadcast::channel(2);
    let mut fast = tx.subscribe();
    for id in 0..6 {
        tx.send(reg.make(id)).unwrap();
        assert_eq!(recv_id(&mut fast), Ok(id));
    }
    // The ring keeps 4 and 5 for `slow`; 0 to 3 were overwritten and dropped.
    assert_eq!(reg.live_total(), 2);
    assert_eq!(slow.len(), 6);
    assert_eq!(recv_id(&mut slow), Err(TryRecvError::Lagged(4)));
    assert_eq!(recv_id(&mut slow), Ok(4));
    assert_eq!(reg.live(4), 0);
    // `slow` still has 5 to read; the next two sends overwrite it (dropping it).
    let slow2 = tx.subscribe();
    tx.send(reg.make(0)).unwrap();
    tx.send(reg.make(1)).unwrap();
    assert_eq!(reg.live(5), 0);
    assert_eq!(recv_id(&mut fast), Ok(0));
    assert_eq!(recv_id(&mut fast), Ok(1));
    assert_eq!(recv_id(&mut slow), Err(TryRecvError::Lagged(1)));
    assert_eq!(recv_id(&mut slow), Ok(0));
    assert_eq!(recv_id(&mut slow), Ok(1));
    assert_eq!(reg.live_total(), 2, "0 and 1 are kept for slow2");
    // A receiver that drops releases what it had left.
    drop(slow2);
    assert_eq!(reg.live_total(), 0);
    drop(tx);
    assert_eq!(recv_id(&mut slow), Err(TryRecvError::Closed));
}

#[test]
fn receivers_on_threads_release_every_message() {
    let n = if cfg!(miri) { 20 } else { 2_000 };
    let reg = Registry::new(n);
    let (tx, rx) = broadcast::channel(16);
    let receivers: Vec<_> = (0..3).map(|_| tx.subscribe()).collect();
    drop(rx);
    let threads: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, mut rx)| {
            thread::spawn(move || {
                let mut got = 0;
                loop {
                    match rx.try_recv() {
                        Ok(_) => got += 1,
                        Err(TryRecvError::Lagged(missed)) => got += missed as usize,
                        Err(TryRecvError::Empty) => thread::yield_now(),
                        Err(TryRecvError::Closed) => break,
                    }
                    // One receiver drops halfway.
                    if t == 2 && got >= 10 {
                        break;
                    }
                }
                got
            })
        })
        .collect();
    for id in 0..n {
        tx.send(reg.make(id)).unwrap();
    }
    drop(tx);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(reg.live_total(), 0);
}
