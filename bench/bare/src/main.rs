//! ebbtide-core's executor and channel workloads (`../../src/exec_core.rs`), ebbtide-core built
//! without the executor's extras that Embassy lacks (no wake hook, no work stealing, no
//! cooperative budget, rounds run newest first; see `Cargo.toml`). Runtime `ebbtide-bare`: channels with the default
//! lock; `ebbtide-bare-local`: with `LocalRawMutex` (against Embassy's `NoopRawMutex`).

// Only part of the harness serves these workloads.
#[allow(dead_code)]
#[path = "../../src/harness.rs"]
mod harness;

#[path = "../../src/exec_core.rs"]
mod exec_core;

fn main() {
    let workloads = exec_core::Workloads::new();
    harness::main(
        &[
            ("ebbtide-bare", harness::EXECUTOR_WORKLOADS),
            ("ebbtide-bare-local", harness::CHANNEL_WORKLOADS),
        ],
        |runtime, workload| workloads.run(workload, runtime == "ebbtide-bare-local"),
    );
}
