use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{CanonicalEvent, Channel, Identifier};

/// Where a golden value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub channel: Channel,
    pub event_id: String,
    pub event_time_ms: i64,
}

/// A golden attribute value with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced {
    pub value: String,
    pub source: Provenance,
}

impl Sourced {
    /// Survivorship "most recent wins": the later event time wins; ties are
    /// broken by event id so the outcome never depends on arrival order.
    fn newer_than(&self, other: &Sourced) -> bool {
        (self.source.event_time_ms, &self.source.event_id)
            > (other.source.event_time_ms, &other.source.event_id)
    }
}

/// The merged, trusted profile of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenRecord {
    pub profile_id: String,
    /// Monotonic per profile: every published change carries the next version.
    pub version: i64,
    /// All identifiers linked to this person, sorted.
    pub identifiers: Vec<Identifier>,
    pub full_name: Option<Sourced>,
    /// Channels the person was seen on, sorted.
    pub channels: Vec<Channel>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub event_count: i64,
    pub order_count: i64,
    /// Total spend per ISO currency code, in minor units.
    pub spend_minor: BTreeMap<String, i64>,
    /// Loyalty points earned minus redeemed, across all channels.
    pub points_balance: i64,
}

impl GoldenRecord {
    /// A new profile seeded from its first event.
    pub fn new(profile_id: String, event: &CanonicalEvent) -> Self {
        let mut record = GoldenRecord {
            profile_id,
            version: 0,
            identifiers: Vec::new(),
            full_name: None,
            channels: Vec::new(),
            first_seen_ms: event.event_time_ms,
            last_seen_ms: event.event_time_ms,
            event_count: 0,
            order_count: 0,
            spend_minor: BTreeMap::new(),
            points_balance: 0,
        };
        record.absorb_event(event);
        record
    }

    /// Folds one event into the record. Every rule here is commutative and
    /// associative, so the result does not depend on the order events arrive in.
    pub fn absorb_event(&mut self, event: &CanonicalEvent) {
        for id in &event.identifiers {
            insert_sorted(&mut self.identifiers, id.clone());
        }
        insert_sorted(&mut self.channels, event.channel);
        if let Some(name) = event
            .attributes
            .full_name
            .as_ref()
            .filter(|n| !n.is_empty())
        {
            let candidate = Sourced {
                value: name.clone(),
                source: Provenance {
                    channel: event.channel,
                    event_id: event.event_id.clone(),
                    event_time_ms: event.event_time_ms,
                },
            };
            choose_newer(&mut self.full_name, Some(candidate));
        }
        self.first_seen_ms = self.first_seen_ms.min(event.event_time_ms);
        self.last_seen_ms = self.last_seen_ms.max(event.event_time_ms);
        self.event_count += 1;
        if let Some(amount) = event.activity.order_amount_minor {
            self.order_count += 1;
            let currency = event.activity.currency.clone().unwrap_or_default();
            *self.spend_minor.entry(currency).or_insert(0) += amount;
        }
        self.points_balance += event.activity.points_earned - event.activity.points_redeemed;
    }

    /// Folds an absorbed profile into this survivor (a merge).
    pub fn absorb_profile(&mut self, other: GoldenRecord) {
        for id in other.identifiers {
            insert_sorted(&mut self.identifiers, id);
        }
        for channel in other.channels {
            insert_sorted(&mut self.channels, channel);
        }
        choose_newer(&mut self.full_name, other.full_name);
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.event_count += other.event_count;
        self.order_count += other.order_count;
        for (currency, amount) in other.spend_minor {
            *self.spend_minor.entry(currency).or_insert(0) += amount;
        }
        self.points_balance += other.points_balance;
    }
}

fn choose_newer(slot: &mut Option<Sourced>, candidate: Option<Sourced>) {
    match (slot.as_ref(), candidate) {
        (_, None) => {}
        (None, Some(c)) => *slot = Some(c),
        (Some(current), Some(c)) => {
            if c.newer_than(current) {
                *slot = Some(c);
            }
        }
    }
}

fn insert_sorted<T: Ord>(items: &mut Vec<T>, item: T) {
    if let Err(pos) = items.binary_search(&item) {
        items.insert(pos, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activity, Attributes, IdentifierKind};

    fn event(id: &str, t: i64, name: Option<&str>, points: i64) -> CanonicalEvent {
        CanonicalEvent {
            event_id: id.into(),
            channel: Channel::Pos,
            event_time_ms: t,
            identifiers: vec![Identifier::new(IdentifierKind::MemberId, id)],
            attributes: Attributes {
                full_name: name.map(Into::into),
            },
            activity: Activity {
                order_amount_minor: Some(100),
                currency: Some("CNY".into()),
                points_earned: points,
                points_redeemed: 0,
            },
            dropped_identifiers: vec![],
        }
    }

    #[test]
    fn most_recent_name_wins_regardless_of_arrival_order() {
        let a = event("a", 10, Some("Old Name"), 5);
        let b = event("b", 20, Some("New Name"), 7);
        let mut forward = GoldenRecord::new("p".into(), &a);
        forward.absorb_event(&b);
        let mut backward = GoldenRecord::new("p".into(), &b);
        backward.absorb_event(&a);
        assert_eq!(forward, backward);
        assert_eq!(
            forward.full_name.map(|n| n.value).as_deref(),
            Some("New Name")
        );
        assert_eq!(forward.points_balance, 12);
        assert_eq!(forward.spend_minor.get("CNY"), Some(&200));
        assert_eq!((forward.first_seen_ms, forward.last_seen_ms), (10, 20));
    }

    #[test]
    fn empty_name_never_overwrites_a_known_one() {
        let mut r = GoldenRecord::new("p".into(), &event("a", 10, Some("Ann"), 0));
        r.absorb_event(&event("b", 20, Some(""), 0));
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann"));
    }
}
