//! Starting a server on a free port in a thread of its own, a temporary folder to serve, and
//! running `curl` against it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ebbtide_examples::http::{serve, Config, Shutdown};

/// A temporary folder, removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ebbtide-fileserver-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// Writes `contents` to `name` (folders created as needed); returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The runtime a test server runs on: 4,096 task slots reserved (2,048 in the 1 KiB class,
/// where a connection's task goes; task memory grows past them), and the default IO table of
/// 4,096 entries.
pub fn runtime() -> ebbtide_std::Builder {
    ebbtide_std::Runtime::builder().task_capacity(4096)
}

/// A server in a thread of its own; stopped (and joined) when dropped.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `root` with the default limits.
    pub fn start(root: &Path) -> Server {
        Server::start_with(root, |_| {}, runtime())
    }

    /// Serves `root` with the limits `tweak` sets, on a runtime built by `runtime`.
    pub fn start_with(
        root: &Path,
        tweak: impl FnOnce(&mut Config),
        runtime: ebbtide_std::Builder,
    ) -> Server {
        Server::start_metered(root, tweak, runtime).0
    }

    /// [`start_with`](Server::start_with), and the server runtime's handle (for its metrics).
    pub fn start_metered(
        root: &Path,
        tweak: impl FnOnce(&mut Config),
        runtime: ebbtide_std::Builder,
    ) -> (Server, ebbtide_std::Handle) {
        let mut config = Config::new(root).unwrap();
        tweak(&mut config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = runtime.build().unwrap();
            handle_tx.send(runtime.handle()).unwrap();
            runtime.block_on(async move {
                let listener = ebbtide_std::net::TcpListener::from_std(listener).unwrap();
                serve(listener, config, stop).await.unwrap();
            });
        });
        let handle = handle_rx.recv().expect("the server's runtime starts");
        let server = Server {
            addr,
            shutdown,
            thread: Some(thread),
        };
        (server, handle)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let joined = thread.join();
            if !std::thread::panicking() {
                joined.expect("the server thread panicked");
            }
        }
    }
}

/// Runs `curl -sS --max-time 20 ARGS...`.
pub fn curl(args: &[&str]) -> Output {
    Command::new("/usr/bin/curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("running /usr/bin/curl")
}

/// A response as `curl -i` shows it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs `curl -i ARGS... URL` and splits its output (one response, no redirects followed).
pub fn fetch(url: &str, args: &[&str]) -> Response {
    let mut all = vec!["-i"];
    all.extend_from_slice(args);
    all.push(url);
    let output = curl(&all);
    assert!(
        output.status.success(),
        "curl {all:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_response(&output.stdout)
}

/// Splits a raw response (head and body).
pub fn parse_response(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// A std client connection with read and write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Sends `request` and reads until the server closes the connection (or the read timeout).
pub fn exchange_until_close(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!(
                "reading the response: {e} (got {:?})",
                String::from_utf8_lossy(&all)
            ),
        }
    }
}

/// Reads one response whose head carries a Content-Length.
pub fn read_one_response(stream: &mut TcpStream) -> Response {
    read_response(stream, true)
}

/// Reads one response; its body too if `with_body` (not for an answer to `HEAD`).
pub fn read_response(stream: &mut TcpStream, with_body: bool) -> Response {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert_eq!(n, 1, "the connection closed inside a head: {raw:?}");
        raw.push(byte[0]);
    }
    let mut response = parse_response(&raw);
    if !with_body {
        return response;
    }
    let len: usize = response
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    response.body = body;
    response
}

/// Bytes that are not all alike, `len` of them.
pub fn pattern(len: usize) -> Vec<u8> {
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
