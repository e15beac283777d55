//! Property test: core's `watch::Watch` driven by random operation sequences against a plain
//! reference model: the latest value, its version, the number of senders, the closed flag, and
//! the version each receiver has seen (the semantics of the module docs, which are tokio's, except
//! that a send needs no receiver).
//!
//! Operations: `send`, `send_replace`, `send_modify`, `send_if_modified` (changing or not),
//! making, cloning and dropping senders (also after the watch closed), making and cloning
//! receivers, `has_changed`, `get`, `get_and_update`, `mark_unchanged`, a `changed` future polled
//! (it completes, or waits), cancelling a waiting `changed` (the receiver is kept), and dropping
//! receivers. After every step each call's result, `Watch::get` and `is_closed` agree with the
//! model, and every waiting `changed` was woken by a new version or the close.

// proptest is not a dev-dependency of loom builds (`--cfg loom`), and these are no loom models.
#![cfg(not(loom))]

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::sync::watch::{Receiver, RecvError, Watch};
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
    Send(usize, u8),
    SendReplace(usize, u8),
    /// `send_modify` adding the number.
    SendModify(usize, u8),
    /// `send_if_modified`, which changes the value (to the number) only if the flag is set.
    SendIfModified(usize, u8, bool),
    NewSender,
    CloneSender(usize),
    DropSender(usize),
    NewReceiver,
    /// A receiver from a sender's `subscribe`.
    Subscribe(usize),
    CloneReceiver(usize),
    HasChanged(usize),
    Get(usize),
    GetAndUpdate(usize),
    MarkUnchanged(usize),
    /// Polls receiver `r`'s `changed` future (making it if the receiver is idle).
    PollChanged(usize),
    CancelChanged(usize),
    DropReceiver(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Op::Send(i, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Op::SendReplace(i, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Op::SendModify(i, v)),
        2 => (any::<usize>(), any::<u8>(), any::<bool>())
            .prop_map(|(i, v, c)| Op::SendIfModified(i, v, c)),
        1 => Just(Op::NewSender),
        1 => any::<usize>().prop_map(Op::CloneSender),
        2 => any::<usize>().prop_map(Op::DropSender),
        1 => Just(Op::NewReceiver),
        1 => any::<usize>().prop_map(Op::Subscribe),
        1 => any::<usize>().prop_map(Op::CloneReceiver),
        2 => any::<usize>().prop_map(Op::HasChanged),
        1 => any::<usize>().prop_map(Op::Get),
        2 => any::<usize>().prop_map(Op::GetAndUpdate),
        1 => any::<usize>().prop_map(Op::MarkUnchanged),
        5 => any::<usize>().prop_map(Op::PollChanged),
        1 => any::<usize>().prop_map(Op::CancelChanged),
        1 => any::<usize>().prop_map(Op::DropReceiver),
    ]
}

type ChangedOutput<'a> = (Receiver<'a, u32>, Option<Result<(), RecvError>>);
type ChangedFuture<'a> = Pin<Box<dyn Future<Output = ChangedOutput<'a>> + 'a>>;

/// A `changed` future that owns its receiver and gives it back when it completes, or (with
/// `None`) when `cancel` is set and it is polled (the inner future is then dropped unfinished).
fn changed_future<'a>(mut rx: Receiver<'a, u32>, cancel: Rc<Cell<bool>>) -> ChangedFuture<'a> {
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

enum Real<'a> {
    Idle(Receiver<'a, u32>),
    Waiting {
        future: ChangedFuture<'a>,
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
    senders: usize,
    closed: bool,
    rxs: Vec<ModelRx>,
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
    fn new_rx(&self) -> ModelRx {
        ModelRx {
            seen: self.version,
            wait: None,
        }
    }
}

fn run(ops: Vec<Op>) {
    let watch: Watch<u32> = Watch::new(0);
    let mut senders = vec![watch.sender()];
    let mut rxs: Vec<Real<'_>> = vec![Real::Idle(watch.receiver())];
    let mut model = Model {
        value: 0,
        version: 0,
        senders: 1,
        closed: false,
        rxs: Vec::new(),
    };
    model.rxs.push(model.new_rx());
    for (step, op) in ops.into_iter().enumerate() {
        let pick = |i: usize, len: usize| (len > 0).then(|| i % len);
        match op {
            Op::Send(i, v) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                senders[i].send(u32::from(v));
                model.store(u32::from(v));
            }
            Op::SendReplace(i, v) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                let old = senders[i].send_replace(u32::from(v));
                assert_eq!(old, model.value, "step {step}: send_replace's old value");
                model.store(u32::from(v));
            }
            Op::SendModify(i, v) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                senders[i].send_modify(|value| *value += u32::from(v));
                model.store(model.value + u32::from(v));
            }
            Op::SendIfModified(i, v, change) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                let changed = senders[i].send_if_modified(|value| {
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
            Op::NewSender => {
                senders.push(watch.sender());
                model.senders += 1;
            }
            Op::CloneSender(i) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                let tx = senders[i].clone();
                senders.push(tx);
                model.senders += 1;
            }
            Op::DropSender(i) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                drop(senders.remove(i));
                model.senders -= 1;
                if model.senders == 0 && !model.closed {
                    model.closed = true;
                    model.wake_all();
                }
            }
            Op::NewReceiver => {
                rxs.push(Real::Idle(watch.receiver()));
                model.rxs.push(model.new_rx());
            }
            Op::Subscribe(i) => {
                let Some(i) = pick(i, senders.len()) else {
                    continue;
                };
                rxs.push(Real::Idle(senders[i].subscribe()));
                model.rxs.push(model.new_rx());
            }
            Op::CloneReceiver(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                let clone = rx.clone();
                rxs.push(Real::Idle(clone));
                let seen = model.rxs[r].seen;
                model.rxs.push(ModelRx { seen, wait: None });
            }
            Op::HasChanged(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                let want = model.rxs[r].seen != model.version;
                assert_eq!(rx.has_changed(), want, "step {step}: has_changed of {r}");
            }
            Op::Get(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &rxs[r] else { continue };
                assert_eq!(rx.get(), model.value, "step {step}: get of {r}");
            }
            Op::GetAndUpdate(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                let Real::Idle(rx) = &mut rxs[r] else {
                    continue;
                };
                assert_eq!(
                    rx.get_and_update(),
                    model.value,
                    "step {step}: get_and_update"
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
                } else if model.closed {
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
                // Cancelled: nothing was marked seen.
                model.rxs[r].wait = None;
            }
            Op::DropReceiver(r) => {
                let Some(r) = pick(r, rxs.len()) else {
                    continue;
                };
                drop(rxs.remove(r));
                model.rxs.remove(r);
            }
        }
        assert_eq!(watch.get(), model.value, "step {step}: Watch::get");
        assert_eq!(watch.is_closed(), model.closed, "step {step}: is_closed");
        for (r, modeled) in model.rxs.iter().enumerate() {
            if let Some((count, true)) = &modeled.wait {
                assert!(
                    count.0.load(SeqCst) > 0,
                    "step {step}: receiver {r}'s changed was not woken"
                );
            }
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
    fn watch_agrees_with_a_version_model(ops in prop::collection::vec(op(), 1..80)) {
        run(ops);
    }
}
