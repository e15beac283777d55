//! TODO(notify): being written.
