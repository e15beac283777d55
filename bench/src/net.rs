//! Network workloads: TCP echo and HTTP plaintext over loopback, one server thread against one
//! client thread (2 cores: one each); and the same at 2 workers ([2 workers](#2-workers)).
//!
//! # Workloads
//!
//! - `tcp_echo_{C}x{M}` (C = 1, 64, 512 connections; M = 100 or 1k = 1,024-byte messages): a
//!   closed-loop client ([`echo_client`]: one thread, raw mio, the calling thread) keeps C
//!   connections busy. Each sends an M-byte message, waits until the whole echo is back, and
//!   sends again at once. The connections are opened before the clock starts and closed after it
//!   stops, for every sample; the client runs for [`echo_duration`] (0.3 s with
//!   `EBBTIDE_BENCH_QUICK=1`, else 1.5 s).
//! - `http_plaintext_{C}` (C = 64, 256 connections): `wrk -t1 -c{C} -d{S}s --latency` as a child
//!   process against a server answering every request with the same small response (see
//!   [`crate::http`]); `S` is [`wrk_secs`] (1 s quick, else 2 s: wrk takes whole seconds only).
//!
//! # Placement
//!
//! On a machine with at least two CPUs, the server's thread is pinned to CPU 0 (threads it starts,
//! such as `tokio-mt1`'s worker, inherit that) and the client's thread to CPU 1 (wrk, started
//! from it, inherits that too), with `sched_setaffinity`. Unpinned, the scheduler sometimes put
//! both on one CPU for a whole process, and every runtime's samples fell into two modes about
//! 40% apart, which no number of samples averaged out.
//!
//! # Figures of a sample
//!
//! - `ns`: mean wall time per request, `1e9 / rps`, lower is better.
//! - `rps`: requests (round trips) completed per second of the measured window.
//! - `p99_ns`: the 99th percentile of request latency. Echo: every round trip is timed from the
//!   moment the client starts writing the message to the moment the last byte of its echo is read
//!   (one clock read per round trip; the next message's start is the previous one's end), exact
//!   percentile over every round trip of the window. HTTP: wrk's `99%` figure.
//! - `cpu_ns`: CPU time (user + system) of the server per request: the whole process's CPU time
//!   (`getrusage(RUSAGE_SELF)`) over the window, minus that of the thread that runs the client
//!   (`getrusage(RUSAGE_THREAD)`, the calling thread), divided by the requests of the window. The
//!   same subtraction for every runtime, so it counts every thread a runtime uses: the server
//!   thread for `ebbtide`, `tokio-ct` and `mio`; for `tokio-mt1` the worker thread (which runs
//!   the accept loop and every connection) plus the parked thread that owns the runtime. For HTTP
//!   the client is wrk, another process: the calling thread only waits for it, and the figure is
//!   this process's CPU time. Less sensitive than `rps` to what else runs on the machine, and to
//!   the client's own cost.
//! - `waits_per_kreq`: voluntary context switches of the server's threads per 1,000 requests
//!   (`ru_nvcsw`, counted like `cpu_ns`: the process's minus the client thread's): how often a
//!   server thread blocked (in `epoll_wait`, on a futex) and had to be woken again, each time a
//!   few system calls and a trip through the OS scheduler. Not in the single-thread tables; the
//!   2-worker tables show it with the other figures.
//!
//! # 2 workers
//!
//! The `mt_` workloads ([`MT_WORKLOADS`]: `mt_tcp_echo_64x100`, `mt_tcp_echo_64x100_at40k`,
//! `mt_tcp_echo_512x100`, `mt_http_plaintext_256`) are the same shapes (`_at40k`: the echo client
//! paced at 40,000 round trips/s, see [`echo_client`]), the same client and the same service on
//! multi-thread runtimes with 2 workers (and ebbtide's 1-worker baseline), run by the `mtnet_*`
//! binaries through [`mt_main`]. The harness binds the listener with `SO_REUSEPORT`
//! ([`bind_reuseport`], [`spawn_mt_server`]) so that a thread-per-core server can bind one more
//! per worker to the same address; the server says when every listener is bound
//! ([`Ready::listening`]), and only then does the client connect (else the kernel would queue
//! every early connection on the first listener). A server with one accept loop (Tokio's,
//! smol's) just uses the listener it is given.
//!
//! `cpu_ns` is the same subtraction as above: every thread of the process but the client's, so
//! all the runtime's workers, the thread that waits in its `block_on`, and any helper thread
//! (async-io's reactor thread for smol); for HTTP the whole process, wrk being another one. On 2
//! cores the server's 2 workers and the load generator compete for the CPUs, so `rps` and
//! `p99_ns` say as much about how the OS shares the cores as about the server: the server's CPU
//! per request, at 1 worker against 2, is the figure to read.
//!
//! # Placement at 2 workers
//!
//! The server is not pinned: its thread and every thread it starts may run on every CPU
//! ([`unpin`]). The client runs where the OS puts it ([`MT_CLIENT_CPU`] is `None`; wrk inherits
//! that). Measured on the 2-core VM, 6 processes x 2 samples per runtime and workload, with other
//! builds sharing the machine: with the client pinned to CPU 1 the spread between processes was
//! wider (`tokio-mt2` on `mt_tcp_echo_64x100`: 7,800 to 154,000 requests/s pinned, 129,000 to
//! 160,000 unpinned; `smol-mt2` on `mt_http_plaintext_256`: 18,000 to 113,000 pinned, 55,000 to
//! 122,000 unpinned) and HTTP's p99 latency much higher and more erratic (medians 3.6 to 31 ms
//! pinned, 4.4 to 7.2 ms unpinned), while `cpu_ns` moved about as much either way. Pinning the
//! client leaves the scheduler one CPU to share between it and a server worker, and the other
//! worker the second CPU alone; unpinned, it balances the three threads over both CPUs.
//! `EBBTIDE_BENCH_MT_CLIENT_CPU` (a CPU number, or `none`) overrides the placement, to measure
//! it again.
//!
//! # Servers
//!
//! Every runtime serves the same way: a listener bound by [`spawn_server`] (mio's bind, backlog
//! 1,024, on `127.0.0.1:0`), then accept in a loop, set `TCP_NODELAY` on each connection, and serve
//! it with a buffer of [`BUF_SIZE`] bytes on the heap: echo reads into it and writes what it read
//! back whole before it reads again; HTTP reads into [`crate::http::HttpConn`] and writes what
//! [`HttpConn::handle`](crate::http::HttpConn::handle) answered. Async runtimes spawn one task
//! per connection; the raw-mio floor ([`mio_echo_server`], [`mio_http_server`]) does the same
//! steps in one edge-triggered event loop with no runtime at all, with the fewest system calls
//! (no read just to see `WouldBlock` after a short read): its ratio to a runtime says what the
//! runtime costs. The server is started on the first run of a process (the warm-up) and serves
//! every sample after it.
//!
//! The echo client makes one write and one read per round trip (see [`echo_client`]), whatever
//! the server, and is the same code for every runtime. On 2 cores it can be the bottleneck at 64
//! and 512 connections, where `rps` then says less about the server than `cpu_ns` does.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use crate::http::{HttpConn, Verdict};
use crate::Sample;

/// The per-connection buffer of every server (echo and HTTP, every runtime): 4 KiB.
pub const BUF_SIZE: usize = 4096;

/// The network workloads, in the order they are listed.
pub const WORKLOADS: &[&str] = &[
    "tcp_echo_1x100",
    "tcp_echo_64x100",
    "tcp_echo_512x100",
    "tcp_echo_1x1k",
    "tcp_echo_64x1k",
    "tcp_echo_512x1k",
    "http_plaintext_64",
    "http_plaintext_256",
];

/// The 2-worker network workloads (run by the `mtnet_*` binaries, see [2 workers](self#2-workers)):
/// the same shapes as their namesakes without `mt_`, on multi-thread runtimes.
pub const MT_WORKLOADS: &[&str] = &[
    "mt_tcp_echo_64x100",
    "mt_tcp_echo_64x100_at40k",
    "mt_tcp_echo_512x100",
    "mt_http_plaintext_256",
];

/// What a server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Writes back what it reads.
    Echo,
    /// Answers HTTP/1.1 requests with [`crate::http::HttpConn`].
    Http,
}

/// One network workload, parsed from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `tcp_echo_{connections}x{message}`, or `tcp_echo_{connections}x{message}_at{rate}k`
    /// (paced: see [`echo_client`]).
    Echo {
        /// Connections kept busy at once.
        connections: usize,
        /// Bytes per message.
        message: usize,
        /// Round trips per second offered over all connections (`None`: each connection sends
        /// its next message as soon as the echo of the last is back).
        rate: Option<u32>,
    },
    /// `http_plaintext_{connections}`: wrk with this many connections.
    Http {
        /// wrk's `-c`.
        connections: usize,
    },
}

impl Workload {
    /// Parses a workload name such as `tcp_echo_64x1k` or `http_plaintext_256`, with or without
    /// the `mt_` prefix of the 2-worker workloads (the same shape).
    pub fn parse(name: &str) -> Option<Workload> {
        let name = name.strip_prefix("mt_").unwrap_or(name);
        if let Some(rest) = name.strip_prefix("tcp_echo_") {
            let (rest, rate) = match rest.split_once("_at") {
                Some((rest, rate)) => (
                    rest,
                    Some(rate.strip_suffix('k')?.parse::<u32>().ok()? * 1000),
                ),
                None => (rest, None),
            };
            let (connections, message) = rest.split_once('x')?;
            let message = match message.strip_suffix('k') {
                Some(k) => k.parse::<usize>().ok()? * 1024,
                None => message.parse().ok()?,
            };
            return Some(Workload::Echo {
                connections: connections.parse().ok()?,
                message,
                rate,
            });
        }
        let connections = name.strip_prefix("http_plaintext_")?.parse().ok()?;
        Some(Workload::Http { connections })
    }

    /// The service its server must run.
    pub fn service(self) -> Service {
        match self {
            Workload::Echo { .. } => Service::Echo,
            Workload::Http { .. } => Service::Http,
        }
    }
}

/// Whether `EBBTIDE_BENCH_QUICK=1`: shorter samples.
pub fn quick() -> bool {
    std::env::var("EBBTIDE_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// How long one echo sample runs: 0.3 s quick, else 1.5 s.
pub fn echo_duration() -> Duration {
    Duration::from_millis(if quick() { 300 } else { 1_500 })
}

/// How long one wrk run lasts, in seconds: 1 quick, else 2 (wrk takes whole seconds).
pub fn wrk_secs() -> u32 {
    if quick() {
        1
    } else {
        2
    }
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: `rusage` is plain old data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage to fill; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    let rc = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage
}

fn rusage_ns(who: libc::c_int) -> u64 {
    let usage = rusage(who);
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// Voluntary context switches (each time a thread blocked: in `epoll_wait`, on a futex, ...)
/// of the calling thread (`RUSAGE_THREAD`) or of the whole process (`RUSAGE_SELF`).
fn voluntary_switches(who: libc::c_int) -> u64 {
    rusage(who).ru_nvcsw as u64
}

/// CPU time (user + system) the calling thread has used, in nanoseconds (microsecond
/// resolution: `getrusage(RUSAGE_THREAD)`).
pub fn thread_cpu_ns() -> u64 {
    rusage_ns(libc::RUSAGE_THREAD)
}

/// CPU time (user + system) every thread of this process has used, in nanoseconds
/// (`getrusage(RUSAGE_SELF)`).
pub fn process_cpu_ns() -> u64 {
    rusage_ns(libc::RUSAGE_SELF)
}

/// Measures the CPU time of every thread but the calling one (the client): see the
/// [module docs](self); and their voluntary context switches, the same way.
pub struct ServerCpu {
    process: u64,
    thread: u64,
    process_waits: u64,
    thread_waits: u64,
}

impl ServerCpu {
    /// Starts measuring. Call on the client's thread.
    pub fn start() -> ServerCpu {
        ServerCpu {
            thread_waits: voluntary_switches(libc::RUSAGE_THREAD),
            process_waits: voluntary_switches(libc::RUSAGE_SELF),
            thread: thread_cpu_ns(),
            process: process_cpu_ns(),
        }
    }

    /// The CPU time of the other threads since [`start`](ServerCpu::start), in nanoseconds.
    /// Call on the same thread.
    pub fn stop(self) -> u64 {
        self.stop_with_waits().0
    }

    /// [`stop`](ServerCpu::stop), and the voluntary context switches of the other threads
    /// since [`start`](ServerCpu::start): how often the server's threads blocked (parked) and
    /// were woken again.
    pub fn stop_with_waits(self) -> (u64, u64) {
        let process = process_cpu_ns() - self.process;
        let thread = thread_cpu_ns() - self.thread;
        let process_waits = voluntary_switches(libc::RUSAGE_SELF) - self.process_waits;
        let thread_waits = voluntary_switches(libc::RUSAGE_THREAD) - self.thread_waits;
        (
            process.saturating_sub(thread),
            process_waits.saturating_sub(thread_waits),
        )
    }
}

/// Tells a server's accept loop to stop: checked after every accept (see [`Server::stop`]).
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Whether the server should stop.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A server running on its own thread (see [`spawn_server`]).
pub struct Server {
    addr: SocketAddr,
    stop: StopFlag,
    thread: JoinHandle<()>,
}

impl Server {
    /// The address it listens on (`127.0.0.1`, a port the OS chose).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server: sets its [`StopFlag`], then connects so that its accept loop wakes up
    /// and sees the flag, again every 10 ms until its thread has ended (a server with a
    /// `SO_REUSEPORT` listener per worker gets each connection on one of them only, and returns
    /// once worker 0's loop has seen one); joins the thread.
    pub fn stop(self) {
        self.stop.0.store(true, Ordering::Relaxed);
        while !self.thread.is_finished() {
            drop(std::net::TcpStream::connect(self.addr));
            std::thread::sleep(Duration::from_millis(10));
        }
        self.thread.join().expect("the server thread panicked");
    }
}

/// The CPU of the server's thread (see [Placement](self#placement)).
pub const SERVER_CPU: usize = 0;
/// The CPU of the client's thread.
pub const CLIENT_CPU: usize = 1;

/// Pins the calling thread to `cpu`, if the machine has more than one CPU and `cpu` exists;
/// otherwise (or if the OS refuses) leaves it where it is.
pub fn pin_to_cpu(cpu: usize) {
    let cpus = online_cpus();
    if cpus < 2 || cpu >= cpus {
        return;
    }
    set_affinity(cpu..cpu + 1);
}

/// Lets the calling thread run on every CPU (undoes [`pin_to_cpu`], also for the threads it
/// starts afterwards, which inherit it).
pub fn unpin() {
    set_affinity(0..online_cpus().min(libc::CPU_SETSIZE as usize));
}

/// The CPUs online. Not `available_parallelism`, which counts the calling thread's affinity:
/// a server thread started by the client's thread, already pinned to [`CLIENT_CPU`], would see
/// one CPU, and then stayed on the client's CPU instead of moving to [`SERVER_CPU`].
fn online_cpus() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// Sets the calling thread's CPU affinity to `cpus` (each below `CPU_SETSIZE`); ignores a
/// refusal.
fn set_affinity(cpus: std::ops::Range<usize>) {
    // SAFETY: `cpu_set_t` is plain old data, for which all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in cpus {
        // SAFETY: the callers keep `cpu` below the number of CPUs, below `CPU_SETSIZE` here.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a valid set of the size passed; 0 is the calling thread.
    let _ = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
}

/// Binds a listener on `127.0.0.1:0` (non-blocking, backlog 1,024) and runs `serve` with it on a
/// thread of its own, named `name`, pinned to [`SERVER_CPU`]. `serve` runs until the
/// [`StopFlag`] is set and a connection arrives after it (which [`Server::stop`] makes).
pub fn spawn_server<F>(name: &str, serve: F) -> Server
where
    F: FnOnce(std::net::TcpListener, StopFlag) + Send + 'static,
{
    use std::os::fd::{FromRawFd, IntoRawFd};
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0");
    // SAFETY: the descriptor comes from `into_raw_fd`, which gives up its ownership.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(listener.into_raw_fd()) };
    start_server(
        name,
        listener,
        Some(SERVER_CPU),
        move |listener, stop, ready| {
            ready.listening();
            serve(listener, stop)
        },
    )
}

/// Says that a 2-worker server listens on every worker (see [`spawn_mt_server`]).
pub struct Ready(std::sync::mpsc::SyncSender<()>);

impl Ready {
    /// Every listener of the server is bound: the client may connect.
    pub fn listening(self) {
        let _ = self.0.send(());
    }
}

/// A listener on `addr` (the listener of a 2-worker server: `127.0.0.1:0`), non-blocking,
/// backlog 1,024, with `SO_REUSEADDR` and `SO_REUSEPORT`, so that a runtime can bind a listener
/// of its own for each of its other workers to the same address (as this function does, given
/// the first one's address).
pub fn bind_reuseport(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Starts a 2-worker server (see [2 workers](self#2-workers)): binds a listener with
/// [`bind_reuseport`] and runs `serve` with it on a thread of its own, named `name`, free to run
/// on every CPU (and so are the threads it starts); returns once `serve` has called
/// [`Ready::listening`]. Panics if `serve` returns or panics before that.
pub fn spawn_mt_server<F>(name: &str, serve: F) -> Server
where
    F: FnOnce(std::net::TcpListener, StopFlag, Ready) + Send + 'static,
{
    let listener =
        bind_reuseport("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0 with SO_REUSEPORT");
    start_server(name, listener, None, serve)
}

/// Runs `serve` on a new thread named `name`, pinned to `cpu` or else free to run on every CPU;
/// returns once it calls [`Ready::listening`]. What [`spawn_server`] and [`spawn_mt_server`] do
/// with the listener they bind; the hyper workloads ([`crate::hyper_service`]) call it with
/// either placement.
pub fn start_server<F>(
    name: &str,
    listener: std::net::TcpListener,
    cpu: Option<usize>,
    serve: F,
) -> Server
where
    F: FnOnce(std::net::TcpListener, StopFlag, Ready) + Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    let stop = StopFlag::default();
    let flag = stop.clone();
    let (ready, listening) = std::sync::mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            match cpu {
                Some(cpu) => pin_to_cpu(cpu),
                None => unpin(),
            }
            serve(listener, flag, Ready(ready))
        })
        .expect("spawn the server thread");
    listening
        .recv()
        .expect("the server stopped before it listened");
    Server { addr, stop, thread }
}

/// What [`echo_client`] measured.
#[derive(Clone, Copy, Debug)]
pub struct EchoReport {
    /// Round trips completed in the window.
    pub requests: u64,
    /// The window's length.
    pub elapsed: Duration,
    /// The 99th percentile of round-trip latency, in nanoseconds.
    pub p99_ns: u64,
    /// CPU time of every thread but the client's over the window ([`ServerCpu`]), nanoseconds.
    pub server_cpu_ns: u64,
    /// Voluntary context switches of every thread but the client's over the window
    /// ([`ServerCpu::stop_with_waits`]).
    pub server_waits: u64,
}

impl EchoReport {
    /// The report as a [`Sample`]: `ns` per request, `rps`, `p99_ns`, `cpu_ns`, `waits_per_kreq`.
    pub fn sample(&self) -> Sample {
        let requests = self.requests.max(1);
        let elapsed = self.elapsed.as_nanos() as f64;
        Sample::ns((elapsed / requests as f64).round() as u128)
            .with("rps", (requests as f64 * 1e9 / elapsed).round())
            .with("p99_ns", self.p99_ns as f64)
            .with(
                "cpu_ns",
                (self.server_cpu_ns as f64 / requests as f64).round(),
            )
            .with("waits_per_kreq", per_kreq(self.server_waits, requests))
    }
}

/// `count` per 1,000 of `requests`, to one decimal.
fn per_kreq(count: u64, requests: u64) -> f64 {
    (count as f64 * 10_000.0 / requests.max(1) as f64).round() / 10.0
}

/// The `q` quantile (0 to 1) of `values` (reordered), 0 if empty.
pub fn quantile(values: &mut [u32], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
    let (_, value, _) = values.select_nth_unstable(rank);
    u64::from(*value)
}

/// Runs the closed-loop echo client on the calling thread: opens `connections` connections to
/// `addr` (`TCP_NODELAY`), then for `duration` keeps a `message`-byte message in flight on each
/// (write it, read the whole echo, write again), and closes them.
///
/// With a `rate` (round trips per second over all connections), each connection instead sends
/// its next message at its next due time (`connections / rate` seconds apart, the connections'
/// first due times spread evenly over that period), or as soon as the echo of the last is back
/// if that is later: an offered load below what the server can take, so that `p99_ns` measures
/// the server's latency at that load rather than the queue of a saturated one. Latency is timed
/// from the moment the message is written, and the client waits for due times in `epoll_wait`
/// (whole milliseconds), so messages go out in bursts about 1 ms apart. Panics if the server closes a
/// connection, or answers with bytes other than the message.
pub fn echo_client(
    addr: SocketAddr,
    connections: usize,
    message: usize,
    rate: Option<u32>,
    duration: Duration,
) -> EchoReport {
    struct Conn {
        stream: TcpStream,
        sent: usize,
        received: usize,
        started: Instant,
        /// Paced: when the next message is due, while the connection waits for it.
        due: Option<Instant>,
    }
    // Paced: the time between two messages of one connection.
    let period =
        rate.map(|rate| Duration::from_secs_f64(connections as f64 / f64::from(rate.max(1))));
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let payload: Vec<u8> = (0..message).map(|i| (i % 251) as u8).collect();
    let now = Instant::now();
    let mut conns: Vec<Conn> = (0..connections)
        .map(|i| {
            let std_stream = std::net::TcpStream::connect(addr).expect("connect to the server");
            std_stream.set_nodelay(true).unwrap();
            std_stream.set_nonblocking(true).unwrap();
            let mut stream = TcpStream::from_std(std_stream);
            poll.registry()
                .register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .unwrap();
            Conn {
                stream,
                sent: 0,
                received: 0,
                started: now,
                due: None,
            }
        })
        .collect();
    // Nanoseconds per round trip (saturating at about 4.3 s).
    let mut latencies: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut buf = vec![0u8; 64 * 1024];
    // Writes the rest of the message, or reads what has come back of its echo (and then writes
    // the next message). Returns once the message is written, after a short read, or at
    // `WouldBlock`: with edge-triggered events, whatever arrives later raises a new event, so
    // the client never makes a read that would block just to find out (one write and one read
    // per round trip, for every server alike).
    let mut step = |conn: &mut Conn, latencies: &mut Vec<u32>| loop {
        if conn.sent == 0 && conn.received == 0 && conn.due.is_some_and(|due| due > Instant::now())
        {
            // Paced, and the next message is not due yet (a spurious writable event).
            return;
        }
        if conn.sent < message {
            match conn.stream.write(&payload[conn.sent..]) {
                Ok(n) => conn.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => panic!("client write: {e}"),
            }
            if conn.sent == message {
                return;
            }
            continue;
        }
        match conn.stream.read(&mut buf[..message - conn.received]) {
            Ok(0) => panic!("the server closed a connection"),
            Ok(n) => {
                assert!(
                    buf[..n] == payload[conn.received..conn.received + n],
                    "the echo differs from the message"
                );
                conn.received += n;
                if conn.received < message {
                    return;
                }
                let now = Instant::now();
                let ns = (now - conn.started).as_nanos();
                latencies.push(ns.min(u128::from(u32::MAX)) as u32);
                conn.started = now;
                conn.sent = 0;
                conn.received = 0;
                if let (Some(period), Some(due)) = (period, conn.due) {
                    // Paced: wait for the next due time, unless it has passed already.
                    let next = due + period;
                    conn.due = Some(next);
                    if next > now {
                        return;
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => panic!("client read: {e}"),
        }
    };
    let cpu = ServerCpu::start();
    let start = Instant::now();
    let count = conns.len();
    for (i, conn) in conns.iter_mut().enumerate() {
        match period {
            // Paced: the first messages spread over one period.
            Some(period) => conn.due = Some(start + period.mul_f64(i as f64 / count as f64)),
            None => {
                conn.started = Instant::now();
                step(conn, &mut latencies);
            }
        }
    }
    let deadline = start + duration;
    let mut now = start;
    while now < deadline {
        let mut timeout = (deadline - now).min(Duration::from_millis(100));
        if period.is_some() {
            // Paced: start every message that is due, on a connection that waits for it.
            for conn in conns.iter_mut() {
                let Some(due) = conn.due else { continue };
                let idle = conn.sent == 0 && conn.received == 0;
                if idle && due <= now {
                    conn.started = Instant::now();
                    step(conn, &mut latencies);
                } else if idle {
                    timeout = timeout.min(due - now);
                }
            }
        }
        poll.poll(&mut events, Some(timeout)).unwrap();
        for event in events.iter() {
            step(&mut conns[event.token().0], &mut latencies);
        }
        now = Instant::now();
    }
    let elapsed = start.elapsed();
    let (server_cpu_ns, server_waits) = cpu.stop_with_waits();
    drop(conns);
    let requests = latencies.len() as u64;
    EchoReport {
        requests,
        elapsed,
        p99_ns: quantile(&mut latencies, 0.99),
        server_cpu_ns,
        server_waits,
    }
}

/// Runs one sample of `workload` against `server` from the calling thread.
///
/// # Errors
///
/// What [`crate::http::wrk`] returns for HTTP workloads.
pub fn run(server: &Server, workload: Workload) -> Result<Sample, String> {
    match workload {
        Workload::Echo {
            connections,
            message,
            rate,
        } => Ok(echo_client(server.addr(), connections, message, rate, echo_duration()).sample()),
        Workload::Http { connections } => {
            let cpu = ServerCpu::start();
            let report = crate::http::wrk(server.addr().port(), connections, wrk_secs())?;
            let (server_cpu_ns, server_waits) = cpu.stop_with_waits();
            let requests = report.requests.max(1);
            Ok(Sample::ns((1e9 / report.rps).round() as u128)
                .with("rps", report.rps.round())
                .with("p99_ns", report.p99_ns.round())
                .with("cpu_ns", (server_cpu_ns as f64 / requests as f64).round())
                .with("waits_per_kreq", per_kreq(server_waits, requests)))
        }
    }
}

/// A runtime's server: serves `Service` on the listener until the [`StopFlag`] is set (on the
/// thread [`spawn_server`] made).
pub type Serve = fn(Service, std::net::TcpListener, StopFlag);

/// The entry point of a network benchmark binary: every runtime of `runtimes` runs every
/// workload of [`WORKLOADS`] (see [`crate::main`] for the arguments). The server is started on
/// the first run (the warm-up) and serves every sample after it. Exits with status 1 if a sample
/// fails (wrk reported errors).
pub fn main(runtimes: &[(&'static str, Serve)]) {
    let matrix: Vec<(&str, &[&str])> = runtimes.iter().map(|(r, _)| (*r, WORKLOADS)).collect();
    // The client runs on this thread (and wrk, a child of it, inherits the CPU).
    pin_to_cpu(CLIENT_CPU);
    let mut server: Option<Server> = None;
    crate::main(&matrix, |runtime, name| {
        let workload = Workload::parse(name).expect("a workload of WORKLOADS");
        let serve = runtimes.iter().find(|(r, _)| *r == runtime).unwrap().1;
        let server = server.get_or_insert_with(|| {
            spawn_server(runtime, move |listener, stop| {
                serve(workload.service(), listener, stop)
            })
        });
        sample_or_exit(server, runtime, name, workload)
    });
}

/// A 2-worker runtime's server: serves `Service` on the listener (bound with `SO_REUSEPORT`,
/// see [`spawn_mt_server`]) and on any other listeners it binds to the same address, calls
/// [`Ready::listening`] once they are all bound, and runs until the [`StopFlag`] is set and a
/// connection arrives after it.
pub type MtServe = fn(Service, std::net::TcpListener, StopFlag, Ready);

/// Where the client of the 2-worker workloads runs (see [Placement](self#placement-at-2-workers)):
/// `None`, anywhere the OS puts it. The environment variable `EBBTIDE_BENCH_MT_CLIENT_CPU`
/// (a CPU number, or `none`) overrides it, to compare placements.
pub const MT_CLIENT_CPU: Option<usize> = None;

/// [`MT_CLIENT_CPU`], or what `EBBTIDE_BENCH_MT_CLIENT_CPU` says.
pub fn mt_client_cpu() -> Option<usize> {
    match std::env::var("EBBTIDE_BENCH_MT_CLIENT_CPU") {
        Ok(v) if v == "none" => None,
        Ok(v) => Some(
            v.parse()
                .expect("EBBTIDE_BENCH_MT_CLIENT_CPU: a CPU number or `none`"),
        ),
        Err(_) => MT_CLIENT_CPU,
    }
}

/// The entry point of a 2-worker network benchmark binary: every runtime of `runtimes` runs
/// every workload of [`MT_WORKLOADS`], as [`main`] does, with the server started by
/// [`spawn_mt_server`] (on every CPU) and the client placed by [`mt_client_cpu`].
///
/// After each sample, `extra` (called on the client's thread) may add figures of the server's own
/// to it ([`no_extra`]: none).
pub fn mt_main(runtimes: &[(&'static str, MtServe)], extra: fn() -> Vec<(&'static str, f64)>) {
    let matrix: Vec<(&str, &[&str])> = runtimes.iter().map(|(r, _)| (*r, MT_WORKLOADS)).collect();
    match mt_client_cpu() {
        Some(cpu) => pin_to_cpu(cpu),
        None => unpin(),
    }
    let mut server: Option<Server> = None;
    crate::main(&matrix, |runtime, name| {
        let workload = Workload::parse(name).expect("a workload of MT_WORKLOADS");
        let serve = runtimes.iter().find(|(r, _)| *r == runtime).unwrap().1;
        let server = server.get_or_insert_with(|| {
            spawn_mt_server(runtime, move |listener, stop, ready| {
                serve(workload.service(), listener, stop, ready)
            })
        });
        let mut sample = sample_or_exit(server, runtime, name, workload);
        sample.extra.extend(extra());
        sample
    });
}

/// No figures beyond the harness's (for [`mt_main`]).
pub fn no_extra() -> Vec<(&'static str, f64)> {
    Vec::new()
}

/// [`run`], or exits with status 1 saying why it failed.
fn sample_or_exit(server: &Server, runtime: &str, name: &str, workload: Workload) -> Sample {
    match run(server, workload) {
        Ok(sample) => sample,
        Err(e) => {
            eprintln!("{runtime} {name}: {e}");
            std::process::exit(1);
        }
    }
}

const LISTENER: Token = Token(usize::MAX);

/// Accepts every pending connection: sets `TCP_NODELAY`, registers it (readable and writable,
/// edge-triggered) with the token of a free slot of `conns`, filled by `new`. Returns whether
/// `stop` is set.
fn accept_all<C>(
    poll: &Poll,
    listener: &TcpListener,
    conns: &mut Vec<Option<(TcpStream, C)>>,
    free: &mut Vec<usize>,
    stop: &StopFlag,
    new: impl Fn() -> C,
) -> bool {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                if stop.is_set() {
                    return true;
                }
                stream.set_nodelay(true).unwrap();
                let slot = free.pop().unwrap_or_else(|| {
                    conns.push(None);
                    conns.len() - 1
                });
                poll.registry()
                    .register(
                        &mut stream,
                        Token(slot),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .unwrap();
                conns[slot] = Some((stream, new()));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return stop.is_set(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A connection reset before it was accepted, or out of descriptors: go on.
            Err(_) => return stop.is_set(),
        }
    }
}

/// Writes as much of `out` as the socket takes; drops what was written. `Err` if the connection
/// failed.
fn flush(stream: &mut TcpStream, out: &mut Vec<u8>) -> Result<(), ()> {
    let mut written = 0;
    while written < out.len() {
        match stream.write(&out[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(()),
        }
    }
    out.drain(..written);
    Ok(())
}

/// The floor of the echo workloads: an echo server with no runtime, one edge-triggered mio loop.
///
/// On each connection's event: write what is still pending, then read (into one [`BUF_SIZE`]
/// buffer) and write back each read at once, until a read would block or comes back short (a
/// short read emptied the socket: what arrives later raises a new edge-triggered event, so no
/// read is made just to see `WouldBlock`; Tokio's streams skip that read the same way). What a
/// write does not take is kept for the next writable event, and reading waits until it is gone
/// (the async servers' `write_all` waits the same way).
pub fn mio_echo_server(listener: std::net::TcpListener, stop: StopFlag) {
    let mut poll = Poll::new().unwrap();
    let mut listener = TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(1024);
    let mut conns: Vec<Option<(TcpStream, Vec<u8>)>> = Vec::new();
    let mut free = Vec::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                if accept_all(&poll, &listener, &mut conns, &mut free, &stop, Vec::new) {
                    return;
                }
                continue;
            }
            let slot = event.token().0;
            let Some((stream, pending)) = conns[slot].as_mut() else {
                continue;
            };
            let mut close = flush(stream, pending).is_err();
            while !close && pending.is_empty() {
                match stream.read(&mut buf) {
                    Ok(0) => close = true,
                    Ok(n) => {
                        // Straight from the buffer; only what the socket does not take is copied.
                        let mut written = 0;
                        while written < n {
                            match stream.write(&buf[written..n]) {
                                Ok(k) => written += k,
                                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                                Err(_) => {
                                    close = true;
                                    break;
                                }
                            }
                        }
                        pending.extend_from_slice(&buf[written..n]);
                        if n < buf.len() {
                            // A short read emptied the socket: the next bytes raise a new event.
                            break;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => close = true,
                }
            }
            if close {
                conns[slot] = None;
                free.push(slot);
            }
        }
    }
}

/// The floor of the HTTP workloads: [`HttpConn::handle`] in one edge-triggered mio loop, no
/// runtime.
///
/// On each connection's event: write what is still pending, then read into the connection's
/// [`HttpConn`] and write its answers at once, until a read would block or comes back short (see
/// [`mio_echo_server`]), or the handler closes the connection (after its last answer is
/// written).
pub fn mio_http_server(listener: std::net::TcpListener, stop: StopFlag) {
    let mut poll = Poll::new().unwrap();
    let mut listener = TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(1024);
    // The connection, and whether it closes once its answers are written.
    let mut conns: Vec<Option<(TcpStream, (HttpConn, bool))>> = Vec::new();
    let mut free = Vec::new();
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                let new = || (HttpConn::new(), false);
                if accept_all(&poll, &listener, &mut conns, &mut free, &stop, new) {
                    return;
                }
                continue;
            }
            let slot = event.token().0;
            let Some((stream, (conn, closing))) = conns[slot].as_mut() else {
                continue;
            };
            let mut close = flush(stream, conn.output_mut()).is_err();
            while !close && !*closing && conn.output().is_empty() {
                match stream.read(conn.read_buf()) {
                    Ok(0) => close = true,
                    Ok(n) => {
                        let short = n < conn.read_buf().len();
                        *closing = conn.handle(n) == Verdict::Close;
                        close = flush(stream, conn.output_mut()).is_err();
                        if short {
                            // A short read emptied the socket: the next bytes raise a new event.
                            break;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => close = true,
                }
            }
            if close || (*closing && conn.output().is_empty()) {
                conns[slot] = None;
                free.push(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names() {
        assert_eq!(
            Workload::parse("tcp_echo_512x1k"),
            Some(Workload::Echo {
                connections: 512,
                message: 1024,
                rate: None,
            })
        );
        assert_eq!(
            Workload::parse("http_plaintext_64"),
            Some(Workload::Http { connections: 64 })
        );
        assert!(WORKLOADS.iter().all(|w| Workload::parse(w).is_some()));
        assert_eq!(Workload::parse("tcp_echo_x"), None);
    }

    #[test]
    fn quantiles() {
        let mut values: Vec<u32> = (1..=1000).rev().collect();
        assert_eq!(quantile(&mut values, 0.99), 990);
        assert_eq!(quantile(&mut values, 1.0), 1000);
        assert_eq!(quantile(&mut [], 0.99), 0);
    }

    #[test]
    fn the_floor_echoes_and_stops() {
        let server = spawn_server("mio-echo", mio_echo_server);
        for (connections, message) in [(1, 100), (8, 1024)] {
            let report = echo_client(
                server.addr(),
                connections,
                message,
                None,
                Duration::from_millis(50),
            );
            assert!(report.requests > 0);
            assert!(report.p99_ns > 0);
        }
        server.stop();
    }

    /// The shape of a thread-per-core server: a second `SO_REUSEPORT` listener on the
    /// harness's address, on a thread of its own, ready before the client connects; both serve,
    /// and [`Server::stop`] ends both.
    #[test]
    fn a_server_with_two_listeners_echoes_and_stops() {
        let server = spawn_mt_server("mio-echo-2", |listener, stop, ready| {
            let addr = listener.local_addr().unwrap();
            let second = bind_reuseport(addr).expect("a second listener on the address");
            let stop_second = stop.clone();
            let other = std::thread::spawn(move || mio_echo_server(second, stop_second));
            ready.listening();
            mio_echo_server(listener, stop);
            other.join().unwrap();
        });
        let report = echo_client(server.addr(), 32, 100, None, Duration::from_millis(50));
        assert!(report.requests > 0);
        server.stop();
    }

    /// A thread started by a pinned thread can still be pinned elsewhere (the server thread,
    /// started by the client's, see [`start_server`]).
    #[test]
    fn a_thread_started_by_a_pinned_one_moves_to_its_cpu() {
        if online_cpus() < 2 {
            return;
        }
        let placed = std::thread::spawn(|| {
            pin_to_cpu(CLIENT_CPU);
            std::thread::spawn(|| {
                pin_to_cpu(SERVER_CPU);
                // SAFETY: no preconditions; returns the CPU the calling thread runs on.
                let on_server_cpu = unsafe { libc::sched_getcpu() } == SERVER_CPU as i32;
                unpin();
                // SAFETY: `cpu_set_t` is plain old data; `set` is a valid set of the size passed.
                let everywhere = unsafe {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
                    libc::CPU_COUNT(&set) as usize
                };
                (on_server_cpu, everywhere)
            })
            .join()
            .unwrap()
        })
        .join()
        .unwrap();
        assert!(placed.0, "the thread did not move to the server's CPU");
        assert_eq!(placed.1, online_cpus().min(libc::CPU_SETSIZE as usize));
    }

    #[test]
    fn mt_workload_names() {
        assert_eq!(
            Workload::parse("mt_tcp_echo_64x100"),
            Some(Workload::Echo {
                connections: 64,
                message: 100,
                rate: None,
            })
        );
        assert_eq!(
            Workload::parse("mt_tcp_echo_64x100_at40k"),
            Some(Workload::Echo {
                connections: 64,
                message: 100,
                rate: Some(40_000),
            })
        );
        assert!(MT_WORKLOADS.iter().all(|w| Workload::parse(w).is_some()));
    }

    #[test]
    fn the_floor_answers_http() {
        let server = spawn_server("mio-http", mio_http_server);
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert_eq!(answer.matches("HTTP/1.1 200 OK\r\n").count(), 2);
        assert!(answer.ends_with("Hello, World!"));
        server.stop();
    }
}
