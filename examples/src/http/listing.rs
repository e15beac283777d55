//! A directory as an HTML page: names escaped for HTML, links percent-encoded.

use std::fmt::Write;

/// One entry of a listing.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) is_dir: bool,
    pub(crate) size: u64,
}

/// Escapes `text` for HTML text and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes `name` as one path segment: every byte but the unreserved ones
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`.
pub(crate) fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The page listing `entries` (sorted by the caller) of the folder at URL path `url_path`
/// (decoded, ending with `/`). `more` entries were left out. Links are relative to the folder.
pub(crate) fn render(url_path: &str, entries: &[Entry], more: usize) -> String {
    let title = html_escape(url_path);
    let mut page = format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>Index of {title}</title>\
         </head>\n<body>\n<h1>Index of {title}</h1>\n<ul>\n"
    );
    if url_path != "/" {
        page.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for entry in entries {
        let slash = if entry.is_dir { "/" } else { "" };
        let _ = write!(
            page,
            "<li><a href=\"{href}{slash}\">{name}{slash}</a>",
            href = percent_encode(&entry.name),
            name = html_escape(&entry.name),
        );
        if !entry.is_dir {
            let _ = write!(page, " ({} bytes)", entry.size);
        }
        page.push_str("</li>\n");
    }
    if more > 0 {
        let _ = writeln!(page, "<li>... and {more} more</li>");
    }
    page.push_str("</ul>\n</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_links_encoded() {
        let entries = [
            Entry {
                name: "<b>&\"x\".txt".into(),
                is_dir: false,
                size: 3,
            },
            Entry {
                name: "sub dir".into(),
                is_dir: true,
                size: 0,
            },
        ];
        let page = render("/a/", &entries, 0);
        assert!(page.contains(
            "<a href=\"%3Cb%3E%26%22x%22.txt\">&lt;b&gt;&amp;&quot;x&quot;.txt</a> (3 bytes)"
        ));
        assert!(page.contains("<a href=\"sub%20dir/\">sub dir/</a>"));
        assert!(page.contains("<a href=\"../\">"));
    }
}
