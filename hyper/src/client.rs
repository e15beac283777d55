//! hyper-util's client on ebbtide: [`EbbtideConnector`] (TCP connections for `http://` URIs) and
//! [`legacy`], the client builder with ebbtide's executor and timer.
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//!
//! use ebbtide_hyper::EbbtideIo;
//! use ebbtide_std::net::TcpListener;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Bytes;
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     ebbtide_std::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("pong"))))
//!         });
//!         let _ = ebbtide_hyper::server::http1()
//!             .serve_connection(EbbtideIo::new(stream), service)
//!             .await;
//!     })
//!     .unwrap();
//!
//!     let client = ebbtide_hyper::client::legacy().build_http::<Empty<Bytes>>();
//!     let uri = format!("http://{addr}/ping").parse().unwrap();
//!     let response = client.get(uri).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(&body[..], b"pong");
//! });
//! ```

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ebbtide_std::net::TcpStream;
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Builder;

use crate::{EbbtideExecutor, EbbtideIo, EbbtideTimer};

/// hyper-util's client builder with [`EbbtideExecutor`] (each connection's task) and
/// [`EbbtideTimer`] (both as `timer` and as `pool_timer`, so that idle pooled connections expire
/// after `pool_idle_timeout`, 90 s unless set).
///
/// Finish it with `build(EbbtideConnector::new())`, or `build_http()` for plain HTTP with the
/// default connector.
pub fn legacy() -> LegacyBuilder {
    LegacyBuilder {
        builder: {
            let mut builder = Builder::new(EbbtideExecutor::new());
            builder
                .timer(EbbtideTimer::new())
                .pool_timer(EbbtideTimer::new());
            builder
        },
    }
}

/// [`legacy`]'s builder: hyper-util's [`Builder`] (reached through `Deref`, for every setting it
/// has), plus [`build_http`](LegacyBuilder::build_http) on [`EbbtideConnector`].
#[derive(Debug, Clone)]
pub struct LegacyBuilder {
    builder: Builder,
}

/// The client [`LegacyBuilder::build_http`] makes.
pub type Client<B> = hyper_util::client::legacy::Client<EbbtideConnector, B>;

impl LegacyBuilder {
    /// A client for `http://` URIs over [`EbbtideConnector::new`].
    pub fn build_http<B>(&self) -> Client<B>
    where
        B: hyper::body::Body + Send,
        B::Data: Send,
    {
        self.builder.build(EbbtideConnector::new())
    }

    /// A client over `connector`.
    pub fn build<C, B>(&self, connector: C) -> hyper_util::client::legacy::Client<C, B>
    where
        C: hyper_util::client::legacy::connect::Connect + Clone,
        B: hyper::body::Body + Send,
        B::Data: Send,
    {
        self.builder.build(connector)
    }
}

impl std::ops::Deref for LegacyBuilder {
    type Target = Builder;

    fn deref(&self) -> &Builder {
        &self.builder
    }
}

impl std::ops::DerefMut for LegacyBuilder {
    fn deref_mut(&mut self) -> &mut Builder {
        &mut self.builder
    }
}

/// Connects to `http://` URIs over ebbtide-std's [`TcpStream`]: hyper-util's
/// `HttpConnector` for ebbtide.
///
/// - An IP address in the URI is connected to at once; a name is looked up on the runtime's
///   blocking pool (`getaddrinfo` blocks), and each address is tried in turn.
/// - The port is the URI's, or 80.
/// - `TCP_NODELAY` is on by default (a request is sent in one write, and waiting for an
///   acknowledgement before a small one only adds latency); see
///   [`set_nodelay`](EbbtideConnector::set_nodelay).
/// - Other schemes are refused with `InvalidInput`: HTTPS goes through a TLS connector.
#[derive(Debug, Clone)]
pub struct EbbtideConnector {
    nodelay: bool,
    connect_timeout: Option<Duration>,
}

impl Default for EbbtideConnector {
    fn default() -> Self {
        EbbtideConnector::new()
    }
}

impl EbbtideConnector {
    /// A connector with `TCP_NODELAY` on and no connect timeout.
    pub fn new() -> Self {
        EbbtideConnector {
            nodelay: true,
            connect_timeout: None,
        }
    }

    /// Sets `TCP_NODELAY` on each new connection (on by default).
    pub fn set_nodelay(&mut self, nodelay: bool) -> &mut Self {
        self.nodelay = nodelay;
        self
    }

    /// Gives up on each address after `timeout` (`TimedOut`), then tries the next.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.connect_timeout = timeout;
        self
    }

    /// Connects to `uri`'s host and port (see the type's docs).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a scheme other than `http` or a URI without a host; what the lookup
    /// or the last connection attempt said otherwise.
    pub async fn connect(&self, uri: Uri) -> io::Result<EbbtideIo<TcpStream>> {
        match uri.scheme_str() {
            Some("http") | None => {}
            Some(other) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("EbbtideConnector connects http:// only, not {other}://"),
                ))
            }
        }
        let host = uri.host().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("no host in {uri}"))
        })?;
        let port = uri.port_u16().unwrap_or(80);
        let addrs = resolve(host, port).await?;
        let mut last = None;
        for addr in addrs {
            let attempt = match self.connect_timeout {
                None => TcpStream::connect(addr).await,
                Some(timeout) => TcpStream::connect_timeout(addr, timeout).await,
            };
            match attempt {
                Ok(stream) => {
                    stream.set_nodelay(self.nodelay)?;
                    return Ok(EbbtideIo::new(stream));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
        }))
    }
}

/// `host`'s addresses: at once for an IP literal (`[::1]` included), else from `getaddrinfo` on
/// the blocking pool.
async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = host.to_owned();
    ebbtide_std::spawn_blocking(move || (host.as_str(), port).to_socket_addrs().map(Vec::from_iter))
        .await
        .map_err(|e| io::Error::other(format!("the name lookup's job failed: {e}")))?
}

impl tower_service::Service<Uri> for EbbtideConnector {
    type Response = EbbtideIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<EbbtideIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move { connector.connect(uri).await })
    }
}

impl Connection for EbbtideIo<TcpStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
