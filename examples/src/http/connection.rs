//! One connection's task: read a request head, answer it, and again, within the limits of
//! [`Config`].
//!
//! # Deadlines
//!
//! ```text
//!  accept ──first byte ... head complete── answer ──(idle)── first byte ... head ── answer ...
//!  |<────── header_timeout ──────────>|             |<idle>|<── header_timeout ──>|
//! ```
//!
//! The first request's head must be complete within [`Config::header_timeout`] of the accept;
//! each later one within `header_timeout` of its first byte, which must come within
//! [`Config::idle_timeout`] of the previous answer. A client that runs out of either is
//! disconnected without an answer: that is what stops a slowloris client, which trickles a
//! header byte now and then to hold a connection forever. Only this connection's task waits; the
//! others are served meanwhile.

use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::io::AsyncReadExt;
use ebbtide_std::net::TcpStream;

use super::transport::Transport;
use ebbtide_std::time::{timeout, timeout_at, Duration, Instant};

use super::config::Config;
use super::files::{self, send};
use super::request::{self, Body, Method, Request};
use super::response::{self, Status};

/// How long a closing connection keeps reading (and dropping) what the client still sends, so
/// that the close does not turn into a reset that could destroy the last answer in flight.
const LINGER: Duration = Duration::from_secs(1);
/// The most bytes a closing connection reads and drops.
const LINGER_BYTES: usize = 64 * 1024;

/// A connection just accepted, on its way into its task. If the task is dropped before it first
/// runs (the runtime refused to spawn it: task memory at its `Builder::task_limit`, or the
/// runtime is shutting down), a plain HTTP connection answers `503 Service Unavailable` on its
/// way out instead of just closing, so the client learns the server is busy rather than seeing
/// its connection cut. (An HTTPS one just closes: an answer needs a handshake first.)
///
/// It also counts in `live` (the connections of its accept loop) from its accept until its
/// task ends.
pub(crate) struct Accepted {
    stream: Option<TcpStream>,
    live: Arc<AtomicUsize>,
    /// Whether a refusal may answer `503` in plain HTTP.
    plain: bool,
}

impl Accepted {
    pub(crate) fn new(stream: TcpStream, live: Arc<AtomicUsize>, plain: bool) -> Accepted {
        live.fetch_add(1, Ordering::Relaxed);
        Accepted {
            stream: Some(stream),
            live,
            plain,
        }
    }

    /// The stream, to serve: the `503` is off (the count stays until `self` drops).
    fn take_stream(&mut self) -> Option<TcpStream> {
        self.stream.take()
    }
}

impl Drop for Accepted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
        if let Some(stream) = self.stream.take() {
            if self.plain {
                refuse_busy(stream);
            }
        }
    }
}

/// Answers `503` on a connection no task will serve, without waiting: the answer is small and
/// the socket's send buffer empty, so one non-blocking write takes it. Then the sending side is
/// shut and what the client already sent (its request) is read and dropped, so that the close
/// is a FIN, not a reset that could destroy the answer in flight. Every error is ignored: the
/// connection closes either way.
pub(crate) fn refuse_busy(stream: TcpStream) {
    use std::io::{Read, Write};

    let Ok(mut stream) = stream.into_std() else {
        return;
    };
    let _ = stream.write_all(&response::error(Status::ServiceUnavailable, false, false));
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 1024];
    for _ in 0..64 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Serves the connection until it closes. Errors (a client that went away, a failed write) just
/// end the connection.
pub(crate) async fn run(mut accepted: Accepted, config: Arc<Config>) {
    let Some(stream) = accepted.take_stream() else {
        return;
    };
    // Answers are written whole or in large chunks: Nagle's delay would only slow keep-alive.
    let _ = stream.set_nodelay(true);
    let stream = match &config.tls {
        None => Transport::Plain(stream),
        // The handshake counts against the first request's header timeout: a client that
        // never finishes it is a slowloris client too.
        Some(acceptor) => match timeout(config.header_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Transport::Tls(Box::new(tls)),
            // Garbage, a client that gave up on our certificate, or one too slow: close.
            Ok(Err(_)) | Err(_) => return,
        },
    };
    let mut connection = Connection {
        stream,
        buf: vec![0; config.max_header_bytes.max(64)],
        filled: 0,
        config,
    };
    let _ = connection.serve().await;
}

/// What became of a request's body ([`Connection::discard_body`]).
enum Discarded {
    /// Read and dropped (or there was none): the next request follows.
    Done,
    /// Over [`Config::max_request_body`]: refuse and close.
    TooLarge,
    /// A bad chunk size or line: `400` and close.
    Malformed,
    /// The client closed or ran out of time: close without an answer.
    Gone,
}

/// What [`Connection::read_head`] found.
enum Head {
    /// A request, and the length of its head in the buffer.
    Request(Request, usize),
    /// A head to refuse with this status (the connection is then closed).
    Refused(Status),
    /// The client closed the connection, or ran out of time: close without an answer.
    Gone,
}

struct Connection {
    stream: Transport,
    config: Arc<Config>,
    /// Bytes read and not yet used: `buf[..filled]`. Its size is the limit of a head.
    buf: Vec<u8>,
    filled: usize,
}

impl Connection {
    async fn serve(&mut self) -> io::Result<()> {
        let max_requests = self.config.max_requests_per_connection.max(1);
        let mut served = 0;
        loop {
            let (request, head_len) = match self.read_head(served == 0).await? {
                Head::Request(request, len) => (request, len),
                Head::Gone => return Ok(()),
                Head::Refused(status) => {
                    self.refuse(status, false).await?;
                    break;
                }
            };
            self.consume(head_len);
            let body_ahead = request.body != Body::None
                && !matches!(request.body, Body::Length(n) if n > self.config.max_request_body);
            if request.expect_continue && body_ahead && self.filled == 0 {
                // The client waits for this before it sends the body we are about to read.
                send(
                    &mut self.stream,
                    &self.config,
                    b"HTTP/1.1 100 Continue\r\n\r\n",
                )
                .await?;
            }
            match self.discard_body(request.body).await? {
                Discarded::Done => {}
                Discarded::Gone => return Ok(()),
                Discarded::TooLarge => {
                    let status = if request.method == Method::Other {
                        Status::MethodNotAllowed
                    } else {
                        Status::PayloadTooLarge
                    };
                    self.refuse(status, request.method == Method::Head).await?;
                    break;
                }
                Discarded::Malformed => {
                    // No body in an answer to `HEAD`, even a refusal.
                    self.refuse(Status::BadRequest, request.method == Method::Head)
                        .await?;
                    break;
                }
            }
            served += 1;
            let keep_alive = request.keep_alive && served < max_requests;
            if !self.answer(&request, keep_alive).await? {
                break;
            }
        }
        self.linger().await;
        Ok(())
    }

    /// Answers `status` with `Connection: close`.
    async fn refuse(&mut self, status: Status, head_only: bool) -> io::Result<()> {
        let bytes = response::error(status, false, head_only);
        send(&mut self.stream, &self.config, &bytes).await
    }

    /// Answers one request; returns whether the connection may go on.
    async fn answer(&mut self, request: &Request, keep_alive: bool) -> io::Result<bool> {
        if request.method == Method::Other {
            let bytes = response::error(Status::MethodNotAllowed, keep_alive, false);
            send(&mut self.stream, &self.config, &bytes).await?;
            return Ok(keep_alive);
        }
        files::answer(&mut self.stream, &self.config, request, keep_alive).await
    }

    /// Drops the first `n` bytes of the buffer.
    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Reads more into the buffer (which must have room), by `deadline`; `false` if the client
    /// closed or ran out of time.
    async fn fill(&mut self, deadline: Instant) -> io::Result<bool> {
        match timeout_at(deadline, self.stream.read(&mut self.buf[self.filled..])).await {
            Err(_) | Ok(Ok(0)) => Ok(false),
            Ok(Ok(n)) => {
                self.filled += n;
                Ok(true)
            }
            Ok(Err(error)) => Err(error),
        }
    }

    /// Reads and drops the request's body (see [`Config::max_request_body`]), which must
    /// arrive within [`Config::header_timeout`]; what follows it stays in the buffer.
    async fn discard_body(&mut self, body: Body) -> io::Result<Discarded> {
        let limit = self.config.max_request_body;
        let deadline = Instant::now().saturating_add(self.config.header_timeout.into());
        match body {
            Body::None => Ok(Discarded::Done),
            Body::Length(length) if length > limit => Ok(Discarded::TooLarge),
            Body::Length(length) => self.skip(length, deadline).await,
            Body::Chunked => {
                let mut total: u64 = 0;
                loop {
                    let (line, size) = loop {
                        match httparse::parse_chunk_size(&self.buf[..self.filled]) {
                            Ok(httparse::Status::Complete(found)) => break found,
                            Err(_) => return Ok(Discarded::Malformed),
                            Ok(httparse::Status::Partial) if self.filled == self.buf.len() => {
                                return Ok(Discarded::Malformed)
                            }
                            Ok(httparse::Status::Partial) => {
                                if !self.fill(deadline).await? {
                                    return Ok(Discarded::Gone);
                                }
                            }
                        }
                    };
                    self.consume(line);
                    if size == 0 {
                        break;
                    }
                    total = total.saturating_add(size);
                    if total > limit {
                        return Ok(Discarded::TooLarge);
                    }
                    match self.skip(size, deadline).await? {
                        Discarded::Done => {}
                        other => return Ok(other),
                    }
                    // The chunk's data ends with a line end.
                    match self.take_line(deadline).await? {
                        Some(0) => {}
                        Some(_) => return Ok(Discarded::Malformed),
                        None => return Ok(Discarded::Gone),
                    }
                }
                // Trailer fields, up to an empty line.
                loop {
                    match self.take_line(deadline).await? {
                        Some(0) => return Ok(Discarded::Done),
                        Some(_) => {}
                        None => return Ok(Discarded::Gone),
                    }
                }
            }
        }
    }

    /// Reads and drops `count` bytes (those in the buffer first).
    async fn skip(&mut self, count: u64, deadline: Instant) -> io::Result<Discarded> {
        let mut left = count;
        loop {
            let here = usize::try_from(left).unwrap_or(usize::MAX).min(self.filled);
            self.consume(here);
            left -= here as u64;
            if left == 0 {
                return Ok(Discarded::Done);
            }
            if !self.fill(deadline).await? {
                return Ok(Discarded::Gone);
            }
        }
    }

    /// Takes one line (ended by CRLF, or LF alone) out of the buffer, reading more as needed;
    /// returns its length without the line end, or `None` if the client closed, ran out of
    /// time, or sent a line longer than the buffer.
    async fn take_line(&mut self, deadline: Instant) -> io::Result<Option<usize>> {
        loop {
            if let Some(end) = self.buf[..self.filled].iter().position(|&b| b == b'\n') {
                let len = if end > 0 && self.buf[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                self.consume(end + 1);
                return Ok(Some(len));
            }
            if self.filled == self.buf.len() || !self.fill(deadline).await? {
                return Ok(None);
            }
        }
    }

    /// Reads until the buffer holds a whole request head. `first`: this is the connection's
    /// first request (see the [module docs](self) for the deadlines).
    async fn read_head(&mut self, first: bool) -> io::Result<Head> {
        let now = Instant::now();
        let header_timeout: Duration = self.config.header_timeout.into();
        let idle_timeout: Duration = self.config.idle_timeout.into();
        // Before the first byte of the head.
        let wait_deadline = now.saturating_add(if first { header_timeout } else { idle_timeout });
        // After it. Bytes already here (a pipelined request) started the head now.
        let mut head_deadline = if first {
            wait_deadline
        } else {
            now.saturating_add(header_timeout)
        };
        loop {
            if self.filled > 0 {
                match request::parse(&self.buf[..self.filled]) {
                    Ok(Some((request, len))) => return Ok(Head::Request(request, len)),
                    Ok(None) if self.filled == self.buf.len() => {
                        return Ok(Head::Refused(Status::HeaderFieldsTooLarge))
                    }
                    Ok(None) => {}
                    Err(status) => return Ok(Head::Refused(status)),
                }
            }
            let deadline = if self.filled == 0 {
                wait_deadline
            } else {
                head_deadline
            };
            let read = timeout_at(deadline, self.stream.read(&mut self.buf[self.filled..])).await;
            match read {
                Err(_elapsed) => return Ok(Head::Gone),
                Ok(Ok(0)) => return Ok(Head::Gone),
                Ok(Ok(n)) => {
                    if self.filled == 0 && !first {
                        head_deadline = Instant::now().saturating_add(header_timeout);
                    }
                    self.filled += n;
                }
                Ok(Err(error)) => return Err(error),
            }
        }
    }

    /// Closes gracefully: shuts the sending side, then reads and drops what the client still
    /// sends for a moment, so that unread bytes do not make the close a reset.
    async fn linger(&mut self) {
        // Over TLS the shutdown sends a close_notify first, which may wait for the socket.
        match timeout(LINGER, self.stream.shutdown_write()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
        let deadline = Instant::now().saturating_add(LINGER);
        let mut drained = 0;
        while drained < LINGER_BYTES {
            match timeout_at(deadline, self.stream.read(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => drained += n,
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's task goes in the runtime's 4 KiB slots (see
    /// `ebbtide_std::runtime::SLOT_SIZES`): its buffers live on the heap, not in the future.
    #[test]
    fn a_connection_task_fits_in_four_kib() {
        fn size_of_future<F: std::future::Future>(_: &F) -> usize {
            std::mem::size_of::<F>()
        }
        ebbtide_std::Runtime::new().unwrap().block_on(async {
            let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let config = Arc::new(Config::new(".").unwrap());
            let accepted = Accepted::new(client, Arc::default(), true);
            let size = size_of_future(&run(accepted, config));
            println!("a connection task takes {size} bytes");
            assert!(size <= 4096, "{size} bytes");
        });
    }
}
