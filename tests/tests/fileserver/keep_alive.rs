//! Connections kept alive, closed when asked, and closed by the server's limits.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::harness::{
    connect, curl, exchange_until_close, read_one_response, read_response, runtime, Server, TempDir,
};

fn served_dir() -> TempDir {
    let dir = TempDir::new();
    dir.write("a.txt", b"aaa");
    dir.write("b.txt", b"bbbb");
    dir
}

#[test]
fn curl_reuses_the_connection_for_two_urls() {
    let dir = served_dir();
    let server = Server::start(&dir.path);
    let output = curl(&[
        "-v",
        "--write-out",
        "[connects=%{num_connects}]",
        &server.url("/a.txt"),
        &server.url("/b.txt"),
    ]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, "aaa[connects=1]bbbb[connects=0]");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
}

#[test]
fn connection_close_and_http_1_0_close_after_the_answer() {
    let dir = served_dir();
    let server = Server::start(&dir.path);
    for request in [
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\n\r\n",
    ] {
        let mut stream = connect(server.addr);
        let raw = exchange_until_close(&mut stream, request.as_bytes());
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\naaa"), "{text}");
    }
}

#[test]
fn http_1_0_keep_alive_and_pipelined_requests_share_a_connection() {
    let dir = served_dir();
    let server = Server::start(&dir.path);
    let mut stream = connect(server.addr);
    stream
        .write_all(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let first = read_one_response(&mut stream);
    assert_eq!(first.header("connection"), Some("keep-alive"));
    assert_eq!(first.body, b"aaa");
    // Two requests in one write: two answers, in order.
    stream
        .write_all(b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_one_response(&mut stream).body, b"bbbb");
    let head = read_response(&mut stream, false);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("3"));
    // Nothing followed the HEAD answer: the next answer starts right away.
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_one_response(&mut stream).body, b"aaa");
}

#[test]
fn a_connection_closes_after_its_last_allowed_request() {
    let dir = served_dir();
    let server = Server::start_with(
        &dir.path,
        |config| config.max_requests_per_connection = 3,
        runtime(),
    );
    let mut stream = connect(server.addr);
    for n in 1..=3 {
        stream
            .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let response = read_one_response(&mut stream);
        let expected = if n < 3 { "keep-alive" } else { "close" };
        assert_eq!(response.header("connection"), Some(expected), "request {n}");
    }
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn an_idle_connection_is_closed() {
    let dir = served_dir();
    let server = Server::start_with(
        &dir.path,
        |config| config.idle_timeout = Duration::from_millis(300),
        runtime(),
    );
    let mut stream = connect(server.addr);
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_one_response(&mut stream).body, b"aaa");
    let idle_since = Instant::now();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let waited = idle_since.elapsed();
    assert!(rest.is_empty());
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}
