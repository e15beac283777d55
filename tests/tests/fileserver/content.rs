//! Files byte for byte, HEAD, content types, folders and errors.

use crate::harness::{curl, fetch, pattern, Server, TempDir};

#[test]
fn a_small_file_and_a_large_one_come_back_byte_for_byte() {
    let dir = TempDir::new();
    dir.write("small.txt", b"hello, ebbtide\n");
    // Several MB, not a multiple of the chunk size.
    let big = pattern(5 * 1024 * 1024 + 12_345);
    dir.write("sub/big.bin", &big);
    let server = Server::start(&dir.path);

    let small = fetch(&server.url("/small.txt"), &[]);
    assert_eq!(small.status, 200);
    assert_eq!(small.body, b"hello, ebbtide\n");
    assert_eq!(small.header("content-length"), Some("15"));
    assert_eq!(
        small.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(small.header("last-modified").is_some());

    let output = curl(&[&server.url("/sub/big.bin")]);
    assert!(output.status.success());
    assert!(output.stdout == big, "the large file differs");
}

#[test]
fn head_sends_the_headers_of_get_without_a_body() {
    let dir = TempDir::new();
    dir.write("page.html", b"<p>hi</p>");
    let server = Server::start(&dir.path);
    let head = fetch(&server.url("/page.html"), &["-I"]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("9"));
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(head.body.is_empty());
}

#[test]
fn content_types_follow_the_extension() {
    let dir = TempDir::new();
    let cases = [
        ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.svg", "image/svg+xml"),
        ("a.wasm", "application/wasm"),
        ("a.pdf", "application/pdf"),
        ("a.unknown", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ];
    for (name, _) in cases {
        dir.write(name, b"x");
    }
    let server = Server::start(&dir.path);
    for (name, media) in cases {
        let head = fetch(&server.url(&format!("/{name}")), &["-I"]);
        assert_eq!(head.header("content-type"), Some(media), "{name}");
    }
}

#[test]
fn missing_files_and_other_methods() {
    let dir = TempDir::new();
    dir.write("a.txt", b"a");
    let server = Server::start(&dir.path);
    let missing = fetch(&server.url("/nope.txt"), &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, b"404 Not Found\n");
    let post = fetch(&server.url("/a.txt"), &["-X", "DELETE"]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    // A small body is read and dropped (see `protocol.rs` for the limits).
    let with_body = fetch(&server.url("/a.txt"), &["-X", "GET", "--data", "x=1"]);
    assert_eq!(with_body.status, 200);
    assert_eq!(with_body.body, b"a");
    assert_eq!(with_body.header("connection"), Some("keep-alive"));
}

#[test]
fn a_folder_is_listed_with_escaped_names_and_encoded_links() {
    let dir = TempDir::new();
    dir.write("docs/a <b>&c.txt", b"1");
    dir.write("docs/plain.txt", b"22");
    dir.write("docs/inner/x.txt", b"3");
    let server = Server::start(&dir.path);

    let page = fetch(&server.url("/docs/"), &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("<a href=\"a%20%3Cb%3E%26c.txt\">a &lt;b&gt;&amp;c.txt</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"plain.txt\">plain.txt</a>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"inner/\">inner/</a>"), "{html}");
    // The link works.
    let linked = fetch(&server.url("/docs/a%20%3Cb%3E%26c.txt"), &[]);
    assert_eq!(linked.body, b"1");

    // Without the slash, the client is sent to the URL with it.
    let moved = fetch(&server.url("/docs"), &[]);
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some("/docs/"));

    // A folder with an index.html shows that instead.
    dir.write("site/index.html", b"<h1>home</h1>");
    let index = fetch(&server.url("/site/"), &[]);
    assert_eq!(index.body, b"<h1>home</h1>");
}

/// A small file from the page cache is found, opened and read on the runtime's thread, with no
/// trip to the blocking pool: each trip would end with a wake of the runtime's thread from the
/// pool's (`Metrics::remote_wakes`). (Before, the one trip per request made 39 to 47 wakes for
/// 50 requests; two trips 75 to 84.) With `Config::open_on_worker` off, the trip is back, one
/// per request at most.
#[test]
fn a_small_file_takes_no_trip_to_the_blocking_pool() {
    use std::io::Write;

    const REQUESTS: u64 = 50;
    for on_worker in [true, false] {
        let dir = TempDir::new();
        dir.write("small.txt", b"hello, ebbtide\n");
        let (server, handle) = Server::start_metered(
            &dir.path,
            |config| config.open_on_worker = on_worker,
            crate::harness::runtime(),
        );
        let mut stream = crate::harness::connect(server.addr);
        let ask = |stream: &mut std::net::TcpStream, range: Option<&str>| {
            let range = range.map_or(String::new(), |r| format!("Range: {r}\r\n"));
            let request = format!("GET /small.txt HTTP/1.1\r\nHost: x\r\n{range}\r\n");
            stream.write_all(request.as_bytes()).unwrap();
            crate::harness::read_one_response(stream)
        };
        assert_eq!(ask(&mut stream, None).body, b"hello, ebbtide\n");
        let before = handle.metrics().remote_wakes();
        for _ in 0..REQUESTS {
            assert_eq!(ask(&mut stream, None).body, b"hello, ebbtide\n");
        }
        let wakes = handle.metrics().remote_wakes() - before;
        println!("open_on_worker {on_worker}: {wakes} remote wakes for {REQUESTS} requests");
        let most = if on_worker { 5 } else { REQUESTS + 10 };
        assert!(
            wakes <= most,
            "{wakes} remote wakes for {REQUESTS} requests"
        );
        let part = ask(&mut stream, Some("bytes=7-13"));
        assert_eq!((part.status, part.body.as_slice()), (206, &b"ebbtide"[..]));
    }
}

/// Bodies larger than `Config::chunk_size` go with `sendfile`: ranges that start and end
/// anywhere, across the first step of 1 MiB sent with the head, come back byte for byte.
#[test]
fn large_ranges_sent_with_sendfile_come_back_byte_for_byte() {
    let dir = TempDir::new();
    let big = pattern(3 * 1024 * 1024 + 77);
    dir.write("big.bin", &big);
    let server = Server::start(&dir.path);
    for (start, end) in [
        (0, 65_536),
        (1, 1_048_576),
        (100, 1_048_677),
        (1_000_000, 3 * 1024 * 1024 + 76),
    ] {
        let part = fetch(
            &server.url("/big.bin"),
            &["-H", &format!("Range: bytes={start}-{end}")],
        );
        assert_eq!(part.status, 206, "{start}-{end}");
        assert!(part.body == big[start..=end], "{start}-{end} differs");
    }
}

/// A large file cut short while it is sent (after its head promised its old length): the
/// connection is closed, so the client sees a short body instead of a hang or another
/// response's bytes; the server goes on serving.
#[test]
fn a_file_that_shrinks_while_it_is_sent_closes_the_connection() {
    use std::io::{Read, Write};

    let dir = TempDir::new();
    let big = pattern(8 * 1024 * 1024);
    let path = dir.write("big.bin", &big);
    let server = Server::start(&dir.path);
    let mut stream = crate::harness::connect(server.addr);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Read a little, so that the server is mid-body, then cut the file.
    let mut first = vec![0u8; 64 * 1024];
    stream.read_exact(&mut first).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1024)
        .unwrap();
    let mut rest = Vec::new();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.read_to_end(&mut rest).unwrap();
    assert!(
        first.len() + rest.len() < big.len(),
        "the whole old length came"
    );
    // The server still answers (the file as it is now).
    let now = fetch(&server.url("/big.bin"), &[]);
    assert_eq!((now.status, now.body.as_slice()), (200, &big[..1024]));
}
