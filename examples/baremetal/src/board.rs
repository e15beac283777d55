//! What differs between the two boards the demo runs on. `build.rs` picks the board from the
//! target (and its memory layout with it): the rest of the program is the same on both.

/// The board as QEMU's `-machine` names it.
#[cfg(board = "lm3s6965evb")]
pub const NAME: &str = "lm3s6965evb";
/// The board as QEMU's `-machine` names it.
#[cfg(board = "microbit")]
pub const NAME: &str = "microbit";

/// The CPU.
#[cfg(board = "lm3s6965evb")]
pub const CPU: &str = "Cortex-M3";
/// The CPU.
#[cfg(board = "microbit")]
pub const CPU: &str = "Cortex-M0";

/// The core clock, which SysTick counts: the TI LM3S6965's 12 MHz in QEMU.
#[cfg(board = "lm3s6965evb")]
pub const CORE_HZ: u32 = 12_000_000;
/// The core clock, which SysTick counts: the nRF51's fixed 16 MHz HCLK in QEMU. (A real nRF51
/// has no SysTick; QEMU's model of the chip has one, on the core clock. On the silicon, a time
/// driver would count the RTC or a TIMER instead.)
#[cfg(board = "microbit")]
pub const CORE_HZ: u32 = 16_000_000;
