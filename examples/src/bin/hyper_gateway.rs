//! An HTTP gateway on ebbtide: hyper's `gateway` example, with hyper-util's pooled client. Every
//! request that comes in on `--addr` goes to `--upstream` with the same method, path, headers
//! and body (streamed both ways, never gathered), and the upstream's answer comes back. An
//! upstream that cannot be reached gets the client a `502 Bad Gateway`.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_hello -- --addr 127.0.0.1:3000 &
//! cargo run -p ebbtide-examples --bin hyper_gateway -- --addr 127.0.0.1:3001 --upstream 127.0.0.1:3000
//! curl http://127.0.0.1:3001/
//! ```
//!
//! Connections to the upstream are pooled and reused (idle ones close after 90 s); each worker
//! has a client of its own, so a pooled connection is used on the worker that opened it.

use std::process::ExitCode;

use bytes::Bytes;
use ebbtide_examples::cli::{self, Parsed};
use ebbtide_examples::hyper_serve::{serve_on_workers, Common, COMMON_USAGE};
use ebbtide_hyper::client::Client;
use ebbtide_hyper::EbbtideIo;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, HOST};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};

fn usage() -> String {
    format!(
        "usage: hyper_gateway --upstream HOST:PORT [flags]\n\n{COMMON_USAGE}  --upstream HOST:PORT  where requests go (required)\n"
    )
}

fn main() -> ExitCode {
    let (common, own) = match Common::parse(std::env::args().skip(1), &["--upstream"]) {
        Ok(parsed) => parsed,
        Err(stopped) => return cli::finish("hyper_gateway", stopped, &usage()),
    };
    let Some((_, upstream)) = own.into_iter().next_back() else {
        let error = Parsed::Error("--upstream is required".into());
        return cli::finish("hyper_gateway", error, &usage());
    };
    let upstream: &'static str = match format!("http://{upstream}").parse::<Uri>() {
        Ok(uri) if uri.host().is_some() && uri.path() == "/" => {
            Box::leak(upstream.into_boxed_str())
        }
        _ => {
            let error = Parsed::Error(format!("--upstream {upstream}: not HOST:PORT"));
            return cli::finish("hyper_gateway", error, &usage());
        }
    };
    common.run("hyper_gateway", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(serve_on_workers(
            &handle,
            &common,
            "hyper_gateway",
            move |stream| async move {
                let client = worker_client();
                let service = service_fn(move |request| forward(client.clone(), upstream, request));
                let connection = ebbtide_hyper::server::http1()
                    .serve_connection(EbbtideIo::new(stream), service);
                if let Err(error) = connection.await {
                    eprintln!("hyper_gateway: connection: {error}");
                }
            },
        ))
    })
}

thread_local! {
    /// This worker's client (and its pool of upstream connections).
    static CLIENT: Client<Incoming> = ebbtide_hyper::client::legacy().build_http();
}

/// The client of the worker this runs on (clients are cheap handles to one pool).
fn worker_client() -> Client<Incoming> {
    CLIENT.with(Client::clone)
}

/// Sends `request` on to `upstream` and hands back its answer, or `502 Bad Gateway`.
async fn forward(
    client: Client<Incoming>,
    upstream: &'static str,
    mut request: Request<Incoming>,
) -> Result<Response<BoxBody<Bytes, hyper::Error>>, hyper::Error> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let uri = match format!("http://{upstream}{path}").parse::<Uri>() {
        Ok(uri) => uri,
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST, "bad request target\n")),
    };
    *request.uri_mut() = uri;
    // `upstream` was checked to be a URI authority, which is always a valid header value.
    if let Ok(host) = HeaderValue::from_str(upstream) {
        request.headers_mut().insert(HOST, host);
    }
    match client.request(request).await {
        Ok(response) => Ok(response.map(|body| body.boxed())),
        Err(error) => {
            eprintln!("hyper_gateway: upstream {upstream}: {error}");
            Ok(status(
                StatusCode::BAD_GATEWAY,
                "the upstream did not answer\n",
            ))
        }
    }
}

fn status(code: StatusCode, text: &'static str) -> Response<BoxBody<Bytes, hyper::Error>> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = code;
    response
}
