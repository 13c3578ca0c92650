//! The calls that work on objects of every kind, chosen by a `konductor_kind`.

use std::ffi::c_char;

use crate::arguments::arg_out;
use crate::client::{konductor_client, on_client, on_object};
use crate::kind::Kind;
use crate::options::{self, konductor_options};
use crate::result::konductor_result;

/// Reads object `name` of kind `kind` (a `konductor_kind`), spec and status,
/// as JSON into `*out_json`; free it with `konductor_string_free()`.
/// `KONDUCTOR_NOT_FOUND` if it does not exist, `KONDUCTOR_INVALID_ARGUMENT`
/// for a number that is no kind.
#[no_mangle]
pub extern "C" fn konductor_client_get(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let kind = Kind::numbered(kind)?;
        let out = arg_out!(out_json);
        out.write(kind.get(client, name)?);
        Ok(())
    })
}

/// Lists the client namespace's objects of kind `kind` (a `konductor_kind`)
/// as a JSON array into `*out_json`; free it with `konductor_string_free()`.
#[no_mangle]
pub extern "C" fn konductor_client_list(
    client: *const konductor_client,
    kind: u32,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_client(client, |client| {
        let kind = Kind::numbered(kind)?;
        let out = arg_out!(out_json);
        out.write(kind.list(client)?);
        Ok(())
    })
}

/// Deletes object `name` of kind `kind` (a `konductor_kind`); the holders of
/// a semaphore's permits or of a lease lose them. `KONDUCTOR_NOT_FOUND` if it
/// does not exist.
#[no_mangle]
pub extern "C" fn konductor_client_delete(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
) -> konductor_result {
    on_object(client, name, |client, name| {
        Kind::numbered(kind)?.delete(client, name)?;
        Ok(())
    })
}

/// Waits until object `name` of kind `kind` opens (`KONDUCTOR_KIND_BARRIER`:
/// enough arrivals; `KONDUCTOR_KIND_GATE`: all conditions hold;
/// `KONDUCTOR_KIND_WAITGROUP`: its counter is zero), as long as
/// `options.timeout_ms` allows (NULL options: without limit).
/// `KONDUCTOR_FAILED` if it fails (e.g. its timeout passed),
/// `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`, `KONDUCTOR_NOT_FOUND`;
/// `KONDUCTOR_INVALID_ARGUMENT` for a kind that does not open.
#[no_mangle]
pub extern "C" fn konductor_client_wait(
    client: *const konductor_client,
    kind: u32,
    name: *const c_char,
    options: *const konductor_options,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let kind = Kind::numbered(kind)?;
        kind.wait(client, name, &options::read(options)?)
    })
}
