//! The open-file cache (`Config::open_file_cache`): a file asked for again is served from the
//! worker's table of open files, and a change on disk (a file replaced, deleted, turned into a
//! symlink) is served as such once the entry's validity period is over. The count of opens it
//! saves is checked by the unit tests of `examples/src/http/cache.rs` (a thread-local counter).

use std::path::Path;
use std::time::Duration;

use crate::harness::{connect, fetch, read_one_response, runtime, Server, TempDir};
use std::io::Write;

/// The validity period of these tests' caches, and how long they wait for it to pass.
const VALID: Duration = Duration::from_millis(50);
const PAST_VALID: Duration = Duration::from_millis(200);

fn start(root: &Path, entries: usize) -> Server {
    Server::start_with(
        root,
        |config| {
            config.open_file_cache = entries;
            config.open_file_cache_valid = VALID;
        },
        runtime(),
    )
}

/// Writes `contents` to a new file next to `path`, then renames it over `path` (as a deploy
/// does: the old file stays whole for whoever has it open).
fn replace(path: &Path, contents: &[u8]) {
    let new = path.with_extension("new");
    std::fs::write(&new, contents).unwrap();
    std::fs::rename(&new, path).unwrap();
}

#[test]
fn a_cached_file_is_served_whole_every_time() {
    let dir = TempDir::new();
    let body = crate::harness::pattern(5000);
    dir.write("a.bin", &body);
    // The default period (1 s): every request below after the first is a hit on its worker.
    let server = Server::start(&dir.path);
    for _ in 0..5 {
        let response = fetch(&server.url("/a.bin"), &[]);
        assert_eq!(response.status, 200);
        assert_eq!(response.body, body);
    }
    // Over one keep-alive connection, with HEAD and a range in between.
    let mut stream = connect(server.addr);
    for _ in 0..5 {
        stream
            .write_all(b"GET /a.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let response = read_one_response(&mut stream);
        assert_eq!(response.status, 200);
        assert_eq!(response.body, body);
    }
    let range = fetch(&server.url("/a.bin"), &["-r", "10-19"]);
    assert_eq!(range.status, 206);
    assert_eq!(range.body, &body[10..20]);
}

#[test]
fn a_replaced_file_is_served_new_after_the_period() {
    let dir = TempDir::new();
    let path = dir.write("page.html", b"old page\n");
    let server = start(&dir.path, 16);
    assert_eq!(fetch(&server.url("/page.html"), &[]).body, b"old page\n");
    replace(&path, b"the new page, longer\n");
    std::thread::sleep(PAST_VALID);
    let response = fetch(&server.url("/page.html"), &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"the new page, longer\n");
    assert_eq!(response.header("content-length"), Some("21"));
}

#[test]
fn a_deleted_file_is_not_found_after_the_period() {
    let dir = TempDir::new();
    let path = dir.write("gone.txt", b"here for now\n");
    let server = start(&dir.path, 16);
    assert_eq!(fetch(&server.url("/gone.txt"), &[]).status, 200);
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(PAST_VALID);
    assert_eq!(fetch(&server.url("/gone.txt"), &[]).status, 404);
    // And back again.
    dir.write("gone.txt", b"back\n");
    assert_eq!(fetch(&server.url("/gone.txt"), &[]).body, b"back\n");
}

#[test]
fn a_cached_path_that_became_a_symlink_out_is_refused_after_the_period() {
    const SECRET: &[u8] = b"TOP SECRET: outside the root\n";
    let base = TempDir::new();
    base.write("secret.txt", SECRET);
    base.write("outside/inner.txt", SECRET);
    let file = base.write("root/a.txt", b"public a\n");
    base.write("root/sub/inner.txt", b"public inner\n");
    let root = base.path.join("root");
    let server = start(&root, 16);
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"public a\n");
    assert_eq!(
        fetch(&server.url("/sub/inner.txt"), &[]).body,
        b"public inner\n"
    );
    // The file becomes a symlink to a file outside the root; the folder, one to a folder
    // outside it.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(base.path.join("secret.txt"), &file).unwrap();
    std::fs::rename(root.join("sub"), base.path.join("old_sub")).unwrap();
    std::os::unix::fs::symlink(base.path.join("outside"), root.join("sub")).unwrap();
    std::thread::sleep(PAST_VALID);
    for path in ["/a.txt", "/sub/inner.txt"] {
        let response = fetch(&server.url(path), &[]);
        assert_eq!(response.status, 403, "{path}");
        assert!(
            !response.body.windows(SECRET.len()).any(|w| w == SECRET),
            "{path} leaked the secret"
        );
    }
}

#[test]
fn a_cached_file_stays_hidden_and_confined() {
    let dir = TempDir::new();
    dir.write("a.txt", b"a\n");
    dir.write(".env", b"TOKEN=1\n");
    let server = start(&dir.path, 16);
    assert_eq!(fetch(&server.url("/a.txt"), &[]).status, 200);
    // What the path's text must pass is checked on every request, hits too.
    for _ in 0..3 {
        assert_eq!(fetch(&server.url("/.env"), &[]).status, 404);
        assert_eq!(
            fetch(&server.url("/x/../a.txt"), &["--path-as-is"]).status,
            403
        );
        assert_eq!(fetch(&server.url("/a.txt"), &[]).status, 200);
    }
}

#[test]
fn more_files_than_the_cache_holds_are_all_served() {
    let dir = TempDir::new();
    for i in 0..40 {
        dir.write(
            &format!("f{i}.txt"),
            format!("file number {i}\n").as_bytes(),
        );
    }
    let server = start(&dir.path, 4);
    for round in 0..3 {
        let mut stream = connect(server.addr);
        for i in 0..40 {
            let request = format!("GET /f{i}.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            stream.write_all(request.as_bytes()).unwrap();
            let response = read_one_response(&mut stream);
            assert_eq!(response.status, 200, "round {round}, f{i}.txt");
            assert_eq!(
                response.body,
                format!("file number {i}\n").as_bytes(),
                "round {round}"
            );
        }
    }
}

#[test]
fn without_the_cache_a_change_is_served_at_once() {
    let dir = TempDir::new();
    let path = dir.write("a.txt", b"first\n");
    let server = Server::start_with(&dir.path, |config| config.open_file_cache = 0, runtime());
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"first\n");
    replace(&path, b"second\n");
    assert_eq!(fetch(&server.url("/a.txt"), &[]).body, b"second\n");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(fetch(&server.url("/a.txt"), &[]).status, 404);
}

/// A large file (sent with `sendfile` after a head that states its length) is `fstat`ed again
/// on a hit: written in place within the period, it is sent whole at its new length, shorter
/// or longer, never cut short at the old one.
#[test]
fn a_large_file_written_in_place_is_sent_at_its_new_length() {
    let dir = TempDir::new();
    let path = dir.write("big.bin", &crate::harness::pattern(200_000));
    // The default period (1 s): the requests below are hits.
    let server = Server::start(&dir.path);
    assert_eq!(fetch(&server.url("/big.bin"), &[]).body.len(), 200_000);
    for len in [300_000, 100_000] {
        let bytes = crate::harness::pattern(len);
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all(&bytes).unwrap();
        file.set_len(len as u64).unwrap();
        drop(file);
        let response = fetch(&server.url("/big.bin"), &[]);
        assert_eq!(response.status, 200);
        assert_eq!(response.body.len(), len);
        assert!(response.body == bytes, "the bytes written");
    }
}
