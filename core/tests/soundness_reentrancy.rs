//! Re-entering a sync primitive from user code that runs while the primitive is being used.
//!
//! A primitive's state sits behind a `BlockingMutex`, whose `lock` hands out `&mut` state. The
//! default `CriticalSectionRawMutex` nests (critical-section's std implementation, and nested
//! sections on single-core bare metal), and `LocalRawMutex` does not lock at all, so user code that
//! ran inside the lock and touched the same primitive got a second `&mut` to the same state: a
//! use-after-free in safe code. The doors, each guarded by a test below:
//!
//! - closures run on the value: `Watch::with`, `watch::Receiver::with`, `Sender::send_modify`,
//!   `Sender::send_if_modified` (they still run under the lock, and re-entering now panics);
//! - `T::clone` (`Watch::get`, `watch::Receiver::get`/`get_and_update`, broadcast receives) and
//!   `T: Debug` (`Watch`'s `Debug`): likewise, a clean panic;
//! - a foreign waker's `clone` and `drop`, at every waiter registration and re-registration: these
//!   now run outside the lock, so re-entering simply works, and each test checks the outcome.
//!
//! Every test fails on the code before the fix (Miri reports undefined behaviour; most also give
//! the wrong outcome natively). CI runs `soundness_*` files under Miri with several seeds.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};

use ebbtide_core::blocking_mutex::LocalRawMutex;
use ebbtide_core::io::{AsyncRead, AsyncWrite, Pipe};
use ebbtide_core::sync::watch::Watch;
use ebbtide_core::sync::{broadcast, mpsc, oneshot, Mutex, Notify, Semaphore};

/// What the re-entrancy check says (a substring of its panic message).
const REENTERED: &str = "used from inside its own critical section";

// ---------------------------------------------------------------------------------------------
// A foreign waker whose `clone` and `drop` run a hook (once each, when armed).

type Hook = Box<dyn FnOnce() + Send>;

struct HookData {
    on_clone: StdMutex<Option<Hook>>,
    on_drop: StdMutex<Option<Hook>>,
    clones: AtomicUsize,
    /// Wakers made by `Foreign::waker`.
    made: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
}

/// The test's handle on one foreign waker identity: arms hooks, makes wakers, reads counts.
struct Foreign(Arc<HookData>);

static VTABLE: RawWakerVTable = RawWakerVTable::new(vt_clone, vt_wake, vt_wake_by_ref, vt_drop);

/// # Safety
///
/// `data` comes from `Arc::<HookData>::into_raw` and owns one strong count.
unsafe fn hook_data<'a>(data: *const ()) -> &'a HookData {
    // SAFETY: by the caller.
    unsafe { &*(data as *const HookData) }
}

unsafe fn vt_clone(data: *const ()) -> RawWaker {
    // SAFETY: every waker with `VTABLE` owns a strong count of its `Arc<HookData>`.
    unsafe { Arc::increment_strong_count(data as *const HookData) };
    // SAFETY: as above.
    let hook = unsafe { hook_data(data) };
    hook.clones.fetch_add(1, SeqCst);
    let run = hook.on_clone.lock().unwrap().take();
    if let Some(run) = run {
        run();
    }
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
    unsafe { hook_data(data) }.wakes.fetch_add(1, SeqCst);
}

unsafe fn vt_drop(data: *const ()) {
    // SAFETY: as in `vt_clone`; the count is given up only after the hook ran.
    let hook = unsafe { hook_data(data) };
    hook.drops.fetch_add(1, SeqCst);
    let run = hook.on_drop.lock().unwrap().take();
    if let Some(run) = run {
        run();
    }
    // SAFETY: this waker's count, given up once.
    unsafe { Arc::decrement_strong_count(data as *const HookData) };
}

impl Foreign {
    fn new() -> Foreign {
        Foreign(Arc::new(HookData {
            on_clone: StdMutex::new(None),
            on_drop: StdMutex::new(None),
            clones: AtomicUsize::new(0),
            made: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        }))
    }

    /// A waker of this identity (making it runs no hook).
    fn waker(&self) -> Waker {
        self.0.made.fetch_add(1, SeqCst);
        let data = Arc::into_raw(self.0.clone()) as *const ();
        // SAFETY: the vtable's functions keep the `RawWaker` contract: the data is an `Arc` whose
        // count each waker owns, and everything in it is thread-safe.
        unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    }

    /// Runs `hook` inside the next clone of one of this identity's wakers.
    fn on_clone(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_clone.lock().unwrap() = Some(Box::new(hook));
    }

    /// Runs `hook` inside the next drop of one of this identity's wakers.
    fn on_drop(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_drop.lock().unwrap() = Some(Box::new(hook));
    }

    /// Whether both hooks ran (or were never armed).
    fn hooks_ran(&self) -> bool {
        self.0.on_clone.lock().unwrap().is_none() && self.0.on_drop.lock().unwrap().is_none()
    }

    fn wakes(&self) -> usize {
        self.0.wakes.load(SeqCst)
    }

    /// Every waker of this identity is gone: the primitive neither kept nor double-dropped one
    /// (call it once the test's own wakers are dropped).
    fn balanced(&self) -> bool {
        let made = self.0.clones.load(SeqCst) + self.0.made.load(SeqCst);
        made == self.0.drops.load(SeqCst) && Arc::strong_count(&self.0) == 1
    }
}

fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Polls with a plain no-op waker, so the primitive lets go of any foreign waker it kept.
fn poll_noop<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    poll(future, Waker::noop())
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic>")
    }
}

/// Runs `f`, which must panic with the re-entrancy message.
fn assert_reentry_panics<R>(f: impl FnOnce() -> R) {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("re-entering a primitive from inside its lock did not panic"),
        Err(payload) => {
            let message = panic_message(payload);
            assert!(message.contains(REENTERED), "unexpected panic: {message}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Closures run under the lock: a clean panic, and the primitive stays usable.

/// Door: `Watch::with` / `Receiver::with` closure that sends (frees the value it borrows).
#[test]
fn watch_with_closure_that_sends() {
    let watch: Watch<String> = Watch::new(String::from("old value"));
    let tx = watch.sender();
    let rx = watch.receiver();
    // `v` points into the watch; the send would free it while the closure still reads it.
    assert_reentry_panics(|| {
        watch.with(|v| {
            tx.send(String::from("new value"));
            v.len()
        })
    });
    assert_reentry_panics(|| {
        rx.with(|v| {
            tx.send(String::from("new value"));
            v.len()
        })
    });
    // Nothing was sent, and the watch works.
    assert!(!rx.has_changed());
    assert_eq!(watch.get(), "old value");
    tx.send(String::from("after"));
    assert!(rx.has_changed());
    assert_eq!(rx.with(|v| v.clone()), "after");
}

/// Door: the same with `LocalRawMutex`, which has no lock at all.
#[test]
fn watch_with_closure_that_sends_local_raw_mutex() {
    let watch: Watch<String, LocalRawMutex> = Watch::with_mutex(String::from("old value"));
    let tx = watch.sender();
    assert_reentry_panics(|| {
        watch.with(|v| {
            tx.send(String::from("new value"));
            v.len()
        })
    });
    assert_eq!(watch.get(), "old value");
    tx.send(String::from("after"));
    assert_eq!(watch.get(), "after");
}

/// Door: `send_modify` / `send_if_modified` closures that use the watch.
#[test]
fn watch_send_modify_closure_that_reenters() {
    let watch: Watch<String> = Watch::new(String::from("old value"));
    let tx = watch.sender();
    let rx = watch.receiver();
    assert_reentry_panics(|| {
        tx.send_modify(|v| {
            tx.send(String::from("inner"));
            v.push_str(" and more");
        })
    });
    assert_reentry_panics(|| {
        tx.send_if_modified(|v| {
            let seen = watch.get();
            v.push_str(&seen);
            true
        })
    });
    // Neither change was published (the closures did not finish), and the watch works.
    assert!(!rx.has_changed());
    assert_eq!(watch.get(), "old value");
    tx.send_modify(|v| v.push('!'));
    assert!(rx.has_changed());
    assert_eq!(watch.get(), "old value!");
}

// ---------------------------------------------------------------------------------------------
// `T::clone` / `T: Debug` run under the lock: a clean panic, and the primitive stays usable.

/// A value whose `clone` (and `Debug`), when armed, sends a new value into `CLONE_WATCH` while
/// `self` (the watch's value) is borrowed, then reads `self`.
struct WatchSendsOnClone(String);

static CLONE_WATCH: Watch<WatchSendsOnClone> = Watch::new(WatchSendsOnClone(String::new()));
static CLONE_WATCH_ARMED: AtomicBool = AtomicBool::new(false);

impl WatchSendsOnClone {
    fn reenter(&self) {
        if CLONE_WATCH_ARMED.swap(false, SeqCst) {
            let tx = CLONE_WATCH.sender();
            tx.send(WatchSendsOnClone(String::from("sent from clone")));
            std::mem::forget(tx); // keep the watch open
        }
    }
}

impl Clone for WatchSendsOnClone {
    fn clone(&self) -> Self {
        self.reenter();
        WatchSendsOnClone(self.0.clone())
    }
}

impl std::fmt::Debug for WatchSendsOnClone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.reenter();
        f.write_str(&self.0)
    }
}

/// Door: `T::clone` in `Watch::get`, `Receiver::get`, `get_and_update`, and `T: Debug` in the
/// watch's `Debug`, each sending into the watch while the value is borrowed.
#[test]
fn watch_value_clone_or_debug_that_reenters() {
    let tx = CLONE_WATCH.sender();
    tx.send(WatchSendsOnClone(String::from("first")));
    let mut rx = CLONE_WATCH.receiver();

    CLONE_WATCH_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| CLONE_WATCH.get());
    CLONE_WATCH_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| rx.get());
    CLONE_WATCH_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| rx.get_and_update());
    CLONE_WATCH_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| format!("{CLONE_WATCH:?}"));

    // Nothing was sent or marked seen, and the watch works.
    assert!(!rx.has_changed());
    assert_eq!(CLONE_WATCH.get().0, "first");
    tx.send(WatchSendsOnClone(String::from("second")));
    assert!(rx.has_changed());
    assert_eq!(rx.get_and_update().0, "second");
    assert!(!rx.has_changed());
}

/// A message whose `clone`, when armed, sends into `CLONE_BROADCAST` (capacity 1, so the send
/// overwrites the very message being cloned), then reads `self`.
struct BroadcastSendsOnClone(String);

static CLONE_BROADCAST: broadcast::Channel<BroadcastSendsOnClone, 1> = broadcast::Channel::new();
static CLONE_BROADCAST_ARMED: AtomicBool = AtomicBool::new(false);

impl Clone for BroadcastSendsOnClone {
    fn clone(&self) -> Self {
        if CLONE_BROADCAST_ARMED.swap(false, SeqCst) {
            let tx = CLONE_BROADCAST.sender();
            let _ = tx.send(BroadcastSendsOnClone(String::from("sent from clone")));
            std::mem::forget(tx); // keep the channel open
        }
        BroadcastSendsOnClone(self.0.clone())
    }
}

/// Door: `T::clone` in a broadcast receive (`try_recv`, the `recv` future) that sends, overwriting
/// the message being cloned.
#[test]
fn broadcast_message_clone_that_reenters() {
    let tx = CLONE_BROADCAST.sender();
    // Two receivers, so the first to read a message clones it (the last one takes it).
    let mut a = CLONE_BROADCAST.subscribe();
    let mut b = CLONE_BROADCAST.subscribe();
    tx.send(BroadcastSendsOnClone(String::from("first")))
        .unwrap();

    CLONE_BROADCAST_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| a.try_recv());
    // The failed receive took nothing: `a` still gets the message (a clone), then `b` (the last
    // reader, who takes it).
    assert_eq!(a.try_recv().unwrap().0, "first");
    assert_eq!(b.try_recv().unwrap().0, "first");

    tx.send(BroadcastSendsOnClone(String::from("second")))
        .unwrap();
    CLONE_BROADCAST_ARMED.store(true, SeqCst);
    assert_reentry_panics(|| {
        let mut recv = pin!(b.recv());
        poll_noop(recv.as_mut())
    });
    // The panic in the future's poll left the counts right: `b` reads the message again, and `a`,
    // the last reader, takes it.
    assert_eq!(b.try_recv().unwrap().0, "second");
    assert_eq!(a.try_recv().unwrap().0, "second");
    for rx in [&mut a, &mut b] {
        assert_eq!(
            rx.try_recv().map(|m| m.0),
            Err(broadcast::TryRecvError::Empty)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Foreign wakers whose clone/drop re-enter: they run outside the lock now, so this just works.

/// Door: a foreign waker's clone (first registration) and drop (re-registration, dropped future)
/// that notify.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn notify_foreign_waker_reenters() {
    static NOTIFY: Notify = Notify::new();
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // Registering clones `a`, which stores a permit: the future takes it.
    a.on_clone(|| NOTIFY.notify_one());
    let mut first = pin!(NOTIFY.notified());
    assert_eq!(poll(first.as_mut(), &wa), Poll::Ready(()));

    // Re-registering with `b` drops the stored `a`, which notifies: `b` is woken, and the future
    // completes.
    let mut second = pin!(NOTIFY.notified());
    assert!(poll(second.as_mut(), &wa).is_pending());
    a.on_drop(|| NOTIFY.notify_one());
    assert!(poll(second.as_mut(), &wb).is_pending());
    assert_eq!(b.wakes(), 1);
    assert_eq!(poll(second.as_mut(), &wb), Poll::Ready(()));

    // Dropping a waiting future drops its waker, which re-enters.
    let mut third = Box::pin(NOTIFY.notified());
    assert!(poll(third.as_mut(), &wb).is_pending());
    b.on_drop(|| NOTIFY.notify_waiters());
    drop(third);

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that add permits while `acquire` registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn semaphore_foreign_waker_reenters() {
    static SEMAPHORE: Semaphore = Semaphore::new(0);
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    a.on_clone(|| SEMAPHORE.add_permits(1));
    let mut first = pin!(SEMAPHORE.acquire());
    match poll(first.as_mut(), &wa) {
        Poll::Ready(Ok(permit)) => permit.forget(),
        _ => panic!("the permit added by the waker's clone was not taken"),
    }
    assert_eq!(SEMAPHORE.available_permits(), 0);

    let mut second = pin!(SEMAPHORE.acquire_many(2));
    assert!(poll(second.as_mut(), &wa).is_pending());
    a.on_drop(|| SEMAPHORE.add_permits(2));
    assert!(poll(second.as_mut(), &wb).is_pending());
    assert_eq!(b.wakes(), 1);
    match poll(second.as_mut(), &wb) {
        Poll::Ready(Ok(permit)) => assert_eq!(permit.num_permits(), 2),
        _ => panic!("the permits added by the old waker's drop were not assigned"),
    }
    assert_eq!(SEMAPHORE.available_permits(), 2);

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that unlock the `Mutex` while `lock` registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn mutex_foreign_waker_reenters() {
    static MUTEX: Mutex<u32> = Mutex::new(0);
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // The lock is held; the waiting task's waker clone unlocks it.
    let guard = MUTEX.try_lock().unwrap();
    a.on_clone(move || drop(guard));
    {
        let mut lock = pin!(MUTEX.lock());
        match poll(lock.as_mut(), &wa) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the unlock done by the waker's clone was missed"),
        }
    }

    let guard = MUTEX.try_lock().unwrap();
    {
        let mut lock = pin!(MUTEX.lock());
        assert!(poll(lock.as_mut(), &wa).is_pending());
        a.on_drop(move || drop(guard));
        assert!(poll(lock.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        match poll(lock.as_mut(), &wb) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the unlock done by the old waker's drop was missed"),
        }
    }
    assert_eq!(*MUTEX.try_lock().unwrap(), 2);

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that send while `recv` registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn mpsc_receiver_foreign_waker_reenters() {
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let (tx, mut rx) = CHANNEL.split();
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    let sender = tx.clone();
    a.on_clone(move || sender.try_send(7).unwrap());
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(poll(recv.as_mut(), &wa), Poll::Ready(Some(7)));
    }
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &wa).is_pending());
        let sender = tx.clone();
        a.on_drop(move || sender.try_send(8).unwrap());
        assert!(poll(recv.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        assert_eq!(poll(recv.as_mut(), &wb), Poll::Ready(Some(8)));
    }
    // Let go of the stored foreign waker.
    assert!(poll_noop(pin!(rx.recv())).is_pending());

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
    drop(tx);
}

/// Door: a foreign waker's clone and drop that receive (free a slot) while a full `send` registers,
/// and the drop of a waiting send's node.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn mpsc_sender_foreign_waker_reenters() {
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let (tx, rx) = CHANNEL.split();
    let rx = Arc::new(StdMutex::new(rx));
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // Full; the waiting sender's waker clone makes room.
    tx.try_send(1).unwrap();
    let receiver = rx.clone();
    a.on_clone(move || assert_eq!(receiver.lock().unwrap().try_recv(), Ok(1)));
    {
        let mut send = pin!(tx.send(2));
        assert_eq!(poll(send.as_mut(), &wa), Poll::Ready(Ok(())));
    }
    // Full again; the replaced waker's drop makes room, which grants it to the waiting sender.
    {
        let mut send = pin!(tx.send(3));
        assert!(poll(send.as_mut(), &wa).is_pending());
        let receiver = rx.clone();
        a.on_drop(move || assert_eq!(receiver.lock().unwrap().try_recv(), Ok(2)));
        assert!(poll(send.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        assert_eq!(poll(send.as_mut(), &wb), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.lock().unwrap().try_recv(), Ok(3));

    // A waiting sender dropped: its node's waker is dropped, and re-enters.
    tx.try_send(4).unwrap();
    let mut send = Box::pin(tx.send(5));
    assert!(poll(send.as_mut(), &wb).is_pending());
    let receiver = rx.clone();
    b.on_drop(move || assert_eq!(receiver.lock().unwrap().try_recv(), Ok(4)));
    drop(send);
    assert!(CHANNEL.is_empty());

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that send while the `Receiver` registers, and a clone
/// that drops the receiver while `poll_closed` registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn oneshot_foreign_waker_reenters() {
    static FIRST: oneshot::Channel<u32> = oneshot::Channel::new();
    static SECOND: oneshot::Channel<u32> = oneshot::Channel::new();
    static THIRD: oneshot::Channel<u32> = oneshot::Channel::new();
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    // Receiver: the waker's clone sends.
    let (tx, rx) = FIRST.split();
    a.on_clone(move || tx.send(1).unwrap());
    let mut rx = pin!(rx);
    assert_eq!(poll(rx.as_mut(), &wa), Poll::Ready(Ok(1)));

    // Receiver: the replaced waker's drop sends.
    let (tx, rx) = SECOND.split();
    let mut rx = pin!(rx);
    assert!(poll(rx.as_mut(), &wa).is_pending());
    a.on_drop(move || tx.send(2).unwrap());
    assert!(poll(rx.as_mut(), &wb).is_pending());
    assert_eq!(b.wakes(), 1);
    assert_eq!(poll(rx.as_mut(), &wb), Poll::Ready(Ok(2)));

    // Sender's `poll_closed`: the waker's clone closes the channel.
    let (mut tx, rx) = THIRD.split();
    let rx = Arc::new(StdMutex::new(Some(rx)));
    let receiver = rx.clone();
    b.on_clone(move || drop(receiver.lock().unwrap().take()));
    assert_eq!(
        tx.poll_closed(&mut Context::from_waker(&wb)),
        Poll::Ready(())
    );
    assert!(rx.lock().unwrap().is_none());
    drop(tx);

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that send while `changed` registers, and the drop of a
/// waiting `changed` future.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn watch_changed_foreign_waker_reenters() {
    static WATCH: Watch<u32> = Watch::new(0);
    let tx = WATCH.sender();
    let mut rx = WATCH.receiver();
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    let sender = tx.clone();
    a.on_clone(move || sender.send(1));
    {
        let mut changed = pin!(rx.changed());
        assert_eq!(poll(changed.as_mut(), &wa), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.get(), 1);
    {
        let mut changed = pin!(rx.changed());
        assert!(poll(changed.as_mut(), &wa).is_pending());
        let sender = tx.clone();
        a.on_drop(move || sender.send(2));
        assert!(poll(changed.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        assert_eq!(poll(changed.as_mut(), &wb), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.get(), 2);
    {
        // Dropping a waiting future drops its waker, which re-enters.
        let mut changed = Box::pin(rx.changed());
        assert!(poll(changed.as_mut(), &wb).is_pending());
        let sender = tx.clone();
        b.on_drop(move || sender.send(3));
        drop(changed);
    }
    assert!(rx.has_changed());

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that send while `recv` registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn broadcast_recv_foreign_waker_reenters() {
    static CHANNEL: broadcast::Channel<u32, 2> = broadcast::Channel::new();
    let tx = CHANNEL.sender();
    let mut rx = CHANNEL.subscribe();
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    a.on_clone(|| {
        let tx = CHANNEL.sender();
        tx.send(1).unwrap();
        std::mem::forget(tx); // keep the channel open
    });
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(poll(recv.as_mut(), &wa), Poll::Ready(Ok(1)));
    }
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &wa).is_pending());
        a.on_drop(|| {
            let tx = CHANNEL.sender();
            tx.send(2).unwrap();
            std::mem::forget(tx);
        });
        assert!(poll(recv.as_mut(), &wb).is_pending());
        assert_eq!(b.wakes(), 1);
        assert_eq!(poll(recv.as_mut(), &wb), Poll::Ready(Ok(2)));
    }
    drop(tx);

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}

/// Door: a foreign waker's clone and drop that write while a read of an empty pipe registers.
#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (see soundness_task_wakers_only)"
)]
fn pipe_foreign_waker_reenters() {
    static PIPE: Pipe<4> = Pipe::new();
    let (mut reader, writer) = PIPE.split();
    let writer = Arc::new(StdMutex::new(writer));
    let a = Foreign::new();
    let b = Foreign::new();
    let (wa, wb) = (a.waker(), b.waker());

    let write = |bytes: &'static [u8]| {
        let writer = writer.clone();
        move || {
            let mut writer = writer.lock().unwrap();
            let polled =
                Pin::new(&mut *writer).poll_write(&mut Context::from_waker(Waker::noop()), bytes);
            assert_eq!(polled, Poll::Ready(Ok(bytes.len())));
        }
    };
    let mut buf = [0u8; 4];
    let mut read = |waker: &Waker, buf: &mut [u8]| {
        Pin::new(&mut reader).poll_read(&mut Context::from_waker(waker), buf)
    };

    a.on_clone(write(b"ab"));
    assert_eq!(read(&wa, &mut buf), Poll::Ready(Ok(2)));
    assert_eq!(&buf[..2], b"ab");

    assert!(read(&wa, &mut buf).is_pending());
    a.on_drop(write(b"cd"));
    assert!(read(&wb, &mut buf).is_pending());
    assert_eq!(b.wakes(), 1);
    assert_eq!(read(&wb, &mut buf), Poll::Ready(Ok(2)));
    assert_eq!(&buf[..2], b"cd");
    // Let go of the stored foreign waker.
    assert!(read(Waker::noop(), &mut buf).is_pending());

    drop((wa, wb));
    assert!(a.hooks_ran() && b.hooks_ran());
    assert!(a.balanced() && b.balanced());
}
