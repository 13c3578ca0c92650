//! The tiny HTTP endpoint for `/metrics`, `/healthz` and `/readyz`, on a plain thread.
//!
//! Requests are a handful per scrape interval, so one thread answering them in
//! turn is plenty, and it keeps an HTTP framework out of the dependency tree.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// What the endpoint reports on.
pub struct Health {
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Set once the process can do its job: standing by, or leading with
    /// its controllers started.
    pub ready: AtomicBool,
}

/// Binds `addr` and answers requests on a background thread; returns the bound address.
pub fn serve(addr: &str, health: Arc<Health>) -> Result<SocketAddr> {
    let listener =
        TcpListener::bind(addr).map_err(|e| Error::io(format!("listen on {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("read the metrics listener address", e))?;
    thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(error) = answer(stream, &health) {
                    tracing::debug!(%error, "metrics request failed");
                }
            }
        })
        .map_err(|e| Error::io("start the metrics thread", e))?;
    Ok(local)
}

fn answer(stream: TcpStream, health: &Health) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers so the client sees a clean close.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let (status, content_type, body) = match path {
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4",
            health.metrics.render(),
        ),
        "/healthz" | "/livez" => ("200 OK", "text/plain", "ok\n".to_owned()),
        "/readyz" if health.ready.load(Ordering::Relaxed) => {
            ("200 OK", "text/plain", "ok\n".to_owned())
        }
        "/readyz" => (
            "503 Service Unavailable",
            "text/plain",
            "not ready\n".to_owned(),
        ),
        _ => ("404 Not Found", "text/plain", "not found\n".to_owned()),
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn answers_health_readiness_and_metrics() {
        let health = Arc::new(Health {
            metrics: Arc::default(),
            ready: AtomicBool::new(false),
        });
        let addr = serve("127.0.0.1:0", health.clone()).unwrap();
        assert!(get(addr, "/healthz").starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/readyz").starts_with("HTTP/1.1 503"));
        health.ready.store(true, Ordering::Relaxed);
        assert!(get(addr, "/readyz").starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/metrics").contains("konductor_leader 0"));
        assert!(get(addr, "/nope").starts_with("HTTP/1.1 404"));
    }
}
