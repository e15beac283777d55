//! Channels and locks for tasks, with `const` constructors, no allocation, and any executor.
//!
//! Every primitive is generic over a [`RawMutex`](crate::blocking_mutex::RawMutex) that guards
//! its state (default: [`CriticalSectionRawMutex`](crate::blocking_mutex::CriticalSectionRawMutex),
//! safe between threads and interrupt handlers). They use nothing but [`core::task::Waker`], so
//! they work under any executor, ebbtide's or not.

pub(crate) mod wait_list;
pub(crate) mod waker;

pub mod broadcast;
pub mod mpsc;
pub mod mutex;
pub mod notify;
pub mod oneshot;
pub mod semaphore;
pub mod spsc;
pub mod watch;

pub use mutex::{Mutex, MutexGuard};
pub use notify::Notify;
pub use semaphore::{AcquireError, Semaphore, SemaphorePermit, TryAcquireError};
