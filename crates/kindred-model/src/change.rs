use serde::{Deserialize, Serialize};

use crate::GoldenRecord;

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
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Merged => "merged",
            ChangeType::Superseded => "superseded",
            ChangeType::Erased => "erased",
        }
    }
}

/// One change event on the profile topic, keyed by `profile_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    pub profile_id: String,
    pub change_type: ChangeType,
    /// The profile's version after this change (the absorbed profile's last
    /// version plus one, for `Superseded`).
    pub version: i64,
    /// The source event that caused the change.
    pub cause_event_id: String,
    /// For `Merged`: the profile ids absorbed into this one, sorted.
    pub absorbed_ids: Vec<String>,
    /// For `Superseded`: the survivor this id now redirects to.
    pub superseded_by: Option<String>,
    /// The full golden record after the change; absent for `Superseded` and `Erased`.
    pub record: Option<GoldenRecord>,
}
