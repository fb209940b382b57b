use std::fmt;

use serde::{Deserialize, Serialize};

use crate::raw::LineItem;
use crate::Identifier;

/// The source channel an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Pos,
    Web,
    Social,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Pos, Channel::Web, Channel::Social];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Pos => "pos",
            Channel::Web => "web",
            Channel::Social => "social",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown channel {s:?} (expected pos, web or social)"))
    }
}

/// A normalized postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 code where recognised (`CN`), else as given, upper-cased.
    pub country: Option<String>,
}

impl Address {
    /// Its six fields, in order: line 1, line 2, city, region, postal
    /// code, country.
    pub fn fields(&self) -> [&Option<String>; 6] {
        [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
    }
}

/// Descriptive attributes an event states about the person, normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// NFKC, whitespace folded; Latin names in title case, CJK names intact.
    pub full_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// `female`, `male` or `other`.
    pub gender: Option<String>,
    pub address: Option<Address>,
}

/// An order or receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    /// Total in minor units of `currency`; negative for a refund.
    pub amount_minor: i64,
    /// ISO 4217 code, upper-cased.
    pub currency: String,
    pub lines: Vec<LineItem>,
    pub payment_type: Option<String>,
    pub store_id: Option<String>,
}

/// What the person did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The source's event type, lower-case (`purchase`, `page_view`, `follow`, ...).
    pub event_type: String,
    pub order: Option<Order>,
    pub points_earned: i64,
    pub points_redeemed: i64,
    /// Products viewed or added to a cart.
    pub browsed_skus: Vec<String>,
}

/// A consent given or withdrawn, as of the event's time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Consent {
    /// Lower-case purpose, e.g. `marketing`.
    pub purpose: String,
    /// Lower-case contact channel, e.g. `email`, `sms`, or `all`.
    pub channel: String,
    pub granted: bool,
}

/// A value the normalizer refused, and why. Only the field name and a
/// low-cardinality reason are kept: the raw value may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// `phone`, `email`, `member_id`, `social`, `account`, `device`, `birthday`, `gender`, ...
    pub field: String,
    /// `empty`, `invalid`, `junk`, `blocklisted`.
    pub reason: String,
}

/// One source event after validation and normalization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalEvent {
    /// Stable id of the source event, `channel:source-id`; the resolver
    /// de-duplicates on it, so a redelivered event changes nothing.
    pub event_id: String,
    pub channel: Channel,
    /// When the event happened at the source, in milliseconds since the Unix epoch.
    pub event_time_ms: i64,
    /// Normalized identifiers, sorted and de-duplicated.
    pub identifiers: Vec<Identifier>,
    pub attributes: Attributes,
    pub activity: Activity,
    pub consents: Vec<Consent>,
    pub dropped: Vec<Dropped>,
}

impl CanonicalEvent {
    /// An event with these identifiers (sorted and de-duplicated here) and
    /// nothing else: no attributes, activity or consents. For tools and
    /// tests that build events by hand.
    pub fn new(
        event_id: impl Into<String>,
        channel: Channel,
        event_time_ms: i64,
        mut identifiers: Vec<Identifier>,
    ) -> Self {
        identifiers.sort();
        identifiers.dedup();
        CanonicalEvent {
            event_id: event_id.into(),
            channel,
            event_time_ms,
            identifiers,
            attributes: Attributes::default(),
            activity: Activity::default(),
            consents: vec![],
            dropped: vec![],
        }
    }
}
