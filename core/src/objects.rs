//! Typed REST access to namespaced Konductor objects.

use std::io::Read;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::patch::guarded_status_patch;
use crate::resource::{Resource, GROUP, VERSION};
use crate::transport::{Method, Retry, Transport};

/// A list answer: the items and the collection's resourceVersion.
#[derive(serde::Deserialize)]
struct List<K> {
    #[serde(default)]
    metadata: ListMeta,
    items: Vec<K>,
}

#[derive(Default, serde::Deserialize)]
struct ListMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
}

/// Lists, reads and writes objects of any [`Resource`] kind.
#[derive(Clone)]
pub(crate) struct Objects {
    transport: Transport,
}

impl Objects {
    pub(crate) fn new(transport: Transport) -> Objects {
        Objects { transport }
    }

    /// The same access with every request bounded by `deadline` (see
    /// [`Transport::until`]).
    pub(crate) fn until(&self, deadline: Option<std::time::Instant>) -> Objects {
        Objects {
            transport: self.transport.until(deadline),
        }
    }

    fn collection<K: Resource>(namespace: &str) -> String {
        format!(
            "/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{}",
            K::PLURAL
        )
    }

    fn item<K: Resource>(namespace: &str, name: &str) -> String {
        format!("{}/{name}", Self::collection::<K>(namespace))
    }

    /// Sends a request about one object (`subresource` is `""` or
    /// `"/status"`): a 404 becomes [`Error::NotFound`], any other non-2xx
    /// answer its error; else the body.
    fn send_about<K: Resource>(
        &self,
        method: Method,
        (namespace, name): (&str, &str),
        subresource: &str,
        body: Option<&[u8]>,
        retry: Retry,
    ) -> Result<String> {
        let path = format!("{}{subresource}", Self::item::<K>(namespace, name));
        let reply = self.transport.send(method, &path, body, retry)?;
        if reply.status == 404 {
            return Err(not_found::<K>(namespace, name));
        }
        reply.check()
    }

    /// Reads one object; a 404 becomes [`Error::NotFound`].
    pub(crate) fn get<K: Resource>(&self, namespace: &str, name: &str) -> Result<K> {
        decode(&self.send_about::<K>(Method::Get, (namespace, name), "", None, Retry::Safe)?)
    }

    /// Lists all objects of the kind in the namespace.
    pub(crate) fn list<K: Resource>(&self, namespace: &str) -> Result<Vec<K>> {
        let reply = self.transport.send(
            Method::Get,
            &Self::collection::<K>(namespace),
            None,
            Retry::Safe,
        )?;
        let list: List<K> = decode(&reply.check()?)?;
        Ok(list.items)
    }

    /// Lists the objects matching `selector` (a query fragment such as
    /// `fieldSelector=…` or `labelSelector=…`, already escaped) with the
    /// collection's current resourceVersion, from which a watch can always
    /// start, however long ago the objects themselves last changed.
    pub(crate) fn list_selected<K: Resource>(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<(Vec<K>, String)> {
        let path = format!("{}?{selector}", Self::collection::<K>(namespace));
        let reply = self.transport.send(Method::Get, &path, None, Retry::Safe)?;
        let list: List<K> = decode(&reply.check()?)?;
        Ok((list.items, list.metadata.resource_version))
    }

    /// Creates an object; it must not exist yet.
    pub(crate) fn create<K: Resource>(&self, namespace: &str, object: &K) -> Result<K> {
        let body = encode(object)?;
        let reply = self.transport.send(
            Method::Post,
            &Self::collection::<K>(namespace),
            Some(&body),
            Retry::Never,
        )?;
        match reply.check() {
            Err(Error::Api(status)) if status.code == 409 && status.reason == "AlreadyExists" => {
                Err(Error::AlreadyExists {
                    kind: K::KIND,
                    namespace: namespace.to_owned(),
                    name: object.metadata().name.clone(),
                })
            }
            answer => decode(&answer?),
        }
    }

    /// Deletes an object; a 404 becomes [`Error::NotFound`].
    pub(crate) fn delete<K: Resource>(&self, namespace: &str, name: &str) -> Result<()> {
        self.send_about::<K>(Method::Delete, (namespace, name), "", None, Retry::Safe)
            .map(drop)
    }

    /// Replaces the status, guarded by the object's resourceVersion: a
    /// concurrent change makes this fail with a 409 conflict (see
    /// [`Error::is_conflict`]); a 404 becomes [`Error::NotFound`].
    pub(crate) fn replace_status<K: Resource>(&self, object: &K) -> Result<K> {
        let meta = object.metadata();
        debug_assert!(
            !meta.resource_version.is_empty(),
            "status writes must be guarded"
        );
        let body = encode(object)?;
        // Safe to retry: a repeated write fails with a conflict rather than applying twice.
        let id = (meta.namespace.as_str(), meta.name.as_str());
        decode(&self.send_about::<K>(Method::Put, id, "/status", Some(&body), Retry::Safe)?)
    }

    /// Applies a JSON patch to the status, atomically on the latest
    /// version; its `test` operations guard it (see `patch.rs`). A patch
    /// that does not apply is an [`Error::Api`] 422. [`Retry::Safe`] only
    /// for patches whose tests make a repeat fail rather than apply twice.
    pub(crate) fn patch_status<K: Resource>(
        &self,
        namespace: &str,
        name: &str,
        patch: &serde_json::Value,
        retry: Retry,
    ) -> Result<K> {
        let body = encode(patch)?;
        decode(&self.send_about::<K>(
            Method::Patch,
            (namespace, name),
            "/status",
            Some(&body),
            retry,
        )?)
    }

    /// Applies a JSON patch to the object itself (not its status), once: the
    /// patch's own tests make a repeat fail rather than apply twice.
    pub(crate) fn patch<K: Resource>(
        &self,
        namespace: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<K> {
        let body = encode(patch)?;
        decode(&self.send_about::<K>(
            Method::Patch,
            (namespace, name),
            "",
            Some(&body),
            Retry::Safe,
        )?)
    }

    /// Writes `new` (computed from `old`) as a guarded JSON patch (see
    /// `patch.rs`), else as a resourceVersion-guarded PUT. A concurrent change of anything the
    /// write depends on fails it with a 409 conflict: re-read and retry.
    pub(crate) fn write_status<K: Resource>(&self, old: &K, new: &K) -> Result<K> {
        let status = |object: &K| {
            serde_json::to_value(object)
                .ok()
                .and_then(|v| v.get("status").cloned())
        };
        if let (Some(old_status), Some(new_status)) = (status(old), status(new)) {
            let meta = old.metadata();
            if let Some(patch) =
                guarded_status_patch(&old_status, &new_status, &meta.uid, meta.generation)
            {
                let meta = new.metadata();
                match self.patch_status::<K>(&meta.namespace, &meta.name, &patch, Retry::Safe) {
                    // A failed test: fall back to the PUT, which says whether
                    // something really changed (409) or the patch could not
                    // express this change (then it succeeds).
                    Err(Error::Api(status)) if status.code == 422 => {}
                    other => return other,
                }
            }
        }
        self.replace_status(new)
    }

    /// Opens a watch of the objects matching `selector` (as for
    /// [`Objects::list_selected`]) from `resource_version`, ending after `seconds`.
    pub(crate) fn watch<K: Resource>(
        &self,
        namespace: &str,
        selector: &str,
        resource_version: &str,
        seconds: u64,
    ) -> Result<Box<dyn Read + Send>> {
        let mut path = format!(
            "{}?watch=true&allowWatchBookmarks=true&{selector}&timeoutSeconds={seconds}",
            Self::collection::<K>(namespace)
        );
        if !resource_version.is_empty() {
            path.push_str("&resourceVersion=");
            path.push_str(resource_version);
        }
        self.transport
            .stream(&path, Duration::from_secs(seconds + 15))
    }

    /// Deletes an object only while it still has `resource_version` (a
    /// precondition the API server checks): true when deleted, false when it
    /// changed or was already gone.
    pub(crate) fn delete_if_unchanged<K: Resource>(
        &self,
        namespace: &str,
        name: &str,
        resource_version: &str,
    ) -> Result<bool> {
        let body = encode(&serde_json::json!({
            "preconditions": { "resourceVersion": resource_version }
        }))?;
        match self.send_about::<K>(
            Method::Delete,
            (namespace, name),
            "",
            Some(&body),
            Retry::Safe,
        ) {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(error) if error.is_conflict() => Ok(false),
            Err(error) => Err(error),
        }
    }
}

pub(crate) fn not_found<K: Resource>(namespace: &str, name: &str) -> Error {
    Error::NotFound {
        kind: K::KIND,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::transport("failed to encode request body", e))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body)
        .map_err(|e| Error::transport("failed to decode API server answer", e))
}
