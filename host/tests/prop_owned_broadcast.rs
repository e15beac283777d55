//! Property test: the owned broadcast channel of `ebbtide_std::sync::broadcast` (`channel(n)`,
//! capacity rounded up to a power of two) driven by random operation sequences against a plain
//! reference model: the positions of the last `capacity` messages, each receiver's next position,
//! the number of senders (the channel closes when the last is dropped), without a runtime.
//!
//! Operations: `send` (through any sender), cloning and dropping senders, `subscribe`,
//! `resubscribe`, `try_recv`, a `recv` future polled (it completes, or waits), cancelling a
//! waiting `recv` (the receiver is kept), dropping receivers (also while their `recv` waits).
//! After every step each call's result, `len` and `receiver_count` agree with the model; a
//! lagging receiver gets `Lagged(n)` and then resumes at the oldest message kept; every waiting
//! `recv` was woken by a send or the close; and each message is held by the channel exactly
//! while it is in the ring and some live receiver subscribed before it was sent has still to read
//! it (the module docs' promise, checked through the messages' `Arc` counts).

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_std::sync::broadcast::error::{RecvError, SendError, TryRecvError};
use ebbtide_std::sync::broadcast::{self, Receiver};
use proptest::prelude::*;

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

fn counter() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

type Msg = Arc<u64>;

#[derive(Clone, Debug)]
enum Op {
    Send(usize),
    CloneSender(usize),
    DropSender(usize),
    Subscribe,
    Resubscribe(usize),
    TryRecv(usize),
    /// Polls receiver `r`'s `recv` future (making it if the receiver is idle).
    PollRecv(usize),
    /// Cancels receiver `r`'s waiting `recv`; the receiver stays.
    CancelRecv(usize),
    DropReceiver(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<usize>().prop_map(Op::Send),
        1 => any::<usize>().prop_map(Op::CloneSender),
        1 => any::<usize>().prop_map(Op::DropSender),
        2 => Just(Op::Subscribe),
        1 => any::<usize>().prop_map(Op::Resubscribe),
        5 => any::<usize>().prop_map(Op::TryRecv),
        4 => any::<usize>().prop_map(Op::PollRecv),
        1 => any::<usize>().prop_map(Op::CancelRecv),
        1 => any::<usize>().prop_map(Op::DropReceiver),
    ]
}

type RecvOutput = (Receiver<Msg>, Option<Result<Msg, RecvError>>);

/// A receiver's `recv` future that owns the receiver: it gives the receiver back when the receive
/// completes, or (with `None`) when `cancel` is set and it is polled (the inner `recv` future is
/// then dropped before completing: a cancelled receive).
fn recv_future(
    mut rx: Receiver<Msg>,
    cancel: Rc<Cell<bool>>,
) -> Pin<Box<dyn Future<Output = RecvOutput>>> {
    Box::pin(async move {
        let got = {
            let mut recv = pin!(rx.recv());
            poll_fn(|cx| {
                if cancel.get() {
                    Poll::Ready(None)
                } else {
                    recv.as_mut().poll(cx).map(Some)
                }
            })
            .await
        };
        (rx, got)
    })
}

enum Real {
    Idle(Receiver<Msg>),
    Waiting {
        future: Pin<Box<dyn Future<Output = RecvOutput>>>,
        cancel: Rc<Cell<bool>>,
    },
}

struct ModelRx {
    next: u64,
    /// While a `recv` waits: its wake count, and whether the model says it must have been woken.
    wait: Option<(Arc<Count>, bool)>,
}

#[derive(Default)]
struct Model {
    /// `(position, value)` of the messages in the ring, oldest first; at most `cap`.
    ring: VecDeque<u64>,
    tail: u64,
    senders: usize,
    closed: bool,
    /// The ring's size: the capacity asked for, rounded up to a power of two.
    cap: usize,
    /// Parallel to the real receivers.
    rxs: Vec<ModelRx>,
}

impl Model {
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.cap as u64)
    }
    fn wake_all(&mut self) {
        for rx in &mut self.rxs {
            if let Some((_, must)) = &mut rx.wait {
                *must = true;
            }
        }
    }
    fn send(&mut self) -> Result<usize, ()> {
        if self.closed || self.rxs.is_empty() {
            return Err(());
        }
        self.ring.push_back(self.tail);
        if self.ring.len() > self.cap {
            self.ring.pop_front();
        }
        self.tail += 1;
        self.wake_all();
        Ok(self.rxs.len())
    }
    fn close(&mut self) {
        self.closed = true;
        self.wake_all();
    }
    fn drop_sender(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.close();
        }
    }
    /// Receiver `r` takes its next message: the position, or the error.
    fn recv(&mut self, r: usize) -> Result<u64, TryRecvError> {
        let oldest = self.oldest();
        let (tail, closed) = (self.tail, self.closed);
        let rx = &mut self.rxs[r];
        if rx.next >= tail {
            return Err(if closed {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        if rx.next < oldest {
            let missed = oldest - rx.next;
            rx.next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        rx.next += 1;
        Ok(rx.next - 1)
    }
    /// Whether the channel should still hold message `position`.
    fn holds(&self, position: u64) -> bool {
        position >= self.oldest()
            && position < self.tail
            && self.rxs.iter().any(|rx| rx.next <= position)
    }
}

fn value_of(position: u64) -> u64 {
    position * 10 + 7
}

fn run(capacity: usize, ops: Vec<Op>) {
    let (tx, rx) = broadcast::channel::<Msg>(capacity);
    let mut senders = vec![tx];
    let mut rxs: Vec<Real> = vec![Real::Idle(rx)];
    let mut model = Model {
        senders: 1,
        cap: capacity.next_power_of_two(),
        rxs: vec![ModelRx {
            next: 0,
            wait: None,
        }],
        ..Model::default()
    };
    // One clone of every message sent, to count the channel's copies.
    let mut sent: Vec<Msg> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send(i) => {
                if senders.is_empty() {
                    continue;
                }
                let value = value_of(model.tail);
                let message = Arc::new(value);
                let got = senders[i % senders.len()].send(message.clone());
                match model.send() {
                    Ok(receivers) => {
                        assert_eq!(got.ok(), Some(receivers), "step {step}: send");
                        sent.push(message);
                    }
                    Err(()) => {
                        let Err(SendError(back)) = got else {
                            panic!("step {step}: send succeeded on a closed channel or with no receiver")
                        };
                        assert!(
                            Arc::ptr_eq(&back, &message),
                            "step {step}: send gave back another message"
                        );
                    }
                }
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
            Op::Subscribe => {
                let Some(tx) = senders.first() else { continue };
                rxs.push(Real::Idle(tx.subscribe()));
                model.rxs.push(ModelRx {
                    next: model.tail,
                    wait: None,
                });
            }
            Op::Resubscribe(r) => {
                if rxs.is_empty() {
                    continue;
                }
                let r = r % rxs.len();
                let Real::Idle(rx) = &rxs[r] else { continue };
                let new = rx.resubscribe();
                rxs.push(Real::Idle(new));
                model.rxs.push(ModelRx {
                    next: model.tail,
                    wait: None,
                });
            }
            Op::TryRecv(r) => {
                if rxs.is_empty() {
                    continue;
                }
                let r = r % rxs.len();
                let Real::Idle(rx) = &mut rxs[r] else {
                    continue;
                };
                let got = rx.try_recv().map(|m| *m);
                let want = model.recv(r).map(value_of);
                assert_eq!(got, want, "step {step}: try_recv on receiver {r}");
            }
            Op::PollRecv(r) => {
                if rxs.is_empty() {
                    continue;
                }
                let r = r % rxs.len();
                let (count, waker) = counter();
                if matches!(rxs[r], Real::Idle(_)) {
                    let cancel = Rc::new(Cell::new(false));
                    let placeholder = Real::Waiting {
                        future: Box::pin(std::future::pending()),
                        cancel: cancel.clone(),
                    };
                    let Real::Idle(rx) = std::mem::replace(&mut rxs[r], placeholder) else {
                        unreachable!()
                    };
                    rxs[r] = Real::Waiting {
                        future: recv_future(rx, cancel.clone()),
                        cancel,
                    };
                }
                let Real::Waiting { future, .. } = &mut rxs[r] else {
                    unreachable!()
                };
                let got = future.as_mut().poll(&mut Context::from_waker(&waker));
                let want = model.recv(r);
                match (got, want) {
                    (Poll::Pending, Err(TryRecvError::Empty)) => {
                        model.rxs[r].wait = Some((count, false));
                    }
                    (Poll::Ready((rx, Some(got))), want) => {
                        let want = match want {
                            Ok(position) => Ok(value_of(position)),
                            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                            Err(TryRecvError::Closed) => Err(RecvError::Closed),
                            Err(TryRecvError::Empty) => {
                                panic!("step {step}: recv on receiver {r} completed, the model has nothing")
                            }
                        };
                        assert_eq!(got.map(|m| *m), want, "step {step}: recv on receiver {r}");
                        rxs[r] = Real::Idle(rx);
                        model.rxs[r].wait = None;
                    }
                    (got, want) => panic!(
                        "step {step}: recv on receiver {r}: got {:?}, want {want:?}",
                        got.map(|(_, got)| got.map(|got| got.map(|m| *m)))
                    ),
                }
            }
            Op::CancelRecv(r) => {
                if rxs.is_empty() {
                    continue;
                }
                let r = r % rxs.len();
                let Real::Waiting { future, cancel } = &mut rxs[r] else {
                    continue;
                };
                cancel.set(true);
                let Poll::Ready((rx, None)) = future
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                else {
                    panic!("step {step}: cancelling receiver {r}'s recv")
                };
                rxs[r] = Real::Idle(rx);
                // Cancel safe: its position is unchanged.
                model.rxs[r].wait = None;
            }
            Op::DropReceiver(r) => {
                if rxs.is_empty() {
                    continue;
                }
                let r = r % rxs.len();
                drop(rxs.remove(r));
                model.rxs.remove(r);
            }
        }
        if let Some(tx) = senders.first() {
            assert_eq!(
                tx.receiver_count(),
                model.rxs.len(),
                "step {step}: receiver_count"
            );
        }
        for (r, (real, modeled)) in rxs.iter().zip(&model.rxs).enumerate() {
            if let Real::Idle(rx) = real {
                let len = model.tail - modeled.next;
                assert_eq!(rx.len() as u64, len, "step {step}: len of {r}");
                assert_eq!(rx.is_empty(), len == 0, "step {step}: is_empty of {r}");
            }
            if let Some((count, true)) = &modeled.wait {
                assert!(
                    count.0.load(SeqCst) > 0,
                    "step {step}: receiver {r}'s recv was not woken"
                );
            }
        }
        for (position, message) in sent.iter().enumerate() {
            let held = Arc::strong_count(message) - 1;
            let want = usize::from(model.holds(position as u64));
            assert_eq!(
                held, want,
                "step {step}: copies of message {position} the channel holds"
            );
        }
    }
    drop(rxs);
    drop(senders);
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
    fn owned_broadcast_agrees_with_a_ring_model(
        capacity in 1..6usize,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        run(capacity, ops);
    }
}
