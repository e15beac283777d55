//! The `spsc` channel's unsafe parts under Miri with many seeds (`cargo xtask ci` runs the
//! `soundness_*` files so): the ring beside the control's mutex (`BlockingMutexWith`), reached
//! from two threads at once, and the foreign-waker paths, which clone a waker before the lock and
//! drop the one they replace after it. `tests/spsc.rs` has the behaviour; this file has the
//! interleavings.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::sync::spsc::{Channel, SendError};

/// Wakes a parked thread: a foreign waker as far as the channel is concerned.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking between polls (a lost wake-up would hang the test).
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// A message that counts its drops, and looks at its channel while it is dropped (outside the
/// channel's lock, or this would alias the ring).
struct Message {
    value: u32,
}

/// The channel of [`Message`]s (a `static`: a message's `Drop` reaches it).
static MESSAGES: Channel<Message, 2> = Channel::new();
/// How many [`Message`]s were dropped.
static DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Message {
    fn drop(&mut self) {
        let _ = (MESSAGES.len(), MESSAGES.is_closed());
        DROPS.fetch_add(1, SeqCst);
    }
}

#[test]
fn two_threads_hand_messages_over_in_order_through_two_slots() {
    let count: u32 = if cfg!(miri) { 24 } else { 2_000 };
    let channel: Channel<u32, 2> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            block_on(async move {
                for n in 0..count {
                    tx.send(n).await.unwrap();
                }
            })
        });
        let received = scope
            .spawn(move || {
                block_on(async move {
                    let mut expected = 0;
                    while let Some(n) = rx.recv().await {
                        assert_eq!(n, expected);
                        expected += 1;
                    }
                    expected
                })
            })
            .join()
            .unwrap();
        assert_eq!(received, count);
    });
    assert!(channel.is_closed() && channel.is_empty());
}

#[test]
fn a_receiver_dropped_on_one_thread_while_the_other_sends_loses_and_doubles_nothing() {
    let (mut tx, mut rx) = MESSAGES.split();
    let sent = 6;
    let (received, refused) = std::thread::scope(|scope| {
        let sender = scope.spawn(move || {
            block_on(async move {
                let mut refused = 0;
                for value in 0..sent {
                    if let Err(SendError(back)) = tx.send(Message { value }).await {
                        assert_eq!(back.value, value, "the refused message comes back");
                        refused += 1;
                    }
                }
                refused
            })
        });
        let receiver = scope.spawn(move || {
            block_on(async move {
                // Two messages, then the receiver goes with whatever is still queued.
                let first = rx.recv().await.map(|m| m.value);
                let second = rx.recv().await.map(|m| m.value);
                drop(rx);
                [first, second]
            })
        });
        (receiver.join().unwrap(), sender.join().unwrap())
    });
    assert_eq!(received, [Some(0), Some(1)]);
    // Every message was dropped exactly once: the received ones by the receiver, the queued ones
    // with it, the refused ones by the sender; the channel is left empty.
    assert!(MESSAGES.is_empty() && MESSAGES.is_closed());
    assert_eq!(DROPS.load(SeqCst), sent as usize);
    assert!(refused <= sent as usize - 2, "{refused} refused");
}
