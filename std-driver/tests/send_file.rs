//! `TcpStream::send_file`, `TcpStream::send_file_with_header` and `fs::read_range` against
//! real files and loopback sockets: ranges, a file shorter than asked, partial sends through a
//! small send buffer to a slow reader, and files the page cache cannot answer without waiting
//! (those of `/proc`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ebbtide_std::io::AsyncReadExt;
use ebbtide_std::net::{TcpListener, TcpSocket, TcpStream};
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

/// A file of `data` in a fresh directory.
fn file_of(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebbtide-sendfile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.bin");
    std::fs::write(&path, data).unwrap();
    path
}

/// Bytes that differ at every offset (a shifted or lost piece shows).
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// A connected pair: (sender, receiver), the sender with a send buffer of `sndbuf` bytes (the
/// OS may round it up) if given.
async fn pair(sndbuf: Option<u32>) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = sndbuf {
        socket.set_send_buffer_size(size).unwrap();
    }
    let sender = socket.connect(addr).await.unwrap();
    let (receiver, _) = listener.accept().await.unwrap();
    (sender, receiver)
}

async fn read_all(mut receiver: TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    receiver.read_to_end(&mut got).await.unwrap();
    got
}

#[test]
fn ranges_of_a_file_are_sent_byte_for_byte() {
    let data = pattern(300_000);
    let path = file_of("ranges", &data);
    Runtime::new().unwrap().block_on(async {
        let file = std::fs::File::open(&path).unwrap();
        let (mut sender, receiver) = pair(None).await;
        let reader = ebbtide_std::spawn(read_all(receiver)).unwrap();
        let ranges = [
            (0, 1),
            (1, 4095),
            (4096, 100_000),
            (250_000, 50_000),
            (7, 0),
        ];
        let mut expected = Vec::new();
        for (offset, count) in ranges {
            let sent = sender.send_file(&file, offset, count).await.unwrap();
            assert_eq!(sent, count);
            expected.extend_from_slice(&data[offset as usize..(offset + count) as usize]);
        }
        // The file's own position is untouched.
        use std::io::Seek;
        assert_eq!((&file).stream_position().unwrap(), 0);
        drop(sender);
        assert_eq!(reader.await.unwrap(), expected);
    });
}

#[test]
fn a_file_shorter_than_asked_sends_what_it_has() {
    let data = pattern(10_000);
    let path = file_of("short", &data);
    Runtime::new().unwrap().block_on(async {
        let file = std::fs::File::open(&path).unwrap();
        let (mut sender, receiver) = pair(None).await;
        let reader = ebbtide_std::spawn(read_all(receiver)).unwrap();
        assert_eq!(sender.send_file(&file, 9_000, 5_000).await.unwrap(), 1_000);
        // At or past the end: nothing.
        assert_eq!(sender.send_file(&file, 10_000, 10).await.unwrap(), 0);
        assert_eq!(sender.send_file(&file, 1 << 40, 10).await.unwrap(), 0);
        assert_eq!(sender.send_file(&file, u64::MAX, 10).await.unwrap(), 0);
        drop(sender);
        assert_eq!(reader.await.unwrap(), &data[9_000..]);
    });
}

#[test]
fn a_small_send_buffer_and_a_slow_reader_make_partial_sends_that_lose_nothing() {
    let data = pattern(3 * 1024 * 1024 + 17);
    let path = file_of("partial", &data);
    Runtime::new().unwrap().block_on(async {
        let file = std::fs::File::open(&path).unwrap();
        let (mut sender, mut receiver) = pair(Some(4096)).await;
        let reader = ebbtide_std::spawn(async move {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 7000];
            loop {
                // Slow at first, so the sender finds its buffer full and waits.
                if got.len() < 256 * 1024 {
                    sleep(Duration::from_millis(1)).await;
                }
                let n = receiver.read(&mut buf).await.unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&buf[..n]);
            }
        })
        .unwrap();
        let sent = sender
            .send_file_with_header(b"HEAD", &file, 5, data.len() as u64)
            .await
            .unwrap();
        assert_eq!(sent, data.len() as u64 - 5);
        drop(sender);
        let got = reader.await.unwrap();
        assert_eq!(&got[..4], b"HEAD");
        assert!(got[4..] == data[5..], "the bytes differ");
    });
}

#[test]
fn a_header_without_a_body_is_sent_at_once() {
    let path = file_of("header-only", b"x");
    Runtime::new().unwrap().block_on(async {
        let file = std::fs::File::open(&path).unwrap();
        let (mut sender, mut receiver) = pair(None).await;
        sender.set_nodelay(true).unwrap();
        assert_eq!(
            sender
                .send_file_with_header(b"alone", &file, 0, 0)
                .await
                .unwrap(),
            0
        );
        // Not held back for more (the sender stays open).
        let mut buf = [0u8; 5];
        receiver.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"alone");
    });
}

#[test]
fn a_file_not_open_for_reading_is_an_error() {
    let path = file_of("write-only", b"abc");
    Runtime::new().unwrap().block_on(async {
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let (mut sender, _receiver) = pair(None).await;
        assert!(sender.send_file(&file, 0, 3).await.is_err());
    });
}

#[test]
fn read_range_reads_ranges_and_stops_at_the_end() {
    let data = pattern(200_000);
    let path = file_of("read-range", &data);
    Runtime::new().unwrap().block_on(async {
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        for (offset, len) in [(0, 0), (0, 1), (3, 4096), (100_000, 100_000), (150_000, 1)] {
            let got = ebbtide_std::fs::read_range(&file, offset, len)
                .await
                .unwrap();
            assert!(
                got == data[offset as usize..offset as usize + len],
                "{offset} {len}"
            );
        }
        // Shorter than asked: what there is; past the end: nothing.
        let got = ebbtide_std::fs::read_range(&file, 199_990, 100)
            .await
            .unwrap();
        assert_eq!(got, &data[199_990..]);
        assert!(ebbtide_std::fs::read_range(&file, 300_000, 10)
            .await
            .unwrap()
            .is_empty());
    });
}

/// `/proc` files have no page cache (`RWF_NOWAIT` is refused for them, or they answer
/// anyway): either way `read_range` gets their bytes, through the blocking pool if need be.
#[cfg(target_os = "linux")]
#[test]
fn read_range_reads_files_without_a_page_cache() {
    let expected = std::fs::read("/proc/version").unwrap();
    Runtime::new().unwrap().block_on(async {
        let file = Arc::new(std::fs::File::open("/proc/version").unwrap());
        let got = ebbtide_std::fs::read_range(&file, 0, 64 * 1024)
            .await
            .unwrap();
        assert_eq!(got, expected);
    });
}

/// A peer that is gone makes `send_file` fail with `BrokenPipe` or `ConnectionReset`, and never
/// kills the process with `SIGPIPE`, even where `SIGPIPE` has its default action (Rust's `main`
/// ignores it, a C program embedding the runtime usually does not). `sendfile(2)` takes no
/// `MSG_NOSIGNAL`, unlike the runtime's `send`s. Run in a child process (this test binary again),
/// whose `SIGPIPE` is set back to the default: were the signal raised, the child would die of it.
#[test]
fn a_gone_peer_is_an_error_not_a_sigpipe_even_with_sigpipe_at_its_default() {
    const CHILD: &str = "EBBTIDE_TEST_SIGPIPE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // SAFETY: sets a signal's disposition to the default; no handler runs.
        let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        assert_ne!(old, libc::SIG_ERR);
        let data = pattern(1024 * 1024);
        let path = file_of("sigpipe", &data);
        Runtime::new().unwrap().block_on(async {
            let file = std::fs::File::open(&path).unwrap();
            for with_header in [false, true] {
                let (mut sender, receiver) = pair(None).await;
                drop(receiver);
                let mut outcome = Ok(0);
                // The first sends may still be taken (before the peer's RST comes back).
                for _ in 0..100 {
                    outcome = if with_header {
                        sender
                            .send_file_with_header(b"head", &file, 0, 1024 * 1024)
                            .await
                    } else {
                        sender.send_file(&file, 0, 1024 * 1024).await
                    };
                    if outcome.is_err() {
                        break;
                    }
                    sleep(Duration::from_millis(1)).await;
                }
                let error = outcome.expect_err("a gone peer is an error");
                assert!(
                    matches!(
                        error.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ),
                    "{error:?}"
                );
            }
        });
        println!("child: survived");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_gone_peer_is_an_error_not_a_sigpipe_even_with_sigpipe_at_its_default",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child: survived"),
        "the child: {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
