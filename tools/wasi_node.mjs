// Runs a WASI preview 1 module on Node's `node:wasi` (Node 18 or later).
//
//     node tools/wasi_node.mjs app.wasm [args...]
//
// stdin, stdout, stderr, the arguments and the environment are inherited; the current
// directory is preopened as `.` only when EBBTIDE_WASI_DIR is set (as tools/wasi-runner does).
// Node's host rounds clock waits to whole milliseconds and polls only pipes for readiness; it
// has no sockets. The exit code is the module's (`proc_exit`), or 1 if it trapped (a Rust panic
// aborts with a trap).
import { readFile } from "node:fs/promises";
import { argv, env, exit, stderr } from "node:process";
import { WASI } from "node:wasi";

if (argv.length < 3) {
    stderr.write("usage: node wasi_node.mjs app.wasm [args...]\n");
    exit(2);
}
const path = argv[2];
const preopens = env.EBBTIDE_WASI_DIR ? { ".": "." } : {};
const options = { args: [path, ...argv.slice(3)], env, preopens, returnOnExit: true };
// Node 20 requires `version`; Node 18 (Debian bookworm's) predates it and has only preview 1.
let wasi;
try {
    wasi = new WASI({ version: "preview1", ...options });
} catch {
    wasi = new WASI(options);
}
try {
    const module = await WebAssembly.compile(await readFile(path));
    const instance = await WebAssembly.instantiate(module, {
        wasi_snapshot_preview1: wasi.wasiImport,
    });
    exit(wasi.start(instance));
} catch (error) {
    stderr.write(`wasi_node.mjs: the module trapped: ${error}\n`);
    exit(1);
}
