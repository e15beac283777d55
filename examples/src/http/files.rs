//! Answering a `GET` or `HEAD`: find what the path names, then send it.
//!
//! Finding and opening the file ([`resolve`]: an `lstat` per name of the path, `open`,
//! `fstat`) happens on the worker's thread, as nginx does it, unless
//! [`Config::open_on_worker`] is off (then in one trip to the blocking pool). A body of at most
//! [`Config::chunk_size`] bytes is read with [`ebbtide_std::fs::read_range`] (from the page
//! cache without leaving the thread, when the bytes are there) and goes out with the head in one
//! write; a larger body is sent with `sendfile(2)` over plain TCP (no copy through user space;
//! over TLS a record at a time, see `transport`), so a connection never holds more of a file
//! than `chunk_size`. A folder
//! listing is read on the blocking pool.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ebbtide_std::io::{AsyncWriteExt, WriteAllError};
use ebbtide_std::time::timeout;

use super::cache::{self, OpenFile};
use super::config::Config;
use super::listing::{self, Entry};
use super::mime;
use super::path::{self, status_of};
use super::range::{self, ByteRange};
use super::request::{Method, Request};
use super::response::{self, ResponseHead, Status};
use super::transport::Transport;

/// What a request's path names.
#[derive(Debug)]
pub(super) enum Target {
    /// A regular file, open (shared with the open-file cache, see the `cache` module).
    File(Arc<OpenFile>),
    /// A folder's `index.html`, open: served as a file, but not cached (a folder's entry would
    /// have to keep the trailing-slash redirect apart).
    Index(Arc<OpenFile>),
    /// A folder without an `index.html`, to list (this folder, reached as this relative path).
    List(PathBuf, PathBuf),
    /// A folder asked for without its trailing slash: the client is sent to the URL with it
    /// (this `Location`, see [`slash_location`]), so that the relative links of its page work.
    AddSlash(String),
}

/// Finds what `relative` names under the root, and opens it. Blocking, but fast when the
/// kernel caches the path (see [`Config::open_on_worker`]).
fn resolve(config: &Config, relative: &Path, trailing_slash: bool) -> Result<Target, Status> {
    let root = config.root();
    let (mut found, mut file, mut metadata) =
        path::confine_open(root, relative, config.show_hidden)?;
    let mut index_of_folder = false;
    if metadata.is_dir() {
        if !trailing_slash && !relative.as_os_str().is_empty() {
            return Ok(Target::AddSlash(slash_location(relative)));
        }
        match path::confine_open(root, &relative.join("index.html"), config.show_hidden) {
            Ok((index, index_file, index_metadata)) => {
                if index_metadata.is_dir() {
                    return Ok(Target::List(found, relative.to_path_buf()));
                }
                (found, file, metadata) = (index, index_file, index_metadata);
                index_of_folder = true;
            }
            Err(Status::NotFound) => {
                return Ok(Target::List(found, relative.to_path_buf()));
            }
            Err(status) => return Err(status),
        }
    }
    // Pipes, sockets and devices are not served.
    if !metadata.is_file() {
        return Err(Status::Forbidden);
    }
    let open = Arc::new(OpenFile {
        file: Arc::new(file),
        path: found,
        len: metadata.len(),
        modified: metadata.modified().ok(),
        last_modified: metadata.modified().ok().map(httpdate::fmt_http_date),
        opened: Instant::now(),
    });
    Ok(if index_of_folder {
        Target::Index(open)
    } else {
        Target::File(open)
    })
}

/// [`resolve`] on this thread, through the open-file cache (see the `cache` module): a regular
/// file named by `relative` itself comes from this thread's cache while its entry is valid,
/// and is cached when opened. What a path's text must pass ([`path::relative_path`], made by
/// the caller, and the hidden names) is checked on every request, hit or miss.
pub(super) fn find(
    config: &Config,
    relative: PathBuf,
    trailing_slash: bool,
) -> Result<Target, Status> {
    if !config.show_hidden && path::has_hidden_name(&relative) {
        return Err(Status::NotFound);
    }
    if let Some(open) = cache::lookup(config, &relative) {
        return Ok(Target::File(refresh(config, open)));
    }
    let target = resolve(config, &relative, trailing_slash);
    remember(config, relative, &target);
    target
}

/// A cached file as it is now, if it is large: a body of more than [`Config::chunk_size`] is
/// sent with `sendfile(2)` after a head that states its length, so its length and time are
/// read again (an `fstat`, next to the send of at least 64 KiB): a large file written in place
/// is sent whole at its new length, not cut at its old one. A small one is read whole before
/// its head is made, so a shrunk file is sent as read (see [`answer_file`]).
fn refresh(config: &Config, open: Arc<OpenFile>) -> Arc<OpenFile> {
    if open.len <= config.chunk_size as u64 {
        return open;
    }
    match open.file.metadata() {
        Ok(now) if now.len() != open.len || now.modified().ok() != open.modified => {
            Arc::new(OpenFile {
                file: Arc::clone(&open.file),
                path: open.path.clone(),
                len: now.len(),
                modified: now.modified().ok(),
                last_modified: now.modified().ok().map(httpdate::fmt_http_date),
                opened: open.opened,
            })
        }
        _ => open,
    }
}

/// Caches `target` if it is a regular file named by `relative` itself (not a folder's
/// [`Target::Index`]).
fn remember(config: &Config, relative: PathBuf, target: &Result<Target, Status>) {
    if let Ok(Target::File(open)) = target {
        cache::insert(config, relative, Arc::clone(open));
    }
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
    stream: &mut Transport,
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
    let target = if config.open_on_worker {
        find(config, relative, trailing_slash)
    } else if let Some(open) = (config.show_hidden || !path::has_hidden_name(&relative))
        .then(|| cache::lookup(config, &relative))
        .flatten()
    {
        Ok(Target::File(refresh(config, open)))
    } else {
        // Opened on the pool, cached on the worker (in whichever worker the task is on then).
        let (job_config, job_relative) = (Arc::clone(config), relative.clone());
        let target = ebbtide_std::spawn_blocking(move || {
            resolve(&job_config, &job_relative, trailing_slash)
        })
        .await
        .unwrap_or(Err(Status::InternalServerError));
        remember(config, relative, &target);
        target
    };
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
        Ok(Target::List(dir, relative)) => {
            // A listing reads the whole folder: always on the pool.
            let job_config = Arc::clone(config);
            let page = ebbtide_std::spawn_blocking(move || list(&job_config, &dir, &relative))
                .await
                .unwrap_or(Err(Status::InternalServerError));
            let page = match page {
                Ok(page) => page,
                Err(status) => {
                    let bytes = response::error(status, keep_alive, head_only);
                    send(stream, config, &bytes).await?;
                    return Ok(keep_alive);
                }
            };
            let mut bytes = ResponseHead::new(Status::Ok)
                .header("Content-Type", "text/html; charset=utf-8")
                .finish(Some(page.len() as u64), keep_alive);
            if !head_only {
                bytes.extend_from_slice(page.as_bytes());
            }
            send(stream, config, &bytes).await?;
        }
        Ok(Target::File(open) | Target::Index(open)) => {
            answer_file(stream, config, request, keep_alive, &open).await?;
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

/// Answers with the file: `304` if unchanged since `If-Modified-Since`, `206` or `416` for a
/// `Range`, `200` otherwise.
async fn answer_file(
    stream: &mut Transport,
    config: &Config,
    request: &Request,
    keep_alive: bool,
    open: &OpenFile,
) -> io::Result<()> {
    let (file, path, len, modified) = (&open.file, &open.path, open.len, open.modified);
    let last_modified = &open.last_modified;
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
    let mut len = len;
    let mut byte_range = match &request.range {
        Some(header) => range::parse(header, len),
        None => ByteRange::Full,
    };
    // `If-Range` with a date other than the file's: the client's copy is stale, send it all.
    if request.if_range.is_some() && request.if_range != *last_modified {
        byte_range = ByteRange::Full;
    }
    let (status, start, mut count) = match byte_range {
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
    let head_only = request.method == Method::Head;
    // A small body is read first, so that it goes out with the head in one write.
    let small = if !head_only && count <= config.chunk_size as u64 {
        let bytes = ebbtide_std::fs::read_range(file, start, count as usize).await?;
        if (bytes.len() as u64) < count {
            if status != Status::Ok {
                // The range asked for is no longer there: nothing honest to answer.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank before its range was read",
                ));
            }
            // The file shrank since its `fstat`: it is sent as it was read, the length goes
            // with the bytes.
            count = bytes.len() as u64;
            len = count;
        }
        Some(bytes)
    } else {
        None
    };
    let mut head = ResponseHead::new(status)
        .header("Content-Type", mime::content_type(path))
        .header("Accept-Ranges", "bytes");
    if let Some(date) = last_modified {
        head = head.header("Last-Modified", date);
    }
    if status == Status::PartialContent {
        let end = start + count - 1;
        head = head.header("Content-Range", format_args!("bytes {start}-{end}/{len}"));
    }
    let mut head = head.finish(Some(count), keep_alive);
    if head_only {
        return send(stream, config, &head).await;
    }
    match small {
        Some(bytes) => {
            head.extend_from_slice(&bytes);
            send(stream, config, &head).await
        }
        None => {
            // The head goes with the body's first bytes ([`Transport::send_file_with_header`]),
            // in a first step of at most `FIRST_STEP` bytes of the file, within the write timeout.
            let first = count.min(FIRST_STEP);
            match timeout(
                config.write_timeout,
                stream.send_file_with_header(&head, file, start, first),
            )
            .await
            {
                Ok(Ok(sent)) if sent == first => {}
                Ok(Ok(_)) => return Err(shrank()),
                Ok(Err(error)) => return Err(error),
                Err(_elapsed) => return Err(stopped_reading()),
            }
            send_file(stream, config, file, start + first, count - first).await
        }
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

/// Sends `count` bytes of `file` from `start` ([`Transport::poll_send_file`]), each step within
/// the write timeout.
async fn send_file(
    stream: &mut Transport,
    config: &Config,
    file: &std::fs::File,
    start: u64,
    count: u64,
) -> io::Result<()> {
    let mut sent = 0;
    while sent < count {
        // One step at a time, so that the timeout is for a client that stops reading, not for
        // a large file on a slow link.
        let step =
            std::future::poll_fn(|cx| stream.poll_send_file(cx, file, start + sent, count - sent));
        match timeout(config.write_timeout, step).await {
            Ok(Ok(0)) => return Err(shrank()),
            Ok(Ok(n)) => sent += n as u64,
            Ok(Err(error)) => return Err(error),
            Err(_elapsed) => return Err(stopped_reading()),
        }
    }
    Ok(())
}

/// How many bytes of a large body go in the first step, with the head (within one write
/// timeout): later bytes each have a timeout of their own for every step the socket takes.
const FIRST_STEP: u64 = 1024 * 1024;

fn shrank() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file shrank while it was being sent",
    )
}

fn stopped_reading() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")
}

/// Writes all of `bytes`, within the write timeout.
pub(crate) async fn send(stream: &mut Transport, config: &Config, bytes: &[u8]) -> io::Result<()> {
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
