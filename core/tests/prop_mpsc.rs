//! Property test: core's bounded `mpsc::Channel` driven by random operation sequences against a
//! plain reference model (a `VecDeque`, a count of senders, and the FIFO of waiting senders with
//! the slots set aside for them, as the module docs describe).
//!
//! Operations: `try_send`, a `send` polled once (it completes, or waits in line), polling or
//! dropping a waiting send, `try_recv`, `poll_recv`, cloning and dropping senders, `close`, and
//! dropping the receiver. After every step the observable results (each call's return value,
//! `len`, `is_full`, `is_closed`) must agree with the model, and every party that waits and that
//! the API promises to wake (a receiver pending on an empty channel when a message comes or the
//! channel closes; a sender waiting on a full channel when a slot is set aside for it or the
//! channel closes) must have been woken.

// proptest is not a dev-dependency of loom builds (`--cfg loom`), and these are no loom models.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::sync::mpsc::{Channel, SendError, TryRecvError, TrySendError};
use proptest::prelude::*;

/// Counts its wakes.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A fresh counting waker.
fn counter() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

const N: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    TrySend(usize),
    /// `send` on a clone of sender `i`, polled once; kept while it waits.
    Send(usize),
    /// Polls waiting send `k` again.
    PollSend(usize),
    /// Drops waiting send `k` (and the sender clone it owns).
    CancelSend(usize),
    TryRecv,
    PollRecv,
    CloneSender(usize),
    DropSender(usize),
    Close,
    DropReceiver,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<usize>().prop_map(Op::TrySend),
        3 => any::<usize>().prop_map(Op::Send),
        3 => any::<usize>().prop_map(Op::PollSend),
        1 => any::<usize>().prop_map(Op::CancelSend),
        4 => Just(Op::TryRecv),
        3 => Just(Op::PollRecv),
        1 => any::<usize>().prop_map(Op::CloneSender),
        1 => any::<usize>().prop_map(Op::DropSender),
        1 => Just(Op::Close),
        1 => Just(Op::DropReceiver),
    ]
}

/// Where a waiting send stands, in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    Queued,
    Granted,
    Closed,
}

/// A party waiting on a counting waker: whether the model says it must have been woken.
struct Wait {
    count: Arc<Count>,
    must_wake: bool,
}

impl Wait {
    fn check(&self, who: &str) {
        if self.must_wake {
            assert!(self.count.0.load(SeqCst) > 0, "{who} was not woken");
        }
    }
}

struct ModelSend {
    id: u64,
    value: u32,
    turn: Turn,
    wait: Wait,
}

#[derive(Default)]
struct Model {
    queue: VecDeque<u32>,
    /// Live senders: the named ones plus one per waiting send.
    senders: usize,
    closed_by_rx: bool,
    reserved: usize,
    /// Waiting sends, in the order they started waiting (the channel's FIFO).
    sends: Vec<ModelSend>,
    rx_wait: Option<Wait>,
}

impl Model {
    fn is_closed(&self) -> bool {
        self.closed_by_rx || self.senders == 0
    }
    fn queued(&self) -> usize {
        self.sends.iter().filter(|s| s.turn == Turn::Queued).count()
    }
    fn has_free_slot(&self) -> bool {
        self.queued() == 0 && self.queue.len() + self.reserved < N
    }
    fn wake_rx(&mut self) {
        if let Some(wait) = &mut self.rx_wait {
            wait.must_wake = true;
        }
    }
    fn push(&mut self, value: u32) {
        assert!(self.queue.len() < N);
        self.queue.push_back(value);
        self.wake_rx();
        // The receiver's waker is taken: a later event need not wake it again.
    }
    /// The oldest waiting sender gets the freed slot.
    fn grant(&mut self) {
        if self.closed_by_rx || self.queue.len() + self.reserved >= N {
            return;
        }
        if let Some(send) = self.sends.iter_mut().find(|s| s.turn == Turn::Queued) {
            send.turn = Turn::Granted;
            send.wait.must_wake = true;
            self.reserved += 1;
        }
    }
    fn pop(&mut self) -> Option<u32> {
        let value = self.queue.pop_front()?;
        self.grant();
        Some(value)
    }
    fn drop_sender(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.wake_rx();
        }
    }
    fn close(&mut self) {
        self.closed_by_rx = true;
        self.wake_rx();
        for send in &mut self.sends {
            if send.turn == Turn::Queued {
                send.turn = Turn::Closed;
                send.wait.must_wake = true;
            }
        }
    }
    fn check_wakes(&self) {
        if let Some(wait) = &self.rx_wait {
            wait.check("the receiver pending in poll_recv");
        }
        for send in &self.sends {
            send.wait
                .check(&format!("waiting send {} ({:?})", send.id, send.turn));
        }
    }
}

type SendFut<'a> = Pin<Box<dyn Future<Output = Result<(), SendError<u32>>> + 'a>>;

fn run(ops: Vec<Op>) {
    let channel: Channel<u32, N> = Channel::new();
    let (tx, rx) = channel.split();
    let mut senders = vec![tx];
    let mut rx = Some(rx);
    // The real waiting sends, in the same order as `model.sends`.
    let mut sends: Vec<SendFut<'_>> = Vec::new();
    let mut model = Model {
        senders: 1,
        ..Model::default()
    };
    let mut next_value = 0u32;
    let mut next_id = 0u64;
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::TrySend(i) => {
                if senders.is_empty() {
                    continue;
                }
                let value = next_value;
                next_value += 1;
                let got = senders[i % senders.len()].try_send(value);
                let want = if model.closed_by_rx {
                    Err(TrySendError::Closed(value))
                } else if !model.has_free_slot() {
                    Err(TrySendError::Full(value))
                } else {
                    model.push(value);
                    Ok(())
                };
                assert_eq!(got, want, "step {step}: try_send");
            }
            Op::Send(i) => {
                if senders.is_empty() {
                    continue;
                }
                let value = next_value;
                next_value += 1;
                let tx = senders[i % senders.len()].clone();
                model.senders += 1;
                let mut fut: SendFut<'_> = Box::pin(async move { tx.send(value).await });
                let (count, waker) = counter();
                let got = fut.as_mut().poll(&mut Context::from_waker(&waker));
                if model.closed_by_rx {
                    assert_eq!(got, Poll::Ready(Err(SendError(value))), "step {step}: send");
                    drop(fut);
                    model.drop_sender();
                } else if model.has_free_slot() {
                    assert_eq!(got, Poll::Ready(Ok(())), "step {step}: send");
                    model.push(value);
                    drop(fut);
                    model.drop_sender();
                } else {
                    assert_eq!(got, Poll::Pending, "step {step}: send on a full channel");
                    sends.push(fut);
                    model.sends.push(ModelSend {
                        id: next_id,
                        value,
                        turn: Turn::Queued,
                        wait: Wait {
                            count,
                            must_wake: false,
                        },
                    });
                    next_id += 1;
                }
            }
            Op::PollSend(k) => {
                if sends.is_empty() {
                    continue;
                }
                let k = k % sends.len();
                let (count, waker) = counter();
                let got = sends[k].as_mut().poll(&mut Context::from_waker(&waker));
                let send = &mut model.sends[k];
                let want = match send.turn {
                    Turn::Queued => {
                        send.wait = Wait {
                            count,
                            must_wake: false,
                        };
                        Poll::Pending
                    }
                    Turn::Granted => {
                        let value = send.value;
                        model.reserved -= 1;
                        if model.closed_by_rx {
                            Poll::Ready(Err(SendError(value)))
                        } else {
                            model.push(value);
                            Poll::Ready(Ok(()))
                        }
                    }
                    Turn::Closed => Poll::Ready(Err(SendError(send.value))),
                };
                assert_eq!(got, want, "step {step}: polling waiting send {k}");
                if want.is_ready() {
                    drop(sends.remove(k));
                    model.sends.remove(k);
                    model.drop_sender();
                }
            }
            Op::CancelSend(k) => {
                if sends.is_empty() {
                    continue;
                }
                let k = k % sends.len();
                drop(sends.remove(k));
                let send = model.sends.remove(k);
                if send.turn == Turn::Granted {
                    // Its slot goes to the next waiting sender.
                    model.reserved -= 1;
                    model.grant();
                }
                model.drop_sender();
            }
            Op::TryRecv => {
                let Some(rx) = &mut rx else { continue };
                let got = rx.try_recv();
                let want = match model.pop() {
                    Some(value) => Ok(value),
                    None if model.is_closed() => Err(TryRecvError::Disconnected),
                    None => Err(TryRecvError::Empty),
                };
                assert_eq!(got, want, "step {step}: try_recv");
            }
            Op::PollRecv => {
                let Some(rx) = &mut rx else { continue };
                let (count, waker) = counter();
                let got = rx.poll_recv(&mut Context::from_waker(&waker));
                let want = match model.pop() {
                    Some(value) => Poll::Ready(Some(value)),
                    None if model.is_closed() => Poll::Ready(None),
                    None => Poll::Pending,
                };
                assert_eq!(got, want, "step {step}: poll_recv");
                // Only the latest call's waker counts.
                model.rx_wait = want.is_pending().then_some(Wait {
                    count,
                    must_wake: false,
                });
            }
            Op::CloneSender(i) => {
                if senders.is_empty() {
                    continue;
                }
                let tx = senders[i % senders.len()].clone();
                senders.push(tx);
                model.senders += 1;
            }
            Op::DropSender(i) => {
                if senders.is_empty() {
                    continue;
                }
                drop(senders.remove(i % senders.len()));
                model.drop_sender();
            }
            Op::Close => {
                let Some(rx) = &mut rx else { continue };
                rx.close();
                model.close();
            }
            Op::DropReceiver => {
                let Some(rx) = rx.take() else { continue };
                drop(rx);
                model.close();
                model.queue.clear();
                model.rx_wait = None;
            }
        }
        // What anyone can observe, after every step.
        assert_eq!(channel.len(), model.queue.len(), "step {step}: len");
        assert_eq!(channel.is_empty(), model.queue.is_empty(), "step {step}");
        assert_eq!(
            channel.is_full(),
            model.queue.len() + model.reserved >= N,
            "step {step}: is_full"
        );
        assert_eq!(
            channel.is_closed(),
            model.is_closed(),
            "step {step}: is_closed"
        );
        model.check_wakes();
    }
    // Tear down: waiting sends first (they borrow nothing but the channel), then the ends.
    drop(sends);
    drop(senders);
    drop(rx);
}

proptest! {
    // Failures are not persisted: a case found is written out as a test of its own.
    #![proptest_config(ProptestConfig {
        // A few under Miri (`cargo miri test -p ebbtide-core` runs every core test).
        cases: if cfg!(miri) { 2 } else { 512 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn bounded_channel_agrees_with_a_vecdeque_model(ops in prop::collection::vec(op(), 1..80)) {
        run(ops);
    }
}
