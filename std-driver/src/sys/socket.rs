//! Socket options and calls whose availability or result codes differ between platforms, for
//! [`TcpSocket`](crate::net::TcpSocket) (which is built on `socket2`).

use std::io;

use socket2::{SockAddr, Socket};

/// Sets `SO_REUSEPORT`: several sockets may then bind the same address and port (on Linux the
/// kernel spreads incoming connections over the listening ones; on the BSDs and macOS one of
/// them gets them). Solaris and illumos have no such option: an `Unsupported` error.
#[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
pub(crate) fn set_reuseport(socket: &Socket, on: bool) -> io::Result<()> {
    socket.set_reuse_port(on)
}

/// Whether `SO_REUSEPORT` is set.
#[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
pub(crate) fn reuseport(socket: &Socket) -> io::Result<bool> {
    socket.reuse_port()
}

#[cfg(any(target_os = "solaris", target_os = "illumos"))]
pub(crate) fn set_reuseport(_socket: &Socket, _on: bool) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT does not exist on this OS",
    ))
}

#[cfg(any(target_os = "solaris", target_os = "illumos"))]
pub(crate) fn reuseport(_socket: &Socket) -> io::Result<bool> {
    Ok(false)
}

/// Starts connecting the non-blocking `socket` to `addr`: `Ok` when the connection is made or
/// under way (`EINPROGRESS`; the socket turns writable when it is settled either way).
pub(crate) fn start_connect(socket: &Socket, addr: &SockAddr) -> io::Result<()> {
    match socket.connect(addr) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
        Err(e) => Err(e),
    }
}
