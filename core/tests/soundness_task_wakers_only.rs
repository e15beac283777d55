//! `task-wakers-only`: no primitive keeps a foreign waker; it waits with ebbtide's no-op waker in
//! the foreign waker's place and wakes the foreign waker at once, after unlocking. What it keeps
//! is a one-word `PureWaker` (a task's header or a root waker's scheduler, tagged).
//!
//! The adversarial case is the wake itself: it is the one piece of foreign code these paths still
//! run, so each test's foreign waker re-enters the primitive from `wake_by_ref` (sends, notifies,
//! unlocks), which must find the lock released. Each test also checks that the waker was never
//! cloned or kept (every waker of the identity is gone at the end), and that the busy wait ends:
//! the next poll is ready. CI runs `soundness_*` files under Miri with several seeds.
#![cfg(feature = "task-wakers-only")]

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};

use ebbtide_core::io::{AsyncRead, AsyncWrite, Pipe};
use ebbtide_core::sync::watch::Watch;
use ebbtide_core::sync::{broadcast, mpsc, oneshot, Mutex, Notify, Semaphore};

type Hook = Box<dyn FnOnce() + Send>;

struct WakeData {
    /// Runs inside the next `wake_by_ref`.
    on_wake: StdMutex<Option<Hook>>,
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
}

/// One foreign waker identity: counts clones, drops and wakes, and runs a hook on a wake.
struct Foreign(Arc<WakeData>);

static VTABLE: RawWakerVTable = RawWakerVTable::new(vt_clone, vt_wake, vt_wake_by_ref, vt_drop);

/// # Safety
///
/// `data` comes from `Arc::<WakeData>::into_raw` and owns one strong count.
unsafe fn data<'a>(data: *const ()) -> &'a WakeData {
    // SAFETY: by the caller.
    unsafe { &*(data as *const WakeData) }
}

unsafe fn vt_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: every waker with `VTABLE` owns a strong count of its `Arc<WakeData>`.
    unsafe { Arc::increment_strong_count(ptr as *const WakeData) };
    // SAFETY: as above.
    unsafe { data(ptr) }.clones.fetch_add(1, SeqCst);
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn vt_wake(ptr: *const ()) {
    // SAFETY: we own the waker's count; `vt_drop` gives it up.
    unsafe {
        vt_wake_by_ref(ptr);
        vt_drop(ptr);
    }
}

unsafe fn vt_wake_by_ref(ptr: *const ()) {
    // SAFETY: as in `vt_clone`.
    let data = unsafe { data(ptr) };
    data.wakes.fetch_add(1, SeqCst);
    let hook = data.on_wake.lock().unwrap().take();
    if let Some(hook) = hook {
        hook();
    }
}

unsafe fn vt_drop(ptr: *const ()) {
    // SAFETY: as in `vt_clone`.
    unsafe { data(ptr) }.drops.fetch_add(1, SeqCst);
    // SAFETY: this waker's count, given up once.
    unsafe { Arc::decrement_strong_count(ptr as *const WakeData) };
}

impl Foreign {
    fn new() -> Foreign {
        Foreign(Arc::new(WakeData {
            on_wake: StdMutex::new(None),
            clones: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        }))
    }

    fn waker(&self) -> Waker {
        let ptr = Arc::into_raw(self.0.clone()) as *const ();
        // SAFETY: the vtable keeps the `RawWaker` contract: each waker owns a count of the `Arc`,
        // and everything in it is thread-safe.
        unsafe { Waker::from_raw(RawWaker::new(ptr, &VTABLE)) }
    }

    /// Runs `hook` inside the next wake.
    fn on_wake(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.on_wake.lock().unwrap() = Some(Box::new(hook));
    }

    fn wakes(&self) -> usize {
        self.0.wakes.load(SeqCst)
    }

    /// The primitive never cloned a waker of this identity, and keeps none (call it once the
    /// test's own wakers are dropped); the wake hook ran.
    fn never_kept(&self) {
        assert_eq!(self.0.clones.load(SeqCst), 0, "a foreign waker was cloned");
        assert_eq!(Arc::strong_count(&self.0), 1, "a foreign waker was kept");
        assert!(
            self.0.on_wake.lock().unwrap().is_none(),
            "the wake hook did not run"
        );
    }
}

fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Polls `future` with a foreign waker whose wake runs `hook`: the first poll waits and wakes at
/// once (running the hook, unlocked), the second finds what the hook did.
fn wait_then_ready<F: Future>(
    future: Pin<&mut F>,
    hook: impl FnOnce() + Send + 'static,
) -> F::Output {
    let mut future = future;
    let foreign = Foreign::new();
    let waker = foreign.waker();
    foreign.on_wake(hook);
    assert!(poll(future.as_mut(), &waker).is_pending());
    assert_eq!(
        foreign.wakes(),
        1,
        "the foreign waker was not woken at once"
    );
    let Poll::Ready(output) = poll(future.as_mut(), &waker) else {
        panic!("what the wake did was not seen by the next poll");
    };
    drop(waker);
    foreign.never_kept();
    output
}

#[test]
fn mpsc_receive_with_a_foreign_waker_that_sends() {
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let (tx, mut rx) = CHANNEL.split();
    let sender = tx.clone();
    let got = wait_then_ready(pin!(rx.recv()), move || sender.try_send(7).unwrap());
    assert_eq!(got, Some(7));
    // A closed channel still ends a foreign receive.
    drop(tx);
    assert_eq!(wait_or_ready(pin!(rx.recv())), Some(None));
}

/// Polls once with a fresh foreign waker: `Some` if ready (the waker must not have been woken or
/// kept), `None` if waiting.
fn wait_or_ready<F: Future>(mut future: Pin<&mut F>) -> Option<F::Output> {
    let foreign = Foreign::new();
    let waker = foreign.waker();
    let polled = poll(future.as_mut(), &waker);
    drop(waker);
    assert_eq!(foreign.0.clones.load(SeqCst), 0);
    assert_eq!(Arc::strong_count(&foreign.0), 1);
    match polled {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[test]
fn mpsc_send_to_a_full_channel_with_a_foreign_waker_that_receives() {
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let (tx, rx) = CHANNEL.split();
    let rx = Arc::new(StdMutex::new(rx));
    tx.try_send(1).unwrap();
    let receiver = rx.clone();
    let sent = wait_then_ready(pin!(tx.send(2)), move || {
        assert_eq!(receiver.lock().unwrap().try_recv(), Ok(1));
    });
    assert_eq!(sent, Ok(()));
    assert_eq!(rx.lock().unwrap().try_recv(), Ok(2));

    // A waiting send that is dropped gives its place back: the next one is granted the slot.
    tx.try_send(3).unwrap();
    {
        let mut waiting = pin!(tx.send(4));
        assert!(wait_or_ready(waiting.as_mut()).is_none());
    }
    assert_eq!(rx.lock().unwrap().try_recv(), Ok(3));
    assert_eq!(tx.try_send(5), Ok(()));
}

#[test]
fn notify_with_a_foreign_waker_that_notifies() {
    static NOTIFY: Notify = Notify::new();
    wait_then_ready(pin!(NOTIFY.notified()), || NOTIFY.notify_one());
    // `notify_waiters` reaches a foreign waiter too.
    wait_then_ready(pin!(NOTIFY.notified()), || NOTIFY.notify_waiters());
}

#[test]
fn semaphore_with_a_foreign_waker_that_adds_permits() {
    static SEMAPHORE: Semaphore = Semaphore::new(0);
    let permit =
        wait_then_ready(pin!(SEMAPHORE.acquire_many(2)), || SEMAPHORE.add_permits(2)).unwrap();
    assert_eq!(permit.num_permits(), 2);
    drop(permit);
    assert_eq!(SEMAPHORE.available_permits(), 2);
}

#[test]
fn mutex_with_a_foreign_waker_that_unlocks() {
    static MUTEX: Mutex<u32> = Mutex::new(0);
    let guard = MUTEX.try_lock().unwrap();
    let mut guard = wait_then_ready(pin!(MUTEX.lock()), move || drop(guard));
    *guard += 1;
    drop(guard);
    assert_eq!(*MUTEX.try_lock().unwrap(), 1);
}

#[test]
fn oneshot_with_a_foreign_waker_that_sends() {
    static CHANNEL: oneshot::Channel<u32> = oneshot::Channel::new();
    let (tx, rx) = CHANNEL.split();
    assert_eq!(
        wait_then_ready(pin!(rx), move || tx.send(1).unwrap()),
        Ok(1)
    );
}

#[test]
fn watch_with_a_foreign_waker_that_sends() {
    static WATCH: Watch<u32> = Watch::new(0);
    let tx = WATCH.sender();
    let mut rx = WATCH.receiver();
    let sender = tx.clone();
    assert_eq!(
        wait_then_ready(pin!(rx.changed()), move || sender.send(1)),
        Ok(())
    );
    assert_eq!(rx.get(), 1);
}

#[test]
fn broadcast_with_a_foreign_waker_that_sends() {
    static CHANNEL: broadcast::Channel<u32, 2> = broadcast::Channel::new();
    let tx = CHANNEL.sender();
    let mut rx = CHANNEL.subscribe();
    let got = wait_then_ready(pin!(rx.recv()), || {
        let tx = CHANNEL.sender();
        tx.send(2).unwrap();
    });
    assert_eq!(got, Ok(2));
    drop(tx);
}

#[test]
fn pipe_with_a_foreign_waker_that_writes() {
    static PIPE: Pipe<4> = Pipe::new();
    let (mut reader, writer) = PIPE.split();
    let writer = Arc::new(StdMutex::new(writer));
    let mut buf = [0u8; 4];
    let read = core::future::poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf));
    let writing = writer.clone();
    let got = wait_then_ready(pin!(read), move || {
        let mut writer = writing.lock().unwrap();
        let polled =
            Pin::new(&mut *writer).poll_write(&mut Context::from_waker(Waker::noop()), b"ab");
        assert_eq!(polled, Poll::Ready(Ok(2)));
    });
    assert_eq!(got, Ok(2));
    assert_eq!(&buf[..2], b"ab");
}

/// Another executor's `block_on` (a thread-parking waker) waits on a channel that a thread fills
/// later: it polls in a busy loop, and gets the message.
#[test]
#[cfg_attr(miri, ignore = "a busy wait of milliseconds is minutes under Miri")]
fn another_executors_block_on_gets_its_message() {
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let (tx, mut rx) = CHANNEL.split();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.try_send(9).unwrap();
    });
    assert_eq!(futures_lite::future::block_on(rx.recv()), Some(9));
    sender.join().unwrap();
}

/// With `one-timer-queue` too, a task's join waker is one word (an ebbtide task or a runner's
/// root waker): a `JoinHandle` polled with a foreign waker keeps nothing, wakes it at once (its
/// wake re-enters the executor's world by notifying the task), and the next polls see the task
/// finish. The slot's join waker field is left empty, so the completion wakes no one.
#[test]
#[cfg(feature = "one-timer-queue")]
fn join_handle_with_a_foreign_waker_is_woken_at_once_and_never_kept() {
    use ebbtide_core::{Executor, TaskPool};

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static GO: Notify = Notify::new();
    let runner = EXECUTOR.runner().unwrap();
    let mut handle = pin!(runner
        .spawner()
        .spawn(&POOL, async {
            GO.notified().await;
            7u32
        })
        .unwrap());
    runner.poll();
    let foreign = Foreign::new();
    let waker = foreign.waker();
    // The wake runs inside the handle's poll, after the join waker field was left empty.
    foreign.on_wake(|| GO.notify_one());
    assert!(poll(handle.as_mut(), &waker).is_pending());
    assert_eq!(
        foreign.wakes(),
        1,
        "the foreign waker was not woken at once"
    );
    // The task finishes; nothing was registered, so nothing is woken.
    runner.poll();
    assert_eq!(foreign.wakes(), 1);
    let Poll::Ready(Ok(output)) = poll(handle.as_mut(), &waker) else {
        panic!("the finished task's output was not ready");
    };
    assert_eq!(output, 7);
    drop(waker);
    foreign.never_kept();
}

/// The same handle awaited by the runner's own future (the root waker, kept tagged in the one
/// word) and by another task (a task's header): both are woken when the task finishes.
#[test]
#[cfg(feature = "one-timer-queue")]
fn join_handles_awaited_by_the_runner_and_by_a_task_are_woken() {
    use ebbtide_core::{Executor, TaskPool};

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3, 256> = TaskPool::new();
    static GO: Notify = Notify::new();
    static DONE: Notify = Notify::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let first = spawner
        .spawn(&POOL, async {
            GO.notified().await;
            1u32
        })
        .unwrap();
    let second = spawner
        .spawn(&POOL, async {
            DONE.notified().await;
            2u32
        })
        .unwrap();
    // A task awaits the first handle, then lets the second task finish.
    let waiter = spawner
        .spawn(&POOL, async move {
            let got = first.await.unwrap();
            DONE.notify_one();
            got
        })
        .unwrap();
    let mut rounds = 0;
    // The runner's own future awaits the second handle, and the waiter's.
    let (a, b) = runner.run_until(
        async { (waiter.await.unwrap(), second.await.unwrap()) },
        || {
            rounds += 1;
            assert!(rounds < 10, "a join wake was lost");
            GO.notify_one();
        },
    );
    assert_eq!((a, b), (1, 2));
}

/// A message whose drop panics when told to.
struct Loud(bool);

impl Drop for Loud {
    fn drop(&mut self) {
        if self.0 {
            panic!("a message's drop panics");
        }
    }
}

/// A waiting send dropped with a message whose drop panics: its node (whose kept waker is
/// forgotten, not dropped) is unlinked before the message goes, so the panic leaves no list
/// pointing at freed memory, and a slot that was granted to it passes on. Under Miri in CI.
#[test]
fn a_waiting_send_whose_message_drop_panics_leaves_the_channel_whole() {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    static CHANNEL: mpsc::Channel<Loud, 1> = mpsc::Channel::new();
    let (tx, mut rx) = CHANNEL.split();
    tx.try_send(Loud(false)).unwrap();

    // Linked and still queued when dropped.
    let mut waiting = Box::pin(tx.send(Loud(true)));
    assert!(wait_or_ready(waiting.as_mut()).is_none());
    assert!(catch_unwind(AssertUnwindSafe(|| drop(waiting))).is_err());
    assert!(rx.try_recv().is_ok(), "the queued message is still there");
    assert!(
        tx.try_send(Loud(false)).is_ok(),
        "and its slot is free again"
    );

    // Granted a slot by a receive, then dropped before it used it: the slot comes back.
    let mut granted = Box::pin(tx.send(Loud(true)));
    assert!(wait_or_ready(granted.as_mut()).is_none());
    assert!(
        rx.try_recv().is_ok(),
        "the receive grants the freed slot to the waiting send"
    );
    assert!(
        tx.try_send(Loud(false)).is_err(),
        "the slot is promised to it"
    );
    assert!(catch_unwind(AssertUnwindSafe(|| drop(granted))).is_err());
    assert!(
        tx.try_send(Loud(false)).is_ok(),
        "the promise passed back with the drop"
    );
    assert!(rx.try_recv().is_ok());
}

/// Kept wakers woken from another thread: a task's (kept as its header) and the runner's own
/// future's (kept as its scheduler, tagged), each waiting on a primitive that a plain thread
/// completes.
#[test]
fn kept_wakers_are_woken_from_another_thread() {
    use ebbtide_core::{Executor, TaskPool};

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 256> = TaskPool::new();
    static NOTIFY: Notify = Notify::new();
    static CHANNEL: mpsc::Channel<u32, 1> = mpsc::Channel::new();
    let runner = EXECUTOR.runner().unwrap();
    let (tx, mut rx) = CHANNEL.split();
    let task = runner
        .spawner()
        .spawn(&POOL, async {
            NOTIFY.notified().await;
            5u32
        })
        .unwrap();
    // Both are waiting before the thread starts: the task on the notification, the runner's
    // future on the channel.
    let mut started = None;
    let got = runner.run_until(
        async {
            let received = rx.recv().await;
            (received, task.await.unwrap())
        },
        || {
            if started.is_none() {
                let tx = tx.clone();
                started = Some(std::thread::spawn(move || {
                    NOTIFY.notify_one();
                    tx.try_send(7).unwrap();
                }));
            }
            std::thread::yield_now();
        },
    );
    assert_eq!(got, (Some(7), 5));
    started.unwrap().join().unwrap();
}

/// The no-op kind that a `Notify` wait keeps in place of a foreign waker is a task kind whose
/// header is a lone state word that no spawn claims. Here another thread's `notify_one` wakes
/// it, round after round, while this thread's executor runs tasks that wake themselves: that
/// wake must read the word, find no task and touch nothing else (a wake that took it for a task
/// would read a header that is not there). The foreign waker's own wake re-enters a lock.
#[test]
fn the_kept_no_op_kind_woken_from_another_thread_touches_no_task() {
    use ebbtide_core::{Executor, TaskPool};
    use std::sync::mpsc as std_mpsc;

    const ROUNDS: u32 = 8;
    const YIELDS: usize = 16;
    static NOTIFY: Notify = Notify::new();
    static OTHER: Notify = Notify::new();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 128> = TaskPool::new();
    static YIELDED: AtomicUsize = AtomicUsize::new(0);

    let runner = EXECUTOR.runner().unwrap();
    for _ in 0..2 {
        runner
            .spawner()
            .spawn_detached(&POOL, || async {
                for _ in 0..YIELDS {
                    YIELDED.fetch_add(1, SeqCst);
                    ebbtide_core::task::yield_now().await;
                }
            })
            .unwrap();
    }
    let (go, went) = std_mpsc::channel::<()>();
    let (notified, was_notified) = std_mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for _ in 0..ROUNDS {
                went.recv().unwrap();
                // Takes the waiter's kept no-op kind and wakes it, on this thread.
                NOTIFY.notify_one();
                notified.send(()).unwrap();
            }
        });
        for _ in 0..ROUNDS {
            let foreign = Foreign::new();
            let waker = foreign.waker();
            foreign.on_wake(|| OTHER.notify_waiters());
            let mut wait = pin!(NOTIFY.notified());
            assert!(poll(wait.as_mut(), &waker).is_pending());
            assert_eq!(
                foreign.wakes(),
                1,
                "the foreign waker was not woken at once"
            );
            go.send(()).unwrap();
            // Real task wakes meanwhile, racing the other thread's wake of the no-op kind.
            runner.poll();
            was_notified.recv().unwrap();
            assert!(poll(wait.as_mut(), &waker).is_ready());
            drop(waker);
            foreign.never_kept();
        }
    });
    while runner.poll() {}
    assert_eq!(YIELDED.load(SeqCst), 2 * YIELDS);
    assert!(POOL.is_empty(), "every task ran to its end");
}
