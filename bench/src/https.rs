//! The HTTPS workloads (`https_*`, run by the `hyper_*` binaries through
//! [`hyper_service::main`](crate::hyper_service::main)): the same hyper HTTP/1.1 service over
//! the same rustls on every runtime, and the handshake client.
//!
//! # TLS, the same everywhere
//!
//! One rustls build (0.23, ebbtide-hyper's, which tokio-rustls and futures-rustls resolve to as
//! well), the *ring* provider ([`provider`]: ebbtide-hyper's
//! [`crypto_provider`](ebbtide_hyper::tls::crypto_provider) with X25519 put first), TLS 1.3
//! only, ALPN `http/1.1` only, no client certificates. The certificates are made once per process, when the server starts
//! ([`server_config`]), with rcgen: a CA (ECDSA P-256, self-signed) and a server certificate for
//! `localhost` (ECDSA P-256, signed by the CA), which the server sends alone. Session resumption
//! is off on the server (no TLS 1.3 tickets, no session cache) and on the handshake client, so
//! that every connection pays a full handshake: X25519 key exchange, an ECDSA P-256 signature
//! by the server, `TLS13_AES_256_GCM_SHA384` (the first suite of ring's provider and of
//! OpenSSL's client, which the server follows).
//!
//! rustls 0.23.48's ring provider lists P-384 first among its key exchange groups, so a rustls
//! client sends a P-384 key share and the server takes it; ring's P-384 is generic big-number
//! code, and then took most of a handshake's CPU time on both sides. [`provider`] puts X25519
//! first, on the server and the handshake client alike: the group browsers and OpenSSL (wrk)
//! offer first. Each runtime wraps the accepted
//! `TCP_NODELAY` stream in its TLS glue and serves [`service`] with hyper's HTTP/1.1 builder and
//! its timer, as the plaintext hyper workloads do:
//!
//! - ebbtide: `ebbtide_hyper::tls::TlsAcceptor`, `EbbtideIo`, `ebbtide_hyper::server::http1()`;
//! - Tokio: `tokio_rustls::TlsAcceptor`, hyper-util's `TokioIo`, hyper's `http1::Builder` with
//!   `TokioTimer`;
//! - smol: `futures_rustls::TlsAcceptor` over async-io's `Async<TcpStream>`, smol-hyper's
//!   `FuturesIo`, hyper's `http1::Builder` with `SmolTimer`.
//!
//! None bounds the handshake in time (hyper's `header_read_timeout` starts after it).
//!
//! # Workloads
//!
//! - `https_handshakes`: [`HANDSHAKE_CONNECTIONS`] client threads (see [`handshakes`]), each
//!   in a loop: connect, TLS 1.3 handshake, `GET /` with `Connection: close`, read the answer
//!   (hyper then sends `close_notify` and closes), close; for [`wrk_secs`](crate::net::wrk_secs).
//!   `rps` is connections per second, `p99_ns` the 99th percentile of the time from `connect`
//!   to the last byte of the answer, `cpu_ns` and `allocs_per_req` per connection. wrk is not
//!   used here: it times only from the request's write, not the connect and handshake, and its
//!   OpenSSL client would resume sessions.
//! - `https_1mb`: `wrk -t1 -c16 -d{S}s --latency https://127.0.0.1:{port}/1mb` over keep-alive
//!   connections (Debian's wrk links OpenSSL; it does not verify the certificate), the answer a
//!   1 MiB body ([`BIG_BODY_LEN`]: one `Bytes` made once, cloned per response). `mb_s` is
//!   megabytes (10^6 bytes) of bodies per second.
//!
//! # The handshake client
//!
//! Another process, as wrk and h2load are: the benchmark binary itself, run as
//! `<binary> https-client <port> <threads> <millis>` with the CA's DER on its standard input
//! ([`client_main`]), started from the client's thread and so pinned to the client's CPU with
//! every thread it starts. The server's CPU time and allocations are then its process's alone,
//! as for the other hyper workloads. Each client thread uses rustls's blocking
//! `StreamOwned` over a `std::net::TcpStream` (`TCP_NODELAY`) and verifies the server's
//! certificate against the CA. The client verifies two ECDSA signatures per handshake where the
//! server makes one: on one CPU it may well be the bottleneck, and then connections per second
//! are the client's rate on every runtime, and the server's CPU per connection is the figure to
//! compare. The sample's `client_cpu_pct` says how busy the client was: the client process's
//! CPU time over the run's wall time, in percent (near 100, it set the rate).

use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ebbtide_hyper::tls::rustls;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response};
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};

/// The crypto provider of the server and of the handshake client: ebbtide-hyper's
/// [`crypto_provider`](ebbtide_hyper::tls::crypto_provider) (rustls's *ring* provider) with its
/// key exchange groups in the order X25519, P-256, P-384 (see
/// [TLS, the same everywhere](self#tls-the-same-everywhere)).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
    let mut provider = (*ebbtide_hyper::tls::crypto_provider()).clone();
    provider.kx_groups = vec![X25519, SECP256R1, SECP384R1];
    Arc::new(provider)
}

/// The HTTPS workloads, run by the 1-worker runtimes of the `hyper_*` binaries.
pub const WORKLOADS: &[&str] = &["https_handshakes", "https_1mb"];

/// Concurrent connections of `https_handshakes`: client threads, each one connection at a time.
pub const HANDSHAKE_CONNECTIONS: usize = 16;

/// wrk's connections (`-c`) on `https_1mb`.
pub const BIG_BODY_CONNECTIONS: usize = 16;

/// The path [`service`] answers with the 1 MiB body.
pub const BIG_BODY_PATH: &str = "/1mb";

/// The size of the body of [`BIG_BODY_PATH`]: 1 MiB.
pub const BIG_BODY_LEN: usize = 1 << 20;

/// The name in the server's certificate, which the handshake client asks for.
pub const SERVER_NAME: &str = "localhost";

/// The first argument that makes a `hyper_*` binary the handshake client ([`client_main`]).
pub const CLIENT_ARG: &str = "https-client";

/// The certificates and the server config, made once per process.
struct Tls {
    ca: CertificateDer<'static>,
    server: Arc<ServerConfig>,
}

static TLS: OnceLock<Tls> = OnceLock::new();

fn tls() -> &'static Tls {
    TLS.get_or_init(|| make_tls().expect("make the certificates and the TLS config"))
}

fn make_tls() -> Result<Tls, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| format!("rcgen: {e}");
    // `KeyPair::generate` makes ECDSA P-256 keys.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ebbtide-bench CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(e)?).map_err(e)?;
    let key = KeyPair::generate().map_err(e)?;
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()]).map_err(e)?;
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAME);
    let cert = params.signed_by(&key, &ca).map_err(e)?;
    let key = PrivatePkcs8KeyDer::from(key.serialize_der());
    let mut server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key.into())
        .map_err(|e| e.to_string())?;
    server.alpn_protocols = vec![ebbtide_hyper::tls::ALPN_HTTP1.to_vec()];
    // Every handshake a full one.
    server.send_tls13_tickets = 0;
    server.session_storage = Arc::new(NoServerSessionStorage {});
    Ok(Tls {
        ca: ca.der().clone(),
        server: Arc::new(server),
    })
}

/// The server config of every runtime (see [TLS, the same everywhere](self#tls-the-same-everywhere)),
/// made on the first call: each server takes it when it starts.
pub fn server_config() -> Arc<ServerConfig> {
    tls().server.clone()
}

/// The CA's certificate (DER), which the handshake client trusts.
pub fn ca_der() -> CertificateDer<'static> {
    tls().ca.clone()
}

/// The 1 MiB body of [`BIG_BODY_PATH`] (made on the first call; each call is a cheap clone).
pub fn big_body() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        Bytes::from(
            (0..BIG_BODY_LEN)
                .map(|i| (i % 251) as u8)
                .collect::<Vec<u8>>(),
        )
    })
    .clone()
}

/// Makes the certificates, the config and the 1 MiB body now (when the server starts) rather
/// than on the first connection.
pub fn prepare() {
    let _ = tls();
    let _ = big_body();
}

/// The service of every HTTPS server: [`BIG_BODY_PATH`] gets [`big_body`], anything else
/// [`hello`](crate::hyper_service::hello)'s answer; `content-type: text/plain` either way.
///
/// # Errors
///
/// Never: the error type is [`Infallible`], as hyper's `service_fn` needs one.
pub async fn service(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() != BIG_BODY_PATH {
        return crate::hyper_service::hello(request).await;
    }
    let mut response = Response::new(Full::new(big_body()));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// What [`handshakes`] measured.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeReport {
    /// Connections that completed (handshake, request, whole answer).
    pub connections: u64,
    /// From the clients' common start to the last one's end, in nanoseconds.
    pub elapsed_ns: u64,
    /// The 99th percentile of connect-to-answer time, in nanoseconds.
    pub p99_ns: u64,
    /// CPU time (user + system) of the client process over its run, in nanoseconds: near
    /// `elapsed_ns`, the client had its CPU to itself and set the rate.
    pub client_cpu_ns: u64,
}

impl HandshakeReport {
    /// Connections per second.
    pub fn rate(&self) -> f64 {
        self.connections as f64 * 1e9 / self.elapsed_ns.max(1) as f64
    }
}

/// Runs the handshake client against `127.0.0.1:{port}` for `duration` with `threads`
/// connections at a time: the binary itself as a child process (see [The handshake
/// client](self#the-handshake-client)), which inherits the calling thread's CPU.
///
/// # Errors
///
/// If the child cannot run, or fails (a connection, handshake or answer failed: its message).
pub fn handshakes(
    port: u16,
    threads: usize,
    duration: Duration,
) -> Result<HandshakeReport, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the binary's path: {e}"))?;
    let mut child = Command::new(exe)
        .arg(CLIENT_ARG)
        .arg(port.to_string())
        .arg(threads.to_string())
        .arg(duration.as_millis().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the handshake client: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let written = stdin.write_all(ca_der().as_ref());
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|e| format!("the handshake client: {e}"))?;
    written.map_err(|e| format!("writing the CA to the handshake client: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "the handshake client failed ({}):\n{stdout}{stderr}",
            output.status
        ));
    }
    parse_report(&stdout).ok_or_else(|| format!("unreadable handshake client report: {stdout}"))
}

/// The child's report line: `connections elapsed_ns p99_ns client_cpu_ns`.
fn parse_report(line: &str) -> Option<HandshakeReport> {
    let mut numbers = line.split_whitespace().map(|n| n.parse::<u64>().ok());
    let report = HandshakeReport {
        connections: numbers.next()??,
        elapsed_ns: numbers.next()??,
        p99_ns: numbers.next()??,
        client_cpu_ns: numbers.next()??,
    };
    (report.connections > 0).then_some(report)
}

/// The handshake client's entry point: `args` are what follows [`CLIENT_ARG`] (port, threads,
/// milliseconds), the CA's DER comes on standard input. Runs the client threads, prints the
/// report line, and exits with status 1 (saying why) if any connection failed.
pub fn client_main(args: &[String]) -> ! {
    let parsed = match args {
        [port, threads, millis] => port
            .parse::<u16>()
            .ok()
            .zip(threads.parse::<usize>().ok())
            .zip(millis.parse::<u64>().ok()),
        _ => None,
    };
    let Some(((port, threads), millis)) = parsed else {
        eprintln!("usage: <binary> {CLIENT_ARG} <port> <threads> <millis> < ca.der");
        std::process::exit(2);
    };
    let mut ca = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut ca) {
        eprintln!("reading the CA: {e}");
        std::process::exit(2);
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    match run_client(
        addr,
        CertificateDer::from(ca),
        threads,
        Duration::from_millis(millis),
    ) {
        Ok(report) => {
            println!(
                "{} {} {} {}",
                report.connections, report.elapsed_ns, report.p99_ns, report.client_cpu_ns
            );
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// The client config: [`provider`], TLS 1.3 only, the CA as the only root, ALPN
/// `http/1.1`, no resumption.
fn client_config(ca: CertificateDer<'static>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca)
        .map_err(|e| format!("the CA certificate: {e}"))?;
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ebbtide_hyper::tls::ALPN_HTTP1.to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// `threads` threads, each opening connections one after the other until `duration` has
/// passed since their common start (see [`one_connection`]).
fn run_client(
    addr: SocketAddr,
    ca: CertificateDer<'static>,
    threads: usize,
    duration: Duration,
) -> Result<HandshakeReport, String> {
    let config = client_config(ca)?;
    let name = ServerName::try_from(SERVER_NAME).map_err(|e| e.to_string())?;
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (config, name, barrier) = (config.clone(), name.clone(), barrier.clone());
            std::thread::spawn(move || -> Result<(Vec<u32>, Instant), String> {
                let mut latencies = Vec::with_capacity(1 << 16);
                barrier.wait();
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline {
                    let ns = one_connection(addr, &config, &name)?;
                    latencies.push(ns.min(u128::from(u32::MAX)) as u32);
                }
                Ok((latencies, Instant::now()))
            })
        })
        .collect();
    let cpu = crate::net::process_cpu_ns();
    let start = Instant::now();
    barrier.wait();
    let mut latencies = Vec::new();
    let mut end = start;
    let mut failed = None;
    for worker in workers {
        match worker.join() {
            Ok(Ok((mut own, ended))) => {
                latencies.append(&mut own);
                end = end.max(ended);
            }
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some("a client thread panicked".into()),
        }
    }
    let client_cpu_ns = crate::net::process_cpu_ns() - cpu;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(HandshakeReport {
        connections: latencies.len() as u64,
        elapsed_ns: (end - start).as_nanos() as u64,
        p99_ns: crate::net::quantile(&mut latencies, 0.99),
        client_cpu_ns,
    })
}

/// One connection: connect, handshake, `GET /` with `Connection: close`, read the whole
/// answer (the time to here is returned, in nanoseconds), then read until the server closes
/// (`close_notify`) and close.
fn one_connection(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &ServerName<'static>,
) -> Result<u128, String> {
    let start = Instant::now();
    let tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let conn =
        ClientConnection::new(config.clone(), name.clone()).map_err(|e| format!("rustls: {e}"))?;
    let mut tls = StreamOwned::new(conn, tcp);
    // The first write runs the handshake.
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .and_then(|()| tls.flush())
        .map_err(|e| format!("handshake or request: {e}"))?;
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 4096];
    let mut answered = None;
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answered.is_none() && complete_answer(&answer)? {
                    answered = Some(start.elapsed().as_nanos());
                }
            }
            // Closed without `close_notify` after a whole answer: the answer still counts.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && answered.is_some() => break,
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    }
    answered.ok_or_else(|| {
        format!(
            "the server closed before a whole answer: {:?}",
            String::from_utf8_lossy(&answer)
        )
    })
}

/// Whether `answer` holds a whole `200` answer with the body `Hello, World!`; an error if it
/// holds another answer.
fn complete_answer(answer: &[u8]) -> Result<bool, String> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(answer) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(e) => return Err(format!("unreadable answer: {e}")),
    };
    if response.code != Some(200) {
        return Err(format!("answer {:?}", response.code));
    }
    let body = &answer[head..];
    if body.len() < crate::http::BODY.len() {
        return Ok(false);
    }
    if body != crate::http::BODY {
        return Err(format!(
            "unexpected body {:?}",
            String::from_utf8_lossy(body)
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines() {
        let report = parse_report("3000 2000000000 4100000 1900000000\n").unwrap();
        assert_eq!(report.connections, 3_000);
        assert_eq!(report.p99_ns, 4_100_000);
        assert_eq!(report.client_cpu_ns, 1_900_000_000);
        assert!((report.rate() - 1_500.0).abs() < 1e-9);
        assert!(parse_report("0 1 1 1").is_none());
        assert!(parse_report("12 x 3 4").is_none());
        assert!(parse_report("12 2 3").is_none());
    }

    #[test]
    fn answers() {
        let whole =
            b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\nconnection: close\r\n\r\nHello, World!";
        assert_eq!(complete_answer(whole), Ok(true));
        assert_eq!(complete_answer(&whole[..whole.len() - 3]), Ok(false));
        assert_eq!(complete_answer(&whole[..20]), Ok(false));
        assert!(complete_answer(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
    }

    #[test]
    fn the_big_body_is_made_once() {
        let (a, b) = (big_body(), big_body());
        assert_eq!(a.len(), BIG_BODY_LEN);
        assert_eq!(a.as_ptr(), b.as_ptr());
    }

    /// The server config and the client config agree: a full TLS 1.3 handshake with ALPN
    /// `http/1.1`, X25519 and AES-256-GCM in memory, the certificate verified against the CA, and no ticket sent.
    #[test]
    fn client_and_server_agree() {
        let server_config = server_config();
        let mut server = rustls::ServerConnection::new(server_config).unwrap();
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let mut client = ClientConnection::new(client_config(ca_der()).unwrap(), name).unwrap();
        let mut wire = Vec::new();
        while client.is_handshaking() || server.is_handshaking() {
            wire.clear();
            client.write_tls(&mut wire).unwrap();
            if !wire.is_empty() {
                server.read_tls(&mut &wire[..]).unwrap();
                server.process_new_packets().unwrap();
            }
            wire.clear();
            server.write_tls(&mut wire).unwrap();
            if !wire.is_empty() {
                client.read_tls(&mut &wire[..]).unwrap();
                client.process_new_packets().unwrap();
            }
        }
        assert_eq!(
            client.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        assert_eq!(client.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(
            client.negotiated_key_exchange_group().map(|g| g.name()),
            Some(rustls::NamedGroup::X25519)
        );
        assert_eq!(
            client.negotiated_cipher_suite().map(|s| s.suite()),
            Some(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384)
        );
        assert!(!server.wants_write(), "no session ticket");
    }
}
