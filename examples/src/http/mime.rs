//! The `Content-Type` of a file, from its extension.

use std::path::Path;

/// Extensions (lowercase) and their media types; anything else is `application/octet-stream`.
const TYPES: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("svg", "image/svg+xml"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
];

/// The media type of the file at `path`, by its extension (case-insensitive).
pub(crate) fn content_type(path: &Path) -> &'static str {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
        return "application/octet-stream";
    };
    TYPES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .map_or("application/octet-stream", |(_, media)| media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension() {
        assert_eq!(
            content_type(Path::new("a/index.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("x.tar.gz")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(Path::new("README")),
            "application/octet-stream"
        );
    }
}
