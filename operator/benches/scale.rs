//! The operator at scale (issue 14). For each M: M Semaphores (10 permits,
//! holders' TTL 20 s) with 3 holders each that stopped renewing, M/10
//! Barriers and M/10 Gates, created in a namespace of their own; then the
//! operator (this build's binary) started on that namespace and read until
//! every holder is reclaimed, every derived field is right and it has been
//! idle a while; then killed, and a second one started that finds nothing to
//! fix. Prints one table: times, the reclaim rate, memory, connections to
//! the API server, CPU, status writes and conflicts (the API server's own
//! `apiserver_request_total`), Events, and the restart's figures.
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
//! (how long it idles before the idle figures, 15). Every phase is bounded
//! (10 minutes); the operator processes are killed when a run ends or panics.

use std::time::Duration;

use konductor_tests::fleet::Fleet;
use konductor_tests::namespace::Namespace;
use konductor_tests::scale::{Phase, Report, Run};

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

    let mut reports = Vec::new();
    for m in sizes {
        let ns = Namespace::new("op-bench");
        eprintln!("M = {m}: creating the objects in {}", ns.name);
        let run = Run {
            fleet: Fleet::new(m, ttl),
            flags: flags.clone(),
            idle,
            limit: Duration::from_secs(600),
            threads: 8,
        };
        let report = run.run(&ns);
        eprintln!("{report:#?}");
        reports.push(report);
    }
    print_table(&reports, ttl, &flags);
}

fn print_table(reports: &[Report], ttl: Duration, flags: &[String]) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "operator scale: semaphores with 3 stale holders each (TTL {}s), barriers and gates M/10 each; \
         operator flags: {}; load average at the end: {}",
        ttl.as_secs(),
        if flags.is_empty() { "defaults".to_owned() } else { flags.join(" ") },
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
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
            "| {} | {} | {:.1} s (TTL + {:.1} s) | {:.0} holders/s | {:.1} s | {} / {} | {} / {} | {:.1} s \
             | {} / {} | {} / {} / {} | {}, {}, {}, {:.1} s |",
            r.fleet.semaphores,
            r.fleet.objects(),
            r.reclaimed.as_secs_f64(),
            r.reclaimed.saturating_sub(ttl).as_secs_f64(),
            r.reclaim_rate(),
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
            r.restart.writes,
            r.restart.peak_connections,
            mib(r.restart.peak_rss_kib),
            r.restart.cpu_seconds,
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
