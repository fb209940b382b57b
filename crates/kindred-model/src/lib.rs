//! The canonical data model of kindred.
//!
//! Every other crate speaks in these types:
//! - [`raw`]: the records as the channel systems (POS, web shop, social) emit them;
//! - [`CanonicalEvent`]: one source event after normalization, with typed identifiers;
//! - [`GoldenRecord`]: the merged, trusted profile of one customer;
//! - [`ProfileChange`]: what the resolver publishes when a golden record changes.
//!
//! This crate has no I/O and no dependency on Kafka, Avro or RocksDB.

mod canonical;
mod change;
mod consent;
mod golden;
mod identifier;
mod policy;
pub mod raw;
mod survivorship;

pub use canonical::{
    Activity, Address, Attributes, CanonicalEvent, Channel, Consent, Dropped, Order,
};
pub use change::{changed_fields, MergeEvidence};
pub use change::{ChangeType, ProfileChange, DECISION_CAUSE_PREFIX, ERASURE_CAUSE_PREFIX};
pub use consent::{
    all_decides_other_channels, combine as combine_consents,
    combine_joined_by as combine_consents_joined_by, consent_key, may_contact, ConsentMerge,
    ConsentVotes, ALL_CHANNELS, CONTACT_CHANNELS, CONTACT_PURPOSE, EVERY_PURPOSE,
};
pub use golden::{minor_unit_digits, ChannelActivity, Rfm, SkuView, RECENT_SKUS};
pub use golden::{GoldenRecord, Provenance, Sourced};
pub use identifier::{
    mask_address, mask_birthday, mask_name, mask_value, member_card_link_value, Identifier,
    IdentifierKind, ParseIdentifierError,
};
pub use policy::*;
pub use raw::LineItem;
pub use survivorship::*;
