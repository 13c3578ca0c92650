//! The newest version of each object this client read or wrote.
//!
//! A status write is guarded by what it was computed from, so it may start
//! from a remembered copy instead of a fresh read: when the copy is current
//! (the usual case for an uncontended acquire and release) the write is the
//! only request; when it is not, the write fails its guard and the caller
//! reads afresh. This halves the requests of an uncontended cycle.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::resource::Resource;
use crate::watch::is_newer;

/// How many objects are remembered; past it, the memory starts over.
const CAPACITY: usize = 1024;

/// Remembered versions, by `plural/namespace/name`.
#[derive(Default)]
pub(crate) struct Latest {
    objects: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

fn key<K: Resource>(namespace: &str, name: &str) -> String {
    format!("{}/{namespace}/{name}", K::PLURAL)
}

impl Latest {
    /// The remembered version of `name`, if any.
    pub(crate) fn get<K: Resource>(&self, namespace: &str, name: &str) -> Option<K> {
        let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let found = objects.get(&key::<K>(namespace, name))?;
        found.downcast_ref::<K>().cloned()
    }

    /// Remembers `object` unless a newer version is remembered already.
    pub(crate) fn put<K: Resource>(&self, object: &K) {
        let meta = object.metadata();
        let key = key::<K>(&meta.namespace, &meta.name);
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = objects.get(&key).and_then(|k| k.downcast_ref::<K>()) {
            let known = known.metadata();
            if known.uid == meta.uid && !is_newer(&meta.resource_version, &known.resource_version) {
                return;
            }
        }
        if objects.len() >= CAPACITY && !objects.contains_key(&key) {
            objects.clear();
        }
        objects.insert(key, Arc::new(object.clone()));
    }

    /// Forgets `name` (deleted, or found out of date).
    pub(crate) fn forget<K: Resource>(&self, namespace: &str, name: &str) {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        objects.remove(&key::<K>(namespace, name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Semaphore, SemaphoreSpec};

    fn version(rv: &str, uid: &str) -> Semaphore {
        let mut s = Semaphore::new(
            "s",
            SemaphoreSpec {
                permits: 1,
                ttl: None,
            },
        );
        s.metadata.namespace = "ns".into();
        s.metadata.resource_version = rv.into();
        s.metadata.uid = uid.into();
        s
    }

    #[test]
    fn keeps_the_newest_version_and_follows_a_re_created_object() {
        let latest = Latest::default();
        assert!(latest.get::<Semaphore>("ns", "s").is_none());
        latest.put(&version("10", "a"));
        latest.put(&version("9", "a"));
        assert_eq!(
            latest
                .get::<Semaphore>("ns", "s")
                .unwrap()
                .metadata
                .resource_version,
            "10"
        );
        latest.put(&version("5", "b"));
        assert_eq!(
            latest.get::<Semaphore>("ns", "s").unwrap().metadata.uid,
            "b"
        );
        latest.forget::<Semaphore>("ns", "s");
        assert!(latest.get::<Semaphore>("ns", "s").is_none());
    }
}
