//! A loopback HTTP CONNECT proxy that injects network faults at random: lost answers, late answers and outages.
//!
//! The client speaks TLS through the tunnel, so the proxy cannot read a
//! request; it sees only who sent bytes last. When the server starts sending
//! after the client has sent something, that is the start of an answer (to a
//! request, or to a TLS handshake message). The proxy then, at random:
//!
//! - **loses the answer**: it closes both sides of the tunnel instead of
//!   forwarding it. The server has executed the request; the client gets a
//!   connection error and cannot know whether it was applied.
//! - **delays the answer** by up to a bound before forwarding it.
//!
//! The first answer of each tunnel is the server's side of the TLS handshake,
//! before any request: it is never lost or delayed, so every loss counted is
//! the loss of an answer to a request the server received.
//!
//! [`FaultyProxy::outage`] models an API server restart as the client sees
//! it: every open tunnel is cut and new connections are reset for a while.
//!
//! HTTP status faults (503/429 with `Retry-After`) would need a proxy that
//! terminates TLS; this one does not, so overload shows up here only as lost
//! or late answers and refused connections.
//!
//! Faults are drawn from a seeded xorshift generator. Thread scheduling
//! decides which answer meets which draw, so a seed does not replay a run
//! exactly, but it is printed so that a run's fault rates can be repeated.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use konductor::Client;

use crate::proxy::client_via;

/// A xorshift64* generator: small, seeded, std only.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (any value; it is mixed first, so 0 works too).
    pub fn new(seed: u64) -> XorShift {
        // splitmix64 of the seed, so that close seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)).max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform duration in `[low, high]`.
    pub fn between(&mut self, low: Duration, high: Duration) -> Duration {
        low + (high.saturating_sub(low)).mul_f64(self.unit())
    }
}

/// The seed of a run: `KONDUCTOR_FAULT_SEED` when set, else from the clock.
pub fn seed() -> u64 {
    std::env::var("KONDUCTOR_FAULT_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// How often the proxy hurts an answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Probability that an answer is lost: the tunnel is closed instead.
    pub lose: f64,
    /// Probability that an answer is held back before it is forwarded.
    pub delay: f64,
    /// The longest hold-back; each delay is uniform up to it.
    pub max_delay: Duration,
}

/// What the proxy did so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Tunnels opened to the server.
    pub tunnels: u64,
    /// Connections reset during an outage.
    pub refused: u64,
    /// Answers to requests seen (the handshake's not counted).
    pub answers: u64,
    /// Answers lost (tunnel closed instead).
    pub lost: u64,
    /// Answers delayed.
    pub delayed: u64,
    /// Outages started.
    pub outages: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tunnels, {} answers: {} lost, {} delayed; {} outages, {} connections reset",
            self.tunnels, self.answers, self.lost, self.delayed, self.outages, self.refused
        )
    }
}

#[derive(Default)]
struct Counters {
    tunnels: AtomicU64,
    refused: AtomicU64,
    answers: AtomicU64,
    lost: AtomicU64,
    delayed: AtomicU64,
    outages: AtomicU64,
}

struct Shared {
    faults: Faults,
    rng: Mutex<XorShift>,
    /// New connections are reset until then.
    outage_until: Mutex<Option<Instant>>,
    /// Both sockets of every open tunnel, by tunnel number, to cut them.
    open: Mutex<HashMap<u64, [TcpStream; 2]>>,
    next_tunnel: AtomicU64,
    stopped: AtomicBool,
    counters: Counters,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What happens to one answer.
enum Fate {
    Forward,
    Delay(Duration),
    Lose,
}

impl Shared {
    fn fate(&self) -> Fate {
        let mut rng = lock(&self.rng);
        if rng.chance(self.faults.lose) {
            Fate::Lose
        } else if rng.chance(self.faults.delay) {
            Fate::Delay(rng.between(Duration::ZERO, self.faults.max_delay))
        } else {
            Fate::Forward
        }
    }

    fn in_outage(&self) -> bool {
        lock(&self.outage_until).is_some_and(|until| Instant::now() < until)
    }

    fn cut(&self, id: u64) {
        if let Some(sockets) = lock(&self.open).remove(&id) {
            for socket in sockets {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
    }

    fn cut_all(&self) {
        for (_, sockets) in lock(&self.open).drain() {
            for socket in sockets {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The proxy; it stops (and cuts every tunnel) when dropped.
pub struct FaultyProxy {
    /// `http://127.0.0.1:PORT`, for `Config::with_proxy`.
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultyProxy {
    /// Starts the proxy on a free loopback port, drawing faults from `seed`.
    pub fn start(faults: Faults, seed: u64) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let shared = Arc::new(Shared {
            faults,
            rng: Mutex::new(XorShift::new(seed)),
            outage_until: Mutex::new(None),
            open: Mutex::default(),
            next_tunnel: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            counters: Counters::default(),
        });
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let accepting = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    return;
                }
                if accepting.in_outage() {
                    // Closed with the CONNECT request unread: the client sees a reset.
                    accepting.counters.refused.fetch_add(1, Ordering::Relaxed);
                    drop(client);
                    continue;
                }
                let shared = accepting.clone();
                thread::spawn(move || tunnel(client, &shared));
            }
        });
        FaultyProxy { url, shared }
    }

    /// An admin client of `namespace` whose every request goes through this
    /// proxy; None when the admin kubeconfig has no CA and bearer token to reuse.
    pub fn client(&self, namespace: &str) -> Option<Client> {
        client_via(&self.url, namespace)
    }

    /// Starts an outage now, like an API server restart: cuts every open
    /// tunnel and resets new connections for `length`. Returns at once.
    pub fn outage(&self, length: Duration) {
        *lock(&self.shared.outage_until) = Some(Instant::now() + length);
        self.shared.counters.outages.fetch_add(1, Ordering::Relaxed);
        self.shared.cut_all();
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            tunnels: c.tunnels.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            answers: c.answers.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            delayed: c.delayed.load(Ordering::Relaxed),
            outages: c.outages.load(Ordering::Relaxed),
        }
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.cut_all();
        // Wake the accept loop so that it sees the flag and ends.
        if let Some(address) = self.url.strip_prefix("http://") {
            let _ = TcpStream::connect(address);
        }
    }
}

/// Reads the CONNECT request up to its blank line, byte by byte so that
/// nothing the client sends after it (its TLS hello) is consumed here.
fn connect_target(client: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || client.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let target = head
        .strip_prefix("CONNECT ")?
        .split_whitespace()
        .next()?
        .to_owned();
    Some(target)
}

/// Serves one CONNECT request: opens the tunnel and forwards both ways,
/// injecting faults into the server's answers.
fn tunnel(mut client: TcpStream, shared: &Arc<Shared>) -> Option<()> {
    let target = connect_target(&mut client)?;
    let upstream = TcpStream::connect(&target).ok()?;
    // Forward each TLS record at once, as a router would.
    client.set_nodelay(true).ok()?;
    upstream.set_nodelay(true).ok()?;
    let id = shared.next_tunnel.fetch_add(1, Ordering::Relaxed);
    lock(&shared.open).insert(id, [client.try_clone().ok()?, upstream.try_clone().ok()?]);
    if shared.stopped.load(Ordering::SeqCst) || shared.in_outage() {
        shared.cut(id);
        return None;
    }
    shared.counters.tunnels.fetch_add(1, Ordering::Relaxed);
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .ok()?;
    // Set by the client's bytes, taken by the first server bytes after them.
    let asked = Arc::new(AtomicBool::new(false));
    let answers = {
        let (shared, asked) = (shared.clone(), asked.clone());
        let (from, to) = (upstream.try_clone().ok()?, client.try_clone().ok()?);
        thread::spawn(move || forward_answers(id, from, to, &asked, &shared))
    };
    let mut buffer = [0u8; 16 * 1024];
    let (mut from, mut to) = (client, upstream);
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                asked.store(true, Ordering::SeqCst);
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    shared.cut(id);
    let _ = answers.join();
    Some(())
}

/// Copies the server's bytes to the client, deciding the fate of each answer.
fn forward_answers(
    id: u64,
    mut from: TcpStream,
    mut to: TcpStream,
    asked: &AtomicBool,
    shared: &Shared,
) {
    let mut buffer = [0u8; 16 * 1024];
    let mut exchanges = 0u64;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if asked.swap(false, Ordering::SeqCst) {
            exchanges += 1;
            // The first is the handshake: nothing was requested yet.
            if exchanges > 1 {
                shared.counters.answers.fetch_add(1, Ordering::Relaxed);
                match shared.fate() {
                    Fate::Forward => {}
                    Fate::Delay(delay) => {
                        shared.counters.delayed.fetch_add(1, Ordering::Relaxed);
                        thread::sleep(delay);
                    }
                    Fate::Lose => {
                        shared.counters.lost.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    shared.cut(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_seeded_and_roughly_uniform() {
        let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(XorShift::new(7).next_u64(), XorShift::new(8).next_u64());
        let hits = (0..100_000).filter(|_| a.chance(0.1)).count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
        let d = a.between(Duration::from_millis(2), Duration::from_millis(5));
        assert!(Duration::from_millis(2) <= d && d <= Duration::from_millis(5));
    }
}
