//! Status codes and the text of a response head.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// This thread's `Date` header value and the second (since the epoch) it is for: formatted
    /// once a second, not once a response (as nginx keeps its time strings).
    static DATE: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

/// The statuses the server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    PartialContent,
    MovedPermanently,
    NotModified,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RangeNotSatisfiable,
    HeaderFieldsTooLarge,
    InternalServerError,
    ServiceUnavailable,
    VersionNotSupported,
}

impl Status {
    /// The three-digit code.
    pub(crate) fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::PartialContent => 206,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::PayloadTooLarge => 413,
            Status::RangeNotSatisfiable => 416,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::ServiceUnavailable => 503,
            Status::VersionNotSupported => 505,
        }
    }

    /// The reason phrase.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::PartialContent => "Partial Content",
            Status::MovedPermanently => "Moved Permanently",
            Status::NotModified => "Not Modified",
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::PayloadTooLarge => "Payload Too Large",
            Status::RangeNotSatisfiable => "Range Not Satisfiable",
            Status::HeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::InternalServerError => "Internal Server Error",
            Status::ServiceUnavailable => "Service Unavailable",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.reason())
    }
}

/// A response head being written: the status line, then headers, then
/// [`finish`](ResponseHead::finish) adds `Connection`, `Content-Length` and the blank line.
///
/// `Server` and `Date` are always sent.
pub(crate) struct ResponseHead {
    text: String,
}

impl ResponseHead {
    /// Starts a head with `status`.
    pub(crate) fn new(status: Status) -> ResponseHead {
        let mut text = String::with_capacity(256);
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "HTTP/1.1 {status}\r\nServer: ebbtide-fileserver\r\nDate: "
        );
        DATE.with(|date| {
            let mut date = date.borrow_mut();
            let now = SystemTime::now();
            let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if date.0 != second || date.1.is_empty() {
                *date = (second, httpdate::fmt_http_date(now));
            }
            text.push_str(&date.1);
        });
        text.push_str("\r\n");
        ResponseHead { text }
    }

    /// Adds a header. `value` must hold no CR or LF (every caller passes text it made).
    pub(crate) fn header(mut self, name: &str, value: impl fmt::Display) -> ResponseHead {
        let _ = write!(self.text, "{name}: {value}\r\n");
        self
    }

    /// Ends the head: `Connection: keep-alive` or `close`, `Content-Length` if given (a `304`
    /// has none), and the blank line. Returns the bytes to send.
    pub(crate) fn finish(self, content_length: Option<u64>, keep_alive: bool) -> Vec<u8> {
        let mut text = self.text;
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let _ = write!(text, "Connection: {connection}\r\n");
        if let Some(length) = content_length {
            let _ = write!(text, "Content-Length: {length}\r\n");
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

/// A whole response with a short text body saying what went wrong (the body is left out for
/// `HEAD`).
pub(crate) fn error(status: Status, keep_alive: bool, head_only: bool) -> Vec<u8> {
    let body = format!("{status}\n");
    let mut head = ResponseHead::new(status).header("Content-Type", "text/plain; charset=utf-8");
    if status == Status::MethodNotAllowed {
        head = head.header("Allow", "GET, HEAD");
    }
    if status == Status::ServiceUnavailable {
        head = head.header("Retry-After", 1);
    }
    let mut bytes = head.finish(Some(body.len() as u64), keep_alive);
    if !head_only {
        bytes.extend_from_slice(body.as_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_a_whole_response() {
        let text = String::from_utf8(error(Status::NotFound, true, false)).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("\r\nConnection: keep-alive\r\n"));
        assert!(text.ends_with("\r\nContent-Length: 14\r\n\r\n404 Not Found\n"));
        let head = String::from_utf8(error(Status::MethodNotAllowed, false, true)).unwrap();
        assert!(head.contains("\r\nAllow: GET, HEAD\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
    }

    #[test]
    fn the_date_is_now() {
        for _ in 0..2 {
            let text = String::from_utf8(ResponseHead::new(Status::Ok).finish(None, true)).unwrap();
            let date = text
                .split("\r\n")
                .find_map(|line| line.strip_prefix("Date: "))
                .unwrap();
            let date = httpdate::parse_http_date(date).unwrap();
            let now = SystemTime::now();
            let off = now.duration_since(date).unwrap_or_default();
            assert!(off.as_secs() <= 2, "{off:?}");
            std::thread::sleep(std::time::Duration::from_millis(600));
        }
    }
}
