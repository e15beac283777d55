//! The two halves of a [`TcpStream`]: borrowed ([`TcpStream::split`]) or owned
//! ([`TcpStream::into_split`]).
//!
//! A stream's reads and writes use separate wakers in the reactor, so one task may read through
//! one half while another writes through the other.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::io::{AsyncRead, AsyncWrite, ErrorType};
use crate::net::TcpStream;

/// The read half of a borrowed [`TcpStream`], from [`TcpStream::split`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     server.write_all(b"hey").await.unwrap();
///     let (mut rx, _tx) = client.split();
///     let mut buf = [0u8; 3];
///     rx.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hey");
/// });
/// ```
#[derive(Debug)]
pub struct ReadHalf<'a> {
    stream: &'a TcpStream,
}

/// The write half of a borrowed [`TcpStream`], from [`TcpStream::split`].
///
/// Shutting it down ([`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown)) shuts
/// down the stream's write direction.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_rx, mut tx) = client.split();
///     tx.write_all(b"hey").await.unwrap();
///     let mut buf = [0u8; 3];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hey");
/// });
/// ```
#[derive(Debug)]
pub struct WriteHalf<'a> {
    stream: &'a TcpStream,
}

impl<'a> ReadHalf<'a> {
    pub(crate) fn new(stream: &'a TcpStream) -> Self {
        ReadHalf { stream }
    }

    /// The stream both halves borrow (for its addresses and options).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rx, _tx) = client.split();
    ///     assert_eq!(rx.stream().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn stream(&self) -> &'a TcpStream {
        self.stream
    }
}

impl<'a> WriteHalf<'a> {
    pub(crate) fn new(stream: &'a TcpStream) -> Self {
        WriteHalf { stream }
    }

    /// The stream both halves borrow (for its addresses and options).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rx, tx) = client.split();
    ///     tx.stream().set_nodelay(true).unwrap();
    /// });
    /// ```
    pub fn stream(&self) -> &'a TcpStream {
        self.stream
    }
}

/// The read half of a [`TcpStream`] split with [`TcpStream::into_split`]; it owns its share of
/// the stream and can move to another task.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (mut rx, _tx) = client.into_split();
///     let reader = ebbtide_std::spawn(async move {
///         let mut buf = [0u8; 4];
///         rx.read_exact(&mut buf).await.unwrap();
///         buf
///     })
///     .unwrap();
///     server.write_all(b"data").await.unwrap();
///     assert_eq!(&reader.await.unwrap(), b"data");
/// });
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`] split with [`TcpStream::into_split`]; it owns its share of
/// the stream and can move to another task.
///
/// Dropping it shuts down the stream's write direction (the peer reads end of stream), like
/// Tokio's; the socket itself closes when the read half is gone too.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_rx, mut tx) = client.into_split();
///     tx.write_all(b"bye").await.unwrap();
///     drop(tx); // shuts the write direction
///     let mut buf = [0u8; 8];
///     assert_eq!(server.read_to_limit(&mut buf).await.unwrap(), 3);
/// });
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<TcpStream>,
    /// Whether dropping the half shuts the write direction down.
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    pub(crate) fn new(stream: Arc<TcpStream>) -> Self {
        OwnedReadHalf { stream }
    }

    /// Puts the stream back together with its write half; fails (handing both back) if `other`
    /// came from another stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rx, tx) = client.into_split();
    ///     let client = rx.reunite(tx).unwrap();
    ///     assert!(client.peer_addr().is_ok());
    /// });
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        other.shutdown_on_drop = false;
        drop(other);
        Ok(Arc::into_inner(self.stream).expect("both halves of the stream were given back"))
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rx, _tx) = client.into_split();
    ///     assert_eq!(rx.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rx, _tx) = client.into_split();
    ///     assert!(rx.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl OwnedWriteHalf {
    pub(crate) fn new(stream: Arc<TcpStream>) -> Self {
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        }
    }

    /// Puts the stream back together with its read half; see [`OwnedReadHalf::reunite`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rx, tx) = client.into_split();
    ///     assert!(tx.reunite(rx).is_ok());
    /// });
    /// ```
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }

    /// Keeps the write direction open when this half is dropped (the peer then sees end of
    /// stream only when the whole socket closes).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rx, tx) = client.into_split();
    ///     tx.forget();
    /// });
    /// ```
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rx, tx) = client.into_split();
    ///     assert_eq!(tx.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rx, tx) = client.into_split();
    ///     assert!(tx.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; both are handed
/// back.
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let (rx_a, _tx_a) = TcpStream::connect(addr).await.unwrap().into_split();
///     let (_rx_b, tx_b) = TcpStream::connect(addr).await.unwrap().into_split();
///     let error = rx_a.reunite(tx_b).unwrap_err();
///     let (_rx_a, _tx_b) = (error.0, error.1);
/// });
/// ```
pub struct ReuniteError(
    /// The read half that was given.
    pub OwnedReadHalf,
    /// The write half that was given.
    pub OwnedWriteHalf,
);

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different TCP streams")
    }
}

impl Error for ReuniteError {}

macro_rules! read_half {
    ($half:ty) => {
        impl ErrorType for $half {
            type Error = io::Error;
        }

        impl AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_read_priv(cx, buf)
            }

            fn poll_read_uninit(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_read_uninit_priv(cx, buf)
            }
        }
    };
}

macro_rules! write_half {
    ($half:ty) => {
        impl ErrorType for $half {
            type Error = io::Error;
        }

        impl AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[&[u8]],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.stream.shutdown_write()
            }
        }
    };
}

read_half!(ReadHalf<'_>);
read_half!(OwnedReadHalf);
write_half!(WriteHalf<'_>);
write_half!(OwnedWriteHalf);
