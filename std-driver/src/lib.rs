//! The Linux and macOS driver of ebbtide: a runtime on mio (epoll, kqueue, or poll).
//!
//! `ebbtide-std` is what a service uses instead of Tokio. One thread runs every task and waits in
//! one OS call for IO and the next timer; memory for tasks and IO resources is reserved when the
//! [`Runtime`] is built, and nothing allocates per spawn, per timer or per IO operation after
//! that. [`Builder::worker_threads`] runs several such workers, one thread each
//! (thread-per-core; see [Workers](runtime#workers)).
//!
//! ```
//! use ebbtide_std::time::{sleep, Duration};
//!
//! let runtime = ebbtide_std::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let greeter = ebbtide_std::spawn(async {
//!         sleep(Duration::from_millis(1)).await;
//!         "hello"
//!     })
//!     .unwrap();
//!     assert_eq!(greeter.await.unwrap(), "hello");
//! });
//! ```
//!
//! The rest of this page is a short tour for service authors: [tasks](#tasks), [timers](#timers),
//! [TCP](#tcp), [channels](#channels) and [shutdown](#shutdown). Every example runs as a test.
//!
//! # Coming from Tokio
//!
//! Most code reads the same: `#[ebbtide_std::main]`, [`spawn`], `.await` on a [`JoinHandle`],
//! [`time::sleep`], [`net::TcpListener`], [`sync::mpsc::channel`], [`select!`] and [`join!`]. The
//! differences are few and deliberate: one thread runs every task (like Tokio's `current_thread`
//! runtime) unless [`Builder::worker_threads`] asks for more (thread-per-core workers that steal ready
//! tasks from each other, [`Builder::work_stealing`](crate::Builder::work_stealing)), [`spawn`] returns a `Result`, `spawn_local` needs no `LocalSet`, and time counts
//! microsecond ticks (std's `Duration` and `Instant` are taken everywhere). The
//! [Coming from Tokio](coming_from_tokio) page lists every one in a table, with what Tokio does,
//! what ebbtide does and why, and an example for each.
//!
//! # Tasks
//!
//! [`spawn`] starts a task and gives a [`JoinHandle`]; awaiting it gives the task's output, or a
//! [`JoinError`] if the task panicked (the panic stays in its task) or was
//! [aborted](JoinHandle::abort). Dropping the handle detaches the task.
//!
//! ```
//! use ebbtide_std::Runtime;
//!
//! Runtime::new().unwrap().block_on(async {
//!     let answer = ebbtide_std::spawn(async { 6 * 7 }).expect("a free task slot");
//!     assert_eq!(answer.await.unwrap(), 42);
//!
//!     let panicky = ebbtide_std::spawn(async { panic!("boom") }).unwrap();
//!     let error = panicky.await.unwrap_err();
//!     assert!(error.is_panic());
//!     assert_eq!(error.panic_message(), Some("boom"));
//!
//!     let forever = ebbtide_std::spawn(std::future::pending::<()>()).unwrap();
//!     forever.abort(); // dropped at its next await
//!     assert!(forever.await.unwrap_err().is_cancelled());
//!
//!     // Blocking work runs on a thread pool; the handle is awaited like a task's.
//!     let sum = ebbtide_std::spawn_blocking(|| (1..=100u64).sum::<u64>());
//!     assert_eq!(sum.await.unwrap(), 5050);
//! });
//! ```
//!
//! Slots come in four size classes (a task goes in the smallest that holds its future). When a
//! class is full and may not grow, `spawn` says so:
//!
//! ```
//! use ebbtide_std::{Runtime, SpawnError};
//!
//! // One slot of the smallest class and none of the others, never more, to show a full pool.
//! let runtime = Runtime::builder().task_slots([1, 0, 0, 0]).fixed_task_memory().build().unwrap();
//! runtime.block_on(async {
//!     let first = ebbtide_std::spawn(std::future::pending::<()>()).unwrap();
//!     let second = ebbtide_std::spawn(async {});
//!     assert!(matches!(second, Err(SpawnError::PoolFull { .. })));
//!
//!     first.abort();
//!     let _ = first.await; // the slot is free once the task is gone and its handle too
//!     ebbtide_std::spawn(async {}).unwrap().await.unwrap();
//! });
//! ```
//!
//! From another thread, spawn through a [`Handle`] (`runtime.handle()`, or [`Handle::current`]
//! inside the runtime), or block that thread on a future in the runtime's context with
//! [`Handle::block_on`].
//!
//! # Timers
//!
//! [`time::sleep`], [`time::timeout`] and [`time::interval`] work as in Tokio. Timers live in the
//! runtime's timer queue, not in a thread: a sleeping task costs no wake-ups.
//!
//! ```
//! use ebbtide_std::time::{interval, sleep, timeout, Duration, Instant};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(5)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(5));
//!
//!     // `Err(Elapsed)` when the future did not finish in time; it is dropped then.
//!     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
//!     assert!(slow.is_err());
//!     let quick = timeout(Duration::from_secs(60), async { 7 }).await;
//!     assert_eq!(quick.unwrap(), 7);
//!
//!     // The first tick completes at once, then one every period.
//!     let mut every = interval(Duration::from_millis(5));
//!     let ticking = Instant::now();
//!     for _ in 0..3 {
//!         every.tick().await;
//!     }
//!     assert!(ticking.elapsed() >= Duration::from_millis(10));
//! });
//! ```
//!
//! # TCP
//!
//! An echo server and its client. Port 0 lets the OS pick a free port; one task per connection.
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!
//!     let server = ebbtide_std::spawn(async move {
//!         while let Ok((mut stream, _peer)) = listener.accept().await {
//!             // A full task pool drops this connection (the stream moved into the refused task);
//!             // the server goes on serving the others.
//!             let _ = ebbtide_std::spawn(async move {
//!                 let mut buf = [0u8; 1024];
//!                 // Echo until the client closes its side (a read of 0 bytes) or an error.
//!                 while let Ok(n @ 1..) = stream.read(&mut buf).await {
//!                     if stream.write_all(&buf[..n]).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!         }
//!     })
//!     .unwrap();
//!
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut reply = [0u8; 5];
//!     client.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"hello");
//!
//!     server.abort(); // stops accepting; connection tasks end when their clients leave
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! [`net`] also has `UdpSocket` and Unix sockets; [`io`] has `copy`, `BufReader`, splitting and
//! [`io::AsyncFd`] for any other file descriptor; [`fs`] reads and writes files.
//!
//! # Channels
//!
//! [`sync`] has Tokio's channels and locks: [`mpsc`](sync::mpsc) (bounded and unbounded),
//! [`oneshot`](sync::oneshot), [`watch`](sync::watch), [`broadcast`](sync::broadcast),
//! [`Notify`](sync::Notify), [`Mutex`](sync::Mutex) and [`Semaphore`](sync::Semaphore). The
//! constructors Tokio has make owned ends, as in Tokio (one allocation per channel, none per
//! message; the unbounded mpsc channel allocates blocks as it fills and reuses them):
//!
//! ```
//! use ebbtide_std::sync::mpsc;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     let worker = ebbtide_std::spawn(async move {
//!         let mut total = 0;
//!         while let Some(job) = rx.recv().await {
//!             total += job;
//!         }
//!         total
//!     })
//!     .unwrap();
//!     for job in 1..=10 {
//!         tx.send(job).await.unwrap();
//!     }
//!     drop(tx);
//!     assert_eq!(worker.await.unwrap(), 55);
//! });
//! ```
//!
//! Each module also has a channel that allocates nothing: a value with a `const` constructor
//! and its capacity in its type; [`split`](sync::mpsc::Channel::split) hands out its ends once,
//! and they borrow it. Between spawned tasks (which are `'static`) the channel is a `static`:
//!
//! ```
//! use ebbtide_std::sync::mpsc;
//!
//! static JOBS: mpsc::Channel<u32, 16> = mpsc::Channel::new();
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (tx, mut rx) = JOBS.split();
//!     let worker = ebbtide_std::spawn(async move {
//!         let mut total = 0;
//!         // `None` once every sender is gone and the queue is drained.
//!         while let Some(job) = rx.recv().await {
//!             total += job;
//!         }
//!         total
//!     })
//!     .unwrap();
//!
//!     for job in 1..=10 {
//!         tx.send(job).await.unwrap(); // waits while 16 jobs are queued
//!     }
//!     drop(tx);
//!     assert_eq!(worker.await.unwrap(), 55);
//! });
//! ```
//!
//! A channel made at run time (per connection, say) for spawned tasks is leaked once
//! (`Box::leak(Box::new(Channel::new()))`, as the chat example does for its room); a channel used
//! within one task can live on its stack, with [`join!`] or [`select!`] running both ends. For a
//! one-off result from a spawned task, its [`JoinHandle`] already is a oneshot.
//!
//! ```
//! use ebbtide_std::sync::{oneshot, watch};
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let reply = oneshot::Channel::new(); // on this task's stack
//!     let (tx, rx) = reply.split();
//!     let ((), answer) = ebbtide_std::join!(async move { tx.send(42).unwrap() }, rx);
//!     assert_eq!(answer, Ok(42));
//!
//!     // watch: the latest value; receivers wake on changes and read the newest.
//!     let config = watch::Watch::new("v1");
//!     let mut rx = config.receiver();
//!     config.sender().send("v2");
//!     rx.changed().await.unwrap();
//!     assert_eq!(rx.get(), "v2");
//! });
//! ```
//!
//! # Shutdown
//!
//! Dropping the [`Runtime`] cancels every task that has not finished: each is dropped (its
//! destructors run) on the runtime's thread, so nothing outlives it. A graceful stop tells the
//! tasks first and awaits them: here a [`watch`](sync::watch) (a [`Notify`](sync::Notify) with
//! `notify_waiters` works too), sent when [`signal::ctrl_c`] or SIGTERM ([`signal::signal`])
//! arrives in a real service.
//!
//! ```
//! use ebbtide_std::net::TcpListener;
//! use ebbtide_std::sync::watch::Watch;
//! use ebbtide_std::time::{timeout, Duration};
//!
//! static STOP: Watch<bool> = Watch::new(false);
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let mut stop = STOP.receiver();
//!     let server = ebbtide_std::spawn(async move {
//!         let mut accepted = 0;
//!         loop {
//!             ebbtide_std::select! {
//!                 conn = listener.accept() => if conn.is_ok() { accepted += 1 },
//!                 _ = stop.changed() => break,
//!             }
//!         }
//!         // Finish up: flush, say goodbye, close. The listener closes when dropped.
//!         accepted
//!     })
//!     .unwrap();
//!
//!     // A service waits for a signal here: `ebbtide_std::signal::ctrl_c().await?`.
//!     STOP.sender().send(true);
//!     let accepted = timeout(Duration::from_secs(5), server).await.expect("stopped in time");
//!     assert_eq!(accepted.unwrap(), 0);
//! });
//! ```
//!
//! And what dropping the runtime does to a task still running:
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//!
//! static CLEANED_UP: AtomicBool = AtomicBool::new(false);
//! struct Connection;
//! impl Drop for Connection {
//!     fn drop(&mut self) {
//!         CLEANED_UP.store(true, Ordering::SeqCst);
//!     }
//! }
//!
//! let runtime = ebbtide_std::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let connection = Connection;
//!     // Detached: nobody awaits it, and it never finishes by itself.
//!     let _ = ebbtide_std::spawn(async move {
//!         let _connection = connection;
//!         std::future::pending::<()>().await
//!     });
//! });
//! assert!(!CLEANED_UP.load(Ordering::SeqCst)); // still alive between `block_on`s
//! drop(runtime);
//! assert!(CLEANED_UP.load(Ordering::SeqCst)); // cancelled and dropped with the runtime
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod blocking;
pub mod coming_from_tokio;
mod context;
pub mod fs;
pub mod io;
pub mod net;
pub mod reactor;
pub mod runtime;
pub mod signal;
mod sys;
pub mod task;
pub mod time;
#[cfg(feature = "tokio-compat")]
pub mod tokio_compat;
#[cfg(feature = "tokio-compat")]
pub mod tokio_interop;
#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use blocking::spawn_blocking;
pub use ebbtide_core::{join, select, try_join};
pub use ebbtide_host::sync;
/// Runs an `async fn main` on a [`Runtime`], like `#[tokio::main]`.
///
/// Arguments (all optional): `task_capacity = N`, `event_capacity = N`, `io_capacity = N`,
/// `start_paused = B`, `worker_threads = N` ([`Builder::worker_threads`]: `N` workers, one
/// thread each, 1 by default), and `crate = "path"` for a renamed dependency.
///
/// # Examples
///
/// ```
/// #[ebbtide_std::main(task_capacity = 64, worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_millis(1)).await;
///     Ok(())
/// }
/// # fn _unused() {}
/// ```
pub use ebbtide_macros::main;
/// Runs an `async fn` test on a fresh [`Runtime`], like `#[tokio::test]`. It takes the
/// arguments of [`macro@main`].
///
/// # Examples
///
/// ```
/// #[ebbtide_std::test]
/// async fn spawns() {
///     assert_eq!(ebbtide_std::spawn(async { 1 }).unwrap().await.unwrap(), 1);
/// }
///
/// #[ebbtide_std::test(worker_threads = 2)]
/// async fn on_two_workers() {
///     let handle = ebbtide_std::Handle::current();
///     let there = handle.spawn_on(1, async { ebbtide_std::runtime::worker_index() });
///     assert_eq!(there.unwrap().await.unwrap(), Some(1));
/// }
/// ```
pub use ebbtide_macros::test;
pub use runtime::{Builder, Handle, Metrics, Runtime};
pub use task::{spawn, spawn_local, JoinError, JoinHandle, SpawnError};

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme_examples {}
