//! Running external commands: printed before they run, from the workspace root, with the
//! terminal's output streams, and with a clean set of compiler flags.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::setup;

/// Variables that change how every crate compiles. A developer's shell may set them (a
/// `RUSTFLAGS=-Ctarget-cpu=native`, say); CI must not depend on that, so every command runs without
/// them unless it sets one itself with [`Cmd::env`] (loom sets `RUSTFLAGS`, doc sets
/// `RUSTDOCFLAGS`).
const COMPILER_FLAG_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTDOCFLAGS",
];

/// How long one command may run before [`Cmd::run`] kills it (and every process under it) and
/// fails: a hung test must fail its stage with its name, not eat CI's whole time budget. The
/// slowest commands of a cold CI run (Miri over the core tests, a sanitizer's test build) take
/// under 10 minutes on 2 cores; the few that take longer set their own with [`Cmd::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// The workspace the commands run in.
pub struct Workspace {
    /// The directory of the root `Cargo.toml`; every command runs here.
    pub root: PathBuf,
}

impl Workspace {
    /// A path relative to the workspace root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

/// A command line: a program, its arguments, and the variables it sets.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl Cmd {
    /// A command from a line of words separated by spaces, the first one the program (looked up
    /// on `PATH`, after the tool cache's `bin/`): `Cmd::line("rustup target add wasm32-wasip1")`. Add an
    /// argument that contains spaces with [`Cmd::arg`].
    pub fn line(line: &str) -> Cmd {
        let mut words = line.split_whitespace().map(str::to_string);
        let program = words.next().expect("a command line names a program");
        Cmd {
            program,
            args: words.collect(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// `cargo` with the arguments in `args`, separated by spaces: `Cmd::cargo("test --workspace")`.
    pub fn cargo(args: &str) -> Cmd {
        Cmd::line(&format!("cargo {args}"))
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: &str) -> Cmd {
        self.args.push(arg.to_string());
        self
    }

    /// Appends arguments.
    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Cmd {
        self.args.extend(args.into_iter().map(str::to_string));
        self
    }

    /// Sets an environment variable for this command (it is printed with the command).
    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Sets how long [`Cmd::run`] lets the command run ([`DEFAULT_TIMEOUT`] unless set).
    pub fn timeout(mut self, limit: Duration) -> Cmd {
        self.timeout = limit;
        self
    }

    /// Prints the command line, runs it with the inherited stderr and its stdout passed through
    /// line by line, and fails unless it exits with status 0. The error names the tests that
    /// failed (libtest's `test NAME ... FAILED` lines) and the first panic message, so the stage
    /// summary says what broke even when only the end of a long log is kept.
    ///
    /// A command still running after its timeout is killed with everything it started (cargo's
    /// test binaries, say), and the error names the tests that libtest reported as running for
    /// over 60 seconds without finishing.
    pub fn run(&self, ws: &Workspace) -> Result<(), String> {
        println!("$ {self}");
        let mut child = self
            .command(ws)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start `{}`: {e}", self.program))?;
        let timed_out = Arc::new(AtomicBool::new(false));
        let (finished, watch) = mpsc::channel::<()>();
        let watchdog = {
            let timed_out = timed_out.clone();
            let (pid, limit) = (child.id(), self.timeout);
            std::thread::spawn(move || {
                if watch.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
                    timed_out.store(true, Ordering::SeqCst);
                    println!("xtask: still running after {limit:?}: killing process {pid} and its descendants");
                    kill_tree(pid);
                }
            })
        };
        let mut failures = TestFailures::default();
        if let Some(stdout) = child.stdout.take() {
            let mut out = std::io::stdout().lock();
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                let _ = out.write_all(&line);
                let _ = out.write_all(b"\n");
                let _ = out.flush();
                failures.see(&String::from_utf8_lossy(&line));
            }
        }
        let status = child.wait();
        drop(finished);
        let _ = watchdog.join();
        let status = status.map_err(|e| format!("could not wait for `{}`: {e}", self.program))?;
        if timed_out.load(Ordering::SeqCst) {
            return Err(format!(
                "`{}` did not finish within {} s and was killed{}",
                self.short(),
                self.timeout.as_secs(),
                failures.describe()
            ));
        }
        if status.success() {
            Ok(())
        } else {
            let how = match status.code() {
                Some(code) => format!("`{}` exited with code {code}", self.short()),
                None => format!("`{}` was killed by a signal", self.short()),
            };
            Err(format!("{how}{}", failures.describe()))
        }
    }

    /// Runs a command that must fail, and fail for the reason given: it succeeds only if the
    /// command exits with a non-zero status and its output (stdout and stderr, printed here)
    /// contains `reason`. For checks that a wrong build is refused, with the right message.
    pub fn fails_with(&self, ws: &Workspace, reason: &str) -> Result<(), String> {
        println!("$ {self}  (must fail: {reason:?})");
        let output = self
            .command(ws)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not start `{}`: {e}", self.program))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        print!("{text}");
        if output.status.success() {
            Err(format!("`{}` succeeded, but it must fail", self.short()))
        } else if !text.contains(reason) {
            Err(format!(
                "`{}` failed, but its output does not say {reason:?}",
                self.short()
            ))
        } else {
            Ok(())
        }
    }

    /// Runs the command with its output discarded and says whether it succeeded: a probe such as
    /// `cargo +nightly miri --version`. Printed, so the log shows what was checked.
    pub fn succeeds_quietly(&self, ws: &Workspace) -> bool {
        println!("$ {self}  (probe, output hidden)");
        let mut command = self.command(ws);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.status().is_ok_and(|status| status.success())
    }

    /// The command, ready to spawn: from the workspace root, with the tool cache on `PATH` and
    /// without stray compiler flags (for callers that route its output themselves).
    pub(crate) fn command(&self, ws: &Workspace) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&ws.root);
        for var in COMPILER_FLAG_VARS {
            command.env_remove(var);
        }
        command.env("PATH", path_with_tools(ws));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// The program and its first argument, for error messages (`cargo clippy`).
    fn short(&self) -> String {
        match self.args.iter().find(|arg| !arg.starts_with('+')) {
            Some(first) => format!("{} {first}", self.program),
            None => self.program.clone(),
        }
    }
}

/// Shows the command as a line one can paste into a shell.
impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (key, value) in &self.env {
            write!(f, "{key}={} ", shell_quote(value))?;
        }
        write!(f, "{}", shell_quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", shell_quote(arg))?;
        }
        Ok(())
    }
}

/// Kills `pid` and every process below it (children first found, then the parent, so none is
/// reparented out of reach while the tree is walked). On Linux the tree comes from `/proc`; where
/// there is no `/proc`, only `pid` itself is killed.
fn kill_tree(pid: u32) {
    let mut tree = vec![pid];
    let mut next = 0;
    while next < tree.len() {
        let parent = tree[next];
        next += 1;
        tree.extend(children_of(parent));
    }
    // Stop them all first, so none forks or is reaped and replaced while the rest die.
    for pid in &tree {
        let _ = Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status();
    }
    for pid in tree.iter().rev() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// The processes whose parent is `pid`, from `/proc/*/stat` (empty where there is no `/proc`).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for entry in entries.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `PID (COMM) STATE PPID ...`: COMM may hold spaces and parentheses, so parse from the
        // last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if ppid == Some(pid) {
            children.push(child);
        }
    }
    children
}

/// `PATH` with the workspace's tool cache in front, so tools that setup installed there are found.
fn path_with_tools(ws: &Workspace) -> OsString {
    let mut dirs = vec![setup::tools_bin_dir(ws)];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_else(|_| std::env::var_os("PATH").unwrap_or_default())
}

fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:+,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// An emulated Arm board to boot programs on (`qemu-system-arm`).
pub struct Qemu {
    /// `-machine`: `lm3s6965evb`, `microbit`, `mps2-an386`.
    pub machine: &'static str,
    /// `-cpu`, where the machine lets one choose (`None`: the machine's own).
    pub cpu: Option<&'static str>,
    /// How long a run may take before it is killed.
    pub timeout_secs: u32,
}

/// Boots `elf` on `qemu`'s board, prints and returns what the program wrote on stdout (through
/// semihosting), and fails unless it exited with code 0.
///
/// The emulated clock counts instructions and jumps over idle time (`-icount
/// shift=4,sleep=off`, 16 ns an instruction): without that, SysTick follows the host's wall
/// clock, and a loaded CI machine made programs that check their own timing fail.
pub fn run_in_qemu(ws: &Workspace, qemu: &Qemu, elf: &str) -> Result<String, String> {
    let timeout = qemu.timeout_secs.to_string();
    let mut line = vec!["timeout", &timeout, "qemu-system-arm"];
    if let Some(cpu) = qemu.cpu {
        line.extend(["-cpu", cpu]);
    }
    line.extend([
        "-machine",
        qemu.machine,
        "-icount",
        "shift=4,sleep=off",
        "-nographic",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        elf,
    ]);
    // `Cmd` streams output; this one is captured, for the caller to check.
    println!("$ {}", line.join(" "));
    let output = Command::new(line[0])
        .args(&line[1..])
        .current_dir(&ws.root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{}`: {e}", line[0]))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    match output.status.code() {
        Some(0) => Ok(stdout),
        Some(124) => Err(format!("{elf}: QEMU did not exit within {timeout} s")),
        Some(code) => Err(format!(
            "{elf}: the program in QEMU exited with code {code}"
        )),
        None => Err(format!("{elf}: QEMU was killed by a signal")),
    }
}

/// What a libtest run printed about its failures: the names of failed tests and the first panic.
#[derive(Default)]
struct TestFailures {
    failed: Vec<String>,
    /// Tests libtest said have been running for over 60 seconds, until they finish.
    slow: Vec<String>,
    first_panic: Option<String>,
    /// The first panic's message follows its `panicked at FILE:LINE:` line.
    message_next: bool,
}

impl TestFailures {
    /// How many failed tests the error message names; the log has the rest.
    const NAMED: usize = 5;

    fn see(&mut self, line: &str) {
        let line = line.trim_end();
        if std::mem::take(&mut self.message_next) {
            if let Some(panic) = &mut self.first_panic {
                panic.push(' ');
                panic.push_str(line);
            }
        }
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" has been running for over 60 seconds") {
                self.slow.push(name.to_string());
            } else if let Some((name, _)) = rest.split_once(" ... ") {
                self.slow.retain(|slow| slow != name);
            }
        }
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        {
            self.failed.push(name.to_string());
        } else if self.first_panic.is_none() && line.contains("panicked at ") {
            self.first_panic = Some(line.to_string());
            self.message_next = line.ends_with(':');
        }
    }

    /// `""`, or `"; failed: a, b; thread 'a' panicked at ..."` for the error message.
    fn describe(&self) -> String {
        let mut text = String::new();
        if !self.failed.is_empty() {
            let shown = self.failed.len().min(Self::NAMED);
            text.push_str("; failed: ");
            text.push_str(&self.failed[..shown].join(", "));
            if self.failed.len() > shown {
                text.push_str(&format!(" and {} more", self.failed.len() - shown));
            }
        }
        if !self.slow.is_empty() {
            text.push_str("; running for over 60 s: ");
            text.push_str(&self.slow.join(", "));
        }
        if let Some(panic) = &self.first_panic {
            text.push_str("; ");
            text.push_str(panic);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{Cmd, TestFailures, Workspace};
    use std::time::{Duration, Instant};

    /// A command that outlives its timeout is killed with the process it started (which holds
    /// the output pipe open: were it left alive, `run` would wait for it).
    #[test]
    #[cfg(target_os = "linux")]
    fn a_command_past_its_timeout_is_killed_with_its_children() {
        let ws = Workspace {
            root: std::env::temp_dir(),
        };
        let started = Instant::now();
        let result = Cmd::line("sh -c")
            .arg("sleep 60 & sleep 60")
            .timeout(Duration::from_secs(1))
            .run(&ws);
        let error = result.expect_err("killed, so failed");
        assert!(error.contains("did not finish within 1 s"), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn failures_are_named_with_the_first_panic() {
        let mut seen = TestFailures::default();
        for line in [
            "test a ... ok",
            "test b::c ... FAILED",
            "thread 'b::c' panicked at src/x.rs:3:5:",
            "assertion failed: x",
            "test d ... FAILED",
            "thread 'd' panicked at src/y.rs:1:1:",
        ] {
            seen.see(line);
        }
        assert_eq!(
            seen.describe(),
            "; failed: b::c, d; thread 'b::c' panicked at src/x.rs:3:5: assertion failed: x"
        );
        assert_eq!(TestFailures::default().describe(), "");
    }

    #[test]
    fn tests_still_running_are_named() {
        let mut seen = TestFailures::default();
        for line in [
            "test a has been running for over 60 seconds",
            "test b has been running for over 60 seconds",
            "test a ... ok",
        ] {
            seen.see(line);
        }
        assert_eq!(seen.describe(), "; running for over 60 s: b");
    }
}
