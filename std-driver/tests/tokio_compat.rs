//! Tokio-dependent futures inside ebbtide through `tokio_compat::Compat` (feature
//! `tokio-compat`): `tokio::time`, a `tokio::net` echo, Tokio tasks, mixing Tokio and ebbtide
//! sockets, Tokio streams under ebbtide's IO traits, and compat futures dropped mid-way.
#![cfg(feature = "tokio-compat")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant as StdInstant;

use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::tokio_compat::{compat, Compat, CompatExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every test gives up after this long: a bug fails instead of hanging the run.
const LIMIT: Duration = Duration::from_secs(20);

/// `tokio::time::sleep` sleeps as long as asked (not much longer), inside an ebbtide runtime
/// where it would panic without `compat`. (Made inside the wrapped future: `sleep(d)` itself
/// looks for the runtime, before `compat` could enter one.)
#[ebbtide_std::test]
async fn tokio_sleep_inside_ebbtide() {
    let wait = std::time::Duration::from_millis(50);
    let start = StdInstant::now();
    timeout(LIMIT, compat(async { tokio::time::sleep(wait).await }))
        .await
        .expect("the Tokio sleep ended");
    let took = start.elapsed();
    assert!(took >= wait, "woke early: {took:?}");
    assert!(took < wait * 20, "woke far too late: {took:?}");

    // `tokio::time::timeout` and `interval`, within one compat future.
    compat(async {
        let slow = tokio::time::timeout(wait, std::future::pending::<()>()).await;
        assert!(slow.is_err());
        let mut every = tokio::time::interval(std::time::Duration::from_millis(5));
        for _ in 0..3 {
            every.tick().await;
        }
    })
    .await;
}

/// Without `compat`, the same sleep panics with Tokio's message: what `compat` is for.
#[ebbtide_std::test]
async fn without_compat_tokio_panics() {
    let task = ebbtide_std::spawn(async {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    })
    .unwrap();
    let error = task.await.unwrap_err();
    assert!(error.is_panic());
}

/// A `tokio::net` echo server and client, both Tokio code, each in its own ebbtide task.
#[ebbtide_std::test]
async fn tokio_net_echo_inside_ebbtide() {
    const CLIENTS: usize = 8;
    const ROUNDS: usize = 200;
    timeout(LIMIT, async {
        let listener = compat(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ebbtide_std::spawn(compat(async move {
            let mut echoers = Vec::new();
            for _ in 0..CLIENTS {
                let (mut stream, _) = listener.accept().await.unwrap();
                // A Tokio task, on the Tokio runtime compat entered.
                echoers.push(tokio::spawn(async move {
                    let (mut rx, mut tx) = stream.split();
                    tokio::io::copy(&mut rx, &mut tx).await.unwrap()
                }));
            }
            let mut total = 0;
            for echoer in echoers {
                total += echoer.await.unwrap();
            }
            total
        }))
        .unwrap();

        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            clients.push(
                ebbtide_std::spawn(
                    async move {
                        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        let mut buf = [0u8; 64];
                        for round in 0..ROUNDS {
                            let message = [(client * 31 + round) as u8; 64];
                            stream.write_all(&message).await.unwrap();
                            stream.read_exact(&mut buf).await.unwrap();
                            assert_eq!(buf, message);
                        }
                        stream.shutdown().await.unwrap();
                        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                    }
                    .compat(),
                )
                .unwrap(),
            );
        }
        for client in clients {
            client.await.unwrap();
        }
        assert_eq!(server.await.unwrap(), (CLIENTS * ROUNDS * 64) as u64);
    })
    .await
    .expect("the echo finished in time");
}

/// Tokio and ebbtide sockets in one program: a Tokio client against an ebbtide server, and a
/// Tokio stream used through ebbtide's IO traits (`Compat<tokio::net::TcpStream>`).
#[ebbtide_std::test]
async fn tokio_and_ebbtide_sockets_mix() {
    use ebbtide_std::io::{AsyncReadExt as _, AsyncWriteExt as _};
    timeout(LIMIT, async {
        let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ebbtide_std::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 5];
            // Both crates' extension traits are in scope here, and with `tokio-io` an ebbtide
            // stream has both: name the one meant.
            ebbtide_std::io::AsyncReadExt::read_exact(&mut stream, &mut buf)
                .await
                .unwrap();
            ebbtide_std::io::AsyncWriteExt::write_all(&mut stream, &buf.to_ascii_uppercase())
                .await
                .unwrap();
        })
        .unwrap();

        let tokio_stream = compat(tokio::net::TcpStream::connect(addr)).await.unwrap();
        // Wrapped again, the Tokio stream is an ebbtide reader and writer.
        let mut stream = Compat::new(tokio_stream);
        stream.write_all(b"mixed").await.unwrap();
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"MIXED");
        let mut rest = Vec::new();
        // `read_to_end` goes through `poll_read_uninit`: Tokio's `ReadBuf` over spare memory.
        assert_eq!(stream.read_to_end(&mut rest).await.unwrap(), 0);
        server.await.unwrap();
    })
    .await
    .unwrap();
}

/// A Tokio task spawned through the background runtime's handle runs there; its result comes
/// back to ebbtide.
#[ebbtide_std::test]
async fn tokio_tasks_run_on_the_background_runtime() {
    let task = ebbtide_std::tokio_compat::handle().spawn(async {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        std::thread::current().name().map(str::to_owned)
    });
    let name = timeout(LIMIT, task).await.unwrap().unwrap();
    assert_eq!(name.as_deref(), Some("ebbtide-tokio"));
}

/// `Compat::with_handle` uses the runtime given, not the background one.
#[test]
fn with_handle_uses_the_given_runtime() {
    let tokio_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("my-tokio")
        .enable_all()
        .build()
        .unwrap();
    let handle = tokio_runtime.handle().clone();
    ebbtide_std::Runtime::new().unwrap().block_on(async move {
        let name = Compat::with_handle(
            async {
                tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                    .await
                    .unwrap()
            },
            handle,
        );
        let name = timeout(LIMIT, name).await.unwrap();
        assert_eq!(name.as_deref(), Some("my-tokio"));
    });
}

/// Dropped mid-way, a compat future neither hangs nor panics: a Tokio sleep cut short by
/// ebbtide's `timeout`, a Tokio read abandoned by `select!`, and a Tokio task's handle dropped
/// with its compat future; the runtime is usable afterwards and the Tokio side still works.
#[ebbtide_std::test]
async fn compat_futures_dropped_mid_way() {
    timeout(LIMIT, async {
        // A long Tokio sleep, cancelled by an ebbtide timer.
        let start = StdInstant::now();
        let cut = timeout(
            Duration::from_millis(20),
            compat(async { tokio::time::sleep(std::time::Duration::from_secs(3600)).await }),
        )
        .await;
        assert!(cut.is_err());
        assert!(start.elapsed() < std::time::Duration::from_secs(10));

        // A Tokio read that never gets data, abandoned by `select!`; the stream lives on.
        let listener = compat(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = compat(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (mut server, _) = compat(listener.accept()).await.unwrap();
        let mut buf = [0u8; 8];
        ebbtide_std::select! {
            _ = compat(client.read(&mut buf)) => panic!("nothing was sent"),
            _ = ebbtide_std::time::sleep(Duration::from_millis(20)) => {}
        }
        // The abandoned read lost nothing: what comes now is read whole.
        compat(server.write_all(b"after")).await.unwrap();
        let n = compat(client.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"after");

        // A compat future that spawned a Tokio task and holds a socket, dropped while waiting:
        // the destructor runs inside the runtime's context, nothing panics.
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                // A Tokio API that needs the context, called from a destructor.
                let _ = tokio::runtime::Handle::current();
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = Flag(Arc::clone(&dropped));
        let waiting = ebbtide_std::spawn(compat(async move {
            let _flag = flag;
            let _listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let _task = tokio::spawn(std::future::pending::<()>());
            std::future::pending::<()>().await
        }))
        .unwrap();
        ebbtide_std::time::sleep(Duration::from_millis(10)).await;
        waiting.abort();
        assert!(waiting.await.unwrap_err().is_cancelled());
        assert!(dropped.load(Ordering::SeqCst));

        // And a compat future never polled, dropped: nothing to do, nothing started for it.
        drop(compat(async {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await
        }));

        // The Tokio side still works.
        compat(async { tokio::time::sleep(std::time::Duration::from_millis(1)).await }).await;
    })
    .await
    .expect("nothing hung");
}

/// Compat futures on several ebbtide workers at once share the one background runtime.
#[ebbtide_std::test(worker_threads = 2)]
async fn compat_on_several_workers() {
    let handle = ebbtide_std::Handle::current();
    let mut tasks = Vec::new();
    for worker in 0..2 {
        tasks.push(
            handle
                .spawn_on(worker, async move {
                    for _ in 0..20 {
                        compat(async {
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await
                        })
                        .await;
                    }
                    ebbtide_std::runtime::worker_index().is_some()
                })
                .unwrap(),
        );
    }
    for task in tasks {
        // (An idle worker may steal the other's task: where it ran is not checked.)
        assert!(timeout(LIMIT, task).await.unwrap().unwrap());
    }
}
