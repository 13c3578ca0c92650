//! Killing the operator mid-run and starting it again loses no holder and
//! grants no permit twice: checked against the history the clients record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use konductor::Options;
use konductor_tests::namespace::Namespace;
use konductor_tests::operator::Operator;
use konductor_tests::serial::one_at_a_time;
use konductor_tests::wait::ms;

/// One hold as its holder saw it: from the grant's return to the release call.
#[derive(Debug, Clone)]
struct Hold {
    holder: String,
    token: u64,
    from: Instant,
    to: Instant,
}

#[test]
fn restarting_the_operator_loses_no_holder_and_grants_no_permit_twice() {
    let _serial = one_at_a_time();
    const PERMITS: usize = 2;
    let ns = Namespace::new("op-restart");
    let mut operator = Operator::start(&ns.name, &[]);
    let client = ns.admin();
    client
        .create_semaphore("pool", PERMITS as u32, None)
        .expect("create");

    let history: Arc<Mutex<Vec<Hold>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|i| {
            let client = ns.admin();
            let (history, stop) = (history.clone(), stop.clone());
            thread::spawn(move || {
                // Worker 0 holds across the restart, renewing automatically.
                let hold_for = if i == 0 {
                    Duration::from_millis(3500)
                } else {
                    Duration::from_millis(40)
                };
                while !stop.load(Ordering::Relaxed) {
                    let options = Options::new()
                        .holder(format!("worker-{i}"))
                        .ttl(Duration::from_secs(2))
                        .auto_renew(true)
                        .timeout(Duration::from_secs(30));
                    let permit = client.acquire_semaphore("pool", &options).expect("acquire");
                    let from = Instant::now();
                    thread::sleep(hold_for);
                    assert!(
                        !permit.is_lost(),
                        "worker-{i} lost its permit (token {})",
                        permit.token()
                    );
                    let to = Instant::now();
                    permit
                        .release()
                        .expect("release a permit that is still held");
                    history.lock().unwrap().push(Hold {
                        holder: format!("worker-{i}"),
                        token: permit.token(),
                        from,
                        to,
                    });
                }
            })
        })
        .collect();

    thread::sleep(Duration::from_millis(1500));
    operator.kill();
    let killed = Instant::now();
    thread::sleep(Duration::from_millis(1000));
    let operator = Operator::start(&ns.name, &[]);
    println!(
        "operator restarted after {:.0}ms down",
        ms(killed.elapsed())
    );
    thread::sleep(Duration::from_millis(3000));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a worker failed");
    }

    let history = history.lock().unwrap().clone();
    let mut tokens: Vec<u64> = history.iter().map(|h| h.token).collect();
    tokens.sort_unstable();
    let grants = tokens.len();
    tokens.dedup();
    assert_eq!(
        tokens.len(),
        grants,
        "every grant has its own fencing token"
    );
    let fencing = client
        .get_semaphore("pool")
        .expect("get")
        .status
        .expect("status")
        .fencing_token;
    assert_eq!(
        fencing as usize, grants,
        "the object handed out exactly the grants the clients recorded"
    );
    // At every instant at most PERMITS holds overlap.
    let mut edges: Vec<(Instant, i32)> = history
        .iter()
        .flat_map(|h| [(h.from, 1), (h.to, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut current = 0;
    let mut peak = 0;
    for (_, delta) in edges {
        current += delta;
        peak = peak.max(current);
    }
    assert!(
        peak <= PERMITS as i32,
        "{peak} holders at once on {PERMITS} permits"
    );
    assert!(
        history.iter().any(|h| h.holder == "worker-0"),
        "the long holder finished a hold across the restart"
    );
    assert_eq!(
        operator.metric("konductor_reclaimed_total{kind=\"Semaphore\",record=\"holder\"}"),
        None,
        "the restarted operator reclaimed no live holder"
    );
    println!("{grants} grants, peak {peak} concurrent holders, no loss across the restart");
}
