//! hyper's server connection builders, ready for ebbtide: each has [`EbbtideTimer`] (so that
//! hyper's timeouts work instead of panicking) and, for HTTP/2, [`EbbtideExecutor`] and a
//! stream limit the task memory has room for.
//!
//! They are hyper's (and hyper-util's) own builders, returned as they are: every setting hyper
//! documents is there. Build one per connection: the HTTP/2 stream limit is worked out when the
//! builder is made ([`max_concurrent_streams`]).
//!
//! # Examples
//!
//! An HTTP/1.1 server that answers one request, and a client that asks it, on loopback:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use ebbtide_hyper::EbbtideIo;
//! use ebbtide_std::net::{TcpListener, TcpStream};
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
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!         });
//!         ebbtide_hyper::server::http1()
//!             .serve_connection(EbbtideIo::new(stream), service)
//!             .await
//!             .unwrap();
//!     })
//!     .unwrap();
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(EbbtideIo::new(stream))
//!         .await
//!         .unwrap();
//!     ebbtide_std::spawn(connection).unwrap();
//!     let request = Request::get("/").body(Empty::<Bytes>::new()).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(&body[..], b"hello");
//! });
//! ```

use hyper_util::server::conn::auto;

use crate::{max_concurrent_streams, EbbtideExecutor, EbbtideTimer};

/// hyper's HTTP/1 connection builder with [`EbbtideTimer`]: `header_read_timeout` (on by default
/// in hyper, 30 s) closes a client that sends its headers too slowly.
pub fn http1() -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(EbbtideTimer::new());
    builder
}

/// hyper's HTTP/2 connection builder with [`EbbtideExecutor`] (each stream is a task),
/// [`EbbtideTimer`] (keep-alive pings) and `max_concurrent_streams` from
/// [`max_concurrent_streams`].
pub fn http2() -> hyper::server::conn::http2::Builder<EbbtideExecutor> {
    http2_with(EbbtideExecutor::new())
}

/// [`http2`] with an executor of the caller's, whose [`refused`](EbbtideExecutor::refused)
/// counter the caller can then read (clones share it).
pub fn http2_with(
    executor: EbbtideExecutor,
) -> hyper::server::conn::http2::Builder<EbbtideExecutor> {
    let mut builder = hyper::server::conn::http2::Builder::new(executor);
    builder
        .timer(EbbtideTimer::new())
        .max_concurrent_streams(max_concurrent_streams());
    builder
}

/// hyper-util's builder that serves HTTP/1.1 and HTTP/2 on one port (it tells them apart by the
/// HTTP/2 preface), set up as [`http1`] and [`http2`] are.
pub fn auto() -> auto::Builder<EbbtideExecutor> {
    auto_with(EbbtideExecutor::new())
}

/// [`auto()`] with an executor of the caller's.
pub fn auto_with(executor: EbbtideExecutor) -> auto::Builder<EbbtideExecutor> {
    let mut builder = auto::Builder::new(executor);
    builder.http1().timer(EbbtideTimer::new());
    builder
        .http2()
        .timer(EbbtideTimer::new())
        .max_concurrent_streams(max_concurrent_streams());
    builder
}
