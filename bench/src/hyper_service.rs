//! The hyper workloads: the same hyper service on ebbtide (ebbtide-hyper), Tokio (hyper-util) and
//! smol (smol-hyper), loaded by wrk (HTTP/1.1) and h2load (HTTP/2), run by the `hyper_*`
//! binaries through [`main`].
//!
//! # Workloads
//!
//! - `hyper_h1_{C}` (C = 64, 256): HTTP/1.1 keep-alive, `wrk -t1 -c{C} -d{S}s --latency`, as
//!   `http_plaintext_{C}` ([`crate::net`]) but with hyper's HTTP/1 server instead of the shared
//!   `httparse` handler.
//! - `hyper_h2_{C}x{M}` (16 connections x 32 streams): HTTP/2 with prior knowledge (h2c),
//!   `h2load -c{C} -m{M} -t1 -D{S}` ([`h2load`]). Skipped, with a message from `list`, when
//!   `h2load` (Debian's `nghttp2-client`) is not installed.
//! - `mt_hyper_h1_{C}` (C = 256): `hyper_h1_{C}` on 2-worker runtimes.
//! - `https_handshakes`, `https_1mb`: HTTP/1.1 over TLS 1.3 (rustls on every runtime), full
//!   handshakes per second from a client of the crate's, and 1 MiB bodies to
//!   `wrk -t1 -c16 https://...`: see [`crate::https`]. At 1 worker.
//!
//! `S` is [`wrk_secs`](crate::net::wrk_secs) (1 s quick, else 2 s), for both load generators.
//!
//! # The service
//!
//! Every server answers every request with [`hello`] through `service_fn`: `200 OK`, the body
//! `Hello, World!` as a `Full<Bytes>` (hyper adds `content-length` and, for HTTP/1, a `date`
//! header it formats once per second) and `content-type: text/plain`. Each connection gets a
//! builder of its own (ebbtide-hyper's are meant to be built per connection: its HTTP/2 stream
//! limit follows the task memory), with the runtime's timer set on every runtime alike (hyper's
//! 30 s `header_read_timeout` is then on for HTTP/1, a sleep armed per request head), and for
//! HTTP/2 the runtime's executor (a task per stream) and hyper's default limit of 200 concurrent
//! streams (ebbtide-hyper's too when task memory has no limit, as here). `TCP_NODELAY` on every
//! connection.
//!
//! # Placement
//!
//! As the other network workloads: at 1 worker the server's thread (and every thread it starts)
//! pinned to [`SERVER_CPU`](crate::net::SERVER_CPU), the client thread (and wrk or h2load, its
//! children) to [`CLIENT_CPU`](crate::net::CLIENT_CPU); at 2 workers nothing pinned (see
//! [`crate::net`]'s *Placement at 2 workers*), the listener bound with `SO_REUSEPORT` so that a
//! thread-per-core server can bind one per worker.
//!
//! # Figures of a sample
//!
//! `ns`, `rps`, `p99_ns`, `cpu_ns` and `waits_per_kreq` as in [`crate::net`] (HTTP/2: `rps` is
//! h2load's, `p99_ns` the 99th percentile of every request h2load logged, see [`h2load`]); and
//! `allocs_per_req` (with `alloc_bytes_per_req`): the allocations (and reallocations) of the
//! server process over the load run, over its requests, counted by [`CountingAllocator`], which
//! each `hyper_*` binary installs as its global allocator. The client thread only waits for its
//! child meanwhile: its few allocations (spawning the child, reading its report) are counted too,
//! a few hundred over a run of about 100,000 requests or more. HTTPS (see [`crate::https`]):
//! `https_handshakes` counts connections as requests (`rps` is connections per second, `p99_ns`
//! connect to answer; `client_cpu_pct`: how busy its client process was, see
//! [`crate::https`]), and `https_1mb` adds `mb_s`, megabytes (10^6 bytes) of bodies per second.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response};

use crate::http::BODY;
use crate::net::{self, Ready, Server, ServerCpu, StopFlag};
use crate::Sample;

/// The 1-worker hyper workloads, in the order they are listed (the HTTPS ones,
/// [`crate::https::WORKLOADS`], are listed after them).
pub const WORKLOADS: &[&str] = &["hyper_h1_64", "hyper_h1_256", "hyper_h2_16x32"];

/// The 2-worker hyper workloads.
pub const MT_WORKLOADS: &[&str] = &["mt_hyper_h1_256"];

/// The HTTP version a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 (hyper's `http1` connection).
    Http1,
    /// HTTP/2 with prior knowledge (hyper's `http2` connection).
    Http2,
    /// HTTP/1.1 over TLS ([`crate::https`]): the runtime's rustls glue with
    /// [`crate::https::server_config`], then hyper's `http1` connection serving
    /// [`crate::https::service`].
    Https1,
}

/// One hyper workload, parsed from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `hyper_h1_{connections}`: wrk with this many connections.
    Http1 {
        /// wrk's `-c`.
        connections: usize,
    },
    /// `hyper_h2_{connections}x{streams}`: h2load with this many connections and streams.
    Http2 {
        /// h2load's `-c`.
        connections: usize,
        /// h2load's `-m`: concurrent streams per connection.
        streams: usize,
    },
    /// `https_handshakes`: a fresh TLS connection per request ([`crate::https::handshakes`]).
    HttpsHandshakes,
    /// `https_1mb`: 1 MiB bodies over keep-alive TLS connections, loaded by wrk.
    Https1mb,
}

impl Workload {
    /// Parses a workload name such as `hyper_h1_64` or `hyper_h2_16x32`, with or without the
    /// `mt_` prefix of the 2-worker workloads (the same shape).
    pub fn parse(name: &str) -> Option<Workload> {
        let name = name.strip_prefix("mt_").unwrap_or(name);
        match name {
            "https_handshakes" => return Some(Workload::HttpsHandshakes),
            "https_1mb" => return Some(Workload::Https1mb),
            _ => {}
        }
        if let Some(connections) = name.strip_prefix("hyper_h1_") {
            return Some(Workload::Http1 {
                connections: connections.parse().ok()?,
            });
        }
        let (connections, streams) = name.strip_prefix("hyper_h2_")?.split_once('x')?;
        Some(Workload::Http2 {
            connections: connections.parse().ok()?,
            streams: streams.parse().ok()?,
        })
    }

    /// The protocol its server must speak.
    pub fn protocol(self) -> Protocol {
        match self {
            Workload::Http1 { .. } => Protocol::Http1,
            Workload::Http2 { .. } => Protocol::Http2,
            Workload::HttpsHandshakes | Workload::Https1mb => Protocol::Https1,
        }
    }
}

/// The service of every hyper server (`service_fn(hello)`): `Hello, World!`, `text/plain`.
///
/// # Errors
///
/// Never: the error type is [`Infallible`], as hyper's `service_fn` needs one.
pub async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// A runtime's hyper server: serves [`Protocol`] with [`hello`] on the listener with the given
/// number of workers (binding a `SO_REUSEPORT` listener of its own for each other worker, if it
/// is thread-per-core), calls [`Ready::listening`] once every listener is bound, and runs until
/// the [`StopFlag`] is set and a connection arrives after it.
pub type Serve = fn(Protocol, usize, std::net::TcpListener, StopFlag, Ready);

/// One runtime variant of a `hyper_*` binary.
pub struct Runtime {
    /// Its name in the report (`ebbtide`, `tokio-ct`, `smol-mt2`, ...).
    pub name: &'static str,
    /// Worker threads.
    pub workers: usize,
    /// Whether it runs [`MT_WORKLOADS`] (placed as the 2-worker workloads, where ebbtide's
    /// 1-worker baseline runs too) rather than [`WORKLOADS`].
    pub mt: bool,
    /// Its server.
    pub serve: Serve,
}

/// Whether h2load can run (`h2load --version` succeeds).
pub fn h2load_available() -> bool {
    Command::new("h2load")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The entry point of a hyper benchmark binary: each runtime of `runtimes` runs [`WORKLOADS`]
/// and [`crate::https::WORKLOADS`], or [`MT_WORKLOADS`] (as its [`mt`](Runtime::mt) says), see
/// [`crate::main`] for the arguments, but the HTTP/2 workload when h2load is missing (said on
/// standard error). The server is started on the first run (the warm-up) and serves every sample
/// after it; the process exits with status 1 if a sample fails. Run as
/// `<binary> https-client ...`, it is the HTTPS handshake client instead
/// ([`crate::https::client_main`]).
pub fn main(runtimes: &[Runtime]) {
    // Run as the HTTPS handshake client (a child of the process that measures).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [first, rest @ ..] = args.as_slice() {
        if first == crate::https::CLIENT_ARG {
            crate::https::client_main(rest);
        }
    }
    let h2load = h2load_available();
    if !h2load {
        eprintln!(
            "hyper_h2_*: skipped, h2load is not installed (Debian: `apt-get install nghttp2-client`)"
        );
    }
    let one_worker: Vec<&str> = WORKLOADS
        .iter()
        .chain(crate::https::WORKLOADS)
        .copied()
        .filter(|w| h2load || !matches!(Workload::parse(w), Some(Workload::Http2 { .. })))
        .collect();
    let matrix: Vec<(&str, &[&str])> = runtimes
        .iter()
        .map(|r| {
            let workloads: &[&str] = if r.mt { MT_WORKLOADS } else { &one_worker };
            (r.name, workloads)
        })
        .collect();
    let mut server: Option<Server> = None;
    crate::main(&matrix, |name, workload_name| {
        let workload = Workload::parse(workload_name).expect("a hyper workload");
        let runtime = runtimes.iter().find(|r| r.name == name).unwrap();
        let server = server.get_or_insert_with(|| start(runtime, workload));
        match run(server, workload) {
            Ok(sample) => sample,
            Err(e) => {
                eprintln!("{name} {workload_name}: {e}");
                std::process::exit(1);
            }
        }
    });
}

/// Places the client (the calling thread) and starts `runtime`'s server for `workload`, placed
/// as the other network workloads at 1 worker or at 2 (see [Placement](self#placement)).
fn start(runtime: &Runtime, workload: Workload) -> Server {
    let (workers, serve) = (runtime.workers, runtime.serve);
    let protocol = workload.protocol();
    if protocol == Protocol::Https1 {
        // The certificates, the TLS config and the 1 MiB body, before the server starts.
        crate::https::prepare();
    }
    let serve = move |listener, stop, ready| serve(protocol, workers, listener, stop, ready);
    if !runtime.mt {
        net::pin_to_cpu(net::CLIENT_CPU);
        let listener =
            mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0");
        net::start_server(
            runtime.name,
            into_std(listener),
            Some(net::SERVER_CPU),
            serve,
        )
    } else {
        match net::mt_client_cpu() {
            Some(cpu) => net::pin_to_cpu(cpu),
            None => net::unpin(),
        }
        net::spawn_mt_server(runtime.name, serve)
    }
}

/// mio's listener (non-blocking, backlog 1,024, as [`net::spawn_server`] binds it) as std's.
fn into_std(listener: mio::net::TcpListener) -> std::net::TcpListener {
    use std::os::fd::{FromRawFd, IntoRawFd};
    // SAFETY: the descriptor comes from `into_raw_fd`, which gives up its ownership.
    unsafe { std::net::TcpListener::from_raw_fd(listener.into_raw_fd()) }
}

/// Runs one sample of `workload` against `server` from the calling thread.
fn run(server: &Server, workload: Workload) -> Result<Sample, String> {
    let port = server.addr().port();
    let secs = net::wrk_secs();
    let allocations = Allocations::now();
    let cpu = ServerCpu::start();
    let mut extra = Vec::new();
    let (rps, p99_ns, requests) = match workload {
        Workload::Http1 { connections } => {
            let report = crate::http::wrk(port, connections, secs)?;
            (report.rps, report.p99_ns, report.requests)
        }
        Workload::Http2 {
            connections,
            streams,
        } => {
            let report = h2load(port, connections, streams, secs)?;
            (report.rps, report.p99_ns, report.requests)
        }
        Workload::HttpsHandshakes => {
            let duration = std::time::Duration::from_secs(secs.into());
            let report =
                crate::https::handshakes(port, crate::https::HANDSHAKE_CONNECTIONS, duration)?;
            let busy = report.client_cpu_ns as f64 * 100.0 / report.elapsed_ns.max(1) as f64;
            extra.push(("client_cpu_pct", busy.round()));
            (report.rate(), report.p99_ns as f64, report.connections)
        }
        Workload::Https1mb => {
            let url = format!("https://127.0.0.1:{port}{}", crate::https::BIG_BODY_PATH);
            let report = crate::http::wrk_url(&url, crate::https::BIG_BODY_CONNECTIONS, secs)?;
            // As the file-server workloads: wrk must have read every body whole.
            let body_bytes_per_sec = report.rps * crate::https::BIG_BODY_LEN as f64;
            if report.bytes_per_sec < body_bytes_per_sec * 0.99 {
                return Err(format!(
                    "wrk read {:.0} bytes/s, less than the {body_bytes_per_sec:.0} of {:.0} \
                     whole answers per second",
                    report.bytes_per_sec, report.rps
                ));
            }
            extra.push(("mb_s", (body_bytes_per_sec / 1e4).round() / 100.0));
            (report.rps, report.p99_ns, report.requests)
        }
    };
    let (server_cpu_ns, server_waits) = cpu.stop_with_waits();
    let allocated = Allocations::now().since(allocations);
    let requests = requests.max(1) as f64;
    let mut sample = Sample::ns((1e9 / rps).round() as u128)
        .with("rps", rps.round())
        .with("p99_ns", p99_ns.round())
        .with("cpu_ns", (server_cpu_ns as f64 / requests).round())
        .with(
            "waits_per_kreq",
            (server_waits as f64 * 10_000.0 / requests).round() / 10.0,
        )
        .with(
            "allocs_per_req",
            (allocated.count as f64 * 100.0 / requests).round() / 100.0,
        )
        .with(
            "alloc_bytes_per_req",
            (allocated.bytes as f64 / requests).round(),
        );
    sample.extra.extend(extra);
    Ok(sample)
}

/// What [`h2load`] measured.
#[derive(Clone, Copy, Debug)]
pub struct H2loadReport {
    /// Requests per second (`finished in ..., N req/s`).
    pub rps: f64,
    /// The 99th percentile of request latency over every request of the run (from its
    /// `--log-file`), in nanoseconds.
    pub p99_ns: f64,
    /// Requests that succeeded.
    pub requests: u64,
}

/// Runs `h2load -c{connections} -m{streams} -t1 -D{secs} --log-file=...
/// http://127.0.0.1:{port}/` (HTTP/2 with prior knowledge, h2load's default for `http://`) and
/// reads its report. h2load prints no percentiles: `p99_ns` comes from the per-request log
/// (microseconds from each request's start to the end of its response), exact over every
/// request.
///
/// # Errors
///
/// If h2load cannot run or fails, reports a request that failed, errored or timed out, or an
/// answer other than 2xx, or its report lacks the rate or the counts. The message includes
/// h2load's output.
pub fn h2load(
    port: u16,
    connections: usize,
    streams: usize,
    secs: u32,
) -> Result<H2loadReport, String> {
    let log = std::env::temp_dir().join(format!("ebbtide-bench-h2load-{}.log", std::process::id()));
    let output = Command::new("h2load")
        .arg(format!("-c{connections}"))
        .arg(format!("-m{streams}"))
        .arg("-t1")
        .arg(format!("-D{secs}"))
        .arg(format!("--log-file={}", log.display()))
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .map_err(|e| format!("cannot run h2load: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let logged = std::fs::read_to_string(&log);
    let _ = std::fs::remove_file(&log);
    if !output.status.success() {
        return Err(format!(
            "h2load failed ({}):\n{stdout}{stderr}",
            output.status
        ));
    }
    let with_output = |e: String| format!("{e}; h2load said:\n{stdout}{stderr}");
    let (rps, requests) = parse_h2load(&stdout).map_err(with_output)?;
    let logged = logged.map_err(|e| with_output(format!("reading h2load's log: {e}")))?;
    let p99_ns =
        log_p99_ns(&logged).ok_or_else(|| with_output("h2load logged no request".into()))?;
    Ok(H2loadReport {
        rps,
        p99_ns,
        requests,
    })
}

/// The rate and the succeeded requests of h2load's report (see [`h2load`]).
fn parse_h2load(report: &str) -> Result<(f64, u64), String> {
    let mut rps = None;
    let mut succeeded = None;
    for line in report.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("finished in ") {
            // `finished in 2.00s, 154321.50 req/s, 4.71MB/s`
            rps = rest
                .split(", ")
                .find_map(|part| part.strip_suffix(" req/s"))
                .and_then(|rate| rate.parse::<f64>().ok())
                .filter(|r| *r > 0.0);
        } else if let Some(counts) = line.strip_prefix("requests: ") {
            // `requests: 308643 total, 308675 started, 308643 done, 308643 succeeded, 0 failed,
            // 0 errored, 0 timeout`
            for part in counts.split(", ") {
                let (count, what) = part.split_once(' ').ok_or("unreadable request counts")?;
                let count: u64 = count.parse().map_err(|_| "unreadable request counts")?;
                match what {
                    "succeeded" => succeeded = Some(count),
                    "failed" | "errored" | "timeout" if count > 0 => {
                        return Err(format!("h2load reported {count} requests {what}"));
                    }
                    _ => {}
                }
            }
        } else if let Some(codes) = line.strip_prefix("status codes: ") {
            // `status codes: 308643 2xx, 0 3xx, 0 4xx, 0 5xx`
            let others = codes
                .split(", ")
                .filter(|part| !part.ends_with(" 2xx"))
                .any(|part| !part.starts_with("0 "));
            if others {
                return Err(format!("h2load reported answers other than 2xx: {codes}"));
            }
        }
    }
    Ok((
        rps.ok_or("h2load reported no rate")?,
        succeeded.ok_or("h2load reported no request counts")?,
    ))
}

/// The 99th percentile, in nanoseconds, of the third column of h2load's `--log-file`
/// (microseconds until the end of the response); `None` if it has no request.
fn log_p99_ns(log: &str) -> Option<f64> {
    let mut micros: Vec<u64> = log
        .lines()
        .filter_map(|line| line.split('\t').nth(2)?.trim().parse().ok())
        .collect();
    if micros.is_empty() {
        return None;
    }
    let rank = ((micros.len() as f64 * 0.99).ceil() as usize).clamp(1, micros.len()) - 1;
    let (_, p99, _) = micros.select_nth_unstable(rank);
    Some(*p99 as f64 * 1_000.0)
}

// ---------------------------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------------------------

/// Shards of [`CountingAllocator`]'s counters: each thread counts in one of its own (threads
/// take them in turn), so that the 2-worker servers' threads do not bounce one cache line on
/// every allocation.
const SHARDS: usize = 8;

/// One thread's counters, alone on its cache lines.
#[repr(align(128))]
struct Shard {
    count: AtomicU64,
    bytes: AtomicU64,
}

static COUNTERS: [Shard; SHARDS] = [const {
    Shard {
        count: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    }
}; SHARDS];

/// The shard the next thread to allocate takes.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard (`usize::MAX` until its first allocation). A `const` cell without a
    /// destructor: reading it never allocates, so the allocator may.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The system allocator, counting allocations and reallocations and the bytes they ask for:
/// install it with `#[global_allocator] static ALLOC: CountingAllocator = CountingAllocator;` and
/// read [`Allocations::now`].
///
/// Leaner than [`crate::mem::CountingAlloc`] (which also tracks live bytes and asks malloc for
/// each block's usable size), since here it runs on every request of a throughput workload: one
/// thread-local read and two uncontended relaxed additions per allocation, nothing per free.
pub struct CountingAllocator;

fn count(bytes: usize) {
    let index = SHARD
        .try_with(|shard| {
            let mut index = shard.get();
            if index == usize::MAX {
                index = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
                shard.set(index);
            }
            index
        })
        .unwrap_or(0);
    let shard = &COUNTERS[index];
    shard.count.fetch_add(1, Ordering::Relaxed);
    shard.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are only statistics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// [`CountingAllocator`]'s counters summed over its shards: allocations (and reallocations) so
/// far, and the bytes they asked for. Zero unless it is the global allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocations {
    /// Allocations and reallocations.
    pub count: u64,
    /// Bytes they asked for (a reallocation counts its new size).
    pub bytes: u64,
}

impl Allocations {
    /// The counters now.
    pub fn now() -> Allocations {
        COUNTERS
            .iter()
            .fold(Allocations::default(), |sum, shard| Allocations {
                count: sum.count + shard.count.load(Ordering::Relaxed),
                bytes: sum.bytes + shard.bytes.load(Ordering::Relaxed),
            })
    }

    /// What was allocated between `earlier` and `self`.
    pub fn since(self, earlier: Allocations) -> Allocations {
        Allocations {
            count: self.count - earlier.count,
            bytes: self.bytes - earlier.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names() {
        assert_eq!(
            Workload::parse("hyper_h1_64"),
            Some(Workload::Http1 { connections: 64 })
        );
        assert_eq!(
            Workload::parse("mt_hyper_h1_256"),
            Some(Workload::Http1 { connections: 256 })
        );
        assert_eq!(
            Workload::parse("hyper_h2_16x32"),
            Some(Workload::Http2 {
                connections: 16,
                streams: 32
            })
        );
        assert!(WORKLOADS
            .iter()
            .chain(MT_WORKLOADS)
            .all(|w| Workload::parse(w).is_some()));
        assert_eq!(
            Workload::parse("https_handshakes"),
            Some(Workload::HttpsHandshakes)
        );
        assert_eq!(Workload::parse("https_1mb"), Some(Workload::Https1mb));
        assert!(crate::https::WORKLOADS
            .iter()
            .all(|w| Workload::parse(w).is_some_and(|w| w.protocol() == Protocol::Https1)));
        assert_eq!(Workload::parse("hyper_h3_1"), None);
    }

    #[test]
    fn h2load_reports() {
        let good = "finished in 2.00s, 154321.50 req/s, 4.71MB/s\n\
            requests: 308643 total, 308675 started, 308643 done, 308643 succeeded, 0 failed, 0 errored, 0 timeout\n\
            status codes: 308643 2xx, 0 3xx, 0 4xx, 0 5xx\n";
        let (rps, requests) = parse_h2load(good).unwrap();
        assert!((rps - 154_321.5).abs() < 1e-9);
        assert_eq!(requests, 308_643);
        assert!(parse_h2load(&good.replace("0 errored", "2 errored")).is_err());
        assert!(parse_h2load(&good.replace("0 5xx", "7 5xx")).is_err());
        assert!(parse_h2load("requests: 1 total\n").is_err());
        let log: String = (1..=1000)
            .map(|i| format!("1700000000000000\t200\t{i}\n"))
            .collect();
        assert_eq!(log_p99_ns(&log), Some(990_000.0));
        assert_eq!(log_p99_ns(""), None);
    }
}
