//! The client: one connection pool, one namespace, shared by all primitives.

use std::fmt;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Result;
use crate::latest::Latest;
use crate::names::validate_namespace;
use crate::objects::Objects;
use crate::queue::Abandoned;
use crate::staleness::Staleness;
use crate::transport::Transport;
use crate::watch::Hubs;

/// A blocking Konductor client. Cheap to clone; clones share the connection
/// pool. Safe to use from many threads at once.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

/// What every handle of one client shares.
pub(crate) struct Shared {
    pub(crate) objects: Objects,
    pub(crate) namespace: String,
    /// First-seen times of holder records, for expiry by this process's clock.
    pub(crate) staleness: Arc<Staleness>,
    /// One shared watch per followed object (and per followed queue).
    pub(crate) hubs: Arc<Hubs>,
    /// The newest version of each object seen, to write from without a read.
    pub(crate) latest: Arc<Latest>,
    /// Acquisitions this client gave up while queued.
    pub(crate) abandoned: Arc<Abandoned>,
}

impl Client {
    /// Connects with `config`, or with [`Config::infer`] (in-cluster service
    /// account, else kubeconfig) when `None`. No request is made yet.
    pub fn new(config: Option<Config>) -> Result<Client> {
        let config = match config {
            Some(config) => config,
            None => Config::infer()?,
        };
        validate_namespace(config.namespace())?;
        let transport = Transport::new(&config)?;
        Ok(Client {
            shared: Arc::new(Shared {
                objects: Objects::new(transport),
                namespace: config.namespace().to_owned(),
                staleness: Arc::new(Staleness::default()),
                hubs: Arc::new(Hubs::default()),
                latest: Arc::new(Latest::default()),
                abandoned: Arc::new(Abandoned::default()),
            }),
        })
    }

    /// The namespace this client works in.
    pub fn namespace(&self) -> &str {
        &self.shared.namespace
    }

    /// A client for another namespace, sharing this one's connection pool.
    pub fn in_namespace(&self, namespace: &str) -> Result<Client> {
        validate_namespace(namespace)?;
        Ok(Client {
            shared: Arc::new(Shared {
                objects: self.shared.objects.clone(),
                namespace: namespace.to_owned(),
                staleness: self.shared.staleness.clone(),
                hubs: self.shared.hubs.clone(),
                latest: self.shared.latest.clone(),
                abandoned: self.shared.abandoned.clone(),
            }),
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("namespace", &self.shared.namespace)
            .finish_non_exhaustive()
    }
}
