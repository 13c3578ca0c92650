//! The API server's own count of the requests it answered
//! (`apiserver_request_total`), to tell how many writes a process made.

use crate::cluster::kubectl;

/// One reading of `apiserver_request_total`: labels and count per series.
pub struct Requests(Vec<(Vec<(String, String)>, u64)>);

/// Reads the counters now, as admin.
pub fn read() -> Requests {
    let text = kubectl(&["get", "--raw", "/metrics"]);
    Requests(
        text.lines()
            .filter_map(|line| line.strip_prefix("apiserver_request_total{"))
            .filter_map(|rest| {
                let (labels, value) = rest.rsplit_once("} ")?;
                Some((
                    parse_labels(labels),
                    value.trim().parse::<f64>().ok()? as u64,
                ))
            })
            .collect(),
    )
}

impl Requests {
    /// Requests with `verb` on the `subresource` (empty: the object itself)
    /// of any of `resources`, whose HTTP code starts with `code` (`"2"`, `"409"`).
    pub fn count(&self, verb: &str, resources: &[&str], subresource: &str, code: &str) -> u64 {
        self.0
            .iter()
            .filter(|(labels, _)| {
                let label = |key: &str| {
                    labels
                        .iter()
                        .find(|(k, _)| k == key)
                        .map_or("", |(_, v)| v.as_str())
                };
                label("verb") == verb
                    && resources.contains(&label("resource"))
                    && label("subresource") == subresource
                    && label("code").starts_with(code)
            })
            .map(|(_, n)| n)
            .sum()
    }
}

/// `key="value",…` as the Prometheus text format writes labels.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if key.is_empty() || chars.next() != Some('"') {
            return labels;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((key.trim_start_matches(',').trim().to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_the_matching_series() {
        let requests = Requests(vec![
            (
                parse_labels(r#"code="200",resource="semaphores",subresource="status",verb="PUT""#),
                5,
            ),
            (
                parse_labels(r#"code="409",resource="semaphores",subresource="status",verb="PUT""#),
                2,
            ),
            (
                parse_labels(r#"code="201",resource="events",subresource="",verb="POST""#),
                7,
            ),
        ]);
        assert_eq!(requests.count("PUT", &["semaphores"], "status", "2"), 5);
        assert_eq!(
            requests.count("PUT", &["semaphores", "gates"], "status", "409"),
            2
        );
        assert_eq!(requests.count("POST", &["events"], "", "2"), 7);
    }
}
