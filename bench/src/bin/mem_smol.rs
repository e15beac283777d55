//! smol (async-executor 1.14, async-io 2) on the memory and idle workloads (see
//! [`ebbtide_bench::mem`]). The executor is driven by `async_io::block_on` on this thread, as smol
//! itself does, so async-io's reactor and its "async-io" thread work as they do for a user.
//!
//! Method:
//!
//! - `task_bytes`: the counting global allocator. A fresh `Executor` per sample; live bytes
//!   before spawning 10,000 [`parked_task`]s and after every one has been polled once (all
//!   pending), divided by 10,000: the task allocation (async-task's header, schedule function,
//!   future) plus what the executor keeps per task (an entry with a waker in its slab of active
//!   tasks, and the run queue's blocks while they were queued). `bytes` = that minus the future's
//!   size; `usable_bytes` counts what malloc handed out.
//! - `timer_bytes`: the same, once with tasks awaiting [`mem::Never`] and once with tasks of the
//!   same shape awaiting `async_io::Timer::after(60 s)`; `bytes` = the difference per task: the
//!   bigger future, plus the reactor's entry (a `BTreeMap<(Instant, id), Waker>` in async-io, with
//!   a clone of the task's waker).
//! - `rss_10k_idle`: in a fresh server process, an `Executor` under `async_io::block_on`, an
//!   `Async<TcpListener>`, one task per connection reading an `Async<TcpStream>` (64-byte buffer);
//!   see [`rss_sample`]. smol reserves nothing per connection up front.
//! - `idle_wakeups`: `async_io::block_on(executor.run(..))` on the main thread with one task in
//!   `Timer::after(60 s)` and one in `accept`; a second thread counts the context switches of
//!   every other thread, the "async-io" reactor thread included ([`measure_idle`]).

use std::hint::black_box;
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_executor::Executor;
use async_io::{Async, Timer};
use ebbtide_bench::mem::{
    self, measure_idle, parked_task, parked_task_size, rss_sample, size_of_val, task_sample,
    CountingAlloc, Heap, IdleServer, LONG_SLEEP, POLLED, TASKS,
};
use ebbtide_bench::Sample;
use futures_lite::{future, AsyncReadExt};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    mem::hidden_modes(|_, n| serve(n));
    ebbtide_bench::main(
        &[(
            "smol",
            &["task_bytes", "timer_bytes", "rss_10k_idle", "idle_wakeups"],
        )],
        |runtime, workload| match workload {
            "task_bytes" => task_bytes(),
            "timer_bytes" => timer_bytes(),
            "rss_10k_idle" => rss_sample(runtime),
            _ => idle_wakeups(),
        },
    );
}

/// Spawns `n` tasks made by `make` on a fresh executor, waits until each was polled once, and
/// returns the allocator's growth per task `(asked for, handed out)`; then cancels them.
fn per_task<F>(make: impl Fn(usize) -> F) -> (f64, f64)
where
    F: std::future::Future<Output = usize> + Send + 'static,
{
    let ex = Executor::new();
    let mut tasks = Vec::with_capacity(TASKS);
    POLLED.store(0, Ordering::Relaxed);
    async_io::block_on(ex.run(async {
        let heap = Heap::now();
        for i in 0..TASKS {
            tasks.push(ex.spawn(make(i)));
        }
        while POLLED.load(Ordering::Relaxed) < TASKS {
            future::yield_now().await;
        }
        let (asked, usable, _) = heap.per_task_since(TASKS);
        for t in tasks {
            t.cancel().await;
        }
        (asked, usable)
    }))
}

/// The same shape as `parked_task`, asleep instead.
#[allow(clippy::manual_async_fn)]
fn sleeper(i: usize) -> impl std::future::Future<Output = usize> + Send + 'static {
    async move {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Timer::after(LONG_SLEEP).await;
        black_box(i)
    }
}

fn task_bytes() -> Sample {
    let (asked, usable) = per_task(parked_task);
    task_sample(asked, parked_task_size()).with("usable_bytes", usable)
}

fn timer_bytes() -> Sample {
    let (never, never_usable) = per_task(parked_task);
    let (sleeping, sleeping_usable) = per_task(sleeper);
    let growth = size_of_val(&sleeper(0)) as f64 - parked_task_size() as f64;
    Sample::ns(0)
        .with("bytes", sleeping - never)
        .with("usable_bytes", sleeping_usable - never_usable)
        .with("future_growth", growth)
}

/// The `__server` process of `rss_10k_idle`.
fn serve(n: usize) {
    let mut server = IdleServer::begin(n);
    let ex = Executor::new();
    let listener = Async::<TcpListener>::new(mem::bind_listener()).unwrap();
    server.start_clients(listener.get_ref().local_addr().unwrap());
    async_io::block_on(ex.run(async {
        for _ in 0..server.conns() {
            let (stream, _) = listener.accept().await.unwrap();
            ex.spawn(async move {
                let mut stream = stream;
                let mut buf = [0u8; 64];
                while let Ok(1..) = stream.read(&mut buf).await {}
            })
            .detach();
        }
        Timer::after(Duration::from_millis(100)).await;
        server.finish(0);
    }));
}

fn idle_wakeups() -> Sample {
    let ex = Executor::new();
    async_io::block_on(ex.run(async {
        let sleeper = ex.spawn(async {
            Timer::after(LONG_SLEEP).await;
        });
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let acceptor = ex.spawn(async move {
            let _ = listener.accept().await;
        });
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send_blocking(measure_idle());
        });
        let sample = rx.recv().await.unwrap();
        sleeper.cancel().await;
        acceptor.cancel().await;
        sample
    }))
}
