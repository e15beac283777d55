//! One port serving HTTP/1.1 and HTTP/2 (h2c prior knowledge) with hyper-util's `auto` builder
//! on ebbtide: it reads the first bytes of each connection and serves HTTP/2 if they are the
//! HTTP/2 preface, HTTP/1.1 otherwise. The answer says which one the client got.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_auto -- --addr 127.0.0.1:3000
//! curl --http1.1 http://127.0.0.1:3000/
//! curl --http2-prior-knowledge http://127.0.0.1:3000/
//! ```

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use ebbtide_examples::cli;
use ebbtide_examples::hyper_serve::{serve_on_workers, Common, COMMON_USAGE};
use ebbtide_hyper::EbbtideIo;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};

fn main() -> ExitCode {
    let common = match Common::parse(std::env::args().skip(1), &[]) {
        Ok((common, _)) => common,
        Err(stopped) => {
            let usage = format!("usage: hyper_auto [flags]\n\n{COMMON_USAGE}");
            return cli::finish("hyper_auto", stopped, &usage);
        }
    };
    common.run("hyper_auto", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(serve_on_workers(
            &handle,
            &common,
            "hyper_auto",
            |stream| async move {
                let builder = ebbtide_hyper::server::auto();
                let connection =
                    builder.serve_connection(EbbtideIo::new(stream), service_fn(hello));
                if let Err(error) = connection.await {
                    eprintln!("hyper_auto: connection: {error}");
                }
            },
        ))
    })
}

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("Hello over {:?}!\n", request.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}
