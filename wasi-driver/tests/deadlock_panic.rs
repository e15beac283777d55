//! `Runtime::block_on`'s deadlock panic names the caller's line, not the runtime's.
//!
//! On the host, over the driver's stub (a panic aborts on wasm32-wasip1, so it cannot be caught
//! there); the deadlock is found before any WASI call is made.
#![cfg(not(target_os = "wasi"))]

use std::panic::{self, Location};
use std::sync::{Arc, Mutex};

#[test]
fn the_deadlock_panic_names_the_callers_line() {
    let runtime = ebbtide_wasi::Runtime::new().unwrap();
    let seen: Arc<Mutex<Option<(String, u32, String)>>> = Arc::default();
    let previous = panic::take_hook();
    {
        let seen = Arc::clone(&seen);
        panic::set_hook(Box::new(move |info| {
            let location = info.location().unwrap();
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            *seen.lock().unwrap() = Some((location.file().to_string(), location.line(), message));
        }));
    }
    let here = Location::caller();
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        runtime.block_on(std::future::pending::<()>())
    }));
    panic::set_hook(previous);
    assert!(result.is_err(), "a deadlock must panic");
    let (file, line, message) = seen.lock().unwrap().take().expect("the hook saw the panic");
    assert_eq!(file, here.file(), "{message}");
    assert_eq!(line, here.line() + 2, "{message}");
    assert!(message.contains("deadlock"), "{message}");
}
