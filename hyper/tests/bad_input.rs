//! Hostile HTTP/2 peers against a hyper server on ebbtide, written frame by frame: a rapid-reset
//! flood (CVE-2023-44487: open a stream, reset it at once, thousands of times) is cut off with a
//! GOAWAY, a stream past `max_concurrent_streams` is refused with `REFUSED_STREAM` while the
//! streams within the limit are answered, and in both cases other clients are served meanwhile.
//! (HTTP/1 bad input, malformed and oversized headers, is tested against the examples in
//! `examples/tests/hyper_bins.rs`.)

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use ebbtide_hyper::EbbtideIo;
use ebbtide_std::net::TcpListener;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};

const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
const CANCEL: u32 = 0x8;
const REFUSED_STREAM: u32 = 0x7;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// `/slow` answers after 300 ms, anything else at once.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == "/slow" {
        ebbtide_std::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Serves HTTP/2 on a new listener, with `configure` applied to each connection's builder.
async fn h2_server(
    configure: fn(&mut hyper::server::conn::http2::Builder<ebbtide_hyper::EbbtideExecutor>),
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ebbtide_std::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let mut builder = ebbtide_hyper::server::http2();
            configure(&mut builder);
            let connection = builder.serve_connection(EbbtideIo::new(stream), service_fn(answer));
            ebbtide_std::spawn(async move {
                let _ = connection.await;
            })
            .unwrap();
        }
    })
    .unwrap();
    addr
}

/// A well-behaved HTTP/2 client (hyper's) fetching `/` once.
async fn fetch_h2(addr: SocketAddr) -> Bytes {
    let stream = ebbtide_std::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(ebbtide_hyper::EbbtideExecutor::new())
            .handshake(EbbtideIo::new(stream))
            .await
            .unwrap();
    ebbtide_std::spawn(connection).unwrap();
    let request = Request::get(format!("http://{addr}/"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes()
}

/// A raw HTTP/2 peer over a blocking socket.
struct Peer(std::net::TcpStream);

impl Peer {
    /// Connects, sends the preface and empty SETTINGS, and acknowledges the server's.
    fn connect(addr: SocketAddr) -> Peer {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut peer = Peer(stream);
        peer.0
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .unwrap();
        peer.frame(SETTINGS, 0, 0, &[]);
        peer.frame(SETTINGS, ACK, 0, &[]);
        peer
    }

    fn frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let _ = self.0.write_all(&encode(kind, flags, stream, payload));
    }

    /// The next frame: (type, flags, stream, payload), or `None` once the server closed.
    fn read(&mut self) -> Option<(u8, u8, u32, Vec<u8>)> {
        let mut head = [0u8; 9];
        self.0.read_exact(&mut head).ok()?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        self.0.read_exact(&mut payload).ok()?;
        Some((head[3], head[4], stream, payload))
    }
}

fn encode(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut frame = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A GET of `path` as an HPACK block: `:method GET`, `:scheme http` from the static table,
/// `:path` and `:authority` as literals (not indexed).
fn get(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86];
    block.push(0x04);
    block.push(path.len() as u8);
    block.extend_from_slice(path.as_bytes());
    block.push(0x01);
    block.push(9);
    block.extend_from_slice(b"localhost");
    block
}

fn on_runtime<F: std::future::Future<Output = ()> + Send + 'static>(test: F) {
    let runtime = ebbtide_std::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async move {
        ebbtide_std::time::timeout(Duration::from_secs(60), test)
            .await
            .expect("the test took over 60 s");
    });
}

#[test]
fn a_rapid_reset_flood_is_cut_off_and_other_clients_are_served() {
    on_runtime(async {
        let addr = h2_server(|_| {}).await;
        let flood = ebbtide_std::spawn_blocking(move || {
            let mut peer = Peer::connect(addr);
            // 5,000 streams opened and cancelled at once, written in batches.
            let mut batch = Vec::new();
            for i in 0..5_000u32 {
                let stream = 2 * i + 1;
                batch.extend(encode(HEADERS, END_HEADERS | END_STREAM, stream, &get("/")));
                batch.extend(encode(RST_STREAM, 0, stream, &CANCEL.to_be_bytes()));
                if batch.len() > 16 * 1024 {
                    if peer.0.write_all(&batch).is_err() {
                        break;
                    }
                    batch.clear();
                }
            }
            let _ = peer.0.write_all(&batch);
            // The server's verdict: a GOAWAY, then the end of the connection.
            let mut goaway = None;
            while let Some((kind, _, _, payload)) = peer.read() {
                if kind == GOAWAY {
                    goaway = Some(u32::from_be_bytes([
                        payload[4], payload[5], payload[6], payload[7],
                    ]));
                }
            }
            goaway
        });
        // Served while the flood goes on, and after it.
        assert_eq!(&fetch_h2(addr).await[..], b"ok");
        let goaway = flood.await.unwrap();
        assert_eq!(goaway, Some(ENHANCE_YOUR_CALM), "the flood was not cut off");
        assert_eq!(&fetch_h2(addr).await[..], b"ok");
    });
}

#[test]
fn a_stream_past_the_limit_is_refused_and_the_others_are_answered() {
    on_runtime(async {
        let addr = h2_server(|builder| {
            builder.max_concurrent_streams(4);
        })
        .await;
        let outcome = ebbtide_std::spawn_blocking(move || {
            let mut peer = Peer::connect(addr);
            // Wait for the server's SETTINGS, which carry the limit, before going over it.
            while let Some((kind, flags, _, _)) = peer.read() {
                if kind == SETTINGS && flags & ACK == 0 {
                    break;
                }
            }
            // Five slow requests at once: streams 1, 3, 5, 7 within the limit, 9 past it.
            for stream in [1u32, 3, 5, 7, 9] {
                peer.frame(HEADERS, END_HEADERS | END_STREAM, stream, &get("/slow"));
            }
            let mut answered = Vec::new();
            let mut refused = Vec::new();
            while answered.len() + refused.len() < 5 {
                match peer.read() {
                    Some((HEADERS, _, stream, _)) => answered.push(stream),
                    Some((RST_STREAM, _, stream, payload)) => {
                        let code =
                            u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                        refused.push((stream, code));
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            answered.sort_unstable();
            (answered, refused)
        });
        assert_eq!(&fetch_h2(addr).await[..], b"ok");
        let (answered, refused) = outcome.await.unwrap();
        assert_eq!(answered, [1, 3, 5, 7]);
        assert_eq!(refused, [(9, REFUSED_STREAM)]);
    });
}
