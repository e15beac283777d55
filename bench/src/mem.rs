//! Shared by the memory and idle binaries (`mem_*`): a counting global allocator, readers of
//! `/proc/self/status`, the file-descriptor limit, the task every runtime parks for `task_bytes`,
//! and the two helper processes of `rss_10k_idle` (the server each sample runs in, and the clients
//! that server starts).
//!
//! # Workloads
//!
//! - `task_bytes`: memory per spawned task beyond the future itself, for [`parked_task`] (the same
//!   future type on every runtime; its size is printed as `future_bytes`). Extra `bytes`
//!   (overhead per task), `total_bytes` (per task, future included).
//! - `timer_bytes`: extra memory per task that sleeps 60 s, against a task of the same shape that
//!   awaits [`Never`] instead. Extra `bytes`.
//! - `rss_10k_idle`: VmHWM of a server process that accepted [`conns`] TCP connections, one task
//!   per connection parked in a read. Extra `bytes` (VmHWM), `per_conn_bytes`, `conns`.
//! - `idle_wakeups`: context switches per second of every thread of an idle runtime (one task
//!   asleep for 60 s, one listener in accept). Extra `per_sec`.
//!
//! Each binary documents its method per runtime in its module docs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Sample;

/// Tasks spawned by `task_bytes` and `timer_bytes`.
pub const TASKS: usize = 10_000;

/// How long a `timer_bytes` task sleeps (it never wakes during the measurement).
pub const LONG_SLEEP: Duration = Duration::from_secs(60);

/// Whether `EBBTIDE_BENCH_QUICK=1` asks for the short variants.
pub fn quick() -> bool {
    std::env::var("EBBTIDE_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// Connections of `rss_10k_idle`: `EBBTIDE_BENCH_CONNS` if set, else 10,000 (2,000 when quick).
/// The workload keeps its name; the count is reported as extra `conns`.
pub fn conns() -> usize {
    std::env::var("EBBTIDE_BENCH_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick() { 2_000 } else { 10_000 })
}

// ---------------------------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------------------------

static LIVE: AtomicIsize = AtomicIsize::new(0);
static LIVE_USABLE: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes: install it with
/// `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;` and read [`live_bytes`].
///
/// It counts the bytes asked for (`Layout::size`), and separately what malloc actually handed out
/// (`malloc_usable_size`, [`live_usable_bytes`]), which includes malloc's rounding but not its
/// 8-byte chunk header.
pub struct CountingAlloc;

fn usable(ptr: *mut u8) -> isize {
    // SAFETY: `ptr` came from `System`, which is malloc (or posix_memalign) on Linux, and is live.
    unsafe { libc::malloc_usable_size(ptr.cast()) as isize }
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are only statistics.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_USABLE.fetch_add(usable(ptr), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_USABLE.fetch_add(usable(ptr), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        LIVE_USABLE.fetch_sub(usable(ptr), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_usable = usable(ptr);
        // SAFETY: forwarded with the caller's guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
            LIVE_USABLE.fetch_add(usable(new) - old_usable, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        new
    }
}

/// Bytes allocated and not yet freed, as asked for (0 unless [`CountingAlloc`] is installed).
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes allocated and not yet freed, as malloc handed them out (`malloc_usable_size`).
pub fn live_usable_bytes() -> isize {
    LIVE_USABLE.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) so far.
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// A snapshot of the allocator's counters, to take differences per task.
#[derive(Clone, Copy, Debug)]
pub struct Heap {
    live: isize,
    usable: isize,
    allocations: usize,
}

impl Heap {
    /// The counters now.
    pub fn now() -> Heap {
        Heap {
            live: live_bytes(),
            usable: live_usable_bytes(),
            allocations: allocations(),
        }
    }

    /// Live bytes per task since `self`, with `n` tasks: `(asked for, as handed out, allocations)`.
    pub fn per_task_since(self, n: usize) -> (f64, f64, f64) {
        let now = Heap::now();
        (
            (now.live - self.live) as f64 / n as f64,
            (now.usable - self.usable) as f64 / n as f64,
            (now.allocations - self.allocations) as f64 / n as f64,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The parked task
// ---------------------------------------------------------------------------------------------

/// A future that is never ready and never wakes anyone (zero-sized).
#[derive(Debug, Default, Clone, Copy)]
pub struct Never;

impl Future for Never {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// Tasks of [`parked_task`] (and the sleepers of `timer_bytes`) polled at least once so far.
pub static POLLED: AtomicUsize = AtomicUsize::new(0);

/// The task of `task_bytes`: counts its first poll in [`POLLED`], then awaits [`Never`]. The same
/// future type on every runtime (16 bytes on 64-bit targets: the captured `i` and the state).
/// Measurements end by cancelling it.
// An async block rather than an `async fn`: an `async fn`'s future keeps its argument twice (the
// argument and the local it moves into), 24 bytes instead of 16.
#[allow(clippy::manual_async_fn)]
pub fn parked_task(i: usize) -> impl Future<Output = usize> + Send + 'static {
    async move {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Never.await;
        std::hint::black_box(i)
    }
}

/// The size of `parked_task`'s future.
pub fn parked_task_size() -> usize {
    size_of_val(&parked_task(0))
}

/// The size of a value's type (for futures, whose types cannot be named).
pub fn size_of_val<T>(_: &T) -> usize {
    std::mem::size_of::<T>()
}

/// A `task_bytes` sample: per-task `total` bytes (future included) for a future of `future`
/// bytes.
pub fn task_sample(total: f64, future: usize) -> Sample {
    Sample::ns(0)
        .with("bytes", total - future as f64)
        .with("total_bytes", total)
        .with("future_bytes", future as f64)
}

// ---------------------------------------------------------------------------------------------
// /proc and limits
// ---------------------------------------------------------------------------------------------

/// A `kB` field of `/proc/self/status` (e.g. `VmRSS`, `VmHWM`), in bytes.
pub fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status_field(&status, field).expect("a field of /proc/self/status") * 1024
}

fn status_field(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Raises the soft limit of open files to the hard limit.
pub fn raise_nofile_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid rlimit; raising the soft limit up to the hard one is allowed.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}

/// Voluntary plus involuntary context switches of every thread of this process but `except`
/// (a thread id), from `/proc/self/task/*/status`.
pub fn context_switches(except: i32) -> u64 {
    let mut total = 0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for task in tasks.flatten() {
        if task.file_name().to_str() == Some(&except.to_string()) {
            continue;
        }
        // A thread may exit between the listing and the read.
        if let Ok(status) = std::fs::read_to_string(task.path().join("status")) {
            total += status_field(&status, "voluntary_ctxt_switches").unwrap_or(0)
                + status_field(&status, "nonvoluntary_ctxt_switches").unwrap_or(0);
        }
    }
    total
}

/// This thread's id.
pub fn thread_id() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Settling time of `idle_wakeups` before counting starts.
pub const IDLE_SETTLE: Duration = Duration::from_millis(100);

/// The counting window of `idle_wakeups`: 2 s (0.5 s when quick).
pub fn idle_window() -> Duration {
    if quick() {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(2)
    }
}

/// Measures `idle_wakeups` from the calling thread (not the runtime's): waits [`IDLE_SETTLE`],
/// then counts the context switches of every other thread of the process over
/// [`idle_window`]. Extra `per_sec`, `switches`, `threads`.
pub fn measure_idle() -> Sample {
    let me = thread_id();
    std::thread::sleep(IDLE_SETTLE);
    let window = idle_window();
    let start = Instant::now();
    let before = context_switches(me);
    std::thread::sleep(window);
    let after = context_switches(me);
    let secs = start.elapsed().as_secs_f64();
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
    let switches = after.saturating_sub(before);
    Sample::ns(0)
        .with("per_sec", switches as f64 / secs)
        .with("switches", switches as f64)
        .with("threads", threads as f64)
}

// ---------------------------------------------------------------------------------------------
// rss_10k_idle: the server and client processes
// ---------------------------------------------------------------------------------------------

const CLIENTS_ARG: &str = "__clients";
const SERVER_ARG: &str = "__server";
const RESULT_PREFIX: &str = "__rss";

/// Handles the hidden modes of a `mem_*` binary; call it first in `main`. `__clients <addr> <n>`
/// opens the connections and holds them until stdin closes; `__server <runtime> <n>` calls
/// `server(runtime, n)` (which must end with [`IdleServer::finish`]). Both exit the process; any
/// other arguments return to the caller.
pub fn hidden_modes(server: impl FnOnce(&str, usize)) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, addr, n] if mode == CLIENTS_ARG => {
            clients(addr.parse().expect("address"), n.parse().expect("count"));
            std::process::exit(0);
        }
        [mode, runtime, n] if mode == SERVER_ARG => {
            raise_nofile_limit();
            // A server whose clients failed would wait for connections forever.
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_secs(300));
                eprintln!("rss_10k_idle: the server did not get its connections in 300 s");
                std::process::exit(1);
            });
            server(runtime, n.parse().expect("count"));
            std::process::exit(0);
        }
        _ => {}
    }
}

/// A listener on 127.0.0.1 (port chosen by the OS) with a backlog of 4,096 (the kernel caps it at
/// `somaxconn`), non-blocking, for the runtimes' `from_std`. The larger backlog keeps the clients'
/// burst from overflowing the accept queue (each overflow costs a client a 1 s SYN retransmit).
pub fn bind_listener() -> std::net::TcpListener {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    // SAFETY: the fd is a live, bound socket; listen(2) on a listening socket only sets its
    // backlog.
    unsafe { libc::listen(listener.as_raw_fd(), 4096) };
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    listener
}

/// The client process: `n` connections to `addr`, held until stdin closes. Each socket lingers 0 s,
/// so closing it sends a reset and leaves no TIME_WAIT behind (runs back to back would otherwise
/// run out of ephemeral ports).
fn clients(addr: SocketAddr, n: usize) {
    raise_nofile_limit();
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        let stream = match TcpStream::connect(addr) {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("rss_10k_idle clients: connection {i} of {n} failed: {e}");
                std::process::exit(1);
            }
        };
        set_linger_zero(&stream);
        streams.push(stream);
    }
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(streams);
}

fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is a live socket; `linger` is a valid `struct linger` of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// The server side of `rss_10k_idle`, inside the `__server` process.
///
/// Protocol: [`IdleServer::begin`] first thing (RSS of the bare process), build the runtime and
/// bind the listener, [`IdleServer::start_clients`] (RSS before connections; starts the client
/// process), accept every connection with one task each parked in a read, let them settle, then
/// [`IdleServer::finish`] from inside the runtime (RSS after, VmHWM; prints the result line for
/// the parent and stops the clients).
#[derive(Debug)]
pub struct IdleServer {
    n: usize,
    bare: u64,
    before: u64,
    clients: Option<Child>,
}

impl IdleServer {
    /// Notes the RSS of the process before its runtime exists.
    pub fn begin(n: usize) -> IdleServer {
        IdleServer {
            n,
            bare: status_bytes("VmRSS"),
            before: 0,
            clients: None,
        }
    }

    /// Notes the RSS before any connection and starts the clients, which connect to `addr`.
    pub fn start_clients(&mut self, addr: SocketAddr) {
        self.before = status_bytes("VmRSS");
        let exe = std::env::current_exe().expect("current_exe");
        let child = Command::new(exe)
            .args([CLIENTS_ARG, &addr.to_string(), &self.n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the client process");
        self.clients = Some(child);
    }

    /// How many connections to accept.
    pub fn conns(&self) -> usize {
        self.n
    }

    /// Measures, prints the result line for the parent, and stops the clients. `reserved` is the
    /// memory the runtime reserved up front for its capacity (0 if it reserves nothing).
    pub fn finish(mut self, reserved: u64) {
        let after = status_bytes("VmRSS");
        let hwm = status_bytes("VmHWM");
        println!(
            "{RESULT_PREFIX} {hwm} {} {} {after} {reserved}",
            self.bare, self.before
        );
        let _ = std::io::stdout().flush();
        if let Some(mut child) = self.clients.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

/// One `rss_10k_idle` sample of `runtime`, measured in a fresh `__server` process (so that VmHWM
/// is this sample's alone). Extra `bytes` (VmHWM after every connection is parked),
/// `per_conn_bytes` ((VmRSS after − VmRSS before connecting) / conns), `conns`,
/// `runtime_bytes` (VmRSS growth from building the runtime and binding the listener), and
/// `reserved_bytes` where the runtime reserves capacity up front.
pub fn rss_sample(runtime: &str) -> Sample {
    let n = conns();
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args([SERVER_ARG, runtime, &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server process");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut result = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("server output");
        if let Some(rest) = line.strip_prefix(RESULT_PREFIX) {
            let v: Vec<f64> = rest
                .split_whitespace()
                .map(|x| x.parse().expect("a number"))
                .collect();
            result = Some(v);
        }
    }
    let status = child.wait().expect("server exit");
    let v = match result {
        Some(v) if status.success() && v.len() == 5 => v,
        _ => {
            eprintln!("rss_10k_idle: the {runtime} server failed ({status})");
            std::process::exit(1);
        }
    };
    let (hwm, bare, before, after, reserved) = (v[0], v[1], v[2], v[3], v[4]);
    let mut sample = Sample::ns(0)
        .with("bytes", hwm)
        .with("per_conn_bytes", (after - before) / n as f64)
        .with("conns", n as f64)
        .with("runtime_bytes", before - bare);
    if reserved > 0.0 {
        sample = sample.with("reserved_bytes", reserved);
    }
    sample
}

/// Prints a note on stderr (kept out of the JSON lines on stdout).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
