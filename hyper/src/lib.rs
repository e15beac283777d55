//! hyper 1.x on ebbtide: the glue hyper-util gives Tokio, for ebbtide-std (Linux, macOS) and
//! ebbtide-wasi (wasm32-wasip1, servers on a preopened listener).
//!
//! | hyper needs | Tokio (hyper-util) | ebbtide (this crate) |
//! |---|---|---|
//! | `rt::Read` / `rt::Write` over a stream | `TokioIo::new(stream)` | [`EbbtideIo::new(stream)`](EbbtideIo) |
//! | `rt::Executor` (HTTP/2 streams, client connections) | `TokioExecutor::new()` | [`EbbtideExecutor::new()`](EbbtideExecutor) |
//! | `rt::Timer` (timeouts, keep-alive, pool expiry) | `TokioTimer::new()` | [`EbbtideTimer::new()`](EbbtideTimer) |
//! | a client connector | `HttpConnector` | [`client::EbbtideConnector`] (not on WASI) |
#![cfg_attr(
    feature = "tls",
    doc = "| TLS (rustls), HTTPS client connector | `tokio-rustls`, `hyper-rustls` | [`tls`] (feature `tls`): [`tls::TlsAcceptor`], [`tls::TlsConnector`], [`tls::HttpsConnector`] |"
)]
#![cfg_attr(
    not(feature = "tls"),
    doc = "| TLS (rustls), HTTPS client connector | `tokio-rustls`, `hyper-rustls` | `tls` (feature `tls`) |"
)]
//!
//! The builders in [`server`] and [`client`] come with the timer (and the executor) already set:
//! hyper panics when a timeout is configured without a timer, and a builder from here never
//! does.
//!
//! Where ebbtide differs from Tokio, on purpose:
//!
//! - **Task memory can be full.** ebbtide's `spawn` returns an error where Tokio's cannot fail:
//!   see [`EbbtideExecutor`] for what happens to hyper's task then (dropped and counted), and
//!   [`max_concurrent_streams`] for how HTTP/2 servers keep that rare.
//! - **Reads need no zeroed buffer.** [`EbbtideIo`] reads into hyper's buffer through
//!   `poll_read_uninit`, which ebbtide-std's sockets answer straight from the kernel.
//!
//! # Examples
//!
//! A server that answers every request on one connection, with hyper's own types:
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use ebbtide_hyper::EbbtideIo;
//! use ebbtide_std::net::TcpListener;
//! use http_body_util::Full;
//! use hyper::body::Bytes;
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//!
//! #[ebbtide_std::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:3000").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("Hello, World!"))))
//!         });
//!         let connection = ebbtide_hyper::server::http1()
//!             .serve_connection(EbbtideIo::new(stream), service);
//!         if let Err(e) = ebbtide_std::spawn(async move {
//!             if let Err(e) = connection.await {
//!                 eprintln!("connection: {e}");
//!             }
//!         }) {
//!             eprintln!("refused a connection: {e}");
//!         }
//!     }
//! }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[cfg(not(target_os = "wasi"))]
pub mod client;
mod executor;
mod io;
pub mod server;
mod timer;
#[cfg(feature = "tls")]
pub mod tls;

pub use executor::{max_concurrent_streams, EbbtideExecutor, DEFAULT_MAX_CONCURRENT_STREAMS};
pub use io::EbbtideIo;
pub use timer::EbbtideTimer;
