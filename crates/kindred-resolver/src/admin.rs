//! Operations by people on the store: review decisions, splits,
//! explanations and rule changes (`kindred review|split|explain|rules`).
//!
//! Each mutating operation is one atomic WriteBatch holding the new state,
//! the decision's audit record and the change events it caused; the change
//! events go to the outbox column family, which the resolver service
//! publishes to the profile topic when it (re)starts. The commands that
//! change the store open it as its writer, so they run while the resolver
//! is stopped (RocksDB's lock refuses a second writer with a clear error);
//! those that only read (explain, rule plans) also work on a reader
//! ([`crate::Store::open_reader`]) beside the running resolver.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kindred_model::{
    CanonicalEvent, GoldenRecord, Identifier, IdentifierKind, LinkPolicy, Survivorship,
};

use crate::cluster::{cluster, Clustering, Link, Node, Refusal};
use crate::decision::{
    held_by_another_approval, taken_back, Constraint, DecisionKind, DecisionRecord, SplitSelector,
};
use crate::keys::{fnv1a, EventKeys, KeyClass};
use crate::outbox::{decisions_entries, OutboxEntry};
use crate::request::DecisionReply;
use crate::resolver::{add_holder, masked_link, BatchView, Cause, Recomputed};
use crate::store::{cf, IndexEntry, LineageRecord, StoredProfile};
use crate::{BatchOutcome, QuarantineNotice, Resolver, StoreError};

/// Why an operation was not carried out. Each names the profile or
/// identifier concerned.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no profile {0} in the store")]
    NoSuchProfile(String),
    #[error("profiles {a} and {b} are already one profile ({survivor}), so their pair left the review queue; to separate them use `kindred split`")]
    AlreadyOne {
        a: String,
        b: String,
        survivor: String,
    },
    #[error("profiles {a} and {b} are already kept apart by decision {decision}, so their pair left the review queue and no new decision was made")]
    AlreadyApart { a: String, b: String, decision: u64 },
    #[error("cannot split {profile}: {reason}")]
    NotSeparable { profile: String, reason: String },
    #[error("profile {given} has been merged into {now} since; a decision on {given} would act on all of {now}, so the pair left the review queue: review {now} instead if that is what you mean (`kindred explain {now}` shows what it holds)")]
    Moved { given: String, now: String },
    #[error("profile {given} has been merged into {now} since; a split of {given} would act on all of {now}, so nothing was split: split {now} instead if that is what you mean (`kindred explain {now}` shows what it holds)")]
    SplitMoved { given: String, now: String },
    #[error("profile {profile} {how} since the pair {a} / {b} was flagged, so it is not what the review topic showed and nothing was decided: the pair is on the review topic again with today's records; decide again if the decision still holds (`kindred explain {profile}` shows what changed)")]
    ChangedSinceFlagged {
        a: String,
        b: String,
        profile: String,
        /// `absorbed N profiles` or `was split`.
        how: String,
    },
    #[error("this request was refused before (profile {a} or {b} changed after the pair was flagged, and the pair went to the review topic again), so a repeat of it decides nothing: send a new request once you have looked at the pair again")]
    RepeatedRefusal { a: String, b: String },
    /// A refusal to a decision request whose reply went out in the same
    /// write as what the refusal changed (a pair shown again): the
    /// request is answered.
    #[error("{0}")]
    Replied(Box<AdminError>),
}

/// What a decision did.
#[derive(Debug, Clone)]
pub struct DecisionOutcome {
    pub decision: DecisionRecord,
    pub outcome: BatchOutcome,
}

/// Why a profile is what it is (`kindred explain`).
#[derive(Debug, Clone)]
pub struct Explanation {
    pub record: GoldenRecord,
    /// Source events making up the profile.
    pub events: usize,
    /// Merges and splits of this profile and of every profile it absorbed,
    /// in the order they happened.
    pub lineage: Vec<LineageRecord>,
    /// Decisions pinned on its events.
    pub decisions: Vec<DecisionRecord>,
    /// What ties each record to the others (canonical order; at most
    /// [`MAX_EXPLAINED_RECORDS`]): merges above say when profiles came
    /// together, but a record that joined an existing profile, or records
    /// recomputed into one, leave no lineage of their own.
    pub records: Vec<RecordLinks>,
}

/// How many records `explain` lists with their links.
pub const MAX_EXPLAINED_RECORDS: usize = 200;

/// One record of a profile and what it shares with the profile's other
/// records, as linking sees it now: identifier kinds (`phone`, `member_id`)
/// and rule blocks (`rule name_birthday_postcode v1`). Quarantined
/// identifiers link nothing and are not listed. Kinds, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLinks {
    pub event_id: String,
    pub channel: kindred_model::Channel,
    pub event_time_ms: i64,
    pub shared: Vec<String>,
}

/// What `kindred rules diff` predicts and `kindred rules apply` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesPlan {
    /// Groups of profiles whose partition changes; independent of each other.
    pub groups: Vec<PlannedGroup>,
    /// Events and profiles evaluated.
    pub events: usize,
    pub profiles: usize,
    /// Identifiers the new quarantine limits take out of linking, and
    /// quarantined ones they give back (recounted over every stored
    /// contribution, for the kinds whose limits changed and, when any
    /// changed, households' lines; every kind when what links changed, the
    /// store's linking is not current or an erasure left quarantines to
    /// recount).
    pub quarantined: usize,
    pub released: usize,
    /// Quarantined identifiers no stored record carries any more (every
    /// record with one was erased; a quarantined entry keeps no holders,
    /// so the erasure could not tell): their entries go, as a store
    /// without the erased events has none. Looked for whenever every
    /// quarantine is recounted (an erasure left some to recount,
    /// `recount_after_erasure`, or the store's linking is not current).
    pub removed: usize,
    /// Cards the new rules mark as shown shared by their records' names
    /// (`IndexEntry::names_differ`: their unnamed receipts count alone on
    /// households' lines), and marks they take away.
    pub marked_shared: usize,
    pub unmarked: usize,
    /// Pairs of people the new rules put to a reviewer (a `suggest` rule,
    /// or a guard refusing a `merge` rule's link) that the old rules did
    /// not and the review queue does not hold already.
    pub suggestions: Vec<PlannedSuggestion>,
    /// Pairs waiting for review (profile ids as queued) that the new rules
    /// settle: their records become one person, or the old rules raised
    /// the pair and the new ones no longer do (a suggest rule removed, a
    /// link no longer made). `rules apply` takes them out of the queue.
    pub withdrawn: Vec<(String, String)>,
    /// Index entries the new rules make no more, removed: those of a kind
    /// that stops linking (quarantined ones included), and match-rule
    /// blocks of a rule removed or blocking on other fields. A fresh run
    /// under the new rules makes none.
    pub unindexed: usize,
    /// An erasure's neighbours wait to be clustered again (a crash between
    /// its two writes): `rules apply` clusters them first, under the old
    /// rules, so it may change profiles this plan (of the store as it is)
    /// does not name.
    pub erasure_waiting: bool,
    /// An erasure since the last `rules apply` left quarantined identifiers
    /// it could not count again (`Erasure::quarantines_to_recount`): every
    /// quarantine is recounted over the stored records, as a replay
    /// without the erased events counts them, and apply clears the note
    /// (with the same rules too).
    pub recount_after_erasure: bool,
}

/// A pair of people after a rule change that would wait for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSuggestion {
    /// Per side: the profiles now holding its records, in id order.
    pub a: Vec<String>,
    pub b: Vec<String>,
    /// One source event of each side: where `rules apply` finds the pair
    /// once the groups are re-partitioned.
    pub events: (String, String),
    pub rule: String,
    pub rule_version: i32,
    /// Evidence kinds (never values).
    pub kinds: Vec<String>,
    pub reason: Refusal,
}

/// One group of profiles re-partitioned by a rule change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGroup {
    /// The profiles now, in id order.
    pub before: Vec<String>,
    /// The people after, as sorted source event ids, in canonical order.
    pub after: Vec<Vec<String>>,
    /// Per person after: the profiles now holding its events.
    pub from: Vec<Vec<String>>,
}

impl RulesPlan {
    /// People after the change made of events of more than one profile now.
    pub fn merges(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.from)
            .filter(|f| f.len() > 1)
            .count()
    }

    /// Profiles now whose events end up in more than one person.
    pub fn splits(&self) -> usize {
        let mut people_per_profile: BTreeMap<&str, usize> = BTreeMap::new();
        for g in &self.groups {
            for f in &g.from {
                for p in f {
                    *people_per_profile.entry(p).or_default() += 1;
                }
            }
        }
        people_per_profile.values().filter(|n| **n > 1).count()
    }

    /// Profiles whose partition changes, or whose golden record gains or
    /// loses an identifier whose quarantine changes.
    pub fn profiles_affected(&self) -> usize {
        self.groups.iter().map(|g| g.before.len()).sum()
    }
}

/// Everything the store holds, in memory, for a whole-store evaluation.
struct Snapshot {
    hasher: crate::protect::KeyHasher,
    profiles: BTreeMap<String, StoredProfile>,
    events: HashMap<String, CanonicalEvent>,
    constraints: HashMap<String, Vec<Constraint>>,
    quarantined: BTreeSet<String>,
    /// Cards marked `names_differ` (`IndexEntry::names_differ`).
    names_differ: BTreeSet<String>,
    /// The review queue, by profile pair.
    pending: Vec<(String, String)>,
    /// Whether this release's linking partitioned the store (see
    /// `store::LINKING`). If not, index keys may have changed (a card's
    /// written form is no longer its key), so every kind's quarantine is
    /// counted again, not only those whose limits changed.
    linking_current: bool,
    /// An erasure left quarantines to recount
    /// (`Store::quarantine_recount_pending`): every kind's quarantine is
    /// counted again, as when linking is not current.
    recount_after_erasure: bool,
    /// In a store of an older linking, the index entries it holds under
    /// rule blocks this release no longer makes under any policy the store
    /// ran (`EventKeys::retired`): `rules apply` removes them.
    retired: BTreeSet<String>,
}

impl Resolver {
    /// Applies a reviewer's decision on two profiles: `approve` merges them
    /// (whatever guard refused it), with the reviewer in the lineage;
    /// reject keeps them apart for good (no identifier or rule joins their
    /// records again; the pair leaves the review queue).
    pub fn review(
        &mut self,
        a: &str,
        b: &str,
        approve: bool,
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        self.after_erasure(|r| r.review_now(a, b, approve, None, actor, at_ms))
    }

    /// A reject asked by two identifiers the profile holding both holds
    /// (`kindred review reject phone:X phone:Z`): the approval of `a` and
    /// `b` that made it one is taken back only if that leaves the records
    /// carrying `parting`'s two identifiers apart; otherwise refused
    /// (`NotSeparable`), since what the reviewer asked to part is held
    /// together by something else (an identifier they share: `split`).
    pub fn reject_parting(
        &mut self,
        a: &str,
        b: &str,
        parting: (&Identifier, &Identifier),
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        self.after_erasure(|r| r.review_now(a, b, false, Some(parting), actor, at_ms))
    }

    /// An operation on the store as an earlier erasure leaves it: the
    /// neighbours it left to cluster again (a crash between its two
    /// writes) are clustered first, in their own write, and their changes
    /// come first in the outcome (a refused operation returns its error:
    /// the changes are in the outbox all the same). Decision requests do
    /// the same apart ([`Resolver::apply_request`]), to keep the reply
    /// the decision's own.
    fn after_erasure(
        &mut self,
        op: impl FnOnce(&mut Self) -> Result<DecisionOutcome, AdminError>,
    ) -> Result<DecisionOutcome, AdminError> {
        let earlier = self.finish_erasure()?;
        let mut done = op(self)?;
        done.outcome = earlier.followed_by(done.outcome);
        Ok(done)
    }

    pub(crate) fn review_now(
        &mut self,
        a: &str,
        b: &str,
        approve: bool,
        parting: Option<(&Identifier, &Identifier)>,
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        let mut view = self.view()?;
        // A repeat of a request refused because its pair had changed (a
        // retry, a late duplicate) decides nothing, whatever became of the
        // pair since (decided by a newer request, merged, split).
        if let Some(refused) = refused_before(&view, a, b)? {
            return Err(refused);
        }
        let (ra, rb) = (live(&view, a)?, live(&view, b)?);
        if ra == rb && !approve {
            let undo = Undo {
                a,
                b,
                id: &ra,
                parting,
            };
            if let Some(undone) = undo_approvals(view, &self.policy, &undo, actor, at_ms)? {
                return Ok(undone);
            }
            view = self.view()?;
        }
        if ra == rb {
            // Merged since it was flagged: nothing to decide, and the pair
            // leaves the queue (and the review topic) either way.
            drop_pending(view, &[(a, b), (ra.as_str(), rb.as_str())])?;
            return Err(AdminError::AlreadyOne {
                a: a.into(),
                b: b.into(),
                survivor: ra,
            });
        }
        // A pair flagged before one of its profiles was merged into a third
        // names a profile that is now part of a larger one: deciding on
        // the larger one must be asked for by its own id.
        // The pair as flagged leaves the queue (nothing else would take
        // it out: the reviewer decides on the survivor's id).
        for (given, now) in [(a, &ra), (b, &rb)] {
            if given != now.as_str() {
                drop_pending(view, &[(a, b)])?;
                return Err(AdminError::Moved {
                    given: given.into(),
                    now: now.clone(),
                });
            }
        }
        // A reject of two profiles a decision already keeps apart (a
        // retried request, a second reviewer) would pin another separation
        // that changes nothing: refused, naming the one that stands.
        if !approve {
            if let Some(decision) = wholly_apart_by(&view, &ra, &rb)? {
                drop_pending(view, &[(a, b)])?;
                return Err(AdminError::AlreadyApart {
                    a: a.into(),
                    b: b.into(),
                    decision,
                });
            }
        }
        // A waiting pair whose profile merged with others or was split
        // since it was flagged is not what the reviewer was shown: shown
        // again, with today's records, and decided when asked again (by a
        // new request: a repeat of the refused one is refused, above).
        if let Some(changed) = changed_since_flagged(&view, &ra, &rb)? {
            return Err(show_again(view, &ra, &rb, changed)?);
        }
        let d = view.next_decision;
        view.next_decision += 1;
        let (pa, pb) = (view.take_profile(&ra)?, view.take_profile(&rb)?);
        let side_of: HashMap<&str, u32> = pa
            .members
            .iter()
            .map(|e| (e.as_str(), 0))
            .chain(pb.members.iter().map(|e| (e.as_str(), 1)))
            .collect();
        let added = |_: &str, side: u32| {
            if approve {
                Constraint::Together { decision: d }
            } else {
                Constraint::Apart { decision: d, side }
            }
        };
        pin(&mut view, &side_of, &added, &BTreeSet::new())?;
        for (id, mut p) in [(ra.clone(), pa), (rb.clone(), pb)] {
            p.constrained = true;
            view.profiles.insert(id, Some(p));
        }
        for pair in [(a, b), (ra.as_str(), rb.as_str())] {
            let (x, y) = (pair.0.min(pair.1), pair.0.max(pair.1));
            if view.store_ref().pending_suggestion(x, y)?.is_some() {
                view.pending.insert((x.into(), y.into()), None);
            }
        }
        let kind = if approve {
            DecisionKind::Approve
        } else {
            DecisionKind::Reject
        };
        let affected = BTreeSet::from([ra, rb]);
        let record = DecisionRecord::new(d, kind, actor, at_ms, vec![a.into(), b.into()]);
        decide(view, record, affected, BatchOutcome::default())
    }

    /// Splits a profile: by an identifier (which stops joining its records;
    /// the records it alone held together become separate profiles) or by
    /// a source channel (whose records leave). The profiles are recomputed
    /// from their contributions, so attributes, points, orders and consents
    /// move with their events, and the parts stay apart from then on.
    pub fn split(
        &mut self,
        profile: &str,
        selector: &SplitSelector,
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        self.after_erasure(|r| r.split_now(profile, selector, actor, at_ms))
    }

    pub(crate) fn split_now(
        &mut self,
        profile: &str,
        selector: &SplitSelector,
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        let mut view = self.view()?;
        let id = live(&view, profile)?;
        // An absorbed id names a larger profile now, as in a review.
        if id != profile {
            return Err(AdminError::SplitMoved {
                given: profile.into(),
                now: id,
            });
        }
        let stored = view.take_profile(&id)?;
        let events = view.contributions_of(&stored.members)?;
        let constraints = view.constraints_of(&stored.members)?;
        let not = |reason: String| AdminError::NotSeparable {
            profile: id.clone(),
            reason,
        };
        // An identifier's index key, how messages name it, its kind, and
        // how the decision record names it (masked, never the value).
        let by_key = match selector {
            SplitSelector::Identifier(i) => Some((
                self.store.index_key(i),
                i.masked(),
                i.kind.as_str().to_string(),
                i.masked(),
            )),
            // Named by its kind only: in a plaintext store the key is the value.
            SplitSelector::IndexKey(key) => {
                let kind = key.split_once(':').map_or("", |(k, _)| k).to_string();
                Some((
                    key.clone(),
                    format!("{kind} (the one requested)"),
                    kind.clone(),
                    kind,
                ))
            }
            SplitSelector::Source(_) => None,
        };
        let (sides, kind): (Vec<u32>, DecisionKind) = match (selector, by_key) {
            (SplitSelector::Source(channel), _) => {
                let sides: Vec<u32> = events
                    .iter()
                    .map(|e| u32::from(e.channel == *channel))
                    .collect();
                if sides.is_empty() {
                    return Err(not("it has no records (its store entry is damaged)".into()));
                }
                if sides.iter().all(|s| *s == sides[0]) {
                    return Err(not(format!(
                        "its records are {} from channel {}",
                        if sides[0] == 1 { "all" } else { "none" },
                        channel.as_str()
                    )));
                }
                (
                    sides,
                    DecisionKind::SplitSource {
                        channel: channel.as_str().into(),
                    },
                )
            }
            (_, None) => return Err(not("no identifier named".into())),
            (_, Some((cut, shown, kind, recorded))) => {
                if !stored
                    .record
                    .identifiers
                    .iter()
                    .any(|i| self.store.index_key(i) == cut)
                {
                    return Err(not(format!("it holds no identifier {}", shown)));
                }
                if events.len() < 2 {
                    return Err(not(format!(
                        "it holds one record: there is nothing to split off by {shown} (to take the identifier out of kindred, erase it)"
                    )));
                }
                let sides =
                    match sides_apart(&view, &self.policy, &events, &constraints, Some(cut))? {
                        Ok(sides) => sides,
                        Err(kinds) => {
                            return Err(not(format!(
                                "its {} records stay linked without {} (by {kinds})",
                                events.len(),
                                shown,
                            )))
                        }
                    };
                (
                    sides,
                    DecisionKind::SplitIdentifierShown {
                        kind,
                        shown: recorded,
                    },
                )
            }
        };
        let d = separate(&mut view, &id, stored, sides, &BTreeSet::new())?;
        let affected = BTreeSet::from([id]);
        let record = DecisionRecord::new(d, kind, actor, at_ms, vec![profile.into()]);
        decide(view, record, affected, BatchOutcome::default())
    }

    /// Why `profile` (or the profile it was absorbed into) is one customer.
    pub fn explain(&self, profile: &str) -> Result<Explanation, AdminError> {
        let id = self.store.resolve_redirects(profile)?;
        let stored = self
            .store
            .stored_profile(&id)?
            .ok_or_else(|| AdminError::NoSuchProfile(profile.into()))?;
        let mut lineage = Vec::new();
        // Each profile with the sequence its history is read up to: an
        // absorbed profile's story ends where it was absorbed (a split may
        // have given its id back since), and a part split off another
        // profile carries on from that profile's story as it stood before
        // the split (not what happened to it after). A profile reached
        // again with a later bound is read on from where it stopped.
        let mut read_to: BTreeMap<String, u64> = BTreeMap::new();
        let mut queue = vec![(id, u64::MAX)];
        while let Some((p, until)) = queue.pop() {
            let from = read_to.get(&p).copied();
            if from.is_some_and(|f| f >= until) {
                continue;
            }
            read_to.insert(p.clone(), until);
            for (seq, record) in self.store.lineage_in_order(&p)? {
                if from.is_some_and(|f| seq < f) {
                    continue;
                }
                if seq >= until {
                    break;
                }
                queue.extend(record.absorbed.iter().map(|a| (a.clone(), seq)));
                if record.survivor != p && record.split_into.contains(&p) {
                    queue.push((record.survivor.clone(), seq));
                }
                lineage.push((seq, record));
            }
        }
        // In the order they happened (written), not by their times: a
        // merge caused by an old event read today comes after a decision
        // made yesterday.
        lineage.sort_by_key(|(seq, _)| *seq);
        // A split is kept under its survivor and under each part (there
        // without the survivor's absorbed ids): told once, in full.
        let mut told: BTreeMap<(String, String, i64, Vec<String>), usize> = BTreeMap::new();
        let mut kept: Vec<(u64, LineageRecord)> = Vec::with_capacity(lineage.len());
        for (seq, record) in lineage {
            if record.split_into.is_empty() {
                kept.push((seq, record));
                continue;
            }
            let key = (
                record.survivor.clone(),
                record.cause_event_id.clone(),
                record.at_ms,
                record.split_into.clone(),
            );
            match told.get(&key) {
                Some(&i) => {
                    if record.absorbed.len() > kept[i].1.absorbed.len() {
                        kept[i].1 = record;
                    }
                }
                None => {
                    told.insert(key, kept.len());
                    kept.push((seq, record));
                }
            }
        }
        let lineage = kept;
        let lineage: Vec<LineageRecord> = lineage.into_iter().map(|(_, r)| r).collect();
        let mut decided = BTreeSet::new();
        for e in &stored.members {
            // Decisions in force (a suspended separation is not).
            decided.extend(
                self.store
                    .constraints(e)?
                    .iter()
                    .filter(|c| !matches!(c, Constraint::Suspended { .. }))
                    .map(Constraint::decision),
            );
        }
        decided.extend(
            lineage
                .iter()
                .filter_map(|l| l.decision.as_ref().map(|d| d.0)),
        );
        let decisions = self
            .store
            .decisions()?
            .into_iter()
            .filter(|d| decided.contains(&d.id))
            .collect();
        let records = self.record_links(&stored.members)?;
        Ok(Explanation {
            events: stored.members.len(),
            record: stored.record,
            lineage,
            decisions,
            records,
        })
    }

    /// [`RecordLinks`] of a profile's first [`MAX_EXPLAINED_RECORDS`]
    /// records (canonical order), compared with all of its records under
    /// the rules the store is linked by ([`Resolver::linked_by`]), not the
    /// command's `-c` (which may be another file: the lineage named a rule
    /// the records' lines did not).
    fn record_links(&self, members: &[String]) -> Result<Vec<RecordLinks>, AdminError> {
        let policy = self.linked_by()?;
        let mut events = Vec::with_capacity(members.len());
        for id in members {
            if let Some(e) = self.store.contribution(id)? {
                events.push(e);
            }
        }
        events.sort_by(|a, b| (a.event_time_ms, &a.event_id).cmp(&(b.event_time_ms, &b.event_id)));
        let hasher = self.store.hasher();
        let keys: Vec<EventKeys> = events
            .iter()
            .map(|e| EventKeys::of(e, &policy, hasher))
            .collect();
        let mut holders: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &keys {
            let distinct: BTreeSet<&str> = k.links.iter().map(|l| l.key.as_str()).collect();
            for key in distinct {
                *holders.entry(key).or_default() += 1;
            }
        }
        let mut quarantined: BTreeMap<&str, bool> = BTreeMap::new();
        let mut out = Vec::new();
        for (e, k) in events.iter().zip(&keys).take(MAX_EXPLAINED_RECORDS) {
            let mut shared = BTreeSet::new();
            for link in &k.links {
                if holders.get(link.key.as_str()).copied().unwrap_or(0) < 2 {
                    continue;
                }
                let q = match quarantined.get(link.key.as_str()) {
                    Some(q) => *q,
                    None => {
                        let q = self
                            .store
                            .get_value::<IndexEntry>(cf::IDENTIFIERS, &link.key)?
                            .is_some_and(|entry| entry.quarantined);
                        quarantined.insert(&link.key, q);
                        q
                    }
                };
                if q {
                    continue;
                }
                shared.insert(match link.class {
                    KeyClass::Rule(i) => match policy.rules.get(i) {
                        Some(rule) => format!("rule {} v{}", rule.name, rule.version),
                        None => "rule".to_string(),
                    },
                    KeyClass::Strong(kind) | KeyClass::Weak(kind) | KeyClass::Household(kind) => {
                        kind.as_str().to_string()
                    }
                });
            }
            out.push(RecordLinks {
                event_id: e.event_id.clone(),
                channel: e.channel,
                event_time_ms: e.event_time_ms,
                shared: shared.into_iter().collect(),
            });
        }
        Ok(out)
    }

    /// The profile holding `identifier` (by link key), if any.
    pub fn profile_of(&self, identifier: &Identifier) -> Result<Option<String>, AdminError> {
        Ok(self.store.lookup(identifier)?.map(|r| r.profile_id))
    }

    /// Queues every live profile's golden record for the profile topic
    /// again: an `updated` change with the profile's next version, so a
    /// compacted consumer holds every record as the current output policy
    /// publishes it (after `[privacy.output]` changed, say, from raw to
    /// hashed e-mails; or to re-seed a lost topic), and a `superseded`
    /// change with its next version for each id absorbed into it since the
    /// store recorded absorbed ids, so a consumer holding one finds the
    /// survivor on a re-seeded topic too. Each record's
    /// attributes and consents are settled again from its stored votes
    /// (and events, where consents need them) under this resolver's
    /// survivorship rules, so after `[resolver.survivorship]` changed every
    /// record follows the new rules, not only those events touched since;
    /// the change names the fields that moved. Then every event's pinned
    /// decisions are queued for the decisions topic, in chunks too
    /// (re-seeding it, or seeding it from a store written before it
    /// existed), and every pair waiting for review for the review topic
    /// (its records as the output policy now has them). Works through the
    /// profiles in chunks
    /// of `chunk`, one atomic WriteBatch each (the decision's record with
    /// the first); an interrupted run leaves the chunks it wrote queued, and
    /// running it again queues every profile once more. Returns the
    /// decision (its kind counts the profiles).
    pub fn republish(
        &mut self,
        actor: &str,
        at_ms: i64,
        chunk: usize,
    ) -> Result<DecisionRecord, AdminError> {
        self.queue_every_profile(actor, at_ms, chunk, false)
    }

    /// [`Self::republish`] for a store `kindred rebuild` made: its ids are
    /// new to downstream, so each profile goes as `created` (every field
    /// it has named, as a first version names them) and lists its events
    /// in `moved_event_ids` (a consumer that follows events per profile
    /// had them under the old ids, now tombstoned).
    pub fn publish_rebuilt(
        &mut self,
        actor: &str,
        at_ms: i64,
        chunk: usize,
    ) -> Result<DecisionRecord, AdminError> {
        self.queue_every_profile(actor, at_ms, chunk, true)
    }

    fn queue_every_profile(
        &mut self,
        actor: &str,
        at_ms: i64,
        chunk: usize,
        created: bool,
    ) -> Result<DecisionRecord, AdminError> {
        let chunk = chunk.max(1);
        let republish = DecisionKind::Republish { profiles: 0 };
        let mut decision = DecisionRecord::new(0, republish, actor, at_ms, Vec::new());
        let mut after: Option<String> = None;
        let mut count = 0u64;
        loop {
            let ids = self.store.profile_ids_after(after.as_deref(), chunk)?;
            let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
            if after.is_none() {
                // The first batch takes the decision's number and records it.
                decision.id = view.next_decision;
                view.next_decision += 1;
                view.decisions.push(decision.clone());
            }
            let cause = Cause::decision(decision.id, actor, at_ms);
            let mut outcome = BatchOutcome::default();
            for id in &ids {
                let mut profile = view.take_profile_to_extend(id)?;
                let before = profile.record.clone();
                profile
                    .votes
                    .settle(&self.survivorship, &mut profile.record);
                if profile.votes.consents_need_history(&self.survivorship) {
                    let history = view.contributions_of(&view.all_members(&profile)?)?;
                    crate::resolver::settle_consents(&mut profile.record, &history);
                }
                profile.record.version += 1;
                let change = if created {
                    let mut change = view.change(
                        kindred_model::ChangeType::Created,
                        None,
                        &profile.record,
                        &cause.id,
                        Vec::new(),
                        None,
                    );
                    change.moved_event_ids = view.all_members(&profile)?;
                    change
                } else {
                    view.change(
                        kindred_model::ChangeType::Updated,
                        Some(&before),
                        &profile.record,
                        &cause.id,
                        Vec::new(),
                        None,
                    )
                };
                outcome.changes.push(change);
                view.profiles.insert(id.clone(), Some(profile));
                view.restate_redirects(id, &cause.id, &mut outcome)?;
            }
            count += ids.len() as u64;
            view.queue_outputs(&mut outcome)?;
            let batch = view.into_write_batch();
            self.store.write(batch)?;
            match ids.last() {
                Some(last) if ids.len() == chunk => after = Some(last.clone()),
                _ => break,
            }
        }
        // And every pinned decision, for the decisions topic (a store
        // older than the topic has published none).
        self.queue_pinned_decisions(chunk)?;
        // And every pair waiting for review: its records on the compacted
        // review topic were written under the output policy of their day
        // (a policy changed to mask names would leave them raw there).
        self.requeue_review_topic(&[])?;
        // The record counts what was queued (rewritten once at the end).
        decision.kind = DecisionKind::Republish { profiles: count };
        let mut batch = rocksdb::WriteBatch::default();
        // Every record is settled by these rules now.
        self.store.put(
            &mut batch,
            cf::META,
            crate::store::SETTLED_SURVIVORSHIP,
            &encode_survivorship(&self.survivorship),
        );
        self.store.put_value(
            &mut batch,
            cf::DECISIONS,
            &decision.id.to_be_bytes(),
            &decision,
        );
        self.store.write(batch)?;
        Ok(decision)
    }

    /// Pins `decisions` (another store's, as [`Store::decisions_pinned`]
    /// reads them: each event id with the decisions on it) on the events
    /// this store holds, and recomputes the profiles holding them, so the
    /// people reviewers kept apart, joined or split stay so. For a store a
    /// rebuild replayed from the canonical topic: decisions live in a store
    /// only. Decision numbers continue past `next_decision` (the other
    /// store's counter), so the carried ones keep theirs; events this store
    /// does not hold (erased) are skipped. Returns the record (its kind
    /// counts the events pinned) and what changed.
    pub fn carry_decisions(
        &mut self,
        decisions: &[(String, Vec<Constraint>)],
        next_decision: u64,
        actor: &str,
        at_ms: i64,
    ) -> Result<DecisionOutcome, AdminError> {
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        view.next_decision = view.next_decision.max(next_decision);
        let d = view.next_decision;
        view.next_decision += 1;
        let mut holding: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        // Only the decisions' events: every (event, profile) pair of a
        // large store (a rebuild's) took gigabytes, decisions or not.
        let wanted: std::collections::HashSet<&str> = decisions
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(event, _)| event.as_str())
            .collect();
        let owner: HashMap<String, String> = self.store.owners_of(&wanted)?;
        let mut pinned = 0u64;
        for (event_id, list) in decisions {
            let Some(profile) = owner.get(event_id) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            view.constraints.insert(event_id.clone(), list.clone());
            holding.entry(profile.clone()).or_default().push(event_id);
            pinned += 1;
        }
        for id in holding.keys() {
            let mut p = view.take_profile_to_extend(id)?;
            p.constrained = true;
            view.profiles.insert(id.clone(), Some(p));
        }
        let affected: BTreeSet<String> = holding.into_keys().collect();
        let record = DecisionRecord::new(
            d,
            DecisionKind::Carried { events: pinned },
            actor,
            at_ms,
            affected.iter().cloned().collect(),
        );
        let done = decide(view, record, affected, BatchOutcome::default())?;
        self.drop_settled_pairs()?;
        Ok(done)
    }

    /// Queues every event's pinned decisions for the decisions topic, in
    /// writes of `chunk` events (by `republish`, and after a rebuild, whose
    /// replay and carried decisions are otherwise published by nothing).
    /// Returns the last outbox sequence written.
    pub fn queue_pinned_decisions(&mut self, chunk: usize) -> Result<Option<u64>, StoreError> {
        let pinned = self.store.decisions_pinned()?.events;
        let mut last = None;
        for part in pinned.chunks(chunk.max(1)) {
            let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
            for entry in decisions_entries(part.iter().map(|(e, l)| (e, l))) {
                view.push_outbox(&entry);
            }
            last = view.outbox_last();
            self.store.write(view.into_write_batch())?;
        }
        Ok(last)
    }

    /// Queues for the review topic what makes it this store's queue again
    /// (after a rebuild, which numbers profiles afresh): a tombstone for
    /// every pair in `stale` (the keys the topic holds), then a record for
    /// every pair in the store's queue. Without it the topic would list
    /// pairs of the old numbering, and a live decision on them would act
    /// on whoever holds those ids now.
    pub fn requeue_review_topic(&mut self, stale: &[(String, String)]) -> Result<(), StoreError> {
        self.tombstone_review_pairs(stale)?;
        let pending = self.store.pending_suggestions()?;
        for part in pending.chunks(1000) {
            let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
            for p in part {
                let (a, b) = (
                    view.current_record(&p.profile_a)?,
                    view.current_record(&p.profile_b)?,
                );
                let review = p.clone().into_notice(a, b);
                view.push_outbox(&OutboxEntry::Review(Box::new(review)));
                // Shown as they are now: changes are counted from here.
                let mut shown = p.clone();
                shown.since_lineage = None;
                view.pending
                    .insert((p.profile_a.clone(), p.profile_b.clone()), Some(shown));
            }
            self.store.write(view.into_write_batch())?;
        }
        Ok(())
    }

    /// Queues a tombstone for the review topic's record of each pair in
    /// `stale` (pairs the topic holds that this store's queue does not).
    pub fn tombstone_review_pairs(&mut self, stale: &[(String, String)]) -> Result<(), StoreError> {
        for part in stale.chunks(1000) {
            let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
            for (profile_a, profile_b) in part {
                view.push_outbox(&OutboxEntry::Tombstone(crate::Tombstone::Review {
                    profile_a: profile_a.clone(),
                    profile_b: profile_b.clone(),
                }));
            }
            self.store.write(view.into_write_batch())?;
        }
        Ok(())
    }

    /// Numbers this store's next decisions after `highest` (the highest
    /// decision number the decisions topic names), if they are not
    /// already: a store restored from a snapshot would otherwise give
    /// numbers again that decisions made after the snapshot carry on the
    /// topic, and a rebuild from it would take two decisions for one.
    /// Returns whether the counter moved.
    pub fn number_decisions_after(&mut self, highest: u64) -> Result<bool, StoreError> {
        self.store
            .number_after(crate::store::NEXT_DECISION_SEQ, highest)
    }

    /// Takes out of the review queue the pairs decisions settle: one
    /// profile now (an approval joined them), or holding records on two
    /// sides of one separation (a reject or a split). A replay queues the
    /// pairs its rules raise again, decided or not.
    fn drop_settled_pairs(&mut self) -> Result<(), AdminError> {
        let pending = self.store.pending_suggestions()?;
        if pending.is_empty() {
            return Ok(());
        }
        let view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        // Each live profile's sides of separations, read once.
        let mut sides: HashMap<String, BTreeSet<(u64, u32)>> = HashMap::new();
        let mut settled: Vec<(String, String)> = Vec::new();
        for p in &pending {
            let (a, b) = (
                view.follow_redirects(&p.profile_a)?,
                view.follow_redirects(&p.profile_b)?,
            );
            let mut apart = false;
            if a != b {
                for id in [&a, &b] {
                    if !sides.contains_key(id) {
                        sides.insert(id.clone(), separations(&view, id)?);
                    }
                }
                if let (Some(sa), Some(sb)) = (sides.get(&a), sides.get(&b)) {
                    apart = kept_apart_by(sa, sb).is_some();
                }
            }
            if a == b || apart {
                settled.push((p.profile_a.clone(), p.profile_b.clone()));
            }
        }
        let pairs: Vec<(&str, &str)> = settled
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        drop_pending(view, &pairs)
    }

    /// The fingerprint of the policy the last `rules apply` recorded, when
    /// it is not the one this resolver runs with (`None` when they agree or
    /// no policy was recorded). The profiles linked before then follow the
    /// recorded rules until an event that a guard weighs touches them (one
    /// that brings no name, birthday or new identifier is folded in as
    /// they stand); `rules apply` with the
    /// running configuration re-evaluates them all. A record this release
    /// cannot read (written by a later one, or an older binary format) is
    /// logged and not compared: a check that only warns must not stop a
    /// resolver from starting.
    pub fn applied_policy_differs(&self) -> Option<String> {
        match decode_policy(&self.store) {
            Ok(applied) => applied
                .map(|applied| policy_fingerprint(&applied))
                .filter(|applied| *applied != policy_fingerprint(&self.policy)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the linking rules the last `kindred rules apply` recorded; not compared with the configured ones");
                None
            }
        }
    }

    /// Records the linking policy and survivorship rules this resolver
    /// runs with: the resolve service does at start, so that an operator
    /// command run with other settings (`review`, `split`, which
    /// re-partition and rebuild profiles by them) is refused rather than
    /// leaving profiles the running service would have linked otherwise.
    pub fn record_running_settings(&self) -> Result<(), StoreError> {
        let mut batch = rocksdb::WriteBatch::default();
        // The first service on a store settles every record by its rules;
        // a store from before this key was kept: by the ones it last ran.
        if self
            .store
            .get_raw(cf::META, crate::store::SETTLED_SURVIVORSHIP)?
            .is_none()
        {
            let settled = match self
                .store
                .get_raw(cf::META, crate::store::RUNNING_SURVIVORSHIP)?
            {
                Some(running) => running,
                None => encode_survivorship(&self.survivorship),
            };
            self.store.put(
                &mut batch,
                cf::META,
                crate::store::SETTLED_SURVIVORSHIP,
                &settled,
            );
        }
        self.store.put(
            &mut batch,
            cf::META,
            crate::store::RUNNING_POLICY,
            &encode_policy(&self.policy),
        );
        if let Some(encoded) = history_with(&self.store, &self.policy)? {
            self.store
                .put(&mut batch, cf::META, crate::store::POLICY_HISTORY, &encoded);
        }
        self.store.put(
            &mut batch,
            cf::META,
            crate::store::RUNNING_SURVIVORSHIP,
            &encode_survivorship(&self.survivorship),
        );
        self.store.write(batch)
    }

    /// Whether the survivorship rules the store's records were settled by
    /// (if known) differ from this resolver's: records keep the old ones
    /// until an event touches them or `republish` settles them all.
    pub fn survivorship_changed(&self) -> Result<bool, StoreError> {
        survivorship_changed(&self.store, &self.survivorship)
    }

    /// The approvals (decision ids) that hold records of `profile`
    /// together now: those pinned as `Together` on one of its records. An
    /// approval a reject took back holds nothing.
    pub fn approvals_holding(&self, profile: &str) -> Result<BTreeSet<u64>, StoreError> {
        let mut held = BTreeSet::new();
        for event in self.store.members(profile)? {
            for c in self.store.constraints(&event)? {
                if let Constraint::Together { decision } = c {
                    held.insert(decision);
                }
            }
        }
        Ok(held)
    }

    /// Why this resolver's settings are not the ones the resolve service
    /// last started with (`None`: the same, or no service ran on this
    /// store yet): what each differs in, by fingerprint. `rules apply`
    /// records its linking policy as the service's (the service is
    /// restarted with it); a service started since with other rules
    /// replaces it.
    pub fn running_settings_differ(&self) -> Result<Option<String>, StoreError> {
        let mut differ = Vec::new();
        for (what, key, ours) in [
            (
                "[resolver.linking]",
                crate::store::RUNNING_POLICY,
                encode_policy(&self.policy),
            ),
            (
                "[resolver.survivorship]",
                crate::store::RUNNING_SURVIVORSHIP,
                encode_survivorship(&self.survivorship),
            ),
        ] {
            if let Some(running) = self.store.get_raw(cf::META, key)? {
                if running != ours {
                    // `rules apply` records its rules as the service's (the
                    // service is to restart with them): say so, rather than
                    // blame the service's configuration.
                    let applied = key == crate::store::RUNNING_POLICY
                        && self
                            .store
                            .get_raw(cf::META, crate::store::LINK_POLICY)?
                            .as_deref()
                            == Some(running.as_slice());
                    let whose = if applied {
                        "the rules `kindred rules apply` applied last, which the service is to \
                         restart with (run the command with the configuration given to it as --new)"
                    } else {
                        "the service's"
                    };
                    differ.push(format!(
                        "{what} ({whose} {:016x}, this configuration's {:016x})",
                        fnv1a(&running),
                        fnv1a(&ours)
                    ));
                }
            }
        }
        Ok((!differ.is_empty()).then(|| differ.join(" and ")))
    }

    /// Evaluates `policy` against every stored contribution, changing
    /// nothing: which profiles would merge or split. `apply_rules` with the
    /// same policy does exactly this.
    pub fn plan_rules(&self, policy: &LinkPolicy) -> Result<RulesPlan, AdminError> {
        let snap = self.snapshot()?;
        let old_policy = self.linked_by()?;
        let mut out = plan(&snap, &old_policy, policy).0;
        out.erasure_waiting = self.store.erasure_neighbours_wait()?;
        Ok(out)
    }

    /// Applies `policy` to the store: re-partitions only the profiles the
    /// plan names, re-indexes every event's rule keys under the new rules,
    /// and records the decision. Run the resolver with the same policy
    /// afterwards (the store records its fingerprint).
    pub fn apply_rules(
        &mut self,
        policy: LinkPolicy,
        actor: &str,
        at_ms: i64,
    ) -> Result<(RulesPlan, DecisionOutcome), AdminError> {
        // An erasure's neighbours waiting are clustered first, under the
        // rules they were resolved by (as the next batch would).
        let earlier = self.finish_erasure()?;
        let snap = self.snapshot()?;
        let old_policy = self.linked_by()?;
        // The resolver keeps its rules when the store does (an error).
        let old = std::mem::replace(&mut self.policy, policy);
        let applied = self.apply_own_rules(&snap, &old_policy, actor, at_ms);
        if applied.is_err() {
            self.policy = old;
        }
        let (plan, mut done) = applied?;
        done.outcome = earlier.followed_by(done.outcome);
        Ok((plan, done))
    }

    /// [`Self::apply_rules`] with the resolver's policy already the new one,
    /// over the store's `snap` linked by `old_policy`.
    fn apply_own_rules(
        &mut self,
        snap: &Snapshot,
        old_policy: &LinkPolicy,
        actor: &str,
        at_ms: i64,
    ) -> Result<(RulesPlan, DecisionOutcome), AdminError> {
        let (plan, quarantine, regroup) = plan(snap, old_policy, &self.policy);
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        let d = view.next_decision;
        view.next_decision += 1;
        let cause = Cause::decision(d, actor, at_ms);
        let mut outcome = BatchOutcome::default();
        // Quarantines the new limits change, before the groups (which
        // hold every profile carrying such an identifier) are rebuilt: a
        // quarantined entry links nothing and keeps no holders; a released
        // one gets its recounted companions and names back.
        for (key, change) in &quarantine.changed {
            let mut entry = view.entry(key)?;
            entry.quarantined = change.quarantined;
            if change.quarantined {
                entry.holders.clear();
                outcome.quarantined.push(change.notice.clone());
            }
            view.entries.insert(key.clone(), entry);
        }
        for key in &quarantine.removed {
            view.entries.remove(key);
            view.removed_entries.insert(key.clone());
        }
        for (key, &differ) in &quarantine.names_differ {
            let mut entry = view.entry(key)?;
            entry.names_differ = differ;
            view.entries.insert(key.clone(), entry);
        }
        for (key, counted) in &quarantine.recounted {
            let mut entry = view.entry(key)?;
            if (&entry.companions, &entry.names, &entry.anchors)
                != (&counted.companions, &counted.names, &counted.anchors)
            {
                entry.companions = counted.companions.clone();
                entry.names = counted.names.clone();
                entry.anchors = counted.anchors.clone();
                view.entries.insert(key.clone(), entry);
            }
        }
        let mut regrouped: BTreeSet<String> = BTreeSet::new();
        for Regroup {
            before,
            input: g,
            clustering,
        } in regroup
        {
            let prior: BTreeMap<String, StoredProfile> = before
                .iter()
                .map(|id| Ok((id.clone(), view.take_profile(id)?)))
                .collect::<Result<_, StoreError>>()?;
            let mut entries: BTreeMap<String, IndexEntry> = BTreeMap::new();
            for k in g.keys.iter().flat_map(|k| &k.links) {
                if !entries.contains_key(&k.key) {
                    entries.insert(k.key.clone(), view.entry(&k.key)?);
                }
            }
            // Keys the group's events no longer have: drop the old holders.
            for e in &g.events {
                for l in EventKeys::of(e, old_policy, self.store.hasher()).links {
                    if !entries.contains_key(&l.key) {
                        let mut entry = view.entry(&l.key)?;
                        entry
                            .holders
                            .retain(|h| before.binary_search(&h.profile_id).is_err());
                        view.entries.insert(l.key, entry);
                    }
                }
            }
            let recomputed = Recomputed {
                events: &g.events,
                keys: &g.keys,
                origins: &g.origins,
                constraints: &g.constraints,
            };
            view.write_clusters(&cause, recomputed, prior, entries, clustering, &mut outcome)?;
            regrouped.extend(before);
        }
        // Every other profile keeps its events; re-index their keys under
        // the new policy (rule blocks change with the rules). A key it now
        // holds with others makes them all contested, as the resolver marks
        // them: a recomputation of one pulls in the others.
        let mut now_shared: BTreeSet<String> = BTreeSet::new();
        for (id, p) in &snap.profiles {
            if regrouped.contains(id.as_str()) {
                continue;
            }
            let mut old: BTreeSet<String> = BTreeSet::new();
            let mut new: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for e in p.members.iter().filter_map(|e| snap.events.get(e)) {
                let before = EventKeys::of(e, old_policy, self.store.hasher());
                // Entries under a card's written form (an older release's
                // key) lose their holders too.
                old.extend(before.links.into_iter().map(|l| l.key).chain(before.legacy));
                for l in EventKeys::of(e, &self.policy, self.store.hasher()).links {
                    let span = new
                        .entry(l.key)
                        .or_insert((e.event_time_ms, e.event_time_ms));
                    span.0 = span.0.min(e.event_time_ms);
                    span.1 = span.1.max(e.event_time_ms);
                }
            }
            for gone in old.iter().filter(|k| !new.contains_key(*k)) {
                let mut entry = view.entry(gone)?;
                entry.holders.retain(|h| &h.profile_id != id);
                view.entries.insert(gone.clone(), entry);
            }
            for (key, (first, last)) in &new {
                let mut entry = view.entry(key)?;
                if entry.quarantined {
                    continue;
                }
                let before = entry.clone();
                add_holder(&mut entry, id, *first);
                add_holder(&mut entry, id, *last);
                if entry != before {
                    // Live holders only (an erased or absorbed id is no
                    // other person).
                    let live = view.holders(&entry)?;
                    if live.len() > 1 {
                        now_shared.extend(live);
                    }
                    view.entries.insert(key.clone(), entry);
                }
            }
        }
        for id in &now_shared {
            view.mark_contested(id)?;
        }
        // The pairs the new rules put to a reviewer, placed by their
        // records in the profiles as they are now: these and no others (a
        // group's part of the clustering holds no review pairs), so apply
        // queues what rules diff lists. A pair the old rules raised too is
        // not the change's doing and is not queued again (if the queue
        // does not hold it, a decision, an earlier change or the order
        // the events came in left it out).
        if !plan.suggestions.is_empty() {
            let mut holder: HashMap<&str, &str> = HashMap::new();
            for (id, p) in &snap.profiles {
                holder.extend(p.members.iter().map(|e| (e.as_str(), id.as_str())));
            }
            for (id, p) in &view.profiles {
                if let Some(p) = p {
                    holder.extend(p.members.iter().map(|e| (e.as_str(), id.as_str())));
                }
            }
            let placed: Vec<(String, String, &PlannedSuggestion)> = plan
                .suggestions
                .iter()
                .filter_map(|s| {
                    let a = holder.get(s.events.0.as_str())?;
                    let b = holder.get(s.events.1.as_str())?;
                    Some((a.to_string(), b.to_string(), s))
                })
                .collect();
            for (a, b, s) in placed {
                let link = Link {
                    rule: s.rule.clone(),
                    version: s.rule_version,
                    kinds: s.kinds.clone(),
                };
                view.queue_suggestion(&a, &b, &link, s.reason, at_ms, &mut outcome)?;
            }
        }
        // The pairs waiting that the new rules settle leave the queue (and
        // the review topic), unless this apply queued the pair again.
        for (a, b) in &plan.withdrawn {
            let pair = (a.clone().min(b.clone()), a.clone().max(b.clone()));
            if view.pending.get(&pair).is_some_and(Option::is_some) {
                continue;
            }
            if view
                .store_ref()
                .pending_suggestion(&pair.0, &pair.1)?
                .is_some()
            {
                view.pending.insert(pair, None);
            }
        }
        // Entries only the old rules made go, as a fresh run under the new
        // ones has none (after the loops above, which took their holders).
        for key in &quarantine.unmade {
            view.entries.remove(key);
            view.removed_entries.insert(key.clone());
        }
        let fingerprint = policy_fingerprint(&self.policy);
        view.extra_meta.push((
            crate::store::LINK_POLICY.to_vec(),
            encode_policy(&self.policy),
        ));
        // The service is restarted with these rules: until it is, an
        // operator command run with the old ones (the service's `-c` of
        // before) would re-partition what it touches under rules the store
        // is no longer linked by. Recorded as the service's, it is refused.
        view.extra_meta.push((
            crate::store::RUNNING_POLICY.to_vec(),
            encode_policy(&self.policy),
        ));
        // Every profile this release would partition otherwise was
        // re-partitioned above: the store is this release's now.
        view.extra_meta.push((
            crate::store::LINKING.to_vec(),
            crate::store::LINKING_VERSION.as_bytes().to_vec(),
        ));
        // Every quarantine an erasure left was recounted above.
        view.extra_meta
            .push((crate::erase::QUARANTINE_RECOUNT.to_vec(), Vec::new()));
        // An erasure derives the person's keys under every policy the
        // store was linked by (`policies_linked_by`), whether or not a
        // resolve service ever ran with it: entries of a store that an
        // older release's apply left, or a resolver's linking changed
        // without `rules apply`, are found under them.
        if let Some(history) = history_with(&self.store, old_policy)? {
            view.extra_meta
                .push((crate::store::POLICY_HISTORY.to_vec(), history));
        }
        // The decision names the profiles it re-partitioned or rebuilt.
        let profiles = regrouped.into_iter().collect();
        let record = DecisionRecord::new(
            d,
            DecisionKind::Rules { fingerprint },
            actor,
            at_ms,
            profiles,
        );
        let decided = decide(view, record, BTreeSet::new(), outcome)?;
        Ok((plan, decided))
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let mut profiles = BTreeMap::new();
        for p in self.store.stored_profiles() {
            let p = p?;
            profiles.insert(p.record.profile_id.clone(), p);
        }
        let events = self
            .store
            .all::<CanonicalEvent>(cf::CONTRIBUTIONS)?
            .into_iter()
            .collect();
        let constraints = self
            .store
            .all::<Vec<Constraint>>(cf::CONSTRAINTS)?
            .into_iter()
            .collect();
        let linking_current = self.store.linking_is_current()?;
        let mut quarantined = BTreeSet::new();
        let mut names_differ = BTreeSet::new();
        let mut rule_keys: std::collections::HashSet<String> = Default::default();
        for (key, entry) in self.store.all::<IndexEntry>(cf::IDENTIFIERS)? {
            if entry.names_differ {
                names_differ.insert(key.clone());
            }
            if !linking_current && crate::keys::is_rule_key(&key) {
                rule_keys.insert(key.clone());
            }
            if entry.quarantined {
                quarantined.insert(key);
            }
        }
        // An older store's rule blocks of a 1 January, under every policy
        // it ran, that it still holds.
        let mut retired = BTreeSet::new();
        if !linking_current {
            let mut policies = policies_linked_by(&self.store)?;
            policies.push(self.policy.clone());
            let hasher = self.store.hasher();
            let events: &HashMap<String, CanonicalEvent> = &events;
            for event in events
                .values()
                .filter(|e| crate::keys::untold_birthday(e).is_some())
            {
                for policy in &policies {
                    for l in EventKeys::of(event, policy, hasher).retired {
                        if rule_keys.contains(&l.key) {
                            retired.insert(l.key);
                        }
                    }
                }
            }
        }
        let pending = self
            .store
            .pending_suggestions()?
            .into_iter()
            .map(|p| (p.profile_a, p.profile_b))
            .collect();
        Ok(Snapshot {
            pending,
            linking_current,
            recount_after_erasure: self.store.quarantine_recount_pending()?,
            hasher: self.store.hasher().clone(),
            profiles,
            events,
            constraints,
            quarantined,
            names_differ,
            retired,
        })
    }
}

/// A stable fingerprint of a linking policy (hex FNV-1a of its JSON).
pub fn policy_fingerprint(policy: &LinkPolicy) -> String {
    format!("{:016x}", fnv1a(&encode_policy(policy)))
}

/// The linking policy as `rules apply` records it: JSON, since the policy
/// leaves unset options out when serialized, which a format without field
/// names (the store's postcard) cannot read back.
fn encode_policy(policy: &LinkPolicy) -> Vec<u8> {
    // A struct of plain fields and maps with string keys always serializes.
    serde_json::to_vec(policy).unwrap_or_else(|e| unreachable!("a policy serializes: {e}"))
}

/// The survivorship rules as the store records them: JSON.
/// Whether the survivorship rules `store`'s records were settled by (if
/// known) differ from `survivorship` ([`Resolver::survivorship_changed`]).
pub(crate) fn survivorship_changed(
    store: &crate::Store,
    survivorship: &Survivorship,
) -> Result<bool, StoreError> {
    let settled = match store.get_raw(cf::META, crate::store::SETTLED_SURVIVORSHIP)? {
        Some(settled) => Some(settled),
        None => store.get_raw(cf::META, crate::store::RUNNING_SURVIVORSHIP)?,
    };
    Ok(settled.is_some_and(|s| s != encode_survivorship(survivorship)))
}

fn encode_survivorship(survivorship: &Survivorship) -> Vec<u8> {
    // Plain fields and enums: always serializes.
    serde_json::to_vec(survivorship)
        .unwrap_or_else(|e| unreachable!("survivorship rules serialize: {e}"))
}

impl Resolver {
    /// The policy the store's profiles are linked by: the one the resolve
    /// service last ran with (a `rules apply` records its own so), else
    /// the last `rules apply`'s (a store of a release before that record),
    /// else this resolver's own. A service started after an apply with
    /// other rules links its events by those.
    fn linked_by(&self) -> Result<LinkPolicy, StoreError> {
        match self.store.get_raw(cf::META, crate::store::RUNNING_POLICY)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                what: cf::META,
                key: "running_policy".into(),
                message: e.to_string(),
            }),
            None => Ok(decode_policy(&self.store)?.unwrap_or_else(|| self.policy.clone())),
        }
    }
}

/// The link policies the resolve service has started with on `store` or
/// `rules apply` replaced ([`crate::store::POLICY_HISTORY`]), and the one
/// `rules apply` last applied: every policy whose index keys the store may
/// hold, the configured one aside.
pub(crate) fn policies_linked_by(store: &crate::Store) -> Result<Vec<LinkPolicy>, StoreError> {
    let mut all = policy_history(store)?;
    all.extend(decode_policy(store)?);
    Ok(all)
}

/// [`crate::store::POLICY_HISTORY`] with `policy` added (the oldest let go
/// past [`crate::store::MAX_POLICY_HISTORY`]), encoded; `None` when it
/// holds the policy already.
fn history_with(store: &crate::Store, policy: &LinkPolicy) -> Result<Option<Vec<u8>>, StoreError> {
    let mut history = policy_history(store)?;
    let print = policy_fingerprint(policy);
    if history.iter().any(|p| policy_fingerprint(p) == print) {
        return Ok(None);
    }
    history.push(policy.clone());
    let over = history
        .len()
        .saturating_sub(crate::store::MAX_POLICY_HISTORY);
    history.drain(..over);
    Ok(Some(serde_json::to_vec(&history).unwrap_or_else(|e| {
        unreachable!("policies serialize: {e}")
    })))
}

fn policy_history(store: &crate::Store) -> Result<Vec<LinkPolicy>, StoreError> {
    match store.get_raw(cf::META, crate::store::POLICY_HISTORY)? {
        None => Ok(Vec::new()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            what: cf::META,
            key: "policy_history".into(),
            message: e.to_string(),
        }),
    }
}

/// The linking policy last applied with `rules apply`, if any.
fn decode_policy(store: &crate::Store) -> Result<Option<LinkPolicy>, StoreError> {
    let Some(bytes) = store.get_raw(cf::META, crate::store::LINK_POLICY)? else {
        return Ok(None);
    };
    if bytes.first() == Some(&b'{') {
        return serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: cf::META,
                key: "link_policy".into(),
                message: e.to_string(),
            });
    }
    // Releases before 2026-12-01 wrote postcard, which cannot carry a
    // policy with unset options (even a value that decodes may be garbled):
    // the configured policy stands in.
    tracing::warn!("the policy of the last `rules apply` was written by an older release and is not read; comparing with the configured policy instead");
    Ok(None)
}

/// Takes the pairs among `pairs` that are queued for review out of the
/// queue (and, through the outbox, off the review topic), in one write.
fn drop_pending(mut view: BatchView<'_>, pairs: &[(&str, &str)]) -> Result<(), AdminError> {
    let mut stale = false;
    for pair in pairs {
        let (x, y) = (pair.0.min(pair.1), pair.0.max(pair.1));
        if x != y && view.store_ref().pending_suggestion(x, y)?.is_some() {
            view.pending.insert((x.into(), y.into()), None);
            stale = true;
        }
    }
    if stale {
        view.queue_outputs(&mut BatchOutcome::default())?;
        let store = view.store_ref();
        store.write(view.into_write_batch())?;
    }
    Ok(())
}

/// Why the waiting pair `a`, `b` (live ids) is no longer what was
/// flagged: either profile's lineage holds a merge or a split written
/// since the pair was queued or last shown
/// ([`crate::PendingSuggestion::since_lineage`]). `None` for a pair not
/// waiting (a reviewer naming two profiles decides on them as they are).
fn changed_since_flagged(
    view: &BatchView<'_>,
    a: &str,
    b: &str,
) -> Result<Option<AdminError>, StoreError> {
    let store = view.store_ref();
    let Some(since) = store
        .pending_suggestion(a, b)?
        .and_then(|p| p.since_lineage)
    else {
        return Ok(None);
    };
    for profile in [a, b] {
        for (seq, record) in store.lineage_in_order(profile)? {
            if seq < since {
                continue;
            }
            let how = if !record.absorbed.is_empty() {
                format!("absorbed {} profile(s)", record.absorbed.len())
            } else if !record.split_into.is_empty() {
                "was split".to_string()
            } else {
                continue;
            };
            return Ok(Some(AdminError::ChangedSinceFlagged {
                a: a.into(),
                b: b.into(),
                profile: profile.into(),
                how,
            }));
        }
    }
    Ok(None)
}

/// The refusal of a decision request that repeats one (its id) refused
/// because the pair had changed since it was flagged ([`show_again`]): a
/// retry, or a duplicate of an at-least-once producer, is the same decision
/// on what the reviewer did not see.
fn refused_before(
    view: &BatchView<'_>,
    a: &str,
    b: &str,
) -> Result<Option<AdminError>, StoreError> {
    let Some(request) = &view.request else {
        return Ok(None);
    };
    let key = refused_request_key(view.store_ref(), &request.request_id);
    Ok(view
        .store_ref()
        .get_raw(cf::META, key.as_bytes())?
        .map(|_| AdminError::RepeatedRefusal {
            a: a.into(),
            b: b.into(),
        }))
}

/// The `meta` key recording that decision request `request_id` was refused
/// for a pair changed since it was flagged.
fn refused_request_key(store: &crate::Store, request_id: &str) -> String {
    let digest = store.hasher().digest("decision-request", request_id);
    format!("{}{digest:016x}", crate::store::REFUSED_REQUEST_PREFIX)
}

/// Puts the waiting pair `a`, `b` on the review topic again with today's
/// records, counting changes from now on, and returns `refusal`: to a
/// decision request as [`AdminError::Replied`], its reply and offsets in
/// the same write (a crash cannot leave the pair refreshed and the request
/// unanswered, to be decided when read again).
fn show_again(
    mut view: BatchView<'_>,
    a: &str,
    b: &str,
    refusal: AdminError,
) -> Result<AdminError, StoreError> {
    let store = view.store_ref();
    let (x, y) = (a.min(b), a.max(b));
    if let Some(mut pending) = store.pending_suggestion(x, y)? {
        pending.since_lineage = None;
        let notice = pending
            .clone()
            .into_notice(view.current_record(x)?, view.current_record(y)?);
        view.pending.insert((x.into(), y.into()), Some(pending));
        view.push_outbox(&OutboxEntry::Review(Box::new(notice)));
    }
    let request = view.request.take();
    if let Some(r) = &request {
        let reply = DecisionReply::refused(&r.request_id, refusal.to_string());
        view.push_outbox(&OutboxEntry::Replied(reply));
    }
    let mut batch = view.into_write_batch();
    if let Some(r) = &request {
        for offset in &r.offsets {
            store.put_offset(&mut batch, offset);
        }
        let key = refused_request_key(store, &r.request_id);
        store.put(&mut batch, cf::META, key.as_bytes(), b"");
    }
    store.write(batch)?;
    Ok(match request {
        Some(_) => AdminError::Replied(Box::new(refusal)),
        None => refusal,
    })
}

/// The live profile an id names (following redirects), or an error.
fn live(view: &BatchView<'_>, id: &str) -> Result<String, AdminError> {
    let live = view.follow_redirects(id)?;
    if view.store_has_profile(&live)? {
        Ok(live)
    } else {
        Err(AdminError::NoSuchProfile(id.into()))
    }
}

/// What a reject of two ids of one profile asks to undo: the approval of
/// `a` and `b`, in the live profile `id`, and, when it was asked by two
/// identifiers, that their records end apart.
struct Undo<'a> {
    a: &'a str,
    b: &'a str,
    id: &'a str,
    parting: Option<(&'a Identifier, &'a Identifier)>,
}

/// A reject of two profiles that a reviewer's approval of that same pair
/// made one: that approval is taken back, and if the records then fall
/// apart, the parts are kept apart for good (a reject decision; the profile
/// splits). `None` when no approval of the pair holds them together (they
/// are one by their identifiers, or by another approval: `kindred split`).
fn undo_approvals(
    mut view: BatchView<'_>,
    policy: &LinkPolicy,
    undo: &Undo<'_>,
    actor: &str,
    at_ms: i64,
) -> Result<Option<DecisionOutcome>, AdminError> {
    let (a, b, id) = (undo.a, undo.b, undo.id);
    // Only the approvals of this very pair: another approval (of a third
    // profile into these) is another reviewer's word, and stays.
    let pair = BTreeSet::from([a, b]);
    let named: BTreeSet<u64> = view
        .store_ref()
        .decisions()?
        .into_iter()
        .filter(|d| {
            d.kind == DecisionKind::Approve
                && d.profiles
                    .iter()
                    .map(String::as_str)
                    .collect::<BTreeSet<_>>()
                    == pair
        })
        .map(|d| d.id)
        .collect();
    let stored = view.take_profile(id)?;
    let events = view.contributions_of(&stored.members)?;
    let constraints = view.constraints_of(&stored.members)?;
    let approved =
        |c: &Constraint| matches!(c, Constraint::Together { decision } if named.contains(decision));
    if !constraints.iter().flatten().any(approved) {
        return Ok(None);
    }
    let without: Vec<Vec<Constraint>> = constraints.iter().map(|l| taken_back(l, &named)).collect();
    // Separations these approvals had suspended come back; an approval
    // made since that still joins their sides is another reviewer's word.
    let restored: BTreeSet<u64> = constraints
        .iter()
        .flatten()
        .filter_map(|c| match c {
            Constraint::Suspended { decision, by, .. } if named.contains(by) => Some(*decision),
            _ => None,
        })
        .collect();
    if held_by_another_approval(&without, &restored) {
        return Ok(None);
    }
    let Ok(sides) = sides_apart(&view, policy, &events, &without, None)? else {
        return Ok(None);
    };
    if let Some((x, y)) = undo.parting {
        let sides_of = |wanted: &Identifier| -> BTreeSet<u32> {
            events
                .iter()
                .zip(&sides)
                .filter(|(e, _)| {
                    e.identifiers
                        .iter()
                        .any(|i| i.kind == wanted.kind && i.link_value() == wanted.link_value())
                })
                .map(|(_, side)| *side)
                .collect()
        };
        let (sx, sy) = (sides_of(x), sides_of(y));
        if let Some(absent) = [(x, &sx), (y, &sy)].iter().find(|(_, s)| s.is_empty()) {
            return Err(AdminError::NotSeparable {
                profile: id.into(),
                reason: format!("no record of it carries {}", absent.0.masked()),
            });
        }
        if sx.intersection(&sy).next().is_some() {
            return Err(AdminError::NotSeparable {
                profile: id.into(),
                reason: format!(
                    "taking back the approval of {a} and {b} would leave records of {} and {} in one profile: something else holds them together (`kindred explain {id}` says what; `kindred split` parts it)",
                    x.masked(),
                    y.masked()
                ),
            });
        }
    }
    // The approvals this reject takes back are lifted from every record.
    let d = separate(&mut view, id, stored, sides, &named)?;
    let (x, y) = (a.min(b), a.max(b));
    if view.store_ref().pending_suggestion(x, y)?.is_some() {
        view.pending.insert((x.into(), y.into()), None);
    }
    let record = DecisionRecord::new(
        d,
        DecisionKind::Reject,
        actor,
        at_ms,
        vec![a.into(), b.into()],
    );
    Ok(Some(decide(
        view,
        record,
        BTreeSet::from([id.to_string()]),
        BatchOutcome::default(),
    )?))
}

/// Pins a new separating decision on `stored`'s records (`sides`: each
/// member's side, in member order), lifting the approvals in `lifted`, and
/// puts the profile back in the view for recomputation; returns the
/// decision's id.
fn separate(
    view: &mut BatchView<'_>,
    id: &str,
    mut stored: StoredProfile,
    sides: Vec<u32>,
    lifted: &BTreeSet<u64>,
) -> Result<u64, StoreError> {
    let d = view.next_decision;
    view.next_decision += 1;
    let side_of: HashMap<&str, u32> = stored
        .members
        .iter()
        .map(String::as_str)
        .zip(sides)
        .collect();
    pin(
        view,
        &side_of,
        &|_, side| Constraint::Apart { decision: d, side },
        lifted,
    )?;
    stored.constrained = true;
    view.profiles.insert(id.to_string(), Some(stored));
    Ok(d)
}

/// The separations a live profile's records are on, as (decision, side);
/// none for a profile no decision constrains.
fn separations(view: &BatchView<'_>, id: &str) -> Result<BTreeSet<(u64, u32)>, StoreError> {
    let mut set = BTreeSet::new();
    if let Some(stored) = view.store_ref().stored_profile(id)? {
        if stored.constrained {
            for list in view.constraints_of(&stored.members)? {
                set.extend(list.iter().filter_map(|c| match c {
                    Constraint::Apart { decision, side } => Some((*decision, *side)),
                    _ => None,
                }));
            }
        }
    }
    Ok(set)
}

/// The decision every record of profile `a` is on one side of and every
/// record of `b` on another, if one is: a reject of the two would pin
/// nothing new. (Records that joined either since the decision carry none
/// of its sides: a reject would pin them, so it is not refused.)
fn wholly_apart_by(view: &BatchView<'_>, a: &str, b: &str) -> Result<Option<u64>, StoreError> {
    let sides_of = |id: &str| -> Result<Vec<BTreeSet<(u64, u32)>>, StoreError> {
        // A profile no decision constrains is on no side of any.
        let Some(stored) = view
            .store_ref()
            .stored_profile(id)?
            .filter(|s| s.constrained)
        else {
            return Ok(Vec::new());
        };
        Ok(view
            .constraints_of(&stored.members)?
            .iter()
            .map(|list| {
                list.iter()
                    .filter_map(|c| match c {
                        Constraint::Apart { decision, side } => Some((*decision, *side)),
                        _ => None,
                    })
                    .collect()
            })
            .collect())
    };
    let (ra, rb) = (sides_of(a)?, sides_of(b)?);
    let (Some(first_a), Some(first_b)) = (ra.first(), rb.first()) else {
        return Ok(None);
    };
    Ok(first_a
        .iter()
        .filter_map(|(d, s)| {
            let t = first_b.iter().find(|(e, t)| e == d && t != s)?.1;
            let all = |records: &[BTreeSet<(u64, u32)>], side: u32| {
                records.iter().all(|r| r.contains(&(*d, side)))
            };
            (all(&ra, *s) && all(&rb, t)).then_some(*d)
        })
        .next())
}

/// The decision that keeps two profiles apart, if one does: records of
/// each on different sides of it (their clusters can never join).
fn kept_apart_by(a: &BTreeSet<(u64, u32)>, b: &BTreeSet<(u64, u32)>) -> Option<u64> {
    a.iter()
        .find(|(d, s)| b.iter().any(|(e, t)| d == e && s != t))
        .map(|(d, _)| *d)
}

/// How `events` fall apart when linked under `constraints` with the key
/// `cut` (if any) and every quarantined key taken out: each event's side
/// (its cluster), or, when they stay one, the kinds of link that hold them.
fn sides_apart(
    view: &BatchView<'_>,
    policy: &LinkPolicy,
    events: &[CanonicalEvent],
    constraints: &[Vec<Constraint>],
    cut: Option<String>,
) -> Result<Result<Vec<u32>, String>, StoreError> {
    let keys: Vec<EventKeys> = events
        .iter()
        .map(|e| EventKeys::of(e, policy, view.store_ref().hasher()))
        .collect();
    let mut quarantined: BTreeSet<String> = cut.into_iter().collect();
    for k in keys.iter().flat_map(|k| &k.links) {
        if view.entry(&k.key)?.quarantined {
            quarantined.insert(k.key.clone());
        }
    }
    // Each record its own origin: every link between them is kept, to name
    // what joins them when nothing separates.
    let origins: Vec<u32> = (0..events.len() as u32).collect();
    let nodes = nodes(events, &keys, constraints, &origins);
    let clustering = cluster(&nodes, policy, &|k| quarantined.contains(k));
    if clustering.clusters.len() < 2 {
        let mut kinds: BTreeSet<String> = BTreeSet::new();
        for l in clustering.links.iter().flatten() {
            kinds.extend(l.kinds.iter().cloned());
        }
        // An approval links with no kinds of evidence: named by decision
        // and reviewer, and how to take it back.
        let approvals: BTreeSet<u64> = constraints
            .iter()
            .flatten()
            .filter_map(|c| match c {
                Constraint::Together { decision } => Some(*decision),
                _ => None,
            })
            .collect();
        let mut held_by: Vec<String> = kinds.into_iter().collect();
        if !approvals.is_empty() {
            // Ids only (the reply of a live request carries this text):
            // `kindred explain` names the reviewer.
            let records = view.store_ref().decisions()?;
            for d in &approvals {
                let record = records.iter().find(|r| r.id == *d);
                let (what, undo) = match record.map(|r| (&r.kind, r.profiles.as_slice())) {
                    Some((DecisionKind::Approve, [a, b])) => (
                        "review approval",
                        format!("`kindred review reject {a} {b}` takes it back"),
                    ),
                    // A decision carried from another store keeps its id
                    // on the records, not its record.
                    _ => (
                        "carried approval",
                        "a split by source can separate its records".to_string(),
                    ),
                };
                held_by.push(format!(
                    "{what} {d}, which a split by identifier does not override: {undo}"
                ));
            }
        }
        return Ok(Err(held_by.join(", ")));
    }
    let mut sides = vec![0; events.len()];
    for (c, members) in clustering.clusters.iter().enumerate() {
        for &n in members {
            sides[n] = c as u32;
        }
    }
    Ok(Ok(sides))
}

/// Pins a new decision on events (`side_of`: event id -> side), first
/// changing older decisions it overrides: an approval joins the sides of
/// a separation it spans into one (the lowest), which stays apart from the
/// separation's other sides (two parts of a three-way split approved as one
/// person stay apart from the third), and lifts the separation when it
/// holds every record carrying it. A reject or split keeps an approval that joined
/// events now on different sides on its first side only (the records a
/// source split keeps: the reviewer's word still joins them, and says
/// nothing of the records taken out), and lifts the approvals in `lifted`
/// (those a reject takes back) from every record.
fn pin(
    view: &mut BatchView<'_>,
    side_of: &HashMap<&str, u32>,
    added: &dyn Fn(&str, u32) -> Constraint,
    lifted: &BTreeSet<u64>,
) -> Result<(), StoreError> {
    let pinned: Vec<(String, u32)> = side_of.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let ids: Vec<String> = pinned.iter().map(|(k, _)| k.clone()).collect();
    let lists: Vec<Vec<Constraint>> = view
        .constraints_of(&ids)?
        .iter()
        .map(|l| taken_back(l, lifted))
        .collect();
    // Sides each older separation has among these events, and the new
    // decision's sides each older approval's events are on.
    let mut sides: BTreeMap<u64, BTreeSet<u32>> = BTreeMap::new();
    let mut approval_sides: BTreeMap<u64, BTreeSet<u32>> = BTreeMap::new();
    for ((_, s), list) in pinned.iter().zip(&lists) {
        for c in list {
            match c {
                Constraint::Apart { decision, side } => {
                    sides.entry(*decision).or_default().insert(*side);
                }
                Constraint::Together { decision } => {
                    approval_sides.entry(*decision).or_default().insert(*s);
                }
                Constraint::Suspended { .. } => {}
            }
        }
    }
    let joining = pinned
        .first()
        .is_some_and(|(id, s)| matches!(added(id, *s), Constraint::Together { .. }));
    // Separations an approval spans: the side they become, or None when
    // the approval holds every record of the separation (nothing left to
    // keep apart; records elsewhere on a side it spans, say the other web
    // profile a source split took out, stay apart from it).
    let mut joined_side: BTreeMap<u64, Option<u32>> = BTreeMap::new();
    if joining {
        for (decision, here) in &sides {
            if here.len() < 2 {
                continue;
            }
            let all = view.store_ref().decision_records(*decision)?;
            let rest = all.iter().any(|e| !side_of.contains_key(e.as_str()));
            joined_side.insert(*decision, here.first().copied().filter(|_| rest));
        }
    }
    for ((id, s), list) in pinned.into_iter().zip(lists) {
        let new = added(&id, s);
        let mut kept: Vec<Constraint> = Vec::with_capacity(list.len() + 1);
        for c in list {
            match (&c, joined_side.get(&c.decision())) {
                // An approval spanning a separation: one side of it, or
                // lifted when the approval holds all its records; the side
                // before is kept, suspended, for a reject of the approval.
                (Constraint::Apart { decision, side }, Some(joined)) if joining => {
                    if let Some(joined) = joined {
                        kept.push(Constraint::Apart {
                            decision: *decision,
                            side: *joined,
                        });
                    }
                    if *joined != Some(*side) {
                        kept.push(Constraint::Suspended {
                            decision: *decision,
                            side: *side,
                            by: new.decision(),
                        });
                    }
                }
                // A separation keeps an approval it crosses on its first
                // side (`cluster` chains the approval's records there past
                // the ones kept apart).
                (Constraint::Together { decision }, _)
                    if !joining
                        && approval_sides.get(decision).is_some_and(|here| {
                            here.len() > 1 && here.first().is_some_and(|first| *first != s)
                        }) => {}
                _ => kept.push(c),
            }
        }
        kept.push(new);
        view.constraints.insert(id, kept);
    }
    Ok(())
}

/// Recomputes `affected` under a decision and commits it all at once,
/// with what the caller already changed under it (`outcome`). The record's
/// `outcome` (the profiles after) is filled in here.
fn decide(
    mut view: BatchView<'_>,
    mut decision: DecisionRecord,
    affected: BTreeSet<String>,
    mut outcome: BatchOutcome,
) -> Result<DecisionOutcome, AdminError> {
    let cause = Cause::decision(decision.id, &decision.actor, decision.at_ms);
    if !affected.is_empty() {
        view.recompute(&cause, affected.clone(), &mut outcome)?;
    }
    let mut after = BTreeSet::new();
    for id in &affected {
        after.insert(view.follow_redirects(id)?);
    }
    for c in &outcome.changes {
        if c.superseded_by.is_none() {
            after.insert(c.profile_id.clone());
        }
    }
    decision.outcome = after.into_iter().collect();
    view.decisions.push(decision.clone());
    view.queue_outputs(&mut outcome)?;
    // Asked for on the decision-request topic: its reply, and its offset
    // recorded with the decision (decided once, whatever crashes).
    let request = view.request.take();
    if let Some(r) = &request {
        let reply = DecisionReply::applied(&r.request_id, &decision, outcome.changes.len());
        view.push_outbox(&OutboxEntry::Replied(reply));
    }
    let store = view.store_ref();
    let mut batch = view.into_write_batch();
    for offset in request.iter().flat_map(|r| &r.offsets) {
        store.put_offset(&mut batch, offset);
    }
    store.write(batch)?;
    Ok(DecisionOutcome { decision, outcome })
}

fn nodes<'a>(
    events: &'a [CanonicalEvent],
    keys: &'a [EventKeys],
    constraints: &'a [Vec<Constraint>],
    origins: &[u32],
) -> Vec<Node<'a>> {
    events
        .iter()
        .zip(keys)
        .zip(constraints)
        .zip(origins)
        .map(|(((event, keys), constraints), &origin)| Node {
            event,
            keys,
            constraints,
            origin,
        })
        .collect()
}

/// The events of some profiles, ready for clustering.
struct GroupInput {
    events: Vec<CanonicalEvent>,
    keys: Vec<EventKeys>,
    constraints: Vec<Vec<Constraint>>,
    origins: Vec<u32>,
}

fn group_input(snap: &Snapshot, profiles: &[String], policy: &LinkPolicy) -> GroupInput {
    let mut g = GroupInput {
        events: Vec::new(),
        keys: Vec::new(),
        constraints: Vec::new(),
        origins: Vec::new(),
    };
    for (o, id) in profiles.iter().enumerate() {
        let Some(p) = snap.profiles.get(id) else {
            continue;
        };
        for e in p.members.iter().filter_map(|e| snap.events.get(e)) {
            g.keys.push(EventKeys::of(e, policy, &snap.hasher));
            g.constraints.push(
                snap.constraints
                    .get(&e.event_id)
                    .cloned()
                    .unwrap_or_default(),
            );
            g.origins.push(o as u32);
            g.events.push(e.clone());
        }
    }
    g
}

/// The review suggestions a new policy raises over the whole store (its
/// clustering `whole` of `all`, the events of the profiles `ids`): those
/// between people after the change that the `old` policy's clustering does
/// not raise and the review queue does not hold.
///
/// Also the pairs waiting that the new policy settles
/// ([`RulesPlan::withdrawn`]).
fn planned_suggestions(
    snap: &Snapshot,
    ids: &[String],
    all: &GroupInput,
    whole: &Clustering,
    old: &LinkPolicy,
    old_keys: &[EventKeys],
) -> (Vec<PlannedSuggestion>, Vec<(String, String)>) {
    if whole.suggestions.is_empty() && snap.pending.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut person_of = vec![0usize; all.events.len()];
    for (c, members) in whole.clusters.iter().enumerate() {
        for &n in members {
            person_of[n] = c;
        }
    }
    let ordered = |a: usize, b: usize| (a.min(b), a.max(b));
    let mut known: BTreeSet<(usize, usize)> = BTreeSet::new();
    // What the old rules raise on the same records.
    let before = cluster(
        &nodes(&all.events, old_keys, &all.constraints, &all.origins),
        old,
        &|k| snap.quarantined.contains(k),
    );
    known.extend(
        before
            .suggestions
            .iter()
            .map(|(a, b, _, _)| ordered(person_of[*a], person_of[*b])),
    );
    // What waits already: every person of one profile against every
    // person of the other.
    let mut people_of: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (n, &o) in all.origins.iter().enumerate() {
        people_of
            .entry(ids[o as usize].as_str())
            .or_default()
            .insert(person_of[n]);
    }
    let none = BTreeSet::new();
    // Per profile, the people of the old clustering holding its records.
    let mut old_person_of = vec![0usize; all.events.len()];
    for (c, members) in before.clusters.iter().enumerate() {
        for &n in members {
            old_person_of[n] = c;
        }
    }
    let mut old_people_of: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (n, &o) in all.origins.iter().enumerate() {
        old_people_of
            .entry(ids[o as usize].as_str())
            .or_default()
            .insert(old_person_of[n]);
    }
    // Whether `pairs` (suggestions of a clustering, by node) join a person
    // of `xs` and one of `ys` (`of`: each node's person).
    let raised = |pairs: &[(usize, usize, Link, Refusal)],
                  of: &[usize],
                  xs: &BTreeSet<usize>,
                  ys: &BTreeSet<usize>| {
        pairs.iter().any(|(a, b, _, _)| {
            let (x, y) = (of[*a], of[*b]);
            (xs.contains(&x) && ys.contains(&y)) || (xs.contains(&y) && ys.contains(&x))
        })
    };
    let mut withdrawn = Vec::new();
    for (pa, pb) in &snap.pending {
        let (xs, ys) = (
            people_of.get(pa.as_str()).unwrap_or(&none),
            people_of.get(pb.as_str()).unwrap_or(&none),
        );
        for &x in xs {
            known.extend(ys.iter().map(|&y| ordered(x, y)));
        }
        // An id the store no longer holds as a profile (absorbed since):
        // left to the decisions that name it.
        if xs.is_empty() || ys.is_empty() {
            continue;
        }
        let one = xs.len() == 1 && xs == ys;
        let (oxs, oys) = (
            old_people_of.get(pa.as_str()).unwrap_or(&none),
            old_people_of.get(pb.as_str()).unwrap_or(&none),
        );
        // Only a pair the old rules raise, so the change is what settles
        // it (one queued by an earlier release or a late event is kept).
        let no_longer = raised(&before.suggestions, &old_person_of, oxs, oys)
            && !raised(&whole.suggestions, &person_of, xs, ys);
        if one || no_longer {
            withdrawn.push((pa.clone(), pb.clone()));
        }
    }
    let holders = |c: usize| -> Vec<String> {
        let set: BTreeSet<&String> = whole.clusters[c]
            .iter()
            .map(|&n| &ids[all.origins[n] as usize])
            .collect();
        set.into_iter().cloned().collect()
    };
    let mut out = Vec::new();
    for (a, b, link, refusal) in &whole.suggestions {
        let (ca, cb) = (person_of[*a], person_of[*b]);
        if ca == cb || !known.insert(ordered(ca, cb)) {
            continue;
        }
        out.push(PlannedSuggestion {
            a: holders(ca),
            b: holders(cb),
            events: (
                all.events[*a].event_id.clone(),
                all.events[*b].event_id.clone(),
            ),
            rule: link.rule.clone(),
            rule_version: link.version,
            kinds: link.kinds.clone(),
            reason: *refusal,
        });
    }
    (out, withdrawn)
}

/// Quarantines a new policy's limits change.
#[derive(Default)]
struct Requarantine {
    /// Link key -> its state under the new limits, for the identifiers
    /// whose quarantine flips.
    changed: BTreeMap<String, QuarantineChange>,
    /// Link key -> its counts as the new limits keep them, for every
    /// recounted identifier left linking (a limit turned on from 0
    /// finds none stored: the guard keeps only what it counts).
    recounted: BTreeMap<String, Recounted>,
    /// Cards whose `names_differ` mark changes, and to what: under the new
    /// policy the mark is what the card's records show (kept only while
    /// the holder limit is on, as the resolver keeps it).
    names_differ: BTreeMap<String, bool>,
    /// Profiles (by index in the plan's ids) carrying a quarantined
    /// identifier of a kind that stops linking: released, it returns to
    /// their golden records, so they are rebuilt.
    unlinked: BTreeSet<usize>,
    /// Quarantined identifiers no stored record carries, under the new
    /// rules or (a kind that stops linking) the old ones
    /// ([`RulesPlan::removed`]).
    removed: BTreeSet<String>,
    /// Index keys the stored records make under the old rules and none
    /// makes under the new ([`RulesPlan::unindexed`]).
    unmade: BTreeSet<String>,
}

/// What an index entry keeps for the quarantine guard, sorted.
struct Recounted {
    /// As (kind, hash).
    companions: Vec<(IdentifierKind, u64)>,
    /// Name digests.
    names: Vec<u64>,
    /// A household line's unnamed holders.
    anchors: Vec<u64>,
}

struct QuarantineChange {
    quarantined: bool,
    /// For the quarantine topic, when it is taken out of linking.
    notice: QuarantineNotice,
}

impl Requarantine {
    /// Whether `key` is quarantined under the new policy.
    fn holds(&self, snap: &Snapshot, key: &str) -> bool {
        match self.changed.get(key) {
            Some(c) => c.quarantined,
            None => snap.quarantined.contains(key),
        }
    }
}

/// The cards whose `names_differ` mark (`IndexEntry::names_differ`) a
/// store with `snap`'s marks must change under `new`, and to what: a card
/// of a kind `shared_when_names_differ` is marked when its records name
/// two clearly different people (`cluster::names_differ`, as the resolver
/// judges it when a name arrives), while the holder limit is on (the
/// resolver marks nothing without it). A card `quarantined` under `new`
/// keeps its mark: it anchors nothing either way.
fn marks_of_shared_cards(
    snap: &Snapshot,
    all: &GroupInput,
    new: &LinkPolicy,
    quarantined: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, bool> {
    let mut named: BTreeMap<&str, Vec<&EventKeys>> = BTreeMap::new();
    if new.quarantine.max_unnamed_holders > 0 {
        for keys in all.keys.iter().filter(|k| k.name.is_some()) {
            for link in &keys.links {
                if matches!(link.class, KeyClass::Strong(kind)
                    if new.identifiers.get(kind).shared_when_names_differ)
                {
                    named.entry(link.key.as_str()).or_default().push(keys);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    let cards: BTreeSet<&str> = named
        .keys()
        .copied()
        .chain(snap.names_differ.iter().map(String::as_str))
        .collect();
    for key in cards {
        if quarantined(key) {
            continue;
        }
        let differ = named
            .get(key)
            .is_some_and(|ks| crate::cluster::names_differ(ks.iter().copied(), new));
        if differ != snap.names_differ.contains(key) {
            out.insert(key.to_string(), differ);
        }
    }
    out
}

/// Over-shared identifiers under `new`, where its quarantine limits differ
/// from `old`'s: for each identifier of a kind whose limits changed, its
/// distinct companions (per kind), names and, for a household's line, the
/// anchors of its unnamed holders are recounted over every stored
/// contribution and checked against the new limits as the resolver checks
/// them when events arrive (those counts only grow with the set of events,
/// so the final count decides, whatever the order). Kinds whose limits did
/// not change keep the flags the resolver set, unless what links changed
/// (the anchors of a line's unnamed records are the identifiers that link
/// them), the store's linking is not current or an erasure left
/// quarantines to recount (`Snapshot::recount_after_erasure`); every card's
/// `names_differ` mark is judged, whatever changed
/// ([`marks_of_shared_cards`]), and households' lines are
/// recounted when any kind's limits or any mark changed (a record counts
/// alone on its line once its card is quarantined or shown shared).
fn requarantine(
    snap: &Snapshot,
    all: &GroupInput,
    old: &LinkPolicy,
    old_keys: &[EventKeys],
    new: &LinkPolicy,
) -> Requarantine {
    let limits = |p: &LinkPolicy, kind| {
        (
            p.max_companions_of(kind) as usize,
            p.max_names_of(kind) as usize,
            p.quarantine.max_unnamed_holders as usize,
        )
    };
    let same_linking = old.fixed_lines_need_names == new.fixed_lines_need_names
        && IdentifierKind::ALL.into_iter().all(|k| {
            let (a, b) = (old.identifiers.get(k), new.identifiers.get(k));
            (a.link, a.mutable) == (b.link, b.mutable)
        });
    let same_limits = IdentifierKind::ALL
        .into_iter()
        .all(|k| limits(old, k) == limits(new, k));
    struct Count {
        kind: IdentifierKind,
        companions: BTreeSet<(IdentifierKind, u64)>,
        names: BTreeSet<u64>,
        anchors: BTreeSet<u64>,
        /// The latest event time of an event carrying it.
        last_ms: i64,
        masked: String,
    }
    let over = |c: &Count| {
        let (max, max_names, max_unnamed) = limits(new, c.kind);
        let mut per_kind: BTreeMap<IdentifierKind, usize> = BTreeMap::new();
        for (k, _) in &c.companions {
            *per_kind.entry(*k).or_default() += 1;
        }
        let over = (max > 0 && per_kind.values().any(|n| *n > max))
            || (max_names > 0 && c.names.len() > max_names)
            || (max_unnamed > 0 && c.anchors.len() > max_unnamed);
        (over, per_kind.values().sum::<usize>())
    };
    let mut out = Requarantine::default();
    let mut counts: BTreeMap<&str, Count> = BTreeMap::new();
    // Identifiers first, then households' lines: a line's anchors hang on
    // its records' cards (quarantined or shown shared), never the reverse.
    for lines in [false, true] {
        if lines {
            out.names_differ = marks_of_shared_cards(snap, all, new, &|key| {
                counts
                    .get(key)
                    .map_or_else(|| snap.quarantined.contains(key), |c| over(c).0)
            });
        }
        // A line's anchors hang on whether its records' identifiers are
        // quarantined or shown shared: lines are recounted whenever any
        // limit or mark changed.
        let same_lines = same_limits && out.names_differ.is_empty();
        for (n, keys) in all.keys.iter().enumerate() {
            let event = &all.events[n];
            for link in &keys.links {
                let Some(kind) = link.class.kind() else {
                    continue;
                };
                let line = matches!(link.class, KeyClass::Household(_));
                if line != lines {
                    continue;
                }
                // A kind that starts linking is counted: it was no link key,
                // so nothing quarantined it.
                if snap.linking_current
                    && !snap.recount_after_erasure
                    && same_linking
                    && (if line {
                        same_lines
                    } else {
                        limits(old, kind) == limits(new, kind)
                    })
                    && old.identifiers.get(kind).link
                {
                    continue;
                }
                let c = counts.entry(link.key.as_str()).or_insert_with(|| Count {
                    kind,
                    companions: BTreeSet::new(),
                    names: BTreeSet::new(),
                    anchors: BTreeSet::new(),
                    last_ms: i64::MIN,
                    masked: masked_link(event, link, kind),
                });
                c.companions
                    .extend(keys.companions.iter().filter(|(k, _)| *k != kind));
                c.names.extend(keys.name_digest);
                c.last_ms = c.last_ms.max(event.event_time_ms);
            }
        }
    }
    // Then the anchors of lines' unnamed records, by identifiers whose
    // quarantine is now known (an identifier's own counts never hang on a
    // line's anchors).
    let lines = all.keys.iter().any(|k| {
        k.unnamed_anchor.is_some() && k.links.iter().any(|l| counts.contains_key(l.key.as_str()))
    });
    if lines {
        let flags: HashMap<&str, bool> = counts.iter().map(|(k, c)| (*k, over(c).0)).collect();
        for (n, keys) in all.keys.iter().enumerate() {
            let Some(anchor) = keys.counted_anchor(&all.events[n].event_id, &snap.hasher, |key| {
                flags
                    .get(key)
                    .copied()
                    .unwrap_or_else(|| snap.quarantined.contains(key))
                    || out
                        .names_differ
                        .get(key)
                        .copied()
                        .unwrap_or_else(|| snap.names_differ.contains(key))
            }) else {
                continue;
            };
            for link in &keys.links {
                if matches!(link.class, KeyClass::Household(_)) {
                    if let Some(c) = counts.get_mut(link.key.as_str()) {
                        c.anchors.insert(anchor);
                    }
                }
            }
        }
    }
    for (key, c) in counts {
        let (max, max_names, max_unnamed) = limits(new, c.kind);
        let (over, companions) = over(&c);
        if !over {
            // What the resolver keeps: nothing of a count it does not make.
            fn kept<T>(on: bool, set: BTreeSet<T>) -> Vec<T> {
                if on {
                    set.into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            out.recounted.insert(
                key.to_string(),
                Recounted {
                    companions: kept(max > 0, c.companions),
                    names: kept(max_names > 0, c.names),
                    anchors: kept(max_unnamed > 0, c.anchors),
                },
            );
        }
        if over == snap.quarantined.contains(key) {
            continue;
        }
        out.changed.insert(
            key.to_string(),
            QuarantineChange {
                quarantined: over,
                notice: QuarantineNotice {
                    kind: c.kind.as_str().to_string(),
                    masked: c.masked,
                    digest: format!("{:016x}", fnv1a(key.as_bytes())),
                    companions,
                    at_ms: c.last_ms,
                },
            },
        );
    }
    // A kind that stops linking: its quarantined identifiers are no link
    // keys any more, which nothing quarantines (a fresh run under the new
    // rules shows them on golden records). Released, and their holders
    // rebuilt.
    let stopped: BTreeSet<IdentifierKind> = IdentifierKind::ALL
        .into_iter()
        .filter(|k| old.identifiers.get(*k).link && !new.identifiers.get(*k).link)
        .collect();
    let released: &[CanonicalEvent] = if stopped.is_empty() || snap.quarantined.is_empty() {
        &[]
    } else {
        &all.events
    };
    for (n, event) in released.iter().enumerate() {
        if !event.identifiers.iter().any(|i| stopped.contains(&i.kind)) {
            continue;
        }
        for link in &old_keys[n].links {
            let Some(kind) = link.class.kind().filter(|k| stopped.contains(k)) else {
                continue;
            };
            if !snap.quarantined.contains(&link.key) {
                continue;
            }
            out.unlinked.insert(all.origins[n] as usize);
            let masked = masked_link(event, link, kind);
            let digest = format!("{:016x}", fnv1a(link.key.as_bytes()));
            out.changed
                .entry(link.key.clone())
                .or_insert(QuarantineChange {
                    quarantined: false,
                    // Not published (a release is not announced).
                    notice: QuarantineNotice {
                        kind: kind.as_str().to_string(),
                        masked,
                        digest,
                        companions: 0,
                        at_ms: event.event_time_ms,
                    },
                });
        }
    }
    // A quarantined identifier whose records were all erased is carried by
    // none of the records left: nothing would quarantine it, or hold it.
    // Looked for whenever every quarantine is recounted: after erasures,
    // and in a store of an older linking (entries orphaned by erasures
    // before the store noted them). Those of a kind that stops linking
    // that records carry under the old rules were released above.
    if snap.recount_after_erasure || !snap.linking_current {
        let carried: std::collections::HashSet<&str> = all
            .keys
            .iter()
            .flat_map(|k| {
                k.links
                    .iter()
                    .map(|l| l.key.as_str())
                    .chain(k.legacy.iter().map(String::as_str))
            })
            .collect();
        out.removed = snap
            .quarantined
            .iter()
            .filter(|key| !carried.contains(key.as_str()) && !out.changed.contains_key(*key))
            .cloned()
            .collect();
    }
    // Keys only the old rules make (a kind that stops linking, a rule
    // removed or blocking on other fields): a fresh run under the new
    // rules has no entry for them, and an entry keeps its holders' ids
    // and the guard's digests of names and companions, which nothing
    // would read again.
    // In a store of an older linking, so do the rule blocks this release
    // no longer makes under any rules (`EventKeys::retired`).
    if old != new || !snap.linking_current {
        let made: std::collections::HashSet<&str> = all
            .keys
            .iter()
            .flat_map(|k| k.links.iter().map(|l| l.key.as_str()))
            .collect();
        for l in old_keys.iter().flat_map(|k| &k.links) {
            if !made.contains(l.key.as_str()) {
                out.unmade.insert(l.key.clone());
            }
        }
        // Never made by this release: held only by an older store.
        out.unmade.extend(snap.retired.iter().cloned());
    }
    out
}

/// Which profiles a policy would re-partition, and how; the quarantines
/// its limits change; and each changed group as `rules apply` writes it:
/// its events placed as the whole store's clustering places them.
fn plan(
    snap: &Snapshot,
    old: &LinkPolicy,
    policy: &LinkPolicy,
) -> (RulesPlan, Requarantine, Vec<Regroup>) {
    let ids: Vec<String> = snap.profiles.keys().cloned().collect();
    let all = group_input(snap, &ids, policy);
    // Every record's keys under the old rules, derived once: the
    // quarantines and index entries only they make, and the suggestions
    // they raise, are read from them (the new rules' keys when the rules
    // are the same).
    let derived: Vec<EventKeys>;
    let old_keys: &[EventKeys] = if old == policy {
        &all.keys
    } else {
        derived = all
            .events
            .iter()
            .map(|e| EventKeys::of(e, old, &snap.hasher))
            .collect();
        &derived
    };
    let requarantine = requarantine(snap, &all, old, old_keys, policy);
    let quarantined = |k: &str| requarantine.holds(snap, k);
    let whole = cluster(
        &nodes(&all.events, &all.keys, &all.constraints, &all.origins),
        policy,
        &quarantined,
    );
    // Profiles carrying an identifier whose quarantine flips are rebuilt
    // even where their partition stays: it leaves or rejoins their golden
    // records.
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    let mut touched_at: BTreeSet<usize> = BTreeSet::new();
    for (n, keys) in all.keys.iter().enumerate() {
        if keys
            .links
            .iter()
            .any(|l| requarantine.changed.contains_key(&l.key))
        {
            let o = all.origins[n] as usize;
            touched.insert(ids[o].as_str());
            touched_at.insert(o);
        }
    }
    // Profiles joined by a new cluster form a group; a group changes when
    // its profiles and the new clusters do not coincide one to one.
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    let mut changed: BTreeSet<usize> = BTreeSet::new();
    let mut clusters_of: BTreeMap<usize, usize> = BTreeMap::new();
    for members in &whole.clusters {
        let origins: BTreeSet<usize> = members.iter().map(|&n| all.origins[n] as usize).collect();
        let first = *origins.iter().next().unwrap_or(&0);
        for &o in &origins {
            union(&mut parent, first, o);
            *clusters_of.entry(o).or_default() += 1;
        }
        if origins.len() > 1 {
            changed.extend(origins);
        }
    }
    for &o in &requarantine.unlinked {
        touched.insert(ids[o].as_str());
        touched_at.insert(o);
    }
    changed.extend(clusters_of.iter().filter(|(_, n)| **n > 1).map(|(o, _)| *o));
    changed.extend(touched_at);
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for o in changed {
        let root = find(&mut parent, o);
        groups.entry(root).or_default().push(o);
    }
    let (suggestions, withdrawn) = planned_suggestions(snap, &ids, &all, &whole, old, old_keys);
    let mut out = RulesPlan {
        events: all.events.len(),
        profiles: ids.len(),
        groups: Vec::new(),
        suggestions,
        withdrawn,
        erasure_waiting: false,
        recount_after_erasure: snap.recount_after_erasure,
        quarantined: requarantine
            .changed
            .values()
            .filter(|c| c.quarantined)
            .count(),
        released: requarantine
            .changed
            .values()
            .filter(|c| !c.quarantined)
            .count(),
        removed: requarantine.removed.len(),
        unindexed: requarantine.unmade.len(),
        marked_shared: requarantine.names_differ.values().filter(|m| **m).count(),
        unmarked: requarantine.names_differ.values().filter(|m| !**m).count(),
    };
    // Each changed group takes its part of the whole store's clustering:
    // clustered alone, a group would lack the records of others that lie
    // between its own in time on a shared key (a key's records chain in
    // time order), which keep them apart in a fresh run.
    let groups: Vec<Vec<String>> = groups
        .into_values()
        .map(|group| {
            let mut before: Vec<String> = group.iter().map(|&o| ids[o].clone()).collect();
            before.sort();
            before
        })
        .collect();
    let parts = split_by_group(all, &ids, whole, &groups);
    let mut regroup = Vec::new();
    for (before, (g, c)) in groups.into_iter().zip(parts) {
        let from: Vec<Vec<String>> = c
            .clusters
            .iter()
            .map(|ms| {
                let set: BTreeSet<&String> =
                    ms.iter().map(|&n| &before[g.origins[n] as usize]).collect();
                set.into_iter().cloned().collect()
            })
            .collect();
        let unchanged = c.clusters.len() == before.len() && from.iter().all(|f| f.len() == 1);
        if unchanged && !before.iter().any(|id| touched.contains(id.as_str())) {
            continue;
        }
        let after = c
            .clusters
            .iter()
            .map(|ms| {
                let mut e: Vec<String> = ms.iter().map(|&n| g.events[n].event_id.clone()).collect();
                e.sort();
                e
            })
            .collect();
        out.groups.push(PlannedGroup {
            before: before.clone(),
            after,
            from,
        });
        regroup.push(Regroup {
            before,
            input: g,
            clustering: c,
        });
    }
    out.groups.sort_by(|a, b| a.before.cmp(&b.before));
    (out, requarantine, regroup)
}

/// A changed group of profiles as `rules apply` writes it: its events, and
/// their part of the whole store's clustering ([`split_by_group`]).
struct Regroup {
    /// The group's profile ids, sorted (the events' origins index them).
    before: Vec<String>,
    input: GroupInput,
    clustering: Clustering,
}

/// Each of `groups`' part of the whole store's clustering `c` (of `g`,
/// the events of the profiles `ids`): its events, their origins numbered
/// by the group's (sorted) profiles, and the clusters among them,
/// renumbered. A group is a union of the whole store's clusters, so a
/// cluster's records are all one group's or none's. The review pairs stay
/// behind: `rules apply` queues the plan's (`planned_suggestions`), among
/// a group's people too, and no others, so that it queues what `rules
/// diff` lists. The refusal counts are the whole store's and stay behind;
/// of its shared keys and proposed blocks, each part takes those its
/// records hold.
fn split_by_group(
    g: GroupInput,
    ids: &[String],
    c: Clustering,
    groups: &[Vec<String>],
) -> Vec<(GroupInput, Clustering)> {
    let mut at: HashMap<&str, (usize, u32)> = HashMap::new();
    for (i, before) in groups.iter().enumerate() {
        for (o, id) in before.iter().enumerate() {
            at.insert(id.as_str(), (i, o as u32));
        }
    }
    let mut out: Vec<(GroupInput, Clustering)> = groups
        .iter()
        .map(|_| {
            let part = GroupInput {
                events: Vec::new(),
                keys: Vec::new(),
                constraints: Vec::new(),
                origins: Vec::new(),
            };
            (part, Clustering::default())
        })
        .collect();
    // Node -> (group, its index there).
    let mut node_at: Vec<Option<(usize, usize)>> = Vec::with_capacity(g.events.len());
    let rows = g.events.into_iter().zip(g.keys).zip(g.constraints);
    for (((event, keys), constraints), origin) in rows.zip(g.origins) {
        let Some(&(i, o)) = ids.get(origin as usize).and_then(|id| at.get(id.as_str())) else {
            node_at.push(None);
            continue;
        };
        let part = &mut out[i].0;
        node_at.push(Some((i, part.events.len())));
        part.events.push(event);
        part.keys.push(keys);
        part.constraints.push(constraints);
        part.origins.push(o);
    }
    // The whole store's shared keys and proposed blocks, those the part's
    // records hold (what its write looks up).
    for (part, clustering) in &mut out {
        for key in part.keys.iter().flat_map(|k| &k.links).map(|l| &l.key) {
            if c.shared_keys.contains(key) {
                clustering.shared_keys.insert(key.clone());
            }
            if c.proposed_blocks.contains(key) {
                clustering.proposed_blocks.insert(key.clone());
            }
        }
    }
    let clusters = c.clusters.into_iter().zip(c.links).zip(c.weak_joined);
    for ((ms, links), weak) in clusters {
        let Some((i, _)) = ms.first().and_then(|&n| node_at[n]) else {
            continue;
        };
        let renumbered = ms
            .iter()
            .filter_map(|&n| node_at[n].filter(|(j, _)| *j == i).map(|(_, m)| m))
            .collect();
        let part = &mut out[i].1;
        part.clusters.push(renumbered);
        part.links.push(links);
        part.weak_joined.push(weak);
    }
    out
}

/// The root of `x` in a union-find forest.
fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Joins the sets of `a` and `b`; the smaller root stays.
fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    parent[ra.max(rb)] = ra.min(rb);
}
