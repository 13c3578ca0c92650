//! `konductor_client`: a connection to one API server, working in one namespace.

use std::ffi::{c_char, CString};

use konductor_core::{Client, Config};

use crate::arguments::{accessor, arg_opt_str, arg_out, arg_ref, arg_str, Out};
use crate::handle::{self, Handle};
use crate::panic::{ffi_boundary, ffi_boundary_or, Failed};
use crate::result::konductor_result;
use crate::strings::borrowable;

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

fn connect(
    config: Config,
    namespace: Option<&str>,
    out: Out<*mut konductor_client>,
) -> Result<(), Failed> {
    let config = match namespace {
        Some(namespace) => config.with_namespace(namespace),
        None => config,
    };
    out.write(handle(Client::new(Some(config))?));
    Ok(())
}

fn handle(client: Client) -> *mut konductor_client {
    let namespace = borrowable(client.namespace());
    konductor_client { client, namespace }.into_raw()
}

/// Creates a client the way client-go does: the in-cluster service account
/// when running in a pod, else the kubeconfig from `KUBECONFIG` or
/// `~/.kube/config`. `ns` overrides the configured namespace; NULL keeps it.
/// No request is made yet. Fails with `KONDUCTOR_CONFIG` when no
/// configuration is found or it is invalid, `KONDUCTOR_INVALID_NAMESPACE`.
#[no_mangle]
pub extern "C" fn konductor_client_new(
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    ffi_boundary! {
        let ns = arg_opt_str!(ns);
        let out = arg_out!(out_client);
        connect(Config::infer()?, ns, out)
    }
}

/// Creates a client from the kubeconfig file at `path` (NULL: `KUBECONFIG`,
/// several paths merged, else `~/.kube/config`), using `context` (NULL: the
/// current context) and `ns` (NULL: the context's namespace, else
/// "default"). Fails with `KONDUCTOR_CONFIG` naming the file and field.
#[no_mangle]
pub extern "C" fn konductor_client_from_kubeconfig(
    path: *const c_char,
    context: *const c_char,
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    ffi_boundary! {
        let path = arg_opt_str!(path);
        let context = arg_opt_str!(context);
        let ns = arg_opt_str!(ns);
        let out = arg_out!(out_client);
        let config = match path {
            Some(path) => Config::from_kubeconfig(path, context)?,
            None => Config::from_kubeconfig_env(context)?,
        };
        connect(config, ns, out)
    }
}

/// Creates a client from the pod's service account (token re-read when
/// rotated). `ns` NULL uses the service account's namespace. Fails with
/// `KONDUCTOR_CONFIG` outside a pod.
#[no_mangle]
pub extern "C" fn konductor_client_in_cluster(
    ns: *const c_char,
    out_client: *mut *mut konductor_client,
) -> konductor_result {
    ffi_boundary! {
        let ns = arg_opt_str!(ns);
        let out = arg_out!(out_client);
        connect(Config::in_cluster()?, ns, out)
    }
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
