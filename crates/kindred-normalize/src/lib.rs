//! Normalization: raw channel records in, canonical events out.
//!
//! Every function here is pure and total: it never panics and never fails on
//! any input. A value that cannot be used for identity is *dropped from
//! identity* with a recorded reason ([`kindred_model::DroppedIdentifier`]);
//! the event itself is always kept.
//!
//! Normalizing an already normalized value changes nothing (idempotence).

mod fields;

use kindred_model::raw::{PosTransaction, RawEvent, SocialInteraction, WebEvent};
use kindred_model::{
    Activity, Attributes, CanonicalEvent, Channel, DroppedIdentifier, Identifier, IdentifierKind,
};

pub use fields::{
    normalize_email, normalize_member_id, normalize_name, normalize_phone, normalize_social_id,
    Rejected,
};

/// Settings that change how values are read.
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    /// Country calling code assumed for national phone numbers without one ("86" for China).
    pub default_country_code: String,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            default_country_code: "86".to_string(),
        }
    }
}

/// Turns a raw record of any channel into a canonical event.
pub fn normalize(raw: &RawEvent, opts: &NormalizeOptions) -> CanonicalEvent {
    let mut ids = IdentifierSet::default();
    let (event_time_ms, full_name, activity) = match raw {
        RawEvent::Pos(e) => pos(e, opts, &mut ids),
        RawEvent::Web(e) => web(e, opts, &mut ids),
        RawEvent::Social(e) => social(e, opts, &mut ids),
    };
    let channel = raw.channel();
    let (identifiers, dropped_identifiers) = ids.finish();
    CanonicalEvent {
        event_id: event_id(channel, raw.source_id()),
        channel,
        event_time_ms,
        identifiers,
        attributes: Attributes {
            full_name: full_name.and_then(|n| normalize_name(&n)),
        },
        activity,
        dropped_identifiers,
    }
}

/// The stable source event id: `channel:source-id`.
pub fn event_id(channel: Channel, source_id: &str) -> String {
    format!("{}:{}", channel.as_str(), source_id.trim())
}

type Parts = (i64, Option<String>, Activity);

fn pos(e: &PosTransaction, opts: &NormalizeOptions, ids: &mut IdentifierSet) -> Parts {
    ids.add(IdentifierKind::MemberId, e.member_card_no.as_deref(), |v| {
        normalize_member_id(v)
    });
    ids.add(IdentifierKind::Phone, e.phone.as_deref(), |v| {
        normalize_phone(v, opts)
    });
    let activity = Activity {
        order_amount_minor: Some(e.amount_minor),
        currency: Some(e.currency.trim().to_ascii_uppercase()),
        points_earned: e.points_earned,
        points_redeemed: e.points_redeemed,
    };
    (e.event_time, e.customer_name.clone(), activity)
}

fn web(e: &WebEvent, opts: &NormalizeOptions, ids: &mut IdentifierSet) -> Parts {
    ids.add(IdentifierKind::Email, e.email.as_deref(), normalize_email);
    ids.add(IdentifierKind::Phone, e.phone.as_deref(), |v| {
        normalize_phone(v, opts)
    });
    let is_order = e.event_type.trim().eq_ignore_ascii_case("order");
    let activity = Activity {
        order_amount_minor: e.order_amount_minor.filter(|_| is_order),
        currency: e
            .currency
            .as_deref()
            .filter(|_| is_order)
            .map(|c| c.trim().to_ascii_uppercase()),
        points_earned: 0,
        points_redeemed: 0,
    };
    (e.event_time, e.name.clone(), activity)
}

fn social(e: &SocialInteraction, opts: &NormalizeOptions, ids: &mut IdentifierSet) -> Parts {
    ids.add(
        IdentifierKind::Social,
        Some(e.platform_user_id.as_str()),
        |v| normalize_social_id(&e.platform, v),
    );
    ids.add(IdentifierKind::Phone, e.phone.as_deref(), |v| {
        normalize_phone(v, opts)
    });
    ids.add(IdentifierKind::Email, e.email.as_deref(), normalize_email);
    (e.event_time, None, Activity::default())
}

/// Collects identifiers, sorted and de-duplicated, and the reasons for those dropped.
#[derive(Default)]
struct IdentifierSet {
    kept: Vec<Identifier>,
    dropped: Vec<DroppedIdentifier>,
}

impl IdentifierSet {
    fn add(
        &mut self,
        kind: IdentifierKind,
        raw: Option<&str>,
        normalize: impl FnOnce(&str) -> Result<String, Rejected>,
    ) {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return;
        };
        match normalize(raw) {
            Ok(value) => self.kept.push(Identifier::new(kind, value)),
            Err(rejected) => self.dropped.push(DroppedIdentifier {
                kind,
                reason: rejected.to_string(),
            }),
        }
    }

    fn finish(mut self) -> (Vec<Identifier>, Vec<DroppedIdentifier>) {
        self.kept.sort();
        self.kept.dedup();
        (self.kept, self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pos_event_becomes_canonical() {
        let raw = RawEvent::Pos(PosTransaction {
            transaction_id: " T-1 ".into(),
            store_id: "S1".into(),
            terminal_id: "2".into(),
            receipt_no: "9".into(),
            member_card_no: Some(" m-001 ".into()),
            phone: Some("138 0013 8000".into()),
            customer_name: Some("  Li   Wei ".into()),
            amount_minor: 500,
            currency: "cny".into(),
            points_earned: 5,
            points_redeemed: 1,
            event_time: 42,
        });
        let e = normalize(&raw, &NormalizeOptions::default());
        assert_eq!(e.event_id, "pos:T-1");
        assert_eq!(
            e.identifiers,
            vec![
                Identifier::new(IdentifierKind::MemberId, "M-001"),
                Identifier::new(IdentifierKind::Phone, "+8613800138000"),
            ]
        );
        assert_eq!(e.attributes.full_name.as_deref(), Some("Li Wei"));
        assert_eq!(e.activity.currency.as_deref(), Some("CNY"));
        assert!(e.dropped_identifiers.is_empty());
    }

    #[test]
    fn junk_identifier_is_dropped_with_reason_and_event_kept() {
        let raw = RawEvent::Web(WebEvent {
            event_id: "w1".into(),
            event_type: "signup".into(),
            user_id: None,
            email: Some("test@test.com".into()),
            phone: Some("12345678901".into()),
            name: None,
            order_amount_minor: Some(100),
            currency: Some("CNY".into()),
            event_time: 1,
        });
        let e = normalize(&raw, &NormalizeOptions::default());
        assert!(e.identifiers.is_empty());
        assert_eq!(e.dropped_identifiers.len(), 2);
        assert_eq!(
            e.activity.order_amount_minor, None,
            "only orders carry spend"
        );
    }
}
