//! A loopback HTTPS proxy that injects faults at random: lost answers, late answers, outages, and bursts of 429/503 answers.
//!
//! The proxy terminates TLS with a certificate of its own (from a CA made
//! for the run, which its clients trust) and speaks TLS again to the API
//! server, so it sees every request and answer. For each request it decides:
//!
//! - during a **burst** ([`FaultyProxy::burst`]), it may answer the request
//!   itself with `429 Too Many Requests` or `503 Service Unavailable` and
//!   `Retry-After: 1`, in the API server's own `Status` shape, without
//!   forwarding it: the server never sees it, as when the API server sheds
//!   load (priority and fairness) or starts up before its paths are served;
//! - it **loses the answer**: it forwards the request, waits for the
//!   answer, then closes the client's connection instead of passing it on.
//!   The server has executed the request; the client cannot know whether
//!   it was applied;
//! - it **delays the answer** by up to a bound before passing it on.
//!
//! [`FaultyProxy::outage`] models an API server restart as the client sees
//! it: every open connection is cut and new ones are reset for a while.
//!
//! Faults are drawn from a seeded xorshift generator. Thread scheduling
//! decides which request meets which draw, so a seed does not replay a run
//! exactly, but it is printed so that a run's fault rates can be repeated.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use konductor::{Client, Config};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
};

use crate::kubeconfig::admin_access;

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
    /// Probability that an answer is lost: the connection is closed instead.
    pub lose: f64,
    /// Probability that an answer is held back before it is passed on.
    pub delay: f64,
    /// The longest hold-back; each delay is uniform up to it.
    pub max_delay: Duration,
}

/// What the proxy did so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Connections accepted from clients.
    pub connections: u64,
    /// Connections reset during an outage.
    pub refused: u64,
    /// Requests received.
    pub requests: u64,
    /// Answers lost (connection closed instead).
    pub lost: u64,
    /// Answers delayed.
    pub delayed: u64,
    /// Outages started.
    pub outages: u64,
    /// Bursts started.
    pub bursts: u64,
    /// Requests answered 429 by the proxy, unforwarded.
    pub too_many: u64,
    /// Requests answered 503 by the proxy, unforwarded.
    pub unavailable: u64,
    /// Answers of the API server itself with status 429 or 5xx.
    pub server_busy: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections, {} requests: {} answers lost, {} delayed, {} answered 429 and {} answered 503 \
             by the proxy in {} bursts; {} outages, {} connections reset; {} answers 429/5xx from the server",
            self.connections,
            self.requests,
            self.lost,
            self.delayed,
            self.too_many,
            self.unavailable,
            self.bursts,
            self.outages,
            self.refused,
            self.server_busy
        )
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    refused: AtomicU64,
    requests: AtomicU64,
    lost: AtomicU64,
    delayed: AtomicU64,
    outages: AtomicU64,
    bursts: AtomicU64,
    too_many: AtomicU64,
    unavailable: AtomicU64,
    server_busy: AtomicU64,
}

/// A burst under way: until when, and the share of requests it refuses.
#[derive(Clone, Copy)]
struct Burst {
    until: Instant,
    share: f64,
}

struct Shared {
    faults: Faults,
    rng: Mutex<XorShift>,
    /// New connections are reset until then.
    outage_until: Mutex<Option<Instant>>,
    burst: Mutex<Option<Burst>>,
    /// The TCP socket of every open client connection and its upstream, to cut them.
    open: Mutex<HashMap<u64, Vec<TcpStream>>>,
    next_connection: AtomicU64,
    stopped: AtomicBool,
    counters: Counters,
    /// The API server: `host:port`, its name for TLS, and how to reach it.
    upstream: String,
    upstream_name: ServerName<'static>,
    upstream_tls: Arc<ClientConfig>,
    tls: Arc<ServerConfig>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What happens to one request.
enum Fate {
    /// Answered by the proxy with this status, never forwarded.
    Refuse(u16),
    Forward,
    Delay(Duration),
    Lose,
}

impl Shared {
    fn fate(&self) -> Fate {
        let burst = *lock(&self.burst);
        let mut rng = lock(&self.rng);
        if let Some(burst) = burst.filter(|b| Instant::now() < b.until) {
            if rng.chance(burst.share) {
                return Fate::Refuse(if rng.chance(0.5) { 429 } else { 503 });
            }
        }
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

    fn track(&self, id: u64, socket: &TcpStream) {
        if let Ok(clone) = socket.try_clone() {
            lock(&self.open).entry(id).or_default().push(clone);
        }
    }

    fn cut(&self, id: u64) {
        for socket in lock(&self.open).remove(&id).unwrap_or_default() {
            let _ = socket.shutdown(Shutdown::Both);
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

/// The proxy; it stops (and cuts every connection) when dropped.
pub struct FaultyProxy {
    /// `https://127.0.0.1:PORT`: the server URL its clients use.
    pub url: String,
    /// The CA its clients trust (it signed the proxy's certificate).
    ca_pem: Vec<u8>,
    token: String,
    shared: Arc<Shared>,
}

impl FaultyProxy {
    /// Starts the proxy on a free loopback port in front of the test
    /// cluster's API server, drawing faults from `seed`; None when the
    /// admin kubeconfig has no CA and bearer token to reuse.
    pub fn start(faults: Faults, seed: u64) -> Option<FaultyProxy> {
        FaultyProxy::in_front_of(&admin_access().server, faults, seed)
    }

    /// The same, in front of the API server at `server` (with the test
    /// cluster's CA and admin token).
    pub fn in_front_of(server: &str, faults: Faults, seed: u64) -> Option<FaultyProxy> {
        let access = admin_access();
        let (server_ca, token) = (access.ca_pem?, access.token?);
        let upstream = server
            .strip_prefix("https://")
            .expect("the API server URL is https")
            .to_owned();
        let host = upstream
            .rsplit_once(':')
            .map_or(upstream.as_str(), |(host, _)| host)
            .trim_matches(['[', ']']);
        let upstream_name = ServerName::try_from(host.to_owned()).expect("API server host");
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&server_ca) {
            roots.add(cert.expect("CA PEM")).expect("CA certificate");
        }
        let upstream_tls = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let pki = pki();
        let tls = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                CertificateDer::pem_file_iter(&pki.cert)
                    .expect("proxy certificate")
                    .collect::<Result<_, _>>()
                    .expect("proxy certificate PEM"),
                PrivateKeyDer::from_pem_file(&pki.key).expect("proxy key"),
            )
            .expect("proxy TLS configuration");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let shared = Arc::new(Shared {
            faults,
            rng: Mutex::new(XorShift::new(seed)),
            outage_until: Mutex::new(None),
            burst: Mutex::new(None),
            open: Mutex::default(),
            next_connection: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            counters: Counters::default(),
            upstream,
            upstream_name,
            upstream_tls: Arc::new(upstream_tls),
            tls: Arc::new(tls),
        });
        let url = format!("https://{}", listener.local_addr().expect("proxy address"));
        let accepting = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    return;
                }
                if accepting.in_outage() {
                    // Closed unread: the client sees a reset.
                    accepting.counters.refused.fetch_add(1, Ordering::Relaxed);
                    drop(client);
                    continue;
                }
                let shared = accepting.clone();
                thread::spawn(move || serve(client, &shared));
            }
        });
        Some(FaultyProxy {
            url,
            ca_pem: std::fs::read(&pki.ca).expect("proxy CA"),
            token,
            shared,
        })
    }

    /// An admin client of `namespace` whose every request goes through this proxy.
    pub fn client(&self, namespace: &str) -> Client {
        let config = Config::new(&self.url)
            .expect("proxy URL")
            .with_ca_pem(&self.ca_pem)
            .with_token(&self.token)
            .with_namespace(namespace);
        Client::new(Some(config)).expect("client through the proxy")
    }

    /// Starts an outage now, like an API server restart: cuts every open
    /// connection and resets new ones for `length`. Returns at once.
    pub fn outage(&self, length: Duration) {
        *lock(&self.shared.outage_until) = Some(Instant::now() + length);
        self.shared.counters.outages.fetch_add(1, Ordering::Relaxed);
        self.shared.cut_all();
    }

    /// Starts a burst now, like an overloaded or starting API server: for
    /// `length`, each request is answered 429 or 503 (as likely) with
    /// `Retry-After: 1` with probability `share`, without being forwarded.
    /// Returns at once.
    pub fn burst(&self, length: Duration, share: f64) {
        *lock(&self.shared.burst) = Some(Burst {
            until: Instant::now() + length,
            share,
        });
        self.shared.counters.bursts.fetch_add(1, Ordering::Relaxed);
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            connections: read(&c.connections),
            refused: read(&c.refused),
            requests: read(&c.requests),
            lost: read(&c.lost),
            delayed: read(&c.delayed),
            outages: read(&c.outages),
            bursts: read(&c.bursts),
            too_many: read(&c.too_many),
            unavailable: read(&c.unavailable),
            server_busy: read(&c.server_busy),
        }
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.cut_all();
        // Wake the accept loop so that it sees the flag and ends.
        if let Some(address) = self.url.strip_prefix("https://") {
            let _ = TcpStream::connect(address);
        }
    }
}

/// The proxy's certificate and key, and the CA that signed it.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Makes the proxy's CA and certificate (for IP 127.0.0.1) with the
/// `openssl` command, once per process, in a temporary directory.
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("konductor-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let ext = dir.join("ext.cnf");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write the extensions file");
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let steps: [Vec<String>; 3] = [
            [
                &["req", "-x509"][..],
                &ec,
                &["-days", "1", "-subj", "/CN=konductor-faults-ca"],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .chain([
                "-keyout".into(),
                path("ca.key"),
                "-out".into(),
                path("ca.crt"),
            ])
            .collect(),
            [&["req"][..], &ec, &["-subj", "/CN=127.0.0.1"]]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .chain([
                    "-keyout".into(),
                    path("proxy.key"),
                    "-out".into(),
                    path("proxy.csr"),
                ])
                .collect(),
            ["x509", "-req", "-days", "1", "-set_serial", "1"]
                .iter()
                .map(|s| s.to_string())
                .chain([
                    "-in".into(),
                    path("proxy.csr"),
                    "-CA".into(),
                    path("ca.crt"),
                    "-CAkey".into(),
                    path("ca.key"),
                    "-extfile".into(),
                    path("ext.cnf"),
                    "-out".into(),
                    path("proxy.crt"),
                ])
                .collect(),
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(&args)
                .output()
                .expect("run openssl (a prerequisite of the tests)");
            assert!(
                output.status.success(),
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Pki {
            ca: dir.join("ca.crt"),
            cert: dir.join("proxy.crt"),
            key: dir.join("proxy.key"),
        }
    })
}

/// The start of an HTTP message: its first line and headers as received.
struct Head {
    raw: Vec<u8>,
    /// The status code, for an answer.
    status: Option<u16>,
    content_length: Option<u64>,
    chunked: bool,
    close: bool,
}

/// The longest message head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;

/// Reads a message head; None at the end of the stream or on a malformed head.
fn read_head(from: &mut impl BufRead) -> Option<Head> {
    let mut raw = Vec::new();
    let mut head = Head {
        raw: Vec::new(),
        status: None,
        content_length: None,
        chunked: false,
        close: false,
    };
    let mut first = true;
    loop {
        let mut line = Vec::new();
        if from.read_until(b'\n', &mut line).ok()? == 0 || raw.len() + line.len() > MAX_HEAD {
            return None;
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if first {
            first = false;
            if let Some(rest) = text.strip_prefix("HTTP/1.1 ") {
                head.status = rest.get(..3).and_then(|code| code.parse().ok());
            }
            continue;
        }
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':')?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => head.content_length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => head.close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    head.raw = raw;
    Some(head)
}

/// Copies the body of the message `head` starts, flushing each chunk as it
/// comes (a watch is a long chunked answer); `until_close` for an answer
/// with neither length nor chunks.
fn copy_body(
    head: &Head,
    from: &mut impl BufRead,
    to: &mut impl Write,
    until_close: bool,
) -> Option<()> {
    if matches!(head.status, Some(100..=199 | 204 | 304)) {
        return Some(());
    }
    if head.chunked {
        loop {
            let mut line = Vec::new();
            if from.read_until(b'\n', &mut line).ok()? == 0 {
                return None;
            }
            to.write_all(&line).ok()?;
            let size = String::from_utf8_lossy(&line);
            let size = size.split(';').next()?.trim();
            let size = u64::from_str_radix(size, 16).ok()?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut line = Vec::new();
                    if from.read_until(b'\n', &mut line).ok()? == 0 {
                        return None;
                    }
                    to.write_all(&line).ok()?;
                    if line == b"\r\n" {
                        return to.flush().ok();
                    }
                }
            }
            // The chunk and its CRLF.
            let copied = std::io::copy(&mut from.take(size + 2), to).ok()?;
            if copied != size + 2 {
                return None;
            }
            to.flush().ok()?;
        }
    }
    match head.content_length {
        Some(length) => {
            let copied = std::io::copy(&mut from.take(length), to).ok()?;
            (copied == length).then_some(())?;
        }
        None if until_close => {
            std::io::copy(from, to).ok()?;
        }
        None => {}
    }
    to.flush().ok()
}

/// The answer the proxy gives itself to a refused request, shaped like the
/// API server's own.
fn refusal(status: u16) -> Vec<u8> {
    let (text, reason, message) = match status {
        429 => (
            "Too Many Requests",
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        _ => (
            "Service Unavailable",
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
    };
    let body = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{message}","reason":"{reason}","details":{{"retryAfterSeconds":1}},"code":{status}}}"#
    );
    format!(
        "HTTP/1.1 {status} {text}\r\nContent-Type: application/json\r\nRetry-After: 1\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

type Upstream = BufReader<StreamOwned<ClientConnection, TcpStream>>;

/// Opens a connection to the API server for the client connection `id`.
fn connect_upstream(id: u64, shared: &Shared) -> Option<Upstream> {
    let socket = TcpStream::connect(&shared.upstream).ok()?;
    socket.set_nodelay(true).ok()?;
    shared.track(id, &socket);
    let tls =
        ClientConnection::new(shared.upstream_tls.clone(), shared.upstream_name.clone()).ok()?;
    Some(BufReader::new(StreamOwned::new(tls, socket)))
}

/// Serves one client connection, request by request (HTTP/1.1, one at a
/// time), until either side closes, an answer is lost or an outage cuts it.
fn serve(client: TcpStream, shared: &Shared) {
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    shared.track(id, &client);
    if shared.stopped.load(Ordering::SeqCst) || shared.in_outage() {
        shared.cut(id);
        return;
    }
    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
    let _ = client.set_nodelay(true);
    if let Ok(tls) = ServerConnection::new(shared.tls.clone()) {
        let mut down = BufReader::new(StreamOwned::new(tls, client));
        let mut up = None;
        while exchange(id, &mut down, &mut up, shared).is_some() {}
    }
    shared.cut(id);
}

/// Passes one request on and its answer back, or refuses it; None when the
/// connection is to be closed.
fn exchange(
    id: u64,
    down: &mut BufReader<StreamOwned<ServerConnection, TcpStream>>,
    up: &mut Option<Upstream>,
    shared: &Shared,
) -> Option<()> {
    let request = read_head(down)?;
    let mut body = Vec::new();
    copy_body(&request, down, &mut body, false)?;
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    let fate = shared.fate();
    if let Fate::Refuse(status) = fate {
        let counter = match status {
            429 => &shared.counters.too_many,
            _ => &shared.counters.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let out = down.get_mut();
        out.write_all(&refusal(status)).ok()?;
        return out.flush().ok();
    }
    if up.is_none() {
        *up = Some(connect_upstream(id, shared)?);
    }
    let server = up.as_mut()?;
    let out = server.get_mut();
    out.write_all(&request.raw).ok()?;
    out.write_all(&body).ok()?;
    out.flush().ok()?;
    let answer = read_head(server)?;
    if answer.status.is_some_and(|code| code == 429 || code >= 500) {
        shared.counters.server_busy.fetch_add(1, Ordering::Relaxed);
    }
    match fate {
        Fate::Lose => {
            shared.counters.lost.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Fate::Delay(delay) => {
            shared.counters.delayed.fetch_add(1, Ordering::Relaxed);
            thread::sleep(delay);
        }
        Fate::Forward | Fate::Refuse(_) => {}
    }
    let client = down.get_mut();
    client.write_all(&answer.raw).ok()?;
    copy_body(&answer, server, client, true)?;
    (!answer.close && !request.close).then_some(())
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
