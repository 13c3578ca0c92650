//! The kubectl-like flags every command takes, and the client they give.

use std::path::PathBuf;

use clap::Args;
use konductor::{Client, Config};

use crate::exit::Failure;
use crate::output::Format;

/// Where to connect and how to print, as kubectl's flags say it.
#[derive(Debug, Args)]
pub struct Global {
    /// Path to the kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace (default: the context's, the pod's, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

impl Global {
    /// A client for the chosen kubeconfig, context and namespace; no request is made yet.
    pub fn client(&self) -> Result<Client, Failure> {
        let config = Config::load(self.kubeconfig.as_deref(), self.context.as_deref())?;
        let config = match &self.namespace {
            Some(namespace) => config.with_namespace(namespace),
            None => config,
        };
        Ok(Client::new(Some(config))?)
    }
}
