//! TODO(watch): being written.
