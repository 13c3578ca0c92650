//! RWMutexes: many readers or one writer, never both.

use std::ffi::c_char;
use std::time::Duration;

use konductor_core::resource::LockMode;

use crate::arguments::arg_out;
use crate::client::{konductor_client, on_object, on_object_written};
use crate::create::ttl_and_priority;
use crate::handle::Handle;
use crate::held::konductor_held;
use crate::options::{self, konductor_options};
use crate::panic::failed;
use crate::result::konductor_result::{self, *};

/// Which lock of an RWMutex. Numbering starts at 1 so that a zeroed value is
/// rejected rather than read as a mode.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum konductor_lock_mode {
    /// A read lock, shared with other readers.
    KONDUCTOR_LOCK_READ = 1,
    /// The write lock, exclusive.
    KONDUCTOR_LOCK_WRITE = 2,
}

use konductor_lock_mode::*;

/// Creates an RWMutex with a default lock TTL (`ttl_ms`, 0 for
/// `KONDUCTOR_DEFAULT_TTL_MS`), a default locker priority
/// (`KONDUCTOR_PRIORITY_DEFAULT` for none) and the most readers at a time
/// (`max_readers`, 1 to 10000; 0 for 10000). Writes the created object as
/// JSON to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`). `KONDUCTOR_ALREADY_EXISTS` if the name is
/// taken.
#[no_mangle]
pub extern "C" fn konductor_client_create_rwmutex(
    client: *const konductor_client,
    name: *const c_char,
    ttl_ms: i64,
    priority: i32,
    max_readers: u32,
    out_json: *mut *mut c_char,
) -> konductor_result {
    on_object_written(client, name, out_json, |client, name| {
        let (ttl, priority) = ttl_and_priority(ttl_ms, priority)?;
        let max_readers = (max_readers != 0).then_some(max_readers);
        Ok(client.create_rwmutex(name, ttl, priority, max_readers)?)
    })
}

/// Takes a read lock (`KONDUCTOR_LOCK_READ`, shared with other readers) or
/// the write lock (`KONDUCTOR_LOCK_WRITE`, exclusive) of RWMutex `name`,
/// queueing as `options` allow (NULL: defaults). Strict FIFO: a queued
/// writer blocks later readers. Writes the held handle to `*out_held`
/// (release it with `konductor_held_release()`, free it with
/// `konductor_held_free()`). Fails with `KONDUCTOR_NOT_FOUND`,
/// `KONDUCTOR_TIMEOUT`, `KONDUCTOR_CANCELLED`, `KONDUCTOR_LOCKED` with a
/// zero timeout when the lock is not granted now, `KONDUCTOR_ALREADY_HELD`,
/// `KONDUCTOR_INVALID_ARGUMENT` for a mode that is none.
#[no_mangle]
pub extern "C" fn konductor_client_lock_rwmutex(
    client: *const konductor_client,
    name: *const c_char,
    mode: u32,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
) -> konductor_result {
    lock(client, name, mode, options, out_held, None)
}

/// Takes the lock only if it is granted now (ignores `options.timeout_ms`);
/// otherwise `KONDUCTOR_LOCKED`, naming the holders in the last error.
#[no_mangle]
pub extern "C" fn konductor_client_try_lock_rwmutex(
    client: *const konductor_client,
    name: *const c_char,
    mode: u32,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
) -> konductor_result {
    lock(client, name, mode, options, out_held, Some(Duration::ZERO))
}

fn lock(
    client: *const konductor_client,
    name: *const c_char,
    mode: u32,
    options: *const konductor_options,
    out_held: *mut *mut konductor_held,
    timeout: Option<Duration>,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let mode = match mode {
            m if m == KONDUCTOR_LOCK_READ as u32 => LockMode::Read,
            m if m == KONDUCTOR_LOCK_WRITE as u32 => LockMode::Write,
            other => {
                return Err(failed(
                    KONDUCTOR_INVALID_ARGUMENT,
                    format!("mode is {other}: not a konductor_lock_mode"),
                ))
            }
        };
        let mut options = options::read(options)?;
        if let Some(timeout) = timeout {
            options = options.timeout(timeout);
        }
        let out = arg_out!(out_held);
        let held = client.api().acquire_in(name, &options, Some(mode))?;
        out.write(konductor_held::new::<konductor_core::resource::RWMutex>(held).into_raw());
        Ok(())
    })
}
