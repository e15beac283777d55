//! The `Range` header: one byte range of a file, or the whole file.
//!
//! Only a single range is served as `206`; a header with several ranges, another unit, or a
//! syntax error is ignored (the whole file is sent with `200`), as RFC 9110 allows.

/// What a `Range` header asks of a file of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// The whole file (`200`).
    Full,
    /// Bytes `start..=end` (`206`), with `end` below the length.
    Part { start: u64, end: u64 },
    /// No byte of the file is in the range (`416`).
    Unsatisfiable,
}

/// Reads `header` (`bytes=a-b`, `bytes=a-` or `bytes=-n`) against a file of `len` bytes.
pub(crate) fn parse(header: &str, len: u64) -> ByteRange {
    let Some((unit, spec)) = header.split_once('=') else {
        return ByteRange::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Full;
    };
    let number = |text: &str| -> Option<u64> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Past u64::MAX is beyond any file: saturate.
        Some(text.parse().unwrap_or(u64::MAX))
    };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if len == 0 => ByteRange::Unsatisfiable,
            Some(n) => ByteRange::Part {
                start: len - n.min(len),
                end: len - 1,
            },
        },
        (start, "") => match number(start) {
            None => ByteRange::Full,
            Some(start) if start >= len => ByteRange::Unsatisfiable,
            Some(start) => ByteRange::Part {
                start,
                end: len - 1,
            },
        },
        (start, end) => match (number(start), number(end)) {
            (Some(start), Some(end)) if start <= end => {
                if start >= len {
                    ByteRange::Unsatisfiable
                } else {
                    ByteRange::Part {
                        start,
                        end: end.min(len - 1),
                    }
                }
            }
            _ => ByteRange::Full,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> ByteRange {
        ByteRange::Part { start, end }
    }

    #[test]
    fn single_ranges() {
        assert_eq!(parse("bytes=0-9", 100), part(0, 9));
        assert_eq!(parse("bytes=90-200", 100), part(90, 99));
        assert_eq!(parse("bytes=10-", 100), part(10, 99));
        assert_eq!(parse("bytes=-10", 100), part(90, 99));
        assert_eq!(parse("bytes=-1000", 100), part(0, 99));
        assert_eq!(parse("Bytes = 5-5", 100), part(5, 5));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(parse("bytes=100-", 100), ByteRange::Unsatisfiable);
        assert_eq!(parse("bytes=100-200", 100), ByteRange::Unsatisfiable);
        assert_eq!(parse("bytes=-0", 100), ByteRange::Unsatisfiable);
        assert_eq!(parse("bytes=-5", 0), ByteRange::Unsatisfiable);
        assert_eq!(
            parse("bytes=99999999999999999999999-", 100),
            ByteRange::Unsatisfiable
        );
    }

    #[test]
    fn ignored_headers_mean_the_whole_file() {
        for header in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=5-1",
            "bytes=a-b",
            "bytes",
            "bytes=-",
        ] {
            assert_eq!(parse(header, 100), ByteRange::Full, "{header}");
        }
    }
}
