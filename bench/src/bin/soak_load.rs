//! The load generator of `cargo xtask soak`: many churning connections to the example file server
//! and echo server, and slowloris clients against the file server, for a set time.
//!
//! ```text
//! soak_load --file 127.0.0.1:P --echo 127.0.0.1:Q --paths /a.txt,/b.bin [--file-conns N]
//!           [--echo-conns N] [--slowloris N] [--interval-ms N] [--seconds N] [--report-secs N]
//!           [--ramp-secs N] [--sources N] [--timeout-ms N] [--threads N]
//! ```
//!
//! A Tokio multi-thread runtime runs one task per client:
//!
//! - **Churn clients** (`--file-conns` against the file server, `--echo-conns` against the echo
//!   server): each connects, makes 1 to 10 requests (a random count), each after a pause drawn
//!   between 0.5 and 1.5 times `--interval-ms`, closes, and connects again at once. So each keeps
//!   about one connection open all the time and makes about one request per interval: with the
//!   defaults (5,000 + 5,000 clients, 1,500 ms) about 6,700 requests and 1,200 new connections a
//!   second. A file-server request is an HTTP/1.1 `GET` of one of `--paths` on the kept-alive
//!   connection, read to the end of its `Content-Length` body, which must be `200 OK`; an echo
//!   request writes 64 random bytes and reads them back, which must match. A request's latency
//!   runs from its first byte written to its answer's last byte read.
//! - **Slowloris clients** (`--slowloris`, against the file server): each connects and trickles
//!   a request head that never ends, one byte every 2 s. The server must cut it (its header
//!   timeout); the client counts the cut, how long it was held, and connects again after a short
//!   pause. One held for [`SLOWLORIS_GIVE_UP`] without a cut is counted `uncut` and closed by the
//!   client.
//!
//! Clients start spread over `--ramp-secs`, so the servers' listen queues are not flooded at
//! once. Errors never stop a client: each is counted by kind (`refused`, `reset`, `eof`,
//! `timeout`, `503`, `bad` for a wrong answer, `addr` for a local address or port that could not
//! be had, `other`), the connection is dropped, and the client connects again after a pause of
//! 0.5 to 1 s. Requests and connects time out after `--timeout-ms`.
//!
//! On loopback each closed connection leaves a TIME_WAIT socket behind on the client's side; at
//! 1,200 connections a second these would use up one source address's ephemeral ports within a
//! minute where the kernel does not reuse them (`net.ipv4.tcp_tw_reuse` is 2, loopback only, by
//! default on Linux). So on Linux the clients spread over `--sources` source addresses,
//! 127.0.0.1 to 127.0.0.N (default 4), each bound with `IP_BIND_ADDRESS_NO_PORT` so that the port
//! is chosen at connect time for the whole 4-tuple.
//!
//! Every `--report-secs` (default 5) it prints one flat JSON line of figures on stdout, for the
//! interval just ended: per server (`file_`, `echo_` prefixes) the connections open now, connects,
//! requests, latency percentiles (`p50_us`, `p99_us`, `max_us`) and errors by kind (`err_KIND`);
//! the slowloris clients' `slow_open`, `slow_cut`, `slow_uncut`, `slow_held_max_ms`, `slow_err`;
//! and `t` (seconds since the start). It exits [`FINAL_GRACE`] after the report at `--seconds`.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long a slowloris connection may stay open without the server cutting it before the client
/// gives up and counts it `uncut`. The file server's header timeout is 5 s.
const SLOWLORIS_GIVE_UP: Duration = Duration::from_secs(30);
/// The pause between two bytes of a slowloris head.
const SLOWLORIS_BYTE_EVERY: Duration = Duration::from_secs(2);
/// The most requests a churn client makes on one connection (at least one).
const MAX_REQUESTS_PER_CONNECTION: u64 = 10;
/// How long the clients go on after the last report line, before the process exits.
const FINAL_GRACE: Duration = Duration::from_secs(2);
/// The size of an echo request.
const ECHO_BYTES: usize = 64;

const USAGE: &str = "\
usage: soak_load --file HOST:PORT --echo HOST:PORT --paths P1,P2,.. [--file-conns N] [--echo-conns N]
                 [--slowloris N] [--interval-ms N] [--seconds N] [--report-secs N] [--ramp-secs N]
                 [--sources N] [--timeout-ms N] [--threads N]
";

/// The command line.
struct Options {
    file: SocketAddr,
    echo: SocketAddr,
    paths: Vec<String>,
    file_conns: usize,
    echo_conns: usize,
    slowloris: usize,
    interval: Duration,
    seconds: u64,
    report_secs: u64,
    ramp_secs: u64,
    sources: u8,
    timeout: Duration,
    threads: usize,
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut file = None;
        let mut echo = None;
        let mut options = Options {
            file: SocketAddr::from(([127, 0, 0, 1], 0)),
            echo: SocketAddr::from(([127, 0, 0, 1], 0)),
            paths: Vec::new(),
            file_conns: 5_000,
            echo_conns: 5_000,
            slowloris: 500,
            interval: Duration::from_millis(1_500),
            seconds: 60,
            report_secs: 5,
            ramp_secs: 10,
            sources: 4,
            timeout: Duration::from_secs(10),
            threads: 2,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            let number = |text: String| -> Result<u64, String> {
                text.parse::<u64>()
                    .map_err(|_| format!("{flag} {text}: not a whole number"))
            };
            match flag.as_str() {
                "--file" => file = Some(parse_addr(&flag, &value()?)?),
                "--echo" => echo = Some(parse_addr(&flag, &value()?)?),
                "--paths" => {
                    options.paths = value()?.split(',').map(str::to_string).collect();
                }
                "--file-conns" => options.file_conns = number(value()?)? as usize,
                "--echo-conns" => options.echo_conns = number(value()?)? as usize,
                "--slowloris" => options.slowloris = number(value()?)? as usize,
                "--interval-ms" => options.interval = Duration::from_millis(number(value()?)?),
                "--seconds" => options.seconds = number(value()?)?,
                "--report-secs" => options.report_secs = number(value()?)?.max(1),
                "--ramp-secs" => options.ramp_secs = number(value()?)?,
                "--sources" => {
                    options.sources = u8::try_from(number(value()?)?.clamp(1, 250)).unwrap_or(1);
                }
                "--timeout-ms" => options.timeout = Duration::from_millis(number(value()?)?),
                "--threads" => options.threads = (number(value()?)? as usize).max(1),
                "-h" | "--help" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            }
        }
        options.file = file.ok_or("--file is required")?;
        options.echo = echo.ok_or("--echo is required")?;
        if options.paths.is_empty() || options.paths.iter().any(|p| !p.starts_with('/')) {
            return Err("--paths needs a comma-separated list of paths starting with /".into());
        }
        Ok(options)
    }
}

fn parse_addr(flag: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|e| format!("{flag} {text}: not an IP address and port: {e}"))
}

/// A small, fast random number generator (SplitMix64), one per client: no shared state.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// `base` times a factor drawn uniformly from `low..high` (per mille).
    fn scaled(&mut self, base: Duration, low_permille: u64, high_permille: u64) -> Duration {
        let factor = self.between(low_permille, high_permille.max(low_permille));
        base * u32::try_from(factor).unwrap_or(1000) / 1000
    }
}

/// Latencies in microseconds, log-linear buckets (32 per power of two: within 3%), shared by the
/// clients of one server and emptied at every report.
struct Histogram {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

impl Histogram {
    const SUB: u64 = 32;

    fn new() -> Histogram {
        Histogram {
            buckets: (0..64 * Self::SUB).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    fn index(us: u64) -> usize {
        if us < Self::SUB {
            return us as usize;
        }
        let exp = 63 - u64::from(us.leading_zeros());
        ((exp - 4) * Self::SUB + (us >> (exp - 5)) - Self::SUB) as usize
    }

    /// The upper end of a bucket's range.
    fn upper(index: usize) -> u64 {
        let index = index as u64;
        if index < Self::SUB {
            return index;
        }
        let exp = index / Self::SUB + 4;
        let mantissa = index % Self::SUB + Self::SUB;
        ((mantissa + 1) << (exp - 5)) - 1
    }

    fn record(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::index(us)].fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    /// Takes the counts out: (p50, p99, max) in microseconds, zeros if nothing was recorded.
    fn take(&self) -> (u64, u64, u64) {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.swap(0, Ordering::Relaxed))
            .collect();
        let max = self.max.swap(0, Ordering::Relaxed);
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return (0, 0, 0);
        }
        let quantile = |q: f64| {
            let rank = ((total as f64 * q).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, &c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return Self::upper(i).min(max);
                }
            }
            max
        };
        (quantile(0.50), quantile(0.99), max)
    }
}

/// Why a connection or request failed.
#[derive(Clone, Copy)]
enum ErrorKind {
    Refused,
    Reset,
    Eof,
    Timeout,
    Busy503,
    Bad,
    Addr,
    Other,
}

impl ErrorKind {
    const ALL: [ErrorKind; 8] = [
        ErrorKind::Refused,
        ErrorKind::Reset,
        ErrorKind::Eof,
        ErrorKind::Timeout,
        ErrorKind::Busy503,
        ErrorKind::Bad,
        ErrorKind::Addr,
        ErrorKind::Other,
    ];

    fn name(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Reset => "reset",
            ErrorKind::Eof => "eof",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Busy503 => "503",
            ErrorKind::Bad => "bad",
            ErrorKind::Addr => "addr",
            ErrorKind::Other => "other",
        }
    }

    fn of(error: &io::Error) -> ErrorKind {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ErrorKind::Reset,
            io::ErrorKind::UnexpectedEof => ErrorKind::Eof,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            io::ErrorKind::AddrNotAvailable | io::ErrorKind::AddrInUse => ErrorKind::Addr,
            io::ErrorKind::InvalidData => ErrorKind::Bad,
            _ => ErrorKind::Other,
        }
    }
}

/// What the clients of one server did: gauges and counters since the last report (connects,
/// requests, errors are emptied at each report; `open` is a gauge).
struct Stats {
    open: AtomicU64,
    connects: AtomicU64,
    requests: AtomicU64,
    errors: [AtomicU64; 8],
    latency: Histogram,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            open: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: Histogram::new(),
        }
    }

    fn error(&self, kind: ErrorKind) {
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Appends this interval's figures, with `prefix`, to a JSON line.
    fn report(&self, prefix: &str, line: &mut String) {
        use std::fmt::Write as _;
        let (p50, p99, max) = self.latency.take();
        let _ = write!(
            line,
            ",\"{prefix}_open\":{},\"{prefix}_connects\":{},\"{prefix}_requests\":{},\
             \"{prefix}_p50_us\":{p50},\"{prefix}_p99_us\":{p99},\"{prefix}_max_us\":{max}",
            self.open.load(Ordering::Relaxed),
            self.connects.swap(0, Ordering::Relaxed),
            self.requests.swap(0, Ordering::Relaxed),
        );
        for kind in ErrorKind::ALL {
            let _ = write!(
                line,
                ",\"{prefix}_err_{}\":{}",
                kind.name(),
                self.errors[kind as usize].swap(0, Ordering::Relaxed)
            );
        }
    }
}

/// What the slowloris clients did since the last report (`open` is a gauge).
struct SlowStats {
    open: AtomicU64,
    connects: AtomicU64,
    cut: AtomicU64,
    uncut: AtomicU64,
    held_max_ms: AtomicU64,
    errors: AtomicU64,
}

/// Counts an open connection for as long as it lives.
struct OpenGuard<'a>(&'a AtomicU64);

impl<'a> OpenGuard<'a> {
    fn new(gauge: &'a AtomicU64) -> OpenGuard<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        OpenGuard(gauge)
    }
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a client connects from and to.
#[derive(Clone, Copy)]
struct Route {
    source: Option<Ipv4Addr>,
    target: SocketAddr,
}

/// Connects along `route`, within `timeout`.
async fn connect(route: Route, timeout: Duration) -> io::Result<TcpStream> {
    let socket = match route.target {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let (Some(source), SocketAddr::V4(_)) = (route.source, route.target) {
        bind_source(&socket, source)?;
    }
    let stream = tokio::time::timeout(timeout, socket.connect(route.target))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Binds `socket` to `source` with the port left to `connect` (`IP_BIND_ADDRESS_NO_PORT`), so that
/// ports are shared between destinations as with an unbound socket.
#[cfg(target_os = "linux")]
fn bind_source(socket: &TcpSocket, source: Ipv4Addr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: the descriptor is the socket's, open for the call; the option value is a valid
    // `c_int` of the size given.
    let done = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&raw const one).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if done != 0 {
        return Err(io::Error::last_os_error());
    }
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))
}

/// Elsewhere the port would be taken at bind time: no source address is chosen.
#[cfg(not(target_os = "linux"))]
fn bind_source(_socket: &TcpSocket, _source: Ipv4Addr) -> io::Result<()> {
    Ok(())
}

/// One file-server request on a kept-alive connection: `GET path`, read to the end of the body.
/// `Ok(false)`: the answer asked to close the connection.
async fn http_get(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    path: &str,
) -> Result<bool, ErrorKind> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: soak\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| ErrorKind::of(&e))?;
    buf.clear();
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > 16 * 1024 {
            return Err(ErrorKind::Bad);
        }
        let mut chunk = [0u8; 4096];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| ErrorKind::of(&e))?;
        if n == 0 {
            return Err(ErrorKind::Eof);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| ErrorKind::Bad)?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .ok_or(ErrorKind::Bad)?;
    match status {
        "200" => {}
        "503" => return Err(ErrorKind::Busy503),
        _ => return Err(ErrorKind::Bad),
    }
    let mut length = None;
    let mut keep_alive = true;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                keep_alive = false;
            }
        }
    }
    let length = length.ok_or(ErrorKind::Bad)?;
    let mut body = buf.len() - head_end;
    let mut chunk = [0u8; 4096];
    while body < length {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| ErrorKind::of(&e))?;
        if n == 0 {
            return Err(ErrorKind::Eof);
        }
        body += n;
    }
    if body != length {
        return Err(ErrorKind::Bad);
    }
    Ok(keep_alive)
}

/// One echo request: 64 random bytes out, the same 64 back.
async fn echo_once(stream: &mut TcpStream, rng: &mut Rng) -> Result<(), ErrorKind> {
    let mut message = [0u8; ECHO_BYTES];
    for part in message.chunks_mut(8) {
        part.copy_from_slice(&rng.next().to_le_bytes());
    }
    stream
        .write_all(&message)
        .await
        .map_err(|e| ErrorKind::of(&e))?;
    let mut back = [0u8; ECHO_BYTES];
    stream
        .read_exact(&mut back)
        .await
        .map_err(|e| ErrorKind::of(&e))?;
    if back != message {
        return Err(ErrorKind::Bad);
    }
    Ok(())
}

/// What a churn client asks for.
#[derive(Clone, Copy)]
enum Service {
    File,
    Echo,
}

/// One churn client, forever: connect, 1 to 10 paced requests, close, again.
async fn churn_client(
    service: Service,
    route: Route,
    options: Arc<Options>,
    stats: Arc<Stats>,
    seed: u64,
) {
    let mut rng = Rng(seed);
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let mut stream = match connect(route, options.timeout).await {
            Ok(stream) => stream,
            Err(error) => {
                stats.error(ErrorKind::of(&error));
                tokio::time::sleep(rng.scaled(Duration::from_secs(1), 500, 1000)).await;
                continue;
            }
        };
        stats.connects.fetch_add(1, Ordering::Relaxed);
        let open = OpenGuard::new(&stats.open);
        let requests = rng.between(1, MAX_REQUESTS_PER_CONNECTION);
        let mut failed = false;
        for _ in 0..requests {
            tokio::time::sleep(rng.scaled(options.interval, 500, 1500)).await;
            let start = Instant::now();
            let result = match service {
                Service::File => {
                    let path = &options.paths[rng.next() as usize % options.paths.len()];
                    tokio::time::timeout(options.timeout, http_get(&mut stream, &mut buf, path))
                        .await
                }
                Service::Echo => {
                    tokio::time::timeout(options.timeout, echo_once(&mut stream, &mut rng))
                        .await
                        .map(|r| r.map(|()| true))
                }
            };
            match result {
                Ok(Ok(keep_alive)) => {
                    stats.latency.record(start.elapsed());
                    stats.requests.fetch_add(1, Ordering::Relaxed);
                    if !keep_alive {
                        break;
                    }
                }
                Ok(Err(kind)) => {
                    stats.error(kind);
                    failed = true;
                    break;
                }
                Err(_elapsed) => {
                    stats.error(ErrorKind::Timeout);
                    failed = true;
                    break;
                }
            }
        }
        drop(stream);
        drop(open);
        if failed {
            tokio::time::sleep(rng.scaled(Duration::from_secs(1), 500, 1000)).await;
        }
    }
}

/// One slowloris client, forever: connect, trickle a head that never ends until the server cuts
/// the connection, pause, again.
async fn slowloris_client(route: Route, options: Arc<Options>, stats: Arc<SlowStats>, seed: u64) {
    let mut rng = Rng(seed);
    let head = b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slowloris: ";
    loop {
        let mut stream = match connect(route, options.timeout).await {
            Ok(stream) => stream,
            Err(_) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(rng.scaled(Duration::from_secs(1), 500, 1000)).await;
                continue;
            }
        };
        stats.connects.fetch_add(1, Ordering::Relaxed);
        let open = OpenGuard::new(&stats.open);
        let start = Instant::now();
        let mut sent = 0usize;
        let mut sink = [0u8; 512];
        let cut = loop {
            if start.elapsed() >= SLOWLORIS_GIVE_UP {
                break false;
            }
            let byte = head.get(sent).copied().unwrap_or(b'a');
            // A write error is the server's cut too; the read below sees it as well.
            if stream.write_all(&[byte]).await.is_err() {
                break true;
            }
            sent += 1;
            tokio::select! {
                read = stream.read(&mut sink) => match read {
                    // Closed or reset: cut. An answer (a `408`, say) also ends it: cut.
                    Ok(0) | Err(_) => break true,
                    Ok(_) => break true,
                },
                () = tokio::time::sleep(SLOWLORIS_BYTE_EVERY) => {}
            }
        };
        let held = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if cut {
            stats.cut.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.uncut.fetch_add(1, Ordering::Relaxed);
        }
        stats.held_max_ms.fetch_max(held, Ordering::Relaxed);
        drop(stream);
        drop(open);
        tokio::time::sleep(rng.scaled(Duration::from_millis(500), 200, 1000)).await;
    }
}

/// Raises this process's soft limit of open files to its hard limit; returns the new soft limit.
fn raise_fd_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid `rlimit` to write.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit`, its soft limit no higher than its hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[allow(clippy::useless_conversion)]
    Ok(u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX))
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("soak_load: {message}");
            return ExitCode::from(2);
        }
    };
    let needed = (options.file_conns + options.echo_conns + options.slowloris) as u64 + 64;
    match raise_fd_limit() {
        Ok(limit) if limit >= needed => {}
        Ok(limit) => {
            eprintln!(
                "soak_load: the limit of open files is {limit}, below the {needed} this load needs \
                 (raise the hard limit: ulimit -Hn)"
            );
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("soak_load: cannot read or raise the limit of open files: {error}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("soak_load: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(options));
    ExitCode::SUCCESS
}

async fn run(options: Arc<Options>) {
    let file = Arc::new(Stats::new());
    let echo = Arc::new(Stats::new());
    let slow = Arc::new(SlowStats {
        open: AtomicU64::new(0),
        connects: AtomicU64::new(0),
        cut: AtomicU64::new(0),
        uncut: AtomicU64::new(0),
        held_max_ms: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut rng = Rng(seed);
    let sources = if cfg!(target_os = "linux") {
        options.sources
    } else {
        1
    };
    let route = |target: SocketAddr, i: usize| Route {
        source: (sources > 1).then(|| Ipv4Addr::new(127, 0, 0, 1 + (i % sources as usize) as u8)),
        target,
    };
    let ramp = Duration::from_secs(options.ramp_secs);
    let total = options.file_conns + options.echo_conns + options.slowloris;
    for i in 0..total {
        let delay = rng.scaled(ramp, 0, 1000);
        let client_seed = rng.next();
        let options = Arc::clone(&options);
        if i < options.file_conns {
            let (stats, route) = (Arc::clone(&file), route(options.file, i));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                churn_client(Service::File, route, options, stats, client_seed).await;
            });
        } else if i < options.file_conns + options.echo_conns {
            let (stats, route) = (Arc::clone(&echo), route(options.echo, i));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                churn_client(Service::Echo, route, options, stats, client_seed).await;
            });
        } else {
            let (stats, route) = (Arc::clone(&slow), route(options.file, i));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                slowloris_client(route, options, stats, client_seed).await;
            });
        }
    }
    let start = Instant::now();
    let every = Duration::from_secs(options.report_secs);
    let end = start + Duration::from_secs(options.seconds);
    let mut next = start + every;
    loop {
        tokio::time::sleep_until(next.min(end).into()).await;
        let now = Instant::now();
        let mut line = format!("{{\"t\":{:.3}", (now - start).as_secs_f64());
        file.report("file", &mut line);
        echo.report("echo", &mut line);
        line.push_str(&format!(
            ",\"slow_open\":{},\"slow_connects\":{},\"slow_cut\":{},\"slow_uncut\":{},\
             \"slow_held_max_ms\":{},\"slow_err\":{}}}",
            slow.open.load(Ordering::Relaxed),
            slow.connects.swap(0, Ordering::Relaxed),
            slow.cut.swap(0, Ordering::Relaxed),
            slow.uncut.swap(0, Ordering::Relaxed),
            slow.held_max_ms.swap(0, Ordering::Relaxed),
            slow.errors.swap(0, Ordering::Relaxed),
        ));
        println!("{line}");
        if now >= end {
            // Every client still holds its connection for a moment, so that whoever reads this
            // last line samples the servers as they were under load, not as the clients leave.
            tokio::time::sleep(FINAL_GRACE).await;
            return;
        }
        next += every;
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn buckets_are_ordered_and_within_three_percent() {
        let mut last = 0;
        for us in [0u64, 1, 31, 32, 33, 63, 64, 65, 100, 1_000, 12_345, 1 << 40] {
            let index = Histogram::index(us);
            assert!(index >= last, "{us}");
            last = index;
            let upper = Histogram::upper(index);
            assert!(upper >= us, "{us} above its bucket's end {upper}");
            assert!(upper as f64 <= us as f64 * 1.04 + 1.0, "{us}: {upper}");
        }
    }

    #[test]
    fn percentiles_of_a_known_spread() {
        let histogram = Histogram::new();
        for us in 1..=1000u64 {
            histogram.record(std::time::Duration::from_micros(us));
        }
        let (p50, p99, max) = histogram.take();
        assert!((490..=520).contains(&p50), "{p50}");
        assert!((980..=1000).contains(&p99), "{p99}");
        assert_eq!(max, 1000);
        assert_eq!(histogram.take(), (0, 0, 0));
    }
}
