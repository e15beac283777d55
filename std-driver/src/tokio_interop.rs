//! # Tokio interop: Tokio code on ebbtide, ebbtide code on Tokio
//!
//! A service moving to ebbtide rarely moves alone: it depends on crates written for Tokio. There
//! are three bridges, each for a different kind of dependency, and one of them costs something.
//!
//! | You have | Use | Feature | Cost |
//! |---|---|---|---|
//! | A crate that takes *your* stream as `T: tokio::io::AsyncRead + AsyncWrite` (tokio-util's codecs, tokio-rustls, async-compression's `tokio` module, hyper-util's `TokioIo`, ...) | Pass ebbtide's stream: [`TcpStream`](crate::net::TcpStream), its halves, [`UnixStream`](crate::net::UnixStream) and [`fs::File`](crate::fs::File) implement Tokio's IO traits | `tokio-io` | None measurable: the same system calls (below) |
//! | A crate that makes its *own* Tokio sockets, timers or tasks (`tokio::net`, `tokio::time`, `tokio::spawn`: reqwest, tonic's client, database drivers, ...) | Wrap the future in [`tokio_compat::compat`](crate::tokio_compat::compat) | `tokio-compat` | A background Tokio runtime on one thread; each readiness event crosses threads: 1.7-1.8x the time of a native round trip |
//! | ebbtide's [`time`](crate::time) and [`sync`](crate::sync) inside a Tokio program (a library of yours, written for ebbtide, used by a Tokio service) | Nothing: await them | none | Timers go to one `ebbtide-timers` thread |
//!
//! Prefer the first when you have the choice: a crate generic over Tokio's IO traits runs on
//! ebbtide's sockets at full speed, and only crates that insist on making their own Tokio
//! objects need the second. ebbtide-hyper (`EbbtideIo`) remains the way to run hyper.
//!
//! ## Tokio's IO traits on ebbtide's streams (`tokio-io`)
//!
//! tokio-util's `Framed` with `LinesCodec`, on both ends of an ebbtide connection:
//!
//! ```
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_util::codec::{Framed, LinesCodec};
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = ebbtide_std::spawn(async move {
//!     let (stream, _) = listener.accept().await?;
//!     let mut lines = Framed::new(stream, LinesCodec::new());
//!     while let Some(line) = lines.next().await {
//!         lines.send(line?.to_uppercase()).await?;
//!     }
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! })
//! .unwrap();
//!
//! let mut client = Framed::new(TcpStream::connect(addr).await?, LinesCodec::new());
//! client.send("hello").await?;
//! assert_eq!(client.next().await.unwrap()?, "HELLO");
//! drop(client); // the server reads end of stream and returns
//! server.await.unwrap()?;
//! # Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! # }).unwrap();
//! ```
//!
//! What the impls do: `poll_read` reads into the `ReadBuf`'s unfilled part *without zeroing it*
//! (one `recv(2)` into uninitialised memory, as Tokio's own sockets do), `poll_write_vectored` is
//! one `writev(2)` of up to 64 buffers (`is_write_vectored` says `true` for sockets),
//! `poll_flush` has nothing to do, and `poll_shutdown` shuts the write half down (the peer reads
//! end of stream; this side can still read), like Tokio's. No Tokio runtime is involved: the
//! feature turns on no Tokio feature at all (Tokio's IO traits need none), and the sockets stay
//! on ebbtide's reactor.
//!
//! Two things read differently from Tokio, on purpose:
//!
//! - ebbtide's streams keep std's `shutdown(how: Shutdown)` as an inherent method, which a
//!   method call finds before the extension trait's: write `AsyncWriteExt::shutdown(&mut stream)`
//!   for Tokio's async half-close. (`OwnedWriteHalf` and `WriteHalf` have no inherent
//!   `shutdown`; `half.shutdown().await` works.) Likewise [`fs::File`](crate::fs::File)'s
//!   inherent `read`, `write`, `write_all` and `flush` come before Tokio's.
//! - With both `ebbtide_std::io::AsyncReadExt` and `tokio::io::AsyncReadExt` in scope, a call such
//!   as `stream.read_exact(..)` is ambiguous, since the stream implements both. Import one
//!   family per module, or name the trait (`tokio::io::AsyncReadExt::read_exact(&mut stream,
//!   ..)`).
//!
//! ```
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut client = TcpStream::connect(listener.local_addr()?).await?;
//! let (server, _) = listener.accept().await?;
//! let echo = ebbtide_std::spawn(async move {
//!     let (mut rx, mut tx) = server.into_split();
//!     tokio::io::copy(&mut rx, &mut tx).await // until the client's half-close
//! })
//! .unwrap();
//!
//! client.write_all(b"round trip").await?;
//! AsyncWriteExt::shutdown(&mut client).await?; // not `client.shutdown()`: that is std's
//! let mut back = Vec::new();
//! client.read_to_end(&mut back).await?;
//! assert_eq!(back, b"round trip");
//! assert_eq!(echo.await.unwrap()?, 10);
//! # Ok::<_, std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Tokio-dependent futures inside ebbtide (`tokio-compat`)
//!
//! A future that makes Tokio objects panics outside a Tokio runtime ("there is no reactor
//! running"). [`compat`](crate::tokio_compat::compat) (also
//! [`CompatExt::compat`](crate::tokio_compat::CompatExt::compat) and
//! [`Compat`](crate::tokio_compat::Compat)) enters a Tokio runtime's context around each poll,
//! as async-compat does: the future stays an ebbtide task, and its Tokio sockets and timers
//! belong to that runtime.
//!
//! ```
//! use ebbtide_std::tokio_compat::compat;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # ebbtide_std::Runtime::new().unwrap().block_on(async {
//! // Code written for Tokio, unchanged: its own listener, timers and tasks.
//! let listener = compat(tokio::net::TcpListener::bind("127.0.0.1:0")).await?;
//! let addr = listener.local_addr()?;
//! let server = ebbtide_std::spawn(compat(async move {
//!     let (mut stream, _) = listener.accept().await?;
//!     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//!     stream.write_all(b"hi from tokio::net").await
//! }))
//! .unwrap();
//!
//! let reply = compat(async move {
//!     let mut stream = tokio::net::TcpStream::connect(addr).await?;
//!     let mut reply = String::new();
//!     stream.read_to_string(&mut reply).await?;
//!     Ok::<_, std::io::Error>(reply)
//! })
//! .await?;
//! assert_eq!(reply, "hi from tokio::net");
//! server.await.unwrap()?;
//! # Ok::<_, std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! Where it differs from what a Tokio user may expect, and why:
//!
//! - The runtime is a **background** one, built the first time a `Compat` is polled: Tokio's
//!   `current_thread` runtime with every driver Tokio was compiled with (`enable_all`), driven by
//!   one thread named `ebbtide-tokio` for the rest of the process. Its IO and timer events are
//!   seen by that thread, which wakes the ebbtide task across threads: the cost measured below.
//!   Tokio tasks that the future spawns (`tokio::spawn`) run on that thread, not on ebbtide's
//!   workers; `block_in_place` panics there, as on any `current_thread` runtime.
//! - An application that runs its own Tokio runtime passes its handle:
//!   [`Compat::with_handle`](crate::tokio_compat::Compat::with_handle). A `Compat` polled on a
//!   thread that is inside a Tokio runtime already uses that one.
//!   [`tokio_compat::handle`](crate::tokio_compat::handle) gives the background runtime's handle,
//!   to spawn Tokio tasks from ebbtide code.
//! - Tokio objects are made **inside** the wrapped future: `compat(tokio::time::sleep(d))` panics,
//!   because `sleep(d)` looks for the runtime before `compat` can enter one; write
//!   `compat(async { tokio::time::sleep(d).await })`. (An `async fn` such as
//!   `TcpStream::connect` does nothing until polled, so `compat(TcpStream::connect(addr))` is
//!   fine.)
//! - Dropping a `Compat` (a cancelled `select!` branch, an aborted task, a `timeout`) drops the
//!   inner future inside the runtime's context too, so Tokio objects' destructors find it; it is
//!   as cancel safe as the inner future.
//! - A `Compat` around a Tokio IO object (`Compat::new(tokio_stream)`) is an ebbtide
//!   [`AsyncRead`](crate::io::AsyncRead)/[`AsyncWrite`](crate::io::AsyncWrite), so ebbtide's IO
//!   helpers and ebbtide-hyper take Tokio streams (a tokio-rustls stream, say).
//! - `tokio-compat` turns on only Tokio's `rt` feature (and implies `tokio-io`); the crate
//!   using `tokio::net` or `tokio::time` turns those on, and `enable_all` then starts their
//!   drivers.
//!
//! ## ebbtide code inside Tokio (no feature)
//!
//! ebbtide's [`sleep`](crate::time::sleep), [`timeout`](crate::time::timeout) and
//! [`interval`](crate::time::interval), its channels and [`Notify`](crate::sync::Notify) work
//! when awaited by Tokio (or any other executor), with no ebbtide runtime in the process. A timer
//! whose waker is not an ebbtide task's cannot live in an ebbtide runtime's timer queue (whose
//! table of such foreign wakers holds 32, and whose runtime may not even run); it goes to a
//! thread of ebbtide-std's, `ebbtide-timers`, started the first time one comes, which keeps one
//! entry per waker in a map ordered by deadline and sleeps until the earliest. So any number of
//! them wait at no CPU cost: 10,000 ebbtide sleeps of 300 ms in 10,000 Tokio tasks all end on
//! time, and the process spends 0.3 ms of CPU in 100 ms of their waiting
//! (`cargo test -p ebbtide-std --test on_tokio -- --nocapture`).
//!
//! ```
//! use ebbtide_std::sync::mpsc;
//! use ebbtide_std::time::{sleep, timeout, Duration};
//!
//! let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! tokio.block_on(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     let producer = tokio::spawn(async move {
//!         sleep(Duration::from_millis(5)).await; // an ebbtide timer, in a Tokio task
//!         tx.send("done").await.unwrap();
//!     });
//!     let got = timeout(Duration::from_secs(5), rx.recv()).await.unwrap();
//!     assert_eq!(got, Some("done"));
//!     producer.await.unwrap();
//! });
//! ```
//!
//! ebbtide's *sockets* are another matter: they register with the ebbtide runtime of the thread
//! that creates them (outside one, creating a socket is an error), and that runtime's reactor
//! must be running for them to make progress. Under Tokio, use Tokio's sockets.
//!
//! ## What it costs, measured
//!
//! One connection on loopback, 20,000 round trips of 64 bytes after 1,000 of warm-up, client and
//! server in one process, `TCP_NODELAY`; the median of 5 runs per mode (interleaved), per round
//! trip. On the 2-core VM, release build, while another build kept both cores partly busy (load
//! average about 3.5), three runs of the program:
//!
//! | mode | wall µs per round trip | vs native | process CPU µs per round trip | vs native |
//! |---|---|---|---|---|
//! | ebbtide native (ebbtide's traits and sockets) | 14.1-15.6 | 1.00x | 12.1-15.5 | 1.00x |
//! | ebbtide's sockets through Tokio's traits (`tokio-io`) | 13.7-14.8 | 0.95-1.00x | 11.7-13.1 | 0.85-0.97x |
//! | `tokio::net` inside [`compat`](crate::tokio_compat::compat) | 24.9-26.4 | 1.70-1.78x | 22.7-24.2 | 1.57-1.88x |
//! | Tokio's `current_thread` runtime and `tokio::net`, for reference | 14.0-15.0 | 0.95-1.06x | 12.7-12.9 | 0.82-1.07x |
//!
//! Tokio's traits over ebbtide's sockets cost nothing measurable (the runs differ by their
//! noise). The `compat` path pays for the second runtime: every readiness event is seen on the
//! `ebbtide-tokio` thread and handed to the ebbtide worker with a cross-thread wake, about
//! 10 µs more per round trip here; for a client making a few requests a second this does not
//! matter, and for a hot path the first bridge (or ebbtide's own sockets) is the one to use.
//! To repeat it:
//!
//! ```sh
//! cargo run --release -p ebbtide-std --features tokio-io,tokio-compat --example tokio_bridge_echo
//! ```
