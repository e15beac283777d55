//! Compile-time checks of the auto traits of the host shell's types, for every driver: a
//! `Runtime` moves between threads (`Send`), a `Handle` is shared by them (`Send + Sync`).
//! Runtime-free, so it runs under Miri too.

use ebbtide_host::{Handle, HostDriver, Runtime};

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}

/// Holds for every driver `D`, not only the ones at hand.
#[allow(dead_code)]
fn runtime_is_send_for_every_driver<D: HostDriver>() {
    assert_send::<Runtime<D>>();
}

#[test]
fn runtime_is_send_and_handle_is_send_and_sync() {
    assert_send_sync::<Handle>();
    runtime_is_send_for_every_driver::<NoDriver>();
}

/// A driver that never waits, only to name a `Runtime<D>`.
struct NoDriver;

impl ebbtide_core::driver::Park for NoDriver {
    type Error = std::convert::Infallible;
    const FIRES_TIMERS: bool = false;
    fn now(&self) -> u64 {
        0
    }
    fn park(&mut self, _: ebbtide_core::driver::Wait) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl HostDriver for NoDriver {
    type Shared = ();
    type Options = ();
    fn new(_: &()) -> std::io::Result<NoDriver> {
        Ok(NoDriver)
    }
    fn shared(&self) -> &'static () {
        &()
    }
    fn real_now() -> u64 {
        unreachable!("this driver keeps no time")
    }
    fn unpark(_: &()) {}
}
