//! Must not compile: the drivers refuse an embassy-time-driver tick rate other than 1 MHz (see
//! `Cargo.toml`).
