//! Strings handed out to C: JSON documents and names, freed by `konductor_string_free`.

use std::ffi::{c_char, CString};

use serde::Serialize;

use crate::panic::{failed, ffi_boundary_or, Failed};
use crate::result::konductor_result::KONDUCTOR_INTERNAL;

/// A heap C string owned by the caller: freed with `konductor_string_free`, or
/// with the array that holds it.
pub(crate) fn owned(text: String) -> *mut c_char {
    // JSON and names never contain NUL; should one appear, show it escaped.
    let text = CString::new(text).unwrap_or_else(|e| {
        let escaped = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
        CString::new(escaped).unwrap_or_default()
    });
    text.into_raw()
}

/// `value` as a caller-owned JSON string.
pub(crate) fn json<T: Serialize>(value: &T) -> Result<*mut c_char, Failed> {
    let text = serde_json::to_string(value).map_err(|e| {
        failed(
            KONDUCTOR_INTERNAL,
            format!("failed to encode the object as JSON: {e}"),
        )
    })?;
    Ok(owned(text))
}

/// A C copy of a name, stored in a handle and lent out with the handle's lifetime.
pub(crate) fn borrowable(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

/// Frees a string returned by this library (JSON documents from
/// `konductor_client_get()`, `_list`, `_create_*` and
/// `konductor_client_arrive_barrier()`). NULL is ignored.
/// Strings that the library lends out (`konductor_last_error()`, names of
/// handles, result names) must not be passed here.
#[no_mangle]
pub extern "C" fn konductor_string_free(string: *mut c_char) {
    ffi_boundary_or!((), {
        if !string.is_null() {
            // SAFETY: the pointer came from CString::into_raw in `owned`, and
            // the caller gives up its ownership here.
            drop(unsafe { CString::from_raw(string) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn json_strings_round_trip_and_free() {
        let text = json(&serde_json::json!({"name": "a\u{0}b"})).unwrap();
        let back = unsafe { CStr::from_ptr(text) }.to_str().unwrap().to_owned();
        assert_eq!(back, r#"{"name":"a\u0000b"}"#);
        konductor_string_free(text);
        konductor_string_free(std::ptr::null_mut());
    }
}
