//! Unix-domain stream sockets: a listener at a path in a temporary directory, connect, accept,
//! echo, `pair`, and connecting where nobody listens.

use std::io::ErrorKind;
use std::path::PathBuf;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{UnixListener, UnixStream};
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

/// A fresh directory for one test's socket files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ebbtide-unix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_listener_at_a_path_echoes_to_its_clients() {
    let dir = TempDir::new("echo");
    let path = dir.0.join("echo.sock");
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(10), async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = ebbtide_std::spawn(async move {
                for _ in 0..4 {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 64];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                }
            })
            .unwrap();
            for i in 0..4u8 {
                let mut client = UnixStream::connect(&path).await.unwrap();
                let message = [b'a' + i; 40];
                client.write_all(&message).await.unwrap();
                let mut echoed = [0u8; 40];
                client.read_exact(&mut echoed).await.unwrap();
                assert_eq!(echoed, message);
                client.shutdown(std::net::Shutdown::Write).unwrap();
                assert_eq!(client.read(&mut echoed).await.unwrap(), 0);
            }
            server.await.unwrap();
        })
        .await
        .expect("the Unix echo took over 10 s");
    });
}

#[test]
fn pair_gives_two_connected_streams() {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(5), async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let reader = ebbtide_std::spawn(async move {
                let mut buf = [0u8; 5];
                b.read_exact(&mut buf).await.unwrap();
                buf
            })
            .unwrap();
            a.write_all(b"pairs").await.unwrap();
            assert_eq!(&reader.await.unwrap(), b"pairs");
        })
        .await
        .unwrap();
    });
}

#[test]
fn connecting_where_nobody_listens_fails() {
    let dir = TempDir::new("refused");
    Runtime::new().unwrap().block_on(async {
        let missing = dir.0.join("missing.sock");
        let error = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");

        // A socket file whose listener is gone.
        let stale = dir.0.join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let error = timeout(Duration::from_secs(5), UnixStream::connect(&stale))
            .await
            .expect("connect hung")
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");

        // Binding over an existing file is an error, not a panic.
        let error = UnixListener::bind(&stale).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    });
}
