//! Command-line flags and their environment variables.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Reconciles at once unless `--max-concurrent-reconciles` says otherwise:
/// enough to keep a busy API server's write latency covered, few enough that
/// a start with thousands of objects does not queue thousands of requests.
pub const DEFAULT_CONCURRENCY: u16 = 8;

/// The Konductor operator: prompt reclaim of expired holders, barrier and
/// gate timeouts, gate condition evaluation and metrics for the
/// sync.konductor.io resources.
#[derive(Debug, Parser)]
#[command(name = "konductor-operator", version)]
pub struct Args {
    /// Kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account.
    #[arg(long, env = "KONDUCTOR_KUBECONFIG", global = true)]
    pub kubeconfig: Option<PathBuf>,

    /// Namespaces to reconcile, comma-separated; empty means all namespaces.
    #[arg(
        long,
        env = "KONDUCTOR_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub namespaces: Vec<String>,

    /// Address of the /metrics, /healthz and /readyz endpoint.
    #[arg(long, env = "KONDUCTOR_METRICS_ADDR", default_value = "127.0.0.1:8080")]
    pub metrics_addr: String,

    /// How many objects are reconciled at once, over all kinds and namespaces.
    #[arg(
        long,
        env = "KONDUCTOR_MAX_CONCURRENT_RECONCILES",
        default_value_t = DEFAULT_CONCURRENCY,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub max_concurrent_reconciles: u16,

    /// Log filter, e.g. `info` or `konductor_operator=debug,kube=info`.
    #[arg(
        long,
        env = "KONDUCTOR_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub log_level: String,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "KONDUCTOR_LOG_JSON")]
    pub log_json: bool,

    /// Reconcile only while holding a coordination.k8s.io Lease, so that replicas can stand by.
    #[arg(long, env = "KONDUCTOR_LEADER_ELECTION")]
    pub leader_election: bool,

    /// Namespace of the leader Lease; default: $POD_NAMESPACE, else the kubeconfig's namespace.
    #[arg(long, env = "KONDUCTOR_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "KONDUCTOR_LEADER_ELECTION_NAME",
        default_value = "konductor-operator"
    )]
    pub leader_election_name: String,

    /// How long a leader's Lease lasts unrenewed before a standby takes over.
    #[arg(long, env = "KONDUCTOR_LEASE_DURATION", default_value = "15s", value_parser = duration)]
    pub lease_duration: Duration,

    /// How long the leader keeps trying to renew before it gives up leading.
    #[arg(long, env = "KONDUCTOR_RENEW_DEADLINE", default_value = "10s", value_parser = duration)]
    pub renew_deadline: Duration,

    /// How often the Lease is renewed or, by a standby, checked.
    #[arg(long, env = "KONDUCTOR_RETRY_PERIOD", default_value = "2s", value_parser = duration)]
    pub retry_period: Duration,

    /// Identity in the leader Lease; default: $POD_NAME, else host name and process id.
    #[arg(long, env = "KONDUCTOR_IDENTITY")]
    pub identity: Option<String>,

    /// What to do; default: run the controllers.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controllers (the default).
    Run,
    /// Print the CustomResourceDefinitions generated from the Rust types.
    Crds {
        /// Write `<plural>.yaml` files into this directory instead of printing.
        #[arg(long, conflicts_with = "check")]
        out_dir: Option<PathBuf>,
        /// Compare the files in this directory with the generated ones; fail on any difference.
        #[arg(long)]
        check: Option<PathBuf>,
    },
}

/// The command line as `--help` shows it: the same layout at any terminal
/// width and without the current values of environment variables, so that
/// operator/README.md can hold a copy that its test compares.
pub fn command() -> clap::Command {
    Args::command()
        .next_line_help(true)
        .term_width(0)
        .mut_args(|arg| arg.hide_env_values(true))
}

/// Parses this process's command line; exits after `--help` or with a usage error.
pub fn parse() -> Args {
    let matches = command().get_matches();
    Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

fn duration(text: &str) -> Result<Duration, String> {
    konductor::parse_duration(text).map_err(|e| e.to_string())
}

impl Args {
    /// The namespaces to reconcile; `None` means all.
    pub fn namespace_scope(&self) -> Option<Vec<String>> {
        let list: Vec<String> = self
            .namespaces
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        (!list.is_empty()).then_some(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_namespaces_mean_all_and_lists_are_split() {
        let all = Args::parse_from(["op"]);
        assert_eq!(all.namespace_scope(), None);
        assert!(all.command.is_none());
        let some = Args::parse_from(["op", "--namespaces", "a, b", "--lease-duration", "4s"]);
        assert_eq!(some.namespace_scope(), Some(vec!["a".into(), "b".into()]));
        assert_eq!(some.lease_duration, Duration::from_secs(4));
    }

    #[test]
    fn crds_subcommand_takes_a_check_directory() {
        let args = Args::parse_from(["op", "crds", "--check", "operator/crds"]);
        assert!(matches!(
            args.command,
            Some(Command::Crds { check: Some(_), .. })
        ));
    }
}
