//! With RLIMIT_NOFILE at 256, a thousand runtimes can be built and dropped one after another:
//! dropping a runtime gives its descriptors back (or keeps them for the next runtime).
//!
//! Alone in its test binary: it lowers the process's RLIMIT_NOFILE.
#![cfg(target_os = "linux")]

use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

#[test]
fn a_thousand_runtimes_fit_in_256_descriptors() {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid rlimit to fill, then to set.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        rl.rlim_cur = 256;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rl), 0);
    }
    for i in 0..1000 {
        let runtime = Runtime::builder()
            .task_capacity(64)
            .io_capacity(64)
            .build()
            .unwrap_or_else(|e| panic!("runtime {i} could not be built: {e}"));
        let out = runtime.block_on(async move {
            let task = ebbtide_std::spawn(async move {
                sleep(Duration::from_micros(100)).await;
                i
            })
            .unwrap();
            task.await.unwrap()
        });
        assert_eq!(out, i);
    }
}
