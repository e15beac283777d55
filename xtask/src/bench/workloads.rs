//! What `cargo xtask bench` measures: the workloads in report order, what each one does and how
//! its figure reads, and the notes on how the runtimes differ.

/// How a workload's primary figure reads. Lower is better for every kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Wall time of the whole workload (`ns`), and for timers the mean lateness (`late_ns`).
    Time,
    /// A network load for a fixed time: mean time per request (`ns`), with `rps`, `p99_ns` and the
    /// server's CPU time per request (`cpu_ns`).
    PerRequest,
    /// Memory (`bytes`), with workload-specific figures beside it.
    Bytes,
    /// Wake-ups per second of an idle runtime (`per_sec`).
    PerSec,
}

/// One workload.
pub struct Workload {
    /// The name the binaries know it by.
    pub name: &'static str,
    /// What it does, for the report.
    pub about: &'static str,
    /// How its figure reads.
    pub kind: Kind,
}

const fn w(name: &'static str, kind: Kind, about: &'static str) -> Workload {
    Workload { name, about, kind }
}

/// Workloads in report order.
pub const WORKLOADS: &[Workload] = &[
    w("spawn_many_1000", Kind::Time, "spawn 1,000 empty tasks from a task, await all"),
    w("spawn_many_10000", Kind::Time, "spawn 10,000 empty tasks from a task, await all"),
    w("yield_many", Kind::Time, "200 tasks x 1,000 `yield_now`"),
    w(
        "ping_pong",
        Kind::Time,
        "1,000 tasks, each spawning a child and trading two oneshot messages with it",
    ),
    w("chained_spawn", Kind::Time, "a chain of 1,000 tasks, each spawning the next"),
    w(
        "mpsc_uncontended",
        Kind::Time,
        "send 5,000 then receive 5,000 (capacity 5,000)",
    ),
    w(
        "spsc_uncontended",
        Kind::Time,
        "the same through a channel with one producer: ebbtide's `spsc`; the peers have no \
         single-producer channel and run their mpsc (Tokio, Embassy) or bounded channel (smol)",
    ),
    w(
        "mpsc_contended",
        Kind::Time,
        "5 producer tasks x 1,000 messages, capacity 100, one consumer",
    ),
    w(
        "request_reply",
        Kind::Time,
        "1,000 round trips: a oneshot sent over an mpsc of capacity 10",
    ),
    w(
        "owned_mpsc_uncontended",
        Kind::Time,
        "owned channels (`mpsc::channel(5_000)` made in the run): send 5,000 then receive 5,000",
    ),
    w(
        "owned_mpsc_contended",
        Kind::Time,
        "owned `mpsc::channel(100)`: 5 producer tasks x 1,000 messages, one consumer",
    ),
    w(
        "owned_unbounded",
        Kind::Time,
        "owned `mpsc::unbounded_channel()`: send 5,000 then receive 5,000",
    ),
    w(
        "owned_oneshot_ping_pong",
        Kind::Time,
        "`ping_pong` with owned `oneshot::channel()`s, two made per task",
    ),
    w(
        "owned_request_reply",
        Kind::Time,
        "`request_reply` with owned channels: a fresh `oneshot::channel()` per round trip over an `mpsc::channel(10)`",
    ),
    w(
        "owned_broadcast",
        Kind::Time,
        "owned `broadcast::channel(1_024)`: 1,000 messages to 10 receiver tasks",
    ),
    // Multi-thread scheduler workloads (`mt_*` binaries): the peers' multi-thread runtimes with
    // 2 workers against ebbtide's (the runtimes are in the notes). The benchmark's main thread
    // is never a worker: it spawns, then blocks until the tasks are done.
    w(
        "mt_spawn_many_local",
        Kind::Time,
        "multi-thread runtimes: a task on a worker spawns 10,000 empty tasks; the main thread waits until the last has run (Tokio's `rt_multi_threaded` `spawn_many_local`)",
    ),
    w(
        "mt_spawn_many_remote_idle",
        Kind::Time,
        "multi-thread: the main thread (not a worker) spawns 10,000 empty tasks into the idle runtime through its handle, then awaits every join handle (Tokio's `spawn_many_remote_idle`)",
    ),
    w(
        "mt_yield_many",
        Kind::Time,
        "multi-thread: the main thread spawns 200 tasks x 1,000 `yield_now` (Tokio's `yield_many`)",
    ),
    w(
        "mt_ping_pong",
        Kind::Time,
        "multi-thread: a task spawns 1,000 tasks, each spawning a child and trading two oneshot messages with it (Tokio's `ping_pong`)",
    ),
    w(
        "mt_chained_spawn",
        Kind::Time,
        "multi-thread: a chain of 1,000 tasks, each spawning the next (Tokio's `chained_spawn`)",
    ),
    w(
        "mt_imbalanced",
        Kind::Time,
        "multi-thread: one task spawns 200 tasks (all on its worker), each 20 rounds of ~50 µs of fixed busy work then `yield_now`: 200 ms of work on one core, what stealing can spread over the others",
    ),
    w(
        "timers",
        Kind::Time,
        "10,000 tasks sleeping 1-10 ms (distinct), real clock: total time",
    ),
    w(
        "timers_fire_100k",
        Kind::Time,
        "100,000 timers registered and fired: 100 tasks each awaiting 1,000 sleeps of 1-10 ms together (a hand-written join polling every pending sleep), real clock: total time",
    ),
    w(
        "timers_cancel_100k",
        Kind::Time,
        "100,000 timers registered and cancelled: one task creates 100,000 sleeps of about 1 s, polls each once and drops it: total time",
    ),
    w("tcp_echo_1x100", Kind::PerRequest, "TCP echo on loopback, 1 connection, 100-byte messages, closed loop"),
    w("tcp_echo_64x100", Kind::PerRequest, "TCP echo, 64 connections, 100-byte messages"),
    w("tcp_echo_512x100", Kind::PerRequest, "TCP echo, 512 connections, 100-byte messages"),
    w("tcp_echo_1x1k", Kind::PerRequest, "TCP echo, 1 connection, 1 KiB messages"),
    w("tcp_echo_64x1k", Kind::PerRequest, "TCP echo, 64 connections, 1 KiB messages"),
    w("tcp_echo_512x1k", Kind::PerRequest, "TCP echo, 512 connections, 1 KiB messages"),
    w(
        "http_plaintext_64",
        Kind::PerRequest,
        "HTTP/1.1 plaintext (`Hello, World!`, keep-alive), `wrk -t1 -c64`, the same httparse handler on every server",
    ),
    w(
        "http_plaintext_256",
        Kind::PerRequest,
        "HTTP/1.1 plaintext, `wrk -t1 -c256`",
    ),
    // 2-worker network workloads (`mtnet_*` binaries): the runtimes of the `mt_*` workloads
    // serving the same echo and HTTP as above, free to use both CPUs, which the load generator
    // shares.
    w(
        "mt_tcp_echo_64x100",
        Kind::PerRequest,
        "2-worker runtimes: TCP echo, 64 connections, 100-byte messages, closed loop; the server on both CPUs with the client (one thread)",
    ),
    w(
        "mt_tcp_echo_64x100_at40k",
        Kind::PerRequest,
        "2-worker runtimes: TCP echo, 64 connections, 100-byte messages, paced at 40,000 round trips/s in all (about a third of what one worker serves closed-loop), so that p99 is the server's latency at a load it keeps up with; time per request is then the client's pace, and the server's CPU per request is the figure to compare",
    ),
    w(
        "mt_tcp_echo_512x100",
        Kind::PerRequest,
        "2-worker runtimes: TCP echo, 512 connections, 100-byte messages",
    ),
    w(
        "mt_http_plaintext_256",
        Kind::PerRequest,
        "2-worker runtimes: HTTP/1.1 plaintext, `wrk -t1 -c256`",
    ),
    // hyper workloads (`hyper_*` binaries, `bench/src/hyper_service.rs`): the same hyper
    // service on ebbtide (ebbtide-hyper), Tokio (hyper-util) and smol (smol-hyper).
    w(
        "hyper_h1_64",
        Kind::PerRequest,
        "hyper's HTTP/1.1 server (`service_fn` answering `Hello, World!` as `Full<Bytes>`, `content-type: text/plain`, keep-alive) on each runtime's glue, `wrk -t1 -c64`; the server on CPU 0, wrk on CPU 1",
    ),
    w(
        "hyper_h1_256",
        Kind::PerRequest,
        "hyper HTTP/1.1, `wrk -t1 -c256`",
    ),
    w(
        "hyper_h2_16x32",
        Kind::PerRequest,
        "hyper's HTTP/2 server (h2c, prior knowledge; a task per stream on the runtime's executor), the same service, `h2load -c16 -m32 -t1`; p99 from h2load's per-request log",
    ),
    w(
        "mt_hyper_h1_256",
        Kind::PerRequest,
        "2-worker runtimes: hyper HTTP/1.1, `wrk -t1 -c256`; nothing pinned (the server's workers and wrk share both CPUs)",
    ),
    // HTTPS workloads (the `hyper_*` binaries, `bench/src/https.rs`): the same hyper service
    // over the same rustls (ring, TLS 1.3) on every runtime's TLS glue.
    w(
        "https_handshakes",
        Kind::PerRequest,
        "HTTPS, a full TLS 1.3 handshake per request: 16 client threads (rustls, verifying the certificate), each connecting, shaking hands, sending one `GET /` with `Connection: close`, reading the answer and closing, in a loop; requests/s are connections per second, p99 from connect to the answer's last byte, CPU and allocations per connection; the server on CPU 0, the client (a process of its own) on CPU 1",
    ),
    w(
        "https_1mb",
        Kind::PerRequest,
        "HTTPS, keep-alive: `GET /1mb` (a 1 MiB body, one `Bytes` cloned per answer) to `wrk -t1 -c16 https://...`; MB/s (`mb_s`) beside requests/s; placed as `https_handshakes`",
    ),
    // File-server workloads (`fs_servers` binary, `bench/src/fs.rs`): the file server demo
    // against nginx, both other processes, loaded by wrk.
    w(
        "fs_1k",
        Kind::PerRequest,
        "file server, 1 worker: `GET` of a 1 KiB file, keep-alive, `wrk -t1 -c64`; the ebbtide file server demo (`--workers 1`) against nginx (`worker_processes 1`, `sendfile` on and off, and with `open_file_cache`), the server on CPU 0, wrk on CPU 1",
    ),
    w(
        "fs_1m",
        Kind::PerRequest,
        "file server, 1 worker: `GET` of a 1 MiB file, `wrk -t1 -c64`, placed as `fs_1k`",
    ),
    w(
        "mt_fs_1k",
        Kind::PerRequest,
        "file server, 2 workers: `GET` of a 1 KiB file, `wrk -t1 -c64`; the file server with `--workers 2` against nginx with `worker_processes 2`; nothing pinned (the server and wrk share both CPUs)",
    ),
    w(
        "mt_fs_1m",
        Kind::PerRequest,
        "file server, 2 workers: `GET` of a 1 MiB file, `wrk -t1 -c64`, placed as `mt_fs_1k`",
    ),
    // ebbtide's C API against libuv (`ffi_*`, programs in `bench/c/`, see `bench/ffi.rs`).
    w(
        "ffi_echo_1",
        Kind::Time,
        "C API: a TCP echo server and 1 client connection in one process on one thread, 20,000 round trips of 64 bytes on 127.0.0.1 (libuv's `benchmark-ping-pongs`)",
    ),
    w(
        "ffi_echo_64",
        Kind::Time,
        "C API: the echo server and 64 client connections, 500 round trips of 64 bytes each (32,000 in all)",
    ),
    w(
        "ffi_timers_1m",
        Kind::Time,
        "C API: 1,000,000 timers of 1 to 1,000 ms (1,000 per ms), all firing, from the first start to the last callback and the timers freed (libuv's `benchmark-million-timers`); at least 1 s of waiting, so the process CPU is the figure to compare",
    ),
    w(
        "ffi_timers_1m_start",
        Kind::Time,
        "C API: the time `ffi_timers_1m` takes to start its 1,000,000 timers",
    ),
    w(
        "task_bytes",
        Kind::Bytes,
        "runtime memory per spawned task beyond the future itself (the same small future everywhere)",
    ),
    w(
        "timer_bytes",
        Kind::Bytes,
        "extra memory per sleeping timer (10,000 tasks each awaiting a 60 s sleep, against the same tasks awaiting a never-ready future)",
    ),
    w(
        "rss_10k_idle",
        Kind::Bytes,
        "peak RSS of a server holding 10,000 idle TCP connections on loopback (clients in another process), one task per connection parked in read",
    ),
    w(
        "idle_wakeups",
        Kind::PerSec,
        "wake-ups per second of an idle runtime: one task sleeping 60 s and one listener waiting in accept; context switches of every thread",
    ),
];

/// Workloads whose channels come in a single-executor flavour (`ebbtide-local`, `embassy` with
/// `NoopRawMutex`) and a thread-safe one (everything else): ratios compare like with like.
pub const CHANNEL_WORKLOADS: &[&str] = &[
    "ping_pong",
    "mpsc_uncontended",
    "spsc_uncontended",
    "mpsc_contended",
    "request_reply",
];

/// Runtimes that are neither ebbtide nor a peer: the floor a runtime's cost is measured against.
pub const FLOORS: &[&str] = &["mio"];

/// Runtime display order.
pub const RUNTIME_ORDER: &[&str] = &[
    "ebbtide",
    "ebbtide-local",
    "ebbtide-bare",
    "ebbtide-bare-local",
    "ebbtide-std",
    "ebbtide-1w",
    "ebbtide-2w",
    "ebbtide-2w-steal",
    "ebbtide-2w-steal-nobatch",
    "tokio-ct",
    "tokio-mt1",
    "tokio-mt2",
    "smol",
    "smol-mt2",
    "embassy",
    "embassy-cs",
    "nginx-sendfile",
    "nginx-nosendfile",
    "nginx-cache",
    "libuv",
    "mio",
];

/// The notes at the end of the report.
pub const NOTES: &str = "\
## How the runtimes differ

- **ebbtide** (executor workloads): ebbtide-core's `Executor` with static `TaskPool`s and one `Runner` on the
  benchmark thread, no IO or time driver; channels with the default `CriticalSectionRawMutex`
  (thread-safe). **ebbtide-local**: the same with `LocalRawMutex` channels (single-executor, `!Sync`).
  Timers, network, memory and idle: ebbtide-std (mio) on the real clock. A channel (`mpsc`) is split once,
  so a fresh one is allocated per run before the clock starts; oneshots are reused (split again per exchange).
- **tokio-ct**: `current_thread` runtime. **tokio-mt1**: `multi_thread` with one worker: the root future
  runs on the benchmark thread and the tasks on the worker, so wakes cross threads. Tokio's
  `yield_now` defers the wake until the IO/time driver has been polled, where ebbtide and Embassy requeue
  at once (ebbtide instead polls IO at least every 61 scheduler batches and bounds every task by a budget of
  128 polls). Tokio rounds sleeps up to whole milliseconds, hence its lateness.
- **smol**: async-executor 1.x `Executor` driven by `futures_lite::future::block_on` on one thread
  (timers and network: `async_io::block_on`, `async_io::Timer`, `Async<TcpStream>`); async-channel, with
  `bounded(1)` standing in for a oneshot (smol has none).
- **embassy**: embassy-executor 0.10 (`platform-std`, `executor-thread`), embassy-sync 0.8 with
  `NoopRawMutex` (single-executor); **embassy-cs**: the channel workloads with `CriticalSectionRawMutex`.
  Tasks return `()`: results come back through an embassy-sync `Channel`, and a `Signal` stands in for a
  oneshot. A spawn scans the task's static pool from the start for a free slot (filling a pool of N costs
  about N^2/2 claims). Timers: embassy-time 0.5 `std` driver (an alarm thread rescanning its queue), in a
  binary of their own (one time driver per binary). No std networking: absent from the network workloads.
- Multi-thread workloads (`mt_*`): **tokio-mt2**: `new_multi_thread().worker_threads(2)` with IO and time
  enabled (work stealing, a LIFO slot, a global inject queue for spawns from outside). **smol-mt2**: one
  async-executor `Executor` run by 2 threads, each in `async_io::block_on(executor.run(shutdown))` (every
  spawn goes to the global queue, runners take batches of it and steal from each other); async-channel
  `bounded(1)` for a oneshot. **ebbtide-1w**: today's `ebbtide_std::Runtime` (one thread runs every task,
  with its reactor) inside `Runtime::block_on` on a thread of its own: the 1-worker scaling baseline, so its
  ratio to the 2-worker peers is not like for like (on `mt_imbalanced` it has one core for 200 ms of work).
  `bench/src/bin/mt_ebbtide.rs` lists the ebbtide variants run (`VARIANTS`: name, worker threads). In every
  runtime the benchmark's main thread is not a worker: it spawns through the runtime's handle (the root task,
  or all tasks for `mt_spawn_many_remote_idle` and `mt_yield_many`), and the last task to finish wakes it
  through a `std::sync::mpsc` channel (`mt_spawn_many_remote_idle` awaits its join handles in the runtime's
  `block_on` instead). The sizes are those of Tokio's `rt_multi_threaded` benchmark. Beside the wall time,
  the process's CPU time per run (`getrusage`, every thread: workers busy, spinning or polling, and the main
  thread): on these shared cores a runtime's wall time also depends on how much of the 2 cores it got.
- **mio**: no runtime: a hand-written event loop on raw mio doing the same work, the floor. Network ratios to
  it say what the runtime costs.
- Network workloads (`tcp_echo_*`, `http_plaintext_*`): the server under test on one thread pinned to CPU 0, the load (a closed-loop raw-mio
  client, or `wrk -t1`) pinned to CPU 1; every server sets `TCP_NODELAY` and uses a 4 KiB buffer per
  connection. Figures are medians of samples of a fixed duration. On a shared VM the throughput of every
  runtime (the floor included) moves by up to 40% between processes; the server CPU per request is steadier.
- 2-worker network workloads (`mt_tcp_echo_*`, `mt_http_plaintext_*`, binaries `mtnet_*`): the same echo and
  HTTP service (4 KiB buffer, `TCP_NODELAY`, `HttpConn`) on the `mt_*` runtimes. **ebbtide-2w** and
  **ebbtide-2w-steal** are thread-per-core, as ebbtide servers are written (`examples/src/serve.rs`): each
  worker accepts on a `SO_REUSEPORT` listener of its own on the one address (worker 0 the harness's, worker 1
  one it binds with `TcpListener::bind_reuseport` in a `Handle::spawn_on` task), the kernel spreads the
  connections over them by a hash of the addresses (not evenly: about half each, give or take a few), and a
  connection's task stays on the worker that accepted it (unless an idle worker steals it, with stealing on:
  an idle worker takes queued tasks, and else the unread IO events of a busy worker, whose tasks it then
  steals). **ebbtide-2w-steal-nobatch**: thieves take only queued tasks, not the rest of a busy
  worker's running batch (`Builder::steal_running_batch(false)`), to show what that is worth. **ebbtide-1w**: the same with one worker and one listener, the scaling baseline. **tokio-mt2**
  (`new_multi_thread().worker_threads(2)`, `enable_all`) and **smol-mt2** (async-executor on 2 threads with
  async-io, whose one reactor is polled by whichever runner blocks on it) run one accept loop spawning a task
  per connection, as their users write servers; their workers share one IO driver and steal each other's
  tasks. The server is not pinned (its threads may use both CPUs); the load generator (the one-thread echo
  client, or `wrk -t1`) runs on the same 2 cores, so it and the server compete: requests/s and latency are
  those of the whole machine, and the server CPU per request (every thread of the server, the client's
  subtracted; for wrk the whole server process) is the steadier figure. `CPU / ebbtide-1w's` divides a
  runtime's by the 1-worker baseline's: above 1.00, the second worker costs CPU per request (more wake-ups
  and cross-thread traffic) for what it adds in throughput. Ratios are to the better of tokio-mt2 and
  smol-mt2 (`CPU ratio to best peer`: the lower server CPU per request of the two); `w1_conns_pct` (ebbtide's
  2-worker variants): the share of a sample's connections that worker 1 accepted, in percent;
  `waits_per_kreq` (every runtime): voluntary context switches of the server's threads per 1,000 requests
  (`getrusage` `ru_nvcsw`, the client's subtracted), how often a server thread blocked and was woken again.
- hyper workloads (`hyper_h1_64`, `hyper_h1_256`, `hyper_h2_16x32`, `mt_hyper_h1_256`, binaries
  `hyper_ebbtide`, `hyper_tokio`, `hyper_smol`, see `bench/src/hyper_service.rs`): hyper 1.x serving the same
  `service_fn` (`Hello, World!` as `Full<Bytes>`, `content-type: text/plain`; hyper adds `content-length` and
  `date`) through each runtime's glue, a builder per connection with the runtime's timer (so hyper's
  `header_read_timeout` is on everywhere) and, for HTTP/2, its executor (a task per stream, at most 200
  concurrent streams everywhere). **ebbtide**: ebbtide-std, `EbbtideIo` and `ebbtide_hyper::server::http1()` /
  `http2()`; at 2 workers **ebbtide-2w-steal** (the default `Builder`: work stealing on) thread-per-core as
  `mtnet_ebbtide`, and **ebbtide-1w** the 1-worker baseline. **tokio-ct** / **tokio-mt2**: hyper-util's
  `TokioIo`, `TokioExecutor`, `TokioTimer` with hyper's own builders, `enable_all`. **smol** / **smol-mt2**:
  smol-hyper 0.1.1 (`FuturesIo` over async-io's `Async<TcpStream>`, `SmolExecutor` over an async-executor
  `Executor`, `SmolTimer`), the executor run by `async_io::block_on` on the server thread or by 2 threads as
  `mtnet_smol`; smol-hyper zeroes hyper's read buffer before each read. Placement and server CPU per
  request as `http_plaintext_*` (1 worker: server on CPU 0, load on CPU 1) and `mt_http_plaintext_256`
  (nothing pinned). HTTP/2 is loaded by `h2load -c16 -m32 -t1 -D{2|1}` (h2c prior knowledge; Debian's
  `nghttp2-client`, skipped with a message when missing), its p99 taken from its per-request log.
  `allocations per request`: allocations and reallocations in the server process over the load run (a
  counting global allocator in each binary, sharded per thread), over the requests; `alloc_bytes_per_req`
  the bytes they asked for. Under each table, every ebbtide row's figures over Tokio's.
- HTTPS workloads (`https_handshakes`, `https_1mb`, in the `hyper_*` binaries, see `bench/src/https.rs`): the
  hyper HTTP/1.1 service and placement of `hyper_h1_*` over TLS, one rustls 0.23 build on every runtime
  (ebbtide-hyper's; `cargo tree -i rustls` shows one version), the *ring* provider with X25519 put first
  among its key exchange groups (rustls 0.23.48 lists P-384 first, whose generic code in ring then took most
  of a handshake's CPU time; browsers and OpenSSL offer X25519 first), TLS 1.3 only, ALPN
  `http/1.1`, the same certificates made at startup with rcgen (a CA and a `localhost` certificate it signed,
  both ECDSA P-256; the server sends the latter alone), session resumption off (no tickets, no session cache),
  no handshake timeout. **ebbtide**: `ebbtide_hyper::tls::TlsAcceptor` (its own glue over
  `rustls::ServerConnection`), `EbbtideIo`, `ebbtide_hyper::server::http1()`. **tokio-ct**: tokio-rustls 0.26's
  `TlsAcceptor`, `TokioIo`, hyper's `http1::Builder` with `TokioTimer`. **smol**: futures-rustls 0.26's
  `TlsAcceptor` over `Async<TcpStream>`, smol-hyper's `FuturesIo` (which does not offer vectored writes, so hyper
  copies each body into its write buffer), `SmolTimer`. `https_handshakes`' client is the benchmark binary run
  as a child process (`<binary> https-client`), 16 threads each using rustls's blocking `StreamOwned` with
  resumption off: X25519 and `TLS13_AES_256_GCM_SHA384` are negotiated, the server signs once per handshake
  and the client verifies two signatures, so the client (on one CPU) may set the rate, and the server CPU per
  connection is then the figure to compare (`client_cpu_pct`: the client process's CPU time over the run's
  wall time, in percent; near 100, the client set the rate). `https_1mb`'s load is Debian's wrk, which links OpenSSL (TLS 1.3,
  no certificate check); each sample checks that wrk read whole bodies. Allocations per request count the
  server process as for the hyper workloads (per connection for the handshakes).
- File-server workloads (`fs_1k`, `fs_1m`, `mt_fs_1k`, `mt_fs_1m`, binary `fs_servers`, see
  `bench/src/fs.rs`): **ebbtide** is the file server demo (`examples/src/bin/fileserver.rs`, `--workers 1` or
  `2`, a `SO_REUSEPORT` listener per worker), **nginx-sendfile** and **nginx-nosendfile** nginx (Debian's
  `nginx-light`) with `sendfile on` or `off`, `worker_processes` 1 or 2 (with 2, `listen ... reuseport`),
  a master process, `access_log off`, `tcp_nopush on`, `keepalive_requests 1000000`, no `open_file_cache`,
  in a temporary prefix of its own; **nginx-cache** the same with `open_file_cache max=1000 inactive=20s;
  open_file_cache_valid 1s;` (as the file server, which keeps up to 1,024 files open per worker for 1 s,
  see `examples/src/http/cache.rs`) and `sendfile` off for the 1 KiB file, on for the 1 MiB one. Each serves a temporary folder holding a 1 KiB and a 1 MiB file of
  random bytes (checked byte for byte before the load) to `wrk -t1 -c64 --latency` over keep-alive
  connections: one 1 s warm-up, then samples of 2 s (1 s with `--quick`). 1 worker: the server (every
  process and thread of it) pinned to CPU 0, wrk to CPU 1; 2 workers: nothing pinned, the server's workers
  and wrk share both CPUs, so requests/s are the whole machine's. `MB/s`: file bodies (10^6 bytes) per
  second. `server CPU per request`: user + system time of every process of the server (`/proc/PID/stat`,
  nginx's master and workers) over the wrk run, over the requests wrk completed (10 ms clock ticks).
  Ratios are to the best of the three nginx variants (nginx's best of `sendfile` on and off, and its cache), each figure
  on its own: `ratio to best peer` compares time per request (1 / requests/s), `CPU ratio to best peer`
  the lower nginx CPU per request.
- C API workloads (`ffi_echo_1`, `ffi_echo_64`, `ffi_timers_1m`, `ffi_timers_1m_start`; `bench/c/`): the same
  C program written on **ebbtide**'s C API (`libebbtide_ffi.a` of `cargo build --release -p ebbtide-ffi`, one
  worker thread: the one in `ebbtide_rt_run`) and on **libuv** (Debian's `libuv1-dev`, one `uv_loop_t`), both
  `gcc -O2`, a loop or runtime made per sample outside the timed span. Echo: the clients and the server share
  the one thread; the server echoes what it reads from a 4 KiB buffer, a client writes 64 bytes and waits for
  all 64 back (and its write's callback) before the next round. Timers: ebbtide's delays count from the
  `ebbtide_timer` call (never early), libuv's from the loop's cached time (`uv_now`, not updated while the
  program starts timers), so ebbtide's last timer is due later by about the time starting them took: compare
  the process CPU (`CPU ratio to best peer`). libuv's total includes `uv_close` of each timer handle, which
  ebbtide does not need (a fired timer frees itself).
- Ratio: the runtime's median over the best peer's (Tokio, smol, Embassy) in the same run, below 1.00
  means better (faster, smaller, fewer wake-ups). For the channel workloads the single-executor flavours
  (ebbtide-local, embassy) are compared with each other and the thread-safe ones (ebbtide, tokio, smol,
  embassy-cs) with each other; for `task_bytes` the static pools (ebbtide-core's `TaskPool`, Embassy's)
  with each other and the run-time ones (ebbtide-std's size classes, Tokio's and smol's heap) with each other.
- Memory: `task_bytes` counts what a runtime adds to the future: the header, join state and queue links, and
  for ebbtide-std the rounding up to its smallest size class (256 bytes), which dominates for a 16-byte future.
  Tokio and smol: live heap bytes per spawned task (counting allocator); ebbtide and Embassy: static slot size
  minus the future. `rss_10k_idle`: ebbtide-std reserves its task slots when the runtime is built
  (`reserved_bytes`), so its figure barely moves with the connections (`per_conn_bytes`).
";
