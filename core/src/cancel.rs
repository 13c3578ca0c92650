//! Cancellation of blocking waits from another thread.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type Wakers = HashMap<u64, Box<dyn Fn() + Send>>;

/// A handle that cancels the waits it was given to, from any thread.
///
/// Clones share state: cancel one and every wait using any clone returns
/// [`crate::Error::Cancelled`] promptly, leaving nothing held or queued.
/// A cancelled token stays cancelled.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<(bool, Wakers)>,
    next_id: AtomicU64,
}

impl CancelToken {
    /// A new, not yet cancelled token.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels every current and future wait that uses this token.
    pub fn cancel(&self) {
        let wakers = {
            let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        for wake in wakers.values() {
            wake();
        }
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Blocks until the token is cancelled or `timeout` passes (`None`:
    /// no limit); true when cancelled.
    pub fn wait(&self, timeout: Option<std::time::Duration>) -> bool {
        let (sender, receiver) = std::sync::mpsc::channel::<()>();
        let _guard = self.on_cancel(Box::new(move || {
            let _ = sender.send(());
        }));
        match timeout {
            Some(timeout) => receiver.recv_timeout(timeout).is_ok(),
            None => receiver.recv().is_ok(),
        }
    }

    /// Runs `wake` on cancellation (at once if already cancelled) until the guard drops.
    pub(crate) fn on_cancel(&self, wake: Box<dyn Fn() + Send>) -> CancelGuard {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 {
            drop(state);
            wake();
        } else {
            state.1.insert(id, wake);
        }
        CancelGuard {
            token: self.clone(),
            id,
        }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Unregisters a cancellation callback when dropped.
pub(crate) struct CancelGuard {
    token: CancelToken,
    id: u64,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let mut state = self
            .token
            .inner
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        state.1.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn cancel_wakes_registered_callbacks_once_and_stays_cancelled() {
        let token = CancelToken::new();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let _guard = token.on_cancel(Box::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        }));
        assert!(!token.is_cancelled());
        token.clone().cancel();
        token.cancel();
        assert!(token.is_cancelled());
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let h = hits.clone();
        let _late = token.on_cancel(Box::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "late registration fires at once"
        );
    }

    #[test]
    fn wait_returns_on_cancel_from_another_thread_or_on_timeout() {
        let token = CancelToken::new();
        assert!(!token.wait(Some(std::time::Duration::from_millis(10))));
        let other = token.clone();
        let started = std::time::Instant::now();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            other.cancel();
        });
        assert!(token.wait(None));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        canceller.join().unwrap();
        assert!(
            token.wait(Some(std::time::Duration::ZERO)),
            "stays cancelled"
        );
    }

    #[test]
    fn dropped_guard_is_not_called() {
        let token = CancelToken::new();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        drop(token.on_cancel(Box::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        })));
        token.cancel();
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }
}
