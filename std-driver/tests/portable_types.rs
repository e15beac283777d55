//! The task types are ebbtide-host's, as ebbtide-wasi's are (`wasi-driver/tests/portable_types.rs`):
//! `matches!(e, JoinError::Panic(_))` and every other use of them compile the same for both
//! drivers. (One binary cannot link both drivers: each registers the program's time driver.)

use std::any::TypeId;

fn same<T: 'static, U: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<U>()
}

#[test]
fn join_handle_join_error_and_spawn_error_are_one_type_each() {
    assert!(same::<ebbtide_std::JoinError, ebbtide_host::JoinError>());
    assert!(same::<ebbtide_std::SpawnError, ebbtide_host::SpawnError>());
    assert!(same::<
        ebbtide_std::JoinHandle<u8>,
        ebbtide_host::JoinHandle<u8>,
    >());
    assert!(same::<
        ebbtide_std::task::PanicPayload,
        ebbtide_host::PanicPayload,
    >());
}

#[test]
fn a_panic_is_matched_the_same_way() {
    let runtime = ebbtide_std::Runtime::new().unwrap();
    let error = runtime.block_on(async {
        ebbtide_std::spawn(async { panic!("portable") })
            .unwrap()
            .await
            .unwrap_err()
    });
    // The pattern the README's portable programs use, on a WASI runtime's error.
    assert!(matches!(error, ebbtide_std::JoinError::Panic(_)));
    assert!(error.is_panic());
    assert_eq!(
        error
            .try_into_panic()
            .ok()
            .and_then(|p| p.downcast_ref::<&str>().copied()),
        Some("portable")
    );
}
