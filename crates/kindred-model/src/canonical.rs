use std::fmt;

use serde::{Deserialize, Serialize};

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

/// Descriptive attributes an event states about the person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    pub full_name: Option<String>,
}

/// What the person did: money spent and loyalty points moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Order value in minor units of `currency` (cents, fen), if the event is an order.
    pub order_amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub points_earned: i64,
    pub points_redeemed: i64,
}

/// An identifier the normalizer refused to use for linking, and why.
/// Only the kind is kept: the raw value is personal data and is not needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedIdentifier {
    pub kind: crate::IdentifierKind,
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
    pub dropped_identifiers: Vec<DroppedIdentifier>,
}
