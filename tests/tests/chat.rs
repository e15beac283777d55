//! The chat demo (`ebbtide_examples::chat`), driven by real clients on 127.0.0.1: lines reach
//! every other client in order, joins and departures are announced, a client that stops reading
//! is dropped without slowing the others, and one that falls behind is told what it missed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ebbtide_examples::chat::{self, Config};
use ebbtide_std::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, ReadUntilError};
use ebbtide_std::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

/// Every wait of these tests ends by this long.
const LIMIT: Duration = Duration::from_secs(30);

/// A chat client of the tests.
struct Client {
    reader: BufReader<OwnedReadHalf, 1024>,
    writer: OwnedWriteHalf,
    /// The name the server gave it (`userN`).
    name: String,
}

impl Client {
    /// Connects and reads the welcome (after which the client is in the room).
    async fn join(addr: SocketAddr) -> Client {
        let (reader, writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut client = Client {
            reader: BufReader::new(reader),
            writer,
            name: String::new(),
        };
        let welcome = client.line().await.expect("a welcome");
        client.name = welcome
            .strip_prefix("*** welcome, you are ")
            .unwrap_or_else(|| panic!("not a welcome: {welcome:?}"))
            .to_string();
        client
    }

    /// The next line without its `\n`; `None` at end of stream or on a reset.
    async fn line(&mut self) -> Option<String> {
        let mut line = heapless::Vec::<u8, 1024>::new();
        match timeout(LIMIT, self.reader.read_line(&mut line)).await {
            Ok(Ok(0)) | Ok(Err(ReadUntilError::Other(_))) => None,
            Ok(Ok(_)) => Some(String::from_utf8(line.trim_ascii_end().to_vec()).unwrap()),
            Ok(Err(ReadUntilError::TooLong)) => panic!("a line over 1 KiB"),
            Err(_) => panic!("no line within {LIMIT:?}"),
        }
    }

    /// Reads lines until one equals `expected`; returns the lines before it.
    async fn until(&mut self, expected: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            match self.line().await {
                Some(line) if line == expected => return before,
                Some(line) => before.push(line),
                None => panic!("{}: the connection ended before {expected:?}", self.name),
            }
        }
    }

    async fn say(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
    }
}

/// A runtime with room for the chat's client tasks and the tests' own.
fn runtime() -> Runtime {
    Runtime::builder()
        .task_slots([256, 128, 128, 64])
        .build()
        .unwrap()
}

async fn start(write_timeout: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        write_timeout,
        ..Config::new(addr)
    };
    ebbtide_std::spawn(chat::run(listener, chat::new_room(), config)).unwrap();
    addr
}

/// Lets `clients` join one by one, each seen joining by those before it.
async fn join_all(addr: SocketAddr, count: usize) -> Vec<Client> {
    let mut clients: Vec<Client> = Vec::new();
    for _ in 0..count {
        let newcomer = Client::join(addr).await;
        for client in &mut clients {
            let skipped = client.until(&format!("*** {} joined", newcomer.name)).await;
            assert!(skipped.is_empty(), "unexpected lines {skipped:?}");
        }
        clients.push(newcomer);
    }
    clients
}

#[test]
fn every_line_reaches_every_other_client_in_order() {
    // 3 × 20 messages fit the room's ring (64): nobody can lag, so all must arrive.
    const LINES: usize = 20;
    runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start(Duration::from_secs(5)).await;
            let clients = join_all(addr, 3).await;
            let names: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();

            // Every client talks and listens at once.
            let mut tasks = Vec::new();
            for mut client in clients {
                let names = names.clone();
                tasks.push(
                    ebbtide_std::spawn(async move {
                        for n in 0..LINES {
                            client.say(&format!("message {n}")).await;
                        }
                        let mut next = vec![0; names.len()];
                        let expected = LINES * (names.len() - 1);
                        let mut heard = Vec::new();
                        while heard.len() < expected {
                            let line = client.line().await.expect("the chat ended early");
                            let (from, text) = line.split_once(": ").expect("a chat line");
                            assert_ne!(from, client.name, "a client hears its own lines");
                            let sender = names.iter().position(|n| n == from).unwrap();
                            assert_eq!(text, format!("message {}", next[sender]), "out of order");
                            next[sender] += 1;
                            heard.push(line);
                        }
                        (client, heard)
                    })
                    .unwrap(),
                );
            }
            let mut clients = Vec::new();
            let mut orders = Vec::new();
            for task in tasks {
                let (client, heard) = task.await.unwrap();
                clients.push(client);
                orders.push(heard);
            }
            // One room, one order: any two clients heard the lines of a third in the same order
            // relative to each other (the broadcast ring is a single sequence).
            let common = |a: &Vec<String>, b: &Vec<String>| -> Vec<String> {
                a.iter().filter(|l| b.contains(l)).cloned().collect()
            };
            assert_eq!(
                common(&orders[0], &orders[1]),
                common(&orders[1], &orders[0])
            );
            assert_eq!(
                common(&orders[1], &orders[2]),
                common(&orders[2], &orders[1])
            );

            // A departure is announced to those who stay.
            let leaving = clients.pop().unwrap();
            let name = leaving.name.clone();
            drop(leaving);
            for client in &mut clients {
                let skipped = client.until(&format!("*** {name} left")).await;
                assert!(skipped.is_empty(), "unexpected lines {skipped:?}");
            }
        })
        .await
        .expect("over 30 s");
    });
}

/// A chat line of about 500 bytes, numbered.
fn bulky(n: usize) -> String {
    format!("{n:08} {}", "x".repeat(480))
}

#[test]
fn a_client_that_never_reads_is_dropped_and_does_not_slow_the_others() {
    runtime().block_on(async {
        timeout(LIMIT, async {
            let addr = start(Duration::from_millis(300)).await;
            let mut clients = join_all(addr, 3).await;
            let mut slow = clients.pop().unwrap();
            let mut listener = clients.pop().unwrap();
            let mut talker = clients.pop().unwrap();
            let slow_name = slow.name.clone();
            let talker_name = talker.name.clone();

            // The talker floods until the listener hears that the slow client was dropped
            // (its socket buffers fill, then one write waits over 300 ms).
            let stop = Arc::new(AtomicBool::new(false));
            let flooding = stop.clone();
            let flood = ebbtide_std::spawn(async move {
                let mut sent = 0;
                while !flooding.load(Ordering::Relaxed) {
                    talker.say(&bulky(sent)).await;
                    sent += 1;
                    assert!(sent < 200_000, "100 MB and the slow client is still there");
                }
                talker.say("after the drop").await;
                talker
            })
            .unwrap();
            let dropped = format!("*** {slow_name} was dropped: too slow");
            let mut lags = 0;
            loop {
                let line = listener
                    .line()
                    .await
                    .expect("the listener lost its connection");
                if line == dropped {
                    break;
                }
                if line.starts_with("*** you missed") {
                    lags += 1; // the listener may fall behind the flood too; it is told so
                } else {
                    assert!(line.starts_with(&format!("{talker_name}: ")), "{line:?}");
                }
            }
            stop.store(true, Ordering::Relaxed);
            let _talker = flood.await.unwrap();
            // The others go on: the listener still hears the talker.
            listener
                .until(&format!("{talker_name}: after the drop"))
                .await;
            eprintln!("the listener was told of {lags} lags");

            // The slow client finds its connection closed once it reads what was buffered.
            while slow.line().await.is_some() {}
        })
        .await
        .expect("over 30 s");
    });
}

/// The third number of a `/proc/sys/net/ipv4/tcp_*mem` file (bytes), or `default`.
fn sysctl_bytes(name: &str, index: usize, default: usize) -> usize {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
        .ok()
        .and_then(|v| v.split_whitespace().nth(index)?.parse().ok())
        .unwrap_or(default)
}

#[test]
fn a_client_that_falls_behind_is_told_how_many_messages_it_missed() {
    // Enough to fill the server's send buffer to the paused client (up to tcp_wmem's maximum)
    // and the client's receive buffer (tcp_rmem's default: it does not grow while the client
    // does not read), with room to spare, so the room's ring laps the client. (The talker's own
    // buffers hold as much again; the watcher tells when the server has read them all.)
    let bytes = sysctl_bytes("tcp_wmem", 2, 4 << 20) + 4 * sysctl_bytes("tcp_rmem", 1, 128 << 10);
    let lines = bytes / 500 + 2_000;
    runtime().block_on(async {
        timeout(Duration::from_secs(120), async {
            let addr = start(Duration::from_secs(60)).await;
            let mut clients = join_all(addr, 3).await;
            let mut watcher = clients.pop().unwrap();
            let mut behind = clients.pop().unwrap();
            let mut talker = clients.pop().unwrap();
            let talker_name = talker.name.clone();
            let end = format!("{talker_name}: end");

            // The watcher reads all the time (it may fall behind too; that is fine): when it
            // hears "end", the server has broadcast every line.
            let watching = ebbtide_std::spawn(async move {
                loop {
                    if watcher
                        .line()
                        .await
                        .expect("the watcher lost its connection")
                        == end
                    {
                        return watcher;
                    }
                }
            })
            .unwrap();
            // The client does not read while the talker sends every line.
            for n in 0..lines {
                talker.say(&bulky(n)).await;
            }
            talker.say("end").await;
            let _watcher = watching.await.unwrap();

            // Now it reads: each line in order, with the gaps announced and counted.
            let mut next = 0;
            let mut missed_total = 0;
            let mut notices = 0;
            loop {
                let line = behind.line().await.expect("the connection ended");
                if let Some(rest) = line.strip_prefix("*** you missed ") {
                    let missed: usize = rest.strip_suffix(" messages").unwrap().parse().unwrap();
                    missed_total += missed;
                    next += missed;
                    notices += 1;
                    continue;
                }
                let text = line
                    .strip_prefix(&format!("{talker_name}: "))
                    .unwrap_or_else(|| panic!("{line:?}"));
                if text == "end" {
                    break;
                }
                assert_eq!(text, bulky(next), "out of order after {notices} notices");
                next += 1;
            }
            assert_eq!(next, lines, "every line was heard or counted as missed");
            assert!(notices > 0, "the client never fell behind");
            assert!(missed_total > 0);
        })
        .await
        .expect("over 120 s");
    });
}

#[test]
fn clients_on_two_workers_share_one_room_and_never_share_an_id() {
    // Two servers of one room, one on each worker, on listeners of their own (so which worker a
    // client lands on is chosen here, not by the kernel's hash), as `chat --workers 2` runs it.
    const CLIENTS: usize = 6;
    let runtime = Runtime::builder()
        .task_slots([256, 128, 128, 64])
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = runtime.handle();
    runtime.block_on(async {
        timeout(LIMIT, async {
            let room = chat::new_room();
            let on_zero = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let zero = on_zero.local_addr().unwrap();
            ebbtide_std::spawn(chat::run(on_zero, room, Config::new(zero))).unwrap();
            let one = handle
                .spawn_on(1, async move {
                    let on_one = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let one = on_one.local_addr().unwrap();
                    ebbtide_std::spawn(chat::run(on_one, room, Config::new(one))).unwrap();
                    one
                })
                .unwrap()
                .await
                .unwrap();

            // Alternating workers, each newcomer seen joining by everyone before it.
            let mut clients: Vec<Client> = Vec::new();
            for i in 0..CLIENTS {
                let newcomer = Client::join(if i % 2 == 0 { zero } else { one }).await;
                for client in &mut clients {
                    let skipped = client.until(&format!("*** {} joined", newcomer.name)).await;
                    assert!(skipped.is_empty(), "unexpected lines {skipped:?}");
                }
                clients.push(newcomer);
            }
            let mut names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), CLIENTS, "two clients got one name");

            // Everyone speaks once; everyone hears the others, never themselves.
            for client in &mut clients {
                let line = format!("hello from {}", client.name);
                client.say(&line).await;
            }
            let all: Vec<String> = clients.iter().map(|c| c.name.clone()).collect();
            for client in &mut clients {
                let mut heard = Vec::new();
                while heard.len() < CLIENTS - 1 {
                    let line = client.line().await.expect("the chat ended early");
                    let (from, text) = line.split_once(": ").expect("a chat line");
                    assert_ne!(from, client.name, "a client hears its own line");
                    assert_eq!(text, format!("hello from {from}"));
                    heard.push(from.to_string());
                }
                heard.sort_unstable();
                let mut others: Vec<String> =
                    all.iter().filter(|n| **n != client.name).cloned().collect();
                others.sort_unstable();
                assert_eq!(heard, others, "{} missed someone", client.name);
            }
        })
        .await
        .expect("over 30 s");
    });
}
