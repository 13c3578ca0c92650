//! Following one object through a watch: each change wakes the waiter at once.
//!
//! One watch per object per client, however many threads wait on it: a
//! background thread keeps the watch open (resuming from the last
//! resourceVersion it saw, relisting after `410 Gone`, reconnecting after
//! dropped streams) and hands every new version to each local follower over
//! its own channel. A follower blocks on its channel with a deadline, so a
//! wait costs no polling, and a hundred threads waiting on one semaphore cost
//! the API server one watch, not a hundred.

use std::any::Any;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::cancel::{CancelGuard, CancelToken};
use crate::client::Shared;
use crate::error::Error;
use crate::latest::Latest;
use crate::objects::{decode, Objects};
use crate::resource::Resource;

/// Longest watch event line accepted: an event carries one object, and etcd
/// stores objects of at most 1.5 MiB. A longer line ends the stream.
const MAX_EVENT_LINE: u64 = 16 * 1024 * 1024;
/// Server-side lifetime of one watch request; the watcher reconnects after it.
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
    /// Something else the waiter follows changed (its queue).
    Nudged,
}

/// The shared watches of one client, by object.
#[derive(Default)]
pub(crate) struct Hubs {
    hubs: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl Hubs {
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<dyn Any + Send + Sync>>> {
        self.hubs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True while this client watches `object` (then the client's remembered
    /// copy of it follows every change, a watch event behind the server).
    pub(crate) fn follows<K: Resource>(&self, object: &K) -> bool {
        self.lock()
            .get(&object.key())
            .and_then(|hub| Arc::clone(hub).downcast::<Hub<K>>().ok())
            .is_some_and(|hub| !hub.stop.load(Ordering::SeqCst))
    }
}

/// One watch and the followers it feeds.
struct Hub<K> {
    key: String,
    /// The client's remembered copies, kept current with every version.
    remembered: Arc<Latest>,
    state: Mutex<HubState<K>>,
    stop: AtomicBool,
    next_id: AtomicU64,
}

/// Which versions wake a follower (None: all of them). It is asked once per
/// version and follower, with the version's [`Memo`].
pub(crate) type Interest<K> = Option<Box<dyn Fn(&K, &mut Memo) -> bool + Send>>;

/// What the interests of one version share: the first that reads the
/// version leaves its reading here for the others, so a version costs one
/// reading, not one per waiting thread.
pub(crate) type Memo = Option<Box<dyn std::any::Any + Send>>;

struct Follower<K> {
    id: u64,
    sender: Sender<Wake<K>>,
    interest: Interest<K>,
}

struct HubState<K> {
    /// The newest version delivered, so late followers can catch up.
    latest: Option<K>,
    deleted: bool,
    followers: Vec<Follower<K>>,
}

impl<K: Resource> Hub<K> {
    fn lock(&self) -> MutexGuard<'_, HubState<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands a wake to every follower (a new version only to those it
    /// interests: a hundred threads waiting on one semaphore are not all
    /// woken by every write); false when none is left.
    fn broadcast(&self, make: impl Fn() -> Wake<K>, latest: Option<K>, deleted: bool) -> bool {
        let mut state = self.lock();
        state.deleted = deleted;
        let state = &mut *state;
        if latest.is_some() {
            state.latest = latest;
        }
        let version = state.latest.as_ref();
        let mut memo = None;
        state.followers.retain(|follower| {
            let wanted = match (&follower.interest, version, deleted) {
                (Some(interest), Some(version), false) => interest(version, &mut memo),
                _ => true,
            };
            !wanted || follower.sender.send(make()).is_ok()
        });
        !state.followers.is_empty()
    }
}

/// A live view of one object for one waiter: a channel that delivers every
/// version newer than the one it started from.
pub(crate) struct Follow<K: Resource> {
    receiver: Receiver<Wake<K>>,
    sender: Sender<Wake<K>>,
    hub: Arc<Hub<K>>,
    hubs: Arc<Hubs>,
    id: u64,
    _cancel: Option<CancelGuard>,
}

impl<K: Resource> Follow<K> {
    /// Starts following the object `since` (the version the caller has).
    pub(crate) fn start(shared: &Shared, since: &K, cancel: Option<&CancelToken>) -> Follow<K> {
        Follow::start_with(shared, since, cancel, None)
    }

    /// Starts following the object `since`, woken only by the versions
    /// `interest` accepts (and by deletion, failure, cancellation and nudges);
    /// [`Follow::latest`] gives the newest version meanwhile.
    pub(crate) fn start_with(
        shared: &Shared,
        since: &K,
        cancel: Option<&CancelToken>,
        interest: Interest<K>,
    ) -> Follow<K> {
        let meta = since.metadata();
        // The uid keeps a re-created object from joining the old one's watch.
        let key = since.key();
        let (sender, receiver) = mpsc::channel();
        let cancel = cancel.map(|token| {
            let sender = sender.clone();
            token.on_cancel(Box::new(move || {
                let _ = sender.send(Wake::Cancelled);
            }))
        });
        let nudges = sender.clone();
        let id;
        let hub;
        {
            // Under the hubs lock, so a hub cannot lose its last follower
            // (and stop) between being found and being joined.
            let mut hubs = shared.hubs.lock();
            let existing = hubs
                .get(&key)
                .and_then(|hub| Arc::clone(hub).downcast::<Hub<K>>().ok())
                .filter(|hub| !hub.stop.load(Ordering::SeqCst));
            match existing {
                Some(found) => {
                    id = found.next_id.fetch_add(1, Ordering::Relaxed);
                    let mut state = found.lock();
                    // Catch up with what the watch already delivered to others.
                    if state.deleted {
                        let _ = sender.send(Wake::Deleted);
                    } else if let Some(latest) = &state.latest {
                        if is_newer(&latest.metadata().resource_version, &meta.resource_version) {
                            let _ = sender.send(Wake::Changed(latest.clone()));
                        }
                    }
                    state.followers.push(Follower {
                        id,
                        sender,
                        interest,
                    });
                    drop(state);
                    hub = found;
                }
                None => {
                    id = 0;
                    let created = Arc::new(Hub {
                        key: key.clone(),
                        remembered: shared.latest.clone(),
                        state: Mutex::new(HubState {
                            latest: Some(since.clone()),
                            deleted: false,
                            followers: vec![Follower {
                                id,
                                sender,
                                interest,
                            }],
                        }),
                        stop: AtomicBool::new(false),
                        next_id: AtomicU64::new(1),
                    });
                    hubs.insert(key, created.clone());
                    Watcher {
                        objects: shared.objects.clone(),
                        namespace: meta.namespace.clone(),
                        selector: format!("fieldSelector=metadata.name%3D{}", meta.name),
                        resource_version: meta.resource_version.clone(),
                        sink: created.clone(),
                        kind: std::marker::PhantomData,
                    }
                    .spawn(&meta.name);
                    hub = created;
                }
            }
        }
        Follow {
            receiver,
            sender: nudges,
            hub,
            hubs: shared.hubs.clone(),
            id,
            _cancel: cancel,
        }
    }

    /// The newest version the watch has seen, if newer than `current`.
    pub(crate) fn latest(&self, current: &str) -> Option<K> {
        let state = self.hub.lock();
        state
            .latest
            .as_ref()
            .filter(|latest| is_newer(&latest.metadata().resource_version, current))
            .cloned()
    }

    /// A function that wakes this follower (with [`Wake::Nudged`]); false
    /// once the follower is gone.
    pub(crate) fn nudger(&self) -> Box<dyn Fn() -> bool + Send> {
        let sender = self.sender.clone();
        Box::new(move || sender.send(Wake::Nudged).is_ok())
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

    /// Waits for the next change until `deadline` (as [`Follow::next`]),
    /// then takes every other wake already queued: all that happened, in
    /// order; empty when the deadline passed first.
    pub(crate) fn changes(&self, deadline: Option<Instant>) -> Vec<Wake<K>> {
        let mut wakes: Vec<Wake<K>> = self.next(deadline).into_iter().collect();
        wakes.extend(self.receiver.try_iter());
        wakes
    }
}

impl<K: Resource> Drop for Follow<K> {
    fn drop(&mut self) {
        let mut hubs = self.hubs.lock();
        let mut state = self.hub.lock();
        state.followers.retain(|follower| follower.id != self.id);
        if state.followers.is_empty() {
            // Last follower: the watch ends at its next event or timeout.
            self.hub.stop.store(true, Ordering::SeqCst);
            let same = hubs.get(&self.hub.key).is_some_and(|hub| {
                Arc::as_ptr(hub) as *const () == Arc::as_ptr(&self.hub) as *const ()
            });
            if same {
                hubs.remove(&self.hub.key);
            }
        }
    }
}

/// A copy of an error a watch produced, for each follower.
fn duplicate(error: &Error) -> Error {
    match error {
        Error::Forbidden(status) => Error::Forbidden(status.clone()),
        Error::Unauthorized(status) => Error::Unauthorized(status.clone()),
        Error::Api(status) => Error::Api(status.clone()),
        // A stream that could not be decoded, say: the same kind of error
        // for each follower, with its whole message.
        other => Error::Transport {
            message: other.chain(),
            source: None,
        },
    }
}

/// Where a watch delivers what it sees: one object's followers, or a
/// collection's cache (the waiter queue).
pub(crate) trait Sink<K>: Send + Sync + 'static {
    /// A new version of an object; false when nobody listens any more.
    fn changed(&self, object: K) -> bool;
    /// An object was deleted (the last version, when the event carried it).
    fn deleted(&self, object: Option<K>) -> bool;
    /// A fresh list (after `410 Gone`) replaces everything seen so far.
    fn relisted(&self, objects: Vec<K>) -> bool;
    /// The watch failed for good (e.g. forbidden), or an event could not be
    /// decoded; false when nobody listens any more.
    fn failed(&self, error: Error) -> bool;
    /// True once nobody listens: the watch ends at its next event or timeout.
    fn stopped(&self) -> bool;
    /// Marks the sink stopped, so it is never joined again.
    fn stop(&self);
}

impl<K: Resource> Sink<K> for Hub<K> {
    fn changed(&self, object: K) -> bool {
        self.remembered.put(&object);
        let copy = object.clone();
        self.broadcast(move || Wake::Changed(object.clone()), Some(copy), false)
    }

    fn deleted(&self, _object: Option<K>) -> bool {
        self.broadcast(|| Wake::Deleted, None, true)
    }

    fn relisted(&self, objects: Vec<K>) -> bool {
        match objects.into_iter().next() {
            Some(object) => self.changed(object),
            None => self.deleted(None),
        }
    }

    fn failed(&self, error: Error) -> bool {
        self.broadcast(|| Wake::Failed(duplicate(&error)), None, false)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The thread that keeps one watch open for a sink.
pub(crate) struct Watcher<K, S> {
    pub(crate) objects: Objects,
    pub(crate) namespace: String,
    /// `fieldSelector=…` or `labelSelector=…`, escaped.
    pub(crate) selector: String,
    /// Where to resume; empty for "now" (the server first sends what exists).
    pub(crate) resource_version: String,
    pub(crate) sink: Arc<S>,
    pub(crate) kind: std::marker::PhantomData<fn() -> K>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    type_: String,
    object: serde_json::Value,
}

/// One line of a watch stream, decoded. Versions are the resourceVersion to
/// resume from: the event's, else the one before it.
#[derive(Debug)]
enum Decoded<K> {
    /// `ADDED` or `MODIFIED` with an object of the kind.
    Changed { object: K, version: String },
    /// `ADDED` or `MODIFIED` whose object is not of the kind.
    Undecodable { error: Error, version: String },
    /// `DELETED`, with the object's last version when it decodes.
    Deleted { object: Option<K>, version: String },
    /// `BOOKMARK`: nothing changed up to this version.
    Bookmark { version: String },
    /// `ERROR` 410: the version fell out of the server's window; relist.
    Gone,
    /// Any other `ERROR`: pause, then go on.
    ServerError,
    /// A blank keep-alive line.
    Skip,
    /// An event type this client does not know.
    Other,
    /// Not a watch event at all: the stream is broken; reconnect.
    Malformed,
}

/// Decodes one line of a watch stream; `current` is the version to keep when
/// the event names none.
fn decode_event<K: Resource>(line: &str, current: &str) -> Decoded<K> {
    if line.trim().is_empty() {
        return Decoded::Skip;
    }
    let Ok(event) = decode::<Event>(line) else {
        return Decoded::Malformed;
    };
    let version = event
        .object
        .pointer("/metadata/resourceVersion")
        .and_then(|v| v.as_str())
        .unwrap_or(current)
        .to_owned();
    match event.type_.as_str() {
        "ADDED" | "MODIFIED" => match serde_json::from_value::<K>(event.object) {
            Ok(object) => Decoded::Changed { object, version },
            Err(e) => Decoded::Undecodable {
                error: Error::transport("failed to decode watch event", e),
                version,
            },
        },
        "DELETED" => Decoded::Deleted {
            object: serde_json::from_value::<K>(event.object).ok(),
            version,
        },
        "BOOKMARK" => Decoded::Bookmark { version },
        "ERROR" if event.object.get("code").and_then(|c| c.as_u64()) == Some(410) => Decoded::Gone,
        "ERROR" => Decoded::ServerError,
        _ => Decoded::Other,
    }
}

impl<K: Resource, S: Sink<K>> Watcher<K, S> {
    /// Runs the watch on its own thread.
    pub(crate) fn spawn(self, name: &str) {
        thread::Builder::new()
            .name(format!("konductor-watch-{name}"))
            .spawn(move || self.run())
            .expect("failed to spawn watch thread");
    }

    /// Runs the watch until no follower is left (or it fails for good); a
    /// stopped sink is never joined again.
    fn run(mut self) {
        if self.resource_version.is_empty() && !self.relist() {
            self.sink.stop();
            return;
        }
        self.follow_changes();
        self.sink.stop();
    }

    fn follow_changes(&mut self) {
        while !self.sink.stopped() {
            let stream = self.objects.watch::<K>(
                &self.namespace,
                &self.selector,
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
                    self.sink.failed(error);
                    return;
                }
                Err(_) => {
                    // Dropped connection or a server hiccup: try again shortly.
                    thread::sleep(RECONNECT_DELAY);
                    continue;
                }
            };
            let opened = Instant::now();
            let mut events = 0;
            let mut reader = BufReader::new(stream);
            let mut buffer = Vec::new();
            while let Some(line) = next_line(&mut reader, &mut buffer) {
                events += 1;
                if self.sink.stopped() {
                    return;
                }
                // Too long or not text: the stream is broken; reconnect.
                let Some(line) = line else { break };
                let event = decode_event::<K>(line, &self.resource_version);
                if matches!(event, Decoded::Malformed) {
                    break;
                }
                if !self.handle(event) {
                    return;
                }
            }
            if events == 0 && opened.elapsed() < Duration::from_secs(1) {
                // A stream that ends at once would otherwise spin.
                thread::sleep(RECONNECT_DELAY);
            }
        }
    }

    /// Acts on one decoded event; false when nobody listens any more and
    /// the thread should end.
    fn handle(&mut self, event: Decoded<K>) -> bool {
        match event {
            Decoded::Changed { object, version } => {
                self.resource_version = version;
                self.sink.changed(object)
            }
            Decoded::Undecodable { error, version } => {
                self.resource_version = version;
                self.sink.failed(error)
            }
            Decoded::Deleted { object, version } => {
                self.resource_version = version;
                self.sink.deleted(object)
            }
            Decoded::Bookmark { version } => {
                self.resource_version = version;
                true
            }
            Decoded::Gone => self.relist(),
            Decoded::ServerError => {
                thread::sleep(RECONNECT_DELAY);
                true
            }
            Decoded::Skip | Decoded::Other => true,
            // Handled by the reader, which reconnects.
            Decoded::Malformed => true,
        }
    }

    /// At the start (no version yet) and after `410 Gone`: list afresh and
    /// watch on from the collection's resourceVersion (an object's own may
    /// be older than the server's watch window when it has not changed for
    /// a while).
    fn relist(&mut self) -> bool {
        match self
            .objects
            .list_selected::<K>(&self.namespace, &self.selector)
        {
            Ok((objects, version)) => {
                self.resource_version = version;
                self.sink.relisted(objects)
            }
            Err(error @ (Error::Forbidden(_) | Error::Unauthorized(_))) => {
                self.sink.failed(error);
                false
            }
            Err(_) => {
                thread::sleep(RECONNECT_DELAY);
                !self.sink.stopped()
            }
        }
    }
}

/// Reads the next line of a watch stream into `buffer`: None at the end of
/// the stream (or a read error), `Some(None)` for a line that is too long or
/// not UTF-8, else the line without its newline.
fn next_line<'a>(reader: &mut impl BufRead, buffer: &'a mut Vec<u8>) -> Option<Option<&'a str>> {
    buffer.clear();
    match reader
        .by_ref()
        .take(MAX_EVENT_LINE)
        .read_until(b'\n', buffer)
    {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if buffer.last() == Some(&b'\n') {
                buffer.pop();
            } else if buffer.len() as u64 >= MAX_EVENT_LINE {
                return Some(None);
            }
            Some(std::str::from_utf8(buffer).ok())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Semaphore;

    /// A watch stream as the API server sends it: one JSON event per line.
    const STREAM: &str = concat!(
        r#"{"type":"ADDED","object":{"metadata":{"name":"s","resourceVersion":"11"},"spec":{"permits":2}}}"#,
        "\n\n",
        r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}}"#,
        "\n",
        r#"{"type":"MODIFIED","object":{"metadata":{"name":"s","resourceVersion":"17"},"spec":{"permits":"two"}}}"#,
        "\n",
        r#"{"type":"ERROR","object":{"kind":"Status","code":500}}"#,
        "\n",
        r#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}"#,
        "\n",
        r#"{"type":"SOMETHING_NEW","object":{}}"#,
        "\n",
        r#"{"type":"DELETED","object":{"metadata":{"name":"s","resourceVersion":"20"},"spec":{"permits":2}}}"#,
        "\n",
        "<html>proxy error</html>\n",
    );

    fn decode_all(stream: &str) -> Vec<Decoded<Semaphore>> {
        let mut version = "10".to_owned();
        BufReader::new(stream.as_bytes())
            .lines()
            .map(|line| {
                let event = decode_event::<Semaphore>(&line.unwrap(), &version);
                if let Decoded::Changed { version: v, .. }
                | Decoded::Bookmark { version: v }
                | Decoded::Deleted { version: v, .. } = &event
                {
                    version = v.clone();
                }
                event
            })
            .collect()
    }

    #[test]
    fn a_canned_stream_decodes_event_by_event() {
        let events = decode_all(STREAM);
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                Decoded::Changed { object, version } => {
                    format!(
                        "changed {} permits={} at {version}",
                        object.metadata.name, object.spec.permits
                    )
                }
                Decoded::Undecodable { version, .. } => format!("undecodable at {version}"),
                Decoded::Deleted { version, .. } => format!("deleted at {version}"),
                Decoded::Bookmark { version } => format!("bookmark at {version}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "changed s permits=2 at 11",
                "Skip",
                "bookmark at 15",
                "undecodable at 17",
                "ServerError",
                "Gone",
                "Other",
                "deleted at 20",
                "Malformed",
            ]
        );
    }

    #[test]
    fn an_event_without_a_version_keeps_the_current_one() {
        let line = r#"{"type":"BOOKMARK","object":{"metadata":{}}}"#;
        match decode_event::<Semaphore>(line, "42") {
            Decoded::Bookmark { version } => assert_eq!(version, "42"),
            other => panic!("expected a bookmark, got {other:?}"),
        }
    }

    #[test]
    fn truncated_and_absurd_lines_never_panic() {
        let valid = STREAM.lines().next().unwrap();
        for end in 0..valid.len() {
            let _ = decode_event::<Semaphore>(&valid[..end], "1");
        }
        for line in [
            r#"{"type":"ADDED","object":null}"#,
            r#"{"type":"ADDED","object":{"metadata":{"resourceVersion":7}}}"#,
            r#"{"type":7,"object":{}}"#,
            r#"{"type":"ERROR","object":{"code":"410"}}"#,
            "\u{0}\u{1}",
        ] {
            assert!(
                !matches!(
                    decode_event::<Semaphore>(line, "1"),
                    Decoded::Changed { .. }
                ),
                "{line} must not decode as a change"
            );
        }
    }

    #[test]
    fn a_stream_line_is_bounded_and_must_be_text() {
        let mut buffer = Vec::new();
        let mut stream = BufReader::new(&b"one\n\xff\xfe\nlast"[..]);
        assert_eq!(next_line(&mut stream, &mut buffer), Some(Some("one")));
        assert_eq!(next_line(&mut stream, &mut buffer), Some(None), "not UTF-8");
        assert_eq!(next_line(&mut stream, &mut buffer), Some(Some("last")));
        assert_eq!(next_line(&mut stream, &mut buffer), None);
        let endless = std::io::repeat(b'x').take(MAX_EVENT_LINE + 10);
        let mut endless = BufReader::new(endless);
        assert_eq!(next_line(&mut endless, &mut buffer), Some(None), "too long");
        assert!(buffer.len() as u64 <= MAX_EVENT_LINE);
    }

    #[test]
    fn newer_versions_compare_as_numbers() {
        assert!(is_newer("100", "99"));
        assert!(!is_newer("99", "100"));
        assert!(!is_newer("5", "5"));
        assert!(is_newer("opaque", "5"), "unknown formats are assumed newer");
    }
}
