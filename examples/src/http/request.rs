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
    /// Whether a body follows the head (`Content-Length` above zero, or any
    /// `Transfer-Encoding`). The server reads no bodies: such a request ends the connection.
    pub(crate) has_body: bool,
}

/// Parses the head at the start of `buf`.
///
/// Returns `Ok(None)` if the head is not complete yet, or the request and the length of its
/// head.
///
/// # Errors
///
/// `431` for too many headers, `400` for anything malformed (including an HTTP/1.1 request
/// without `Host`, and a `Content-Length` that is not a number).
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, Status> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Status::HeaderFieldsTooLarge),
        Err(httparse::Error::Version) => return Err(Status::VersionNotSupported),
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
        target: parsed.path.unwrap_or("").to_owned(),
        keep_alive: version >= 1,
        range: None,
        if_range: None,
        if_modified_since: None,
        has_body: false,
    };
    let mut has_host = false;
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
            has_host = true;
        } else if name.eq_ignore_ascii_case("range") {
            request.range = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-range") {
            request.if_range = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            request.if_modified_since = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            let length: u64 = value.parse().map_err(|_| Status::BadRequest)?;
            request.has_body |= length > 0;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            request.has_body = true;
        }
    }
    if version >= 1 && !has_host {
        return Err(Status::BadRequest);
    }
    Ok(Some((request, len)))
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
    fn the_head_length_leaves_pipelined_bytes() {
        let two = b"HEAD /a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\nGET /b HTTP/1.1\r\n";
        let (request, len) = parse(two).unwrap().unwrap();
        assert_eq!(request.method, Method::Head);
        assert_eq!(request.range.as_deref(), Some("bytes=0-1"));
        assert!(two[len..].starts_with(b"GET /b"));
    }
}
