//! The accept loop the proxy, echo and chat servers share: one task per connection, a refused
//! connection (not a stopped server) when the task pool is full, a growing sleep after accept
//! errors, and log lines for both at most once a second ([`LogThrottle`]).
//!
//! # Examples
//!
//! A server that greets each client and hangs up:
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use ebbtide_examples::serve::accept_loop;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     ebbtide_std::spawn(async move {
//!         accept_loop(&listener, "greeter", |mut stream, _peer| async move {
//!             let _ = stream.write_all(b"hi\n").await;
//!         })
//!         .await
//!     })
//!     .unwrap();
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     let mut greeting = [0u8; 3];
//!     client.read_exact(&mut greeting).await.unwrap();
//!     assert_eq!(&greeting, b"hi\n");
//! });
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use ebbtide_std::net::{TcpListener, TcpStream, UdpSocket};
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Handle;

/// The first sleep after an accept error.
pub const MIN_BACKOFF: Duration = Duration::from_millis(5);
/// The longest sleep after accept errors in a row (the sleep doubles up to this).
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// At most one log line per period, with the count of the lines left out since the last one
/// written: what keeps a flood of refused connections (or of accept errors) from flooding the
/// log too. The demos' accept loops keep one for refusals and one for accept errors, with a
/// period of [`LOG_PERIOD`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ebbtide_examples::serve::LogThrottle;
///
/// let mut throttle = LogThrottle::new(Duration::from_secs(1));
/// let start = Instant::now();
/// assert_eq!(throttle.allow(start), Some(0)); // the first line is written
/// for i in 1..=99 {
///     // 99 more within the second are left out, and counted...
///     assert_eq!(throttle.allow(start + Duration::from_millis(i * 10)), None);
/// }
/// // ... and the next line, a second after the last one written, says how many.
/// assert_eq!(throttle.allow(start + Duration::from_secs(1)), Some(99));
/// assert_eq!(throttle.allow(start + Duration::from_secs(3)), Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct LogThrottle {
    period: std::time::Duration,
    last: Option<std::time::Instant>,
    suppressed: u64,
}

/// The period of the demos' [`LogThrottle`]s: one line per second at most, for each kind of
/// event.
pub const LOG_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

impl LogThrottle {
    /// A throttle that lets one line through per `period`.
    pub const fn new(period: std::time::Duration) -> LogThrottle {
        LogThrottle {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// Whether to write a line for an event at `now`: `Some(n)`, with the `n` lines left out
    /// since the last one written (say so in the line), or `None` to leave this one out (it is
    /// counted).
    pub fn allow(&mut self, now: std::time::Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }

    /// [`allow`](LogThrottle::allow) now; if allowed, the text to add to the line: empty, or
    /// ` (N more not shown)`.
    pub fn allow_now(&mut self) -> Option<String> {
        self.allow(std::time::Instant::now()).map(|left_out| {
            if left_out == 0 {
                String::new()
            } else {
                format!(" ({left_out} more since the last line not shown)")
            }
        })
    }
}

/// Accepts connections on `listener` forever, running `handler(stream, peer)` as a task of its
/// own for each.
///
/// - When the runtime's task pool is full, the handler's future is dropped unspawned, which
///   closes that connection at once (the client reads end of stream); the loop goes on, and a
///   later connection is served as soon as a slot is free.
/// - An accept error (out of file descriptors, a connection reset while queued, ...) is logged
///   to stderr and followed by a sleep, [`MIN_BACKOFF`] doubling up to [`MAX_BACKOFF`] while
///   errors continue, so a server out of descriptors does not spin.
/// - Refusals and accept errors are each logged at most once per [`LOG_PERIOD`] (a
///   [`LogThrottle`]), with the count of those left out.
///
/// `name` prefixes the log lines. Never returns; drop the future to stop accepting.
///
/// # Cancel safety
///
/// Cancel safe: a connection is either handed to a task or not accepted yet.
pub async fn accept_loop<F, Fut>(listener: &TcpListener, name: &str, mut handler: F) -> Infallible
where
    F: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = MIN_BACKOFF;
    let mut refusals = LogThrottle::new(LOG_PERIOD);
    let mut errors = LogThrottle::new(LOG_PERIOD);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = MIN_BACKOFF;
                if let Err(error) = ebbtide_std::spawn(handler(stream, peer)) {
                    // The future, and the stream inside it, are dropped: the client is refused.
                    if let Some(more) = refusals.allow_now() {
                        eprintln!("{name}: refusing {peer}: {error}{more}");
                    }
                }
            }
            Err(error) => {
                if let Some(more) = errors.allow_now() {
                    eprintln!("{name}: accept failed ({error}); retrying in {backoff:?}{more}");
                }
                sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The other way to serve on several workers, kept to measure against [`bind_on_workers`]: one
/// listener, one accept loop (on the calling worker), and each connection handed to the next
/// of `workers` workers in turn. A connection bound for another worker leaves this worker's
/// reactor ([`TcpStream::into_std`]) and is registered again on its new worker
/// ([`TcpStream::from_std`], inside a task spawned there with [`Handle::spawn_on`]), so that its
/// readiness is that worker's business: two `epoll_ctl` calls and a cross-worker spawn per
/// connection, which the per-worker listeners of [`bind_on_workers`] do not pay. A connection
/// that cannot be moved or spawned is closed and logged, and the loop goes on.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::echo_service::echo_connection;
/// use ebbtide_examples::serve::hand_off_loop;
/// use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
/// use ebbtide_std::net::{TcpListener, TcpStream};
///
/// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
/// let handle = runtime.handle();
/// runtime.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     ebbtide_std::spawn(async move {
///         hand_off_loop(&listener, &handle, 2, "echo", |stream, _peer| async move {
///             let _ = echo_connection(stream).await;
///         })
///         .await
///     })
///     .unwrap();
///     for _ in 0..4 {
///         let mut client = TcpStream::connect(addr).await.unwrap();
///         client.write_all(b"hi").await.unwrap();
///         AsyncWriteExt::shutdown(&mut client).await.unwrap();
///         let mut echoed = Vec::new();
///         client.read_to_end(&mut echoed).await.unwrap();
///         assert_eq!(echoed, b"hi");
///     }
/// });
/// ```
pub async fn hand_off_loop<F, Fut>(
    listener: &TcpListener,
    handle: &Handle,
    workers: usize,
    name: &str,
    handler: F,
) -> Infallible
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let here = ebbtide_std::runtime::worker_index();
    let mut next = 0;
    let mut backoff = MIN_BACKOFF;
    let mut refusals = LogThrottle::new(LOG_PERIOD);
    let mut errors = LogThrottle::new(LOG_PERIOD);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                if let Some(more) = errors.allow_now() {
                    eprintln!("{name}: accept failed ({error}); retrying in {backoff:?}{more}");
                }
                sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = MIN_BACKOFF;
        let worker = next % workers.max(1);
        next += 1;
        let spawned = if Some(worker) == here {
            ebbtide_std::spawn(handler(stream, peer)).map(drop)
        } else {
            let moved = match stream.into_std() {
                Ok(moved) => moved,
                Err(error) => {
                    eprintln!("{name}: cannot hand {peer} over: {error}");
                    continue;
                }
            };
            let handler = handler.clone();
            handle
                .spawn_on(worker, async move {
                    match TcpStream::from_std(moved) {
                        Ok(stream) => handler(stream, peer).await,
                        Err(error) => eprintln!("{peer}: cannot register on its worker: {error}"),
                    }
                })
                .map(drop)
        };
        if let Err(error) = spawned {
            if let Some(more) = refusals.allow_now() {
                eprintln!("{name}: refusing {peer}: {error}{more}");
            }
        }
    }
}

/// Binds the listeners of a server on `workers` workers of `handle`'s runtime and returns
/// worker 0's, for the caller (on worker 0, inside `Runtime::block_on`) to serve.
///
/// With one worker this is [`TcpListener::bind`], as a one-thread server always did. With more,
/// every worker gets a listener of its own on the same address, each with `SO_REUSEPORT`
/// ([`TcpListener::bind_reuseport`]): worker 0's is bound first (so port 0 picks the port the
/// others then share), and on each of workers 1..n a task binds its listener and spawns
/// `serve(listener)` there. The kernel spreads connections over the listeners, and each
/// connection's task runs on the worker that accepted it.
///
/// # Errors
///
/// A listener that could not be bound, or a worker that refused the task.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::serve::bind_on_workers;
/// use ebbtide_examples::echo_service::serve_tcp;
/// use ebbtide_std::net::TcpStream;
///
/// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
/// let handle = runtime.handle();
/// runtime.block_on(async {
///     let addr = "127.0.0.1:0".parse().unwrap();
///     let listener = bind_on_workers(&handle, 2, addr, serve_tcp).await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     ebbtide_std::spawn(serve_tcp(listener)).unwrap();
///     TcpStream::connect(addr).await.unwrap();
/// });
/// ```
pub async fn bind_on_workers<F, Fut>(
    handle: &Handle,
    workers: usize,
    addr: SocketAddr,
    serve: F,
) -> io::Result<TcpListener>
where
    F: Fn(TcpListener) -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    if workers <= 1 {
        return TcpListener::bind(addr).await;
    }
    let first = TcpListener::bind_reuseport(addr).await?;
    let addr = first.local_addr()?;
    on_other_workers(handle, workers, addr, TcpListener::bind_reuseport, serve).await?;
    Ok(first)
}

/// [`bind_on_workers`] for UDP: binds a socket on each of `workers` workers of `handle`'s
/// runtime, all on one address with `SO_REUSEPORT` ([`UdpSocket::bind_reuseport`]), spawns
/// `serve(socket)` on workers 1..n, and returns worker 0's socket for the caller to serve. On
/// Linux the kernel spreads datagrams over the sockets by a hash of their addresses, so each
/// peer is served by one worker. With one worker this is [`UdpSocket::bind`].
///
/// # Errors
///
/// A socket that could not be bound, or a worker that refused the task.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::echo_service::serve_udp;
/// use ebbtide_examples::serve::bind_udp_on_workers;
/// use ebbtide_std::net::UdpSocket;
///
/// let runtime = ebbtide_std::Runtime::builder().worker_threads(2).build().unwrap();
/// let handle = runtime.handle();
/// runtime.block_on(async {
///     let addr = "127.0.0.1:0".parse().unwrap();
///     let socket = bind_udp_on_workers(&handle, 2, addr, serve_udp).await.unwrap();
///     let addr = socket.local_addr().unwrap();
///     ebbtide_std::spawn(serve_udp(socket)).unwrap();
///     let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     client.send_to(b"ping", addr).await.unwrap();
///     let mut buf = [0u8; 4];
///     let (n, from) = client.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], addr));
/// });
/// ```
pub async fn bind_udp_on_workers<F, Fut>(
    handle: &Handle,
    workers: usize,
    addr: SocketAddr,
    serve: F,
) -> io::Result<UdpSocket>
where
    F: Fn(UdpSocket) -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    if workers <= 1 {
        return UdpSocket::bind(addr).await;
    }
    let first = UdpSocket::bind_reuseport(addr).await?;
    let addr = first.local_addr()?;
    on_other_workers(handle, workers, addr, UdpSocket::bind_reuseport, serve).await?;
    Ok(first)
}

/// On each of workers 1..`workers` of `handle`'s runtime, in turn: binds a socket to `addr` with
/// `bind` and spawns `serve(socket)` there. The common part of [`bind_on_workers`] and
/// [`bind_udp_on_workers`], which bind worker 0's socket themselves.
async fn on_other_workers<S, B, BFut, F, Fut>(
    handle: &Handle,
    workers: usize,
    addr: SocketAddr,
    bind: B,
    serve: F,
) -> io::Result<()>
where
    S: Send + 'static,
    B: Fn(SocketAddr) -> BFut + Clone + Send + 'static,
    BFut: Future<Output = io::Result<S>> + Send,
    F: Fn(S) -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    for worker in 1..workers {
        let (bind, serve) = (bind.clone(), serve.clone());
        let bound = handle
            .spawn_on(worker, async move {
                let socket = bind(addr).await?;
                ebbtide_std::spawn(serve(socket)).map_err(io::Error::other)?;
                Ok::<(), io::Error>(())
            })
            .map_err(io::Error::other)?;
        bound
            .await
            .map_err(|error| io::Error::other(error.to_string()))??;
    }
    Ok(())
}
