//! The limits that protect the server: head size, the time to send a head (slowloris), and a
//! full task pool.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{connect, curl, fetch, runtime, Server, TempDir};

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

#[test]
fn a_full_task_pool_refuses_connections_and_serves_again_later() {
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
        if closed_within(&mut stream, Duration::from_millis(300)) {
            refused += 1;
        } else {
            held.push(stream);
        }
    }
    assert_eq!(held.len(), 4, "connections held");
    assert_eq!(refused, 6);
    // While the pool is full, a client gets no answer...
    let output = curl(&[&server.url("/a.txt")]);
    assert!(!output.status.success(), "served while the pool was full");
    // ... and once connections go away, clients are served again.
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"a");
}
