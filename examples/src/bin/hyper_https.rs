//! An HTTPS server with hyper and rustls on ebbtide: TLS 1.2 or 1.3 with the certificate and key
//! given as PEM files, and HTTP/2 or HTTP/1.1 as the client's ALPN chose. The answer says which.
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
//!     -subj /CN=localhost -addext subjectAltName=DNS:localhost \
//!     -keyout key.pem -out cert.pem
//! cargo run -p ebbtide-examples --bin hyper_https -- --tls-cert cert.pem --tls-key key.pem
//! curl --cacert cert.pem https://localhost:3000/
//! ```
//!
//! A handshake must finish within 10 s (a client that never does gives its task back); a
//! handshake that fails (garbage, an untrusted certificate on the client's side) is logged and
//! the server goes on.

use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use ebbtide_examples::cli::{self, Parsed};
use ebbtide_examples::hyper_serve::{serve_on_workers, Common, COMMON_USAGE};
use ebbtide_hyper::tls::{server_config_from_pem_files, TlsAcceptor};
use ebbtide_hyper::EbbtideIo;
use ebbtide_std::time::{timeout, Duration};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// The longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn usage() -> String {
    format!(
        "usage: hyper_https --tls-cert FILE --tls-key FILE [flags]\n\n{COMMON_USAGE}  \
         --tls-cert FILE  the certificate chain, PEM, the server's certificate first\n  \
         --tls-key FILE   its private key, PEM\n"
    )
}

fn main() -> ExitCode {
    let (common, own) = match Common::parse(std::env::args().skip(1), &["--tls-cert", "--tls-key"])
    {
        Ok(parsed) => parsed,
        Err(stopped) => return cli::finish("hyper_https", stopped, &usage()),
    };
    let file = |flag: &str| {
        own.iter()
            .rev()
            .find(|(f, _)| f == flag)
            .map(|(_, v)| v.clone())
    };
    let (Some(cert), Some(key)) = (file("--tls-cert"), file("--tls-key")) else {
        let error = Parsed::Error("--tls-cert and --tls-key are required".into());
        return cli::finish("hyper_https", error, &usage());
    };
    let acceptor = match server_config_from_pem_files(&cert, &key) {
        Ok(config) => TlsAcceptor::new(Arc::new(config)),
        Err(error) => {
            eprintln!("hyper_https: {error}");
            return ExitCode::FAILURE;
        }
    };
    common.run("hyper_https", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(serve_on_workers(
            &handle,
            &common,
            "hyper_https",
            move |tcp| {
                let acceptor = acceptor.clone();
                async move {
                    let _ = tcp.set_nodelay(true);
                    let tls = match timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(error)) => return eprintln!("hyper_https: handshake: {error}"),
                        Err(_) => {
                            return eprintln!("hyper_https: handshake: over {HANDSHAKE_TIMEOUT:?}")
                        }
                    };
                    let served = if tls.negotiated_h2() {
                        ebbtide_hyper::server::http2()
                            .serve_connection(EbbtideIo::new(tls), service_fn(hello))
                            .await
                    } else {
                        ebbtide_hyper::server::http1()
                            .serve_connection(EbbtideIo::new(tls), service_fn(hello))
                            .await
                    };
                    if let Err(error) = served {
                        eprintln!("hyper_https: connection: {error}");
                    }
                }
            },
        ))
    })
}

async fn hello(
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let body = format!("Hello over TLS and {:?}!\n", request.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}
