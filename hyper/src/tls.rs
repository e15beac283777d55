//! HTTPS on rustls (feature `tls`, ring provider): a TLS stream on ebbtide's IO traits, the
//! acceptor and connector that make one, ALPN helpers, and an HTTPS connector for hyper-util's
//! client.
//!
//! | piece | Tokio ecosystem | here |
//! |---|---|---|
//! | a TLS stream | `tokio_rustls::TlsStream` | [`TlsStream`] (ebbtide's `AsyncRead` / `AsyncWrite`) |
//! | the server and client handshakes | `tokio_rustls::{TlsAcceptor, TlsConnector}` | [`TlsAcceptor`], [`TlsConnector`] |
//! | configs with ALPN (`h2`, `http/1.1`) | by hand | [`server_config`], [`client_config`] |
//! | HTTPS for hyper-util's client | `hyper_rustls::HttpsConnector` | [`HttpsConnector`] (not on WASI) |
//!
//! The configs use rustls's *ring* provider (not aws-lc-rs, whose build needs cmake; ring needs
//! a C compiler only): build your own [`rustls::ServerConfig`] / [`rustls::ClientConfig`] with
//! `builder_with_provider(`[`crypto_provider()`](crypto_provider)`)` when the helpers do not fit.
//! [`rustls`] is re-exported, so that its version is always the one this crate takes.
//!
//! # The design, measured
//!
//! [`TlsStream`] is glue of its own over [`rustls::Connection`] that drives the transport's
//! ebbtide `AsyncRead` / `AsyncWrite` directly. The other design on offer was futures-rustls over
//! ebbtide's futures-io `Compat` (and `Compat` back again for hyper). Both were built and run on
//! loopback: one ebbtide-std runtime for the server and one for the client, each on a thread of
//! its own; release build; TLS 1.3, ECDSA P-256 certificates from a test CA; hyper HTTP/1.1.
//!
//! | over one keep-alive connection | own glue (this module) | futures-rustls + `Compat` | own ÷ futures-rustls, run by run |
//! |---|---|---|---|
//! | GET, response body 1 MB (MB/s) | 1,091 | 965 | 1.35× median (0.92× to 1.71×; ahead in 10 of 12) |
//! | POST of 1 MB echoed back (MB/s each way) | 545 | 385 | 1.39× median (1.30× to 1.67×; ahead in 12 of 12) |
//! | handshakes (TCP connect + TLS 1.3 + close_notify) per second | 447 | 435 | 1.02× median (1.00× to 1.16×) |
//!
//! Medians of 12 runs each (4 invocations of 3 runs, the two designs taking turns), on the
//! 2-core development machine while other builds and benchmarks shared it (load 3 to 5), so the
//! absolute numbers are low and noisy; the ratios of runs taken side by side are steadier.
//! Repeat with `cargo test --release -p ebbtide-hyper --features tls --test tls -- --ignored
//! --nocapture` (`EBBTIDE_TLS_BENCH_RUNS=N` for more runs).
//!
//! Handshakes cost the same, as they should: the time goes to the cryptography, which is
//! rustls's either way. Bulk transfer is faster here. Where the two designs differ:
//!
//! - **A read stops at the first decrypted record.** futures-rustls (like tokio-rustls) reads
//!   the socket until it would block on every `poll_read`, so each read ends in a failing
//!   `read(2)` and a new registration with the reactor; here `poll_read` reads only until rustls
//!   has plaintext, and returns it.
//! - **Reads zero only what rustls has.** `poll_read_uninit` asks rustls how much plaintext is
//!   ready ([`rustls::IoState::plaintext_bytes_to_read`]) and zeroes only that much of hyper's
//!   buffer before copying into it; through `Compat` every read zeroes hyper's whole buffer.
//! - **Vectored writes all the way down.** hyper's vectored writes (headers and body chunks as
//!   they are) go to rustls as one stream of records, and rustls's records go out in one
//!   `writev(2)`; `Compat` passes on only the first buffer in each direction.
//!
//! Taking the last two away one at a time (5 runs each) left the echo 1.51× (no vectored
//! writes) and 1.41× (zeroing the whole buffer) ahead: most of the gain lies elsewhere, most
//! likely in the first difference (not measured by itself). The code is about as small as the
//! adapters it replaces and needs no futures-io, so the faster design is kept.
//!
//! # Behaviour worth knowing
//!
//! - A handshake error (a peer that sends garbage, a certificate that does not verify) is an
//!   [`io::Error`] of kind `InvalidData` carrying the [`rustls::Error`]; rustls's alert is sent
//!   on a best-effort basis first. A peer that closes during the handshake is `UnexpectedEof`.
//! - There is no handshake timeout: a server wraps [`TlsAcceptor::accept`] in
//!   `ebbtide_std::time::timeout` so that a client that never finishes its handshake does not
//!   hold a task forever (hyper's `header_read_timeout` starts only after the handshake).
//! - Key exchange is X25519, P-256 or P-384: the ring provider has no post-quantum hybrid
//!   (X25519MLKEM768 is aws-lc-rs's), which is why rustls 0.23.48 marked
//!   `rustls::crypto::ring::default_provider` deprecated; it is still supported.
//! - A peer that closes the transport without a TLS `close_notify` makes the next read fail with
//!   `UnexpectedEof` (rustls's rule, against truncation attacks); one that sent it reads as end
//!   of stream. [`AsyncWrite::poll_shutdown`] sends `close_notify`, then shuts the transport's
//!   write half.
//!
//! # Examples
//!
//! An HTTPS server that speaks HTTP/2 or HTTP/1.1 as ALPN chose, and hyper-util's client asking
//! it over HTTP/2:
//!
//! ```
//! use std::convert::Infallible;
//! use std::sync::Arc;
//!
//! use ebbtide_hyper::tls::{client_config, server_config, HttpsConnector, TlsAcceptor};
//! use ebbtide_hyper::EbbtideIo;
//! use ebbtide_std::net::TcpListener;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Bytes;
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//!
//! // A self-signed certificate for `localhost`, made for the example.
//! let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
//! let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
//! let acceptor = TlsAcceptor::new(Arc::new(
//!     server_config(vec![cert.cert.der().clone()], key.into()).unwrap(),
//! ));
//! let mut roots = rustls::RootCertStore::empty();
//! roots.add(cert.cert.der().clone()).unwrap();
//! let connector = HttpsConnector::new(Arc::new(client_config(roots).unwrap()));
//! # use ebbtide_hyper::tls::rustls;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async move {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let port = listener.local_addr().unwrap().port();
//!     ebbtide_std::spawn(async move {
//!         let (tcp, _) = listener.accept().await.unwrap();
//!         let tls = acceptor.accept(tcp).await.unwrap();
//!         let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("secret"))))
//!         });
//!         let _ = if tls.negotiated_h2() {
//!             ebbtide_hyper::server::http2().serve_connection(EbbtideIo::new(tls), service).await
//!         } else {
//!             ebbtide_hyper::server::http1().serve_connection(EbbtideIo::new(tls), service).await
//!         };
//!     })
//!     .unwrap();
//!
//!     let client = ebbtide_hyper::client::legacy().build::<_, Empty<Bytes>>(connector);
//!     let uri = format!("https://localhost:{port}/").parse().unwrap();
//!     let response = client.get(uri).await.unwrap();
//!     assert_eq!(response.version(), hyper::Version::HTTP_2);
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(&body[..], b"secret");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ebbtide_core::io::{zero_uninit, AsyncRead, AsyncWrite, ErrorType};
pub use rustls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::ServerConnection;
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};

/// The ALPN name of HTTP/2.
///
/// # Examples
///
/// ```
/// assert_eq!(ebbtide_hyper::tls::ALPN_H2, b"h2");
/// ```
pub const ALPN_H2: &[u8] = b"h2";

/// The ALPN name of HTTP/1.1.
///
/// # Examples
///
/// ```
/// assert_eq!(ebbtide_hyper::tls::ALPN_HTTP1, b"http/1.1");
/// ```
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The most buffers one vectored write passes on (rustls hands at most 64 records at a time).
const MAX_BUFS: usize = 64;

/// rustls's *ring* provider, which [`server_config`] and [`client_config`] use: for configs of
/// your own (client certificates, several certificates by SNI, ...).
///
/// rustls 0.23.48 marked `rustls::crypto::ring::default_provider` deprecated, as ring has no
/// post-quantum key exchange (X25519MLKEM768 is aws-lc-rs's); it is still supported, and this
/// function calls it without passing the warning on.
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::tls::{crypto_provider, rustls};
///
/// let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
///     .with_protocol_versions(&[&rustls::version::TLS13])
///     .unwrap()
///     .with_root_certificates(rustls::RootCertStore::empty())
///     .with_no_client_auth();
/// assert!(config.alpn_protocols.is_empty());
/// ```
#[allow(deprecated)]
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config on the ring provider, TLS 1.2 and 1.3, no client certificates, serving
/// `cert_chain` (the server's certificate first) with `key`, and offering ALPN `h2` then
/// `http/1.1`.
///
/// Set `alpn_protocols` (a public field) afterwards to offer something else: `vec![]` turns
/// ALPN off, `vec![ALPN_HTTP1.to_vec()]` offers HTTP/1.1 only.
///
/// # Errors
///
/// What rustls says of the key (not one it can use, or not the certificate's).
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::tls::{server_config, ALPN_H2, ALPN_HTTP1};
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
/// let config = server_config(vec![cert.cert.der().clone()], key.into()).unwrap();
/// assert_eq!(config.alpn_protocols, [ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()]);
/// # use ebbtide_hyper::tls::rustls;
/// ```
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
    Ok(config)
}

/// [`server_config`] from PEM files, as servers are usually given them (`--tls-cert FILE
/// --tls-key FILE`): `cert` holds the certificate chain, the server's certificate first; `key`
/// the private key (PKCS#8, PKCS#1 or SEC1).
///
/// # Errors
///
/// `NotFound` and the like for a file that cannot be read; `InvalidData`, naming the file, for
/// one that holds no certificate or no key in PEM, or a key that does not fit the certificate.
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::tls::server_config_from_pem_files;
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// let dir = std::env::temp_dir().join(format!("ebbtide-pem-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
/// std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
/// let config = server_config_from_pem_files(dir.join("cert.pem"), dir.join("key.pem")).unwrap();
/// assert!(!config.alpn_protocols.is_empty());
/// // A key file with no key in it is an error that names the file.
/// let error = server_config_from_pem_files(dir.join("cert.pem"), dir.join("cert.pem")).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn server_config_from_pem_files(
    cert: impl AsRef<std::path::Path>,
    key: impl AsRef<std::path::Path>,
) -> io::Result<ServerConfig> {
    use rustls::pki_types::pem::{self, PemObject};

    let (cert, key) = (cert.as_ref(), key.as_ref());
    let invalid = |path: &std::path::Path, what: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    let pem_error = |path: &std::path::Path, error: pem::Error| match error {
        pem::Error::Io(error) => {
            io::Error::new(error.kind(), format!("{}: {error}", path.display()))
        }
        other => invalid(path, &other),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_error(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(cert, e))?;
    if chain.is_empty() {
        return Err(invalid(cert, &"no certificate in PEM"));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        pem::Error::NoItemsFound => invalid(key, &"no private key in PEM"),
        other => pem_error(key, other),
    })?;
    server_config(chain, private_key).map_err(|e| invalid(key, &e))
}

/// A client config on the ring provider, TLS 1.2 and 1.3, trusting `roots`, no client
/// certificate, and offering ALPN `h2` then `http/1.1` (so that [`HttpsConnector`] talks
/// HTTP/2 to servers that choose it).
///
/// Set `alpn_protocols` afterwards to offer something else (`vec![ALPN_HTTP1.to_vec()]` keeps
/// the client on HTTP/1.1).
///
/// # Errors
///
/// None with the ring provider as it is; the `Result` is rustls's.
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::tls::{client_config, ALPN_HTTP1};
/// use ebbtide_hyper::tls::rustls::RootCertStore;
///
/// let mut config = client_config(RootCertStore::empty()).unwrap();
/// config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
/// ```
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
    Ok(config)
}

/// A TLS connection over an ebbtide stream, server or client side: ebbtide's [`AsyncRead`] and
/// [`AsyncWrite`] of the plaintext, so that [`EbbtideIo`](crate::EbbtideIo) makes it hyper's.
///
/// Made by [`TlsAcceptor::accept`] and [`TlsConnector::connect`], with the handshake done.
///
/// - Reads decrypt what the transport has into hyper's buffer;
///   [`poll_read_uninit`](AsyncRead::poll_read_uninit) zeroes only as many bytes of it as rustls
///   has plaintext ready, never the whole buffer.
/// - Writes are encrypted into rustls's buffer (up to 64 KiB; past that a write waits for the
///   transport) and sent with one vectored write of the transport per call; vectored writes
///   ([`AsyncWrite::is_write_vectored`] is `true`) become TLS records without being copied
///   together first.
/// - [`poll_shutdown`](AsyncWrite::poll_shutdown) sends `close_notify`, then shuts the
///   transport's write half; writes after it fail with `BrokenPipe`. Reads go on until the
///   peer's `close_notify`.
///
/// # Examples
///
/// Plaintext over TLS between an acceptor and a connector, without hyper:
///
/// ```
/// use std::sync::Arc;
///
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_hyper::tls::{client_config, server_config, TlsAcceptor, TlsConnector};
/// use ebbtide_std::net::{TcpListener, TcpStream};
/// # use ebbtide_hyper::tls::rustls;
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
/// let acceptor = TlsAcceptor::new(Arc::new(
///     server_config(vec![cert.cert.der().clone()], key.into()).unwrap(),
/// ));
/// let mut roots = rustls::RootCertStore::empty();
/// roots.add(cert.cert.der().clone()).unwrap();
/// let connector = TlsConnector::new(Arc::new(client_config(roots).unwrap()));
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async move {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = ebbtide_std::spawn(async move {
///         let (tcp, _) = listener.accept().await.unwrap();
///         let mut tls = acceptor.accept(tcp).await.unwrap();
///         assert_eq!(tls.server_name(), Some("localhost"));
///         let mut buf = [0u8; 5];
///         tls.read_exact(&mut buf).await.unwrap();
///         tls.write_all(&buf).await.unwrap();
///         tls.shutdown().await.unwrap();
///     })
///     .unwrap();
///
///     let tcp = TcpStream::connect(addr).await.unwrap();
///     let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
///     let mut tls = connector.connect(name, tcp).await.unwrap();
///     tls.write_all(b"hello").await.unwrap();
///     let mut echo = Vec::new();
///     tls.read_to_end(&mut echo).await.unwrap(); // ends at the server's close_notify
///     assert_eq!(echo, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TlsStream<IO> {
    io: IO,
    conn: Connection,
    /// The transport said end of stream.
    eof: bool,
    /// `close_notify` is queued (or sent): [`AsyncWrite::poll_shutdown`] was called.
    closing: bool,
}

impl<IO> TlsStream<IO> {
    fn new(io: IO, conn: Connection) -> Self {
        TlsStream {
            io,
            conn,
            eof: false,
            closing: false,
        }
    }

    /// The protocol ALPN chose (`b"h2"`, `b"http/1.1"`), if the two sides agreed on one.
    ///
    /// # Examples
    ///
    /// A server that serves HTTP/2 or HTTP/1.1 as the client chose:
    ///
    /// ```
    /// use ebbtide_hyper::tls::{TlsStream, ALPN_H2};
    /// use ebbtide_hyper::EbbtideIo;
    /// use ebbtide_std::net::TcpStream;
    /// use http_body_util::Full;
    /// use hyper::body::Bytes;
    /// use hyper::service::service_fn;
    /// use hyper::{Request, Response};
    ///
    /// async fn serve(tls: TlsStream<TcpStream>) -> Result<(), hyper::Error> {
    ///     let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
    ///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hi"))))
    ///     });
    ///     if tls.alpn_protocol() == Some(ALPN_H2) {
    ///         ebbtide_hyper::server::http2().serve_connection(EbbtideIo::new(tls), service).await
    ///     } else {
    ///         ebbtide_hyper::server::http1().serve_connection(EbbtideIo::new(tls), service).await
    ///     }
    /// }
    /// ```
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Whether ALPN chose HTTP/2 (`h2`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn pick(tls: &ebbtide_hyper::tls::TlsStream<ebbtide_std::net::TcpStream>) -> &'static str {
    ///     if tls.negotiated_h2() { "HTTP/2" } else { "HTTP/1.1" }
    /// }
    /// ```
    pub fn negotiated_h2(&self) -> bool {
        self.alpn_protocol() == Some(ALPN_H2)
    }

    /// The name the client asked for (SNI), on the server side; `None` on the client side or
    /// when the client sent none (it connected to an IP address).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_hyper::tls::TlsStream;
    ///
    /// fn site(tls: &TlsStream<ebbtide_std::net::TcpStream>) -> &str {
    ///     tls.server_name().unwrap_or("default")
    /// }
    /// ```
    pub fn server_name(&self) -> Option<&str> {
        match &self.conn {
            Connection::Server(conn) => conn.server_name(),
            Connection::Client(_) => None,
        }
    }

    /// The rustls connection: protocol version, cipher suite, the peer's certificates, ...
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_hyper::tls::rustls::ProtocolVersion;
    ///
    /// fn is_tls13(tls: &ebbtide_hyper::tls::TlsStream<ebbtide_std::net::TcpStream>) -> bool {
    ///     tls.connection().protocol_version() == Some(ProtocolVersion::TLSv1_3)
    /// }
    /// ```
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The transport.
    ///
    /// # Examples
    ///
    /// ```
    /// fn peer(tls: &ebbtide_hyper::tls::TlsStream<ebbtide_std::net::TcpStream>) -> std::net::SocketAddr {
    ///     tls.get_ref().peer_addr().unwrap()
    /// }
    /// ```
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The transport, mutably. Reading or writing it directly breaks the TLS session.
    ///
    /// # Examples
    ///
    /// ```
    /// fn no_delay(tls: &mut ebbtide_hyper::tls::TlsStream<ebbtide_std::net::TcpStream>) {
    ///     tls.get_mut().set_nodelay(true).unwrap();
    /// }
    /// ```
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The transport and the rustls connection, taken apart.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_hyper::tls::{rustls, TlsStream};
    ///
    /// fn parts(tls: TlsStream<ebbtide_std::net::TcpStream>) -> rustls::Connection {
    ///     let (_tcp, connection) = tls.into_inner();
    ///     connection
    /// }
    /// ```
    pub fn into_inner(self) -> (IO, Connection) {
        (self.io, self.conn)
    }
}

impl<IO: fmt::Debug> fmt::Debug for TlsStream<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("io", &self.io)
            .field(
                "side",
                &match self.conn {
                    Connection::Server(_) => "server",
                    Connection::Client(_) => "client",
                },
            )
            .field("protocol_version", &self.conn.protocol_version())
            .field(
                "alpn_protocol",
                &self.alpn_protocol().map(String::from_utf8_lossy),
            )
            .finish_non_exhaustive()
    }
}

/// `std::io` over an ebbtide stream for the length of one poll: `Pending` is `WouldBlock`,
/// with the waker registered. What rustls's `read_tls` and `write_tls` take.
struct SyncIo<'a, 'b, IO> {
    io: &'a mut IO,
    cx: &'a mut Context<'b>,
}

impl<IO> Read for SyncIo<'_, '_, IO>
where
    IO: AsyncRead + Unpin,
    IO::Error: Into<io::Error>,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_read(self.cx, buf) {
            Poll::Ready(result) => result.map_err(Into::into),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<IO> Write for SyncIo<'_, '_, IO>
where
    IO: AsyncWrite + Unpin,
    IO::Error: Into<io::Error>,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, buf) {
            Poll::Ready(result) => result.map_err(Into::into),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut slices: [&[u8]; MAX_BUFS] = [&[]; MAX_BUFS];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
            slices[count] = buf;
            count += 1;
        }
        match Pin::new(&mut *self.io).poll_write_vectored(self.cx, &slices[..count]) {
            Poll::Ready(result) => result.map_err(Into::into),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A rustls error as the `io::Error` this module reports it as.
fn invalid_data(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<IO> TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    IO::Error: Into<io::Error>,
{
    /// One `read_tls` from the transport: `Ok(0)` at its end of stream.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut io = SyncIo {
            io: &mut self.io,
            cx,
        };
        match self.conn.read_tls(&mut io) {
            Ok(0) => {
                self.eof = true;
                Poll::Ready(Ok(0))
            }
            Ok(n) => Poll::Ready(Ok(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// One `write_tls` to the transport (call it only while rustls `wants_write`).
    fn poll_write_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut io = SyncIo {
            io: &mut self.io,
            cx,
        };
        match self.conn.write_tls(&mut io) {
            Ok(0) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => Poll::Ready(Ok(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Writes what rustls has queued until none is left (`Ready(Ok)`) or the transport is full
    /// (`Pending`).
    fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            match self.poll_write_tls(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Decrypts what was read; on an error, tries once to send the alert rustls queued for it.
    fn process(&mut self, cx: &mut Context<'_>) -> io::Result<rustls::IoState> {
        self.conn.process_new_packets().map_err(|e| {
            let _ = self.poll_write_queued(cx);
            invalid_data(e)
        })
    }

    /// Drives the handshake until it is done and its last flight is written.
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut write_pending = self.poll_write_queued(cx)?.is_pending();
            if !write_pending {
                match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => write_pending = true,
                }
            }
            if !self.conn.is_handshaking() {
                // Done; the last flight (and TLS 1.3 session tickets) go out before the stream
                // is handed over, so that a stream that is only read from never holds them.
                return if write_pending {
                    Poll::Pending
                } else {
                    Poll::Ready(Ok(()))
                };
            }
            if self.eof {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the connection during the TLS handshake",
                )));
            }
            match self.poll_read_tls(cx) {
                Poll::Ready(Ok(0)) => {}
                Poll::Ready(Ok(_)) => {
                    self.process(cx)?;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Waits for plaintext: `Ready(Ok(n))` with `n` bytes ready in rustls's buffer, `n == 0` once
    /// the peer's `close_notify` came and everything before it was read.
    fn poll_plaintext(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        loop {
            let state = self.process(cx)?;
            let ready = state.plaintext_bytes_to_read();
            if ready > 0 || state.peer_has_closed() {
                return Poll::Ready(Ok(ready));
            }
            if self.eof {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the connection without a TLS close_notify",
                )));
            }
            if self.poll_read_tls(cx)?.is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl<IO> ErrorType for TlsStream<IO> {
    type Error = io::Error;
}

impl<IO> AsyncRead for TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    IO::Error: Into<io::Error>,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match this.poll_plaintext(cx) {
            Poll::Ready(Ok(0)) => Poll::Ready(Ok(0)),
            Poll::Ready(Ok(_)) => Poll::Ready(this.conn.reader().read(buf)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Zeroes only as many bytes of `buf` as rustls has plaintext ready, then copies it in.
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match this.poll_plaintext(cx) {
            Poll::Ready(Ok(0)) => Poll::Ready(Ok(0)),
            Poll::Ready(Ok(ready)) => {
                let len = ready.min(buf.len());
                let buf = zero_uninit(&mut buf[..len]);
                Poll::Ready(this.conn.reader().read(buf))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO> AsyncWrite for TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    IO::Error: Into<io::Error>,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[buf])
    }

    /// Encrypts as much of `bufs` as rustls's buffer takes, as if they were one buffer, then
    /// writes the records out (one vectored write of the transport).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut slices = [IoSlice::new(&[]); MAX_BUFS];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
            slices[count] = IoSlice::new(buf);
            count += 1;
        }
        if count == 0 {
            return Poll::Ready(Ok(0));
        }
        if this.closing {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write on a TLS stream after its shutdown",
            )));
        }
        let slices = &slices[..count];
        let mut drained = false;
        loop {
            let accepted = if let [one] = slices {
                this.conn.writer().write(one)?
            } else {
                this.conn.writer().write_vectored(slices)?
            };
            let pending = this.poll_write_queued(cx)?.is_pending();
            if accepted > 0 {
                // What did not go out yet stays in rustls's buffer until the next write or flush.
                return Poll::Ready(Ok(accepted));
            }
            if pending {
                return Poll::Pending;
            }
            if drained {
                // An empty buffer that takes nothing will never take anything.
                return Poll::Ready(Ok(0));
            }
            // rustls's buffer was full and is empty now: offer the plaintext again.
            drained = true;
        }
    }

    /// `true`: rustls takes several buffers as one stream of records.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.conn.writer().flush()?;
        if this.poll_write_queued(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.io).poll_flush(cx).map_err(Into::into)
    }

    /// Sends `close_notify` (once), writes out everything queued, then shuts the transport's
    /// write half.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.closing {
            self.conn.send_close_notify();
            self.closing = true;
        }
        match self.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        Pin::new(&mut self.get_mut().io)
            .poll_shutdown(cx)
            .map_err(Into::into)
    }
}

/// The future of [`TlsAcceptor::accept`] and [`TlsConnector::connect`]: the handshake, then the
/// [`TlsStream`].
///
/// # Errors
///
/// `InvalidData` for what rustls refused (not TLS, no protocol or cipher suite in common, a
/// certificate that does not verify, an alert from the peer), `UnexpectedEof` if the peer
/// closed before the handshake ended, and the transport's own errors.
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::tls::{Handshake, TlsAcceptor};
/// use ebbtide_std::net::TcpStream;
///
/// // A named future: it can be stored, or wrapped in a timeout.
/// fn accepting(acceptor: &TlsAcceptor, tcp: TcpStream) -> Handshake<TcpStream> {
///     acceptor.accept(tcp)
/// }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Handshake<IO> {
    state: Option<io::Result<TlsStream<IO>>>,
}

impl<IO> fmt::Debug for Handshake<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake").finish_non_exhaustive()
    }
}

impl<IO> Future for Handshake<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    IO::Error: Into<io::Error>,
{
    type Output = io::Result<TlsStream<IO>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let handshake = match &mut this.state {
            Some(Ok(stream)) => match stream.poll_handshake(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            },
            _ => Ok(()),
        };
        Poll::Ready(match this.state.take() {
            Some(Ok(stream)) => handshake.map(|()| stream),
            Some(Err(e)) => Err(e),
            None => Err(io::Error::other(
                "the TLS handshake was polled after it completed",
            )),
        })
    }
}

/// Accepts TLS connections with a [`rustls::ServerConfig`]: [`accept`](TlsAcceptor::accept)
/// runs the server side of the handshake on a transport (a `TcpStream` from a listener).
///
/// Cloning is cheap (the config is shared).
///
/// # Examples
///
/// An HTTPS server loop that bounds each handshake in time and keeps serving whatever one
/// connection does:
///
/// ```no_run
/// use std::convert::Infallible;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use ebbtide_hyper::tls::{server_config, TlsAcceptor};
/// use ebbtide_hyper::EbbtideIo;
/// use ebbtide_std::net::TcpListener;
/// use http_body_util::Full;
/// use hyper::body::Bytes;
/// use hyper::service::service_fn;
/// use hyper::{Request, Response};
///
/// #[ebbtide_std::main]
/// async fn main() -> std::io::Result<()> {
/// #   let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// #   let (chain, key) = (vec![cert.cert.der().clone()],
/// #       rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()).into());
/// #   use ebbtide_hyper::tls::rustls;
///     // `chain` and `key` from the PEM files of your certificate (rustls::pki_types::pem).
///     let config = server_config(chain, key).map_err(std::io::Error::other)?;
///     let acceptor = TlsAcceptor::new(Arc::new(config));
///     let listener = TcpListener::bind("127.0.0.1:8443").await?;
///     loop {
///         let (tcp, _) = listener.accept().await?;
///         let acceptor = acceptor.clone();
///         let spawned = ebbtide_std::spawn(async move {
///             let handshake = ebbtide_std::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
///             let Ok(Ok(tls)) = handshake.await else { return };
///             let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
///                 Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
///             });
///             let _ = ebbtide_hyper::server::auto()
///                 .serve_connection(EbbtideIo::new(tls), service)
///                 .await;
///         });
///         if let Err(e) = spawned {
///             eprintln!("refused a connection: {e}");
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl From<Arc<ServerConfig>> for TlsAcceptor {
    fn from(config: Arc<ServerConfig>) -> Self {
        TlsAcceptor::new(config)
    }
}

impl TlsAcceptor {
    /// An acceptor with `config` ([`server_config`] makes one with ALPN for HTTP).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use ebbtide_hyper::tls::{server_config, TlsAcceptor};
    /// # use ebbtide_hyper::tls::rustls;
    ///
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
    /// let config = server_config(vec![cert.cert.der().clone()], key.into()).unwrap();
    /// let acceptor = TlsAcceptor::new(Arc::new(config));
    /// ```
    pub fn new(config: Arc<ServerConfig>) -> Self {
        TlsAcceptor { config }
    }

    /// The config.
    ///
    /// # Examples
    ///
    /// ```
    /// fn offers_h2(acceptor: &ebbtide_hyper::tls::TlsAcceptor) -> bool {
    ///     acceptor.config().alpn_protocols.iter().any(|p| p == ebbtide_hyper::tls::ALPN_H2)
    /// }
    /// ```
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// Runs the server side of the handshake over `io`; the stream is ready to hand to hyper
    /// once it resolves.
    ///
    /// # Errors
    ///
    /// See [`Handshake`].
    ///
    /// # Examples
    ///
    /// A handshake bounded in time (see also [`TlsAcceptor`]'s and [`TlsStream`]'s):
    ///
    /// ```
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use ebbtide_hyper::tls::{TlsAcceptor, TlsStream};
    /// use ebbtide_std::net::TcpStream;
    ///
    /// async fn accept(acceptor: &TlsAcceptor, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
    ///     ebbtide_std::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
    ///         .await
    ///         .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake"))?
    /// }
    /// ```
    pub fn accept<IO>(&self, io: IO) -> Handshake<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        IO::Error: Into<io::Error>,
    {
        let state = ServerConnection::new(self.config.clone())
            .map(|conn| TlsStream::new(io, conn.into()))
            .map_err(invalid_data);
        Handshake { state: Some(state) }
    }
}

/// Opens TLS connections with a [`rustls::ClientConfig`]: [`connect`](TlsConnector::connect)
/// runs the client side of the handshake on a transport.
///
/// Cloning is cheap (the config is shared). For hyper-util's client, [`HttpsConnector`] does
/// the TCP connection and this together.
///
/// # Examples
///
/// See [`TlsStream`]'s.
#[derive(Debug, Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl From<Arc<ClientConfig>> for TlsConnector {
    fn from(config: Arc<ClientConfig>) -> Self {
        TlsConnector::new(config)
    }
}

impl TlsConnector {
    /// A connector with `config` ([`client_config`] makes one with ALPN for HTTP).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use ebbtide_hyper::tls::{client_config, rustls::RootCertStore, TlsConnector};
    ///
    /// let connector = TlsConnector::new(Arc::new(client_config(RootCertStore::empty()).unwrap()));
    /// ```
    pub fn new(config: Arc<ClientConfig>) -> Self {
        TlsConnector { config }
    }

    /// The config.
    ///
    /// # Examples
    ///
    /// ```
    /// fn offers_h2(connector: &ebbtide_hyper::tls::TlsConnector) -> bool {
    ///     connector.config().alpn_protocols.iter().any(|p| p == ebbtide_hyper::tls::ALPN_H2)
    /// }
    /// ```
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Runs the client side of the handshake over `io`, for `server_name` (sent as SNI when it
    /// is a DNS name, and what the server's certificate must be valid for).
    ///
    /// # Errors
    ///
    /// See [`Handshake`].
    ///
    /// # Examples
    ///
    /// (A whole exchange is in [`TlsStream`]'s.)
    ///
    /// ```
    /// use std::io;
    ///
    /// use ebbtide_hyper::tls::rustls::pki_types::ServerName;
    /// use ebbtide_hyper::tls::{TlsConnector, TlsStream};
    /// use ebbtide_std::net::TcpStream;
    ///
    /// async fn connect(connector: &TlsConnector, host: &str) -> io::Result<TlsStream<TcpStream>> {
    ///     let name = ServerName::try_from(host)
    ///         .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
    ///         .to_owned();
    ///     let tcp = TcpStream::connect((host, 443)).await?;
    ///     connector.connect(name, tcp).await
    /// }
    /// ```
    pub fn connect<IO>(&self, server_name: ServerName<'static>, io: IO) -> Handshake<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        IO::Error: Into<io::Error>,
    {
        let state = ClientConnection::new(self.config.clone(), server_name)
            .map(|conn| TlsStream::new(io, conn.into()))
            .map_err(invalid_data);
        Handshake { state: Some(state) }
    }
}

#[cfg(not(target_os = "wasi"))]
pub use https::{HttpsClient, HttpsConnector, MaybeHttpsStream};

#[cfg(not(target_os = "wasi"))]
mod https {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use ebbtide_std::net::TcpStream;
    use http::Uri;
    use hyper_util::client::legacy::connect::{Connected, Connection};
    use rustls::pki_types::ServerName;
    use rustls::ClientConfig;

    use super::{TlsConnector, TlsStream};
    use crate::client::EbbtideConnector;
    use crate::EbbtideIo;

    /// hyper-util's client over [`HttpsConnector`]: what
    /// `ebbtide_hyper::client::legacy().build(HttpsConnector::new(config))` makes.
    ///
    /// # Examples
    ///
    /// See [`HttpsConnector`]'s.
    pub type HttpsClient<B> = hyper_util::client::legacy::Client<HttpsConnector, B>;

    /// Connects to `https://` URIs over TLS and to `http://` ones in plain TCP: hyper-util's
    /// client connector for HTTPS (as `hyper_rustls::HttpsConnector` is for Tokio), over
    /// [`EbbtideConnector`].
    ///
    /// - `https://`: a TCP connection to the URI's host and port (443 unless given) by the
    ///   inner [`EbbtideConnector`] (its `TCP_NODELAY` and connect timeout apply), then the TLS
    ///   handshake with the host as the server name (SNI, and what the certificate must match).
    /// - `http://`: the inner connector's plain TCP, unless
    ///   [`https_only`](HttpsConnector::https_only) is set.
    /// - When ALPN chose `h2` (the config offered it: [`client_config`](super::client_config)
    ///   does), the connection tells hyper-util so, and the client speaks HTTP/2 on it.
    ///
    /// # Examples
    ///
    /// A client for `https://` (and `http://`) URIs that trusts one CA (a whole exchange is in
    /// [the module's](super) example):
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use ebbtide_hyper::tls::{client_config, rustls, HttpsClient, HttpsConnector};
    /// use http_body_util::Empty;
    /// use hyper::body::Bytes;
    ///
    /// fn client(ca: rustls::pki_types::CertificateDer<'static>) -> HttpsClient<Empty<Bytes>> {
    ///     let mut roots = rustls::RootCertStore::empty();
    ///     roots.add(ca).unwrap();
    ///     let connector = HttpsConnector::new(Arc::new(client_config(roots).unwrap()));
    ///     ebbtide_hyper::client::legacy().build(connector)
    /// }
    /// ```
    #[derive(Debug, Clone)]
    pub struct HttpsConnector {
        http: EbbtideConnector,
        tls: TlsConnector,
        https_only: bool,
    }

    impl HttpsConnector {
        /// An HTTPS connector with `config` over [`EbbtideConnector::new`].
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// use ebbtide_hyper::tls::{client_config, rustls::RootCertStore, HttpsConnector};
        /// use http_body_util::Empty;
        /// use hyper::body::Bytes;
        ///
        /// let config = client_config(RootCertStore::empty()).unwrap();
        /// let connector = HttpsConnector::new(Arc::new(config));
        /// let client = ebbtide_hyper::client::legacy().build::<_, Empty<Bytes>>(connector);
        /// ```
        pub fn new(config: Arc<ClientConfig>) -> Self {
            HttpsConnector::with_connector(EbbtideConnector::new(), config)
        }

        /// An HTTPS connector with `config` over `http`, a TCP connector set up as wanted.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// use std::time::Duration;
        ///
        /// use ebbtide_hyper::client::EbbtideConnector;
        /// use ebbtide_hyper::tls::{client_config, rustls::RootCertStore, HttpsConnector};
        ///
        /// let mut tcp = EbbtideConnector::new();
        /// tcp.set_connect_timeout(Some(Duration::from_secs(5)));
        /// let config = Arc::new(client_config(RootCertStore::empty()).unwrap());
        /// let connector = HttpsConnector::with_connector(tcp, config);
        /// ```
        pub fn with_connector(http: EbbtideConnector, config: Arc<ClientConfig>) -> Self {
            HttpsConnector {
                http,
                tls: TlsConnector::new(config),
                https_only: false,
            }
        }

        /// Refuses `http://` URIs (`InvalidInput`) when `https_only` (off by default).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// use ebbtide_hyper::tls::{client_config, rustls::RootCertStore, HttpsConnector};
        ///
        /// let config = Arc::new(client_config(RootCertStore::empty()).unwrap());
        /// let mut connector = HttpsConnector::new(config);
        /// connector.https_only(true);
        /// ebbtide_std::Runtime::new().unwrap().block_on(async {
        ///     let refused = connector.connect("http://127.0.0.1:1/".parse().unwrap()).await;
        ///     assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        /// });
        /// ```
        pub fn https_only(&mut self, https_only: bool) -> &mut Self {
            self.https_only = https_only;
            self
        }

        /// Connects to `uri` (see the type's docs).
        ///
        /// # Errors
        ///
        /// `InvalidInput` for a scheme other than `http` and `https` (or `http` with
        /// [`https_only`](HttpsConnector::https_only)), a URI without a host or a host that is
        /// not a valid server name; the TCP connector's errors; the handshake's
        /// ([`Handshake`](super::Handshake)).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// use ebbtide_hyper::tls::{client_config, rustls::RootCertStore, HttpsConnector};
        ///
        /// let config = Arc::new(client_config(RootCertStore::empty()).unwrap());
        /// let connector = HttpsConnector::new(config);
        /// ebbtide_std::Runtime::new().unwrap().block_on(async {
        ///     let refused = connector.connect("ftp://127.0.0.1/".parse().unwrap()).await;
        ///     assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        /// });
        /// ```
        pub async fn connect(&self, uri: Uri) -> io::Result<MaybeHttpsStream> {
            if uri.scheme_str() != Some("https") {
                if self.https_only {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("this connector connects https:// only, not {uri}"),
                    ));
                }
                return Ok(MaybeHttpsStream::Http(self.http.connect(uri).await?));
            }
            let host = uri.host().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("no host in {uri}"))
            })?;
            let name = host.trim_start_matches('[').trim_end_matches(']');
            let server_name = ServerName::try_from(name)
                .map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{name} is not a server name: {e}"),
                    )
                })?
                .to_owned();
            let port = uri.port_u16().unwrap_or(443);
            let tcp_uri = Uri::builder()
                .scheme("http")
                .authority(format!("{host}:{port}"))
                .path_and_query("/")
                .build()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let tcp = self.http.connect(tcp_uri).await?.into_inner();
            let tls = self.tls.connect(server_name, tcp).await?;
            Ok(MaybeHttpsStream::Https(EbbtideIo::new(tls)))
        }
    }

    impl tower_service::Service<Uri> for HttpsConnector {
        type Response = MaybeHttpsStream;
        type Error = io::Error;
        type Future = Pin<Box<dyn Future<Output = io::Result<MaybeHttpsStream>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, uri: Uri) -> Self::Future {
            let connector = self.clone();
            Box::pin(async move { connector.connect(uri).await })
        }
    }

    /// A connection of [`HttpsConnector`]: plain TCP for `http://`, TLS for `https://`. hyper's
    /// `rt::Read` / `rt::Write`, and hyper-util's `Connection` (which reports HTTP/2 when ALPN
    /// chose it).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_hyper::tls::MaybeHttpsStream;
    ///
    /// fn describe(stream: &MaybeHttpsStream) -> &'static str {
    ///     match stream {
    ///         MaybeHttpsStream::Http(_) => "plain",
    ///         MaybeHttpsStream::Https(tls) if tls.inner().negotiated_h2() => "TLS, HTTP/2",
    ///         MaybeHttpsStream::Https(_) => "TLS",
    ///     }
    /// }
    /// ```
    // The TLS variant (about 1.2 KiB: rustls's connection state) is the usual one; boxing it
    // would add an allocation per connection and an indirection on every read and write.
    #[allow(clippy::large_enum_variant)]
    #[derive(Debug)]
    pub enum MaybeHttpsStream {
        /// Plain TCP (`http://`).
        Http(EbbtideIo<TcpStream>),
        /// TLS over TCP (`https://`).
        Https(EbbtideIo<TlsStream<TcpStream>>),
    }

    impl Connection for MaybeHttpsStream {
        fn connected(&self) -> Connected {
            match self {
                MaybeHttpsStream::Http(tcp) => tcp.connected(),
                MaybeHttpsStream::Https(tls) if tls.inner().negotiated_h2() => {
                    Connected::new().negotiated_h2()
                }
                MaybeHttpsStream::Https(_) => Connected::new(),
            }
        }
    }

    impl hyper::rt::Read for MaybeHttpsStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            match self.get_mut() {
                MaybeHttpsStream::Http(tcp) => Pin::new(tcp).poll_read(cx, buf),
                MaybeHttpsStream::Https(tls) => Pin::new(tls).poll_read(cx, buf),
            }
        }
    }

    impl hyper::rt::Write for MaybeHttpsStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            match self.get_mut() {
                MaybeHttpsStream::Http(tcp) => Pin::new(tcp).poll_write(cx, buf),
                MaybeHttpsStream::Https(tls) => Pin::new(tls).poll_write(cx, buf),
            }
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            match self.get_mut() {
                MaybeHttpsStream::Http(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
                MaybeHttpsStream::Https(tls) => Pin::new(tls).poll_write_vectored(cx, bufs),
            }
        }

        fn is_write_vectored(&self) -> bool {
            match self {
                MaybeHttpsStream::Http(tcp) => hyper::rt::Write::is_write_vectored(tcp),
                MaybeHttpsStream::Https(tls) => hyper::rt::Write::is_write_vectored(tls),
            }
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.get_mut() {
                MaybeHttpsStream::Http(tcp) => Pin::new(tcp).poll_flush(cx),
                MaybeHttpsStream::Https(tls) => Pin::new(tls).poll_flush(cx),
            }
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.get_mut() {
                MaybeHttpsStream::Http(tcp) => Pin::new(tcp).poll_shutdown(cx),
                MaybeHttpsStream::Https(tls) => Pin::new(tls).poll_shutdown(cx),
            }
        }
    }
}
