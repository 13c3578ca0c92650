//! Gates: their conditions as C structs, whether one is open, and how the operator evaluated each condition.

use std::ffi::{c_char, CString};
use std::ptr;

use konductor_core::resource::{ConditionKind, GateCondition, GateConditionStatus};

use crate::arguments::{arg_out, optional_string, reference, string};
use crate::client::{konductor_client, on_object};
use crate::panic::{failed, ffi_boundary_or, Failed};
use crate::result::konductor_result::{self, *};
use crate::strings;

/// What a gate condition refers to. Numbering starts at 1 so that a zeroed
/// condition is rejected rather than read as a Job.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum konductor_condition_kind {
    /// A `batch/v1` Job: state `Complete`, `Failed` or `Active`.
    KONDUCTOR_CONDITION_JOB = 1,
    /// A Konductor Semaphore: at least `value` permits available.
    KONDUCTOR_CONDITION_SEMAPHORE = 2,
    /// A Konductor Barrier: state `Open` or `Closed`.
    KONDUCTOR_CONDITION_BARRIER = 3,
    /// A Konductor Lease: state `Acquired` or `Available`.
    KONDUCTOR_CONDITION_LEASE = 4,
    /// Another Konductor Gate: state `Open` or `Closed`.
    KONDUCTOR_CONDITION_GATE = 5,
    /// A Konductor Mutex: state `Locked` or `Unlocked`.
    KONDUCTOR_CONDITION_MUTEX = 6,
    /// A Konductor Once: state `Done` or `Failed`.
    KONDUCTOR_CONDITION_ONCE = 8,
    /// A Konductor WaitGroup: state `Done` (counter zero) or `Waiting`.
    KONDUCTOR_CONDITION_WAITGROUP = 7,
}

use konductor_condition_kind::*;

impl konductor_condition_kind {
    fn to_core(self) -> ConditionKind {
        match self {
            KONDUCTOR_CONDITION_JOB => ConditionKind::Job,
            KONDUCTOR_CONDITION_SEMAPHORE => ConditionKind::Semaphore,
            KONDUCTOR_CONDITION_BARRIER => ConditionKind::Barrier,
            KONDUCTOR_CONDITION_LEASE => ConditionKind::Lease,
            KONDUCTOR_CONDITION_GATE => ConditionKind::Gate,
            KONDUCTOR_CONDITION_MUTEX => ConditionKind::Mutex,
            KONDUCTOR_CONDITION_ONCE => ConditionKind::Once,
            KONDUCTOR_CONDITION_WAITGROUP => ConditionKind::WaitGroup,
        }
    }

    fn from_core(kind: ConditionKind) -> konductor_condition_kind {
        match kind {
            ConditionKind::Job => KONDUCTOR_CONDITION_JOB,
            ConditionKind::Semaphore => KONDUCTOR_CONDITION_SEMAPHORE,
            ConditionKind::Barrier => KONDUCTOR_CONDITION_BARRIER,
            ConditionKind::Lease => KONDUCTOR_CONDITION_LEASE,
            ConditionKind::Gate => KONDUCTOR_CONDITION_GATE,
            ConditionKind::Mutex => KONDUCTOR_CONDITION_MUTEX,
            ConditionKind::Once => KONDUCTOR_CONDITION_ONCE,
            ConditionKind::WaitGroup => KONDUCTOR_CONDITION_WAITGROUP,
        }
    }

    fn from_u32(kind: u32) -> Option<konductor_condition_kind> {
        [
            KONDUCTOR_CONDITION_JOB,
            KONDUCTOR_CONDITION_SEMAPHORE,
            KONDUCTOR_CONDITION_BARRIER,
            KONDUCTOR_CONDITION_LEASE,
            KONDUCTOR_CONDITION_GATE,
            KONDUCTOR_CONDITION_MUTEX,
            KONDUCTOR_CONDITION_ONCE,
            KONDUCTOR_CONDITION_WAITGROUP,
        ]
        .into_iter()
        .find(|k| *k as u32 == kind)
    }
}

/// One condition of a gate, as given to `konductor_client_create_gate()`. The
/// strings are copied by the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct konductor_gate_condition {
    /// A `konductor_condition_kind` value; others are `KONDUCTOR_INVALID_ARGUMENT`.
    pub kind: u32,
    /// Name of the referenced object. Required.
    pub name: *const c_char,
    /// Namespace of the referenced object; NULL for the gate's own.
    pub object_namespace: *const c_char,
    /// Required state (see `konductor_condition_kind`); NULL for none.
    pub state: *const c_char,
    /// Whether `value` is set.
    pub has_value: bool,
    /// For a Semaphore: the minimum number of available permits.
    pub value: i64,
}

/// The operator's evaluation of one gate condition, as returned by
/// `konductor_client_gate_conditions()`. The strings belong to the array.
#[repr(C)]
#[derive(Debug)]
pub struct konductor_gate_condition_status {
    /// Kind of the referenced object.
    pub kind: konductor_condition_kind,
    /// Whether the condition holds.
    pub met: bool,
    /// Name of the referenced object.
    pub name: *const c_char,
    /// Namespace of the referenced object; NULL when it is the gate's own.
    pub object_namespace: *const c_char,
    /// Human-readable explanation (may be empty, never NULL).
    pub message: *const c_char,
}

fn condition(given: &konductor_gate_condition, index: usize) -> Result<GateCondition, Failed> {
    let kind = konductor_condition_kind::from_u32(given.kind).ok_or_else(|| {
        failed(
            KONDUCTOR_INVALID_ARGUMENT,
            format!(
                "conditions[{index}].kind is {}: not a konductor_condition_kind",
                given.kind
            ),
        )
    })?;
    Ok(GateCondition {
        type_: kind.to_core(),
        name: string(given.name, &format!("conditions[{index}].name"))?.to_owned(),
        namespace: optional_string(
            given.object_namespace,
            &format!("conditions[{index}].object_namespace"),
        )?
        .map(str::to_owned),
        state: optional_string(given.state, &format!("conditions[{index}].state"))?
            .map(str::to_owned),
        value: given.has_value.then_some(given.value),
    })
}

fn status(evaluated: GateConditionStatus) -> konductor_gate_condition_status {
    let owned = |text: String| strings::owned(text).cast_const();
    konductor_gate_condition_status {
        kind: konductor_condition_kind::from_core(evaluated.type_),
        met: evaluated.met,
        name: owned(evaluated.name),
        object_namespace: evaluated.namespace.map_or(ptr::null(), owned),
        message: owned(evaluated.message),
    }
}

/// The core conditions described by the C array `conditions` of `len`
/// elements (NULL allowed when `len` is 0).
pub(crate) fn given_conditions(
    conditions: *const konductor_gate_condition,
    len: usize,
) -> Result<Vec<GateCondition>, Failed> {
    if len == 0 {
        return Ok(Vec::new());
    }
    reference(conditions, "conditions")?;
    // SAFETY: not NULL, and the caller guarantees `len` initialised elements.
    let given = unsafe { std::slice::from_raw_parts(conditions, len) };
    given
        .iter()
        .enumerate()
        .map(|(index, given)| condition(given, index))
        .collect()
}

/// Writes whether gate `name` is open now.
#[no_mangle]
pub extern "C" fn konductor_client_check_gate(
    client: *const konductor_client,
    name: *const c_char,
    out_open: *mut bool,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let out = arg_out!(out_open);
        out.write(client.check_gate(name)?);
        Ok(())
    })
}

/// Writes the operator's evaluation of each condition of gate `name`, in
/// spec order, as an array to `*out_conditions` and its length to `*out_len`
/// (NULL and 0 until the operator evaluated the gate). Free the array with
/// `konductor_gate_condition_status_free()`.
#[no_mangle]
pub extern "C" fn konductor_client_gate_conditions(
    client: *const konductor_client,
    name: *const c_char,
    out_conditions: *mut *mut konductor_gate_condition_status,
    out_len: *mut usize,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let out_conditions = arg_out!(out_conditions);
        let out_len = arg_out!(out_len);
        let evaluated: Box<[_]> = client
            .gate_conditions(name)?
            .into_iter()
            .map(status)
            .collect();
        let len = evaluated.len();
        let array = if len == 0 {
            ptr::null_mut()
        } else {
            Box::into_raw(evaluated).cast::<konductor_gate_condition_status>()
        };
        out_conditions.write(array);
        out_len.write(len);
        Ok(())
    })
}

/// Frees an array from `konductor_client_gate_conditions()`, given with the
/// length that call wrote. NULL is ignored.
#[no_mangle]
pub extern "C" fn konductor_gate_condition_status_free(
    conditions: *mut konductor_gate_condition_status,
    len: usize,
) {
    ffi_boundary_or!((), {
        if conditions.is_null() {
            return;
        }
        // SAFETY: the array came from Box::into_raw of a boxed slice of
        // exactly `len` elements in `konductor_client_gate_conditions`, and the
        // caller gives up its ownership here.
        let array = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(conditions, len)) };
        for evaluated in array.iter() {
            for text in [
                evaluated.name,
                evaluated.object_namespace,
                evaluated.message,
            ] {
                if !text.is_null() {
                    // SAFETY: each string came from `strings::owned` (CString::into_raw).
                    drop(unsafe { CString::from_raw(text.cast_mut()) });
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_arrays_convert_and_free() {
        let evaluated = vec![
            GateConditionStatus {
                type_: ConditionKind::Semaphore,
                name: "quota".to_owned(),
                namespace: None,
                met: true,
                message: "2 available".to_owned(),
            },
            GateConditionStatus {
                type_: ConditionKind::Job,
                name: "build".to_owned(),
                namespace: Some("ci".to_owned()),
                met: false,
                message: String::new(),
            },
        ];
        let array: Box<[_]> = evaluated.into_iter().map(status).collect();
        assert_eq!(array[0].kind, KONDUCTOR_CONDITION_SEMAPHORE);
        assert!(array[0].object_namespace.is_null());
        assert!(!array[1].met);
        let len = array.len();
        konductor_gate_condition_status_free(Box::into_raw(array).cast(), len);
        konductor_gate_condition_status_free(ptr::null_mut(), 0);
    }

    #[test]
    fn unknown_condition_kinds_are_rejected() {
        let given = konductor_gate_condition {
            kind: 0,
            name: c"x".as_ptr(),
            object_namespace: ptr::null(),
            state: ptr::null(),
            has_value: false,
            value: 0,
        };
        assert_eq!(
            condition(&given, 0).unwrap_err().0,
            KONDUCTOR_INVALID_ARGUMENT
        );
        let given = konductor_gate_condition { kind: 2, ..given };
        assert_eq!(
            condition(&given, 0).unwrap().type_,
            ConditionKind::Semaphore
        );
    }
}
