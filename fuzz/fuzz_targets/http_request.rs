//! Raw request bytes → the file server, and the answer checked.
//!
//! Two levels for each input:
//!
//! 1. The request parser alone (cheap): it never panics; a parsed head's length lies within the
//!    input and ends with a blank line; a refused head is `400`, `431` or `505`; a target it
//!    passes on is what the path check expects.
//! 2. The whole server: the bytes go over a loopback connection to a real server (one per
//!    process, on its own thread, serving the tree of `ebbtide_fuzz::tree`); the write side is
//!    then shut and the answer read to its end. Every response in it is well formed (status
//!    line, headers, `Content-Length` matching the body, a known status), each `206` has a
//!    `Content-Range` within the file, each `301` a path-absolute `Location` on this server
//!    that resolves under the root, and no answer names or shows anything outside the root or
//!    hidden.

#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use ebbtide_examples::http::fuzzing::{parse_request, relative_path, Body, Request};
use ebbtide_examples::http::{serve, Config, Shutdown as Stop};
use libfuzzer_sys::fuzz_target;

/// The statuses the server may answer with.
const STATUSES: &[u16] = &[
    200, 206, 301, 304, 400, 403, 404, 405, 413, 416, 431, 500, 503, 505,
];

fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let mut config = Config::new(ebbtide_fuzz::tree()).unwrap();
        // Small enough that the 100-byte file is streamed in pieces, not read whole.
        config.chunk_size = 64;
        config.header_timeout = Duration::from_secs(5);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = ebbtide_std::Runtime::builder()
                .task_capacity(256)
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = ebbtide_std::net::TcpListener::from_std(listener).unwrap();
                serve(listener, config, Stop::new()).await.unwrap();
            });
        });
        addr
    })
}

/// Sends `data` and returns all the server answered before it closed.
fn exchange(data: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(server()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The server may answer and close before it read everything (a refused head): a failed
    // write is not a finding.
    let _ = stream.write_all(data);
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("no end to the answer after 20 s ({error}): {answer:?}"),
    }
    answer
}

/// The requests the server reads from `data`, in order, as far as they can be followed: each
/// with whether its answer has a body. Stops at a refused head, an incomplete one, or a
/// chunked body (whose end this does not follow).
fn requests(mut data: &[u8]) -> (Vec<Request>, bool) {
    let mut found = Vec::new();
    loop {
        match parse_request(data) {
            Ok(Some(request)) => {
                assert!(request.head_len <= data.len());
                assert!(
                    data[..request.head_len].ends_with(b"\n\n")
                        || data[..request.head_len].ends_with(b"\n\r\n")
                );
                let mut rest = &data[request.head_len..];
                let body = request.body;
                let keep_alive = request.keep_alive;
                found.push(request);
                match body {
                    Body::None => {}
                    Body::Length(n) if n <= 64 * 1024 && n <= rest.len() as u64 => {
                        rest = &rest[n as usize..];
                    }
                    Body::Length(_) | Body::Chunked => return (found, false),
                }
                if !keep_alive {
                    return (found, true);
                }
                data = rest;
            }
            Ok(None) => return (found, true),
            Err(code) => {
                assert!(matches!(code, 400 | 431 | 505), "refused with {code}");
                return (found, true);
            }
        }
    }
}

fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| std::str::from_utf8(h.value).expect("header values are text"))
        .collect()
}

/// Checks the answer: a sequence of well-formed responses. `expected`: the requests in order
/// (their methods say which answers have no body); `exact`: whether `expected` is the whole
/// story (no chunked body or large body that this does not follow).
fn check_answer(answer: &[u8], expected: &[Request], exact: bool) {
    ebbtide_fuzz::assert_nothing_leaks(answer);
    let mut rest = answer;
    let mut index = 0;
    while !rest.is_empty() {
        // The interim `100 Continue`, when the client asked for it.
        if let Some(after) = rest.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n") {
            assert!(
                expected.get(index).is_none_or(|r| r.expect_continue) || !exact,
                "a 100 Continue nobody asked for"
            );
            rest = after;
            continue;
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(rest) {
            Ok(httparse::Status::Complete(len)) => len,
            other => panic!(
                "a malformed response ({other:?}): {:?}",
                String::from_utf8_lossy(rest)
            ),
        };
        let code = response.code.unwrap();
        assert_eq!(response.version, Some(1));
        assert!(STATUSES.contains(&code), "status {code}");
        let lengths = header(response.headers, "content-length");
        let locations = header(response.headers, "location");
        let ranges = header(response.headers, "content-range");
        let body_len = if code == 304 {
            assert!(lengths.is_empty(), "a 304 with a Content-Length");
            0
        } else {
            assert_eq!(lengths.len(), 1, "{code} without one Content-Length");
            lengths[0]
                .parse::<usize>()
                .expect("a numeric Content-Length")
        };
        if code == 301 {
            assert_eq!(locations.len(), 1);
            let location = locations[0];
            assert!(
                location.starts_with('/') && !location.starts_with("//") && location.ends_with('/'),
                "Location {location:?} leaves this server"
            );
            let (relative, _) = relative_path(location).expect("the Location is a valid path");
            let found = ebbtide_fuzz::tree().join(relative);
            assert!(found.is_dir(), "Location {location:?} is not a folder");
        } else {
            assert!(locations.is_empty());
        }
        if code == 206 {
            assert_eq!(ranges.len(), 1);
            let spec = ranges[0].strip_prefix("bytes ").expect("bytes");
            let (span, total) = spec.split_once('/').unwrap();
            let (start, end) = span.split_once('-').unwrap();
            let (start, end, total): (u64, u64, u64) = (
                start.parse().unwrap(),
                end.parse().unwrap(),
                total.parse().unwrap(),
            );
            assert!(start <= end && end < total, "Content-Range {spec}");
            assert_eq!(end - start + 1, body_len as u64, "Content-Range {spec}");
        }
        if code == 416 {
            assert_eq!(ranges.len(), 1);
            assert!(ranges[0].starts_with("bytes */"));
        }
        let head_only = match expected.get(index) {
            Some(request) => request.method == "HEAD",
            None if exact => false,
            // Past what this follows: the body may or may not be there.
            None => return,
        };
        rest = &rest[head_len..];
        if !head_only {
            assert!(
                rest.len() >= body_len,
                "a body shorter than its Content-Length ({code}, {body_len})"
            );
            rest = &rest[body_len..];
        }
        index += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let (expected, exact) = requests(data);
    for request in &expected {
        // A target the path check gets is in origin form (or anything it refuses itself).
        let _ = relative_path(&request.target);
    }
    let answer = exchange(data);
    check_answer(&answer, &expected, exact);
});
