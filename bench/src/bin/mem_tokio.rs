//! Tokio 1.54 on the memory and idle workloads (see [`ebbtide_bench::mem`]).
//!
//! Method:
//!
//! - `task_bytes` (`tokio-ct`): the counting global allocator. A fresh `current_thread` runtime
//!   per sample; inside `block_on`, live bytes before spawning 10,000 [`parked_task`]s and after
//!   every one has been polled once (all pending), divided by 10,000. That includes what the tasks
//!   make the runtime grow (the run queue holds all 10,000 between spawn and first poll; its
//!   capacity stays), not only the task cell (header, scheduler handle, future, trailer).
//!   `bytes` = that minus the future's size; `usable_bytes` counts what malloc handed out.
//! - `timer_bytes` (`tokio-ct`): the same, once with tasks awaiting [`mem::Never`] and once with tasks
//!   of the same shape awaiting `tokio::time::sleep(60 s)`; `bytes` = the difference per task (the
//!   task cell grows by the `Sleep` with its timer entry, which is intrusive: the wheel itself was
//!   allocated when the runtime was built). `future_growth` = size difference of the futures.
//! - `rss_10k_idle` (`tokio-ct`): in a fresh server process, a `current_thread` runtime with IO
//!   and time, a `tokio::net::TcpListener`, one task per connection waiting in `readable()` then
//!   `try_read` (64-byte buffer); see [`rss_sample`]. Tokio reserves nothing per connection up
//!   front.
//! - `idle_wakeups` (`tokio-ct`, `tokio-mt1`): `block_on` on the main thread with one task asleep
//!   for 60 s and one in `accept`; a second thread counts the context switches of every other
//!   thread ([`measure_idle`]), then ends the `block_on`.

use std::hint::black_box;
use std::sync::atomic::Ordering;

use ebbtide_bench::mem::{
    self, measure_idle, parked_task, parked_task_size, rss_sample, size_of_val, task_sample,
    CountingAlloc, Heap, IdleServer, LONG_SLEEP, POLLED, TASKS,
};
use ebbtide_bench::Sample;
use tokio::runtime::{Builder, Runtime};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    mem::hidden_modes(|_, n| serve(n));
    ebbtide_bench::main(
        &[
            (
                "tokio-ct",
                &["task_bytes", "timer_bytes", "rss_10k_idle", "idle_wakeups"],
            ),
            ("tokio-mt1", &["idle_wakeups"]),
        ],
        |runtime, workload| match workload {
            "task_bytes" => task_bytes(),
            "timer_bytes" => timer_bytes(),
            "rss_10k_idle" => rss_sample(runtime),
            _ => idle_wakeups(runtime == "tokio-mt1"),
        },
    );
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// Spawns `n` tasks made by `make` inside a fresh runtime, waits until each was polled once, and
/// returns the allocator's growth per task `(asked for, handed out)`; then aborts them.
fn per_task<F>(make: impl Fn(usize) -> F) -> (f64, f64)
where
    F: std::future::Future<Output = usize> + Send + 'static,
{
    let rt = current_thread();
    rt.block_on(async {
        let mut handles = Vec::with_capacity(TASKS);
        POLLED.store(0, Ordering::Relaxed);
        let heap = Heap::now();
        for i in 0..TASKS {
            handles.push(tokio::spawn(make(i)));
        }
        while POLLED.load(Ordering::Relaxed) < TASKS {
            tokio::task::yield_now().await;
        }
        let (asked, usable, _) = heap.per_task_since(TASKS);
        for h in &handles {
            h.abort();
        }
        for h in handles {
            let _ = h.await;
        }
        (asked, usable)
    })
}

/// The same shape as `parked_task`, asleep instead.
#[allow(clippy::manual_async_fn)]
fn sleeper(i: usize) -> impl std::future::Future<Output = usize> + Send + 'static {
    async move {
        POLLED.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(LONG_SLEEP).await;
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
    let rt = current_thread();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(mem::bind_listener()).unwrap();
        server.start_clients(listener.local_addr().unwrap());
        for _ in 0..server.conns() {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    if stream.readable().await.is_err() {
                        return;
                    }
                    match stream.try_read(&mut buf) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        server.finish(0);
    });
}

fn idle_wakeups(multi_thread: bool) -> Sample {
    let rt = if multi_thread {
        Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    } else {
        current_thread()
    };
    rt.block_on(async {
        let sleeper = tokio::spawn(tokio::time::sleep(LONG_SLEEP));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let acceptor = tokio::spawn(async move {
            let _ = listener.accept().await;
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(measure_idle());
        });
        let sample = rx.await.unwrap();
        sleeper.abort();
        acceptor.abort();
        sample
    })
}
