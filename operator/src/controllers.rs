//! The kube-rs Controllers: one per kind and watched namespace, each set up
//! by the same generic function and driving that kind's [`Reconciler`].

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use konductor::resource::{self as r, ConditionKind, Resource};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{controller, watcher, Controller};
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::object::api_resource;
use crate::reconciler::{error_policy, reconcile, Reconciler};

/// Every controller: semaphores, leases, mutexes, rwmutexes, onces, barriers, wait groups and gates, per watched namespace.
pub fn all(ctx: &Arc<Context>) -> Vec<BoxFuture<'static, ()>> {
    let scopes: Vec<Option<String>> = match &ctx.scope {
        Some(list) => list.iter().cloned().map(Some).collect(),
        None => vec![None],
    };
    let mut running = Vec::new();
    for scope in &scopes {
        let ns = scope.as_deref();
        running.push(start::<r::Semaphore>(
            ctx,
            controller::<r::Semaphore>(ctx, ns),
        ));
        running.push(start::<r::Lease>(ctx, controller::<r::Lease>(ctx, ns)));
        running.push(start::<r::Mutex>(ctx, controller::<r::Mutex>(ctx, ns)));
        running.push(start::<r::RWMutex>(ctx, controller::<r::RWMutex>(ctx, ns)));
        running.push(start::<r::Once>(ctx, controller::<r::Once>(ctx, ns)));
        running.push(start::<r::Barrier>(ctx, controller::<r::Barrier>(ctx, ns)));
        running.push(start::<r::WaitGroup>(
            ctx,
            controller::<r::WaitGroup>(ctx, ns),
        ));
        running.push(start::<r::Gate>(ctx, gate_controller(ctx, ns, &scopes)));
    }
    running
}

/// The API of a kind in one watched namespace, or in all.
fn scoped<K: Resource>(ctx: &Context, namespace: Option<&str>) -> Api<DynamicObject> {
    let ar = api_resource::<K>();
    match namespace {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &ar),
        None => Api::all_with(ctx.client.clone(), &ar),
    }
}

/// A controller of the objects of kind `K` in one watched namespace, or in all.
fn controller<K: Resource>(ctx: &Context, namespace: Option<&str>) -> Controller<DynamicObject> {
    // Each controller may start them all; the context's permits share them out.
    let permits = u16::try_from(ctx.concurrency).unwrap_or(u16::MAX);
    Controller::new_with(
        scoped::<K>(ctx, namespace),
        watcher::Config::default(),
        api_resource::<K>(),
    )
    .with_config(controller::Config::default().concurrency(permits))
}

/// Runs `controller` with the reconciler of `K`; its cache feeds the metrics
/// and the sweep of deleted objects.
fn start<K: Reconciler>(
    ctx: &Arc<Context>,
    controller: Controller<DynamicObject>,
) -> BoxFuture<'static, ()> {
    ctx.watch_store(K::KIND, controller.store());
    controller
        .run(reconcile::<K>, error_policy::<K>, ctx.clone())
        .for_each(|result| async move {
            // Failed reconciles are logged by error_policy; these are the
            // controller's own (watch errors, objects gone before their turn).
            if let Err(error) = result {
                tracing::debug!(kind = K::KIND, %error, "controller event");
            }
        })
        .boxed()
}

/// The gate controller of `scope`: besides gates, it watches in every watched
/// namespace the objects gate conditions can name, and maps each change
/// through the reverse index to the gates of `scope` that name the object.
fn gate_controller(
    ctx: &Arc<Context>,
    scope: Option<&str>,
    scopes: &[Option<String>],
) -> Controller<DynamicObject> {
    let mut c = controller::<r::Gate>(ctx, scope);
    for source in scopes {
        let source = source.as_deref();
        let jobs: Api<Job> = match source {
            Some(s) => Api::namespaced(ctx.client.clone(), s),
            None => Api::all(ctx.client.clone()),
        };
        c = c.watches_with(
            jobs,
            (),
            watcher::Config::default(),
            gates_naming(ctx, ConditionKind::Job, scope),
        );
        c = watch_named::<r::Semaphore>(c, ctx, ConditionKind::Semaphore, scope, source);
        c = watch_named::<r::Barrier>(c, ctx, ConditionKind::Barrier, scope, source);
        c = watch_named::<r::Lease>(c, ctx, ConditionKind::Lease, scope, source);
        c = watch_named::<r::Mutex>(c, ctx, ConditionKind::Mutex, scope, source);
        c = watch_named::<r::Once>(c, ctx, ConditionKind::Once, scope, source);
        c = watch_named::<r::WaitGroup>(c, ctx, ConditionKind::WaitGroup, scope, source);
        c = watch_named::<r::Gate>(c, ctx, ConditionKind::Gate, scope, source);
    }
    c
}

/// Adds to the gate controller `c` a watch of the `K` objects in `source`.
fn watch_named<K: Resource>(
    c: Controller<DynamicObject>,
    ctx: &Arc<Context>,
    kind: ConditionKind,
    scope: Option<&str>,
    source: Option<&str>,
) -> Controller<DynamicObject> {
    c.watches_with(
        scoped::<K>(ctx, source),
        api_resource::<K>(),
        watcher::Config::default(),
        gates_naming(ctx, kind, scope),
    )
}

/// Maps a changed object of `kind` to the gates in `scope` whose conditions name it.
fn gates_naming<O: ResourceExt>(
    ctx: &Arc<Context>,
    kind: ConditionKind,
    scope: Option<&str>,
) -> impl Fn(O) -> Vec<ObjectRef<DynamicObject>> + Send + Sync + 'static {
    let ctx = ctx.clone();
    let scope = scope.map(str::to_owned);
    let gate_ar: ApiResource = api_resource::<r::Gate>();
    move |object: O| {
        let namespace = object.namespace().unwrap_or_default();
        ctx.gates
            .gates_for(kind, &namespace, &object.name_any())
            .into_iter()
            .filter(|(ns, _)| scope.as_deref().is_none_or(|s| s == ns))
            .map(|(ns, name)| ObjectRef::new_with(&name, gate_ar.clone()).within(&ns))
            .collect()
    }
}
