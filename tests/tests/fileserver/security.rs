//! Every way out of the root is refused: `..`, encoded dots and slashes, absolute paths,
//! backslashes, NUL, and symlinks that point outside.

use std::io::Write;

use crate::harness::{
    connect, exchange_until_close, fetch, parse_response, runtime, Server, TempDir,
};

const SECRET: &[u8] = b"TOP SECRET: outside the root\n";

/// `base/secret.txt` outside the root `base/root`, and symlinks in the root.
fn layout() -> (TempDir, std::path::PathBuf) {
    let base = TempDir::new();
    base.write("secret.txt", SECRET);
    base.write("root/public.txt", b"public\n");
    base.write("root/sub/inner.txt", b"inner\n");
    let root = base.path.join("root");
    std::os::unix::fs::symlink(base.path.join("secret.txt"), root.join("link_out")).unwrap();
    std::os::unix::fs::symlink(&base.path, root.join("dir_out")).unwrap();
    std::os::unix::fs::symlink(root.join("public.txt"), root.join("link_in")).unwrap();
    (base, root)
}

/// `curl --path-as-is` on `path`: the status, after checking the secret is not in the answer.
fn attempt(server: &Server, path: &str) -> u16 {
    let response = fetch(&server.url(path), &["--path-as-is"]);
    assert!(
        !response.body.windows(SECRET.len()).any(|w| w == SECRET),
        "{path} leaked the secret"
    );
    response.status
}

#[test]
fn dot_dot_segments_plain_and_encoded_are_forbidden() {
    let (_base, root) = layout();
    let server = Server::start(&root);
    for path in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
    ] {
        assert_eq!(attempt(&server, path), 403, "{path}");
    }
    // `..` that stays inside is refused too: the server never interprets it.
    assert_eq!(attempt(&server, "/sub/../public.txt"), 403);
}

#[test]
fn encoded_slashes_and_backslashes_are_forbidden() {
    let (_base, root) = layout();
    let server = Server::start(&root);
    for path in [
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/sub%2Finner.txt",
        "/%5c..%5csecret.txt",
    ] {
        assert_eq!(attempt(&server, path), 403, "{path}");
    }
    // Backslashes as such: sent by hand, since URL tools may rewrite them.
    for path in ["/..\\secret.txt", "/sub\\..\\..\\secret.txt"] {
        let mut stream = connect(server.addr);
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let raw = exchange_until_close(&mut stream, request.as_bytes());
        let response = parse_response(&raw);
        assert_eq!(response.status, 403, "{path}");
        let _ = stream.flush();
    }
}

#[test]
fn absolute_paths_stay_under_the_root() {
    let (base, root) = layout();
    let server = Server::start(&root);
    let secret = base.path.join("secret.txt");
    let secret = secret.to_str().unwrap();
    // `//tmp/.../secret.txt` names `tmp/.../secret.txt` under the root: not there.
    assert_eq!(attempt(&server, &format!("/{secret}")), 404);
    // `/%2Ftmp%2F...` would need an encoded slash.
    let encoded = secret.replace('/', "%2F");
    assert_eq!(attempt(&server, &format!("/{encoded}")), 403);
    // The absolute form of a target is not served.
    let mut stream = connect(server.addr);
    let request = format!("GET file://{secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let response = parse_response(&exchange_until_close(&mut stream, request.as_bytes()));
    assert_eq!(response.status, 400);
}

#[test]
fn nul_and_invalid_utf8_are_bad_requests() {
    let (_base, root) = layout();
    let server = Server::start(&root);
    for path in [
        "/public.txt%00.html",
        "/%00",
        "/%ff%fe",
        "/%c3%28",
        "/bad%zz",
        "/bad%",
    ] {
        assert_eq!(attempt(&server, path), 400, "{path}");
    }
}

#[test]
fn symlinks_out_of_the_root_are_forbidden_and_those_inside_served() {
    let (_base, root) = layout();
    let server = Server::start(&root);
    assert_eq!(attempt(&server, "/link_out"), 403);
    assert_eq!(attempt(&server, "/dir_out/secret.txt"), 403);
    assert_eq!(attempt(&server, "/dir_out/"), 403);
    let inside = fetch(&server.url("/link_in"), &[]);
    assert_eq!(inside.status, 200);
    assert_eq!(inside.body, b"public\n");
}

/// `GET //example.com` for a folder named `example.com` must not redirect to
/// `//example.com/`, which a browser reads as another host: the `Location` is rebuilt from
/// the path's names, with one leading slash.
#[test]
fn redirects_to_add_a_slash_stay_on_this_origin() {
    let dir = TempDir::new();
    dir.write("example.com/index.html", b"inside\n");
    dir.write("a b/x.txt", b"x");
    let server = Server::start(&dir.path);
    for (target, expected) in [
        ("//example.com", "/example.com/"),
        ("///example.com?x", "/example.com/"),
        ("/.//example.com", "/example.com/"),
        ("/example.com", "/example.com/"),
        ("//a%20b", "/a%20b/"),
    ] {
        let mut stream = connect(server.addr);
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = parse_response(&exchange_until_close(&mut stream, request.as_bytes()));
        assert_eq!(response.status, 301, "{target}");
        let location = response.header("location").unwrap();
        assert_eq!(location, expected, "{target}");
        assert!(!location.starts_with("//") && !location.contains('\\'));
    }
}

/// Names that start with `.` (`.git/config`, `.env`, ...) are neither served nor listed, unless
/// `Config::show_hidden` (`--hidden`) is set; nor through a symlink whose target is hidden.
#[test]
fn hidden_files_are_not_served_or_listed_by_default() {
    let dir = TempDir::new();
    dir.write(".git/config", b"[remote] secret\n");
    dir.write(".env", b"TOKEN=1\n");
    dir.write("sub/.hidden.txt", b"h\n");
    dir.write("visible.txt", b"v\n");
    std::os::unix::fs::symlink(dir.path.join(".env"), dir.path.join("env_link")).unwrap();
    let server = Server::start(&dir.path);
    for path in [
        "/.git/config",
        "/.git/",
        "/.git",
        "/.env",
        "/%2eenv",
        "/sub/.hidden.txt",
        "/env_link",
    ] {
        assert_eq!(attempt(&server, path), 404, "{path}");
    }
    let root = String::from_utf8(fetch(&server.url("/"), &[]).body).unwrap();
    assert!(root.contains("visible.txt"), "{root}");
    assert!(!root.contains(".git") && !root.contains(".env"), "{root}");
    assert!(!root.contains("env_link"), "{root}");
    let sub = String::from_utf8(fetch(&server.url("/sub/"), &[]).body).unwrap();
    assert!(!sub.contains(".hidden"), "{sub}");
    drop(server);

    let server = Server::start_with(&dir.path, |config| config.show_hidden = true, runtime());
    assert_eq!(fetch(&server.url("/.env"), &[]).body, b"TOKEN=1\n");
    assert_eq!(fetch(&server.url("/env_link"), &[]).body, b"TOKEN=1\n");
    let root = String::from_utf8(fetch(&server.url("/"), &[]).body).unwrap();
    assert!(root.contains(".git/") && root.contains(".env"), "{root}");
}

/// A listing shows nothing about a symlink whose target lies outside the root (its size or
/// type would tell about a file the server refuses to serve): such links are left out, as are
/// broken ones, which cannot be served either.
#[test]
fn a_listing_leaves_out_symlinks_that_lead_outside_the_root() {
    let (base, root) = layout();
    std::os::unix::fs::symlink(base.path.join("nowhere"), root.join("broken")).unwrap();
    let server = Server::start(&root);
    let page = String::from_utf8(fetch(&server.url("/"), &[]).body).unwrap();
    assert!(
        page.contains("public.txt") && page.contains("link_in"),
        "{page}"
    );
    assert!(page.contains("sub/"), "{page}");
    for name in ["link_out", "dir_out", "broken"] {
        assert!(!page.contains(name), "{name} listed: {page}");
    }
    assert!(
        !page.contains(&format!("({} bytes)", SECRET.len())),
        "{page}"
    );
}
