//! Loom models of the `mpsc` channel across threads: every message arrives exactly once, and
//! both kinds of close are observed.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p ebbtide-core --release --test loom_mpsc`

#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::blocking_mutex::CriticalSectionRawMutex;
use ebbtide_core::sync::mpsc::{Channel, SendError};
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
    // explores a few hundred interleavings in well under a second; 2 takes many minutes.
    builder.preemption_bound = Some(1);
    builder.max_branches = 100_000;
    builder
}

#[test]
fn two_senders_one_receiver_every_message_once_then_none() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    builder().check(|| {
        RUNS.fetch_add(1, SeqCst);
        let channel = leaked_channel();
        let (tx, mut rx) = channel.split();
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let mut received = block_on(async {
            let mut all = Vec::new();
            while let Some(n) = rx.recv().await {
                all.push(n);
            }
            all
        });
        a.join().unwrap();
        b.join().unwrap();
        received.sort();
        assert_eq!(received, [1, 2]);
        assert!(channel.is_closed());
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}

#[test]
fn receiver_dropped_while_senders_wait_gives_values_back() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    builder().check(|| {
        RUNS.fetch_add(1, SeqCst);
        let channel = leaked_channel();
        let (tx, mut rx) = channel.split();
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).map_err(|SendError(v)| v));
        let b = thread::spawn(move || block_on(tx2.send(2)).map_err(|SendError(v)| v));
        let first = block_on(rx.recv());
        drop(rx);
        let outcomes = [a.join().unwrap(), b.join().unwrap()];
        // The received message went in; the other one either went in (and was dropped with the
        // receiver) or came back: never lost without a trace, never duplicated.
        let first = first.expect("both senders were alive, so a message arrives");
        let sent: Vec<u32> = [1, 2]
            .into_iter()
            .zip(outcomes)
            .filter_map(|(value, outcome)| match outcome {
                Ok(()) => Some(value),
                Err(back) => {
                    assert_eq!(back, value, "the value that comes back is the one sent");
                    None
                }
            })
            .collect();
        assert!(sent.contains(&first));
        assert!(channel.is_closed());
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}
