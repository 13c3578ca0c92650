//! Reading and writing core's Konductor types through kube's dynamic API.
//!
//! The resource types are defined once, in the `konductor` crate, with their
//! own metadata type; kube sees them as `DynamicObject`s of an `ApiResource`
//! and the two are converted through JSON. Status writes carry the
//! resourceVersion that was read, so the API server rejects (409) a write
//! based on a stale copy, exactly as for the clients.

use k8s_openapi::serde::de::DeserializeOwned;
use k8s_openapi::serde::Serialize;
use konductor::resource::{self, Resource};
use kube::api::{ApiResource, DynamicObject, PostParams};
use kube::{Api, Client};

use crate::error::{is_conflict, Error, Result};

/// The `ApiResource` of a Konductor kind.
pub fn api_resource<K: Resource>() -> ApiResource {
    ApiResource {
        group: resource::GROUP.to_owned(),
        version: resource::VERSION.to_owned(),
        api_version: resource::API_VERSION.to_owned(),
        kind: K::KIND.to_owned(),
        plural: K::PLURAL.to_owned(),
    }
}

/// The dynamic API of a Konductor kind in one namespace.
pub fn api<K: Resource>(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &api_resource::<K>())
}

/// `kind namespace/name` for messages and logs.
pub fn describe<K: Resource>(object: &K) -> String {
    let meta = object.metadata();
    format!(
        "{} {}/{}",
        K::KIND.to_lowercase(),
        meta.namespace,
        meta.name
    )
}

/// Converts what a watch or read delivered into the core type.
pub fn decode<K: Resource>(object: &DynamicObject) -> Result<K> {
    convert(object, || {
        format!(
            "{} {}/{}",
            K::KIND.to_lowercase(),
            object.metadata.namespace.as_deref().unwrap_or_default(),
            object.metadata.name.as_deref().unwrap_or_default()
        )
    })
}

fn encode<K: Resource>(object: &K) -> Result<DynamicObject> {
    convert(object, || describe(object))
}

/// Re-types `from` through JSON; `what` names it in the error.
fn convert<T: Serialize, U: DeserializeOwned>(from: &T, what: impl Fn() -> String) -> Result<U> {
    serde_json::to_value(from)
        .and_then(serde_json::from_value)
        .map_err(|source| Error::Decode {
            what: what(),
            source,
        })
}

/// Reads one object; `None` when it does not exist.
pub async fn get<K: Resource>(client: &Client, namespace: &str, name: &str) -> Result<Option<K>> {
    let found = api::<K>(client, namespace)
        .get_opt(name)
        .await
        .map_err(|e| {
            Error::kube(
                format!("read {} {namespace}/{name}", K::KIND.to_lowercase()),
                e,
            )
        })?;
    found.as_ref().map(decode).transpose()
}

/// What a guarded status write came to.
pub enum Written<K> {
    /// The write was applied; the object as stored.
    Applied(K),
    /// Someone else changed the object first; here is its current state
    /// (`None` when it was deleted meanwhile).
    Conflict(Option<K>),
}

/// Replaces the status of `object`, guarded by its resourceVersion.
pub async fn replace_status<K: Resource>(client: &Client, object: &K) -> Result<Written<K>> {
    let meta = object.metadata();
    let api = api::<K>(client, &meta.namespace);
    match api
        .replace_status(&meta.name, &PostParams::default(), &encode(object)?)
        .await
    {
        Ok(written) => Ok(Written::Applied(decode(&written)?)),
        Err(error) if is_conflict(&error) => Ok(Written::Conflict(
            get(client, &meta.namespace, &meta.name).await?,
        )),
        Err(error) => Err(Error::kube(
            format!("replace status of {}", describe(object)),
            error,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konductor::resource::{Semaphore, SemaphoreSpec, SemaphoreStatus};

    #[test]
    fn core_objects_survive_the_dynamic_round_trip() {
        let mut sem = Semaphore::new(
            "s",
            SemaphoreSpec {
                permits: 2,
                ttl: Some("30s".into()),
            },
        );
        sem.metadata.namespace = "ns".into();
        sem.metadata.resource_version = "42".into();
        sem.metadata
            .extra
            .insert("finalizers".into(), serde_json::json!(["x"]));
        sem.status = Some(SemaphoreStatus {
            in_use: 1,
            phase: Some(konductor::resource::SemaphorePhase::Ready),
            ..SemaphoreStatus::default()
        });
        let dynamic = encode(&sem).unwrap();
        assert_eq!(dynamic.metadata.resource_version.as_deref(), Some("42"));
        let back: Semaphore = decode(&dynamic).unwrap();
        assert_eq!(back, sem);
    }
}
