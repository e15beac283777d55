//! TODO(mutex): being written.
