//! The contract between the shell and an OS driver: [`HostDriver`].

use std::io;

use ebbtide_core::driver::Park;

/// What a host driver adds to [`Park`] so that the shell can build, wake, close and reuse it.
///
/// A [`Runtime`](crate::Runtime) is `Send`: it may be built on one thread and run (`park`ed) on
/// another, so a driver must wait on whichever thread calls [`Park::park`], and
/// [`unpark`](HostDriver::unpark) must end that wait (an OS poller any thread can wait in does).
///
/// # Examples
///
/// A driver with no IO, which parks its thread (`core/tests/driver_thread_park.rs` has a fuller
/// one, with a time driver, running core's behaviour tests):
///
/// ```
/// use std::convert::Infallible;
/// use std::thread::Thread;
/// use ebbtide_core::driver::{Park, Wait};
/// use ebbtide_host::HostDriver;
///
/// /// Parks the thread that built it; `thread::park` latches an `unpark` that came first. (So its
/// /// runtime must run on the thread that built it: this sketch does not move.)
/// struct ThreadDriver(&'static Thread);
///
/// impl Park for ThreadDriver {
///     type Error = Infallible;
///     const FIRES_TIMERS: bool = false; // this sketch links no time driver
///     fn now(&self) -> u64 {
///         unreachable!()
///     }
///     fn park(&mut self, wait: Wait) -> Result<(), Infallible> {
///         if wait != Wait::Poll {
///             std::thread::park();
///         }
///         Ok(())
///     }
/// }
///
/// impl HostDriver for ThreadDriver {
///     type Shared = Thread;
///     type Options = ();
///     fn new(_: &()) -> std::io::Result<Self> {
///         Ok(ThreadDriver(Box::leak(Box::new(std::thread::current()))))
///     }
///     fn shared(&self) -> &'static Thread {
///         self.0
///     }
///     fn real_now() -> u64 {
///         unreachable!("this sketch links no time driver")
///     }
///     fn unpark(thread: &Thread) {
///         thread.unpark();
///     }
///     // A dropped runtime's parts serve a new runtime on the same thread only.
///     fn can_reuse(&self, _: &()) -> bool {
///         self.0.id() == std::thread::current().id()
///     }
/// }
///
/// let runtime = ebbtide_host::Runtime::<ThreadDriver>::new(&Default::default(), &()).unwrap();
/// let answer = runtime.block_on(async {
///     let task = ebbtide_host::spawn(async { 6 * 7 }).unwrap();
///     task.await.unwrap()
/// });
/// assert_eq!(answer.unwrap(), 42);
/// ```
pub trait HostDriver: Park + Send + Sized + 'static {
    /// What every thread may reach of the driver (the wake-up channel, the table of IO
    /// resources): leaked when the driver is built, so wakers and IO objects that outlive the
    /// runtime still find it. [`Handle::driver`](crate::Handle::driver) gives it to the driver's IO types.
    type Shared: Send + Sync + 'static;
    /// The driver's own settings (from its builder).
    type Options: Send + Sync + 'static;

    /// Builds a driver (opens the OS's poller, reserves its tables).
    ///
    /// # Errors
    ///
    /// What the OS says when the driver's resources cannot be had.
    fn new(options: &Self::Options) -> io::Result<Self>;

    /// The driver's shared part.
    fn shared(&self) -> &'static Self::Shared;

    /// The OS's clock in ticks of `ebbtide_core::time::TICK_HZ`: what the driver's time driver
    /// gives `embassy_time_driver::now()`, read directly. The shell reads it for the paused
    /// clock of [`time::pause`](crate::time::pause), where `now()` answers the virtual time.
    fn real_now() -> u64;

    /// Whether work outside the tasks is in flight that will wake a task when it is done (a
    /// blocking pool's jobs): a [paused](crate::time::pause) clock does not jump to its next
    /// timer meanwhile. The default: never.
    fn is_busy(shared: &Self::Shared) -> bool {
        let _ = shared;
        false
    }

    /// Ends the driver's current or next wait, from any thread: the executor's wake hook
    /// (rule 2 of [`ebbtide_core::driver`]). The shell calls it only from threads that do not
    /// run this runtime.
    fn unpark(shared: &Self::Shared);

    /// The runtime is shutting down: from now on the driver's IO objects fail, and whatever it
    /// runs besides tasks (helper threads) stops. Called once, on the runtime's thread, before
    /// its tasks are cancelled. The default does nothing.
    fn close(shared: &Self::Shared) {
        let _ = shared;
    }

    /// Whether the driver, were it told to wait with no timer ([`Wait::Forever`]), would report
    /// a deadlock instead of waiting, because nothing but a timer could wake the program now
    /// (ebbtide-wasi when no task waits for IO). With the `deadlock-detection` feature, the
    /// runtime of such a driver does not wait for timers that may be stale (dropped before they
    /// fired, see `ebbtide_core::time::queue::dropped_timers`): it wakes what is queued, lets it
    /// queue again what it still waits for, and waits for that. The default: never.
    ///
    /// [`Wait::Forever`]: ebbtide_core::driver::Wait::Forever
    fn reports_deadlock(&self) -> bool {
        false
    }

    /// Whether this driver, of a dropped runtime, can serve a new runtime built with `options`
    /// (the capacities it reserved match). The default: always.
    fn can_reuse(&self, options: &Self::Options) -> bool {
        let _ = options;
        true
    }

    /// Makes a closed driver serve a new runtime built with `options` (for which
    /// [`can_reuse`](HostDriver::can_reuse) said yes). The default does nothing.
    ///
    /// # Errors
    ///
    /// What the OS says; the parts are then leaked and a new driver is built.
    fn reopen(&mut self, options: &Self::Options) -> io::Result<()> {
        let _ = options;
        Ok(())
    }
}
