//! What the profile topic already holds, for a store that did not publish
//! it: one restored from a snapshot (the changes since the snapshot were
//! published by the lost store), or one rebuilt from the canonical topic
//! (every change was).
//!
//! Such a store would otherwise number profiles again that the topic names
//! for other people (a downstream system holding `kp-7` for Ann would be
//! given Bob's record under it), publish versions the topic already carries
//! (a consumer keeping the highest version would ignore them), and leave
//! the records of ids it does not hold on the compacted topic for good (a
//! person downstream twice, once under an id no erasure tombstones).
//! [`Resolver::reconcile_with_published`] settles all three from the
//! topic's keys read back ([`Published`]).

use std::collections::BTreeMap;

use kindred_model::{ChangeType, ProfileChange};

use crate::outbox::{OutboxEntry, Tombstone};
use crate::resolver::{profile_seq, BatchView};
use crate::store::{absorbed_key, cf, AbsorbedProfile, StoredProfile};
use crate::{Resolver, StoreError};

/// One key of the profile topic as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedKey {
    /// The highest version a record under the key carried (0: none
    /// readable, only tombstones).
    pub version: i64,
    /// Its latest record is a tombstone (the profile was erased).
    pub deleted: bool,
}

/// The profile topic's keys, read from its beginning to its end.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    keys: BTreeMap<String, PublishedKey>,
    /// The highest change sequence (`kindred.change.seq`) a record carried.
    highest_change_seq: u64,
}

impl Published {
    /// Notes the next record under `key`, in the topic's order (a key's
    /// records are on one partition): a change of `Some(version)`, or a
    /// tombstone.
    pub fn record(&mut self, key: &str, version: Option<i64>) {
        let entry = self.keys.entry(key.to_string()).or_insert(PublishedKey {
            version: 0,
            deleted: false,
        });
        match version {
            Some(v) => {
                entry.version = entry.version.max(v);
                entry.deleted = false;
            }
            None => entry.deleted = true,
        }
    }

    /// Notes `key` as erased (the erasure audit topic lists it): its
    /// tombstone and records may be gone from the compacted topic, but the
    /// id is taken for good, and nothing queued under it is published.
    pub fn record_erased(&mut self, key: &str) {
        self.keys
            .entry(key.to_string())
            .or_insert(PublishedKey {
                version: 0,
                deleted: true,
            })
            .deleted = true;
    }

    /// Notes a profile change's sequence (its `kindred.change.seq` header):
    /// a store that continues the topic numbers its next changes after the
    /// highest, so that a consumer keeping each event's placement of the
    /// highest sequence takes the new ones.
    pub fn record_change_seq(&mut self, seq: u64) {
        self.highest_change_seq = self.highest_change_seq.max(seq);
    }

    /// The highest change sequence the topic carries (0: none).
    pub fn highest_change_seq(&self) -> u64 {
        self.highest_change_seq
    }

    /// The highest profile number the topic names (0: none).
    pub fn highest_profile_seq(&self) -> u64 {
        self.keys
            .keys()
            .filter_map(|k| profile_seq(k))
            .max()
            .unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<PublishedKey> {
        self.keys.get(key).copied()
    }
}

/// What [`Resolver::reconcile_with_published`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The store's profile numbering was moved past the topic's highest
    /// id: its next profile is this number.
    pub numbered_from: Option<u64>,
    /// Profiles (live or absorbed) whose next change would have repeated a
    /// version the topic carries: they continue from the topic's.
    pub versions_raised: u64,
    /// Ids live on the topic that the store neither holds nor redirects:
    /// a tombstone for each is queued.
    pub tombstoned: u64,
    /// Profile changes waiting in the outbox (a snapshot's) that the topic
    /// already carries (their version or a later one under their id, which
    /// the lost store published, or the id is erased there): dropped, not
    /// sent again after newer ones.
    pub already_published: u64,
    /// Outbox entries numbered again after the topic's highest change
    /// sequence ([`Published::highest_change_seq`]).
    pub renumbered: u64,
}

/// Tombstones queued per write: a rebuild's old ids can be millions.
const TOMBSTONES_PER_WRITE: u64 = if cfg!(test) { 2 } else { 10_000 };

/// How many restated profiles or redirects one write of the
/// reconciliation holds: each restated profile carries its whole event
/// history (`moved_event_ids`), so a restore after an hour of a busy
/// store's changes was one write of gigabytes.
const RESTATED_PER_WRITE: u64 = if cfg!(test) { 2 } else { 1_000 };

/// Outbox entries moved per write by [`Resolver::continue_change_sequence`].
const RENUMBERED_PER_WRITE: usize = 1_000;

impl Resolver {
    /// Numbers the outbox after `floor`, the highest change sequence the
    /// profile topic carries: the entries still queued (a snapshot's,
    /// or none) move, in their order, above it and above every sequence
    /// given so far, and so does the counter. A consumer keeps each
    /// event's placement of the highest sequence: a restored or rebuilt
    /// store restarted lower, and its changes lost to the older ones the
    /// topic held. Several writes: run it on a store the resolver refuses
    /// meanwhile ([`crate::Store::set_rebuilding`]). Returns how many
    /// entries moved.
    fn continue_change_sequence(&mut self, floor: u64) -> Result<u64, StoreError> {
        let next = self.store.next_outbox_seq()?;
        let first = self.store.outbox_after(0, 1)?.first().map(|(seq, _)| *seq);
        if first.is_none_or(|first| first > floor) && next > floor {
            return Ok(0);
        }
        let start = next.max(floor.saturating_add(1));
        let mut moved = 0u64;
        loop {
            // Every entry queued now lies below `start` (at most `next`).
            let queued = self.store.outbox_after(0, RENUMBERED_PER_WRITE)?;
            let queued: Vec<_> = queued.into_iter().filter(|(seq, _)| *seq < start).collect();
            if queued.is_empty() {
                break;
            }
            let mut batch = rocksdb::WriteBatch::default();
            for (seq, entry) in queued {
                self.store
                    .delete(&mut batch, cf::OUTBOX, &seq.to_be_bytes());
                self.store.put_value(
                    &mut batch,
                    cf::OUTBOX,
                    &(start + moved).to_be_bytes(),
                    &entry,
                );
                moved += 1;
            }
            self.store.write(batch)?;
        }
        let mut batch = rocksdb::WriteBatch::default();
        self.store.put(
            &mut batch,
            cf::META,
            crate::store::NEXT_OUTBOX_SEQ,
            &(start + moved).to_be_bytes(),
        );
        self.store.write(batch)?;
        Ok(moved)
    }

    /// Numbers this store's next profiles after every id the topic names,
    /// if they are not already. Returns the next number when it moved.
    pub fn number_profiles_after(
        &mut self,
        published: &Published,
    ) -> Result<Option<u64>, StoreError> {
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        if !view.number_profiles_after(published.highest_profile_seq()) {
            return Ok(None);
        }
        let next = published.highest_profile_seq().saturating_add(1);
        self.store.write(view.into_write_batch())?;
        Ok(Some(next))
    }

    /// Makes this store's outputs continue what the profile topic holds
    /// (read back into `published`): profiles are numbered after the
    /// topic's ids; each profile or absorbed id the store holds whose
    /// version the topic passed continues from the topic's, restated (an
    /// `updated` change with the store's record, or its redirect again,
    /// caused by `cause`: the topic's last record under it may say what
    /// the store does not, a change the lost store made after the
    /// snapshot); profile changes in the outbox that the topic already
    /// carries, or under an id erased there, are dropped; and a tombstone
    /// is queued for each id live on the topic that the store neither
    /// holds nor redirects. Keys that are no profile id of this
    /// resolver's are left alone. Several writes for many tombstones: run
    /// it on a store the resolver refuses meanwhile
    /// ([`crate::Store::set_rebuilding`]).
    pub fn reconcile_with_published(
        &mut self,
        published: &Published,
        cause: &str,
    ) -> Result<Reconciled, StoreError> {
        let mut done = Reconciled::default();
        // What the topic already carries leaves the outbox first (this
        // view's own entries come after it).
        let mut batch = rocksdb::WriteBatch::default();
        let mut after = 0;
        loop {
            let queued = self.store.outbox_after(after, 1_000)?;
            let Some(&(last, _)) = queued.last() else {
                break;
            };
            after = last;
            for (seq, entry) in queued {
                let OutboxEntry::Change(change) = entry else {
                    continue;
                };
                if published
                    .get(&change.profile_id)
                    .is_some_and(|p| p.deleted || p.version >= change.version)
                {
                    self.store
                        .delete(&mut batch, cf::OUTBOX, &seq.to_be_bytes());
                    done.already_published += 1;
                }
            }
        }
        self.store.write(batch)?;
        done.renumbered = self.continue_change_sequence(published.highest_change_seq())?;
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        let highest = published.highest_profile_seq();
        if view.number_profiles_after(highest) {
            done.numbered_from = Some(highest.saturating_add(1));
        }
        let mut restated = 0u64;
        for (id, key) in &published.keys {
            if restated >= RESTATED_PER_WRITE {
                self.store.write(view.into_write_batch())?;
                view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
                restated = 0;
            }
            if profile_seq(id).is_none() {
                continue;
            }
            let here: Option<StoredProfile> = self.store.get_value(cf::PROFILES, id)?;
            if let Some(stored) = here {
                if stored.record.version < key.version {
                    let mut profile = view.take_profile_to_extend(id)?;
                    if key.deleted {
                        // Erased there after the snapshot: not restated
                        // (the erasure is applied again from its topic).
                        profile.record.version = key.version;
                    } else {
                        // The topic's last record under it may say anything
                        // the store does not (a change the lost store made
                        // after the snapshot): every field is restated, and
                        // every event it holds placed under it again.
                        profile.record.version = key.version + 1;
                        let mut change = view.change(
                            ChangeType::Updated,
                            None,
                            &profile.record,
                            cause,
                            Vec::new(),
                            None,
                        );
                        change.moved_event_ids = view.all_members(&profile)?;
                        view.push_outbox(&OutboxEntry::Change(Box::new(change)));
                    }
                    view.profiles.insert(id.clone(), Some(profile));
                    done.versions_raised += 1;
                    restated += 1;
                }
                continue;
            }
            if let Some(survivor) = self.store.get_string(cf::REDIRECTS, id)? {
                let at = absorbed_key(&survivor, id);
                if let Some(bytes) = self.store.get_raw(cf::ABSORBED, &at)? {
                    let absorbed: AbsorbedProfile =
                        self.store.decode_value(cf::ABSORBED, &at, &bytes)?;
                    if absorbed.version < key.version {
                        let mut version = key.version;
                        if !key.deleted {
                            let change = ProfileChange::superseded(
                                id.clone(),
                                key.version,
                                cause.to_string(),
                                survivor.clone(),
                            );
                            version = change.version;
                            view.push_outbox(&OutboxEntry::Change(Box::new(change)));
                        }
                        view.put_absorbed(
                            at,
                            AbsorbedProfile {
                                version,
                                members: absorbed.members,
                            },
                        );
                        done.versions_raised += 1;
                        restated += 1;
                    }
                }
                continue;
            }
            if !key.deleted {
                view.push_outbox(&OutboxEntry::Tombstone(Tombstone::Profile(id.clone())));
                done.tombstoned += 1;
                if done.tombstoned % TOMBSTONES_PER_WRITE == 0 {
                    self.store.write(view.into_write_batch())?;
                    view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
                }
            }
        }
        self.store.write(view.into_write_batch())?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use kindred_model::{
        CanonicalEvent, ChangeType, Channel, Identifier, IdentifierKind, ProfileChange,
    };

    use super::*;
    use crate::Store;

    fn signup(event_id: &str, t: i64, emails: &[&str]) -> CanonicalEvent {
        let ids = emails
            .iter()
            .map(|e| Identifier::new(IdentifierKind::Email, *e))
            .collect();
        CanonicalEvent::new(event_id, Channel::Web, t, ids)
    }

    fn kp(n: u64) -> String {
        format!("kp-{n:012}")
    }

    fn reconcile(r: &mut Resolver, published: &Published) -> Reconciled {
        r.reconcile_with_published(published, "decision:restore")
            .expect("reconcile")
    }

    fn settled(
        numbered_from: Option<u64>,
        versions_raised: u64,
        tombstoned: u64,
        already_published: u64,
    ) -> Reconciled {
        Reconciled {
            numbered_from,
            versions_raised,
            tombstoned,
            already_published,
            renumbered: 0,
        }
    }

    /// A resolver on a store in `dir` with two sign-ups applied (kp-1 a@,
    /// kp-2 b@), their changes still queued.
    fn two_signups(dir: &std::path::Path) -> Resolver {
        let mut r = Resolver::new(Store::open(dir).expect("store"));
        r.apply(
            &[
                signup("web:1", 1, &["a@x.cn"]),
                signup("web:2", 2, &["b@x.cn"]),
            ],
            &[],
        )
        .expect("apply");
        r
    }

    /// A store restored from a snapshot holds kp-1 (which absorbed kp-2);
    /// the lost store had gone on to publish kp-1 up to version 9, kp-2's
    /// redirect at 7, a kp-5 the snapshot never saw and an erased kp-6.
    #[test]
    fn a_store_continues_the_ids_and_versions_the_topic_holds_and_drops_the_rest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = two_signups(dir.path());
        r.apply(&[signup("web:3", 3, &["a@x.cn", "b@x.cn"])], &[])
            .expect("apply");
        assert_eq!(r.store().resolve_redirects(&kp(2)).expect("read"), kp(1));
        // The outbox still holds these four changes (a snapshot's), which
        // the lost store went on to publish.
        assert_eq!(r.store().outbox().expect("outbox").len(), 4);

        let mut published = Published::default();
        published.record(&kp(1), Some(9));
        published.record(&kp(2), Some(7));
        published.record(&kp(5), Some(3));
        published.record(&kp(6), Some(2));
        published.record(&kp(6), None);
        published.record("someone-else", Some(4));
        assert_eq!(published.highest_profile_seq(), 6);

        let done = reconcile(&mut r, &published);
        assert_eq!(done, settled(Some(7), 2, 1, 4));
        let queued: Vec<OutboxEntry> = r
            .store()
            .outbox()
            .expect("outbox")
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        // The two held ids restated past the topic's versions (what the
        // topic last said under them may be a change the lost store made
        // after the snapshot), then the stale id's tombstone.
        let shown: Vec<String> = queued
            .iter()
            .map(|e| match e {
                OutboxEntry::Change(c) => format!(
                    "{} {} v{} {:?}",
                    c.profile_id,
                    c.change_type.as_str(),
                    c.version,
                    c.superseded_by
                ),
                OutboxEntry::Tombstone(Tombstone::Profile(id)) => format!("{id} tombstone"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                format!("{} updated v10 None", kp(1)),
                format!("{} superseded v8 Some(\"{}\")", kp(2), kp(1)),
                format!("{} tombstone", kp(5)),
            ]
        );
        let absorbed = r.store().absorbed_into(&kp(1)).expect("absorbed");
        assert_eq!(
            absorbed
                .iter()
                .map(|(id, a)| (id.clone(), a.version))
                .collect::<Vec<_>>(),
            vec![(kp(2), 8)]
        );

        // A new person is numbered after kp-6, the known one goes on at 11.
        let out = r
            .apply(
                &[
                    signup("web:4", 4, &["c@x.cn"]),
                    signup("web:5", 5, &["a@x.cn"]),
                ],
                &[],
            )
            .expect("apply");
        let seen: Vec<(String, ChangeType, i64)> = out
            .changes
            .iter()
            .map(|c| (c.profile_id.clone(), c.change_type, c.version))
            .collect();
        assert_eq!(
            seen,
            vec![
                (kp(7), ChangeType::Created, 1),
                (kp(1), ChangeType::Updated, 11)
            ]
        );
        // Once settled, nothing moves again but the stale id's tombstone.
        let again = reconcile(&mut r, &published);
        assert_eq!(again, settled(None, 0, 1, 0));
    }

    /// A snapshot's queued change of Ann, whom the lost store erased
    /// since (the compacted topic may keep no version of her, only the
    /// audit topic's record): not published again, and her id stays taken.
    #[test]
    fn nothing_queued_under_an_erased_id_goes_out_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = Resolver::new(Store::open(dir.path()).expect("store"));
        r.apply(&[signup("web:1", 1, &["ann@x.cn"])], &[])
            .expect("apply");
        let mut published = Published::default();
        published.record_erased(&kp(1));
        published.record_erased(&kp(9));
        assert_eq!(published.highest_profile_seq(), 9);
        let done = reconcile(&mut r, &published);
        assert_eq!(done, settled(Some(10), 0, 0, 1));
        assert!(r.store().outbox().expect("outbox").is_empty());
    }

    /// The topic's changes went up to sequence 40 (the lost store's);
    /// a snapshot's store numbers from 4 with two entries still queued
    /// that the topic lacks: they move above 40, in their order, and so do
    /// the changes queued after them. A restated record names every field
    /// and every event it holds (the topic's last record under its id
    /// may say anything the store does not).
    #[test]
    fn a_store_numbers_its_changes_after_the_topics_highest_sequence() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = two_signups(dir.path());
        let before: Vec<u64> = r
            .store()
            .outbox()
            .expect("outbox")
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(before, vec![1, 2]);
        let mut published = Published::default();
        published.record(&kp(1), Some(3));
        published.record_change_seq(40);
        published.record_change_seq(12);
        assert_eq!(published.highest_change_seq(), 40);
        let done = reconcile(&mut r, &published);
        assert_eq!(done.renumbered, 1, "kp-2's creation stays queued, moved");
        let queued: Vec<(u64, ProfileChange)> = r
            .store()
            .outbox()
            .expect("outbox")
            .into_iter()
            .filter_map(|(seq, e)| match e {
                OutboxEntry::Change(c) => Some((seq, *c)),
                _ => None,
            })
            .collect();
        let shown: Vec<(u64, String, String)> = queued
            .iter()
            .map(|(seq, c)| {
                (
                    *seq,
                    c.profile_id.clone(),
                    c.change_type.as_str().to_string(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (41, kp(2), "created".to_string()),
                (42, kp(1), "updated".to_string())
            ]
        );
        let restated = &queued[1].1;
        assert!(
            restated.changed_fields.iter().any(|f| f == "identifiers"),
            "{restated:?}"
        );
        assert_eq!(restated.moved_event_ids, vec!["web:1".to_string()]);
        assert_eq!(r.store().next_outbox_seq().expect("seq"), 43);
        // Settled: nothing moves again.
        let again = reconcile(&mut r, &published);
        assert_eq!(again.renumbered, 0);
    }

    #[test]
    fn only_ids_of_this_resolver_count() {
        assert_eq!(profile_seq("kp-000000000042"), Some(42));
        for other in [
            "kp-",
            "kp-4x",
            "KP-1",
            "kp--1",
            "x-1",
            "kp-+1",
            "kp-18446744073709551615",
        ] {
            assert_eq!(profile_seq(other), None, "{other}");
        }
        let mut published = Published::default();
        published.record("order-99", Some(1));
        assert_eq!(published.highest_profile_seq(), 0);
    }
}
