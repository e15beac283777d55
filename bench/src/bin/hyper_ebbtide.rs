//! hyper on ebbtide-std (ebbtide-hyper) on the hyper workloads: `ebbtide` (one worker, on the
//! server thread, for `hyper_*`), `ebbtide-1w` and `ebbtide-2w-steal` (one and two workers,
//! work stealing on as `Builder` has it by default, for `mt_hyper_*`). See
//! `ebbtide_bench::hyper_service` for what is measured.
//!
//! Served as `mtnet_ebbtide` serves: thread-per-core, worker 0 (the server thread, inside
//! `Runtime::block_on`) accepting on the harness's listener and each other worker on a
//! `SO_REUSEPORT` listener of its own (`TcpListener::bind_reuseport`, in a task spawned there
//! with `Handle::spawn_on`), a task per connection spawned on the worker that accepted it. Each
//! connection is `EbbtideIo::new(stream)` served by a builder of `ebbtide_hyper::server`:
//! `http1()` (with `EbbtideTimer`) or `http2()` (with `EbbtideExecutor`, `EbbtideTimer` and the
//! stream limit of `ebbtide_hyper::max_concurrent_streams`, hyper's default 200 here: task memory
//! has no limit).
//!
//! HTTPS (`https_*`, see `ebbtide_bench::https`): each connection's handshake by
//! `ebbtide_hyper::tls::TlsAcceptor` (the shared rustls config), then
//! `EbbtideIo::new(tls_stream)` served by `http1()`, in the connection's task.

use ebbtide_bench::https;
use ebbtide_bench::hyper_service::{self, hello, CountingAllocator, Protocol, Runtime};
use ebbtide_bench::net::{Ready, StopFlag};
use ebbtide_hyper::tls::TlsAcceptor;
use ebbtide_hyper::EbbtideIo;
use ebbtide_std::net::TcpListener;
use hyper::service::service_fn;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn main() {
    hyper_service::main(&[
        Runtime {
            name: "ebbtide",
            workers: 1,
            mt: false,
            serve,
        },
        Runtime {
            name: "ebbtide-1w",
            workers: 1,
            mt: true,
            serve,
        },
        Runtime {
            name: "ebbtide-2w-steal",
            workers: 2,
            mt: true,
            serve,
        },
    ]);
}

fn serve(
    protocol: Protocol,
    workers: usize,
    listener: std::net::TcpListener,
    stop: StopFlag,
    ready: Ready,
) {
    // Room reserved up front for 512 connections (and HTTP/2's stream tasks) in every class:
    // hyper's connection futures are larger than the plaintext servers' tasks. The warm-up run
    // grows whatever is short of it before the first sample.
    let runtime = ebbtide_std::Runtime::builder()
        .worker_threads(workers)
        .task_slots([1024, 1024, 1024, 512])
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
                accept_loop(protocol, listener, stop).await;
            });
            drop(task.expect("spawn the accept loop"));
            is_bound.await.expect("the accept loop bound its listener");
        }
        ready.listening();
        accept_loop(protocol, listener, stop).await;
    });
}

/// Accepts on this worker's listener, spawning each connection's task here.
async fn accept_loop(protocol: Protocol, listener: TcpListener, stop: StopFlag) {
    // HTTPS only: the shared TLS config.
    let acceptor = (protocol == Protocol::Https1).then(|| TlsAcceptor::new(https::server_config()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.is_set() {
            return;
        }
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let spawned = match protocol {
            Protocol::Http1 => ebbtide_std::spawn(async move {
                let _ = ebbtide_hyper::server::http1()
                    .serve_connection(EbbtideIo::new(stream), service_fn(hello))
                    .await;
            }),
            Protocol::Http2 => ebbtide_std::spawn(async move {
                let _ = ebbtide_hyper::server::http2()
                    .serve_connection(EbbtideIo::new(stream), service_fn(hello))
                    .await;
            }),
            Protocol::Https1 => {
                let acceptor = acceptor.clone().expect("the TLS acceptor");
                ebbtide_std::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = ebbtide_hyper::server::http1()
                        .serve_connection(EbbtideIo::new(tls), service_fn(https::service))
                        .await;
                })
            }
        };
        drop(spawned.expect("a free task slot"));
    }
}
