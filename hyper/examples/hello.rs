//! hyper's hello-world server on ebbtide: every request gets `Hello, World!` over HTTP/1.1. One
//! source for Linux and macOS (ebbtide-std) and for WASI (ebbtide-wasi under wasmtime).
//!
//! ```text
//! cargo run --release -p ebbtide-examples --bin hyper_hello -- --addr 127.0.0.1:3000 --workers 2
//! curl http://127.0.0.1:3000/
//! ```
//!
//! On WASI the host binds the socket and hands it over (wasmtime 46, legacy preview 1 host):
//!
//! ```text
//! cargo build -p ebbtide-hyper --example hello --target wasm32-wasip1
//! .tools/wasmtime-46.0.3/bin/wasmtime run -S preview2=n -S tcplisten=127.0.0.1:3000 \
//!     --env LISTEN_FDS=1 target/wasm32-wasip1/debug/examples/hello.wasm
//! ```
//!
//! - `--addr ADDR`: where to listen (default `127.0.0.1:3000`; on WASI the host's `tcplisten`
//!   decides, and this is only printed).
//! - `--workers N`: worker threads (default: every CPU the process may use); each accepts on a
//!   `SO_REUSEPORT` listener of its own, so connections are served where they were accepted.
//!   WASI has one thread.
//! - `--connections N`: exit after serving N connections (for tests).
//!
//! Each connection is a task; a connection the runtime has no room for is closed at once (and
//! logged) while the others go on.

use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[cfg(not(target_os = "wasi"))]
use ebbtide_std as rt;
#[cfg(target_os = "wasi")]
use ebbtide_wasi as rt;

use ebbtide_hyper::EbbtideIo;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response};
use rt::net::TcpListener;

/// The one answer.
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// What the command line asked for.
struct Args {
    addr: String,
    workers: usize,
    /// Exit after this many connections.
    connections: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: "127.0.0.1:3000".to_owned(),
        workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        connections: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let mut value = || words.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => args.addr = value()?,
            "--workers" => {
                args.workers = value()?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--workers takes a count of at least 1")?
            }
            "--connections" => {
                args.connections = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--connections takes a count")?,
                )
            }
            "-h" | "--help" => {
                return Err("usage: hello [--addr ADDR] [--workers N] [--connections N]".into())
            }
            other => return Err(format!("unknown flag {other} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("hello: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How many connections may still be served, and who to tell when none may.
struct Budget {
    left: AtomicUsize,
    done: rt::sync::watch::Sender<bool>,
}

impl Budget {
    fn new(connections: Option<usize>) -> (Arc<Budget>, rt::sync::watch::Receiver<bool>) {
        let (done, finished) = rt::sync::watch::channel(false);
        let left = AtomicUsize::new(connections.unwrap_or(usize::MAX));
        (Arc::new(Budget { left, done }), finished)
    }

    /// One connection was served; the last one ends the server.
    fn served_one(&self) {
        if self.left.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.done.send_replace(true);
        }
    }
}

/// Accepts on `listener` and serves each connection in a task of its own.
async fn accept_loop(listener: TcpListener, budget: Arc<Budget>) -> io::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Out of file descriptors, a connection reset before it was accepted, ...: this
            // connection is lost, the server is not.
            Err(error) => {
                eprintln!("hello: accept: {error}");
                continue;
            }
        };
        let connection = ebbtide_hyper::server::http1()
            .serve_connection(EbbtideIo::new(stream), service_fn(hello));
        let budget = Arc::clone(&budget);
        let served = rt::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("hello: connection: {error}");
            }
            budget.served_one();
        });
        if let Err(error) = served {
            eprintln!("hello: refused a connection: {error}");
        }
    }
}

/// Serves on `listener` until the budget of connections is spent (if there is one).
async fn serve(
    listener: TcpListener,
    budget: Arc<Budget>,
    mut finished: rt::sync::watch::Receiver<bool>,
) -> io::Result<()> {
    let spent = async move {
        // Ends when the budget is spent (or its sender is gone, which cannot happen first).
        while !*finished.borrow_and_update() {
            if finished.changed().await.is_err() {
                break;
            }
        }
    };
    rt::select! {
        result = accept_loop(listener, budget) => result,
        () = spent => Ok(()),
    }
}

#[cfg(not(target_os = "wasi"))]
fn run(args: Args) -> io::Result<()> {
    let runtime = rt::Runtime::builder()
        .worker_threads(args.workers)
        .build()?;
    let handle = runtime.handle();
    let (budget, finished) = Budget::new(args.connections);
    runtime.block_on(async move {
        let addr: std::net::SocketAddr = args
            .addr
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("--addr: {e}")))?;
        if args.workers == 1 {
            let listener = TcpListener::bind(addr).await?;
            eprintln!("hello: listening on http://{}", listener.local_addr()?);
            return serve(listener, budget, finished).await;
        }
        // A listener per worker on one port: worker 0's picks the port (for `:0`), the others
        // share it, and the kernel spreads connections over them.
        let first = TcpListener::bind_reuseport(addr).await?;
        let addr = first.local_addr()?;
        for worker in 1..args.workers {
            let budget = Arc::clone(&budget);
            handle
                .spawn_on(worker, async move {
                    match TcpListener::bind_reuseport(addr).await {
                        Ok(listener) => {
                            if let Err(error) = accept_loop(listener, budget).await {
                                eprintln!("hello: worker {worker}: {error}");
                            }
                        }
                        Err(error) => eprintln!("hello: worker {worker}: bind: {error}"),
                    }
                })
                .map_err(io::Error::other)?;
        }
        eprintln!(
            "hello: listening on http://{addr} ({} workers)",
            args.workers
        );
        serve(first, budget, finished).await
    })
}

#[cfg(target_os = "wasi")]
fn run(args: Args) -> io::Result<()> {
    let runtime = rt::Runtime::new().map_err(io::Error::other)?;
    let (budget, finished) = Budget::new(args.connections);
    runtime
        .try_block_on(async move {
            let listener = TcpListener::from_preopened()?;
            eprintln!(
                "hello: listening on the preopened socket (the host's tcplisten; not {})",
                args.addr
            );
            serve(listener, budget, finished).await
        })
        // The runtime's own error: every task waiting on something that can never come.
        .map_err(io::Error::other)
        .and_then(|served| served)
}
