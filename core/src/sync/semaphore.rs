//! TODO(semaphore): being written.
