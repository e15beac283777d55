//! Programs built on ebbtide. The binaries live in `src/bin/`.

pub mod http;
// The proxy, echo and chat demos (`src/bin/{proxy,echo,chat}.rs`) and what they share.
pub mod chat;
pub mod cli;
pub mod echo_service;
pub mod proxy;
pub mod serve;
