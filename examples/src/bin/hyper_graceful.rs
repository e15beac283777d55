//! Graceful shutdown of a hyper server on ebbtide, hyper-util's way: on ctrl-c (SIGINT) every
//! worker stops accepting, idle connections are closed, requests under way are answered, and
//! the process exits once the last connection is done (or after `--grace-ms`, 10 s by default,
//! whichever comes first). HTTP/1.1 and HTTP/2 (hyper-util's `auto`).
//!
//! `GET /sleep/MS` answers after MS milliseconds, to have a request under way; anything else is
//! answered at once.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_graceful -- --addr 127.0.0.1:3000
//! curl http://127.0.0.1:3000/sleep/3000 &   # then press ctrl-c in the server's terminal
//! ```

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use ebbtide_examples::cli::{self, Parsed};
use ebbtide_examples::hyper_serve::{Common, COMMON_USAGE};
use ebbtide_hyper::EbbtideIo;
use ebbtide_std::net::TcpListener;
use ebbtide_std::sync::watch;
use ebbtide_std::time::{sleep, timeout, Duration};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::server::graceful::GracefulShutdown;

fn usage() -> String {
    format!(
        "usage: hyper_graceful [flags]\n\n{COMMON_USAGE}  --grace-ms N   longest wait for connections after ctrl-c (default 10000)\n"
    )
}

fn main() -> ExitCode {
    let (common, own) = match Common::parse(std::env::args().skip(1), &["--grace-ms"]) {
        Ok(parsed) => parsed,
        Err(stopped) => return cli::finish("hyper_graceful", stopped, &usage()),
    };
    let mut grace = Duration::from_secs(10);
    for (flag, value) in own {
        match value.parse::<u64>() {
            Ok(ms) => grace = Duration::from_millis(ms),
            Err(_) => {
                let error = Parsed::Error(format!("{flag} {value}: not a number of milliseconds"));
                return cli::finish("hyper_graceful", error, &usage());
            }
        }
    }
    common.run("hyper_graceful", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(run(&handle, &common, grace))
    })
}

async fn run(
    handle: &ebbtide_std::Handle,
    common: &Common,
    grace: Duration,
) -> std::io::Result<()> {
    // Listen for ctrl-c before anything else, so that an early one is not lost.
    let ctrl_c = ebbtide_std::signal::ctrl_c();
    // Each connection is watched through it; the accept loops share it until they stop.
    let graceful = Arc::new(GracefulShutdown::new());
    // Every worker's accept loop stops when this turns true.
    let (stop, stopped) = watch::channel(false);

    // One listener per worker on one port (SO_REUSEPORT when there are several): worker 0's is
    // bound here first, so that port 0 picks the port the others then share.
    let first = if common.workers > 1 {
        TcpListener::bind_reuseport(common.addr).await?
    } else {
        TcpListener::bind(common.addr).await?
    };
    let addr = first.local_addr()?;
    let mut loops =
        vec![
            ebbtide_std::spawn(accept_until(first, Arc::clone(&graceful), stopped.clone()))
                .map_err(std::io::Error::other)?,
        ];
    for worker in 1..common.workers {
        let (graceful, stopped) = (Arc::clone(&graceful), stopped.clone());
        let on_worker = handle.spawn_on(worker, async move {
            match TcpListener::bind_reuseport(addr).await {
                Ok(listener) => accept_until(listener, graceful, stopped).await,
                Err(error) => eprintln!("hyper_graceful: worker {worker}: bind: {error}"),
            }
        });
        loops.push(on_worker.map_err(std::io::Error::other)?);
    }
    eprintln!(
        "hyper_graceful: listening on http://{addr} ({} workers)",
        common.workers
    );

    ctrl_c.await?;
    eprintln!(
        "hyper_graceful: ctrl-c: no new connections; waiting for {} open ones",
        graceful.count()
    );
    stop.send_replace(true);
    // Once every loop has returned, every listener is closed (new connections are refused) and
    // every other reference to `graceful` is gone.
    for accept_loop in loops {
        let _ = accept_loop.await;
    }
    let graceful = Arc::into_inner(graceful).expect("the accept loops have returned");
    match timeout(grace, graceful.shutdown()).await {
        Ok(()) => eprintln!("hyper_graceful: every connection closed; bye"),
        Err(_) => eprintln!("hyper_graceful: connections still open after {grace:?}; bye anyway"),
    }
    Ok(())
}

/// Accepts on `listener` until `stopped` turns true, serving each connection in a task watched
/// by `graceful` (so that shutdown can close it gracefully).
async fn accept_until(
    listener: TcpListener,
    graceful: Arc<GracefulShutdown>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let accepted = ebbtide_std::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                eprintln!("hyper_graceful: accept: {error}");
                sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let connection = ebbtide_hyper::server::auto()
            .serve_connection_with_upgrades(EbbtideIo::new(stream), service_fn(answer))
            .into_owned();
        let watched = graceful.watch(connection);
        let served = ebbtide_std::spawn(async move {
            if let Err(error) = watched.await {
                eprintln!("hyper_graceful: connection: {error}");
            }
        });
        if let Err(error) = served {
            eprintln!("hyper_graceful: refused a connection: {error}");
        }
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(ms) = request.uri().path().strip_prefix("/sleep/") {
        if let Ok(ms) = ms.parse::<u64>() {
            sleep(Duration::from_millis(ms.min(60_000))).await;
        }
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"done\n"))))
}
