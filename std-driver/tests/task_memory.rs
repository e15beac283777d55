//! Task memory that grows: a size class that runs out gets a new segment of slots, up to
//! `Builder::task_limit`; `Builder::fixed_task_memory` never grows. No sockets: runs under Miri
//! (with small counts).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::pending;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_std::task::yield_now;
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::{Builder, JoinHandle, Runtime, SpawnError};

struct Counting;

// Counted per thread, and only while a test asks: tests run in parallel on other threads.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count_one() {
    // `try_with`: the allocator can run while the thread's locals are being torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
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

/// Runs `f` and returns how many allocations this thread made meanwhile.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNTING.with(|on| on.set(true));
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    let count = ALLOCATIONS.with(Cell::get) - before;
    COUNTING.with(|on| on.set(false));
    (count, result)
}

/// Concurrent tasks of the 4 KiB class in the growth tests (beyond the default reservation of 256
/// such slots).
const MANY: usize = if cfg!(miri) { 24 } else { 5_000 };

/// A task of the 4 KiB class (2 KiB of state held across an await) that yields once and returns
/// `i`.
async fn four_kib_task(i: usize) -> usize {
    let big = [i as u8; 2048];
    yield_now().await;
    black_box(&big);
    i
}

/// A 4 KiB-class task that waits forever (until aborted or its runtime drops), counting its drop.
fn four_kib_pending(drops: &'static AtomicUsize) -> impl std::future::Future<Output = ()> + Send {
    struct CountDrop(&'static AtomicUsize);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let guard = CountDrop(drops);
    async move {
        let big = [0u8; 2048];
        let _guard = guard;
        pending::<()>().await;
        black_box(&big);
    }
}

/// A default runtime (a small reservation under Miri, to keep it quick), on one worker: these
/// tests count one worker's memory (each worker has its own), also when the suite runs with
/// `EBBTIDE_WORKER_THREADS` set.
fn default_builder() -> Builder {
    if cfg!(miri) {
        Runtime::builder().task_slots([2, 2, 2, 2])
    } else {
        Runtime::builder()
    }
    .worker_threads(1)
}

#[test]
fn a_default_runtime_grows_far_past_its_reservation() {
    let runtime = default_builder().build().unwrap();
    let metrics = runtime.metrics();
    let reserved = metrics.task_capacity();
    assert_eq!(metrics.task_limit(), None);
    if !cfg!(miri) {
        assert_eq!(reserved, 1024 + 512 + 256 + 64);
    }
    let sum = runtime.block_on(async {
        // All spawned before any runs: `MANY` tasks alive at once.
        let tasks: Vec<JoinHandle<usize>> = (0..MANY)
            .map(|i| ebbtide_std::spawn(four_kib_task(i)).expect("memory grows"))
            .collect();
        assert_eq!(ebbtide_std::Handle::current().metrics().tasks(), MANY);
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, MANY * (MANY - 1) / 2);
    // The 4 KiB class doubled until it held them all; the other classes did not move.
    let four_kib_reserved = if cfg!(miri) { 2 } else { 256 };
    let mut four_kib = four_kib_reserved;
    while four_kib < MANY {
        four_kib *= 2;
    }
    assert_eq!(
        metrics.task_capacity(),
        reserved - four_kib_reserved + four_kib
    );
    assert_eq!(metrics.tasks(), 0);

    // Freed slots are reused: the same load again does not grow the memory.
    runtime.block_on(async {
        let tasks: Vec<_> = (0..MANY)
            .map(|i| ebbtide_std::spawn(four_kib_task(i)).unwrap())
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(
        metrics.task_capacity(),
        reserved - four_kib_reserved + four_kib
    );
}

#[test]
fn task_limit_refuses_with_pool_full_naming_the_setting() {
    // The 4 KiB class: 4 slots reserved (task_capacity(16) / 4), at most 16 (task_limit(64) / 4).
    let runtime = Runtime::builder()
        .worker_threads(1)
        .task_capacity(16)
        .task_limit(64)
        .build()
        .unwrap();
    let metrics = runtime.metrics();
    assert_eq!(metrics.task_capacity(), 16 + 8 + 4 + 1);
    assert_eq!(metrics.task_limit(), Some(64 + 32 + 16 + 4));
    runtime.block_on(async {
        let mut tasks = Vec::new();
        let error = loop {
            match ebbtide_std::spawn(four_kib_task(tasks.len())) {
                Ok(task) => tasks.push(task),
                Err(error) => break error,
            }
        };
        assert_eq!(tasks.len(), 16);
        assert!(
            matches!(
                error,
                SpawnError::PoolFull {
                    pool: "ebbtide tasks of up to 4 KiB",
                    capacity: 16,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("Builder::task_limit"), "{message}");
        assert!(!message.contains("TaskPool<N, SIZE>"), "{message}");
        // Other classes still have room, and the runtime goes on.
        ebbtide_std::spawn(async { 1 }).unwrap().await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        // Slots came back.
        ebbtide_std::spawn(four_kib_task(3)).unwrap().await.unwrap();
    });
    assert_eq!(metrics.task_capacity(), 16 + 8 + 16 + 1);
}

#[test]
fn fixed_task_memory_never_grows() {
    let runtime = Runtime::builder()
        .worker_threads(1)
        .task_slots([4, 3, 2, 1])
        .fixed_task_memory()
        .build()
        .unwrap();
    let metrics = runtime.metrics();
    assert_eq!(metrics.task_capacity(), 10);
    assert_eq!(metrics.task_limit(), Some(10));
    runtime.block_on(async {
        let a = ebbtide_std::spawn(four_kib_task(1)).unwrap();
        let b = ebbtide_std::spawn(four_kib_task(2)).unwrap();
        let error = ebbtide_std::spawn(four_kib_task(3)).unwrap_err();
        assert!(matches!(error, SpawnError::PoolFull { capacity: 2, .. }));
        assert!(error.to_string().contains("fixed_task_memory"), "{error}");
        assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
    });
    assert_eq!(metrics.task_capacity(), 10);
}

#[test]
fn spawning_allocates_nothing_once_the_memory_has_grown() {
    // Settings no other test uses: a dropped runtime's grown memory would come back from the bin.
    let runtime = Runtime::builder().task_slots([2, 2, 2, 1]).build().unwrap();
    let n = if cfg!(miri) { 16 } else { 1_000 };
    let mut tasks = Vec::with_capacity(n);
    let round = |tasks: &mut Vec<JoinHandle<usize>>| {
        runtime.block_on(async {
            for i in 0..n {
                tasks.push(ebbtide_std::spawn(four_kib_task(i)).unwrap());
            }
            let mut sum = 0;
            for task in tasks.drain(..) {
                sum += task.await.unwrap();
            }
            sum
        })
    };
    // Warm-up: the 4 KiB class grows to hold `n` tasks.
    let (grown, sum) = allocations_in(|| round(&mut tasks));
    assert!(grown > 0, "the first round grew the memory");
    assert_eq!(sum, n * (n - 1) / 2);
    let capacity = runtime.metrics().task_capacity();
    for _ in 0..3 {
        let (count, sum) = allocations_in(|| round(&mut tasks));
        assert_eq!(count, 0, "spawning into grown memory allocated");
        assert_eq!(sum, n * (n - 1) / 2);
    }
    assert_eq!(runtime.metrics().task_capacity(), capacity);
}

#[test]
fn dropping_a_grown_runtime_cancels_tasks_in_every_segment_and_its_memory_is_reused() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    // Settings no other test uses, so the rebuilt runtime finds this one's parts in the bin.
    let builder = || Runtime::builder().task_slots([3, 3, 3, 3]);
    let n = if cfg!(miri) { 20 } else { 700 };
    let runtime = builder().build().unwrap();
    runtime.block_on(async {
        for _ in 0..n {
            drop(ebbtide_std::spawn(four_kib_pending(&DROPS)).unwrap());
        }
        yield_now().await;
    });
    let grown = runtime.metrics().task_capacity();
    assert!(grown >= 9 + n, "{grown}");
    drop(runtime);
    // Every task, in the reservation and in the new segments, was cancelled.
    assert_eq!(DROPS.load(Ordering::SeqCst), n);

    let runtime = builder().build().unwrap();
    // The grown memory came back from the bin, empty.
    assert_eq!(runtime.metrics().task_capacity(), grown);
    assert_eq!(runtime.metrics().tasks(), 0);
    let sum = runtime.block_on(async {
        let tasks: Vec<_> = (0..2 * n)
            .map(|i| ebbtide_std::spawn(four_kib_task(i)).unwrap())
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 2 * n * (2 * n - 1) / 2);
    assert!(runtime.metrics().task_capacity() >= 9 + 2 * n);
}

#[test]
fn threads_spawn_while_the_class_grows() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    static THREADS_DONE: AtomicUsize = AtomicUsize::new(0);
    let (threads, per_thread) = if cfg!(miri) { (3, 6) } else { (8, 600) };
    let runtime = Runtime::builder().task_slots([1, 1, 1, 1]).build().unwrap();
    let handle = runtime.handle();
    let spawners: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let tasks: Vec<JoinHandle<()>> = (0..per_thread)
                    .map(|_| {
                        handle
                            .spawn(async {
                                STARTED.fetch_add(1, Ordering::SeqCst);
                                four_kib_pending(&DROPS).await
                            })
                            .expect("memory grows")
                    })
                    .collect();
                THREADS_DONE.fetch_add(1, Ordering::SeqCst);
                tasks
            })
        })
        .collect();
    // The runtime polls the tasks while the threads spawn (and grow the class).
    runtime.block_on(async {
        while THREADS_DONE.load(Ordering::SeqCst) < threads
            || STARTED.load(Ordering::SeqCst) < threads * per_thread
        {
            sleep(Duration::from_millis(1)).await;
        }
    });
    let total = threads * per_thread;
    assert_eq!(runtime.metrics().tasks(), total);
    assert!(runtime.metrics().task_capacity() >= total);
    let tasks: Vec<JoinHandle<()>> = spawners
        .into_iter()
        .flat_map(|spawner| spawner.join().unwrap())
        .collect();
    for task in &tasks {
        task.abort();
    }
    runtime.block_on(async {
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(DROPS.load(Ordering::SeqCst), total);
    // With 2 workers (`EBBTIDE_WORKER_THREADS=2`) a stolen task is cancelled on the other worker,
    // which lets its slot go just after the handle has its result: the count reaches 0 a moment
    // later, never more than a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while runtime.metrics().tasks() != 0 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(runtime.metrics().tasks(), 0);
}

/// Adversarial: tasks spread over grown segments whose destructors panic, and another thread
/// that keeps spawning through a `Handle` while the runtime drops. The drop must not unwind, must
/// drop every future once, and no task may land in the memory after the cancellation (the
/// rebuilt runtime, which reuses it, starts empty).
#[test]
fn panicking_destructors_in_grown_segments_and_spawns_racing_the_drop() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
            panic!("a destructor that panics");
        }
    }
    // Settings no other test uses, so the rebuilt runtime gets this one's parts from the bin.
    let builder = || Runtime::builder().task_slots([1, 1, 1, 1]);
    let n = if cfg!(miri) { 6 } else { 200 };
    let runtime = builder().build().unwrap();
    let handle = runtime.handle();
    runtime.block_on(async {
        for _ in 0..n {
            let guard = PanicOnDrop;
            drop(
                ebbtide_std::spawn(async move {
                    let _guard = guard;
                    pending::<()>().await
                })
                .unwrap(),
            );
        }
        yield_now().await;
    });
    assert!(runtime.metrics().task_capacity() >= n, "the class grew");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut refused = 0;
            // Until told to stop and refused at least once (every spawn after the drop is).
            while !(stop.load(Ordering::SeqCst) && refused > 0) {
                match handle.spawn(pending::<()>()) {
                    Ok(task) => drop(task),
                    Err(SpawnError::Shutdown) => refused += 1,
                    Err(other) => panic!("unexpected {other}"),
                }
                std::thread::yield_now();
            }
            refused
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
        1
    } else {
        5
    }));
    // Dropping must not unwind, whatever the destructors do.
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(runtime)));
    assert!(dropped.is_ok(), "Runtime::drop unwound");
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        n,
        "each future dropped exactly once"
    );
    stop.store(true, Ordering::SeqCst);
    assert!(spawner.join().unwrap() > 0, "the stale handle was refused");

    let runtime = builder().build().unwrap();
    assert_eq!(
        runtime.metrics().tasks(),
        0,
        "a racing spawn landed in reused memory"
    );
    assert_eq!(
        runtime
            .block_on(async { ebbtide_std::spawn(async { 7 }).unwrap().await })
            .unwrap(),
        7
    );
}
