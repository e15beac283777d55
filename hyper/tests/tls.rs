//! HTTPS on ebbtide (feature `tls`): an HTTPS hyper server on `127.0.0.1:0` with certificates
//! made at test time, checked with ebbtide's own client (HTTP/1.1 and HTTP/2 via ALPN), with
//! curl, with a client that sends garbage, and with 1 MB bodies. Every test is bounded in time.
//!
//! `bench_own_glue_against_futures_rustls` (ignored) measures the two designs the `tls` module
//! docs compare: `cargo test --release -p ebbtide-hyper --features tls --test tls -- --ignored
//! --nocapture`.
#![cfg(feature = "tls")]

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ebbtide_core::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ebbtide_hyper::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ebbtide_hyper::tls::rustls::{self, RootCertStore};
use ebbtide_hyper::tls::{
    client_config, server_config, HttpsConnector, TlsAcceptor, TlsConnector, ALPN_HTTP1,
};
use ebbtide_hyper::EbbtideIo;
use ebbtide_std::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Version};

/// How long any one test may take before it fails instead of hanging.
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// One megabyte.
const MB: usize = 1 << 20;

/// A CA and a server certificate it signed, for `localhost` and `127.0.0.1`.
struct Pki {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl Pki {
    fn new() -> Pki {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ebbtide test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.use_authority_key_identifier_extension = true;
        params
            .extended_key_usages
            .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        Pki {
            ca_der: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.key_der.clone()).into()
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::new(Arc::new(
            server_config(self.chain.clone(), self.key()).unwrap(),
        ))
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        roots
    }

    /// A client config trusting the CA, offering ALPN `h2` and `http/1.1`.
    fn client_config(&self) -> rustls::ClientConfig {
        client_config(self.roots()).unwrap()
    }

    /// The CA's PEM in a file of its own (for curl), removed on drop.
    fn ca_file(&self) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ebbtide-hyper-tls-ca-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, &self.ca_pem).unwrap();
        TempFile(path)
    }
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `test` on a fresh ebbtide-std runtime, failing it after [`TEST_LIMIT`].
fn run<F: Future<Output = ()>>(test: F) {
    let runtime = ebbtide_std::Runtime::new().unwrap();
    runtime
        .block_on(ebbtide_std::time::timeout(TEST_LIMIT, test))
        .expect("the test did not finish in time");
}

/// What the test server saw.
#[derive(Default)]
struct Seen {
    /// Handshakes that failed, with their error kinds.
    handshake_errors: Mutex<Vec<io::ErrorKind>>,
    /// Connections whose handshake succeeded.
    connections: AtomicUsize,
}

/// The test server's answers: `GET /` says the request's version and the connection's ALPN,
/// `GET /big` is 1 MB, `POST /echo` echoes the body.
async fn answer(
    request: Request<Incoming>,
    alpn: &'static str,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let version = request.version();
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => {
            Response::new(Full::new(Bytes::from(format!("{version:?} alpn={alpn}"))))
        }
        (&Method::GET, "/big") => Response::new(Full::new(pattern(MB))),
        (&Method::POST, "/echo") => {
            let body = request.into_body().collect().await?.to_bytes();
            Response::new(Full::new(body))
        }
        _ => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    })
}

/// `len` bytes that are not all alike (so that a reordering or a lost chunk shows).
fn pattern(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// An HTTPS server on `127.0.0.1:0`: each connection's handshake bounded to 10 s, then hyper's
/// HTTP/2 or HTTP/1.1 as ALPN chose. Returns the port.
async fn https_server(acceptor: TlsAcceptor, seen: Arc<Seen>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    ebbtide_std::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            ebbtide_std::spawn(async move {
                let handshake =
                    ebbtide_std::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                let tls = match handshake {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        seen.handshake_errors.lock().unwrap().push(e.kind());
                        return;
                    }
                    Err(_) => {
                        seen.handshake_errors
                            .lock()
                            .unwrap()
                            .push(io::ErrorKind::TimedOut);
                        return;
                    }
                };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let alpn: &'static str = match tls.alpn_protocol() {
                    Some(b"h2") => "h2",
                    Some(b"http/1.1") => "http/1.1",
                    Some(_) => "other",
                    None => "none",
                };
                let service = service_fn(move |request| answer(request, alpn));
                let _ = if tls.negotiated_h2() {
                    ebbtide_hyper::server::http2()
                        .serve_connection(EbbtideIo::new(tls), service)
                        .await
                } else {
                    ebbtide_hyper::server::http1()
                        .serve_connection(EbbtideIo::new(tls), service)
                        .await
                };
            })
            .unwrap();
        }
    })
    .unwrap();
    port
}

/// A plain HTTP hyper server on `127.0.0.1:0` (for the connector's `http://` pass-through).
async fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    ebbtide_std::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            ebbtide_std::spawn(async move {
                let service = service_fn(|request| answer(request, "plain"));
                let _ = ebbtide_hyper::server::http1()
                    .serve_connection(EbbtideIo::new(tcp), service)
                    .await;
            })
            .unwrap();
        }
    })
    .unwrap();
    port
}

async fn get_text<C>(
    client: &hyper_util::client::legacy::Client<C, Empty<Bytes>>,
    uri: &str,
) -> (Version, String)
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let response = client.get(uri.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let version = response.version();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (version, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn ebbtide_client_speaks_http1_when_it_offers_only_http1() {
    let pki = Pki::new();
    run(async {
        let seen = Arc::new(Seen::default());
        let port = https_server(pki.acceptor(), seen.clone()).await;
        let mut config = pki.client_config();
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        let client = ebbtide_hyper::client::legacy()
            .build::<_, Empty<Bytes>>(HttpsConnector::new(Arc::new(config)));
        for _ in 0..3 {
            let (version, body) = get_text(&client, &format!("https://localhost:{port}/")).await;
            assert_eq!(version, Version::HTTP_11);
            assert_eq!(body, "HTTP/1.1 alpn=http/1.1");
            // hyper-util puts an HTTP/1 connection back in its pool from a task of its own.
            ebbtide_std::time::sleep(Duration::from_millis(20)).await;
        }
        // Keep-alive: the three requests shared one connection.
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        assert!(seen.handshake_errors.lock().unwrap().is_empty());
    });
}

#[test]
fn ebbtide_client_speaks_h2_when_alpn_chooses_it() {
    let pki = Pki::new();
    run(async {
        let seen = Arc::new(Seen::default());
        let port = https_server(pki.acceptor(), seen.clone()).await;
        let client = ebbtide_hyper::client::legacy()
            .build::<_, Empty<Bytes>>(HttpsConnector::new(Arc::new(pki.client_config())));
        // By name (SNI `localhost`) and by IP address (no SNI; the certificate's IP SAN).
        for host in ["localhost", "127.0.0.1"] {
            let (version, body) = get_text(&client, &format!("https://{host}:{port}/")).await;
            assert_eq!(version, Version::HTTP_2);
            assert_eq!(body, "HTTP/2.0 alpn=h2");
        }
        // Concurrent requests on the h2 connection.
        let uri = format!("https://localhost:{port}/");
        let (a, b) = ebbtide_std::join!(get_text(&client, &uri), get_text(&client, &uri));
        assert_eq!(a.0, Version::HTTP_2);
        assert_eq!(b.1, "HTTP/2.0 alpn=h2");
        assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn https_connector_passes_http_through_and_refuses_other_schemes() {
    let pki = Pki::new();
    run(async {
        let port = http_server().await;
        let mut connector = HttpsConnector::new(Arc::new(pki.client_config()));
        let client = ebbtide_hyper::client::legacy().build::<_, Empty<Bytes>>(connector.clone());
        let (version, body) = get_text(&client, &format!("http://127.0.0.1:{port}/")).await;
        assert_eq!(version, Version::HTTP_11);
        assert_eq!(body, "HTTP/1.1 alpn=plain");

        let ftp = connector.connect("ftp://127.0.0.1/".parse().unwrap()).await;
        assert_eq!(ftp.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        connector.https_only(true);
        let http = connector
            .connect(format!("http://127.0.0.1:{port}/").parse().unwrap())
            .await;
        assert_eq!(http.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn untrusted_or_misnamed_server_is_refused_and_the_server_keeps_serving() {
    let pki = Pki::new();
    let other = Pki::new();
    run(async {
        let seen = Arc::new(Seen::default());
        let port = https_server(pki.acceptor(), seen.clone()).await;

        // A client that trusts another CA.
        let stranger = HttpsConnector::new(Arc::new(other.client_config()));
        let refused = stranger
            .connect(format!("https://localhost:{port}/").parse().unwrap())
            .await;
        let e = refused.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        let rustls_error = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        assert!(
            matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_))),
            "{e}"
        );

        // A name the certificate does not carry.
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let connector = TlsConnector::new(Arc::new(pki.client_config()));
        let name = rustls::pki_types::ServerName::try_from("example.com").unwrap();
        let e = connector.connect(name, tcp).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");

        // The server refused both handshakes and serves on.
        let client = ebbtide_hyper::client::legacy()
            .build::<_, Empty<Bytes>>(HttpsConnector::new(Arc::new(pki.client_config())));
        let (_, body) = get_text(&client, &format!("https://localhost:{port}/")).await;
        assert_eq!(body, "HTTP/2.0 alpn=h2");
        while seen.handshake_errors.lock().unwrap().len() < 2 {
            ebbtide_std::time::sleep(Duration::from_millis(5)).await;
        }
        // It heard the clients' alerts (or, if a client's close overtook its alert, a reset).
        for kind in seen.handshake_errors.lock().unwrap().iter() {
            assert!(
                matches!(
                    kind,
                    io::ErrorKind::InvalidData | io::ErrorKind::ConnectionReset
                ),
                "{kind:?}"
            );
        }
    });
}

/// Reads until the server closes (end of stream or a reset), and says how many bytes came.
async fn read_until_closed(tcp: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 1024];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("reading from the server: {e}"),
        }
    }
}

#[test]
fn garbage_instead_of_a_client_hello_is_closed_and_the_server_keeps_serving() {
    let pki = Pki::new();
    run(async {
        let seen = Arc::new(Seen::default());
        let port = https_server(pki.acceptor(), seen.clone()).await;
        let garbage: [&[u8]; 3] = [
            // Plain HTTP to the HTTPS port.
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            // A handshake record header announcing 64 bytes, then 3 of them.
            &[0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x02, 0x03],
            // Noise.
            &[0xff; 4096],
        ];
        for (i, bytes) in garbage.iter().enumerate() {
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            tcp.write_all(bytes).await.unwrap();
            if i == 1 {
                // The record never completes: only the end of stream ends the handshake.
                tcp.shutdown(std::net::Shutdown::Write).unwrap();
            }
            let closed =
                ebbtide_std::time::timeout(Duration::from_secs(10), read_until_closed(&mut tcp))
                    .await;
            let answered = closed.expect("the server did not close a garbage connection");
            // At most a TLS alert (7 bytes) came back, never an HTTP response.
            assert!(answered <= 7, "the server sent {answered} bytes to garbage");
        }
        // And a client that connects and leaves at once.
        drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());

        let client = ebbtide_hyper::client::legacy()
            .build::<_, Empty<Bytes>>(HttpsConnector::new(Arc::new(pki.client_config())));
        let (_, body) = get_text(&client, &format!("https://localhost:{port}/")).await;
        assert_eq!(body, "HTTP/2.0 alpn=h2");
        // Wait for the last handshake's outcome to be recorded.
        while seen.handshake_errors.lock().unwrap().len() < 4 {
            ebbtide_std::time::sleep(Duration::from_millis(5)).await;
        }
        let errors = seen.handshake_errors.lock().unwrap().clone();
        assert_eq!(
            errors,
            [
                io::ErrorKind::InvalidData,
                io::ErrorKind::UnexpectedEof,
                io::ErrorKind::InvalidData,
                io::ErrorKind::UnexpectedEof,
            ]
        );
    });
}

#[test]
fn one_megabyte_bodies_round_trip_intact_over_http1_and_h2() {
    let pki = Pki::new();
    run(async {
        let seen = Arc::new(Seen::default());
        let port = https_server(pki.acceptor(), seen.clone()).await;
        let expected = pattern(MB);
        for alpn in [
            vec![ALPN_HTTP1.to_vec()],
            pki.client_config().alpn_protocols,
        ] {
            let mut config = pki.client_config();
            config.alpn_protocols = alpn;
            let client = ebbtide_hyper::client::legacy()
                .build::<_, Full<Bytes>>(HttpsConnector::new(Arc::new(config)));
            // Twice each, on the kept-alive connection.
            for _ in 0..2 {
                let request = Request::post(format!("https://localhost:{port}/echo"))
                    .body(Full::new(expected.clone()))
                    .unwrap();
                let response = client.request(request).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let echoed = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(echoed.len(), MB);
                assert!(echoed == expected, "the echoed body differs");
                // hyper-util puts an HTTP/1 connection back in its pool from a task of its own.
                ebbtide_std::time::sleep(Duration::from_millis(20)).await;

                let request = Request::get(format!("https://localhost:{port}/big"))
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let response = client.request(request).await.unwrap();
                let big = response.into_body().collect().await.unwrap().to_bytes();
                assert!(big == expected, "the downloaded body differs");
                ebbtide_std::time::sleep(Duration::from_millis(20)).await;
            }
        }
        assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn tls_stream_reads_small_pieces_ends_at_close_notify_and_flags_truncation() {
    let pki = Pki::new();
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = pki.acceptor();
        let server = ebbtide_std::spawn(async move {
            // 1: 100 kB in one write, then close_notify.
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            assert_eq!(tls.server_name(), Some("localhost"));
            tls.write_all(&pattern(100_000)).await.unwrap();
            tls.shutdown().await.unwrap();
            // 2: some bytes, then the TCP connection ends without close_notify.
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            tls.write_all(b"truncated").await.unwrap();
            tls.flush().await.unwrap();
            let (tcp, _) = tls.into_inner();
            drop(tcp);
        })
        .unwrap();

        let connector = TlsConnector::new(Arc::new(pki.client_config()));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect(name.clone(), tcp).await.unwrap();
        assert!(tls.negotiated_h2());
        // Odd-sized reads, through `poll_read_uninit` (what hyper uses) and `poll_read`.
        let mut got = Vec::new();
        let mut small = [std::mem::MaybeUninit::<u8>::uninit(); 777];
        let mut plain = [0u8; 1000];
        loop {
            let n = if got.len() % 2 == 0 {
                let n =
                    std::future::poll_fn(|cx| Pin::new(&mut tls).poll_read_uninit(cx, &mut small))
                        .await
                        .unwrap();
                // SAFETY: `poll_read_uninit` initialised the first `n` bytes.
                got.extend(small[..n].iter().map(|b| unsafe { b.assume_init() }));
                n
            } else {
                let n = tls.read(&mut plain).await.unwrap();
                got.extend_from_slice(&plain[..n]);
                n
            };
            if n == 0 {
                break;
            }
        }
        assert!(got == pattern(100_000), "the bytes read differ");
        tls.shutdown().await.unwrap();
        let e = tls.write(b"late").await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);

        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let mut buf = [0u8; 9];
        tls.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"truncated");
        let e = tls.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        server.await.unwrap();
    });
}

/// curl against the server with `--http1.1` or `--http2`: the body and curl's
/// `%{http_version}`, or `None` if curl is not installed.
async fn curl(ca: &TempFile, port: u16, protocol: &'static str) -> Option<(String, String)> {
    let curl = PathBuf::from("/usr/bin/curl");
    if !curl.exists() {
        eprintln!("skipped: no {}", curl.display());
        return None;
    }
    let ca = ca.0.clone();
    let output = ebbtide_std::spawn_blocking(move || {
        std::process::Command::new(curl)
            .arg("--silent")
            .arg("--show-error")
            .arg("--max-time")
            .arg("20")
            .arg("--noproxy")
            .arg("*")
            .arg("--cacert")
            .arg(&ca)
            .arg("--resolve")
            .arg(format!("localhost:{port}:127.0.0.1"))
            .arg(protocol)
            .arg("--write-out")
            .arg("\n%{http_version}")
            .arg(format!("https://localhost:{port}/"))
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "curl {protocol}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (body, version) = stdout.rsplit_once('\n').unwrap();
    Some((body.to_owned(), version.to_owned()))
}

#[test]
fn curl_gets_http1_when_it_asks_for_http1() {
    let pki = Pki::new();
    run(async {
        let ca = pki.ca_file();
        let port = https_server(pki.acceptor(), Arc::default()).await;
        if let Some((body, version)) = curl(&ca, port, "--http1.1").await {
            assert_eq!(version, "1.1");
            assert_eq!(body, "HTTP/1.1 alpn=http/1.1");
        }
    });
}

#[test]
fn curl_gets_h2_when_it_asks_for_http2() {
    let pki = Pki::new();
    run(async {
        let ca = pki.ca_file();
        let port = https_server(pki.acceptor(), Arc::default()).await;
        if let Some((body, version)) = curl(&ca, port, "--http2").await {
            assert_eq!(version, "2");
            assert_eq!(body, "HTTP/2.0 alpn=h2");
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The measurement behind the `tls` module's choice of design.

/// A way to put TLS on an ebbtide `TcpStream`, server and client side.
trait Design: Clone + Send + Sync + 'static {
    type Server: AsyncRead<Error = io::Error> + AsyncWrite + Unpin + Send + 'static;
    type Client: AsyncRead<Error = io::Error> + AsyncWrite + Unpin + Send + 'static;
    const NAME: &'static str;
    fn accept(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Server>>;
    fn connect(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Client>>;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// This crate's `tls` module.
#[derive(Clone)]
struct OwnGlue {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
}

impl Design for OwnGlue {
    type Server = ebbtide_hyper::tls::TlsStream<TcpStream>;
    type Client = ebbtide_hyper::tls::TlsStream<TcpStream>;
    const NAME: &'static str = "own glue";

    fn accept(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Server>> {
        Box::pin(self.acceptor.accept(tcp))
    }

    fn connect(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Client>> {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        Box::pin(self.connector.connect(name, tcp))
    }
}

/// futures-rustls over ebbtide's futures-io `Compat`, and `Compat` back to ebbtide's traits.
#[derive(Clone)]
struct FuturesRustls {
    acceptor: futures_rustls::TlsAcceptor,
    connector: futures_rustls::TlsConnector,
}

type Compat<T> = ebbtide_core::io::Compat<T>;

impl Design for FuturesRustls {
    type Server = Compat<futures_rustls::server::TlsStream<Compat<TcpStream>>>;
    type Client = Compat<futures_rustls::client::TlsStream<Compat<TcpStream>>>;
    const NAME: &'static str = "futures-rustls + Compat";

    fn accept(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Server>> {
        let accept = self.acceptor.accept(Compat::new(tcp));
        Box::pin(async move { accept.await.map(Compat::new) })
    }

    fn connect(&self, tcp: TcpStream) -> BoxFuture<io::Result<Self::Client>> {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let connect = self.connector.connect(name, Compat::new(tcp));
        Box::pin(async move { connect.await.map(Compat::new) })
    }
}

/// A server of `design` on a thread and runtime of its own: `/big` (1 MB), `/echo`, and
/// connections that only handshake (read until the client leaves). Stops when dropped.
struct BenchServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BenchServer {
    fn start<D: Design>(design: D) -> BenchServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let runtime = ebbtide_std::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                port_tx.send(listener.local_addr().unwrap().port()).unwrap();
                let big = pattern(MB);
                loop {
                    let (tcp, _) = listener.accept().await.unwrap();
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    tcp.set_nodelay(true).unwrap();
                    let design = design.clone();
                    let big = big.clone();
                    ebbtide_std::spawn(async move {
                        let Ok(tls) = design.accept(tcp).await else {
                            return;
                        };
                        let service = service_fn(move |request: Request<Incoming>| {
                            let big = big.clone();
                            async move {
                                if request.method() == Method::POST {
                                    let body = request.into_body().collect().await?.to_bytes();
                                    Ok::<_, hyper::Error>(Response::new(Full::new(body)))
                                } else {
                                    Ok(Response::new(Full::new(big)))
                                }
                            }
                        });
                        let _ = ebbtide_hyper::server::http1()
                            .serve_connection(EbbtideIo::new(tls), service)
                            .await;
                    })
                    .unwrap();
                }
            });
        });
        BenchServer {
            port: port_rx.recv().unwrap(),
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One run of `design`: (GET 1 MB MB/s, POST-echo 1 MB MB/s, handshakes/s).
fn bench_once<D: Design>(design: D) -> (f64, f64, f64) {
    const GETS: usize = 300;
    const ECHOES: usize = 100;
    const HANDSHAKES: usize = 500;
    let server = BenchServer::start(design.clone());
    let port = server.port;
    let runtime = ebbtide_std::Runtime::new().unwrap();
    let result = runtime.block_on(async move {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let tls = design.connect(tcp).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(EbbtideIo::new(tls))
            .await
            .unwrap();
        ebbtide_std::spawn(connection).unwrap();
        let body = pattern(MB);
        let mut get = || {
            let request = Request::get("/big").body(Full::new(Bytes::new())).unwrap();
            let response = sender.send_request(request);
            async move {
                let body = response.await.unwrap().into_body().collect().await.unwrap();
                assert_eq!(body.to_bytes().len(), MB);
            }
        };
        for _ in 0..5 {
            get().await;
        }
        let start = Instant::now();
        for _ in 0..GETS {
            get().await;
        }
        let get_mbps = (GETS * MB) as f64 / 1e6 / start.elapsed().as_secs_f64();

        let start = Instant::now();
        for _ in 0..ECHOES {
            let request = Request::post("/echo")
                .body(Full::new(body.clone()))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let echoed = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(echoed.len(), MB);
        }
        let echo_mbps = (ECHOES * MB) as f64 / 1e6 / start.elapsed().as_secs_f64();

        let start = Instant::now();
        for _ in 0..HANDSHAKES {
            let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let mut tls = design.connect(tcp).await.unwrap();
            tls.shutdown().await.unwrap();
        }
        let handshakes = HANDSHAKES as f64 / start.elapsed().as_secs_f64();
        (get_mbps, echo_mbps, handshakes)
    });
    drop(server);
    result
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
fn bench_own_glue_against_futures_rustls() {
    let pki = Pki::new();
    let server = Arc::new(server_config(pki.chain.clone(), pki.key()).unwrap());
    let mut client = pki.client_config();
    client.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    let client = Arc::new(client);
    let own = OwnGlue {
        acceptor: TlsAcceptor::new(server.clone()),
        connector: TlsConnector::new(client.clone()),
    };
    let futures = FuturesRustls {
        acceptor: futures_rustls::TlsAcceptor::from(server),
        connector: futures_rustls::TlsConnector::from(client),
    };
    // EBBTIDE_TLS_BENCH_RUNS=N for more runs (on a busy machine).
    let runs = std::env::var("EBBTIDE_TLS_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3);
    let mut own_results = Vec::new();
    let mut futures_results = Vec::new();
    for run in 0..runs {
        let a = bench_once(own.clone());
        println!("run {run}: {:<24} {a:.0?}", OwnGlue::NAME);
        own_results.push(a);
        let b = bench_once(futures.clone());
        println!("run {run}: {:<24} {b:.0?}", FuturesRustls::NAME);
        futures_results.push(b);
    }
    println!("medians of {runs} runs: GET 1 MB (MB/s), POST echo 1 MB (MB/s), handshakes/s");
    for (name, results) in [
        (OwnGlue::NAME, &own_results),
        (FuturesRustls::NAME, &futures_results),
    ] {
        println!(
            "{name:<24} {:>8.0} {:>8.0} {:>8.0}",
            median(results.iter().map(|r| r.0).collect()),
            median(results.iter().map(|r| r.1).collect()),
            median(results.iter().map(|r| r.2).collect()),
        );
    }
}
