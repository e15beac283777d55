//! A TCP socket configured before it becomes a listener or a connection.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use crate::net::{TcpListener, TcpStream};
use crate::sys;

/// A TCP socket that has not yet become a [`TcpListener`] or a [`TcpStream`]: set its options
/// (`SO_REUSEADDR`, `SO_REUSEPORT`, buffer sizes, ...), [`bind`](TcpSocket::bind) it, then
/// [`listen`](TcpSocket::listen) or [`connect`](TcpSocket::connect). Tokio's `TcpSocket`, on
/// `socket2`.
///
/// The socket is created non-blocking and close-on-exec, and registers with the runtime only
/// when it becomes a listener or a stream, on the worker that calls `listen` or `connect` (so a
/// `TcpSocket` itself may be made anywhere, also outside a runtime).
///
/// # Examples
///
/// A listener with options of its own, and a client bound to a chosen local address:
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::TcpSocket;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let socket = TcpSocket::new_v4().unwrap();
///     socket.set_reuseaddr(true).unwrap();
///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let listener = socket.listen(128).unwrap();
///     let addr = listener.local_addr().unwrap();
///
///     let client = TcpSocket::new_v4().unwrap();
///     client.set_nodelay(true).unwrap();
///     client.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let mut client = client.connect(addr).await.unwrap();
///     let (mut server, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     client.write_all(b"hi").await.unwrap();
///     let mut buf = [0u8; 2];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// ```
///
/// # A listener on every worker
///
/// On a runtime of several workers ([`Builder::worker_threads`](crate::Builder::worker_threads)),
/// a listener accepts only on the worker that made it. For thread-per-core serving, give each
/// worker a listener of its own on the same address, each with `SO_REUSEPORT`
/// ([`set_reuseport`](TcpSocket::set_reuseport), or [`TcpListener::bind_reuseport`] which also
/// sets `SO_REUSEADDR` and listens with a backlog of 1,024), and run an accept loop on each
/// worker ([`Handle::spawn_on`](crate::Handle::spawn_on)). On Linux the kernel then spreads
/// incoming connections over the listeners (by a hash of the connection's addresses and ports),
/// and each connection, accepted and spawned on its listener's worker, stays there: no
/// cross-thread hand-off per connection. (On macOS and the BSDs `SO_REUSEPORT` lets the
/// listeners share the address but does not balance TCP connections over them: one listener
/// gets them, so the pattern works there but does not spread the load.)
///
/// With port 0, each bind would pick a port of its own: bind the first listener, read its
/// [`local_addr`](TcpListener::local_addr), and bind the others to that exact address.
///
/// ```
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// /// Accepts on `listener` forever, one task per connection on this worker.
/// async fn serve(listener: TcpListener) {
///     loop {
///         let Ok((mut stream, _)) = listener.accept().await else { continue };
///         let _ = ebbtide_std::spawn(async move {
///             let mut buf = [0u8; 512];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// }
///
/// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
/// let handle = runtime.handle();
/// runtime.block_on(async {
///     // Worker 0 (this thread) binds first: port 0 picks the port every worker shares.
///     let first = TcpListener::bind_reuseport("127.0.0.1:0").await.unwrap();
///     let addr = first.local_addr().unwrap();
///     ebbtide_std::spawn(serve(first)).unwrap();
///     for worker in 1..handle.worker_count() {
///         // Bound on worker `worker`, so it accepts there.
///         let bound = handle
///             .spawn_on(worker, async move {
///                 let listener = TcpListener::bind_reuseport(addr).await?;
///                 ebbtide_std::spawn(serve(listener)).map_err(std::io::Error::other)?;
///                 Ok::<_, std::io::Error>(())
///             })
///             .unwrap();
///         bound.await.unwrap().unwrap();
///     }
///
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"ping").await.unwrap();
///     let mut reply = [0u8; 4];
///     client.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"ping");
/// });
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket, non-blocking, with no options set.
    ///
    /// # Errors
    ///
    /// The OS's error (out of file descriptors, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(socket.local_addr().unwrap().is_ipv4());
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket, non-blocking, with no options set.
    ///
    /// # Errors
    ///
    /// The OS's error (out of file descriptors, no IPv6 on this host, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// // A host without IPv6 refuses the socket.
    /// if let Ok(socket) = TcpSocket::new_v6() {
    ///     assert!(!socket.reuseaddr().unwrap());
    /// }
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    /// A new socket of `addr`'s family (IPv4 or IPv6).
    pub(crate) fn new_for(addr: &SocketAddr) -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::for_address(*addr))
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        // socket2 sets close-on-exec as it creates the socket.
        let inner = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_REUSEADDR`: the socket may bind an address that a closed connection still holds
    /// in `TIME_WAIT` (what a server restarting on its port needs).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_reuseaddr(true).unwrap();
    /// assert!(socket.reuseaddr().unwrap());
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set; see [`set_reuseaddr`](TcpSocket::set_reuseaddr).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().reuseaddr().unwrap());
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets with it set (by the same user) may bind the same
    /// address and port. On Linux the kernel spreads the connections to that port over the
    /// listening sockets: one listener per worker, see [A listener on every
    /// worker](TcpSocket#a-listener-on-every-worker).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Unsupported` on an OS without the option (Solaris, illumos).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_reuseport(true).unwrap();
    /// assert!(socket.reuseport().unwrap());
    /// ```
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        sys::socket::set_reuseport(&self.inner, reuseport)
    }

    /// Whether `SO_REUSEPORT` is set; see [`set_reuseport`](TcpSocket::set_reuseport).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().reuseport().unwrap());
    /// ```
    pub fn reuseport(&self) -> io::Result<bool> {
        sys::socket::reuseport(&self.inner)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes); a stream made by
    /// [`connect`](TcpSocket::connect) keeps it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_nodelay(true).unwrap();
    /// assert!(socket.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set; see [`set_nodelay`](TcpSocket::set_nodelay).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().nodelay().unwrap());
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets `SO_KEEPALIVE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_keepalive(true).unwrap();
    /// assert!(socket.keepalive().unwrap());
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().keepalive().unwrap());
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_SNDBUF`, the size of the kernel's send buffer (the OS may round it: Linux
    /// doubles it and applies a minimum).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_send_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The size of the kernel's send buffer (`SO_SNDBUF`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(TcpSocket::new_v4().unwrap().send_buffer_size().unwrap() > 0);
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer (the OS may round it).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_recv_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The size of the kernel's receive buffer (`SO_RCVBUF`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// assert!(TcpSocket::new_v4().unwrap().recv_buffer_size().unwrap() > 0);
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Binds the socket to `addr` (port 0 picks a free port; read it with
    /// [`local_addr`](TcpSocket::local_addr)).
    ///
    /// # Errors
    ///
    /// The OS's error: `AddrInUse` (set [`set_reuseaddr`](TcpSocket::set_reuseaddr) or
    /// [`set_reuseport`](TcpSocket::set_reuseport) first to share or reuse an address),
    /// `AddrNotAvailable`, an address of the other family, ...
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The address the socket is bound to (`0.0.0.0:0` before [`bind`](TcpSocket::bind) for
    /// an IPv4 socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()?.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the socket's address is not an IP address",
            )
        })
    }

    /// Turns the bound socket into a listener, registered with the current runtime (the worker
    /// this runs on), with room for `backlog` connections waiting to be accepted (the OS caps it:
    /// `net.core.somaxconn` on Linux).
    ///
    /// # Errors
    ///
    /// The OS's error, and an `io::Error` outside a runtime or when the runtime's IO table is
    /// full. The socket is closed then.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpSocket, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = TcpSocket::new_v4().unwrap();
    ///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    ///     let listener = socket.listen(1024).unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(listener.accept().await.is_ok());
    /// });
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self.inner.listen(backlog)?;
        TcpListener::from_std(self.inner.into())
    }

    /// Connects the socket to `addr` and returns the stream, registered with the current
    /// runtime (the worker this runs on). Options set on the socket (`TCP_NODELAY`, buffer
    /// sizes, a bound local address) carry over.
    ///
    /// # Errors
    ///
    /// As for [`TcpStream::connect`]: `ConnectionRefused` when nothing listens there, other OS
    /// errors as they come, an `io::Error` outside a runtime or when its IO table is full.
    /// There is no timeout: wrap the future in [`time::timeout`](crate::time::timeout).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt and closes the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::{TcpListener, TcpSocket};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpSocket::new_v4().unwrap().connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        sys::socket::start_connect(&self.inner, &addr.into())?;
        TcpStream::connecting(self.inner.into()).await
    }

    /// Takes a std stream's socket as a `TcpSocket` (to read or change its options; it is
    /// already connected, so [`connect`](TcpSocket::connect) fails on it). Sets non-blocking
    /// mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::TcpSocket;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let socket = TcpSocket::from_std_stream(stream);
    /// socket.set_nodelay(true).unwrap();
    /// assert!(socket.nodelay().unwrap());
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Only fails on a closed fd, which an owned stream never is; `listen` and `connect`
        // set it again through the registration paths anyway.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("fd", &self.inner.as_raw_fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    /// Takes an owned TCP socket's fd (which the caller guarantees is one), setting
    /// non-blocking mode.
    fn from(fd: OwnedFd) -> TcpSocket {
        let inner = Socket::from(fd);
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    ///
    /// `fd` must be an open TCP socket that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller's guarantee, passed on.
        TcpSocket::from(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}
