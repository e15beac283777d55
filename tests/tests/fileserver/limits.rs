//! The limits that protect the server: head size, the time to send a head (slowloris), and a
//! full task pool (answered `503`).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{connect, fetch, runtime, Server, TempDir};

#[test]
fn a_head_over_the_limit_is_431() {
    let dir = TempDir::new();
    dir.write("a.txt", b"a");
    let server = Server::start(&dir.path);
    let big = format!("X-Big: {}", "b".repeat(10_000));
    let refused = fetch(&server.url("/a.txt"), &["-H", &big]);
    assert_eq!(refused.status, 431);
    assert_eq!(refused.header("connection"), Some("close"));
    // Just under the limit is fine.
    let fits = format!("X-Big: {}", "b".repeat(7_000));
    assert_eq!(fetch(&server.url("/a.txt"), &["-H", &fits]).body, b"a");
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the server answered an incomplete head"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(_) => true,
    }
}

#[test]
fn slowloris_clients_are_disconnected_while_others_are_served() {
    const DEADLINE: Duration = Duration::from_millis(800);
    let dir = TempDir::new();
    dir.write("small.txt", b"small");
    let server = Server::start_with(
        &dir.path,
        |config| config.header_timeout = DEADLINE,
        runtime(),
    );
    let addr = server.addr;
    // Ten clients, each trickling a never-ending head, a byte every 100 ms.
    let tricklers: Vec<_> = (0..10)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = connect(addr);
                let started = Instant::now();
                let head = b"GET /small.txt HTTP/1.1\r\nHost: x\r\n".iter();
                for &byte in head.chain(b"X-Slow: ".iter().cycle()) {
                    if stream.write_all(&[byte]).is_err()
                        || closed_within(&mut stream, Duration::from_millis(100))
                    {
                        return started.elapsed();
                    }
                    assert!(started.elapsed() < Duration::from_secs(10), "never cut off");
                }
                unreachable!()
            })
        })
        .collect();
    // Meanwhile, others are served promptly.
    let begun = Instant::now();
    while begun.elapsed() < DEADLINE * 2 {
        let asked = Instant::now();
        assert_eq!(fetch(&server.url("/small.txt"), &[]).body, b"small");
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for trickler in tricklers {
        let cut_after = trickler.join().unwrap();
        assert!(
            cut_after >= DEADLINE - Duration::from_millis(100)
                && cut_after < DEADLINE + Duration::from_secs(2),
            "cut off after {cut_after:?}"
        );
    }
}

/// What the server sent on `stream` before it closed, within `wait` of the first byte; `None`
/// if nothing came within `wait` (the connection is held, waiting for a request).
fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(all),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                assert!(all.is_empty(), "a partial answer: {all:?}");
                return None;
            }
            Err(e) => panic!("the connection failed ({e}) after {all:?}"),
        }
    }
}

/// A connection the server has no room for is answered `503 Service Unavailable` (with
/// `Retry-After`) and closed, not cut off without a word; the others go on, and once some
/// leave, new ones are served again.
#[test]
fn a_full_task_pool_answers_503_and_serves_again_later() {
    let dir = TempDir::new();
    dir.write("a.txt", b"a");
    // Four slots in each size class: the fifth concurrent connection finds its class full.
    let server = Server::start_with(
        &dir.path,
        |config| config.header_timeout = Duration::from_secs(30),
        ebbtide_std::Runtime::builder()
            .task_slots([4, 4, 4, 4])
            .fixed_task_memory(),
    );
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..10 {
        let mut stream = connect(server.addr);
        match answer_within(&mut stream, Duration::from_millis(300)) {
            None => held.push(stream),
            Some(raw) => {
                let text = String::from_utf8_lossy(&raw);
                assert!(
                    text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
                    "{text:?}"
                );
                assert!(text.contains("\r\nRetry-After: 1\r\n"), "{text:?}");
                assert!(text.contains("\r\nConnection: close\r\n"), "{text:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(held.len(), 4, "connections held");
    assert_eq!(refused, 6);
    // While the pool is full, a client that sends its request at once is told so too...
    let busy = fetch(&server.url("/a.txt"), &[]);
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("retry-after"), Some("1"));
    // ... and once connections go away, clients are served again.
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"a");
}

/// Connections past what the worker's IO table holds are answered `503` too, not closed by a
/// failed `accept`: the server keeps a few entries back, so that it can still accept them.
#[test]
fn connections_past_the_io_table_are_answered_503() {
    const TABLE: usize = 48;
    const CONNECTIONS: usize = 60;
    let dir = TempDir::new();
    dir.write("a.txt", b"a");
    let server = Server::start_with(
        &dir.path,
        |config| config.header_timeout = Duration::from_secs(30),
        ebbtide_examples::http::runtime_builder(1, TABLE),
    );
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..CONNECTIONS {
        let mut stream = connect(server.addr);
        match answer_within(&mut stream, Duration::from_millis(100)) {
            None => held.push(stream),
            Some(raw) => {
                let text = String::from_utf8_lossy(&raw);
                assert!(text.starts_with("HTTP/1.1 503 "), "{text:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(held.len(), TABLE - 16, "connections held");
    assert_eq!(refused, CONNECTIONS - held.len());
    // Some leave; others are served again.
    held.truncate(10);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"a");
}

/// `Config::max_connections` sets the number itself.
#[test]
fn max_connections_is_a_setting() {
    let dir = TempDir::new();
    dir.write("a.txt", b"a");
    let server = Server::start_with(
        &dir.path,
        |config| {
            config.header_timeout = Duration::from_secs(30);
            config.max_connections = Some(3);
        },
        runtime(),
    );
    let held: Vec<_> = (0..3).map(|_| connect(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fetch(&server.url("/a.txt"), &[]).status, 503);
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"a");
}
