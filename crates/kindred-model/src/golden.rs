use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Address, CanonicalEvent, Channel, Identifier};

/// Where a golden value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub channel: Channel,
    pub event_id: String,
    pub event_time_ms: i64,
}

/// A golden attribute value with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Provenance,
}

impl<T> Sourced<T> {
    fn from_event(value: T, event: &CanonicalEvent) -> Self {
        Sourced {
            value,
            source: Provenance {
                channel: event.channel,
                event_id: event.event_id.clone(),
                event_time_ms: event.event_time_ms,
            },
        }
    }

    /// Survivorship "most recent wins": the later event time wins; ties are
    /// broken by event id so the outcome never depends on arrival order.
    fn newer_than(&self, other: &Sourced<T>) -> bool {
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
    pub full_name: Option<Sourced<String>>,
    pub given_name: Option<Sourced<String>>,
    pub family_name: Option<Sourced<String>>,
    pub birthday: Option<Sourced<String>>,
    pub gender: Option<Sourced<String>>,
    pub address: Option<Sourced<Address>>,
    /// Latest consent per `purpose:channel`.
    pub consents: BTreeMap<String, Sourced<bool>>,
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
            given_name: None,
            family_name: None,
            birthday: None,
            gender: None,
            address: None,
            consents: BTreeMap::new(),
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
        let a = &event.attributes;
        let sourced = |v: &Option<String>| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| Sourced::from_event(v.clone(), event))
        };
        choose_newer(&mut self.full_name, sourced(&a.full_name));
        choose_newer(&mut self.given_name, sourced(&a.given_name));
        choose_newer(&mut self.family_name, sourced(&a.family_name));
        choose_newer(&mut self.birthday, sourced(&a.birthday));
        choose_newer(&mut self.gender, sourced(&a.gender));
        choose_newer(
            &mut self.address,
            a.address.clone().map(|v| Sourced::from_event(v, event)),
        );
        for c in &event.consents {
            let slot = self.consents.entry(format!("{}:{}", c.purpose, c.channel));
            let candidate = Some(Sourced::from_event(c.granted, event));
            match slot {
                std::collections::btree_map::Entry::Vacant(v) => {
                    if let Some(c) = candidate {
                        v.insert(c);
                    }
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let mut current = Some(o.get().clone());
                    choose_newer(&mut current, candidate);
                    if let Some(c) = current {
                        *o.get_mut() = c;
                    }
                }
            }
        }
        self.first_seen_ms = self.first_seen_ms.min(event.event_time_ms);
        self.last_seen_ms = self.last_seen_ms.max(event.event_time_ms);
        self.event_count += 1;
        if let Some(order) = &event.activity.order {
            self.order_count += 1;
            *self.spend_minor.entry(order.currency.clone()).or_insert(0) += order.amount_minor;
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
        choose_newer(&mut self.given_name, other.given_name);
        choose_newer(&mut self.family_name, other.family_name);
        choose_newer(&mut self.birthday, other.birthday);
        choose_newer(&mut self.gender, other.gender);
        choose_newer(&mut self.address, other.address);
        for (key, consent) in other.consents {
            let mut current = self.consents.remove(&key);
            choose_newer(&mut current, Some(consent));
            if let Some(c) = current {
                self.consents.insert(key, c);
            }
        }
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

fn choose_newer<T>(slot: &mut Option<Sourced<T>>, candidate: Option<Sourced<T>>) {
    let Some(candidate) = candidate else {
        return;
    };
    match slot {
        Some(current) if !candidate.newer_than(current) => {}
        _ => *slot = Some(candidate),
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
    use crate::{Activity, Attributes, Consent, IdentifierKind, Order};

    fn event(id: &str, t: i64, name: Option<&str>, points: i64) -> CanonicalEvent {
        CanonicalEvent {
            event_id: id.into(),
            channel: Channel::Pos,
            event_time_ms: t,
            identifiers: vec![Identifier::new(IdentifierKind::MemberId, id)],
            attributes: Attributes {
                full_name: name.map(Into::into),
                ..Attributes::default()
            },
            activity: Activity {
                event_type: "purchase".into(),
                order: Some(Order {
                    order_id: id.into(),
                    amount_minor: 100,
                    currency: "CNY".into(),
                    lines: vec![],
                    payment_type: None,
                    store_id: None,
                }),
                points_earned: points,
                ..Activity::default()
            },
            consents: vec![Consent {
                purpose: "marketing".into(),
                channel: "sms".into(),
                granted: t > 15,
            }],
            dropped: vec![],
        }
    }

    #[test]
    fn most_recent_values_win_regardless_of_arrival_order() {
        let a = event("a", 10, Some("Old Name"), 5);
        let b = event("b", 20, Some("New Name"), 7);
        let mut forward = GoldenRecord::new("p".into(), &a);
        forward.absorb_event(&b);
        let mut backward = GoldenRecord::new("p".into(), &b);
        backward.absorb_event(&a);
        assert_eq!(forward, backward);
        assert_eq!(
            forward.full_name.as_ref().map(|n| n.value.as_str()),
            Some("New Name")
        );
        assert!(forward.consents["marketing:sms"].value);
        assert_eq!(forward.points_balance, 12);
        assert_eq!(forward.spend_minor.get("CNY"), Some(&200));
        assert_eq!((forward.first_seen_ms, forward.last_seen_ms), (10, 20));
    }

    #[test]
    fn merging_profiles_equals_folding_all_their_events() {
        let (a, b, c) = (
            event("a", 10, Some("A"), 1),
            event("b", 30, None, 2),
            event("c", 20, Some("C"), 3),
        );
        let mut one = GoldenRecord::new("p".into(), &a);
        one.absorb_event(&b);
        one.absorb_event(&c);
        let mut left = GoldenRecord::new("p".into(), &a);
        let mut right = GoldenRecord::new("q".into(), &c);
        right.absorb_event(&b);
        left.absorb_profile(right);
        assert_eq!(one, left);
    }

    #[test]
    fn empty_name_never_overwrites_a_known_one() {
        let mut r = GoldenRecord::new("p".into(), &event("a", 10, Some("Ann"), 0));
        r.absorb_event(&event("b", 20, Some(""), 0));
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann"));
    }
}
