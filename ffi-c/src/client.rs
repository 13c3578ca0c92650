//! `konductor_client`: a connection to one API server, working in one namespace.

use std::ffi::{c_char, CString};
use std::path::Path;
use std::ptr;

use konductor_core::{Client, Config};
use serde::Serialize;

use crate::arguments::{accessor, arg_opt_str, arg_out, arg_ref, arg_str, Out};
use crate::handle::{self, Handle};
use crate::panic::{ffi_boundary, ffi_boundary_or, Failed};
use crate::result::konductor_result;
use crate::strings::{borrowable, json};

/// A client: one connection pool and one namespace. Thread-safe: share one
/// client between threads rather than creating one per thread. Every call
/// on objects takes it first (`konductor_client_<verb>`). Free it with
/// `konductor_client_free()`; handles obtained through it stay valid.
pub struct konductor_client {
    client: Client,
    namespace: CString,
}

impl Handle for konductor_client {}

/// The body of every call on one named object: checks `client` and `name`
/// (failing with their codes), then runs `body` inside the panic boundary.
pub(crate) fn on_object(
    client: *const konductor_client,
    name: *const c_char,
    body: impl FnOnce(&Client, &str) -> Result<(), Failed>,
) -> konductor_result {
    ffi_boundary! {
        let client = arg_ref!(client);
        let name = arg_str!(name);
        body(&client.client, name)
    }
}

/// The body of every call that writes one object (created, or as written):
/// checks `client` and `name`, gets the object from `body`, and writes it as
/// JSON to `*out_json` unless `out_json` is NULL (free it with
/// `konductor_string_free()`).
pub(crate) fn on_object_written<K: Serialize>(
    client: *const konductor_client,
    name: *const c_char,
    out_json: *mut *mut c_char,
    body: impl FnOnce(&Client, &str) -> Result<K, Failed>,
) -> konductor_result {
    on_object(client, name, |client, name| {
        let object = body(client, name)?;
        if let Some(out) = Out::optional(out_json) {
            out.write(json(&object)?);
        }
        Ok(())
    })
}

/// The body of a call on the client alone: checks `client`, then runs `body`
/// inside the panic boundary.
pub(crate) fn on_client(
    client: *const konductor_client,
    body: impl FnOnce(&Client) -> Result<(), Failed>,
) -> konductor_result {
    ffi_boundary! {
        body(&arg_ref!(client).client)
    }
}

/// The body of every constructor: checks `ns` and `out_client`, loads the
/// configuration with `load` (which checks its own arguments), and writes a
/// client for `ns` (NULL: the configuration's namespace).
fn connect(
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
    load: impl FnOnce() -> Result<Config, Failed>,
) -> konductor_result {
    ffi_boundary! {
        let ns = arg_opt_str!(ns);
        let out = arg_out!(out_client);
        let config = load()?;
        let config = match ns {
            Some(ns) => config.with_namespace(ns),
            None => config,
        };
        out.write(handle(Client::new(Some(config))?));
        Ok(())
    }
}

fn handle(client: Client) -> *mut konductor_client {
    let namespace = borrowable(client.namespace());
    konductor_client { client, namespace }.into_raw()
}

/// Creates a client from the inferred configuration, as client-go does:
/// `konductor_client_from_kubeconfig(NULL, NULL, ns, out_client)`.
#[no_mangle]
pub extern "C" fn konductor_client_new(
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    konductor_client_from_kubeconfig(ptr::null(), ptr::null(), ns, out_client)
}

/// Creates a client from one configuration source, by the rule every
/// binding follows (core's `Config::load`): the kubeconfig file at `path`
/// when not NULL; else, when a `context` is named (not NULL), the kubeconfig
/// from `KUBECONFIG` (several files merged) or `~/.kube/config`; else
/// inferred as client-go does: the pod's service account when running in a
/// cluster, else `KUBECONFIG` or `~/.kube/config`. `context` NULL uses the
/// kubeconfig's current context; `ns` NULL the configuration's namespace
/// (the context's, the pod's, else "default"). No request is made yet.
/// Fails with `KONDUCTOR_CONFIG` (naming the file and field) when no
/// configuration is found or it is invalid, `KONDUCTOR_INVALID_NAMESPACE`.
#[no_mangle]
pub extern "C" fn konductor_client_from_kubeconfig(
    path: *const c_char,
    context: *const c_char,
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    connect(ns, out_client, || {
        let path = arg_opt_str!(path);
        let context = arg_opt_str!(context);
        Ok(Config::load(path.map(Path::new), context)?)
    })
}

/// Creates a client from the pod's service account (token re-read when
/// rotated). `ns` NULL uses the service account's namespace. Fails with
/// `KONDUCTOR_CONFIG` outside a pod.
#[no_mangle]
pub extern "C" fn konductor_client_in_cluster(
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    connect(ns, out_client, || Ok(Config::in_cluster()?))
}

/// Creates a client for namespace `ns` that shares `client`'s connection
/// pool and credentials. Both must be freed.
#[no_mangle]
pub extern "C" fn konductor_client_in_namespace(
    client: *const konductor_client,
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    on_client(client, |client| {
        let ns = arg_str!(ns);
        let out = arg_out!(out_client);
        out.write(handle(client.in_namespace(ns)?));
        Ok(())
    })
}

/// Writes the client's namespace to `*out_namespace`. The string belongs to
/// the client and lives as long as it; do not free it.
#[no_mangle]
pub extern "C" fn konductor_client_namespace(
    client: *const konductor_client,
    out_namespace: *mut *const c_char,
) -> konductor_result {
    accessor!(client, out_namespace, |client| client.namespace.as_ptr())
}

/// Frees a client. NULL is ignored. Held permits and leases obtained through
/// it stay valid (they share the connection pool) but must be freed as well.
#[no_mangle]
pub extern "C" fn konductor_client_free(client: *mut konductor_client) {
    ffi_boundary_or!((), handle::free(client))
}
