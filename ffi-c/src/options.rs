//! `konductor_options`: how an acquire or wait call behaves, with ABI-stable defaults.

use std::ffi::c_char;
use std::mem::{offset_of, size_of, MaybeUninit};
use std::time::Duration;

use konductor_core::{duration_from_millis, Argument, Error, Options, DEFAULT_TTL};

use crate::arguments::{arg_out, optional_string, Out};
use crate::cancel::konductor_cancel;
use crate::panic::{failed, ffi_boundary, Failed};
use crate::result::konductor_result::{self, *};

/// `timeout_ms` value that waits without limit (until success or cancellation).
pub const KONDUCTOR_WAIT_FOREVER: i64 = -1;

/// `priority` value that uses the object's default priority (0 for semaphores,
/// the lease's `spec.priority` for leases).
pub const KONDUCTOR_PRIORITY_DEFAULT: i32 = -2147483647 - 1;

/// Permit and lease time-to-live in milliseconds when neither the call nor the object sets one.
pub const KONDUCTOR_DEFAULT_TTL_MS: i64 = 300_000;

// cbindgen copies literals only, so the constant is written out and held to
// core's default here.
const _: () = assert!(KONDUCTOR_DEFAULT_TTL_MS as u128 == DEFAULT_TTL.as_millis());

/// How an acquire or wait call behaves. Always fill it with
/// `konductor_options_init()` first, then change fields: later versions of
/// the library may add fields at the end, and `struct_size` tells it which
/// ones the caller knows (fields beyond it keep their defaults). Passing
/// NULL where options are accepted means the defaults.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct konductor_options {
    /// `sizeof(konductor_options)` as the caller was compiled; set by
    /// `konductor_options_init()`. Do not change it.
    pub struct_size: u32,
    /// Queue priority: higher is granted first, equal priorities in arrival
    /// order. Default `KONDUCTOR_PRIORITY_DEFAULT` (the object's default).
    pub priority: i32,
    /// Time-to-live of the permit or lease in milliseconds; it is lost unless
    /// renewed within it. 0 (default) uses the object's TTL, else
    /// `KONDUCTOR_DEFAULT_TTL_MS`. At least 100; negative is
    /// `KONDUCTOR_INVALID_DURATION`.
    pub ttl_ms: i64,
    /// Longest wait in milliseconds: `KONDUCTOR_WAIT_FOREVER` (default) waits
    /// until success or cancellation, 0 tries once without queueing.
    /// Below -1 is `KONDUCTOR_INVALID_DURATION`.
    pub timeout_ms: i64,
    /// Holder identity (NUL-terminated UTF-8, at most 253 bytes, no
    /// whitespace), copied by the call. NULL (default) generates one from
    /// `POD_NAME` or the host name plus a unique suffix.
    pub holder: *const c_char,
    /// Cancel handle that interrupts the wait from another thread; NULL
    /// (default) for none. Borrowed for the duration of the call only.
    pub cancel: *const konductor_cancel,
    /// Renew the permit or lease in the background at about a third of its
    /// TTL; a failed renewal is reported as loss (`konductor_held_is_lost()`).
    /// Default false.
    pub auto_renew: bool,
    // A field added later must start at or after the previous version's
    // `sizeof` on every target (add explicit padding if needed): an older
    // caller's `struct_size` covers its tail padding, whose bytes are garbage.
}

/// The smallest `struct_size` a caller can have: the end of the last field of
/// the first version (`auto_renew`). Fixed for good; later fields go after it.
const FIRST_VERSION_SIZE: usize = offset_of!(konductor_options, auto_renew) + size_of::<bool>();

/// The largest `struct_size` accepted, far beyond any version: a larger
/// number is not a size but uninitialised memory.
const LARGEST_STRUCT_SIZE: usize = 4096;

impl konductor_options {
    const DEFAULT: konductor_options = konductor_options {
        struct_size: size_of::<konductor_options>() as u32,
        priority: KONDUCTOR_PRIORITY_DEFAULT,
        ttl_ms: 0,
        timeout_ms: KONDUCTOR_WAIT_FOREVER,
        holder: std::ptr::null(),
        cancel: std::ptr::null(),
        auto_renew: false,
    };
}

/// Fills `options` with the defaults, including `struct_size`.
/// Fails only with `KONDUCTOR_NULL_ARGUMENT`.
#[no_mangle]
pub extern "C" fn konductor_options_init(options: *mut konductor_options) -> konductor_result {
    ffi_boundary! {
        let options: Out<konductor_options> = arg_out!(options);
        options.write(konductor_options::DEFAULT);
        Ok(())
    }
}

/// The core options described by `ptr` (NULL: the defaults). Only the
/// first `struct_size` bytes are read: a caller compiled against an older
/// header has a shorter struct, and the fields it lacks keep their defaults.
pub(crate) fn read(ptr: *const konductor_options) -> Result<Options, Failed> {
    if ptr.is_null() {
        return convert(&konductor_options::DEFAULT);
    }
    // SAFETY: not NULL; the caller guarantees a live konductor_options of
    // some version, and every version starts with its size as a u32.
    let struct_size = unsafe { ptr.cast::<u32>().read() } as usize;
    if !(FIRST_VERSION_SIZE..=LARGEST_STRUCT_SIZE).contains(&struct_size) {
        return Err(failed(
            KONDUCTOR_INVALID_OPTIONS,
            format!(
                "options.struct_size is {struct_size}, expected {FIRST_VERSION_SIZE} to {LARGEST_STRUCT_SIZE}: initialise options with konductor_options_init()"
            ),
        ));
    }
    // SAFETY: the caller's struct is `struct_size` bytes long.
    let options = unsafe { prefix(ptr, struct_size, konductor_options::DEFAULT) };
    convert(&options)
}

/// `defaults` with its first `size` bytes (at most all of them) copied from
/// `ptr`, which must be readable for `size` bytes.
unsafe fn prefix<T>(ptr: *const T, size: usize, defaults: T) -> T {
    let mut value = MaybeUninit::new(defaults);
    // SAFETY: `ptr` is readable for `size` bytes (the caller's promise) and
    // `value` writable for `size_of::<T>()`. The size of any version ends
    // between fields, never inside one, so each field is wholly the caller's
    // or wholly the default.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            value.as_mut_ptr().cast::<u8>(),
            size.min(size_of::<T>()),
        );
        value.assume_init()
    }
}

fn convert(options: &konductor_options) -> Result<Options, Failed> {
    let mut converted = Options::new();
    if let Some(ttl) = optional_duration(Argument::Ttl, options.ttl_ms)? {
        converted = converted.ttl(ttl);
    }
    if options.timeout_ms != KONDUCTOR_WAIT_FOREVER {
        converted = converted.timeout(duration_from_millis(Argument::Timeout, options.timeout_ms)?);
    }
    if options.priority != KONDUCTOR_PRIORITY_DEFAULT {
        converted = converted.priority(options.priority);
    }
    if let Some(holder) = optional_string(options.holder, "options.holder")? {
        converted = converted.holder(holder);
    }
    // SAFETY: not NULL here means a live cancel handle, by the caller's contract.
    if let Some(cancel) = unsafe { options.cancel.as_ref() } {
        converted = converted.cancel(&cancel.token);
    }
    Ok(converted.auto_renew(options.auto_renew))
}

/// A duration argument in milliseconds where 0 means "not set": `None` for
/// 0, else checked by core (negative is an [`Error::Invalid`] naming `argument`).
pub(crate) fn optional_duration(argument: Argument, ms: i64) -> Result<Option<Duration>, Error> {
    (ms != 0)
        .then(|| duration_from_millis(argument, ms))
        .transpose()
}

/// Milliseconds of a duration, saturating, for out-parameters.
pub(crate) fn to_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init() -> konductor_options {
        let mut options = std::mem::MaybeUninit::<konductor_options>::uninit();
        assert_eq!(konductor_options_init(options.as_mut_ptr()), KONDUCTOR_OK);
        unsafe { options.assume_init() }
    }

    #[test]
    fn init_fills_the_documented_defaults() {
        let options = init();
        assert_eq!(options.struct_size as usize, size_of::<konductor_options>());
        assert_eq!(options.ttl_ms, 0);
        assert_eq!(options.timeout_ms, KONDUCTOR_WAIT_FOREVER);
        assert_eq!(options.priority, i32::MIN);
        assert!(options.holder.is_null() && options.cancel.is_null() && !options.auto_renew);
        assert_eq!(
            konductor_options_init(std::ptr::null_mut()),
            KONDUCTOR_NULL_ARGUMENT
        );
    }

    #[test]
    fn defaults_convert_to_core_defaults() {
        let converted = read(std::ptr::null()).unwrap();
        assert_eq!(format!("{converted:?}"), format!("{:?}", Options::new()));
        let options = init();
        let converted = read(&options).unwrap();
        assert_eq!(format!("{converted:?}"), format!("{:?}", Options::new()));
    }

    #[test]
    fn bad_durations_and_holders_are_rejected() {
        let mut options = init();
        options.ttl_ms = -5;
        assert_eq!(read(&options).unwrap_err().0, KONDUCTOR_INVALID_DURATION);
        options.ttl_ms = 0;
        options.timeout_ms = -2;
        assert_eq!(read(&options).unwrap_err().0, KONDUCTOR_INVALID_DURATION);
        options.timeout_ms = 0;
        options.holder = c"h\xff".as_ptr();
        assert_eq!(read(&options).unwrap_err().0, KONDUCTOR_INVALID_UTF8);
    }

    #[test]
    fn sizes_below_the_first_version_or_absurdly_large_are_rejected() {
        let mut options = init();
        for size in [0, 8, FIRST_VERSION_SIZE - 1, LARGEST_STRUCT_SIZE + 1] {
            options.struct_size = size as u32;
            let code = read(&options).map(|_| ()).unwrap_err().0;
            assert_eq!(code, KONDUCTOR_INVALID_OPTIONS, "struct_size {size}");
        }
    }

    /// A caller's struct followed by bytes it does not own, poisoned.
    #[repr(C)]
    struct Poisoned<T> {
        options: T,
        beyond: [u8; 64],
    }

    #[test]
    fn a_caller_with_the_first_versions_struct_is_read_up_to_its_size() {
        // The bytes past the first version's last field are not the caller's.
        let mut buffer = Poisoned {
            options: init(),
            beyond: [0xff; 64],
        };
        buffer.options.struct_size = FIRST_VERSION_SIZE as u32;
        buffer.options.holder = c"old-caller".as_ptr();
        buffer.options.auto_renew = true;
        let end = std::ptr::addr_of_mut!(buffer).cast::<u8>();
        let tail = size_of::<konductor_options>() - FIRST_VERSION_SIZE;
        unsafe { end.add(FIRST_VERSION_SIZE).write_bytes(0xff, tail) };
        let converted = format!("{:?}", read(&buffer.options).unwrap());
        let expected = Options::new().holder("old-caller").auto_renew(true);
        assert_eq!(converted, format!("{expected:?}"));
    }

    #[test]
    fn the_fields_a_shorter_struct_lacks_keep_their_defaults() {
        // What a later version (here: one more field) reads from a caller
        // compiled against this one.
        #[repr(C)]
        #[derive(Debug, Clone, Copy)]
        struct Later {
            first: konductor_options,
            added: i64,
        }
        let mut caller = Poisoned {
            options: init(),
            beyond: [0xff; 64],
        };
        caller.options.priority = 7;
        let defaults = Later {
            first: konductor_options::DEFAULT,
            added: 42,
        };
        let read = unsafe {
            prefix(
                std::ptr::addr_of!(caller).cast::<Later>(),
                caller.options.struct_size as usize,
                defaults,
            )
        };
        assert_eq!(read.first.priority, 7, "the caller's field");
        assert_eq!(read.added, 42, "the default of the field the caller lacks");
    }

    #[test]
    fn a_caller_with_a_later_longer_struct_is_read_up_to_the_fields_known_here() {
        let mut caller = Poisoned {
            options: init(),
            beyond: [0xff; 64],
        };
        caller.options.struct_size = size_of::<Poisoned<konductor_options>>() as u32;
        caller.options.timeout_ms = 0;
        let converted = format!("{:?}", read(&caller.options).unwrap());
        assert_eq!(
            converted,
            format!("{:?}", Options::new().timeout(Duration::ZERO))
        );
    }

    #[test]
    fn set_fields_reach_core() {
        let mut options = init();
        options.ttl_ms = 1500;
        options.timeout_ms = 0;
        options.priority = 3;
        options.holder = c"worker-1".as_ptr();
        options.auto_renew = true;
        let converted = format!("{:?}", read(&options).unwrap());
        let expected = Options::new()
            .ttl(Duration::from_millis(1500))
            .timeout(Duration::ZERO)
            .priority(3)
            .holder("worker-1")
            .auto_renew(true);
        assert_eq!(converted, format!("{expected:?}"));
    }
}
