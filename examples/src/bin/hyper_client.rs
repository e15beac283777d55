//! hyper-util's client on ebbtide: fetches a URL and prints the body on stdout (the status line
//! and headers on stderr), as hyper's `client` example does on Tokio.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hyper_hello -- --addr 127.0.0.1:3000 &
//! cargo run -p ebbtide-examples --bin hyper_client -- http://127.0.0.1:3000/
//! cargo run -p ebbtide-examples --bin hyper_client -- --http2 --count 3 http://127.0.0.1:3000/
//! ```
//!
//! - `--http2`: speak HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1.
//! - `--count N`: fetch N times, over the client's pooled connection (default 1); each body is
//!   printed.
//! - `--cacert FILE`: for `https://` URLs, the certificate authorities to trust (PEM). HTTPS is
//!   rustls through `ebbtide_hyper::tls::HttpsConnector`, whose ALPN offers h2 and http/1.1:
//!   the server chooses.
//!
//! The exit status is 0 only if every response was a success (2xx).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use ebbtide_examples::cli::{self, Flags, Parsed};
use ebbtide_hyper::tls::rustls::pki_types::pem::PemObject;
use ebbtide_hyper::tls::rustls::pki_types::CertificateDer;
use ebbtide_hyper::tls::{client_config, rustls, HttpsConnector};
use http_body_util::{BodyExt, Empty};
use hyper::Uri;

const USAGE: &str = "usage: hyper_client [--http2] [--count N] [--cacert FILE] URL\n";

struct Args {
    uri: Uri,
    http2: bool,
    count: usize,
    cacert: Option<String>,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Parsed> {
    let (mut uri, mut http2, mut count, mut cacert) = (None, false, 1, None);
    let mut words = args.into_iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--help" | "-h" => return Err(Parsed::Help),
            "--http2" => http2 = true,
            "--count" => {
                let mut value = Flags::new(words.next());
                count = value.count("--count")?;
            }
            "--cacert" => {
                let mut value = Flags::new(words.next());
                cacert = Some(value.value("--cacert")?);
            }
            flag if flag.starts_with("--") => {
                return Err(Parsed::Error(format!("unknown flag `{flag}`")))
            }
            _ if uri.is_some() => return Err(Parsed::Error(format!("a second URL: {word}"))),
            _ => {
                let parsed = word
                    .parse::<Uri>()
                    .map_err(|e| Parsed::Error(format!("{word}: {e}")))?;
                uri = Some(parsed);
            }
        }
    }
    let uri = uri.ok_or_else(|| Parsed::Error("no URL".into()))?;
    Ok(Args {
        uri,
        http2,
        count,
        cacert,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(stopped) => return cli::finish("hyper_client", stopped, USAGE),
    };
    let runtime = match ebbtide_std::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("hyper_client: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fetch(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            // hyper's errors say what failed; their sources say why.
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            eprintln!("hyper_client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Fetches `args.uri` `args.count` times; whether every answer was a success.
async fn fetch(args: Args) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let mut builder = ebbtide_hyper::client::legacy();
    builder.http2_only(args.http2);
    if args.uri.scheme_str() == Some("https") {
        let Some(cacert) = &args.cacert else {
            return Err("an https:// URL needs --cacert FILE (the authorities to trust)".into());
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(cacert)? {
            roots.add(cert?)?;
        }
        let connector = HttpsConnector::new(Arc::new(client_config(roots)?));
        get_all(&builder.build(connector), &args).await
    } else {
        get_all(&builder.build_http(), &args).await
    }
}

/// GETs `args.uri` `args.count` times with `client`, printing what comes back.
async fn get_all<C>(
    client: &hyper_util::client::legacy::Client<C, Empty<Bytes>>,
    args: &Args,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let mut all_ok = true;
    for _ in 0..args.count {
        let response = client.get(args.uri.clone()).await?;
        eprintln!("{:?} {}", response.version(), response.status());
        for (name, value) in response.headers() {
            eprintln!("{name}: {}", value.to_str().unwrap_or("<not text>"));
        }
        all_ok &= response.status().is_success();
        // The body as it arrives, frame by frame.
        let mut body = response.into_body();
        let mut stdout = std::io::stdout().lock();
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                stdout.write_all(data)?;
            }
        }
        stdout.flush()?;
    }
    Ok(all_ok)
}
