//! Many concurrent keep-alive connections on the `fileserver` binary's own runtime settings
//! (`http::runtime_builder` with the default IO table, one worker): every one is served, twice.
//! The issue this guards against: the server cut most of 10,000 keep-alive clients on their
//! second request (a task pool of fixed size, then an IO table of 4,096 per worker).

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ebbtide_examples::cli::DEFAULT_IO_CAPACITY;
use ebbtide_examples::http::runtime_builder;

use crate::harness::{read_one_response, Server, TempDir};

/// Concurrent connections: more than the 4,096 of the runtime's default IO table, few enough
/// for the test's file descriptors (two per connection: the client's and the server's).
const CONNECTIONS: usize = 5_000;
/// Connections opened at once (the test server's std listener queues 128).
const WAVE: usize = 100;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the new soft limit.
fn raise_nofile() -> u64 {
    ebbtide_examples::cli::raise_fd_limit().unwrap_or(0)
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn five_thousand_keep_alive_connections_are_each_served_twice() {
    let fds = raise_nofile();
    let needed = (2 * CONNECTIONS + 500) as u64;
    if fds < needed {
        eprintln!("skipped: RLIMIT_NOFILE is {fds}, below the {needed} this test needs");
        return;
    }
    let dir = TempDir::new();
    dir.write("a.txt", b"a\n");
    let server = Server::start_with(&dir.path, |_| {}, runtime_builder(1, DEFAULT_IO_CAPACITY));
    let request = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let started = Instant::now();
    let mut clients: Vec<TcpStream> = Vec::with_capacity(CONNECTIONS);
    while clients.len() < CONNECTIONS {
        let wave: Vec<TcpStream> = (0..WAVE).map(|_| connect(server.addr)).collect();
        for (i, mut stream) in wave.into_iter().enumerate() {
            stream.write_all(request).unwrap();
            let response = read_one_response(&mut stream);
            assert_eq!(
                (response.status, response.body.as_slice()),
                (200, &b"a\n"[..]),
                "connection {}",
                clients.len() + i
            );
            clients.push(stream);
        }
    }
    // Every connection is open at once; each asks again.
    for (i, stream) in clients.iter_mut().enumerate() {
        stream.write_all(request).unwrap();
        let response = read_one_response(stream);
        assert_eq!(response.status, 200, "second request of connection {i}");
        assert_eq!(response.header("connection"), Some("keep-alive"));
    }
    eprintln!(
        "{CONNECTIONS} connections, two requests each, in {:?}",
        started.elapsed()
    );
}
