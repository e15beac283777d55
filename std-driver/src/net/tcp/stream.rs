//! A TCP connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::io::{AsyncRead, AsyncWrite, ErrorType, Interest, PollEvented};
use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::time::{timeout, Duration};

/// A TCP connection, registered with the current runtime.
///
/// Reading and writing go through [`AsyncRead`] and [`AsyncWrite`] (bring
/// [`AsyncReadExt`](crate::io::AsyncReadExt) and [`AsyncWriteExt`](crate::io::AsyncWriteExt)
/// into scope for `read`, `write_all`, ...). The error type is `std::io::Error`: a peer that
/// resets the connection gives `ErrorKind::ConnectionReset`; once the peer has closed its side,
/// every read returns `Ok(0)`.
///
/// Nothing is buffered: a write that does not fit in the kernel's send buffer is `Pending` until
/// the peer reads, so a peer that never reads holds a writer at a bounded cost.
///
/// Dropping the stream deregisters it and closes the socket.
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
///     client.write_all(b"ping").await.unwrap();
///     let mut buf = [0u8; 4];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in turn.
    ///
    /// The connect is non-blocking: the task waits until the socket turns writable, then the
    /// socket's pending error says whether the connection was made.
    ///
    /// # Errors
    ///
    /// `ErrorKind::ConnectionRefused` when nothing listens at the address (reported as soon as
    /// the peer's reset arrives), other OS errors as they come, and an `io::Error` outside a
    /// runtime or when its IO table is full. There is no timeout: an unreachable host can take
    /// minutes to fail; use [`connect_timeout`](TcpStream::connect_timeout).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt and closes the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
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

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?
            .connected()
            .await
    }

    /// Registers `stream`, a non-blocking socket whose `connect` is under way (or done), and
    /// waits until the connection is made or has failed ([`TcpSocket::connect`](crate::net::TcpSocket::connect)).
    pub(crate) async fn connecting(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))?
            .connected()
            .await
    }

    async fn connected(self) -> io::Result<TcpStream> {
        poll_fn(|cx| self.io.poll_connected(cx, connect_state)).await?;
        Ok(self)
    }

    /// [`connect`](TcpStream::connect), giving up after `limit` with `ErrorKind::TimedOut`.
    ///
    /// Built on [`time::timeout`](crate::time::timeout); `limit` covers resolving `addr` and
    /// trying every address it resolves to, together.
    ///
    /// # Cancel safety
    ///
    /// Like [`connect`](TcpStream::connect): dropping the future abandons the attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    /// use ebbtide_std::time::Duration;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect_timeout(addr, Duration::from_secs(5)).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn connect_timeout(
        addr: impl ToSocketAddrs,
        limit: impl Into<Duration>,
    ) -> io::Result<TcpStream> {
        match timeout(limit.into(), TcpStream::connect(addr)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connecting timed out",
            )),
        }
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Registers a connected std stream with the current runtime (for a socket built with
    /// options std does not offer). Sets it to non-blocking mode, which the runtime needs.
    ///
    /// # Errors
    ///
    /// If setting non-blocking mode fails, outside a runtime, or when its IO table is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpStream;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let stream = TcpStream::from_std(std_stream).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the stream and returns it as a std stream, still in non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let peer = stream.peer_addr().unwrap();
    ///     let std_stream = stream.into_std().unwrap();
    ///     assert_eq!(std_stream.peer_addr().unwrap(), peer);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner()?.into())
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
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
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
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the read half, the write half, or both (like `std::net::TcpStream::shutdown`).
    ///
    /// After `Shutdown::Write` the peer reads end of stream, and this side can still read what
    /// the peer sends. (This inherent method takes the direction; the async
    /// [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown), which shuts the write
    /// half, is reachable as `AsyncWriteExt::shutdown(&mut stream)`.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown(Shutdown::Write).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(server.read(&mut buf).await.unwrap(), 0); // end of stream
    ///     server.write_all(b"still").await.unwrap(); // the other way still works
    ///     assert_eq!(client.read(&mut buf).await.unwrap(), 5);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sends `count` bytes of `file` from `offset` (its own position is neither used nor moved),
    /// waiting whenever the socket's send buffer is full. Returns how many bytes were sent:
    /// `count`, or fewer if the file ends first (it is shorter than asked, or shrank meanwhile).
    ///
    /// On Linux and Android this is `sendfile(2)`: the kernel moves the bytes from the page
    /// cache to the socket, none are copied through user space. Elsewhere each step reads up to
    /// 16 KiB with `pread(2)` into a buffer on the stack and writes them. Either way the reads
    /// run on the runtime's thread, not the blocking pool: for a file on a disk, they wait for it
    /// when the bytes are not cached yet (as nginx's `sendfile` does).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, some of the bytes may have been sent, and how
    /// many is lost.
    ///
    /// # Errors
    ///
    /// The socket's errors (a peer that reset: `ConnectionReset`, `BrokenPipe`) and the file's
    /// (`file` not open for reading, or not a regular file on Linux: `InvalidInput`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncReadExt;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-sendfile-{}", std::process::id()));
    ///     std::fs::write(&path, b"hello, file").unwrap();
    ///     let file = std::fs::File::open(&path).unwrap();
    ///
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     // Bytes 7 to 10, then more than the file holds past 7: only its last 4 bytes.
    ///     assert_eq!(server.send_file(&file, 7, 4).await.unwrap(), 4);
    ///     assert_eq!(server.send_file(&file, 7, 100).await.unwrap(), 4);
    ///     drop(server);
    ///     let mut got = Vec::new();
    ///     client.read_to_end(&mut got).await.unwrap();
    ///     assert_eq!(got, b"filefile");
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn send_file(
        &mut self,
        file: &impl std::os::fd::AsFd,
        offset: u64,
        count: u64,
    ) -> io::Result<u64> {
        let file = file.as_fd();
        let mut sent = 0;
        while sent < count {
            let step =
                poll_fn(|cx| self.poll_send_file(cx, file, offset + sent, count - sent)).await?;
            if step == 0 {
                break;
            }
            sent += step as u64;
        }
        Ok(sent)
    }

    /// Sends all of `header`, then `count` bytes of `file` from `offset`, like
    /// [`send_file`](TcpStream::send_file) (which see), but so that the header and the file's
    /// first bytes share packets: on Linux the header is sent with `MSG_MORE`, as nginx's
    /// `tcp_nopush` does for a response head, instead of going out alone (with `TCP_NODELAY`
    /// set, a small head would). Returns how many bytes *of the file* were sent.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, some of the bytes may have been sent.
    ///
    /// # Errors
    ///
    /// As [`send_file`](TcpStream::send_file)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncReadExt;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-sendhead-{}", std::process::id()));
    ///     std::fs::write(&path, b"body").unwrap();
    ///     let file = std::fs::File::open(&path).unwrap();
    ///
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     server.set_nodelay(true).unwrap();
    ///     let sent = server.send_file_with_header(b"head:", &file, 0, 4).await.unwrap();
    ///     assert_eq!(sent, 4);
    ///     drop(server);
    ///     let mut got = Vec::new();
    ///     client.read_to_end(&mut got).await.unwrap();
    ///     assert_eq!(got, b"head:body");
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn send_file_with_header(
        &mut self,
        header: &[u8],
        file: &impl std::os::fd::AsFd,
        offset: u64,
        count: u64,
    ) -> io::Result<u64> {
        use std::os::fd::AsFd;
        let mut written = 0;
        while written < header.len() {
            let rest = &header[written..];
            let n = if count == 0 {
                // Nothing follows: nothing to wait for.
                poll_fn(|cx| self.io.poll_write(cx, rest)).await?
            } else {
                poll_fn(|cx| {
                    self.io
                        .poll_transfer(cx, crate::reactor::Direction::Write, rest.len(), |io| {
                            // Through mio's `try_io`, so that its poll(2) backend re-arms the
                            // socket after a `WouldBlock` it did not see (a raw `send`).
                            io.try_io(|| crate::sys::sendfile::send_more(io.as_fd(), rest))
                        })
                })
                .await?
            };
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            written += n;
        }
        self.send_file(file, offset, count).await
    }

    /// One step of [`send_file`](TcpStream::send_file): sends some of the `count` bytes of
    /// `file` from `offset` once the socket is writable. `Ready(Ok(0))` when the file ends at
    /// `offset` (or `count` is `0`). For a loop of your own around the steps, such as a timeout
    /// for each (a client that stops reading) rather than one for the whole file.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::os::fd::AsFd;
    /// use ebbtide_std::io::AsyncReadExt;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    /// use ebbtide_std::time::{timeout, Duration};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-pollsend-{}", std::process::id()));
    ///     std::fs::write(&path, vec![7u8; 100_000]).unwrap();
    ///     let file = std::fs::File::open(&path).unwrap();
    ///
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let reader = ebbtide_std::spawn(async move {
    ///         let mut got = Vec::new();
    ///         client.read_to_end(&mut got).await.unwrap();
    ///         got.len()
    ///     })
    ///     .unwrap();
    ///     let mut sent = 0;
    ///     while sent < 100_000 {
    ///         let step = poll_fn(|cx| server.poll_send_file(cx, file.as_fd(), sent, 100_000 - sent));
    ///         match timeout(Duration::from_secs(5), step).await {
    ///             Ok(Ok(0)) => break, // the file ended
    ///             Ok(Ok(n)) => sent += n as u64,
    ///             Ok(Err(e)) => panic!("{e}"),
    ///             Err(_) => panic!("the client stopped reading"),
    ///         }
    ///     }
    ///     drop(server);
    ///     assert_eq!(reader.await.unwrap(), 100_000);
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn poll_send_file(
        &self,
        cx: &mut Context<'_>,
        file: std::os::fd::BorrowedFd<'_>,
        offset: u64,
        count: u64,
    ) -> Poll<io::Result<usize>> {
        self.poll_send_file_with(cx, file, offset, count, crate::sys::sendfile::send_file)
    }

    pub(crate) fn poll_send_file_with(
        &self,
        cx: &mut Context<'_>,
        file: std::os::fd::BorrowedFd<'_>,
        offset: u64,
        count: u64,
        send: fn(
            std::os::fd::BorrowedFd<'_>,
            std::os::fd::BorrowedFd<'_>,
            u64,
            usize,
        ) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        use std::os::fd::AsFd;
        let len = usize::try_from(count).unwrap_or(usize::MAX);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        // Not `poll_transfer`: a short `sendfile` does not prove the socket full (the file may
        // have ended), so only `WouldBlock` clears the readiness.
        // Through mio's `try_io`: its poll(2) backend re-arms the socket's interest only after a
        // `WouldBlock` it saw, and `sendfile` is a raw system call (without it, a full socket
        // there waited forever).
        self.io.poll_io(cx, crate::reactor::Direction::Write, |io| {
            io.try_io(|| send(io.as_fd(), file, offset, len))
        })
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them (Nagle).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set; see [`set_nodelay`](TcpStream::set_nodelay).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Borrows the stream as a read half and a write half, for reading and writing from two
    /// futures at once (in one task, with `join!`/`select!`). Allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::{copy, AsyncWriteExt};
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"echo").await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     // The server echoes from its read half into its write half until end of stream.
    ///     let (mut rx, mut tx) = server.split();
    ///     let mut buf = [0u8; 64];
    ///     assert_eq!(copy(&mut rx, &mut tx, &mut buf).await.unwrap(), 4);
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf::new(self), WriteHalf::new(self))
    }

    /// Splits the stream into owned halves, which can move to different tasks.
    ///
    /// The halves share the stream through an `Arc`: this **allocates once**, here (never per
    /// read or write). The socket closes when both halves are dropped;
    /// [`OwnedReadHalf::reunite`] puts the stream back together. Dropping the write half shuts
    /// down the write direction, so the peer sees end of stream.
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
    ///     let (mut rx, mut tx) = client.into_split();
    ///     let writer = ebbtide_std::spawn(async move { tx.write_all(b"hi").await.unwrap() })
    ///         .unwrap();
    ///     let mut buf = [0u8; 2];
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     server.write_all(b"yo").await.unwrap();
    ///     rx.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"yo");
    ///     writer.await.unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let shared = Arc::new(self);
        (
            OwnedReadHalf::new(Arc::clone(&shared)),
            OwnedWriteHalf::new(shared),
        )
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    pub(crate) fn poll_read_uninit_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    pub(crate) fn shutdown_write(&self) -> Poll<io::Result<()>> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            // The peer already went away: the write half is as shut as it gets.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }
}

/// Where a non-blocking connect stands once the socket turned writable.
fn connect_state(stream: &mio::net::TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

impl ErrorType for TcpStream {
    type Error = io::Error;
}

impl AsyncRead for TcpStream {
    /// Reads what the kernel has received, up to `buf.len()` bytes; `Ok(0)` at end of stream
    /// (and on every read after it).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    /// One `recv(2)` straight into `buf`: nothing is zeroed first.
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_uninit_priv(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    /// One `writev(2)` of up to 64 of the non-empty buffers.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to do: a TCP stream buffers nothing of its own.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write half (`shutdown(SHUT_WR)`): the peer reads end of stream.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdown_write()
    }
}

impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

#[cfg(test)]
mod send_file_tests {
    use std::future::poll_fn;
    use std::os::fd::AsFd;

    use crate::io::AsyncReadExt;
    use crate::net::{TcpListener, TcpStream};

    /// The portable path (`pread` and `write`) sends ranges byte for byte, and stops at the
    /// file's end, through a receiver that reads while the sender waits.
    #[test]
    fn the_copying_fallback_sends_ranges_and_stops_at_the_end() {
        let data: Vec<u8> = (0..=250).cycle().take(200_000).collect();
        let path =
            std::env::temp_dir().join(format!("ebbtide-sendfile-copying-{}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        crate::Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let sender = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut receiver, _) = listener.accept().await.unwrap();
            let reader = crate::spawn(async move {
                let mut got = Vec::new();
                receiver.read_to_end(&mut got).await.unwrap();
                got
            })
            .unwrap();
            let mut offset = 1000;
            let end = 250_000; // past the file's end
            loop {
                let n = poll_fn(|cx| {
                    sender.poll_send_file_with(
                        cx,
                        file.as_fd(),
                        offset,
                        end - offset,
                        crate::sys::sendfile::send_file_copying,
                    )
                })
                .await
                .unwrap();
                if n == 0 {
                    break;
                }
                offset += n as u64;
            }
            assert_eq!(offset, data.len() as u64);
            drop(sender);
            let got = reader.await.unwrap();
            assert!(got == data[1000..], "the bytes differ");
        });
    }
}
