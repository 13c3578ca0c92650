//! HTTP requests to the API server: authentication, retries and status mapping.

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::config::Credentials;
use crate::error::{ApiStatus, Error, Result};

/// How many times a retryable request is attempted in all when the caller
/// gave no deadline (with one, it is retried until the deadline).
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

impl Method {
    /// The HTTP verb, as errors name the request.
    fn verb(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Whether a request may be sent again when its answer is lost or the
/// server is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot apply it twice (reads, guarded writes, deletes).
    Safe,
    /// A repeat could apply it twice: send it once.
    Never,
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
    /// No request (attempt, retry or wait between them) runs past this.
    deadline: Option<Instant>,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        Ok(Transport {
            agent: config.agent()?,
            server: config.server().trim_end_matches('/').to_owned(),
            credentials: config.credentials(),
            deadline: None,
        })
    }

    /// The same connection pool, with every request bounded by `deadline`
    /// (the caller's timeout): attempts, retries and back-off all end there.
    pub(crate) fn until(&self, deadline: Option<Instant>) -> Transport {
        Transport {
            deadline,
            ..self.clone()
        }
    }

    /// The time left before the deadline, if there is one; an error naming
    /// the request once it has passed.
    fn remaining(&self, method: Method, path: &str, started: Instant) -> Result<Option<Duration>> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(Error::Timeout {
                what: format!("{} {}{path}", method.verb(), self.server),
                waited: started.elapsed(),
            }),
        }
    }

    /// Sends a request; with [`Retry::Safe`] it is retried on connection
    /// errors, 429 and 5xx with exponential back-off (obeying Retry-After).
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        retry: Retry,
    ) -> Result<Reply> {
        let retryable = retry == Retry::Safe;
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let mut refreshed_credentials = false;
        let mut attempt = 1;
        loop {
            let left = self.remaining(method, path, started)?;
            let timeout = left.map_or(REQUEST_TIMEOUT, |left| left.min(REQUEST_TIMEOUT));
            let outcome = self.send_once(method, path, body, timeout);
            let delay = match &outcome {
                Ok((reply, _)) if reply.status == 401 && !refreshed_credentials => {
                    // Rotated token or expired exec credential: refresh once.
                    self.credentials.invalidate();
                    refreshed_credentials = true;
                    continue;
                }
                // The server's Retry-After as given (capped); our own
                // back-off jittered, so that clients cut off together do
                // not come back together.
                Ok((reply, retry_after))
                    if retryable && (reply.status == 429 || reply.status >= 500) =>
                {
                    retry_after.map_or_else(|| jittered(backoff), |after| after.min(MAX_BACKOFF))
                }
                Err(Error::Transport { .. }) if retryable => jittered(backoff),
                _ => return outcome.map(|(reply, _)| reply),
            };
            // With a deadline, retry until it (an outage shorter than the
            // caller's patience is ridden out); without one, a few times.
            if self.deadline.is_none() && attempt >= MAX_ATTEMPTS {
                return outcome.map(|(reply, _)| reply);
            }
            attempt += 1;
            let left = self.remaining(method, path, started)?;
            thread::sleep(left.map_or(delay, |left| left.min(delay)).min(MAX_BACKOFF));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<(Reply, Option<Duration>)> {
        let url = format!("{}{}", self.server, path);
        let auth = self.credentials.authorization()?;
        // Every request: JSON answers, our credentials, the time limit.
        fn prepared<B>(
            request: ureq::RequestBuilder<B>,
            auth: Option<&str>,
            timeout: Duration,
        ) -> ureq::RequestBuilder<B> {
            let request = request.header("Accept", "application/json");
            let request = match auth {
                Some(auth) => request.header("Authorization", auth),
                None => request,
            };
            request.config().timeout_global(Some(timeout)).build()
        }
        let auth = auth.as_deref();
        let result = match (method, body) {
            (Method::Get, _) => prepared(self.agent.get(&url), auth, timeout).call(),
            (Method::Delete, None) => prepared(self.agent.delete(&url), auth, timeout).call(),
            // DeleteOptions (preconditions) travel in the body.
            (Method::Delete, Some(body)) => {
                prepared(self.agent.delete(&url).force_send_body(), auth, timeout)
                    .header("Content-Type", "application/json")
                    .send(body)
            }
            (Method::Post | Method::Put | Method::Patch, body) => {
                let (request, content_type) = match method {
                    Method::Post => (self.agent.post(&url), "application/json"),
                    Method::Put => (self.agent.put(&url), "application/json"),
                    _ => (self.agent.patch(&url), "application/json-patch+json"),
                };
                prepared(request, auth, timeout)
                    .header("Content-Type", content_type)
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
    Error::transport(format!("{} {url}: {error}", method.verb()), error)
}

/// A pause between half of `delay` and `delay`, at random.
fn jittered(delay: Duration) -> Duration {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(delay.as_nanos());
    let half = delay / 2;
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_micros(hasher.finish() % spread)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testserver::{Answer, TestServer};

    /// Asserts that a call that started at `started` has ended within `bound`.
    #[track_caller]
    fn ended_within(started: Instant, bound: Duration) {
        let took = started.elapsed();
        assert!(took < bound, "took {took:?}, expected under {bound:?}");
    }

    fn transport(server: &TestServer) -> Transport {
        let config = Config::new(&server.url)
            .expect("URL")
            .with_token("secret-token");
        Transport::new(&config).expect("transport")
    }

    #[test]
    fn a_safe_request_is_retried_until_the_server_answers() {
        let server = TestServer::start(vec![
            Answer::new(503, "{}"),
            Answer::new(429, "{}").header("Retry-After", "0"),
            Answer::new(200, r#"{"ok":true}"#),
        ]);
        let reply = transport(&server)
            .send(Method::Get, "/x", None, Retry::Safe)
            .expect("answered");
        assert_eq!((reply.status, reply.body.as_str()), (200, r#"{"ok":true}"#));
        assert_eq!(server.seen().len(), 3);
    }

    #[test]
    fn a_request_that_must_not_repeat_is_sent_once() {
        let server = TestServer::start(vec![Answer::new(503, "{}"), Answer::new(201, "{}")]);
        let reply = transport(&server)
            .send(Method::Post, "/x", Some(b"{}"), Retry::Never)
            .expect("an answer, even an error");
        assert_eq!(reply.status, 503);
        assert_eq!(server.seen().len(), 1);
    }

    #[test]
    fn retries_stop_after_the_last_attempt() {
        let server = TestServer::start(vec![Answer::new(500, r#"{"reason":"InternalError"}"#)]);
        let error = transport(&server)
            .send(Method::Get, "/x", None, Retry::Safe)
            .expect("an answer")
            .check()
            .expect_err("500 is an error");
        assert_eq!(error.status_code(), Some(500));
        assert_eq!(server.seen().len(), MAX_ATTEMPTS as usize);
    }

    #[test]
    fn requests_carry_the_token_json_and_the_patch_type() {
        let server = TestServer::start(vec![Answer::new(200, "{}")]);
        transport(&server)
            .send(Method::Patch, "/p", Some(b"[]"), Retry::Never)
            .expect("answered");
        let seen = &server.seen()[0];
        let header = |name: &str| {
            seen.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(seen.line, "PATCH /p");
        assert_eq!(header("authorization"), Some("Bearer secret-token"));
        assert_eq!(header("content-type"), Some("application/json-patch+json"));
        assert_eq!(header("accept"), Some("application/json"));
    }

    #[test]
    fn a_refused_connection_names_the_request_but_not_the_token() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let config = Config::new(&url).unwrap().with_token("secret-token");
        let error = Transport::new(&config)
            .unwrap()
            .send(Method::Delete, "/gone", None, Retry::Never)
            .expect_err("nothing listens");
        let text = error.chain();
        assert!(matches!(error, Error::Transport { .. }), "{error:?}");
        assert!(text.contains(&format!("DELETE {url}/gone")), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
    }

    #[test]
    fn retries_end_at_the_callers_deadline() {
        let server = TestServer::start(vec![Answer::new(503, "{}")]);
        let started = Instant::now();
        let error = transport(&server)
            .until(Some(started + Duration::from_millis(300)))
            .send(Method::Get, "/busy", None, Retry::Safe)
            .expect_err("the deadline passes first");
        assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
        ended_within(started, Duration::from_secs(2));
    }

    #[test]
    fn a_server_that_never_answers_is_given_up_at_the_deadline() {
        let server = TestServer::start(vec![Answer::silent()]);
        let started = Instant::now();
        let error = transport(&server)
            .until(Some(started + Duration::from_millis(300)))
            .send(Method::Put, "/hang", Some(b"{}"), Retry::Never)
            .expect_err("no answer");
        assert!(
            matches!(error, Error::Timeout { .. } | Error::Transport { .. }),
            "{error:?}"
        );
        ended_within(started, Duration::from_secs(2));
    }

    #[test]
    fn a_passed_deadline_sends_nothing() {
        let server = TestServer::start(vec![Answer::new(200, "{}")]);
        let error = transport(&server)
            .until(Some(Instant::now()))
            .send(Method::Get, "/late", None, Retry::Safe)
            .expect_err("too late");
        assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
        assert!(server.seen().is_empty());
    }

    #[test]
    fn a_retry_after_is_obeyed_only_up_to_the_longest_backoff() {
        // (header, least and most time the retry may take)
        let cases = [
            ("99999999999999999999999", Duration::ZERO, MAX_BACKOFF),
            ("86400", MAX_BACKOFF, MAX_BACKOFF + Duration::from_secs(2)),
        ];
        for (retry_after, least, most) in cases {
            let server = TestServer::start(vec![
                Answer::new(429, "{}").header("Retry-After", retry_after),
                Answer::new(200, "{}"),
            ]);
            let started = Instant::now();
            // Without the cap, a day-long pause would hit this deadline.
            transport(&server)
                .until(Some(started + most + Duration::from_secs(1)))
                .send(Method::Get, "/x", None, Retry::Safe)
                .expect("answered after the pause");
            let took = started.elapsed();
            assert!(
                least <= took && took < most,
                "Retry-After {retry_after}: took {took:?}"
            );
        }
    }
}
