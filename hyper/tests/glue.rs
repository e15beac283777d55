//! The glue itself, adversarially: `EbbtideIo` both ways over in-memory streams (so that Miri can
//! run it: `cargo xtask ci` runs this file under Miri), reads into uninitialised memory, HTTP
//! upgrades, and `EbbtideExecutor`'s policy when task memory is full (a refused future is
//! dropped and counted, and a panic in its `Drop` does not escape).

use std::convert::Infallible;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ebbtide_core::io::{
    AsyncRead, AsyncReadExt, AsyncWriteExt, Duplex, DuplexStream, ErrorKind, ErrorType,
};
use ebbtide_hyper::{EbbtideExecutor, EbbtideIo};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::rt::Executor;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};

/// The in-memory streams of the tests, one each (a `static`, so that its ends are `'static`
/// for `spawn`, without leaking memory for the leak checkers to find).
static SERVE_AND_FETCH: Duplex<4096> = Duplex::new();
static UPGRADE: Duplex<4096> = Duplex::new();

/// A `Pipe`'s error is an `ErrorKind`; hyper wants `std::io::Error`: this is the whole bridge.
struct Stream(DuplexStream<'static, 4096>);

impl ErrorType for Stream {
    type Error = std::io::Error;
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf).map_err(kind_to_io)
    }
}

impl ebbtide_core::io::AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0)
            .poll_write(cx, buf)
            .map_err(kind_to_io)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx).map_err(kind_to_io)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx).map_err(kind_to_io)
    }
}

fn kind_to_io(kind: ErrorKind) -> std::io::Error {
    std::io::Error::other(format!("{kind:?}"))
}

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(format!(
        "got {} bytes",
        body.len()
    )))))
}

#[test]
fn hyper_serves_and_fetches_over_an_in_memory_stream() {
    let runtime = ebbtide_std::Runtime::new().unwrap();
    runtime.block_on(async {
        let (server_end, client_end) = SERVE_AND_FETCH.split();
        ebbtide_std::spawn(async move {
            ebbtide_hyper::server::http1()
                .serve_connection(EbbtideIo::new(Stream(server_end)), service_fn(hello))
                .await
                .unwrap();
        })
        .unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(EbbtideIo::new(Stream(client_end)))
                .await
                .unwrap();
        ebbtide_std::spawn(connection).unwrap();
        // A body larger than the pipe: the reads and writes take turns.
        for size in [0usize, 10, 10_000] {
            let request = Request::post("/")
                .body(Full::new(Bytes::from(vec![b'x'; size])))
                .unwrap();
            // The connection's task takes the last answer's end before it takes a new request
            // (on another worker, maybe after this task asks).
            sender.ready().await.unwrap();
            let response = sender.send_request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("got {size} bytes"));
        }
    });
}

#[test]
fn an_upgraded_connection_is_an_ebbtide_stream_again() {
    let runtime = ebbtide_std::Runtime::new().unwrap();
    runtime.block_on(async {
        let (server_end, client_end) = UPGRADE.split();
        // The server answers 101 and then echoes raw bytes over the upgraded connection,
        // through ebbtide's own IO helpers.
        let upgrade = service_fn(|mut request: Request<Incoming>| async move {
            let upgraded = hyper::upgrade::on(&mut request);
            ebbtide_std::spawn(async move {
                let mut io = EbbtideIo::new(upgraded.await.unwrap());
                let mut buf = [0u8; 4];
                io.read_exact(&mut buf).await.unwrap();
                io.write_all(&buf).await.unwrap();
                io.flush().await.unwrap();
            })
            .unwrap();
            let mut response = Response::new(Empty::<Bytes>::new());
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            response
                .headers_mut()
                .insert(hyper::header::UPGRADE, "echo".parse().unwrap());
            response
                .headers_mut()
                .insert(hyper::header::CONNECTION, "upgrade".parse().unwrap());
            Ok::<_, Infallible>(response)
        });
        ebbtide_std::spawn(async move {
            ebbtide_hyper::server::http1()
                .serve_connection(EbbtideIo::new(Stream(server_end)), upgrade)
                .with_upgrades()
                .await
                .unwrap();
        })
        .unwrap();

        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(EbbtideIo::new(Stream(client_end)))
                .await
                .unwrap();
        ebbtide_std::spawn(connection.with_upgrades()).unwrap();
        let request = Request::get("/")
            .header(hyper::header::UPGRADE, "echo")
            .header(hyper::header::CONNECTION, "upgrade")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        let mut io = EbbtideIo::new(hyper::upgrade::on(response).await.unwrap());
        io.write_all(b"ping").await.unwrap();
        let mut echoed = [0u8; 4];
        io.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"ping");
    });
}

/// A reader that fills what it is given with `fill`, and records the buffers' lengths.
struct Filler {
    fill: u8,
    calls: Vec<usize>,
}

impl ErrorType for Filler {
    type Error = std::io::Error;
}

impl AsyncRead for Filler {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        // The default `poll_read_uninit` zeroed the buffer before handing it over.
        assert!(buf.iter().all(|&b| b == 0), "the buffer was not zeroed");
        self.calls.push(buf.len());
        let n = buf.len().min(3);
        buf[..n].fill(self.fill);
        Poll::Ready(Ok(n))
    }
}

#[test]
fn the_default_uninit_read_zeroes_then_reads_and_touches_nothing_past_it() {
    let mut reader = Filler {
        fill: 7,
        calls: Vec::new(),
    };
    let mut storage = [MaybeUninit::<u8>::uninit(); 8];
    let n = ebbtide_core::block_on(std::future::poll_fn(|cx| {
        Pin::new(&mut reader).poll_read_uninit(cx, &mut storage[2..6])
    }))
    .unwrap();
    assert_eq!(n, 3);
    assert_eq!(reader.calls, [4]);
    // SAFETY: the read initialised the first `n` bytes of the slice it was given.
    let read = unsafe { std::slice::from_raw_parts(storage[2..].as_ptr().cast::<u8>(), n) };
    assert_eq!(read, [7, 7, 7]);
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no sockets")]
fn a_socket_reads_into_uninitialised_memory_and_writes_only_what_it_read() {
    let runtime = ebbtide_std::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let mut client = ebbtide_std::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"12345").await.unwrap();
        // A canary after the bytes that arrive: a read of 5 must leave it alone.
        let mut storage = [MaybeUninit::new(0xAAu8); 64];
        let n = std::future::poll_fn(|cx| Pin::new(&mut server).poll_read_uninit(cx, &mut storage))
            .await
            .unwrap();
        assert_eq!(n, 5);
        // SAFETY: every element was initialised above (the canary) or by the read.
        let bytes: [u8; 64] = unsafe { std::mem::transmute(storage) };
        assert_eq!(&bytes[..5], b"12345");
        assert!(bytes[5..].iter().all(|&b| b == 0xAA));
    });
}

/// Sets its flag when dropped; panics there too if asked to.
struct Dropped {
    flag: Arc<AtomicBool>,
    panic: bool,
}

impl Drop for Dropped {
    fn drop(&mut self) {
        self.flag.store(true, Ordering::SeqCst);
        if self.panic {
            panic!("a future's Drop panicked");
        }
    }
}

/// A small `Send` future that records that it ran.
fn task(ran: &Arc<AtomicUsize>, dropped: Dropped) -> impl Future<Output = ()> + Send + 'static {
    let ran = Arc::clone(ran);
    async move {
        let _dropped = dropped;
        ran.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_future_refused_for_a_full_task_memory_is_dropped_and_counted() {
    let runtime = ebbtide_std::Runtime::builder()
        .task_capacity(8)
        .task_limit(8)
        .build()
        .unwrap();
    runtime.block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let executor = EbbtideExecutor::new();
        // With room, the future runs.
        let flag = Arc::new(AtomicBool::new(false));
        executor.execute(task(
            &ran,
            Dropped {
                flag: Arc::clone(&flag),
                panic: false,
            },
        ));
        ran_at_least(&ran, 1).await;
        // Fill the small tasks' class with tasks that wait forever.
        let mut sleepers = Vec::new();
        while let Ok(sleeper) = ebbtide_std::spawn(std::future::pending::<()>()) {
            sleepers.push(sleeper);
        }
        // Refused: dropped at once, never run, counted (also through a clone).
        let flag = Arc::new(AtomicBool::new(false));
        executor.clone().execute(task(
            &ran,
            Dropped {
                flag: Arc::clone(&flag),
                panic: false,
            },
        ));
        assert!(
            flag.load(Ordering::SeqCst),
            "the refused future was not dropped"
        );
        assert_eq!(executor.refused(), 1);
        // A refused future whose Drop panics: the panic stops in `execute`.
        let flag = Arc::new(AtomicBool::new(false));
        executor.execute(task(
            &ran,
            Dropped {
                flag: Arc::clone(&flag),
                panic: true,
            },
        ));
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(executor.refused(), 2);
        ebbtide_std::task::yield_now().await;
        ebbtide_std::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(ran.load(Ordering::SeqCst), 1, "a refused future ran");
        // Room again: it runs again.
        for sleeper in &sleepers {
            sleeper.abort();
        }
        for sleeper in sleepers {
            let _ = sleeper.await;
        }
        // With several workers (CI runs the tests with 2), an aborted task on another worker
        // gives its memory back just after its handle hears it ended: retry while refused.
        for attempt in 0.. {
            let refused = executor.refused();
            let flag = Arc::new(AtomicBool::new(false));
            executor.execute(task(&ran, Dropped { flag, panic: false }));
            if executor.refused() == refused {
                break;
            }
            assert!(attempt < 1_000, "the task memory never had room again");
            ebbtide_std::time::sleep(Duration::from_millis(1)).await;
        }
        ran_at_least(&ran, 2).await;
    });
}

/// Waits (at most 10 s) until `ran` counts `n`: with several workers, a spawned task may run
/// on another one, so one `yield_now` does not promise it ran.
async fn ran_at_least(ran: &AtomicUsize, n: usize) {
    let outcome = ebbtide_std::time::timeout(Duration::from_secs(10), async {
        while ran.load(Ordering::SeqCst) < n {
            ebbtide_std::task::yield_now().await;
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "ran {} of {n} tasks",
        ran.load(Ordering::SeqCst)
    );
}

#[test]
#[should_panic(expected = "outside an ebbtide runtime")]
fn execute_outside_a_runtime_says_so() {
    EbbtideExecutor::new().execute(async {});
}

/// A writer that accepts everything and records how many buffers each write was given.
#[derive(Default)]
struct Gather {
    writes: Vec<usize>,
    bytes: Vec<u8>,
}

impl ErrorType for Gather {
    type Error = std::io::Error;
}

impl ebbtide_core::io::AsyncWrite for Gather {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.writes.push(1);
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<std::io::Result<usize>> {
        self.writes.push(bufs.len());
        let mut total = 0;
        for buf in bufs {
            self.bytes.extend_from_slice(buf);
            total += buf.len();
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn vectored_writes_reach_the_stream_as_one_write() {
    use hyper::rt::Write as _;
    let mut io = EbbtideIo::new(Gather::default());
    assert!(io.is_write_vectored());
    let slices = [
        std::io::IoSlice::new(b"GET / "),
        std::io::IoSlice::new(b""),
        std::io::IoSlice::new(b"HTTP/1.1\r\n"),
        std::io::IoSlice::new(b"\r\n"),
    ];
    let written = ebbtide_core::block_on(std::future::poll_fn(|cx| {
        Pin::new(&mut io).poll_write_vectored(cx, &slices)
    }))
    .unwrap();
    assert_eq!(written, 18);
    // One write of the three non-empty buffers, nothing copied into one first.
    assert_eq!(io.inner().writes, [3]);
    assert_eq!(io.inner().bytes, b"GET / HTTP/1.1\r\n\r\n");
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no sockets")]
fn ebbtide_std_sockets_say_they_write_vectored() {
    use hyper::rt::Write as _;
    let runtime = ebbtide_std::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let client = ebbtide_std::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        assert!(EbbtideIo::new(client).is_write_vectored());
    });
}

/// A reader that breaks `poll_read_uninit`'s contract: it says it read more than it was given.
struct Liar;

impl ErrorType for Liar {
    type Error = std::io::Error;
}

impl AsyncRead for Liar {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len() + 1))
    }
}

#[test]
fn a_reader_claiming_more_than_its_buffer_is_stopped_before_hyper_trusts_it() {
    use hyper::rt::Read as _;
    let mut io = EbbtideIo::new(Liar);
    let mut storage = [MaybeUninit::<u8>::uninit(); 16];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
    // The glue must panic (a safe outcome) rather than advance hyper's cursor past the buffer.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ebbtide_core::block_on(std::future::poll_fn(|cx| {
            Pin::new(&mut io).poll_read(cx, buf.unfilled())
        }))
    }));
    assert!(outcome.is_err(), "a lying reader was believed");
    assert_eq!(buf.filled().len(), 0);
}
