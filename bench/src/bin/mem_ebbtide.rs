//! ebbtide on the memory and idle workloads (see [`ebbtide_bench::mem`]), and the raw-mio floor of
//! `rss_10k_idle`.
//!
//! Runtimes and method:
//!
//! - `ebbtide`, `task_bytes`: ebbtide-core's static pool. A task costs one slot of a
//!   `TaskPool<N, SIZE>`, whatever the executor does: `size_of::<TaskPool<N, SIZE>>() / N` for the
//!   smallest `SIZE` that fits [`parked_task`] (its size rounded up to the storage's 16-byte
//!   alignment), minus the future's size = `bytes` (header with the intrusive run-queue and timer
//!   links, the join waker, padding). The binary also spawns the 10,000 tasks into a pool of the
//!   same slots (a `SlicePool`, see `main`) and polls each once: `heap_bytes` is the counting allocator's growth per task meanwhile (0: no
//!   allocation per spawn).
//! - `ebbtide-std`, `task_bytes`: the std runtime puts a task in the smallest of its four size
//!   classes that fits (here the 256-byte one), so a task costs `size_of::<TaskSlot<256>>()`:
//!   `bytes` = that minus the future, honest about the rounding to the class (`slot_size`). Those
//!   slots are reserved when the runtime is built; `heap_bytes` is again the allocator's growth
//!   per spawned, polled task (0).
//! - `ebbtide`, `timer_bytes` (on ebbtide-std's time driver): a sleeping task's timer entry is
//!   the `TimerLink` in its task header (core/src/time/driver.rs, wheel.rs: an intrusive
//!   hierarchical wheel in static memory), so a timer adds no queue memory: `bytes` = how much the
//!   future grows by awaiting `sleep(60 s)` instead of [`mem::Never`] (a `Sleep` is its deadline).
//!   `slot_growth`: the growth of the smallest fitting slot of a static `TaskPool` (storage comes
//!   in steps of 16 bytes); `std_slot_growth`: with the std runtime both futures land in the same
//!   256-byte class, so the memory in use does not change at all (0). `heap_bytes` = the
//!   allocator's growth per task between the two runs (0).
//! - `ebbtide`, `rss_10k_idle`: in a fresh server process, an ebbtide-std `Runtime` with task
//!   slots for every connection in the class of the connection task and an IO table of the same
//!   size, an ebbtide `TcpListener`, one task per connection in `read` (64-byte buffer); see
//!   [`rss_sample`]. The runtime reserves its task slots when built and writes every slot's
//!   header, so they are resident from the start: `reserved_bytes` is the task slots' size (the IO
//!   table comes on top), and `runtime_bytes` (RSS growth from building the runtime) shows it.
//! - `mio`, `rss_10k_idle`: the floor: one thread with a mio `Poll` and a `Vec` of the accepted
//!   `mio::net::TcpStream`s, each registered for reading; no tasks.
//! - `ebbtide`, `idle_wakeups`: `Runtime::block_on` on the main thread with one task in
//!   `sleep(60 s)` and one in `accept`; a second thread counts the context switches of every other
//!   thread ([`measure_idle`]) and ends the `block_on` through a oneshot channel. The runtime's one
//!   thread waits in epoll, with the next deadline on a timerfd: the goal is 0.

use std::hint::black_box;
use std::sync::atomic::Ordering;

use ebbtide_bench::mem::{
    self, measure_idle, parked_task, parked_task_size, rss_sample, size_of_val, task_sample,
    CountingAlloc, Heap, IdleServer, LONG_SLEEP, POLLED, TASKS,
};
use ebbtide_bench::Sample;
use ebbtide_core::size_classes::{class_of, SLOT_SIZES};
use ebbtide_core::sync::oneshot;
use ebbtide_core::{Executor, JoinHandle, Pool, SlicePool, TaskPool, TaskSlot};
use ebbtide_std::io::AsyncReadExt;
use ebbtide_std::time::Duration;
use ebbtide_std::Runtime;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The smallest slot size that fits [`parked_task`] (checked at run time against its size).
const PARKED_SLOT: usize = 16;

static EXECUTOR: Executor = Executor::new();

static IDLE_DONE: oneshot::Channel<Sample> = oneshot::Channel::new();

fn main() {
    mem::hidden_modes(serve);
    let runner = EXECUTOR.runner().expect("the only runner");
    // The same slots as a `static TaskPool<TASKS, PARKED_SLOT>`, made at run time: a static pool
    // of ebbtide is initialised data (its slots point at a vtable), which the loader would make
    // resident in every process of this binary, the `rss_10k_idle` servers included.
    let slots: &'static [TaskSlot<PARKED_SLOT>] =
        Vec::leak((0..TASKS).map(|_| TaskSlot::new()).collect());
    let parked: &'static SlicePool<PARKED_SLOT> =
        Box::leak(Box::new(SlicePool::new("mem-parked", slots)));
    let runtime = ebbtide_std::Builder::new()
        .task_slots([TASKS + 64, 16, 16, 16])
        .build()
        .expect("runtime");
    ebbtide_bench::main(
        &[
            (
                "ebbtide",
                &["task_bytes", "timer_bytes", "rss_10k_idle", "idle_wakeups"],
            ),
            ("ebbtide-std", &["task_bytes"]),
            ("mio", &["rss_10k_idle"]),
        ],
        |runtime_name, workload| match (runtime_name, workload) {
            ("ebbtide", "task_bytes") => pool_task_bytes(&runner, parked),
            ("ebbtide-std", "task_bytes") => std_task_bytes(&runtime),
            ("ebbtide", "timer_bytes") => timer_bytes(&runtime),
            ("ebbtide", "idle_wakeups") => idle_wakeups(&runtime),
            (name, _) => rss_sample(name),
        },
    );
}

/// The size of a task slot of `SIZE` bytes (header, join waker, storage).
fn slot_bytes<const SIZE: usize>() -> usize {
    size_of::<TaskSlot<SIZE>>()
}

fn round_up_16(n: usize) -> usize {
    n.div_ceil(16) * 16
}

fn pool_task_bytes(runner: &ebbtide_core::Runner, pool: &'static SlicePool<PARKED_SLOT>) -> Sample {
    let future = parked_task_size();
    assert_eq!(
        round_up_16(future.max(size_of::<usize>())),
        PARKED_SLOT,
        "parked_task changed size: set PARKED_SLOT to the smallest slot that fits it"
    );
    let per_slot = size_of::<TaskPool<TASKS, PARKED_SLOT>>() as f64 / TASKS as f64;
    let mut handles: Vec<JoinHandle<usize>> = Vec::with_capacity(TASKS);
    POLLED.store(0, Ordering::Relaxed);
    let heap = Heap::now();
    let spawner = runner.spawner();
    for i in 0..TASKS {
        handles.push(spawner.spawn(pool, parked_task(i)).expect("spawn"));
    }
    while POLLED.load(Ordering::Relaxed) < TASKS {
        runner.poll();
    }
    let (heap_bytes, _, _) = heap.per_task_since(TASKS);
    for h in &handles {
        h.abort();
    }
    while runner.poll() {}
    drop(handles);
    assert!(pool.is_empty());
    task_sample(per_slot, future)
        .with("slot_size", PARKED_SLOT as f64)
        .with("heap_bytes", heap_bytes)
}

/// Spawns `TASKS` tasks made by `make` on `runtime`, waits until each was polled once, and
/// returns the allocator's growth per task; then aborts them.
fn per_task<F>(runtime: &Runtime, make: impl Fn(usize) -> F) -> f64
where
    F: std::future::Future<Output = usize> + Send + 'static,
{
    let mut handles = Vec::with_capacity(TASKS);
    POLLED.store(0, Ordering::Relaxed);
    runtime.block_on(async {
        let heap = Heap::now();
        for i in 0..TASKS {
            handles.push(ebbtide_std::spawn(make(i)).expect("spawn"));
        }
        while POLLED.load(Ordering::Relaxed) < TASKS {
            ebbtide_core::task::yield_now().await;
        }
        let (asked, _, _) = heap.per_task_since(TASKS);
        for h in &handles {
            h.abort();
        }
        for h in handles {
            let _ = h.await;
        }
        asked
    })
}

fn std_task_bytes(runtime: &Runtime) -> Sample {
    let future = parked_task_size();
    assert_eq!(
        SLOT_SIZES[class_of_val(&parked_task(0))],
        256,
        "parked_task should land in the smallest class"
    );
    let heap_bytes = per_task(runtime, parked_task);
    task_sample(slot_bytes::<256>() as f64, future)
        .with("slot_size", 256.0)
        .with("heap_bytes", heap_bytes)
}

fn class_of_val<F: std::future::Future>(_: &F) -> usize {
    class_of::<F>()
}

/// [`LONG_SLEEP`] in ebbtide's `Duration`.
fn long_sleep() -> Duration {
    Duration::from_secs(LONG_SLEEP.as_secs())
}

/// The same shape as `parked_task`, asleep instead.
#[allow(clippy::manual_async_fn)]
fn sleeper(i: usize) -> impl std::future::Future<Output = usize> + Send + 'static {
    async move {
        POLLED.fetch_add(1, Ordering::Relaxed);
        ebbtide_std::time::sleep(long_sleep()).await;
        black_box(i)
    }
}

fn timer_bytes(runtime: &Runtime) -> Sample {
    let never = per_task(runtime, parked_task);
    let sleeping = per_task(runtime, sleeper);
    let (sleeper_size, parked_size) = (size_of_val(&sleeper(0)), parked_task_size());
    let growth = sleeper_size as f64 - parked_size as f64;
    // Slots of a static pool of the smallest fitting size: storage comes in steps of 16 bytes.
    let slot_growth = round_up_16(sleeper_size) as f64 - round_up_16(parked_size) as f64;
    Sample::ns(0)
        .with("bytes", growth)
        .with("slot_growth", slot_growth)
        .with("std_slot_growth", 0.0)
        .with("heap_bytes", sleeping - never)
}

fn idle_wakeups(runtime: &Runtime) -> Sample {
    runtime.block_on(async {
        let sleeper = ebbtide_std::spawn(ebbtide_std::time::sleep(long_sleep())).expect("spawn");
        let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let acceptor = ebbtide_std::spawn(async move {
            let _ = listener.accept().await;
        })
        .expect("spawn");
        let (tx, rx) = IDLE_DONE.split();
        std::thread::spawn(move || {
            let _ = tx.send(measure_idle());
        });
        let sample = rx.await.expect("the measuring thread's sample");
        sleeper.abort();
        acceptor.abort();
        let _ = sleeper.await;
        let _ = acceptor.await;
        sample
    })
}

/// The `__server` process of `rss_10k_idle`.
fn serve(runtime: &str, n: usize) {
    match runtime {
        "mio" => serve_mio(n),
        _ => serve_ebbtide(n),
    }
}

async fn serve_conn(mut stream: ebbtide_std::net::TcpStream) {
    let mut buf = [0u8; 64];
    while let Ok(1..) = stream.read(&mut buf).await {}
}

/// The class a connection task goes to (the runtime wraps it to catch panics: same size).
fn conn_class<A, F: std::future::Future>(_: fn(A) -> F) -> usize {
    class_of::<F>()
}

fn serve_ebbtide(n: usize) {
    let mut server = IdleServer::begin(n);
    let class = conn_class(serve_conn);
    let mut slots = [16, 16, 16, 16];
    slots[class] = n + 64;
    let reserved = (slots[0] * slot_bytes::<256>()
        + slots[1] * slot_bytes::<1024>()
        + slots[2] * slot_bytes::<4096>()
        + slots[3] * slot_bytes::<16384>()) as u64;
    let runtime = ebbtide_std::Builder::new()
        .task_slots(slots)
        .io_capacity(n + 64)
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = ebbtide_std::net::TcpListener::from_std(mem::bind_listener()).unwrap();
        server.start_clients(listener.local_addr().unwrap());
        for _ in 0..server.conns() {
            let (stream, _) = listener.accept().await.unwrap();
            drop(ebbtide_std::spawn(serve_conn(stream)).expect("a task slot"));
        }
        ebbtide_std::time::sleep(Duration::from_millis(100)).await;
        server.finish(reserved);
    });
}

fn serve_mio(n: usize) {
    use mio::{Events, Interest, Poll, Token};
    let mut server = IdleServer::begin(n);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let mut listener = mio::net::TcpListener::from_std(mem::bind_listener());
    poll.registry()
        .register(&mut listener, Token(usize::MAX), Interest::READABLE)
        .unwrap();
    let mut streams = Vec::new();
    server.start_clients(listener.local_addr().unwrap());
    while streams.len() < n {
        poll.poll(&mut events, None).unwrap();
        loop {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    poll.registry()
                        .register(&mut stream, Token(streams.len()), Interest::READABLE)
                        .unwrap();
                    streams.push(stream);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
    server.finish(0);
    drop(streams);
}
