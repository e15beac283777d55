//! A TCP proxy: every connection accepted on `--listen` is joined to a new connection to
//! `--upstream`, and bytes flow both ways at once until both sides are done.
//!
//! ```text
//! proxy --listen 127.0.0.1:8080 --upstream 127.0.0.1:80 [--connect-timeout 5000]
//! ```
//!
//! - One task per client ([`crate::serve::accept_loop`]): a full task pool refuses that client
//!   and keeps serving the others; accept errors back off.
//! - Both directions are copied concurrently by
//!   [`copy_bidirectional`], each through its own buffer.
//! - Half-close is forwarded: when the client shuts its write side, the proxy shuts its write
//!   side towards the upstream (which reads end of stream) while the upstream's replies keep
//!   flowing back, and the other way round.
//! - An upstream that refuses, resets, or does not answer within the connect timeout closes the
//!   client's connection: the client reads end of stream (or a reset), it never hangs.
//!
//! Memory: each task sits in a slot of the runtime's fixed pool; its two copy buffers
//! ([`BUFFER_SIZE`] bytes each) are allocated once per connection.
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use ebbtide_examples::proxy::{self, Config};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     // An upstream that says hello.
//!     let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let upstream_addr = upstream.local_addr().unwrap();
//!     ebbtide_std::spawn(async move {
//!         let (mut conn, _) = upstream.accept().await.unwrap();
//!         conn.write_all(b"hello").await.unwrap();
//!     })
//!     .unwrap();
//!
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let proxy_addr = listener.local_addr().unwrap();
//!     let config = Config::new(proxy_addr, upstream_addr);
//!     ebbtide_std::spawn(proxy::run(listener, config)).unwrap();
//!
//!     let mut client = TcpStream::connect(proxy_addr).await.unwrap();
//!     let mut reply = [0u8; 5];
//!     client.read_exact(&mut reply).await.unwrap();
//!     assert_eq!(&reply, b"hello");
//! });
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use ebbtide_std::io::copy_bidirectional;
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{timeout, Duration};

use crate::cli::{Flags, Parsed};
use crate::serve::accept_loop;

/// The proxy's `--help`.
pub const USAGE: &str = "\
Usage: proxy --listen HOST:PORT --upstream HOST:PORT [--connect-timeout MS]
             [--workers N]

A TCP proxy: joins every client that connects to --listen to a new connection to
--upstream and copies bytes both ways until both sides have finished. A client's
write shutdown is passed on to the upstream (and the other way round); a client
whose upstream refuses, resets or does not answer in time is disconnected.

Options:
  --listen HOST:PORT      where to accept clients
  --upstream HOST:PORT    where to forward them
  --connect-timeout MS    give up connecting to the upstream after MS ms (default 5000)
  --workers N             serve on N worker threads (default: every CPU), each with a
                          listener of its own on --listen (SO_REUSEPORT): the
                          kernel spreads clients over them
  -h, --help              print this help
";

/// How long a connection to the upstream may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The size of each of a connection's two copy buffers.
pub const BUFFER_SIZE: usize = 16 * 1024;

/// What the proxy does: from its command line, or built in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// Where they are forwarded.
    pub upstream: SocketAddr,
    /// How long connecting to the upstream may take.
    pub connect_timeout: Duration,
    /// How many worker threads serve (`--workers`; every CPU by default, see
    /// [`default_workers`](crate::cli::default_workers)), each accepting on a
    /// `SO_REUSEPORT` listener of its own ([`crate::serve::bind_on_workers`]). Read by the
    /// `proxy` binary; [`run`] serves the one listener it is given.
    pub workers: usize,
}

impl Config {
    /// A proxy from `listen` to `upstream` with the default connect timeout, on one worker.
    pub fn new(listen: SocketAddr, upstream: SocketAddr) -> Config {
        Config {
            listen,
            upstream,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            workers: 1,
        }
    }

    /// Parses the command line (without the program name).
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help`; [`Parsed::Error`] for a bad or missing flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_examples::proxy::Config;
    /// use ebbtide_std::time::Duration;
    ///
    /// let args = "--listen 127.0.0.1:1 --upstream 127.0.0.1:2 --connect-timeout 250";
    /// let config = Config::from_args(args.split(' ').map(String::from)).unwrap();
    /// assert_eq!(config.upstream, "127.0.0.1:2".parse().unwrap());
    /// assert_eq!(config.connect_timeout, Duration::from_millis(250));
    /// assert_eq!(config.workers, ebbtide_examples::cli::default_workers());
    /// ```
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, Parsed> {
        let mut flags = Flags::new(args);
        let (mut listen, mut upstream) = (None, None);
        let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
        let mut workers = crate::cli::default_workers();
        while let Some(flag) = flags.next_flag()? {
            match flag.as_str() {
                "--listen" => listen = Some(flags.addr(&flag)?),
                "--upstream" => upstream = Some(flags.addr(&flag)?),
                "--connect-timeout" => connect_timeout = flags.millis(&flag)?,
                "--workers" => workers = flags.count(&flag)?,
                _ => return Err(Parsed::Error(format!("unknown option `{flag}`"))),
            }
        }
        match (listen, upstream) {
            (Some(listen), Some(upstream)) => Ok(Config {
                listen,
                upstream,
                connect_timeout,
                workers,
            }),
            (None, _) => Err(Parsed::Error("--listen is required".into())),
            (_, None) => Err(Parsed::Error("--upstream is required".into())),
        }
    }
}

/// Serves clients accepted on `listener` (bound to `config.listen` or anywhere else) forever.
///
/// # Cancel safety
///
/// Dropping the future stops accepting; connections already proxied go on in their own tasks.
pub async fn run(listener: TcpListener, config: Config) -> Infallible {
    accept_loop(&listener, "proxy", move |client, peer| async move {
        if let Err(error) = proxy_connection(client, config.upstream, config.connect_timeout).await
        {
            eprintln!("proxy: {peer}: {error}");
        }
    })
    .await
}

/// Proxies one client: connects to `upstream` (giving up after `connect_timeout`), then copies
/// both ways until both directions have ended; returns the bytes copied `(up, down)`.
///
/// The client's connection is closed (dropped) when this returns, whatever the outcome.
///
/// # Errors
///
/// The upstream connection's error ([`io::ErrorKind::TimedOut`] for the timeout), or the first
/// error of either direction.
pub async fn proxy_connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    connect_timeout: Duration,
) -> io::Result<(u64, u64)> {
    let mut upstream = connect_upstream(TcpStream::connect(upstream), connect_timeout).await?;
    // Proxied bytes should not wait for more (Nagle): the endpoints chose their write sizes.
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let mut buffers = vec![0u8; 2 * BUFFER_SIZE];
    let (up, down) = buffers.split_at_mut(BUFFER_SIZE);
    let counts = copy_bidirectional(&mut client, &mut upstream, up, down).await?;
    Ok(counts)
}

/// Awaits `connect`, giving up after `limit` with [`io::ErrorKind::TimedOut`].
///
/// The seam where the connect timeout lives, apart from any socket, so it can be tested with a
/// connection attempt that never finishes.
///
/// # Errors
///
/// `connect`'s own error, or `TimedOut`.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::proxy::connect_upstream;
/// use ebbtide_std::time::Duration;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let never = std::future::pending::<std::io::Result<()>>();
///     let error = connect_upstream(never, Duration::from_millis(10)).await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
pub async fn connect_upstream<S>(
    connect: impl Future<Output = io::Result<S>>,
    limit: Duration,
) -> io::Result<S> {
    match timeout(limit, connect).await {
        Ok(result) => result,
        Err(_elapsed) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the upstream did not accept within {} ms",
                limit.as_millis()
            ),
        )),
    }
}
