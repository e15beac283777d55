//! Many concurrent TCP connections echo through spawned tasks, byte for byte.

use ebbtide_std::io::{copy, AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

const CONNECTIONS: usize = 64;
const BYTES_PER_CONNECTION: usize = 96 * 1024;

fn pattern(connection: usize, index: usize) -> u8 {
    (index.wrapping_mul(31) ^ connection.wrapping_mul(131) ^ (index >> 8)) as u8
}

#[test]
fn many_connections_echo_byte_exact() {
    let runtime = Runtime::builder()
        .task_slots([1024, 512, 256, 16])
        .build()
        .unwrap();
    runtime.block_on(async {
        timeout(Duration::from_secs(30), async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();

            // The server: one echo task per connection, each copying its read half into its
            // write half until the client shuts its side.
            let server = ebbtide_std::spawn(async move {
                let mut echoers = Vec::new();
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.unwrap();
                    echoers.push(
                        ebbtide_std::spawn(async move {
                            let mut stream = stream;
                            let (mut rx, mut tx) = stream.split();
                            let mut buf = [0u8; 700];
                            let n = copy(&mut rx, &mut tx, &mut buf).await.unwrap();
                            AsyncWriteExt::shutdown(&mut tx).await.unwrap();
                            n
                        })
                        .unwrap(),
                    );
                }
                let mut total = 0;
                for echoer in echoers {
                    total += echoer.await.unwrap();
                }
                total
            })
            .unwrap();

            // The clients: a writer task and a reader task per connection.
            let mut clients = Vec::new();
            for connection in 0..CONNECTIONS {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut rx, mut tx) = stream.into_split();
                let writer = ebbtide_std::spawn(async move {
                    let mut chunk = [0u8; 1000];
                    let mut sent = 0;
                    while sent < BYTES_PER_CONNECTION {
                        let n = chunk.len().min(BYTES_PER_CONNECTION - sent);
                        for (i, byte) in chunk[..n].iter_mut().enumerate() {
                            *byte = pattern(connection, sent + i);
                        }
                        tx.write_all(&chunk[..n]).await.unwrap();
                        sent += n;
                    }
                    AsyncWriteExt::shutdown(&mut tx).await.unwrap();
                })
                .unwrap();
                let reader = ebbtide_std::spawn(async move {
                    let mut buf = [0u8; 900];
                    let mut received = 0;
                    loop {
                        let n = rx.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        for (i, byte) in buf[..n].iter().enumerate() {
                            assert_eq!(
                                *byte,
                                pattern(connection, received + i),
                                "connection {connection}, byte {}",
                                received + i
                            );
                        }
                        received += n;
                    }
                    received
                })
                .unwrap();
                clients.push((writer, reader));
            }
            for (writer, reader) in clients {
                writer.await.unwrap();
                assert_eq!(reader.await.unwrap(), BYTES_PER_CONNECTION);
            }
            assert_eq!(
                server.await.unwrap(),
                (CONNECTIONS * BYTES_PER_CONNECTION) as u64
            );
        })
        .await
        .expect("the echo test took over 30 s");
    });
}

#[test]
fn write_vectored_sends_every_buffer_in_order() {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(10), async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let mut bufs: [&[u8]; 4] = [b"head:", b"", b"body", b";tail"];
            let expected = b"head:body;tail";
            let mut written = 0;
            while written < expected.len() {
                let n = client.write_vectored(&bufs).await.unwrap();
                assert!(n > 0);
                written += n;
                // Drop what was written from the front of `bufs`.
                let mut skip = n;
                for buf in bufs.iter_mut() {
                    let take = skip.min(buf.len());
                    *buf = &buf[take..];
                    skip -= take;
                }
            }
            let mut got = [0u8; 14];
            server.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, expected);
        })
        .await
        .unwrap();
    });
}
