//! # Coming from Tokio
//!
//! A Tokio service ports to ebbtide-std mostly by renaming `tokio::` to `ebbtide_std::`:
//! `#[ebbtide_std::main]`, [`spawn`](crate::spawn), [`JoinHandle`](crate::JoinHandle),
//! [`time::sleep`](crate::time::sleep), [`net::TcpListener`](crate::net::TcpListener),
//! [`sync::mpsc::channel`](crate::sync::mpsc::channel), [`select!`](crate::select) and
//! [`join!`](crate::join) have Tokio's names, paths and meaning. This page lists every place where
//! ebbtide differs, on purpose, and why; each section below has an example that compiles and runs
//! as a test.
//!
//! ## Every difference
//!
//! | Topic | Tokio | ebbtide-std | Why |
//! |---|---|---|---|
//! | [Threads](#threads-and-spawn) | `#[tokio::main]` runs a multi-thread, work-stealing runtime | One thread runs every task by default, like Tokio's `current_thread` flavour; [`Builder::worker_threads`](crate::Builder::worker_threads) (or `EBBTIDE_WORKER_THREADS`, as `TOKIO_WORKER_THREADS`) gives thread-per-core workers (a task starts on its worker; an idle worker takes ready `Send` tasks from a busy one, [`Builder::work_stealing`](crate::Builder::work_stealing), on by default as in Tokio; [`Handle::spawn_on`](crate::Handle::spawn_on), [`Handle::spawn_pinned`](crate::Handle::spawn_pinned)); blocking work goes to [`spawn_blocking`](crate::spawn_blocking) | The static-dispatch core is single-threaded per executor: each worker is one executor with its own reactor and task memory |
//! | [`spawn`](#threads-and-spawn) | Returns a `JoinHandle`; panics after shutdown | Returns `Result<JoinHandle, SpawnError>` | A task lives in a slot of the runtime's task memory; with a limit set, a full class is backpressure you decide about, not an abort |
//! | [`spawn_local`](#threads-and-spawn) | Needs a `LocalSet` | Works inside any `block_on` or task of the runtime | There is only one thread, so every task may be `!Send` |
//! | [Task memory](#task-memory) | One heap allocation per task | Size-class slots reserved at build time that grow by segments; [`task_limit`](crate::Builder::task_limit) and [`fixed_task_memory`](crate::Builder::fixed_task_memory) bound them | No allocation per spawn once warm; a hard bound is available for those who want one |
//! | [`JoinError`](#threads-and-spawn) | `is_panic`, `is_cancelled`, `into_panic` | The same, plus [`panic_message`](crate::JoinError::panic_message) | Logging a task's panic should not need a downcast |
//! | [Channels](#channels) | `mpsc`, `oneshot`, `watch`, `broadcast` with owned ends | The same functions and semantics in [`sync`](crate::sync) (permits, `OwnedPermit`, `WeakSender`, `blocking_send`/`blocking_recv`, `Lagged`), plus `const`, allocation-free channels whose ends borrow them |  Embedded-style code keeps channels in `static`s with no allocator |
//! | [Time types](#time) | `tokio::time::Instant` wraps `std::time::Instant`; `Duration` is std's | [`time::Instant`](crate::time::Instant) and [`time::Duration`](crate::time::Duration) count microsecond ticks; every function also takes std's `Duration` and `Instant`, and `Instant + std::time::Duration` works | One clock for `no_std` and std, shared with `embassy-time` |
//! | [Timer resolution](#time) | 1 ms wheel; deadlines rounded up to the millisecond | 1 µs; deadlines rounded up by one tick | Sub-millisecond timers; neither ever wakes early |
//! | [Paused clock](#paused-clock) | `pause`, `advance`, `resume`, `start_paused` on a `current_thread` runtime | The same, per runtime; auto-advance waits for running blocking jobs; timers set before `pause` keep real-time deadlines | ebbtide's clock is the program's time driver, so the paused clock is kept beside it, on the runtime's thread |
//! | [Outside a runtime](#outside-a-runtime) | A timer or IO object outside a runtime panics | A timer works under any executor (inside Tokio, a `futures` executor): ebbtide-std's timer thread fires it, alive runtime or not; `spawn` panics, IO constructors return an error | Lets ebbtide futures run under other executors (see the `tokio_interop` page, feature `tokio-compat`) |
//! | [Runtime and Handle](#runtime-and-handle) | `Runtime` is `Send + Sync`; `Handle::block_on` | `Runtime` is `Send`, not `Sync`; once it has spawned `!Send` tasks it stays on that thread (a `block_on` elsewhere panics, a drop elsewhere leaks its tasks rather than dropping them there); [`Handle::block_on`](crate::Handle::block_on) as in Tokio's `current_thread` | `spawn_local` tasks must stay on their thread |
//! | [Locks](#locks) | `Mutex`, `Semaphore`, `Notify` lock with their own atomics and a parking lot | Default to `CriticalSectionRawMutex`: on bare metal a [`critical-section`](https://docs.rs/critical-section), on std one atomic word per primitive, held for a few instructions (never across an `.await`, never while user code runs); a type parameter picks another | The same primitives run on bare metal; the owned channels use a `std::sync::Mutex` each |
//! | [IO traits](#io-traits) | `AsyncRead::poll_read` fills a `ReadBuf` | [`io::AsyncRead`](crate::io::AsyncRead) reads into `&mut [u8]` (futures-io's shape), with `AsyncReadExt`/`AsyncWriteExt` as in Tokio; `futures-io` feature for adapters | The same traits serve `no_std` drivers and embedded-io |
//! | [TCP](#tcp) | `TcpStream::shutdown` is `AsyncWriteExt::shutdown` | Both: `AsyncWriteExt::shutdown`, and std's `shutdown(Shutdown::Write)` | A synchronous half-close is a system call; no need to await it |
//! | [Listeners on several workers](#tcp) | One listener; work stealing moves the accepted connections' tasks between threads | A listener accepts on the worker that made it: bind one per worker with `SO_REUSEPORT` ([`TcpListener::bind_reuseport`](crate::net::TcpListener::bind_reuseport), [`TcpSocket::set_reuseport`](crate::net::TcpSocket::set_reuseport)) and the kernel spreads connections over them | Thread-per-core: a connection's socket stays with one worker's reactor, and its task with that worker's executor unless an idle worker steals it |
//! | [Shutdown](#shutdown) | Dropping a runtime waits for blocking jobs | Dropping a runtime cancels its tasks on that thread and detaches running blocking jobs | A dropped runtime never blocks its thread on a stuck job |
//! | [Blocking pool](#shutdown) | 512 threads, unbounded queue | 16 threads, 1,024 queued jobs (both set on the [`Builder`](crate::Builder)); [`try_spawn_blocking`](crate::blocking::try_spawn_blocking) refuses when full | Bounded by default: a flood of blocking jobs gets backpressure |
//! | [Attributes](#attributes) | `flavor`, `worker_threads`, `start_paused` | `task_capacity`, `event_capacity`, `io_capacity`, `start_paused`, `worker_threads` (default 1, or `EBBTIDE_WORKER_THREADS`) | The settings this runtime has |
//! | [Cooperative budget](#threads-and-spawn) | 128 operations per poll | 128 per poll, and [`task::poll_budget`](crate::task::poll_budget) to read it | Same reasoning: a task that never waits must not starve the others |
//!
//! ## Threads and spawn
//!
//! [`spawn`](crate::spawn) takes `Send` futures, so that a [`Handle`](crate::Handle) can spawn
//! from any thread; [`spawn_local`](crate::spawn_local) takes the rest, without a `LocalSet`.
//! Both return a `Result`:
//!
//! ```
//! use std::rc::Rc;
//!
//! #[ebbtide_std::main]
//! async fn main() -> Result<(), ebbtide_std::SpawnError> {
//!     let task = ebbtide_std::spawn(async { 6 * 7 })?; // Tokio: no `?`
//!     assert_eq!(task.await.unwrap(), 42);
//!
//!     let local = Rc::new("not Send");
//!     let task = ebbtide_std::spawn_local(async move { local.len() })?; // Tokio: a LocalSet
//!     assert_eq!(task.await.unwrap(), 8);
//!
//!     let error = ebbtide_std::spawn(async { panic!("boom") })?.await.unwrap_err();
//!     assert_eq!(error.panic_message(), Some("boom"));
//!     Ok(())
//! }
//! ```
//!
//! ## Task memory
//!
//! A default runtime grows its task memory as it needs (allocating only when a size class grows);
//! a limit turns a full class into [`SpawnError::PoolFull`](crate::SpawnError::PoolFull), whose
//! message names the setting to raise:
//!
//! ```
//! use ebbtide_std::{Runtime, SpawnError};
//!
//! let runtime = Runtime::builder().task_capacity(16).task_limit(16).build().unwrap();
//! runtime.block_on(async {
//!     let mut tasks = Vec::new();
//!     let refused = loop {
//!         match ebbtide_std::spawn(std::future::pending::<()>()) {
//!             Ok(task) => tasks.push(task),
//!             Err(error) => break error,
//!         }
//!     };
//!     assert!(matches!(refused, SpawnError::PoolFull { .. }));
//!     assert!(refused.to_string().contains("task_limit"));
//! });
//! ```
//!
//! ## Channels
//!
//! Tokio's constructors, semantics and error types, at Tokio's paths:
//!
//! ```
//! use ebbtide_std::sync::{broadcast, mpsc, oneshot, watch};
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = mpsc::channel::<u32>(8);
//! let producer = ebbtide_std::spawn(async move {
//!     for i in 0..3 {
//!         tx.send(i).await.unwrap();
//!     }
//! })
//! .unwrap();
//! let mut got = Vec::new();
//! while let Some(i) = rx.recv().await {
//!     got.push(i);
//! }
//! assert_eq!(got, [0, 1, 2]);
//! producer.await.unwrap();
//!
//! let (reply, answer) = oneshot::channel();
//! reply.send("pong").unwrap();
//! assert_eq!(answer.await.unwrap(), "pong");
//!
//! let (config, mut watcher) = watch::channel(1);
//! config.send(2).unwrap();
//! watcher.changed().await.unwrap();
//! assert_eq!(*watcher.borrow_and_update(), 2);
//!
//! let (events, mut listener) = broadcast::channel(4);
//! events.send("started").unwrap();
//! assert_eq!(listener.recv().await.unwrap(), "started");
//! # });
//! ```
//!
//! What Tokio does not have: channels with a `const` constructor and their capacity in their type,
//! for `static`s and `no_std` code ([`sync::mpsc::Channel`](crate::sync::mpsc::Channel)). Their
//! ends borrow the channel, so a channel shared with spawned tasks lives in a `static`.
//!
//! ## Time
//!
//! ebbtide's [`Instant`](crate::time::Instant) and [`Duration`](crate::time::Duration) are its own
//! (microsecond ticks, the same in `no_std`), but std's types go wherever Tokio code passes them:
//!
//! ```
//! use ebbtide_std::time::{interval, sleep, sleep_until, timeout, Instant};
//! use std::time::Duration; // std's, as Tokio code uses it
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! sleep(Duration::from_millis(1)).await;
//! sleep_until(Instant::now() + Duration::from_millis(1)).await;
//! sleep_until(std::time::Instant::now() + Duration::from_millis(1)).await;
//! assert!(timeout(Duration::from_millis(1), std::future::pending::<()>()).await.is_err());
//! let mut ticks = interval(Duration::from_millis(1));
//! ticks.tick().await;
//!
//! // Never early by std's clock: deadlines are rounded up.
//! let start = std::time::Instant::now();
//! sleep(Duration::from_micros(300)).await;
//! assert!(start.elapsed() >= Duration::from_micros(300));
//! # });
//! ```
//!
//! ## Paused clock
//!
//! `start_paused`, [`pause`](crate::time::pause), [`advance`](crate::time::advance) and
//! [`resume`](crate::time::resume) behave as Tokio's: when no task is ready, a paused clock jumps
//! to the next timer. The clock is the runtime's own; other runtimes in the process (the other
//! tests of the binary) keep real time. As Tokio's needs its `current_thread` runtime, a paused
//! clock needs a runtime of one worker: `start_paused` builds one, and `pause` panics on a
//! runtime of several.
//!
//! ```
//! use ebbtide_std::time::{self, sleep, Duration, Instant};
//!
//! // In a test: `#[ebbtide_std::test(start_paused = true)] async fn retries_back_off() { .. }`
//! let runtime = ebbtide_std::Runtime::builder().start_paused(true).build().unwrap();
//! runtime.block_on(async {
//!     let start = Instant::now();
//!     for attempt in 0..5u32 {
//!         sleep(Duration::from_secs(2u64.pow(attempt))).await; // 31 s in all, at once
//!     }
//!     assert!(Instant::now() - start >= Duration::from_secs(31));
//!     time::advance(Duration::from_secs(60)).await;
//!     assert!(Instant::now() - start >= Duration::from_secs(91));
//! });
//! ```
//!
//! Unlike Tokio, timers set before `pause` keep their real-time deadlines, and other threads (a
//! blocking job, a thread in [`Handle::block_on`](crate::Handle::block_on)) read the real clock.
//!
//! ## Outside a runtime
//!
//! [`spawn`](crate::spawn) outside any runtime panics at once with what to do, as in Tokio, and IO
//! constructors return an error. Timers differ on purpose: an ebbtide [`sleep`](crate::time::sleep),
//! `timeout` or `interval` awaited by another executor (inside Tokio, a `futures` executor, a test
//! harness) works, where Tokio's panics outside its runtime. Its timer goes to a thread of
//! ebbtide-std's (`ebbtide-timers`, started the first time one comes), which holds any number of
//! them and sleeps until the earliest is due; channels, `Notify` and the other sync primitives
//! need no runtime at all. Measured: 10,000 ebbtide sleeps of 300 ms in 10,000 Tokio tasks all
//! end on time, and the process uses 0.3 ms of CPU in 100 ms of their waiting
//! (`cargo test -p ebbtide-std --test on_tokio -- --nocapture`).
//!
//! ```
//! use ebbtide_std::time::{sleep, Duration};
//!
//! // Any executor: here, the core's minimal `block_on`.
//! let started = std::time::Instant::now();
//! ebbtide_core::block_on(sleep(Duration::from_millis(5)));
//! assert!(started.elapsed() >= std::time::Duration::from_millis(5));
//! ```
//!
//! ## Runtime and Handle
//!
//! A [`Runtime`](crate::Runtime) can be built on one thread and run on another. Other threads
//! reach it through a [`Handle`](crate::Handle): [`Handle::spawn`](crate::Handle::spawn), and
//! [`Handle::block_on`](crate::Handle::block_on), which runs a future on the calling thread inside
//! the runtime's context while the runtime's own thread drives IO and timers (as Tokio's
//! `Handle::block_on` on a `current_thread` runtime).
//!
//! ```
//! use ebbtide_std::Runtime;
//!
//! let runtime = Runtime::new().unwrap();
//! let handle = runtime.handle();
//! // Built here, run on another thread.
//! let runner = std::thread::spawn(move || {
//!     runtime.block_on(ebbtide_std::time::sleep(std::time::Duration::from_millis(20)))
//! });
//! let task = handle.block_on(async { ebbtide_std::spawn(async { 1 + 1 }).unwrap() });
//! assert_eq!(handle.block_on(task).unwrap(), 2);
//! runner.join().unwrap();
//! ```
//!
//! `Runtime` is `Send` but not `Sync`: once a run on some thread spawned `!Send` tasks
//! ([`spawn_local`](crate::spawn_local)), the runtime stays with that thread. A `block_on` on
//! another thread then panics, and a drop on another thread leaks the tasks (their futures are
//! never dropped on a thread they were not made for). Inside `Handle::block_on`, `spawn_local`
//! panics: the future runs on the calling thread, not the runtime's.
//!
//! ## Locks
//!
//! [`sync::Mutex`](crate::sync::Mutex), [`sync::Semaphore`](crate::sync::Semaphore),
//! [`sync::Notify`](crate::sync::Notify) and the `const` channels keep their waiters under a lock
//! chosen by a type parameter, which defaults to
//! [`CriticalSectionRawMutex`](ebbtide_core::blocking_mutex::CriticalSectionRawMutex): a
//! `critical-section` on bare metal, and on std a lock of each primitive's own (one atomic word),
//! held only for a few instructions at a time, never across an `.await` and never while user code
//! such as a waker runs. The owned channels use one `std::sync::Mutex` each.
//!
//! ```
//! use ebbtide_std::sync::Mutex;
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! static COUNT: Mutex<u32> = Mutex::new(0); // a `const` constructor, usable in a static
//! *COUNT.lock().await += 1;
//! assert_eq!(*COUNT.lock().await, 1);
//! # });
//! ```
//!
//! ## IO traits
//!
//! [`io::AsyncRead`](crate::io::AsyncRead) and [`io::AsyncWrite`](crate::io::AsyncWrite) take
//! plain byte slices; the extension traits have Tokio's methods:
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! let server = ebbtide_std::spawn(async move {
//!     let (mut socket, _) = listener.accept().await.unwrap();
//!     let mut request = String::new();
//!     socket.read_to_string(&mut request).await.unwrap();
//!     socket.write_all(request.to_uppercase().as_bytes()).await.unwrap();
//! })
//! .unwrap();
//! let mut client = TcpStream::connect(addr).await.unwrap();
//! client.write_all(b"hello").await.unwrap();
//! client.shutdown(std::net::Shutdown::Write).unwrap(); // std's half-close
//! let mut reply = Vec::new();
//! client.read_to_end(&mut reply).await.unwrap();
//! assert_eq!(reply, b"HELLO");
//! server.await.unwrap();
//! # });
//! ```
//!
//! ## TCP
//!
//! `TcpListener`, `TcpStream` (with `split` and `into_split`), [`TcpSocket`](crate::net::TcpSocket)
//! (on `socket2`), `UdpSocket` and the Unix sockets have Tokio's constructors and methods; see
//! the example above. On a runtime of several workers a listener accepts only on the worker that
//! made it; see [A listener on every worker](crate::net::TcpSocket#a-listener-on-every-worker)
//! for one `SO_REUSEPORT` listener per worker.
//!
//! ## Shutdown
//!
//! Dropping a [`Runtime`](crate::Runtime) drops every task's future on that thread and returns at
//! once: a blocking job that is still running is detached (its handle yields `Cancelled`), where
//! Tokio's drop waits for it.
//!
//! ```
//! let runtime = ebbtide_std::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     ebbtide_std::spawn(std::future::pending::<()>()).unwrap(); // cancelled by the drop
//!     drop(ebbtide_std::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(50))));
//! });
//! let start = std::time::Instant::now();
//! drop(runtime);
//! assert!(start.elapsed() < std::time::Duration::from_secs(5)); // it did not wait for the job
//! ```
//!
//! ## Attributes
//!
//! `#[ebbtide_std::main]` and `#[ebbtide_std::test]` take the builder's settings by name:
//!
//! ```
//! #[ebbtide_std::main(task_capacity = 64, io_capacity = 256)]
//! async fn main() {
//!     let runtime = ebbtide_std::Handle::current();
//!     assert!(runtime.metrics().task_capacity() >= 64);
//! }
//! ```
