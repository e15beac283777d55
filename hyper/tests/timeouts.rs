//! hyper's timeouts and limits on ebbtide's timer and task memory, each against a real peer on
//! loopback: the header-read timeout closes a slowloris client, HTTP/2 keep-alive pings close a
//! peer that stops answering, the client pool closes idle connections, and an HTTP/2 server
//! advertises only as many streams as task memory has room for.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ebbtide_hyper::EbbtideIo;
use ebbtide_std::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

/// Runs `test` on a 2-worker runtime, failing if it takes over 30 s.
fn on_runtime<F: std::future::Future<Output = ()> + Send + 'static>(test: F) {
    let runtime = ebbtide_std::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async move {
        ebbtide_std::time::timeout(Duration::from_secs(30), test)
            .await
            .expect("the test took over 30 s");
    });
}

/// A blocking client socket on loopback, for the misbehaving peers (they run on a thread of
/// their own, so that their sleeps are not the runtime's).
fn raw_client(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn the_header_read_timeout_closes_a_slowloris_client_and_serves_the_others() {
    on_runtime(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        ebbtide_std::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let mut builder = ebbtide_hyper::server::http1();
                builder.header_read_timeout(Duration::from_millis(300));
                let connection =
                    builder.serve_connection(EbbtideIo::new(stream), service_fn(hello));
                ebbtide_std::spawn(async move {
                    let _ = connection.await;
                })
                .unwrap();
            }
        })
        .unwrap();

        // The slow client trickles its headers, a byte every 50 ms: each byte is progress, but
        // the timeout bounds the whole header, so it is closed all the same.
        let slowloris = std::thread::spawn(move || {
            let mut stream = raw_client(addr);
            let start = Instant::now();
            stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            stream.set_nonblocking(true).unwrap();
            for byte in b"X-Slow: ".iter().cycle().take(200) {
                std::thread::sleep(Duration::from_millis(50));
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
                // End of stream, an answer (408) or a reset: the server is done with us.
                let mut probe = [0u8; 256];
                match stream.read(&mut probe) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    _ => break,
                }
            }
            start.elapsed()
        });
        // Meanwhile an ordinary client is served.
        let client = ebbtide_hyper::client::legacy().build_http::<Empty<Bytes>>();
        let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
        let response = client.get(uri).await.unwrap();
        assert_eq!(
            &response.into_body().collect().await.unwrap().to_bytes()[..],
            b"hello"
        );

        let lasted = ebbtide_std::spawn_blocking(move || slowloris.join().unwrap())
            .await
            .unwrap();
        assert!(
            lasted >= Duration::from_millis(300),
            "closed before the timeout: {lasted:?}"
        );
        assert!(
            lasted < Duration::from_secs(5),
            "the slowloris client was kept for {lasted:?} (200 bytes at 50 ms each take 10 s)"
        );
    });
}

/// The client's HTTP/2 connection preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// One HTTP/2 frame: (type, flags, payload).
fn read_frame(stream: &mut std::net::TcpStream) -> std::io::Result<(u8, u8, Vec<u8>)> {
    let mut head = [0u8; 9];
    stream.read_exact(&mut head)?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload)?;
    Ok((head[3], head[4], payload))
}

const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;

#[test]
fn http2_keep_alive_closes_a_peer_that_stops_answering_pings() {
    on_runtime(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        ebbtide_std::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let mut builder = ebbtide_hyper::server::http2();
                builder
                    .keep_alive_interval(Duration::from_millis(100))
                    .keep_alive_timeout(Duration::from_millis(200));
                let connection =
                    builder.serve_connection(EbbtideIo::new(stream), service_fn(hello));
                ebbtide_std::spawn(async move {
                    let _ = connection.await;
                })
                .unwrap();
            }
        })
        .unwrap();

        // A peer that says hello, then never answers anything.
        let mute = std::thread::spawn(move || {
            let mut stream = raw_client(addr);
            stream.write_all(H2_PREFACE).unwrap();
            let start = Instant::now();
            let mut pings = 0;
            let mut goaway = false;
            loop {
                match read_frame(&mut stream) {
                    Ok((PING, flags, _)) if flags & ACK == 0 => pings += 1,
                    Ok((GOAWAY, _, _)) => goaway = true,
                    Ok(_) => {}
                    // Closed (or reset) by the server.
                    Err(_) => break,
                }
            }
            (pings, goaway, start.elapsed())
        });

        // A peer that answers pings (hyper's client does) keeps its connection past the
        // timeout, and it still works afterwards.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::Builder::new(ebbtide_hyper::EbbtideExecutor::new())
                .timer(ebbtide_hyper::EbbtideTimer::new())
                .handshake(EbbtideIo::new(stream))
                .await
                .unwrap();
        ebbtide_std::spawn(connection).unwrap();
        ebbtide_std::time::sleep(Duration::from_millis(800)).await;
        let request = Request::get(format!("http://{addr}/"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(
            &response.into_body().collect().await.unwrap().to_bytes()[..],
            b"hello"
        );

        let (pings, goaway, lasted) = ebbtide_std::spawn_blocking(move || mute.join().unwrap())
            .await
            .unwrap();
        assert!(pings >= 1, "the server never pinged");
        assert!(goaway, "the server closed without a GOAWAY");
        assert!(
            lasted < Duration::from_secs(5),
            "the mute peer was kept {lasted:?}"
        );
    });
}

#[test]
fn the_client_pool_closes_idle_connections_after_the_idle_timeout() {
    on_runtime(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let (accepted_in, closed_in) = (Arc::clone(&accepted), Arc::clone(&closed));
        ebbtide_std::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                accepted_in.fetch_add(1, Ordering::SeqCst);
                let connection = ebbtide_hyper::server::http1()
                    .serve_connection(EbbtideIo::new(stream), service_fn(hello));
                let closed = Arc::clone(&closed_in);
                ebbtide_std::spawn(async move {
                    let _ = connection.await;
                    closed.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            }
        })
        .unwrap();

        let mut builder = ebbtide_hyper::client::legacy();
        builder.pool_idle_timeout(Duration::from_millis(200));
        let client = builder.build_http::<Empty<Bytes>>();
        let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
        for _ in 0..2 {
            let response = client.get(uri.clone()).await.unwrap();
            response.into_body().collect().await.unwrap();
        }
        // Two requests, one pooled connection.
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(closed.load(Ordering::SeqCst), 0);

        // With the client alive and idle, its pool's timer closes the connection.
        let start = Instant::now();
        while closed.load(Ordering::SeqCst) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the idle connection was never closed"
            );
            ebbtide_std::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(start.elapsed() >= Duration::from_millis(100));
        // The next request opens a new one.
        client
            .get(uri)
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        drop(client);
    });
}

#[test]
fn an_http2_server_advertises_the_streams_task_memory_has_room_for() {
    // At most 32 tasks of 1 KiB and 16 of 4 KiB: half the smaller room is at most 8 streams
    // (less what live tasks, such as the server's own, take).
    let runtime = ebbtide_std::Runtime::builder()
        .task_limit(64)
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (told, expected) = ebbtide_std::sync::oneshot::channel();
        ebbtide_std::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let _ = told.send(ebbtide_hyper::max_concurrent_streams());
            let _ = ebbtide_hyper::server::http2()
                .serve_connection(EbbtideIo::new(stream), service_fn(hello))
                .await;
        })
        .unwrap();
        let settings = ebbtide_std::spawn_blocking(move || {
            let mut stream = raw_client(addr);
            stream.write_all(H2_PREFACE).unwrap();
            loop {
                let (kind, flags, payload) = read_frame(&mut stream).unwrap();
                if kind == SETTINGS && flags & ACK == 0 {
                    return payload;
                }
            }
        })
        .await
        .unwrap();
        // SETTINGS_MAX_CONCURRENT_STREAMS is identifier 0x3.
        let max_streams = settings.chunks(6).find_map(|setting| {
            (u16::from_be_bytes([setting[0], setting[1]]) == 0x3)
                .then(|| u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]))
        });
        let expected = expected.await.unwrap();
        assert!((1..=8).contains(&expected), "{expected}");
        assert_eq!(max_streams, Some(expected), "settings: {settings:?}");
    });
}
