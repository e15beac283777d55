//! `sync::spsc`: the bounded single-producer, single-consumer channel, against its documented
//! semantics (those of `sync::mpsc` for one sender) and against hostile user code.
//!
//! - FIFO order, through the ring's wrap-around, against a `VecDeque`; a full channel makes the
//!   send wait, and the wakes come exactly when due (tasks, and wakers counted by hand).
//! - How it closes: the receiver dropped or closed, the sender dropped, `Channel::close` from a
//!   third party; each waiting side is woken and sees it.
//! - Every message is dropped exactly once: queued in a dropped channel or with a dropped
//!   receiver, in a send future dropped while it waits, refused by a closed or full channel, and
//!   when one of them panics in its destructor.
//! - No user code under the channel's lock: foreign wakers whose clone, wake and drop use the
//!   channel again, and messages whose `Drop` does.
//! - Two threads, one sending and one receiving.
//!
//! Runs under Miri: `MIRIFLAGS="-Zmiri-strict-provenance" cargo +nightly miri test -p
//! ebbtide-core --test spsc` (fewer messages there; no leaked allocation).

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use ebbtide_core::blocking_mutex::LocalRawMutex;
use ebbtide_core::sync::spsc::{
    AlreadySplit, Channel, Receiver, RecvFuture, SendError, SendFuture, Sender, TryRecvError,
    TrySendError,
};
use ebbtide_core::{Executor, TaskPool};

// ---------------------------------------------------------------------------------------------
// Helpers.

fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Polls with `Waker::noop()` (which the channel treats as a foreign waker).
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    poll(future, Waker::noop())
}

type Hook = Box<dyn FnOnce() + Send>;

/// One identity of a hand-made foreign waker (not an ebbtide task's): counts the wakers made,
/// cloned, dropped and woken, and runs a hook (once, when armed) inside the next clone, wake or
/// drop.
struct HookData {
    on_clone: StdMutex<Option<Hook>>,
    on_wake: StdMutex<Option<Hook>>,
    on_drop: StdMutex<Option<Hook>>,
    made: AtomicUsize,
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
}

struct Foreign(Arc<HookData>);

static VTABLE: RawWakerVTable = RawWakerVTable::new(vt_clone, vt_wake, vt_wake_by_ref, vt_drop);

/// # Safety
///
/// `data` comes from `Arc::<HookData>::into_raw` and owns one strong count.
unsafe fn hook_data<'a>(data: *const ()) -> &'a HookData {
    // SAFETY: by the caller.
    unsafe { &*(data as *const HookData) }
}

fn run(hook: &StdMutex<Option<Hook>>) {
    // Taken out first: the hook runs with no lock of ours held.
    let hook = hook.lock().unwrap().take();
    if let Some(hook) = hook {
        hook();
    }
}

unsafe fn vt_clone(data: *const ()) -> RawWaker {
    // SAFETY: every waker with `VTABLE` owns a strong count of its `Arc<HookData>`.
    unsafe { Arc::increment_strong_count(data as *const HookData) };
    // SAFETY: as above.
    let hook = unsafe { hook_data(data) };
    hook.clones.fetch_add(1, SeqCst);
    run(&hook.on_clone);
    RawWaker::new(data, &VTABLE)
}

unsafe fn vt_wake(data: *const ()) {
    // SAFETY: we own the waker's count; `vt_drop` gives it up.
    unsafe {
        vt_wake_by_ref(data);
        vt_drop(data);
    }
}

unsafe fn vt_wake_by_ref(data: *const ()) {
    // SAFETY: as in `vt_clone`.
    let hook = unsafe { hook_data(data) };
    hook.wakes.fetch_add(1, SeqCst);
    run(&hook.on_wake);
}

unsafe fn vt_drop(data: *const ()) {
    // SAFETY: as in `vt_clone`; the count is given up only after the hook ran.
    let hook = unsafe { hook_data(data) };
    hook.drops.fetch_add(1, SeqCst);
    run(&hook.on_drop);
    // SAFETY: this waker's count, given up once.
    unsafe { Arc::decrement_strong_count(data as *const HookData) };
}

impl Foreign {
    fn new() -> Foreign {
        Foreign(Arc::new(HookData {
            on_clone: StdMutex::new(None),
            on_wake: StdMutex::new(None),
            on_drop: StdMutex::new(None),
            made: AtomicUsize::new(0),
            clones: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        }))
    }

    fn waker(&self) -> Waker {
        self.0.made.fetch_add(1, SeqCst);
        let data = Arc::into_raw(self.0.clone()) as *const ();
        // SAFETY: the vtable keeps the `RawWaker` contract: each waker owns a count of the `Arc`,
        // and everything in it is thread-safe.
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }

    fn on_clone(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_clone.lock().unwrap() = Some(Box::new(hook));
    }

    fn on_wake(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_wake.lock().unwrap() = Some(Box::new(hook));
    }

    fn on_drop(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_drop.lock().unwrap() = Some(Box::new(hook));
    }

    fn wakes(&self) -> usize {
        self.0.wakes.load(SeqCst)
    }

    /// Every armed hook ran.
    fn hooks_ran(&self) -> bool {
        self.0.on_clone.lock().unwrap().is_none()
            && self.0.on_wake.lock().unwrap().is_none()
            && self.0.on_drop.lock().unwrap().is_none()
    }

    /// Every waker of this identity is gone: the channel neither kept nor dropped one twice (call
    /// it once the channel and the test's own wakers are gone).
    fn balanced(&self) -> bool {
        let made = self.0.made.load(SeqCst) + self.0.clones.load(SeqCst);
        made == self.0.drops.load(SeqCst) && Arc::strong_count(&self.0) == 1
    }
}

/// A message that counts its drops in the counter it points at.
#[derive(Debug)]
struct Counted<'a> {
    drops: &'a AtomicUsize,
    id: u32,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

fn counted(drops: &AtomicUsize, id: u32) -> Counted<'_> {
    Counted { drops, id }
}

/// A small deterministic pseudo-random sequence (xorshift), for operation mixes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---------------------------------------------------------------------------------------------
// Order, capacity, and the waits of a full or empty channel.

/// Random mixes of `try_send` and `try_recv` (first mostly sends, so that the channel fills up,
/// then mostly receives, so that it empties) walk the ring's head round many times; every result
/// and the channel's counts agree with a `VecDeque`.
fn fifo_against_a_model<const N: usize, M: ebbtide_core::blocking_mutex::RawMutex>(
    channel: &Channel<u32, N, M>,
) {
    let (mut tx, mut rx) = channel.split();
    assert_eq!(channel.capacity(), N);
    let mut model = VecDeque::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ N as u64);
    let mut next = 0u32;
    let steps = if cfg!(miri) { 60 } else { 2_000 };
    for phase in 0..8 {
        let send_weight = if phase % 2 == 0 { 7 } else { 3 };
        for _ in 0..steps {
            if rng.below(10) < send_weight {
                match tx.try_send(next) {
                    Ok(()) => {
                        assert!(model.len() < N, "a send into a full channel went in");
                        model.push_back(next);
                    }
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back, next, "a refused send gives its message back");
                        assert_eq!(model.len(), N, "a send refused with room left");
                    }
                    Err(TrySendError::Closed(_)) => panic!("closed while both ends live"),
                }
                next += 1;
            } else {
                match rx.try_recv() {
                    Ok(message) => assert_eq!(Some(message), model.pop_front(), "out of order"),
                    Err(TryRecvError::Empty) => assert!(model.is_empty(), "a message was lost"),
                    Err(TryRecvError::Disconnected) => panic!("closed while both ends live"),
                }
            }
            assert_eq!(channel.len(), model.len());
            assert_eq!(channel.is_empty(), model.is_empty());
            assert_eq!(channel.is_full(), model.len() == N);
            assert!(!channel.is_closed());
        }
    }
    drop(tx);
    // Whatever is left comes out in order, then the end.
    while let Some(expected) = model.pop_front() {
        assert_eq!(rx.try_recv(), Ok(expected));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn fifo_order_holds_across_the_ring_wrapping_around() {
    // Capacities that wrap by a mask (powers of two) and by a subtraction (the others).
    fifo_against_a_model(&Channel::<u32, 1>::new());
    fifo_against_a_model(&Channel::<u32, 2>::new());
    fifo_against_a_model(&Channel::<u32, 3>::new());
    fifo_against_a_model(&Channel::<u32, 4>::new());
    fifo_against_a_model(&Channel::<u32, 5>::new());
    fifo_against_a_model(&Channel::<u32, 8>::new());
    // Another lock, and the `Default` constructor.
    fifo_against_a_model(&Channel::<u32, 3, LocalRawMutex>::with_mutex());
    fifo_against_a_model(&Channel::<u32, 4>::default());
}

/// A producer task fills the channel and waits; each receive from outside frees one slot and
/// wakes it (the runner polls only woken tasks, so its progress shows the wake), and nothing
/// else does.
#[test]
fn a_full_channel_makes_the_send_wait_until_a_receive_wakes_it() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static CHANNEL: Channel<u32, 2> = Channel::new();
    static SENT: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let (mut tx, mut rx) = CHANNEL.split();
    let producer = runner
        .spawner()
        .spawn(&POOL, async move {
            for n in 0..5 {
                tx.send(n).await.unwrap();
                SENT.fetch_add(1, SeqCst);
            }
        })
        .unwrap();
    runner.poll();
    assert_eq!(SENT.load(SeqCst), 2, "two sends fit, the third waits");
    assert!(CHANNEL.is_full());
    assert!(!runner.poll(), "nobody woke the waiting producer");
    assert_eq!(SENT.load(SeqCst), 2);
    for (received, sent_after) in [(0, 3), (1, 4), (2, 5)] {
        assert_eq!(rx.try_recv(), Ok(received));
        runner.poll();
        assert_eq!(
            SENT.load(SeqCst),
            sent_after,
            "the freed slot woke the producer"
        );
        assert_eq!(CHANNEL.len(), 2);
    }
    assert!(producer.is_finished());
    assert!(rx.is_closed(), "the producer's end went with it");
    for expected in [3, 4] {
        assert_eq!(rx.try_recv(), Ok(expected));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// A consumer task waits on the empty channel; a send from outside into the empty channel wakes
/// it, and it gets the message.
#[test]
fn a_send_into_an_empty_channel_wakes_the_waiting_receiver_task() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static CHANNEL: Channel<u32, 2> = Channel::new();
    static GOT: StdMutex<Vec<u32>> = StdMutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let (mut tx, mut rx) = CHANNEL.split();
    let consumer = runner
        .spawner()
        .spawn(&POOL, async move {
            while let Some(message) = rx.recv().await {
                GOT.lock().unwrap().push(message);
            }
        })
        .unwrap();
    assert!(!runner.poll());
    assert!(GOT.lock().unwrap().is_empty());
    assert!(!runner.poll(), "nobody woke the waiting consumer");
    for n in 1..=3 {
        tx.try_send(n).unwrap();
        runner.poll();
        assert_eq!(*GOT.lock().unwrap(), (1..=n).collect::<Vec<_>>());
    }
    drop(tx);
    runner.poll();
    assert!(consumer.is_finished(), "the sender's drop woke it to end");
}

/// A stream through a small channel between two tasks' worth of code arrives whole and in order,
/// and the channel never holds more than its capacity.
#[test]
fn a_stream_through_a_small_channel_arrives_whole_and_in_order() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static CHANNEL: Channel<u32, 3> = Channel::new();
    let count = if cfg!(miri) { 50 } else { 5_000 };
    let runner = EXECUTOR.runner().unwrap();
    let (mut tx, mut rx) = CHANNEL.split();
    let producer = runner
        .spawner()
        .spawn(&POOL, async move {
            for n in 0..count {
                tx.send(n).await.unwrap();
                assert!(CHANNEL.len() <= 3);
            }
        })
        .unwrap();
    let received = runner.run_until(
        async move {
            let mut all = Vec::new();
            while let Some(n) = rx.recv().await {
                assert!(CHANNEL.len() <= 3);
                all.push(n);
            }
            all
        },
        || {},
    );
    assert_eq!(received, (0..count).collect::<Vec<_>>());
    assert!(producer.is_finished());
}

/// By hand, with counted wakers: the receiver is woken by the send into the empty channel (once,
/// however many follow), the sender by the receive that frees a slot (once), and a re-poll with
/// another waker wakes only the latest one.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn wakes_come_exactly_when_due() {
    let r = Foreign::new();
    let s = Foreign::new();
    let other = Foreign::new();
    let (wr, ws, wo) = (r.waker(), s.waker(), other.waker());
    {
        let channel: Channel<u32, 2> = Channel::new();
        let (mut tx, mut rx) = channel.split();
        let mut cx_r = Context::from_waker(&wr);

        // The receiver waits; re-polling with the same waker does not wake it.
        assert_eq!(rx.poll_recv(&mut cx_r), Poll::Pending);
        assert_eq!(rx.poll_recv(&mut cx_r), Poll::Pending);
        assert_eq!(r.wakes(), 0);
        // The send into the empty channel wakes it; the next send finds nobody waiting.
        tx.try_send(1).unwrap();
        assert_eq!(r.wakes(), 1);
        tx.try_send(2).unwrap();
        assert_eq!(r.wakes(), 1);
        assert_eq!(rx.poll_recv(&mut cx_r), Poll::Ready(Some(1)));
        assert_eq!(rx.poll_recv(&mut cx_r), Poll::Ready(Some(2)));
        assert_eq!(r.wakes(), 1);

        // A completed send future wakes a waiting `recv` future too.
        {
            let mut recv = pin!(rx.recv());
            assert!(poll(recv.as_mut(), &wr).is_pending());
            assert_eq!(poll(pin!(tx.send(3)), &ws), Poll::Ready(Ok(())));
            assert_eq!(r.wakes(), 2);
            assert_eq!(s.wakes(), 0, "a send that did not wait is not woken");
            assert_eq!(poll(recv, &wr), Poll::Ready(Some(3)));
        }

        // The sender waits on the full channel; the receive that frees a slot wakes it, once.
        tx.try_send(4).unwrap();
        tx.try_send(5).unwrap();
        {
            let mut send = pin!(tx.send(6));
            assert!(poll(send.as_mut(), &ws).is_pending());
            assert!(poll(send.as_mut(), &ws).is_pending());
            assert_eq!(s.wakes(), 0);
            assert_eq!(rx.poll_recv(&mut cx_r), Poll::Ready(Some(4)));
            assert_eq!(s.wakes(), 1);
            assert_eq!(rx.try_recv(), Ok(5));
            assert_eq!(
                s.wakes(),
                1,
                "the sender's waker was used up by the first receive"
            );
            assert_eq!(poll(send, &ws), Poll::Ready(Ok(())));
            assert_eq!(r.wakes(), 2, "the receiver was not waiting");
        }
        assert_eq!(rx.try_recv(), Ok(6));

        // Polled with one waker, then another: only the latest is woken.
        assert_eq!(rx.poll_recv(&mut cx_r), Poll::Pending);
        assert_eq!(rx.poll_recv(&mut Context::from_waker(&wo)), Poll::Pending);
        tx.try_send(7).unwrap();
        assert_eq!((r.wakes(), other.wakes()), (2, 1));
        tx.try_send(8).unwrap();
        {
            let mut send = pin!(tx.send(9));
            assert!(poll(send.as_mut(), &ws).is_pending());
            assert!(poll(send.as_mut(), &wo).is_pending());
            assert_eq!(rx.try_recv(), Ok(7));
            assert_eq!((s.wakes(), other.wakes()), (1, 2));
            assert_eq!(poll(send, &wo), Poll::Ready(Ok(())));
        }
        assert_eq!(rx.try_recv(), Ok(8));
        assert_eq!(rx.try_recv(), Ok(9));
    }
    drop((wr, ws, wo));
    assert!(r.balanced() && s.balanced() && other.balanced());
}

/// With `task-wakers-only` no foreign waker is kept: a poll that waits wakes it at once (a busy
/// wait), never clones it, and the next poll finds what happened meanwhile.
#[test]
#[cfg(feature = "task-wakers-only")]
fn task_wakers_only_wakes_a_foreign_waker_at_once_and_keeps_none() {
    let f = Foreign::new();
    let w = f.waker();
    {
        let channel: Channel<u32, 1> = Channel::new();
        let (mut tx, mut rx) = channel.split();
        assert_eq!(rx.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
        assert_eq!(f.wakes(), 1);
        tx.try_send(1).unwrap();
        assert_eq!(f.wakes(), 1, "nothing kept, nothing woken by the send");
        {
            let mut send = pin!(tx.send(2));
            assert!(poll(send.as_mut(), &w).is_pending());
            assert_eq!(f.wakes(), 2);
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(poll(send, &w), Poll::Ready(Ok(())));
        }
        assert_eq!(
            rx.poll_recv(&mut Context::from_waker(&w)),
            Poll::Ready(Some(2))
        );
    }
    drop(w);
    assert_eq!(f.0.clones.load(SeqCst), 0, "a foreign waker was cloned");
    assert!(f.balanced());
}

// ---------------------------------------------------------------------------------------------
// Closing.

#[test]
fn dropping_the_receiver_fails_sends_and_gives_their_messages_back() {
    let channel: Channel<String, 1> = Channel::new();
    let (mut tx, rx) = channel.split();
    tx.try_send("queued".into()).unwrap();
    {
        let mut waiting = pin!(tx.send("waiting".into()));
        assert!(poll_once(waiting.as_mut()).is_pending(), "full");
        drop(rx);
        assert!(channel.is_closed());
        match poll_once(waiting) {
            Poll::Ready(Err(SendError(message))) => assert_eq!(message, "waiting"),
            other => panic!("a waiting send must get its message back: {other:?}"),
        }
    }
    assert!(tx.is_closed());
    assert!(
        channel.is_empty(),
        "the queued message went with the receiver"
    );
    assert_eq!(
        tx.try_send("late".into()),
        Err(TrySendError::Closed("late".into()))
    );
    match ebbtide_core::block_on(tx.send("later".into())) {
        Err(SendError(message)) => assert_eq!(message, "later"),
        Ok(()) => panic!("a send on a closed channel must fail"),
    }
}

#[test]
fn receiver_close_keeps_the_queued_messages_then_ends() {
    let channel: Channel<u32, 3> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(!tx.is_closed() && !rx.is_closed());
    rx.close();
    assert!(tx.is_closed() && rx.is_closed() && channel.is_closed());
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert!(matches!(
        poll_once(pin!(tx.send(4))),
        Poll::Ready(Err(SendError(4)))
    ));
    assert_eq!(channel.len(), 2, "the refused sends put nothing in");
    ebbtide_core::block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None, "the end is for good");
    });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    // Closing again, and the ends' drops after a close, change nothing.
    rx.close();
    channel.close();
    drop((tx, rx));
    assert!(channel.is_closed() && channel.is_empty());
}

#[test]
fn dropping_the_sender_lets_the_receiver_drain_then_end() {
    let channel: Channel<u32, 4> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    for n in 1..=3 {
        tx.try_send(n).unwrap();
    }
    drop(tx);
    assert!(rx.is_closed());
    assert_eq!(
        channel.len(),
        3,
        "the queued messages stay for the receiver"
    );
    ebbtide_core::block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(core::future::poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
        assert_eq!(rx.recv().await, None);
    });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // A receiver already waiting on the empty channel sees the sender go.
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, mut rx) = channel.split();
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    drop(tx);
    assert_eq!(poll_once(recv), Poll::Ready(None));
}

#[test]
fn a_third_party_close_fails_a_waiting_send_and_ends_a_waiting_receive() {
    // A full channel: the waiting send gets its message back; the queued one stays.
    static FULL: Channel<u32, 2> = Channel::new();
    let (mut tx, mut rx) = FULL.split();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    {
        let mut waiting = pin!(tx.send(3));
        assert!(poll_once(waiting.as_mut()).is_pending());
        FULL.close();
        assert!(FULL.is_closed() && rx.is_closed());
        assert!(matches!(poll_once(waiting), Poll::Ready(Err(SendError(3)))));
    }
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // An empty channel: the waiting receive ends.
    let empty: Channel<u32, 2> = Channel::new();
    let (_tx, mut rx) = empty.split();
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    empty.close();
    assert_eq!(poll_once(recv), Poll::Ready(None));
}

/// Tasks waiting on a channel are woken by every kind of close: `Channel::close` from a third
/// party (a waiting receiver on one channel, a waiting sender on another), the sender's drop (a
/// waiting receiver), the receiver's drop (a waiting sender). The runner polls only woken tasks.
#[test]
fn every_close_wakes_the_waiting_task() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<4> = TaskPool::new();
    static EMPTY: Channel<u32, 1> = Channel::new();
    static FULL: Channel<u32, 1> = Channel::new();
    static SENDER_GOES: Channel<u32, 1> = Channel::new();
    static RECEIVER_GOES: Channel<u32, 1> = Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();

    let (empty_tx, mut empty_rx) = EMPTY.split();
    let (mut full_tx, mut full_rx) = FULL.split();
    full_tx.try_send(0).unwrap();
    let (sender_goes_tx, mut sender_goes_rx) = SENDER_GOES.split();
    let (mut receiver_goes_tx, receiver_goes_rx) = RECEIVER_GOES.split();
    receiver_goes_tx.try_send(0).unwrap();

    let receiving = spawner
        .spawn(&POOL, async move { empty_rx.recv().await })
        .unwrap();
    let sending = spawner
        .spawn(&POOL, async move { full_tx.send(1).await })
        .unwrap();
    let receiving_alone = spawner
        .spawn(&POOL, async move { sender_goes_rx.recv().await })
        .unwrap();
    let sending_alone = spawner
        .spawn(&POOL, async move { receiver_goes_tx.send(2).await })
        .unwrap();
    runner.poll();
    assert!(!runner.poll(), "all four wait, and nobody woke them");
    for task in [&receiving, &receiving_alone] {
        assert!(!task.is_finished());
    }
    for task in [&sending, &sending_alone] {
        assert!(!task.is_finished());
    }

    EMPTY.close();
    FULL.close();
    drop(sender_goes_tx);
    drop(receiver_goes_rx);
    runner.poll();
    assert!(receiving.is_finished() && receiving_alone.is_finished());
    assert!(sending.is_finished() && sending_alone.is_finished());
    assert_eq!(runner.run_until(receiving, || {}), Ok(None));
    assert_eq!(runner.run_until(receiving_alone, || {}), Ok(None));
    assert_eq!(runner.run_until(sending, || {}), Ok(Err(SendError(1))));
    assert_eq!(
        runner.run_until(sending_alone, || {}),
        Ok(Err(SendError(2)))
    );
    // The close from a third party kept the queued message; the receiver's drop did not.
    assert_eq!(full_rx.try_recv(), Ok(0));
    assert_eq!(full_rx.try_recv(), Err(TryRecvError::Disconnected));
    assert!(RECEIVER_GOES.is_empty());
    drop(empty_tx);
}

/// The same wakes counted by hand: each close wakes the waiting side exactly once.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn every_close_wakes_the_waiting_side_once() {
    let f = Foreign::new();
    let w = f.waker();
    {
        // `Channel::close`, a waiting receiver.
        let channel: Channel<u32, 1> = Channel::new();
        let (_tx, mut rx) = channel.split();
        assert_eq!(rx.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
        channel.close();
        assert_eq!(f.wakes(), 1);
        channel.close();
        assert_eq!(f.wakes(), 1, "a second close finds nobody waiting");
        assert_eq!(
            rx.poll_recv(&mut Context::from_waker(&w)),
            Poll::Ready(None)
        );

        // `Channel::close`, a waiting sender.
        let channel: Channel<u32, 1> = Channel::new();
        let (mut tx, _rx) = channel.split();
        tx.try_send(0).unwrap();
        let mut send = pin!(tx.send(1));
        assert!(poll(send.as_mut(), &w).is_pending());
        channel.close();
        assert_eq!(f.wakes(), 2);
        assert_eq!(poll(send, &w), Poll::Ready(Err(SendError(1))));

        // The sender's drop, a waiting receiver.
        let channel: Channel<u32, 1> = Channel::new();
        let (tx, mut rx) = channel.split();
        assert_eq!(rx.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
        drop(tx);
        assert_eq!(f.wakes(), 3);
        assert_eq!(
            rx.poll_recv(&mut Context::from_waker(&w)),
            Poll::Ready(None)
        );

        // The receiver's drop, a waiting sender.
        let channel: Channel<u32, 1> = Channel::new();
        let (mut tx, rx) = channel.split();
        tx.try_send(0).unwrap();
        let mut send = pin!(tx.send(1));
        assert!(poll(send.as_mut(), &w).is_pending());
        drop(rx);
        assert_eq!(f.wakes(), 4);
        assert_eq!(poll(send, &w), Poll::Ready(Err(SendError(1))));
    }
    drop(w);
    assert!(f.balanced());
}

#[test]
fn split_hands_out_the_ends_once() {
    let channel: Channel<u32, 1> = Channel::new();
    let (tx, rx) = channel.split();
    assert!(core::ptr::eq(tx.channel(), &channel));
    assert!(core::ptr::eq(rx.channel(), &channel));
    let error: AlreadySplit = channel.try_split().err().unwrap();
    assert!(error.to_string().contains("split was called twice"));
    drop((tx, rx));
    assert!(
        channel.try_split().is_err(),
        "a channel is split once, for good"
    );
    assert!(channel.is_closed());
}

#[test]
#[should_panic(expected = "split was called twice")]
fn split_twice_panics() {
    let channel: Channel<u32, 1> = Channel::new();
    let _ends = channel.split();
    let _again = channel.split();
}

/// `Channel::close` needs no ends, so it can come before the split. mpsc then still hands out
/// the ends (of a closed channel: sends fail, receives end); spsc says it behaves as mpsc does,
/// and `AlreadySplit` says "split was called twice", which it was not.
#[test]
fn closing_before_the_split_still_splits_a_closed_channel() {
    let mpsc: ebbtide_core::sync::mpsc::Channel<u32, 1> = ebbtide_core::sync::mpsc::Channel::new();
    mpsc.close();
    assert!(mpsc.try_split().is_ok(), "mpsc, the reference");

    let channel: Channel<u32, 1> = Channel::new();
    channel.close();
    assert!(channel.is_closed());
    let (mut tx, mut rx) = channel
        .try_split()
        .expect("the first split of a channel closed before it");
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
#[should_panic(expected = "`SendFuture` polled after it completed")]
fn a_send_future_polled_after_it_sent_panics() {
    let channel: Channel<u32, 1> = Channel::new();
    let (mut tx, _rx) = channel.split();
    let mut send: Pin<&mut SendFuture<'_, u32, 1>> = pin!(tx.send(1));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
    let _ = poll_once(send);
}

#[test]
#[should_panic(expected = "`SendFuture` polled after it completed")]
fn a_send_future_polled_after_it_failed_panics() {
    let channel: Channel<u32, 1> = Channel::new();
    let (mut tx, rx) = channel.split();
    drop(rx);
    let mut send = pin!(tx.send(1));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Err(SendError(1))));
    let _ = poll_once(send);
}

/// The ends and futures print without their messages (and without a `T: Debug` bound on them).
#[test]
fn debug_shows_the_counts() {
    struct Opaque;
    let channel: Channel<Opaque, 2> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    assert!(tx.try_send(Opaque).is_ok());
    let shown = format!("{channel:?}");
    assert!(
        shown.contains("len: 1") && shown.contains("capacity: 2"),
        "{shown}"
    );
    assert!(shown.contains("closed: false"), "{shown}");
    assert!(format!("{tx:?}").starts_with("Sender"));
    assert!(format!("{rx:?}").starts_with("Receiver"));
    let recv: RecvFuture<'_, Opaque, 2> = rx.recv();
    assert!(format!("{recv:?}").starts_with("RecvFuture"));
    drop(recv);
    let send = tx.send(Opaque);
    assert!(format!("{send:?}").starts_with("SendFuture"));
}

// ---------------------------------------------------------------------------------------------
// Every message dropped exactly once.

/// A channel dropped with messages queued (its receiver leaked, so the receiver's drop did not
/// empty it), wrapped round the ring's end: each is dropped once, with the channel.
#[test]
fn a_channel_dropped_with_messages_queued_drops_each_once() {
    let drops = AtomicUsize::new(0);
    {
        let channel: Channel<Counted<'_>, 3> = Channel::new();
        let (mut tx, mut rx) = channel.split();
        for id in 0..2 {
            tx.try_send(counted(&drops, id)).unwrap();
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        assert_eq!(
            drops.load(SeqCst),
            2,
            "received messages dropped by their taker"
        );
        for id in 2..5 {
            tx.try_send(counted(&drops, id)).unwrap();
        }
        // The receiver is only a reference: forgetting it leaks no allocation.
        std::mem::forget(rx);
        drop(tx);
        assert_eq!(drops.load(SeqCst), 2, "still queued");
        assert_eq!(channel.len(), 3);
    }
    assert_eq!(drops.load(SeqCst), 5, "each dropped once, with the channel");

    // Never split, never used: nothing to drop.
    let untouched: Channel<Counted<'_>, 3> = Channel::new();
    drop(untouched);
    assert_eq!(drops.load(SeqCst), 5);
}

#[test]
fn dropping_the_receiver_drops_the_queued_messages_once() {
    let drops = AtomicUsize::new(0);
    let channel: Channel<Counted<'_>, 4> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    for id in 0..3 {
        tx.try_send(counted(&drops, id)).unwrap();
        drop(rx.try_recv().unwrap());
    }
    for id in 3..7 {
        tx.try_send(counted(&drops, id)).unwrap();
    }
    assert_eq!(drops.load(SeqCst), 3);
    drop(rx);
    assert_eq!(
        drops.load(SeqCst),
        7,
        "the four queued ones went with the receiver"
    );
    assert!(channel.is_empty() && channel.is_closed());
    // A refused send gives its message back, undropped; the caller drops it.
    match tx.try_send(counted(&drops, 7)) {
        Err(TrySendError::Closed(back)) => {
            assert_eq!(back.id, 7);
            assert_eq!(drops.load(SeqCst), 7);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(drops.load(SeqCst), 8);
    drop(tx);
    drop(channel);
    assert_eq!(drops.load(SeqCst), 8, "nothing dropped twice");
}

/// A send future dropped while it waits (and one never polled) drops its message with it: not
/// sent, dropped once. A refused send's message comes back whole, in `Full`, `Closed` and
/// `SendError`.
#[test]
fn send_futures_and_refused_sends_drop_their_messages_once() {
    let drops = AtomicUsize::new(0);
    {
        let channel: Channel<Counted<'_>, 1> = Channel::new();
        let (mut tx, mut rx) = channel.split();
        tx.try_send(counted(&drops, 0)).unwrap();

        let mut waiting = Box::pin(tx.send(counted(&drops, 1)));
        assert!(poll_once(waiting.as_mut()).is_pending());
        assert_eq!(drops.load(SeqCst), 0);
        drop(waiting);
        assert_eq!(
            drops.load(SeqCst),
            1,
            "the waiting send's message went with it"
        );

        drop(tx.send(counted(&drops, 2)));
        assert_eq!(
            drops.load(SeqCst),
            2,
            "a send never polled drops its message"
        );

        match tx.try_send(counted(&drops, 3)) {
            Err(TrySendError::Full(back)) => assert_eq!(back.id, 3),
            other => panic!("{other:?}"),
        }
        assert_eq!(drops.load(SeqCst), 3);

        // Neither cancelled message was sent: only the first is queued.
        assert_eq!(rx.try_recv().map(|m| m.id), Ok(0));
        assert_eq!(drops.load(SeqCst), 4);
        assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Empty));

        // A completed send's message is in the channel, not in the future.
        assert!(matches!(
            poll_once(pin!(tx.send(counted(&drops, 4)))),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(drops.load(SeqCst), 4);

        rx.close();
        match poll_once(pin!(tx.send(counted(&drops, 5)))) {
            Poll::Ready(Err(SendError(back))) => assert_eq!(back.id, 5),
            other => panic!("{other:?}"),
        }
        assert_eq!(drops.load(SeqCst), 5);
        match tx.try_send(counted(&drops, 6)) {
            Err(TrySendError::Closed(back)) => assert_eq!(back.id, 6),
            other => panic!("{other:?}"),
        }
        assert_eq!(drops.load(SeqCst), 6);
        // Message 4, still queued after the close, is received.
        assert_eq!(rx.try_recv().map(|m| m.id), Ok(4));
        assert_eq!(drops.load(SeqCst), 7);
    }
    assert_eq!(drops.load(SeqCst), 7, "seven messages, seven drops");
}

/// A message whose destructor panics while the receiver's drop empties the queue: the ones
/// before it are dropped, the panic comes through, the ones after it stay queued (dropped once,
/// with the channel), and the channel still answers (closed).
#[test]
fn a_panicking_message_drop_during_the_receivers_drop_drops_nothing_twice() {
    struct Loud<'a> {
        drops: &'a AtomicUsize,
        panics: bool,
    }
    impl Drop for Loud<'_> {
        fn drop(&mut self) {
            self.drops.fetch_add(1, SeqCst);
            if self.panics {
                panic!("a message's destructor panicked");
            }
        }
    }
    let drops = AtomicUsize::new(0);
    let loud = |panics| Loud {
        drops: &drops,
        panics,
    };
    {
        let channel: Channel<Loud<'_>, 4> = Channel::new();
        let (mut tx, mut rx) = channel.split();
        // Walk the head round, so that the queue below wraps past the last slot.
        for _ in 0..3 {
            assert!(tx.try_send(loud(false)).is_ok());
            drop(rx.try_recv().ok().unwrap());
        }
        for panics in [false, true, false, false] {
            assert!(tx.try_send(loud(panics)).is_ok());
        }
        assert!(catch_unwind(AssertUnwindSafe(|| drop(rx))).is_err());
        assert_eq!(drops.load(SeqCst), 5, "the two up to the panicking one");
        assert_eq!(channel.len(), 2, "the two after it stay queued");
        assert!(channel.is_closed());
        assert!(tx.try_send(loud(false)).is_err());
        assert_eq!(
            drops.load(SeqCst),
            6,
            "the refused one, dropped by the caller"
        );
        drop(tx);
        assert_eq!(channel.len(), 2);
    }
    assert_eq!(
        drops.load(SeqCst),
        8,
        "the last two, once each, with the channel"
    );
}

/// A message whose destructor panics while the channel itself drops its queue: the panic comes
/// through, and no message is dropped twice (the ring stops at the panic: those after it may be
/// leaked, never dropped again).
#[test]
fn a_panicking_message_drop_during_the_channels_drop_drops_nothing_twice() {
    struct Loud<'a> {
        drops: &'a AtomicUsize,
        panics: bool,
    }
    impl Drop for Loud<'_> {
        fn drop(&mut self) {
            self.drops.fetch_add(1, SeqCst);
            if self.panics {
                panic!("a message's destructor panicked");
            }
        }
    }
    let drops = AtomicUsize::new(0);
    let channel: Channel<Loud<'_>, 4> = Channel::new();
    let (mut tx, rx) = channel.split();
    for panics in [false, true, false] {
        assert!(tx
            .try_send(Loud {
                drops: &drops,
                panics
            })
            .is_ok());
    }
    std::mem::forget(rx);
    drop(tx);
    assert!(catch_unwind(AssertUnwindSafe(move || drop(channel))).is_err());
    let dropped = drops.load(SeqCst);
    assert!(
        (2..=3).contains(&dropped),
        "{dropped} drops of 3 messages: the panicking one and those before it, at most once each"
    );
}

// ---------------------------------------------------------------------------------------------
// Re-entrancy: user code (foreign wakers, message destructors) that uses the channel again.

/// A waiting receiver's foreign waker whose clone sends, whose drop sends, and whose wake asks
/// the channel for its state and closes it: each runs outside the channel's lock, so nothing
/// panics or deadlocks, and each nested call's effect is seen.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn a_receivers_foreign_waker_that_uses_the_channel() {
    static CHANNEL: Channel<u32, 2> = Channel::new();
    static SEEN_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);
    static SEEN_CLOSED: AtomicBool = AtomicBool::new(false);
    let (tx, mut rx) = CHANNEL.split();
    let tx = Arc::new(StdMutex::new(tx));
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // The clone (made to register, outside the lock) sends: the receive takes that message.
    let sender = tx.clone();
    a.on_clone(move || {
        assert_eq!(CHANNEL.len(), 0);
        assert!(!CHANNEL.is_closed());
        sender.lock().unwrap().try_send(7).unwrap();
    });
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wa)),
        Poll::Ready(Some(7))
    );

    // The replaced waker's drop sends, which wakes the new one.
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&wa)), Poll::Pending);
    let sender = tx.clone();
    a.on_drop(move || {
        assert!(CHANNEL.is_empty());
        sender.lock().unwrap().try_send(8).unwrap();
    });
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&wb)), Poll::Pending);
    assert_eq!(b.wakes(), 1);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wb)),
        Poll::Ready(Some(8))
    );

    // The wake by a send reads the channel, which holds the message already.
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&wa)), Poll::Pending);
    a.on_wake(|| {
        SEEN_LEN.store(CHANNEL.len(), SeqCst);
        SEEN_CLOSED.store(CHANNEL.is_closed(), SeqCst);
    });
    tx.lock().unwrap().try_send(9).unwrap();
    assert_eq!(SEEN_LEN.load(SeqCst), 1);
    assert!(!SEEN_CLOSED.load(SeqCst));
    assert_eq!(rx.try_recv(), Ok(9));

    // The wake by a close closes again and reads the channel.
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&wa)), Poll::Pending);
    a.on_wake(|| {
        CHANNEL.close();
        SEEN_CLOSED.store(CHANNEL.is_closed(), SeqCst);
        SEEN_LEN.store(CHANNEL.len(), SeqCst);
    });
    CHANNEL.close();
    assert!(SEEN_CLOSED.load(SeqCst));
    assert_eq!(SEEN_LEN.load(SeqCst), 0);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wa)),
        Poll::Ready(None)
    );

    drop(tx);
    drop(rx);
    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// A waiting sender's foreign waker whose clone receives (frees a slot), whose drop receives,
/// and whose wake reads the channel; a stale waker (its send dropped) woken and dropped by a
/// receive; and a wake by the receiver's drop that reads the closed channel.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn a_senders_foreign_waker_that_uses_the_channel() {
    static CHANNEL: Channel<u32, 1> = Channel::new();
    static SEEN_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);
    static SEEN_CLOSED: AtomicBool = AtomicBool::new(false);
    static SEEN_FULL: AtomicBool = AtomicBool::new(true);
    static STALE_DROPPED: AtomicBool = AtomicBool::new(false);
    let (mut tx, rx) = CHANNEL.split();
    let rx = Arc::new(StdMutex::new(Some(rx)));
    let receive = |rx: &Arc<StdMutex<Option<Receiver<'static, u32, 1>>>>| {
        rx.lock().unwrap().as_mut().unwrap().try_recv()
    };
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // Full; the clone (made to register) receives, so the send goes in.
    tx.try_send(1).unwrap();
    let receiver = rx.clone();
    a.on_clone(move || {
        assert!(CHANNEL.is_full());
        assert_eq!(receive(&receiver), Ok(1));
    });
    assert_eq!(poll(pin!(tx.send(2)), &wa), Poll::Ready(Ok(())));

    // Full; the replaced waker's drop receives, which wakes the new one.
    {
        let mut send = pin!(tx.send(3));
        assert!(poll(send.as_mut(), &wa).is_pending());
        let receiver = rx.clone();
        a.on_drop(move || assert_eq!(receive(&receiver), Ok(2)));
        assert!(poll(send.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        assert_eq!(poll(send, &wb), Poll::Ready(Ok(())));
    }

    // Full; the wake by a receive reads the channel, which has the free slot already.
    {
        let mut send = pin!(tx.send(4));
        assert!(poll(send.as_mut(), &wa).is_pending());
        a.on_wake(|| {
            SEEN_LEN.store(CHANNEL.len(), SeqCst);
            SEEN_FULL.store(CHANNEL.is_full(), SeqCst);
        });
        assert_eq!(receive(&rx), Ok(3));
        assert_eq!(SEEN_LEN.load(SeqCst), 0);
        assert!(!SEEN_FULL.load(SeqCst));
        assert_eq!(poll(send, &wa), Poll::Ready(Ok(())));
    }

    // A send dropped while it waits leaves its waker behind; the next receive wakes and drops
    // that stale waker, whose wake and drop use the channel.
    {
        let mut send = Box::pin(tx.send(5));
        assert!(poll(send.as_mut(), &wb).is_pending());
        drop(send);
        b.on_wake(|| SEEN_LEN.store(CHANNEL.len(), SeqCst));
        b.on_drop(|| STALE_DROPPED.store(!CHANNEL.is_closed(), SeqCst));
        assert_eq!(receive(&rx), Ok(4));
        assert_eq!(b.wakes(), 2);
        assert_eq!(SEEN_LEN.load(SeqCst), 0);
        assert!(STALE_DROPPED.load(SeqCst));
        assert_eq!(receive(&rx), Err(TryRecvError::Empty), "5 was not sent");
    }

    // Full; the receiver's drop wakes the waiting send, whose wake sees the channel closed and
    // emptied.
    tx.try_send(6).unwrap();
    {
        let mut send = pin!(tx.send(7));
        assert!(poll(send.as_mut(), &wa).is_pending());
        a.on_wake(|| {
            SEEN_CLOSED.store(CHANNEL.is_closed(), SeqCst);
            SEEN_LEN.store(CHANNEL.len(), SeqCst);
        });
        drop(rx.lock().unwrap().take());
        assert!(SEEN_CLOSED.load(SeqCst));
        assert_eq!(SEEN_LEN.load(SeqCst), 0);
        assert_eq!(poll(send, &wa), Poll::Ready(Err(SendError(7))));
    }

    drop(tx);
    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// A foreign waker whose wake uses the channel, in either build: kept and woken by the send
/// (by default), or woken at once by the poll that waits (`task-wakers-only`). Either way it
/// runs unlocked and exactly once, and the next poll gets the message.
#[test]
fn a_foreign_wake_that_uses_the_channel_runs_unlocked() {
    static CHANNEL: Channel<u32, 1> = Channel::new();
    static WOKEN_WITH: AtomicUsize = AtomicUsize::new(usize::MAX);
    let (mut tx, mut rx) = CHANNEL.split();
    let f = Foreign::new();
    let w = f.waker();
    f.on_wake(|| {
        assert!(!CHANNEL.is_closed());
        WOKEN_WITH.store(CHANNEL.len(), SeqCst);
    });
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&w)), Poll::Pending);
    tx.try_send(1).unwrap();
    assert_eq!(f.wakes(), 1);
    assert!(WOKEN_WITH.load(SeqCst) <= 1);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&w)),
        Poll::Ready(Some(1))
    );
    drop((tx, rx));
    drop(w);
    assert!(f.hooks_ran() && f.balanced());
}

/// Messages whose destructor uses the channel: dropped by the receiver's drop (one at a time,
/// unlocked: each sees the ones still queued), with a waiting send that is dropped, and when
/// refused; one of them closes the channel from its destructor.
#[test]
fn a_message_drop_that_uses_the_channel() {
    static CHANNEL: Channel<Reentrant, 3> = Channel::new();
    static SEEN: StdMutex<Vec<(usize, bool)>> = StdMutex::new(Vec::new());
    struct Reentrant {
        closes: bool,
    }
    impl Drop for Reentrant {
        fn drop(&mut self) {
            // Each takes the channel's lock: a panic (re-entered lock) or a deadlock if a
            // message were dropped under it.
            let seen = (CHANNEL.len(), CHANNEL.is_closed());
            assert_eq!(CHANNEL.is_full(), seen.0 == 3);
            if self.closes {
                CHANNEL.close();
            }
            SEEN.lock().unwrap().push(seen);
        }
    }
    let seen = || std::mem::take(&mut *SEEN.lock().unwrap());
    let plain = || Reentrant { closes: false };

    let (mut tx, mut rx) = CHANNEL.split();
    for _ in 0..3 {
        assert!(tx.try_send(plain()).is_ok());
    }
    // Refused, full: dropped by the caller.
    assert!(matches!(tx.try_send(plain()), Err(TrySendError::Full(_))));
    assert_eq!(seen(), [(3, false)]);
    // A waiting send dropped: its message goes with it.
    {
        let mut send = Box::pin(tx.send(plain()));
        assert!(poll_once(send.as_mut()).is_pending());
        drop(send);
    }
    assert_eq!(seen(), [(3, false)]);
    // Received, then dropped by the taker.
    drop(rx.try_recv().ok().unwrap());
    assert_eq!(seen(), [(2, false)]);
    // A message that closes the channel from its destructor.
    drop(Reentrant { closes: true });
    assert_eq!(seen(), [(2, false)]);
    assert!(CHANNEL.is_closed());
    // Refused, closed.
    match poll_once(pin!(tx.send(plain()))) {
        Poll::Ready(Err(SendError(message))) => drop(message),
        _ => panic!("a send on a closed channel must fail"),
    }
    assert_eq!(seen(), [(2, true)]);
    // The receiver's drop drops the two queued, each after taking it out, unlocked.
    drop(rx);
    assert_eq!(seen(), [(1, true), (0, true)]);
    drop(tx);
    assert!(CHANNEL.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Two threads.

/// How long a cross-thread test may take before it counts as hung (a lost wake-up).
fn limit() -> Duration {
    Duration::from_secs(if cfg!(miri) { 3_600 } else { 60 })
}

/// `block_on` with a check of the time limit on every idle turn.
fn block_on_bounded<F: Future>(future: F, start: Instant) -> F::Output {
    ebbtide_core::block_on_with_idle(future, || {
        assert!(start.elapsed() < limit(), "stuck: a lost wake-up?");
        std::thread::yield_now();
    })
}

/// One thread sends, another receives (each in `block_on`): every message arrives once and in
/// order, and the sender's drop ends the stream.
#[test]
fn a_sender_thread_and_a_receiver_thread_keep_the_order() {
    let count: u32 = if cfg!(miri) { 200 } else { 10_000 };
    let channel: Channel<u32, 8> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    let start = Instant::now();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            block_on_bounded(
                async move {
                    for n in 0..count {
                        tx.send(n).await.unwrap();
                    }
                },
                start,
            )
        });
        let consumer = scope.spawn(move || {
            block_on_bounded(
                async move {
                    let mut expected = 0;
                    while let Some(n) = rx.recv().await {
                        assert_eq!(n, expected, "out of order");
                        expected += 1;
                    }
                    expected
                },
                start,
            )
        });
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), count);
    });
    assert!(channel.is_closed() && channel.is_empty());
}

/// A thread woken through a real foreign waker (it parks until unparked): a wake lost between
/// threads would leave it parked, which the time limit catches. The receiver drops its end
/// midway; the sender's pending send gets its message back.
#[test]
fn threads_parked_on_foreign_wakers_are_woken_and_see_the_receiver_go() {
    struct Unpark {
        thread: std::thread::Thread,
        woken: AtomicBool,
    }
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.store(true, SeqCst);
            self.thread.unpark();
        }
    }
    /// Polls `future` on this thread, parking between polls until its waker is woken.
    fn block_on_parking<F: Future>(future: F, start: Instant) -> F::Output {
        let unpark = Arc::new(Unpark {
            thread: std::thread::current(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(unpark.clone());
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = poll(future.as_mut(), &waker) {
                return output;
            }
            while !unpark.woken.swap(false, SeqCst) {
                let left = limit().checked_sub(start.elapsed());
                let left = left.expect("parked past the limit: a lost wake-up");
                std::thread::park_timeout(left);
            }
        }
    }

    let count: u32 = if cfg!(miri) { 100 } else { 5_000 };
    let keep = count / 2;
    let channel: Channel<u32, 2> = Channel::new();
    let (mut tx, mut rx) = channel.split();
    let start = Instant::now();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            block_on_parking(
                async move {
                    for n in 0..count {
                        if let Err(SendError(back)) = tx.send(n).await {
                            return Some(back);
                        }
                    }
                    None
                },
                start,
            )
        });
        let consumer = scope.spawn(move || {
            block_on_parking(
                async move {
                    for expected in 0..keep {
                        assert_eq!(rx.recv().await, Some(expected));
                    }
                    drop(rx);
                },
                start,
            )
        });
        consumer.join().unwrap();
        let refused = producer.join().unwrap().expect("the receiver went first");
        // The first refused message follows those queued when the receiver went (at most two,
        // lost with it).
        assert!((keep..=keep + 2).contains(&refused), "refused {refused}");
    });
    assert!(channel.is_closed() && channel.is_empty());
}

/// Compile-time checks: the ends and futures cross threads for `Send` messages, and the types
/// name what the docs promise.
#[test]
fn the_ends_and_futures_are_send() {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}
    assert_sync::<Channel<u32, 2>>();
    assert_send::<Sender<'static, u32, 2>>();
    assert_send::<Receiver<'static, u32, 2>>();
    assert_send::<SendFuture<'static, u32, 2>>();
    assert_send::<RecvFuture<'static, u32, 2>>();
}

// ---------------------------------------------------------------------------------------------
// `split_mut`: the ends from an exclusive borrow, with no check at run time.

/// The ends of `split_mut` work as `split`'s, between two tasks (`'static` ends from a leaked
/// `&'static mut`, as cortex-m-rt's `#[entry]` gives a `static mut`), and every message is
/// dropped once.
#[test]
fn split_mut_ends_work_between_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 256> = TaskPool::new();
    let drops: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let channel: &'static mut Channel<Counted<'static>, 2> = Box::leak(Box::new(Channel::new()));
    let runner = EXECUTOR.runner().unwrap();
    let (mut tx, mut rx) = channel.split_mut();
    let receiver = runner
        .spawner()
        .spawn(&POOL, async move {
            let mut ids = Vec::new();
            while let Some(message) = rx.recv().await {
                ids.push(message.id);
            }
            ids
        })
        .unwrap();
    let sender = runner
        .spawner()
        .spawn(&POOL, async move {
            for id in 0..5 {
                tx.send(counted(drops, id)).await.unwrap();
            }
        })
        .unwrap();
    let (ids, ()) = runner.run_until(
        async { (receiver.await.unwrap(), sender.await.unwrap()) },
        || {},
    );
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    assert_eq!(drops.load(SeqCst), 5);
}

/// When the ends of `split_mut` are gone the channel is closed for good: a later `split` (the
/// channel was not marked split) gives ends of the closed channel, and a message queued when the
/// receiver went is dropped then, once.
#[test]
fn split_mut_ends_close_the_channel_for_good() {
    let drops = AtomicUsize::new(0);
    let mut channel: Channel<Counted<'_>, 2> = Channel::new();
    let (mut tx, rx) = channel.split_mut();
    tx.try_send(counted(&drops, 1)).unwrap();
    drop(rx);
    assert_eq!(
        drops.load(SeqCst),
        1,
        "the queued message went with the receiver"
    );
    drop(tx);
    let (mut tx, mut rx) = channel
        .try_split()
        .expect("split_mut does not mark the channel");
    assert!(matches!(
        tx.try_send(counted(&drops, 2)),
        Err(TrySendError::Closed(_))
    ));
    assert_eq!(
        drops.load(SeqCst),
        2,
        "the refused message was dropped once"
    );
    assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Disconnected));
}

/// `split_mut` needs the borrow that ends hold: with ends alive it does not compile, and after
/// ends are forgotten (which ends the borrow) it gives ends again, of the closed channel or the
/// open one as the forgotten ends left it. Forgetting is safe, so nothing here may misbehave.
#[test]
fn split_mut_after_forgotten_ends() {
    let mut channel: Channel<u32, 2> = Channel::new();
    let (mut tx, rx) = channel.split_mut();
    tx.try_send(1).unwrap();
    core::mem::forget((tx, rx));
    // The old ends never closed the channel: the new ones find it open, with the message.
    let (mut tx, mut rx) = channel.split_mut();
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}
