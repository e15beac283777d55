//! `AsyncRead::poll_read_uninit` on the sockets, which override the trait's zeroing default with
//! one `recv(2)` straight into the caller's uninitialised memory: the bytes sent arrive in order,
//! a read waits (and is woken) when nothing is there yet, an empty buffer reads nothing, and the
//! peer's close reads as 0. On TCP (the stream and both kinds of read half) and Unix streams.
//! Adversarial: a canary past the bytes read stays untouched (the `unsafe` contract), a read half
//! reads on another worker thread, and a reset peer is an error that leaves the runtime serving.

use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::pin::Pin;

use ebbtide_std::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream, UnixStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

const MESSAGE: &[u8] = b"read straight into uninitialised memory";

/// Reads from `reader` with `poll_read_uninit` until it says 0, checking each call's count
/// against its buffer, and returns what arrived.
async fn read_to_end_uninit<R: AsyncRead + Unpin>(reader: &mut R) -> Vec<u8> {
    let mut received = Vec::new();
    // Small, so the message takes several reads; uninitialised on every call.
    let mut buf = [MaybeUninit::<u8>::uninit(); 7];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *reader).poll_read_uninit(cx, &mut buf))
            .await
            .unwrap();
        assert!(n <= buf.len());
        if n == 0 {
            return received;
        }
        // SAFETY: `poll_read_uninit` said its first `n` bytes were written.
        received.extend(buf[..n].iter().map(|b| unsafe { b.assume_init() }));
    }
}

/// Writes `MESSAGE` in two parts with a pause between (so the reader waits for the second), then
/// closes its end.
async fn send_slowly<W: AsyncWrite + Unpin>(mut writer: W) {
    writer.write_all(&MESSAGE[..10]).await.unwrap();
    sleep(Duration::from_millis(20)).await;
    writer.write_all(&MESSAGE[10..]).await.unwrap();
    writer.shutdown().await.unwrap();
}

/// Runs `test` on a new runtime, failing it if it takes over 10 seconds.
fn run(test: impl std::future::Future<Output = ()>) {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(10), test)
            .await
            .expect("no hang");
    });
}

/// A connected pair of TCP streams on loopback.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = ebbtide_std::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn tcp_stream_reads_what_was_sent_then_eof() {
    run(async {
        let (client, mut server) = tcp_pair().await;
        let sender = ebbtide_std::spawn(send_slowly(client)).unwrap();
        assert_eq!(read_to_end_uninit(&mut server).await, MESSAGE);
        sender.await.unwrap();
    });
}

#[test]
fn tcp_read_halves_read_what_was_sent() {
    run(async {
        let (client, mut server) = tcp_pair().await;
        let sender = ebbtide_std::spawn(send_slowly(client)).unwrap();
        let (mut read_half, _write_half) = server.split();
        assert_eq!(read_to_end_uninit(&mut read_half).await, MESSAGE);
        sender.await.unwrap();

        let (client, server) = tcp_pair().await;
        let sender = ebbtide_std::spawn(send_slowly(client)).unwrap();
        let (mut owned_read, _owned_write) = server.into_split();
        assert_eq!(read_to_end_uninit(&mut owned_read).await, MESSAGE);
        sender.await.unwrap();
    });
}

#[test]
fn unix_stream_reads_what_was_sent_then_eof() {
    run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let sender = ebbtide_std::spawn(send_slowly(a)).unwrap();
        assert_eq!(read_to_end_uninit(&mut b).await, MESSAGE);
        sender.await.unwrap();
    });
}

#[test]
fn an_empty_buffer_reads_nothing_at_once() {
    run(async {
        let (_client, mut server) = tcp_pair().await;
        // Nothing was sent, so a real read would wait: an empty buffer must not.
        let n = poll_fn(|cx| Pin::new(&mut server).poll_read_uninit(cx, &mut []))
            .await
            .unwrap();
        assert_eq!(n, 0);
    });
}

/// The contract `recv_uninit`'s `unsafe` relies on, checked from outside: the kernel writes only
/// the `n` bytes it reports, so whatever was in the buffer past them is untouched.
#[test]
fn nothing_past_the_bytes_read_is_written() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(MESSAGE).await.unwrap();
        let mut buf = [MaybeUninit::new(0xA5u8); 256];
        let mut got = 0;
        while got < MESSAGE.len() {
            let n = poll_fn(|cx| Pin::new(&mut server).poll_read_uninit(cx, &mut buf[got..]))
                .await
                .unwrap();
            assert_ne!(n, 0, "early EOF");
            got += n;
        }
        assert_eq!(got, MESSAGE.len(), "read past the message");
        // SAFETY: every element was initialised (0xA5) before the reads, which only write bytes.
        let bytes: Vec<u8> = buf.iter().map(|b| unsafe { b.assume_init() }).collect();
        assert_eq!(&bytes[..got], MESSAGE);
        assert!(
            bytes[got..].iter().all(|&b| b == 0xA5),
            "a byte past the read changed"
        );
    });
}

/// A read half moved to another worker thread reads there (its registration stays with the
/// runtime), while this thread writes.
#[test]
fn a_read_half_reads_on_another_worker_thread() {
    let runtime = Runtime::builder().worker_threads(2).build().unwrap();
    let handle = runtime.handle();
    runtime.block_on(async move {
        timeout(Duration::from_secs(10), async move {
            let (client, server) = tcp_pair().await;
            let (mut read_half, _write_half) = server.into_split();
            let reader = handle
                .spawn_on(1, async move {
                    let thread = std::thread::current().id();
                    (read_to_end_uninit(&mut read_half).await, thread)
                })
                .unwrap();
            send_slowly(client).await;
            let (received, reader_thread) = reader.await.unwrap();
            assert_eq!(received, MESSAGE);
            assert_ne!(reader_thread, std::thread::current().id());
        })
        .await
        .expect("no hang");
    });
}

/// A peer that resets the connection makes the read fail with `ConnectionReset`, and the
/// runtime goes on serving.
#[test]
fn a_reset_peer_is_an_error_not_a_hang() {
    run(async {
        let (client, mut server) = tcp_pair().await;
        // SO_LINGER with a zero timeout: closing sends RST instead of FIN.
        let std_client = client.into_std().unwrap();
        socket2::SockRef::from(&std_client)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
        drop(std_client);
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        let err = poll_fn(|cx| Pin::new(&mut server).poll_read_uninit(cx, &mut buf))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        // Another connection is served as usual.
        let (client, mut server) = tcp_pair().await;
        let sender = ebbtide_std::spawn(send_slowly(client)).unwrap();
        assert_eq!(read_to_end_uninit(&mut server).await, MESSAGE);
        sender.await.unwrap();
    });
}
