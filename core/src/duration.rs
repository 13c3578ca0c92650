//! Go/Kubernetes duration strings (`30s`, `1h30m`, `1.5s`), parsed and written.

use std::time::Duration;

use crate::error::{Argument, Error, Result};

/// Parses a Go duration string such as `300ms`, `1.5h` or `2h45m`.
///
/// Negative durations and a bare number without a unit (other than `0`)
/// are rejected, naming the value.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let invalid = |reason: &str| Error::invalid(Argument::Duration, text, reason);
    let s = text.trim();
    if s.is_empty() {
        return Err(invalid("empty duration"));
    }
    if s.starts_with('-') {
        return Err(invalid("duration must not be negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total_nanos: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid("expected a number, e.g. 30s or 1h30m"));
        }
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(invalid("missing unit (use ns, us, ms, s, m or h)")),
            _ => return Err(invalid("unknown unit (use ns, us, ms, s, m or h)")),
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid("number too large"))?
        };
        let mut frac_nanos: u128 = 0;
        let mut scale: u128 = 1;
        for digit in frac.bytes().take(18) {
            frac_nanos = frac_nanos * 10 + u128::from(digit - b'0');
            scale *= 10;
        }
        total_nanos = whole
            .checked_mul(unit_nanos)
            .and_then(|n| n.checked_add(frac_nanos * unit_nanos / scale))
            .and_then(|n| total_nanos.checked_add(n))
            .ok_or_else(|| invalid("duration too large"))?;
    }
    let secs =
        u64::try_from(total_nanos / 1_000_000_000).map_err(|_| invalid("duration too large"))?;
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// The TTL a spec gives (`spec.ttl`), else [`DEFAULT_TTL`](crate::DEFAULT_TTL).
pub(crate) fn ttl_or_default(ttl: Option<&str>) -> Result<Duration> {
    ttl.map_or(Ok(crate::options::DEFAULT_TTL), parse_duration)
}

/// A TTL read from the server: parsed, else `default`, and never more than
/// [`MAX_TTL`](crate::MAX_TTL) — a record written by anyone must not be able
/// to overflow this client's clocks.
pub(crate) fn server_ttl(text: &str, default: Duration) -> Duration {
    parse_duration(text)
        .unwrap_or(default)
        .min(crate::options::MAX_TTL)
}

/// A duration a binding received in milliseconds (the C API): negative
/// values are rejected as [`Error::Invalid`] naming `argument`.
pub fn duration_from_millis(argument: Argument, ms: i64) -> Result<Duration> {
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| Error::invalid(argument, format!("{ms}ms"), "must not be negative"))
}

/// A duration a binding received in seconds (Python): NaN, infinities,
/// negative values and values too large for a [`Duration`] are rejected as
/// [`Error::Invalid`] naming `argument`.
pub fn duration_from_secs(argument: Argument, seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::invalid(
            argument,
            format!("{seconds}s"),
            "must be a finite, non-negative number of seconds",
        )
    })
}

/// Writes a duration the way Go's `time.Duration.String` does (`1h30m0s`, `1.5s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000_000_000 {
        let (value, unit, scale) = if nanos < 1_000 {
            return format!("{nanos}ns");
        } else if nanos < 1_000_000 {
            (nanos, "µs", 1_000)
        } else {
            (nanos, "ms", 1_000_000)
        };
        return format!("{}{unit}", fraction(value, scale));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let seconds = fraction(nanos % 60_000_000_000, 1_000_000_000);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{seconds}s"));
    out
}

/// `value / scale` as a decimal without trailing zeros.
fn fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2us").unwrap(), Duration::from_micros(2));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration(".5m").unwrap(), Duration::from_secs(30));
    }

    #[test]
    fn rejects_bad_durations_naming_the_value() {
        for bad in ["", "10", "-5s", "5x", "s", "1..5s", "abc"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { argument: Argument::Duration, value, .. } if value == bad),
                "expected Invalid naming {bad:?}, got {err:?}"
            );
        }
    }

    #[test]
    fn formats_like_go_and_round_trips() {
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        for d in [
            1,
            999,
            1_000,
            1_500_000,
            61_000_000_000,
            7_322_500_000_000u64,
        ] {
            let d = Duration::from_nanos(d);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn binding_durations_reject_what_no_duration_can_be() {
        assert_eq!(
            duration_from_millis(Argument::Ttl, 1500).unwrap(),
            Duration::from_millis(1500)
        );
        assert!(matches!(
            duration_from_millis(Argument::Ttl, -1),
            Err(Error::Invalid { argument: Argument::Ttl, value, .. }) if value == "-1ms"
        ));
        assert_eq!(
            duration_from_secs(Argument::Timeout, 0.25).unwrap(),
            Duration::from_millis(250)
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e30] {
            assert!(
                matches!(
                    duration_from_secs(Argument::Timeout, bad),
                    Err(Error::Invalid {
                        argument: Argument::Timeout,
                        ..
                    })
                ),
                "{bad} must be rejected"
            );
        }
    }
}
