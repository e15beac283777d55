//! A listening socket the host preopened.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use crate::net::TcpStream;
use crate::reactor::{Direction, Registration};
use crate::sys;

/// The first fd a host preopens (0, 1, 2 are stdio).
const FIRST_PREOPENED: sys::Fd = 3;
/// How far [`TcpListener::preopened`] looks when `LISTEN_FDS` is not set.
const MAX_SCANNED_FDS: u32 = 64;

/// A TCP socket listening for connections, preopened by the host and registered with the running
/// runtime.
///
/// See the [module docs](crate::net) for how to run a server and which hosts can.
///
/// # Errors from `accept`, and backing off
///
/// As with ebbtide-std, [`accept`](TcpListener::accept) reports every error of the host as a
/// value and never retries behind your back: a server should log the error, sleep a little, and
/// accept again.
///
/// # Examples
///
/// (Not run by `cargo test`: doctests cannot run on wasm32-wasip1.)
///
/// ```no_run
/// use ebbtide_wasi::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_wasi::net::TcpListener;
///
/// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::from_preopened().unwrap();
///     loop {
///         let (mut stream, _peer) = listener.accept().await.unwrap();
///         let mut buf = [0u8; 512];
///         let n = stream.read(&mut buf).await.unwrap();
///         stream.write_all(&buf[..n]).await.unwrap();
///     }
/// });
/// ```
pub struct TcpListener {
    registration: Registration,
}

impl TcpListener {
    /// The first listening socket the host preopened; see [`preopened`](TcpListener::preopened).
    ///
    /// # Errors
    ///
    /// As for [`preopened`](TcpListener::preopened) with index 0.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let listener = ebbtide_wasi::net::TcpListener::from_preopened().unwrap();
    /// #   let _ = listener;
    /// });
    /// ```
    pub fn from_preopened() -> io::Result<TcpListener> {
        Self::preopened(0)
    }

    /// The `index`-th (from 0) stream socket among the host's preopened fds, registered with the
    /// running runtime.
    ///
    /// Preopened fds start at 3. If the `LISTEN_FDS` environment variable is set (the systemd
    /// convention, which `wasmtime run --env LISTEN_FDS=1` follows), exactly fds
    /// `3 .. 3 + LISTEN_FDS` are considered; otherwise fds from 3 up to the first closed one (at
    /// most 64), skipping those that are not stream sockets (preopened directories).
    ///
    /// The listener takes ownership of the fd: dropping it closes the fd. Taking the same index
    /// twice gives two listeners on one fd; do not.
    ///
    /// # Errors
    ///
    /// `NotFound`, with the host flags that preopen a socket, if there is no such socket;
    /// `InvalidInput` if `LISTEN_FDS` is not a number; an error outside a runtime or when the
    /// runtime's IO table is full.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // wasmtime run -S preview2=n -S tcplisten=127.0.0.1:7000 -S tcplisten=127.0.0.1:7001 \
    /// //     --env LISTEN_FDS=2 app.wasm
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let second = ebbtide_wasi::net::TcpListener::preopened(1).unwrap();
    /// #   let _ = second;
    /// });
    /// ```
    pub fn preopened(index: usize) -> io::Result<TcpListener> {
        let reactor = crate::runtime::current_reactor()?;
        let fd = find_preopened(index)?;
        let registration = reactor.register(fd, true, false)?;
        Ok(TcpListener { registration })
    }

    /// Always fails on WASI preview 1, which cannot bind sockets; kept so that code written for
    /// ebbtide-std compiles. Use [`from_preopened`](TcpListener::from_preopened).
    ///
    /// # Errors
    ///
    /// Always `ErrorKind::Unsupported`, with a message naming the host flags to use.
    ///
    /// # Cancel safety
    ///
    /// Nothing happens: dropping the future is harmless.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let err = ebbtide_wasi::net::TcpListener::bind("127.0.0.1:7000").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let _ = addr;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "WASI preview 1 cannot bind a socket: let the host preopen it \
             (`wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT --env LISTEN_FDS=1`) and \
             take it with TcpListener::from_preopened()",
        ))
    }

    /// Accepts a connection: the stream, and its peer's address, which WASI does not give
    /// (always `None`).
    ///
    /// # Errors
    ///
    /// The host's error (`raw_os_error` is the WASI errno); `NOTSOCK` from a host without
    /// preview 1 sockets is reported with the flags that work. Waiting on a host that cannot
    /// poll sockets ends `block_on` with
    /// [`Error::HostCannotPollSockets`](crate::Error::HostCannotPollSockets).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let listener = ebbtide_wasi::net::TcpListener::from_preopened().unwrap();
    ///     let (stream, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_none());
    /// #   let _ = stream;
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, Option<SocketAddr>)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](TcpListener::accept).
    ///
    /// # Errors
    ///
    /// As for [`accept`](TcpListener::accept).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::future::poll_fn;
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let listener = ebbtide_wasi::net::TcpListener::from_preopened().unwrap();
    ///     let (stream, _) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// #   let _ = stream;
    /// });
    /// ```
    pub fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, Option<SocketAddr>)>> {
        match sys::sock_accept(self.registration.fd()) {
            Ok(fd) => Poll::Ready(TcpStream::from_accepted(fd).map(|stream| (stream, None))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.registration.wait(cx, Direction::Read)
            }
            Err(e) if e.raw_os_error() == Some(sys::ERRNO_NOTSOCK) => {
                Poll::Ready(Err(no_socket_support(e)))
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = sys::fd_close(self.registration.fd());
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.registration.fd())
            .finish()
    }
}

/// The error of a host that has no preview 1 sockets.
pub(crate) fn no_socket_support(e: io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "this WASI host has no preview 1 sockets ({e}); run with \
             `wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT --env LISTEN_FDS=1` \
             (wasmtime 46 or older)"
        ),
    )
}

fn find_preopened(index: usize) -> io::Result<sys::Fd> {
    let listen_fds = match std::env::var("LISTEN_FDS") {
        Ok(value) => Some(value.trim().parse::<u32>().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("LISTEN_FDS is not a number: {value:?}"),
            )
        })?),
        Err(_) => None,
    };
    let end = FIRST_PREOPENED + listen_fds.unwrap_or(MAX_SCANNED_FDS);
    let mut found = 0;
    for fd in FIRST_PREOPENED..end {
        match sys::is_stream_socket(fd) {
            Ok(true) if found == index => return Ok(fd),
            Ok(true) => found += 1,
            Ok(false) => {}
            // The first fd that is not open ends the preopened ones.
            Err(e) if e.raw_os_error() == Some(sys::ERRNO_BADF) => break,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no preopened listening socket #{index} (found {found} among fds 3..{end}{}): run \
             with `wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT --env LISTEN_FDS=1` \
             (wasmtime 46 or older)",
            if listen_fds.is_some() {
                ", as LISTEN_FDS says"
            } else {
                ""
            }
        ),
    ))
}
