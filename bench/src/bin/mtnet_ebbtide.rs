//! ebbtide-std on the 2-worker network workloads (`mt_tcp_echo_*`, `mt_http_plaintext_*`),
//! against the peers' 2-worker runtimes (`mtnet_tokio`, `mtnet_smol`). See `ebbtide_bench::net`
//! for what is measured.
//!
//! The variants are [`VARIANTS`]: `ebbtide-1w` (one worker: the scaling baseline), `ebbtide-2w`
//! (two workers, thread-per-core) and `ebbtide-2w-steal` (the same with
//! `Builder::work_stealing(true)`, the default), the names of `mt_ebbtide`'s variants, and
//! `ebbtide-2w-steal-nobatch` (thieves take only the tasks queued behind a busy worker's
//! running batch, not the rest of the batch: `Builder::steal_running_batch(false)`), to show
//! what stealing from a running batch is worth. With `n` workers the
//! server is thread-per-core, as ebbtide's own servers are written (`examples/src/serve.rs`):
//! worker 0 (the server thread, inside `Runtime::block_on`) accepts on the harness's listener,
//! and each other worker on a `SO_REUSEPORT` listener of its own bound to the same address
//! (`TcpListener::bind_reuseport`, in a task spawned there with `Handle::spawn_on`, which keeps it
//! on that worker even with work stealing). The kernel spreads the connections over the
//! listeners (a hash of the addresses), and each connection's task is spawned with
//! `ebbtide_std::spawn` on the worker that accepted it, where it stays (unless a worker with
//! nothing to do steals it, with stealing on). The same echo and HTTP tasks as `net_ebbtide`.
//!
//! One figure of its own beside the harness's, for the 2-worker variants: `w1_conns_pct`, the
//! share of the sample's connections that worker 1 accepted, in percent ([`accepted_split`]):
//! how evenly `SO_REUSEPORT` spread them (one relaxed counter per worker, bumped per accept).

use std::sync::atomic::{AtomicU64, Ordering};

use ebbtide_bench::net::{self, Ready, Service, StopFlag};
use ebbtide_std::net::TcpListener;
use ebbtide_std::Runtime;

#[path = "service/ebbtide.rs"]
mod service;
use service::{echo, http};

/// The ebbtide runtime variants: (runtime name, worker threads, work stealing), as in
/// `mt_ebbtide`.
const VARIANTS: &[(&str, usize, bool)] = &[
    ("ebbtide-1w", 1, false),
    ("ebbtide-2w", 2, false),
    ("ebbtide-2w-steal", 2, true),
    ("ebbtide-2w-steal-nobatch", 2, true),
];

fn main() {
    net::mt_main(
        &[
            ("ebbtide-1w", serve_1w),
            ("ebbtide-2w", serve_2w),
            ("ebbtide-2w-steal", serve_2w_steal),
            ("ebbtide-2w-steal-nobatch", serve_2w_steal_nobatch),
        ],
        accepted_split,
    );
}

/// Connections accepted by each worker so far (every variant has at most 2 workers).
static ACCEPTED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// [`ACCEPTED`] when [`accepted_split`] last read it.
static SEEN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// The server's workers.
static WORKERS: AtomicU64 = AtomicU64::new(1);

/// With more than one worker, `w1_conns_pct`: the share of the connections accepted since the
/// last call (the sample's: every sample opens its own) that worker 1 accepted, in percent.
fn accepted_split() -> Vec<(&'static str, f64)> {
    let [w0, w1] = [0, 1].map(|i| {
        let now = ACCEPTED[i].load(Ordering::Relaxed);
        now - SEEN[i].swap(now, Ordering::Relaxed)
    });
    if WORKERS.load(Ordering::Relaxed) < 2 || w0 + w1 == 0 {
        return Vec::new();
    }
    vec![(
        "w1_conns_pct",
        (w1 as f64 * 100.0 / (w0 + w1) as f64).round(),
    )]
}

fn serve_1w(service: Service, listener: std::net::TcpListener, stop: StopFlag, ready: Ready) {
    serve("ebbtide-1w", service, listener, stop, ready);
}

fn serve_2w(service: Service, listener: std::net::TcpListener, stop: StopFlag, ready: Ready) {
    serve("ebbtide-2w", service, listener, stop, ready);
}

fn serve_2w_steal(service: Service, listener: std::net::TcpListener, stop: StopFlag, ready: Ready) {
    serve("ebbtide-2w-steal", service, listener, stop, ready);
}

fn serve_2w_steal_nobatch(
    service: Service,
    listener: std::net::TcpListener,
    stop: StopFlag,
    ready: Ready,
) {
    serve("ebbtide-2w-steal-nobatch", service, listener, stop, ready);
}

fn serve(
    variant: &str,
    service: Service,
    listener: std::net::TcpListener,
    stop: StopFlag,
    ready: Ready,
) {
    let (workers, stealing) = VARIANTS
        .iter()
        .find(|(name, _, _)| *name == variant)
        .map(|(_, workers, stealing)| (*workers, *stealing))
        .expect("a variant of VARIANTS");
    assert!(workers <= ACCEPTED.len(), "a counter per worker");
    WORKERS.store(workers as u64, Ordering::Relaxed);
    // Room for 512 connections and more in each of the two small classes, on every worker (a
    // connection's task keeps its buffers on the heap: it fits in 256 bytes or 1 KiB).
    let runtime = Runtime::builder()
        .worker_threads(workers)
        .work_stealing(stealing)
        // `ebbtide-2w-steal-nobatch`: thieves take queued tasks, not a running batch's.
        .steal_running_batch(!variant.ends_with("-nobatch"))
        .task_slots([1024, 1024, 16, 4])
        .build()
        .expect("build the runtime");
    let handle = runtime.handle();
    runtime.block_on(async move {
        let addr = listener.local_addr().expect("the listener's address");
        let listener = TcpListener::from_std(listener).expect("register the listener");
        for worker in 1..workers {
            let stop = stop.clone();
            let (bound, is_bound) = ebbtide_std::sync::oneshot::channel::<()>();
            let task = handle.spawn_on(worker, async move {
                let listener = TcpListener::bind_reuseport(addr)
                    .await
                    .expect("bind a SO_REUSEPORT listener");
                let _ = bound.send(());
                accept_loop(worker, service, listener, stop).await;
            });
            drop(task.expect("spawn the accept loop"));
            is_bound.await.expect("the accept loop bound its listener");
        }
        ready.listening();
        accept_loop(0, service, listener, stop).await;
    });
}

/// Accepts on `worker`'s listener, spawning each connection's task there.
async fn accept_loop(worker: usize, service: Service, listener: TcpListener, stop: StopFlag) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.is_set() {
            return;
        }
        ACCEPTED[worker].fetch_add(1, Ordering::Relaxed);
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let spawned = match service {
            Service::Echo => ebbtide_std::spawn(echo(stream)).map(drop),
            Service::Http => ebbtide_std::spawn(http(stream)).map(drop),
        };
        spawned.expect("a free task slot");
    }
}
