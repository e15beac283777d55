//! The published crates, and the two stages that guard them: `msrv` (they build on the oldest
//! Rust they promise) and `publish` (they package for crates.io, licenses and README included).

use std::process::Command;

use crate::cmd::{Cmd, Workspace};
use crate::setup;

/// Every crate published to crates.io, in dependency order (each after the crates it depends on):
/// the one list the `msrv` and `publish` stages read. A new published crate is one row here, in
/// its place in that order; its directory also needs `LICENSE-MIT` and `LICENSE-APACHE` (symlinks
/// to the root's) and a `README.md`, which the `publish` stage checks.
pub const PUBLISHED_CRATES: &[&str] = &[
    "ebbtide-core",
    "ebbtide-macros",
    "ebbtide-mock-time",
    "ebbtide-host",
    "ebbtide-std",
    "ebbtide-wasi",
    "ebbtide-hyper",
];

/// Files every published crate's package must contain.
const PACKAGE_MUST_CONTAIN: &[&str] = &["LICENSE-MIT", "LICENSE-APACHE", "README.md"];

/// Cross targets checked on the MSRV toolchain besides the host: (crate, target).
const MSRV_TARGETS: &[(&str, &str)] = &[
    ("ebbtide-core", "thumbv7em-none-eabihf"),
    ("ebbtide-wasi", "wasm32-wasip1"),
    ("ebbtide-hyper", "wasm32-wasip1"),
];

/// The MSRV's own target folder: another compiler rebuilds everything, and would otherwise evict
/// the stable toolchain's artifacts' fingerprints from `target/debug`.
const MSRV_TARGET_DIR: &str = "target/msrv";

/// Removes what an earlier `cargo package` of this workspace left in cargo's own registry folders.
///
/// To verify a crate against the workspace crates it depends on, cargo packages those into a local
/// registry that stands in for crates.io, and unpacks them under
/// `$CARGO_HOME/registry/src/<crates.io>/<name>-<version>`, where an unpacked crate is never
/// unpacked again. The version does not change between runs, so without this a later run would
/// verify a dependent crate against an earlier run's sources (and fail on the API added since).
/// These are our crates' names, which crates.io does not serve us: nothing else is touched.
fn forget_earlier_packages() -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    for kind in ["src", "cache"] {
        let Ok(registries) = std::fs::read_dir(home.join("registry").join(kind)) else {
            continue;
        };
        for registry in registries.flatten() {
            let Ok(entries) = std::fs::read_dir(registry.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let ours = PUBLISHED_CRATES
                    .iter()
                    .any(|krate| name.starts_with(&format!("{krate}-0.")));
                if !ours {
                    continue;
                }
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// The `publish` stage's target folder, emptied at each run (see [`publish_stage`]).
const PUBLISH_TARGET_DIR: &str = "target/publish";

/// `-p <crate>` for every published crate.
fn package_args() -> impl Iterator<Item = &'static str> {
    PUBLISHED_CRATES.iter().flat_map(|name| ["-p", name])
}

/// The workspace's `rust-version` (`[workspace.package]` in the root `Cargo.toml`): the MSRV lives
/// there and only there; every published crate inherits it with `rust-version.workspace = true`.
pub fn msrv(ws: &Workspace) -> Result<String, String> {
    let manifest = ws.path("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    workspace_rust_version(&text).ok_or_else(|| {
        format!(
            "no rust-version in [workspace.package] of {}",
            manifest.display()
        )
    })
}

/// `rust-version = "X.Y"` in the `[workspace.package]` table of a manifest's text.
fn workspace_rust_version(manifest: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
            continue;
        }
        if !in_table {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "rust-version" {
            let value = value.split('#').next()?.trim().trim_matches('"');
            return (!value.is_empty()).then(|| value.to_string());
        }
    }
    None
}

/// The `msrv` stage: installs the MSRV toolchain (minimal profile) and its cross targets if
/// absent, then checks the published crates' libraries with it, against the committed
/// `Cargo.lock` (`--locked`): with default features, with all features, and for bare metal and
/// WASI. Tests and dev-dependencies are not held to the MSRV.
pub fn msrv_stage(ws: &Workspace) -> Result<(), String> {
    let version = msrv(ws)?;
    let toolchain = format!("+{version}");
    println!("MSRV (rust-version in Cargo.toml): {version}");

    // RUSTUP_AUTO_INSTALL=0: the probe only looks; the install below says what it downloads.
    let present = || {
        Cmd::cargo(&format!("{toolchain} --version"))
            .env("RUSTUP_AUTO_INSTALL", "0")
            .succeeds_quietly(ws)
    };
    setup::ensure(&format!("Rust {version}"), present, || {
        Cmd::line("rustup toolchain install --profile minimal")
            .arg(&version)
            .run(ws)
    })?;
    Cmd::line("rustup target add --toolchain")
        .arg(&version)
        .args(MSRV_TARGETS.iter().map(|&(_, target)| target))
        .run(ws)?;

    let check = |extra: &str| {
        Cmd::cargo(&format!("{toolchain} check --locked {extra}"))
            .env("CARGO_TARGET_DIR", MSRV_TARGET_DIR)
    };
    let mut runs = vec![
        check("").args(package_args()),
        check("--all-features").args(package_args()),
    ];
    for &(name, target) in MSRV_TARGETS {
        runs.push(check("-p").arg(name).arg("--target").arg(target));
    }
    crate::ci::run_each(ws, &runs)
}

/// The workspace members that would be published: every member whose `Cargo.toml` does not say
/// `publish = false`, by package name. Read from the manifests (xtask has no TOML parser: the
/// `members` array and each member's `name` and `publish` lines), so a new crate that is neither
/// in [`PUBLISHED_CRATES`] nor marked `publish = false` is caught.
fn publishable_members(ws: &Workspace) -> Result<Vec<String>, String> {
    let read = |relative: &str| {
        let path = ws.path(relative);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let root = read("Cargo.toml")?;
    let mut publishable = Vec::new();
    for member in workspace_members(&root) {
        let manifest = read(&format!("{member}/Cargo.toml"))?;
        let (name, publish) = package_name_and_publish(&manifest);
        let name = name.ok_or_else(|| format!("no package name in {member}/Cargo.toml"))?;
        if publish {
            publishable.push(name);
        }
    }
    Ok(publishable)
}

/// The quoted strings of `[workspace] members = [...]` (one line or several).
fn workspace_members(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("\nmembers") else {
        return Vec::new();
    };
    let rest = &manifest[start..];
    let Some(open) = rest.find('[') else {
        return Vec::new();
    };
    let list = &rest[open + 1..];
    let list = &list[..list.find(']').unwrap_or(list.len())];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The `[package]` table's `name`, and whether it may be published (no `publish = false`).
fn package_name_and_publish(manifest: &str) -> (Option<String>, bool) {
    let (mut in_package, mut name, mut publish) = (false, None, true);
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        let Some((key, value)) = line.split_once('=').filter(|_| in_package) else {
            continue;
        };
        let value = value.split('#').next().unwrap_or("").trim();
        match key.trim() {
            "name" => name = Some(value.trim_matches('"').to_string()),
            "publish" => publish = value != "false",
            _ => {}
        }
    }
    (name, publish)
}

/// Fails unless [`PUBLISHED_CRATES`] names exactly the workspace's publishable members.
fn check_published_list(ws: &Workspace) -> Result<(), String> {
    let publishable = publishable_members(ws)?;
    let mut problems = Vec::new();
    for name in &publishable {
        if !PUBLISHED_CRATES.contains(&name.as_str()) {
            problems.push(format!(
                "{name} would be published (no `publish = false`) but is not in PUBLISHED_CRATES \
                 (xtask/src/publish.rs)"
            ));
        }
    }
    for &name in PUBLISHED_CRATES {
        if !publishable.iter().any(|member| member == name) {
            problems.push(format!(
                "{name} is in PUBLISHED_CRATES but is no publishable workspace member"
            ));
        }
    }
    if problems.is_empty() {
        println!("published crates: {}", PUBLISHED_CRATES.join(", "));
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The `publish` stage: `cargo package` of every published crate, as `cargo publish` would build
/// it, then a look at each package's file list.
///
/// All crates in one `cargo package -p ... -p ...`: cargo packages them in dependency order and
/// verifies each against the ones just packaged (a local registry overlay in
/// `target/package/tmp-registry`), so ebbtide-std verifies although ebbtide-core is not on
/// crates.io yet; `--no-verify` is not needed. `--allow-dirty`: the stage checks what would be
/// packaged, not whether the work tree is committed (a fresh CI clone always is). `--locked`: the
/// committed `Cargo.lock`.
pub fn publish_stage(ws: &Workspace) -> Result<(), String> {
    check_published_list(ws)?;
    forget_earlier_packages()?;
    // A target folder of its own, emptied first: cargo takes a built registry crate of the same
    // name and version as final, so an earlier run's build of a dependency would be used again.
    let earlier = ws.path(PUBLISH_TARGET_DIR);
    if earlier.exists() {
        std::fs::remove_dir_all(&earlier)
            .map_err(|e| format!("cannot remove {}: {e}", earlier.display()))?;
    }
    Cmd::cargo("package --locked --allow-dirty --target-dir")
        .arg(PUBLISH_TARGET_DIR)
        .args(package_args())
        .run(ws)?;
    let mut missing = Vec::new();
    for &name in PUBLISHED_CRATES {
        let files = package_list(ws, name)?;
        for &file in PACKAGE_MUST_CONTAIN {
            if !files.iter().any(|listed| listed == file) {
                missing.push(format!("{name} lacks {file}"));
            }
        }
    }
    if missing.is_empty() {
        println!("every package has {}", PACKAGE_MUST_CONTAIN.join(", "));
        Ok(())
    } else {
        Err(missing.join("; "))
    }
}

/// The files `cargo package --list -p name` would put in the crate's package.
fn package_list(ws: &Workspace, name: &str) -> Result<Vec<String>, String> {
    println!("$ cargo package --list --allow-dirty -p {name}");
    let output = Command::new("cargo")
        .args(["package", "--list", "--allow-dirty", "-p", name])
        .current_dir(&ws.root)
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !output.status.success() {
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        return Err(format!("`cargo package --list -p {name}` failed"));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_version_is_read_from_workspace_package_only() {
        let manifest = r#"
[package]
rust-version = "1.10"

[workspace.package]
edition = "2021"
rust-version = "1.88" # the MSRV

[workspace.dependencies]
rust-version = "9"
"#;
        assert_eq!(workspace_rust_version(manifest).as_deref(), Some("1.88"));
        assert_eq!(workspace_rust_version("[workspace.package]\n"), None);
    }

    #[test]
    fn members_and_package_lines_are_read() {
        let root = r#"
[workspace]
resolver = "2"
members = [
    "core",
    "xtask", # tools
]
exclude = ["x"]
"#;
        assert_eq!(workspace_members(root), ["core", "xtask"]);
        let private =
            "[package]\nname = \"demo\"\npublish = false\n\n[dependencies]\npublish = 1\n";
        assert_eq!(
            package_name_and_publish(private),
            (Some("demo".into()), false)
        );
        let public = "[package]\nname = \"lib\" # published\n";
        assert_eq!(package_name_and_publish(public), (Some("lib".into()), true));
    }

    #[test]
    fn published_crates_are_the_publishable_members() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        check_published_list(&Workspace { root }).unwrap();
    }

    #[test]
    fn the_real_manifest_has_an_msrv() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let ws = Workspace { root };
        let version = msrv(&ws).unwrap();
        assert!(version.starts_with("1."), "{version}");
    }
}
