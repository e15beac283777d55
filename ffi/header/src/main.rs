//! Writes ebbtide-ffi's C header, `ffi/include/ebbtide.h`, with cbindgen (linked as a library,
//! so nothing is installed), or with `--check` fails when the committed header differs from
//! what the source generates. `cargo xtask ffi-header [--check]` runs it; so does the `ffi`
//! stage of `cargo xtask ci`, with `--check`.

use std::path::PathBuf;
use std::process::ExitCode;

/// The committed header, relative to the `ffi/` crate.
const HEADER: &str = "include/ebbtide.h";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: ebbtide-ffi-header [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("ebbtide-ffi-header: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(check: bool) -> Result<String, String> {
    // This crate lives in `ffi/header`: the crate it describes is its parent folder.
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the crate has no parent folder")?
        .to_path_buf();
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| format!("ffi/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen could not generate ffi/{HEADER}: {e}"))?;
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = crate_dir.join(HEADER);
    if check {
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != generated {
            return Err(format!(
                "ffi/{HEADER} is stale: it differs from what cbindgen generates from ffi/src; \
                 run `cargo xtask ffi-header` and commit the result"
            ));
        }
        return Ok(format!("ffi/{HEADER} is up to date"));
    }
    std::fs::write(&path, generated).map_err(|e| format!("could not write ffi/{HEADER}: {e}"))?;
    Ok(format!("wrote ffi/{HEADER}"))
}
