use std::collections::{BTreeSet, HashMap, HashSet};

use kindred_model::{CanonicalEvent, ChangeType, GoldenRecord, ProfileChange};
use rocksdb::WriteBatch;

use crate::store::{cf, decode, encode, utf8, NEXT_PROFILE_SEQ};
use crate::{SourceOffset, Store, StoreError};

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Change events, in the order they happened.
    pub changes: Vec<ProfileChange>,
    /// Events skipped because their source event id was applied before.
    pub duplicates: u64,
    pub created: u64,
    /// Profiles absorbed into survivors.
    pub absorbed: u64,
}

/// The identity resolver: owns the store and applies batches of events.
pub struct Resolver {
    store: Store,
}

impl Resolver {
    pub fn new(store: Store) -> Self {
        Resolver { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies `events` in order and commits the resulting state together with
    /// `offsets` in one atomic write: after a crash the store either reflects
    /// the whole batch and its offsets, or neither.
    pub fn apply(
        &mut self,
        events: &[CanonicalEvent],
        offsets: &[SourceOffset],
    ) -> Result<BatchOutcome, StoreError> {
        let mut view = BatchView::new(&self.store)?;
        view.prefetch(events)?;
        let mut outcome = BatchOutcome::default();
        for event in events {
            view.apply_event(event, &mut outcome)?;
        }
        let mut batch = view.into_write_batch();
        for offset in offsets {
            self.store.put_offset(&mut batch, offset);
        }
        self.store.write(batch)?;
        Ok(outcome)
    }
}

/// Reads through to the store, writes into an overlay that becomes one WriteBatch.
///
/// Before a batch is applied, [`BatchView::prefetch`] reads everything the
/// batch's events can touch with a few batched MultiGets (their event ids,
/// their identifiers, the profiles those point at); the per-event work then
/// runs against memory.
struct BatchView<'a> {
    store: &'a Store,
    identifiers: HashMap<String, String>,
    profiles: HashMap<String, Option<GoldenRecord>>,
    events: HashMap<String, String>,
    redirects: HashMap<String, String>,
    next_seq: u64,
    next_seq_dirty: bool,
    /// Read-ahead of the store: what it held before this batch.
    stored: Prefetched,
}

/// Store contents read ahead for a batch; a key absent here is read on demand.
#[derive(Default)]
struct Prefetched {
    /// Event ids looked up, and those the store already had.
    events_checked: HashSet<String>,
    events_known: HashSet<String>,
    /// Identifier link key -> stored owner (None: looked up, not stored).
    identifiers: HashMap<String, Option<String>>,
    /// Profile id -> stored redirect (None: looked up, not absorbed).
    redirects: HashMap<String, Option<String>>,
    profiles: HashMap<String, GoldenRecord>,
}

impl<'a> BatchView<'a> {
    fn new(store: &'a Store) -> Result<Self, StoreError> {
        let next_seq = match store.get_raw(cf::META, NEXT_PROFILE_SEQ)? {
            Some(bytes) => {
                let arr: [u8; 8] =
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt {
                            what: cf::META,
                            key: "next_profile_seq".into(),
                            message: format!("expected 8 bytes, found {}", bytes.len()),
                        })?;
                u64::from_be_bytes(arr)
            }
            None => 1,
        };
        Ok(BatchView {
            store,
            identifiers: HashMap::new(),
            profiles: HashMap::new(),
            events: HashMap::new(),
            redirects: HashMap::new(),
            next_seq,
            next_seq_dirty: false,
            stored: Prefetched::default(),
        })
    }

    /// Reads ahead what `events` can touch: three or four batched MultiGets
    /// instead of several point lookups per event.
    fn prefetch(&mut self, events: &[CanonicalEvent]) -> Result<(), StoreError> {
        let event_ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let found = self.store.multi_get(cf::EVENTS, &as_bytes(&event_ids))?;
        for (id, value) in event_ids.iter().zip(found) {
            self.stored.events_checked.insert(id.to_string());
            if value.is_some() {
                self.stored.events_known.insert(id.to_string());
            }
        }
        let keys: Vec<String> = events
            .iter()
            .flat_map(|e| e.identifiers.iter().map(|i| i.link_key()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let owners = self
            .store
            .multi_get(cf::IDENTIFIERS, &as_bytes(&key_refs))?;
        let mut profile_ids = BTreeSet::new();
        for (key, owner) in keys.iter().zip(owners) {
            let owner = owner.map(|o| utf8(cf::IDENTIFIERS, key, o)).transpose()?;
            if let Some(o) = &owner {
                profile_ids.insert(o.clone());
            }
            self.stored.identifiers.insert(key.clone(), owner);
        }
        // Owners may have been absorbed since: read their redirects, then the
        // profiles the chains end at.
        let mut frontier: Vec<String> = profile_ids.iter().cloned().collect();
        let mut live = BTreeSet::new();
        for _ in 0..64 {
            if frontier.is_empty() {
                break;
            }
            let refs: Vec<&str> = frontier.iter().map(String::as_str).collect();
            let next = self.store.multi_get(cf::REDIRECTS, &as_bytes(&refs))?;
            let mut more = Vec::new();
            for (id, to) in frontier.iter().zip(next) {
                let to = to.map(|t| utf8(cf::REDIRECTS, id, t)).transpose()?;
                match &to {
                    Some(t) if !self.stored.redirects.contains_key(t) => more.push(t.clone()),
                    Some(_) => {}
                    None => {
                        live.insert(id.clone());
                    }
                }
                self.stored.redirects.insert(id.clone(), to);
            }
            frontier = more;
        }
        let live: Vec<String> = live.into_iter().collect();
        let refs: Vec<&str> = live.iter().map(String::as_str).collect();
        for (id, value) in live
            .iter()
            .zip(self.store.multi_get(cf::PROFILES, &as_bytes(&refs))?)
        {
            if let Some(bytes) = value {
                self.stored
                    .profiles
                    .insert(id.clone(), decode(cf::PROFILES, id, &bytes)?);
            }
        }
        Ok(())
    }

    fn seen_event(&self, event_id: &str) -> Result<bool, StoreError> {
        if self.events.contains_key(event_id) || self.stored.events_known.contains(event_id) {
            return Ok(true);
        }
        if self.stored.events_checked.contains(event_id) {
            return Ok(false);
        }
        Ok(self
            .store
            .get_raw(cf::EVENTS, event_id.as_bytes())?
            .is_some())
    }

    /// The profile an identifier leads to now, following redirects.
    fn owner_of(&self, identifier_key: &str) -> Result<Option<String>, StoreError> {
        self.direct_owner(identifier_key)?
            .map(|id| self.follow_redirects(&id))
            .transpose()
    }

    /// The profile id an identifier's index entry holds (maybe absorbed since).
    fn direct_owner(&self, identifier_key: &str) -> Result<Option<String>, StoreError> {
        Ok(match self.identifiers.get(identifier_key) {
            Some(id) => Some(id.clone()),
            None => match self.stored.identifiers.get(identifier_key) {
                Some(owner) => owner.clone(),
                None => self.store.get_string(cf::IDENTIFIERS, identifier_key)?,
            },
        })
    }

    fn follow_redirects(&self, profile_id: &str) -> Result<String, StoreError> {
        let mut id = profile_id.to_string();
        for _ in 0..64 {
            let next = match self.redirects.get(&id) {
                Some(next) => Some(next.clone()),
                None => match self.stored.redirects.get(&id) {
                    Some(next) => next.clone(),
                    None => self.store.get_string(cf::REDIRECTS, &id)?,
                },
            };
            match next {
                Some(next) => id = next,
                None => return Ok(id),
            }
        }
        Err(StoreError::RedirectCycle(profile_id.to_string()))
    }

    fn take_profile(&mut self, profile_id: &str) -> Result<GoldenRecord, StoreError> {
        let loaded = match self.profiles.get(profile_id) {
            Some(p) => p.clone(),
            None => match self.stored.profiles.remove(profile_id) {
                Some(p) => Some(p),
                None => self.store.get_value(cf::PROFILES, profile_id)?,
            },
        };
        loaded.ok_or_else(|| StoreError::Corrupt {
            what: cf::IDENTIFIERS,
            key: profile_id.to_string(),
            message: "an identifier points at a profile that does not exist".into(),
        })
    }

    fn new_profile_id(&mut self) -> String {
        let id = format!("kp-{:012}", self.next_seq);
        self.next_seq += 1;
        self.next_seq_dirty = true;
        id
    }

    fn apply_event(
        &mut self,
        event: &CanonicalEvent,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        if self.seen_event(&event.event_id)? {
            outcome.duplicates += 1;
            return Ok(());
        }
        // Every distinct profile this event's identifiers already belong to.
        // Profile ids sort by creation, so the first is the oldest: the survivor.
        let mut owners = BTreeSet::new();
        // Identifiers not yet pointing at their (future) profile, to index.
        let mut unindexed = Vec::new();
        for id in &event.identifiers {
            let key = id.link_key();
            match self.owner_of(&key)? {
                Some(owner) => {
                    owners.insert(owner);
                    unindexed.push((key, true));
                }
                None => unindexed.push((key, false)),
            }
        }
        let mut owners = owners.into_iter();
        let (mut record, change_type) = match owners.next() {
            None => {
                outcome.created += 1;
                let id = self.new_profile_id();
                (GoldenRecord::new(id, event), ChangeType::Created)
            }
            Some(survivor) => {
                let mut record = self.take_profile(&survivor)?;
                record.absorb_event(event);
                (record, ChangeType::Updated)
            }
        };
        let mut absorbed_ids = Vec::new();
        for absorbed_id in owners {
            let absorbed = self.take_profile(&absorbed_id)?;
            for id in &absorbed.identifiers {
                self.identifiers
                    .insert(id.link_key(), record.profile_id.clone());
            }
            outcome.changes.push(ProfileChange {
                profile_id: absorbed_id.clone(),
                change_type: ChangeType::Superseded,
                version: absorbed.version + 1,
                cause_event_id: event.event_id.clone(),
                absorbed_ids: Vec::new(),
                superseded_by: Some(record.profile_id.clone()),
                record: None,
            });
            record.absorb_profile(absorbed);
            self.redirects
                .insert(absorbed_id.clone(), record.profile_id.clone());
            self.profiles.insert(absorbed_id.clone(), None);
            absorbed_ids.push(absorbed_id);
        }
        outcome.absorbed += absorbed_ids.len() as u64;
        // Index the event's identifiers; one that already leads to this
        // profile (directly, or re-pointed by the merge above) is not rewritten.
        for (key, owned) in unindexed {
            if owned && self.direct_owner(&key)?.as_deref() == Some(record.profile_id.as_str()) {
                continue;
            }
            self.identifiers.insert(key, record.profile_id.clone());
        }
        self.events
            .insert(event.event_id.clone(), record.profile_id.clone());
        record.version += 1;
        let change_type = if absorbed_ids.is_empty() {
            change_type
        } else {
            ChangeType::Merged
        };
        outcome.changes.push(ProfileChange {
            profile_id: record.profile_id.clone(),
            change_type,
            version: record.version,
            cause_event_id: event.event_id.clone(),
            absorbed_ids,
            superseded_by: None,
            record: Some(record.clone()),
        });
        self.profiles
            .insert(record.profile_id.clone(), Some(record));
        Ok(())
    }

    fn into_write_batch(self) -> WriteBatch {
        let mut batch = WriteBatch::default();
        let store = self.store;
        for (key, profile_id) in &self.identifiers {
            store.put(
                &mut batch,
                cf::IDENTIFIERS,
                key.as_bytes(),
                profile_id.as_bytes(),
            );
        }
        for (profile_id, record) in &self.profiles {
            match record {
                Some(record) => store.put(
                    &mut batch,
                    cf::PROFILES,
                    profile_id.as_bytes(),
                    &encode(record),
                ),
                None => store.delete(&mut batch, cf::PROFILES, profile_id.as_bytes()),
            }
        }
        for (event_id, profile_id) in &self.events {
            store.put(
                &mut batch,
                cf::EVENTS,
                event_id.as_bytes(),
                profile_id.as_bytes(),
            );
        }
        for (from, to) in &self.redirects {
            store.put(&mut batch, cf::REDIRECTS, from.as_bytes(), to.as_bytes());
        }
        if self.next_seq_dirty {
            store.put(
                &mut batch,
                cf::META,
                NEXT_PROFILE_SEQ,
                &self.next_seq.to_be_bytes(),
            );
        }
        batch
    }
}

fn as_bytes<'s>(keys: &[&'s str]) -> Vec<&'s [u8]> {
    keys.iter().map(|k| k.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use kindred_model::{Activity, Attributes, Channel, Identifier, IdentifierKind};

    use super::*;

    fn id(kind: IdentifierKind, v: &str) -> Identifier {
        Identifier::new(kind, v)
    }

    fn event(event_id: &str, t: i64, ids: Vec<Identifier>, points: i64) -> CanonicalEvent {
        let mut ids = ids;
        ids.sort();
        CanonicalEvent {
            event_id: event_id.into(),
            channel: Channel::Pos,
            event_time_ms: t,
            identifiers: ids,
            attributes: Attributes::default(),
            activity: Activity {
                points_earned: points,
                ..Activity::default()
            },
            consents: vec![],
            dropped: vec![],
        }
    }

    fn resolver() -> (tempfile::TempDir, Resolver) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("db")).expect("open store");
        (dir, Resolver::new(store))
    }

    fn clusters(r: &Resolver) -> Vec<Vec<Identifier>> {
        let mut out: Vec<_> = r
            .store()
            .profiles()
            .map(|p| p.expect("profile").identifiers)
            .collect();
        out.sort();
        out
    }

    #[test]
    fn three_way_transitive_merge_keeps_oldest_and_redirects() {
        let (_dir, mut r) = resolver();
        let m = id(IdentifierKind::MemberId, "M1");
        let e = id(IdentifierKind::Email, "a@b.cn");
        let p = id(IdentifierKind::Phone, "+8613800138000");
        r.apply(&[event("pos:1", 1, vec![m.clone()], 10)], &[])
            .expect("apply");
        r.apply(&[event("web:1", 2, vec![e.clone()], 0)], &[])
            .expect("apply");
        r.apply(&[event("social:1", 3, vec![p.clone()], 0)], &[])
            .expect("apply");
        assert_eq!(r.store().stats().expect("stats").profiles, 3);
        // One event carrying all three identifiers glues the three profiles.
        let out = r
            .apply(
                &[event("pos:2", 4, vec![m.clone(), e.clone(), p.clone()], 5)],
                &[],
            )
            .expect("apply");
        assert_eq!(out.absorbed, 2);
        let merged = out.changes.last().expect("a change");
        assert_eq!(merged.change_type, ChangeType::Merged);
        assert_eq!(merged.profile_id, "kp-000000000001");
        assert_eq!(
            merged.absorbed_ids,
            vec!["kp-000000000002", "kp-000000000003"]
        );
        let record = merged.record.as_ref().expect("record");
        assert_eq!(record.points_balance, 15);
        assert_eq!(record.event_count, 4);
        assert_eq!(
            clusters(&r),
            vec![{
                let mut all = vec![m, e.clone(), p];
                all.sort();
                all
            }]
        );
        // An absorbed id still finds the person.
        let via_old = r
            .store()
            .profile("kp-000000000003")
            .expect("read")
            .expect("found");
        assert_eq!(via_old.profile_id, "kp-000000000001");
        assert_eq!(
            r.store()
                .lookup(&e)
                .expect("lookup")
                .map(|p| p.profile_id)
                .as_deref(),
            Some("kp-000000000001")
        );
    }

    #[test]
    fn merges_inside_one_batch_see_earlier_events_of_the_batch() {
        let (_dir, mut r) = resolver();
        let a = id(IdentifierKind::Email, "a@b.cn");
        let b = id(IdentifierKind::Phone, "+8613800138000");
        let out = r
            .apply(
                &[
                    event("e1", 1, vec![a.clone()], 0),
                    event("e2", 2, vec![b.clone()], 0),
                    event("e3", 3, vec![a, b], 0),
                ],
                &[],
            )
            .expect("apply");
        assert_eq!((out.created, out.absorbed), (2, 1));
        assert_eq!(r.store().stats().expect("stats").profiles, 1);
    }

    #[test]
    fn repeated_event_changes_nothing() {
        let (_dir, mut r) = resolver();
        let e = event("pos:1", 1, vec![id(IdentifierKind::MemberId, "M1")], 10);
        r.apply(std::slice::from_ref(&e), &[]).expect("apply");
        let before: Vec<_> = r
            .store()
            .profiles()
            .collect::<Result<_, _>>()
            .expect("read");
        let out = r.apply(&[e.clone(), e], &[]).expect("apply");
        assert_eq!(out.duplicates, 2);
        assert!(out.changes.is_empty());
        let after: Vec<_> = r
            .store()
            .profiles()
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(before, after);
    }

    #[test]
    fn unrelated_people_stay_apart_and_versions_count_up() {
        let (_dir, mut r) = resolver();
        let out = r
            .apply(
                &[
                    event("a1", 1, vec![id(IdentifierKind::Email, "a@x.cn")], 0),
                    event("b1", 1, vec![id(IdentifierKind::Email, "b@x.cn")], 0),
                    event("a2", 2, vec![id(IdentifierKind::Email, "a@x.cn")], 0),
                ],
                &[],
            )
            .expect("apply");
        let versions: Vec<_> = out
            .changes
            .iter()
            .map(|c| (c.profile_id.as_str(), c.change_type, c.version))
            .collect();
        assert_eq!(
            versions,
            vec![
                ("kp-000000000001", ChangeType::Created, 1),
                ("kp-000000000002", ChangeType::Created, 1),
                ("kp-000000000001", ChangeType::Updated, 2),
            ]
        );
    }

    #[test]
    fn offsets_commit_with_the_state_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let mut r = Resolver::new(Store::open(dir.path()).expect("open"));
            let offsets = [
                SourceOffset {
                    topic: "t".into(),
                    partition: 0,
                    next_offset: 11,
                },
                SourceOffset {
                    topic: "t".into(),
                    partition: 2,
                    next_offset: 7,
                },
            ];
            r.apply(
                &[event("e", 1, vec![id(IdentifierKind::Email, "a@x.cn")], 0)],
                &offsets,
            )
            .expect("apply");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let offsets = store.offsets().expect("offsets");
        assert_eq!(offsets.get(&("t".to_string(), 0)), Some(&11));
        assert_eq!(offsets.get(&("t".to_string(), 2)), Some(&7));
        assert_eq!(store.stats().expect("stats").profiles, 1);
    }
}
