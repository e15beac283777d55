//! Waiting for several futures at once: `join!`, `try_join!`, `select!`.
