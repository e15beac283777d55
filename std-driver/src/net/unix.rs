//! Unix-domain stream sockets: a listener bound to a path, and connections.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::{AsyncRead, AsyncWrite, ErrorType, Interest, PollEvented};
use crate::reactor::Direction;

/// A Unix-domain socket listening for connections at a path, registered with the current
/// runtime.
///
/// Binding creates the socket file; dropping the listener does not remove it (as with std):
/// remove it yourself, or bind inside a temporary directory.
///
/// Accept errors are values, as for [`TcpListener`](crate::net::TcpListener) (whose docs show how
/// to back off after `EMFILE`).
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("ebbtide-doc-ul-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let _client = UnixStream::connect(&path).await.unwrap();
///     let (_server, _addr) = listener.accept().await.unwrap();
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to `path`, creating the socket file there.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the file exists (remove a stale one first), other OS errors, and an
    /// `io::Error` outside a runtime or when its IO table is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixListener;
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-ub-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind(path)?)
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Registers a std listener with the current runtime, setting it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// If setting non-blocking mode fails, outside a runtime, or when its IO table is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixListener;
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-us-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    ///     let listener = UnixListener::from_std(std_listener).unwrap();
    ///     assert!(listener.local_addr().is_ok());
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Accepts a connection: the new stream, registered with the current runtime, and the
    /// peer's address (usually unnamed).
    ///
    /// # Errors
    ///
    /// Every error of `accept(2)` as a value; back off after `EMFILE` and the like (see
    /// [`TcpListener`](crate::net::TcpListener)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, no connection was taken from the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-ua-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_stream, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_unnamed());
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](UnixListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-up-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     assert!(poll_fn(|cx| listener.poll_accept(cx)).await.is_ok());
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, peer) = match self.io.poll_io(cx, Direction::Read, |l| l.accept()) {
            Poll::Ready(Ok(accepted)) => accepted,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        Poll::Ready(UnixStream::from_mio(stream).map(|stream| (stream, peer)))
    }

    /// A stream-like view that yields each accepted connection (`next().await`), like
    /// [`TcpListener::incoming`](crate::net::TcpListener::incoming).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-ui-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     assert!(listener.incoming().next().await.unwrap().is_ok());
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixListener;
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-ul2-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// The connections a [`UnixListener`] accepts, one per [`next`](UnixIncoming::next); made by
/// [`UnixListener::incoming`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("ebbtide-doc-uin-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let _client = UnixStream::connect(&path).await.unwrap();
///     let mut incoming = listener.incoming();
///     assert!(incoming.next().await.unwrap().is_ok());
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl UnixIncoming<'_> {
    /// The next accepted connection; never `None`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`UnixListener::accept`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-unx-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let stream = listener.incoming().next().await.unwrap().unwrap();
    ///     assert!(stream.peer_addr().is_ok());
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub async fn next(&mut self) -> Option<io::Result<UnixStream>> {
        Some(self.listener.accept().await.map(|(stream, _)| stream))
    }
}

/// A Unix-domain stream connection, registered with the current runtime.
///
/// Reads and writes go through [`AsyncRead`] and [`AsyncWrite`] with `std::io::Error` as the
/// error type, as for [`TcpStream`](crate::net::TcpStream).
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::UnixStream;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over").await.unwrap();
///     let mut buf = [0u8; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"over");
/// });
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no socket file, `ConnectionRefused` if nothing listens on it, and
    /// an `io::Error` outside a runtime or when its IO table is full.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("ebbtide-doc-uc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sock");
    /// let _ = std::fs::remove_file(&path);
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let _listener = UnixListener::bind(&path).unwrap();
    ///     let stream = UnixStream::connect(&path).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        poll_fn(|cx| {
            stream.io.poll_connected(cx, |stream| {
                if let Some(e) = stream.take_error()? {
                    return Err(e);
                }
                match stream.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
        Ok(stream)
    }

    /// Two connected streams (`socketpair(2)`), both registered with the current runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
    /// use ebbtide_std::net::UnixStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut a, mut b) = UnixStream::pair().unwrap();
    ///     b.write_all(b"back").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     a.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"back");
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Registers a connected std stream with the current runtime, setting it to non-blocking
    /// mode.
    ///
    /// # Errors
    ///
    /// If setting non-blocking mode fails, outside a runtime, or when its IO table is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     let a = UnixStream::from_std(a).unwrap();
    ///     assert!(a.peer_addr().is_ok());
    /// });
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// The local address (usually unnamed for a connecting socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address (the listener's path for a connected socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UnixStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncReadExt;
    /// use ebbtide_std::net::UnixStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Write).unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl ErrorType for UnixStream {
    type Error = io::Error;
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    /// One `recv(2)` straight into `buf`: nothing is zeroed first.
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }
}

impl std::os::fd::AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
