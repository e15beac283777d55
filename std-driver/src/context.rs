//! The current thread's runtime, as the std driver's IO types need it.

use std::io;

use crate::reactor;

/// The current runtime's reactor, or an error that says there is none.
pub(crate) fn reactor() -> io::Result<&'static reactor::Reactor> {
    crate::runtime::current_driver().map(|driver| driver.reactor)
}
