//! The holders of one semaphore or lease, as pure logic.
//!
//! A `Slots` value is the coordination state kept in the contended object:
//! its holders and fencing counter, O(permits) in size. The queue lives in
//! [`Waiter`](crate::resource::Waiter) objects of its own. Every change is
//! made on a fresh copy of the object and written back guarded, so these
//! functions never see concurrent updates.

use crate::resource::{HolderRecord, LockMode};

/// Where an acquisition stands in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Holds a slot with this fencing token.
    Holding(u64),
    /// Holds nothing.
    Absent,
}

/// A queued acquisition a slot can be handed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Holder identity.
    pub holder: &'a str,
    /// The acquisition's ticket.
    pub ticket: &'a str,
    /// Its priority.
    pub priority: i32,
    /// Its liveness TTL as written in its waiter object: the grant lives
    /// this long until the waiter renews it.
    pub ttl: &'a str,
    /// The heartbeat count of its waiter object the granter saw.
    pub heartbeat: u64,
    /// How it wants an RWMutex; none for the other kinds.
    pub mode: Option<LockMode>,
}

/// Holders and the fencing counter of one semaphore or lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    /// Maximum number of holders.
    pub capacity: u32,
    /// Current holders.
    pub holders: Vec<HolderRecord>,
    /// Last fencing token handed out.
    pub fencing: u64,
    /// Tickets of the latest grants given back or reclaimed, newest last (at
    /// most [`FINISHED`]): another process's view of the queue may still list
    /// such a waiter for a moment, and a slot is never handed to it.
    pub finished: Vec<String>,
}

/// How many finished tickets an object remembers.
pub const FINISHED: usize = 32;

impl Slots {
    /// Where `holder` stands by name alone (records of older clients carry no ticket).
    pub fn place(&self, holder: &str) -> Place {
        match self.holders.iter().find(|h| h.holder == holder) {
            Some(h) => Place::Holding(h.token),
            None => Place::Absent,
        }
    }

    /// Where the acquisition with `ticket` stands: holding only in a record
    /// that carries this ticket, whoever else uses the name.
    pub fn place_of(&self, holder: &str, ticket: &str) -> Place {
        match self.record_of(ticket) {
            Some(h) if h.holder == holder => Place::Holding(h.token),
            _ => Place::Absent,
        }
    }

    /// The holder record of the acquisition with `ticket`.
    pub fn record_of(&self, ticket: &str) -> Option<&HolderRecord> {
        if ticket.is_empty() {
            return None;
        }
        self.holders.iter().find(|h| h.ticket == ticket)
    }

    /// True when the acquisition with `ticket` holds a slot.
    pub fn holds(&self, ticket: &str) -> bool {
        self.record_of(ticket).is_some()
    }

    /// True when the acquisition with `ticket` holds a slot or has finished:
    /// it waits no more, whatever a view of the queue still says.
    pub fn served(&self, ticket: &str) -> bool {
        self.holds(ticket) || self.finished.iter().any(|t| t == ticket)
    }

    /// Removes the grant of the acquisition with `ticket`. True when removed.
    pub fn withdraw(&mut self, ticket: &str) -> bool {
        if ticket.is_empty() || !self.holds(ticket) {
            return false;
        }
        self.holders.retain(|h| h.ticket != ticket);
        self.finish(ticket.to_owned());
        true
    }

    /// Notes that the acquisition with `ticket` is over.
    fn finish(&mut self, ticket: String) {
        if ticket.is_empty() || self.finished.contains(&ticket) {
            return;
        }
        self.finished.push(ticket);
        let excess = self.finished.len().saturating_sub(FINISHED);
        self.finished.drain(..excess);
    }

    /// Removes the holders for which `stale` is true (noting their tickets
    /// as finished); returns how many.
    pub fn evict(&mut self, stale: impl Fn(&HolderRecord) -> bool) -> usize {
        let (gone, kept): (Vec<_>, Vec<_>) = self.holders.drain(..).partition(|h| stale(h));
        self.holders = kept;
        let count = gone.len();
        for holder in gone {
            self.finish(holder.ticket);
        }
        count
    }

    /// Number of free slots.
    pub fn free(&self) -> usize {
        (self.capacity as usize).saturating_sub(self.holders.len())
    }

    /// True when a writer holds (an RWMutex held for writing).
    pub fn write_held(&self) -> bool {
        self.holders.iter().any(|h| h.mode == Some(LockMode::Write))
    }

    /// True when some acquisition could be granted now: a slot is free and
    /// no writer holds.
    pub fn open(&self) -> bool {
        self.free() > 0 && !self.write_held()
    }

    /// The grant rule: whether an acquisition wanting `mode`, with `ahead`
    /// live waiters ahead of it that hold nothing yet, is granted now.
    /// Without a mode (semaphores, leases, mutexes): when more slots are
    /// free than waiters are ahead. An RWMutex is strict FIFO: only with
    /// nobody ahead, and then a reader when no writer holds (and fewer than
    /// `capacity` readers do), a writer when nobody holds.
    pub fn admits(&self, mode: Option<LockMode>, ahead: usize) -> bool {
        match mode {
            None => self.free() > ahead,
            Some(LockMode::Read) => ahead == 0 && self.open(),
            Some(LockMode::Write) => ahead == 0 && self.holders.is_empty(),
        }
    }

    /// Grants a slot to a caller writing for itself; the caller checked
    /// [`Slots::admits`].
    pub fn take(
        &mut self,
        holder: &str,
        ticket: &str,
        priority: i32,
        ttl: &str,
        now: &str,
        mode: Option<LockMode>,
    ) -> u64 {
        self.fencing += 1;
        self.holders.push(HolderRecord {
            holder: holder.to_owned(),
            ticket: ticket.to_owned(),
            token: self.fencing,
            priority,
            acquired_at: now.to_owned(),
            renewed_at: now.to_owned(),
            renew_count: 0,
            ttl: ttl.to_owned(),
            handoff: None,
            mode,
        });
        self.fencing
    }

    /// Hands a free slot to a queued acquisition (a release's hand-off): the
    /// grant lives for the waiter's liveness TTL until it renews. False when
    /// the grant rule does not admit it (counting nobody ahead: the caller
    /// hands over in queue order) or the acquisition already holds one.
    pub fn hand_to(&mut self, waiter: &Candidate, now: &str) -> bool {
        if !self.admits(waiter.mode, 0) || self.served(waiter.ticket) {
            return false;
        }
        self.fencing += 1;
        self.holders.push(HolderRecord {
            holder: waiter.holder.to_owned(),
            ticket: waiter.ticket.to_owned(),
            token: self.fencing,
            priority: waiter.priority,
            acquired_at: now.to_owned(),
            renewed_at: now.to_owned(),
            renew_count: 0,
            ttl: waiter.ttl.to_owned(),
            handoff: Some(waiter.heartbeat),
            mode: waiter.mode,
        });
        true
    }

    /// Removes a holder (only if it still has `token`, when given). True
    /// when something was removed.
    pub fn remove(&mut self, holder: &str, token: Option<u64>) -> bool {
        self.evict(|h| h.holder == holder && token.map_or(true, |t| t == h.token)) > 0
    }

    /// Records a renewal of the holder with `token` (which also ends a
    /// hand-off's short first TTL); false when it no longer holds.
    pub fn renew(&mut self, holder: &str, token: u64, ttl: &str, now: &str) -> bool {
        match self
            .holders
            .iter_mut()
            .find(|h| h.holder == holder && h.token == token)
        {
            Some(record) => {
                record.renew_count += 1;
                record.renewed_at = now.to_owned();
                record.ttl = ttl.to_owned();
                record.handoff = None;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(capacity: u32) -> Slots {
        Slots {
            capacity,
            ..Slots::default()
        }
    }

    fn candidate<'a>(holder: &'a str, ticket: &'a str) -> Candidate<'a> {
        Candidate {
            holder,
            ticket,
            priority: 0,
            ttl: "10s",
            heartbeat: 3,
            mode: None,
        }
    }

    #[test]
    fn a_hand_off_gets_a_larger_token_and_the_waiters_liveness_ttl() {
        let mut s = slots(2);
        let t1 = s.take("x", "tx", 0, "1m0s", "t0", None);
        s.take("y", "ty", 0, "1m0s", "t0", None);
        assert!(!s.hand_to(&candidate("w", "tw"), "t1"), "no free slot");
        assert!(s.remove("x", Some(t1)));
        assert!(s.hand_to(&candidate("w", "tw"), "t2"));
        let record = s.record_of("tw").expect("granted");
        assert_eq!(record.token, 3);
        assert_eq!(record.ttl, "10s");
        assert_eq!(record.handoff, Some(3));
        assert_eq!(s.place_of("w", "tw"), Place::Holding(3));
        assert!(
            !s.hand_to(&candidate("w", "tw"), "t3"),
            "never granted twice"
        );
    }

    #[test]
    fn a_finished_ticket_is_never_handed_a_slot_again_and_the_memory_is_bounded() {
        let mut s = slots(1);
        assert!(s.hand_to(&candidate("w", "tw"), "t1"));
        let token = s.fencing;
        assert!(s.remove("w", Some(token)));
        assert!(
            !s.hand_to(&candidate("w", "tw"), "t2"),
            "a stale view of the queue still lists w: it must not get the slot back"
        );
        for i in 0..100 {
            s.take("x", &format!("t{i}"), 0, "1s", "t", None);
            assert!(s.withdraw(&format!("t{i}")));
        }
        assert_eq!(s.finished.len(), FINISHED);
        assert_eq!(s.finished.last().map(String::as_str), Some("t99"));
    }

    #[test]
    fn never_more_holders_than_capacity() {
        let mut s = slots(3);
        let tickets: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let granted = tickets
            .iter()
            .filter(|t| s.hand_to(&candidate("w", t), "now"))
            .count();
        assert_eq!(granted, 3);
        let tokens: Vec<u64> = s.holders.iter().map(|h| h.token).collect();
        assert_eq!(tokens, [1, 2, 3]);
    }

    #[test]
    fn remove_with_a_stale_token_keeps_the_new_grant_and_renewal_ends_a_hand_off() {
        let mut s = slots(1);
        let old = s.take("x", "", 0, "1s", "t", None);
        s.holders.clear();
        assert!(s.hand_to(&candidate("x", "t2"), "t"));
        let new = s.fencing;
        assert!(new > old);
        assert!(!s.remove("x", Some(old)));
        assert!(!s.renew("x", old, "1s", "t"));
        assert!(s.renew("x", new, "2s", "t2"));
        assert_eq!(s.holders[0].renew_count, 1);
        assert_eq!(s.holders[0].ttl, "2s");
        assert_eq!(s.holders[0].handoff, None);
    }

    #[test]
    fn a_ticket_tells_two_callers_with_one_holder_name_apart() {
        let mut s = slots(2);
        let token = s.take("pod-a", "ticket-1", 0, "1m0s", "t0", None);
        assert_eq!(s.place_of("pod-a", "ticket-1"), Place::Holding(token));
        assert_eq!(s.place_of("pod-a", "ticket-2"), Place::Absent);
        assert_eq!(
            s.place_of("pod-a", ""),
            Place::Absent,
            "no ticket, no match"
        );
        assert_eq!(s.place("pod-a"), Place::Holding(token));
        assert!(!s.withdraw("ticket-2"));
        assert!(!s.withdraw(""), "an empty ticket withdraws nothing");
        assert!(s.withdraw("ticket-1"));
        assert!(s.holders.is_empty());
    }

    #[test]
    fn the_grant_rule_admits_readers_together_and_a_writer_alone() {
        let mut s = slots(2);
        assert!(s.admits(Some(LockMode::Write), 0));
        assert!(
            !s.admits(Some(LockMode::Write), 1),
            "strict FIFO: nobody ahead"
        );
        s.take("r1", "t1", 0, "1s", "t", Some(LockMode::Read));
        assert!(s.admits(Some(LockMode::Read), 0));
        assert!(
            !s.admits(Some(LockMode::Read), 1),
            "a reader never overtakes"
        );
        assert!(!s.admits(Some(LockMode::Write), 0));
        s.take("r2", "t2", 0, "1s", "t", Some(LockMode::Read));
        assert!(
            !s.admits(Some(LockMode::Read), 0),
            "at most capacity readers"
        );
        s.holders.clear();
        s.take("w", "t3", 0, "1s", "t", Some(LockMode::Write));
        assert!(s.write_held() && !s.open());
        assert!(!s.admits(Some(LockMode::Read), 0));
        assert!(!s.hand_to(
            &Candidate {
                mode: Some(LockMode::Read),
                ..candidate("r3", "t4")
            },
            "t"
        ));
    }
}
