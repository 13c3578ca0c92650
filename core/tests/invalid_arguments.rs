//! Bad names, holders, durations and counts are rejected with
//! `Error::Invalid` naming the value, before any request is made: the client
//! here points at a port where nothing listens, so any request would fail
//! with `Error::Transport` instead.

use std::time::Duration;

use konductor::{parse_duration, Client, Config, Error, Options};

fn unreachable() -> Client {
    let config = Config::new("https://127.0.0.1:1")
        .expect("URL")
        .with_namespace("ns");
    Client::new(Some(config)).expect("no request is made yet")
}

#[track_caller]
fn expect_invalid<T: std::fmt::Debug>(result: Result<T, Error>, what: &str, value: &str) {
    match result {
        Err(Error::Invalid {
            argument,
            value: got_value,
            reason,
        }) => {
            assert_eq!(
                (argument.as_str(), got_value.as_str()),
                (what, value),
                "reason: {reason}"
            );
            let message = Error::Invalid {
                argument,
                value: got_value,
                reason,
            }
            .to_string();
            assert!(
                message.contains(&format!("{value:?}")),
                "the message names the value: {message}"
            );
        }
        other => panic!("expected Invalid {what} {value:?}, got {other:?}"),
    }
}

#[test]
fn bad_object_names_are_invalid_before_any_request() {
    let client = unreachable();
    let long = "a".repeat(254);
    for name in [
        "Bad_Name",
        "-leading-dash",
        "UPPER",
        "",
        "has space",
        long.as_str(),
    ] {
        expect_invalid(client.create_semaphore(name, 1, None), "name", name);
        expect_invalid(client.get_semaphore(name), "name", name);
        expect_invalid(client.delete_semaphore(name), "name", name);
        expect_invalid(
            client.acquire_semaphore(name, &Options::new()),
            "name",
            name,
        );
        expect_invalid(client.create_lease(name, None, None), "name", name);
        expect_invalid(client.get_lease(name), "name", name);
        expect_invalid(
            client.try_acquire_lease(name, &Options::new()),
            "name",
            name,
        );
        expect_invalid(client.create_barrier(name, 1, None, None), "name", name);
        expect_invalid(client.arrive_barrier(name, &Options::new()), "name", name);
        expect_invalid(client.wait_barrier(name, &Options::new()), "name", name);
        expect_invalid(client.create_gate(name, Vec::new(), None), "name", name);
        expect_invalid(client.wait_gate(name, &Options::new()), "name", name);
        expect_invalid(client.check_gate(name), "name", name);
    }
}

#[test]
fn bad_counts_holders_durations_and_namespaces_are_invalid_before_any_request() {
    let client = unreachable();
    expect_invalid(client.create_semaphore("s", 0, None), "permits", "0");
    expect_invalid(client.create_barrier("b", 0, None, None), "expected", "0");
    expect_invalid(client.create_barrier("b", 2, Some(3), None), "quorum", "3");
    for holder in ["", "two words", "tab\there"] {
        expect_invalid(
            client.acquire_semaphore("s", &Options::new().holder(holder)),
            "holder",
            holder,
        );
        expect_invalid(
            client.acquire_lease("l", &Options::new().holder(holder)),
            "holder",
            holder,
        );
        expect_invalid(
            client.arrive_barrier("b", &Options::new().holder(holder)),
            "holder",
            holder,
        );
    }
    let short = Options::new().holder("h").ttl(Duration::from_millis(10));
    expect_invalid(client.acquire_semaphore("s", &short), "ttl", "10ms");
    expect_invalid(client.acquire_lease("l", &short), "ttl", "10ms");
    expect_invalid(
        client.create_semaphore("s", 1, Some(Duration::from_millis(10))),
        "ttl",
        "10ms",
    );
    expect_invalid(
        client.create_lease("l", Some(Duration::from_secs(400 * 24 * 3600)), None),
        "ttl",
        "9600h0m0s",
    );
    let absurd = Options::new()
        .holder("h")
        .ttl(Duration::from_secs(10_000_000_000_000_000_000));
    expect_invalid(
        client.acquire_semaphore("s", &absurd),
        "ttl",
        &konductor::format_duration(Duration::from_secs(10_000_000_000_000_000_000)),
    );
    expect_invalid(
        client.in_namespace("Not_A_Namespace"),
        "namespace",
        "Not_A_Namespace",
    );
    let bad_namespace = Config::new("https://127.0.0.1:1")
        .expect("URL")
        .with_namespace("a/b");
    expect_invalid(Client::new(Some(bad_namespace)), "namespace", "a/b");
    for text in ["5 minutes", "-1s", "1x", "", "s"] {
        expect_invalid(parse_duration(text), "duration", text);
    }
    assert_eq!(
        parse_duration("1h30m").expect("valid"),
        Duration::from_secs(5400)
    );

    // The same client does make requests for valid input: they fail to connect.
    match client.get_semaphore("valid-name") {
        Err(Error::Transport { .. }) => {}
        other => panic!("expected Transport from a valid call to a closed port, got {other:?}"),
    }
}
