//! TODO(broadcast): being written.
