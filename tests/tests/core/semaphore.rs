//! Semaphore operations of the core client against the real control plane:
//! CRUD, grants up to `permits`, fencing, renewal, loss, eviction, release
//! paths and every error kind an acquire can return.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::resource::{Semaphore, SemaphorePhase};
use konductor::{Error, Event, Observer, Options};
use konductor_tests::cluster::cluster;
use konductor_tests::kind::Kind;
use konductor_tests::namespace::{client_from, Namespace};
use konductor_tests::status::status_of;
use konductor_tests::wait::{eventually, ms};
use konductor_tests::work::WorkError;

fn try_once(holder: &str) -> Options {
    Options::new().holder(holder).timeout(Duration::ZERO)
}

#[test]
fn semaphores_can_be_created_read_listed_and_deleted() {
    let ns = Namespace::new("sem-crud");
    let client = ns.admin();
    let created = client
        .create_semaphore("gpu", 2, Some(Duration::from_secs(90)))
        .expect("create");
    assert_eq!(created.name(), "gpu");
    assert_eq!(created.spec.permits, 2);
    assert_eq!(
        created.spec.ttl.as_deref(),
        Some("1m30s"),
        "ttl is stored as a Go duration"
    );
    client
        .create_semaphore("db", 1, None)
        .expect("create second");

    let got = client.get_semaphore("gpu").expect("get");
    assert_eq!(got.spec, created.spec);
    let mut names: Vec<String> = client
        .list_semaphores()
        .expect("list")
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["db", "gpu"]);

    match client.create_semaphore("gpu", 1, None) {
        Err(Error::AlreadyExists {
            kind,
            namespace,
            name,
        }) => assert_eq!(
            (kind, namespace.as_str(), name.as_str()),
            ("Semaphore", client.namespace(), "gpu")
        ),
        other => panic!("expected AlreadyExists for a duplicate, got {other:?}"),
    }

    client.delete_semaphore("gpu").expect("delete");
    match client.get_semaphore("gpu") {
        Err(Error::NotFound {
            kind,
            namespace,
            name,
        }) => {
            assert_eq!(
                (kind, namespace.as_str(), name.as_str()),
                ("Semaphore", ns.name.as_str(), "gpu")
            )
        }
        other => panic!("expected NotFound after delete, got {other:?}"),
    }
    assert!(
        matches!(client.delete_semaphore("gpu"), Err(Error::NotFound { .. })),
        "second delete is NotFound"
    );
    assert_eq!(client.list_semaphores().expect("list").len(), 1);
}

#[test]
fn permits_are_granted_up_to_the_limit_with_increasing_fencing_tokens() {
    let ns = Namespace::new("sem-limit");
    let client = ns.admin();
    client.create_semaphore("pool", 2, None).expect("create");

    let a = client
        .acquire_semaphore("pool", &try_once("a"))
        .expect("first permit");
    let b = client
        .acquire_semaphore("pool", &try_once("b"))
        .expect("second permit");
    assert!(
        b.token() > a.token(),
        "tokens increase: a={} b={}",
        a.token(),
        b.token()
    );
    assert_eq!((a.holder(), a.name()), ("a", "pool"));

    let status = status_of::<Semaphore>(&client, "pool");
    assert_eq!(
        (status.in_use, status.available, status.phase),
        (2, 0, Some(SemaphorePhase::Full))
    );
    assert_eq!(status.holder_names(), ["a", "b"]);
    assert_eq!(status.fencing_token, b.token());

    match client.acquire_semaphore("pool", &try_once("c")) {
        Err(Error::Timeout { waited, .. }) => assert_eq!(waited, Duration::ZERO),
        other => panic!("expected Timeout for a try-once on a full semaphore, got {other:?}"),
    }
    assert!(
        Kind::Semaphore.waiters(&client, "pool").is_empty(),
        "a try-once never queues"
    );

    a.release().expect("release");
    a.release().expect("release is idempotent");
    assert!(
        a.is_lost(),
        "a released permit reports itself as no longer held"
    );
    let c = client
        .acquire_semaphore("pool", &try_once("c"))
        .expect("permit after release");
    assert!(
        c.token() > b.token(),
        "tokens increase: b={} c={}",
        b.token(),
        c.token()
    );
    let status = status_of::<Semaphore>(&client, "pool");
    assert_eq!((status.in_use, status.available), (2, 0));
    let tokens = [a.token(), b.token(), c.token()];
    drop((b, c));
    let status = status_of::<Semaphore>(&client, "pool");
    assert_eq!(
        (status.in_use, status.available, status.phase),
        (0, 2, Some(SemaphorePhase::Ready)),
        "dropping permits releases them"
    );
    println!(
        "tokens a, b, c = {tokens:?}; fencing counter {}",
        status.fencing_token
    );
}

#[test]
fn the_same_holder_acquiring_twice_is_already_held() {
    let ns = Namespace::new("sem-twice");
    let client = ns.admin();
    client.create_semaphore("s", 3, None).expect("create");
    let _held = client
        .acquire_semaphore("s", &try_once("me"))
        .expect("first");
    match client.acquire_semaphore(
        "s",
        &Options::new().holder("me").timeout(Duration::from_secs(1)),
    ) {
        Err(Error::AlreadyHeld { kind, name, holder }) => {
            assert_eq!(
                (kind, name.as_str(), holder.as_str()),
                ("Semaphore", "s", "me")
            )
        }
        other => panic!("expected AlreadyHeld, got {other:?}"),
    }
    assert_eq!(
        Kind::Semaphore.holders(&client, "s"),
        ["me"],
        "the failed second call left the first grant alone"
    );
}

#[test]
fn callers_racing_with_one_holder_name_get_one_grant_between_them() {
    let ns = Namespace::new("sem-samename");
    let client = ns.admin();
    client.create_semaphore("s", 3, None).expect("create");
    let callers: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || {
                client.acquire_semaphore(
                    "s",
                    &Options::new()
                        .holder("same")
                        .timeout(Duration::from_secs(5)),
                )
            })
        })
        .collect();
    let results: Vec<_> = callers
        .into_iter()
        .map(|c| c.join().expect("caller"))
        .collect();
    let granted: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        granted.len(),
        1,
        "exactly one caller holds the name: {results:?}"
    );
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(refused, Error::AlreadyHeld { holder, .. } if holder == "same"),
            "the others are told the name is in use, got {refused:?}"
        );
    }
    assert_eq!(Kind::Semaphore.holders(&client, "s"), ["same"]);
    assert!(
        Kind::Semaphore.waiters(&client, "s").is_empty(),
        "nobody was left queued"
    );
}

#[test]
fn with_semaphore_reports_a_permit_lost_while_the_work_ran() {
    let ns = Namespace::new("sem-with-lost");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let short = Options::new()
        .holder("slow")
        .ttl(Duration::from_millis(300))
        .timeout(Duration::from_secs(5));
    let outcome = client.with_semaphore("s", &short, |_| {
        // Longer than the TTL, without renewing: others may have been granted it.
        thread::sleep(Duration::from_millis(800));
        Ok::<_, Error>("done")
    });
    match outcome {
        Err(Error::Lost { holder, .. }) => assert_eq!(holder, "slow"),
        other => panic!("expected Lost for work that outlived its permit, got {other:?}"),
    }
}

#[test]
fn a_second_call_for_a_queued_holder_queues_on_its_own_and_leaves_the_first_queued() {
    let ns = Namespace::new("sem-dupwait");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let held = client
        .acquire_semaphore("s", &try_once("holder"))
        .expect("hold");
    let first = {
        let client = client.clone();
        thread::spawn(move || {
            client
                .acquire_semaphore(
                    "s",
                    &Options::new()
                        .holder("dup")
                        .timeout(Duration::from_secs(20)),
                )
                .map(|p| p.token())
        })
    };
    eventually(Duration::from_secs(10), "dup to queue", || {
        Kind::Semaphore.waiters(&client, "s") == ["dup"]
    });
    // Each call is its own acquisition (its own ticket and waiter object):
    // the second queues behind the first and gives up without touching it.
    match client.acquire_semaphore(
        "s",
        &Options::new().holder("dup").timeout(Duration::from_secs(1)),
    ) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected the second call to time out in the queue, got {other:?}"),
    }
    assert_eq!(
        Kind::Semaphore.waiters(&client, "s"),
        ["dup"],
        "the call that gave up must remove only its own entry"
    );
    held.release().expect("release");
    let token = first
        .join()
        .expect("first caller")
        .expect("the first call still gets the permit");
    assert!(token > held.token());
}

#[test]
fn acquiring_a_missing_semaphore_is_not_found() {
    let ns = Namespace::new("sem-missing");
    let client = ns.admin();
    match client.acquire_semaphore("nope", &Options::new().timeout(Duration::from_secs(1))) {
        Err(Error::NotFound { kind, name, .. }) => {
            assert_eq!((kind, name.as_str()), ("Semaphore", "nope"))
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn renewal_extends_a_permit_and_renewing_after_the_ttl_is_lost() {
    let ns = Namespace::new("sem-renew");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let ttl = Duration::from_millis(1500);
    let permit = client
        .acquire_semaphore("s", &Options::new().holder("h").ttl(ttl))
        .expect("acquire");
    assert_eq!(permit.ttl(), ttl);
    let first_expiry = permit.expires_at();
    thread::sleep(Duration::from_millis(300));
    permit.renew().expect("renew within the TTL");
    assert!(
        permit.expires_at() > first_expiry,
        "renewal moves the expiry forward"
    );
    let record = status_of::<Semaphore>(&client, "s").holders[0].clone();
    assert_eq!((record.renew_count, record.ttl.as_str()), (1, "1.5s"));

    thread::sleep(ttl + Duration::from_millis(200));
    assert!(
        permit.is_lost(),
        "past its TTL the permit reports itself lost"
    );
    match permit.renew() {
        Err(Error::Lost {
            kind,
            name,
            holder,
            reason,
        }) => {
            assert_eq!(
                (kind, name.as_str(), holder.as_str()),
                ("Semaphore", "s", "h")
            );
            assert!(reason.contains("TTL"), "reason = {reason}");
        }
        other => panic!("expected Lost when renewing after the TTL, got {other:?}"),
    }
    assert!(
        permit.lost_token().is_cancelled(),
        "the loss token fires on loss"
    );
}

#[test]
fn a_permit_reclaimed_behind_its_back_is_lost_on_renew() {
    let ns = Namespace::new("sem-reclaim");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let permit = client
        .acquire_semaphore(
            "s",
            &Options::new().holder("h").ttl(Duration::from_secs(60)),
        )
        .expect("acquire");
    // What the operator does to an expired holder.
    ns.patch_status(
        "semaphore",
        "s",
        r#"{"status":{"holders":[],"inUse":0,"available":1}}"#,
    );
    match permit.renew() {
        Err(Error::Lost { reason, .. }) => {
            assert!(reason.contains("reclaimed"), "reason = {reason}")
        }
        other => panic!("expected Lost after the record was removed, got {other:?}"),
    }
    assert!(permit.is_lost());
    permit
        .release()
        .expect("releasing a lost permit is harmless");
    let other = client
        .acquire_semaphore("s", &try_once("other"))
        .expect("the slot is free");
    assert!(other.token() > permit.token());
}

#[test]
fn automatic_renewal_keeps_a_permit_past_its_ttl() {
    let ns = Namespace::new("sem-autorenew");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let ttl = Duration::from_millis(1500);
    let wait = ttl * 3;
    let permit = client
        .acquire_semaphore("s", &Options::new().holder("h").ttl(ttl).auto_renew(true))
        .expect("acquire");
    let other = client_from(&cluster().admin, &ns.name);
    match other.acquire_semaphore("s", &Options::new().holder("w").timeout(wait)) {
        Err(Error::Timeout { .. }) => {}
        Ok(taken) => {
            // Safety first: whoever got it, the holder must already know it lost it.
            assert!(
                permit.is_lost(),
                "SAFETY: the waiter was granted token {} while the auto-renewed holder still believed it held {}",
                taken.token(),
                permit.token()
            );
            panic!("expected auto-renewal to keep the permit for {wait:?} (TTL {ttl:?}); the holder lost it and a waiter took it");
        }
        Err(other) => panic!("expected the waiter to time out, got {other:?}"),
    }
    assert!(
        !permit.is_lost(),
        "expected the auto-renewed permit still held after {wait:?} (TTL {ttl:?})"
    );
    let renewals = status_of::<Semaphore>(&client, "s").holders[0].renew_count;
    println!("{renewals} renewals in {wait:?} with TTL {ttl:?}");
    assert!(
        renewals >= 4,
        "expected at least 4 renewals in {wait:?} at TTL/3, saw {renewals}"
    );
    permit.release().expect("release");
}

#[derive(Default)]
struct Counts {
    acquired: AtomicUsize,
    released: AtomicUsize,
    waited: AtomicUsize,
    lost: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

impl Observer for Counts {
    fn acquired(&self, _: &Event<'_>, _: Duration) {
        self.acquired.fetch_add(1, Ordering::SeqCst);
    }
    fn released(&self, _: &Event<'_>, _: Duration) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
    fn waited(&self, _: &Event<'_>, _: Duration) {
        self.waited.fetch_add(1, Ordering::SeqCst);
    }
    fn lost(&self, event: &Event<'_>, _: &str) {
        assert_eq!((event.kind, event.name), ("Semaphore", "s"));
        self.lost.fetch_add(1, Ordering::SeqCst);
    }
    fn error(&self, _: &Event<'_>, error: &Error) {
        self.errors.lock().unwrap().push(error.to_string());
    }
}

#[test]
fn automatic_renewal_reports_loss_through_the_token_and_the_observer() {
    let ns = Namespace::new("sem-autoloss");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let counts = Arc::new(Counts::default());
    let ttl = Duration::from_millis(900);
    let permit = client
        .acquire_semaphore(
            "s",
            &Options::new()
                .holder("h")
                .ttl(ttl)
                .auto_renew(true)
                .observer(counts.clone()),
        )
        .expect("acquire");
    assert_eq!(counts.acquired.load(Ordering::SeqCst), 1);
    ns.patch_status("semaphore", "s", r#"{"status":{"holders":[]}}"#);
    let lost = permit.lost_token();
    let noticed = eventually(ttl * 2, "the loss token to fire", || lost.is_cancelled());
    println!(
        "auto-renewal noticed the reclaimed permit after {:.0} ms (TTL {ttl:?})",
        ms(noticed)
    );
    assert!(permit.is_lost());
    assert_eq!(
        counts.lost.load(Ordering::SeqCst),
        1,
        "observer.lost called once"
    );
    assert!(matches!(permit.renew(), Err(Error::Lost { .. })));
}

#[test]
fn the_observer_sees_waits_grants_releases_and_errors() {
    let ns = Namespace::new("sem-observer");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let counts = Arc::new(Counts::default());
    let options = Options::new().holder("h").observer(counts.clone());
    let permit = client.acquire_semaphore("s", &options).expect("acquire");
    match client.acquire_semaphore("s", &options.clone().holder("x").timeout(Duration::ZERO)) {
        Err(Error::Timeout { waited, .. }) => assert_eq!(waited, Duration::ZERO),
        other => panic!("expected Timeout from a try-once on a full semaphore, got {other:?}"),
    }
    permit.release().expect("release");
    assert_eq!(counts.acquired.load(Ordering::SeqCst), 1);
    assert_eq!(counts.released.load(Ordering::SeqCst), 1);
    assert_eq!(
        counts.waited.load(Ordering::SeqCst),
        2,
        "both acquire calls report their wait"
    );
    let errors = counts.errors.lock().unwrap().clone();
    assert_eq!(
        errors.len(),
        1,
        "the failed try-once is reported: {errors:?}"
    );
    assert!(errors[0].contains("timed out"), "{errors:?}");
}

#[test]
fn with_semaphore_releases_after_success_and_after_the_work_fails() {
    let ns = Namespace::new("sem-with");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");

    let value: Result<u64, WorkError> =
        client.with_semaphore("s", &Options::new().holder("w1"), |permit| {
            assert_eq!(
                Kind::Semaphore.holders(&client, "s"),
                ["w1"],
                "held while the work runs"
            );
            Ok(permit.token() * 10)
        });
    assert!(matches!(value, Ok(v) if v > 0), "got {value:?}");
    assert!(
        Kind::Semaphore.holders(&client, "s").is_empty(),
        "released after the work succeeded"
    );

    let failed: Result<(), WorkError> =
        client.with_semaphore("s", &Options::new().holder("w2"), |_| {
            Err(WorkError::Job("boom"))
        });
    assert!(
        matches!(failed, Err(WorkError::Job("boom"))),
        "the work's error comes back: {failed:?}"
    );
    assert!(
        Kind::Semaphore.holders(&client, "s").is_empty(),
        "released after the work failed"
    );

    let missing: Result<(), WorkError> =
        client.with_semaphore("absent", &Options::new(), |_| Ok(()));
    assert!(
        matches!(missing, Err(WorkError::Konductor(Error::NotFound { .. }))),
        "got {missing:?}"
    );
}

#[test]
fn deleting_a_semaphore_ends_waits_with_not_found_and_holders_learn_on_renew() {
    let ns = Namespace::new("sem-delete");
    let client = ns.admin();
    client.create_semaphore("s", 1, None).expect("create");
    let held = client.acquire_semaphore("s", &try_once("h")).expect("hold");
    let waiter = {
        let client = client.clone();
        thread::spawn(move || {
            client.acquire_semaphore(
                "s",
                &Options::new().holder("w").timeout(Duration::from_secs(20)),
            )
        })
    };
    eventually(Duration::from_secs(10), "the waiter to queue", || {
        Kind::Semaphore.waiters(&client, "s") == ["w"]
    });
    let deleted_at = Instant::now();
    client.delete_semaphore("s").expect("delete");
    let result = waiter.join().expect("waiter thread");
    println!(
        "waiter returned {:.0} ms after the delete",
        ms(deleted_at.elapsed())
    );
    assert!(
        matches!(result, Err(Error::NotFound { .. })),
        "expected NotFound for the waiter, got {result:?}"
    );
    match held.renew() {
        Err(Error::Lost { reason, .. }) => assert!(reason.contains("deleted"), "reason = {reason}"),
        other => panic!("expected Lost on renew after delete, got {other:?}"),
    }
    held.release()
        .expect("releasing a permit of a deleted semaphore is fine");
}

#[test]
fn a_kept_permit_is_renewed_and_released_by_holder_name_from_another_client() {
    let ns = Namespace::new("sem-kept");
    let client = ns.admin();
    client.create_semaphore("steps", 1, None).expect("create");
    let options = Options::new().holder("script").ttl(Duration::from_secs(30));
    let permit = client
        .acquire_semaphore("steps", &options)
        .expect("acquire");
    let token = permit.token();
    permit.keep();
    let holders = |client: &konductor::Client| {
        let semaphore = client.get_semaphore("steps").expect("get");
        semaphore.status.map(|s| s.holders).unwrap_or_default()
    };
    assert_eq!(holders(&client).len(), 1, "keep does not release");

    // Another client shares nothing with the one that acquired.
    let other = ns.admin();
    let api = other.api::<Semaphore>();
    let renewed = api
        .renew_holder(
            "steps",
            "script",
            Some(token),
            Some(Duration::from_secs(60)),
        )
        .expect("renew by holder name");
    assert_eq!(renewed, token);
    let record = holders(&other).remove(0);
    assert_eq!((record.renew_count, record.ttl.as_str()), (1, "1m0s"));
    assert!(
        matches!(
            api.renew_holder("steps", "script", Some(token + 1), None),
            Err(Error::Lost { .. })
        ),
        "a renewal names the grant by its token"
    );
    api.release_holder("steps", "script", None)
        .expect("release by holder name");
    assert!(holders(&other).is_empty(), "released");
    match api.release_holder("steps", "script", Some(token)) {
        Err(Error::Lost { holder, .. }) => assert_eq!(holder, "script"),
        other => panic!("expected Lost for a holder that holds nothing, got {other:?}"),
    }
    match api.release_holder("gone", "script", None) {
        Err(Error::NotFound { name, .. }) => assert_eq!(name, "gone"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}
