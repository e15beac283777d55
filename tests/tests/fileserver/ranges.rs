//! `Range` (206, 416) and `If-Modified-Since` (304).

use crate::harness::{fetch, pattern, Server, TempDir};

#[test]
fn single_ranges_are_partial_content() {
    let dir = TempDir::new();
    let data = pattern(300_000);
    dir.write("data.bin", &data);
    let server = Server::start(&dir.path);
    let url = server.url("/data.bin");

    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-250000", 1000, 250_000),
        ("bytes=299990-", 299_990, 299_999),
        ("bytes=-70000", 230_000, 299_999),
        ("bytes=299000-999999", 299_000, 299_999),
    ] {
        let part = fetch(&url, &["-H", &format!("Range: {range}")]);
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes {start}-{end}/300000").as_str()),
            "{range}"
        );
        let len = end - start + 1;
        assert_eq!(
            part.header("content-length"),
            Some(len.to_string().as_str())
        );
        assert!(part.body == data[start..=end], "{range}: the bytes differ");
    }

    // curl's own -r speaks the same.
    let part = fetch(&url, &["-r", "10-19"]);
    assert_eq!(part.body, &data[10..20]);
}

#[test]
fn unsatisfiable_ranges_are_416_and_several_ranges_the_whole_file() {
    let dir = TempDir::new();
    dir.write("ten.txt", b"0123456789");
    let server = Server::start(&dir.path);
    let url = server.url("/ten.txt");
    for range in ["bytes=10-", "bytes=20-30", "bytes=-0"] {
        let refused = fetch(&url, &["-H", &format!("Range: {range}")]);
        assert_eq!(refused.status, 416, "{range}");
        assert_eq!(refused.header("content-range"), Some("bytes */10"));
    }
    let several = fetch(&url, &["-H", "Range: bytes=0-1,4-5"]);
    assert_eq!(several.status, 200);
    assert_eq!(several.body, b"0123456789");
}

#[test]
fn if_modified_since_answers_304_for_an_unchanged_file() {
    let dir = TempDir::new();
    let path = dir.write("page.html", b"<p>x</p>");
    let server = Server::start_with(
        &dir.path,
        |config| config.open_file_cache_valid = std::time::Duration::from_millis(50),
        crate::harness::runtime(),
    );
    let url = server.url("/page.html");
    let first = fetch(&url, &[]);
    let last_modified = first.header("last-modified").unwrap().to_owned();

    let same = fetch(
        &url,
        &["-H", &format!("If-Modified-Since: {last_modified}")],
    );
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.header("last-modified"), Some(last_modified.as_str()));
    let later = fetch(
        &url,
        &["-H", "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"],
    );
    assert_eq!(later.status, 304);

    let old = fetch(
        &url,
        &["-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"],
    );
    assert_eq!(old.status, 200);
    assert_eq!(old.body, b"<p>x</p>");
    let garbage = fetch(&url, &["-H", "If-Modified-Since: yesterday"]);
    assert_eq!(garbage.status, 200);

    // Once the file changes (a later mtime), it is sent again: after the open-file cache's
    // period (50 ms here), within which the time it was opened with is served.
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    let later_time = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    file.set_modified(later_time).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let changed = fetch(
        &url,
        &["-H", &format!("If-Modified-Since: {last_modified}")],
    );
    assert_eq!(changed.status, 200);
}
