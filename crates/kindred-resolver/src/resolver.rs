use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use kindred_model::{
    changed_fields, AttributeVotes, CanonicalEvent, ChangeType, Channel, GoldenRecord, Identifier,
    IdentifierKind, LinkPolicy, MergeEvidence, ProfileChange, Survivorship,
};
use rocksdb::WriteBatch;

use crate::cluster::{cluster, within_limits, Clustering, Link, Node, Refusal};
use crate::decision::{Constraint, DecisionRecord};
use crate::keys::{
    alone_anchor, anchor_of_key, fnv1a, per_namespace, EventKeys, KeyClass, LinkKey,
};
use crate::store::{
    absorbed_key, cf, encode_members, utf8, AbsorbedProfile, Holder, IndexEntry, LineageRecord,
    PendingSuggestion, StoredProfile, NEXT_DECISION_SEQ, NEXT_LINEAGE_SEQ, NEXT_OUTBOX_SEQ,
    NEXT_PROFILE_SEQ, WATERMARK,
};
use crate::{SourceOffset, Store, StoreError};

/// What every profile id starts with; the rest is its number
/// ([`profile_seq`]).
pub const PROFILE_ID_PREFIX: &str = "kp-";

/// The number of a profile id this resolver makes (`kp-000000000042` is
/// 42); `None` for any other key, and for a number no store reaches (a
/// stray `kp-18446744073709551615` on the topic would otherwise move the
/// counter to its end, and the next id wrap to `kp-000000000000`).
pub fn profile_seq(id: &str) -> Option<u64> {
    /// 2^53: far past any store, far from the end of a u64.
    const BEYOND: u64 = 1 << 53;
    let digits = id.strip_prefix(PROFILE_ID_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n < BEYOND)
}

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Change events, in the order they happened.
    pub changes: Vec<ProfileChange>,
    /// Events skipped because their source event id was applied before.
    pub duplicates: u64,
    /// [`BatchOutcome::duplicates`] per channel, in [`Channel::ALL`]'s
    /// order (pos, web, social).
    pub duplicates_by_channel: [u64; 3],
    /// Events dropped because they carry an erased person's identifier.
    pub suppressed: u64,
    pub created: u64,
    /// Profiles absorbed into survivors.
    pub absorbed: u64,
    /// Profiles split off others (by a quarantine or a late event).
    pub splits: u64,
    /// Identifiers quarantined as over-shared by this batch.
    pub quarantined: Vec<QuarantineNotice>,
    /// Identifiers (cards) this batch showed shared by their records'
    /// names (`IndexEntry::names_differ`), one per card.
    pub marked_shared: Vec<SharedNotice>,
    /// New pairs of profiles a guard or a suggest rule flagged for review
    /// (a pair already waiting in the review queue is not repeated).
    pub suggestions: Vec<Suggestion>,
    /// Links refused, by reason ([`Refusal::as_str`](crate::Refusal::as_str)).
    pub refused: BTreeMap<&'static str, u64>,
    /// Events re-read and re-clustered by recomputations (the new events
    /// included); an event that joins its profile incrementally adds none.
    pub recomputed_events: u64,
    /// Sequence of the last outbox entry this batch wrote (None: it wrote
    /// none). Everything up to it is durable and waits to be published.
    pub outbox_last: Option<u64>,
}

impl BatchOutcome {
    /// This outcome and the `later` one's, as one (the later's changes
    /// after this one's; its outbox position, if it wrote one).
    pub(crate) fn followed_by(mut self, later: BatchOutcome) -> BatchOutcome {
        // Destructured: a field added to the outcome must be summed here.
        let BatchOutcome {
            changes,
            duplicates,
            duplicates_by_channel,
            suppressed,
            created,
            absorbed,
            splits,
            quarantined,
            marked_shared,
            suggestions,
            refused,
            recomputed_events,
            outbox_last,
        } = later;
        self.changes.extend(changes);
        self.duplicates += duplicates;
        for (sum, n) in self
            .duplicates_by_channel
            .iter_mut()
            .zip(duplicates_by_channel)
        {
            *sum += n;
        }
        self.suppressed += suppressed;
        self.created += created;
        self.absorbed += absorbed;
        self.splits += splits;
        self.quarantined.extend(quarantined);
        self.marked_shared.extend(marked_shared);
        self.suggestions.extend(suggestions);
        for (reason, n) in refused {
            *self.refused.entry(reason).or_default() += n;
        }
        self.recomputed_events += recomputed_events;
        self.outbox_last = outbox_last.or(self.outbox_last);
        self
    }
}

/// Two profiles that may be one person, for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub profile_a: String,
    pub profile_b: String,
    pub evidence: MergeEvidence,
    /// Which guard refused the link, or `suggest_rule`.
    pub reason: &'static str,
}

/// A card an event showed shared by its records' names
/// (`IndexEntry::names_differ`). Carries the value masked, never raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedNotice {
    pub kind: IdentifierKind,
    /// `member_id:MA****00`.
    pub masked: String,
}

/// An identifier the over-shared guard took out of linking. Carries the
/// value masked and a digest, never the raw value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuarantineNotice {
    pub kind: String,
    /// `phone:+86****876`.
    pub masked: String,
    /// FNV-1a of the link key, hex: matches `kindred explain` output.
    pub digest: String,
    /// Distinct companion identifiers seen with it.
    pub companions: usize,
    /// Event time of the event that tipped it.
    pub at_ms: i64,
}

impl QuarantineNotice {
    /// The notice for `link` of `event`, quarantined with `entry`'s counts
    /// at `at_ms`.
    pub(crate) fn of(
        event: &CanonicalEvent,
        link: &LinkKey,
        kind: IdentifierKind,
        entry: &IndexEntry,
        at_ms: i64,
    ) -> Self {
        QuarantineNotice {
            kind: kind.as_str().to_string(),
            masked: masked_link(event, link, kind),
            digest: format!("{:016x}", fnv1a(link.key.as_bytes())),
            companions: entry.companions.len(),
            at_ms,
        }
    }
}

/// How a quarantine notice names the identifier behind `link` (of `kind`,
/// on `event`): its kind and masked value, never the value.
pub(crate) fn masked_link(event: &CanonicalEvent, link: &LinkKey, kind: IdentifierKind) -> String {
    link.identifier
        .and_then(|i| event.identifiers.get(i))
        .map(|id| {
            format!(
                "{}:{}",
                kind.as_str(),
                kindred_model::mask_value(kind, &id.value)
            )
        })
        .unwrap_or_else(|| kind.as_str().to_string())
}

/// What caused a recomputation: a new event, or a person's decision.
pub(crate) struct Cause<'e> {
    pub id: String,
    pub at_ms: i64,
    pub event: Option<&'e CanonicalEvent>,
    /// (decision id, actor) for decisions.
    pub decision: Option<(u64, String)>,
}

impl<'e> Cause<'e> {
    /// A person's decision number `d`.
    pub(crate) fn decision(d: u64, actor: &str, at_ms: i64) -> Self {
        Cause {
            id: format!("{}{d}", kindred_model::DECISION_CAUSE_PREFIX),
            at_ms,
            event: None,
            decision: Some((d, actor.to_string())),
        }
    }

    fn event(event: &'e CanonicalEvent) -> Self {
        Cause {
            id: event.event_id.clone(),
            at_ms: event.event_time_ms,
            event: Some(event),
            decision: None,
        }
    }
}

/// The identity resolver: owns the store and applies batches of events.
/// Only the resolver writes state; others may share the store to read it
/// and drain its outbox ([`Resolver::shared_store`]).
pub struct Resolver {
    pub(crate) store: std::sync::Arc<Store>,
    pub(crate) policy: LinkPolicy,
    pub(crate) survivorship: Survivorship,
    /// Erasures put the person's identifiers on the suppression list.
    pub(crate) suppress_erased: bool,
    /// The decision request an operation is carried out for
    /// ([`Resolver::apply_request`]), if any.
    pub(crate) request: Option<crate::request::RequestContext>,
}

impl Resolver {
    /// A resolver with the default linking and survivorship policies.
    pub fn new(store: Store) -> Self {
        Self::with_policy(store, LinkPolicy::default(), Survivorship::default())
    }

    pub fn with_policy(store: Store, policy: LinkPolicy, survivorship: Survivorship) -> Self {
        Resolver {
            store: std::sync::Arc::new(store),
            policy,
            survivorship,
            suppress_erased: true,
            request: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to share with a thread that reads it or drains its
    /// outbox while this resolver keeps applying batches.
    pub fn shared_store(&self) -> std::sync::Arc<Store> {
        self.store.clone()
    }

    pub fn policy(&self) -> &LinkPolicy {
        &self.policy
    }

    /// Applies `events` in order and commits the resulting state together with
    /// `offsets` in one atomic write: after a crash the store either reflects
    /// the whole batch and its offsets, or neither.
    pub fn apply(
        &mut self,
        events: &[CanonicalEvent],
        offsets: &[SourceOffset],
    ) -> Result<BatchOutcome, StoreError> {
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        view.prefetch(events)?;
        let mut outcome = BatchOutcome::default();
        // What an erasure's second write did not get to, before the events.
        let finished = view.finish_erasure(&mut outcome)?;
        for event in events {
            view.apply_event(event, &mut outcome)?;
        }
        view.queue_outputs(&mut outcome)?;
        outcome.outbox_last = view.outbox_last();
        let mut batch = view.into_write_batch();
        if finished {
            self.store.delete(
                &mut batch,
                cf::META,
                crate::erase::PENDING_NEIGHBOURS.as_bytes(),
            );
        }
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
/// batch's events are likely to touch with a few batched MultiGets (their
/// event ids, their link keys, the profiles those point at); the per-event
/// work then mostly runs against memory.
pub(crate) struct BatchView<'a> {
    store: &'a Store,
    policy: &'a LinkPolicy,
    survivorship: &'a Survivorship,
    /// The store's records were settled by `survivorship` (not by rules
    /// changed since): a record's consents may be kept as they are.
    settled_alike: bool,
    /// Link keys of the batch's events, derived once by `prefetch`.
    keys: HashMap<String, EventKeys>,
    /// Overlay: what this batch wrote.
    pub(crate) entries: HashMap<String, IndexEntry>,
    pub(crate) profiles: HashMap<String, Option<StoredProfile>>,
    /// Profiles in `profiles` whose `members` hold only the events this
    /// batch added (taken by [`take_profile_to_extend`](Self::take_profile_to_extend)):
    /// written as an append to the `members` family, not a rewrite.
    appended_only: HashSet<String>,
    /// Profile id -> its events' distinct folded names (`None`: unknown, or
    /// more than [`MAX_PROFILE_NAMES`]), as read or as this batch sets them
    /// (the `names` family).
    names: HashMap<String, Option<Vec<String>>>,
    /// Profiles whose `names` this batch changed (only those are written).
    names_changed: HashSet<String>,
    contributions: HashMap<String, CanonicalEvent>,
    /// Absorbed id -> survivor (None: the id is live again, delete it).
    redirects: HashMap<String, Option<String>>,
    /// `absorbed` family changes: Some = put, None = delete.
    absorbed: BTreeMap<Vec<u8>, Option<AbsorbedProfile>>,
    /// Lineage records to write, each under the profile id it is kept for:
    /// its survivor's, and for a split also each part's (so a part can
    /// tell where it came from).
    lineage: Vec<(String, LineageRecord)>,
    /// Decisions pinned on events by this batch (the whole new list per event).
    pub(crate) constraints: HashMap<String, Vec<Constraint>>,
    /// Review queue changes: Some = put, None = delete.
    pub(crate) pending: BTreeMap<(String, String), Option<PendingSuggestion>>,
    pub(crate) decisions: Vec<DecisionRecord>,
    /// What this batch must publish ([`OutboxEntry`]), written with its state.
    /// Encoded (and sealed) [`OutboxEntry`] values, the first at `next_outbox`.
    pub(crate) outbox: Vec<Vec<u8>>,
    /// Other meta keys to write (e.g. the applied link policy).
    pub(crate) extra_meta: Vec<(Vec<u8>, Vec<u8>)>,
    /// Index entries to delete (not in `entries`): quarantined identifiers
    /// no stored record carries any more (`rules apply` after erasures).
    pub(crate) removed_entries: BTreeSet<String>,
    next_seq: u64,
    next_lineage: u64,
    pub(crate) next_decision: u64,
    next_outbox: u64,
    pub(crate) watermark_ms: i64,
    counters_dirty: bool,
    /// The suppression list is not empty: events are checked against it.
    check_suppression: bool,
    /// Read-ahead of the store: what it held before this batch.
    stored: Prefetched,
    /// The decision request this view's operation is carried out for: a
    /// decision writes its reply and source offsets in its batch.
    pub(crate) request: Option<crate::request::RequestContext>,
}

/// Store contents read ahead for a batch; a key absent here is read on demand.
#[derive(Default)]
struct Prefetched {
    /// Event ids looked up, and those the store already had.
    events_checked: HashSet<String>,
    events_known: HashSet<String>,
    entries: HashMap<String, Option<IndexEntry>>,
    /// Profile id -> stored redirect (None: looked up, not absorbed).
    redirects: HashMap<String, Option<String>>,
    profiles: HashMap<String, StoredProfile>,
}

/// An absorbed id, what it stood for, and where those events are now.
struct AbsorbedHome {
    /// The id it redirects to directly.
    parent: String,
    id: String,
    profile: AbsorbedProfile,
    /// The cluster of a recomputation holding its earliest own event.
    home: Option<usize>,
}

pub(crate) fn read_counter(store: &Store, key: &[u8], default: u64) -> Result<u64, StoreError> {
    match store.get_raw(cf::META, key)? {
        Some(bytes) => {
            let arr: [u8; 8] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt {
                    what: cf::META,
                    key: String::from_utf8_lossy(key).into_owned(),
                    message: format!("expected 8 bytes, found {}", bytes.len()),
                })?;
            Ok(u64::from_be_bytes(arr))
        }
        None => Ok(default),
    }
}

impl<'a> BatchView<'a> {
    pub(crate) fn new(
        store: &'a Store,
        policy: &'a LinkPolicy,
        survivorship: &'a Survivorship,
    ) -> Result<Self, StoreError> {
        Ok(BatchView {
            store,
            policy,
            survivorship,
            settled_alike: !crate::admin::survivorship_changed(store, survivorship)?,
            keys: HashMap::new(),
            entries: HashMap::new(),
            profiles: HashMap::new(),
            appended_only: HashSet::new(),
            names: HashMap::new(),
            names_changed: HashSet::new(),
            contributions: HashMap::new(),
            redirects: HashMap::new(),
            absorbed: BTreeMap::new(),
            lineage: Vec::new(),
            constraints: HashMap::new(),
            pending: BTreeMap::new(),
            decisions: Vec::new(),
            outbox: Vec::new(),
            extra_meta: Vec::new(),
            removed_entries: BTreeSet::new(),
            next_seq: read_counter(store, NEXT_PROFILE_SEQ, 1)?,
            next_lineage: read_counter(store, NEXT_LINEAGE_SEQ, 1)?,
            next_decision: read_counter(store, NEXT_DECISION_SEQ, 1)?,
            next_outbox: read_counter(store, NEXT_OUTBOX_SEQ, 1)?,
            watermark_ms: read_counter(store, WATERMARK, 0)? as i64,
            counters_dirty: false,
            check_suppression: store.has_suppressions()?,
            stored: Prefetched::default(),
            request: None,
        })
    }

    /// Reads ahead what `events` can touch: a few batched MultiGets instead
    /// of several point lookups per event.
    fn prefetch(&mut self, events: &[CanonicalEvent]) -> Result<(), StoreError> {
        let event_ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let found = self
            .store
            .multi_get(cf::CONTRIBUTIONS, &as_bytes(&event_ids))?;
        for (id, value) in event_ids.iter().zip(found) {
            self.stored.events_checked.insert(id.to_string());
            if value.is_some() {
                self.stored.events_known.insert(id.to_string());
            }
        }
        for e in events {
            self.keys
                .entry(e.event_id.clone())
                .or_insert_with(|| EventKeys::of(e, self.policy, self.store.hasher()));
        }
        let keys: Vec<String> = self
            .keys
            .values()
            .flat_map(|k| k.links.iter().map(|l| l.key.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let values = self
            .store
            .multi_get(cf::IDENTIFIERS, &as_bytes(&key_refs))?;
        let mut profile_ids = BTreeSet::new();
        for (key, value) in keys.iter().zip(values) {
            let entry: Option<IndexEntry> = value
                .map(|v| self.store.decode_value(cf::IDENTIFIERS, key, &v))
                .transpose()?;
            if let Some(e) = &entry {
                profile_ids.extend(e.holders.iter().map(|h| h.profile_id.clone()));
            }
            self.stored.entries.insert(key.clone(), entry);
        }
        // Holders may have been absorbed since: read their redirects, then
        // the profiles the chains end at.
        let mut frontier: Vec<String> = profile_ids.into_iter().collect();
        let mut live = BTreeSet::new();
        // (No depth limit: an id already read is not read again, so a
        // cycle ends the walk too.)
        while !frontier.is_empty() {
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
                self.stored.profiles.insert(
                    id.clone(),
                    self.store.decode_value(cf::PROFILES, id, &bytes)?,
                );
            }
        }
        Ok(())
    }

    /// The golden record of a live profile as this view sees it.
    pub(crate) fn current_record(
        &self,
        profile_id: &str,
    ) -> Result<Option<GoldenRecord>, StoreError> {
        if let Some(p) = self.profiles.get(profile_id) {
            return Ok(p.as_ref().map(|p| p.record.clone()));
        }
        if let Some(p) = self.stored.profiles.get(profile_id) {
            return Ok(Some(p.record.clone()));
        }
        self.store.profile(profile_id)
    }

    /// Queues `entry` (an [`OutboxEntry`] or its borrowed twin) for the outbox.
    pub(crate) fn push_outbox<T: serde::Serialize>(&mut self, entry: &T) {
        let seq = self.next_outbox + self.outbox.len() as u64;
        let value = self
            .store
            .encode_value(cf::OUTBOX, &seq.to_be_bytes(), entry);
        self.outbox.push(value);
    }

    /// The sequence the last queued outbox entry will get, if any.
    pub(crate) fn outbox_last(&self) -> Option<u64> {
        (self.outbox.len() as u64)
            .checked_sub(1)
            .map(|n| self.next_outbox + n)
    }

    /// The store under this view.
    pub(crate) fn store_ref(&self) -> &'a Store {
        self.store
    }

    /// Whether `profile_id` is a live profile (in this view or the store).
    pub(crate) fn store_has_profile(&self, profile_id: &str) -> Result<bool, StoreError> {
        if let Some(p) = self.profiles.get(profile_id) {
            return Ok(p.is_some());
        }
        Ok(self.stored.profiles.contains_key(profile_id)
            || self
                .store
                .get_raw(cf::PROFILES, profile_id.as_bytes())?
                .is_some())
    }

    fn seen_event(&self, event_id: &str) -> Result<bool, StoreError> {
        if self.contributions.contains_key(event_id) || self.stored.events_known.contains(event_id)
        {
            return Ok(true);
        }
        if self.stored.events_checked.contains(event_id) {
            return Ok(false);
        }
        Ok(self
            .store
            .get_raw(cf::CONTRIBUTIONS, event_id.as_bytes())?
            .is_some())
    }

    pub(crate) fn entry(&self, key: &str) -> Result<IndexEntry, StoreError> {
        Ok(match self.entries.get(key) {
            Some(e) => e.clone(),
            None => match self.stored.entries.get(key) {
                Some(e) => e.clone().unwrap_or_default(),
                None => self
                    .store
                    .get_value(cf::IDENTIFIERS, key)?
                    .unwrap_or_default(),
            },
        })
    }

    pub(crate) fn follow_redirects(&self, profile_id: &str) -> Result<String, StoreError> {
        crate::store::walk_redirects(profile_id, |id| match self.redirects.get(id) {
            Some(next) => Ok(next.clone()),
            None => match self.stored.redirects.get(id) {
                Some(next) => Ok(next.clone()),
                None => self.store.get_string(cf::REDIRECTS, id),
            },
        })
    }

    /// The live profiles holding a key. A holder whose profile is gone is
    /// skipped: an erasure removes the person's entries under the keys the
    /// link policy of its day derives, so a key only an older (or later)
    /// policy derives may still name the erased profile. It is stale, not
    /// corrupt; the entry's next rewrite drops it.
    pub(crate) fn holders(&self, entry: &IndexEntry) -> Result<BTreeSet<String>, StoreError> {
        let mut live = BTreeSet::new();
        for h in &entry.holders {
            let id = self.follow_redirects(&h.profile_id)?;
            if self.store_has_profile(&id)? {
                live.insert(id);
            } else {
                tracing::debug!(profile_id = %id, "index holder without a profile skipped (erased)");
            }
        }
        Ok(live)
    }

    /// Drops the holders of `entry` whose profile is gone (erased, see
    /// [`Self::holders`]), but for `own`, the profile this event goes to
    /// (taken out of the view while it is extended).
    fn drop_erased_holders(&self, entry: &mut IndexEntry, own: &str) -> Result<(), StoreError> {
        // The common case, on every event: no holder or only its own.
        if entry.holders.iter().all(|h| h.profile_id == own) {
            return Ok(());
        }
        let mut kept = Vec::with_capacity(entry.holders.len());
        for h in entry.holders.drain(..) {
            let id = self.follow_redirects(&h.profile_id)?;
            if id == own || self.store_has_profile(&id)? {
                kept.push(h);
            }
        }
        entry.holders = kept;
        Ok(())
    }

    /// Marks a live profile contested (it holds a key with another), so a
    /// recomputation of it pulls in the others; an absorbed id marks its
    /// survivor, an erased one nothing.
    pub(crate) fn mark_contested(&mut self, profile_id: &str) -> Result<(), StoreError> {
        let id = self.follow_redirects(profile_id)?;
        if !self.store_has_profile(&id)? {
            return Ok(());
        }
        let mut profile = self.take_profile_to_extend(&id)?;
        profile.contested = true;
        self.profiles.insert(id, Some(profile));
        Ok(())
    }

    /// Takes a profile out of the view, with its whole member list (the
    /// caller puts it back or deletes it).
    pub(crate) fn take_profile(&mut self, profile_id: &str) -> Result<StoredProfile, StoreError> {
        let mut profile = self.take_profile_to_extend(profile_id)?;
        if self.appended_only.contains(profile_id) {
            profile.members = self.all_members(&profile)?;
            self.appended_only.remove(profile_id);
        }
        Ok(profile)
    }

    /// Takes a profile out of the view to add events to it: its `members`
    /// may hold only the events this batch added (then the id is in
    /// `appended_only`), so a long history is neither read nor rewritten.
    pub(crate) fn take_profile_to_extend(
        &mut self,
        profile_id: &str,
    ) -> Result<StoredProfile, StoreError> {
        let loaded = match self.profiles.remove(profile_id) {
            Some(p) => p,
            None => {
                let stored = match self.stored.profiles.remove(profile_id) {
                    Some(p) => Some(p),
                    None => self.store.get_value(cf::PROFILES, profile_id)?,
                };
                match stored {
                    // A store written before the `members` family: the list
                    // is in the value; the whole list is rewritten below.
                    Some(mut p) if !p.members.is_empty() => {
                        p.members.extend(self.store.members(profile_id)?);
                        Some(p)
                    }
                    Some(p) => {
                        self.appended_only.insert(profile_id.to_string());
                        Some(p)
                    }
                    None => None,
                }
            }
        };
        loaded.ok_or_else(|| StoreError::Corrupt {
            what: cf::PROFILES,
            key: profile_id.to_string(),
            message: "no such profile, though an identifier's index entry names it".into(),
        })
    }

    /// The distinct folded names of a profile's events, or `None` when
    /// unknown (more than [`MAX_PROFILE_NAMES`], or a profile an older
    /// release wrote, which kept name digests here): then named events
    /// recompute, and the recomputation writes the list.
    fn profile_names(&mut self, profile_id: &str) -> Result<Option<Vec<String>>, StoreError> {
        if let Some(n) = self.names.get(profile_id) {
            return Ok(n.clone());
        }
        let n = match self.store.get_raw(cf::NAMES, profile_id.as_bytes())? {
            // The entry is derived data: one that does not read (an older
            // release's digest list, or one sealed with a key a rotation by
            // a release before 2026-12-01 left behind) is unknown, and the
            // recomputation it causes writes it anew.
            Some(bytes) => self
                .store
                .decode_value::<ProfileNames>(cf::NAMES, profile_id, &bytes)
                .ok()
                .and_then(ProfileNames::into_names),
            None => None,
        };
        self.names.insert(profile_id.to_string(), n.clone());
        Ok(n)
    }

    /// Adds an event's folded name to a profile's (when they are known).
    fn add_profile_name(
        &mut self,
        profile_id: &str,
        name: Option<&String>,
    ) -> Result<(), StoreError> {
        let Some(name) = name else {
            return Ok(());
        };
        if let Some(mut names) = self.profile_names(profile_id)? {
            if !names.contains(name) {
                names.push(name.clone());
                self.names.insert(profile_id.to_string(), kept_names(names));
                self.names_changed.insert(profile_id.to_string());
            }
        }
        Ok(())
    }

    /// Every member event id of `profile` (taken with
    /// [`take_profile_to_extend`](Self::take_profile_to_extend)).
    pub(crate) fn all_members(&self, profile: &StoredProfile) -> Result<Vec<String>, StoreError> {
        let id = &profile.record.profile_id;
        if !self.appended_only.contains(id) {
            return Ok(profile.members.clone());
        }
        let mut all = self.store.members(id)?;
        all.extend(profile.members.iter().cloned());
        Ok(all)
    }

    fn contribution(&self, event_id: &str) -> Result<CanonicalEvent, StoreError> {
        match self.contributions.get(event_id) {
            Some(e) => Ok(e.clone()),
            None => self
                .store
                .get_value(cf::CONTRIBUTIONS, event_id)?
                .ok_or_else(|| StoreError::Corrupt {
                    what: cf::CONTRIBUTIONS,
                    key: event_id.to_string(),
                    message: "no such contribution, though a profile lists the event as a member"
                        .into(),
                }),
        }
    }

    /// The contributions of many events: the batch's own, then one MultiGet.
    pub(crate) fn contributions_of(
        &self,
        event_ids: &[String],
    ) -> Result<Vec<CanonicalEvent>, StoreError> {
        let missing: Vec<&str> = event_ids
            .iter()
            .filter(|id| !self.contributions.contains_key(id.as_str()))
            .map(String::as_str)
            .collect();
        let mut loaded: HashMap<&str, CanonicalEvent> = HashMap::new();
        for (id, value) in missing.iter().zip(
            self.store
                .multi_get(cf::CONTRIBUTIONS, &as_bytes(&missing))?,
        ) {
            if let Some(bytes) = value {
                loaded.insert(id, self.store.decode_value(cf::CONTRIBUTIONS, id, &bytes)?);
            }
        }
        event_ids
            .iter()
            .map(|id| match loaded.remove(id.as_str()) {
                Some(e) => Ok(e),
                None => self.contribution(id),
            })
            .collect()
    }

    fn new_profile_id(&mut self) -> String {
        let id = format!("{PROFILE_ID_PREFIX}{:012}", self.next_seq);
        self.next_seq += 1;
        self.counters_dirty = true;
        id
    }

    /// Numbers this view's next profiles after `seq`, if they are not
    /// already. Returns whether the counter moved.
    pub(crate) fn number_profiles_after(&mut self, seq: u64) -> bool {
        if self.next_seq > seq {
            return false;
        }
        self.next_seq = seq.saturating_add(1);
        self.counters_dirty = true;
        true
    }

    /// Puts `absorbed`'s record under `key` ([`absorbed_key`]).
    pub(crate) fn put_absorbed(&mut self, key: Vec<u8>, absorbed: AbsorbedProfile) {
        self.absorbed.insert(key, Some(absorbed));
    }

    fn apply_event(
        &mut self,
        event: &CanonicalEvent,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        if self.seen_event(&event.event_id)? {
            outcome.duplicates += 1;
            if let Some(i) = Channel::ALL.iter().position(|c| *c == event.channel) {
                outcome.duplicates_by_channel[i] += 1;
            }
            return Ok(());
        }
        let keys = match self.keys.remove(&event.event_id) {
            Some(k) => k,
            None => EventKeys::of(event, self.policy, self.store.hasher()),
        };
        if self.check_suppression {
            if self.store.is_suppressed_event(&event.event_id)? {
                outcome.suppressed += 1;
                return Ok(());
            }
            for link in &keys.links {
                if matches!(link.class, KeyClass::Rule(_)) {
                    continue;
                }
                if let Some(since) = self.store.suppressed_since(&link.key)? {
                    // A mutable identifier (a phone) goes to someone else in
                    // time: past its window after the erasure, it is theirs.
                    let window = link
                        .class
                        .kind()
                        .and_then(|k| self.policy.identifiers.get(k).window_ms());
                    let expired = matches!((since, window),
                        (Some(at), Some(w)) if event.event_time_ms > at.saturating_add(w));
                    if !expired {
                        outcome.suppressed += 1;
                        return Ok(());
                    }
                }
            }
            // A card an older release suppressed under its written form
            // (cards are suppressed for good).
            for key in &keys.legacy {
                if self.store.suppressed_since(key)?.is_some() {
                    outcome.suppressed += 1;
                    return Ok(());
                }
            }
        }
        // Applied events move the watermark; a suppressed one (an erased
        // person's, delivered again) does not.
        if event.event_time_ms > self.watermark_ms {
            self.watermark_ms = event.event_time_ms;
            self.counters_dirty = true;
        }
        self.contributions
            .insert(event.event_id.clone(), event.clone());

        // The quarantine guard counts each identifier's companions: the
        // identifiers first, then households' lines, whose unnamed records
        // count by an identifier only while it links (this event may have
        // just quarantined it).
        let mut newly_quarantined = Vec::new();
        let mut reanchored = BTreeSet::new();
        let mut entries: Vec<(String, KeyClass, IndexEntry)> = Vec::with_capacity(keys.links.len());
        let is_line = |l: &&LinkKey| matches!(l.class, KeyClass::Household(_));
        for link in keys.links.iter().filter(|l| !is_line(l)) {
            let mut entry = self.entry(&link.key)?;
            let quarantined = self.guard(event, &keys, link, None, &mut entry, outcome);
            if quarantined {
                newly_quarantined.push(link.key.clone());
            }
            // A quarantined identifier, or a card now shown shared, anchors
            // no unnamed record on a line from now on.
            // (A card shown shared hands back the records it was judged on.)
            let marked = if quarantined {
                None
            } else {
                self.names_now_differ(event, &keys, link, &mut entry, outcome)?
            };
            if (quarantined || marked.is_some())
                && self.policy.quarantine.max_unnamed_holders > 0
                && link.class.kind().is_some()
            {
                let records = match marked {
                    Some(records) => records,
                    None => {
                        let holders = self.holders(&entry)?;
                        self.records_carrying(&link.key, holders)?
                    }
                };
                reanchored.extend(self.reanchor_lines(
                    &link.key,
                    records,
                    event,
                    &mut newly_quarantined,
                    outcome,
                )?);
            }
            entries.push((link.key.clone(), link.class, entry));
        }
        if keys.links.iter().any(|l| is_line(&l)) {
            let anchor = keys.counted_anchor(&event.event_id, self.store.hasher(), |key| {
                entries
                    .iter()
                    .any(|(k, _, entry)| k == key && (entry.quarantined || entry.names_differ))
            });
            for link in keys.links.iter().filter(is_line) {
                let mut entry = self.entry(&link.key)?;
                if self.guard(event, &keys, link, anchor, &mut entry, outcome) {
                    newly_quarantined.push(link.key.clone());
                }
                entries.push((link.key.clone(), link.class, entry));
            }
            // In the order of the links (sorted by key), as the rest reads
            // them.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }

        // Identifiers of this event taken out of linking as over-shared are
        // not the person's: they stay off the golden record.
        let shared: Vec<Identifier> = keys
            .links
            .iter()
            .zip(&entries)
            .filter(|(_, (_, _, entry))| entry.quarantined)
            .filter_map(|(link, _)| link.identifier.and_then(|i| event.identifiers.get(i)))
            .cloned()
            .collect();
        let mut holders = BTreeSet::new();
        for (key, class, entry) in &entries {
            if newly_quarantined.contains(key) {
                continue;
            }
            // A household's line links no unnamed record to anyone.
            if matches!(class, KeyClass::Household(_)) && keys.name.is_none() {
                continue;
            }
            if !entry.quarantined {
                holders.extend(self.holders(entry)?);
            }
        }
        if !newly_quarantined.is_empty() {
            let mut affected = holders;
            affected.extend(reanchored);
            for (key, _, entry) in &entries {
                if newly_quarantined.contains(key) {
                    affected.extend(self.holders(entry)?);
                    self.entries.insert(
                        key.clone(),
                        IndexEntry {
                            holders: Vec::new(),
                            companions: entry.companions.clone(),
                            names: entry.names.clone(),
                            quarantined: true,
                            anchors: entry.anchors.clone(),
                            names_differ: entry.names_differ,
                        },
                    );
                }
            }
            return self.recompute(&Cause::event(event), affected, outcome);
        }
        let mut it = holders.iter();
        match (it.next(), it.next()) {
            (None, _) => self.create(event, keys.name.as_ref(), &entries, &shared, outcome),
            (Some(only), None) => {
                let only = only.clone();
                let profile = self.take_profile_to_extend(&only)?;
                if self.joins_without_recompute(event, &keys, &entries, &profile)? {
                    self.add_profile_name(&only, keys.name.as_ref())?;
                    self.absorb(event, &entries, &shared, profile, outcome)
                } else {
                    self.profiles.insert(only.clone(), Some(profile));
                    self.recompute(&Cause::event(event), BTreeSet::from([only]), outcome)
                }
            }
            _ => self.recompute(&Cause::event(event), holders, outcome),
        }
    }

    /// The over-shared-identifier guard on one of `event`'s link keys:
    /// counts the event's companions, name and (for a household's line)
    /// its unnamed holder `anchor` into `entry`, and quarantines the key
    /// past a limit. Returns whether it quarantined it now (then the
    /// caller clears its holders); an entry that changed otherwise is kept
    /// in the view.
    fn guard(
        &mut self,
        event: &CanonicalEvent,
        keys: &EventKeys,
        link: &LinkKey,
        anchor: Option<u64>,
        entry: &mut IndexEntry,
        outcome: &mut BatchOutcome,
    ) -> bool {
        let p = self.policy;
        let max_unnamed = p.quarantine.max_unnamed_holders as usize;
        let Some(kind) = link.class.kind().filter(|_| !entry.quarantined) else {
            return false;
        };
        let (max, max_names) = (
            p.max_companions_of(kind) as usize,
            p.max_names_of(kind) as usize,
        );
        if max == 0 && max_names == 0 && max_unnamed == 0 {
            return false;
        }
        let mut changed = false;
        if let (Some(a), true) = (
            anchor,
            max_unnamed > 0 && matches!(link.class, KeyClass::Household(_)),
        ) {
            if let Err(at) = entry.anchors.binary_search(&a) {
                if entry.anchors.len() <= max_unnamed {
                    entry.anchors.insert(at, a);
                    changed = true;
                }
                if entry.anchors.len() > max_unnamed {
                    entry.quarantined = true;
                }
            }
        }
        for &(k, hash) in keys.companions.iter().filter(|_| max > 0) {
            if k == kind || entry.companions.contains(&(k, hash)) {
                continue;
            }
            let of_kind = entry.companions.iter().filter(|c| c.0 == k).count();
            if of_kind <= max {
                entry.companions.push((k, hash));
                changed = true;
            }
            if of_kind + 1 > max {
                entry.quarantined = true;
            }
        }
        if let (Some(h), true) = (keys.name_digest, max_names > 0) {
            if !entry.names.contains(&h) {
                if entry.names.len() <= max_names {
                    entry.names.push(h);
                    entry.names.sort_unstable();
                    changed = true;
                }
                if entry.names.len() > max_names {
                    entry.quarantined = true;
                }
            }
        }
        if entry.quarantined {
            outcome.quarantined.push(QuarantineNotice::of(
                event,
                link,
                kind,
                entry,
                event.event_time_ms,
            ));
        } else if changed {
            entry.companions.sort_unstable();
            self.entries.insert(link.key.clone(), entry.clone());
        }
        entry.quarantined
    }

    /// Whether `event` (these its keys), carrying the card under `link` (a kind
    /// `shared_when_names_differ`), shows it shared: its name clearly
    /// differs from a name of the card's other records
    /// (`cluster::names_differ`, as a recomputation judges it). Then
    /// `entry` is marked `names_differ` (kept in the view, and reported in
    /// `outcome.marked_shared`) and the card's other records are returned
    /// (what the re-anchoring of their lines reads). The card's
    /// names are among its holders' (their profiles' name lists), so a
    /// name that could clearly differ from none of those
    /// (`maybe_clearly_different`, whatever the scripts), while they and it
    /// stay within `cluster::MAX_SHARED_NAMES`, cannot show it shared, and
    /// its records are read only otherwise. With the
    /// holder limit off no line counts anchors, so nothing is marked.
    fn names_now_differ(
        &mut self,
        event: &CanonicalEvent,
        keys: &EventKeys,
        link: &LinkKey,
        entry: &mut IndexEntry,
        outcome: &mut BatchOutcome,
    ) -> Result<Option<Vec<(CanonicalEvent, EventKeys)>>, StoreError> {
        let (KeyClass::Strong(kind), Some(name)) = (link.class, keys.name.as_deref()) else {
            return Ok(None);
        };
        let p = self.policy;
        if entry.quarantined
            || entry.names_differ
            || p.quarantine.max_unnamed_holders == 0
            || !p.identifiers.get(kind).shared_when_names_differ
        {
            return Ok(None);
        }
        let min = crate::cluster::household_similarity(p);
        let holders = self.holders(entry)?;
        // The names the card's records could carry, this one's included:
        // past the cap, the count alone could show it shared.
        let mut names = BTreeSet::from([name.to_string()]);
        let mut maybe = false;
        for id in &holders {
            maybe = match self.profile_names(id)? {
                Some(theirs) => {
                    let differ = theirs
                        .iter()
                        .any(|n| crate::names::maybe_clearly_different(n, name, min));
                    names.extend(theirs);
                    differ || names.len() > crate::cluster::MAX_SHARED_NAMES
                }
                // Unknown (more names than a list keeps): read the records.
                None => true,
            };
            if maybe {
                break;
            }
        }
        if !maybe {
            return Ok(None);
        }
        let records = self.records_carrying(&link.key, holders)?;
        let differ = crate::cluster::names_differ(
            records.iter().map(|(_, k)| k).chain(std::iter::once(keys)),
            p,
        );
        if !differ {
            return Ok(None);
        }
        entry.names_differ = true;
        self.entries.insert(link.key.clone(), entry.clone());
        outcome.marked_shared.push(SharedNotice {
            kind,
            masked: masked_link(event, link, kind),
        });
        Ok(Some(records))
    }

    /// The records (with their keys) carrying index key `key`, found
    /// through the profiles that hold it (`holders`).
    fn records_carrying(
        &mut self,
        key: &str,
        holders: BTreeSet<String>,
    ) -> Result<Vec<(CanonicalEvent, EventKeys)>, StoreError> {
        let mut out = Vec::new();
        for id in holders {
            let profile = self.take_profile(&id)?;
            let members = self.contributions_of(&profile.members);
            self.profiles.insert(id, Some(profile));
            for e in members? {
                let keys = EventKeys::of(&e, self.policy, self.store.hasher());
                if keys.links.iter().any(|l| l.key == key) {
                    out.push((e, keys));
                }
            }
        }
        Ok(out)
    }

    /// `key`, an identifier that may anchor unnamed records on households'
    /// lines ([`UnnamedAnchor`]), was just quarantined by `event`, or shown
    /// shared by its names (`names_differ`); `records` are those carrying
    /// it (`records_carrying`, through the profiles that held it until
    /// now), so every record it anchored is among them. Those
    /// records count alone from now on, as a fresh run counts them: each
    /// line they carry trades the identifier's anchor for theirs. Returns
    /// the holders of lines this puts over
    /// `quarantine.max_unnamed_holders` (quarantined here, their holders
    /// cleared and their keys added to `newly_quarantined`).
    fn reanchor_lines(
        &mut self,
        key: &str,
        records: Vec<(CanonicalEvent, EventKeys)>,
        event: &CanonicalEvent,
        newly_quarantined: &mut Vec<String>,
        outcome: &mut BatchOutcome,
    ) -> Result<BTreeSet<String>, StoreError> {
        let max_unnamed = self.policy.quarantine.max_unnamed_holders as usize;
        let by_key = anchor_of_key(key);
        let mut affected = BTreeSet::new();
        for (e, keys) in records {
            if keys.anchor_key() != Some(key) {
                continue;
            }
            let alone = alone_anchor(&e.event_id, self.store.hasher());
            for line in keys
                .links
                .iter()
                .filter(|l| matches!(l.class, KeyClass::Household(_)))
            {
                let mut entry = self.entry(&line.key)?;
                if entry.quarantined {
                    continue;
                }
                if let Ok(at) = entry.anchors.binary_search(&by_key) {
                    entry.anchors.remove(at);
                }
                if let Err(at) = entry.anchors.binary_search(&alone) {
                    entry.anchors.insert(at, alone);
                }
                if entry.anchors.len() > max_unnamed {
                    affected.extend(self.holders(&entry)?);
                    entry.holders.clear();
                    entry.quarantined = true;
                    newly_quarantined.push(line.key.clone());
                    if let Some(kind) = line.class.kind() {
                        outcome.quarantined.push(QuarantineNotice::of(
                            &e,
                            line,
                            kind,
                            &entry,
                            event.event_time_ms,
                        ));
                    }
                }
                self.entries.insert(line.key.clone(), entry);
            }
        }
        Ok(affected)
    }

    /// Whether `event` joins `profile` exactly as a recomputation would make
    /// it: the event brings nothing to weigh
    /// ([`brings_nothing_to_weigh`](Self::brings_nothing_to_weigh)), or the
    /// profile is uncontested and the event either shares an
    /// immutable identifier with it (adding no new member card), or shares
    /// only mutable identifiers, within their windows, and brings no name or
    /// card a guard could object to. Anything else is recomputed.
    fn joins_without_recompute(
        &mut self,
        event: &CanonicalEvent,
        keys: &EventKeys,
        entries: &[(String, KeyClass, IndexEntry)],
        profile: &StoredProfile,
    ) -> Result<bool, StoreError> {
        if self.brings_nothing_to_weigh(event, keys, entries, profile)? {
            return Ok(true);
        }
        if profile.contested {
            return Ok(false);
        }
        // Birthdays no typo apart, among the profile's and the event's: the
        // birthday guard could refuse a link on recomputation
        // (`cluster::birthdays_apart`), whichever link brings the event. So
        // could it where the event states none but the profile holds two
        // far apart (joined through a record near both): the event may
        // join two of its records in another order before that record does.
        let told: Vec<&str> = values_with(
            &profile.votes.birthday,
            event.attributes.birthday.as_deref(),
        )
        .filter(|b| crate::score::birthday_told(b))
        .collect();
        let far = any_two(&told, |x, y| crate::score::birthdays_far_apart(x, y));
        if far {
            return Ok(false);
        }
        // Given names typed in their own fields that are another person's
        // (`cluster::other_people`) among the profile's and the event's: a
        // match rule's link between two of the profile's records could be
        // refused once an identifier link (taken before rules) has put the
        // other given name on one side. Only a profile that a rule or a
        // mutable identifier holds together (`weak_joined`) has such a link.
        if profile.weak_joined && given_names_differ(profile, event) {
            return Ok(false);
        }
        let id = &profile.record.profile_id;
        // A new member card (or account): a card guard could object to it.
        let new_card = event
            .identifiers
            .iter()
            .any(|i| per_namespace(i.kind) && profile.record.identifiers.binary_search(i).is_err());
        let mut strong = false;
        let mut shared_if_named = false;
        let mut shared_if_over = false;
        let mut inside_a_long_block = false;
        let mut weak = false;
        let mut weak_ok = true;
        for (_, class, entry) in entries {
            // A household's line: unnamed, the event links through it to no
            // one; named, it was among the holders, so only this profile
            // holds it and it can only propose links within the profile.
            if matches!(class, KeyClass::Household(_)) {
                continue;
            }
            let Some(holder) = entry.holders.iter().find(|h| &h.profile_id == id) else {
                // Held by an absorbed id or by no one: a recomputation sorts it out.
                if !entry.holders.is_empty() {
                    return Ok(false);
                }
                continue;
            };
            match class {
                KeyClass::Strong(kind) => {
                    strong = true;
                    // A name could show the card shared (clearly different
                    // from a name its records state); so could the
                    // identifiers the event puts on its records, past a
                    // limit (`shared_when_over_limits`), though the profile
                    // holds them already.
                    let p = self.policy.identifiers.get(*kind);
                    shared_if_named |= p.shared_when_names_differ;
                    shared_if_over |= p.shared_when_over_limits;
                }
                KeyClass::Weak(kind) => {
                    weak = true;
                    let t = event.event_time_ms;
                    let within = match self.policy.identifiers.get(*kind).window_ms() {
                        None => true,
                        Some(w) => {
                            t.saturating_sub(holder.first_ms).saturating_abs() <= w
                                || t.saturating_sub(holder.last_ms).saturating_abs() <= w
                        }
                    };
                    weak_ok &= within;
                }
                // A rule block only this (uncontested) profile holds: the
                // rule can only propose links within the profile, which the
                // identifiers make anyway when nothing can refuse them. But
                // a typo-tolerant rule compares a record only with the next
                // `FUZZY_REACH` of its block: an event landing inside a
                // block that long can push a pair out of reach.
                KeyClass::Rule(rule) => {
                    let fuzzy = self
                        .policy
                        .rules
                        .get(*rule)
                        .is_some_and(|r| r.min_score.is_some() || r.name_similarity.is_some());
                    inside_a_long_block |= fuzzy
                        && profile.record.event_count > crate::cluster::FUZZY_REACH as i64
                        && event.event_time_ms <= holder.last_ms;
                }
                KeyClass::Household(_) => {}
            }
        }
        if inside_a_long_block {
            return Ok(false);
        }
        // The profile's names (known, and alike to each other) and the
        // event's (none, or alike to every one of them): no name guard can
        // refuse any link among them (every pair of names passes it),
        // whatever order a recomputation takes them in. An unnamed event
        // needs the profile's names alike too: holding keys of several of
        // its records, it changes which records a recomputation compares
        // (`Jon` / `John` / `Johan` on two phones: `Jon` and `Johan` are
        // not alike). Read only where the answer is used.
        let consulted = if strong {
            // A new card already decides it (a recomputation).
            !new_card && (profile.weak_joined || shared_if_named)
        } else {
            weak && weak_ok
        };
        // A card that turns shared when its records' names clearly differ
        // is judged at the household threshold even with the name guard
        // off, as a recomputation judges it.
        let min = if strong && shared_if_named {
            crate::cluster::household_similarity(self.policy)
        } else {
            self.policy.min_name_similarity
        };
        let known_name = consulted
            && self
                .profile_names(id)?
                .is_some_and(|names| match &keys.name {
                    None => names
                        .first()
                        .is_none_or(|first| all_alike(&names, first, min)),
                    Some(n) => all_alike(&names, n, min),
                });
        // With every identifier of profile and event in one profile within
        // the limits, no limit can refuse a link among them.
        let fits = || {
            let mut all = profile.record.identifiers.clone();
            all.extend(
                event
                    .identifiers
                    .iter()
                    .filter(|i| profile.record.identifiers.binary_search(i).is_err())
                    .cloned(),
            );
            within_limits(self.policy, &all)
        };
        Ok(if strong {
            // A name joining a profile that weak links hold together could
            // make a guard refuse one of them on recomputation; so could
            // identifiers that push it past a limit.
            !new_card
                && (!profile.weak_joined || (known_name && fits()))
                && (!shared_if_named || known_name)
                && (!shared_if_over || fits())
        } else {
            weak && weak_ok && known_name && keys.namespaced.is_empty() && fits()
        })
    }

    /// Whether `event` reaches `profile` by one link key and brings nothing
    /// any guard weighs, so that a recomputation, however the profile is
    /// held together (contested, weak-joined, given names of two people,
    /// names not all alike), could only put it where the profile is: no
    /// name, given name or told birthday; no identifier the profile lacks;
    /// one link key (no rule block; any other identifier it carries is of
    /// a kind that does not link, and the profile's already), held by this
    /// profile alone and not quarantined; no decision on the profile's
    /// events; the profile within the limits (so no card of a kind
    /// `shared_when_over_limits` is shared). The key is then either
    /// immutable and the event not its first record (the link is
    /// unconditional and the profile's earliest record stays its own), or
    /// mutable and the event its latest record, within the window: the
    /// chain gains one pair at its end, which no name or birthday guard can
    /// refuse, the event having neither, and the pairs kept apart for names
    /// (`cluster`'s extra pairs of alike names) skip unnamed records. A card
    /// that turns shared when its records' names clearly differ also needs
    /// no two of the profile's names that could be clearly different.
    /// On the 100k generator set such events had caused 31% of the events
    /// re-read (379,155 to 260,477), for recomputations that changed
    /// nothing (BENCHMARKS.md, fortieth session).
    fn brings_nothing_to_weigh(
        &mut self,
        event: &CanonicalEvent,
        keys: &EventKeys,
        entries: &[(String, KeyClass, IndexEntry)],
        profile: &StoredProfile,
    ) -> Result<bool, StoreError> {
        let [(_, class, entry)] = entries else {
            return Ok(false);
        };
        let told_birthday = event
            .attributes
            .birthday
            .as_deref()
            .is_some_and(crate::score::birthday_told);
        let new_identifier = event
            .identifiers
            .iter()
            .any(|i| profile.record.identifiers.binary_search(i).is_err());
        if keys.name.is_some()
            || keys.given.is_some()
            || told_birthday
            || new_identifier
            || profile.constrained
            || entry.quarantined
        {
            return Ok(false);
        }
        let id = &profile.record.profile_id;
        let [holder] = entry.holders.as_slice() else {
            return Ok(false);
        };
        if &holder.profile_id != id {
            return Ok(false);
        }
        let t = event.event_time_ms;
        let kind = match *class {
            KeyClass::Strong(kind) if t > holder.first_ms => kind,
            KeyClass::Weak(kind) if t > holder.last_ms => {
                let window = self.policy.identifiers.get(kind).window_ms();
                if window.is_some_and(|w| t.saturating_sub(holder.last_ms) > w) {
                    return Ok(false);
                }
                kind
            }
            _ => return Ok(false),
        };
        if !within_limits(self.policy, &profile.record.identifiers) {
            return Ok(false);
        }
        if matches!(class, KeyClass::Strong(_))
            && self.policy.identifiers.get(kind).shared_when_names_differ
        {
            let min = crate::cluster::household_similarity(self.policy);
            let Some(names) = self.profile_names(id)? else {
                return Ok(false);
            };
            if any_two(&names, |a, b| {
                crate::names::maybe_clearly_different(a, b, min)
            }) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A new profile from an event that links to none.
    fn create(
        &mut self,
        event: &CanonicalEvent,
        name: Option<&String>,
        entries: &[(String, KeyClass, IndexEntry)],
        shared: &[Identifier],
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        outcome.created += 1;
        let id = self.new_profile_id();
        let mut record = GoldenRecord::new(id.clone(), event);
        record.identifiers.retain(|i| !shared.contains(i));
        let mut votes = AttributeVotes::default();
        votes.absorb_event(event);
        votes.settle(self.survivorship, &mut record);
        record.version = 1;
        for (key, _, entry) in entries {
            if entry.quarantined {
                continue;
            }
            let mut entry = entry.clone();
            self.drop_erased_holders(&mut entry, &id)?;
            add_holder(&mut entry, &id, event.event_time_ms);
            self.entries.insert(key.clone(), entry);
        }
        outcome.changes.push(self.change(
            ChangeType::Created,
            None,
            &record,
            &event.event_id,
            Vec::new(),
            None,
        ));
        self.names
            .insert(id.clone(), Some(name.into_iter().cloned().collect()));
        self.names_changed.insert(id.clone());
        self.profiles.insert(
            id,
            Some(StoredProfile {
                record,
                votes,
                members: vec![event.event_id.clone()],
                contested: false,
                weak_joined: false,
                constrained: false,
            }),
        );
        Ok(())
    }

    /// The incremental path: `event` joins `profile`.
    fn absorb(
        &mut self,
        event: &CanonicalEvent,
        entries: &[(String, KeyClass, IndexEntry)],
        shared: &[Identifier],
        mut profile: StoredProfile,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        let before = profile.record.clone();
        let id = before.profile_id.clone();
        profile.record.absorb_event(event);
        profile.record.identifiers.retain(|i| !shared.contains(i));
        profile.votes.absorb_event(event);
        profile.votes.settle(self.survivorship, &mut profile.record);
        profile.members.push(event.event_id.clone());
        if profile.votes.consents_need_history(self.survivorship) {
            if self.settled_alike
                && event.consents.is_empty()
                && event.event_time_ms > before.last_seen_ms
            {
                // The newest event, stating nothing: a replay would end
                // where the last one did (joins only combine, and the
                // final fold combines everything anyway), unless the last
                // one ran under other survivorship rules.
                profile.record.consents = before.consents.clone();
                profile.record.refresh_may_contact();
            } else {
                let history = self.contributions_of(&self.all_members(&profile)?)?;
                settle_consents(&mut profile.record, &history);
            }
        }
        profile.record.version += 1;
        if !entries
            .iter()
            .any(|(_, class, e)| matches!(class, KeyClass::Strong(_)) && !e.holders.is_empty())
        {
            profile.weak_joined = true;
        }
        for (key, _, entry) in entries {
            if entry.quarantined {
                continue;
            }
            let mut updated = entry.clone();
            self.drop_erased_holders(&mut updated, &id)?;
            add_holder(&mut updated, &id, event.event_time_ms);
            if &updated != entry {
                self.entries.insert(key.clone(), updated);
            }
        }
        outcome.changes.push(self.change(
            ChangeType::Updated,
            Some(&before),
            &profile.record,
            &event.event_id,
            Vec::new(),
            None,
        ));
        self.profiles.insert(id, Some(profile));
        Ok(())
    }

    pub(crate) fn change(
        &self,
        change_type: ChangeType,
        before: Option<&GoldenRecord>,
        after: &GoldenRecord,
        cause: &str,
        absorbed_ids: Vec<String>,
        evidence: Option<MergeEvidence>,
    ) -> ProfileChange {
        ProfileChange {
            profile_id: after.profile_id.clone(),
            change_type,
            version: after.version,
            cause_event_id: cause.to_string(),
            absorbed_ids,
            superseded_by: None,
            record: Some(after.clone()),
            changed_fields: changed_fields(before, after),
            evidence,
            split_into: Vec::new(),
            moved_event_ids: Vec::new(),
            rfm: Some(after.rfm(self.watermark_ms)),
        }
    }

    /// The general path: re-partitions the events of `affected` profiles (and
    /// of every profile contesting a key with them) together with `event`,
    /// with the deterministic [`cluster`] core, then writes the outcome.
    pub(crate) fn recompute(
        &mut self,
        cause: &Cause<'_>,
        affected: BTreeSet<String>,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        // Gather the affected profiles and their contested neighbours.
        let mut prior: BTreeMap<String, StoredProfile> = BTreeMap::new();
        let mut queue: Vec<String> = affected.into_iter().collect();
        let mut events: Vec<CanonicalEvent> = Vec::new();
        let mut origins: Vec<u32> = Vec::new();
        let mut member_of: Vec<String> = Vec::new();
        let mut constraints: Vec<Vec<Constraint>> = Vec::new();
        // Each event's link keys, derived once: they find a contested
        // profile's neighbours and then feed the clustering.
        let mut keys: Vec<EventKeys> = Vec::new();
        while let Some(id) = queue.pop() {
            if prior.contains_key(&id) {
                continue;
            }
            let profile = self.take_profile(&id)?;
            let members = self.contributions_of(&profile.members)?;
            if profile.constrained {
                constraints.extend(self.constraints_of(&profile.members)?);
            } else {
                constraints.extend(profile.members.iter().map(|_| Vec::new()));
            }
            let first_key = keys.len();
            keys.extend(
                members
                    .iter()
                    .map(|e| EventKeys::of(e, self.policy, self.store.hasher())),
            );
            if profile.contested {
                for link in keys[first_key..].iter().flat_map(|k| &k.links) {
                    let entry = self.entry(&link.key)?;
                    if !entry.quarantined {
                        for h in self.holders(&entry)? {
                            if !prior.contains_key(&h) && h != id {
                                queue.push(h);
                            }
                        }
                    }
                }
            }
            for e in members {
                member_of.push(id.clone());
                events.push(e);
            }
            prior.insert(id, profile);
        }
        let prior_ids: Vec<String> = prior.keys().cloned().collect();
        for owner in &member_of {
            origins.push(prior_ids.binary_search(owner).unwrap_or(0) as u32);
        }
        if let Some(event) = cause.event {
            keys.push(EventKeys::of(event, self.policy, self.store.hasher()));
            events.push(event.clone());
            origins.push(u32::MAX);
            constraints.push(Vec::new());
        }
        let mut entries: BTreeMap<String, IndexEntry> = BTreeMap::new();
        for k in keys.iter().flat_map(|k| k.links.iter()) {
            if !entries.contains_key(&k.key) {
                entries.insert(k.key.clone(), self.entry(&k.key)?);
            }
        }
        let nodes: Vec<Node> = events
            .iter()
            .zip(&keys)
            .zip(&origins)
            .zip(&constraints)
            .map(|(((event, keys), &origin), constraints)| Node {
                event,
                keys,
                constraints,
                origin,
            })
            .collect();
        let clustering = cluster(&nodes, self.policy, &|key| {
            entries.get(key).is_some_and(|e| e.quarantined)
        });
        outcome.recomputed_events += events.len() as u64;
        let recomputed = Recomputed {
            events: &events,
            keys: &keys,
            origins: &origins,
            constraints: &constraints,
        };
        self.write_clusters(cause, recomputed, prior, entries, clustering, outcome)
    }

    /// The decisions pinned on many events: this batch's, then one MultiGet.
    pub(crate) fn constraints_of(
        &self,
        event_ids: &[String],
    ) -> Result<Vec<Vec<Constraint>>, StoreError> {
        let refs: Vec<&str> = event_ids.iter().map(String::as_str).collect();
        let stored = self.store.multi_get(cf::CONSTRAINTS, &as_bytes(&refs))?;
        event_ids
            .iter()
            .zip(stored)
            .map(|(id, value)| match self.constraints.get(id) {
                Some(c) => Ok(c.clone()),
                None => value
                    .map(|v| self.store.decode_value(cf::CONSTRAINTS, id, &v))
                    .transpose()
                    .map(Option::unwrap_or_default),
            })
            .collect()
    }

    /// The ids absorbed (transitively) into the `prior` profiles that
    /// recorded what they stood for, each with its home cluster (that of
    /// its earliest own event; `None` when none of its events is among
    /// `events`), parents before their children.
    fn absorbed_homes(
        &self,
        prior: &[String],
        events: &[CanonicalEvent],
        cluster_of: &HashMap<usize, usize>,
    ) -> Result<Vec<AbsorbedHome>, StoreError> {
        // Event id -> (time, cluster) in this recomputation.
        let placed: HashMap<&str, (i64, usize)> = events
            .iter()
            .enumerate()
            .map(|(n, e)| (e.event_id.as_str(), (e.event_time_ms, cluster_of[&n])))
            .collect();
        let mut seen: HashSet<String> = prior.iter().cloned().collect();
        let mut queue: std::collections::VecDeque<String> = prior.iter().cloned().collect();
        let mut out = Vec::new();
        while let Some(parent) = queue.pop_front() {
            for (id, profile) in self.absorbed_into(&parent)? {
                if !seen.insert(id.clone()) {
                    continue;
                }
                queue.push_back(id.clone());
                out.push(AbsorbedHome {
                    parent: parent.clone(),
                    id,
                    profile,
                    home: None,
                });
            }
        }
        // Like a prior id, an absorbed id is at home with its earliest own
        // event: not one an id it absorbed stood for, nor (when it has
        // such events) one that only glued others on later.
        let of_children: HashMap<&str, HashSet<&str>> =
            out.iter().fold(HashMap::new(), |mut acc, a| {
                acc.entry(a.parent.as_str())
                    .or_default()
                    .extend(a.profile.members.iter().map(String::as_str));
                acc
            });
        let homes: Vec<Option<usize>> = out
            .iter()
            .map(|a| {
                let theirs = of_children.get(a.id.as_str());
                let earliest = |own: bool| {
                    a.profile
                        .members
                        .iter()
                        .filter(|m| !own || !theirs.is_some_and(|t| t.contains(m.as_str())))
                        .filter_map(|m| placed.get(m.as_str()).map(|(t, c)| (*t, m, *c)))
                        .min()
                        .map(|(_, _, c)| c)
                };
                earliest(true).or_else(|| earliest(false))
            })
            .collect();
        for (a, home) in out.iter_mut().zip(homes) {
            a.home = home;
        }
        Ok(out)
    }

    /// The records the lists of the ids absorbed (transitively) into `id`
    /// name, as this batch leaves them.
    fn listed_below(&self, id: &str) -> Result<HashSet<String>, StoreError> {
        let mut listed = HashSet::new();
        let mut seen: HashSet<String> = std::iter::once(id.to_string()).collect();
        let mut queue = vec![id.to_string()];
        while let Some(parent) = queue.pop() {
            for (child, profile) in self.absorbed_into(&parent)? {
                if seen.insert(child.clone()) {
                    listed.extend(profile.members);
                    queue.push(child);
                }
            }
        }
        Ok(listed)
    }

    /// A `superseded` change again for each id redirecting to `survivor`,
    /// directly or through ids absorbed before it (each to the id it is
    /// filed under, as its first `superseded` said), with its next version
    /// (`republish`: a topic re-seeded from the live profiles alone would
    /// leave a consumer holding an absorbed id unable to find its survivor).
    pub(crate) fn restate_redirects(
        &mut self,
        survivor: &str,
        cause: &str,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        let mut parents = vec![survivor.to_string()];
        while let Some(parent) = parents.pop() {
            for (id, absorbed) in self.absorbed_into(&parent)? {
                outcome.changes.push(ProfileChange::superseded(
                    id.clone(),
                    absorbed.version,
                    cause.to_string(),
                    parent.clone(),
                ));
                let restated = AbsorbedProfile {
                    version: absorbed.version + 1,
                    members: absorbed.members,
                };
                self.absorbed
                    .insert(absorbed_key(&parent, &id), Some(restated));
                parents.push(id);
            }
        }
        Ok(())
    }

    /// The ids redirecting to `survivor` directly, as this batch leaves them.
    fn absorbed_into(&self, survivor: &str) -> Result<Vec<(String, AbsorbedProfile)>, StoreError> {
        let mut out: BTreeMap<String, AbsorbedProfile> =
            self.store.absorbed_into(survivor)?.into_iter().collect();
        let prefix = absorbed_key(survivor, "");
        for (key, value) in self.absorbed.range(prefix.clone()..) {
            let Some(id) = key.strip_prefix(prefix.as_slice()) else {
                break;
            };
            let id = utf8(cf::ABSORBED, survivor, id.to_vec())?;
            match value {
                Some(v) => out.insert(id, v.clone()),
                None => out.remove(&id),
            };
        }
        Ok(out.into_iter().collect())
    }

    /// Writes the outcome of a clustering of `recomputed` over the `prior`
    /// profiles: ids (oldest prior id per cluster), redirects, index
    /// entries, profiles, lineage, change events and review suggestions.
    pub(crate) fn write_clusters(
        &mut self,
        cause: &Cause<'_>,
        recomputed: Recomputed<'_>,
        mut prior: BTreeMap<String, StoredProfile>,
        mut entries: BTreeMap<String, IndexEntry>,
        clustering: Clustering,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        let Recomputed {
            events,
            keys,
            origins,
            constraints,
        } = recomputed;
        for (refusal, n) in &clustering.refused {
            *outcome.refused.entry(refusal.as_str()).or_default() += n;
        }
        let prior_ids: Vec<String> = prior.keys().cloned().collect();
        let origin_id = |o: u32| prior_ids.get(o as usize);
        let cluster_of: HashMap<usize, usize> = clustering
            .clusters
            .iter()
            .enumerate()
            .flat_map(|(c, ns)| ns.iter().map(move |&n| (n, c)))
            .collect();
        // Whether a prior profile's events now lie in several clusters:
        // then the ids absorbed into the prior profiles are looked at too.
        let divided = {
            let mut first: Vec<Option<usize>> = vec![None; prior_ids.len()];
            origins.iter().enumerate().any(|(n, &o)| {
                first
                    .get_mut(o as usize)
                    .is_some_and(|slot| *slot.get_or_insert(cluster_of[&n]) != cluster_of[&n])
            })
        };
        let family = if divided {
            self.absorbed_homes(&prior_ids, events, &cluster_of)?
        } else {
            Vec::new()
        };
        // A prior id's home: the cluster holding its earliest own event
        // (not one an id it absorbed stood for, when known): the record
        // the id was made for, not the events that later glued others on.
        let absorbed_events: HashSet<&str> = family
            .iter()
            .flat_map(|a| a.profile.members.iter().map(String::as_str))
            .collect();
        let mut counts: Vec<BTreeMap<usize, usize>> = vec![BTreeMap::new(); prior_ids.len()];
        // Per prior id: (time, event id, cluster) of its earliest own event and
        // of its earliest event.
        type Earliest<'e> = Option<(i64, &'e str, usize)>;
        let mut earliest: Vec<[Earliest<'_>; 2]> = vec![[None, None]; prior_ids.len()];
        for (n, &o) in origins.iter().enumerate() {
            let Some(all) = counts.get_mut(o as usize) else {
                continue;
            };
            let c = cluster_of[&n];
            *all.entry(c).or_default() += 1;
            let e = &events[n];
            let at = Some((e.event_time_ms, e.event_id.as_str(), c));
            let own = !absorbed_events.contains(e.event_id.as_str());
            for (slot, counts) in earliest[o as usize].iter_mut().zip([own, true]) {
                if counts && (slot.is_none() || at < *slot) {
                    *slot = at;
                }
            }
        }
        let prior_home: Vec<Option<usize>> = earliest
            .iter()
            .map(|[own, all]| own.or(*all).map(|(_, _, c)| c))
            .collect();
        // Each cluster takes the oldest prior id at home in it (the other
        // prior ids at home there are absorbed into it; a prior id never
        // goes to a cluster that is not its home, which would hand it to
        // someone else's records); then the oldest id an absorbed profile
        // stood for whose events are mostly in it (a split dividing a
        // merge gives the absorbed id back); otherwise a new id.
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut chosen: Vec<Option<String>> = (0..clustering.clusters.len())
            .map(|c| {
                let id = (0..prior_ids.len())
                    .find(|&o| prior_home[o] == Some(c))
                    .map(|o| prior_ids[o].clone());
                taken.extend(id.clone());
                id
            })
            .collect();
        let mut reclaimed: BTreeMap<String, usize> = BTreeMap::new();
        let mut oldest_first: Vec<&AbsorbedHome> = family.iter().collect();
        oldest_first.sort_by(|a, b| a.id.cmp(&b.id));
        for a in oldest_first {
            if let Some(home) = a.home.filter(|h| chosen[*h].is_none()) {
                chosen[home] = Some(a.id.clone());
                reclaimed.insert(a.id.clone(), home);
            }
        }
        let ids: Vec<String> = chosen
            .into_iter()
            .map(|id| id.unwrap_or_else(|| self.new_profile_id()))
            .collect();
        taken.extend(reclaimed.keys().cloned());
        // Prior profiles whose id no cluster kept are absorbed into the
        // cluster holding most of their events.
        let mut absorbed_into: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut split_off: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (o, id) in prior_ids.iter().enumerate() {
            let home = prior_home[o];
            if !taken.contains(id) {
                if let Some(home) = home {
                    absorbed_into.entry(home).or_default().push(id.clone());
                }
            } else {
                let keeper = ids.iter().position(|x| x == id);
                let mut others: Vec<String> = counts[o]
                    .keys()
                    .filter(|c| Some(**c) != keeper)
                    .map(|c| ids[*c].clone())
                    .collect();
                // Sorted, as the contract says (cluster order put a
                // reclaimed or older id after a newer one).
                others.sort();
                if !others.is_empty() {
                    split_off.insert(id.clone(), others);
                }
            }
        }
        // Where each prior or absorbed id ends: the cluster whose id a
        // consumer following the change events finds its records under.
        let mut end_of: HashMap<&str, Option<usize>> = prior_ids
            .iter()
            .zip(&prior_home)
            .map(|(id, home)| (id.as_str(), *home))
            .collect();
        let cluster_of_event: HashMap<&str, usize> = events
            .iter()
            .enumerate()
            .map(|(n, e)| (e.event_id.as_str(), cluster_of[&n]))
            .collect();
        // The absorbed ids' lists of the records they stand for, as this
        // recomputation leaves them (by `absorbed` key, with the id): a
        // record that ends elsewhere, or is listed as moved, leaves them
        // (see the moved records below).
        let mut standing: BTreeMap<Vec<u8>, (&String, AbsorbedProfile)> = BTreeMap::new();
        // The id each prior or absorbed id redirects to after this
        // recomputation (`None`: live): the path a consumer follows from
        // where it placed a record. Only needed where absorbed ids list
        // records (`family`): not on the common path.
        let mut next_of: HashMap<&str, Option<&str>> = prior_ids
            .iter()
            .enumerate()
            .filter(|_| !family.is_empty())
            .map(|(o, id)| {
                let next = match prior_home[o] {
                    Some(home) if !taken.contains(id) => Some(ids[home].as_str()),
                    _ => None,
                };
                (id.as_str(), next)
            })
            .collect();
        // Absorbed ids follow what they stood for: one a cluster took back
        // is live again; one whose chain would end in another cluster than
        // the one holding most of its events redirects there. Parents come
        // before their children (`family` is in discovery order), so a
        // child sees where its parent ends after this recomputation.
        if !family.is_empty() {
            for a in &family {
                let parent_end = end_of.get(a.parent.as_str()).copied().flatten();
                if reclaimed.contains_key(&a.id) {
                    self.redirects.insert(a.id.clone(), None);
                    self.absorbed.insert(absorbed_key(&a.parent, &a.id), None);
                    end_of.insert(&a.id, a.home);
                    next_of.insert(&a.id, None);
                    continue;
                }
                standing.insert(absorbed_key(&a.parent, &a.id), (&a.id, a.profile.clone()));
                next_of.insert(&a.id, Some(a.parent.as_str()));
                let (Some(home), Some(parent_end)) = (a.home, parent_end) else {
                    end_of.insert(&a.id, parent_end);
                    continue;
                };
                end_of.insert(&a.id, Some(home));
                if parent_end == home {
                    continue;
                }
                next_of.insert(&a.id, Some(ids[home].as_str()));
                let to = ids[home].clone();
                outcome.changes.push(ProfileChange::superseded(
                    a.id.clone(),
                    a.profile.version,
                    cause.id.clone(),
                    to.clone(),
                ));
                self.redirects.insert(a.id.clone(), Some(to.clone()));
                self.absorbed.insert(absorbed_key(&a.parent, &a.id), None);
                standing.remove(&absorbed_key(&a.parent, &a.id));
                let moved = AbsorbedProfile {
                    version: a.profile.version + 1,
                    members: a.profile.members.clone(),
                };
                self.absorbed
                    .insert(absorbed_key(&to, &a.id), Some(moved.clone()));
                standing.insert(absorbed_key(&to, &a.id), (&a.id, moved));
            }
        }

        // Events a consumer places by an absorbed id (the deepest one that
        // stood for them, under the prior profile now holding them): it
        // finds them where that id ends, which a split may have changed
        // (an id given back takes the records it stood for along).
        // (`family` lists parents first: a deeper id's entry replaces its
        // parent's.)
        let by_absorbed_id = {
            let mut root: HashMap<&str, &str> = HashMap::new();
            let mut ends: HashMap<&str, (&str, Option<usize>)> = HashMap::new();
            for a in &family {
                let r = root
                    .get(a.parent.as_str())
                    .copied()
                    .unwrap_or(a.parent.as_str());
                root.insert(a.id.as_str(), r);
                let end = end_of.get(a.id.as_str()).copied().flatten();
                for m in &a.profile.members {
                    ends.insert(m.as_str(), (r, end));
                }
            }
            ends
        };
        // The profile a consumer finds record `n` under through the
        // absorbed id that stood for it, when one did.
        let through_absorbed_id = |n: usize| {
            let (Some(origin), Some((root, Some(end)))) = (
                origin_id(origins[n]),
                by_absorbed_id.get(events[n].event_id.as_str()),
            ) else {
                return None;
            };
            (origin == root).then(|| ids[*end].as_str())
        };

        // Key holders after the recomputation.
        let mut holders: BTreeMap<&str, BTreeMap<usize, (i64, i64)>> = BTreeMap::new();
        for (n, k) in keys.iter().enumerate() {
            let t = events[n].event_time_ms;
            for link in &k.links {
                let span = holders
                    .entry(link.key.as_str())
                    .or_default()
                    .entry(cluster_of[&n])
                    .or_insert((t, t));
                span.0 = span.0.min(t);
                span.1 = span.1.max(t);
            }
        }
        let mut contested = vec![false; ids.len()];
        for (key, by_cluster) in &holders {
            let entry = entries.entry(key.to_string()).or_default();
            if entry.quarantined {
                entry.holders.clear();
                continue;
            }
            // Holders this recomputation did not re-partition keep the key
            // (a profile holding a household's line through an unnamed
            // record, which links it to no one, is not pulled in).
            // A holder whose profile is gone (erased) is dropped.
            let mut hs: Vec<Holder> = Vec::new();
            for h in &entry.holders {
                let id = self.follow_redirects(&h.profile_id)?;
                if !prior.contains_key(&id) && self.store_has_profile(&id)? {
                    hs.push(h.clone());
                }
            }
            // A shared key (a card, a family computer) re-partitions its
            // holders whenever it comes back, even when other evidence
            // holds them in one profile. A rule's block contests its
            // holders only when a pair in it reached the rule: a pair below
            // it never links, whatever the partitions (so people who only
            // share a birthday and a given name do not pull each other
            // into every recomputation, transitively). A pair with a holder
            // outside this recomputation was weighed when the later of the
            // two arrived, with every holder of its block pulled in, and
            // marked both then.
            let contests = if crate::keys::is_rule_key(key) {
                by_cluster.len() > 1 && clustering.proposed_blocks.contains(*key)
            } else {
                by_cluster.len() + hs.len() > 1 || clustering.shared_keys.contains(*key)
            };
            if contests {
                for c in by_cluster.keys() {
                    contested[*c] = true;
                }
            }
            hs.extend(by_cluster.iter().map(|(c, (first, last))| Holder {
                profile_id: ids[*c].clone(),
                first_ms: *first,
                last_ms: *last,
            }));
            hs.sort_by(|a, b| a.profile_id.cmp(&b.profile_id));
            entry.holders = hs;
        }
        let quarantined_keys: HashSet<&str> = holders
            .keys()
            .copied()
            .filter(|k| entries.get(*k).is_some_and(|e| e.quarantined))
            .collect();
        // Per cluster: its identifiers taken out of linking as over-shared,
        // which stay off its golden record.
        let shared: Vec<BTreeSet<&Identifier>> = clustering
            .clusters
            .iter()
            .map(|members| {
                members
                    .iter()
                    .flat_map(|&n| {
                        keys[n]
                            .links
                            .iter()
                            .filter(|l| quarantined_keys.contains(l.key.as_str()))
                            .filter_map(move |l| {
                                l.identifier.and_then(|i| events[n].identifiers.get(i))
                            })
                    })
                    .collect()
            })
            .collect();
        for (key, entry) in entries {
            if self.entry(&key)? != entry {
                self.entries.insert(key, entry);
            }
        }

        // Absorbed ids redirect and announce where they went.
        let time_of: HashMap<&str, i64> = events
            .iter()
            .map(|e| (e.event_id.as_str(), e.event_time_ms))
            .collect();
        // Records an absorbed id stood for past its list's limit.
        let mut overflow: HashSet<String> = HashSet::new();
        for (home, absorbed) in &absorbed_into {
            for id in absorbed {
                let Some(old) = prior.get(id) else { continue };
                outcome.changes.push(ProfileChange::superseded(
                    id.clone(),
                    old.record.version,
                    cause.id.clone(),
                    ids[*home].clone(),
                ));
                self.redirects.insert(id.clone(), Some(ids[*home].clone()));
                // Its first events (by event time: a recomputed member
                // list is sorted by id) stand for it; a long history would
                // be written again with every merge up a chain.
                // Those that follow it there: its records in other clusters
                // are moved, or found under an id a split gave back.
                let mut firsts: Vec<&String> = old
                    .members
                    .iter()
                    .filter(|m| cluster_of_event.get(m.as_str()) == Some(home))
                    .collect();
                firsts.sort_by_key(|m| {
                    (
                        time_of.get(m.as_str()).copied().unwrap_or(i64::MAX),
                        m.as_str(),
                    )
                });
                // The others, past the limit, a consumer finds under this
                // id too (unless a deeper absorbed id's list names them):
                // they are moved to the survivor, or a split giving this id
                // back would leave them with it downstream.
                if firsts.len() > MAX_ABSORBED_MEMBERS {
                    let deeper = self.listed_below(id)?;
                    overflow.extend(
                        firsts[MAX_ABSORBED_MEMBERS..]
                            .iter()
                            .filter(|m| !deeper.contains(m.as_str()))
                            .map(|m| m.to_string()),
                    );
                }
                let mut members: Vec<String> = firsts
                    .into_iter()
                    .take(MAX_ABSORBED_MEMBERS)
                    .cloned()
                    .collect();
                members.sort_unstable();
                let profile = AbsorbedProfile {
                    version: old.record.version + 1,
                    members,
                };
                self.absorbed
                    .insert(absorbed_key(&ids[*home], id), Some(profile.clone()));
                standing.insert(absorbed_key(&ids[*home], id), (id, profile));
                self.profiles.insert(id.clone(), None);
                outcome.absorbed += 1;
            }
        }

        // The clusters, rebuilt from their events in canonical order; the
        // one holding the cause comes last, so that a consumer reading
        // "cause event -> profile of its last change" places it right.
        let cause_node = cause.event.map(|_| events.len() - 1);
        let mut order: Vec<usize> = (0..clustering.clusters.len()).collect();
        order.sort_by_key(|&c| cause_node.is_some_and(|n| clustering.clusters[c].contains(&n)));
        let mut moved_here: HashSet<String> = HashSet::new();
        for c in order {
            let members = &clustering.clusters[c];
            let id = &ids[c];
            let before = prior.remove(id);
            let mut member_ids: Vec<String> = members
                .iter()
                .map(|&n| events[n].event_id.clone())
                .collect();
            let unchanged = before.as_ref().is_some_and(|b| {
                let mut old = b.members.clone();
                old.sort();
                let mut new = member_ids.clone();
                new.sort();
                old == new
                    && !b.record.identifiers.iter().any(|i| shared[c].contains(i))
                    // A decision can give an identifier back (a quarantine
                    // `rules apply` lifted): the record carries it again.
                    && (cause.decision.is_none()
                        || members.iter().all(|&n| {
                            events[n].identifiers.iter().all(|i| {
                                shared[c].contains(i) || b.record.identifiers.contains(i)
                            })
                        }))
            });
            if unchanged {
                if let Some(mut b) = before {
                    b.contested = contested[c];
                    b.weak_joined = clustering.weak_joined[c];
                    b.constrained = members.iter().any(|&n| !constraints[n].is_empty());
                    self.profiles.insert(id.clone(), Some(b));
                }
                continue;
            }
            let first = &events[members[0]];
            let mut record = GoldenRecord::new(id.clone(), first);
            let mut votes = AttributeVotes::default();
            votes.absorb_event(first);
            for &n in &members[1..] {
                record.absorb_event(&events[n]);
                votes.absorb_event(&events[n]);
            }
            record.identifiers.retain(|i| !shared[c].contains(i));
            votes.settle(self.survivorship, &mut record);
            if votes.consents_need_history(self.survivorship) {
                settle_consents(&mut record, members.iter().map(|&n| &events[n]));
            }
            let last_version = match (&before, reclaimed.contains_key(id)) {
                (Some(b), _) => b.record.version,
                (None, true) => family
                    .iter()
                    .find(|a| &a.id == id)
                    .map_or(0, |a| a.profile.version),
                (None, false) => 0,
            };
            record.version = last_version + 1;
            let absorbed = absorbed_into.get(&c).cloned().unwrap_or_default();
            let split_into = split_off.get(id).cloned().unwrap_or_default();
            let links = &clustering.links[c];
            let evidence = (!absorbed.is_empty()).then(|| merge_evidence(links));
            let change_type = if !absorbed.is_empty() {
                ChangeType::Merged
            } else if !split_into.is_empty() {
                ChangeType::Split
            } else if before.is_none() {
                // A reclaimed id counts too: a live profile again.
                outcome.created += 1;
                ChangeType::Created
            } else {
                ChangeType::Updated
            };
            if !absorbed.is_empty() || !split_into.is_empty() {
                if !split_into.is_empty() {
                    outcome.splits += split_into.len() as u64;
                }
                let record = LineageRecord {
                    at_ms: cause.at_ms,
                    decision: cause.decision.clone(),
                    cause_event_id: cause.id.clone(),
                    survivor: id.clone(),
                    absorbed: absorbed.clone(),
                    split_into: split_into.clone(),
                    links: links
                        .iter()
                        .map(|l| (l.rule.clone(), l.version, l.kinds.clone()))
                        .collect(),
                };
                // Each part split off keeps the same record under its own
                // id: `explain` of a part finds where it came from, and
                // the history of its records before the split.
                // (Without the survivor's absorbed ids: they are its own.)
                for part in &split_into {
                    let mut copy = record.clone();
                    copy.absorbed.clear();
                    self.lineage.push((part.clone(), copy));
                }
                self.lineage.push((id.clone(), record));
            }
            // Events taken over from a profile that a split divided (not
            // from absorbed ones: their redirect carries them), and those a
            // consumer would otherwise find under an absorbed id that now
            // ends elsewhere. Not those it finds here through such an id
            // (one redirected to this profile now): listed here, they
            // would be placed under this id for good, and the absorbed id
            // (whose members still name them) would no longer say where a
            // consumer has them when a later split takes the two apart.
            let moved_event_ids: Vec<String> = members
                .iter()
                .filter(|&&n| match through_absorbed_id(n) {
                    Some(end) => end != id,
                    None => {
                        origin_id(origins[n]).is_some_and(|o| o != id && !absorbed.contains(o))
                            || overflow.contains(&events[n].event_id)
                    }
                })
                .map(|&n| events[n].event_id.clone())
                .collect();
            let mut change = self.change(
                change_type,
                before.as_ref().map(|b| &b.record),
                &record,
                &cause.id,
                absorbed,
                evidence,
            );
            change.split_into = split_into;
            moved_here.extend(moved_event_ids.iter().cloned());
            change.moved_event_ids = moved_event_ids;
            outcome.changes.push(change);
            member_ids.sort();
            let names = members.iter().filter_map(|&n| keys[n].name.clone());
            self.names.insert(id.clone(), kept_names(names.collect()));
            self.names_changed.insert(id.clone());
            self.profiles.insert(
                id.clone(),
                Some(StoredProfile {
                    record,
                    votes,
                    members: member_ids,
                    contested: contested[c],
                    weak_joined: clustering.weak_joined[c],
                    constrained: members.iter().any(|&n| !constraints[n].is_empty()),
                }),
            );
        }

        // An absorbed id stands only for the records a consumer finds
        // through it: those in the cluster it ends in, not listed as
        // moved (placed under their profile's own id from now on). A
        // record that ends elsewhere (under an id a split gave back, or a
        // deeper absorbed id) or was moved leaves its list, so that a later
        // split neither looks for the record where this id ends nor gives
        // the id back to records a consumer never found under it.
        // Nor a record a consumer finds under an id that no longer
        // redirects through this one: one a deeper absorbed id stands for,
        // which a split gave back (live again) or sent elsewhere.
        let lister: HashMap<&str, &str> = family
            .iter()
            .flat_map(|a| {
                a.profile
                    .members
                    .iter()
                    .map(|m| (m.as_str(), a.id.as_str()))
            })
            .collect();
        let passes = |from: &str, id: &str| {
            let mut at = from;
            for _ in 0..=next_of.len() {
                if at == id {
                    return true;
                }
                match next_of.get(at).copied().flatten() {
                    Some(next) => at = next,
                    None => return false,
                }
            }
            false
        };
        for (key, (id, mut profile)) in standing {
            let end = end_of.get(id.as_str()).copied().flatten();
            let had = profile.members.len();
            profile.members.retain(|m| {
                !moved_here.contains(m)
                    && end.is_none_or(|end| {
                        cluster_of_event.get(m.as_str()).is_none_or(|c| *c == end)
                    })
                    && lister.get(m.as_str()).is_none_or(|from| passes(from, id))
            });
            if profile.members.len() != had {
                self.absorbed.insert(key, Some(profile));
            }
        }

        for (a, b, link, refusal) in clustering.suggestions {
            let (pa, pb) = (&ids[cluster_of[&a]], &ids[cluster_of[&b]]);
            self.queue_suggestion(pa, pb, &link, refusal, cause.at_ms, outcome)?;
        }
        Ok(())
    }

    /// Puts the pair of profiles `pa`, `pb` in the review queue (unless
    /// they are one, or the pair waits already), with the link a guard
    /// refused or a `suggest` rule proposed.
    pub(crate) fn queue_suggestion(
        &mut self,
        pa: &str,
        pb: &str,
        link: &Link,
        refusal: Refusal,
        at_ms: i64,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        if pa == pb {
            return Ok(());
        }
        let pair = (pa.min(pb).to_string(), pa.max(pb).to_string());
        if self.is_pending(&pair)? {
            return Ok(());
        }
        let evidence = merge_evidence(std::slice::from_ref(link));
        self.pending.insert(
            pair.clone(),
            Some(PendingSuggestion {
                profile_a: pair.0.clone(),
                profile_b: pair.1.clone(),
                rule: evidence.rule.clone(),
                rule_version: evidence.rule_version,
                kinds: evidence.kinds.clone(),
                reason: refusal.as_str().to_string(),
                at_ms,
                since_lineage: None,
            }),
        );
        outcome.suggestions.push(Suggestion {
            profile_a: pair.0,
            profile_b: pair.1,
            evidence,
            reason: refusal.as_str(),
        });
        Ok(())
    }

    /// Whether a pair already waits in the review queue.
    pub(crate) fn is_pending(&self, pair: &(String, String)) -> Result<bool, StoreError> {
        if let Some(p) = self.pending.get(pair) {
            return Ok(p.is_some());
        }
        Ok(self
            .store
            .get_raw(cf::SUGGESTIONS, &pair_key(&pair.0, &pair.1))?
            .is_some())
    }

    pub(crate) fn into_write_batch(mut self) -> WriteBatch {
        let mut batch = WriteBatch::default();
        let store = self.store;
        // The lineage number after this write's records: a pair queued
        // (or shown again) here was flagged on the profiles as they stand
        // after them.
        let lineage_end = self.next_lineage + self.lineage.len() as u64;
        for (event_id, list) in &self.constraints {
            if list.is_empty() {
                store.delete(&mut batch, cf::CONSTRAINTS, event_id.as_bytes());
            } else {
                store.put_value(&mut batch, cf::CONSTRAINTS, event_id.as_bytes(), list);
            }
        }
        for ((a, b), p) in &mut self.pending {
            let key = pair_key(a, b);
            match p {
                Some(p) => {
                    p.since_lineage.get_or_insert(lineage_end);
                    store.put_value(&mut batch, cf::SUGGESTIONS, &key, p)
                }
                None => store.delete(&mut batch, cf::SUGGESTIONS, &key),
            }
        }
        for d in &self.decisions {
            store.put_value(&mut batch, cf::DECISIONS, &d.id.to_be_bytes(), d);
        }
        let mut outbox_seq = self.next_outbox;
        for value in &self.outbox {
            store.put(&mut batch, cf::OUTBOX, &outbox_seq.to_be_bytes(), value);
            outbox_seq += 1;
        }
        for (key, value) in &self.extra_meta {
            store.put(&mut batch, cf::META, key, value);
        }
        if !self.decisions.is_empty() || !self.outbox.is_empty() {
            store.put(
                &mut batch,
                cf::META,
                NEXT_DECISION_SEQ,
                &self.next_decision.to_be_bytes(),
            );
            store.put(
                &mut batch,
                cf::META,
                NEXT_OUTBOX_SEQ,
                &outbox_seq.to_be_bytes(),
            );
        }
        // In key order per family: RocksDB applies a batch in order, and a
        // memtable insert near the previous one reuses its skiplist search
        // (random order made the search a fifth of the resolver's time).
        for (key, entry) in sorted(&self.entries) {
            store.put_value(&mut batch, cf::IDENTIFIERS, key.as_bytes(), entry);
        }
        for key in &self.removed_entries {
            store.delete(&mut batch, cf::IDENTIFIERS, key.as_bytes());
        }
        let mut profiles: Vec<_> = self.profiles.into_iter().collect();
        profiles.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (profile_id, profile) in &mut profiles {
            let key = profile_id.as_bytes();
            match profile {
                Some(p) => {
                    // The member list goes to its own family (appended to
                    // when this batch only added events); the value keeps
                    // none.
                    let members = std::mem::take(&mut p.members);
                    store.put_value(&mut batch, cf::PROFILES, key, p);
                    if self.appended_only.contains(profile_id.as_str()) {
                        if !members.is_empty() {
                            store.merge(&mut batch, cf::MEMBERS, key, &encode_members(&members));
                        }
                    } else {
                        store.put(&mut batch, cf::MEMBERS, key, &encode_members(&members));
                    }
                }
                None => {
                    store.delete(&mut batch, cf::PROFILES, key);
                    store.delete(&mut batch, cf::MEMBERS, key);
                    store.delete(&mut batch, cf::NAMES, key);
                }
            }
        }
        // Name digests this batch changed, of profiles it keeps (a deleted
        // profile's were deleted with it).
        let live: HashSet<&str> = profiles
            .iter()
            .filter(|(_, p)| p.is_some())
            .map(|(id, _)| id.as_str())
            .collect();
        let mut names: Vec<_> = self
            .names
            .iter()
            .filter(|(id, _)| live.contains(id.as_str()) && self.names_changed.contains(*id))
            .collect();
        names.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (profile_id, list) in names {
            let value = ProfileNames::new(list.clone());
            store.put_value(&mut batch, cf::NAMES, profile_id.as_bytes(), &value);
        }
        for (event_id, event) in sorted(&self.contributions) {
            store.put_value(&mut batch, cf::CONTRIBUTIONS, event_id.as_bytes(), event);
        }
        for (from, to) in sorted(&self.redirects) {
            match to {
                Some(to) => store.put(&mut batch, cf::REDIRECTS, from.as_bytes(), to.as_bytes()),
                None => store.delete(&mut batch, cf::REDIRECTS, from.as_bytes()),
            }
        }
        for (key, value) in &self.absorbed {
            match value {
                Some(value) => store.put_value(&mut batch, cf::ABSORBED, key, value),
                None => store.delete(&mut batch, cf::ABSORBED, key),
            }
        }
        let mut seq = self.next_lineage;
        for (owner, record) in &self.lineage {
            let mut key = owner.as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&seq.to_be_bytes());
            seq += 1;
            store.put_value(&mut batch, cf::LINEAGE, &key, record);
        }
        if self.counters_dirty || !self.lineage.is_empty() {
            store.put(
                &mut batch,
                cf::META,
                NEXT_PROFILE_SEQ,
                &self.next_seq.to_be_bytes(),
            );
            store.put(&mut batch, cf::META, NEXT_LINEAGE_SEQ, &seq.to_be_bytes());
            store.put(
                &mut batch,
                cf::META,
                WATERMARK,
                &(self.watermark_ms as u64).to_be_bytes(),
            );
        }
        batch
    }
}

/// How many of an absorbed profile's events its `absorbed` entry keeps
/// (the first it had): enough to find where they went after a split. The
/// survivor's change lists the others as moved to it, so that a consumer
/// finds under the absorbed id only the records its entry names.
const MAX_ABSORBED_MEMBERS: usize = 64;

/// How many distinct folded names a profile's `names` entry keeps; a
/// profile with more recomputes on every named event.
const MAX_PROFILE_NAMES: usize = 4;

// The incremental path never adds a name to a profile holding
// `MAX_PROFILE_NAMES` without a recomputation, so a card's records in one
// profile cannot pass `cluster::MAX_SHARED_NAMES` (which shows the card
// shared) unseen by one.
const _: () = assert!(MAX_PROFILE_NAMES < crate::cluster::MAX_SHARED_NAMES);

/// A profile's names as kept: distinct, sorted, `None` past the limit.
fn kept_names(mut names: Vec<String>) -> Option<Vec<String>> {
    names.sort_unstable();
    names.dedup();
    (names.len() <= MAX_PROFILE_NAMES).then_some(names)
}

/// Every value a profile's votes hold for an attribute, and the event's.
fn values_with<'a>(
    votes: &'a kindred_model::Votes<String>,
    event: Option<&'a str>,
) -> impl Iterator<Item = &'a str> {
    votes
        .candidates
        .iter()
        .map(|c| c.value.as_str())
        .chain(event)
}

/// Whether some two of `items` are `apart`.
fn any_two<T>(items: &[T], apart: impl Fn(&T, &T) -> bool) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, x)| items[i + 1..].iter().any(|y| apart(x, y)))
}

/// Whether two of the given names typed in their own fields, among the
/// profile's and the event's, may be two people's: a superset of
/// `GivenName::other_person` (which forgives nicknames, split names and
/// swapped fields), so it costs at most a needless recomputation.
fn given_names_differ(profile: &StoredProfile, event: &CanonicalEvent) -> bool {
    let givens: Vec<(String, String)> = values_with(
        &profile.votes.given_name,
        event.attributes.given_name.as_deref(),
    )
    .map(|g| {
        let first = g.split_whitespace().next().map(crate::names::given_key);
        (crate::names::given_key(g), first.unwrap_or_default())
    })
    .collect();
    any_two(&givens, |(g, f), (h, k)| {
        crate::names::given_keys_differ(g, h) || crate::names::gendered_forms(f, k)
    })
}

/// Whether `name` and every one of `names` are pairwise alike by both of
/// the name guard's measures (`min_name_similarity` 0 turns the guard off).
fn all_alike(names: &[String], name: &str, min: f64) -> bool {
    if names.len() >= MAX_PROFILE_NAMES && !names.iter().any(|n| n == name) {
        return false;
    }
    let alike = |a: &str, b: &str| {
        a == b
            || min <= 0.0
            || (crate::names::person_similarity(a, b) >= min
                && crate::names::name_similarity(a, b) >= min)
    };
    names
        .iter()
        .enumerate()
        .all(|(i, a)| alike(a, name) && names.iter().skip(i + 1).all(|b| alike(a, b)))
}

/// A profile's distinct folded names as the `names` family keeps them
/// (sealed in a keyed store: they are personal data).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct ProfileNames {
    /// [`PROFILE_NAMES_FORMAT`]: tells this value from the lists of name
    /// digests (at most two) that older releases kept in the family.
    format: u8,
    /// Distinct, sorted; empty when `overflow`.
    names: Vec<String>,
    /// More than [`MAX_PROFILE_NAMES`].
    overflow: bool,
}

const PROFILE_NAMES_FORMAT: u8 = 0xF2;

impl ProfileNames {
    fn new(names: Option<Vec<String>>) -> Self {
        ProfileNames {
            format: PROFILE_NAMES_FORMAT,
            overflow: names.is_none(),
            names: names.unwrap_or_default(),
        }
    }

    fn into_names(self) -> Option<Vec<String>> {
        (self.format == PROFILE_NAMES_FORMAT && !self.overflow).then_some(self.names)
    }
}

/// A map's entries in key order.
fn sorted<V>(map: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

/// What a recomputation clustered: parallel slices, one entry per event.
#[derive(Clone, Copy)]
pub(crate) struct Recomputed<'r> {
    pub events: &'r [CanonicalEvent],
    pub keys: &'r [EventKeys],
    /// Index of each event's prior profile (u32::MAX: the new event).
    pub origins: &'r [u32],
    pub constraints: &'r [Vec<Constraint>],
}

/// Sets the consents of `record` from the whole history of the person
/// (`most_restrictive` with a grant after a withdrawal: only the order in
/// which the person's identities connected tells which stands), and the
/// `may_contact` flags that follow from them.
pub(crate) fn settle_consents<'e>(
    record: &mut GoldenRecord,
    history: impl IntoIterator<Item = &'e CanonicalEvent>,
) {
    // Only the person's own identifiers (those on the record: not the
    // ones linking set aside as over-shared) join identities.
    let own: HashSet<String> = record
        .identifiers
        .iter()
        .map(Identifier::link_key)
        .collect();
    record.consents = kindred_model::combine_consents_joined_by(history, |k| own.contains(k));
    kindred_model::all_decides_other_channels(&mut record.consents);
    record.refresh_may_contact();
}

/// Key of a pair in the review queue.
pub(crate) fn pair_key(a: &str, b: &str) -> Vec<u8> {
    let mut key = a.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(b.as_bytes());
    key
}

/// Adds (or widens) `profile_id`'s holding of a key at time `t`.
pub(crate) fn add_holder(entry: &mut IndexEntry, profile_id: &str, t: i64) {
    match entry
        .holders
        .binary_search_by(|h| h.profile_id.as_str().cmp(profile_id))
    {
        Ok(i) => {
            let h = &mut entry.holders[i];
            h.first_ms = h.first_ms.min(t);
            h.last_ms = h.last_ms.max(t);
        }
        Err(i) => entry.holders.insert(
            i,
            Holder {
                profile_id: profile_id.to_string(),
                first_ms: t,
                last_ms: t,
            },
        ),
    }
}

/// One evidence record from the links that joined a cluster: the first
/// rule (by name) and every kind of evidence used.
fn merge_evidence(links: &[Link]) -> MergeEvidence {
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    for l in links {
        kinds.extend(l.kinds.iter().cloned());
    }
    let first = links.first();
    MergeEvidence {
        rule: first.map_or_else(|| "exact_identifier".into(), |l| l.rule.clone()),
        rule_version: first.map_or(1, |l| l.version),
        kinds: kinds.into_iter().collect(),
    }
}

pub(crate) fn as_bytes<'s>(keys: &[&'s str]) -> Vec<&'s [u8]> {
    keys.iter().map(|k| k.as_bytes()).collect()
}

#[cfg(test)]
mod tests;
