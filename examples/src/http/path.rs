//! From a request target to a file under the root, refusing every way out of it.
//!
//! Two steps, each a wall of its own:
//!
//! 1. [`relative_path`] works on the text of the target: it splits the path on `/` *before*
//!    percent-decoding, so an encoded slash (`%2f`) cannot make a new segment, and refuses any
//!    segment that decodes to `..`, contains a `/` or a `\`, or holds `%00`. What is left is a
//!    relative path of plain names: joined to the root, it cannot climb out of it lexically.
//! 2. [`confine`] works on the file system: it canonicalizes the joined path (following every
//!    symlink) and checks that the result still lies under the canonical root, so a symlink
//!    that points outside is refused too. Unless hidden files are shown
//!    ([`Config::show_hidden`](super::Config::show_hidden)), a name that starts with `.`, in
//!    the path asked for or in the path it resolves to, is not found.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use super::response::Status;

/// Percent-decodes one path segment.
///
/// # Errors
///
/// `400 Bad Request` for a malformed escape (`%zz`, a lone `%`), `%00`, or bytes that are not
/// UTF-8.
pub(crate) fn percent_decode(segment: &str) -> Result<String, Status> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(Status::BadRequest)?;
            let value = (hex_value(hex[0]).ok_or(Status::BadRequest)? << 4)
                | hex_value(hex[1]).ok_or(Status::BadRequest)?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return Err(Status::BadRequest);
    }
    String::from_utf8(out).map_err(|_| Status::BadRequest)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// The path of a request target, as a relative path of plain names, and whether the target
/// ended with `/`.
///
/// The query (`?...`) is ignored. Empty and `.` segments are skipped, so `//etc/passwd` names
/// `etc/passwd` under the root, never `/etc/passwd`.
///
/// # Errors
///
/// - `400 Bad Request`: a target that is not a path starting with `/` (`*`, a scheme other
///   than `http` and `https`: the request parser has already turned `http://host/path` into
///   `/path`), or a bad escape (see [`percent_decode`]).
/// - `403 Forbidden`: a `..` segment (plain or encoded), an encoded `/`, or a `\`.
pub(crate) fn relative_path(target: &str) -> Result<(PathBuf, bool), Status> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Err(Status::BadRequest);
    }
    let mut relative = PathBuf::new();
    for raw in path.split('/') {
        let segment = percent_decode(raw)?;
        match segment.as_str() {
            "" | "." => continue,
            ".." => return Err(Status::Forbidden),
            _ if segment.contains(['/', '\\']) => return Err(Status::Forbidden),
            _ => relative.push(segment),
        }
    }
    Ok((relative, path.ends_with('/')))
}

/// Canonicalizes `root.join(relative)` and checks that it is still under `root` (which must be
/// canonical), and, unless `show_hidden`, that no name of it (as asked for, or as resolved
/// through symlinks) starts with `.`. Blocking (an `lstat` per name, or a `canonicalize` when
/// the path holds a symlink): fast when the kernel caches the path, see
/// [`Config::open_on_worker`](super::Config::open_on_worker).
///
/// `relative` may also be an absolute path under the root (a folder's entry, for a listing).
///
/// # Errors
///
/// `404 Not Found` if nothing is there or a name is hidden, `403 Forbidden` if the path
/// resolves outside the root or may not be read, `500` for any other error of the file system.
pub(crate) fn confine(root: &Path, relative: &Path, show_hidden: bool) -> Result<PathBuf, Status> {
    let asked = relative.strip_prefix(root).unwrap_or(relative);
    if !show_hidden && has_hidden_name(asked) {
        return Err(Status::NotFound);
    }
    if let Some(plain) = without_links(root, asked, true)? {
        return Ok(plain);
    }
    let canonical = std::fs::canonicalize(root.join(relative)).map_err(status_of)?;
    let Ok(inside) = canonical.strip_prefix(root) else {
        return Err(Status::Forbidden);
    };
    if !show_hidden && has_hidden_name(inside) {
        return Err(Status::NotFound);
    }
    Ok(canonical)
}

/// [`confine`], and the file there opened for reading: its canonical path, the file and its
/// metadata (`fstat`).
///
/// When no name before the last is a symlink (an `lstat` each), the last is opened with
/// `O_NOFOLLOW`, which refuses a symlink (`ELOOP`) instead of an `lstat` of its own: a file
/// right under the root costs an `open` and an `fstat`, as in nginx. A symlink anywhere sends
/// the path through [`confine`]'s `canonicalize`. The open is `O_NONBLOCK`, so that opening a
/// FIFO does not wait for a writer.
///
/// # Errors
///
/// As [`confine`]'s, and the open's (`404` for a name under a file, ...).
pub(crate) fn confine_open(
    root: &Path,
    relative: &Path,
    show_hidden: bool,
) -> Result<(PathBuf, File, Metadata), Status> {
    let asked = relative.strip_prefix(root).unwrap_or(relative);
    if !show_hidden && has_hidden_name(asked) {
        return Err(Status::NotFound);
    }
    if let Some(plain) = without_links(root, asked, false)? {
        match open(&plain, libc::O_NOFOLLOW) {
            Ok((file, metadata)) => return Ok((plain, file, metadata)),
            // The last name is a symlink: the long way.
            Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {}
            Err(error) => return Err(status_of(error)),
        }
    }
    let canonical = confine(root, relative, show_hidden)?;
    let (file, metadata) = open(&canonical, 0).map_err(status_of)?;
    Ok((canonical, file, metadata))
}

/// Opens `path` for reading, `O_NONBLOCK` and `flags`, and `fstat`s it. Out of file
/// descriptors (`EMFILE`, `ENFILE`), it drops this thread's open-file cache and tries once more.
fn open(path: &Path, flags: i32) -> io::Result<(File, Metadata)> {
    let open = || {
        super::cache::count_open();
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | flags)
            .open(path)
    };
    let file = match open() {
        Err(error)
            if matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                && super::cache::relieve() > 0 =>
        {
            open()?
        }
        opened => opened?,
    };
    let metadata = file.metadata()?;
    Ok((file, metadata))
}

/// `root.join(asked)` if no name along it is a symlink (each is checked with `lstat`, the last
/// one only if `check_last`): then that path is canonical already, and [`confine`] is spared
/// `canonicalize`, which reads every name of the root's own path too (a `readlink` each).
/// `None` if `asked` holds a symlink, or anything but plain names.
fn without_links(root: &Path, asked: &Path, check_last: bool) -> Result<Option<PathBuf>, Status> {
    let mut path = root.to_path_buf();
    let mut parts = asked.components().peekable();
    while let Some(part) = parts.next() {
        let Component::Normal(name) = part else {
            return Ok(None);
        };
        path.push(name);
        if (check_last || parts.peek().is_some())
            && std::fs::symlink_metadata(&path)
                .map_err(status_of)?
                .file_type()
                .is_symlink()
        {
            return Ok(None);
        }
    }
    Ok(Some(path))
}

/// Whether a name in `path` starts with `.` (a hidden file or folder, such as `.git`).
pub(crate) fn has_hidden_name(path: &Path) -> bool {
    path.components().any(|part| match part {
        Component::Normal(name) => name.as_encoded_bytes().first() == Some(&b'.'),
        _ => false,
    })
}

/// The status that answers a file-system error.
pub(crate) fn status_of(error: io::Error) -> Status {
    match error.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Status::NotFound,
        io::ErrorKind::PermissionDenied => Status::Forbidden,
        _ => Status::InternalServerError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_become_relative_names() {
        let (path, slash) = relative_path("/a/b%20c.txt?x=1").unwrap();
        assert_eq!(path, PathBuf::from("a/b c.txt"));
        assert!(!slash);
        assert_eq!(relative_path("/").unwrap(), (PathBuf::new(), true));
        assert_eq!(
            relative_path("//etc/./passwd").unwrap().0,
            PathBuf::from("etc/passwd")
        );
    }

    #[test]
    fn every_escape_is_refused() {
        for target in ["/../x", "/a/../../x", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x"] {
            assert_eq!(relative_path(target), Err(Status::Forbidden), "{target}");
        }
        for target in ["/%2fetc%2fpasswd", "/a%2F..%2F..%2Fx", "/a\\..\\x", "/%5c"] {
            assert_eq!(relative_path(target), Err(Status::Forbidden), "{target}");
        }
    }

    #[test]
    fn hidden_names_start_with_a_dot() {
        assert!(has_hidden_name(Path::new(".git/config")));
        assert!(has_hidden_name(Path::new("a/.env")));
        assert!(!has_hidden_name(Path::new("a/b.txt")));
        assert!(!has_hidden_name(Path::new("")));
    }

    #[test]
    fn malformed_targets_are_bad_requests() {
        for target in [
            "/a%00b",
            "/%ff",
            "/%zz",
            "/abc%",
            "/abc%4",
            "x/y",
            "http://h/x",
            "*",
        ] {
            assert_eq!(relative_path(target), Err(Status::BadRequest), "{target}");
        }
    }
}
