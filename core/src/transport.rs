//! HTTP requests to the API server: authentication, retries and status mapping.

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::config::Credentials;
use crate::error::{ApiStatus, Error, Result};

/// How many times a retryable request is attempted in all.
const MAX_ATTEMPTS: u32 = 5;
/// First back-off between attempts; doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Upper bound of one back-off, and of a Retry-After we obey.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Time limit of one ordinary (non-watch) request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    /// A JSON patch (RFC 6902).
    Patch,
    Delete,
}

/// An answer with any status code, body read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The reply as a typed error when it is not a 2xx.
    pub(crate) fn check(self) -> Result<String> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(Error::from_status(ApiStatus::from_body(
                self.status,
                &self.body,
            )))
        }
    }
}

/// One keep-alive connection pool to one API server, with credentials.
#[derive(Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    server: String,
    credentials: Credentials,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        Ok(Transport {
            agent: config.agent()?,
            server: config.server().trim_end_matches('/').to_owned(),
            credentials: config.credentials(),
        })
    }

    /// Sends a request; `retryable` requests are retried on connection errors,
    /// 429 and 5xx with exponential back-off (obeying Retry-After).
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        retryable: bool,
    ) -> Result<Reply> {
        let mut backoff = FIRST_BACKOFF;
        let mut refreshed_credentials = false;
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(method, path, body);
            let delay = match &outcome {
                Ok((reply, _)) if reply.status == 401 && !refreshed_credentials => {
                    // Rotated token or expired exec credential: refresh once.
                    self.credentials.invalidate();
                    refreshed_credentials = true;
                    continue;
                }
                Ok((reply, retry_after))
                    if retryable && (reply.status == 429 || reply.status >= 500) =>
                {
                    retry_after.unwrap_or(backoff)
                }
                Err(Error::Transport { .. }) if retryable => backoff,
                _ => return outcome.map(|(reply, _)| reply),
            };
            if attempt >= MAX_ATTEMPTS {
                return outcome.map(|(reply, _)| reply);
            }
            attempt += 1;
            thread::sleep(delay.min(MAX_BACKOFF));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(Reply, Option<Duration>)> {
        let url = format!("{}{}", self.server, path);
        let auth = self.credentials.authorization()?;
        let result = match method {
            Method::Get | Method::Delete => {
                let mut request = if method == Method::Get {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                request = request.header("Accept", "application/json");
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request
                    .config()
                    .timeout_global(Some(REQUEST_TIMEOUT))
                    .build()
                    .call()
            }
            Method::Post | Method::Put | Method::Patch => {
                let (mut request, content_type) = match method {
                    Method::Post => (self.agent.post(&url), "application/json"),
                    Method::Put => (self.agent.put(&url), "application/json"),
                    _ => (self.agent.patch(&url), "application/json-patch+json"),
                };
                request = request
                    .header("Accept", "application/json")
                    .header("Content-Type", content_type);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request
                    .config()
                    .timeout_global(Some(REQUEST_TIMEOUT))
                    .build()
                    .send(body.unwrap_or_default())
            }
        };
        let mut response = result.map_err(|e| transport_error(method, &url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| transport_error(method, &url, e))?;
        Ok((Reply { status, body }, retry_after))
    }

    /// Opens a long-lived streaming GET (a watch); the reader yields the body as it arrives.
    pub(crate) fn stream(
        &self,
        path: &str,
        max_duration: Duration,
    ) -> Result<Box<dyn Read + Send>> {
        let url = format!("{}{}", self.server, path);
        let started = Instant::now();
        let mut refreshed_credentials = false;
        loop {
            let mut request = self.agent.get(&url).header("Accept", "application/json");
            if let Some(auth) = self.credentials.authorization()? {
                request = request.header("Authorization", auth);
            }
            let mut response = request
                .config()
                .timeout_global(Some(max_duration))
                .build()
                .call()
                .map_err(|e| transport_error(Method::Get, &url, e))?;
            let status = response.status().as_u16();
            if status == 401 && !refreshed_credentials && started.elapsed() < max_duration {
                self.credentials.invalidate();
                refreshed_credentials = true;
                continue;
            }
            if !(200..300).contains(&status) {
                let body = response.body_mut().read_to_string().unwrap_or_default();
                return Err(Error::from_status(ApiStatus::from_body(status, &body)));
            }
            return Ok(Box::new(response.into_body().into_reader()));
        }
    }
}

/// Names the request (server included, never credentials) and the cause.
fn transport_error(method: Method, url: &str, error: ureq::Error) -> Error {
    Error::transport(
        format!("{} {url}: {error}", format!("{method:?}").to_uppercase()),
        error,
    )
}
