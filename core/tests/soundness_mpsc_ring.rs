//! The channel's ring (`sync/mpsc/ring.rs`) against hostile messages: a message whose `Drop`
//! panics and reaches back into the channel while the `Receiver` drops the queue. Every message
//! must be dropped exactly once, the lock must not be held while a message's `Drop` runs, and the
//! channel must keep working. Runs under Miri (every `soundness_*` test does).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_core::sync::mpsc::Channel;

static CHANNEL: Channel<Loud, 4> = Channel::new();
static DROPS: AtomicUsize = AtomicUsize::new(0);
/// What the channel said its length was, seen from inside a message's `Drop`.
static SEEN_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);

struct Loud {
    panics: bool,
}

impl Drop for Loud {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
        // Re-enters the channel: this takes its lock, so it would panic (re-entered lock) or
        // deadlock if the receiver dropped messages while holding it.
        SEEN_LEN.store(CHANNEL.len(), Ordering::SeqCst);
        if self.panics {
            panic!("a message's Drop panicked");
        }
    }
}

#[test]
fn a_panicking_reentrant_message_drop_drops_every_message_once() {
    let (tx, mut rx) = CHANNEL.split();
    // Walk the ring's head round, so that the queued messages below wrap past the last slot.
    for _ in 0..3 {
        tx.try_send(Loud { panics: false }).ok().unwrap();
        drop(rx.try_recv().ok().unwrap());
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 3);
    for panics in [false, true, false] {
        tx.try_send(Loud { panics }).ok().unwrap();
    }
    // The receiver closes the channel and drops the queue one message at a time, unlocked: the
    // second message's Drop re-enters the channel (seeing one message left) and panics.
    assert!(catch_unwind(AssertUnwindSafe(|| drop(rx))).is_err());
    assert_eq!(DROPS.load(Ordering::SeqCst), 5);
    assert_eq!(SEEN_LEN.load(Ordering::SeqCst), 1);
    // The message after the panicking one stays queued, not dropped (nor dropped twice; a
    // channel that is not `static` drops it with its ring). The channel still answers, and a
    // send on it fails as closed.
    assert_eq!(CHANNEL.len(), 1);
    assert!(tx.try_send(Loud { panics: false }).is_err());
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        6,
        "the refused message was dropped"
    );
    drop(tx);
    assert_eq!(
        CHANNEL.len(),
        1,
        "a static channel keeps the message it still holds"
    );
}

/// Counts its drops in the counter it points at.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A channel whose receiver was leaked (`mem::forget`, so its drop never emptied the queue) still
/// drops the queued messages when the channel itself goes, once each, wrapped around the ring:
/// the ring's cursor lives in the channel's control block, and the channel's state drops what it
/// counts. Messages without a destructor are forgotten by a receiver's drop under its lock.
#[test]
fn a_channel_dropped_with_messages_drops_each_once() {
    let drops = AtomicUsize::new(0);
    {
        let channel: Channel<Counted<'_>, 3> = Channel::new();
        let (tx, mut rx) = channel.split();
        // Walk the ring's head forward, so that the queue wraps round its end.
        for _ in 0..2 {
            tx.try_send(Counted(&drops)).ok().unwrap();
            drop(rx.try_recv().unwrap());
        }
        for _ in 0..3 {
            tx.try_send(Counted(&drops)).ok().unwrap();
        }
        assert_eq!(channel.len(), 3);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        std::mem::forget(rx);
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "still queued");
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        5,
        "each dropped once, with the channel"
    );

    // Without a destructor: the receiver's drop forgets them, and the channel is empty.
    let plain: Channel<u32, 4> = Channel::new();
    let (tx, rx) = plain.split();
    for n in 0..3 {
        tx.try_send(n).unwrap();
    }
    drop(rx);
    assert!(plain.is_empty() && plain.is_closed());
    assert!(tx.try_send(9).is_err(), "closed");
}
