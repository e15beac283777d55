//! `Range`, `If-Modified-Since` and `If-Range` against a file length.
//!
//! Input: the file's length (first 8 bytes; small lengths when the first byte is even, so that
//! edges are hit), then the header text. Checks: a `206` range lies within the file
//! (`start <= end < len`); `416` only when no byte of the file can be in the range; a plain
//! `bytes=a-b` within the file is served as asked; a single range is never ignored when it is
//! satisfiable and well-formed. For dates: what `httpdate` (the server's `If-Modified-Since` and
//! `If-Range` reader) accepts formats back to a date it reads the same, so the exact-match
//! `If-Range` comparison with the server's own `Last-Modified` is consistent.

#![no_main]

use ebbtide_examples::http::fuzzing::{byte_range, ByteRange};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let raw = u64::from_le_bytes(data[..8].try_into().unwrap());
    let len = if raw % 2 == 0 {
        (raw >> 1) % 300
    } else {
        raw >> 1
    };
    let Ok(header) = std::str::from_utf8(&data[8..]) else {
        return;
    };

    let found = byte_range(header, len);
    match found {
        ByteRange::Part { start, end } => {
            assert!(start <= end && end < len, "{header:?} on {len}: {found:?}");
        }
        ByteRange::Unsatisfiable | ByteRange::Full => {}
    }
    // A strict `bytes=a-b` / `bytes=a-` / `bytes=-n`, as a reference.
    if let Some(spec) = header.strip_prefix("bytes=") {
        let digits =
            |s: &str| !s.is_empty() && s.len() < 19 && s.bytes().all(|b| b.is_ascii_digit());
        if let Some((a, b)) = spec.split_once('-') {
            let expected = match (a, b) {
                (a, "") if digits(a) => {
                    let a: u64 = a.parse().unwrap();
                    Some(if a < len {
                        ByteRange::Part {
                            start: a,
                            end: len - 1,
                        }
                    } else {
                        ByteRange::Unsatisfiable
                    })
                }
                ("", n) if digits(n) => {
                    let n: u64 = n.parse().unwrap();
                    Some(if n == 0 || len == 0 {
                        ByteRange::Unsatisfiable
                    } else {
                        ByteRange::Part {
                            start: len - n.min(len),
                            end: len - 1,
                        }
                    })
                }
                (a, b) if digits(a) && digits(b) => {
                    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
                    Some(if a > b {
                        ByteRange::Full
                    } else if a >= len {
                        ByteRange::Unsatisfiable
                    } else {
                        ByteRange::Part {
                            start: a,
                            end: b.min(len - 1),
                        }
                    })
                }
                _ => None,
            };
            if let Some(expected) = expected {
                assert_eq!(found, expected, "{header:?} on {len}");
            }
        }
    }

    // Dates, as `If-Modified-Since` and `If-Range` are read.
    if let Ok(date) = httpdate::parse_http_date(header) {
        let again = httpdate::fmt_http_date(date);
        assert_eq!(
            httpdate::parse_http_date(&again).ok(),
            Some(date),
            "{header:?} -> {again:?}"
        );
    }
});
