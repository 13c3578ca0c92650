//! Following one object through a watch: each change wakes the waiter at once.
//!
//! A background thread keeps a watch open on the object (resuming from the
//! last resourceVersion it saw, relisting after `410 Gone`, reconnecting after
//! dropped streams) and forwards every new version over a channel. The waiter
//! blocks on that channel with a deadline, so a wait costs no polling.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::cancel::{CancelGuard, CancelToken};
use crate::error::Error;
use crate::objects::{decode, Objects};
use crate::resource::Resource;

/// Server-side lifetime of one watch request; the follower reconnects after it.
const WATCH_SECONDS: u64 = 30;
/// Pause before reconnecting after a failed watch request.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);

/// What woke a waiter.
pub(crate) enum Wake<K> {
    /// A newer version of the object.
    Changed(K),
    /// The object was deleted.
    Deleted,
    /// The watch failed for good (e.g. forbidden).
    Failed(Error),
    /// The caller's cancel token fired.
    Cancelled,
}

/// A live view of one object for a waiter: the newest version seen and a
/// channel that delivers newer ones.
pub(crate) struct Follow<K> {
    receiver: Receiver<Wake<K>>,
    stop: Arc<AtomicBool>,
    _cancel: Option<CancelGuard>,
}

impl<K: Resource> Follow<K> {
    /// Starts following `name` from the version `since` (the caller already has it).
    pub(crate) fn start(objects: &Objects, since: &K, cancel: Option<&CancelToken>) -> Follow<K> {
        let (sender, receiver) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let cancel = cancel.map(|token| {
            let sender = sender.clone();
            token.on_cancel(Box::new(move || {
                let _ = sender.send(Wake::Cancelled);
            }))
        });
        let meta = since.metadata();
        let watcher = Watcher {
            objects: objects.clone(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            resource_version: meta.resource_version.clone(),
            sender,
            stop: stop.clone(),
        };
        thread::Builder::new()
            .name(format!("konductor-watch-{}", meta.name))
            .spawn(move || watcher.run())
            .expect("failed to spawn watch thread");
        Follow {
            receiver,
            stop,
            _cancel: cancel,
        }
    }

    /// Waits for the next change until `deadline` (None = no deadline).
    /// Returns None when the deadline passed first.
    pub(crate) fn next(&self, deadline: Option<Instant>) -> Option<Wake<K>> {
        match deadline {
            None => self.receiver.recv().ok(),
            Some(deadline) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match self.receiver.recv_timeout(wait) {
                    Ok(wake) => Some(wake),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => None,
                }
            }
        }
    }

    /// Takes every wake already queued, without blocking.
    pub(crate) fn drain(&self) -> Vec<Wake<K>> {
        self.receiver.try_iter().collect()
    }
}

impl<K> Drop for Follow<K> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

struct Watcher<K> {
    objects: Objects,
    namespace: String,
    name: String,
    resource_version: String,
    sender: Sender<Wake<K>>,
    stop: Arc<AtomicBool>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    type_: String,
    object: serde_json::Value,
}

impl<K: Resource> Watcher<K> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run(mut self) {
        while !self.stopped() {
            let stream = self.objects.watch::<K>(
                &self.namespace,
                &self.name,
                &self.resource_version,
                WATCH_SECONDS,
            );
            let stream = match stream {
                Ok(stream) => stream,
                Err(Error::Api(status)) if status.code == 410 => {
                    if !self.relist() {
                        return;
                    }
                    continue;
                }
                Err(
                    error @ (Error::Forbidden(_) | Error::Unauthorized(_) | Error::Config { .. }),
                ) => {
                    let _ = self.sender.send(Wake::Failed(error));
                    return;
                }
                Err(_) => {
                    // Dropped connection or a server hiccup: try again shortly.
                    thread::sleep(RECONNECT_DELAY);
                    continue;
                }
            };
            for line in BufReader::new(stream).lines() {
                if self.stopped() {
                    return;
                }
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                let Ok(event) = decode::<Event>(&line) else {
                    break;
                };
                if !self.handle(event) {
                    return;
                }
            }
        }
    }

    /// Handles one event; false when the follower is gone and the thread should end.
    fn handle(&mut self, event: Event) -> bool {
        let version = event
            .object
            .pointer("/metadata/resourceVersion")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match event.type_.as_str() {
            "ADDED" | "MODIFIED" => {
                if let Some(version) = version {
                    self.resource_version = version;
                }
                match serde_json::from_value::<K>(event.object) {
                    Ok(object) => self.sender.send(Wake::Changed(object)).is_ok(),
                    Err(e) => self
                        .sender
                        .send(Wake::Failed(Error::transport(
                            "failed to decode watch event",
                            e,
                        )))
                        .is_ok(),
                }
            }
            "DELETED" => {
                if let Some(version) = version {
                    self.resource_version = version;
                }
                self.sender.send(Wake::Deleted).is_ok()
            }
            "BOOKMARK" => {
                if let Some(version) = version {
                    self.resource_version = version;
                }
                true
            }
            "ERROR" => {
                let code = event.object.get("code").and_then(|c| c.as_u64());
                if code == Some(410) {
                    self.relist()
                } else {
                    thread::sleep(RECONNECT_DELAY);
                    true
                }
            }
            _ => true,
        }
    }

    /// After `410 Gone`: read the object afresh and watch on from its version.
    fn relist(&mut self) -> bool {
        match self.objects.get::<K>(&self.namespace, &self.name) {
            Ok(object) => {
                self.resource_version = object.metadata().resource_version.clone();
                self.sender.send(Wake::Changed(object)).is_ok()
            }
            Err(Error::NotFound { .. }) => {
                self.resource_version.clear();
                self.sender.send(Wake::Deleted).is_ok()
            }
            Err(_) => {
                thread::sleep(RECONNECT_DELAY);
                true
            }
        }
    }
}

/// Orders two versions of the same object by resourceVersion, when both are
/// numbers (etcd revisions); otherwise assumes `candidate` is newer.
pub(crate) fn is_newer(candidate: &str, current: &str) -> bool {
    match (candidate.parse::<u64>(), current.parse::<u64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => true,
    }
}
