//! At 500 semaphores whose holders stopped renewing, with barriers and gates
//! besides, the operator keeps one connection to the API server, reports
//! every reclaim in an Event, reclaims every semaphore soon after its
//! holders expired, and a restart that finds nothing to fix writes nothing.
//! (`operator/benches/scale/` measures the same run at 10,000.)

use std::time::Duration;

use konductor_tests::fleet::Fleet;
use konductor_tests::namespace::Namespace;
use konductor_tests::scale::Run;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::ms;

/// Connections to the API server: the one HTTP/2 connection every request
/// shares, and a second while a broken one is replaced.
const MAX_CONNECTIONS: usize = 2;
/// The latest a semaphore may be reclaimed after its holders expired: the
/// 500 reclaims take a few seconds on a quiet machine; this leaves room for
/// a loaded, shared one.
const MAX_LATENESS: Duration = Duration::from_secs(30);

#[test]
fn five_hundred_semaphores_cost_one_connection_an_event_per_reclaim_and_no_write_on_restart() {
    let _serial = one_at_a_time();
    let ns = Namespace::new("op-scale");
    let fleet = Fleet::new(500, Duration::from_secs(3));
    let run = Run {
        fleet,
        flags: Vec::new(),
        idle: Duration::from_secs(2),
        limit: Duration::from_secs(90),
        threads: 8,
        restart: true,
    };
    let report = run.run(&ns);
    println!(
        "{} objects created in {:.0}ms; all {} holders reclaimed {:.0}ms after the start \
         ({:.0} semaphores/s), fields derived after {:.0}ms; lateness after expiry \
         p50 {:.2}s, p99 {:.2}s, max {:.2}s\nstart: {:?}\nrestart: {:?}",
        fleet.objects(),
        ms(report.created),
        fleet.holders(),
        ms(report.reclaimed),
        report.reclaim_rate(),
        ms(report.derived),
        report.lateness.quantile(0.5),
        report.lateness.quantile(0.99),
        report.lateness.max(),
        report.start,
        report.restart
    );
    let restart = report
        .restart
        .as_ref()
        .expect("the run restarts the operator");
    for (phase, figures) in [("start", &report.start), ("restart", restart)] {
        assert!(
            figures.peak_connections <= MAX_CONNECTIONS,
            "expected at most {MAX_CONNECTIONS} connections to the API server at the {phase}, \
             saw {}",
            figures.peak_connections
        );
    }
    assert_eq!(
        (restart.writes, restart.operator_writes),
        (0, 0),
        "expected no status write (API server's count, operator's count) from a restart \
         with nothing to fix"
    );
    assert!(
        report.start.writes <= fleet.objects() as u64,
        "expected at most one status write per object, saw {} for {} objects",
        report.start.writes,
        fleet.objects()
    );
    let reclaims = fleet.semaphores as u64;
    assert_eq!(
        (
            report.start.events_published,
            report.start.events_failed,
            report.start.events_dropped
        ),
        (reclaims, 0, 0),
        "expected every one of the {reclaims} reclaims published as an Event (published, failed, dropped)"
    );
    assert_eq!(
        report.reclaim_events, fleet.semaphores,
        "expected one Reclaimed Event per reclaimed semaphore in the namespace"
    );
    assert_eq!(
        report.lateness.missing, 0,
        "expected a Reclaimed Event with its time for every semaphore"
    );
    assert!(
        report.lateness.max() <= MAX_LATENESS.as_secs_f64(),
        "expected every semaphore reclaimed within {MAX_LATENESS:?} of its holders' expiry \
         (the operator's start plus their TTL), the latest came {:.1}s after it",
        report.lateness.max()
    );
}
