//! Leader election over a coordination.k8s.io/v1 Lease, as client-go does it.
//!
//! A standby takes over only after it has itself seen the Lease record
//! unchanged for the lease duration (its own monotonic clock, never the
//! leader's timestamps); the leader stops leading when it could not renew
//! for the renew deadline, which is shorter, so two replicas never reconcile
//! at once as long as clock rates agree. Every write carries the
//! resourceVersion it read.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client};

use crate::error::{is_conflict, Error, Result};

/// Timing of the election.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a record lasts unrenewed before a standby takes over.
    pub lease_duration: Duration,
    /// How long the leader tries to renew before it gives up leading.
    pub renew_deadline: Duration,
    /// How often to renew or check.
    pub retry_period: Duration,
}

/// One replica's side of the election.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    timing: Timing,
    /// The last record seen (holder, renew time, transitions) and when we first saw it.
    observed: Option<(String, Instant)>,
}

impl Elector {
    /// An elector for Lease `namespace/name`, recording `identity` as holder.
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        timing: Timing,
    ) -> Elector {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
            timing,
            observed: None,
        }
    }

    /// Waits until this replica holds the Lease.
    pub async fn acquire(&mut self) -> Result<()> {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "leader election attempt failed"),
            }
            tokio::time::sleep(self.timing.retry_period).await;
        }
    }

    /// Renews the Lease until that fails for longer than the renew deadline
    /// or someone else holds it; then returns why leadership was lost.
    pub async fn hold(&mut self) -> Error {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.timing.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    return Error::LeadershipLost(format!(
                        "{}: another replica holds it",
                        self.name
                    ))
                }
                Err(error) => {
                    tracing::warn!(%error, "failed to renew the leader lease");
                    if renewed.elapsed() >= self.timing.renew_deadline {
                        return Error::LeadershipLost(format!(
                            "{}: not renewed within the renew deadline ({error})",
                            self.name
                        ));
                    }
                }
            }
        }
    }

    /// Gives the Lease up so that a standby takes over at once (best effort).
    pub async fn release(&mut self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        if let Err(error) = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(%error, "failed to release the leader lease");
        }
    }

    fn duration_seconds(&self) -> i32 {
        self.timing.lease_duration.as_secs_f64().ceil().max(1.0) as i32
    }

    /// One round: true when this replica holds the Lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> Result<bool> {
        let now = Timestamp::now();
        let read = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| Error::kube(format!("read leader lease {}", self.name), e))?;
        let Some(mut lease) = read else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(self.duration_seconds()),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
                Err(error) => Err(Error::kube(
                    format!("create leader lease {}", self.name),
                    error,
                )),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let record = format!(
            "{:?}/{:?}/{:?}",
            holder,
            spec.renew_time.as_ref().map(|t| t.0),
            spec.lease_transitions
        );
        let seen_at = match &self.observed {
            Some((previous, at)) if *previous == record => *at,
            _ => {
                let at = Instant::now();
                self.observed = Some((record, at));
                at
            }
        };
        let ours = holder.as_deref() == Some(self.identity.as_str());
        if !ours && holder.is_some() {
            let duration =
                Duration::from_secs(spec.lease_duration_seconds.unwrap_or(0).max(0) as u64);
            if seen_at.elapsed() < duration {
                return Ok(false);
            }
        }
        if !ours {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions =
                Some(spec.lease_transitions.unwrap_or(0) + i32::from(holder.is_some()));
        }
        spec.lease_duration_seconds = Some(self.duration_seconds());
        spec.renew_time = Some(MicroTime(now));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                if !ours {
                    tracing::info!(
                        lease = self.name,
                        identity = self.identity,
                        "became the leader"
                    );
                }
                Ok(true)
            }
            Err(error) if is_conflict(&error) => Ok(false),
            Err(error) => Err(Error::kube(
                format!("update leader lease {}", self.name),
                error,
            )),
        }
    }
}
