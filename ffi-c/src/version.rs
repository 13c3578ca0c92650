//! The library's version, for callers that check what they linked.

use std::ffi::c_char;

use crate::panic::ffi_boundary_or;

/// The version of libkonductor, e.g. `"0.1.0"`. Static storage: never free it.
#[no_mangle]
pub extern "C" fn konductor_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    ffi_boundary_or!(c"".as_ptr(), VERSION.as_ptr().cast())
}
