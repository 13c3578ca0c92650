//! The holder/waiter bookkeeping shared by semaphores and leases, as pure logic.
//!
//! A `Slots` value is the coordination state of one object. Every change is
//! made on a fresh copy of the object and written back with its
//! resourceVersion, so these functions never see concurrent updates.

use crate::resource::{HolderRecord, WaiterRecord};

/// Where a holder identity stands in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Holds a slot with this fencing token.
    Holding(u64),
    /// Queued at this index (0 = head).
    Queued(usize),
    /// Neither.
    Absent,
}

/// Holders, waiters and the fencing counter of one semaphore or lease.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    /// Maximum number of holders.
    pub capacity: u32,
    /// Current holders.
    pub holders: Vec<HolderRecord>,
    /// Queue of waiters, head first.
    pub waiters: Vec<WaiterRecord>,
    /// Last fencing token handed out.
    pub fencing: u64,
}

impl Slots {
    /// Where `holder` stands: holding, queued (with its rank in grant order) or absent.
    pub fn place(&self, holder: &str) -> Place {
        if let Some(h) = self.holders.iter().find(|h| h.holder == holder) {
            return Place::Holding(h.token);
        }
        match self
            .grant_order()
            .iter()
            .position(|&i| self.waiters[i].holder == holder)
        {
            Some(rank) => Place::Queued(rank),
            None => Place::Absent,
        }
    }

    /// Where the acquisition with `ticket` stands: holding or queued only
    /// in records that carry this ticket, whoever else uses the name.
    pub fn place_of(&self, holder: &str, ticket: &str) -> Place {
        let mine = |h: &str, t: &str| h == holder && !ticket.is_empty() && t == ticket;
        if let Some(h) = self.holders.iter().find(|h| mine(&h.holder, &h.ticket)) {
            return Place::Holding(h.token);
        }
        match self
            .grant_order()
            .iter()
            .position(|&i| mine(&self.waiters[i].holder, &self.waiters[i].ticket))
        {
            Some(rank) => Place::Queued(rank),
            None => Place::Absent,
        }
    }

    /// Removes every record of the acquisition with `ticket` (its grant or
    /// its waiter entries, duplicates included). True when something was removed.
    pub fn withdraw(&mut self, ticket: &str) -> bool {
        if ticket.is_empty() {
            return false;
        }
        let before = self.holders.len() + self.waiters.len();
        self.holders.retain(|h| h.ticket != ticket);
        self.waiters.retain(|w| w.ticket != ticket);
        before != self.holders.len() + self.waiters.len()
    }

    /// Indices into `waiters` in grant order: higher priority first, then
    /// arrival (the order of the list, which only ever grows at the end).
    pub fn grant_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.waiters.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.waiters[i].priority));
        order
    }

    /// Number of free slots.
    pub fn free(&self) -> usize {
        (self.capacity as usize).saturating_sub(self.holders.len())
    }

    /// Grants a slot directly; the caller checked that one is free and nobody queues.
    pub fn take(&mut self, holder: &str, ticket: &str, priority: i32, ttl: &str, now: &str) -> u64 {
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
        });
        self.fencing
    }

    /// Queues a waiter at the end of the list; [`Slots::grant_order`] puts it
    /// behind everyone of equal or higher priority.
    pub fn enqueue(&mut self, waiter: WaiterRecord) {
        self.waiters.push(waiter);
    }

    /// Hands free slots to the head of the queue; returns who was granted.
    /// Every write calls this, so a release is also the hand-off.
    pub fn grant_free(&mut self, now: &str) -> Vec<String> {
        let mut granted = Vec::new();
        while self.free() > 0 && !self.waiters.is_empty() {
            let waiter = self.waiters.remove(self.grant_order()[0]);
            if self.holders.iter().any(|h| h.holder == waiter.holder) {
                // A duplicate entry (an append retried after a lost answer).
                continue;
            }
            self.fencing += 1;
            granted.push(waiter.holder.clone());
            self.holders.push(HolderRecord {
                holder: waiter.holder,
                ticket: waiter.ticket,
                token: self.fencing,
                priority: waiter.priority,
                acquired_at: now.to_owned(),
                renewed_at: now.to_owned(),
                renew_count: 0,
                ttl: waiter.hold_ttl,
            });
        }
        granted
    }

    /// Removes a holder (only if it still has `token`, when given) and any
    /// waiter entry of the same identity. Returns true when something was removed.
    pub fn remove(&mut self, holder: &str, token: Option<u64>) -> bool {
        let before = self.holders.len() + self.waiters.len();
        self.holders
            .retain(|h| !(h.holder == holder && token.map_or(true, |t| t == h.token)));
        self.waiters.retain(|w| w.holder != holder);
        before != self.holders.len() + self.waiters.len()
    }

    /// Records a renewal of the holder with `token`; false when it no longer holds.
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
                true
            }
            None => false,
        }
    }

    /// Records a waiter's heartbeat; false when it is no longer queued.
    pub fn heartbeat(&mut self, holder: &str, now: &str) -> bool {
        match self.waiters.iter_mut().find(|w| w.holder == holder) {
            Some(record) => {
                record.renew_count += 1;
                record.renewed_at = now.to_owned();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(holder: &str, priority: i32) -> WaiterRecord {
        WaiterRecord {
            holder: holder.into(),
            priority,
            ttl: "30s".into(),
            hold_ttl: "1m0s".into(),
            ..WaiterRecord::default()
        }
    }

    fn slots(capacity: u32) -> Slots {
        Slots {
            capacity,
            ..Slots::default()
        }
    }

    #[test]
    fn queue_orders_by_priority_then_arrival() {
        let mut s = slots(1);
        s.enqueue(waiter("a", 0));
        s.enqueue(waiter("b", 5));
        s.enqueue(waiter("c", 0));
        s.enqueue(waiter("d", 5));
        s.enqueue(waiter("e", -1));
        let order: Vec<_> = s
            .grant_order()
            .iter()
            .map(|&i| s.waiters[i].holder.as_str())
            .collect();
        assert_eq!(order, ["b", "d", "a", "c", "e"]);
        assert_eq!(s.place("a"), Place::Queued(2));
        s.capacity = 5;
        assert_eq!(s.grant_free("t"), ["b", "d", "a", "c", "e"]);
    }

    #[test]
    fn release_hands_the_slot_to_the_head_with_a_larger_token() {
        let mut s = slots(2);
        let t1 = s.take("x", "", 0, "1m0s", "t0");
        let t2 = s.take("y", "", 0, "1m0s", "t0");
        s.enqueue(waiter("w1", 0));
        s.enqueue(waiter("w2", 0));
        assert!(
            s.grant_free("t1").is_empty(),
            "no free slot, nothing granted"
        );
        assert!(s.remove("x", Some(t1)));
        assert_eq!(s.grant_free("t2"), ["w1"]);
        assert_eq!(s.place("w1"), Place::Holding(t2 + 1));
        assert_eq!(s.place("w2"), Place::Queued(0));
        assert_eq!(s.holders.len(), 2);
        assert_eq!(
            s.holders[1].ttl, "1m0s",
            "granted holder keeps the TTL it asked for"
        );
    }

    #[test]
    fn never_more_holders_than_capacity() {
        let mut s = slots(3);
        for i in 0..10 {
            s.enqueue(waiter(&format!("w{i}"), i % 3));
        }
        s.grant_free("t");
        assert_eq!(s.holders.len(), 3);
        assert_eq!(s.waiters.len(), 7);
        let tokens: Vec<u64> = s.holders.iter().map(|h| h.token).collect();
        assert_eq!(tokens, [1, 2, 3]);
    }

    #[test]
    fn remove_with_a_stale_token_keeps_the_new_grant() {
        let mut s = slots(1);
        let old = s.take("x", "", 0, "1s", "t");
        s.holders.clear();
        let new = s.take("x", "", 0, "1s", "t");
        assert!(new > old);
        assert!(!s.remove("x", Some(old)));
        assert!(!s.renew("x", old, "1s", "t"));
        assert!(s.renew("x", new, "2s", "t2"));
        assert_eq!(s.holders[0].renew_count, 1);
        assert_eq!(s.holders[0].ttl, "2s");
    }

    #[test]
    fn a_duplicate_waiter_entry_is_never_granted_twice() {
        let mut s = slots(2);
        s.enqueue(waiter("w", 0));
        s.enqueue(waiter("w", 0));
        assert_eq!(s.grant_free("t"), ["w"]);
        assert_eq!(s.holders.len(), 1);
        assert!(s.waiters.is_empty());
        let token = s.holders[0].token;
        s.enqueue(waiter("w", 0));
        assert!(s.remove("w", Some(token)));
        assert!(
            s.holders.is_empty() && s.waiters.is_empty(),
            "release clears stray entries"
        );
    }

    #[test]
    fn heartbeat_only_for_queued_waiters() {
        let mut s = slots(1);
        s.enqueue(waiter("w", 0));
        assert!(s.heartbeat("w", "t"));
        assert_eq!(s.waiters[0].renew_count, 1);
        assert!(!s.heartbeat("nobody", "t"));
        assert!(s.remove("w", None));
        assert_eq!(s.place("w"), Place::Absent);
    }

    #[test]
    fn a_ticket_tells_two_callers_with_one_holder_name_apart() {
        let mut s = slots(1);
        let token = s.take("pod-a", "ticket-1", 0, "1m0s", "t0");
        s.enqueue(WaiterRecord {
            ticket: "ticket-2".to_owned(),
            ..waiter("pod-a", 0)
        });
        assert_eq!(s.place_of("pod-a", "ticket-1"), Place::Holding(token));
        assert_eq!(s.place_of("pod-a", "ticket-2"), Place::Queued(0));
        assert_eq!(s.place_of("pod-a", "ticket-3"), Place::Absent);
        assert_eq!(
            s.place_of("pod-a", ""),
            Place::Absent,
            "no ticket, no match"
        );
        assert!(s.withdraw("ticket-2"));
        assert_eq!(s.holders.len(), 1, "the other caller's grant stays");
        assert!(!s.withdraw("ticket-2"));
        assert!(!s.withdraw(""), "an empty ticket withdraws nothing");
    }

    #[test]
    fn a_hand_off_carries_the_waiters_ticket_into_its_grant() {
        let mut s = slots(1);
        s.enqueue(WaiterRecord {
            ticket: "ticket-w".to_owned(),
            ..waiter("w", 0)
        });
        s.grant_free("t1");
        assert_eq!(s.holders[0].ticket, "ticket-w");
        assert_eq!(s.place_of("w", "ticket-w"), Place::Holding(s.fencing));
    }
}
