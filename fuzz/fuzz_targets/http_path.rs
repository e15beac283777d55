//! URL path → file under the root: `relative_path` (the text) then `confine` (the file system),
//! on the tree of `ebbtide_fuzz::tree` (symlinks out of the root, hidden files, odd names).
//!
//! Checks: a relative path is plain names only (no `..`, `/`, `\` or NUL in a name); a target
//! with a `..` segment, plain or percent-encoded, is refused; whatever `confine` returns lies
//! under the root, exists, and, unless hidden names are shown, has no hidden name, as asked or
//! as resolved.

#![no_main]

use std::path::{Component, Path};

use ebbtide_examples::http::fuzzing::{confine, has_hidden_name, relative_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    let root = ebbtide_fuzz::tree();
    let (relative, _slash) = match relative_path(target) {
        Ok(found) => found,
        Err(code) => {
            assert!(matches!(code, 400 | 403), "{target:?}: {code}");
            return;
        }
    };
    // Plain names only.
    for part in relative.components() {
        let Component::Normal(name) = part else {
            panic!("{target:?} gave {relative:?}, with {part:?}");
        };
        let name = name.as_encoded_bytes();
        assert!(
            !name.is_empty() && !name.contains(&0) && !name.contains(&b'\\') && name != b"..",
            "{target:?} gave {relative:?}"
        );
    }
    // Any segment that decodes to `..` must have been refused.
    let path = target.split(['?', '#']).next().unwrap_or("");
    for segment in path.split('/') {
        let lower = segment.to_ascii_lowercase();
        let decoded = lower.replace("%2e", ".");
        assert!(decoded != "..", "{target:?} was let through");
    }
    assert!(!Path::new(&relative).is_absolute());

    for show_hidden in [false, true] {
        let Ok(found) = confine(root, &relative, show_hidden) else {
            continue;
        };
        let inside = found
            .strip_prefix(root)
            .unwrap_or_else(|_| panic!("{target:?} resolved outside the root: {found:?}"));
        assert!(found.exists(), "{target:?}: {found:?} does not exist");
        if !show_hidden {
            assert!(
                !has_hidden_name(inside) && !has_hidden_name(&relative),
                "{target:?}: hidden {found:?} was found"
            );
        }
        let text = found.to_string_lossy();
        assert!(
            !text.contains(ebbtide_fuzz::OUTSIDE_DIR),
            "{target:?}: {found:?}"
        );
    }
});
