//! The `echo` and `proxy` binaries themselves, started as processes: `echo serve --tcp
//! 127.0.0.1:0 --workers 2` serves many connections over its two listeners, `proxy --workers 2`
//! carries them to it, and `--help` describes `--workers`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ECHO: &str = env!("CARGO_BIN_EXE_echo");
const PROXY: &str = env!("CARGO_BIN_EXE_proxy");

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
fn one_worker_is_the_default() {
    let (_server, addr, line) = start(&[]);
    assert_eq!(line.trim_end(), format!("echo: serving TCP on {addr}"));
    echo_many(addr, 16);
}

#[test]
fn help_describes_workers_and_bad_values_are_refused() {
    let help = Command::new(ECHO).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--workers N"));
    for bad in [
        &["serve", "--tcp", "127.0.0.1:0", "--workers", "0"][..],
        &["serve", "--tcp", "127.0.0.1:0", "--workers", "many"],
        &["serve", "--udp", "127.0.0.1:0", "--workers", "2"],
        &["client", "--tcp", "127.0.0.1:1", "--workers", "2"],
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
