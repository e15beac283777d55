//! RFC 9112 conformance: one `Host`, the absolute form of a target, a space in a target, and
//! request bodies (read and dropped up to a limit, refused past it).

use std::io::Write;

use crate::harness::{connect, exchange_until_close, parse_response, read_one_response};
use crate::harness::{Server, TempDir};

/// Sends `request` on a connection of its own and reads until the server closes it.
fn answer(server: &Server, request: &str) -> (u16, String, Vec<u8>) {
    let mut stream = connect(server.addr);
    let raw = exchange_until_close(&mut stream, request.as_bytes());
    let response = parse_response(&raw);
    let connection = response.header("connection").unwrap_or("").to_owned();
    (response.status, connection, response.body)
}

fn served() -> (TempDir, Server) {
    let dir = TempDir::new();
    dir.write("a.txt", b"a\n");
    dir.write("b.txt", b"bb\n");
    let server = Server::start(&dir.path);
    (dir, server)
}

#[test]
fn two_host_headers_are_a_bad_request() {
    let (_dir, server) = served();
    for request in [
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nhost: x\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n",
    ] {
        let (status, connection, _) = answer(&server, request);
        assert_eq!((status, connection.as_str()), (400, "close"), "{request:?}");
    }
    // One is fine.
    let (status, _, body) = answer(
        &server,
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((status, body.as_slice()), (200, &b"a\n"[..]));
}

#[test]
fn an_absolute_form_target_is_served_by_its_path() {
    let (_dir, server) = served();
    for target in [
        "http://x/a.txt",
        "HTTP://example.com:8080/a.txt?q=1",
        "https://x/a.txt",
    ] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, _, body) = answer(&server, &request);
        assert_eq!((status, body.as_slice()), (200, &b"a\n"[..]), "{target}");
    }
    // No path: the root.
    let (status, _, body) = answer(
        &server,
        "GET http://x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("a.txt"));
    // Other schemes, and an authority that hides a path, are still refused.
    for target in ["file:///etc/passwd", "http:/a.txt", "http://"] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(answer(&server, &request).0, 400, "{target}");
    }
}

#[test]
fn a_space_in_the_target_is_a_bad_request_and_a_bad_version_505() {
    let (_dir, server) = served();
    for request in [
        "GET /a b.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a.txt x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a.txt  HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        assert_eq!(answer(&server, request).0, 400, "{request:?}");
    }
    for request in [
        "GET /a.txt HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET /a.txt HTTP/1.2\r\nHost: x\r\n\r\n",
    ] {
        assert_eq!(answer(&server, request).0, 505, "{request:?}");
    }
}

#[test]
fn a_small_body_is_read_and_dropped_and_the_connection_goes_on() {
    let (_dir, server) = served();
    let mut stream = connect(server.addr);
    // A GET with a Content-Length body, a chunked one (with an extension and a trailer), and a
    // POST with a body: each answered, and the next request read from the right place.
    let requests = concat!(
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "GET /b.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
        "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1",
        "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    stream.write_all(requests.as_bytes()).unwrap();
    let first = read_one_response(&mut stream);
    assert_eq!((first.status, first.body.as_slice()), (200, &b"a\n"[..]));
    assert_eq!(first.header("connection"), Some("keep-alive"));
    let second = read_one_response(&mut stream);
    assert_eq!((second.status, second.body.as_slice()), (200, &b"bb\n"[..]));
    let third = read_one_response(&mut stream);
    assert_eq!(third.status, 405);
    assert_eq!(third.header("connection"), Some("keep-alive"));
    let fourth = read_one_response(&mut stream);
    assert_eq!((fourth.status, fourth.body.as_slice()), (200, &b"bb\n"[..]));
}

#[test]
fn a_large_or_badly_framed_body_is_refused_and_the_connection_closed() {
    let (_dir, server) = served();
    let big = 1024 * 1024;
    let (status, connection, _) = answer(
        &server,
        &format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {big}\r\n\r\n"),
    );
    assert_eq!((status, connection.as_str()), (413, "close"));
    // A chunked body that grows past the limit.
    let mut stream = connect(server.addr);
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 40 * 1024, "z".repeat(40 * 1024));
    let raw = exchange_until_close(&mut stream, format!("{chunk}{chunk}").as_bytes());
    assert_eq!(parse_response(&raw).status, 413);
    for request in [
        // Both framings (a smuggling attempt), two lengths that differ, a bad length, an
        // encoding that is not chunked last, a bad chunk size, and chunked in HTTP/1.0.
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let (status, connection, _) = answer(&server, request);
        assert_eq!((status, connection.as_str()), (400, "close"), "{request:?}");
    }
}

/// A client that sends `Expect: 100-continue` waits for `100 Continue` before sending its body
/// (RFC 9110, section 10.1.1): the server sends it when it will read the body.
#[test]
fn expect_100_continue_is_answered_before_the_body() {
    use std::io::Read;

    let (_dir, server) = served();
    let mut stream = connect(server.addr);
    stream
        .write_all(
            b"GET /a.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"hello").unwrap();
    let response = read_one_response(&mut stream);
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"a\n"[..])
    );
    // Too large: the final answer at once, and no 100.
    let raw = exchange_until_close(
        &mut connect(server.addr),
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n",
    );
    assert!(
        raw.starts_with(b"HTTP/1.1 413 "),
        "{}",
        String::from_utf8_lossy(&raw)
    );
}

/// A `HEAD` whose chunked body is malformed is refused `400` without a body, as every answer to
/// `HEAD` must be (RFC 9110, section 9.3.2): the refusal used to send `400 Bad Request\n` after
/// the head, which a client reads as the start of another response. Found by the `http_request`
/// fuzz target.
#[test]
fn a_head_refused_for_its_chunked_body_has_no_body() {
    let (_dir, server) = served();
    for request in [
        "HEAD /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HEAD /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    ] {
        let raw = exchange_until_close(&mut connect(server.addr), request.as_bytes());
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 400 "), "{request:?}: {text:?}");
        assert!(
            text.ends_with("\r\n\r\n"),
            "{request:?}: a body after the head: {text:?}"
        );
        assert!(text.contains("\r\nConnection: close\r\n"), "{text:?}");
    }
}
