//! Core objects as plain Python values (dicts, lists, strings, numbers) and
//! back, through their serde form: no JSON text crosses the boundary.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// The serde form of a core value, made on the worker thread (no GIL needed).
pub(crate) fn to_value(value: &impl Serialize) -> konductor::Result<Value> {
    serde_json::to_value(value).map_err(|e| konductor::Error::Transport {
        message: "failed to convert an object for Python".to_owned(),
        source: Some(Box::new(e)),
    })
}

/// A serde value as the Python value of the same shape.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => PyList::new(
            py,
            items
                .iter()
                .map(|item| to_python(py, item))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Object(fields) => {
            let dict = PyDict::new(py);
            for (key, field) in fields {
                dict.set_item(key, to_python(py, field)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value (None, bool, int, float, str, list, tuple, dict with str
/// keys) as a core type, through its serde form; `what` names it in errors.
pub(crate) fn from_python<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let value = serde_value(obj, what)?;
    serde_json::from_value(value).map_err(|e| {
        let error = konductor::Error::Invalid {
            argument: konductor::Argument::Other,
            value: format!(
                "{what} {}",
                obj.repr().map_or_else(|_| "?".into(), |r| r.to_string())
            ),
            reason: e.to_string(),
        };
        crate::errors::to_py(obj.py(), error)
    })
}

fn serde_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(Value::Number(Number::from(obj.extract::<i64>()?)))
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Ok(Number::from_f64(f.value()).map_or(Value::Null, Value::Number))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_cow()?.into_owned()))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .map(|item| serde_value(&item?, what))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array)
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let mut fields = Map::new();
        for (key, field) in dict.iter() {
            fields.insert(key.extract::<String>()?, serde_value(&field, what)?);
        }
        Ok(Value::Object(fields))
    } else {
        Err(PyTypeError::new_err(format!(
            "{what} holds a {}, which has no API form",
            obj.get_type().name()?
        )))
    }
}
