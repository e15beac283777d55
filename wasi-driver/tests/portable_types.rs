//! The task types are ebbtide-host's, as ebbtide-std's are (`std-driver/tests/portable_types.rs`):
//! `matches!(e, JoinError::Panic(_))` and every other use of them compile the same for both
//! drivers. (One binary cannot link both drivers: each registers the program's time driver.)

use std::any::TypeId;

fn same<T: 'static, U: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<U>()
}

#[test]
fn join_handle_join_error_and_spawn_error_are_one_type_each() {
    assert!(same::<ebbtide_wasi::JoinError, ebbtide_host::JoinError>());
    assert!(same::<ebbtide_wasi::SpawnError, ebbtide_host::SpawnError>());
    assert!(same::<
        ebbtide_host::JoinHandle<u8>,
        ebbtide_wasi::JoinHandle<u8>,
    >());
    assert!(same::<
        ebbtide_host::PanicPayload,
        ebbtide_wasi::task::PanicPayload,
    >());
}

/// Panics abort on wasm32-wasip1; the host stub unwinds.
#[cfg(not(target_os = "wasi"))]
#[test]
fn a_panic_is_matched_the_same_way() {
    let runtime = ebbtide_wasi::Runtime::new().unwrap();
    let error = runtime.block_on(async {
        ebbtide_wasi::spawn(async { panic!("portable") })
            .unwrap()
            .await
            .unwrap_err()
    });
    // The pattern the README's portable programs use, on a WASI runtime's error.
    assert!(matches!(error, ebbtide_wasi::JoinError::Panic(_)));
    assert!(error.is_panic());
    assert_eq!(
        error
            .try_into_panic()
            .ok()
            .and_then(|p| p.downcast_ref::<&str>().copied()),
        Some("portable")
    );
}
