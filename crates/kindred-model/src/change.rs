use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::{GoldenRecord, Rfm, Sourced};

/// What happened to a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    /// A new profile was created from an event that linked to no existing one.
    Created,
    /// An event added to an existing profile.
    Updated,
    /// Other profiles were absorbed into this one (the survivor).
    Merged,
    /// This profile id was absorbed; it now redirects to `superseded_by`.
    Superseded,
    /// The person was erased; downstream systems must delete what they hold.
    Erased,
    /// A profile's events were divided: some now belong to other profiles
    /// (new ones, or existing ones they joined), whose ids the change
    /// carries in `split_into` (a change that also absorbed profiles is
    /// `Merged`, with `split_into` set).
    Split,
}

impl ChangeType {
    /// Every change type, in declaration order.
    pub const ALL: [ChangeType; 6] = [
        ChangeType::Created,
        ChangeType::Updated,
        ChangeType::Merged,
        ChangeType::Superseded,
        ChangeType::Erased,
        ChangeType::Split,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Merged => "merged",
            ChangeType::Superseded => "superseded",
            ChangeType::Erased => "erased",
            ChangeType::Split => "split",
        }
    }
}

/// Why two profiles were linked: the rule that fired and what it compared.
/// Names only, never the raw values (they are personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeEvidence {
    /// The rule's stable name, e.g. `shared_identifier` or `name_birthday_postcode`.
    pub rule: String,
    /// The rule's version at the time of the merge.
    pub rule_version: i32,
    /// Identifier kinds or attribute names the rule matched on, e.g.
    /// `["phone"]` or `["full_name", "birthday", "postal_code"]`.
    pub kinds: Vec<String>,
}

/// The cause of a change made by a person's decision number N: `decision:N`;
/// also of a record restated when a store was restored (`decision:restore`)
/// or rebuilt (`decision:rebuild`), which no numbered decision made.
pub const DECISION_CAUSE_PREFIX: &str = "decision:";
/// The cause of a change made by erasure request number N: `erasure:N`.
pub const ERASURE_CAUSE_PREFIX: &str = "erasure:";

/// One change event on the profile topic, keyed by `profile_id`.
///
/// Field order is the Avro field order of `schemas/profile_change.avsc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    pub profile_id: String,
    pub change_type: ChangeType,
    /// The profile's version after this change (the absorbed profile's last
    /// version plus one, for `Superseded`).
    pub version: i64,
    /// The source event that caused the change, or for a person's
    /// decision `decision:N` and for an erasure `erasure:N` (see
    /// [`ProfileChange::caused_by_event`]); `decision:restore` and
    /// `decision:rebuild` for records a restored or rebuilt store restates.
    pub cause_event_id: String,
    /// For `Merged`: the profile ids absorbed into this one, sorted.
    pub absorbed_ids: Vec<String>,
    /// For `Superseded`: the survivor this id now redirects to.
    pub superseded_by: Option<String>,
    /// The full golden record after the change; absent for `Superseded` and `Erased`.
    pub record: Option<GoldenRecord>,
    /// Golden-record fields (serde names, declaration order) that differ
    /// from the previous version; see [`changed_fields`]. Empty for
    /// `Superseded` and `Erased`.
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// For `Merged`: the rule that linked the profiles.
    #[serde(default)]
    pub evidence: Option<MergeEvidence>,
    /// The profiles that took some of this profile's events (new ones, or
    /// existing ones they joined), sorted. Set on `Split`, and on `Merged`
    /// when one recomputation both absorbed other profiles into this one
    /// and divided it (the change is `Merged` then): a consumer checks
    /// this list whatever the change type.
    #[serde(default)]
    pub split_into: Vec<String>,
    /// Source event ids this profile took over from other profiles by a
    /// split (their previous profile is named in that profile's `Split`
    /// change), those it keeps that a consumer would otherwise follow to
    /// an absorbed id the split gave back (records that had landed under
    /// that id before it was absorbed), and, at a merge, an absorbed
    /// profile's records past the 64 that id keeps standing for (a later
    /// split that gives the id back gives it only those); empty otherwise.
    /// Lets a consumer that tracks events per profile follow splits.
    #[serde(default)]
    pub moved_event_ids: Vec<String>,
    /// Recency, frequency and monetary scores as of publication, when the
    /// change carries a record.
    #[serde(default)]
    pub rfm: Option<Rfm>,
}

impl ProfileChange {
    /// Whether a source event caused the change (not a decision or an
    /// erasure, which place no event of their own).
    pub fn caused_by_event(&self) -> bool {
        !self.cause_event_id.starts_with(DECISION_CAUSE_PREFIX)
            && !self.cause_event_id.starts_with(ERASURE_CAUSE_PREFIX)
    }

    /// The change announcing that `profile_id` (last at `last_version`)
    /// and the ids it absorbed were erased: no record, nothing but ids.
    pub fn erased(
        profile_id: String,
        last_version: i64,
        cause_event_id: String,
        absorbed_ids: Vec<String>,
    ) -> Self {
        ProfileChange {
            change_type: ChangeType::Erased,
            absorbed_ids,
            superseded_by: None,
            ..Self::superseded(profile_id, last_version, cause_event_id, String::new())
        }
    }

    /// The change announcing that `profile_id` (last at `last_version`) was
    /// absorbed into `survivor` because of `cause_event_id`.
    pub fn superseded(
        profile_id: String,
        last_version: i64,
        cause_event_id: String,
        survivor: String,
    ) -> Self {
        ProfileChange {
            profile_id,
            change_type: ChangeType::Superseded,
            version: last_version + 1,
            cause_event_id,
            absorbed_ids: Vec::new(),
            superseded_by: Some(survivor),
            record: None,
            changed_fields: Vec::new(),
            evidence: None,
            split_into: Vec::new(),
            moved_event_ids: Vec::new(),
            rfm: None,
        }
    }
}

/// The golden-record fields (serde names, in declaration order) whose values
/// differ between `before` and `after`; with no `before`, the fields of
/// `after` that are not empty (not `None`, empty, or zero). `profile_id`
/// and `version` are never compared. An attribute or consent is compared by
/// its value: another source restating the same name is no change.
pub fn changed_fields(before: Option<&GoldenRecord>, after: &GoldenRecord) -> Vec<String> {
    let blank;
    let before = match before {
        Some(b) => b,
        None => {
            blank = GoldenRecord::blank();
            &blank
        }
    };
    // One list of fields: the destructuring names every field, so a field
    // added to `GoldenRecord` and not listed here fails to compile.
    let mut out = Vec::new();
    macro_rules! compare {
        ($($field:ident),* $(,)?) => {
            let GoldenRecord { profile_id: _, version: _, $($field),* } = after;
            $(
                if !before.$field.same(&$field) {
                    out.push(stringify!($field).to_string());
                }
            )*
        };
    }
    compare!(
        identifiers,
        full_name,
        given_name,
        family_name,
        birthday,
        gender,
        address,
        consents,
        channels,
        first_seen_ms,
        last_seen_ms,
        event_count,
        order_count,
        spend_minor,
        points_balance,
        channel_activity,
        points_earned,
        points_redeemed,
        first_order_ms,
        last_order_ms,
        recent_skus,
        may_contact,
    );
    out
}

/// Whether two values of a golden-record field say the same thing: equal,
/// except that a [`Sourced`] value's provenance does not count.
trait Same {
    fn same(&self, other: &Self) -> bool;
}

impl<T: PartialEq> Same for Option<Sourced<T>> {
    fn same(&self, other: &Self) -> bool {
        self.as_ref().map(|s| &s.value) == other.as_ref().map(|s| &s.value)
    }
}

impl<T: PartialEq> Same for BTreeMap<String, Sourced<T>> {
    fn same(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((k, a), (l, b))| k == l && a.value == b.value)
    }
}

/// Fields whose values carry no provenance: plain equality.
macro_rules! same_by_eq {
    ($($t:ty),* $(,)?) => {
        $(impl Same for $t {
            fn same(&self, other: &Self) -> bool {
                self == other
            }
        })*
    };
}
same_by_eq!(
    i64,
    Option<i64>,
    Vec<crate::Identifier>,
    Vec<crate::Channel>,
    Vec<crate::ChannelActivity>,
    Vec<crate::SkuView>,
    BTreeMap<String, i64>,
    BTreeMap<String, bool>,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activity, Attributes, CanonicalEvent, Channel, Identifier, IdentifierKind};

    fn event(id: &str, t: i64, name: &str) -> CanonicalEvent {
        CanonicalEvent {
            event_id: id.into(),
            channel: Channel::Web,
            event_time_ms: t,
            identifiers: vec![Identifier::new(IdentifierKind::Email, "a@example.com")],
            attributes: Attributes {
                full_name: Some(name.into()),
                ..Attributes::default()
            },
            activity: Activity {
                event_type: "page_view".into(),
                browsed_skus: vec!["SKU-1".into()],
                ..Activity::default()
            },
            consents: vec![],
            dropped: vec![],
        }
    }

    #[test]
    fn a_new_record_lists_its_non_empty_fields_in_declaration_order() {
        let r = GoldenRecord::new("p".into(), &event("web:1", 10, "Ann"));
        assert_eq!(
            changed_fields(None, &r),
            [
                "identifiers",
                "full_name",
                "channels",
                "first_seen_ms",
                "last_seen_ms",
                "event_count",
                "channel_activity",
                "recent_skus",
            ]
        );
    }

    #[test]
    fn only_fields_that_differ_are_listed() {
        let before = GoldenRecord::new("p".into(), &event("web:1", 10, "Ann"));
        let mut after = before.clone();
        after.version += 1;
        assert!(changed_fields(Some(&before), &after).is_empty());
        // An older event with the same identifier: the name stays, the
        // first-seen times and counts move; recent skus keep the newer view.
        after.absorb_event(&event("web:0", 5, "Anne"));
        assert_eq!(
            changed_fields(Some(&before), &after),
            ["first_seen_ms", "event_count", "channel_activity"]
        );
        assert!(changed_fields(Some(&after), &after).is_empty());
        // A newer event restating the name: its source moves, the name
        // does not change.
        let mut restated = after.clone();
        restated.absorb_event(&event("web:2", 20, "Ann"));
        assert_ne!(restated.full_name, after.full_name, "provenance moved");
        assert_eq!(
            changed_fields(Some(&after), &restated),
            [
                "last_seen_ms",
                "event_count",
                "channel_activity",
                "recent_skus"
            ]
        );
    }

    #[test]
    fn split_has_its_own_name() {
        assert_eq!(ChangeType::Split.as_str(), "split");
    }
}
