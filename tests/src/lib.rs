//! Black-box tests across the ebbtide crates, and tests that need a real host. The tests live in
//! `tests/tests/`.
