//! hyper's HTTP/2 server on ebbtide, in cleartext with prior knowledge (h2c): the client starts
//! with the HTTP/2 preface, as `curl --http2-prior-knowledge` and `h2load` do. Each stream is an
//! ebbtide task ([`ebbtide_hyper::EbbtideExecutor`]); each connection allows as many concurrent
//! streams as task memory has room for ([`ebbtide_hyper::max_concurrent_streams`]).
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_h2c -- --addr 127.0.0.1:3000
//! curl --http2-prior-knowledge http://127.0.0.1:3000/
//! ```
//!
//! `--keep-alive-ms N` sends an HTTP/2 PING every N ms of silence and closes the connection if
//! the answer does not come within the same time (hyper's keep-alive, on ebbtide's timer).

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use ebbtide_examples::cli::{self, Parsed};
use ebbtide_examples::hyper_serve::{serve_on_workers, Common, COMMON_USAGE};
use ebbtide_hyper::EbbtideIo;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};

fn usage() -> String {
    format!(
        "usage: hyper_h2c [flags]\n\n{COMMON_USAGE}  --keep-alive-ms N  ping an idle connection every N ms\n"
    )
}

fn main() -> ExitCode {
    let (common, own) = match Common::parse(std::env::args().skip(1), &["--keep-alive-ms"]) {
        Ok(parsed) => parsed,
        Err(stopped) => return cli::finish("hyper_h2c", stopped, &usage()),
    };
    let mut keep_alive = None;
    for (flag, value) in own {
        match value.parse::<u64>() {
            Ok(ms) if ms > 0 => keep_alive = Some(Duration::from_millis(ms)),
            _ => {
                let error = Parsed::Error(format!("{flag} {value}: not a number of milliseconds"));
                return cli::finish("hyper_h2c", error, &usage());
            }
        }
    }
    common.run("hyper_h2c", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(serve_on_workers(
            &handle,
            &common,
            "hyper_h2c",
            move |stream| async move {
                let mut builder = ebbtide_hyper::server::http2();
                if let Some(interval) = keep_alive {
                    builder
                        .keep_alive_interval(interval)
                        .keep_alive_timeout(interval);
                }
                let connection =
                    builder.serve_connection(EbbtideIo::new(stream), service_fn(hello));
                if let Err(error) = connection.await {
                    eprintln!("hyper_h2c: connection: {error}");
                }
            },
        ))
    })
}

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("Hello over {:?}!\n", request.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}
