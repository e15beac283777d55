//! TODO(oneshot): being written.
