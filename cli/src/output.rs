//! Printing objects as kubectl does: a table of the CRD's columns, JSON, YAML or names.

use std::time::{Duration, SystemTime};

use clap::ValueEnum;
use konductor::resource::{
    Barrier, Gate, Lease, Mutex, Once, RWMutex, Resource, Semaphore, WaitGroup, GROUP,
};
use serde::Serialize;

use crate::exit::Failure;

/// The `-o` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns, as `kubectl get` prints them.
    Table,
    /// The objects as JSON (a list is a `List` object).
    Json,
    /// The objects as YAML.
    Yaml,
    /// `KIND.GROUP/NAME` per object.
    Name,
}

/// A kind as `konductor` shows it: the CRD's default printer columns.
pub trait Shown: Resource {
    /// Lower-case singular, as in `konductor semaphore …`.
    const NOUN: &'static str;
    /// Headers of the columns between NAME and AGE.
    const COLUMNS: &'static [&'static str];
    /// This object's cells of those columns.
    fn cells(&self) -> Vec<String>;
}

/// How a missing value is printed.
const NONE: &str = "";

fn or_none<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| NONE.to_owned(), |v| v.to_string())
}

impl Shown for Semaphore {
    const NOUN: &'static str = "semaphore";
    const COLUMNS: &'static [&'static str] = &["PERMITS", "IN-USE", "AVAILABLE", "PHASE"];
    fn cells(&self) -> Vec<String> {
        let status = self.status.as_ref();
        vec![
            self.spec.permits.to_string(),
            or_none(status.map(|s| s.in_use)),
            or_none(status.map(|s| s.available)),
            or_none(status.and_then(|s| s.phase)),
        ]
    }
}

impl Shown for Barrier {
    const NOUN: &'static str = "barrier";
    const COLUMNS: &'static [&'static str] = &["EXPECTED", "ARRIVED", "PHASE"];
    fn cells(&self) -> Vec<String> {
        let status = self.status.as_ref();
        vec![
            self.spec.expected.to_string(),
            or_none(status.map(|s| s.arrived)),
            or_none(status.and_then(|s| s.phase)),
        ]
    }
}

/// Leases and mutexes: one holder, shown alike.
macro_rules! single_holder {
    ($($kind:ty => $noun:literal),*) => {$(
        impl Shown for $kind {
            const NOUN: &'static str = $noun;
            const COLUMNS: &'static [&'static str] = &["HOLDER", "PHASE", "EXPIRES"];
            fn cells(&self) -> Vec<String> {
                let status = self.status.as_ref();
                vec![
                    or_none(status.and_then(|s| s.holder.clone())),
                    or_none(status.and_then(|s| s.phase)),
                    or_none(status.and_then(|s| s.expires_at.clone())),
                ]
            }
        }
    )*};
}

impl Shown for RWMutex {
    const NOUN: &'static str = "rwmutex";
    const COLUMNS: &'static [&'static str] = &["PHASE", "READERS", "WRITER"];
    fn cells(&self) -> Vec<String> {
        let status = self.status.as_ref();
        vec![
            or_none(status.and_then(|s| s.phase)),
            or_none(status.map(|s| s.readers)),
            or_none(status.and_then(|s| s.writer.clone())),
        ]
    }
}

impl Shown for Once {
    const NOUN: &'static str = "once";
    const COLUMNS: &'static [&'static str] = &["PHASE", "EXECUTOR", "RAN-BY"];
    fn cells(&self) -> Vec<String> {
        let status = self.status.as_ref();
        vec![
            or_none(status.and_then(|s| s.phase)),
            or_none(status.and_then(|s| s.executor.as_ref()?.holder.clone())),
            or_none(status.and_then(|s| s.ran_by.clone())),
        ]
    }
}

impl Shown for WaitGroup {
    const NOUN: &'static str = "waitgroup";
    const COLUMNS: &'static [&'static str] = &["EXPECTED", "COUNTER", "PHASE"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.spec.expected.to_string(),
            self.counter().to_string(),
            or_none(self.status.as_ref().and_then(|s| s.phase)),
        ]
    }
}

single_holder!(Lease => "lease", Mutex => "mutex");

impl Shown for Gate {
    const NOUN: &'static str = "gate";
    const COLUMNS: &'static [&'static str] = &["PHASE", "OPENED"];
    fn cells(&self) -> Vec<String> {
        let status = self.status.as_ref();
        vec![
            or_none(status.and_then(|s| s.phase)),
            or_none(status.and_then(|s| s.opened_at.as_deref()).map(age_of)),
        ]
    }
}

/// Prints one object.
pub fn print_one<K: Shown>(object: &K, format: Format) -> Result<(), Failure> {
    match format {
        Format::Json | Format::Yaml => print_value(&with_type(object)?, format),
        Format::Table | Format::Name => print_list(std::slice::from_ref(object), format, ""),
    }
}

/// Prints a list of objects of `namespace`, as `kubectl get` does.
pub fn print_list<K: Shown>(objects: &[K], format: Format, namespace: &str) -> Result<(), Failure> {
    match format {
        Format::Table => {
            if objects.is_empty() {
                eprintln!("No resources found in {namespace} namespace.");
                return Ok(());
            }
            let mut rows = vec![header::<K>()];
            rows.extend(objects.iter().map(|o| {
                let mut row = vec![o.metadata().name.clone()];
                row.extend(o.cells());
                row.push(or_none(
                    o.metadata().creation_timestamp.as_deref().map(age_of),
                ));
                row
            }));
            print!("{}", table(&rows));
        }
        Format::Name => {
            for object in objects {
                println!("{}.{GROUP}/{}", K::NOUN, object.metadata().name);
            }
        }
        Format::Json | Format::Yaml => {
            let items = objects
                .iter()
                .map(with_type)
                .collect::<Result<Vec<_>, _>>()?;
            let list = serde_json::json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": items,
                "metadata": {"resourceVersion": ""},
            });
            print_value(&list, format)?;
        }
    }
    Ok(())
}

/// The header row: NAME, the kind's columns, AGE.
pub fn header<K: Shown>() -> Vec<String> {
    let mut row = vec!["NAME".to_owned()];
    row.extend(K::COLUMNS.iter().map(|c| c.to_string()));
    row.push("AGE".to_owned());
    row
}

/// The object as JSON with `apiVersion` and `kind` filled in (list items may lack them).
fn with_type<K: Shown>(object: &K) -> Result<serde_json::Value, Failure> {
    let mut value = to_value(object)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), konductor::resource::API_VERSION.into());
        map.insert("kind".into(), K::KIND.into());
    }
    Ok(value)
}

fn to_value(value: &impl Serialize) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::usage(format!("cannot encode output: {e}")))
}

/// Prints a serializable value as JSON or YAML (a table or names print it as JSON).
pub fn print_value(value: &impl Serialize, format: Format) -> Result<(), Failure> {
    let text = match format {
        Format::Yaml => serde_yaml_ng::to_string(value)
            .map_err(|e| Failure::usage(format!("cannot encode output: {e}")))?,
        _ => {
            let mut text = serde_json::to_string_pretty(value)
                .map_err(|e| Failure::usage(format!("cannot encode output: {e}")))?;
            text.push('\n');
            text
        }
    };
    print!("{text}");
    Ok(())
}

/// Rows aligned as kubectl's tab writer does: each column as wide as its
/// widest cell plus three spaces, the last one unpadded.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = (widths[c] + 3).max(6);
                line.push_str(&format!("{cell:<pad$}"));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// How long ago an RFC 3339 time was, as kubectl's AGE column says it.
fn age_of(time: &str) -> String {
    match konductor::parse_rfc3339(time) {
        Some(then) => human(SystemTime::now().duration_since(then).unwrap_or_default()),
        None => "<invalid>".to_owned(),
    }
}

/// kubectl's `HumanDuration`: two significant units at most.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (m, h) = (s / 60, s / 3600);
    let pair = |a: u64, ua: &str, b: u64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua}{b}{ub}")
        }
    };
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        pair(m, "m", s % 60, "s")
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        pair(h, "h", m % 60, "m")
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        pair(h / 24, "d", h % 24, "h")
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else if h < 24 * 365 * 8 {
        pair(h / 24 / 365, "y", (h / 24) % 365, "d")
    } else {
        format!("{}y", h / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (4 * 3600 + 60, "4h1m"),
            (30 * 3600, "30h"),
            (3 * 86400, "3d"),
            (30 * 86400, "30d"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human(Duration::from_secs(seconds)), want, "{seconds}s");
        }
    }

    #[test]
    fn columns_are_padded_by_three_and_the_last_is_not() {
        let rows = vec![
            vec!["NAME".into(), "PERMITS".into(), "AGE".into()],
            vec!["api-quota".into(), "3".into(), "5s".into()],
        ];
        assert_eq!(
            table(&rows),
            "NAME        PERMITS   AGE\napi-quota   3         5s\n"
        );
    }
}
