//! hyper's echo server on ebbtide, HTTP/1.1:
//!
//! - `GET /`: how to use it;
//! - `POST /echo`: the request body back, streamed as it arrives (any length);
//! - `POST /echo/uppercase`: the same, upper-cased frame by frame;
//! - `POST /echo/reversed`: the whole body, reversed: bodies over 64 KiB get `413 Payload Too
//!   Large` without being read;
//! - anything else: `404 Not Found`.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_echo -- --addr 127.0.0.1:3000
//! curl --data-binary 'hello' http://127.0.0.1:3000/echo/reversed
//! ```

use std::process::ExitCode;

use bytes::Bytes;
use ebbtide_examples::cli;
use ebbtide_examples::hyper_serve::{serve_on_workers, Common, COMMON_USAGE};
use ebbtide_hyper::EbbtideIo;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};

/// The largest body `/echo/reversed` reads whole.
const MAX_REVERSED: u64 = 64 * 1024;

fn usage() -> String {
    format!("usage: hyper_echo [flags]\n\n{COMMON_USAGE}")
}

fn main() -> ExitCode {
    let common = match Common::parse(std::env::args().skip(1), &[]) {
        Ok((common, _)) => common,
        Err(stopped) => return cli::finish("hyper_echo", stopped, &usage()),
    };
    common.run("hyper_echo", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(serve_on_workers(
            &handle,
            &common,
            "hyper_echo",
            |stream| async move {
                let connection = ebbtide_hyper::server::http1()
                    .serve_connection(EbbtideIo::new(stream), service_fn(echo));
                if let Err(error) = connection.await {
                    eprintln!("hyper_echo: connection: {error}");
                }
            },
        ))
    })
}

async fn echo(
    request: Request<Incoming>,
) -> Result<Response<BoxBody<Bytes, hyper::Error>>, hyper::Error> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Ok(Response::new(full(
            "Try POSTing data to /echo, /echo/uppercase or /echo/reversed\n",
        ))),
        // The body goes back as it comes, frame by frame, without being gathered.
        (&Method::POST, "/echo") => Ok(Response::new(request.into_body().boxed())),
        (&Method::POST, "/echo/uppercase") => {
            let upper = request.into_body().map_frame(|frame| {
                frame.map_data(|data| {
                    Bytes::from(data.iter().map(u8::to_ascii_uppercase).collect::<Vec<u8>>())
                })
            });
            Ok(Response::new(upper.boxed()))
        }
        (&Method::POST, "/echo/reversed") => {
            // Refuse a body too large to gather before reading any of it.
            let declared = request.body().size_hint().upper().unwrap_or(u64::MAX);
            if declared > MAX_REVERSED {
                let mut response = Response::new(full("Body too big\n"));
                *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                return Ok(response);
            }
            let whole = request.collect().await?.to_bytes();
            let reversed: Vec<u8> = whole.iter().rev().copied().collect();
            Ok(Response::new(full(reversed)))
        }
        _ => {
            let mut response = Response::new(empty());
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(response)
        }
    }
}

fn empty() -> BoxBody<Bytes, hyper::Error> {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

fn full(chunk: impl Into<Bytes>) -> BoxBody<Bytes, hyper::Error> {
    Full::new(chunk.into())
        .map_err(|never| match never {})
        .boxed()
}
