//! Reading a request head out of the connection's buffer, with `httparse`.
//!
//! Only what the server acts on is kept ([`Request`]); the head's bytes stay in the buffer and
//! are dropped once the request is answered.

use super::response::Status;

/// The most headers a request may have; more is answered `431`.
const MAX_HEADERS: usize = 64;

/// The request's method, as far as a file server cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    /// Anything else: answered `405 Method Not Allowed`.
    Other,
}

/// One parsed request head.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// The request target as sent (`/path?query`), still percent-encoded.
    pub(crate) target: String,
    /// Whether the client wants the connection kept open afterwards: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub(crate) keep_alive: bool,
    /// The `Range` header, if any.
    pub(crate) range: Option<String>,
    /// The `If-Range` header, if any.
    pub(crate) if_range: Option<String>,
    /// The `If-Modified-Since` header, if any.
    pub(crate) if_modified_since: Option<String>,
    /// The body that follows the head, if any: the connection reads and drops it (see
    /// [`Body`]).
    pub(crate) body: Body,
    /// `Expect: 100-continue` (HTTP/1.1): the client waits for `100 Continue` before it sends
    /// its body.
    pub(crate) expect_continue: bool,
}

/// How a request's body is framed (RFC 9112, section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// No body: no `Content-Length` (or `0`) and no `Transfer-Encoding`.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: chunks up to one of size 0, then trailer lines.
    Chunked,
}

/// Parses the head at the start of `buf`.
///
/// Returns `Ok(None)` if the head is not complete yet, or the request and the length of its
/// head.
///
/// # Errors
///
/// `431` for too many headers, `505` for an HTTP version other than 1.0 and 1.1, `400` for
/// anything malformed: a space inside the target, an HTTP/1.1 request without `Host`, two
/// `Host`s, and a body whose framing could be read two ways (see [`Body`] and the module docs
/// of `http`).
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, Status> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Status::HeaderFieldsTooLarge),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(_) => return Err(Status::BadRequest),
    };
    let method = match parsed.method {
        Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        _ => Method::Other,
    };
    let version = parsed.version.unwrap_or(1);
    let mut request = Request {
        method,
        target: origin_form(parsed.path.unwrap_or(""))?.to_owned(),
        keep_alive: version >= 1,
        range: None,
        if_range: None,
        if_modified_since: None,
        body: Body::None,
        expect_continue: false,
    };
    let mut hosts = 0;
    let mut content_length = None;
    let mut chunked = None;
    for header in parsed.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| Status::BadRequest)?
            .trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    request.keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") && version == 0 {
                    request.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("expect") {
            request.expect_continue = version >= 1 && value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("range") {
            request.range = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-range") {
            request.if_range = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            request.if_modified_since = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            // Digits only (`u64::from_str` would take a `+`), and every copy the same.
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Status::BadRequest);
            }
            let length: u64 = value.parse().map_err(|_| Status::BadRequest)?;
            if content_length.is_some_and(|earlier| earlier != length) {
                return Err(Status::BadRequest);
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // The last coding of the last header must be `chunked`.
            let last = value.rsplit(',').next().unwrap_or("").trim();
            chunked = Some(last.eq_ignore_ascii_case("chunked"));
        }
    }
    // One Host in HTTP/1.1 (RFC 9112, section 3.2), and never two.
    if hosts > 1 || (version >= 1 && hosts == 0) {
        return Err(Status::BadRequest);
    }
    request.body = match (content_length, chunked) {
        (None | Some(0), None) => Body::None,
        (Some(length), None) => Body::Length(length),
        // Chunked last, in HTTP/1.1 only, and without a Content-Length beside it (which could
        // frame the request another way for a proxy in front: request smuggling).
        (None, Some(true)) if version >= 1 => Body::Chunked,
        _ => return Err(Status::BadRequest),
    };
    Ok(Some((request, len)))
}

/// The path and query of a request target: the target itself in origin form (`/path?query`),
/// the part after the authority in absolute form (`http://host/path?query`, which a server
/// must accept, RFC 9112 section 3.2.2; `/` if nothing follows the authority). Anything else
/// (`*`, another scheme) is left as it is, for the path check to refuse.
///
/// # Errors
///
/// `400` for an absolute form without a host (`http:///x`, `http://`).
fn origin_form(target: &str) -> Result<&str, Status> {
    let Some(colon) = target.find("://") else {
        return Ok(target);
    };
    let scheme = &target[..colon];
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Ok(target);
    }
    let rest = &target[colon + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if authority_end == 0 {
        return Err(Status::BadRequest);
    }
    match &rest[authority_end..] {
        "" => Ok("/"),
        path if path.starts_with('/') => Ok(path),
        // `http://host?query`: the root, with its query.
        _ => Ok("/"),
    }
}

/// The status for a request line `httparse` found no valid version in: `505` only when the
/// line is `METHOD SP TARGET SP HTTP/...` (a version this server does not speak); anything else
/// (a space inside the target, a missing version) is a malformed request, `400`.
fn version_error(buf: &[u8]) -> Status {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = buf[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..line_end]);
    let mut parts = line.split(|&b| b == b' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(version), None)
            if !method.is_empty() && !target.is_empty() && version.starts_with(b"HTTP/") =>
        {
            Status::VersionNotSupported
        }
        _ => Status::BadRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let one = |head: &str| parse(head.as_bytes()).unwrap().unwrap().0.keep_alive;
        assert!(one("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(!one(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n"
        ));
        assert!(!one("GET / HTTP/1.0\r\n\r\n"));
        assert!(one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn partial_and_malformed_heads() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err(),
            Status::BadRequest
        );
        assert_eq!(
            parse(b"G\x01T / HTTP/1.1\r\n\r\n").unwrap_err(),
            Status::BadRequest
        );
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(100));
        assert_eq!(
            parse(many.as_bytes()).unwrap_err(),
            Status::HeaderFieldsTooLarge
        );
    }

    #[test]
    fn hosts_versions_targets_and_bodies() {
        let err = |head: &str| parse(head.as_bytes()).unwrap_err();
        let one = |head: &str| parse(head.as_bytes()).unwrap().unwrap().0;
        assert_eq!(
            err("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            Status::BadRequest
        );
        assert_eq!(
            err("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
            Status::BadRequest
        );
        assert_eq!(
            err("GET / HTTP/3\r\nHost: a\r\n\r\n"),
            Status::VersionNotSupported
        );
        assert_eq!(
            one("GET http://h:1/x?y HTTP/1.1\r\nHost: a\r\n\r\n").target,
            "/x?y"
        );
        assert_eq!(one("GET http://h HTTP/1.1\r\nHost: a\r\n\r\n").target, "/");
        assert_eq!(
            one("GET ftp://h/x HTTP/1.1\r\nHost: a\r\n\r\n").target,
            "ftp://h/x"
        );
        assert_eq!(
            err("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Status::BadRequest
        );
        let body = |head: &str| one(head).body;
        assert_eq!(
            body("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
            Body::None
        );
        assert_eq!(
            body("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n"),
            Body::Length(7)
        );
        assert_eq!(
            body("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Body::Chunked
        );
        assert_eq!(
            err("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +7\r\n\r\n"),
            Status::BadRequest
        );
    }

    #[test]
    fn the_head_length_leaves_pipelined_bytes() {
        let two = b"HEAD /a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\nGET /b HTTP/1.1\r\n";
        let (request, len) = parse(two).unwrap().unwrap();
        assert_eq!(request.method, Method::Head);
        assert_eq!(request.range.as_deref(), Some("bytes=0-1"));
        assert!(two[len..].starts_with(b"GET /b"));
    }
}
