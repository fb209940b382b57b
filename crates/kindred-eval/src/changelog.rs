//! Reading a clustering off the profile change stream, the way a downstream
//! system sees it: each change names the event that caused it and the
//! profile it landed in; `SUPERSEDED` changes redirect an absorbed profile
//! to its survivor; `ERASED` removes a profile.

use std::collections::{HashMap, HashSet};

use kindred_model::{ChangeType, ProfileChange};

/// Folds profile change events, in topic order, into "source event -> the
/// profile it belongs to now".
#[derive(Debug, Default)]
pub struct ChangeLog {
    /// Event id -> profile the event's change landed in.
    landed: HashMap<String, String>,
    /// Absorbed profile -> survivor.
    redirects: HashMap<String, String>,
    erased: HashSet<String>,
}

impl ChangeLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one change. Returns true when this is the first change caused
    /// by its event (the moment the event became visible downstream).
    pub fn apply(&mut self, change: &ProfileChange) -> bool {
        match change.change_type {
            ChangeType::Superseded => {
                if let Some(survivor) = &change.superseded_by {
                    self.redirects
                        .insert(change.profile_id.clone(), survivor.clone());
                }
                false
            }
            ChangeType::Erased => {
                self.erased.insert(change.profile_id.clone());
                false
            }
            ChangeType::Created | ChangeType::Updated | ChangeType::Merged => self
                .landed
                .insert(change.cause_event_id.clone(), change.profile_id.clone())
                .is_none(),
        }
    }

    /// How many distinct events have landed in a profile.
    pub fn events(&self) -> usize {
        self.landed.len()
    }

    /// The profile `profile_id` now lives on as (following redirects).
    pub fn current(&self, profile_id: &str) -> String {
        let mut id = profile_id;
        // A redirect chain is acyclic (a survivor is never absorbed into one
        // of its own absorbed profiles); the bound guards a corrupt stream.
        for _ in 0..=self.redirects.len() {
            match self.redirects.get(id) {
                Some(next) => id = next,
                None => break,
            }
        }
        id.to_string()
    }

    /// Event id -> current profile, for every event whose profile was not erased.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, String)> + '_ {
        self.landed.iter().filter_map(|(event, profile)| {
            let current = self.current(profile);
            (!self.erased.contains(&current)).then_some((event.as_str(), current))
        })
    }

    /// Scores the clustering against ground truth (event id -> person);
    /// events the truth does not know are left out.
    pub fn evaluate(
        &self,
        truth: &std::collections::BTreeMap<String, String>,
        worst: usize,
    ) -> crate::Report {
        crate::evaluate(
            self.assignments()
                .filter_map(|(event, profile)| truth.get(event).map(|t| (profile, t.clone()))),
            worst,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(profile: &str, kind: ChangeType, cause: &str, by: Option<&str>) -> ProfileChange {
        ProfileChange {
            profile_id: profile.into(),
            change_type: kind,
            version: 1,
            cause_event_id: cause.into(),
            absorbed_ids: Vec::new(),
            superseded_by: by.map(str::to_string),
            record: None,
        }
    }

    #[test]
    fn merges_redirect_earlier_events_to_the_survivor() {
        let mut log = ChangeLog::new();
        assert!(log.apply(&change("p1", ChangeType::Created, "e1", None)));
        assert!(log.apply(&change("p2", ChangeType::Created, "e2", None)));
        assert!(log.apply(&change("p3", ChangeType::Created, "e3", None)));
        // e4 links p1 and p2; later e5 links p1 and p3 (chain p2 -> p1, p1 -> p3).
        assert!(!log.apply(&change("p2", ChangeType::Superseded, "e4", Some("p1"))));
        assert!(log.apply(&change("p1", ChangeType::Merged, "e4", None)));
        assert!(!log.apply(&change("p1", ChangeType::Superseded, "e5", Some("p3"))));
        assert!(log.apply(&change("p3", ChangeType::Merged, "e5", None)));
        // A redelivered change of e1 is not a new event.
        assert!(!log.apply(&change("p1", ChangeType::Updated, "e1", None)));
        let mut got: Vec<_> = log.assignments().map(|(e, p)| (e.to_string(), p)).collect();
        got.sort();
        let want: Vec<_> = ["e1", "e2", "e3", "e4", "e5"]
            .iter()
            .map(|e| (e.to_string(), "p3".to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(log.events(), 5);
    }

    #[test]
    fn erased_profiles_leave_the_clustering() {
        let mut log = ChangeLog::new();
        log.apply(&change("p1", ChangeType::Created, "e1", None));
        log.apply(&change("p2", ChangeType::Created, "e2", None));
        log.apply(&change("p2", ChangeType::Erased, "erase-1", None));
        let got: Vec<_> = log.assignments().map(|(e, _)| e.to_string()).collect();
        assert_eq!(got, vec!["e1".to_string()]);
    }
}
