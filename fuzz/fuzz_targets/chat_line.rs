//! The chat line protocol: bytes a client sends, read in arbitrary pieces by the same reader
//! and line buffer as the chat server's client task, and the message each `read_line` makes.
//!
//! Input: the first byte is how many of the following bytes give read sizes; the rest is what
//! the client sends. Checks: no byte is lost or duplicated (the raw pieces put together are the
//! input); each piece is at most `MAX_LINE` bytes and holds a `\n` only at its end; each
//! message is exactly one line, `user7: text\n`, with no other `\n`, no trailing whitespace
//! before it, and the text is the piece's (lossy) text.

#![no_main]

use ebbtide_examples::chat::{fuzzing::messages, MAX_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 16).min(rest.len());
    let (sizes, input) = rest.split_at(count);
    let out = messages(7, input, sizes);

    let joined: Vec<u8> = out
        .iter()
        .flat_map(|(raw, _)| raw.iter().copied())
        .collect();
    assert_eq!(joined, input, "bytes lost or duplicated");
    for (raw, message) in &out {
        assert!(!raw.is_empty() && raw.len() <= MAX_LINE, "{raw:?}");
        if let Some(newline) = raw.iter().position(|&b| b == b'\n') {
            assert_eq!(newline, raw.len() - 1, "{raw:?}");
        }
        let text = message
            .strip_prefix("user7: ")
            .and_then(|m| m.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("{message:?}"));
        assert!(!text.contains('\n'), "{message:?}");
        assert_eq!(
            text,
            text.trim_end_matches(|c: char| c.is_ascii_whitespace())
        );
        assert_eq!(text, String::from_utf8_lossy(raw.trim_ascii_end()));
    }
});
