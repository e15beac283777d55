//! Answering a `GET` or `HEAD`: find what the path names, then send it.
//!
//! Everything that touches the file system before the body (canonicalizing, `stat`, opening,
//! listing a folder) happens in one [`resolve`] call on the blocking pool, which also reads a
//! file of at most [`Config::chunk_size`] bytes whole for a `GET`: a small file costs one trip
//! to the pool. A larger body is streamed through one buffer of `chunk_size` bytes, read with
//! [`ebbtide_std::fs::File`], so a connection never holds more of a file than that.

use std::io::{self, Read, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ebbtide_std::io::{AsyncWriteExt, WriteAllError};
use ebbtide_std::net::TcpStream;
use ebbtide_std::time::timeout;

use super::config::Config;
use super::listing::{self, Entry};
use super::mime;
use super::path::{self, status_of};
use super::range::{self, ByteRange};
use super::request::{Method, Request};
use super::response::{self, ResponseHead, Status};

/// What a request's path names.
enum Target {
    /// A regular file, open, and its bytes if it was small enough to read at once (see
    /// [`resolve`]).
    File {
        file: std::fs::File,
        path: PathBuf,
        len: u64,
        modified: Option<SystemTime>,
        body: Option<Vec<u8>>,
    },
    /// A folder without an `index.html`: its listing page.
    Listing(String),
    /// A folder asked for without its trailing slash: the client is sent to the URL with it
    /// (this `Location`, see [`slash_location`]), so that the relative links of its page work.
    AddSlash(String),
}

/// Finds what `relative` names under the root. Blocking: runs on the blocking pool.
///
/// With `read_small`, a file of at most [`Config::chunk_size`] bytes is read here too, whole:
/// one trip to the blocking pool per request instead of one to find and open the file and
/// another to read it.
fn resolve(
    config: &Config,
    relative: &Path,
    trailing_slash: bool,
    read_small: bool,
) -> Result<Target, Status> {
    let root = config.root();
    let mut found = path::confine(root, relative, config.show_hidden)?;
    let mut metadata = std::fs::metadata(&found).map_err(status_of)?;
    if metadata.is_dir() {
        if !trailing_slash && !relative.as_os_str().is_empty() {
            return Ok(Target::AddSlash(slash_location(relative)));
        }
        let index = found.join("index.html");
        if index.is_file() {
            found = path::confine(root, &relative.join("index.html"), config.show_hidden)?;
            metadata = std::fs::metadata(&found).map_err(status_of)?;
        } else {
            return list(config, &found, relative).map(Target::Listing);
        }
    }
    // Pipes, sockets and devices are not served (opening a FIFO would even block).
    if !metadata.is_file() {
        return Err(Status::Forbidden);
    }
    let mut file = std::fs::File::open(&found).map_err(status_of)?;
    let metadata = file.metadata().map_err(status_of)?;
    let mut len = metadata.len();
    let mut body = None;
    if read_small && len <= config.chunk_size as u64 {
        let mut bytes = Vec::with_capacity(len as usize);
        (&mut file)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(status_of)?;
        // A file that shrank meanwhile is sent as it was read: the length goes with the bytes.
        len = bytes.len() as u64;
        body = Some(bytes);
    }
    Ok(Target::File {
        file,
        path: found,
        len,
        modified: metadata.modified().ok(),
        body,
    })
}

/// The listing page of the folder `dir`, reached as `relative`.
fn list(config: &Config, dir: &Path, relative: &Path) -> Result<String, Status> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(status_of)? {
        let entry = entry.map_err(status_of)?;
        // A name that is not UTF-8 could not be asked for (such paths are refused): skip it.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !config.show_hidden && name.starts_with('.') {
            continue;
        }
        let metadata = if entry.file_type().is_ok_and(|kind| kind.is_symlink()) {
            // Only what a GET would serve: a link that leads outside the root, to a hidden
            // name, or nowhere, is left out, and nothing about its target is shown.
            match path::confine(config.root(), &entry.path(), config.show_hidden) {
                Ok(target) => std::fs::metadata(target).ok(),
                Err(_) => continue,
            }
        } else {
            entry.metadata().ok()
        };
        entries.push(Entry {
            name,
            is_dir: metadata.as_ref().is_some_and(|m| m.is_dir()),
            size: metadata.as_ref().map_or(0, |m| m.len()),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let more = entries.len().saturating_sub(config.max_listing_entries);
    entries.truncate(config.max_listing_entries);
    let mut url_path = String::from("/");
    for part in relative.iter() {
        url_path.push_str(&part.to_string_lossy());
        url_path.push('/');
    }
    Ok(listing::render(&url_path, &entries, more))
}

/// Answers a `GET` or `HEAD` for `request`. Returns whether the connection may serve another
/// request (`keep_alive` is what the client and the limits allow).
///
/// # Errors
///
/// A failed or timed-out write, or a file that failed (or shrank) while its body was being
/// sent: the connection must be closed, since the response is cut short.
pub(crate) async fn answer(
    stream: &mut TcpStream,
    config: &Arc<Config>,
    request: &Request,
    keep_alive: bool,
) -> io::Result<bool> {
    let head_only = request.method == Method::Head;
    let (relative, trailing_slash) = match path::relative_path(&request.target) {
        Ok(found) => found,
        Err(status) => {
            let keep = keep_alive && status != Status::BadRequest;
            send(stream, config, &response::error(status, keep, head_only)).await?;
            return Ok(keep);
        }
    };
    // A small file's bytes come in the same trip, unless they are likely not needed: for
    // `HEAD`, or a conditional request that may well be answered `304`.
    let read_small = request.method == Method::Get && request.if_modified_since.is_none();
    let job_config = Arc::clone(config);
    let target = ebbtide_std::spawn_blocking(move || {
        resolve(&job_config, &relative, trailing_slash, read_small)
    })
    .await
    .unwrap_or(Err(Status::InternalServerError));
    match target {
        Err(status) => {
            send(
                stream,
                config,
                &response::error(status, keep_alive, head_only),
            )
            .await?;
        }
        Ok(Target::AddSlash(location)) => {
            let head = ResponseHead::new(Status::MovedPermanently)
                .header("Location", location)
                .finish(Some(0), keep_alive);
            send(stream, config, &head).await?;
        }
        Ok(Target::Listing(page)) => {
            let mut bytes = ResponseHead::new(Status::Ok)
                .header("Content-Type", "text/html; charset=utf-8")
                .finish(Some(page.len() as u64), keep_alive);
            if !head_only {
                bytes.extend_from_slice(page.as_bytes());
            }
            send(stream, config, &bytes).await?;
        }
        Ok(Target::File {
            file,
            path,
            len,
            modified,
            body,
        }) => {
            let body = match body {
                Some(bytes) => Body::Read(bytes),
                None => Body::Open(file),
            };
            answer_file(
                stream, config, request, keep_alive, body, &path, len, modified,
            )
            .await?;
        }
    }
    Ok(keep_alive)
}

/// The `Location` of a redirect to the folder `relative` with its trailing slash: rebuilt from
/// the path's names (each percent-encoded), with a single leading `/`. Never the target as the
/// client sent it: `//example.com` would come back as `//example.com/`, which a browser reads as
/// another host (an open redirect).
fn slash_location(relative: &Path) -> String {
    let mut location = String::from("/");
    for part in relative.iter() {
        location.push_str(&listing::percent_encode(&part.to_string_lossy()));
        location.push('/');
    }
    location
}

/// A file's bytes to send: already read (a small file, see [`resolve`]), or to stream.
enum Body {
    Read(Vec<u8>),
    Open(std::fs::File),
}

/// Answers with the file: `304` if unchanged since `If-Modified-Since`, `206` or `416` for a
/// `Range`, `200` otherwise.
#[allow(clippy::too_many_arguments)]
async fn answer_file(
    stream: &mut TcpStream,
    config: &Config,
    request: &Request,
    keep_alive: bool,
    body: Body,
    path: &Path,
    len: u64,
    modified: Option<SystemTime>,
) -> io::Result<()> {
    let last_modified = modified.map(httpdate::fmt_http_date);
    if let (Some(modified), Some(since)) = (modified, request.if_modified_since.as_deref()) {
        if not_modified_since(modified, since) {
            let head = ResponseHead::new(Status::NotModified)
                .header(
                    "Last-Modified",
                    last_modified.as_deref().unwrap_or_default(),
                )
                .finish(None, keep_alive);
            return send(stream, config, &head).await;
        }
    }
    let mut byte_range = match &request.range {
        Some(header) => range::parse(header, len),
        None => ByteRange::Full,
    };
    // `If-Range` with a date other than the file's: the client's copy is stale, send it all.
    if request.if_range.is_some() && request.if_range != last_modified {
        byte_range = ByteRange::Full;
    }
    let (status, start, count) = match byte_range {
        ByteRange::Full => (Status::Ok, 0, len),
        ByteRange::Part { start, end } => (Status::PartialContent, start, end - start + 1),
        ByteRange::Unsatisfiable => {
            let body = format!("{}\n", Status::RangeNotSatisfiable);
            let mut bytes = ResponseHead::new(Status::RangeNotSatisfiable)
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("Content-Range", format_args!("bytes */{len}"))
                .finish(Some(body.len() as u64), keep_alive);
            if request.method != Method::Head {
                bytes.extend_from_slice(body.as_bytes());
            }
            return send(stream, config, &bytes).await;
        }
    };
    let mut head = ResponseHead::new(status)
        .header("Content-Type", mime::content_type(path))
        .header("Accept-Ranges", "bytes");
    if let Some(date) = &last_modified {
        head = head.header("Last-Modified", date);
    }
    if status == Status::PartialContent {
        let end = start + count - 1;
        head = head.header("Content-Range", format_args!("bytes {start}-{end}/{len}"));
    }
    let head = head.finish(Some(count), keep_alive);
    if request.method == Method::Head {
        return send(stream, config, &head).await;
    }
    match body {
        Body::Read(bytes) => {
            // `start + count <= len`, the length of `bytes`.
            let mut out = head;
            out.extend_from_slice(&bytes[start as usize..(start + count) as usize]);
            send(stream, config, &out).await
        }
        Body::Open(file) => stream_file(stream, config, head, file, start, count).await,
    }
}

/// Whether a file last modified at `modified` is unchanged since the HTTP-date `since`. An
/// unreadable date means "changed".
fn not_modified_since(modified: SystemTime, since: &str) -> bool {
    let Ok(since) = httpdate::parse_http_date(since) else {
        return false;
    };
    // HTTP dates have whole seconds: compare at that precision.
    let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    seconds(modified) <= seconds(since)
}

/// Sends `head`, then `count` bytes of `file` from `start`, through one buffer of at most
/// `config.chunk_size` bytes (the head shares the first write).
async fn stream_file(
    stream: &mut TcpStream,
    config: &Config,
    head: Vec<u8>,
    file: std::fs::File,
    start: u64,
    count: u64,
) -> io::Result<()> {
    let mut file = ebbtide_std::fs::File::from_std(file);
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    let chunk = config.chunk_size.max(1);
    let mut out = head;
    let mut left = count;
    loop {
        let want = chunk.min(usize::try_from(left).unwrap_or(usize::MAX));
        let mut filled = out.len();
        out.resize(filled + want, 0);
        while filled < out.len() {
            let n = file.read(&mut out[filled..]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being sent",
                ));
            }
            filled += n;
        }
        send(stream, config, &out).await?;
        left -= want as u64;
        if left == 0 {
            return Ok(());
        }
        out.clear();
    }
}

/// Writes all of `bytes`, within the write timeout.
pub(crate) async fn send(stream: &mut TcpStream, config: &Config, bytes: &[u8]) -> io::Result<()> {
    match timeout(config.write_timeout, stream.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(WriteAllError::Other(error))) => Err(error),
        Ok(Err(WriteAllError::WriteZero)) => Err(io::ErrorKind::WriteZero.into()),
        Err(_elapsed) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading",
        )),
    }
}
