//! hyper on Tokio (hyper-util's `TokioIo`, `TokioExecutor`, `TokioTimer`) on the hyper
//! workloads: `tokio-ct` (`current_thread` on the server thread, for `hyper_*`) and `tokio-mt2`
//! (`new_multi_thread().worker_threads(2)`, for `mt_hyper_*`), both with IO and time enabled
//! (`TokioTimer` needs the time driver). One accept loop spawning a task per connection, as
//! `net_tokio` and `mtnet_tokio`; each connection is `TokioIo::new(stream)` served by a builder
//! of hyper's own with `TokioTimer` (and `TokioExecutor` for HTTP/2). See
//! `ebbtide_bench::hyper_service` for what is measured.
//!
//! HTTPS (`https_*`, see `ebbtide_bench::https`): each connection's handshake by
//! `tokio_rustls::TlsAcceptor` (the shared rustls config), then `TokioIo::new(tls_stream)` served
//! by hyper's `http1::Builder` with `TokioTimer`, in the connection's task.

use ebbtide_bench::https;
use ebbtide_bench::hyper_service::{self, hello, CountingAllocator, Protocol, Runtime};
use ebbtide_bench::net::{Ready, StopFlag};
use ebbtide_bench::PEER_WORKERS;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::runtime::Builder;
use tokio_rustls::TlsAcceptor;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn main() {
    hyper_service::main(&[
        Runtime {
            name: "tokio-ct",
            workers: 1,
            mt: false,
            serve,
        },
        Runtime {
            name: "tokio-mt2",
            workers: PEER_WORKERS,
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
    let runtime = if workers == 1 {
        Builder::new_current_thread().enable_all().build()
    } else {
        Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    }
    .expect("build the runtime");
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).expect("register the listener");
        ready.listening();
        if workers == 1 {
            accept_loop(protocol, listener, stop).await;
        } else {
            // Spawned, so that the accept loop runs on a worker too, not on this thread.
            tokio::spawn(accept_loop(protocol, listener, stop))
                .await
                .unwrap();
        }
    });
}

async fn accept_loop(protocol: Protocol, listener: TcpListener, stop: StopFlag) {
    // HTTPS only: the shared TLS config.
    let acceptor =
        (protocol == Protocol::Https1).then(|| TlsAcceptor::from(https::server_config()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.is_set() {
            return;
        }
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let task = match protocol {
            Protocol::Http1 => tokio::spawn(async move {
                let mut builder = http1::Builder::new();
                builder.timer(TokioTimer::new());
                let io = TokioIo::new(stream);
                let _ = builder.serve_connection(io, service_fn(hello)).await;
            }),
            Protocol::Http2 => tokio::spawn(async move {
                let mut builder = http2::Builder::new(TokioExecutor::new());
                builder.timer(TokioTimer::new());
                let io = TokioIo::new(stream);
                let _ = builder.serve_connection(io, service_fn(hello)).await;
            }),
            Protocol::Https1 => {
                let acceptor = acceptor.clone().expect("the TLS acceptor");
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut builder = http1::Builder::new();
                    builder.timer(TokioTimer::new());
                    let io = TokioIo::new(tls);
                    let _ = builder
                        .serve_connection(io, service_fn(https::service))
                        .await;
                })
            }
        };
        drop(task);
    }
}
