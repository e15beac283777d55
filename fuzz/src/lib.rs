//! What the fuzz targets share: a temporary tree to serve, with every way out of it that the
//! path checks must refuse, and the marks that must never show in an answer.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The contents of a file outside the root, reached by symlinks from inside it.
pub const OUTSIDE_SECRET: &str = "SECRET-OUTSIDE-7f3a";
/// The name of the folder outside the root that holds it.
pub const OUTSIDE_DIR: &str = "zz-outside-7f3a";
/// The contents of the hidden files inside the root.
pub const HIDDEN_SECRET: &str = "SECRET-HIDDEN-c41e";
/// The name of a hidden file in the root.
pub const HIDDEN_NAME: &str = ".dot-secret";

/// The tree, made once per process under the temporary folder:
///
/// ```text
/// <base>/zz-outside-7f3a/secret.txt      OUTSIDE_SECRET
/// <base>/root/a.txt                      100 bytes
/// <base>/root/empty.txt                  0 bytes
/// <base>/root/sp ace.txt, %41.txt        odd names
/// <base>/root/sub/index.html             a folder with an index
/// <base>/root/dir2/b.txt                 a folder listed
/// <base>/root/example.com/x.txt          a folder named like a host (open redirect)
/// <base>/root/.dot-secret                HIDDEN_SECRET
/// <base>/root/.git/config                HIDDEN_SECRET
/// <base>/root/escape -> ../zz-outside-7f3a           (a folder outside)
/// <base>/root/escape-file -> ../zz-outside-7f3a/secret.txt
/// <base>/root/dir2/up -> ../../zz-outside-7f3a/secret.txt
/// <base>/root/abs -> <base>/zz-outside-7f3a          (absolute)
/// <base>/root/alias -> .dot-secret                   (a visible name for a hidden file)
/// <base>/root/inside -> a.txt                        (allowed)
/// <base>/root/loop -> loop, dangling -> nowhere
/// ```
///
/// Returns the canonical root.
pub fn tree() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| make_tree().expect("the fuzz tree can be made"))
}

fn make_tree() -> std::io::Result<PathBuf> {
    use std::fs;
    use std::os::unix::fs::symlink;

    // libFuzzer ends the process with `exit`, so no tree is ever removed by its own process:
    // remove those of processes that are gone.
    if let Ok(entries) = fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("ebbtide-fuzz-"));
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let base = std::env::temp_dir().join(format!("ebbtide-fuzz-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let outside = base.join(OUTSIDE_DIR);
    let root = base.join("root");
    fs::create_dir_all(&outside)?;
    fs::write(outside.join("secret.txt"), OUTSIDE_SECRET)?;
    fs::create_dir_all(root.join("sub"))?;
    fs::create_dir_all(root.join("dir2"))?;
    fs::create_dir_all(root.join("example.com"))?;
    fs::create_dir_all(root.join(".git"))?;
    let hundred: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
    fs::write(root.join("a.txt"), &hundred)?;
    fs::write(root.join("empty.txt"), b"")?;
    fs::write(root.join("sp ace.txt"), b"space")?;
    fs::write(root.join("%41.txt"), b"percent")?;
    fs::write(root.join("sub/index.html"), b"<p>index</p>")?;
    fs::write(root.join("dir2/b.txt"), b"b")?;
    fs::write(root.join("example.com/x.txt"), b"x")?;
    fs::write(root.join(HIDDEN_NAME), HIDDEN_SECRET)?;
    fs::write(root.join(".git/config"), HIDDEN_SECRET)?;
    symlink(format!("../{OUTSIDE_DIR}"), root.join("escape"))?;
    symlink(
        format!("../{OUTSIDE_DIR}/secret.txt"),
        root.join("escape-file"),
    )?;
    symlink(
        format!("../../{OUTSIDE_DIR}/secret.txt"),
        root.join("dir2/up"),
    )?;
    symlink(&outside, root.join("abs"))?;
    symlink(HIDDEN_NAME, root.join("alias"))?;
    symlink("a.txt", root.join("inside"))?;
    symlink("loop", root.join("loop"))?;
    symlink("nowhere", root.join("dangling"))?;
    fs::canonicalize(root)
}

/// Whether `haystack` holds `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Panics if `bytes` (an answer, a listing) shows anything from outside the root or hidden.
pub fn assert_nothing_leaks(bytes: &[u8]) {
    for mark in [
        OUTSIDE_SECRET,
        OUTSIDE_DIR,
        HIDDEN_SECRET,
        HIDDEN_NAME,
        "root:x:0:0",
    ] {
        assert!(
            !contains(bytes, mark.as_bytes()),
            "the answer shows {mark:?}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    // The folders around the root are never named either.
    let base = tree().parent().expect("the root has a parent");
    assert!(
        !contains(bytes, base.as_os_str().as_encoded_bytes()),
        "the answer names the root's parent: {}",
        String::from_utf8_lossy(bytes)
    );
}
