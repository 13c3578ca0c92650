//! The operator at scale (issue 14). For each M: M Semaphores (10 permits,
//! holders' TTL 20 s) with 3 holders each that stopped renewing, M/10
//! Barriers and M/10 Gates, created in a namespace of their own; then the
//! API server's write ceiling measured (`ceiling.rs`); then the operator
//! (this build's binary) started on that namespace and read until every
//! holder is reclaimed, every derived field is right and it has been idle a
//! while; then killed, and a second one started that finds nothing to fix.
//! Then the same again with the holders' expiries staggered (no restart):
//! created with a long TTL, they are renewed a last time (with the 20 s TTL)
//! once the operator has looked at every object, one semaphore after
//! another at a steady rate (`writer.rs`), so that they expire at that rate
//! instead of all at once.
//!
//! Prints two tables: the all-at-once runs (times, the reclaim rate, memory,
//! connections to the API server, CPU, status writes and conflicts as the
//! API server's own `apiserver_request_total` counts them, Events, and the
//! restart's figures); and for every run the ceiling, the reclaim rate over
//! it, and how late each semaphore was reclaimed after its holders' expiry
//! (from the `eventTime` of its `Reclaimed` Event, see
//! `konductor_tests::scale::Lateness`).
//!
//! Needs the local control plane (`tests/cluster/up`, started if needed) or
//! `KONDUCTOR_TEST_KUBECONFIG`; run nothing else against it meanwhile, as
//! the write counts are the server's. Run
//!
//! ```sh
//! cargo bench -p konductor-operator --bench scale
//! KONDUCTOR_OPERATOR_SCALE_M=500 cargo bench -p konductor-operator --bench scale
//! ```
//!
//! Settings (environment): `KONDUCTOR_OPERATOR_SCALE_M` (semaphores per run,
//! default `1000,10000`), `KONDUCTOR_OPERATOR_SCALE_TTL_S` (20),
//! `KONDUCTOR_OPERATOR_SCALE_FLAGS` (extra operator flags, space-separated,
//! e.g. `--max-concurrent-reconciles 16`), `KONDUCTOR_OPERATOR_SCALE_IDLE_S`
//! (how long it idles before the idle figures, 15),
//! `KONDUCTOR_OPERATOR_SCALE_STAGGER_RATE` (semaphores expiring per second
//! in the staggered runs, 100, so 10 s for 1,000 and 100 s for 10,000; 0
//! skips them), `KONDUCTOR_OPERATOR_SCALE_PROBE_WRITES` (writes per
//! ceiling measurement, 2000; 0 skips it), `KONDUCTOR_OPERATOR_SCALE_AT_ONCE`
//! (1; 0 skips the runs whose holders expire at once). Every phase is bounded (10
//! minutes); the operator processes are killed when a run ends or panics.

mod writer;

use std::time::Duration;

use konductor_tests::fleet::{Fleet, HOLDERS};
use konductor_tests::namespace::Namespace;
use konductor_tests::scale::{LastRenewals, Phase, Report, Run};

use writer::Ceiling;

/// The operator's default `--max-concurrent-reconciles`.
const DEFAULT_CONCURRENCY: usize = 8;

/// One run and what it measured.
struct Measured {
    report: Report,
    ceiling: Option<Ceiling>,
    load: String,
}

fn main() {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let sizes: Vec<usize> = var("KONDUCTOR_OPERATOR_SCALE_M")
        .unwrap_or_else(|| "1000,10000".to_owned())
        .split(',')
        .map(|m| {
            m.trim()
                .parse()
                .expect("KONDUCTOR_OPERATOR_SCALE_M: numbers")
        })
        .collect();
    let seconds = |name: &str, default: u64| {
        Duration::from_secs(var(name).map_or(default, |v| v.parse().expect(name)))
    };
    let ttl = seconds("KONDUCTOR_OPERATOR_SCALE_TTL_S", 20);
    let idle = seconds("KONDUCTOR_OPERATOR_SCALE_IDLE_S", 15);
    let flags: Vec<String> = var("KONDUCTOR_OPERATOR_SCALE_FLAGS")
        .map(|f| f.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let number = |name: &str, default: usize| var(name).map_or(default, |v| v.parse().expect(name));
    let stagger_rate = number("KONDUCTOR_OPERATOR_SCALE_STAGGER_RATE", 100);
    let probe_writes = number("KONDUCTOR_OPERATOR_SCALE_PROBE_WRITES", 2000);
    let concurrency = concurrency(&flags);
    let at_once = number("KONDUCTOR_OPERATOR_SCALE_AT_ONCE", 1) != 0;

    let mut together = Vec::new();
    let mut all = Vec::new();
    for m in sizes {
        let mut fleets = Vec::new();
        if at_once {
            fleets.push(Fleet::new(m, ttl));
        }
        if stagger_rate > 0 {
            let spread = Duration::from_secs_f64(m as f64 / stagger_rate as f64);
            fleets.push(Fleet::new(m, ttl).staggered(spread));
        }
        for fleet in fleets {
            let ns = Namespace::new("op-bench");
            eprintln!(
                "M = {m}, last renewals spread over {:?}: creating the objects in {}",
                fleet.spread, ns.name
            );
            let run = Run {
                fleet,
                flags: flags.clone(),
                idle,
                limit: Duration::from_secs(600),
                threads: 8,
                restart: fleet.spread.is_zero(),
            };
            let created = run.create(&ns);
            let ceiling = (probe_writes > 0).then(|| {
                let c = writer::ceiling(&ns.name, probe_writes, concurrency);
                eprintln!("{c:?}");
                c
            });
            let renewals: Option<LastRenewals> = (!fleet.spread.is_zero())
                .then(|| Box::new(|| writer::last_renewals(&ns.name, fleet)) as LastRenewals);
            let report = run.operate(&ns, created, renewals);
            log_report(&report);
            let measured = Measured {
                report,
                ceiling,
                load: load_average(),
            };
            if fleet.spread.is_zero() {
                together.push(measured.report.clone());
            }
            all.push(measured);
        }
    }
    print_table(&together, ttl, &flags);
    print_lateness(&all, probe_writes, concurrency);
}

/// Writes a report to stderr: its figures, and the lateness of each tenth
/// of the semaphores (in the order of their last renewals when staggered).
fn log_report(report: &Report) {
    let mut brief = report.clone();
    brief.lateness.seconds.clear();
    brief.lateness.by_semaphore.clear();
    eprintln!("{brief:#?}");
    let all = &report.lateness.by_semaphore;
    let tenth = all.len().div_ceil(10).max(1);
    for (n, part) in all.chunks(tenth).enumerate() {
        let mut late: Vec<f64> = part.iter().flatten().copied().collect();
        late.sort_by(f64::total_cmp);
        let at =
            |q: f64| late.get(((q * late.len() as f64) as usize).min(late.len().saturating_sub(1)));
        eprintln!(
            "lateness of semaphores {}..{}: p50 {:.2?} s, p99 {:.2?} s, max {:.2?} s",
            n * tenth,
            n * tenth + part.len(),
            at(0.5),
            at(0.99),
            late.last()
        );
    }
}

/// The reconcile limit that `flags` give the operator.
fn concurrency(flags: &[String]) -> usize {
    let flag = "--max-concurrent-reconciles";
    flags
        .iter()
        .enumerate()
        .find_map(|(i, f)| match f.strip_prefix(flag) {
            Some("") => flags.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        })
        .map_or(DEFAULT_CONCURRENCY, |n| n.parse().expect(flag))
}

/// The load average over the last minute, five and fifteen.
fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// For every run: the ceiling, the reclaim rate over it, and the lateness.
fn print_lateness(runs: &[Measured], probe_writes: usize, concurrency: usize) {
    println!();
    println!(
        "reclaim rate against the API server's ceiling ({probe_writes} guarded status writes of \
         semaphores, {concurrency} at a time, by a plain client before the operator starts; \
         then as many writes each followed by an Event), and lateness (each semaphore's \
         Reclaimed Event after its holders' last renewal, or the operator's start if later, \
         plus their TTL)"
    );
    println!();
    println!(
        "| M | expiries | ceiling: writes / writes + Events | reclaim rate | rate / ceiling \
         (writes / writes + Events) | lateness p50 / p99 / max | load average |"
    );
    println!("|---|---|---|---|---|---|---|");
    for run in runs {
        let r = &run.report;
        let rate = r.reclaim_rate();
        let (ceiling, ratio) = match run.ceiling {
            Some(c) => (
                format!(
                    "{:.0} / {:.0} objects/s{}",
                    c.writes_per_s,
                    c.with_events_per_s,
                    match c.conflicts {
                        0 => String::new(),
                        n => format!(" ({n} conflicts)"),
                    }
                ),
                format!(
                    "{:.2} / {:.2}",
                    rate / c.writes_per_s,
                    rate / c.with_events_per_s
                ),
            ),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let expiries = if r.fleet.spread.is_zero() {
            "at once".to_owned()
        } else {
            format!("over {:.0} s", r.fleet.spread.as_secs_f64())
        };
        let missing = match r.lateness.missing {
            0 => String::new(),
            n => format!(" ({n} without an Event)"),
        };
        println!(
            "| {} | {expiries} | {ceiling} | {rate:.0} objects/s | {ratio} | {:.2} / {:.2} / {:.2} s{missing} | {} |",
            r.fleet.semaphores,
            r.lateness.quantile(0.5),
            r.lateness.quantile(0.99),
            r.lateness.max(),
            run.load,
        );
    }
}

fn print_table(reports: &[Report], ttl: Duration, flags: &[String]) {
    println!(
        "operator scale: semaphores with 3 stale holders each (TTL {}s), barriers and gates M/10 each; \
         operator flags: {}; load average at the end: {}",
        ttl.as_secs(),
        if flags.is_empty() { "defaults".to_owned() } else { flags.join(" ") },
        load_average()
    );
    println!();
    println!(
        "| M | objects | all reclaimed after start | reclaim rate | fields right after start \
         | peak / idle RSS | peak / idle connections | CPU | status writes / conflicts \
         | Events published / failed / dropped | restart: writes, peak connections, peak RSS, CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let s = &r.start;
        println!(
            "| {} | {} | {:.1} s (TTL + {:.1} s) | {:.0} objects/s ({:.0} holders/s) | {:.1} s | {} / {} | {} / {} | {:.1} s \
             | {} / {} | {} / {} / {} | {} |",
            r.fleet.semaphores,
            r.fleet.objects(),
            r.reclaimed.as_secs_f64(),
            r.reclaimed.saturating_sub(ttl).as_secs_f64(),
            r.reclaim_rate(),
            r.reclaim_rate() * HOLDERS as f64,
            r.derived.as_secs_f64(),
            mib(s.peak_rss_kib),
            mib(s.idle_rss_kib),
            s.peak_connections,
            s.idle_connections,
            s.cpu_seconds,
            s.writes,
            s.conflicts,
            s.events_published,
            s.events_failed,
            s.events_dropped,
            r.restart.as_ref().map_or("—".to_owned(), |p| format!(
                "{}, {}, {}, {:.1} s",
                p.writes,
                p.peak_connections,
                mib(p.peak_rss_kib),
                p.cpu_seconds
            )),
        );
    }
    if let [small, .., large] = reports {
        let per_object = |pick: fn(&Phase) -> u64| {
            (pick(&large.start) as f64 - pick(&small.start) as f64)
                / (large.fleet.objects() as f64 - small.fleet.objects() as f64)
        };
        println!();
        println!(
            "memory per object, between M = {} and M = {}: {:.1} KiB at the peak, {:.1} KiB idle",
            small.fleet.semaphores,
            large.fleet.semaphores,
            per_object(|p| p.peak_rss_kib),
            per_object(|p| p.idle_rss_kib),
        );
    }
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}
