//! `TcpSocket`: bind, listen and connect on 127.0.0.1, the backlog, `SO_REUSEPORT`, and one
//! `SO_REUSEPORT` listener per worker of a 2-worker runtime, with the kernel spreading the
//! connections over both.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpSocket, TcpStream};
use ebbtide_std::runtime::worker_index;
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

/// Every test ends by this long.
const LIMIT: Duration = Duration::from_secs(30);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn bind_listen_connect_round_trip() {
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(loopback()).unwrap();
            let addr = socket.local_addr().unwrap();
            let listener = socket.listen(64).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            client.set_send_buffer_size(32 * 1024).unwrap();
            client.bind(loopback()).unwrap();
            let client_addr = client.local_addr().unwrap();
            let mut client = client.connect(addr).await.unwrap();
            assert_eq!(client.local_addr().unwrap(), client_addr);
            assert!(client.nodelay().unwrap(), "TCP_NODELAY carries over");

            let (mut server, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, client_addr);
            client.write_all(b"round trip").await.unwrap();
            let mut buf = [0u8; 10];
            server.read_exact(&mut buf).await.unwrap();
            server.write_all(&buf).await.unwrap();
            let mut reply = [0u8; 10];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"round trip");
        })
        .await
        .expect("over 30 s");
    });
}

#[test]
fn connect_to_nothing_is_refused() {
    Runtime::new().unwrap().block_on(async {
        // A port that was free a moment ago: nothing listens there now.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn the_backlog_holds_200_connections_before_any_accept() {
    const CONNECTIONS: usize = 200;
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(loopback()).unwrap();
            let listener = socket.listen(256).unwrap();
            let addr = listener.local_addr().unwrap();
            // Every connect completes (the kernel finishes the handshake into the accept queue)
            // while nothing accepts.
            let mut clients = Vec::with_capacity(CONNECTIONS);
            for _ in 0..CONNECTIONS {
                clients.push(TcpSocket::new_v4().unwrap().connect(addr).await.unwrap());
            }
            for _ in 0..CONNECTIONS {
                let (stream, peer) = listener.accept().await.unwrap();
                assert!(clients
                    .iter()
                    .any(|client| client.local_addr().unwrap() == peer));
                drop(stream);
            }
        })
        .await
        .expect("over 30 s");
    });
}

#[test]
fn reuseport_lets_two_listeners_share_a_port() {
    Runtime::new().unwrap().block_on(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        assert!(first.reuseport().unwrap());
        first.bind(loopback()).unwrap();
        let addr = first.local_addr().unwrap();
        let _first = first.listen(16).unwrap();

        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let second = second.listen(16).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);

        // The helper does the same.
        let third = TcpListener::bind_reuseport(addr).await.unwrap();
        assert_eq!(third.local_addr().unwrap(), addr);

        // Without the option the port is taken.
        let plain = TcpSocket::new_v4().unwrap();
        let error = plain.bind(addr).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    });
}

/// Accepts on `listener` forever, echoing each connection in a task on this worker and counting
/// the connection against the worker it was accepted on.
async fn serve(listener: TcpListener, per_worker: Arc<[AtomicUsize; 2]>) {
    loop {
        let (mut stream, _) = listener.accept().await.unwrap();
        let worker = worker_index().expect("accepted on a worker");
        per_worker[worker].fetch_add(1, Ordering::Relaxed);
        ebbtide_std::spawn(async move {
            if worker_index() != Some(worker) {
                // The connection left its worker: no echo, so the client's read fails.
                return;
            }
            let mut buf = [0u8; 256];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .unwrap();
    }
}

/// `count` blocking std clients, all connected at once, each echoing a message of its own.
fn std_clients(addr: SocketAddr, count: usize) {
    let mut clients: Vec<_> = (0..count)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let message = format!("connection {i:04}");
        client.write_all(message.as_bytes()).unwrap();
        let mut reply = vec![0u8; message.len()];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(reply, message.as_bytes());
    }
}

#[test]
fn a_reuseport_listener_per_worker_spreads_connections_over_both_workers() {
    const CONNECTIONS: usize = 64;
    /// Rounds of `CONNECTIONS` more, should one worker have had none yet (a 2^-63 chance per
    /// round with a fair hash).
    const ROUNDS: usize = 8;
    // Without work stealing: the test checks that each connection stays where it was accepted.
    let runtime = Runtime::builder()
        .worker_threads(2)
        .work_stealing(false)
        .build()
        .unwrap();
    let handle = runtime.handle();
    let per_worker = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    runtime.block_on(async {
        timeout(LIMIT, async {
            let first = TcpListener::bind_reuseport("127.0.0.1:0").await.unwrap();
            let addr = first.local_addr().unwrap();
            ebbtide_std::spawn(serve(first, per_worker.clone())).unwrap();
            let counts = per_worker.clone();
            handle
                .spawn_on(1, async move {
                    let listener = TcpListener::bind_reuseport(addr).await.unwrap();
                    ebbtide_std::spawn(serve(listener, counts)).unwrap();
                })
                .unwrap()
                .await
                .unwrap();

            let mut served = 0;
            for _ in 0..ROUNDS {
                ebbtide_std::spawn_blocking(move || std_clients(addr, CONNECTIONS))
                    .await
                    .unwrap();
                served += CONNECTIONS;
                let counts = per_worker.each_ref().map(|n| n.load(Ordering::Relaxed));
                assert_eq!(
                    counts[0] + counts[1],
                    served,
                    "every connection was accepted"
                );
                if counts.iter().all(|&n| n > 0) {
                    return;
                }
            }
            panic!("one worker accepted nothing: {per_worker:?}");
        })
        .await
        .expect("over 30 s");
    });
}

#[test]
fn a_worker_task_connects_with_a_socket_of_its_own() {
    let runtime = Runtime::builder().worker_threads(2).build().unwrap();
    let handle = runtime.handle();
    runtime.block_on(async {
        timeout(LIMIT, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = handle
                .spawn_on(1, async move {
                    let socket = TcpSocket::new_v4().unwrap();
                    let mut stream: TcpStream = socket.connect(addr).await.unwrap();
                    stream.write_all(b"from worker 1").await.unwrap();
                    worker_index()
                })
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 13];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"from worker 1");
            assert_eq!(client.await.unwrap(), Some(1));
        })
        .await
        .expect("over 30 s");
    });
}

/// `net.core.somaxconn`, the kernel's cap on any backlog (Linux only).
fn somaxconn() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Connects up to `count` clients to `addr` without accepting any; returns how many completed
/// their handshake before one waited longer than `patience` (the accept queue was full: the
/// kernel drops the SYN, and the client would retry only a second later).
async fn connects_before_the_queue_is_full(
    addr: SocketAddr,
    count: usize,
    patience: Duration,
) -> (usize, Vec<TcpStream>) {
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        match timeout(patience, TcpSocket::new_v4().unwrap().connect(addr)).await {
            Ok(stream) => clients.push(stream.unwrap()),
            Err(_elapsed) => break,
        }
    }
    (clients.len(), clients)
}

/// `TcpListener::bind` listens with a backlog of 1,024, as Tokio's does and as its docs say
/// (it used mio's `bind`, whose backlog is 128: a burst of connections overflowed the queue,
/// and each dropped SYN cost its client a 1 s retransmit).
#[test]
fn bind_listens_with_a_backlog_of_1024() {
    const CONNECTIONS: usize = 600;
    match somaxconn() {
        Some(cap) if cap >= CONNECTIONS => {}
        other => {
            eprintln!("skipped: net.core.somaxconn is {other:?}, below {CONNECTIONS}");
            return;
        }
    }
    assert_eq!(TcpListener::DEFAULT_BACKLOG, 1024);
    Runtime::new().unwrap().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (connected, _clients) =
            connects_before_the_queue_is_full(addr, CONNECTIONS, Duration::from_millis(500)).await;
        assert_eq!(
            connected, CONNECTIONS,
            "the accept queue held only {connected}"
        );
        // Every one of them is there to accept.
        for _ in 0..CONNECTIONS {
            timeout(LIMIT, listener.accept()).await.unwrap().unwrap();
        }
    });
}

/// `TcpListener::bind_with_backlog` chooses the backlog: with 8, the kernel's queue holds 9
/// connections (Linux admits one more than the backlog) and the next one waits.
#[test]
fn bind_with_backlog_chooses_the_queue_length() {
    if !cfg!(target_os = "linux") {
        return;
    }
    Runtime::new().unwrap().block_on(async {
        let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 8)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (connected, _clients) =
            connects_before_the_queue_is_full(addr, 40, Duration::from_millis(300)).await;
        assert!(
            (8..=10).contains(&connected),
            "{connected} connections queued"
        );
    });
}
