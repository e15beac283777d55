//! Tokio-ecosystem code over ebbtide's streams (feature `tokio-io`): tokio-util's `Framed` with
//! `LinesCodec` on both ends of an ebbtide `TcpStream`, `tokio::io::copy`, `read_to_end`,
//! `read_buf` into uninitialised memory, vectored writes, split halves, Unix streams and files,
//! all driven by ebbtide's runtime alone (no Tokio runtime runs in this test binary).
#![cfg(feature = "tokio-io")]

use std::io::IoSlice;

use ebbtide_std::net::{TcpListener, TcpStream, UnixStream};
use ebbtide_std::time::{timeout, Duration};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio_util::codec::{Framed, LinesCodec};

/// Every test gives up after this long: a bug fails instead of hanging the run.
const LIMIT: Duration = Duration::from_secs(20);

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8)
        .collect()
}

/// A line server and a line client, both tokio-util `Framed<TcpStream, LinesCodec>` over
/// ebbtide sockets: every line comes back, in order, and both ends see end of stream.
#[ebbtide_std::test]
async fn framed_lines_on_both_ends() {
    const LINES: usize = 2_000;
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let server = ebbtide_std::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(1024));
            let mut served = 0;
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                lines.send(format!("echo: {line}")).await.unwrap();
                served += 1;
            }
            // The client closed its side: close ours (the sink's close shuts the write half).
            SinkExt::<String>::close(&mut lines).await.unwrap();
            served
        })
        .unwrap();

        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sink, mut replies) = Framed::new(stream, LinesCodec::new()).split();
        let writer = ebbtide_std::spawn(async move {
            for i in 0..LINES {
                // Lines of different lengths, some longer than one read.
                let line = format!("line {i} {}", "x".repeat(i % 700));
                sink.feed(line).await.unwrap();
                if i % 64 == 0 {
                    sink.flush().await.unwrap();
                }
            }
            // Flushes, then shuts the write half: the server reads end of stream.
            sink.close().await.unwrap();
        })
        .unwrap();

        let mut got = 0;
        while let Some(reply) = replies.next().await {
            let reply = reply.unwrap();
            assert_eq!(
                reply,
                format!("echo: line {got} {}", "x".repeat(got % 700)),
                "reply {got}"
            );
            got += 1;
        }
        assert_eq!(got, LINES, "every line came back, then end of stream");
        writer.await.unwrap();
        assert_eq!(server.await.unwrap(), LINES);
    })
    .await
    .expect("the line exchange finished in time");
}

/// A line longer than the codec's limit is an error on the reading side, not a hang.
#[ebbtide_std::test]
async fn framed_line_too_long_is_an_error() {
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(16));
        client
            .write_all(b"this line is far longer than sixteen bytes\n")
            .await
            .unwrap();
        assert!(lines.next().await.unwrap().is_err());
    })
    .await
    .unwrap();
}

/// `tokio::io::copy` echoes through the owned halves of an ebbtide stream; the client writes
/// with `write_all`, shuts down with `AsyncWriteExt::shutdown` and reads with `read_to_end`.
#[ebbtide_std::test]
async fn tokio_copy_echo_and_read_to_end() {
    const BYTES: usize = 1 << 20;
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ebbtide_std::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut rx, mut tx) = stream.into_split();
            let n = tokio::io::copy(&mut rx, &mut tx).await.unwrap();
            tx.shutdown().await.unwrap();
            n
        })
        .unwrap();

        let data = pattern(BYTES);
        let (mut rx, mut tx) = TcpStream::connect(addr).await.unwrap().into_split();
        let sent = data.clone();
        let writer = ebbtide_std::spawn(async move {
            tx.write_all(&sent).await.unwrap();
            tx.shutdown().await.unwrap();
        })
        .unwrap();
        let mut back = Vec::new();
        rx.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        assert_eq!(server.await.unwrap(), BYTES as u64);
        assert!(back == data, "the echoed bytes differ");
    })
    .await
    .unwrap();
}

/// `tokio::io::copy_bidirectional` between two ebbtide streams: a proxy in one call.
#[ebbtide_std::test]
async fn tokio_copy_bidirectional_proxies() {
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut near, _) = listener.accept().await.unwrap();
        let (mut far_peer, mut far) = UnixStream::pair().unwrap();
        let proxy = ebbtide_std::spawn(async move {
            tokio::io::copy_bidirectional(&mut near, &mut far_peer)
                .await
                .unwrap()
        })
        .unwrap();

        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        far.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        far.write_all(b"pong!").await.unwrap();
        // `UnixStream` and `TcpStream` have std's `shutdown(how)` too, which a method call finds first.
        AsyncWriteExt::shutdown(&mut far).await.unwrap();
        AsyncWriteExt::shutdown(&mut client).await.unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"pong!");
        assert_eq!(proxy.await.unwrap(), (4, 5));
    })
    .await
    .unwrap();
}

/// Reads fill a `ReadBuf` over uninitialised memory exactly: `filled` grows by what was read,
/// `initialized` covers it, and nothing past it is claimed. `read_buf` into a `Vec`'s spare
/// capacity works the same way.
#[ebbtide_std::test]
async fn reads_fill_uninitialised_read_bufs() {
    timeout(LIMIT, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"hello, uninit").await.unwrap();

        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b">"); // something filled already
        std::future::poll_fn(|cx| {
            tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut b), cx, &mut buf)
        })
        .await
        .unwrap();
        assert_eq!(buf.filled(), b">hello, uninit");
        assert_eq!(buf.initialized().len(), buf.filled().len());

        // A full ReadBuf reads nothing and is `Ready` at once.
        let mut none: [u8; 0] = [];
        let mut empty = ReadBuf::new(&mut none);
        std::future::poll_fn(|cx| {
            tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut b), cx, &mut empty)
        })
        .await
        .unwrap();

        let mut vec = Vec::with_capacity(4096);
        a.write_all(&pattern(3000)).await.unwrap();
        while vec.len() < 3000 {
            let n = b.read_buf(&mut vec).await.unwrap();
            assert!(n > 0);
        }
        assert_eq!(vec, pattern(3000));

        // End of stream: `read` returns 0.
        drop(a);
        let mut byte = [0u8; 1];
        assert_eq!(b.read(&mut byte).await.unwrap(), 0);
    })
    .await
    .unwrap();
}

/// Vectored writes go out as one `writev`, in order, skipping empty buffers; the streams say so.
#[ebbtide_std::test]
async fn vectored_writes() {
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert!(tokio::io::AsyncWrite::is_write_vectored(&client));

        let parts = [
            IoSlice::new(b"head "),
            IoSlice::new(b""),
            IoSlice::new(b"body "),
            IoSlice::new(b"tail"),
        ];
        let n = client.write_vectored(&parts).await.unwrap();
        assert_eq!(n, 14, "a small vectored write goes out whole");

        // More buffers than one writev takes: `write_all_buf` style loop over them all.
        let many: Vec<Vec<u8>> = (0..200).map(|i| vec![i as u8; 3]).collect();
        let mut slices: Vec<IoSlice<'_>> = many.iter().map(|b| IoSlice::new(b)).collect();
        let mut slices = &mut slices[..];
        let mut total = 0;
        while !slices.is_empty() {
            let n = client.write_vectored(slices).await.unwrap();
            assert!(n > 0);
            total += n;
            IoSlice::advance_slices(&mut slices, n);
        }
        assert_eq!(total, 600);
        AsyncWriteExt::shutdown(&mut client).await.unwrap();

        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        let mut want = b"head body tail".to_vec();
        want.extend(many.concat());
        assert_eq!(got, want);
    })
    .await
    .unwrap();
}

/// The borrowed halves of `TcpStream::split` take Tokio's traits too, and the write half's
/// `shutdown` is a half-close: the peer still answers.
#[ebbtide_std::test]
async fn borrowed_halves_and_half_close() {
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let server = ebbtide_std::spawn(async move {
            let mut request = Vec::new();
            server.read_to_end(&mut request).await.unwrap();
            server
                .write_all(&request.to_ascii_uppercase())
                .await
                .unwrap();
        })
        .unwrap();

        let (mut rx, mut tx) = client.split();
        tx.write_all(b"half close").await.unwrap();
        tx.shutdown().await.unwrap();
        let mut reply = String::new();
        rx.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "HALF CLOSE");
        server.await.unwrap();
    })
    .await
    .unwrap();
}

/// ebbtide's `fs::File` takes Tokio's traits: written, flushed, read back.
#[ebbtide_std::test]
async fn files_through_tokio_traits() {
    let path = std::env::temp_dir().join(format!("ebbtide-tokio-io-{}", std::process::id()));
    timeout(LIMIT, async {
        let data = pattern(100_000);
        let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
        AsyncWriteExt::write_all(&mut file, &data).await.unwrap();
        AsyncWriteExt::flush(&mut file).await.unwrap();
        drop(file);
        let mut file = ebbtide_std::fs::File::open(&path).await.unwrap();
        let mut back = Vec::new();
        AsyncReadExt::read_to_end(&mut file, &mut back)
            .await
            .unwrap();
        assert!(back == data, "the file's bytes differ");
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
}
