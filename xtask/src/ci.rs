//! `cargo xtask ci`: every check, in a fixed order, with a summary at the end.
//!
//! # Stages
//!
//! A stage is a row of [`STAGES`]: a name (what `--only` and `--skip` take), a one-line
//! description (shown by `cargo xtask help`), and a function that runs it and returns `Err` with a
//! short reason when it fails. To add a check, write a `fn(&Workspace) -> Result<(), String>` that
//! runs its commands through [`Cmd`] (`Cmd::cargo("test --workspace").run(ws)?`: it prints the
//! command and strips stray `RUSTFLAGS`), add a row after `setup`, and install anything it needs
//! in [`setup`].
//!
//! Every selected stage runs even after one fails, so a single CI run shows every failure; the
//! exit status is non-zero if any failed. The last line of output is always
//! `xtask ci: N passed, M failed`.
//!
//! Each stage ends with a line on the disk (free space, what the build folders hold). On CI, or
//! with under 30 GiB free, the run is lean: a stage's own build folder is deleted when it ends
//! (see [`disk`]).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cmd::{Cmd, Qemu, Workspace};
use crate::{disk, ffi, fuzz, publish, setup};

/// One step of `cargo xtask ci`.
pub struct Stage {
    /// The name used by `--only`, `--skip` and the summary.
    pub name: &'static str,
    /// What the stage checks, in a few words.
    pub about: &'static str,
    run: fn(&Workspace) -> Result<(), String>,
}

/// Every stage, in the order they run.
#[rustfmt::skip]
pub const STAGES: &[Stage] = &[
    stage("setup",       "install rustup components, targets, nightly Miri and rust-src", setup::run),
    stage("fmt",         "code is formatted by rustfmt",                        fmt),
    stage("clippy",      "clippy on every target, warnings are errors",         clippy),
    stage("test",        "unit, integration and doc tests of the workspace",    test),
    stage("doc",         "rustdoc builds without warnings",                     doc),
    stage("no_std",      "ebbtide-core builds for bare-metal Cortex-M; a tick rate other than 1 MHz fails the drivers' build", no_std),
    stage("std-poll",    "ebbtide-std's tests again on mio's poll(2) backend",   std_poll),
    stage("cross",       "ebbtide-std lint-clean for macOS and FreeBSD (kqueue)", cross),
    stage("msrv",        "the published crates check on their rust-version (Cargo.toml)", publish::msrv_stage),
    stage("publish",     "cargo package of the published crates, licenses and README included", publish::publish_stage),
    stage("wasi",        "ebbtide-wasi under wasmtime 46.0.3, the newest wasmtime and Node", wasi),
    stage("miri",        "core, std, WASI driver and hyper glue tests under Miri, the raw task layer's under many seeds", miri),
    stage("sanitizers",  "core, std-driver and hyper tests under AddressSanitizer and ThreadSanitizer", sanitizers),
    stage("fuzz",        "each cargo-fuzz target of fuzz/ for 20 s (libFuzzer, nightly)", fuzz::ci_stage),
    stage("ffi",         "C ABI: header up to date; C tests and examples plain, under ASan/UBSan and valgrind; ctypes demo", ffi::ci_stage),
    stage("loom",        "the loom models in core/tests/loom_*.rs",             loom),
    stage("bench-build", "the benchmarks compile",                              bench_build),
    stage("baremetal",   "the demo app passes in QEMU on a Cortex-M3 and a Cortex-M0", baremetal),
];

const fn stage(
    name: &'static str,
    about: &'static str,
    run: fn(&Workspace) -> Result<(), String>,
) -> Stage {
    Stage { name, about, run }
}

fn fmt(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("fmt --all -- --check").run(ws)
}

/// Optional features that no workspace crate turns on, so `--workspace` alone never builds them:
/// clippy runs once more with them, and the test stage tests them. (`small-timer-queue`,
/// `task-wakers-only`, which implies `task-timers-only`, `no-coop-budget`, `one-timer-queue`
/// and `lifo-batches` have their own test run.)
const EXTRA_FEATURES: &str =
    "ebbtide-std/futures-io,ebbtide-std/tokio-compat,ebbtide-core/task-wakers-only,ebbtide-core/no-coop-budget,ebbtide-core/one-timer-queue,ebbtide-core/lifo-batches";

fn clippy(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("clippy --workspace --all-targets -- -D warnings").run(ws)?;
    Cmd::cargo("clippy -p ebbtide-core -p ebbtide-std --all-targets --features")
        .arg(EXTRA_FEATURES)
        .args(["--", "-D", "warnings"])
        .run(ws)?;
    Cmd::cargo("clippy -p ebbtide-hyper --all-targets --features tls -- -D warnings").run(ws)
}

fn test(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("test --workspace").run(ws)?;
    // The std suite again with every runtime of two workers unless a test says otherwise
    // (`EBBTIDE_WORKER_THREADS`), with work stealing (the default) and without it
    // (`EBBTIDE_WORK_STEALING=0`): the cross-worker paths, and tasks moving between workers,
    // under every test's traffic, and strict thread-per-core. (The same test binaries as the
    // workspace run's: nothing is rebuilt.)
    Cmd::cargo("test -p ebbtide-std --lib --tests")
        .env("EBBTIDE_WORKER_THREADS", "2")
        .run(ws)?;
    Cmd::cargo("test -p ebbtide-std --lib --tests")
        .env("EBBTIDE_WORKER_THREADS", "2")
        .env("EBBTIDE_WORK_STEALING", "0")
        .run(ws)?;
    // Every run below links test binaries of its own (other features): in a lean run, the
    // executables of the runs before go first, so they are never all on disk at once.
    disk::remove_test_executables_if_lean(ws);
    // The other timer queue (a sorted list for small targets, used by `bench/size`): the same
    // behaviour, so the same tests.
    Cmd::cargo("test -p ebbtide-core --features small-timer-queue").run(ws)?;
    disk::remove_test_executables_if_lean(ws);
    // And without code for foreign wakers (`task-wakers-only`, which implies
    // `task-timers-only`; `bench/size` uses it): no table of them in the timer queue and none
    // kept by a sync primitive; they are woken at once instead, which the property test's model
    // knows (a table of 0) and `soundness_task_wakers_only` checks. Not the doctests, nor the
    // few tests marked ignored under it: they wait for timers in `block_on`, whose waker is
    // foreign (it would poll them in a busy loop, and the mock clock they advance never sees a
    // deadline), or count a foreign waker's clones and wakes. With them, as `bench/size` has
    // it, no cooperative budget (`no-coop-budget`: `tests/budget.rs` checks that a ready loop
    // then keeps the executor, and the tests that rely on the budget to end are left out) and
    // task timers in the global queue only (`one-timer-queue`: `tests/timer_queues.rs` checks
    // that another queue takes a task's waker as a foreign one), and batches run newest first
    // (`lifo-batches`: the tests that look at the order of tasks expect its reverse).
    Cmd::cargo("test -p ebbtide-core --lib --tests --features")
        .arg("small-timer-queue,task-wakers-only,no-coop-budget,one-timer-queue,lifo-batches")
        .run(ws)?;
    disk::remove_test_executables_if_lean(ws);
    // `one-timer-queue` under ebbtide-std (feature unification can bring it there): every
    // runtime then uses the global queue (`queue::ONE_TIMER_QUEUE`), and its timers still fire
    // on time, never early, paused clock included.
    Cmd::cargo(
        "test -p ebbtide-std --features ebbtide-core/one-timer-queue --test runtime_time \
         --test timers_never_early --test runtime_tasks --test paused_clock",
    )
    .run(ws)?;
    disk::remove_test_executables_if_lean(ws);
    // The `futures-io` feature: its code (`io::Compat`) is in ebbtide-core, whose whole suite runs
    // with it (Compat's tests are its doc examples); ebbtide-std re-exports it, and its unit and
    // integration tests run on that build of the core. (Not std's doctests again: they are the
    // default run's, and do not use the feature.) The same std run has the Tokio bridges
    // (`tokio-io`: Tokio's IO traits on ebbtide's streams, under tokio-util's codecs and
    // `tokio::io::copy`; `tokio-compat`: `tokio::net` and `tokio::time` inside ebbtide), whose
    // doctests (the `tokio_compat` module and the `tokio_interop` page) run after it.
    Cmd::cargo("test -p ebbtide-core --features futures-io").run(ws)?;
    Cmd::cargo("test -p ebbtide-std --features futures-io,tokio-io,tokio-compat --lib --tests")
        .run(ws)?;
    Cmd::cargo("test -p ebbtide-std --features tokio-io,tokio-compat --doc tokio_").run(ws)?;
    disk::remove_test_executables_if_lean(ws);
    // HTTPS: ebbtide-hyper's `tls` feature (rustls on ring), its tests against curl and its
    // doctests.
    Cmd::cargo("test -p ebbtide-hyper --features tls").run(ws)?;
    // Optimised, the runtime looks at the clock often enough to fire a timer within the first
    // microsecond of its deadline: the only build where a sleep that ended early would show.
    Cmd::cargo("test --release -p ebbtide-std --test timers_never_early").run(ws)
}

fn doc(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("doc --workspace --no-deps")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run(ws)?;
    // The pages that come with features (the Tokio bridges), as docs.rs builds them.
    Cmd::cargo("doc -p ebbtide-std --no-deps --features futures-io,tokio-io,tokio-compat")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run(ws)
}

/// Bare-metal targets: one without compare-and-swap (atomics through critical sections), one with.
const NO_STD_TARGETS: &[&str] = &["thumbv6m-none-eabi", "thumbv7em-none-eabihf"];

fn no_std(ws: &Workspace) -> Result<(), String> {
    for target in NO_STD_TARGETS {
        Cmd::cargo("build -p ebbtide-core --target")
            .arg(target)
            .run(ws)?;
        Cmd::cargo("build -p ebbtide-core --release --target")
            .arg(target)
            .run(ws)?;
    }
    tick_rate_is_checked(ws)
}

/// The crate that turns on an embassy-time-driver tick rate other than the drivers' 1 MHz (a
/// `tick-hz-*` feature, as any crate of a program could): it must not compile.
const TICK_RATE_CHECK: &str = "tests/tick-rate";

/// ebbtide-std and ebbtide-wasi refuse, at compile time and with a message naming the cause,
/// a build whose tick rate is not theirs ([`TICK_RATE_CHECK`]): otherwise every sleep would be
/// off by the ratio of the rates.
fn tick_rate_is_checked(ws: &Workspace) -> Result<(), String> {
    for (driver, target) in [
        ("ebbtide-std", None),
        ("ebbtide-wasi", Some("wasm32-wasip1")),
    ] {
        let mut check = Cmd::cargo("check --manifest-path")
            .arg(&format!("{TICK_RATE_CHECK}/Cargo.toml"))
            // Another tick rate builds every crate below the drivers anew: a folder of its own.
            .env("CARGO_TARGET_DIR", "target/tick-rate");
        if let Some(target) = target {
            check = check.args(["--target", target]);
        }
        check.fails_with(
            ws,
            &format!("{driver} counts time in microseconds and needs embassy-time-driver's"),
        )?;
    }
    Ok(())
}

/// The std driver's whole test suite on mio's poll(2) backend instead of epoll.
fn std_poll(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("test -p ebbtide-std")
        // A changed RUSTFLAGS rebuilds everything: give it a target folder of its own.
        .env("RUSTFLAGS", "--cfg mio_unsupported_force_poll_poll")
        .env("CARGO_TARGET_DIR", "target/poll")
        .run(ws)
}

/// The WASI driver on real hosts: its tests under wasmtime 46.0.3's preview 1 host (the cargo
/// runner's default), the newest wasmtime (PyPI's) and Node's `node:wasi` (which rounds clock
/// waits to milliseconds and has no sockets: the socket tests skip themselves there, as on
/// PyPI's), then the host-side tests (a TCP echo under `-S tcplisten`, hyper's hello server,
/// stdin lines with a timer running, stdin from `/dev/null`, a file and a pipe on every host).
fn wasi(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("clippy -p ebbtide-wasi --target wasm32-wasip1 --all-targets -- -D warnings")
        .run(ws)?;
    // hyper on WASI: the library and its `hello` example (its tests need ebbtide-std).
    Cmd::cargo("clippy -p ebbtide-hyper --target wasm32-wasip1 --lib --examples -- -D warnings")
        .run(ws)?;
    Cmd::cargo("test -p ebbtide-wasi --target wasm32-wasip1").run(ws)?;
    Cmd::cargo("test -p ebbtide-wasi --target wasm32-wasip1")
        .env("EBBTIDE_WASI_HOST", "python3 tools/wasi_run.py")
        .run(ws)?;
    Cmd::cargo("test -p ebbtide-wasi --target wasm32-wasip1")
        .env(
            "EBBTIDE_WASI_HOST",
            "node --no-warnings tools/wasi_node.mjs",
        )
        .run(ws)?;
    Cmd::cargo("test -p ebbtide-tests --test wasi_hosts -- --ignored").run(ws)
}

/// Targets ebbtide-std must compile for, clippy-clean, besides the host.
const CROSS_TARGETS: &[&str] = &["x86_64-apple-darwin", "x86_64-unknown-freebsd"];

fn cross(ws: &Workspace) -> Result<(), String> {
    for target in CROSS_TARGETS {
        // Clippy rather than `check`: code behind a `cfg` for other OSes gets the same lints
        // (an item used only on Linux is dead code there).
        Cmd::cargo("clippy -p ebbtide-std --target")
            .arg(target)
            .args(["--", "-D", "warnings"])
            .run(ws)?;
    }
    Ok(())
}

/// Miri's flags for every run. Set explicitly, so a developer's `MIRIFLAGS` cannot weaken the
/// check. No run but ebbtide-hyper's needs host access (files, sockets, the real clock), so
/// isolation stays on: Miri's clock is then its own and the runs are reproducible.
const MIRI_FLAGS: &str = "-Zmiri-strict-provenance";

/// How many seeds the raw task layer's tests run under ([`CORE_RAW_TESTS`]). A seed picks Miri's
/// thread schedule, which weak-memory value a load sees and which weak compare-exchange fails
/// spuriously, so each one is another interleaving of the cross-thread tests. One seed of those
/// tests takes about 10 s (`budget` most of it); Miri runs the seeds on every core, and 16 of them
/// take about 70 s on 2.
const MIRI_SEEDS: u32 = 16;

/// ebbtide-core's tests of the raw task layer (task lifecycle, wakers, abort, panics, cross-thread
/// wakes, shutdown, full pools, the poll budget, work stealing between two threads), run under [`MIRI_SEEDS`] seeds with every
/// `core/tests/soundness_*.rs`.
const CORE_RAW_TESTS: &[&str] = &[
    "spawn_join",
    "abort",
    "stale_waker",
    "panic",
    "cross_thread_wake",
    "shutdown",
    "pool_full",
    "budget",
    "steal_threads",
];

/// ebbtide-std's tests that run under Miri, with every `std-driver/tests/soundness_*.rs`. Miri
/// emulates epoll, eventfd, threads and the monotonic clock, so runtimes, tasks, timers and
/// `spawn_blocking` run on the real reactor (with the timeout alarm: Miri has no timerfd). The
/// other test files need sockets (which Miri does not emulate), the file system or signals, and
/// Miri stops a whole test binary at the first call it does not support: a soundness test that
/// needs one is marked `#[cfg_attr(miri, ignore = "why")]`. The library's unit tests (the blocking
/// pool's) leak their pools on purpose, which Miri reports; `spawn_blocking` covers the pool
/// instead.
const STD_MIRI_TESTS: &[&str] = &[
    "runtime_tasks",
    "runtime_time",
    "spawn_blocking",
    "task_memory",
];

/// ebbtide-wasi's tests that run on the host under Miri, on the driver's host stub
/// (`wasi-driver/src/sys/unsupported.rs`): it waits for timers with a thread sleep and fails every
/// fd call, so the runtime, tasks, timers and channels run there, and nothing of WASI's IO does.
const WASI_MIRI_TESTS: &[&str] = &["tasks", "deadlock", "sync", "timers"];

/// ebbtide-host's tests that Miri runs: the ones over drivers with no OS resources.
const HOST_MIRI_TESTS: &[&str] = &["runtime_send", "runtime_threads"];

/// Where soundness regression tests live: every test target of ebbtide-core and ebbtide-std whose
/// name starts with this runs under Miri (and the sanitizers, with the rest of the tests).
const SOUNDNESS_PREFIX: &str = "soundness_";

/// The tests under Miri: ebbtide-core's whole suite under one seed, its raw task layer's tests
/// under many, and the drivers' tests that Miri can run. About 5 minutes on 2 cores from a cold
/// target folder (the core's suite 2, the seeds 1, the std driver's tests 1.5).
///
/// The WASI driver's system layer (`wasi-driver/src/sys/wasi.rs`, where its `unsafe` calls are)
/// calls WASI preview 1 imports (`poll_oneoff`, `fd_read`, ...) that Miri does not implement, so
/// its tests run on the host stub instead ([`WASI_MIRI_TESTS`]): everything above that layer, the
/// runtime's task pools and their shutdown included. `-Zmiri-ignore-leaks` for them: a WASI
/// runtime's parts are leaked on purpose when it is built (`Box::leak` in ebbtide-host's
/// `Runtime::new`) and kept for the next runtime when it drops.
fn miri(ws: &Workspace) -> Result<(), String> {
    let core_raw = test_targets(ws, "core/tests", SOUNDNESS_PREFIX)?;
    let std_tests = test_targets(ws, "std-driver/tests", SOUNDNESS_PREFIX)?;
    let core_raw = CORE_RAW_TESTS
        .iter()
        .copied()
        .chain(core_raw.iter().map(String::as_str));
    let std_tests = STD_MIRI_TESTS
        .iter()
        .copied()
        .chain(std_tests.iter().map(String::as_str));
    let runs = [
        // `--no-fail-fast`: one failing test file must not hide the files after it.
        Cmd::cargo("+nightly miri test --no-fail-fast -p ebbtide-core").env("MIRIFLAGS", MIRI_FLAGS),
        Cmd::cargo("+nightly miri test -p ebbtide-core")
            .env(
                "MIRIFLAGS",
                &format!("{MIRI_FLAGS} -Zmiri-many-seeds=0..{MIRI_SEEDS}"),
            )
            .args(core_raw.flat_map(|name| ["--test", name])),
        // Core's default lock on std (a lock per value, `std` feature), over several seeds,
        // and the re-entrancy checks on top of it.
        Cmd::cargo("+nightly miri test -p ebbtide-core --features std --test own_lock --test soundness_reentrancy")
            .env(
                "MIRIFLAGS",
                &format!("{MIRI_FLAGS} -Zmiri-many-seeds=0..{MIRI_SEEDS}"),
            ),
        // Without foreign wakers (`task-wakers-only`): the wake that stands in for keeping a
        // foreign waker re-enters each primitive, unlocked.
        Cmd::cargo("+nightly miri test -p ebbtide-core --features task-wakers-only --test soundness_task_wakers_only")
            .env(
                "MIRIFLAGS",
                &format!("{MIRI_FLAGS} -Zmiri-many-seeds=0..{MIRI_SEEDS}"),
            ),
        // The small-target set of `bench/size`: with `one-timer-queue` too, the join waker is one
        // tagged word in the header (a task's header or a runner's scheduler), and a task's timer
        // entry has no owner field; with `lifo-batches`, a batch ends in a mark, not `null`
        // (`panic`: a batch's rest requeued).
        Cmd::cargo("+nightly miri test -p ebbtide-core --test soundness_task_wakers_only --test join --test timer_queues --test panic --features")
            .arg("small-timer-queue,task-wakers-only,one-timer-queue,no-coop-budget,lifo-batches")
            .env("MIRIFLAGS", MIRI_FLAGS),
        // The C API's unsafe boundary, called from Rust: callbacks that re-enter it (a free
        // refused inside a callback once took ownership of a runtime `ebbtide_rt_run` was
        // borrowing), other threads, forged and stale handles, a free with operations pending.
        Cmd::cargo("+nightly miri test -p ebbtide-ffi --test soundness_ffi").env(
            "MIRIFLAGS",
            &format!("{MIRI_FLAGS} -Zmiri-many-seeds=0..{MIRI_SEEDS}"),
        ),
        // With `tokio-io`, so that `soundness_tokio_io` (Tokio's reads into uninitialised
        // memory on ebbtide's streams) runs among them.
        Cmd::cargo("+nightly miri test -p ebbtide-std --features tokio-io")
            .env("MIRIFLAGS", MIRI_FLAGS)
            .args(std_tests.flat_map(|name| ["--test", name])),
        // The host shell's runtime moving between threads and `Handle::block_on`, over a driver
        // with no OS resources; leaks as the WASI tests do (and on purpose: a runtime dropped
        // away from its `spawn_local` tasks' thread leaks them).
        Cmd::cargo("+nightly miri test -p ebbtide-host")
            .env("MIRIFLAGS", &format!("{MIRI_FLAGS} -Zmiri-ignore-leaks"))
            .args(HOST_MIRI_TESTS.iter().flat_map(|&name| ["--test", name])),
        Cmd::cargo("+nightly miri test -p ebbtide-wasi")
            .env("MIRIFLAGS", &format!("{MIRI_FLAGS} -Zmiri-ignore-leaks"))
            .args(WASI_MIRI_TESTS.iter().flat_map(|&name| ["--test", name])),
        // ebbtide-hyper's glue (`EbbtideIo`'s reads into uninitialised memory, both directions,
        // upgrades, the executor's policy for a full task memory) with hyper over in-memory
        // streams. hyper's server dates each answer with the wall clock, which isolation
        // forbids, so this run has it off (nothing else here reads the host).
        Cmd::cargo("+nightly miri test -p ebbtide-hyper --test glue").env(
            "MIRIFLAGS",
            &format!("{MIRI_FLAGS} -Zmiri-disable-isolation"),
        ),
    ];
    run_each(ws, &runs)
}

/// Runs every command, even after one fails, so that one run of the stage shows every failure.
pub(crate) fn run_each(ws: &Workspace, cmds: &[Cmd]) -> Result<(), String> {
    let failures: Vec<String> = cmds.iter().filter_map(|cmd| cmd.run(ws).err()).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The target the sanitizers build for: the CI machine's. `-Zbuild-std` needs an explicit one.
const SANITIZER_TARGET: &str = "x86_64-unknown-linux-gnu";

/// LeakSanitizer's suppressions: tests that leak on purpose, each with its reason.
const LSAN_SUPPRESSIONS: &str = ".ci/lsan-suppressions.txt";

/// ebbtide-core's and ebbtide-std's unit and integration tests under AddressSanitizer (with its
/// leak checker), then under ThreadSanitizer: use after free, out-of-bounds accesses, leaked
/// tasks and data races in the real runtime on real threads and sockets, which Miri cannot run.
///
/// Both rebuild the standard library with the sanitizer (`-Zbuild-std`): ThreadSanitizer must see
/// std's own locks and atomics, or every hand-over through them is a race, and the sanitizer flag
/// must match across every crate of a binary. Each has a target folder of its own, since the flags
/// differ. Doctests do not run (`--lib --tests`): rustdoc would need the flags too, and they
/// test examples, not the runtime. About 3.5 minutes on 2 cores from cold target folders (most of
/// it building std twice), 1 minute warm.
///
/// ThreadSanitizer does not understand standalone fences; there are none in either crate
/// (`critical-section`'s std implementation is a `Mutex`, and `portable-atomic` on x86-64 is
/// std's atomics).
fn sanitizers(ws: &Workspace) -> Result<(), String> {
    let suppressions = ws.path(LSAN_SUPPRESSIONS);
    let runs = [
        sanitized("address", "target/asan").env(
            "LSAN_OPTIONS",
            &format!("suppressions={}", suppressions.display()),
        ),
        // ThreadSanitizer over runtimes of two workers that steal from each other
        // (`EBBTIDE_WORKER_THREADS`, `EBBTIDE_WORK_STEALING`): every std test's traffic then
        // crosses threads wherever it can, and tasks move between them.
        sanitized("thread", "target/tsan")
            .env("EBBTIDE_WORKER_THREADS", "2")
            .env("EBBTIDE_WORK_STEALING", "1"),
    ];
    // Each run even after the other fails, as `run_each`; a lean run deletes AddressSanitizer's
    // build (1.6 GiB) before ThreadSanitizer's, so the two are never on disk together.
    let [asan, tsan] = runs;
    let asan = asan.run(ws);
    disk::remove_if_lean(ws, "target/asan");
    let tsan = tsan.run(ws);
    match (asan, tsan) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
        (Err(a), Err(t)) => Err(format!("{a}; {t}")),
    }
}

/// The tests of ebbtide-core, ebbtide-std and ebbtide-hyper, built with `-Zsanitizer=<sanitizer>` into
/// `target_dir`. `--no-fail-fast`: a finding in one test binary does not hide the others'.
fn sanitized(sanitizer: &str, target_dir: &str) -> Cmd {
    Cmd::cargo("+nightly test -Zbuild-std --lib --tests --no-fail-fast")
        .args([
            "-p",
            "ebbtide-core",
            "-p",
            "ebbtide-std",
            // hyper on ebbtide: its glue's unsafe reads, and HTTP/2's tasks on two workers.
            "-p",
            "ebbtide-hyper",
            "--target",
            SANITIZER_TARGET,
        ])
        .env("RUSTFLAGS", &format!("-Zsanitizer={sanitizer}"))
        .env("CARGO_TARGET_DIR", target_dir)
        // For the few tests whose figures a sanitizer changes (RSS: AddressSanitizer keeps freed
        // memory in quarantine and maps shadow memory), so they check what still holds.
        .env("EBBTIDE_SANITIZER", sanitizer)
}

/// Where loom models live: every test target of ebbtide-core whose name starts with this.
const LOOM_PREFIX: &str = "loom_";

fn loom(ws: &Workspace) -> Result<(), String> {
    let models = test_targets(ws, "core/tests", LOOM_PREFIX)?;
    if models.is_empty() {
        return Err(format!(
            "no loom models found: the project requires loom models in core/tests/{LOOM_PREFIX}*.rs"
        ));
    }
    println!("loom models: {}", models.join(", "));
    let mut cmd = Cmd::cargo("test -p ebbtide-core --release")
        // `--cfg loom` swaps the atomics for loom's; a separate target folder keeps the changed
        // flags from rebuilding the normal one.
        .env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TARGET_DIR", "target/loom");
    for model in &models {
        cmd = cmd.arg("--test").arg(model);
    }
    cmd.run(ws)?;
    // Batches run as taken (`lifo-batches`): a batch then ends in the mark its first push found,
    // not in `null`, where the executor pops it, a thief takes it, and a panic requeues it.
    Cmd::cargo("test -p ebbtide-core --release --features lifo-batches")
        .args(["--test", "loom_run_queue", "--test", "loom_steal"])
        .env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TARGET_DIR", "target/loom")
        .run(ws)
}

/// The names of the test targets in `dir` (a crate's `tests` folder, relative to the workspace
/// root) whose name starts with `prefix`: `<prefix>*.rs` and `<prefix>*/main.rs`, sorted.
fn test_targets(ws: &Workspace, dir: &str, prefix: &str) -> Result<Vec<String>, String> {
    let dir = ws.path(dir);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".rs").filter(|_| path.is_file()) {
            targets.push(stem.to_string());
        } else if path.join("main.rs").is_file() {
            targets.push(name.to_string());
        }
    }
    targets.sort();
    Ok(targets)
}

fn bench_build(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("bench -p ebbtide-core -p ebbtide-std --no-run").run(ws)?;
    bench_bare(ws)
}

/// `cargo xtask bench`'s `exec_ebbtide_bare` (a crate outside the workspace, which `fmt --all`
/// and `clippy --workspace` do not see): formatted, lint-free, and every workload it lists runs
/// once and prints its sample.
fn bench_bare(ws: &Workspace) -> Result<(), String> {
    use crate::bench::BARE_DIR;
    let manifest = format!("{BARE_DIR}/Cargo.toml");
    // A folder of its own: ebbtide-core with other features than the workspace's.
    let target = "target/bench-bare";
    Cmd::cargo("fmt --check --manifest-path")
        .arg(&manifest)
        .run(ws)?;
    Cmd::cargo("clippy --release --manifest-path")
        .arg(&manifest)
        .args(["--target-dir", target, "--", "-D", "warnings"])
        .run(ws)?;
    Cmd::cargo("build --release --manifest-path")
        .arg(&manifest)
        .args(["--target-dir", target])
        .run(ws)?;
    let binary = ws.path(&format!("{target}/release/exec_ebbtide_bare"));
    let list = std::process::Command::new(&binary)
        .arg("list")
        .output()
        .map_err(|e| format!("running {}: {e}", binary.display()))?;
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let mut ran = 0;
    for line in list.lines() {
        let (runtime, workload) = line
            .split_once(' ')
            .ok_or_else(|| format!("`exec_ebbtide_bare list` printed `{line}`"))?;
        let out = std::process::Command::new(&binary)
            .args([runtime, workload, "1"])
            .output()
            .map_err(|e| format!("running {}: {e}", binary.display()))?;
        let printed = String::from_utf8_lossy(&out.stdout);
        let expected = format!("\"workload\":\"{workload}\",\"runtime\":\"{runtime}\"");
        if !out.status.success() || !printed.contains(&expected) {
            return Err(format!(
                "exec_ebbtide_bare {runtime} {workload} 1 failed ({}): {}{}",
                out.status,
                printed,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        ran += 1;
    }
    if ran < 14 {
        return Err(format!("exec_ebbtide_bare lists {ran} workloads, not 14"));
    }
    println!("exec_ebbtide_bare: {ran} workloads ran once each");
    Ok(())
}

/// The bare-metal demo: a crate of its own (excluded from the workspace), one program for two
/// boards (its `build.rs` picks the board, and the memory layout, from the target).
const BAREMETAL_DIR: &str = "examples/baremetal";
/// How its summary line starts when every check in it passed.
const BAREMETAL_OK: &str = "ebbtide-baremetal: OK 10 messages";

/// A board the demo runs on: the target that builds for it, and what QEMU calls its CPU and
/// the machine.
struct Board {
    target: &'static str,
    cpu: &'static str,
    machine: &'static str,
}

/// Every board the demo runs on.
const BAREMETAL_BOARDS: &[Board] = &[
    // TI LM3S6965, with compare-and-swap.
    Board {
        target: "thumbv7m-none-eabi",
        cpu: "cortex-m3",
        machine: "lm3s6965evb",
    },
    // BBC micro:bit (nRF51822), without compare-and-swap: ebbtide-core's atomics go through
    // critical sections.
    Board {
        target: "thumbv6m-none-eabi",
        cpu: "cortex-m0",
        machine: "microbit",
    },
];

impl Board {
    /// QEMU booting this board, as the board's `runner` in
    /// `examples/baremetal/.cargo/config.toml` does.
    fn qemu(&self) -> Qemu {
        Qemu {
            machine: self.machine,
            cpu: Some(self.cpu),
            timeout_secs: 60,
        }
    }
}

/// Builds examples/baremetal in release for each of [`BAREMETAL_BOARDS`], boots it in QEMU,
/// checks its exit code (0 only if every check in the program passed) and its summary line, and
/// prints its size.
fn baremetal(ws: &Workspace) -> Result<(), String> {
    for board in BAREMETAL_BOARDS {
        // Cargo reads `.cargo/config.toml` from the working directory (the workspace root here),
        // not from the manifest's folder: pass the demo's own (linker script) explicitly. It
        // builds into a target folder of its own, which the lean disk mode deletes after the
        // stage.
        Cmd::cargo("build --release --manifest-path")
            .arg(&format!("{BAREMETAL_DIR}/Cargo.toml"))
            .arg("--config")
            .arg(&format!("{BAREMETAL_DIR}/.cargo/config.toml"))
            .args(["--target", board.target])
            .env("CARGO_TARGET_DIR", &format!("{BAREMETAL_DIR}/target"))
            .run(ws)?;

        let elf = format!(
            "{BAREMETAL_DIR}/target/{}/release/ebbtide-baremetal",
            board.target
        );
        let stdout = crate::cmd::run_in_qemu(ws, &board.qemu(), &elf)?;
        if !stdout.lines().any(|line| line.starts_with(BAREMETAL_OK)) {
            return Err(format!(
                "{elf}: no `{BAREMETAL_OK} ...` line in QEMU's output"
            ));
        }

        // Flash is text + data, RAM is data + bss.
        Cmd::line("arm-none-eabi-size").arg(&elf).run(ws)?;
    }

    // The size benchmark's two pairs of apps (the small app and the sensor app, each on
    // ebbtide-core and on embassy-executor, Cortex-M4F): they must keep building, running and
    // agreeing, or `cargo xtask bench` compares nothing.
    crate::size::run_qemu(ws)
}

/// Which stages to run, from `--only` and `--skip`.
pub struct Selection {
    only: Vec<&'static str>,
    skip: Vec<&'static str>,
}

impl Selection {
    /// Parses the arguments after `ci`: `--only <stages>` and `--skip <stages>`, repeatable, each a
    /// name or a comma-separated list (`--only=fmt,clippy` works too).
    pub fn parse(args: &[String]) -> Result<Selection, String> {
        let mut selection = Selection {
            only: Vec::new(),
            skip: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_string())),
                None => (arg.as_str(), None),
            };
            let list = match flag {
                "--only" => &mut selection.only,
                "--skip" => &mut selection.skip,
                _ => return Err(format!("unknown argument `{arg}` to `ci`")),
            };
            let value = match inline.or_else(|| args.next().cloned()) {
                Some(value) => value,
                None => return Err(format!("{flag} needs a stage name")),
            };
            for name in value.split(',').filter(|name| !name.is_empty()) {
                list.push(stage_named(name)?.name);
            }
        }
        if !STAGES.iter().any(|stage| selection.includes(stage)) {
            return Err("--only and --skip leave no stage to run".to_string());
        }
        Ok(selection)
    }

    fn includes(&self, stage: &Stage) -> bool {
        (self.only.is_empty() || self.only.contains(&stage.name))
            && !self.skip.contains(&stage.name)
    }
}

fn stage_named(name: &str) -> Result<&'static Stage, String> {
    STAGES
        .iter()
        .find(|stage| stage.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = STAGES.iter().map(|stage| stage.name).collect();
            format!(
                "no stage named `{name}`; the stages are: {}",
                names.join(", ")
            )
        })
}

enum Outcome {
    Passed(Duration),
    Failed(Duration, String),
    Skipped,
}

/// Runs the selected stages and prints the summary.
pub fn run(root: &std::path::Path, selection: &Selection) -> ExitCode {
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    let selected = STAGES
        .iter()
        .filter(|stage| selection.includes(stage))
        .count();
    println!(
        "xtask ci: running {selected} of {} stages in {}",
        STAGES.len(),
        ws.root.display()
    );

    let (lean, why) = disk::decide_lean_mode(&ws);
    println!("{}", disk::report(&ws));
    if lean {
        println!("lean ({why}): each stage's own build folder is removed when the stage ends");
    }

    let started = Instant::now();
    let mut outcomes = Vec::new();
    let mut position = 0;
    for stage in STAGES {
        if !selection.includes(stage) {
            outcomes.push(Outcome::Skipped);
            continue;
        }
        position += 1;
        println!();
        println!(
            "==== [{position}/{selected}] {}: {} ====",
            stage.name, stage.about
        );
        let stage_started = Instant::now();
        let result = (stage.run)(&ws);
        let elapsed = stage_started.elapsed();
        match result {
            Ok(()) => {
                println!(
                    "==== {}: passed in {}",
                    stage.name,
                    format_duration(elapsed)
                );
                outcomes.push(Outcome::Passed(elapsed));
            }
            Err(reason) => {
                println!(
                    "==== {}: FAILED in {}: {reason}",
                    stage.name,
                    format_duration(elapsed)
                );
                outcomes.push(Outcome::Failed(elapsed, reason));
            }
        }
        if lean {
            disk::remove_scratch(&ws, stage.name);
        }
        println!("{}", disk::report(&ws));
    }

    print_summary(&outcomes, started.elapsed())
}

fn print_summary(outcomes: &[Outcome], total: Duration) -> ExitCode {
    let width = STAGES
        .iter()
        .map(|stage| stage.name.len())
        .max()
        .unwrap_or(0);
    let (mut passed, mut failed) = (0, 0);
    println!();
    println!("==== summary ====");
    println!("{:<width$}  {:<7}  {:>9}", "stage", "status", "duration");
    for (stage, outcome) in STAGES.iter().zip(outcomes) {
        let (status, duration, reason) = match outcome {
            Outcome::Passed(elapsed) => {
                passed += 1;
                ("ok", format_duration(*elapsed), String::new())
            }
            Outcome::Failed(elapsed, reason) => {
                failed += 1;
                ("FAILED", format_duration(*elapsed), format!("  {reason}"))
            }
            Outcome::Skipped => ("skipped", "-".to_string(), String::new()),
        };
        println!("{:<width$}  {status:<7}  {duration:>9}{reason}", stage.name);
    }
    println!(
        "{:<width$}  {:<7}  {:>9}",
        "total",
        "",
        format_duration(total)
    );
    println!("xtask ci: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `4.2s`, or `3m07.5s` past a minute.
fn format_duration(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() as u64;
    let (minutes, tenths) = (tenths / 600, tenths % 600);
    if minutes == 0 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        format!("{minutes}m{:02}.{}s", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_targets_are_the_prefixed_files_and_folders_with_a_main() {
        let root = std::env::temp_dir().join(format!("xtask-test-targets-{}", std::process::id()));
        let tests = root.join("tests");
        std::fs::create_dir_all(tests.join("soundness_folder")).unwrap();
        std::fs::create_dir_all(tests.join("soundness_no_main")).unwrap();
        for file in [
            "soundness_waker.rs",
            "soundness_folder/main.rs",
            "soundness_no_main/helper.rs",
            "soundness_notes.md",
            "spawn_join.rs",
        ] {
            std::fs::write(tests.join(file), "").unwrap();
        }
        let ws = Workspace { root: root.clone() };
        let found = test_targets(&ws, "tests", SOUNDNESS_PREFIX);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), ["soundness_folder", "soundness_waker"]);
    }
}
