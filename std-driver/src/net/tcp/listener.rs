//! A TCP socket that accepts connections.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use crate::io::{Interest, PollEvented};
use crate::net::{TcpSocket, TcpStream};

use crate::reactor::Direction;

/// A TCP socket listening for connections, registered with the current runtime.
///
/// # Errors from `accept`, and backing off
///
/// [`accept`](TcpListener::accept) reports every error the OS gives, as a value: running out of
/// file descriptors (`EMFILE`/`ENFILE`: look at `raw_os_error()`, std gives them no stable
/// `ErrorKind`), out of memory (`ENOBUFS`), a connection that was reset before it was accepted
/// (`ECONNABORTED`), or the runtime's own IO table being full. Nothing panics and nothing
/// retries behind your back. The pending connection stays in the kernel's queue, so accepting again at
/// once would fail again at once: a server should log the error, **sleep a little**, and accept
/// again, rather than loop hot or exit. A connection reset before it was accepted
/// (`ErrorKind::ConnectionAborted`) concerns that connection only and can be retried at once.
///
/// ```
/// use ebbtide_std::net::TcpListener;
/// use ebbtide_std::time::{sleep, Duration};
///
/// async fn serve(listener: TcpListener) {
///     loop {
///         match listener.accept().await {
///             Ok((stream, _peer)) => {
///                 // Hand `stream` to a task; here it is just closed.
///                 drop(stream);
///             }
///             Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
///             Err(e) => {
///                 eprintln!("accept failed: {e}; backing off");
///                 sleep(Duration::from_millis(100)).await;
///             }
///         }
///     }
/// }
/// # let _ = serve;
/// ```
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = TcpStream::connect(addr).await.unwrap();
///     let (_server_side, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
/// });
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// The backlog of [`bind`](TcpListener::bind) and
    /// [`bind_reuseport`](TcpListener::bind_reuseport): how many connections that finished
    /// their handshake may wait in the kernel's queue for an `accept`, 1,024 as in Tokio's
    /// `TcpListener::bind`. The OS caps it (Linux: `net.core.somaxconn`, 4,096 since 5.4).
    /// When the queue is full, Linux drops new connections' SYNs, and each such client retries
    /// only a second later: a server that takes bursts of connections wants a long queue.
    /// Choose another with [`bind_with_backlog`](TcpListener::bind_with_backlog) or
    /// [`TcpSocket::listen`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ebbtide_std::net::TcpListener::DEFAULT_BACKLOG, 1024);
    /// ```
    pub const DEFAULT_BACKLOG: u32 = 1024;

    /// Binds a listener to `addr` (port 0 picks a free port), trying each address `addr`
    /// resolves to until one binds. The socket has `SO_REUSEADDR` set and listens with a
    /// backlog of [`DEFAULT_BACKLOG`](TcpListener::DEFAULT_BACKLOG) (1,024, as Tokio's); choose
    /// another with [`bind_with_backlog`](TcpListener::bind_with_backlog).
    ///
    /// # Errors
    ///
    /// The OS's error if no address binds (`AddrInUse`, `AddrNotAvailable`, ...), and an
    /// `io::Error` outside a runtime or when the runtime's IO table is full.
    ///
    /// # Cancel safety
    ///
    /// Binding completes in its first poll; dropping the future before that binds nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        // Not mio's `bind`: it listens with a backlog of 128.
        TcpListener::bind_with_backlog(addr, TcpListener::DEFAULT_BACKLOG).await
    }

    /// Binds a listener to `addr` as [`bind`](TcpListener::bind) does, with `SO_REUSEPORT` set
    /// as well as `SO_REUSEADDR` (backlog 1,024): every worker of a runtime can then bind its own
    /// listener to the same address, and the kernel spreads connections over them. See [A
    /// listener on every worker](crate::net::TcpSocket#a-listener-on-every-worker); for other
    /// options, use a [`TcpSocket`](crate::net::TcpSocket).
    ///
    /// With port 0 the OS picks a free port, a different one for each call: bind the first
    /// listener, read its [`local_addr`](TcpListener::local_addr), and bind the others to that
    /// exact address.
    ///
    /// # Errors
    ///
    /// As for [`bind`](TcpListener::bind); also `AddrInUse` when a socket without
    /// `SO_REUSEPORT` (or of another user) holds the address, and `Unsupported` on an OS without
    /// the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let first = TcpListener::bind_reuseport("127.0.0.1:0").await.unwrap();
    ///     let addr = first.local_addr().unwrap();
    ///     let second = TcpListener::bind_reuseport(addr).await.unwrap();
    ///     assert_eq!(second.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn bind_reuseport(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        crate::net::each_addr(addr, |addr| {
            let socket = TcpSocket::new_for(&addr)?;
            socket.set_reuseaddr(true)?;
            socket.set_reuseport(true)?;
            socket.bind(addr)?;
            socket.listen(TcpListener::DEFAULT_BACKLOG)
        })
    }

    /// Binds a listener to `addr` as [`bind`](TcpListener::bind) does (`SO_REUSEADDR`, each
    /// address `addr` resolves to in turn), listening with a backlog of `backlog` connections
    /// instead of [`DEFAULT_BACKLOG`](TcpListener::DEFAULT_BACKLOG). The OS caps it (Linux:
    /// `net.core.somaxconn`) and may round it (Linux queues one more than asked). For other
    /// socket options, use a [`TcpSocket`](crate::net::TcpSocket).
    ///
    /// # Errors
    ///
    /// As for [`bind`](TcpListener::bind).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 4096).await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind_with_backlog(
        addr: impl ToSocketAddrs,
        backlog: u32,
    ) -> io::Result<TcpListener> {
        crate::net::each_addr(addr, |addr| {
            let socket = TcpSocket::new_for(&addr)?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(backlog)
        })
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Registers a listener made with std (or `socket2`, after `into()`), so that socket options
    /// std does not offer can be set first.
    ///
    /// The listener must already be in non-blocking mode (`set_nonblocking(true)`): a blocking
    /// one would block the runtime's thread in `accept`. This function sets it, to be safe.
    ///
    /// # Errors
    ///
    /// If setting non-blocking mode fails, outside a runtime, or when the runtime's IO table is
    /// full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = TcpListener::from_std(std_listener).unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters the listener and returns it as a std listener, still in non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let std_listener = listener.into_std().unwrap();
    ///     assert_eq!(std_listener.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner()?.into())
    }

    /// Accepts a connection: the new stream, registered with the current runtime, and the
    /// peer's address.
    ///
    /// # Errors
    ///
    /// Every error of `accept(2)` as a value, and an `io::Error` when the runtime's IO table is
    /// full (the connection is then closed). Errors such as `EMFILE` repeat until the cause goes
    /// away: back off before accepting again (see [the type's docs](TcpListener)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped (in a `select!`), no connection was taken from the
    /// queue; the next `accept` gets it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (stream, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), peer);
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: `Ready` with the stream (or the error), or `Pending` with the
    /// task's waker registered to be woken when a connection may be waiting.
    ///
    /// Only the waker of the latest call is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_stream, peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    ///     assert!(peer.ip().is_loopback());
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = match self.io.poll_io(cx, Direction::Read, |l| l.accept()) {
            Poll::Ready(Ok(accepted)) => accepted,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, peer)))
    }

    /// A stream-like view that yields each accepted connection: `incoming.next().await` is
    /// `Some(accept result)`, forever.
    ///
    /// Errors come through as items, exactly as from [`accept`](TcpListener::accept); back off
    /// after one (see [the type's docs](TcpListener)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let _a = TcpStream::connect(addr).await.unwrap();
    ///     let _b = TcpStream::connect(addr).await.unwrap();
    ///     let mut incoming = listener.incoming();
    ///     let mut accepted = 0;
    ///     while let Some(stream) = incoming.next().await {
    ///         stream.unwrap();
    ///         accepted += 1;
    ///         if accepted == 2 {
    ///             break;
    ///         }
    ///     }
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the `IP_TTL` option of the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     listener.set_ttl(60).unwrap();
    ///     assert_eq!(listener.ttl().unwrap(), 60);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option of the socket; see [`set_ttl`](TcpListener::set_ttl).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpListener;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// The connections a [`TcpListener`] accepts, one per [`next`](Incoming::next); made by
/// [`TcpListener::incoming`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let mut incoming = listener.incoming();
///     assert!(incoming.next().await.unwrap().is_ok());
/// });
/// ```
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Incoming<'_> {
    /// The next accepted connection; never `None` (the `Option` is there so that
    /// `while let Some(..)` reads like a stream).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`TcpListener::accept`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let stream = listener.incoming().next().await.unwrap().unwrap();
    ///     assert!(stream.peer_addr().is_ok());
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().await.map(|(stream, _)| stream))
    }

    /// Polls for the next connection, like a `Stream`'s `poll_next`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut incoming = listener.incoming();
    ///     let stream = poll_fn(|cx| incoming.poll_next(cx)).await.unwrap();
    ///     assert!(stream.is_ok());
    /// });
    /// ```
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<TcpStream>>> {
        self.listener
            .poll_accept(cx)
            .map(|result| Some(result.map(|(stream, _)| stream)))
    }
}
