//! Programs built on ebbtide. The binaries live in `src/bin/`.

pub mod http;
// The proxy, echo and chat demos (`src/bin/{proxy,echo,chat}.rs`) and what they share.
pub mod chat;
pub mod cli;
pub mod echo_service;
// The hyper examples (`src/bin/hyper_*.rs`).
pub mod hyper_serve;
pub mod proxy;
pub mod serve;
