//! Programs built on ebbtide. The binaries live in `src/bin/`.
