//! HTTP plaintext: the request handler every HTTP server of the benchmarks shares, and the wrk
//! runner that loads them.
//!
//! Every server (ebbtide, Tokio, raw mio) keeps one [`HttpConn`] per connection, reads into
//! [`HttpConn::read_buf`], calls [`HttpConn::handle`] with the count read, and writes
//! [`HttpConn::output`] whole before it reads again: only the runtime differs. The handler parses
//! every complete request in the buffer with `httparse` (pipelined requests are answered in one
//! output), keeps a partial request for the next read, and answers each request with the same
//! response: `200 OK`, `Content-Length: 13`, `Content-Type: text/plain`, a `Date` header (formatted
//! once per second per thread) and the body `Hello, World!`. Connections are kept alive (HTTP/1.1
//! unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`). A malformed request,
//! one with `Transfer-Encoding`, or one that does not fit in the [`BUF_SIZE`] buffer is answered
//! `400 Bad Request` and the connection is closed. A `Content-Length` body is skipped.
//!
//! [`wrk`] runs `wrk -t1 -c{C} -d{S}s --latency http://127.0.0.1:{port}/` and reads its report;
//! [`wrk_get`] the same for another path (the file-server workloads, [`crate::fs`]), [`wrk_url`]
//! for any URL (HTTPS: [`crate::https`]).

use std::cell::Cell;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::net::BUF_SIZE;

/// The body of every answer.
pub const BODY: &[u8] = b"Hello, World!";

/// The most headers a request may have; more is a `400`.
const MAX_HEADERS: usize = 32;

/// What the connection does after [`HttpConn::handle`]'s answers are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Read the next request.
    KeepAlive,
    /// Close the connection (the client asked for it, or the request was malformed).
    Close,
}

/// One connection's state: the bytes read and not yet answered, and the answers not yet written.
pub struct HttpConn {
    buf: Vec<u8>,
    /// `buf[..filled]` holds bytes read and not yet used (the start of a request).
    filled: usize,
    out: Vec<u8>,
}

impl Default for HttpConn {
    fn default() -> Self {
        HttpConn::new()
    }
}

impl HttpConn {
    /// A fresh connection with a [`BUF_SIZE`] read buffer.
    pub fn new() -> HttpConn {
        HttpConn {
            buf: vec![0; BUF_SIZE],
            filled: 0,
            out: Vec::with_capacity(BUF_SIZE),
        }
    }

    /// Where to read the next bytes (never empty: [`handle`](HttpConn::handle) closes a
    /// connection whose request would not fit).
    pub fn read_buf(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// The answers to write, in order.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// The answers to write, to drop what was written.
    pub fn output_mut(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Forgets the answers (once written).
    pub fn clear_output(&mut self) {
        self.out.clear();
    }

    /// The request handler: `n` bytes were just read into [`read_buf`](HttpConn::read_buf).
    /// Answers every complete request now in the buffer (appending to
    /// [`output`](HttpConn::output)), keeps the incomplete rest for the next read, and says
    /// whether the connection goes on once the output is written.
    pub fn handle(&mut self, n: usize) -> Verdict {
        self.filled += n;
        let date = http_date();
        let mut start = 0;
        let verdict = loop {
            if start == self.filled {
                break Verdict::KeepAlive;
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            let head = match request.parse(&self.buf[start..self.filled]) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if start == 0 && self.filled == self.buf.len() => {
                    break self.bad_request(&date);
                }
                Ok(httparse::Status::Partial) => break Verdict::KeepAlive,
                Err(_) => break self.bad_request(&date),
            };
            let version = request.version.unwrap_or(1);
            let mut keep_alive = version >= 1;
            let mut body = 0;
            let mut malformed = false;
            for header in request.headers.iter() {
                let name = header.name;
                if name.eq_ignore_ascii_case("content-length") {
                    match std::str::from_utf8(header.value).map(|v| v.trim().parse::<usize>()) {
                        Ok(Ok(length)) => body = length,
                        _ => malformed = true,
                    }
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    malformed = true;
                } else if name.eq_ignore_ascii_case("connection") {
                    for token in header.value.split(|&b| b == b',') {
                        let token = token.trim_ascii();
                        if token.eq_ignore_ascii_case(b"close") {
                            keep_alive = false;
                        } else if token.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                            keep_alive = true;
                        }
                    }
                }
            }
            let total = head.saturating_add(body);
            if malformed || total > self.buf.len() {
                break self.bad_request(&date);
            }
            if start + total > self.filled {
                break Verdict::KeepAlive;
            }
            respond(&mut self.out, &date, keep_alive);
            start += total;
            if !keep_alive {
                break Verdict::Close;
            }
        };
        self.buf.copy_within(start..self.filled, 0);
        self.filled -= start;
        verdict
    }

    fn bad_request(&mut self, date: &[u8; 29]) -> Verdict {
        self.out
            .extend_from_slice(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nDate: ");
        self.out.extend_from_slice(date);
        self.out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        Verdict::Close
    }
}

/// Appends the answer to one request.
fn respond(out: &mut Vec<u8>, date: &[u8; 29], keep_alive: bool) {
    out.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nDate: ",
    );
    out.extend_from_slice(date);
    if !keep_alive {
        out.extend_from_slice(b"\r\nConnection: close");
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(BODY);
}

thread_local! {
    /// The second of the last formatted date, and the date.
    static DATE: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
}

/// The current date as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), formatted once per second
/// per thread.
fn http_date() -> [u8; 29] {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let (cached, date) = cell.get();
        if cached == second {
            return date;
        }
        let mut date = [0; 29];
        date.copy_from_slice(httpdate::fmt_http_date(now).as_bytes());
        cell.set((second, date));
        date
    })
}

/// What wrk reported.
#[derive(Clone, Copy, Debug)]
pub struct WrkReport {
    /// `Requests/sec`.
    pub rps: f64,
    /// The `99%` line of the latency distribution, in nanoseconds.
    pub p99_ns: f64,
    /// Requests completed (`N requests in ...`).
    pub requests: u64,
    /// `Transfer/sec`: bytes read per second, headers included (wrk prints it in binary units,
    /// `KB` = 1,024 bytes, rounded to two decimals).
    pub bytes_per_sec: f64,
}

/// Runs `wrk -t1 -c{connections} -d{secs}s --latency http://127.0.0.1:{port}/` and parses its
/// report.
///
/// # Errors
///
/// If wrk cannot run or fails, reports `Socket errors` (connect, read, write or timeout) or
/// `Non-2xx or 3xx responses`, or its report lacks the rate, the 99th percentile or the request
/// count. The message includes wrk's output.
pub fn wrk(port: u16, connections: usize, secs: u32) -> Result<WrkReport, String> {
    wrk_get(port, "/", connections, secs)
}

/// [`wrk`] for `http://127.0.0.1:{port}{path}` (`path` starts with `/`).
///
/// # Errors
///
/// As [`wrk`].
pub fn wrk_get(port: u16, path: &str, connections: usize, secs: u32) -> Result<WrkReport, String> {
    wrk_url(&format!("http://127.0.0.1:{port}{path}"), connections, secs)
}

/// [`wrk`] for any URL, such as `https://127.0.0.1:{port}/1mb` (the HTTPS workloads,
/// [`crate::https`]: Debian's wrk links OpenSSL, and does not verify the certificate).
///
/// # Errors
///
/// As [`wrk`].
pub fn wrk_url(url: &str, connections: usize, secs: u32) -> Result<WrkReport, String> {
    let output = Command::new("wrk")
        .arg("-t1")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("wrk failed ({}):\n{stdout}{stderr}", output.status));
    }
    parse_wrk(&stdout).map_err(|e| format!("{e}; wrk said:\n{stdout}{stderr}"))
}

/// Parses wrk's report (see [`wrk`]).
fn parse_wrk(report: &str) -> Result<WrkReport, String> {
    if report.contains("Socket errors") {
        return Err("wrk reported socket errors".into());
    }
    if report.contains("Non-2xx or 3xx responses") {
        return Err("wrk reported non-2xx or 3xx responses".into());
    }
    let mut rps = None;
    let mut p99_ns = None;
    let mut requests = None;
    let mut bytes_per_sec = None;
    for line in report.lines().map(str::trim) {
        if let Some(transfer) = line.strip_prefix("Transfer/sec:") {
            bytes_per_sec = parse_bytes(transfer.trim());
        } else if let Some(rate) = line.strip_prefix("Requests/sec:") {
            rps = rate.trim().parse::<f64>().ok().filter(|r| *r > 0.0);
        } else if let Some(latency) = line.strip_prefix("99%") {
            p99_ns = parse_duration_ns(latency.trim());
        } else if let Some((count, _)) = line.split_once(" requests in ") {
            requests = count.trim().parse::<u64>().ok();
        }
    }
    Ok(WrkReport {
        rps: rps.ok_or("wrk reported no rate")?,
        p99_ns: p99_ns.ok_or("wrk reported no 99th percentile")?,
        requests: requests.ok_or("wrk reported no request count")?,
        bytes_per_sec: bytes_per_sec.ok_or("wrk reported no transfer rate")?,
    })
}

/// `512.00B`, `1.23KB`, `4.56MB`, `1.10GB` (wrk's binary units) in bytes.
fn parse_bytes(text: &str) -> Option<f64> {
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value: f64 = text[..digits].parse().ok()?;
    let scale = match &text[digits..] {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(value * scale)
}

/// `812.00us`, `1.23ms`, `2.00s`, `1.50m` in nanoseconds.
fn parse_duration_ns(text: &str) -> Option<f64> {
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value: f64 = text[..digits].parse().ok()?;
    let scale = match &text[digits..] {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    Some(value * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(conn: &mut HttpConn, bytes: &[u8]) -> Verdict {
        conn.read_buf()[..bytes.len()].copy_from_slice(bytes);
        conn.handle(bytes.len())
    }

    fn answers(conn: &HttpConn) -> usize {
        let out = String::from_utf8_lossy(conn.output()).into_owned();
        out.matches("HTTP/1.1 200 OK").count()
    }

    #[test]
    fn pipelined_and_partial_requests() {
        let mut conn = HttpConn::new();
        let two = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HT";
        assert_eq!(feed(&mut conn, two), Verdict::KeepAlive);
        assert_eq!(answers(&conn), 2);
        assert_eq!(feed(&mut conn, b"TP/1.1\r\n\r\n"), Verdict::KeepAlive);
        assert_eq!(answers(&conn), 3);
        let out = String::from_utf8_lossy(conn.output()).into_owned();
        assert!(out.ends_with("\r\n\r\nHello, World!"));
        assert!(out.contains("Content-Type: text/plain\r\nDate: "));
        assert!(out.contains(" GMT\r\n"));
    }

    #[test]
    fn bodies_are_skipped_and_close_is_honoured() {
        let mut conn = HttpConn::new();
        let post = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab";
        assert_eq!(feed(&mut conn, post), Verdict::KeepAlive);
        assert_eq!(answers(&conn), 0);
        let rest = b"cdGET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        assert_eq!(feed(&mut conn, rest), Verdict::Close);
        assert_eq!(answers(&conn), 2);
        assert!(conn
            .output()
            .ends_with(b"Connection: close\r\n\r\nHello, World!"));
    }

    #[test]
    fn malformed_requests_get_400_and_close() {
        let mut conn = HttpConn::new();
        assert_eq!(
            feed(&mut conn, b"G\x01T / HTTP/1.1\r\n\r\n"),
            Verdict::Close
        );
        assert!(conn.output().starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
        let mut conn = HttpConn::new();
        let long = vec![b'a'; BUF_SIZE];
        let mut head = b"GET /".to_vec();
        head.extend_from_slice(&long[..BUF_SIZE - head.len()]);
        assert_eq!(feed(&mut conn, &head), Verdict::Close);
        assert!(conn.output().starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    }

    #[test]
    fn wrk_reports() {
        let good = "Running 1s test @ http://127.0.0.1:1/\n  1 threads and 2 connections\n  \
            Latency Distribution\n     50%    6.29ms\n     99%  812.00us\n  \
            320 requests in 1.00s, 2.01MB read\nRequests/sec:    319.28\nTransfer/sec:      2.00MB\n";
        let report = parse_wrk(good).unwrap();
        assert_eq!(report.requests, 320);
        assert!((report.rps - 319.28).abs() < 1e-9);
        assert!((report.p99_ns - 812_000.0).abs() < 1e-6);
        assert!((report.bytes_per_sec - 2.0 * 1024.0 * 1024.0).abs() < 1e-6);
        assert_eq!(parse_bytes("1.50GB"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse_bytes("512.00B"), Some(512.0));
        assert_eq!(parse_bytes("3.0 parsecs"), None);
        let errors = format!("{good}  Socket errors: connect 0, read 1, write 0, timeout 0\n");
        assert!(parse_wrk(&errors).is_err());
        let non2xx = format!("{good}  Non-2xx or 3xx responses: 3\n");
        assert!(parse_wrk(&non2xx).is_err());
        assert!(parse_wrk("320 requests in 1.00s\n").is_err());
    }
}
