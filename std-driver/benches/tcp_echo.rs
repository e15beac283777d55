//! TCP echo over loopback: ebbtide-std against a hand-written raw-mio echo loop, in one run.
//!
//! A closed-loop client (one thread, raw mio) keeps N connections busy: each sends a message,
//! waits for the whole echo, and sends again. The server under test runs on its own thread. For
//! 1, 64 and 512 connections and 100-byte messages, prints requests per second for both servers
//! and their ratio (ebbtide / raw mio: 1.0 means the runtime costs nothing), and the server
//! thread's CPU time per request (user + system), whose ratio (raw / ebbtide) says the same thing
//! with less noise from whatever else the machine is doing.
//!
//! `cargo bench -p ebbtide-std --bench tcp_echo` (`-- --quick` for shorter runs)

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

const MESSAGE: usize = 100;

/// CPU time (user + system) the calling thread has used, in microseconds.
fn thread_cpu_us() -> u64 {
    // SAFETY: `rusage` is plain old data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage to fill.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// The floor: an echo server with no runtime at all, edge-triggered like ebbtide.
fn raw_mio_server(stop: Arc<AtomicBool>) -> (SocketAddr, std::thread::JoinHandle<u64>, Arc<Waker>) {
    let mut poll = Poll::new().unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    const LISTENER: Token = Token(usize::MAX - 1);
    const WAKE: Token = Token(usize::MAX);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let thread = std::thread::spawn(move || {
        let cpu_start = thread_cpu_us();
        let mut events = Events::with_capacity(1024);
        let mut conns: Vec<Option<(TcpStream, Vec<u8>)>> = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            poll.poll(&mut events, None).unwrap();
            for event in events.iter() {
                match event.token() {
                    WAKE => {}
                    LISTENER => loop {
                        match listener.accept() {
                            Ok((mut stream, _)) => {
                                stream.set_nodelay(true).unwrap();
                                let token = Token(conns.len());
                                poll.registry()
                                    .register(
                                        &mut stream,
                                        token,
                                        Interest::READABLE | Interest::WRITABLE,
                                    )
                                    .unwrap();
                                conns.push(Some((stream, Vec::new())));
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) => panic!("accept: {e}"),
                        }
                    },
                    Token(i) => {
                        let mut close = false;
                        if let Some((stream, pending)) = conns[i].as_mut() {
                            loop {
                                match stream.read(&mut buf) {
                                    Ok(0) => {
                                        close = true;
                                        break;
                                    }
                                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                                    Err(_) => {
                                        close = true;
                                        break;
                                    }
                                }
                            }
                            while !pending.is_empty() {
                                match stream.write(pending) {
                                    Ok(n) => {
                                        pending.drain(..n);
                                    }
                                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                                    Err(_) => {
                                        close = true;
                                        break;
                                    }
                                }
                            }
                        }
                        if close {
                            conns[i] = None;
                        }
                    }
                }
            }
        }
        thread_cpu_us() - cpu_start
    });
    (addr, thread, waker)
}

/// The same service on ebbtide-std: a task per connection.
fn ebbtide_server(stop: Arc<AtomicBool>) -> (SocketAddr, std::thread::JoinHandle<u64>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let cpu_start = thread_cpu_us();
        let runtime = ebbtide_std::Runtime::builder()
            .task_slots([64, 64, 1024, 16])
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                stream.set_nodelay(true).unwrap();
                ebbtide_std::spawn(async move {
                    let mut buf = [0u8; 1024];
                    loop {
                        let n = match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                })
                .unwrap();
            }
        });
        thread_cpu_us() - cpu_start
    });
    (rx.recv().unwrap(), thread)
}

/// Drives `connections` closed-loop echo clients against `addr` for `duration`; returns the
/// number of completed round trips.
fn client(addr: SocketAddr, connections: usize, duration: Duration) -> u64 {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let message = [7u8; MESSAGE];
    struct Conn {
        stream: TcpStream,
        sent: usize,
        received: usize,
    }
    let mut conns: Vec<Conn> = (0..connections)
        .map(|i| {
            let std_stream = std::net::TcpStream::connect(addr).unwrap();
            std_stream.set_nodelay(true).unwrap();
            std_stream.set_nonblocking(true).unwrap();
            let mut stream = TcpStream::from_std(std_stream);
            poll.registry()
                .register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .unwrap();
            Conn {
                stream,
                sent: 0,
                received: 0,
            }
        })
        .collect();
    let mut round_trips = 0u64;
    let mut buf = [0u8; 64 * 1024];
    let start = Instant::now();
    let mut step = |conn: &mut Conn, round_trips: &mut u64| loop {
        if conn.sent < MESSAGE {
            match conn.stream.write(&message[conn.sent..]) {
                Ok(n) => conn.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => panic!("client write: {e}"),
            }
            continue;
        }
        match conn.stream.read(&mut buf[..MESSAGE - conn.received]) {
            Ok(0) => panic!("server closed the connection"),
            Ok(n) => {
                conn.received += n;
                if conn.received == MESSAGE {
                    conn.sent = 0;
                    conn.received = 0;
                    *round_trips += 1;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => panic!("client read: {e}"),
        }
    };
    for conn in conns.iter_mut() {
        step(conn, &mut round_trips);
    }
    while start.elapsed() < duration {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in events.iter() {
            step(&mut conns[event.token().0], &mut round_trips);
        }
    }
    round_trips
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let duration = Duration::from_millis(if quick { 500 } else { 3_000 });
    let rounds = if quick { 1 } else { 3 };
    println!("TCP echo, {MESSAGE}-byte messages, closed loop, {duration:?} per sample, {rounds} samples each (alternating)");
    println!(
        "{:>11} {:>14} {:>14} {:>8} {:>12} {:>12} {:>9}",
        "connections",
        "raw mio req/s",
        "ebbtide req/s",
        "ratio",
        "raw ns/req",
        "ebb ns/req",
        "cpu ratio"
    );
    for connections in [1, 64, 512] {
        let mut raw_samples = Vec::new();
        let mut ebb_samples = Vec::new();
        // Server CPU time per request (ns): less sensitive to a busy machine than throughput.
        let mut raw_cpu = Vec::new();
        let mut ebb_cpu = Vec::new();
        for _ in 0..rounds {
            let stop = Arc::new(AtomicBool::new(false));
            let (addr, thread, waker) = raw_mio_server(stop.clone());
            let trips = client(addr, connections, duration);
            raw_samples.push(trips as f64 / duration.as_secs_f64());
            stop.store(true, Ordering::Relaxed);
            waker.wake().unwrap();
            raw_cpu.push(thread.join().unwrap() as f64 * 1000.0 / trips as f64);

            let stop = Arc::new(AtomicBool::new(false));
            let (addr, thread) = ebbtide_server(stop.clone());
            let trips = client(addr, connections, duration);
            ebb_samples.push(trips as f64 / duration.as_secs_f64());
            stop.store(true, Ordering::Relaxed);
            // One more connection makes the accept loop see the stop flag.
            drop(std::net::TcpStream::connect(addr));
            ebb_cpu.push(thread.join().unwrap() as f64 * 1000.0 / trips as f64);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() / 2]
        };
        let raw = median(&mut raw_samples);
        let ebb = median(&mut ebb_samples);
        let raw_ns = median(&mut raw_cpu);
        let ebb_ns = median(&mut ebb_cpu);
        println!(
            "{connections:>11} {raw:>14.0} {ebb:>14.0} {:>8.3} {raw_ns:>12.0} {ebb_ns:>12.0} {:>9.3}",
            ebb / raw,
            raw_ns / ebb_ns
        );
    }
}
