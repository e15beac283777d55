//! **For the fuzz targets in `fuzz/` only; not a stable API.** Built only with the `fuzzing`
//! feature.
//!
//! The file server's parsers are private modules; this exposes them as they are, with plain
//! types (status codes as numbers) so that a fuzz target can call them and check what they
//! return. Nothing here is used by the server itself.

use std::path::{Path, PathBuf};

use super::{path, range, request};

/// A request head as [`parse_request`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `"GET"`, `"HEAD"` or `"OTHER"` (anything else, answered `405`).
    pub method: &'static str,
    /// The target as the path check sees it (origin form, still percent-encoded).
    pub target: String,
    /// Whether the connection may stay open afterwards.
    pub keep_alive: bool,
    /// The `Range` header.
    pub range: Option<String>,
    /// The `If-Range` header.
    pub if_range: Option<String>,
    /// The `If-Modified-Since` header.
    pub if_modified_since: Option<String>,
    /// The body's framing.
    pub body: Body,
    /// `Expect: 100-continue` in HTTP/1.1.
    pub expect_continue: bool,
    /// The length of the head in the buffer: the next request (or the body) starts there.
    pub head_len: usize,
}

/// How a request's body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The server's request parser (`request::parse`): `Ok(None)` for an incomplete head, `Err`
/// with the status code it answers a refused head with.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request>, u16> {
    let (parsed, head_len) = match request::parse(buf) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(status) => return Err(status.code()),
    };
    Ok(Some(Request {
        method: match parsed.method {
            request::Method::Get => "GET",
            request::Method::Head => "HEAD",
            request::Method::Other => "OTHER",
        },
        target: parsed.target,
        keep_alive: parsed.keep_alive,
        range: parsed.range,
        if_range: parsed.if_range,
        if_modified_since: parsed.if_modified_since,
        body: match parsed.body {
            request::Body::None => Body::None,
            request::Body::Length(n) => Body::Length(n),
            request::Body::Chunked => Body::Chunked,
        },
        expect_continue: parsed.expect_continue,
        head_len,
    }))
}

/// What a `Range` header asks of a file (`range::parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// The whole file.
    Full,
    /// Bytes `start..=end`.
    Part {
        /// The first byte.
        start: u64,
        /// The last byte.
        end: u64,
    },
    /// `416`.
    Unsatisfiable,
}

/// The server's `Range` parser against a file of `len` bytes.
pub fn byte_range(header: &str, len: u64) -> ByteRange {
    match range::parse(header, len) {
        range::ByteRange::Full => ByteRange::Full,
        range::ByteRange::Part { start, end } => ByteRange::Part { start, end },
        range::ByteRange::Unsatisfiable => ByteRange::Unsatisfiable,
    }
}

/// The first step of path resolution (`path::relative_path`): the target's path as relative
/// names, and whether it ended with `/`; `Err` with the status code.
pub fn relative_path(target: &str) -> Result<(PathBuf, bool), u16> {
    path::relative_path(target).map_err(|status| status.code())
}

/// The second step (`path::confine`): `root` must be canonical. Blocking.
pub fn confine(root: &Path, relative: &Path, show_hidden: bool) -> Result<PathBuf, u16> {
    path::confine(root, relative, show_hidden).map_err(|status| status.code())
}

/// Whether a name of `path` starts with `.` (`path::has_hidden_name`).
pub fn has_hidden_name(path: &Path) -> bool {
    path::has_hidden_name(path)
}
