//! Waiting until an object reaches a state, woken by its watch.

use std::time::Instant;

use crate::client::Shared;
use crate::error::{Error, Result};
use crate::observer::Event;
use crate::options::Options;
use crate::resource::Resource;
use crate::watch::{is_newer, Follow, Wake};

/// What a check of the object decided.
pub(crate) enum Check<T> {
    /// The wait is over with this value.
    Done(T),
    /// Keep waiting.
    Pending,
}

/// Reads `name` and waits until `check` says done, the timeout passes or the
/// caller cancels. A zero timeout checks once.
pub(crate) fn wait_until<K: Resource, T>(
    shared: &Shared,
    name: &str,
    holder: &str,
    options: &Options,
    mut check: impl FnMut(&K) -> Result<Check<T>>,
) -> Result<T> {
    let started = Instant::now();
    let what = format!("{} {}/{}", K::KIND.to_lowercase(), shared.namespace, name);
    let result = (|| {
        let what = what.clone();
        let deadline = options.deadline(started);
        let mut object: K = shared
            .objects
            .until(options.request_deadline(started))
            .get(&shared.namespace, name)?;
        let mut follow: Option<Follow<K>> = None;
        loop {
            if let Check::Done(value) = check(&object)? {
                return Ok(value);
            }
            if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return Err(Error::Cancelled { what });
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Timeout {
                    what,
                    waited: started.elapsed(),
                });
            }
            let follow = follow
                .get_or_insert_with(|| Follow::start(shared, &object, options.cancel.as_ref()));
            for wake in follow.changes(deadline) {
                match wake {
                    Wake::Changed(newer) => {
                        if is_newer(
                            &newer.metadata().resource_version,
                            &object.metadata().resource_version,
                        ) {
                            object = newer;
                        }
                    }
                    Wake::Deleted => {
                        return Err(crate::objects::not_found::<K>(&shared.namespace, name))
                    }
                    Wake::Failed(error) => return Err(error),
                    Wake::Cancelled => return Err(Error::Cancelled { what }),
                    Wake::Nudged => {}
                }
            }
        }
    })()
    .map_err(|error| match error {
        // A request cut off at the deadline: the caller's wait timed out.
        Error::Timeout { .. } => Error::Timeout {
            what,
            waited: started.elapsed(),
        },
        other => other,
    });
    if let Some(observer) = &options.observer {
        let event = Event {
            kind: K::KIND,
            namespace: &shared.namespace,
            name,
            holder,
        };
        observer.waited(&event, started.elapsed());
        if let Err(error) = &result {
            observer.error(&event, error);
        }
    }
    result
}
