//! Validation of names and holder identities, before any request is made.

use crate::error::{Argument, Error, Result};

/// Longest object name accepted (RFC 1123 subdomain).
pub const MAX_NAME_LEN: usize = 253;
/// Longest holder identity accepted.
pub const MAX_HOLDER_LEN: usize = 253;

/// Checks an object name: an RFC 1123 subdomain (`api-quota`, `stage.1`).
pub fn validate_name(name: &str) -> Result<()> {
    validate_subdomain(Argument::Name, name)
}

/// Checks a namespace name: an RFC 1123 label (at most 63 characters, no dots).
pub fn validate_namespace(namespace: &str) -> Result<()> {
    let bad = |reason: &str| Err(Error::invalid(Argument::Namespace, namespace, reason));
    if namespace.is_empty() {
        return bad("must not be empty");
    }
    if namespace.len() > 63 {
        return bad("must be at most 63 characters");
    }
    if !is_label(namespace) {
        return bad("must consist of lower case letters, digits and '-', and start and end with a letter or digit");
    }
    Ok(())
}

/// Checks a holder identity: printable, no whitespace, at most 253 bytes.
pub fn validate_holder(holder: &str) -> Result<()> {
    let bad = |reason: &str| Err(Error::invalid(Argument::Holder, holder, reason));
    if holder.is_empty() {
        return bad("must not be empty");
    }
    if holder.len() > MAX_HOLDER_LEN {
        return bad("must be at most 253 bytes");
    }
    if holder.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain whitespace or control characters");
    }
    Ok(())
}

fn validate_subdomain(what: Argument, value: &str) -> Result<()> {
    let bad = |reason: &str| Err(Error::invalid(what, value, reason));
    if value.is_empty() {
        return bad("must not be empty");
    }
    if value.len() > MAX_NAME_LEN {
        return bad("must be at most 253 characters");
    }
    if !value.split('.').all(is_label) {
        return bad("must be an RFC 1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit");
    }
    Ok(())
}

fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc1123_names() {
        for good in ["a", "api-quota", "stage.1", "x0-y.z9", &"a".repeat(63)] {
            validate_name(good).unwrap();
        }
        validate_namespace("team-a").unwrap();
    }

    #[test]
    fn rejects_bad_names_naming_the_value() {
        let long = "a".repeat(254);
        for bad in [
            "",
            "Api",
            "-a",
            "a-",
            "a..b",
            "a_b",
            "a b",
            "ü",
            long.as_str(),
        ] {
            let err = validate_name(bad).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { argument: Argument::Name, value, .. } if value == bad),
                "expected Invalid name {bad:?}, got {err:?}"
            );
        }
        assert!(validate_namespace("a.b").is_err());
        assert!(validate_namespace(&"a".repeat(64)).is_err());
    }

    #[test]
    fn holder_rules() {
        validate_holder("pod-1/worker:3").unwrap();
        assert!(validate_holder("").is_err());
        assert!(validate_holder("a b").is_err());
        assert!(validate_holder(&"h".repeat(254)).is_err());
    }
}
