//! Proxies: the kubeconfig's `proxy-url`, else Go's proxy environment rules.

use std::net::IpAddr;

use super::{Config, Env};
use crate::error::{Error, Result};

impl Config {
    /// The proxy for requests to this server: the explicit one, else the
    /// environment's (Go's rules: `HTTPS_PROXY` or `HTTP_PROXY` by scheme,
    /// `NO_PROXY`, never for localhost or loopback addresses).
    pub(super) fn proxy(&self, env: Env) -> Result<Option<ureq::Proxy>> {
        let (url, origin) = match &self.proxy {
            Some(url) => (url.clone(), "proxy-url".to_owned()),
            None => match env_proxy(&self.server, env) {
                Some((var, url)) => (url, var.to_owned()),
                None => return Ok(None),
            },
        };
        let invalid =
            |why: &str| Error::config(format!("{origin} {}: {why}", redact_userinfo(&url)));
        let proxy = ureq::Proxy::new(&url).map_err(|_| invalid("not a valid proxy URL"))?;
        if !matches!(
            proxy.protocol(),
            ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
        ) {
            return Err(invalid("only http:// and https:// proxies are supported"));
        }
        Ok(Some(proxy))
    }
}

/// The proxy variable and URL that apply to `server`, if any.
fn env_proxy(server: &str, env: Env) -> Option<(&'static str, String)> {
    let uri: ureq::http::Uri = server.parse().ok()?;
    let https = uri.scheme_str() == Some("https");
    let vars: [&'static str; 2] = if https {
        ["HTTPS_PROXY", "https_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy"]
    };
    let (var, url) = vars
        .iter()
        .find_map(|var| env(var).map(|url| (*var, url)))?;
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let no_proxy = env("NO_PROXY")
        .or_else(|| env("no_proxy"))
        .unwrap_or_default();
    if bypasses_proxy(&host, port, &no_proxy) {
        return None;
    }
    Some((var, url))
}

/// Go's `NO_PROXY` rules (golang.org/x/net/http/httpproxy): localhost and
/// loopback are never proxied; entries are `*`, IPs, CIDRs, `host`, `.host`,
/// `*.host`, each optionally with `:port`; `host` also covers subdomains.
fn bypasses_proxy(host: &str, port: u16, no_proxy: &str) -> bool {
    let ip: Option<IpAddr> = host.parse().ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .any(|entry| {
            if entry.is_empty() {
                return false;
            }
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (net.parse::<IpAddr>(), bits.parse::<u32>(), ip) {
                    (Ok(net), Ok(bits), Some(ip)) => cidr_contains(net, bits, ip),
                    _ => false,
                };
            }
            let (entry_host, entry_port) = split_host_port(&entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let (Ok(entry_ip), Some(ip)) = (entry_host.parse::<IpAddr>(), ip) {
                return entry_ip == ip;
            }
            let suffix = entry_host.strip_prefix('*').unwrap_or(entry_host);
            match suffix.strip_prefix('.') {
                Some(_) => host.ends_with(suffix),
                None => host == suffix || host.ends_with(&format!(".{suffix}")),
            }
        })
}

/// `host:port`, `[v6]:port`, or a bare host / IPv6 address.
fn split_host_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn cidr_contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
        let total = 8 * a.len() as u32;
        if bits > total {
            return false;
        }
        let (whole, rest) = ((bits / 8) as usize, bits % 8);
        a[..whole] == b[..whole] && (rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0)
    }
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        (IpAddr::V6(n), IpAddr::V6(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        _ => false,
    }
}

/// A URL with any `user:password@` replaced by `<redacted>@`.
pub(super) fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{env, message};

    #[test]
    fn explicit_proxy_is_used_and_checked() {
        let config = Config::new("https://127.0.0.1:6443")
            .unwrap()
            .with_proxy("http://proxy.corp:3128");
        let proxy = config
            .proxy(&env(&[]))
            .unwrap()
            .expect("an explicit proxy applies even to loopback");
        assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 3128));

        let socks = Config::new("https://k")
            .unwrap()
            .with_proxy("socks5://user:pw@proxy:1080");
        let msg = message(socks.proxy(&env(&[])));
        assert!(msg.contains("only http:// and https:// proxies"), "{msg}");
        assert!(!msg.contains("pw"), "proxy password leaked: {msg}");
    }

    #[test]
    fn environment_proxy_follows_go_rules() {
        let https = Config::new("https://api.corp.example:6443").unwrap();
        let vars = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("HTTP_PROXY", "http://wrong:1"),
        ]);
        assert_eq!(https.proxy(&vars).unwrap().unwrap().host(), "proxy");
        let lower = env(&[("https_proxy", "proxy2:8080")]);
        assert_eq!(https.proxy(&lower).unwrap().unwrap().port(), 8080);
        let only_http = env(&[("HTTP_PROXY", "http://proxy:3128")]);
        assert!(
            https.proxy(&only_http).unwrap().is_none(),
            "HTTP_PROXY must not apply to https"
        );
        let excluded = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "foo, .example"),
        ]);
        assert!(https.proxy(&excluded).unwrap().is_none());
    }

    #[test]
    fn no_proxy_matching() {
        let cases = [
            ("k.example.com", 443, "example.com", true),
            ("example.com", 443, "example.com", true),
            ("example.com", 443, ".example.com", false),
            ("k.example.com", 443, "*.example.com", true),
            ("notexample.com", 443, "example.com", false),
            ("k.example.com", 6443, "example.com:443", false),
            ("k.example.com", 6443, "example.com:6443", true),
            ("10.1.2.3", 443, "10.0.0.0/8", true),
            ("11.1.2.3", 443, "10.0.0.0/8", false),
            ("10.96.0.1", 443, "10.96.0.1", true),
            ("fd00::1", 443, "fd00::/64", true),
            ("fd00::1", 443, "[fd00::1]:443", true),
            ("anything", 443, "*", true),
            ("anything", 443, "", false),
            ("localhost", 443, "", true),
            ("127.0.0.5", 443, "", true),
            ("::1", 443, "", true),
        ];
        for (host, port, no_proxy, expected) in cases {
            assert_eq!(
                bypasses_proxy(host, port, no_proxy),
                expected,
                "host {host}:{port} with NO_PROXY={no_proxy:?}"
            );
        }
    }
}
