//! The `--flag value` command lines of the contender and holder processes, as they read them and as tests write them.

use std::collections::HashMap;
use std::process::Command;

use konductor::{Client, Config};

use crate::cluster::cluster;
use crate::kind::Kind;

/// A command line for the contender or holder `binary` on `kind/name` in
/// `namespace`, as the admin user; the caller adds the binary's own flags.
pub fn command(binary: &str, namespace: &str, kind: Kind, name: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("--kubeconfig")
        .arg(&cluster().admin)
        .args(["--namespace", namespace, "--kind", kind.as_str()])
        .args(["--name", name]);
    command
}

/// The flags of one command line, taken one by one.
pub struct Flags(HashMap<String, String>);

impl Flags {
    /// Reads `--flag value` pairs from the process's arguments; fails when a flag has no value.
    pub fn from_args() -> Result<Flags, String> {
        let mut args = std::env::args().skip(1);
        let mut flags = HashMap::new();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            flags.insert(flag.trim_start_matches("--").to_owned(), value);
        }
        Ok(Flags(flags))
    }

    /// The value of `--key`; fails when it was not given.
    pub fn take(&mut self, key: &str) -> Result<String, String> {
        self.0
            .remove(key)
            .ok_or_else(|| format!("--{key} is required"))
    }

    /// The value of `--key` as a number; fails when missing or not a number.
    pub fn number(&mut self, key: &str) -> Result<u64, String> {
        let value = self.take(key)?;
        value
            .parse()
            .map_err(|_| format!("--{key} {value:?} is not a number"))
    }

    /// The value of `--kind`; fails unless it is `semaphore` or `lease`.
    pub fn kind(&mut self) -> Result<Kind, String> {
        self.take("kind")?
            .parse()
            .map_err(|e| format!("--kind: {e}"))
    }

    /// A client from `--kubeconfig` working in `--namespace`; fails when either is missing or the kubeconfig does not load.
    pub fn client(&mut self) -> Result<Client, String> {
        let (kubeconfig, namespace) = (self.take("kubeconfig")?, self.take("namespace")?);
        Config::from_kubeconfig(&kubeconfig, None)
            .map(|c| c.with_namespace(&namespace))
            .and_then(|c| Client::new(Some(c)))
            .map_err(|e| e.to_string())
    }
}
