//! Property test: the owned watch channel of `ebbtide_std::sync::watch` (`channel(init)`, one
//! `Sender`, cloneable `Receiver`s, as in Tokio) driven by random operation sequences against a
//! plain reference model: the value, its version, whether the sender lives, and the version each
//! receiver has seen, without a runtime.
//!
//! Operations: `send` (which fails, storing nothing, when no receiver is left), `send_replace`,
//! `send_modify`, `send_if_modified` (changing or not), `subscribe`, cloning and dropping
//! receivers, `has_changed`, `borrow` (and its `Ref::has_changed`), `borrow_and_update`,
//! `mark_unchanged`, a `changed` future polled (it completes, or waits), cancelling a waiting
//! `changed`, a `Sender::closed` future polled, and dropping the sender. After every step each
//! call's result, `receiver_count` and `Sender::is_closed` agree with the model, and no wake-up
//! is lost: a waiting `changed` was woken by a new version or the sender's drop, and a waiting
//! `closed` by the last receiver's drop.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_std::sync::watch::{self, Receiver, RecvError, SendError, Sender};
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

#[derive(Clone, Debug)]
enum Op {
    Send(u8),
    SendReplace(u8),
    SendModify(u8),
    SendIfModified(u8, bool),
    Subscribe,
    CloneReceiver(usize),
    DropReceiver(usize),
    HasChanged(usize),
    Borrow(usize),
    BorrowAndUpdate(usize),
    MarkUnchanged(usize),
    PollChanged(usize),
    CancelChanged(usize),
    PollClosed,
    DropSender,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Send),
        1 => any::<u8>().prop_map(Op::SendReplace),
        1 => any::<u8>().prop_map(Op::SendModify),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(v, c)| Op::SendIfModified(v, c)),
        2 => Just(Op::Subscribe),
        1 => any::<usize>().prop_map(Op::CloneReceiver),
        2 => any::<usize>().prop_map(Op::DropReceiver),
        2 => any::<usize>().prop_map(Op::HasChanged),
        1 => any::<usize>().prop_map(Op::Borrow),
        2 => any::<usize>().prop_map(Op::BorrowAndUpdate),
        1 => any::<usize>().prop_map(Op::MarkUnchanged),
        5 => any::<usize>().prop_map(Op::PollChanged),
        1 => any::<usize>().prop_map(Op::CancelChanged),
        1 => Just(Op::PollClosed),
        1 => Just(Op::DropSender),
    ]
}

type ChangedOutput = (Receiver<u32>, Option<Result<(), RecvError>>);
type ChangedFuture = Pin<Box<dyn Future<Output = ChangedOutput>>>;

/// A `changed` future that owns its receiver and gives it back when it completes, or (with
/// `None`) when `cancel` is set and it is polled (the inner future is then dropped unfinished).
fn changed_future(mut rx: Receiver<u32>, cancel: Rc<Cell<bool>>) -> ChangedFuture {
    Box::pin(async move {
        let got = {
            let mut changed = pin!(rx.changed());
            poll_fn(|cx| {
                if cancel.get() {
                    Poll::Ready(None)
                } else {
                    changed.as_mut().poll(cx).map(Some)
                }
            })
            .await
        };
        (rx, got)
    })
}

enum Real {
    Idle(Receiver<u32>),
    Waiting {
        future: ChangedFuture,
        cancel: Rc<Cell<bool>>,
    },
}

struct ModelRx {
    seen: u64,
    /// While a `changed` waits: its wake count, and whether it must have been woken.
    wait: Option<(Arc<Count>, bool)>,
}

struct Model {
    value: u32,
    version: u64,
    sender_alive: bool,
    rxs: Vec<ModelRx>,
    /// A waiting `Sender::closed`: its wake count, and whether it must have been woken.
    closed_wait: Option<(Arc<Count>, bool)>,
}

impl Model {
    fn wake_all(&mut self) {
        for rx in &mut self.rxs {
            if let Some((_, must)) = &mut rx.wait {
                *must = true;
            }
        }
    }
    fn store(&mut self, value: u32) {
        self.value = value;
        self.version += 1;
        self.wake_all();
    }
    fn new_rx(&self, seen: u64) -> ModelRx {
        ModelRx { seen, wait: None }
    }
}

/// A `Sender::closed` future; it holds the sender (in an `Rc`) it borrows.
type ClosedFuture = Pin<Box<dyn Future<Output = ()>>>;

fn run(ops: Vec<Op>) {
    let (tx, rx) = watch::channel(0u32);
    let tx = Rc::new(tx);
    let mut sender: Option<Rc<Sender<u32>>> = Some(tx);
    let mut rxs: Vec<Real> = vec![Real::Idle(rx)];
    let mut closed: Option<ClosedFuture> = None;
    let mut model = Model {
        value: 0,
        version: 0,
        sender_alive: true,
        rxs: Vec::new(),
        closed_wait: None,
    };
    model.rxs.push(model.new_rx(0));
    for (step, op) in ops.into_iter().enumerate() {
        let pick = |i: usize, len: usize| (len > 0).then(|| i % len);
        match op {
            Op::Send(v) => {
                let Some(tx) = &sender else { continue };
                let got = tx.send(u32::from(v));
                if model.rxs.is_empty() {
                    assert_eq!(got, Err(SendError(u32::from(v))), "step {step}: send");
                } else {
                    assert_eq!(got, Ok(()), "step {step}: send");
                    model.store(u32::from(v));
                }
            }
            Op::SendReplace(v) => {
                let Some(tx) = &sender else { continue };
                let old = tx.send_replace(u32::from(v));
                assert_eq!(old, model.value, "step {step}: send_replace's old value");
                model.store(u32::from(v));
            }
            Op::SendModify(v) => {
                let Some(tx) = &sender else { continue };
                tx.send_modify(|value| *value += u32::from(v));
                model.store(model.value + u32::from(v));
            }
            Op::SendIfModified(v, change) => {
                let Some(tx) = &sender else { continue };
                let changed = tx.send_if_modified(|value| {
                    if change {
                        *value = u32::from(v);
                    }
                    change
                });
                assert_eq!(changed, change, "step {step}: send_if_modified");
                if change {
                    model.store(u32::from(v));
                }
            }
            Op::Subscribe => {
                let Some(tx) = &sender else { continue };
                rxs.push(Real::Idle(tx.subscribe()));
                model.rxs.push(model.new_rx(model.version));
            }
            Op::CloneReceiver(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                let clone = rx.clone();
                rxs.push(Real::Idle(clone));
                model.rxs.push(model.new_rx(model.rxs[r].seen));
            }
            Op::DropReceiver(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                drop(rxs.remove(r));
                model.rxs.remove(r);
                if model.rxs.is_empty() {
                    if let Some((_, must)) = &mut model.closed_wait {
                        *must = true;
                    }
                }
            }
            Op::HasChanged(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                let want = if model.sender_alive {
                    Ok(model.rxs[r].seen != model.version)
                } else {
                    Err(())
                };
                assert_eq!(
                    rx.has_changed().map_err(drop),
                    want,
                    "step {step}: has_changed of {r}"
                );
            }
            Op::Borrow(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                let value = rx.borrow();
                assert_eq!(*value, model.value, "step {step}: borrow of {r}");
                let newer = model.rxs[r].seen != model.version;
                assert_eq!(
                    value.has_changed(),
                    newer,
                    "step {step}: Ref::has_changed of {r}"
                );
            }
            Op::BorrowAndUpdate(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &mut rxs[r] else {
                    continue;
                };
                let value = rx.borrow_and_update();
                assert_eq!(*value, model.value, "step {step}: borrow_and_update of {r}");
                let newer = model.rxs[r].seen != model.version;
                assert_eq!(
                    value.has_changed(),
                    newer,
                    "step {step}: Ref::has_changed of {r}"
                );
                model.rxs[r].seen = model.version;
            }
            Op::MarkUnchanged(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &mut rxs[r] else {
                    continue;
                };
                rx.mark_unchanged();
                model.rxs[r].seen = model.version;
            }
            Op::PollChanged(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
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
                        future: changed_future(rx, cancel.clone()),
                        cancel,
                    };
                }
                let Real::Waiting { future, .. } = &mut rxs[r] else {
                    unreachable!()
                };
                let (count, waker) = counter();
                let got = future.as_mut().poll(&mut Context::from_waker(&waker));
                let modeled = &mut model.rxs[r];
                let want = if modeled.seen != model.version {
                    modeled.seen = model.version;
                    Some(Ok(()))
                } else if !model.sender_alive {
                    Some(Err(()))
                } else {
                    None
                };
                match (got, want) {
                    (Poll::Pending, None) => modeled.wait = Some((count, false)),
                    (Poll::Ready((rx, Some(got))), Some(want)) => {
                        assert_eq!(got.is_ok(), want.is_ok(), "step {step}: changed of {r}");
                        rxs[r] = Real::Idle(rx);
                        modeled.wait = None;
                    }
                    (got, want) => panic!(
                        "step {step}: changed of {r}: got {:?}, want {want:?}",
                        got.map(|(_, got)| got)
                    ),
                }
            }
            Op::CancelChanged(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Waiting { future, cancel } = &mut rxs[r] else {
                    continue;
                };
                cancel.set(true);
                let Poll::Ready((rx, None)) = future
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                else {
                    panic!("step {step}: cancelling receiver {r}'s changed")
                };
                rxs[r] = Real::Idle(rx);
                model.rxs[r].wait = None;
            }
            Op::PollClosed => {
                let Some(tx) = &sender else { continue };
                let future = closed.get_or_insert_with(|| {
                    let tx = tx.clone();
                    Box::pin(async move { tx.closed().await })
                });
                let (count, waker) = counter();
                let got = future.as_mut().poll(&mut Context::from_waker(&waker));
                if model.rxs.is_empty() {
                    assert_eq!(got, Poll::Ready(()), "step {step}: Sender::closed");
                    closed = None;
                    model.closed_wait = None;
                } else {
                    assert_eq!(got, Poll::Pending, "step {step}: Sender::closed");
                    model.closed_wait = Some((count, false));
                }
            }
            Op::DropSender => {
                if sender.is_none() {
                    continue;
                }
                // The waiting `closed` future holds the sender too: it goes first.
                closed = None;
                model.closed_wait = None;
                sender = None;
                model.sender_alive = false;
                model.wake_all();
            }
        }
        if let Some(tx) = &sender {
            assert_eq!(*tx.borrow(), model.value, "step {step}: Sender::borrow");
            assert_eq!(
                tx.receiver_count(),
                model.rxs.len(),
                "step {step}: receiver_count"
            );
            assert_eq!(
                tx.is_closed(),
                model.rxs.is_empty(),
                "step {step}: Sender::is_closed"
            );
        }
        for (r, modeled) in model.rxs.iter().enumerate() {
            if let Some((count, true)) = &modeled.wait {
                assert!(
                    count.0.load(SeqCst) > 0,
                    "step {step}: receiver {r}'s changed was not woken"
                );
            }
        }
        if let Some((count, true)) = &model.closed_wait {
            assert!(
                count.0.load(SeqCst) > 0,
                "step {step}: Sender::closed was not woken"
            );
        }
    }
    drop(closed);
    drop(rxs);
    drop(sender);
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
    fn owned_watch_agrees_with_a_version_model(ops in prop::collection::vec(op(), 1..80)) {
        run(ops);
    }
}
