//! Flash and RAM of the same apps built on ebbtide-core and on embassy-executor.
//!
//! Two programs, each written once per runtime (a pair of crates in `bench/size/`), the ebbtide
//! one built twice: with the primitives that fit the app's communication (each channel has one
//! producer: `spsc` channels; the sensor app's stop is sent once: a `oneshot` channel, where
//! embassy's app uses a `Signal`), and, with the app's feature `general`, with the primitives for
//! any number of producers and waiters, tokio's choice for any such app (`mpsc` channels, whose
//! waiting senders are served in FIFO order; a `Notify`), as the runtime `ebbtide, mpsc` (the
//! small app) or `ebbtide, mpsc + Notify` (the sensor app):
//!
//! - the small app, `ebbtide-app` and `embassy-app`: a producer task sends a counter every 10 ms
//!   over a channel of capacity 4, a consumer sums 50 of them, a third task counts 8 ticks of a
//!   25 ms interval, then the consumer prints `size-app: sum 1275 ticks 8 OK` and exits;
//! - the sensor app, `ebbtide-sensor` and `embassy-sensor` (issue 16): a sensor/actuator loop of
//!   five task kinds and three channels. A sensor samples every 10 ms (an interval; eight samples
//!   fail), a controller `select`s between a reading, a setpoint change and a 50 ms watchdog and
//!   sends drive or safe-state commands to an actuator, a commander changes the setpoint three
//!   times, a heartbeat beats every 100 ms until the actuator's notification (ebbtide `Notify`,
//!   embassy-sync `Signal`) stops it; it then prints `sensor-app: readings 92 missed 8 ... OK`,
//!   counts and sums that do not depend on the order in which a `select` or an executor takes
//!   the events of one tick (`bench/size/ebbtide-sensor/src/workload.rs`, shared by both).
//!
//! Every app links the same board crate (`bench/size/systick-driver`: memory map, SysTick
//! embassy-time-driver, panic handler), the same critical-section implementation and the same
//! release profile (`opt-level = "z"`, fat LTO, one codegen unit, `panic = "abort"`), for
//! `thumbv7em-none-eabihf`, and prints without `core::fmt`. Within a pair only the runtime
//! differs.
//!
//! - [`measure`] builds all six (in `target/size`, the `general` builds in `target/size-general`),
//!   reads the sections with
//!   `arm-none-eabi-size -A` and attributes the symbols of `arm-none-eabi-nm` to crates.
//! - [`run_qemu`] boots all six on QEMU's `mps2-an386` (Cortex-M4F) and checks that each exits
//!   with code 0 having printed its pair's line, and that the apps of a pair print the same.
//! - [`markdown`] renders the measurements: one table per pair, the ratios, the crates.
//!
//! Flash is `.vector_table + .text + .rodata + .data` (the initial values of `.data` are stored
//! in flash), RAM is `.data + .bss`; the stack is not counted (cortex-m-rt puts it at the top of
//! RAM, outside any section).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::cmd::{Cmd, Qemu, Workspace};

/// The target both apps are built for.
const TARGET: &str = "thumbv7em-none-eabihf";
/// Their target directory (relative to the workspace root), apart from the workspace's own.
const TARGET_DIR: &str = "target/size";
/// The target directory of the builds with the apps' feature `general` (the same packages with
/// other features: a directory of their own keeps both images).
const TARGET_DIR_GENERAL: &str = "target/size-general";
/// QEMU booting the Cortex-M4F board whose memory map `bench/size/systick-driver/memory.x`
/// declares, killed if it hangs. Its clock counts instructions and jumps over `wfi` (see
/// [`run_in_qemu`](crate::cmd::run_in_qemu)): without that, SysTick follows the host's wall
/// clock and a loaded CI machine made the app's 50 sleeps of 10 ms more than 50 ms late in total
/// (the run failed its timing check while sum and ticks were right).
const QEMU_CORTEX_M4: Qemu = Qemu {
    machine: "mps2-an386",
    cpu: None,
    timeout_secs: 20,
};
/// The crates that make up ebbtide's runtime (as symbol path prefixes).
const EBBTIDE_CRATES: &[&str] = &[
    "ebbtide_core",
    "heapless",
    "pin_utils",
    "portable_atomic",
    "embedded_io",
    "embedded_io_async",
];
/// The crates that make up embassy's runtime (`embassy_futures`: `select`, in the sensor app).
const EMBASSY_CRATES: &[&str] = &[
    "embassy_executor",
    "embassy_executor_timer_queue",
    "embassy_futures",
    "embassy_sync",
    "embassy_time",
    "embassy_time_queue_utils",
    "cordyceps",
    "heapless",
];

/// One program on both runtimes.
struct Pair {
    /// Its name: the first word of the line it prints, and of its table's heading.
    app: &'static str,
    /// What it does, for the table's heading.
    summary: &'static str,
    /// The line every app of the pair prints when the run checked out.
    ok_line: &'static str,
    /// The app on ebbtide-core, the same with the general primitives, then the one on
    /// embassy-executor.
    apps: [App; 3],
}

/// One app of a pair.
struct App {
    /// "ebbtide", "ebbtide, mpsc" (+ " + Notify") or "embassy".
    runtime: &'static str,
    /// Its folder, relative to the workspace root.
    dir: &'static str,
    /// Its package (and binary) name.
    package: &'static str,
    /// The crates that make up its runtime (as symbol path prefixes).
    runtime_crates: &'static [&'static str],
    /// The app's features to build with.
    features: &'static str,
    /// Its target directory, relative to the workspace root.
    target_dir: &'static str,
}

const PAIRS: &[Pair] = &[
    Pair {
        app: "size-app",
        summary: "3 tasks: a producer sending 50 counters every 10 ms over a channel of \
                  capacity 4, a consumer summing them, a 25 ms ticker counting 8 ticks",
        ok_line: "size-app: sum 1275 ticks 8 OK",
        apps: [
            App {
                runtime: "ebbtide",
                dir: "bench/size/ebbtide-app",
                package: "size-ebbtide-app",
                runtime_crates: EBBTIDE_CRATES,
                features: "",
                target_dir: TARGET_DIR,
            },
            App {
                runtime: "ebbtide, mpsc",
                dir: "bench/size/ebbtide-app",
                package: "size-ebbtide-app",
                runtime_crates: EBBTIDE_CRATES,
                features: "general",
                target_dir: TARGET_DIR_GENERAL,
            },
            App {
                runtime: "embassy",
                dir: "bench/size/embassy-app",
                package: "size-embassy-app",
                runtime_crates: EMBASSY_CRATES,
                features: "",
                target_dir: TARGET_DIR,
            },
        ],
    },
    Pair {
        app: "sensor-app",
        summary: "5 tasks, 3 channels: a sensor sampling every 10 ms, a controller selecting \
                  between a reading, a setpoint change and a 50 ms watchdog, an actuator, a \
                  commander changing the setpoint 3 times, a 100 ms heartbeat stopped by a \
                  notification",
        ok_line: "sensor-app: readings 92 missed 8 setpoints 3 drives 92 sum 1664 safe 2 trips 2 \
                  beats 10 OK",
        apps: [
            App {
                runtime: "ebbtide",
                dir: "bench/size/ebbtide-sensor",
                package: "size-ebbtide-sensor",
                runtime_crates: EBBTIDE_CRATES,
                features: "",
                target_dir: TARGET_DIR,
            },
            App {
                runtime: "ebbtide, mpsc + Notify",
                dir: "bench/size/ebbtide-sensor",
                package: "size-ebbtide-sensor",
                runtime_crates: EBBTIDE_CRATES,
                features: "general",
                target_dir: TARGET_DIR_GENERAL,
            },
            App {
                runtime: "embassy",
                dir: "bench/size/embassy-sensor",
                package: "size-embassy-sensor",
                runtime_crates: EMBASSY_CRATES,
                features: "",
                target_dir: TARGET_DIR,
            },
        ],
    },
];

/// The sizes of one app, in bytes.
#[derive(Clone, Debug)]
pub struct AppSize {
    /// The program: "size-app" or "sensor-app".
    pub app: &'static str,
    /// "ebbtide", "ebbtide, mpsc" (+ " + Notify") or "embassy".
    pub runtime: &'static str,
    /// `.vector_table` (1 KiB on a Cortex-M4: 16 exceptions and 240 interrupts).
    pub vector_table: u64,
    /// `.text`: code.
    pub text: u64,
    /// `.rodata`: constants.
    pub rodata: u64,
    /// `.data`: statics with non-zero initial values (in RAM, and their image in flash).
    pub data: u64,
    /// `.bss` (and `.uninit`): zero-initialised statics.
    pub bss: u64,
    /// `vector_table + text + rodata + data`.
    pub flash: u64,
    /// `data + bss`; the stack is not counted.
    pub ram: u64,
    /// Bytes per crate, from the symbol table, largest flash first. Symbols without a crate path
    /// are attributed by name (`SysTick` and `_embassy_time_*` to the board crate, whose driver
    /// inlines the runtime's timer queue; `memcpy`, `__aeabi_*` to `compiler_builtins`; the vector
    /// table and `Reset` to `cortex_m_rt`); `(unattributed)` is padding and unnamed bytes.
    pub crates: Vec<CrateSize>,
    /// Flash of the runtime's crates (see `App::runtime_crates`).
    pub runtime_flash: u64,
    /// RAM of the runtime's crates. The task storage is a static of the app on both runtimes
    /// (an ebbtide `TaskPool`, embassy's per-task `POOL`s) and counts as the app's.
    pub runtime_ram: u64,
}

/// The bytes one crate contributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrateSize {
    /// The crate's name as it appears in symbol paths (`ebbtide_core`), or a `(label)`.
    pub name: String,
    /// Code, constants and initial values of `.data`.
    pub flash: u64,
    /// `.data` and `.bss`.
    pub ram: u64,
}

/// Builds every app in release and measures it: the pairs in order, in each the ebbtide app,
/// then the embassy one.
pub fn measure(ws: &Workspace) -> Result<Vec<AppSize>, String> {
    let mut sizes = Vec::new();
    for pair in PAIRS {
        for app in &pair.apps {
            build(ws, app)?;
            sizes.push(measure_elf(ws, pair, app)?);
        }
    }
    Ok(sizes)
}

/// Builds every app, boots each in QEMU (`mps2-an386`, Cortex-M4F), and checks that each exits
/// with code 0 having printed its pair's line, and that all apps of a pair printed the same
/// output.
pub fn run_qemu(ws: &Workspace) -> Result<(), String> {
    for pair in PAIRS {
        let mut outputs: Vec<(&str, String)> = Vec::new();
        for app in &pair.apps {
            build(ws, app)?;
            let elf = elf_path(ws, app);
            let stdout = crate::cmd::run_in_qemu(ws, &QEMU_CORTEX_M4, &elf.to_string_lossy())?;
            if !stdout.lines().any(|line| line == pair.ok_line) {
                return Err(format!(
                    "{}: no `{}` line in QEMU's output",
                    app.package, pair.ok_line
                ));
            }
            outputs.push((app.runtime, stdout));
        }
        if let Some(((first, a), rest)) = outputs.split_first() {
            if let Some((other, _)) = rest.iter().find(|(_, b)| b != a) {
                return Err(format!(
                    "{}: the {first} and {other} apps printed different output",
                    pair.app
                ));
            }
        }
    }
    Ok(())
}

/// Markdown for the sizes of [`measure`]: per pair a heading, a table of its apps, the ratio of
/// each ebbtide build to embassy, and the largest crates of each app.
pub fn markdown(sizes: &[AppSize]) -> String {
    let mut out = String::new();
    let mut rest = sizes;
    while let Some(first) = rest.first() {
        let len = rest.iter().take_while(|s| s.app == first.app).count();
        let (pair, after) = rest.split_at(len);
        rest = after;
        if !out.is_empty() {
            out.push('\n');
        }
        pair_markdown(&mut out, pair);
    }
    out
}

/// The markdown of one pair's apps (all with the same `app`).
fn pair_markdown(out: &mut String, sizes: &[AppSize]) {
    let app = sizes.first().map_or("", |s| s.app);
    match PAIRS.iter().find(|p| p.app == app) {
        Some(pair) => out.push_str(&format!("### {app}\n\n{}.\n\n", pair.summary)),
        None => out.push_str(&format!("### {app}\n\n")),
    }
    out.push_str(
        "| runtime | flash | RAM | .vector_table | .text | .rodata | .data | .bss | \
         runtime crates: flash | runtime crates: RAM |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in sizes {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.runtime,
            s.flash,
            s.ram,
            s.vector_table,
            s.text,
            s.rodata,
            s.data,
            s.bss,
            s.runtime_flash,
            s.runtime_ram
        ));
    }
    if let Some(theirs) = sizes.iter().find(|s| s.runtime == "embassy") {
        out.push('\n');
        for ours in sizes.iter().filter(|s| s.runtime != "embassy") {
            out.push_str(&format!(
                "Ratio {} / embassy: flash {:.2}, RAM {:.2}.\n",
                ours.runtime,
                ours.flash as f64 / theirs.flash as f64,
                ours.ram as f64 / theirs.ram as f64
            ));
        }
    }
    for s in sizes {
        out.push_str(&format!(
            "\n{app} on {} by crate (bytes):\n\n| crate | flash | RAM |\n|---|---:|---:|\n",
            s.runtime
        ));
        for c in &s.crates {
            out.push_str(&format!("| {} | {} | {} |\n", c.name, c.flash, c.ram));
        }
    }
}

fn build(ws: &Workspace, app: &App) -> Result<(), String> {
    // The linker script comes from each app's build.rs and its memory.x from the board crate's,
    // so no `.cargo/config.toml` is needed from the workspace root.
    let build = Cmd::cargo("build --release --manifest-path")
        .arg(&format!("{}/Cargo.toml", app.dir))
        .args(["--target", TARGET, "--target-dir", app.target_dir]);
    if app.features.is_empty() {
        build.run(ws)
    } else {
        build.args(["--features", app.features]).run(ws)
    }
}

fn elf_path(ws: &Workspace, app: &App) -> PathBuf {
    ws.path(&format!(
        "{}/{TARGET}/release/{}",
        app.target_dir, app.package
    ))
}

fn measure_elf(ws: &Workspace, pair: &Pair, app: &App) -> Result<AppSize, String> {
    let elf = elf_path(ws, app);
    let elf_arg = elf.to_string_lossy().into_owned();

    let sections = captured(ws, "arm-none-eabi-size", &["-A", &elf_arg])?;
    let section = |name: &str| -> u64 {
        sections
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let (n, size) = (words.next()?, words.next()?);
                (n == name).then(|| size.parse::<u64>().ok()).flatten()
            })
            .sum()
    };
    let vector_table = section(".vector_table");
    let text = section(".text");
    let rodata = section(".rodata");
    let data = section(".data");
    let bss = section(".bss") + section(".uninit");
    if text == 0 {
        return Err(format!(
            "no .text in `arm-none-eabi-size -A {elf_arg}`:\n{sections}"
        ));
    }

    let symbols = captured(
        ws,
        "arm-none-eabi-nm",
        &["--size-sort", "-S", "--demangle", &elf_arg],
    )?;
    let mut crates: Vec<CrateSize> = Vec::new();
    let (mut named_flash, mut named_ram) = (0, 0);
    for line in symbols.lines() {
        let Some((size, kind, name)) = parse_nm_line(line) else {
            continue;
        };
        let (flash, ram) = match kind {
            't' | 'T' | 'r' | 'R' => (size, 0),
            'd' | 'D' => (size, size),
            'b' | 'B' => (0, size),
            _ => continue,
        };
        named_flash += flash;
        named_ram += ram;
        add(&mut crates, &crate_of(name), flash, ram);
    }
    let flash = vector_table + text + rodata + data;
    let ram = data + bss;
    add(
        &mut crates,
        "(unattributed)",
        flash.saturating_sub(named_flash),
        ram.saturating_sub(named_ram),
    );
    crates.sort_by(|a, b| b.flash.cmp(&a.flash).then(b.ram.cmp(&a.ram)));
    let runtime = crates
        .iter()
        .filter(|c| app.runtime_crates.contains(&c.name.as_str()));
    let runtime_flash = runtime.clone().map(|c| c.flash).sum();
    let runtime_ram = runtime.map(|c| c.ram).sum();

    Ok(AppSize {
        app: pair.app,
        runtime: app.runtime,
        vector_table,
        text,
        rodata,
        data,
        bss,
        flash,
        ram,
        crates,
        runtime_flash,
        runtime_ram,
    })
}

/// Runs a tool and returns its stdout; the command is printed like [`Cmd`]'s.
fn captured(ws: &Workspace, program: &str, args: &[&str]) -> Result<String, String> {
    println!("$ {program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .current_dir(&ws.root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            format!(
                "could not start `{program}`: {e} (Debian: apt-get install binutils-arm-none-eabi)"
            )
        })?;
    if !output.status.success() {
        return Err(format!("`{program}` failed: {}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `20000178 00000858 d ebbtide_core::time::queue::QUEUE` -> (size, kind, name). The name may
/// contain spaces (`<A as B>::f`).
fn parse_nm_line(line: &str) -> Option<(u64, char, &str)> {
    let mut rest = line.trim_start();
    let mut next_word = || {
        let end = rest.find(char::is_whitespace)?;
        let word = &rest[..end];
        rest = rest[end..].trim_start();
        Some(word)
    };
    let _address = next_word()?;
    let size = u64::from_str_radix(next_word()?, 16).ok()?;
    let kind = next_word()?.chars().next()?;
    let name = rest.trim_end();
    (!name.is_empty()).then_some((size, kind, name))
}

fn add(crates: &mut Vec<CrateSize>, name: &str, flash: u64, ram: u64) {
    if flash == 0 && ram == 0 {
        return;
    }
    match crates.iter_mut().find(|c| c.name == name) {
        Some(c) => {
            c.flash += flash;
            c.ram += ram;
        }
        None => crates.push(CrateSize {
            name: name.to_string(),
            flash,
            ram,
        }),
    }
}

/// The crate a demangled symbol belongs to: the first segment of its path, looking through
/// `<T as Trait>::f` (T's crate) and `core::ptr::drop_in_place<T>` (T's crate: the drop glue of
/// a type is its crate's code); symbols without a path by name.
fn crate_of(symbol: &str) -> String {
    let mut s = symbol;
    loop {
        s = s.trim_start_matches(['<', '&', '*', '(', '[']);
        if let Some(inner) = ["mut ", "const ", "dyn "]
            .iter()
            .find_map(|prefix| s.strip_prefix(prefix))
        {
            s = inner;
        } else if let Some(inner) = s.strip_prefix("core::ptr::drop_in_place<") {
            s = inner;
        } else {
            break;
        }
    }
    if let Some((first, _)) = s.split_once("::") {
        return match first {
            // `#[panic_handler]` is exported as `__rustc::rust_begin_unwind`: the board's.
            "__rustc" => "size_bench_board".to_string(),
            _ => first.to_string(),
        };
    }
    let name = match s {
        // The board's time driver (`time_driver_impl!` and its SysTick handler): they inline the
        // runtime's timer queue (ebbtide's wheel, embassy's integrated queue).
        "SysTick" | "_embassy_time_now" | "_embassy_time_schedule_wake" => "size_bench_board",
        "__embassy_time_queue_item_from_waker" => "embassy_executor",
        "Reset"
        | "main"
        | "DefaultHandler_"
        | "DefaultPreInit"
        | "HardFault_"
        | "HardFaultTrampoline"
        | "__pre_init"
        | "__INTERRUPTS"
        | "__EXCEPTIONS"
        | "__RESET_VECTOR" => "cortex_m_rt",
        _ if s.starts_with("OUTLINED_FUNCTION_") => "(outlined by LLVM)",
        _ if s.starts_with("__") || s.starts_with("mem") => "compiler_builtins",
        _ => "(other)",
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_of_symbols() {
        assert_eq!(crate_of("ebbtide_core::time::queue::QUEUE"), "ebbtide_core");
        assert_eq!(
            crate_of("<ebbtide_core::time::sleep::Sleep as core::future::future::Future>::poll"),
            "ebbtide_core"
        );
        assert_eq!(
            crate_of("core::ptr::drop_in_place<size_ebbtide_app::consumer::{{closure}}>"),
            "size_ebbtide_app"
        );
        assert_eq!(
            crate_of("core::ptr::drop_in_place<&mut embassy_sync::channel::Channel<u32>>"),
            "embassy_sync"
        );
        assert_eq!(crate_of("core::panicking::panic_fmt"), "core");
        assert_eq!(crate_of("SysTick"), "size_bench_board");
        assert_eq!(crate_of("__rustc::rust_begin_unwind"), "size_bench_board");
        assert_eq!(crate_of("__aeabi_memcpy4"), "compiler_builtins");
        assert_eq!(crate_of("memcpy"), "compiler_builtins");
        assert_eq!(crate_of("__INTERRUPTS"), "cortex_m_rt");
        assert_eq!(crate_of("OUTLINED_FUNCTION_0"), "(outlined by LLVM)");
    }

    #[test]
    fn nm_lines() {
        assert_eq!(
            parse_nm_line("20000178 00000858 d ebbtide_core::time::queue::QUEUE"),
            Some((0x858, 'd', "ebbtide_core::time::queue::QUEUE"))
        );
        assert_eq!(
            parse_nm_line("00001528 00000060 t <A as core::future::future::Future>::poll"),
            Some((0x60, 't', "<A as core::future::future::Future>::poll"))
        );
        assert_eq!(parse_nm_line("         U foo"), None);
    }

    fn size(app: &'static str, runtime: &'static str, flash: u64, ram: u64) -> AppSize {
        AppSize {
            app,
            runtime,
            vector_table: 1024,
            text: flash - 1024,
            rodata: 0,
            data: 0,
            bss: ram,
            flash,
            ram,
            crates: vec![CrateSize {
                name: format!("{runtime}_crate"),
                flash,
                ram,
            }],
            runtime_flash: flash,
            runtime_ram: ram,
        }
    }

    #[test]
    fn markdown_has_one_table_per_pair() {
        let sizes = [
            size("size-app", "ebbtide", 4000, 600),
            size("size-app", "ebbtide, mpsc", 5000, 300),
            size("size-app", "embassy", 2000, 300),
            size("sensor-app", "ebbtide", 9000, 1000),
            size("sensor-app", "embassy", 3000, 800),
        ];
        let md = markdown(&sizes);
        let size_app = md.find("### size-app\n").expect("a heading for size-app");
        let sensor_app = md
            .find("### sensor-app\n")
            .expect("a heading for sensor-app");
        assert!(size_app < sensor_app);
        let (first, second) = md.split_at(sensor_app);
        for (part, ratio, apps) in [
            (first, "Ratio ebbtide / embassy: flash 2.00, RAM 2.00", 3),
            (second, "Ratio ebbtide / embassy: flash 3.00, RAM 1.25", 2),
        ] {
            assert_eq!(part.matches("| runtime | flash | RAM |").count(), 1);
            assert_eq!(part.matches(" by crate (bytes):").count(), apps);
            assert!(part.contains(ratio), "no `{ratio}` in:\n{part}");
        }
        assert!(first.contains("Ratio ebbtide, mpsc / embassy: flash 2.50, RAM 1.00"));
        assert!(second.contains("| ebbtide | 9000 | 1000 | 1024 | 7976 |"));
        assert!(second.contains("sensor-app on embassy by crate"));
        assert!(second.contains("| embassy_crate | 3000 | 800 |"));
    }

    /// Builds, measures and runs all six apps: `cargo test -p xtask -- --ignored size --nocapture`.
    /// Needs the `thumbv7em-none-eabihf` target, binutils-arm-none-eabi and qemu-system-arm.
    #[test]
    #[ignore = "builds six firmware images and boots them in QEMU"]
    fn size_measure_and_run() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask/ lives inside the workspace root")
            .to_path_buf();
        let ws = Workspace { root };
        let sizes = measure(&ws).unwrap();
        println!("{}", markdown(&sizes));
        let expected: Vec<(&str, &str)> = PAIRS
            .iter()
            .flat_map(|p| p.apps.iter().map(|a| (p.app, a.runtime)))
            .collect();
        let measured: Vec<(&str, &str)> = sizes.iter().map(|s| (s.app, s.runtime)).collect();
        assert_eq!(measured, expected);
        for s in &sizes {
            assert!(
                s.runtime_flash > 0,
                "{} {}: no runtime symbols",
                s.app,
                s.runtime
            );
            assert_eq!(s.crates.iter().map(|c| c.flash).sum::<u64>(), s.flash);
        }
        run_qemu(&ws).unwrap();
    }
}
