//! The native client: core's generic per-kind calls (`Api<K>`), made
//! interruptible, taking and giving plain Python values.

use std::path::PathBuf;

use konductor::resource::GateCondition;
use konductor::{Argument, Config};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::cancel::CancelToken;
use crate::held::Held;
use crate::kind::{for_kind, for_slotted_kind, Kind};
use crate::leader;
use crate::options::{seconds, Args};
use crate::value::{from_python, to_python, to_value};
use crate::worker::{run, OnInterrupt};

/// A Konductor client bound to one namespace.
#[pyclass(frozen, module = "konductor._native")]
pub(crate) struct Client {
    inner: konductor::Client,
}

/// The keyword arguments of `create`, read by name.
struct Spec<'py>(Option<Bound<'py, PyDict>>);

impl<'py> Spec<'py> {
    fn get<T: for<'a> FromPyObject<'a, 'py>>(&self, key: &str) -> PyResult<Option<T>> {
        let Some(value) = self
            .0
            .as_ref()
            .map(|d| d.get_item(key))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        if value.is_none() {
            return Ok(None);
        }
        value.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            PyTypeError::new_err(format!("{key}: {}", e.value(value.py())))
        })
    }

    fn required<T: for<'a> FromPyObject<'a, 'py>>(&self, key: &str) -> PyResult<T> {
        self.get(key)?
            .ok_or_else(|| PyTypeError::new_err(format!("missing spec field {key:?}")))
    }

    fn duration(
        &self,
        py: Python<'_>,
        argument: Argument,
    ) -> PyResult<Option<std::time::Duration>> {
        seconds(py, argument, self.get(argument.as_str())?)
    }
}

impl Client {
    /// Runs `call` with this client on a worker thread, abandoned on Ctrl-C.
    fn call<T: Send + 'static>(
        &self,
        py: Python<'_>,
        call: impl FnOnce(konductor::Client) -> konductor::Result<T> + Send + 'static,
    ) -> PyResult<T> {
        let client = self.inner.clone();
        run(py, None, OnInterrupt::Abandon, move |_| call(client))
    }

    /// Like [`Client::call`] for a call giving an object back as a Python value.
    fn object<'py, T: serde::Serialize>(
        &self,
        py: Python<'py>,
        call: impl FnOnce(konductor::Client) -> konductor::Result<T> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self.call(py, move |client| to_value(&call(client)?))?;
        to_python(py, &value)
    }

    fn with_namespace(
        py: Python<'_>,
        namespace: Option<String>,
        load: impl FnOnce() -> konductor::Result<Config> + Send + 'static,
    ) -> PyResult<Client> {
        run(py, None, OnInterrupt::Abandon, move |_| {
            let config = load()?;
            let config = match namespace {
                Some(namespace) => config.with_namespace(&namespace),
                None => config,
            };
            konductor::Client::new(Some(config))
        })
        .map(|inner| Client { inner })
    }
}

#[pymethods]
impl Client {
    /// Loads the configuration core's `Config::load` picks (the kubeconfig
    /// file; else, with a context, KUBECONFIG/~/.kube/config; else
    /// inferred, in-cluster first) and connects lazily.
    #[new]
    #[pyo3(signature = (namespace=None, kubeconfig=None, context=None))]
    fn new(
        py: Python<'_>,
        namespace: Option<String>,
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    ) -> PyResult<Client> {
        Client::with_namespace(py, namespace, move || {
            Config::load(kubeconfig.as_deref(), context.as_deref())
        })
    }

    /// A client for the pod's service account.
    #[staticmethod]
    #[pyo3(signature = (namespace=None))]
    fn in_cluster(py: Python<'_>, namespace: Option<String>) -> PyResult<Client> {
        Client::with_namespace(py, namespace, Config::in_cluster)
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

    /// Reads one object of `kind`.
    fn get<'py>(&self, py: Python<'py>, kind: Kind, name: String) -> PyResult<Bound<'py, PyAny>> {
        for_kind!(kind, K => self.object(py, move |c| c.api::<K>().get(&name)))
    }

    /// Lists the objects of `kind` in the namespace.
    fn list<'py>(&self, py: Python<'py>, kind: Kind) -> PyResult<Bound<'py, PyAny>> {
        for_kind!(kind, K => self.object(py, move |c| c.api::<K>().list()))
    }

    /// Deletes one object of `kind`.
    fn delete(&self, py: Python<'_>, kind: Kind, name: String) -> PyResult<()> {
        for_kind!(kind, K => self.call(py, move |c| c.api::<K>().delete(&name)))
    }

    /// Creates an object of `kind` from its spec fields (durations in
    /// seconds), checked by core.
    #[pyo3(signature = (kind, name, **spec))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        kind: Kind,
        name: String,
        spec: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let spec = Spec(spec);
        match kind {
            Kind::Semaphore => {
                let (permits, ttl) = (spec.required("permits")?, spec.duration(py, Argument::Ttl)?);
                self.object(py, move |c| c.create_semaphore(&name, permits, ttl))
            }
            Kind::Barrier => {
                let (expected, quorum) = (spec.required("expected")?, spec.get("quorum")?);
                let timeout = spec.duration(py, Argument::Timeout)?;
                self.object(py, move |c| {
                    c.create_barrier(&name, expected, quorum, timeout)
                })
            }
            Kind::Lease => {
                let (ttl, priority) = (spec.duration(py, Argument::Ttl)?, spec.get("priority")?);
                self.object(py, move |c| c.create_lease(&name, ttl, priority))
            }
            Kind::Mutex => {
                let (ttl, priority) = (spec.duration(py, Argument::Ttl)?, spec.get("priority")?);
                self.object(py, move |c| c.create_mutex(&name, ttl, priority))
            }
            Kind::Gate => {
                let conditions: Vec<GateCondition> = from_python(
                    &spec.required::<Bound<'py, PyAny>>("conditions")?,
                    "conditions",
                )?;
                let timeout = spec.duration(py, Argument::Timeout)?;
                self.object(py, move |c| c.create_gate(&name, conditions, timeout))
            }
            Kind::Once => {
                let ttl = spec.duration(py, Argument::Ttl)?;
                let on_failure = match spec.get::<String>("on_failure")?.as_deref() {
                    None | Some("Final") => None,
                    Some("Retry") => Some(konductor::resource::OnFailure::Retry),
                    Some(other) => {
                        return Err(pyo3::exceptions::PyValueError::new_err(format!(
                            "on_failure must be \"Final\" or \"Retry\", got {other:?}"
                        )))
                    }
                };
                self.object(py, move |c| c.create_once(&name, ttl, on_failure))
            }
            Kind::RWMutex => {
                let (ttl, priority) = (spec.duration(py, Argument::Ttl)?, spec.get("priority")?);
                let max_readers = spec.get("max_readers")?;
                self.object(py, move |c| {
                    c.create_rwmutex(&name, ttl, priority, max_readers)
                })
            }
            Kind::WaitGroup => {
                let expected = spec.get("expected")?.unwrap_or(0);
                let ttl = spec.duration(py, Argument::Ttl)?;
                self.object(py, move |c| c.create_waitgroup(&name, expected, ttl))
            }
        }
    }

    /// Acquires a slot of an object of a slotted `kind` (a semaphore permit,
    /// a lease, a mutex, an RWMutex's lock in `mode` "read" or "write"); a
    /// zero `timeout` tries once.
    #[pyo3(signature = (kind, name, *, ttl=None, timeout=None, holder=None, priority=None, auto_renew=false, cancel=None, mode=None))]
    #[allow(clippy::too_many_arguments)]
    fn acquire(
        &self,
        py: Python<'_>,
        kind: Kind,
        name: String,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        priority: Option<i32>,
        auto_renew: bool,
        cancel: Option<PyRef<'_, CancelToken>>,
        mode: Option<String>,
    ) -> PyResult<Held> {
        let mode = match mode.as_deref() {
            None => None,
            Some("read") => Some(konductor::resource::LockMode::Read),
            Some("write") => Some(konductor::resource::LockMode::Write),
            Some(other) => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "mode must be \"read\" or \"write\", got {other:?}"
                )))
            }
        };
        let args = Args::new(py, ttl, timeout, holder, priority, auto_renew)?;
        let client = self.inner.clone();
        let cancel = cancel.as_ref().map(|c| &c.inner);
        for_slotted_kind!(kind, "acquire", K => run(py, cancel, OnInterrupt::Withdraw, move |token| {
            client.api::<K>().acquire_in(&name, &args.options(token), mode).map(Held::from)
        }))
    }

    /// The acquisitions queued for an object of a slotted `kind`, in grant
    /// order (higher priority first, then arrival): its `Waiter` objects.
    fn waiters<'py>(
        &self,
        py: Python<'py>,
        kind: Kind,
        name: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        for_slotted_kind!(kind, "waiters", K => self.object(py, move |c| c.api::<K>().waiters(&name)))
    }

    /// Waits until an object of `kind` (a barrier, a gate) is open, or a
    /// wait group's counter is zero.
    #[pyo3(signature = (kind, name, *, timeout=None, holder=None, cancel=None))]
    fn wait(
        &self,
        py: Python<'_>,
        kind: Kind,
        name: String,
        timeout: Option<f64>,
        holder: Option<String>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<()> {
        let args = Args::new(py, None, timeout, holder, None, false)?;
        let client = self.inner.clone();
        let cancel = cancel.as_ref().map(|c| &c.inner);
        let wait = match kind {
            Kind::Barrier => konductor::Client::wait_barrier,
            Kind::Gate => konductor::Client::wait_gate,
            Kind::WaitGroup => konductor::Client::wait_waitgroup,
            other => return Err(other.unsupported("wait")),
        };
        run(py, cancel, OnInterrupt::Withdraw, move |token| {
            wait(&client, &name, &args.options(token))
        })
    }

    /// Claims once `name` to run its work: the held run (renewed in the
    /// background) when this caller is the executor, None when it is done;
    /// waits while another caller runs it.
    #[pyo3(signature = (name, *, ttl=None, timeout=None, holder=None, cancel=None))]
    fn claim_once(
        &self,
        py: Python<'_>,
        name: String,
        ttl: Option<f64>,
        timeout: Option<f64>,
        holder: Option<String>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Option<Held>> {
        let args = Args::new(py, ttl, timeout, holder, None, true)?;
        let client = self.inner.clone();
        let cancel = cancel.as_ref().map(|c| &c.inner);
        run(py, cancel, OnInterrupt::Withdraw, move |token| {
            Ok(client
                .claim_once(&name, &args.options(token))?
                .map(Held::from))
        })
    }

    /// Records the outcome of the run `token` of `holder`: done when
    /// `failure` is None, else failed with that message.
    #[pyo3(signature = (name, holder, token, failure=None))]
    fn finish_once(
        &self,
        py: Python<'_>,
        name: String,
        holder: String,
        token: u64,
        failure: Option<String>,
    ) -> PyResult<()> {
        let client = self.inner.clone();
        // Not abandoned on Ctrl-C: the outcome's write (bounded) completes
        // before the caller gives the run back.
        run(py, None, OnInterrupt::Withdraw, move |_| {
            client.finish_once_as(&name, &holder, token, failure.as_deref())
        })
    }

    /// Records an arrival at a barrier; returns the barrier as written.
    #[pyo3(signature = (name, *, holder=None))]
    fn arrive_barrier<'py>(
        &self,
        py: Python<'py>,
        name: String,
        holder: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = Args::new(py, None, None, holder, None, false)?;
        self.object(py, move |c| {
            c.arrive_barrier(&name, &args.options(&konductor::CancelToken::new()))
        })
    }

    /// Raises a wait group's counter by `count`, once even if retried;
    /// returns the wait group as written.
    #[pyo3(signature = (name, count, *, timeout=None, cancel=None))]
    fn add_waitgroup<'py>(
        &self,
        py: Python<'py>,
        name: String,
        count: u32,
        timeout: Option<f64>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = Args::new(py, None, timeout, None, None, false)?;
        let client = self.inner.clone();
        let cancel = cancel.as_ref().map(|c| &c.inner);
        let value = run(py, cancel, OnInterrupt::Abandon, move |token| {
            to_value(&client.add_waitgroup(&name, count, &args.options(token))?)
        })?;
        to_python(py, &value)
    }

    /// Lowers a wait group's counter by one for `holder`, once per holder;
    /// returns the wait group as written.
    #[pyo3(signature = (name, *, holder=None, timeout=None, cancel=None))]
    fn done_waitgroup<'py>(
        &self,
        py: Python<'py>,
        name: String,
        holder: Option<String>,
        timeout: Option<f64>,
        cancel: Option<PyRef<'_, CancelToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = Args::new(py, None, timeout, holder, None, false)?;
        let client = self.inner.clone();
        let cancel = cancel.as_ref().map(|c| &c.inner);
        let value = run(py, cancel, OnInterrupt::Abandon, move |token| {
            to_value(&client.done_waitgroup(&name, &args.options(token))?)
        })?;
        to_python(py, &value)
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
        let args = Args::new(py, ttl, timeout, holder, priority, true)?;
        leader::run_as_leader(
            py,
            &self.inner,
            name,
            work,
            args,
            cancel.as_ref().map(|c| &c.inner),
        )
    }

    fn __repr__(&self) -> String {
        format!("Client(namespace={:?})", self.inner.namespace())
    }
}
