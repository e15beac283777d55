//! TCP when things go wrong: refused connects, resets, half-close, EOF, and a peer that never
//! reads. Every wait is bounded in time.

use std::io::ErrorKind;
use std::net::Shutdown;
use std::time::Instant as StdInstant;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

/// Fails the test if `future` takes longer than `secs` seconds.
async fn within<F: std::future::Future>(secs: u64, what: &str, future: F) -> F::Output {
    match timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} did not finish within {secs} s"),
    }
}

/// A connected pair on loopback: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn connect_to_a_closed_port_is_refused_quickly() {
    Runtime::new().unwrap().block_on(async {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let started = StdInstant::now();
        let error = within(5, "connect", TcpStream::connect(addr))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));

        let error = TcpStream::connect_timeout(addr, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    });
}

#[test]
fn a_peer_reset_fails_the_writer_and_spares_other_connections() {
    Runtime::new().unwrap().block_on(async {
        let (mut victim, resetter) = pair().await;
        let (mut other_client, mut other_server) = pair().await;

        // The peer closes with unread data in its receive buffer: the kernel sends a reset.
        let peer = ebbtide_std::spawn(async move {
            let mut resetter = resetter;
            let mut first = [0u8; 1];
            resetter.read_exact(&mut first).await.unwrap();
            drop(resetter);
        })
        .unwrap();

        let chunk = [7u8; 16 * 1024];
        let error = within(10, "writing into a reset connection", async {
            loop {
                if let Err(e) = victim.write(&chunk).await {
                    return e;
                }
            }
        })
        .await;
        assert!(
            matches!(
                error.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "unexpected error: {error}"
        );
        peer.await.unwrap();

        // The other connection still works, both ways.
        within(5, "the other connection", async {
            other_client.write_all(b"still here").await.unwrap();
            let mut buf = [0u8; 10];
            other_server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still here");
            other_server.write_all(b"ok").await.unwrap();
            other_client.read_exact(&mut buf[..2]).await.unwrap();
            assert_eq!(&buf[..2], b"ok");
        })
        .await;
    });
}

#[test]
fn a_reset_is_reported_to_the_reader_as_connection_reset() {
    Runtime::new().unwrap().block_on(async {
        let (mut client, server) = pair().await;
        client.write_all(b"never read").await.unwrap();
        // Let the bytes land in the server's receive buffer, then close it unread: a reset.
        sleep(Duration::from_millis(20)).await;
        drop(server);
        let mut buf = [0u8; 16];
        let error = within(5, "reading a reset connection", client.read(&mut buf))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    });
}

#[test]
fn half_close_lets_the_server_answer_after_eof() {
    Runtime::new().unwrap().block_on(async {
        let (mut client, mut server) = pair().await;
        within(5, "the half-closed exchange", async {
            client.write_all(b"question").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();

            let mut buf = [0u8; 32];
            let n = server.read_to_limit(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"question");
            assert_eq!(server.read(&mut buf).await.unwrap(), 0);

            server.write_all(b"answer").await.unwrap();
            AsyncWriteExt::shutdown(&mut server).await.unwrap();
            let n = client.read_to_limit(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"answer");
        })
        .await;
    });
}

#[test]
fn reading_after_eof_returns_zero_every_time() {
    Runtime::new().unwrap().block_on(async {
        let (mut client, server) = pair().await;
        drop(server);
        let mut buf = [0u8; 8];
        for attempt in 0..5 {
            let n = within(2, "a read after EOF", client.read(&mut buf))
                .await
                .unwrap();
            assert_eq!(n, 0, "read {attempt} after EOF");
        }
    });
}

#[test]
fn a_peer_that_never_reads_parks_the_writer() {
    Runtime::new().unwrap().block_on(async {
        let (mut client, _server_never_reads) = pair().await;
        let chunk = [1u8; 64 * 1024];
        let mut written = 0usize;
        // Write until the kernel's buffers are full; then `write` is Pending and the timeout
        // ends the attempt.
        let result = timeout(Duration::from_millis(500), async {
            loop {
                written += client.write(&chunk).await.unwrap();
            }
        })
        .await;
        assert!(result.is_err(), "the writer never parked");
        // Bounded: only what the kernel's socket buffers hold, nothing queued in the stream.
        assert!(written > 0);
        assert!(
            written < 64 * 1024 * 1024,
            "{written} bytes went into a peer that never reads"
        );
        // And it stays parked.
        let again = timeout(Duration::from_millis(50), client.write(&chunk)).await;
        assert!(again.is_err(), "a write into full buffers completed");
    });
}
