//! The custom resources of `sync.konductor.io/v1`, as stored in the API server.
//!
//! Spec fields follow the original Konductor CRDs, so existing YAML applies.
//! Status holds the coordination state (holders, arrivals) that clients and
//! the operator change with guarded writes, plus fields derived from it for
//! `kubectl get`. Queued acquisitions are objects of their own ([`Waiter`]),
//! so a contended object stays small however long its queue grows.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// API group of every Konductor resource.
pub const GROUP: &str = "sync.konductor.io";
/// API version of every Konductor resource.
pub const VERSION: &str = "v1";
/// `apiVersion` field value of every Konductor resource.
pub const API_VERSION: &str = "sync.konductor.io/v1";

/// What the CRD schema accepts as a duration string (see `parse_duration`).
#[cfg(feature = "schema")]
const DURATION_PATTERN: &str = r"^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$";

/// The standard Kubernetes object metadata, keeping fields this crate does not model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name, unique in its namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Namespace of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Unique id given by the API server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Version of the object, used for optimistic concurrency.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Incremented on every spec change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// RFC 3339 creation time, set by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Every other metadata field (owner references, finalizers, …), kept as received.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A status condition following the Kubernetes API conventions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["True", "False", "Unknown"])))]
    pub status: String,
    /// One-word CamelCase reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable detail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// RFC 3339 time of the last status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// The spec generation this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One holder of a semaphore permit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HolderRecord {
    /// Holder identity.
    pub holder: String,
    /// The acquisition that made this record (unique per call): how a caller
    /// recognises its own grant after a lost answer, and tells itself apart
    /// from another caller using the same holder name. Empty in records
    /// written by older clients.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ticket: String,
    /// Fencing token of this grant; strictly increasing per object.
    pub token: u64,
    /// Priority the holder asked with.
    #[serde(default)]
    pub priority: i32,
    /// RFC 3339 time of the grant, by the granting writer's clock (informational).
    #[serde(default)]
    pub acquired_at: String,
    /// RFC 3339 time of the last renewal, by the renewing writer's clock (informational).
    #[serde(default)]
    pub renewed_at: String,
    /// Number of renewals; every renewal changes it, which restarts observers' TTL clocks.
    #[serde(default)]
    pub renew_count: u64,
    /// Time-to-live after the last renewal, as a duration string.
    pub ttl: String,
    /// Set on a grant handed to a queued waiter by another writer: the
    /// heartbeat count of the waiter's [`Waiter`] object the granter saw.
    /// Such a grant lives for the waiter's liveness TTL (its `ttl` here)
    /// until its holder renews it, so a grant to a waiter that has died is
    /// reclaimed as soon as a dead waiter would be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<u64>,
    /// How an RWMutex is held (`Read` or `Write`); absent for the other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<LockMode>,
}

/// The label on a [`Waiter`] naming the uid of the object it waits for.
pub const TARGET_UID_LABEL: &str = "sync.konductor.io/target-uid";

/// The object a [`Waiter`] queues for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaiterTarget {
    /// `Semaphore`, `Lease` or `Mutex`.
    pub kind: String,
    /// Name of the object, in the waiter's namespace.
    pub name: String,
    /// Uid of the object: a waiter never queues for a re-created namesake.
    pub uid: String,
}

/// One queued acquisition of a semaphore permit or a lease: its own small
/// object, so the contended object stays O(permits) and heartbeats never
/// write it. Named after its ticket; labelled with [`TARGET_UID_LABEL`].
/// Grant order: higher priority first, then arrival (the resourceVersion at
/// which the waiter was created, see [`Waiter::sequence`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaiterSpec {
    /// The object waited for.
    pub target: WaiterTarget,
    /// Holder identity the waiter will hold under.
    pub holder: String,
    /// The acquisition (unique per call); also the object's name.
    pub ticket: String,
    /// Priority; higher is granted first.
    #[serde(default)]
    pub priority: i32,
    /// How long the entry lives without a heartbeat, as a duration string.
    pub ttl: String,
    /// Time-to-live the waiter asks for once granted.
    pub hold_ttl: String,
    /// Number of heartbeats; each changes the object, which restarts
    /// observers' expiry clocks.
    #[serde(default)]
    pub renew_count: u64,
    /// The resourceVersion the waiter was created at, written with its first
    /// heartbeat (until then the object's own resourceVersion is that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// RFC 3339 time the waiter queued, by its own clock (informational).
    #[serde(default)]
    pub enqueued_at: String,
    /// How it will hold an RWMutex (`Read` or `Write`); absent for the other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<LockMode>,
}

/// A waiter has no status: everything it says is in its spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaiterStatus {}

/// A Kubernetes resource kind of this crate: knows its REST path segment and kind name.
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// `kind`, e.g. `Semaphore`.
    const KIND: &'static str;
    /// Lower-case plural used in REST paths, e.g. `semaphores`.
    const PLURAL: &'static str;
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// True once its status was written.
    fn has_status(&self) -> bool;
    /// `plural/namespace/name/uid`: this very object, never one re-created
    /// under its name (the key of its shared watch and staleness records).
    fn key(&self) -> String {
        let meta = self.metadata();
        format!(
            "{}/{}/{}/{}",
            Self::PLURAL,
            meta.namespace,
            meta.name,
            meta.uid
        )
    }
}

macro_rules! phase {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $($(#[$variant_doc])* $variant),+
        }

        impl $name {
            /// The phase as the object spells it, e.g. `Open`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

phase!(
    /// How an RWMutex is held or wanted.
    LockMode {
        /// Shared with other readers, never with a writer.
        Read,
        /// Exclusive: nobody else holds.
        Write,
    }
);
phase!(
    /// Where an RWMutex stands.
    RWMutexPhase {
        /// Nobody holds it.
        Unlocked,
        /// Held by one or more readers.
        ReadLocked,
        /// Held by one writer.
        WriteLocked,
    }
);
phase!(
    /// Where a semaphore stands.
    SemaphorePhase {
        /// At least one permit is free.
        Ready,
        /// Every permit is held.
        Full,
    }
);
phase!(
    /// Where a lease stands.
    LeasePhase {
        /// Nobody holds it.
        Available,
        /// Someone holds it.
        Held,
        /// The operator reclaimed it from a holder that stopped renewing.
        Expired,
    }
);
phase!(
    /// Where a once stands.
    OncePhase {
        /// Nobody has run it (or its last executor stopped renewing, or its
        /// failed run may be retried).
        Pending,
        /// An executor is running it.
        Running,
        /// It ran to completion: it never runs again.
        Done,
        /// Its run failed (`status.message` says why); final unless
        /// `spec.onFailure` is `Retry`.
        Failed,
    }
);
phase!(
    /// What a once does after a failed run.
    OnFailure {
        /// The failure is final: every caller gets it.
        Final,
        /// The next caller runs it again.
        Retry,
    }
);
phase!(
    /// Where a barrier (or gate) stands.
    BarrierPhase {
        /// Arrivals (or conditions) are still missing.
        Waiting,
        /// Enough holders arrived (every condition holds).
        Open,
        /// Its timeout passed before it opened.
        Failed,
    }
);

phase!(
    /// Where a wait group stands.
    WaitGroupPhase {
        /// Its counter is above zero.
        Waiting,
        /// Its counter is zero: waiters return.
        Done,
    }
);

/// A gate has a barrier's phases: `Waiting`, `Open`, `Failed`.
pub type GatePhase = BarrierPhase;

macro_rules! resource {
    ($(#[$doc:meta])* $name:ident, $spec:ty, $status:ty, $kind:literal, $plural:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Always `sync.konductor.io/v1`.
            #[serde(default)]
            pub api_version: String,
            /// The kind name.
            #[serde(default)]
            pub kind: String,
            /// Standard object metadata.
            #[serde(default)]
            pub metadata: ObjectMeta,
            /// Desired configuration, owned by the user.
            pub spec: $spec,
            /// Coordination state and derived fields; absent until first written.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
        }

        impl Resource for $name {
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn has_status(&self) -> bool {
                self.status.is_some()
            }
        }

        impl $name {
            /// A new object with this name and spec, ready to be created.
            pub fn new(name: &str, spec: $spec) -> $name {
                $name {
                    api_version: API_VERSION.to_owned(),
                    kind: $kind.to_owned(),
                    metadata: ObjectMeta {
                        name: name.to_owned(),
                        ..ObjectMeta::default()
                    },
                    spec,
                    status: None,
                }
            }

            /// The object's name.
            pub fn name(&self) -> &str {
                &self.metadata.name
            }
        }
    };
}

resource!(
    /// A counting semaphore: at most `spec.permits` holders at a time.
    Semaphore, SemaphoreSpec, SemaphoreStatus, "Semaphore", "semaphores"
);
resource!(
    /// A rendezvous point that opens when `expected` (or `quorum`) holders arrived.
    Barrier, BarrierSpec, BarrierStatus, "Barrier", "barriers"
);
resource!(
    /// A lease: at most one holder, for singleton work and leader election.
    Lease, LeaseSpec, LeaseStatus, "Lease", "leases"
);
resource!(
    /// A mutex: one holder at a time, for critical sections. A lease under a
    /// kind of its own (its own `kubectl get mutexes`, its own RBAC): the same
    /// spec, status, queue and fencing.
    Mutex, MutexSpec, MutexStatus, "Mutex", "mutexes"
);
resource!(
    /// A readers-writer mutex: many readers or one writer, never both,
    /// granted in strict FIFO order by (priority, arrival).
    RWMutex, RWMutexSpec, RWMutexStatus, "RWMutex", "rwmutexes"
);
resource!(
    /// A once: its work runs in exactly one caller across the cluster, and
    /// every caller learns the outcome.
    Once, OnceSpec, OnceStatus, "Once", "onces"
);
resource!(
    /// A wait group, like Go's `sync.WaitGroup` across processes: a counter
    /// raised by `add`, lowered once per holder by `done`, and waited on
    /// until it reaches zero.
    WaitGroup, WaitGroupSpec, WaitGroupStatus, "WaitGroup", "waitgroups"
);
resource!(
    /// A gate that opens when all of its conditions hold (evaluated by the operator).
    Gate, GateSpec, GateStatus, "Gate", "gates"
);
resource!(
    /// One queued acquisition of a semaphore permit, a lease or a mutex.
    Waiter, WaiterSpec, WaiterStatus, "Waiter", "waiters"
);

impl Waiter {
    /// Arrival order: the resourceVersion the waiter was created at (from its
    /// first heartbeat on, `spec.sequence`; before it, the object's own).
    /// Unreadable values sort last.
    pub fn sequence(&self) -> u64 {
        let created = match &self.spec.sequence {
            Some(sequence) => sequence.as_str(),
            None if self.spec.renew_count == 0 => self.metadata.resource_version.as_str(),
            None => "",
        };
        created.parse().unwrap_or(u64::MAX)
    }
}

/// Semaphore configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SemaphoreSpec {
    /// Maximum number of concurrent holders (at least 1).
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub permits: u32,
    /// Default permit time-to-live as a duration string (e.g. `5m`); 5 minutes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub ttl: Option<String>,
}

/// Semaphore coordination state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SemaphoreStatus {
    /// Current holders, in grant order.
    #[serde(default)]
    pub holders: Vec<HolderRecord>,
    /// Tickets of the latest grants given back or reclaimed (newest last,
    /// bounded): never handed a slot again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished: Vec<String>,
    /// The last fencing token handed out; the next grant gets a larger one.
    #[serde(default)]
    pub fencing_token: u64,
    /// Number of holders.
    #[serde(default)]
    pub in_use: u32,
    /// Free permits.
    #[serde(default)]
    pub available: u32,
    /// `Ready` (permits free) or `Full`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SemaphorePhase>,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Barrier configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BarrierSpec {
    /// Number of arrivals that opens the barrier (at least 1).
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub expected: u32,
    /// If set, the barrier opens once this many arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub quorum: Option<u32>,
    /// If set, the barrier fails when it has not opened this long after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub timeout: Option<String>,
}

/// One arrival at a barrier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Arrival {
    /// Who arrived.
    pub holder: String,
    /// RFC 3339 arrival time (informational).
    #[serde(default)]
    pub arrived_at: String,
}

/// Barrier coordination state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BarrierStatus {
    /// Arrivals, one per holder, in arrival order.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// Number of arrivals.
    #[serde(default)]
    pub arrived: u32,
    /// `Waiting`, `Open` or `Failed`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BarrierPhase>,
    /// RFC 3339 time the barrier opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Why the barrier failed, when it did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Lease configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// Default lease time-to-live as a duration string; 5 minutes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub ttl: Option<String>,
    /// Default priority of acquirers that do not give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

/// Lease coordination state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeaseStatus {
    /// Current holder identity, if held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The acquisition that holds the lease (see [`HolderRecord::ticket`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_ticket: Option<String>,
    /// The heartbeat count of the waiter a hand-off granted the lease to,
    /// until its holder renews (see [`HolderRecord::handoff`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_handoff: Option<u64>,
    /// Tickets of the latest grants given back or reclaimed (newest last,
    /// bounded): never handed the lease again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished: Vec<String>,
    /// Fencing token of the current grant (the number of grants so far).
    #[serde(default)]
    pub transitions: u64,
    /// Priority the current holder asked with.
    #[serde(default)]
    pub holder_priority: i32,
    /// RFC 3339 time of the grant (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired_at: Option<String>,
    /// RFC 3339 time of the last renewal (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewed_at: Option<String>,
    /// RFC 3339 time the holder's TTL runs out by the writer's clock (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Renewals by the current holder.
    #[serde(default)]
    pub renew_count: u64,
    /// Time-to-live of the current holder as a duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// `Available`, `Held` or `Expired`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<LeasePhase>,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// RWMutex configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RWMutexSpec {
    /// Default lock time-to-live as a duration string (e.g. `5m`); 5 minutes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub ttl: Option<String>,
    /// Default priority for lockers that give none; higher is granted first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Most readers at a time (1 to 10000; 10000 when absent), which bounds the object's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 10000)))]
    pub max_readers: Option<u32>,
}

/// Most readers an RWMutex admits at a time, and its default.
pub const MAX_READERS: u32 = 10_000;

/// RWMutex coordination state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RWMutexStatus {
    /// Current holders (readers, or one writer), in grant order.
    #[serde(default)]
    pub holders: Vec<HolderRecord>,
    /// Tickets of the latest grants given back or reclaimed (newest last,
    /// bounded): never handed the lock again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished: Vec<String>,
    /// The last fencing token handed out (read and write grants share it).
    #[serde(default)]
    pub fencing_token: u64,
    /// Number of readers holding.
    #[serde(default)]
    pub readers: u32,
    /// The writer holding, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<String>,
    /// `Unlocked`, `ReadLocked` or `WriteLocked`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RWMutexPhase>,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Mutex configuration: a lease's (`spec.ttl`, `spec.priority`).
pub type MutexSpec = LeaseSpec;
/// Mutex coordination state: a lease's (`Held` while locked, `Available`
/// while unlocked, `Expired` after the operator reclaimed a holder).
pub type MutexStatus = LeaseStatus;

/// Once configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OnceSpec {
    /// How long a run lasts unrenewed as a duration string (the executor
    /// renews it while running); 5 minutes when absent. After an executor
    /// crash the next caller runs the work once this has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub ttl: Option<String>,
    /// After a failed run: `Final` (the default; every caller gets the
    /// failure) or `Retry` (the next caller runs it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
}

/// Once state: the outcome, and the running executor's grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OnceStatus {
    /// `Pending`, `Running`, `Done` or `Failed`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<OncePhase>,
    /// The running executor's grant, as a lease holds it (holder, fencing
    /// token in `transitions`, TTL, renewals); no holder when none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<LeaseStatus>,
    /// Who ran the last finished (done or failed) run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_by: Option<String>,
    /// RFC 3339 time the current or last run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339 time the last run finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Why the last run failed, as its executor said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Largest total a wait group can count: `spec.expected` plus every
/// `add`. Each `done` is recorded by holder in `status.doneHolders`, so this
/// also bounds that list: 2,000 names of up to 253 bytes, each also in the
/// object's `managedFields`, stay near 1 MiB, under etcd's 1.5 MiB limit on
/// one object. (Each done rewrites the object, so a wait group of N costs
/// O(N²) bytes to etcd and to every watcher over its life: for many more
/// workers, use several wait groups.)
pub const MAX_WAITGROUP_COUNT: u32 = 2_000;

/// Add tickets a wait group remembers (newest last): how a retried `add`
/// whose answer was lost recognises that it already counted.
pub const WAITGROUP_ADD_TICKETS: usize = 100;

/// Wait group configuration (the original Konductor's `expected` and `ttl`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitGroupSpec {
    /// The counter's initial value (0 when absent; at most
    /// [`MAX_WAITGROUP_COUNT`]); immutable once created.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 2_000)))]
    pub expected: u32,
    /// If set, the operator deletes the wait group this long after its
    /// counter reached zero (`status.doneAt`), unless it rose again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub ttl: Option<String>,
}

/// Wait group coordination state. Always `counter == spec.expected + added
/// - len(doneHolders)` (the apiserver enforces it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitGroupStatus {
    /// The counter: never negative; waiters return when it is zero.
    #[serde(default)]
    pub counter: u32,
    /// The sum of every `add` so far.
    #[serde(default)]
    pub added: u32,
    /// The holders that called `done`, in order, each once: a `done` by a
    /// holder already here counts nothing (a retry whose answer was lost).
    #[serde(default)]
    pub done_holders: Vec<String>,
    /// Tickets of the latest `add` calls (newest last, at most
    /// [`WAITGROUP_ADD_TICKETS`]): a retried add finds its own and counts nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tickets: Vec<String>,
    /// `Waiting` or `Done`; none until first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<WaitGroupPhase>,
    /// RFC 3339 time the counter last reached zero, by the writer's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl WaitGroup {
    /// The counter: from the status once written, else `spec.expected`.
    pub fn counter(&self) -> u32 {
        self.status
            .as_ref()
            .map_or(self.spec.expected, |status| status.counter)
    }
}

/// What a gate condition refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ConditionKind {
    /// A `batch/v1` Job.
    Job,
    /// A Konductor Semaphore.
    Semaphore,
    /// A Konductor Barrier.
    Barrier,
    /// A Konductor Lease.
    Lease,
    /// A Konductor Mutex.
    Mutex,
    /// A Konductor Once.
    Once,
    /// A Konductor WaitGroup.
    WaitGroup,
    /// Another Konductor Gate.
    Gate,
}

impl ConditionKind {
    /// Every kind a condition can name.
    pub const ALL: [ConditionKind; 8] = [
        ConditionKind::Job,
        ConditionKind::Semaphore,
        ConditionKind::Barrier,
        ConditionKind::Lease,
        ConditionKind::Mutex,
        ConditionKind::Once,
        ConditionKind::WaitGroup,
        ConditionKind::Gate,
    ];

    /// The states a condition on this kind may require; the first is the
    /// default. (A Semaphore condition requires a count in `value`.)
    pub fn states(self) -> &'static [&'static str] {
        match self {
            ConditionKind::Job => &["Complete", "Failed", "Active"],
            ConditionKind::Semaphore => &["Available"],
            ConditionKind::Barrier | ConditionKind::Gate => &["Open", "Closed"],
            ConditionKind::Lease => &["Acquired", "Available"],
            ConditionKind::Mutex => &["Locked", "Unlocked"],
            ConditionKind::Once => &["Done", "Failed"],
            ConditionKind::WaitGroup => &["Done", "Waiting"],
        }
    }

    /// The kind name as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionKind::Job => "Job",
            ConditionKind::Semaphore => "Semaphore",
            ConditionKind::Barrier => "Barrier",
            ConditionKind::Lease => "Lease",
            ConditionKind::Mutex => "Mutex",
            ConditionKind::Once => "Once",
            ConditionKind::WaitGroup => "WaitGroup",
            ConditionKind::Gate => "Gate",
        }
    }
}

/// One condition of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateCondition {
    /// Kind of the referenced object.
    #[serde(rename = "type")]
    pub type_: ConditionKind,
    /// Name of the referenced object.
    pub name: String,
    /// Namespace of the referenced object; the gate's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Required state: Job `Complete`/`Failed`/`Active`, Barrier and Gate
    /// `Open`/`Closed`, Lease `Acquired`/`Available`, Mutex `Locked`/`Unlocked`,
    /// Once `Done`/`Failed`, WaitGroup `Done`/`Waiting`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["Complete", "Failed", "Active", "Open", "Closed", "Acquired", "Available", "Locked", "Unlocked", "Done", "Waiting"])))]
    pub state: Option<String>,
    /// For a Semaphore: the minimum number of available permits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub value: Option<i64>,
}

/// Gate configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateSpec {
    /// All of these must hold for the gate to open.
    #[serde(default)]
    pub conditions: Vec<GateCondition>,
    /// If set, the gate fails when it has not opened this long after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = DURATION_PATTERN)))]
    pub timeout: Option<String>,
}

/// The evaluation of one gate condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateConditionStatus {
    /// Kind of the referenced object.
    #[serde(rename = "type")]
    pub type_: ConditionKind,
    /// Name of the referenced object.
    pub name: String,
    /// Namespace of the referenced object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Whether the condition holds.
    pub met: bool,
    /// Human-readable explanation.
    #[serde(default)]
    pub message: String,
}

/// Gate state, written by the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateStatus {
    /// `Waiting`, `Open` or `Failed`; none until first evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<GatePhase>,
    /// One entry per spec condition, in the same order.
    #[serde(default)]
    pub condition_statuses: Vec<GateConditionStatus>,
    /// RFC 3339 time the gate opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Why the gate failed, when it did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Conditions written by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
