//! The TCP proxy demo (`ebbtide_examples::proxy`), driven by real clients and upstreams on
//! 127.0.0.1: byte-exact bulk transfer both ways at once, half-close, a refused or reset
//! upstream, and the connect timeout.

use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;

use ebbtide_examples::proxy::{self, connect_upstream, Config};
use ebbtide_std::io::{copy, AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{timeout, Duration, Instant};
use ebbtide_std::Runtime;

/// Every wait of these tests ends by this long.
const LIMIT: Duration = Duration::from_secs(20);

fn pattern(index: usize) -> u8 {
    (index.wrapping_mul(31) ^ (index >> 9) ^ (index >> 17)) as u8
}

/// Starts a proxy to `upstream` on a free port; returns its address.
async fn start_proxy(upstream: SocketAddr, connect_timeout: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        connect_timeout,
        ..Config::new(addr, upstream)
    };
    ebbtide_std::spawn(proxy::run(listener, config)).unwrap();
    addr
}

/// A port where nothing listens (bound, then closed).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Reads until end of stream or an error; true if the connection ended (either way).
async fn ends(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

#[test]
fn several_megabytes_both_ways_at_once_arrive_byte_exact() {
    const BYTES: usize = 4 * 1024 * 1024;
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            // The upstream echoes, then shuts its side when the client's side has ended.
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let upstream_addr = upstream.local_addr().unwrap();
            let echo = ebbtide_std::spawn(async move {
                let (mut conn, _) = upstream.accept().await.unwrap();
                let (mut rx, mut tx) = conn.split();
                let mut buf = vec![0u8; 64 * 1024];
                let n = copy(&mut rx, &mut tx, &mut buf).await.unwrap();
                AsyncWriteExt::shutdown(&mut tx).await.unwrap();
                n
            })
            .unwrap();
            let proxy_addr = start_proxy(upstream_addr, Duration::from_secs(5)).await;

            let client = TcpStream::connect(proxy_addr).await.unwrap();
            let (mut rx, mut tx) = client.into_split();
            let writer = ebbtide_std::spawn(async move {
                let mut chunk = vec![0u8; 10_000];
                let mut sent = 0;
                while sent < BYTES {
                    let n = chunk.len().min(BYTES - sent);
                    for (i, byte) in chunk[..n].iter_mut().enumerate() {
                        *byte = pattern(sent + i);
                    }
                    tx.write_all(&chunk[..n]).await.unwrap();
                    sent += n;
                }
                // Half-close: the upstream must see end of stream through the proxy.
                AsyncWriteExt::shutdown(&mut tx).await.unwrap();
            })
            .unwrap();
            let mut buf = vec![0u8; 7_000];
            let mut received = 0;
            loop {
                let n = rx.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                for (i, byte) in buf[..n].iter().enumerate() {
                    assert_eq!(*byte, pattern(received + i), "byte {}", received + i);
                }
                received += n;
            }
            writer.await.unwrap();
            assert_eq!(received, BYTES);
            assert_eq!(echo.await.unwrap(), BYTES as u64);
        })
        .await
        .expect("the transfer took over 20 s");
    });
}

#[test]
fn a_clients_write_shutdown_reaches_the_upstream_and_replies_still_flow() {
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            // The upstream reads everything, then answers with what it counted, then closes.
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let upstream_addr = upstream.local_addr().unwrap();
            ebbtide_std::spawn(async move {
                let (mut conn, _) = upstream.accept().await.unwrap();
                let mut all = [0u8; 64];
                let n = conn.read_to_limit(&mut all).await.unwrap();
                let reply = format!("got {n} bytes: {}", String::from_utf8_lossy(&all[..n]));
                conn.write_all(reply.as_bytes()).await.unwrap();
            })
            .unwrap();
            let proxy_addr = start_proxy(upstream_addr, Duration::from_secs(5)).await;

            let mut client = TcpStream::connect(proxy_addr).await.unwrap();
            client.write_all(b"hello").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut reply = [0u8; 64];
            let n = client.read_to_limit(&mut reply).await.unwrap();
            assert_eq!(&reply[..n], b"got 5 bytes: hello");
        })
        .await
        .expect("the half-close test took over 20 s");
    });
}

#[test]
fn an_upstream_write_shutdown_reaches_the_client_and_the_client_can_still_send() {
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            // The upstream greets and shuts its write side at once, then reads the client.
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let upstream_addr = upstream.local_addr().unwrap();
            let heard = ebbtide_std::spawn(async move {
                let (mut conn, _) = upstream.accept().await.unwrap();
                conn.write_all(b"banner").await.unwrap();
                conn.shutdown(Shutdown::Write).unwrap();
                let mut all = [0u8; 64];
                let n = conn.read_to_limit(&mut all).await.unwrap();
                all[..n].to_vec()
            })
            .unwrap();
            let proxy_addr = start_proxy(upstream_addr, Duration::from_secs(5)).await;

            let mut client = TcpStream::connect(proxy_addr).await.unwrap();
            let mut banner = [0u8; 16];
            let n = client.read_to_limit(&mut banner).await.unwrap();
            assert_eq!(&banner[..n], b"banner", "then end of stream");
            client.write_all(b"after the banner").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            assert_eq!(heard.await.unwrap(), b"after the banner");
        })
        .await
        .expect("the half-close test took over 20 s");
    });
}

#[test]
fn a_refused_upstream_closes_the_client_promptly() {
    Runtime::new().unwrap().block_on(async {
        let upstream = closed_port().await;
        let proxy_addr = start_proxy(upstream, Duration::from_secs(5)).await;
        let started = Instant::now();
        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        let ended = timeout(Duration::from_secs(3), ends(&mut client)).await;
        assert_eq!(ended, Ok(true), "the client was left hanging");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The proxy keeps serving: a second client is closed the same way.
        let mut again = TcpStream::connect(proxy_addr).await.unwrap();
        assert_eq!(
            timeout(Duration::from_secs(3), ends(&mut again)).await,
            Ok(true)
        );
    });
}

/// Closes `stream` with a reset (SO_LINGER of zero) instead of a FIN.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open (owned by `stream`, dropped after), and `linger` is a valid
    // `struct linger` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    drop(stream);
}

#[test]
fn an_upstream_reset_closes_the_client() {
    Runtime::new().unwrap().block_on(async {
        timeout(LIMIT, async {
            let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let upstream_addr = upstream.local_addr().unwrap();
            ebbtide_std::spawn(async move {
                let (mut conn, _) = upstream.accept().await.unwrap();
                let mut first = [0u8; 4];
                conn.read_exact(&mut first).await.unwrap();
                reset(conn);
            })
            .unwrap();
            let proxy_addr = start_proxy(upstream_addr, Duration::from_secs(5)).await;
            let mut client = TcpStream::connect(proxy_addr).await.unwrap();
            client.write_all(b"ping").await.unwrap();
            assert_eq!(
                timeout(Duration::from_secs(5), ends(&mut client)).await,
                Ok(true),
                "the client was left hanging after the upstream's reset"
            );
        })
        .await
        .expect("the reset test took over 20 s");
    });
}

#[test]
fn the_connect_timeout_applies_to_any_connection_attempt() {
    Runtime::new().unwrap().block_on(async {
        let never = std::future::pending::<std::io::Result<TcpStream>>();
        let started = Instant::now();
        let error = timeout(LIMIT, connect_upstream(never, Duration::from_millis(100)))
            .await
            .expect("connect_upstream ignored its limit")
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(100));
    });
}

/// A listener with a backlog of zero that never accepts (Linux drops SYNs once its queue is
/// full, so later connection attempts hang instead of being refused).
#[cfg(target_os = "linux")]
fn listener_that_never_accepts() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: the fd is the open listening socket owned by `listener`.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), 0) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    listener
}

#[cfg(target_os = "linux")]
#[test]
fn an_upstream_that_does_not_answer_is_given_up_after_the_connect_timeout() {
    if std::fs::read_to_string("/proc/sys/net/ipv4/tcp_abort_on_overflow")
        .is_ok_and(|v| v.trim() != "0")
    {
        eprintln!("skipped: tcp_abort_on_overflow refuses instead of dropping SYNs");
        return;
    }
    let upstream = listener_that_never_accepts();
    let upstream_addr = upstream.local_addr().unwrap();
    // Fill the accept queue until an attempt hangs.
    let mut fillers = Vec::new();
    loop {
        match std::net::TcpStream::connect_timeout(
            &upstream_addr,
            std::time::Duration::from_millis(300),
        ) {
            Ok(stream) => fillers.push(stream),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => break,
            Err(error) => panic!("filling the backlog: {error}"),
        }
        assert!(fillers.len() < 64, "the backlog never filled");
    }

    Runtime::new().unwrap().block_on(async {
        let proxy_addr = start_proxy(upstream_addr, Duration::from_millis(300)).await;
        let started = Instant::now();
        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        assert_eq!(
            timeout(Duration::from_secs(5), ends(&mut client)).await,
            Ok(true),
            "the proxy did not give up on the upstream"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250),
            "closed after {waited:?}: refused, not timed out"
        );
    });
    drop(fillers);
    drop(upstream);
}
