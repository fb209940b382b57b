//! Erasure: the right to be forgotten.
//!
//! [`Resolver::erase`] finds the person a request names (by identifier or
//! profile id), follows the merge lineage to every profile id the person
//! ever had, and in one atomic write removes the golden record, the source
//! contributions (and decisions pinned on them), the person's holdings in
//! the identifier index, redirects, lineage and pending review pairs. It
//! queues an `erased` change and a tombstone for every id on the profile
//! topic, tombstones for the person's review records, and an audit record
//! that holds no raw value: the request's subject is a keyed hash.
//!
//! Then, in a second write, the profiles still holding one of the
//! person's keys are clustered again (with their contested neighbours): a
//! reviewer's reject or a guard may have kept them apart only through the
//! person's records, and a replay of the events without them would join
//! them. The changes that follow are caused by `erasure:N`. The first write
//! names those profiles in `meta` ([`PENDING_NEIGHBOURS`]) and the write
//! that clusters them removes the name: after a crash between the two (the
//! request's offset is in the first), or a failed second write, the next
//! batch of events or erasure does it, in its own write
//! ([`BatchView::finish_erasure`]).
//!
//! The index entries the person shared with others keep only the counts
//! the others' records give them, and a member card that only the
//! person's records showed shared (`IndexEntry::names_differ`) is no
//! longer marked: its walk-in receipts count by the card on their lines
//! again, as in the replay. A quarantined identifier the person's records
//! carried stays quarantined (a quarantined entry keeps no holders, so the
//! erasure cannot count the others' records): the first write notes the
//! store ([`QUARANTINE_RECOUNT`]), and the next `rules diff|apply`, with
//! any rules, recounts every quarantine over the stored records as a
//! replay would, and removes the entries no stored record carries
//! (ARCHITECTURE.md, Known gaps).
//!
//! With suppression on, the keyed hash of each identifier only this person
//! held, and of each of their source event ids, goes on the suppression
//! list: a later event carrying one of those identifiers, or one of those
//! events read again, is dropped (and counted), so the person does not
//! come back. A phone, email or device is dropped only within its linking
//! window after the request (`window_days`): such numbers are given to
//! someone else in time, and the person's own events stay dropped by id.
//!
//! A request that names a shared identifier (quarantined, or held by
//! several people a guard kept apart) erases nobody: it is audited as
//! `ambiguous`, and the operator erases by profile id.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kindred_model::{Identifier, IdentifierKind, LinkPolicy, ProfileChange};
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::decision::DecisionKind;
use crate::keys::{alone_anchor, anchor_of_key, EventKeys, KeyClass, LinkKey};
use crate::outbox::{OutboxEntry, PinnedEvent, Tombstone};
use crate::resolver::{pair_key, read_counter, BatchView, Cause};
use crate::store::{cf, encode, Holder, IndexEntry, Store, StoredProfile, NEXT_OUTBOX_SEQ};
use crate::{BatchOutcome, Resolver, SourceOffset, StoreError};

/// Meta key of the next audit sequence.
pub(crate) const NEXT_AUDIT_SEQ: &[u8] = b"next_audit_seq";

/// Meta key of the profiles an erasure's first write left to cluster again
/// ([`PendingNeighbours`]); the write that clusters them deletes it.
pub(crate) const PENDING_NEIGHBOURS: &str = "erasure_neighbours";

/// The profiles an erasure left holding the person's keys, waiting to be
/// clustered again. Profile ids only (no identifier, no event).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingNeighbours {
    /// The erasure's audit number: the changes are caused by `erasure:N`.
    pub seq: u64,
    pub at_ms: i64,
    pub profiles: Vec<String>,
}

impl BatchView<'_> {
    /// Clusters again the profiles an erasure's first write named
    /// ([`PENDING_NEIGHBOURS`]), those still live (followed to their
    /// survivors), into this view; true when one was pending, and the
    /// caller then deletes the key in this view's write.
    pub(crate) fn finish_erasure(
        &mut self,
        outcome: &mut BatchOutcome,
    ) -> Result<bool, StoreError> {
        let Some(pending) = self
            .store_ref()
            .get_value::<PendingNeighbours>(cf::META, PENDING_NEIGHBOURS)?
        else {
            return Ok(false);
        };
        let mut live = BTreeSet::new();
        for id in &pending.profiles {
            let id = self.follow_redirects(id)?;
            if self.store_has_profile(&id)? {
                live.insert(id);
            }
        }
        if !live.is_empty() {
            let cause = Cause {
                id: format!("{}{}", kindred_model::ERASURE_CAUSE_PREFIX, pending.seq),
                at_ms: pending.at_ms,
                event: None,
                decision: None,
            };
            self.recompute(&cause, live, outcome)?;
        }
        Ok(true)
    }
}

/// Meta key of the audit number of the last erasure that left a quarantine
/// it could not count again (the erased records carried the identifier) (see [`Erasure::quarantines_to_recount`]);
/// empty or absent: none since the last `rules apply`, which recounts every
/// quarantine then and empties it.
pub(crate) const QUARANTINE_RECOUNT: &[u8] = b"quarantine_recount";

impl Store {
    /// Whether an erasure's first write left neighbours to cluster again
    /// that no write has clustered yet ([`PENDING_NEIGHBOURS`]).
    pub fn erasure_neighbours_wait(&self) -> Result<bool, StoreError> {
        Ok(self
            .get_raw(cf::META, PENDING_NEIGHBOURS.as_bytes())?
            .is_some())
    }

    /// Whether an erasure since the last `rules apply` left quarantined
    /// identifiers the erased records carried
    /// ([`Erasure::quarantines_to_recount`]).
    pub fn quarantine_recount_pending(&self) -> Result<bool, StoreError> {
        Ok(self
            .get_raw(cf::META, QUARANTINE_RECOUNT)?
            .is_some_and(|v| !v.is_empty()))
    }
}

/// Whom an erasure request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureTarget {
    /// A normalized identifier.
    Identifier(Identifier),
    /// An index key as the store holds it (`kind:keyed-hash` in a keyed
    /// store): lets a request travel without the raw value.
    IndexKey(String),
    /// A profile id (an absorbed id is followed to its survivor).
    Profile(String),
}

/// One request to forget a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRequest {
    /// The caller's reference (a ticket number); must not hold personal data.
    pub request_id: String,
    pub target: ErasureTarget,
    /// Who asked (an operator, a privacy portal).
    pub requested_by: String,
    /// When it was asked, ms since the epoch.
    pub at_ms: i64,
}

/// What an erasure request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureOutcome {
    /// The person was found and erased.
    Erased,
    /// Nobody holds the identifier or profile id (it is still suppressed
    /// when it was an identifier: data in flight will not create the person).
    NotFound,
    /// The identifier is shared (quarantined, or held by several people):
    /// nobody was erased; erase by profile id.
    Ambiguous,
}

impl ErasureOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErasureOutcome::Erased => "erased",
            ErasureOutcome::NotFound => "not_found",
            ErasureOutcome::Ambiguous => "ambiguous",
        }
    }
}

/// The audit trail of one erasure request. Holds no raw personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub request_id: String,
    /// What the request named: a profile id, or the identifier's index key
    /// (`kind:keyed-hash` in a keyed store; `kind:fnv-digest` in a
    /// plaintext one), never the raw value.
    pub subject: String,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub outcome: ErasureOutcome,
    /// Profile ids erased (the survivor and every id it absorbed).
    pub profiles: Vec<String>,
    pub events_erased: u64,
    pub identifiers_suppressed: u64,
}

/// What an erasure leaves in another profile's lineage where an erased
/// profile id or source event id was.
pub const ERASED: &str = "(erased)";

/// Each of `ids` (the erased person's profile ids) among `names` reads
/// [`ERASED`]: another profile's lineage, a decision record.
fn erase_ids<'a>(names: impl Iterator<Item = &'a mut String>, ids: &BTreeSet<String>) {
    for name in names {
        if ids.contains(name) {
            *name = ERASED.to_string();
        }
    }
}

/// 2000-01-01 in ms: an erasure request dated before it has no usable time.
pub const MIN_REQUEST_TIME_MS: i64 = 946_684_800_000;

impl crate::Store {
    /// What an audit record names as the subject of a request for
    /// `target`: a profile id as given, or the identifier's index key as
    /// [`Store::digest_key`](crate::Store) shows it (never a raw value).
    pub fn erasure_subject(&self, target: &ErasureTarget) -> String {
        match target {
            ErasureTarget::Identifier(id) => self.digest_key(&self.index_key(id)),
            ErasureTarget::IndexKey(key) => self.digest_key(&self.requested_index_key(key)),
            ErasureTarget::Profile(id) => id.clone(),
        }
    }

    /// The index key an `identifier_key` request names. In a keyed store
    /// an index key is `kind:` and 32 hex digits; anything else was sent
    /// as a raw `kind:value` (a portal that got the format wrong) and is
    /// hashed as one, so the raw value is never logged, audited or
    /// suppressed as it came. The kind is read in lower case, as index keys
    /// write it (`Email:ann@x.cn` would otherwise match nothing and erase
    /// no one).
    pub(crate) fn requested_index_key(&self, key: &str) -> String {
        let key = &match key.split_once(':') {
            Some((kind, rest)) => format!("{}:{rest}", kind.trim().to_ascii_lowercase()),
            None => key.to_string(),
        };
        // A digest as the store writes it, in lower case (a portal may send
        // it in upper case).
        let hashed = key.split_once(':').and_then(|(kind, digest)| {
            (!kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && digest.len() == 32
                && digest.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| format!("{kind}:{}", digest.to_ascii_lowercase()))
        });
        if !self.is_keyed() {
            return key.to_string();
        }
        if let Some(key) = hashed {
            return key;
        }
        let (kind, value) = key.split_once(':').unwrap_or(("", key));
        self.hasher().key(kind, value)
    }
}

/// At most this many suppression-list entries are listed with one
/// published audit record (about 650 KB of JSON in a keyed store, under
/// Kafka's default 1 MB message limit). A person with more erased events
/// is listed in part, and says so (`suppressed_listed < suppressed_total`).
pub const MAX_LISTED_SUPPRESSIONS: usize = 16_000;

/// An audit record as the audit topic carries it: with the suppression-list
/// entries the erasure made (keyed hashes of the person's identifiers and
/// source event ids, never a raw value). `kindred rebuild` puts them on
/// the new store's list before it replays any event, so an erased person
/// does not come back, however the request named them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedAudit {
    pub audit: AuditRecord,
    /// The entries, identifiers first, at most [`MAX_LISTED_SUPPRESSIONS`].
    pub suppressed: Vec<String>,
    /// How many entries the erasure made.
    pub suppressed_total: u64,
}

impl ListedAudit {
    fn new(audit: AuditRecord, mut suppressed: Vec<String>) -> Self {
        let suppressed_total = suppressed.len() as u64;
        suppressed.truncate(MAX_LISTED_SUPPRESSIONS);
        ListedAudit {
            audit,
            suppressed,
            suppressed_total,
        }
    }
}

/// What [`Resolver::erase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub audit: AuditRecord,
    /// The `erased` change (none unless someone was erased).
    pub changes: Vec<ProfileChange>,
    /// The recomputation of the profiles that shared an identifier (or a
    /// rule's key) with the person: what kept them apart may have been the
    /// person's records, so they are clustered again as a replay of the
    /// events without the person's would cluster them. Its changes (caused
    /// by `erasure:N`) follow the `erased` change on the profile topic;
    /// an earlier erasure's neighbours that waited (a crash between its
    /// two writes) are clustered first, and their changes come first here.
    pub neighbours: BatchOutcome,
    /// Sequence of the last outbox entry written.
    pub outbox_last: Option<u64>,
    /// Quarantined identifiers the person's records carried (or lines
    /// their card's receipts count on) that stay quarantined: a quarantined
    /// entry keeps no holders, so the erasure cannot count again whether
    /// the others' records alone cross a limit. The store notes it, and
    /// the next `rules apply` (the same rules will do) recounts every
    /// quarantine over the stored records, as a replay without the erased
    /// events counts them.
    pub quarantines_to_recount: usize,
}

impl Resolver {
    /// Whether the index keys an erasure names are of an identifier kind
    /// the resolver's rules do not link: such identifiers have no index
    /// entry (a fresh run makes none, `rules apply` removes them), though
    /// the person's records and golden record carry them.
    fn names_an_unlinked_kind(&self, keys: &[String]) -> bool {
        keys.iter().any(|key| {
            key.split_once(':')
                .and_then(|(kind, _)| kind.parse::<IdentifierKind>().ok())
                .is_some_and(|kind| !self.policy.identifiers.get(kind).link)
        })
    }

    /// The live profiles whose golden records list an identifier under one
    /// of `keys`, found by reading every profile (an identifier of a kind
    /// that does not link has no index entry): slow on a large store, so
    /// it says so.
    fn holders_without_an_index(&self, keys: &[String]) -> Result<BTreeSet<String>, StoreError> {
        let started = std::time::Instant::now();
        let mut holders = BTreeSet::new();
        let mut read = 0u64;
        for record in self.store.profiles() {
            let record = record?;
            read += 1;
            if record
                .identifiers
                .iter()
                .any(|i| keys.contains(&self.store.index_key(i)))
            {
                holders.insert(record.profile_id);
            }
        }
        tracing::warn!(
            profiles = read,
            holders = holders.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "erasure by an identifier of a kind the linking rules do not link: every profile was read to find its holders (no index entry); erase by profile id where you can"
        );
        Ok(holders)
    }

    /// Erases every live profile that holds an event on the suppression
    /// list, each as a request `request_id` by `requested_by` at `at_ms`
    /// naming the profile: how a restored snapshot loses the version of a
    /// person erased since it was taken. Their audit records list the
    /// events, and the events that joined their profiles after the
    /// snapshot are suppressed, so the erasure request read again would
    /// find one of the snapshot's profiles of theirs and leave the others
    /// (their card's, their phone's) live. A profile the snapshot glued
    /// them into with someone else goes whole (a later split never reached
    /// the snapshot): erased too much, never too little. These erasures
    /// put nothing on the suppression list (the person's entries are there
    /// already, carried over from the audit topic): someone glued to them
    /// keeps their card and phone, and comes back with their next events.
    /// Reads every profile's member list.
    pub fn erase_suppressed_holders(
        &mut self,
        request_id: &str,
        requested_by: &str,
        at_ms: i64,
    ) -> Result<Vec<Erasure>, StoreError> {
        if !self.store.has_suppressions()? {
            return Ok(Vec::new());
        }
        let mut holders = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let ids = self.store.profile_ids_after(after.as_deref(), 1024)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            for id in ids {
                let Some(stored) = self.store.stored_profile(&id)? else {
                    continue;
                };
                for event in &stored.members {
                    if self.store.is_suppressed_event(event)? {
                        holders.push(stored.record.profile_id);
                        break;
                    }
                }
            }
            after = Some(last);
        }
        let mut erasures = Vec::with_capacity(holders.len());
        let suppress = std::mem::replace(&mut self.suppress_erased, false);
        let mut erased = Ok(());
        for id in holders {
            let request = ErasureRequest {
                request_id: request_id.to_string(),
                target: ErasureTarget::Profile(id),
                requested_by: requested_by.to_string(),
                at_ms,
            };
            match self.erase(&request, &[]) {
                Ok(erasure) => erasures.push(erasure),
                Err(e) => {
                    erased = Err(e);
                    break;
                }
            }
        }
        self.suppress_erased = suppress;
        erased.map(|()| erasures)
    }

    /// Keep a keyed hash of an erased person's identifiers, so that later
    /// events carrying them are dropped. On by default.
    pub fn set_suppress_erased(&mut self, on: bool) {
        self.suppress_erased = on;
    }

    /// Erases the person `request` names, in one atomic write together with
    /// `offsets` (see the module documentation).
    pub fn erase(
        &mut self,
        request: &ErasureRequest,
        offsets: &[SourceOffset],
    ) -> Result<Erasure, StoreError> {
        // An earlier erasure's neighbours first, as it would have had them.
        let earlier = self.finish_erasure()?;
        let mut erasure = self.erase_first(request, offsets)?;
        // A second write: a crash between the two leaves the neighbours
        // named in `meta`, never half-erased; the next write clusters them.
        let second = self.finish_erasure()?;
        erasure.outbox_last = second
            .outbox_last
            .or(erasure.outbox_last)
            .or(earlier.outbox_last);
        erasure.neighbours = earlier.followed_by(second);
        Ok(erasure)
    }

    /// The first write of [`Self::erase`]: the person gone, and the
    /// profiles left holding their keys named in `meta` to be clustered
    /// again ([`PENDING_NEIGHBOURS`]).
    fn erase_first(
        &mut self,
        request: &ErasureRequest,
        offsets: &[SourceOffset],
    ) -> Result<Erasure, StoreError> {
        let store = &*self.store;
        let hasher = store.hasher();
        // The index keys the request names: an identifier's, and in a store
        // of an older release a card's written form too (its entries there).
        let named_keys: Vec<String> = match &request.target {
            ErasureTarget::Identifier(id) => std::iter::once(store.index_key(id))
                .chain(store.legacy_index_key(id))
                .collect(),
            ErasureTarget::IndexKey(key) => vec![store.requested_index_key(key)],
            ErasureTarget::Profile(_) => Vec::new(),
        };
        let named_key = named_keys.first().cloned();
        let subject = store.erasure_subject(&request.target);
        let survivor = match &request.target {
            ErasureTarget::Profile(id) => {
                store.live_profile_id(id)?.ok_or(ErasureOutcome::NotFound)
            }
            _ => {
                let mut entries = Vec::new();
                for key in &named_keys {
                    entries.extend(store.get_value::<IndexEntry>(cf::IDENTIFIERS, key)?);
                }
                let unindexed = entries.is_empty() && self.names_an_unlinked_kind(&named_keys);
                if unindexed {
                    // No entry to ask: the profiles whose golden records
                    // list the identifier, read one by one.
                    let holders = self.holders_without_an_index(&named_keys)?;
                    let mut it = holders.into_iter();
                    match (it.next(), it.next()) {
                        (Some(one), None) => Ok(one),
                        (None, _) => Err(ErasureOutcome::NotFound),
                        _ => Err(ErasureOutcome::Ambiguous),
                    }
                } else if entries.iter().any(|e| e.quarantined) {
                    Err(ErasureOutcome::Ambiguous)
                } else {
                    // Live holders only: a key an older link policy derived
                    // may still name a profile erased before.
                    let mut holders = BTreeSet::new();
                    for h in entries.iter().flat_map(|e| &e.holders) {
                        holders.extend(store.live_profile_id(&h.profile_id)?);
                    }
                    let mut it = holders.into_iter();
                    match (it.next(), it.next()) {
                        (Some(one), None) => Ok(one),
                        (None, _) => Err(ErasureOutcome::NotFound),
                        _ => Err(ErasureOutcome::Ambiguous),
                    }
                }
            }
        };

        let seq = read_counter(store, NEXT_AUDIT_SEQ, 1)?;
        let mut batch = WriteBatch::default();
        let mut outbox: Vec<OutboxEntry> = Vec::new();
        let mut suppress: BTreeSet<String> = BTreeSet::new();
        let mut suppress_events: BTreeSet<String> = BTreeSet::new();
        let mut profiles = Vec::new();
        let mut events_erased = 0u64;
        // The person's last event: their suppression windows run from it
        // when it is later than the request's time.
        let mut last_event_ms = i64::MIN;
        // Live profiles still holding one of the person's keys.
        let mut neighbours: BTreeSet<String> = BTreeSet::new();
        // Quarantined keys left as they are (see `quarantines_to_recount`).
        let mut to_recount: BTreeSet<String> = BTreeSet::new();
        let outcome = match survivor {
            Err(outcome) => {
                if outcome == ErasureOutcome::NotFound {
                    suppress.extend(named_key.clone());
                }
                outcome
            }
            Ok(survivor) => {
                // Every id this person has: the survivor and every profile
                // it absorbed (transitively, through the lineage and the
                // `absorbed` family) that still redirects to it; one a
                // split gave back to someone else is not theirs to erase.
                let mut ids = BTreeSet::from([survivor.clone()]);
                let mut queue = vec![survivor.clone()];
                while let Some(id) = queue.pop() {
                    let absorbed = store
                        .lineage(&id)?
                        .into_iter()
                        .flat_map(|record| record.absorbed)
                        .chain(store.absorbed_into(&id)?.into_iter().map(|(a, _)| a));
                    for a in absorbed.collect::<Vec<_>>() {
                        if !ids.contains(&a) && store.resolve_redirects(&a)? == survivor {
                            ids.insert(a.clone());
                            queue.push(a);
                        }
                    }
                }
                let stored: StoredProfile =
                    store
                        .stored_profile(&survivor)?
                        .ok_or_else(|| StoreError::Corrupt {
                            what: cf::PROFILES,
                            key: survivor.clone(),
                            message: "a live profile id has no profile".into(),
                        })?;
                // The person's events and what they offered to linking,
                // under the configured policy and every one the store's
                // entries may have been made by (a rule's former version).
                let ours = crate::policy_fingerprint(&self.policy);
                let mut former: Vec<LinkPolicy> = Vec::new();
                for p in crate::admin::policies_linked_by(store)? {
                    let print = crate::policy_fingerprint(&p);
                    if print != ours
                        && !former.iter().any(|q| crate::policy_fingerprint(q) == print)
                    {
                        former.push(p);
                    }
                }
                let mut theirs = Vec::with_capacity(stored.members.len());
                for event_id in &stored.members {
                    // Reading the event again must not bring its person
                    // back, even when every identifier it carries is shared.
                    suppress_events.insert(store.event_digest(event_id));
                    let Some(event) = store.contribution(event_id)? else {
                        continue;
                    };
                    last_event_ms = last_event_ms.max(event.event_time_ms);
                    let mut keys = EventKeys::of(&event, &self.policy, hasher);
                    for policy in &former {
                        let then = EventKeys::of(&event, policy, hasher);
                        // Its 1 January blocks too, where a store of
                        // linking version 29 or before holds them.
                        for link in then.links.into_iter().chain(then.retired) {
                            if !keys.links.iter().any(|l| l.key == link.key) {
                                keys.links.push(link);
                            }
                        }
                    }
                    theirs.push((event_id, keys));
                }
                // An entry someone else still holds keeps no digest of the
                // person's other identifiers or name (it would link the
                // suppressed keys to it), except those the holders' own
                // events carry too (recounted from their contributions).
                let their_companions: BTreeSet<(IdentifierKind, u64)> = theirs
                    .iter()
                    .flat_map(|(_, k)| k.companions.iter().copied())
                    .collect();
                let their_names: BTreeSet<u64> =
                    theirs.iter().filter_map(|(_, k)| k.name_digest).collect();
                let mut their_anchors: BTreeSet<u64> = BTreeSet::new();
                for (event_id, k) in &theirs {
                    their_anchors.extend(counted_anchor(store, event_id, k)?);
                }
                // The person's holdings in the index.
                let mut touched: BTreeSet<String> = BTreeSet::new();
                let mut holder_keys: HashMap<String, Vec<(String, EventKeys)>> = HashMap::new();
                // The entries as this erasure leaves them (`None`: deleted),
                // and the cards it no longer calls shared, each with the
                // remaining records carrying it.
                let mut index: BTreeMap<String, Option<IndexEntry>> = BTreeMap::new();
                let mut unmarked: Vec<(String, Vec<(String, EventKeys)>)> = Vec::new();
                for (event_id, keys) in theirs {
                    // An older store's entries under a card's written form
                    // (linking version 3 and before) are the person's too.
                    let legacy = keys.legacy.into_iter().map(|key| LinkKey {
                        key,
                        class: KeyClass::Strong(IdentifierKind::MemberId),
                        identifier: None,
                    });
                    // So are an older release's blocks of a 1 January
                    // birthday (linking version 29 and before).
                    for link in keys.links.into_iter().chain(legacy).chain(keys.retired) {
                        if !touched.insert(link.key.clone()) {
                            continue;
                        }
                        let Some(mut entry) =
                            store.get_value::<IndexEntry>(cf::IDENTIFIERS, &link.key)?
                        else {
                            continue;
                        };
                        // Theirs go, and any a former erasure left
                        // (a key another link policy derived).
                        let mut kept = Vec::with_capacity(entry.holders.len());
                        for h in entry.holders.drain(..) {
                            if ids.contains(&h.profile_id) {
                                continue;
                            }
                            if let Some(live) = store.live_profile_id(&h.profile_id)? {
                                if !ids.contains(&live) {
                                    neighbours.insert(live);
                                }
                                kept.push(h);
                            }
                        }
                        entry.holders = kept;
                        // What the other holders' own events give the
                        // counts stays (a household's email both typed).
                        let carrying = if entry.quarantined || link.class.kind().is_none() {
                            Vec::new()
                        } else {
                            still_carrying(
                                store,
                                &self.policy,
                                &link.key,
                                &entry.holders,
                                &ids,
                                &mut holder_keys,
                            )?
                        };
                        let still = still_counted(store, &self.policy, &carrying)?;
                        entry.companions.retain(|c| {
                            !their_companions.contains(c) || still.companions.contains(c)
                        });
                        entry
                            .names
                            .retain(|n| !their_names.contains(n) || still.names.contains(n));
                        entry
                            .anchors
                            .retain(|a| !their_anchors.contains(a) || still.anchors.contains(a));
                        let alone = entry.holders.is_empty() && !entry.quarantined;
                        if entry.quarantined {
                            to_recount.insert(link.key.clone());
                        }
                        if alone && !matches!(link.class, KeyClass::Rule(_)) {
                            suppress.insert(link.key.clone());
                        }
                        // Only the erased records showed the card shared:
                        // the others name one person, as a store that
                        // never had the erased ones judges them.
                        if !alone && !entry.quarantined && entry.names_differ && !still.names_differ
                        {
                            entry.names_differ = false;
                            unmarked.push((link.key.clone(), carrying));
                        }
                        index.insert(link.key.clone(), (!alone).then_some(entry));
                    }
                    store.delete(&mut batch, cf::CONTRIBUTIONS, event_id.as_bytes());
                    // The decisions topic forgets the event's decisions too.
                    if stored.constrained
                        && store
                            .get_raw(cf::CONSTRAINTS, event_id.as_bytes())?
                            .is_some()
                    {
                        outbox.push(OutboxEntry::Decisions(PinnedEvent {
                            event_id: event_id.clone(),
                            constraints: Vec::new(),
                        }));
                    }
                    store.delete(&mut batch, cf::CONSTRAINTS, event_id.as_bytes());
                    events_erased += 1;
                }
                reanchor_unmarked(store, unmarked, &mut index, &mut to_recount)?;
                for (key, entry) in &index {
                    match entry {
                        Some(entry) => {
                            store.put(&mut batch, cf::IDENTIFIERS, key.as_bytes(), &encode(entry))
                        }
                        None => store.delete(&mut batch, cf::IDENTIFIERS, key.as_bytes()),
                    }
                }
                store.delete(&mut batch, cf::PROFILES, survivor.as_bytes());
                store.delete(&mut batch, cf::MEMBERS, survivor.as_bytes());
                store.delete(&mut batch, cf::NAMES, survivor.as_bytes());
                // A split's record is also kept under each part it split
                // off: a part that is someone else's keeps no record of
                // the erased person's (their ids, links, cause event).
                let mut parts = BTreeSet::new();
                for id in &ids {
                    for record in store.lineage(id)? {
                        if &record.survivor == id {
                            parts
                                .extend(record.split_into.into_iter().filter(|p| !ids.contains(p)));
                        }
                    }
                }
                for part in &parts {
                    for (seq, record) in store.lineage_in_order(part)? {
                        if ids.contains(&record.survivor) {
                            let mut key = part.as_bytes().to_vec();
                            key.push(0);
                            key.extend_from_slice(&seq.to_be_bytes());
                            store.delete(&mut batch, cf::LINEAGE, &key);
                        }
                    }
                }
                // Someone else's history (a split that gave one of these
                // ids back, the merge before it, the records an absorbed id
                // of theirs stood for) keeps no trace of the person: their
                // ids and events read `(erased)`, their events leave the
                // absorbed ids' member lists. Every such survivor left a
                // copy of its split under one of these ids.
                let erased_events: BTreeSet<&String> = stored.members.iter().collect();
                let mut others = BTreeSet::new();
                // The split's other parts, which keep a copy of its record
                // (and never held the person's events).
                let mut siblings = BTreeSet::new();
                for id in &ids {
                    for record in store.lineage(id)? {
                        if !ids.contains(&record.survivor) {
                            siblings.extend(
                                record
                                    .split_into
                                    .iter()
                                    .filter(|p| !ids.contains(*p))
                                    .cloned(),
                            );
                            others.insert(record.survivor);
                        }
                    }
                }
                for other in others.iter().chain(siblings.difference(&others)) {
                    for (seq, mut record) in store.lineage_in_order(other)? {
                        if ids.contains(&record.survivor) {
                            continue; // deleted above
                        }
                        let before = record.clone();
                        erase_ids(
                            record.absorbed.iter_mut().chain(&mut record.split_into),
                            &ids,
                        );
                        if erased_events.contains(&record.cause_event_id) {
                            record.cause_event_id = ERASED.to_string();
                        }
                        if record != before {
                            let mut key = other.as_bytes().to_vec();
                            key.push(0);
                            key.extend_from_slice(&seq.to_be_bytes());
                            store.put_value(&mut batch, cf::LINEAGE, &key, &record);
                        }
                    }
                    for (absorbed, mut profile) in store.absorbed_into(other)? {
                        let had = profile.members.len();
                        profile.members.retain(|m| !erased_events.contains(m));
                        if profile.members.len() != had {
                            let key = crate::store::absorbed_key(other, &absorbed);
                            store.put_value(&mut batch, cf::ABSORBED, &key, &profile);
                        }
                    }
                }
                // Decisions (a reviewer's reject of A and B, a split that
                // gave B's id back) keep their actor and time; the
                // person's ids in them read `(erased)`.
                for mut record in store.decisions()? {
                    let before = record.clone();
                    erase_ids(record.profiles.iter_mut().chain(&mut record.outcome), &ids);
                    if record != before {
                        // A split of theirs: the identifier's masked value
                        // goes too (its kind stays).
                        if let DecisionKind::SplitIdentifierShown { kind, shown } = &mut record.kind
                        {
                            *shown = format!("{kind}:(erased)");
                        }
                        let key = record.id.to_be_bytes();
                        store.put_value(&mut batch, cf::DECISIONS, &key, &record);
                    }
                }
                for id in &ids {
                    store.delete(&mut batch, cf::REDIRECTS, id.as_bytes());
                    let mut from = id.as_bytes().to_vec();
                    from.push(0);
                    let mut to = id.as_bytes().to_vec();
                    to.push(1);
                    store.delete_range(&mut batch, cf::LINEAGE, &from, &to);
                    store.delete_range(&mut batch, cf::ABSORBED, &from, &to);
                }
                // A pair between others that once held the person's
                // events (a split gave them back) went to the review topic
                // with their golden records of the time: it goes again,
                // with today's.
                // Named by those ids, or by their survivors: a waiting pair
                // keeps the ids it was shown with, whatever absorbed them since.
                let mut held_theirs = BTreeSet::new();
                for other in &others {
                    held_theirs.insert(other.clone());
                    held_theirs.insert(store.resolve_redirects(other)?);
                }
                for pending in store.pending_suggestions()? {
                    let named_theirs = |side: &str| -> Result<bool, StoreError> {
                        Ok(held_theirs.contains(side)
                            || held_theirs.contains(&store.resolve_redirects(side)?))
                    };
                    if ids.contains(&pending.profile_a) || ids.contains(&pending.profile_b) {
                        let key = pair_key(&pending.profile_a, &pending.profile_b);
                        store.delete(&mut batch, cf::SUGGESTIONS, &key);
                        outbox.push(OutboxEntry::Tombstone(Tombstone::Review {
                            profile_a: pending.profile_a,
                            profile_b: pending.profile_b,
                        }));
                    } else if named_theirs(&pending.profile_a)? || named_theirs(&pending.profile_b)?
                    {
                        let (a, b) = (
                            store.profile(&pending.profile_a)?,
                            store.profile(&pending.profile_b)?,
                        );
                        // Shown as they are now: changes are counted from
                        // here (this write adds no lineage).
                        let mut shown = pending;
                        shown.since_lineage =
                            Some(read_counter(store, crate::store::NEXT_LINEAGE_SEQ, 1)?);
                        let key = pair_key(&shown.profile_a, &shown.profile_b);
                        store.put_value(&mut batch, cf::SUGGESTIONS, &key, &shown);
                        outbox.push(OutboxEntry::Review(Box::new(shown.into_notice(a, b))));
                    }
                }
                let change = ProfileChange::erased(
                    survivor.clone(),
                    stored.record.version,
                    // The audit record's number, not the request id: that
                    // is free text a requester may have put a name in, and
                    // this goes to every consumer of the profile topic.
                    format!("{}{seq}", kindred_model::ERASURE_CAUSE_PREFIX),
                    ids.iter().filter(|i| **i != survivor).cloned().collect(),
                );
                outbox.push(OutboxEntry::Change(Box::new(change)));
                // Then a tombstone for every id: compaction drops them all.
                for id in &ids {
                    outbox.push(OutboxEntry::Tombstone(Tombstone::Profile(id.clone())));
                }
                profiles = ids.into_iter().collect();
                ErasureOutcome::Erased
            }
        };
        if !self.suppress_erased {
            suppress.clear();
            suppress_events.clear();
        }

        let audit = AuditRecord {
            seq,
            request_id: request.request_id.clone(),
            subject,
            requested_by: request.requested_by.clone(),
            requested_at_ms: request.at_ms,
            outcome,
            profiles,
            events_erased,
            identifiers_suppressed: suppress.len() as u64,
        };
        let digests: Vec<String> = suppress
            .iter()
            .map(|key| store.digest_key(key))
            .chain(suppress_events)
            .collect();
        // A request time before 2000 is none (a record without a
        // timestamp, seconds sent for milliseconds): the entries are then
        // for good rather than expired from the start. Otherwise the
        // windows run from the request or, when later, the person's last
        // event: a request dated long ago (a portal resending it with its
        // first date) would otherwise let the person's own next events,
        // in flight or to come, bring them back at once.
        let at = (request.at_ms >= MIN_REQUEST_TIME_MS).then_some(request.at_ms.max(last_event_ms));
        for digest in &digests {
            store.put_suppression(&mut batch, digest, seq, at)?;
        }
        store.put(&mut batch, cf::AUDIT, &seq.to_be_bytes(), &encode(&audit));
        store.put(
            &mut batch,
            cf::META,
            NEXT_AUDIT_SEQ,
            &(seq + 1).to_be_bytes(),
        );
        outbox.push(OutboxEntry::AuditWindowed {
            listed: Box::new(ListedAudit::new(audit.clone(), digests)),
            suppressed_from_ms: at,
        });

        let first = store.next_outbox_seq()?;
        let mut next = first;
        let mut changes = Vec::new();
        for entry in &outbox {
            if let OutboxEntry::Change(c) = entry {
                changes.push((**c).clone());
            }
            store.put_value(&mut batch, cf::OUTBOX, &next.to_be_bytes(), entry);
            next += 1;
        }
        store.put(&mut batch, cf::META, NEXT_OUTBOX_SEQ, &next.to_be_bytes());
        for offset in offsets {
            store.put_offset(&mut batch, offset);
        }
        let quarantines_to_recount = to_recount.len();
        if quarantines_to_recount > 0 {
            store.put(&mut batch, cf::META, QUARANTINE_RECOUNT, &seq.to_be_bytes());
        }
        if !neighbours.is_empty() {
            let pending = PendingNeighbours {
                seq,
                at_ms: request.at_ms,
                profiles: neighbours.into_iter().collect(),
            };
            store.put_value(
                &mut batch,
                cf::META,
                PENDING_NEIGHBOURS.as_bytes(),
                &pending,
            );
        }
        store.write(batch)?;
        Ok(Erasure {
            audit,
            changes,
            neighbours: BatchOutcome::default(),
            outbox_last: next.checked_sub(1).filter(|last| *last >= first),
            quarantines_to_recount,
        })
    }

    /// Clusters again, in one write, the profiles an erasure left holding
    /// the person's keys, if some wait ([`PENDING_NEIGHBOURS`]).
    pub(crate) fn finish_erasure(&mut self) -> Result<BatchOutcome, StoreError> {
        let mut outcome = BatchOutcome::default();
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        if !view.finish_erasure(&mut outcome)? {
            return Ok(outcome);
        }
        view.queue_outputs(&mut outcome)?;
        outcome.outbox_last = view.outbox_last();
        let mut batch = view.into_write_batch();
        self.store
            .delete(&mut batch, cf::META, PENDING_NEIGHBOURS.as_bytes());
        self.store.write(batch)?;
        Ok(outcome)
    }
}

/// What an index entry counts over the records still carrying its key
/// ([`still_counted`]).
#[derive(Default)]
struct StillCounted {
    /// Companion digests, by kind.
    companions: BTreeSet<(IdentifierKind, u64)>,
    /// Name digests.
    names: BTreeSet<u64>,
    /// Unnamed holders' anchors.
    anchors: BTreeSet<u64>,
    /// Whether the records name clearly different people
    /// (`IndexEntry::names_differ`).
    names_differ: bool,
}

/// The records (event id and keys) of an entry's remaining `holders` that
/// carry `key`. Each holder's events are keyed once (`keys_of`), however
/// many of the person's entries it shares.
fn still_carrying(
    store: &Store,
    policy: &LinkPolicy,
    key: &str,
    holders: &[Holder],
    erased: &BTreeSet<String>,
    keys_of: &mut HashMap<String, Vec<(String, EventKeys)>>,
) -> Result<Vec<(String, EventKeys)>, StoreError> {
    let mut out = Vec::new();
    for h in holders {
        // Someone else's: never the erased person's own events.
        let Some(id) = store
            .live_profile_id(&h.profile_id)?
            .filter(|id| !erased.contains(id))
        else {
            continue;
        };
        let events = match keys_of.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let mut all = Vec::new();
                if let Some(p) = store.stored_profile(v.key())? {
                    for event_id in &p.members {
                        if let Some(e) = store.contribution(event_id)? {
                            let keys = EventKeys::of(&e, policy, store.hasher());
                            all.push((e.event_id, keys));
                        }
                    }
                }
                v.insert(all)
            }
        };
        out.extend(
            events
                .iter()
                .filter(|(_, k)| {
                    k.links.iter().any(|l| l.key == key) || k.legacy.iter().any(|l| l == key)
                })
                .cloned(),
        );
    }
    Ok(out)
}

/// The companions, names, unnamed holders' anchors and the shared-card
/// judgement the records still carrying an entry's key give it
/// ([`still_carrying`]): what an erasure keeps of the entry's quarantine
/// counts.
fn still_counted(
    store: &Store,
    policy: &LinkPolicy,
    carrying: &[(String, EventKeys)],
) -> Result<StillCounted, StoreError> {
    let mut still = StillCounted {
        names_differ: crate::cluster::names_differ(carrying.iter().map(|(_, k)| k), policy),
        ..StillCounted::default()
    };
    for (event_id, k) in carrying {
        still.companions.extend(k.companions.iter().copied());
        still.names.extend(k.name_digest);
        still.anchors.extend(counted_anchor(store, event_id, k)?);
    }
    Ok(still)
}

/// The cards an erasure no longer calls shared (`unmarked`, each with the
/// records still carrying it) anchor their unnamed records again: on each
/// household's line such a record carries (not quarantined), it counts by
/// the card instead of alone, as in a store that never had the erased
/// records. `index` holds the entries as the erasure leaves them, and
/// takes the lines it recounts; the quarantined lines such a record
/// carries go to `quarantined` (left as they are: their holders are not
/// kept).
fn reanchor_unmarked(
    store: &Store,
    unmarked: Vec<(String, Vec<(String, EventKeys)>)>,
    index: &mut BTreeMap<String, Option<IndexEntry>>,
    quarantined: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    for (card, carrying) in unmarked {
        let by_card = anchor_of_key(&card);
        for (event_id, k) in carrying {
            if k.anchor_key() != Some(card.as_str()) {
                continue;
            }
            let alone = alone_anchor(&event_id, store.hasher());
            let lines = k
                .links
                .iter()
                .filter(|l| matches!(l.class, KeyClass::Household(_)));
            for line in lines {
                if !index.contains_key(&line.key) {
                    let Some(entry) = store.get_value::<IndexEntry>(cf::IDENTIFIERS, &line.key)?
                    else {
                        continue;
                    };
                    index.insert(line.key.clone(), Some(entry));
                }
                let Some(Some(entry)) = index.get_mut(&line.key) else {
                    continue;
                };
                if entry.quarantined {
                    quarantined.insert(line.key.clone());
                    continue;
                }
                if let Ok(at) = entry.anchors.binary_search(&alone) {
                    entry.anchors.remove(at);
                }
                if let Err(at) = entry.anchors.binary_search(&by_card) {
                    entry.anchors.insert(at, by_card);
                }
            }
        }
    }
    Ok(())
}

/// What an unnamed record counts as on its households' lines
/// ([`EventKeys::counted_anchor`]), with the store's flags (quarantined or
/// `names_differ`; an erasure changes none).
fn counted_anchor(
    store: &Store,
    event_id: &str,
    keys: &EventKeys,
) -> Result<Option<u64>, StoreError> {
    let unanchored = match keys.anchor_key() {
        Some(key) => store
            .get_value::<IndexEntry>(cf::IDENTIFIERS, key)?
            .is_some_and(|e| e.quarantined || e.names_differ),
        None => false,
    };
    Ok(keys.counted_anchor(event_id, store.hasher(), |_| unanchored))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use kindred_model::{CanonicalEvent, Channel, Identifier};

    use super::*;

    fn event(id: &str, ids: &[(IdentifierKind, &str)], name: Option<&str>) -> CanonicalEvent {
        let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
        let mut e = CanonicalEvent::new(id, Channel::Pos, 0, ids);
        e.attributes.full_name = name.map(Into::into);
        e
    }

    /// A snapshot's profile glued Bo (his card) to P (her e-mail) by a
    /// shared phone; P was erased since (her event on the suppression list,
    /// as restore carries it over). Restoring erases the glued profile
    /// whole, but suppresses nothing of its own: Bo's card was suppressed
    /// for good, every later purchase of his dropped, and the audit record
    /// listed it for every later rebuild.
    #[test]
    fn a_restore_erasure_of_a_glued_profile_suppresses_nothing_of_its_own() {
        use IdentifierKind::*;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = Resolver::new(Store::open(dir.path().join("db")).expect("open store"));
        r.apply(
            &[
                event(
                    "b1",
                    &[(MemberId, "MAIN:B1"), (Phone, "+8613900000009")],
                    None,
                ),
                event("p1", &[(Phone, "+8613900000009"), (Email, "p@x.cn")], None),
            ],
            &[],
        )
        .expect("apply");
        assert_eq!(r.store().stats().expect("stats").profiles, 1, "glued");
        let p1 = r.store().event_digest("p1");
        r.store()
            .suppress_digests([p1.as_str()], Some(1_700_000_000_000))
            .expect("carried over");
        let done = r
            .erase_suppressed_holders("restore", "kindred restore", 1_700_000_000_000)
            .expect("erase");
        assert_eq!(done.len(), 1);
        assert_eq!(
            done[0].audit.identifiers_suppressed, 0,
            "{:?}",
            done[0].audit
        );
        assert_eq!(r.store().stats().expect("stats").profiles, 0);
        let bo = Identifier::new(MemberId, "MAIN:B1");
        assert!(!r.store().is_suppressed(&bo).expect("read"));
        let again = r
            .apply(&[event("b2", &[(MemberId, "MAIN:B1")], None)], &[])
            .expect("apply");
        assert_eq!(again.suppressed, 0, "Bo's next purchase");
        assert!(r.store().lookup(&bo).expect("read").is_some());
        assert!(r.suppress_erased, "put back as it was");
    }

    /// A store where a reviewer kept e03's profile (e01, e03: a card and an
    /// e-mail) apart from e02's (the card, another name); e04 holds the card
    /// too and came with e03 (a phone). Erasing e03's person leaves nothing
    /// that keeps e02 and e04 apart. Returns the resolver and the person.
    fn rejected(dir: &Path) -> (Resolver, String) {
        use IdentifierKind::*;
        let store = Store::open(dir.join("db")).expect("open store");
        let mut r = Resolver::new(store);
        r.set_suppress_erased(false);
        let events = [
            event("e00", &[(Phone, "+8613900000000")], None),
            event(
                "e01",
                &[(Phone, "+8613900000001"), (Email, "p0@x.cn")],
                None,
            ),
            event("e02", &[(MemberId, "MAIN:M1")], Some("王伟")),
            event(
                "e03",
                &[(MemberId, "MAIN:M1"), (Email, "p0@x.cn")],
                Some("李娜"),
            ),
            event(
                "e04",
                &[(MemberId, "MAIN:M1"), (Phone, "+8613900000001")],
                Some("Li Nna"),
            ),
        ];
        r.apply(&events[..3], &[]).expect("apply");
        r.apply(&events[3..], &[]).expect("apply");
        let pending = r.store().pending_suggestions().expect("queue");
        let pair = pending.first().expect("the name guard asks a reviewer");
        let (a, b) = (pair.profile_a.clone(), pair.profile_b.clone());
        r.review(&a, &b, false, "rev", 1).expect("reject");
        let kept = assignments(&r);
        assert_ne!(kept["e02"], kept["e04"], "kept apart by the reject");
        assert_eq!(kept["e01"], kept["e03"]);
        let person = kept["e03"].clone();
        (r, person)
    }

    fn assignments(r: &Resolver) -> BTreeMap<String, String> {
        r.store()
            .assignments()
            .expect("assignments")
            .into_iter()
            .collect()
    }

    fn request(person: &str) -> ErasureRequest {
        ErasureRequest {
            request_id: "DSR-1".into(),
            target: ErasureTarget::Profile(person.to_string()),
            requested_by: "privacy".into(),
            at_ms: 1_700_000_000_000,
        }
    }

    fn pending(r: &Resolver) -> bool {
        r.store().erasure_neighbours_wait().expect("meta")
    }

    /// The store a whole erasure leaves, for comparison.
    fn erased_whole(dir: &Path) -> BTreeMap<String, String> {
        let (mut r, person) = rejected(dir);
        let erasure = r.erase(&request(&person), &[]).expect("erase");
        assert!(
            !erasure.neighbours.changes.is_empty(),
            "the neighbours join"
        );
        assert!(!pending(&r));
        assignments(&r)
    }

    /// [`rejected`], its person's erasure cut off after the first write:
    /// the process and its memory are gone, the store stays and is opened
    /// again.
    fn crashed_between_the_writes(dir: &Path) -> Resolver {
        let (mut r, person) = rejected(dir);
        r.erase_first(&request(&person), &[]).expect("first write");
        drop(r);
        Resolver::new(Store::open(dir.join("db")).expect("reopen"))
    }

    #[test]
    fn a_crash_between_an_erasures_two_writes_leaves_the_neighbours_to_the_next_batch() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = crashed_between_the_writes(dir.path());
        let kept = assignments(&r);
        assert!(!kept.contains_key("e03"), "the person is erased");
        assert_ne!(kept["e02"], kept["e04"], "the neighbours wait");
        assert!(pending(&r), "the first write names them");
        // The next batch of events clusters them first, in its own write.
        let unrelated = event("e09", &[(IdentifierKind::Email, "p9@x.cn")], None);
        let outcome = r.apply(&[unrelated], &[]).expect("apply");
        assert!(!pending(&r));
        let after = assignments(&r);
        assert_eq!(after["e02"], after["e04"], "{after:?}");
        assert!(
            outcome
                .changes
                .iter()
                .any(|c| c.cause_event_id.starts_with("erasure:")),
            "{:?}",
            outcome.changes
        );
        let twin = tempfile::tempdir().expect("temp dir");
        let mut whole = erased_whole(twin.path());
        let (e, p) = after.get_key_value("e09").expect("e09 placed");
        whole.insert(e.clone(), p.clone());
        assert_eq!(after, whole, "as a whole erasure and the batch");
    }

    #[test]
    fn a_crash_between_an_erasures_two_writes_leaves_the_neighbours_to_the_next_erasure() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = crashed_between_the_writes(dir.path());
        let mut other = request("kp-999");
        other.request_id = "DSR-2".into();
        let done = r.erase(&other, &[]).expect("erase");
        assert!(!pending(&r));
        // What the service counts: the earlier erasure's changes too.
        assert!(
            done.neighbours
                .changes
                .iter()
                .any(|c| c.cause_event_id.starts_with("erasure:")),
            "{:?}",
            done.neighbours.changes
        );
        let twin = tempfile::tempdir().expect("temp dir");
        assert_eq!(assignments(&r), erased_whole(twin.path()));
    }
    /// An operator's command on the store (a rules apply, a split, even
    /// one refused) clusters the waiting neighbours first, in their own
    /// write, and counts their changes in its outcome.
    #[test]
    fn a_crash_between_an_erasures_two_writes_leaves_the_neighbours_to_the_next_command() {
        let twin = tempfile::tempdir().expect("temp dir");
        let whole = erased_whole(twin.path());
        for command in ["rules apply", "split"] {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut r = crashed_between_the_writes(dir.path());
            let lone = assignments(&r)["e00"].clone();
            let changes = match command {
                "rules apply" => {
                    let (plan, done) = r
                        .apply_rules(LinkPolicy::default(), "ops", 2)
                        .expect("apply");
                    assert!(plan.groups.is_empty(), "{command}: {plan:?}");
                    done.outcome.changes
                }
                _ => {
                    let split =
                        r.split(&lone, &crate::SplitSelector::Source(Channel::Pos), "ops", 2);
                    assert!(split.is_err(), "one record: nothing to split off");
                    Vec::new()
                }
            };
            assert!(!pending(&r), "{command}");
            assert_eq!(assignments(&r), whole, "{command}");
            if command == "rules apply" {
                assert!(
                    changes
                        .iter()
                        .any(|c| c.cause_event_id.starts_with("erasure:")),
                    "{command}: {changes:?}"
                );
            }
        }
    }
    /// A decision request after the crash: the neighbours are clustered
    /// first and returned apart from the decision (`neighbours`), also when
    /// they make the request a refusal (here the two profiles become one,
    /// so the approval is refused), and the reply returned is the one
    /// published. Found by a review (helper-113).
    #[test]
    fn a_decision_request_after_the_crash_returns_the_neighbours_apart_from_its_reply() {
        let twin = tempfile::tempdir().expect("temp dir");
        let whole = erased_whole(twin.path());
        for approve in [true, false] {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut r = crashed_between_the_writes(dir.path());
            let before = assignments(&r);
            // Approve the neighbours (one profile by the time it is
            // decided: refused); reject e00 and e02 (applied).
            let (a, b) = if approve {
                (before["e02"].clone(), before["e04"].clone())
            } else {
                (whole["e00"].clone(), whole["e02"].clone())
            };
            let request = crate::DecisionRequest {
                request_id: format!("R-{approve}"),
                actor: "rev".into(),
                at_ms: 3,
                action: crate::DecisionAction::Review { a, b, approve },
            };
            let seen = r
                .store()
                .outbox_after(0, usize::MAX)
                .expect("outbox")
                .last()
                .map_or(0, |(s, _)| *s);
            let done = r.apply_request(&request, &[]).expect("request");
            assert!(!pending(&r));
            let outbox = r.store().outbox_after(seen, usize::MAX).expect("outbox");
            let written = outbox
                .iter()
                .filter(|(_, e)| {
                    matches!(e, OutboxEntry::Change(c) if c.cause_event_id.starts_with("erasure:"))
                })
                .count();
            assert!(written > 0, "the neighbours' changes are written");
            let counted = done
                .neighbours
                .changes
                .iter()
                .filter(|c| c.cause_event_id.starts_with("erasure:"))
                .count();
            assert_eq!(counted, written, "approve {approve}: {:?}", done.reply);
            assert_eq!(
                done.reply.outcome == "applied",
                !approve,
                "{:?}",
                done.reply
            );
            let published: Vec<crate::DecisionReply> = outbox
                .into_iter()
                .filter_map(|(_, e)| match e {
                    OutboxEntry::Replied(x) => Some(x),
                    _ => None,
                })
                .collect();
            assert_eq!(published, vec![done.reply.clone()], "approve {approve}");
        }
    }
}
