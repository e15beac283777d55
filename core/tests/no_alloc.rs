//! A counting global allocator proves that the hot paths allocate nothing: spawn, poll, wake,
//! yield, join, sleep, and channel send/recv.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

// Counted per thread, so tests running in parallel do not see each other's allocations.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the allocator can run while the thread's locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

use ebbtide_core::{task::yield_now, Executor, SendSpawner, TaskPool};

#[test]
fn spawn_poll_wake_yield_and_join_allocate_nothing() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<64, 256> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let count = allocations_in(|| {
        for _ in 0..3 {
            let root = spawner
                .spawn(&POOL, async {
                    let spawner = SendSpawner::for_current_executor().await;
                    let mut sum = 0u64;
                    for i in 0..32u64 {
                        let child = spawner
                            .spawn(&POOL, async move {
                                for _ in 0..4 {
                                    yield_now().await;
                                }
                                i
                            })
                            .unwrap();
                        sum += child.await.unwrap();
                    }
                    sum
                })
                .unwrap();
            assert_eq!(runner.run_until(root, || {}), Ok((0..32).sum()));
        }
    });
    assert_eq!(count, 0, "the executor allocated");
}

#[test]
fn the_counter_sees_allocations() {
    let count = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(
        count, 1,
        "the counting allocator must count, or the other tests prove nothing"
    );
}

#[test]
fn sleep_timeout_and_channels_allocate_nothing() {
    use ebbtide_core::sync::{broadcast, mpsc, oneshot, Mutex, Notify, Semaphore};
    use ebbtide_core::time::{sleep, timeout, Duration};
    use ebbtide_mock_time::MockDriver;

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<8, 1024> = TaskPool::new();
    static JOBS: mpsc::Channel<u32, 4> = mpsc::Channel::new();
    static REPLY: oneshot::Channel<u32> = oneshot::Channel::new();
    static NEWS: broadcast::Channel<u32, 4> = broadcast::Channel::new();
    static LOCK: Mutex<u32> = Mutex::new(0);
    static PERMITS: Semaphore = Semaphore::new(1);
    static BELL: Notify = Notify::new();

    let _clock = MockDriver::lock_for_test();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // Endpoints are made up front: what is measured is the traffic.
    let (jobs_tx, mut jobs_rx) = JOBS.split();
    let (reply_tx, reply_rx) = REPLY.split();
    let news_tx = NEWS.sender();
    let mut news_rx = NEWS.subscribe();

    let count = allocations_in(|| {
        let consumer = spawner
            .spawn(&POOL, async move {
                let mut sum = 0;
                while let Some(job) = jobs_rx.recv().await {
                    sum += job;
                    *LOCK.lock().await += 1;
                    let _permit = PERMITS.acquire().await.unwrap();
                    sleep(Duration::from_millis(1)).await;
                }
                reply_tx.send(sum).unwrap();
                BELL.notify_one();
            })
            .unwrap();
        let producer = spawner
            .spawn(&POOL, async move {
                for job in 1..=20 {
                    jobs_tx.send(job).await.unwrap();
                    news_tx.send(job).unwrap();
                    assert_eq!(news_rx.recv().await, Ok(job));
                }
                drop(jobs_tx);
                assert!(timeout(Duration::from_secs(1), BELL.notified())
                    .await
                    .is_ok());
                reply_rx.await.unwrap()
            })
            .unwrap();
        let sum = runner.run_until(producer, || {
            MockDriver::advance_to_next_deadline();
        });
        assert_eq!(sum, Ok(210));
        assert_eq!(runner.run_until(consumer, || {}), Ok(()));
    });
    assert_eq!(count, 0, "time or sync allocated");
}

#[test]
fn spsc_send_and_recv_allocate_nothing() {
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    use ebbtide_core::sync::spsc;

    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static SAMPLES: spsc::Channel<u64, 4> = spsc::Channel::new();
    let rounds: u64 = if cfg!(miri) { 50 } else { 2_000 };
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    // Endpoints are made up front: what is measured is the traffic.
    let (mut tx, mut rx) = SAMPLES.split();

    // Between a task and the runner's own future: every send that finds the channel full waits
    // and is woken by a receive, and every receive on an empty channel by a send.
    let count = allocations_in(|| {
        let producer = spawner
            .spawn(&POOL, async move {
                for n in 0..rounds {
                    tx.send(n).await.unwrap();
                }
            })
            .unwrap();
        let sum = runner.run_until(
            async move {
                let mut sum = 0;
                while let Some(n) = rx.recv().await {
                    sum += n;
                }
                sum
            },
            || {},
        );
        assert_eq!(sum, rounds * (rounds - 1) / 2);
        assert!(producer.is_finished());
    });
    assert_eq!(count, 0, "spsc allocated (tasks)");

    // By hand, with a waker of another kind (`Waker::noop`, which the channel treats as
    // foreign): `try_send`/`try_recv`, and sends and receives that wait, then complete.
    let channel: spsc::Channel<u64, 2> = spsc::Channel::new();
    let (mut tx, mut rx) = channel.split();
    let mut cx = Context::from_waker(Waker::noop());
    let count = allocations_in(|| {
        for n in 0..rounds {
            assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
            tx.try_send(n).unwrap();
            tx.try_send(n + 1).unwrap();
            {
                let mut send = pin!(tx.send(n + 2));
                assert!(send.as_mut().poll(&mut cx).is_pending());
                assert_eq!(rx.try_recv(), Ok(n));
                assert_eq!(send.poll(&mut cx), Poll::Ready(Ok(())));
            }
            assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(n + 1)));
            assert_eq!(pin!(rx.recv()).poll(&mut cx), Poll::Ready(Some(n + 2)));
        }
    });
    assert_eq!(count, 0, "spsc allocated (by hand)");
}
