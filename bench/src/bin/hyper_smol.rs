//! hyper on smol (smol-hyper's `FuturesIo`, `SmolExecutor`, `SmolTimer`, over async-io's
//! `Async<TcpStream>` and an async-executor `Executor`) on the hyper workloads: `smol` (the
//! executor run by `async_io::block_on` on the server thread, for `hyper_*`) and `smol-mt2` (the
//! executor run by 2 threads, as `mtnet_smol`, for `mt_hyper_*`). One accept loop spawning a task
//! per connection; each connection is `FuturesIo::new(stream)` served by a builder of hyper's own
//! with `SmolTimer` (and `SmolExecutor` for HTTP/2). See `ebbtide_bench::hyper_service` for what
//! is measured.
//!
//! smol-hyper 0.1.1 works with hyper 1.x as it is; its `FuturesIo` zeroes hyper's read buffer
//! before every read (futures-io reads take an initialised `&mut [u8]`), which ebbtide-hyper's
//! and hyper-util's glue do not.
//!
//! HTTPS (`https_*`, see `ebbtide_bench::https`): each connection's handshake by
//! `futures_rustls::TlsAcceptor` (the shared rustls config) over the `Async<TcpStream>`, then
//! `FuturesIo::new(tls_stream)` served by hyper's `http1::Builder` with `SmolTimer`, in the
//! connection's task.

use std::net::TcpStream;
use std::thread;

use async_executor::Executor;
use async_io::Async;
use ebbtide_bench::https;
use ebbtide_bench::hyper_service::{self, hello, CountingAllocator, Protocol, Runtime};
use ebbtide_bench::net::{Ready, StopFlag};
use ebbtide_bench::PEER_WORKERS;
use futures_rustls::TlsAcceptor;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use smol_hyper::rt::{FuturesIo, SmolExecutor, SmolTimer};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// The executor every task of the server runs on (leaked: it lives as long as the process).
#[derive(Clone, Copy)]
struct Ex(&'static Executor<'static>);

/// What `SmolExecutor` takes: something that is an `Executor`.
impl AsRef<Executor<'static>> for Ex {
    fn as_ref(&self) -> &Executor<'static> {
        self.0
    }
}

fn main() {
    hyper_service::main(&[
        Runtime {
            name: "smol",
            workers: 1,
            mt: false,
            serve,
        },
        Runtime {
            name: "smol-mt2",
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
    let ex = Ex(Box::leak(Box::new(Executor::new())));
    let listener = Async::new(listener).expect("register the listener");
    if workers == 1 {
        ready.listening();
        async_io::block_on(ex.0.run(accept_loop(ex, protocol, listener, stop)));
        return;
    }
    // As `mtnet_smol`: dropping the sender ends every runner's `run`.
    let (shutdown, stopped) = async_channel::bounded::<()>(1);
    let runners: Vec<_> = (0..workers)
        .map(|i| {
            let stopped = stopped.clone();
            thread::Builder::new()
                .name(format!("smol-runner-{i}"))
                .spawn(move || async_io::block_on(ex.0.run(stopped.recv())))
                .expect("runner thread")
        })
        .collect();
    ready.listening();
    let accepting = ex.0.spawn(accept_loop(ex, protocol, listener, stop));
    futures_lite::future::block_on(accepting);
    drop(shutdown);
    for runner in runners {
        let _ = runner.join();
    }
}

async fn accept_loop(
    ex: Ex,
    protocol: Protocol,
    listener: Async<std::net::TcpListener>,
    stop: StopFlag,
) {
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
        stream.get_ref().set_nodelay(true).expect("TCP_NODELAY");
        let task = match protocol {
            Protocol::Http1 => ex.0.spawn(serve_http1(FuturesIo::new(stream))),
            Protocol::Http2 => ex.0.spawn(serve_http2(ex, FuturesIo::new(stream))),
            Protocol::Https1 => {
                let acceptor = acceptor.clone().expect("the TLS acceptor");
                ex.0.spawn(serve_https1(acceptor, stream))
            }
        };
        task.detach();
    }
}

async fn serve_http1(io: FuturesIo<Async<TcpStream>>) {
    let mut builder = http1::Builder::new();
    builder.timer(SmolTimer::new());
    let _ = builder.serve_connection(io, service_fn(hello)).await;
}

async fn serve_https1(acceptor: TlsAcceptor, stream: Async<TcpStream>) {
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    let mut builder = http1::Builder::new();
    builder.timer(SmolTimer::new());
    let _ = builder
        .serve_connection(FuturesIo::new(tls), service_fn(https::service))
        .await;
}

async fn serve_http2(ex: Ex, io: FuturesIo<Async<TcpStream>>) {
    let mut builder = http2::Builder::new(SmolExecutor::new(ex));
    builder.timer(SmolTimer::new());
    let _ = builder.serve_connection(io, service_fn(hello)).await;
}
