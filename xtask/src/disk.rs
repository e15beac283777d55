//! Disk space during `cargo xtask ci`: how much is free, how much the build folders hold, and
//! which folders a stage may delete once it is done.
//!
//! A CI run builds the workspace about ten times over: the plain debug build, then one each for
//! mio's poll backend, Miri, two sanitizers (with the standard library rebuilt), loom, the MSRV
//! toolchain, `cargo package`, the fuzzers and the bare-metal demo. Kept side by side they fill a
//! small disk, and a full disk fails every stage after it (a linker killed by `SIGBUS`, `No space
//! left on device`). So every stage reports the disk when it ends, and in lean mode (on CI, or
//! with little space free) the folders that only one stage builds into are deleted after it, and
//! the test stage's executables once it has run them.
//!
//! The figures come from `df` and `du` (POSIX, on every machine CI runs on); when either is
//! missing the report says so and nothing else changes.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::cmd::Workspace;

/// Below this much free space at the start, a local `cargo xtask ci` runs lean too.
const LEAN_BELOW_BYTES: u64 = 30 << 30;

/// The build folders (relative to the workspace root) that only one stage uses, by stage. Lean
/// mode deletes them when that stage ends; the next run of the stage builds them again. Folders
/// other stages share (`target/debug`, `target/release`, the cross and bare-metal checks'
/// metadata) are not listed.
const SCRATCH: &[(&str, &[&str])] = &[
    ("no_std", &["target/tick-rate"]),
    ("std-poll", &["target/poll"]),
    ("msrv", &["target/msrv"]),
    ("publish", &["target/publish", "target/package"]),
    ("wasi", &["target/wasm32-wasip1"]),
    ("miri", &["target/miri"]),
    ("sanitizers", &["target/asan", "target/tsan"]),
    // Not `fuzz/target/corpus` (the corpus grown so far) nor `fuzz/target/logs`.
    (
        "fuzz",
        &[
            "fuzz/target/x86_64-unknown-linux-gnu",
            "fuzz/target/release",
        ],
    ),
    ("loom", &["target/loom"]),
    ("baremetal", &["examples/baremetal/target"]),
];

/// The scratch folders of the named stage (none for most).
fn scratch_folders(stage: &str) -> &'static [&'static str] {
    SCRATCH
        .iter()
        .find(|(name, _)| *name == stage)
        .map_or(&[], |(_, folders)| folders)
}

/// Set once by [`decide_lean_mode`]: whether this run is lean.
static LEAN: OnceLock<bool> = OnceLock::new();

/// Decides, once per run, whether it deletes each stage's scratch folders when the stage ends,
/// and says why it does.
pub fn decide_lean_mode(ws: &Workspace) -> (bool, String) {
    let (lean, why) = if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        (true, "CI=true".to_string())
    } else {
        match free_bytes(&ws.root) {
            Some(free) if free < LEAN_BELOW_BYTES => (
                true,
                format!("under {} free at the start", format_bytes(LEAN_BELOW_BYTES)),
            ),
            _ => (false, String::new()),
        }
    };
    let lean = *LEAN.get_or_init(|| lean);
    (lean, why)
}

/// Whether this run is lean (false before [`decide_lean_mode`]).
pub fn is_lean() -> bool {
    LEAN.get().copied().unwrap_or(false)
}

/// Deletes one build folder in a lean run, for a stage whose steps build into folders of their
/// own (the sanitizers: AddressSanitizer's build is gone before ThreadSanitizer's starts).
pub fn remove_if_lean(ws: &Workspace, folder: &str) {
    if is_lean() {
        remove_folder(ws, folder);
    }
}

fn remove_folder(ws: &Workspace, folder: &str) {
    let path = ws.path(folder);
    if !path.exists() {
        return;
    }
    let held = used_bytes(&path).map_or_else(|| "?".to_string(), format_bytes);
    match std::fs::remove_dir_all(&path) {
        Ok(()) => println!("lean: removed {folder} ({held})"),
        Err(e) => println!("lean: could not remove {folder}: {e}"),
    }
}

/// Deletes the stage's scratch folders, printing what each held. After the test stage, its
/// linked executables too (see [`remove_test_executables_if_lean`]): here as well as between
/// the stage's runs, so that they go even when a failed run ended the stage early.
pub fn remove_scratch(ws: &Workspace, stage: &str) {
    if stage == "test" {
        remove_test_executables(ws);
    }
    for folder in scratch_folders(stage) {
        remove_folder(ws, folder);
    }
}

/// The folders of the debug build that hold linked executables: test binaries (`deps/`), examples
/// and the workspace's binaries.
const DEBUG_EXECUTABLES: &[&str] = &["target/debug/deps", "target/debug/examples", "target/debug"];

/// In a lean run, deletes the debug build's linked executables once they have run: the test
/// stage calls it between its `cargo test` runs that share no test binaries, and it runs again
/// when the stage ends. The workspace's tests link about 370 test, example and binary
/// executables (2.9 GiB), most of what the stage leaves on disk. Libraries, metadata and
/// proc-macros (`.so`) stay, so a later build that needs one executable (the WASI stage's host
/// test) relinks just that one. The running `xtask` stays.
pub fn remove_test_executables_if_lean(ws: &Workspace) {
    if is_lean() {
        remove_test_executables(ws);
    }
}

fn remove_test_executables(ws: &Workspace) {
    let (mut count, mut bytes) = (0u64, 0u64);
    for folder in DEBUG_EXECUTABLES {
        let Ok(entries) = std::fs::read_dir(ws.path(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if is_linked_executable(&path, &meta) && std::fs::remove_file(&path).is_ok() {
                count += 1;
                bytes += meta.len();
            }
        }
    }
    println!(
        "lean: removed the debug build's {count} linked executables ({})",
        format_bytes(bytes)
    );
}

/// A plain file with an execute bit that is not a shared library and not xtask itself.
fn is_linked_executable(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    meta.is_file()
        && meta.permissions().mode() & 0o111 != 0
        && path.extension().is_none_or(|ext| ext != "so")
        && name != "xtask"
        && !name.starts_with("xtask-")
}

/// One line on the disk: free space on the workspace's file system and what its build folders
/// (`target/`, and the excluded crates' own) hold.
pub fn report(ws: &Workspace) -> String {
    let free = free_bytes(&ws.root).map_or_else(|| "? (df failed)".to_string(), format_bytes);
    let built: Option<u64> = ["target", "fuzz/target", "examples/baremetal/target"]
        .iter()
        .map(|folder| ws.path(folder))
        .filter(|path| path.exists())
        .map(|path| used_bytes(&path))
        .sum();
    let built = built.map_or_else(|| "? (du failed)".to_string(), format_bytes);
    format!("disk: {free} free, build folders hold {built}")
}

/// Free space, for an unprivileged user, on the file system that holds `path`: `df -Pk`.
fn free_bytes(path: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_df(&String::from_utf8_lossy(&out.stdout))
}

/// What `path` takes on disk: `du -sk`.
fn used_bytes(path: &Path) -> Option<u64> {
    let out = Command::new("du").arg("-sk").arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// The "Available" column of `df -P`'s one line of figures, in bytes. The header comes first,
/// and a long device name may wrap the figures onto a second line, so the figures are found by
/// being numbers: 1024-blocks, Used, Available (the third), then `Capacity` with its `%`.
fn parse_df(text: &str) -> Option<u64> {
    let mut lines = text.lines();
    lines.next()?;
    let numbers: Vec<u64> = lines
        .flat_map(str::split_whitespace)
        .filter_map(|word| word.parse().ok())
        .collect();
    numbers.get(2).map(|kib| kib * 1024)
}

/// `12.3 GiB`, `850 MiB`.
fn format_bytes(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_available_column() {
        let text = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                    /dev/vda         264108000 12000000  83886080      13% /\n";
        assert_eq!(parse_df(text), Some(83_886_080 * 1024));
        // A device name too long for its column pushes the figures onto their own line.
        let wrapped = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                       /dev/mapper/a-very-long-volume-name\n\
                       \x20  1000 400 600 40% /work\n";
        assert_eq!(parse_df(wrapped), Some(600 * 1024));
        assert_eq!(parse_df("Filesystem 1024-blocks\n"), None);
    }

    #[test]
    fn bytes_read_as_gib_or_mib() {
        assert_eq!(format_bytes(3 << 29), "1.5 GiB");
        assert_eq!(format_bytes(850 << 20), "850 MiB");
    }

    #[test]
    fn only_linked_executables_are_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xtask-disk-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let file = |name: &str, mode: u32| {
            let path = dir.join(name);
            std::fs::write(&path, b"x").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path
        };
        let check = |path: &Path| is_linked_executable(path, &std::fs::metadata(path).unwrap());
        assert!(check(&file("spawn_join-0123abcd", 0o755)));
        assert!(!check(&file("libebbtide_core-0123abcd.rlib", 0o644)));
        assert!(!check(&file("libebbtide_macros-0123abcd.so", 0o755)));
        assert!(!check(&file("xtask", 0o755)));
        assert!(!check(&file("xtask-0123abcd", 0o755)));
        assert!(!check(&dir.join("sub")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scratch_folders_belong_to_real_stages_and_spare_the_shared_build() {
        for (stage, folders) in SCRATCH {
            assert!(
                crate::ci::STAGES.iter().any(|s| s.name == *stage),
                "no stage named {stage}"
            );
            for folder in *folders {
                assert!(
                    !["target", "target/debug", "target/release"].contains(folder),
                    "{stage} must not delete the shared build"
                );
            }
        }
        assert_eq!(
            scratch_folders("sanitizers"),
            ["target/asan", "target/tsan"]
        );
        assert!(scratch_folders("test").is_empty());
    }
}
