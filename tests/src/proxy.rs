//! A loopback HTTP CONNECT proxy that a test can cut, like a network partition between one client and the API server.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use konductor::Client;

use crate::kubeconfig::{admin_access, admin_config};

/// The proxy: `block` severs every open tunnel and refuses new ones until `unblock`.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for `Config::with_proxy` or `proxy-url`.
    pub url: String,
    tunnels: Arc<AtomicU32>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    blocked: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts the proxy on a free loopback port.
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let proxy = Proxy {
            url: format!("http://{}", listener.local_addr().expect("proxy address")),
            tunnels: Default::default(),
            open: Default::default(),
            blocked: Default::default(),
        };
        let (tunnels, open, blocked) = (
            proxy.tunnels.clone(),
            proxy.open.clone(),
            proxy.blocked.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if blocked.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                let (tunnels, open) = (tunnels.clone(), open.clone());
                std::thread::spawn(move || tunnel(client, &tunnels, &open));
            }
        });
        proxy
    }

    /// Number of tunnels opened so far.
    pub fn tunnels(&self) -> u32 {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// Cuts every open tunnel and refuses new connections.
    pub fn block(&self) {
        self.blocked.store(true, Ordering::SeqCst);
        for stream in self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn unblock(&self) {
        self.blocked.store(false, Ordering::SeqCst);
    }
}

/// Serves one CONNECT request: opens the tunnel and copies both ways until either side closes.
fn tunnel(client: TcpStream, tunnels: &AtomicU32, open: &Mutex<Vec<TcpStream>>) -> Option<()> {
    let mut reader = BufReader::new(client.try_clone().ok()?);
    let mut request = String::new();
    reader.read_line(&mut request).ok()?;
    let target = request
        .strip_prefix("CONNECT ")?
        .split_whitespace()
        .next()?
        .to_owned();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
    }
    let upstream = TcpStream::connect(&target).ok()?;
    // Forward each TLS record at once, as a router would.
    client.set_nodelay(true).ok()?;
    upstream.set_nodelay(true).ok()?;
    tunnels.fetch_add(1, Ordering::SeqCst);
    {
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        open.push(client.try_clone().ok()?);
        open.push(upstream.try_clone().ok()?);
    }
    let mut client_out = client.try_clone().ok()?;
    client_out
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .ok()?;
    let mut upstream_in = upstream.try_clone().ok()?;
    std::thread::spawn(move || std::io::copy(&mut upstream_in, &mut client_out));
    let (mut client_in, mut upstream_out) = (client, upstream);
    std::io::copy(&mut client_in, &mut upstream_out).ok()?;
    Some(())
}

/// An admin client of `namespace` whose every request goes through `proxy`;
/// None when the admin kubeconfig has no CA and bearer token to reuse.
pub fn client_through(proxy: &Proxy, namespace: &str) -> Option<Client> {
    client_via(&proxy.url, namespace)
}

/// An admin client of `namespace` whose every request goes through the HTTP
/// proxy at `proxy_url`; None when the admin kubeconfig has no CA and bearer
/// token to reuse.
pub fn client_via(proxy_url: &str, namespace: &str) -> Option<Client> {
    let config = admin_config(&admin_access().server, namespace)?.with_proxy(proxy_url);
    Some(Client::new(Some(config)).expect("client through the proxy"))
}
