//! UDP sockets.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use crate::io::{Interest, PollEvented};
use crate::reactor::Direction;

/// A UDP socket, registered with the current runtime.
///
/// Sends and receives take `&self`, so one socket can serve several tasks (share it with an
/// `Arc` or a `'static` reference). A datagram longer than the buffer given to a receive is cut
/// to the buffer's length, as the OS does.
///
/// # Examples
///
/// ```
/// use ebbtide_std::net::UdpSocket;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port), trying each address it resolves to.
    ///
    /// # Errors
    ///
    /// The OS's error if no address binds, and an `io::Error` outside a runtime or when its IO
    /// table is full.
    ///
    /// # Cancel safety
    ///
    /// Binding completes in its first poll; dropping the future before that binds nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = crate::net::each_addr(addr, mio::net::UdpSocket::bind)?;
        UdpSocket::from_mio(socket)
    }

    /// Binds a socket to `addr` as [`bind`](UdpSocket::bind) does, with `SO_REUSEPORT` (and
    /// `SO_REUSEADDR`) set: every worker of a runtime can then bind a socket of its own to the
    /// same address. On Linux the kernel spreads incoming datagrams over the sockets by a hash of
    /// their source and destination, so each peer's datagrams go to one worker, and a server
    /// answers from the socket that received (the reply leaves from the shared address). On
    /// macOS and the BSDs the sockets share the address but one of them receives everything.
    ///
    /// With port 0 the OS picks a free port, a different one for each call: bind the first
    /// socket, read its [`local_addr`](UdpSocket::local_addr), and bind the others to that exact
    /// address.
    ///
    /// # Errors
    ///
    /// As for [`bind`](UdpSocket::bind); also `AddrInUse` when a socket without `SO_REUSEPORT`
    /// (or of another user) holds the address, and `Unsupported` on an OS without the option.
    ///
    /// # Cancel safety
    ///
    /// Binding completes in its first poll; dropping the future before that binds nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let first = UdpSocket::bind_reuseport("127.0.0.1:0").await.unwrap();
    ///     let addr = first.local_addr().unwrap();
    ///     let second = UdpSocket::bind_reuseport(addr).await.unwrap();
    ///     assert_eq!(second.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn bind_reuseport(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = crate::net::each_addr(addr, |addr| {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )?;
            socket.set_reuse_address(true)?;
            crate::sys::socket::set_reuseport(&socket, true)?;
            socket.set_nonblocking(true)?;
            socket.bind(&addr.into())?;
            Ok(mio::net::UdpSocket::from_std(socket.into()))
        })?;
        UdpSocket::from_mio(socket)
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Registers a std socket with the current runtime, setting it to non-blocking mode.
    ///
    /// # Errors
    ///
    /// If setting non-blocking mode fails, outside a runtime, or when its IO table is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let socket = UdpSocket::from_std(std_socket).unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there, and only datagrams from it
    /// are received. Uses the first address `addr` resolves to.
    ///
    /// # Cancel safety
    ///
    /// Completes in its first poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.io.get_ref();
        crate::net::each_addr(addr, |addr| socket.connect(addr))
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotConnected` without [`connect`](UdpSocket::connect); `ConnectionRefused` may report
    /// an ICMP "port unreachable" that an earlier datagram caused.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, nothing was sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.send(b"hello").await.unwrap(), 5);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Polls to send `buf` to the connected peer; see [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"me")).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; returns its length (cut to
    /// `buf.len()`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Polls to receive one datagram from the connected peer; see [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"me").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(poll_fn(|cx| a.poll_recv(cx, &mut buf)).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Read, |socket| socket.recv(buf))
    }

    /// Sends `buf` as one datagram to `target` (the first address it resolves to); returns the
    /// bytes sent.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, nothing was sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(a.send_to(b"yo", b.local_addr().unwrap()).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = crate::net::first_addr(target)?;
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls to send `buf` to `target`; see [`send_to`](UdpSocket::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let to = a.local_addr().unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"me", to)).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |socket| socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length (cut to `buf.len()`) and sender.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls to receive one datagram; see [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"me", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, _) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(n, 2);
    /// });
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |socket| socket.recv_from(buf))
    }

    /// The address the socket is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address; `NotConnected` without [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(socket.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may go to a broadcast address.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set; see [`set_broadcast`](UdpSocket::set_broadcast).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::net::UdpSocket;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }
}

impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
