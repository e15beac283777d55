//! The small command-line parser the proxy, echo and chat demos share: `--flag value` pairs,
//! `--help`, and the error a binary prints above its usage.
//!
//! # Examples
//!
//! ```
//! use ebbtide_examples::cli::{Flags, Parsed};
//!
//! let args = ["--addr", "127.0.0.1:7000", "--verbose"].map(String::from);
//! let mut flags = Flags::new(args);
//! let mut addr = None;
//! let mut verbose = false;
//! while let Some(flag) = flags.next_flag().unwrap() {
//!     match flag.as_str() {
//!         "--addr" => addr = Some(flags.addr(&flag).unwrap()),
//!         "--verbose" => verbose = true,
//!         other => panic!("unexpected {other}"),
//!     }
//! }
//! assert_eq!(addr, Some("127.0.0.1:7000".parse().unwrap()));
//! assert!(verbose);
//!
//! let mut flags = Flags::new(["--help".to_string()]);
//! assert!(matches!(flags.next_flag(), Err(Parsed::Help)));
//! ```

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

use ebbtide_std::time::Duration;

/// Why parsing stopped before a configuration was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `--help` or `-h`: print the usage and exit successfully.
    Help,
    /// A bad command line: print this message and the usage, and exit with status 2.
    Error(String),
}

impl fmt::Display for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parsed::Help => f.write_str("help requested"),
            Parsed::Error(message) => f.write_str(message),
        }
    }
}

/// The arguments after the program name, read flag by flag.
#[derive(Debug)]
pub struct Flags {
    args: std::vec::IntoIter<String>,
}

impl Flags {
    /// Reads `args` (without the program name).
    pub fn new(args: impl IntoIterator<Item = String>) -> Flags {
        Flags {
            args: args.into_iter().collect::<Vec<_>>().into_iter(),
        }
    }

    /// The next argument as it is, if any (for subcommands).
    pub fn next_word(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The next flag, `None` when the arguments are used up.
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help` or `-h`; [`Parsed::Error`] for an argument that is not a
    /// flag.
    pub fn next_flag(&mut self) -> Result<Option<String>, Parsed> {
        match self.args.next() {
            None => Ok(None),
            Some(arg) if arg == "--help" || arg == "-h" => Err(Parsed::Help),
            Some(arg) if arg.starts_with("--") => Ok(Some(arg)),
            Some(arg) => Err(Parsed::Error(format!("unexpected argument `{arg}`"))),
        }
    }

    /// The value after `flag`.
    ///
    /// # Errors
    ///
    /// [`Parsed::Error`] if the arguments end here.
    pub fn value(&mut self, flag: &str) -> Result<String, Parsed> {
        self.args
            .next()
            .ok_or_else(|| Parsed::Error(format!("{flag} needs a value")))
    }

    /// The value after `flag`, as a socket address (`HOST:PORT`; a host name is resolved now).
    ///
    /// # Errors
    ///
    /// [`Parsed::Error`] if the value is missing or does not resolve.
    pub fn addr(&mut self, flag: &str) -> Result<SocketAddr, Parsed> {
        let value = self.value(flag)?;
        parse_addr(&value).map_err(|error| Parsed::Error(format!("{flag} {value}: {error}")))
    }

    /// The value after `flag`, as a whole number from 1 (`--workers N`).
    ///
    /// # Errors
    ///
    /// [`Parsed::Error`] if the value is missing, not a whole number, or 0.
    pub fn count(&mut self, flag: &str) -> Result<usize, Parsed> {
        let value = self.value(flag)?;
        match value.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Parsed::Error(format!(
                "{flag} {value}: not a whole number from 1"
            ))),
        }
    }

    /// The value after `flag`, as a number of milliseconds.
    ///
    /// # Errors
    ///
    /// [`Parsed::Error`] if the value is missing or not a whole number.
    pub fn millis(&mut self, flag: &str) -> Result<Duration, Parsed> {
        let value = self.value(flag)?;
        value
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| Parsed::Error(format!("{flag} {value}: not a number of milliseconds")))
    }
}

/// How many worker threads a server demo starts when `--workers` is not given: every CPU this
/// process may use ([`std::thread::available_parallelism`], which honours CPU affinity and
/// cgroup quotas), or 1 if that is unknown.
///
/// # Examples
///
/// ```
/// assert!(ebbtide_examples::cli::default_workers() >= 1);
/// ```
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The IO table of each worker of a server demo (`Builder::io_capacity`, whose default is
/// 4,096): room for 16,384 sockets registered at once per worker, so that one worker holds
/// 10,000 concurrent connections with room to spare. Each entry takes 64 bytes, reserved when
/// the runtime is built (1 MiB per worker). The file server's `--io-capacity N` changes it.
pub const DEFAULT_IO_CAPACITY: usize = 16_384;

/// Raises this process's soft limit of open file descriptors (`RLIMIT_NOFILE`) to its hard
/// limit, as servers (and Go's runtime) do at start: the soft limit is often 1,024, which would
/// refuse (`EMFILE`) a server's 1,021st connection however much room the runtime has. Returns
/// the soft limit now in force; on failure it is left as it was, and the error returned.
///
/// # Errors
///
/// The OS's, from `getrlimit` or `setrlimit`.
///
/// # Examples
///
/// ```
/// let limit = ebbtide_examples::cli::raise_fd_limit().unwrap();
/// assert!(limit >= 3);
/// ```
pub fn raise_fd_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid `rlimit` to write.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let mut raised = limit;
        raised.rlim_cur = limit.rlim_max;
        // SAFETY: `raised` is a valid `rlimit`, its soft limit no higher than its hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            // macOS refuses an unlimited soft limit: OPEN_MAX (10,240) is its highest.
            raised.rlim_cur = raised.rlim_max.min(10_240);
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        limit = raised;
    }
    // `rlim_t` is `u64` on Linux, not on every Unix.
    #[allow(clippy::useless_conversion)]
    let soft = u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX);
    Ok(soft)
}

/// `HOST:PORT` as a socket address: parsed if it is an IP address, else resolved (blocking).
///
/// # Errors
///
/// If the name does not resolve to any address.
pub fn parse_addr(value: &str) -> std::io::Result<SocketAddr> {
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    value.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        )
    })
}

/// What a binary does with a parse that stopped: the exit code, after printing `usage` to
/// stdout (`--help`) or the error and `usage` to stderr.
pub fn finish(program: &str, stopped: Parsed, usage: &str) -> std::process::ExitCode {
    match stopped {
        Parsed::Help => {
            print!("{usage}");
            std::process::ExitCode::SUCCESS
        }
        Parsed::Error(message) => {
            eprint!("{program}: {message}\n\n{usage}");
            std::process::ExitCode::from(2)
        }
    }
}
