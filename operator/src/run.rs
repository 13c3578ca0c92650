//! Starting the operator: client, health endpoint, leader election, and one
//! controller per kind and watched namespace.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{join_all, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use konductor::resource::{self as r, ConditionKind, Resource};
use kube::api::{ApiResource, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{watcher, Controller};
use kube::{Api, Client, ResourceExt};

use crate::cli::Args;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::leader::{Elector, Timing};
use crate::metrics::Metrics;
use crate::object::api_resource;
use crate::server::{self, Health};
use crate::{barrier, gate, slotted};

/// Name under which the operator reports Events.
const CONTROLLER_NAME: &str = "konductor-operator";

/// Runs until a termination signal, or until leadership is lost (an error).
pub async fn run(args: Args) -> Result<()> {
    let client = client(&args).await?;
    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health {
        metrics: metrics.clone(),
        ready: Default::default(),
    });
    let addr = server::serve(&args.metrics_addr, health.clone())?;
    let identity = identity(&args);
    tracing::info!(metrics = %addr, identity, "konductor-operator starting");

    let mut elector = match args.leader_election {
        true => {
            let namespace = args
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| client.default_namespace().to_owned());
            let timing = Timing {
                lease_duration: args.lease_duration,
                renew_deadline: args.renew_deadline,
                retry_period: args.retry_period,
            };
            let mut elector = Elector::new(
                client.clone(),
                &namespace,
                &args.leader_election_name,
                &identity,
                timing,
            );
            // A healthy standby is ready: it is doing its job.
            health.ready.store(true, Ordering::Relaxed);
            tracing::info!(lease = %format!("{namespace}/{}", args.leader_election_name), "waiting to lead");
            tokio::select! {
                acquired = elector.acquire() => acquired?,
                () = shutdown_signal() => return Ok(()),
            }
            Some(elector)
        }
        false => None,
    };
    metrics.set_leader(true);

    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: CONTROLLER_NAME.to_owned(),
            instance: Some(identity.clone()),
        },
    );
    let ctx = Arc::new(Context::new(
        client,
        recorder,
        metrics,
        args.namespace_scope(),
    ));
    let controllers = join_all(controllers(&ctx));
    let sweeper = tokio::spawn(sweep_forever(ctx.clone()));
    health.ready.store(true, Ordering::Relaxed);
    tracing::info!(scope = ?ctx.scope, "controllers started");

    let lost = async {
        match elector.as_mut() {
            Some(elector) => elector.hold().await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        _ = controllers => Ok(()),
        error = lost => Err(error),
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    };
    sweeper.abort();
    if let Some(elector) = elector.as_mut() {
        if outcome.is_ok() {
            elector.release().await;
        }
    }
    outcome
}

async fn client(args: &Args) -> Result<Client> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Config(e.to_string()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| Error::Config(e.to_string()))?,
    };
    Client::try_from(config).map_err(|e| Error::kube("build the API client", e))
}

fn identity(args: &Args) -> String {
    if let Some(identity) = args
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
    {
        return identity;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "konductor-operator".to_owned());
    format!("{host}-{}", std::process::id())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How often memory about deleted objects is dropped.
const SWEEP_PERIOD: Duration = Duration::from_secs(60);

async fn sweep_forever(ctx: Arc<Context>) {
    ctx.caches_ready().await;
    loop {
        tokio::time::sleep(SWEEP_PERIOD).await;
        ctx.sweep();
    }
}

/// The API of a kind in one watched namespace, or in all.
fn scoped<K: Resource>(
    client: &Client,
    namespace: Option<&str>,
) -> (Api<DynamicObject>, ApiResource) {
    let ar = api_resource::<K>();
    let api = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    (api, ar)
}

fn error_policy(object: Arc<DynamicObject>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(
        %error,
        object = format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any()),
        "reconcile failed; retrying"
    );
    Action::requeue(Duration::from_secs(2))
}

/// Drives a controller's result stream, logging what failed outside reconcile.
fn drive<S, T, E>(kind: &'static str, stream: S) -> BoxFuture<'static, ()>
where
    S: futures::Stream<Item = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    stream
        .for_each(move |result| async move {
            if let Err(error) = result {
                tracing::debug!(kind, %error, "controller event");
            }
        })
        .boxed()
}

/// Every controller: semaphores, leases, barriers and gates, per watched namespace.
fn controllers(ctx: &Arc<Context>) -> Vec<BoxFuture<'static, ()>> {
    let scopes: Vec<Option<String>> = match &ctx.scope {
        Some(list) => list.iter().cloned().map(Some).collect(),
        None => vec![None],
    };
    let client = &ctx.client;
    let wc = watcher::Config::default;
    let mut running = Vec::new();
    for scope in &scopes {
        let ns = scope.as_deref();

        let (api, ar) = scoped::<r::Semaphore>(client, ns);
        let c = Controller::new_with(api, wc(), ar);
        ctx.watch_store("Semaphore", c.store());
        running.push(drive(
            "Semaphore",
            c.run(
                slotted::reconcile::<r::Semaphore>,
                error_policy,
                ctx.clone(),
            ),
        ));

        let (api, ar) = scoped::<r::Lease>(client, ns);
        let c = Controller::new_with(api, wc(), ar);
        ctx.watch_store("Lease", c.store());
        running.push(drive(
            "Lease",
            c.run(slotted::reconcile::<r::Lease>, error_policy, ctx.clone()),
        ));

        let (api, ar) = scoped::<r::Barrier>(client, ns);
        let c = Controller::new_with(api, wc(), ar);
        ctx.watch_store("Barrier", c.store());
        running.push(drive(
            "Barrier",
            c.run(barrier::reconcile, error_policy, ctx.clone()),
        ));

        let (api, gate_ar) = scoped::<r::Gate>(client, ns);
        let mut c = Controller::new_with(api, wc(), gate_ar.clone());
        // Changes of the objects that gates name, in every watched namespace,
        // mapped through the reverse index to the gates of this scope.
        for source in &scopes {
            let source = source.as_deref();
            let jobs: Api<Job> = match source {
                Some(s) => Api::namespaced(client.clone(), s),
                None => Api::all(client.clone()),
            };
            c = c.watches_with(
                jobs,
                (),
                wc(),
                mapper(ctx, ConditionKind::Job, scope.clone(), gate_ar.clone()),
            );
            for kind in [
                ConditionKind::Semaphore,
                ConditionKind::Barrier,
                ConditionKind::Lease,
                ConditionKind::Gate,
            ] {
                let (api, ar) = match kind {
                    ConditionKind::Semaphore => scoped::<r::Semaphore>(client, source),
                    ConditionKind::Barrier => scoped::<r::Barrier>(client, source),
                    ConditionKind::Lease => scoped::<r::Lease>(client, source),
                    _ => scoped::<r::Gate>(client, source),
                };
                c = c.watches_with(
                    api,
                    ar,
                    wc(),
                    mapper(ctx, kind, scope.clone(), gate_ar.clone()),
                );
            }
        }
        ctx.watch_store("Gate", c.store());
        running.push(drive(
            "Gate",
            c.run(gate::reconcile, error_policy, ctx.clone()),
        ));
    }
    running
}

/// Maps a changed object of `kind` to the gates in `scope` whose conditions name it.
fn mapper<O: ResourceExt>(
    ctx: &Arc<Context>,
    kind: ConditionKind,
    scope: Option<String>,
    gate_ar: ApiResource,
) -> impl Fn(O) -> Vec<ObjectRef<DynamicObject>> + Send + Sync + 'static {
    let ctx = ctx.clone();
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
