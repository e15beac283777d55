//! The file-server workloads (`fs_1k`, `fs_1m`, `mt_fs_1k`, `mt_fs_1m`): the ebbtide file server
//! demo (`ebbtide`) against nginx with `sendfile` on and off (`nginx-sendfile`,
//! `nginx-nosendfile`), at 1 and 2 workers, loaded by wrk. Both servers are other processes,
//! started and stopped by this one. See `ebbtide_bench::fs` for what is measured and how.

fn main() {
    ebbtide_bench::fs::main();
}
