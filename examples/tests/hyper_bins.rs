//! The hyper examples (and the picoserve one) as processes, driven by real clients: `curl --http1.1`,
//! `curl --http2-prior-knowledge`, `wrk`, `h2load` and the `hyper_client` example itself. Every
//! server listens on 127.0.0.1 port 0 with two workers, and every client is bounded in time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const HELLO: &str = env!("CARGO_BIN_EXE_hyper_hello");
const ECHO: &str = env!("CARGO_BIN_EXE_hyper_echo");
const H2C: &str = env!("CARGO_BIN_EXE_hyper_h2c");
const AUTO: &str = env!("CARGO_BIN_EXE_hyper_auto");
const GRACEFUL: &str = env!("CARGO_BIN_EXE_hyper_graceful");
const GATEWAY: &str = env!("CARGO_BIN_EXE_hyper_gateway");
const CLIENT: &str = env!("CARGO_BIN_EXE_hyper_client");
const PICOSERVE: &str = env!("CARGO_BIN_EXE_picoserve_hello");
const HTTPS: &str = env!("CARGO_BIN_EXE_hyper_https");
const FILESERVER: &str = env!("CARGO_BIN_EXE_fileserver");

/// A server process, killed when the test ends (also on a failed assertion).
struct Server {
    child: Child,
    addr: SocketAddr,
    /// The rest of its stderr, read on a thread, once it exits.
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    /// Starts `program --addr 127.0.0.1:0 --workers 2 <extra>` and reads the address from the
    /// `listening on http://ADDR` line it prints on stderr.
    fn start(program: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(program)
            .args(["--addr", "127.0.0.1:0", "--workers", "2"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{program}: unexpected first line {line:?}"))
            .parse()
            .unwrap();
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            rest
        });
        Server {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits (at most `limit`) for the process to exit; its status and the rest of its stderr.
    fn wait(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < limit,
                "the server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client program to completion (it is given its own time limit in its arguments).
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("run {program} (is it installed? `cargo xtask ci` installs it): {e}")
        })
}

/// `curl -s --max-time 20 <args>`: stdout, asserting curl succeeded.
fn curl(args: &[&str]) -> String {
    let mut all = vec!["-s", "-S", "--max-time", "20"];
    all.extend_from_slice(args);
    let output = run("curl", &all);
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn hello_answers_curl_over_http1() {
    let server = Server::start(HELLO, &[]);
    let head_and_body = curl(&["--http1.1", "-i", &server.url("/")]);
    assert!(
        head_and_body.starts_with("HTTP/1.1 200 OK\r\n"),
        "{head_and_body:?}"
    );
    assert!(
        head_and_body.contains("content-type: text/plain\r\n"),
        "{head_and_body:?}"
    );
    assert!(
        head_and_body.ends_with("\r\n\r\nHello, World!"),
        "{head_and_body:?}"
    );
}

#[test]
fn hello_serves_wrk_without_an_error() {
    let server = Server::start(HELLO, &[]);
    let output = run(
        "wrk",
        &["-t1", "-c32", "-d1s", "--timeout", "5s", &server.url("/")],
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk: {report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
    let requests: u64 = report
        .lines()
        .find_map(|line| line.trim().split(" requests in ").next()?.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {report}"));
    assert!(requests > 0, "{report}");
}

#[test]
fn hello_exits_after_its_connections() {
    let server = Server::start(HELLO, &["--connections", "2"]);
    for _ in 0..2 {
        assert_eq!(curl(&[&server.url("/")]), "Hello, World!");
    }
    let (status, stderr) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn h2c_answers_curl_with_prior_knowledge() {
    let server = Server::start(H2C, &[]);
    let answer = curl(&[
        "--http2-prior-knowledge",
        "-w",
        "|%{http_version}",
        &server.url("/"),
    ]);
    assert_eq!(answer, "Hello over HTTP/2.0!\n|2");
}

#[test]
fn h2c_serves_h2load_with_every_stream_succeeding() {
    let server = Server::start(H2C, &[]);
    let output = run(
        "h2load",
        &[
            "-n",
            "4000",
            "-c",
            "8",
            "-m",
            "16",
            "-T",
            "20",
            &server.url("/"),
        ],
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "h2load: {report}");
    assert!(
        report.contains("4000 succeeded, 0 failed, 0 errored, 0 timeout"),
        "{report}"
    );
    assert!(report.contains("status codes: 4000 2xx"), "{report}");
}

#[test]
fn auto_serves_http1_and_h2c_on_one_port() {
    let server = Server::start(AUTO, &[]);
    let one = curl(&["--http1.1", "-w", "|%{http_version}", &server.url("/")]);
    assert_eq!(one, "Hello over HTTP/1.1!\n|1.1");
    let two = curl(&[
        "--http2-prior-knowledge",
        "-w",
        "|%{http_version}",
        &server.url("/"),
    ]);
    assert_eq!(two, "Hello over HTTP/2.0!\n|2");
}

#[test]
fn echo_streams_a_large_body_back_and_limits_what_it_gathers() {
    let server = Server::start(ECHO, &[]);
    let dir = std::env::temp_dir().join(format!("ebbtide-hyper-echo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 1 MiB of varied bytes, streamed through and back.
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 + i / 251) as u8).collect();
    let path = dir.join("body.bin");
    std::fs::write(&path, &body).unwrap();
    let output = run(
        "curl",
        &[
            "-s",
            "--max-time",
            "20",
            "--data-binary",
            &format!("@{}", path.display()),
            &server.url("/echo"),
        ],
    );
    assert!(output.status.success());
    assert!(output.stdout == body, "the echoed body differs");

    assert_eq!(
        curl(&["--data-binary", "stressed", &server.url("/echo/reversed")]),
        "desserts"
    );
    assert_eq!(
        curl(&["--data-binary", "shout", &server.url("/echo/uppercase")]),
        "SHOUT"
    );
    // 100 KiB is over the 64 KiB that /echo/reversed gathers: refused before it is read.
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![b'x'; 100 * 1024]).unwrap();
    let status = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-binary",
        &format!("@{}", big.display()),
        &server.url("/echo/reversed"),
    ]);
    assert_eq!(status, "413");
    let status = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &server.url("/nowhere"),
    ]);
    assert_eq!(status, "404");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_client_fetches_from_a_local_server_over_http1_and_http2() {
    let hello = Server::start(HELLO, &[]);
    let output = run(CLIENT, &["--count", "3", &hello.url("/")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, b"Hello, World!".repeat(3));
    // Each response's status line is printed on stderr.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("HTTP/1.1 200 OK").count(), 3, "{stderr}");

    let auto = Server::start(AUTO, &[]);
    let output = run(CLIENT, &["--http2", &auto.url("/")]);
    assert!(output.status.success());
    assert_eq!(output.stdout, b"Hello over HTTP/2.0!\n");

    // Nobody listening: a clear error and a failed exit, no panic.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let output = run(CLIENT, &[&format!("http://{addr}/")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_gateway_forwards_bodies_and_answers_502_without_its_upstream() {
    let echo = Server::start(ECHO, &[]);
    let upstream = echo.addr.to_string();
    let gateway = Server::start(GATEWAY, &["--upstream", &upstream]);
    assert_eq!(
        curl(&["--data-binary", "through", &gateway.url("/echo/reversed")]),
        "hguorht"
    );
    // Several requests, several connections: every one is carried.
    for i in 0..20 {
        let body = format!("request {i}");
        assert_eq!(curl(&["--data-binary", &body, &gateway.url("/echo")]), body);
    }
    drop(echo);
    let status = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &gateway.url("/echo"),
    ]);
    assert_eq!(status, "502");
}

#[test]
fn graceful_shutdown_finishes_the_request_under_way_and_refuses_new_ones() {
    let server = Server::start(GRACEFUL, &[]);
    let url = server.url("/sleep/1500");
    let slow = std::thread::spawn(move || curl(&["-w", "|%{http_code}", &url]));
    // Let the request arrive, then press ctrl-c.
    std::thread::sleep(Duration::from_millis(400));
    let sent = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // A moment for the accept loops to stop; then a new connection is refused.
    std::thread::sleep(Duration::from_millis(300));
    assert!(TcpStream::connect_timeout(&server.addr, Duration::from_secs(2)).is_err());
    assert_eq!(slow.join().unwrap(), "done\n|200");
    let (status, stderr) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("every connection closed"), "{stderr}");
}

#[test]
fn a_malformed_request_gets_400_and_the_server_goes_on() {
    let server = Server::start(HELLO, &[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer:?}"
    );
    // Headers larger than hyper's buffer: 431.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let _ = stream.write_all(huge.as_bytes());
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{answer:?}"
    );
    assert_eq!(curl(&[&server.url("/")]), "Hello, World!");
}

#[test]
fn picoserve_serves_curl_and_wrk_on_ebbtide_sockets() {
    let server = Server::start(PICOSERVE, &[]);
    assert_eq!(
        curl(&[&server.url("/")]),
        "Hello from picoserve on ebbtide!\n"
    );
    // Two requests on one keep-alive connection, with a path parameter.
    assert_eq!(
        curl(&[&server.url("/hello/ebbtide"), &server.url("/hello/again")]),
        "Hello, ebbtide!\nHello, again!\n"
    );
    let status = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &server.url("/nowhere"),
    ]);
    assert_eq!(status, "404");
    let output = run(
        "wrk",
        &["-t1", "-c8", "-d1s", "--timeout", "5s", &server.url("/")],
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk: {report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
}

/// A test CA and a certificate for `localhost` and 127.0.0.1 that it signed, as PEM files in a
/// fresh folder: `ca.pem`, `cert.pem`, `key.pem`.
fn make_certificates(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ebbtide-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ebbtide test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    params.use_authority_key_identifier_extension = true;
    params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    dir
}

#[test]
fn https_answers_curl_over_http1_and_h2_by_alpn_and_the_ebbtide_client() {
    let pki = make_certificates("hyper-https");
    let cert = pki.join("cert.pem");
    let key = pki.join("key.pem");
    let ca = pki.join("ca.pem");
    let server = Server::start(
        HTTPS,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let port = server.addr.port();
    let url = format!("https://localhost:{port}/");
    let resolve = format!("localhost:{port}:127.0.0.1");
    for (flag, version, body) in [
        ("--http1.1", "1.1", "Hello over TLS and HTTP/1.1!\n"),
        ("--http2", "2", "Hello over TLS and HTTP/2.0!\n"),
    ] {
        let answer = curl(&[
            flag,
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &resolve,
            "-w",
            "|%{http_version}",
            &url,
        ]);
        assert_eq!(answer, format!("{body}|{version}"));
    }
    // Without the CA, curl refuses the certificate (and the server goes on).
    let refused = run(
        "curl",
        &["-s", "--max-time", "20", "--resolve", &resolve, &url],
    );
    assert!(!refused.status.success());
    // The ebbtide client (hyper-util's, over rustls): HTTP/2 by ALPN, twice on one connection.
    let output = run(
        CLIENT,
        &[
            "--count",
            "2",
            "--cacert",
            ca.to_str().unwrap(),
            &format!("https://127.0.0.1:{port}/"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, b"Hello over TLS and HTTP/2.0!\n".repeat(2));
    // Not TLS at all: the handshake fails, the server logs it and goes on.
    let mut plain = TcpStream::connect(server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    assert!(rest.len() < 64, "answered plain HTTP: {rest:?}");
    assert!(curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        "--resolve",
        &resolve,
        &url
    ])
    .starts_with("Hello over TLS"));
    std::fs::remove_dir_all(&pki).unwrap();
}

#[test]
fn the_file_server_serves_https_with_a_pem_certificate() {
    let pki = make_certificates("fileserver-tls");
    let root = pki.join("www");
    std::fs::create_dir_all(&root).unwrap();
    let small: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    // Larger than the 64 KiB read whole and than one 1 MiB step: the TLS path a record at a time.
    let large: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 13 % 256) as u8)
        .collect();
    std::fs::write(root.join("small.bin"), &small).unwrap();
    std::fs::write(root.join("large.bin"), &large).unwrap();

    let mut child = Command::new(FILESERVER)
        .arg(&root)
        .args(["--addr", "127.0.0.1:0", "--workers", "2", "--tls-cert"])
        .arg(pki.join("cert.pem"))
        .arg("--tls-key")
        .arg(pki.join("key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fileserver binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim_end()
        .rsplit_once("https://")
        .map(|(_, addr)| addr)
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    let _server = Server {
        child,
        addr,
        stderr: Some(std::thread::spawn(String::new)),
    };
    let port = addr.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let ca = pki.join("ca.pem");
    let fetch = |path: &str, extra: &[&str]| {
        let mut args = vec![
            "-s",
            "--max-time",
            "20",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &resolve,
        ];
        args.extend_from_slice(extra);
        let url = format!("https://localhost:{port}{path}");
        args.push(&url);
        let output = run("curl", &args);
        assert!(output.status.success(), "curl {path}: {output:?}");
        output.stdout
    };
    assert_eq!(fetch("/small.bin", &[]), small);
    // Twice on one keep-alive connection.
    assert_eq!(
        fetch(
            "/large.bin",
            &["-o", "/dev/null", "-w", "%{http_code}%{num_connects}"]
        ),
        b"2001"
    );
    assert!(fetch("/large.bin", &[]) == large, "the large file differs");
    // A range in the middle of the large file.
    assert_eq!(
        fetch("/large.bin", &["-r", "1000000-1000099"]),
        &large[1_000_000..1_000_100]
    );
    // Plain HTTP on the HTTPS port: closed without an answer; the server goes on.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /small.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    assert!(!rest.starts_with(b"HTTP/"), "answered plain HTTP: {rest:?}");
    assert_eq!(fetch("/small.bin", &[]), small);
    std::fs::remove_dir_all(&pki).unwrap();
}
