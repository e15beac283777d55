//! TODO(mpsc): being written.
