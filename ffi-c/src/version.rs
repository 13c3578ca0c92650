//! The library's version, for callers that check what they linked.

use std::ffi::c_char;

use crate::panic::ffi_boundary_or;

/// The version of libkonductor, e.g. `"0.1.0"` (the core crate's, and the
/// Python wheel's). Static storage: never free it.
#[no_mangle]
pub extern "C" fn konductor_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    ffi_boundary_or!(c"".as_ptr(), VERSION.as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    #[test]
    fn the_c_library_reports_the_core_crates_version() {
        // SAFETY: konductor_version returns a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(super::konductor_version()) };
        assert_eq!(version.to_str(), Ok(konductor_core::VERSION));
    }
}
