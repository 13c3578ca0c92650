//! The reconcile loop every kind shares: decide, write the status guarded by
//! the resourceVersion that was read, and decide again after a conflict.
//!
//! A kind supplies only its decision ([`Reconciler::decide`]) and what to do
//! once the object stands as decided ([`Reconciler::settled`]); `reconcile`
//! and `error_policy` have kube-rs's shapes and are written once here.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::DynamicObject;
use kube::runtime::controller::Action;
use kube::ResourceExt;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::metrics::{ReconcileOutcome, WriteOutcome};
use crate::object::{decode, replace_status, Written};
use crate::status::Phased;

/// Status writes attempted per reconcile before leaving the object to its next event.
const ATTEMPTS: usize = 5;
/// When to look again at an object that changed under every attempt.
const CONTENDED_RETRY: Duration = Duration::from_millis(200);

/// What a reconciler decided about an object as read.
pub struct Decision<K, N> {
    /// The object with its new status, when anything must change.
    pub write: Option<K>,
    /// What [`Reconciler::settled`] needs besides the object.
    pub note: N,
}

/// A kind the operator reconciles.
pub trait Reconciler: Phased + Sync {
    /// What a decision passes on to [`Reconciler::settled`].
    type Note: Send;

    /// Decides the status write, if any, for `object` as read now.
    fn decide(
        ctx: &Context,
        object: &Self,
    ) -> impl Future<Output = Decision<Self, Self::Note>> + Send;

    /// Reports what changed once `object` stands as decided (written, or
    /// needing no write), and says when to look at it again.
    fn settled(ctx: &Context, object: &Self, note: Self::Note) -> Action;

    /// Forgets what is kept about an object deleted while it was reconciled.
    fn deleted(ctx: &Context, object: &Self) {
        ctx.forget(object);
    }
}

/// Reconciles one object of kind `K`.
pub async fn reconcile<K: Reconciler>(
    object: Arc<DynamicObject>,
    ctx: Arc<Context>,
) -> Result<Action> {
    // Waiting here, not in the controller, bounds the requests in flight
    // over every controller together.
    let Ok(_permit) = ctx.reconciles.acquire().await else {
        return Ok(Action::await_change());
    };
    // Holding the permit, so that reclaims wait for their Events' publishing.
    ctx.events.room().await;
    let started = Instant::now();
    let result = match decode::<K>(&object) {
        Ok(current) => settle(&ctx, current).await,
        Err(error) => Err(error),
    };
    let outcome = match &result {
        Ok(_) => {
            ctx.retries.succeeded(&retry_key(&object));
            ReconcileOutcome::Succeeded
        }
        Err(_) => ReconcileOutcome::Failed,
    };
    ctx.metrics.reconciled(K::KIND, started.elapsed(), outcome);
    result
}

/// Decides and writes until the object stands as decided, it is gone, or
/// [`ATTEMPTS`] writes met a conflict.
async fn settle<K: Reconciler>(ctx: &Context, mut current: K) -> Result<Action> {
    for _ in 0..ATTEMPTS {
        let Decision { write, note } = K::decide(ctx, &current).await;
        let Some(update) = write else {
            return Ok(K::settled(ctx, &current, note));
        };
        match replace_status(&ctx.client, &update).await? {
            Written::Applied(written) => {
                ctx.metrics.status_write(K::KIND, WriteOutcome::Applied);
                return Ok(K::settled(ctx, &written, note));
            }
            Written::Conflict(Some(fresh)) => {
                ctx.metrics.status_write(K::KIND, WriteOutcome::Conflict);
                current = fresh;
            }
            Written::Conflict(None) => {
                K::deleted(ctx, &current);
                return Ok(Action::await_change());
            }
        }
    }
    // The object keeps changing under us; its next watch event brings us back.
    Ok(Action::requeue(CONTENDED_RETRY))
}

/// After a failed reconcile of a `K`: retry later, the later the more
/// often this object failed in a row.
pub fn error_policy<K: Reconciler>(
    object: Arc<DynamicObject>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let retry_in = ctx.retries.failed(&retry_key(&object));
    tracing::warn!(
        %error,
        kind = K::KIND,
        object = format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any()),
        ?retry_in,
        "reconcile failed; retrying"
    );
    Action::requeue(retry_in)
}

/// The uid by which failures are counted (the sweep drops uids that are gone).
fn retry_key(object: &DynamicObject) -> String {
    object.uid().unwrap_or_default()
}
