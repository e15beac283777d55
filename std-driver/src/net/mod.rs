//! TCP, UDP and Unix-domain sockets, driven by the runtime's reactor.
//!
//! Every type here wraps the matching socket of mio's `net` module, registered with the current
//! thread's runtime (on a runtime of several workers: the current worker) when it is created (so creating one outside
//! [`Runtime::block_on`](crate::Runtime) or a task is an `io::Error`). Readiness is edge-triggered: an operation is tried when the
//! reactor last said the socket was ready, and a task that finds it would block parks until the
//! OS reports the socket ready again. No operation allocates (with a `SocketAddr` as the
//! address; resolving a string goes through std, which does); [`TcpStream::into_split`] is the
//! one exception (one `Arc` per split, documented there). [`TcpSocket`] sets socket options before
//! a socket binds, listens or connects, such as `SO_REUSEPORT` for [a listener on every
//! worker](TcpSocket#a-listener-on-every-worker).
//!
//! Streams implement [`AsyncRead`](crate::io::AsyncRead) and [`AsyncWrite`](crate::io::AsyncWrite)
//! with `std::io::Error` as their error type, so the helpers of [`crate::io`] (`read_exact`,
//! `write_all`, [`copy`](crate::io::copy), ...) work on them.
//!
//! Addresses are anything `std::net::ToSocketAddrs` accepts. A host *name* is resolved by std's
//! blocking resolver on the runtime's thread: pass a `SocketAddr` (or an IP address string) in
//! code that must never block.
//!
//! # Examples
//!
//! An echo server and a client on loopback:
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = ebbtide_std::spawn(async move {
//!         let (mut socket, _peer) = listener.accept().await.unwrap();
//!         let mut buf = [0u8; 64];
//!         let n = socket.read(&mut buf).await.unwrap();
//!         socket.write_all(&buf[..n]).await.unwrap();
//!     })
//!     .unwrap();
//!
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut reply = [0u8; 5];
//!     client.read_exact(&mut reply).await.unwrap();
//!     assert_eq!(&reply, b"hello");
//!     server.await.unwrap();
//! });
//! ```

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

mod tcp {
    pub(crate) mod listener;
    pub(crate) mod socket;
    pub(crate) mod split;
    pub(crate) mod stream;
}
mod udp;
mod unix;

pub use tcp::listener::{Incoming, TcpListener};
pub use tcp::socket::TcpSocket;
pub use tcp::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use tcp::stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::{UnixIncoming, UnixListener, UnixStream};

/// Tries `op` on each address `addr` resolves to, in order, and returns the first success or the
/// last error.
fn each_addr<T>(
    addr: impl ToSocketAddrs,
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        match op(addr) {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        )
    }))
}

/// The first address `addr` resolves to.
fn first_addr(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    each_addr(addr, Ok)
}
