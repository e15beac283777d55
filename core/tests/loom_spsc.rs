//! Loom models of the `spsc` channel across threads: every message arrives exactly once and in
//! order, a send that waits for a slot is woken by the receive that frees one, and both kinds of
//! close are observed by the other side.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p ebbtide-core --release --test loom_spsc`

#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::blocking_mutex::CriticalSectionRawMutex;
use ebbtide_core::sync::spsc::{Channel, SendError};
use loom::thread;

/// A waker that unparks a loom thread: a foreign executor as far as ebbtide is concerned.
struct Unparker(thread::Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on the current loom thread, parking between polls.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

type Chan = Channel<u32, 1, CriticalSectionRawMutex>;

/// A channel that outlives the model's threads (`loom::thread::spawn` wants `'static`).
fn leaked_channel() -> &'static Chan {
    Box::leak(Box::new(Channel::with_mutex()))
}

fn builder() -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    // Every lock is a spin lock under loom, and each spin is a branch: a preemption bound of 1
    // explores a few hundred interleavings in well under a second.
    builder.preemption_bound = Some(1);
    builder.max_branches = 100_000;
    builder
}

#[test]
fn two_messages_through_one_slot_arrive_in_order_then_none() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    builder().check(|| {
        RUNS.fetch_add(1, SeqCst);
        let channel = leaked_channel();
        let (mut tx, mut rx) = channel.split();
        // The second send waits for the slot the first receive frees.
        let sender = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
            })
        });
        let received = block_on(async {
            let mut all = Vec::new();
            while let Some(n) = rx.recv().await {
                all.push(n);
            }
            all
        });
        sender.join().unwrap();
        assert_eq!(received, [1, 2]);
        assert!(channel.is_closed());
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}

#[test]
fn receiver_dropped_while_the_sender_waits_gives_the_value_back() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    builder().check(|| {
        RUNS.fetch_add(1, SeqCst);
        let channel = leaked_channel();
        let (mut tx, mut rx) = channel.split();
        let sender = thread::spawn(move || {
            block_on(async {
                let first = tx.send(1).await.map_err(|SendError(v)| v);
                let second = tx.send(2).await.map_err(|SendError(v)| v);
                (first, second)
            })
        });
        let got = block_on(rx.recv());
        drop(rx);
        let (first, second) = sender.join().unwrap();
        // The receiver was alive until it got a message, so the first send went in and is what
        // it got; the second went in (and was dropped with the receiver) or came back.
        assert_eq!(first, Ok(()));
        assert_eq!(got, Some(1));
        assert!(matches!(second, Ok(()) | Err(2)), "{second:?}");
        assert!(channel.is_closed());
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}
