//! Choosing a runtime's capacities.

use std::io;

use super::Runtime;

/// Capacities of a [`Runtime`], chosen before it is built.
///
/// Everything here is reserved at build time; nothing grows later. Running out is an error value
/// where it happens (`SpawnError::PoolFull`, an `io::Error` when an fd is registered), never a
/// panic or a silent allocation. The methods are those of ebbtide-std's `Builder` that make sense
/// on WASI; the defaults are smaller (a wasm module's memory is precious).
///
/// # Examples
///
/// ```no_run
/// use ebbtide_wasi::Runtime;
///
/// let runtime = Runtime::builder().task_capacity(64).io_capacity(16).build().unwrap();
/// assert_eq!(runtime.io_capacity(), 16);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    /// Task memory, the part every host driver shares.
    pub(crate) tasks: ebbtide_host::Options,
    pub(crate) io_capacity: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: 256 tasks, 64 file descriptors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Builder::new().build().unwrap();
    /// assert_eq!(runtime.io_capacity(), 64);
    /// ```
    pub fn new() -> Builder {
        Builder {
            tasks: ebbtide_host::Options::new(256),
            io_capacity: 64,
        }
    }

    /// How many tasks can be alive at once. Slots come in four size classes
    /// ([`SLOT_SIZES`](crate::runtime::SLOT_SIZES)): `n` of 256 bytes, `n / 2` of 1 KiB,
    /// `n / 4` of 4 KiB and `n / 16` of 16 KiB (at least a few of each).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_capacity(16).build().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn task_capacity(mut self, n: usize) -> Builder {
        self.tasks = self.tasks.task_capacity(n);
        self
    }

    /// Slots per size class, smallest first (see [`SLOT_SIZES`](crate::runtime::SLOT_SIZES)).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().task_slots([8, 4, 2, 1]).build().unwrap();
    /// assert_eq!(runtime.task_capacity(), 15);
    /// ```
    pub fn task_slots(mut self, per_class: [usize; 4]) -> Builder {
        self.tasks = self.tasks.task_slots(per_class);
        self
    }

    /// How many file descriptors (stdin, listeners, streams) can be registered at once. One
    /// wait subscribes to at most `2 * n + 1` events (read and write per fd, plus the timer);
    /// the buffers for them are reserved here.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().io_capacity(4).build().unwrap();
    /// assert_eq!(runtime.io_capacity(), 4);
    /// ```
    pub fn io_capacity(mut self, n: usize) -> Builder {
        self.io_capacity = n.max(1);
        self
    }

    /// Ignored on WASI (one wait returns at most `2 * io_capacity + 1` events); kept so that a
    /// program written for ebbtide-std builds unchanged.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Runtime::builder().event_capacity(256).build().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn event_capacity(self, _n: usize) -> Builder {
        self
    }

    /// Reserves the memory.
    ///
    /// # Errors
    ///
    /// None today; the `io::Result` matches ebbtide-std.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let runtime = ebbtide_wasi::Builder::new().build().unwrap();
    /// # let _ = runtime;
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::from_builder(&self)
    }
}
