#!/usr/bin/env python3
"""Runs a WASI preview 1 module with the wasmtime Python bindings (`pip install wasmtime`).

    python3 tools/wasi_run.py app.wasm [args...]

stdin, stdout, stderr, the arguments and the environment are inherited; no directory is
preopened. This host supports timers and stdin readiness in poll_oneoff, not sockets. The exit
code is the module's (`proc_exit`), or 1 if it trapped (a Rust panic aborts with a trap).
"""

import sys

import wasmtime


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: wasi_run.py app.wasm [args...]", file=sys.stderr)
        return 2
    path = sys.argv[1]
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [path] + sys.argv[2:]
    wasi.inherit_env()
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    module = wasmtime.Module.from_file(engine, path)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Trap as e:
        print(f"wasi_run.py: the module trapped: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
