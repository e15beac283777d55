//! The echo demo (`ebbtide_examples::echo_service`), driven by real clients on 127.0.0.1: TCP
//! and UDP round trips, many concurrent clients, and a full task pool that refuses one
//! connection and keeps serving.

use std::net::SocketAddr;

use ebbtide_examples::echo_service::{
    serve_tcp, serve_udp, Args, Command, TcpClient, Transport, UdpClient,
};
use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream, UdpSocket};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

/// Every test ends by this long.
const LIMIT: Duration = Duration::from_secs(20);

/// A runtime with room for many client tasks (a `TcpClient` future takes a 16 KiB slot).
fn roomy_runtime() -> Runtime {
    Runtime::builder()
        .task_slots([1024, 512, 256, 256])
        .build()
        .unwrap()
}

async fn start_tcp() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ebbtide_std::spawn(serve_tcp(listener)).unwrap();
    addr
}

async fn start_udp() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    ebbtide_std::spawn(serve_udp(socket)).unwrap();
    addr
}

#[test]
fn the_command_line_is_parsed() {
    let parse = |line: &str| Command::from_args(line.split(' ').map(String::from));
    let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
    assert_eq!(
        parse("serve --tcp 127.0.0.1:7000"),
        Ok(Command::Serve(Transport::Tcp, addr))
    );
    assert_eq!(
        parse("client --udp 127.0.0.1:7000"),
        Ok(Command::Client(Transport::Udp, addr))
    );
    assert_eq!(parse("--help"), Err(ebbtide_examples::cli::Parsed::Help));
    assert!(parse("serve").is_err());
    assert!(parse("serve --tcp 127.0.0.1:1 --udp 127.0.0.1:2").is_err());

    let args = |line: &str| Args::from_args(line.split(' ').map(String::from));
    let parsed = args("serve --tcp 127.0.0.1:7000 --workers 4").unwrap();
    assert_eq!(parsed.command, Command::Serve(Transport::Tcp, addr));
    assert_eq!(parsed.workers, 4);
    assert_eq!(
        args("serve --workers 3 --tcp 127.0.0.1:7000")
            .unwrap()
            .workers,
        3
    );
    // Serving TCP uses every CPU unless told otherwise; the other commands run on one worker.
    assert_eq!(
        args("serve --tcp 127.0.0.1:7000").unwrap().workers,
        ebbtide_examples::cli::default_workers()
    );
    assert_eq!(
        args("serve --udp 127.0.0.1:7000").unwrap().workers,
        ebbtide_examples::cli::default_workers()
    );
    assert_eq!(
        args("serve --udp 127.0.0.1:7000 --workers 2")
            .unwrap()
            .workers,
        2
    );
    assert_eq!(args("client --tcp 127.0.0.1:7000").unwrap().workers, 1);
    assert!(args("serve --tcp 127.0.0.1:7000 --workers 0").is_err());
    assert!(args("client --tcp 127.0.0.1:7000 --workers 2").is_err());
}

#[test]
fn tcp_lines_come_back() {
    roomy_runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start_tcp().await;
            let mut client = TcpClient::connect(addr).await.unwrap();
            for line in ["hello", "", "a somewhat longer line with spaces", "ünïcödé"] {
                assert_eq!(
                    client.echo_line(line.as_bytes()).await.unwrap(),
                    line.as_bytes()
                );
            }
            let long = vec![b'x'; 3000];
            assert_eq!(client.echo_line(&long).await.unwrap(), long);
            client.shutdown().await.unwrap();
        })
        .await
        .expect("over 20 s");
    });
}

#[test]
fn a_megabyte_comes_back_byte_exact_and_the_server_closes_after_the_client() {
    const BYTES: usize = 1024 * 1024;
    roomy_runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start_tcp().await;
            let (mut rx, mut tx) = TcpStream::connect(addr).await.unwrap().into_split();
            let data: Vec<u8> = (0..BYTES).map(|i| (i * 7 + (i >> 10)) as u8).collect();
            let expected = data.clone();
            let writer = ebbtide_std::spawn(async move {
                tx.write_all(&data).await.unwrap();
                AsyncWriteExt::shutdown(&mut tx).await.unwrap();
            })
            .unwrap();
            let mut back = Vec::with_capacity(BYTES);
            let mut buf = vec![0u8; 8192];
            loop {
                let n = rx.read(&mut buf).await.unwrap();
                if n == 0 {
                    break; // the server shut its side after ours
                }
                back.extend_from_slice(&buf[..n]);
            }
            writer.await.unwrap();
            assert!(back == expected, "the echo differs");
        })
        .await
        .expect("over 20 s");
    });
}

#[test]
fn many_concurrent_tcp_clients() {
    const CLIENTS: usize = 100;
    const LINES: usize = 20;
    roomy_runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start_tcp().await;
            let mut tasks = Vec::new();
            for client_id in 0..CLIENTS {
                tasks.push(
                    ebbtide_std::spawn(async move {
                        let mut client = TcpClient::connect(addr).await.unwrap();
                        for line_no in 0..LINES {
                            let line = format!("client {client_id} line {line_no}");
                            let echo = client.echo_line(line.as_bytes()).await.unwrap();
                            assert_eq!(echo, line.as_bytes());
                        }
                        client.shutdown().await.unwrap();
                    })
                    .unwrap(),
                );
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("over 20 s");
    });
}

#[test]
fn udp_datagrams_come_back() {
    roomy_runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start_udp().await;
            let client = UdpClient::connect(addr).await.unwrap();
            for datagram in [&b"ping"[..], b"", &[0u8, 1, 2, 255], &[b'u'; 9000]] {
                let echo = client.echo(datagram, Duration::from_secs(5)).await.unwrap();
                assert_eq!(echo, datagram);
            }
        })
        .await
        .expect("over 20 s");
    });
}

#[test]
fn many_concurrent_udp_clients() {
    const CLIENTS: usize = 50;
    const DATAGRAMS: usize = 20;
    roomy_runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start_udp().await;
            let mut tasks = Vec::new();
            for client_id in 0..CLIENTS {
                tasks.push(
                    ebbtide_std::spawn(async move {
                        let client = UdpClient::connect(addr).await.unwrap();
                        for n in 0..DATAGRAMS {
                            let datagram = format!("client {client_id} datagram {n}");
                            // Loopback does not lose datagrams unless a buffer overflows; one
                            // echo in flight per client keeps them small.
                            let echo = client
                                .echo(datagram.as_bytes(), Duration::from_secs(5))
                                .await
                                .unwrap();
                            assert_eq!(echo, datagram.as_bytes());
                        }
                    })
                    .unwrap(),
                );
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("over 20 s");
    });
}

/// Tries an echo of `b"?"` on a fresh connection: true if it came back, false if the server
/// closed the connection instead.
async fn served(addr: SocketAddr) -> (bool, TcpStream) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut byte = [0u8; 1];
    let ok = stream.write_all(b"?").await.is_ok()
        && matches!(stream.read(&mut byte).await, Ok(1) if byte == *b"?");
    (ok, stream)
}

#[test]
fn a_full_task_pool_refuses_one_connection_and_keeps_serving() {
    // Two slots of each size: the accept loop runs in `block_on` itself (not a task), so the
    // echo tasks have two slots and a third connection finds the pool full.
    let runtime = Runtime::builder()
        .task_slots([2, 2, 2, 2])
        .fixed_task_memory()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let test = async {
            let (first_ok, mut first) = served(addr).await;
            let (second_ok, _second) = served(addr).await;
            assert!(
                first_ok && second_ok,
                "the first two connections are served"
            );
            let (third_ok, _third) = served(addr).await;
            assert!(
                !third_ok,
                "the third connection is refused: the pool is full"
            );

            // The first client leaves; its slot frees once the server has closed its side.
            first.shutdown(std::net::Shutdown::Write).unwrap();
            let mut rest = [0u8; 8];
            assert_eq!(first.read(&mut rest).await.unwrap(), 0);
            drop(first);
            for _ in 0..100 {
                if served(addr).await.0 {
                    return;
                }
                sleep(Duration::from_millis(10)).await;
            }
            panic!("the server did not serve again after a slot freed");
        };
        ebbtide_std::select! {
            _ = serve_tcp(listener) => unreachable!(),
            result = timeout(LIMIT, test) => result.expect("over 20 s"),
        }
    });
}

/// The environment variable that makes `refusing_server` serve.
const REFUSING_SERVER_ENV: &str = "EBBTIDE_REFUSING_SERVER";

/// The server half of `refusals_are_logged_at_most_once_a_second`: echo through the shared
/// accept loop on a runtime with one task slot per size class, so that every connection after
/// the first is refused. Prints its port, then serves until killed.
#[test]
#[ignore = "the server half of refusals_are_logged_at_most_once_a_second (run by it)"]
#[allow(unreachable_code)] // `accept_loop` returns `Infallible`: the end is never reached.
fn refusing_server() {
    if std::env::var_os(REFUSING_SERVER_ENV).is_none() {
        return;
    }
    let runtime = Runtime::builder()
        .task_slots([1, 1, 1, 1])
        .fixed_task_memory()
        .build()
        .unwrap();
    // Serves until killed: `accept_loop` never returns.
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        use std::io::Write as _;
        std::io::stdout().flush().unwrap();
        ebbtide_examples::serve::accept_loop(&listener, "echo", |stream, _peer| async move {
            let _ = ebbtide_examples::echo_service::echo_connection(stream).await;
        })
        .await
    });
}

/// Each refused connection used to write a log line (9,489 lines for 9,488 refusals); now
/// refusals are logged at most once a second, with the count of those left out.
#[test]
fn refusals_are_logged_at_most_once_a_second() {
    use std::io::{BufRead, BufReader, Read, Write};

    const REFUSED: usize = 100;
    let mut server = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["refusing_server", "--exact", "--ignored", "--nocapture"])
        .env(REFUSING_SERVER_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let port: u16 = loop {
        let line = lines.next().expect("the server prints its port").unwrap();
        if let Some(port) = line.strip_prefix("PORT ") {
            break port.parse().unwrap();
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // The one connection served holds the only slot of its class.
    let mut held = std::net::TcpStream::connect(addr).unwrap();
    held.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    held.write_all(b"x").unwrap();
    let mut echoed = [0u8; 1];
    held.read_exact(&mut echoed).unwrap();
    // Each of these is refused: the server closes it.
    let refuse = || {
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
    };
    for _ in 0..REFUSED {
        refuse();
    }
    // A second later, one more: its line tells of those left out.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    refuse();
    std::thread::sleep(std::time::Duration::from_millis(100));
    server.kill().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server.wait().unwrap();
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("refusing")).collect();
    assert!(
        !refusals.is_empty() && refusals.len() <= 3,
        "{} lines for {} refusals:\n{log}",
        refusals.len(),
        REFUSED + 1
    );
    // Every refusal is accounted for: a line, or counted in the next line.
    let left_out: usize = refusals
        .iter()
        .filter_map(|line| {
            let (_, count) = line.rsplit_once(" (")?;
            let count = count.strip_suffix(" more since the last line not shown)")?;
            count.parse::<usize>().ok()
        })
        .sum();
    assert_eq!(refusals.len() + left_out, REFUSED + 1, "{log}");
}
