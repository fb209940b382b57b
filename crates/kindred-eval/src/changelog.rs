//! Reading a clustering off the profile change stream, the way a downstream
//! system sees it: each change names the event that caused it and the
//! profile it landed in; `SUPERSEDED` changes redirect an absorbed profile
//! to its survivor; `ERASED` removes a profile; a change that lists
//! `moved_event_ids` takes those events over from wherever the consumer
//! had them (a profile a split divided, an absorbed id; see
//! `ProfileChange::moved_event_ids`).

use std::collections::{HashMap, HashSet};

use kindred_model::{ChangeType, ProfileChange};

/// Folds profile change events, in topic order, into "source event -> the
/// profile it belongs to now".
#[derive(Debug, Default)]
pub struct ChangeLog {
    /// Event id -> profile the event's change landed in, and that change's
    /// place in the resolver's order, where the stream says it.
    landed: HashMap<String, (String, Option<u64>)>,
    /// Absorbed profile -> (survivor, the version of its `Superseded` change).
    redirects: HashMap<String, (String, i64)>,
    /// Profile id -> the highest version of a change that held it live
    /// (created, updated, merged, split): a `Superseded` change older than
    /// it, delivered again, does not redirect the id once more.
    live_versions: HashMap<String, i64>,
    erased: HashSet<String>,
}

impl ChangeLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether an event has landed in some profile (by its own change or
    /// moved there by a split).
    pub fn has_landed(&self, event_id: &str) -> bool {
        self.landed.contains_key(event_id)
    }

    /// Takes one change. Returns true when this is the first change caused
    /// by its event (the moment the event became visible downstream); a
    /// change caused by a decision (`decision:N`) or an erasure places no
    /// event of its own.
    pub fn apply(&mut self, change: &ProfileChange) -> bool {
        self.apply_at(change, None)
    }

    /// [`ChangeLog::apply`] for a change whose place in the resolver's
    /// order is known (the `kindred.change.seq` header): an event keeps the
    /// placement of the latest change, whatever order the topic's
    /// partitions were read in.
    pub fn apply_at(&mut self, change: &ProfileChange, seq: Option<u64>) -> bool {
        // Events a split moved to this profile: they had landed in the
        // divided profile, and now belong here (the store's view).
        for event in &change.moved_event_ids {
            self.place(event, &change.profile_id, seq);
        }
        match change.change_type {
            ChangeType::Superseded => {
                let older = self
                    .live_versions
                    .get(&change.profile_id)
                    .is_some_and(|live| change.version < *live);
                if let (Some(survivor), false) = (&change.superseded_by, older) {
                    self.redirects.insert(
                        change.profile_id.clone(),
                        (survivor.clone(), change.version),
                    );
                }
                false
            }
            ChangeType::Erased => {
                self.erased.insert(change.profile_id.clone());
                false
            }
            // Several changes can share a cause (a split, a re-partition);
            // the resolver emits the one holding the cause event last, so the
            // last change with a record places it. Events that moved to other
            // profiles come with their own changes (`moved_event_ids`).
            ChangeType::Created | ChangeType::Updated | ChangeType::Merged | ChangeType::Split => {
                // A live profile again: an id a split gave back (its
                // versions continue past its redirect's) no longer follows
                // the survivor that had absorbed it. An older change
                // delivered again does not undo the redirect.
                if self
                    .redirects
                    .get(&change.profile_id)
                    .is_some_and(|(_, v)| change.version > *v)
                {
                    self.redirects.remove(&change.profile_id);
                }
                let live = self
                    .live_versions
                    .entry(change.profile_id.clone())
                    .or_insert(change.version);
                *live = (*live).max(change.version);
                if !change.caused_by_event() {
                    return false;
                }
                self.place(&change.cause_event_id, &change.profile_id, seq)
            }
        }
    }

    /// Places `event` in `profile` unless a later change (by sequence)
    /// placed it already; true when the event was not placed before.
    fn place(&mut self, event: &str, profile: &str, seq: Option<u64>) -> bool {
        match self.landed.get_mut(event) {
            None => {
                self.landed
                    .insert(event.to_string(), (profile.to_string(), seq));
                true
            }
            Some(placed) => {
                let later = match (placed.1, seq) {
                    (Some(old), Some(new)) => new >= old,
                    // A change without a sequence was published by a
                    // release before `kindred.change.seq`: older than any
                    // that carries one.
                    (Some(_), None) => false,
                    (None, _) => true,
                };
                if later {
                    *placed = (profile.to_string(), seq);
                }
                false
            }
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
                Some((next, _)) => id = next,
                None => break,
            }
        }
        id.to_string()
    }

    /// Event id -> current profile, for every event whose profile was not erased.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, String)> + '_ {
        self.landed.iter().filter_map(|(event, (profile, _))| {
            let current = self.current(profile);
            (!self.erased.contains(&current)).then_some((event.as_str(), current))
        })
    }

    /// Scores the clustering against ground truth (event id -> person), as
    /// [`crate::evaluate_against`] does.
    pub fn evaluate(
        &self,
        truth: &std::collections::BTreeMap<String, String>,
        worst: usize,
    ) -> crate::Report {
        crate::evaluate_against(self.assignments(), truth, worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(profile: &str, kind: ChangeType, cause: &str, by: Option<&str>) -> ProfileChange {
        let mut c = ProfileChange::superseded(profile.into(), 0, cause.into(), String::new());
        c.change_type = kind;
        c.version = 1;
        c.superseded_by = by.map(str::to_string);
        c
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

    /// A split gave p2 back (its versions continue past its redirect's);
    /// its old redirect delivered again must not send it to p1 once more,
    /// as an old live change delivered again does not undo a redirect.
    #[test]
    fn an_old_redirect_delivered_again_does_not_absorb_a_revived_id() {
        let mut log = ChangeLog::new();
        let at = |mut c: ProfileChange, version: i64| {
            c.version = version;
            c
        };
        log.apply(&at(change("p1", ChangeType::Created, "e1", None), 1));
        log.apply(&at(change("p2", ChangeType::Created, "e2", None), 1));
        let redirect = at(change("p2", ChangeType::Superseded, "e3", Some("p1")), 2);
        log.apply(&redirect);
        assert_eq!(log.current("p2"), "p1");
        log.apply(&at(
            change("p2", ChangeType::Created, "decision:1", None),
            3,
        ));
        assert_eq!(log.current("p2"), "p2");
        log.apply(&redirect);
        assert_eq!(log.current("p2"), "p2", "the older redirect came back");
        // A newer one does redirect it again.
        log.apply(&at(
            change("p2", ChangeType::Superseded, "e4", Some("p1")),
            4,
        ));
        assert_eq!(log.current("p2"), "p1");
    }

    #[test]
    fn split_moves_the_listed_events_to_the_new_profile() {
        let mut log = ChangeLog::new();
        assert!(log.apply(&change("a", ChangeType::Created, "e1", None)));
        assert!(log.apply(&change("a", ChangeType::Updated, "e2", None)));
        assert!(log.apply(&change("b", ChangeType::Created, "e3", None)));
        // e4 splits a: e2 moves to the new profile c, which e4 creates.
        let mut split = change("a", ChangeType::Split, "e4", None);
        split.split_into = vec!["c".into()];
        assert!(log.apply(&split), "e4 is first seen on the split");
        let mut created = change("c", ChangeType::Created, "e4", None);
        created.moved_event_ids = vec!["e2".into()];
        assert!(!log.apply(&created), "e4 was seen; it now lives in c");
        let mut got: Vec<_> = log.assignments().map(|(e, p)| (e.to_string(), p)).collect();
        got.sort();
        let want: Vec<_> = [("e1", "a"), ("e2", "c"), ("e3", "b"), ("e4", "c")]
            .iter()
            .map(|(e, p)| (e.to_string(), p.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(log.events(), 4);
        // A redelivered change moves nothing further and is not a new event.
        assert!(!log.apply(&created));
        assert_eq!(log.assignments().count(), 4);
    }

    /// Read across partitions, a split's move can come before the change
    /// that first placed the event: the sequence keeps the later one.
    #[test]
    fn the_change_sequence_orders_placements_across_partitions() {
        let mut log = ChangeLog::new();
        let mut moved = change("c", ChangeType::Created, "e4", None);
        moved.moved_event_ids = vec!["e2".into()];
        log.apply_at(&moved, Some(7));
        // Read late (another partition): e2's first placement, at seq 2.
        log.apply_at(&change("a", ChangeType::Updated, "e2", None), Some(2));
        let of: HashMap<String, String> =
            log.assignments().map(|(e, p)| (e.to_string(), p)).collect();
        assert_eq!(of["e2"], "c");
        // An older release's change (no sequence, compaction kept it) read
        // after the upgrade's move does not undo it.
        log.apply_at(&change("a", ChangeType::Updated, "e2", None), None);
        let of: HashMap<String, String> =
            log.assignments().map(|(e, p)| (e.to_string(), p)).collect();
        assert_eq!(of["e2"], "c");
        // Without sequences, the last read wins (one partition's order).
        let mut plain = ChangeLog::new();
        plain.apply(&moved);
        plain.apply(&change("a", ChangeType::Updated, "e2", None));
        assert_eq!(
            plain
                .assignments()
                .find(|(e, _)| *e == "e2")
                .map(|(_, p)| p),
            Some("a".to_string())
        );
    }

    /// A split that gives an absorbed id back makes it live again: its
    /// events no longer follow the old redirect. A decision's changes
    /// place no event of their own.
    #[test]
    fn an_id_a_split_gives_back_is_live_again() {
        let mut log = ChangeLog::new();
        log.apply(&change("p1", ChangeType::Created, "e1", None));
        log.apply(&change("p2", ChangeType::Created, "e2", None));
        log.apply(&change("p2", ChangeType::Superseded, "e3", Some("p1")));
        log.apply(&change("p1", ChangeType::Merged, "e3", None));
        let mut split = change("p1", ChangeType::Split, "decision:1", None);
        split.split_into = vec!["p2".into()];
        assert!(!log.apply(&split));
        let mut back = change("p2", ChangeType::Created, "decision:1", None);
        back.version = 2;
        back.moved_event_ids = vec!["e2".into()];
        assert!(!log.apply(&back), "a decision is no event");
        let mut got: Vec<_> = log.assignments().map(|(e, p)| (e.to_string(), p)).collect();
        got.sort();
        let want: Vec<_> = [("e1", "p1"), ("e2", "p2"), ("e3", "p1")]
            .iter()
            .map(|(e, p)| (e.to_string(), p.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(log.events(), 3);
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
