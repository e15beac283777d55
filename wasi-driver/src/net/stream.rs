//! A connected TCP stream.

use std::fmt;
use std::io;
use std::net::{Shutdown, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use ebbtide_core::io::{AsyncRead, AsyncWrite, ErrorType};

use crate::reactor::{Direction, Registration};
use crate::sys;

/// A TCP connection, accepted from a [`TcpListener`](crate::net::TcpListener).
///
/// Implements [`AsyncRead`] (`sock_recv`) and [`AsyncWrite`] (`sock_send`; `shutdown` is
/// `sock_shutdown(SDFLAGS_WR)`), so every helper of [`crate::io`] works on it. Dropping it closes
/// the connection (`fd_close`).
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
///     let (mut stream, _) = listener.accept().await.unwrap();
///     stream.write_all(b"hello\n").await.unwrap();
///     stream.shutdown(std::net::Shutdown::Write).unwrap();
///     let mut rest = [0u8; 64];
///     while stream.read(&mut rest).await.unwrap() > 0 {}
/// });
/// ```
pub struct TcpStream {
    registration: Registration,
}

impl TcpStream {
    pub(crate) fn from_accepted(fd: sys::Fd) -> io::Result<TcpStream> {
        let reactor = match crate::runtime::current_reactor() {
            Ok(reactor) => reactor,
            Err(e) => {
                let _ = sys::fd_close(fd);
                return Err(e);
            }
        };
        match reactor.register(fd, true, false) {
            Ok(registration) => Ok(TcpStream { registration }),
            Err(e) => {
                let _ = sys::fd_close(fd);
                Err(e)
            }
        }
    }

    /// Always fails on WASI preview 1, which cannot open a connection; kept so that code
    /// written for ebbtide-std compiles.
    ///
    /// # Errors
    ///
    /// Always `ErrorKind::Unsupported`.
    ///
    /// # Cancel safety
    ///
    /// Nothing happens: dropping the future is harmless.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let err = ebbtide_wasi::net::TcpStream::connect("127.0.0.1:80").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    /// });
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let _ = addr;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "WASI preview 1 cannot open a connection (there is no sock_connect): only accepted \
             streams exist",
        ))
    }

    /// Shuts down the read half, the write half (the peer reads end of stream), or both, with
    /// `sock_shutdown`; as ebbtide-std's `TcpStream::shutdown`. For the write half alone,
    /// [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown) does the same.
    ///
    /// # Errors
    ///
    /// The host's error (`NOTCONN` if the peer is gone).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::Shutdown;
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     let listener = ebbtide_wasi::net::TcpListener::from_preopened().unwrap();
    ///     let (stream, _) = listener.accept().await.unwrap();
    ///     stream.shutdown(Shutdown::Write).unwrap();
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let (read, write) = match how {
            Shutdown::Read => (true, false),
            Shutdown::Write => (false, true),
            Shutdown::Both => (true, true),
        };
        sys::sock_shutdown(self.registration.fd(), read, write)
    }
}

impl ErrorType for TcpStream {
    type Error = io::Error;
}

impl AsyncRead for TcpStream {
    /// Reads with `sock_recv`; waits for readability when there is nothing yet.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are only read in the poll that returns them.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match sys::sock_recv(self.registration.fd(), buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.registration.wait(cx, Direction::Read)
            }
            result => Poll::Ready(result),
        }
    }
}

impl AsyncWrite for TcpStream {
    /// Writes with `sock_send`; waits for writability when the socket's buffer is full.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are only written in the poll that reports them.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match sys::sock_send(self.registration.fd(), buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.registration.wait(cx, Direction::Write)
            }
            result => Poll::Ready(result),
        }
    }

    /// Nothing to do: the stream keeps no buffer of its own.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// `sock_shutdown(SDFLAGS_WR)`: the peer reads end of stream; reading still works.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(sys::sock_shutdown(self.registration.fd(), false, true))
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = sys::fd_close(self.registration.fd());
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.registration.fd())
            .finish()
    }
}
