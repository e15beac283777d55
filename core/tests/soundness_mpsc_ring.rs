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
