//! TCP over WASI preview 1: sockets the host opened for the program.
//!
//! A preview 1 program cannot create, bind or connect a socket: the only socket calls are
//! `sock_accept`, `sock_recv`, `sock_send` and `sock_shutdown`. A server gets its listening
//! socket from the host, which *preopens* it as a file descriptor (3, 4, ...):
//!
//! ```text
//! wasmtime run -S preview2=n -S tcplisten=127.0.0.1:7000 --env LISTEN_FDS=1 server.wasm
//! ```
//!
//! [`TcpListener::from_preopened`] finds it; [`TcpListener::accept`] gives [`TcpStream`]s that
//! implement ebbtide's [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite).
//!
//! # Hosts
//!
//! Waiting for a socket needs a host whose `poll_oneoff` accepts socket fds: wasmtime 46 (and
//! older) with its legacy preview 1 host (`-S preview2=n`). The default host of current wasmtime
//! answers `BADF` for the whole `poll_oneoff` call when a socket is subscribed; the runtime
//! turns that into [`Error::HostCannotPollSockets`](crate::Error::HostCannotPollSockets), whose
//! message names the flags above, instead of hanging. wasmtime 47 and later have no preview 1
//! sockets at all (`-S tcplisten` is refused).
//!
//! # Differences from ebbtide-std
//!
//! - [`TcpListener::bind`] and [`TcpStream::connect`] exist so that portable code compiles, but
//!   always fail with `ErrorKind::Unsupported` and a message that says what to do instead.
//! - [`TcpListener::accept`] gives `Option<SocketAddr>` as the peer: always `None`, the host does
//!   not tell a preview 1 program who connected.
//! - No `local_addr`, `peer_addr`, socket options, or split halves.

mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::TcpStream;
