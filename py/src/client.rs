//! The native client: every core call, made interruptible, with objects
//! passed to Python as JSON (the Python layer turns them into typed objects).

use std::path::PathBuf;

use konductor::resource::GateCondition;
use konductor::{Config, Error};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;

use crate::call::run;
use crate::cancel::CancelToken;
use crate::grant::{Lease, Permit};
use crate::leader;
use crate::options::{seconds, Args};

/// The four kinds of object, as named by the Python layer.
#[derive(Clone, Copy)]
enum Kind {
    Semaphore,
    Barrier,
    Lease,
    Gate,
}

impl Kind {
    fn parse(kind: &str) -> PyResult<Kind> {
        match kind {
            "Semaphore" => Ok(Kind::Semaphore),
            "Barrier" => Ok(Kind::Barrier),
            "Lease" => Ok(Kind::Lease),
            "Gate" => Ok(Kind::Gate),
            _ => Err(PyValueError::new_err(format!(
                "kind must be one of Semaphore, Barrier, Lease, Gate, got {kind:?}"
            ))),
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> konductor::Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Transport {
        message: "failed to encode an object for Python".to_owned(),
        source: Some(Box::new(e)),
    })
}

/// A Konductor client bound to one namespace.
#[pyclass(frozen, module = "konductor._native")]
pub(crate) struct Client {
    inner: konductor::Client,
}

#[pymethods]
impl Client {
    /// Loads the configuration (kubeconfig file, KUBECONFIG/context, or
    /// inferred) and connects lazily.
    #[new]
    #[pyo3(signature = (namespace=None, kubeconfig=None, context=None))]
    fn new(
        py: Python<'_>,
        namespace: Option<String>,
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    ) -> PyResult<Client> {
        run(py, None, false, move |_| {
            let config = match (kubeconfig, context) {
                (Some(path), context) => Config::from_kubeconfig(path, context.as_deref())?,
                (None, Some(context)) => Config::from_kubeconfig_env(Some(&context))?,
                (None, None) => Config::infer()?,
            };
            let config = match namespace {
                Some(namespace) => config.with_namespace(&namespace),
                None => config,
            };
            konductor::Client::new(Some(config))
        })
        .map(|inner| Client { inner })
    }

    /// A client for the pod's service account.
    #[staticmethod]
    #[pyo3(signature = (namespace=None))]
    fn in_cluster(py: Python<'_>, namespace: Option<String>) -> PyResult<Client> {
        run(py, None, false, move |_| {
            let config = Config::in_cluster()?;
            let config = match namespace {
                Some(namespace) => config.with_namespace(&namespace),
                None => config,
            };
            konductor::Client::new(Some(config))
        })
        .map(|inner| Client { inner })
    }

    /// The namespace this client works in.
    #[getter]
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }

    /// A client for another namespace sharing this one's connections.
    fn in_namespace(&self, py: Python<'_>, namespace: &str) -> PyResult<Client> {
        self.inner
            .in_namespace(namespace)
            .map(|inner| Client { inner })
            .map_err(|e| crate::errors::to_py(py, e))
    }

    /// Acquires a semaphore permit.
    #[pyo3(signature = (name, *, ttl=None, timeout=None, holder=None, priority=None, auto_renew=false, cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn acquire_semaphore(
        &self,
        py: Python<'_>,
        name: String,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Permit> {
        let args = Args::new(ttl, timeout, holder, priority, auto_renew)?;
        let client = self.inner.clone();
        run(py, cancel.as_ref().map(|c| &c.inner), true, move |token| {
            client.acquire_semaphore(&name, &args.options(token))
        })
        .map(Permit::new)
    }

    /// Acquires a lease.
    #[pyo3(signature = (name, *, ttl=None, timeout=None, holder=None, priority=None, auto_renew=false, cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn acquire_lease(
        &self,
        py: Python<'_>,
        name: String,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Lease> {
        let args = Args::new(ttl, timeout, holder, priority, auto_renew)?;
        let client = self.inner.clone();
        run(py, cancel.as_ref().map(|c| &c.inner), true, move |token| {
            client.acquire_lease(&name, &args.options(token))
        })
        .map(Lease::new)
    }

    /// Takes a lease only if it is free now.
    #[pyo3(signature = (name, *, ttl=None, holder=None, priority=None, auto_renew=false))]
    fn try_acquire_lease(
        &self,
        py: Python<'_>,
        name: String,
        ttl: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
    ) -> PyResult<Lease> {
        let args = Args::new(ttl, None, holder, priority, auto_renew)?;
        let client = self.inner.clone();
        run(py, None, true, move |token| {
            client.try_acquire_lease(&name, &args.options(token))
        })
        .map(Lease::new)
    }

    /// Waits to lead `name`, runs `work(leadership)`, then steps down.
    #[pyo3(signature = (name, work, *, ttl=None, timeout=None, holder=None, priority=None, cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn run_as_leader(
        &self,
        py: Python<'_>,
        name: String,
        work: &Bound<'_, PyAny>,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Py<PyAny>> {
        let args = Args::new(ttl, timeout, holder, priority, true)?;
        leader::run_as_leader(
            py,
            &self.inner,
            name,
            work,
            args,
            cancel.as_ref().map(|c| &c.inner),
        )
    }

    /// Records an arrival at a barrier; returns the barrier as JSON.
    #[pyo3(signature = (name, *, holder=None))]
    fn arrive_barrier(
        &self,
        py: Python<'_>,
        name: String,
        holder: Option<String>,
    ) -> PyResult<String> {
        let args = Args::new(None, None, holder, None, false)?;
        let client = self.inner.clone();
        run(py, None, false, move |token| {
            to_json(&client.arrive_barrier(&name, &args.options(token))?)
        })
    }

    /// Waits until a barrier is open.
    #[pyo3(signature = (name, *, timeout=None, holder=None, cancel=None))]
    fn wait_barrier(
        &self,
        py: Python<'_>,
        name: String,
        timeout: Option<f64>,
        holder: Option<String>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<()> {
        let args = Args::new(None, timeout, holder, None, false)?;
        let client = self.inner.clone();
        run(py, cancel.as_ref().map(|c| &c.inner), true, move |token| {
            client.wait_barrier(&name, &args.options(token))
        })
    }

    /// Waits until a gate is open.
    #[pyo3(signature = (name, *, timeout=None, cancel=None))]
    fn wait_gate(
        &self,
        py: Python<'_>,
        name: String,
        timeout: Option<f64>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<()> {
        let args = Args::new(None, timeout, None, None, false)?;
        let client = self.inner.clone();
        run(py, cancel.as_ref().map(|c| &c.inner), true, move |token| {
            client.wait_gate(&name, &args.options(token))
        })
    }

    /// True when the gate is open now.
    fn check_gate(&self, py: Python<'_>, name: String) -> PyResult<bool> {
        let client = self.inner.clone();
        run(py, None, false, move |_| client.check_gate(&name))
    }

    /// The gate's condition statuses as JSON.
    fn gate_conditions(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let client = self.inner.clone();
        run(py, None, false, move |_| {
            to_json(&client.gate_conditions(&name)?)
        })
    }

    /// Reads one object of `kind` as JSON.
    fn get(&self, py: Python<'_>, kind: &str, name: String) -> PyResult<String> {
        let kind = Kind::parse(kind)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| match kind {
            Kind::Semaphore => to_json(&client.get_semaphore(&name)?),
            Kind::Barrier => to_json(&client.get_barrier(&name)?),
            Kind::Lease => to_json(&client.get_lease(&name)?),
            Kind::Gate => to_json(&client.get_gate(&name)?),
        })
    }

    /// Lists the objects of `kind` in the namespace as a JSON array.
    fn list(&self, py: Python<'_>, kind: &str) -> PyResult<String> {
        let kind = Kind::parse(kind)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| match kind {
            Kind::Semaphore => to_json(&client.list_semaphores()?),
            Kind::Barrier => to_json(&client.list_barriers()?),
            Kind::Lease => to_json(&client.list_leases()?),
            Kind::Gate => to_json(&client.list_gates()?),
        })
    }

    /// Deletes one object of `kind`.
    fn delete(&self, py: Python<'_>, kind: &str, name: String) -> PyResult<()> {
        let kind = Kind::parse(kind)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| match kind {
            Kind::Semaphore => client.delete_semaphore(&name),
            Kind::Barrier => client.delete_barrier(&name),
            Kind::Lease => client.delete_lease(&name),
            Kind::Gate => client.delete_gate(&name),
        })
    }

    /// Creates a semaphore; returns it as JSON.
    #[pyo3(signature = (name, permits, ttl=None))]
    fn create_semaphore(
        &self,
        py: Python<'_>,
        name: String,
        permits: u32,
        ttl: Option<f64>,
    ) -> PyResult<String> {
        let ttl = seconds("ttl", ttl)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| {
            to_json(&client.create_semaphore(&name, permits, ttl)?)
        })
    }

    /// Creates a barrier; returns it as JSON.
    #[pyo3(signature = (name, expected, quorum=None, timeout=None))]
    fn create_barrier(
        &self,
        py: Python<'_>,
        name: String,
        expected: u32,
        quorum: Option<u32>,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let timeout = seconds("timeout", timeout)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| {
            to_json(&client.create_barrier(&name, expected, quorum, timeout)?)
        })
    }

    /// Creates a lease; returns it as JSON.
    #[pyo3(signature = (name, ttl=None, priority=None))]
    fn create_lease(
        &self,
        py: Python<'_>,
        name: String,
        ttl: Option<f64>,
        priority: Option<i32>,
    ) -> PyResult<String> {
        let ttl = seconds("ttl", ttl)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| {
            to_json(&client.create_lease(&name, ttl, priority)?)
        })
    }

    /// Creates a gate from conditions given as a JSON array; returns it as JSON.
    #[pyo3(signature = (name, conditions, timeout=None))]
    fn create_gate(
        &self,
        py: Python<'_>,
        name: String,
        conditions: &str,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let conditions: Vec<GateCondition> = serde_json::from_str(conditions)
            .map_err(|e| PyValueError::new_err(format!("invalid gate conditions: {e}")))?;
        let timeout = seconds("timeout", timeout)?;
        let client = self.inner.clone();
        run(py, None, false, move |_| {
            to_json(&client.create_gate(&name, conditions, timeout)?)
        })
    }

    fn __repr__(&self) -> String {
        format!("Client(namespace={:?})", self.inner.namespace())
    }
}
