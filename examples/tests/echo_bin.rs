//! The server binaries themselves, started as processes: `echo serve --tcp 127.0.0.1:0
//! --workers 2` serves many connections over its two listeners, `proxy --workers 2` carries them
//! to it, `fileserver --workers 2` and `chat --workers 2` serve on two worker threads, every
//! server defaults to every CPU, and `--help` describes `--workers`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ECHO: &str = env!("CARGO_BIN_EXE_echo");
const PROXY: &str = env!("CARGO_BIN_EXE_proxy");
const FILESERVER: &str = env!("CARGO_BIN_EXE_fileserver");
const CHAT: &str = env!("CARGO_BIN_EXE_chat");

/// Kills the server when the test ends, also on a failed assertion.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `echo serve --tcp 127.0.0.1:0 <extra>` and reads the address from its first line.
fn start(extra: &[&str]) -> (Server, SocketAddr, String) {
    let mut child = Command::new(ECHO)
        .args(["serve", "--tcp", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the echo binary");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let server = Server(child);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("echo: serving TCP on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    (server, addr, line)
}

fn echo_many(addr: SocketAddr, count: usize) {
    let mut clients: Vec<_> = (0..count)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let message = format!("line {i}\n");
        client.write_all(message.as_bytes()).unwrap();
        let mut reply = vec![0u8; message.len()];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(reply, message.as_bytes());
    }
    // The server closes after the client shuts its side.
    for mut client in clients {
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}

#[test]
fn two_workers_serve_every_connection() {
    let (_server, addr, line) = start(&["--workers", "2"]);
    assert!(line.contains("2 workers"), "{line:?}");
    echo_many(addr, 64);
}

#[test]
fn one_listener_handing_off_to_two_workers_serves_every_connection() {
    let (_server, addr, line) = start(&["--workers", "2", "--hand-off"]);
    assert!(line.contains("one listener handing off"), "{line:?}");
    echo_many(addr, 32);
}

#[test]
fn every_cpu_is_the_default() {
    let (server, addr, line) = start(&[]);
    let cpus = ebbtide_examples::cli::default_workers();
    if cpus == 1 {
        assert_eq!(line.trim_end(), format!("echo: serving TCP on {addr}"));
    } else {
        assert!(line.contains(&format!("{cpus} workers")), "{line:?}");
    }
    assert_eq!(worker_threads(&server), cpus - 1);
    echo_many(addr, 16);
}

/// How many `ebbtide-worker-<i>` threads the server runs (workers 1..n; worker 0 is its main
/// thread). Linux only (it reads `/proc`); elsewhere it trusts the banner and says `n - 1`.
fn worker_threads(server: &Server) -> usize {
    let tasks = std::path::PathBuf::from(format!("/proc/{}/task", server.0.id()));
    let Ok(entries) = std::fs::read_dir(&tasks) else {
        return ebbtide_examples::cli::default_workers() - 1;
    };
    entries
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("ebbtide-worker-"))
        .count()
}

#[test]
fn a_file_server_on_two_workers_serves_every_connection() {
    let dir = std::env::temp_dir().join(format!("ebbtide-fileserver-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), b"hello, workers\n").unwrap();
    let mut child = Command::new(FILESERVER)
        .arg(&dir)
        .args(["--addr", "127.0.0.1:0", "--workers", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fileserver binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim_end()
        .rsplit_once("http://")
        .map(|(_, addr)| addr)
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    if cfg!(target_os = "linux") {
        assert_eq!(worker_threads(&server), 1);
    }
    // Enough connections that the kernel's hash puts some on each listener (all 48 on one
    // would be 2 in 2^48); each gets its file and a close.
    for _ in 0..48 {
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        client
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
        assert!(response.ends_with("hello, workers\n"), "{response:?}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let help = Command::new(FILESERVER).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--workers N"));
    let bad = Command::new(FILESERVER)
        .args(["--workers", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_chat_on_two_workers_relays_between_its_clients() {
    let mut child = Command::new(CHAT)
        .args(["--addr", "127.0.0.1:0", "--workers", "2"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the chat binary");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let _server = Server(child);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("(2 workers)"), "{line:?}");
    let addr: SocketAddr = line
        .strip_prefix("chat: listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    // Two clients, each waiting for its welcome (`*** welcome, you are NAME`).
    let join = || {
        let client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut reader = BufReader::new(client.try_clone().unwrap());
        let mut welcome = String::new();
        reader.read_line(&mut welcome).unwrap();
        assert!(welcome.starts_with("*** welcome"), "{welcome:?}");
        (client, reader)
    };
    let (mut first, _first_reader) = join();
    let (_second, mut second_reader) = join();
    first.write_all(b"hello over there\n").unwrap();
    let mut heard = String::new();
    while !heard.contains("hello over there") {
        heard.clear();
        assert!(
            second_reader.read_line(&mut heard).unwrap() > 0,
            "chat closed"
        );
    }
}

#[test]
fn help_describes_workers_and_bad_values_are_refused() {
    let help = Command::new(ECHO).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--workers N"));
    for bad in [
        &["serve", "--tcp", "127.0.0.1:0", "--workers", "0"][..],
        &["serve", "--tcp", "127.0.0.1:0", "--workers", "many"],
        &["client", "--tcp", "127.0.0.1:1", "--workers", "2"],
        &["serve", "--udp", "127.0.0.1:0", "--hand-off"],
    ] {
        let output = Command::new(ECHO).args(bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn a_proxy_on_two_workers_carries_every_connection() {
    let (_echo, upstream, _) = start(&[]);
    let mut child = Command::new(PROXY)
        .args(["--listen", "127.0.0.1:0", "--upstream"])
        .arg(upstream.to_string())
        .args(["--workers", "2"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the proxy binary");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let _proxy = Server(child);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("proxy: ")
        .and_then(|rest| rest.split(" -> ").next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    echo_many(addr, 32);
    let help = Command::new(PROXY).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--workers N"));
}

#[test]
fn udp_on_two_workers_echoes_every_peer_from_the_shared_address() {
    let mut child = Command::new(ECHO)
        .args(["serve", "--udp", "127.0.0.1:0", "--workers", "2"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the echo binary");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let _server = Server(child);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("(2 workers, a socket on each)"), "{line:?}");
    let addr: SocketAddr = line
        .strip_prefix("echo: serving UDP on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    // Peers on 32 ports: the kernel's hash sends some to each worker's socket, and every reply
    // comes from the address the peer sent to.
    for i in 0..32 {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let message = format!("datagram {i}");
        peer.send_to(message.as_bytes(), addr).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], message.as_bytes());
        assert_eq!(from, addr);
    }
}

/// Starts `fileserver DIR --addr 127.0.0.1:0 <extra>` and reads its address from its first line.
fn start_fileserver(dir: &std::path::Path, extra: &[&str]) -> (Server, SocketAddr) {
    let mut child = Command::new(FILESERVER)
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fileserver binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .rsplit_once("http://")
        .map(|(_, addr)| addr)
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    (server, addr)
}

/// `GET path` with `Connection: close`: the whole response.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    client.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_file_server_hides_dotfiles_unless_asked() {
    let dir =
        std::env::temp_dir().join(format!("ebbtide-fileserver-hidden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), b"TOKEN=1\n").unwrap();
    let (server, addr) = start_fileserver(&dir, &["--workers", "1"]);
    let hidden = get(addr, "/.env");
    assert!(hidden.starts_with("HTTP/1.1 404"), "{hidden:?}");
    assert!(!get(addr, "/").contains(".env"));
    drop(server);
    let (_server, addr) = start_fileserver(&dir, &["--workers", "1", "--hidden"]);
    let shown = get(addr, "/.env");
    assert!(shown.starts_with("HTTP/1.1 200"), "{shown:?}");
    assert!(shown.ends_with("TOKEN=1\n"), "{shown:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let help = Command::new(FILESERVER).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--hidden"));
}

#[test]
fn the_file_server_takes_an_io_capacity() {
    let dir = std::env::temp_dir().join(format!("ebbtide-fileserver-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), b"a\n").unwrap();
    let (_server, addr) = start_fileserver(&dir, &["--workers", "1", "--io-capacity", "20000"]);
    assert!(get(addr, "/a.txt").ends_with("\r\n\r\na\n"));
    let _ = std::fs::remove_dir_all(&dir);
    let help = Command::new(FILESERVER).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--io-capacity N"));
    for bad in ["0", "many", "99999999"] {
        let output = Command::new(FILESERVER)
            .args(["--io-capacity", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "--io-capacity {bad}");
    }
}

#[test]
fn the_file_server_takes_its_open_file_cache_settings() {
    let dir = std::env::temp_dir().join(format!("ebbtide-fileserver-ofc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let replace = |contents: &[u8]| {
        std::fs::write(dir.join("a.new"), contents).unwrap();
        std::fs::rename(dir.join("a.new"), dir.join("a.txt")).unwrap();
    };
    replace(b"one\n");
    // A short period: a file renamed over is served new once it has passed.
    let (server, addr) = start_fileserver(
        &dir,
        &["--workers", "1", "--open-file-cache-valid-ms", "50"],
    );
    assert!(get(addr, "/a.txt").ends_with("\r\n\r\none\n"));
    replace(b"two\n");
    std::thread::sleep(Duration::from_millis(200));
    assert!(get(addr, "/a.txt").ends_with("\r\n\r\ntwo\n"));
    drop(server);
    // No cache: at once.
    let (_server, addr) = start_fileserver(&dir, &["--workers", "1", "--no-open-file-cache"]);
    assert!(get(addr, "/a.txt").ends_with("\r\n\r\ntwo\n"));
    replace(b"three\n");
    assert!(get(addr, "/a.txt").ends_with("\r\n\r\nthree\n"));
    let _ = std::fs::remove_dir_all(&dir);
    let help = Command::new(FILESERVER).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--open-file-cache N",
        "--open-file-cache-valid-ms",
        "--no-open-file-cache",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
    for bad in [
        ["--open-file-cache", "many"],
        ["--open-file-cache-valid-ms", "0"],
        ["--open-file-cache-valid-ms", "soon"],
    ] {
        let output = Command::new(FILESERVER).args(bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
}
