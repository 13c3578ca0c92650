//! Starting the operator and stopping it: client, health endpoint, leader
//! election, then the controllers until a signal or the loss of leadership.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use crate::cli::Args;
use crate::client;
use crate::context::Context;
use crate::controllers;
use crate::error::Result;
use crate::events::Events;
use crate::leader::{Elector, Timing};
use crate::metrics::Metrics;
use crate::server::{self, Health};

/// Runs until a termination signal, or until leadership is lost (an error).
pub async fn run(args: Args) -> Result<()> {
    let client = client::connect(&args).await?;
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
    metrics.became_leader();

    let concurrency = usize::from(args.max_concurrent_reconciles);
    let events = Events::start(
        client.clone(),
        identity.clone(),
        metrics.clone(),
        concurrency,
    );
    let ctx = Arc::new(Context::new(
        client,
        events,
        metrics,
        args.namespace_scope(),
        concurrency,
    ));
    let controllers = join_all(controllers::all(&ctx));
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
