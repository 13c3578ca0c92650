//! Status writes as guarded JSON patches.
//!
//! A status write is computed from one version of the object. The patch built
//! here tests exactly what the decision read — the object's uid, its spec
//! generation and every status field — and changes only the fields that
//! differ, so it applies if and only if all of that is unchanged, whatever
//! else changed (metadata, say), and it carries no more than the change.
//! A failed test is reported by the API server as 422 and treated like a
//! conflict: re-read and decide again.

use serde_json::{json, Value};

/// Builds the patch from status `old` to status `new`, or None when it
/// cannot be expressed safely (then use a resourceVersion-guarded PUT).
/// `uid` and `generation` are the object's the change was computed from:
/// the patch tests them too, so a concurrent spec change (fewer permits,
/// say) or a re-created object fails the write instead of being overruled.
pub(crate) fn guarded_status_patch(
    old: &Value,
    new: &Value,
    uid: &str,
    generation: Option<i64>,
) -> Option<Value> {
    let (old, new) = (old.as_object()?, new.as_object()?);
    let mut ops = Vec::new();
    if !uid.is_empty() {
        ops.push(json!({"op": "test", "path": "/metadata/uid", "value": uid}));
    }
    if let Some(generation) = generation {
        ops.push(json!({"op": "test", "path": "/metadata/generation", "value": generation}));
    }
    for (key, old_value) in old {
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
        if !old.contains_key(key) && !new_value.is_null() {
            // A field appears: "add" would overwrite a concurrent one unseen.
            return None;
        }
    }
    Some(Value::Array(ops))
}

/// Escapes a key for a JSON pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_tests_what_it_read_and_changes_only_what_differs() {
        let old = json!({
            "holders": [{"holder": "a", "token": 3}],
            "fencingToken": 3, "inUse": 1, "available": 0, "phase": "Full"
        });
        let new = json!({
            "holders": [{"holder": "w1", "token": 4}],
            "fencingToken": 4, "inUse": 1, "available": 0, "phase": "Full"
        });
        let patch = guarded_status_patch(&old, &new, "u", Some(1)).unwrap();
        let ops = patch.as_array().unwrap();
        let has = |op: &str, path: &str| ops.iter().any(|o| o["op"] == op && o["path"] == path);
        assert!(has("test", "/status/holders") && has("replace", "/status/holders"));
        assert!(has("test", "/status/fencingToken") && has("replace", "/status/fencingToken"));
        assert!(has("test", "/status/phase") && !has("replace", "/status/phase"));
        assert!(has("test", "/metadata/uid"));
    }

    #[test]
    fn new_fields_fall_back_to_put_and_removed_ones_are_removed() {
        let old = json!({"holders": [], "holder": "a"});
        let grown = json!({"holders": [], "holder": "a", "phase": "Ready"});
        assert_eq!(guarded_status_patch(&old, &grown, "u", Some(1)), None);
        assert_eq!(guarded_status_patch(&Value::Null, &grown, "u", None), None);
        let shrunk = json!({"holders": []});
        let patch = guarded_status_patch(&old, &shrunk, "u", Some(1)).unwrap();
        assert!(patch
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["op"] == "remove" && o["path"] == "/status/holder"));
    }

    #[test]
    fn a_patch_tests_the_object_and_spec_generation_it_was_computed_from() {
        let old = json!({"holders": [], "fencingToken": 0});
        let new = json!({"holders": [{"holder": "a"}], "fencingToken": 1});
        let patch = guarded_status_patch(&old, &new, "uid-1", Some(7)).unwrap();
        assert_eq!(
            patch[0],
            json!({"op": "test", "path": "/metadata/uid", "value": "uid-1"})
        );
        assert_eq!(
            patch[1],
            json!({"op": "test", "path": "/metadata/generation", "value": 7}),
            "the generation test comes early: {patch}"
        );
    }
}
