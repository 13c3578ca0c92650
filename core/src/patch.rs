//! Status writes as guarded JSON patches that survive concurrent queue appends.
//!
//! A resourceVersion-guarded PUT fails whenever anything changed, including a
//! newcomer appending itself to the waiter list, which is the most frequent
//! write under contention. The patch built here instead tests exactly what
//! the change was computed from — every status field except the waiter list,
//! and each waiter entry it changes or removes, at the index it was seen —
//! and applies only if all of that is unchanged. Entries appended meanwhile
//! are kept. A failed test is reported by the API server as 422 and treated
//! like a conflict: re-read and decide again.

use serde_json::{json, Map, Value};

/// The waiter list: the only status field others may change concurrently.
const WAITERS: &str = "waiters";

/// Builds the patch from status `old` to status `new`, or None when it
/// cannot be expressed safely (then use a resourceVersion-guarded PUT).
/// `generation` is the object's `metadata.generation` the change was
/// computed from: the patch also tests it, so a concurrent spec change (fewer
/// permits, say) fails the write instead of being overruled by it.
pub(crate) fn guarded_status_patch(
    old: &Value,
    new: &Value,
    generation: Option<i64>,
) -> Option<Value> {
    let (old, new) = (old.as_object()?, new.as_object()?);
    let mut ops = Vec::new();
    if let Some(generation) = generation {
        ops.push(json!({"op": "test", "path": "/metadata/generation", "value": generation}));
    }
    for (key, old_value) in old {
        if key == WAITERS {
            continue;
        }
        let path = format!("/status/{}", escape(key));
        ops.push(json!({"op": "test", "path": path, "value": old_value}));
        match new.get(key) {
            Some(new_value) if new_value != old_value => {
                ops.push(json!({"op": "replace", "path": path, "value": new_value}))
            }
            Some(_) => {}
            None => ops.push(json!({"op": "remove", "path": path})),
        }
    }
    for (key, new_value) in new {
        if key != WAITERS && !old.contains_key(key) {
            // A field appears: "add" would overwrite a concurrent one unseen.
            if new_value.is_null() {
                continue;
            }
            return None;
        }
    }
    waiter_ops(old, new, &mut ops)?;
    Some(Value::Array(ops))
}

/// Tests and changes the waiter entries that differ, from the last index
/// down so that a removal never shifts an index still to be used.
fn waiter_ops(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    ops: &mut Vec<Value>,
) -> Option<()> {
    let empty = Vec::new();
    let old_waiters = match old.get(WAITERS) {
        Some(value) => value.as_array()?,
        None if new.get(WAITERS).is_none_or_empty() => return Some(()),
        None => return None,
    };
    let new_waiters = new.get(WAITERS).and_then(Value::as_array).unwrap_or(&empty);
    let holder = |w: &Value| w.get("holder").and_then(Value::as_str).map(str::to_owned);
    for (index, old_entry) in old_waiters.iter().enumerate().rev() {
        let path = format!("/status/{WAITERS}/{index}");
        let name = holder(old_entry)?;
        match new_waiters
            .iter()
            .find(|w| holder(w).as_deref() == Some(&name))
        {
            None => {
                ops.push(json!({"op": "test", "path": path, "value": old_entry}));
                ops.push(json!({"op": "remove", "path": path}));
            }
            Some(new_entry) if new_entry != old_entry => {
                ops.push(json!({"op": "test", "path": path, "value": old_entry}));
                ops.push(json!({"op": "replace", "path": path, "value": new_entry}));
            }
            Some(_) => {}
        }
    }
    for entry in new_waiters {
        let name = holder(entry)?;
        if !old_waiters
            .iter()
            .any(|w| holder(w).as_deref() == Some(&name))
        {
            ops.push(json!({"op": "add", "path": format!("/status/{WAITERS}/-"), "value": entry}));
        }
    }
    Some(())
}

trait NoneOrEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl NoneOrEmpty for Option<&Value> {
    fn is_none_or_empty(&self) -> bool {
        self.map_or(true, |v| v.as_array().is_some_and(Vec::is_empty))
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(holder: &str, beats: u64) -> Value {
        json!({"holder": holder, "priority": 0, "renewCount": beats, "ttl": "30s", "holdTtl": "1m0s"})
    }

    #[test]
    fn a_release_tests_what_it_read_and_keeps_appended_waiters() {
        let old = json!({
            "holders": [{"holder": "a", "token": 3}],
            "waiters": [waiter("w1", 0), waiter("w2", 0)],
            "fencingToken": 3, "inUse": 1, "available": 0, "phase": "Full"
        });
        let new = json!({
            "holders": [{"holder": "w1", "token": 4}],
            "waiters": [waiter("w2", 0)],
            "fencingToken": 4, "inUse": 1, "available": 0, "phase": "Full"
        });
        let patch = guarded_status_patch(&old, &new, Some(1)).unwrap();
        let ops = patch.as_array().unwrap();
        let has = |op: &str, path: &str| ops.iter().any(|o| o["op"] == op && o["path"] == path);
        assert!(has("test", "/status/holders") && has("replace", "/status/holders"));
        assert!(has("test", "/status/fencingToken") && has("replace", "/status/fencingToken"));
        assert!(has("test", "/status/phase") && !has("replace", "/status/phase"));
        assert!(has("test", "/status/waiters/0") && has("remove", "/status/waiters/0"));
        assert!(
            !has("test", "/status/waiters/1"),
            "untouched waiters are not tested"
        );
        assert!(
            !ops.iter().any(|o| o["path"] == "/status/waiters"),
            "the list itself is never replaced"
        );
    }

    #[test]
    fn removals_run_from_the_last_index_down() {
        let old =
            json!({"holders": [], "waiters": [waiter("a", 0), waiter("b", 0), waiter("c", 0)]});
        let new = json!({"holders": [], "waiters": [waiter("b", 1)]});
        let patch = guarded_status_patch(&old, &new, Some(1)).unwrap();
        let paths: Vec<&str> = patch
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["op"] != "test")
            .map(|o| o["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "/status/waiters/2",
                "/status/waiters/1",
                "/status/waiters/0"
            ]
        );
    }

    #[test]
    fn appends_go_to_the_end_and_new_fields_fall_back_to_put() {
        let old = json!({"holders": [], "waiters": []});
        let new = json!({"holders": [], "waiters": [waiter("n", 0)]});
        let patch = guarded_status_patch(&old, &new, Some(1)).unwrap();
        assert!(patch
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["op"] == "add" && o["path"] == "/status/waiters/-"));
        let grown = json!({"holders": [], "waiters": [], "phase": "Ready"});
        assert_eq!(guarded_status_patch(&old, &grown, Some(1)), None);
        assert_eq!(guarded_status_patch(&Value::Null, &grown, None), None);
    }

    #[test]
    fn a_patch_tests_the_spec_generation_it_was_computed_from() {
        let old = json!({"holders": [], "fencingToken": 0, "waiters": []});
        let new = json!({"holders": [{"holder": "a"}], "fencingToken": 1, "waiters": []});
        let patch = guarded_status_patch(&old, &new, Some(7)).unwrap();
        assert_eq!(
            patch[0],
            json!({"op": "test", "path": "/metadata/generation", "value": 7}),
            "the generation test comes first: {patch}"
        );
    }
}
