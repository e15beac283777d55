//! Choosing a runtime's capacities.

use std::io;

use super::{DriverOptions, Runtime};

/// Capacities of a [`Runtime`], chosen before it is built.
///
/// Everything here is reserved at build time; nothing grows later. Running out is an error value
/// where it happens (`SpawnError::PoolFull`, an `io::Error` on registration), never a panic or a
/// silent allocation.
///
/// # Examples
///
/// ```
/// use ebbtide_std::Runtime;
///
/// let runtime = Runtime::builder()
///     .task_capacity(64)
///     .event_capacity(256)
///     .io_capacity(128)
///     .build()
///     .unwrap();
/// assert_eq!(runtime.metrics().io_capacity(), 128);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    /// Task memory, the part every host driver shares.
    pub(crate) tasks: ebbtide_host::Options,
    pub(crate) driver: DriverOptions,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: 1,024 tasks, 1,024 events per wait, 4,096 IO resources.
    pub fn new() -> Builder {
        Builder {
            tasks: ebbtide_host::Options::new(1024),
            driver: DriverOptions {
                event_capacity: 1024,
                io_capacity: 4096,
                max_blocking_threads: 16,
                blocking_queue_capacity: 1024,
            },
        }
    }

    /// How many tasks can be alive at once. Slots come in four size classes
    /// ([`SLOT_SIZES`](crate::runtime::SLOT_SIZES)): `n` of 256 bytes, `n / 2` of 1 KiB,
    /// `n / 4` of 4 KiB and `n / 16` of 16 KiB (at least a few of each): about 2.8 MiB for the
    /// default of 1,024. Use
    /// [`task_slots`](Builder::task_slots) to set each class.
    pub fn task_capacity(mut self, n: usize) -> Builder {
        self.tasks = self.tasks.task_capacity(n);
        self
    }

    /// Slots per size class, smallest first (see [`SLOT_SIZES`](crate::runtime::SLOT_SIZES)).
    pub fn task_slots(mut self, per_class: [usize; 4]) -> Builder {
        self.tasks = self.tasks.task_slots(per_class);
        self
    }

    /// How many OS events one wait can return.
    pub fn event_capacity(mut self, n: usize) -> Builder {
        self.driver.event_capacity = n;
        self
    }

    /// How many IO resources (sockets, fds) can be registered at once.
    pub fn io_capacity(mut self, n: usize) -> Builder {
        self.driver.io_capacity = n;
        self
    }

    /// How many threads [`spawn_blocking`](crate::spawn_blocking) may run at once (16 by
    /// default; at least 1). Threads start when needed and exit after
    /// [`KEEP_ALIVE`](crate::blocking::KEEP_ALIVE) idle.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().max_blocking_threads(2).build().unwrap();
    /// assert_eq!(runtime.block_on(runtime.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.driver.max_blocking_threads = n;
        self
    }

    /// How many blocking jobs may wait for a thread before
    /// [`try_spawn_blocking`](crate::blocking::try_spawn_blocking) refuses more (1,024 by
    /// default, reserved at build time; see [`blocking`](crate::blocking)).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = ebbtide_std::Runtime::builder().blocking_queue_capacity(64).build().unwrap();
    /// assert_eq!(runtime.block_on(runtime.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    pub fn blocking_queue_capacity(mut self, n: usize) -> Builder {
        self.driver.blocking_queue_capacity = n;
        self
    }

    /// Reserves the memory and opens the OS's poller.
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::from_builder(&self)
    }
}
