//! The change events against the store, for every operation that emits
//! them: a downstream consumer folding every change published so far (in
//! the resolver's order, as the `kindred.change.seq` header gives it) into
//! [`kindred_eval::ChangeLog`] must find each live event in the profile the
//! store has it in, after ingestion, operator splits, review decisions
//! (and a reject taking an approval back), erasure, `rules apply` and
//! `republish`, and new events after any of them.
//!
//! The changes are read from the outbox, as the publisher reads them (the
//! outbox sequence is the header's value): the operations that return no
//! changes of their own (`republish`) are covered too.
//!
//! Decisions are also made the way the live service makes them
//! ([`Resolver::apply_request`], as the resolver service applies the
//! decision-request topic: splits by index key), and by splits naming an
//! index key directly; decisions are carried onto a store
//! ([`Resolver::carry_decisions`], as `kindred rebuild --decisions-from`
//! does, onto a store replayed from the events, or again onto the same
//! store); and bursts of more than 64 records make profiles whose
//! absorbed ids list only their first 64.

use std::collections::{BTreeMap, BTreeSet};

use kindred_eval::ChangeLog;
use kindred_model::{
    CanonicalEvent, Channel, Identifier, IdentifierKind, LinkPolicy, ProfileChange, RuleAction,
    Survivorship,
};
use kindred_resolver::{
    AdminError, DecisionAction, DecisionKind, DecisionRequest, ErasureRequest, ErasureTarget,
    GuardState, OutboxEntry, Resolver, RulesPlan, SourceOffset, SplitSelector, Store,
};
use proptest::prelude::*;

const DAY: i64 = 86_400_000;

/// A store and the consumer reading its outbox.
struct World {
    _dir: tempfile::TempDir,
    r: Resolver,
    downstream: ChangeLog,
    /// Outbox sequence read up to.
    read: u64,
    /// Erasure and decision request numbers.
    requests: u64,
    /// Every event ingested, in order (the canonical topic).
    log: Vec<CanonicalEvent>,
    /// Every profile id a change named (for requests naming gone ones).
    ids_seen: BTreeSet<String>,
    /// Bursts so far (their records' ids and cards are numbered).
    bursts: usize,
    /// Whether erased people's later events are dropped.
    suppress: bool,
}

impl World {
    fn new(policy: LinkPolicy) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("db")).expect("open store");
        World {
            _dir: dir,
            r: Resolver::with_policy(store, policy, Survivorship::default()),
            downstream: ChangeLog::new(),
            read: 0,
            requests: 0,
            log: Vec::new(),
            ids_seen: BTreeSet::new(),
            bursts: 0,
            suppress: true,
        }
    }

    /// Folds every change queued since the last call into the consumer;
    /// returns how many there were.
    fn publish(&mut self) -> usize {
        let mut changes = 0;
        for (seq, entry) in self
            .r
            .store()
            .outbox_after(self.read, usize::MAX)
            .expect("outbox")
        {
            if let OutboxEntry::Change(change) = entry {
                self.ids_seen.insert(change.profile_id.clone());
                self.downstream.apply_at(&change, Some(seq));
                changes += 1;
            }
            self.read = seq;
        }
        changes
    }

    fn ingest(&mut self, events: &[CanonicalEvent]) {
        self.r.apply(events, &[]).expect("apply");
        self.log.extend_from_slice(events);
        self.publish();
    }

    /// `action` sent as a decision request, applied as the resolver
    /// service applies one: a refusal publishes no change; an applied one
    /// publishes as many as its reply says.
    fn request(&mut self, action: DecisionAction, t: i64) -> Result<(), TestCaseError> {
        self.requests += 1;
        let request = DecisionRequest {
            request_id: format!("dr-{}", self.requests),
            actor: "rev".into(),
            at_ms: t,
            action,
        };
        let offset = SourceOffset {
            topic: "kindred.decision.requests".into(),
            partition: 0,
            next_offset: self.requests as i64,
        };
        let done = self.r.apply_request(&request, &[offset]).expect("request");
        let published = self.publish();
        prop_assert_eq!(&done.reply.request_id, &request.request_id);
        match done.reply.outcome.as_str() {
            "applied" => prop_assert_eq!(
                published,
                done.reply.changes,
                "the reply counts the changes published: {:?}",
                done.reply
            ),
            _ => prop_assert_eq!(published, 0, "a refusal changes nothing: {:?}", done.reply),
        }
        Ok(())
    }

    /// `kindred rebuild --decisions-from` this store: a new store replays
    /// the events this one holds (the canonical topic, less the erased),
    /// then the decisions pinned here are carried onto it and queued for
    /// the decisions topic. Its consumer reads the new store's changes from
    /// the start (the profile ids are numbered afresh).
    fn rebuilt(&self, batch: usize) -> World {
        let mut new = World::new(self.r.policy().clone());
        new.set_suppress(self.suppress);
        new.requests = self.requests;
        new.bursts = self.bursts;
        let held = self.stored();
        let replay: Vec<CanonicalEvent> = self
            .log
            .iter()
            .filter(|e| held.contains_key(&e.event_id))
            .cloned()
            .collect();
        for part in replay.chunks(batch.max(1)) {
            new.ingest(part);
        }
        let pinned = self.r.store().decisions_pinned().expect("pinned");
        refused_or_done(new.r.carry_decisions(
            &pinned.events,
            pinned.next_decision,
            "kindred rebuild",
            20 * 400 * DAY,
        ));
        new.r.queue_pinned_decisions(2).expect("queue pinned");
        new.publish();
        new
    }

    fn set_suppress(&mut self, on: bool) {
        self.suppress = on;
        self.r.set_suppress_erased(on);
    }

    fn erase(&mut self, target: ErasureTarget) {
        self.requests += 1;
        self.r
            .erase(
                &ErasureRequest {
                    request_id: format!("DSR-{}", self.requests),
                    target,
                    requested_by: "privacy".into(),
                    at_ms: 1_700_000_000_000,
                },
                &[],
            )
            .expect("erase");
        self.publish();
    }

    /// Event id -> profile id, as the store has them.
    fn stored(&self) -> BTreeMap<String, String> {
        self.r
            .store()
            .assignments()
            .expect("assignments")
            .into_iter()
            .collect()
    }

    /// Event id -> profile id, as the consumer has them (erased excluded).
    fn seen(&self) -> BTreeMap<String, String> {
        self.downstream
            .assignments()
            .map(|(e, p)| (e.to_string(), p))
            .collect()
    }

    fn live_profiles(&self) -> Vec<String> {
        let set: BTreeSet<String> = self.stored().into_values().collect();
        set.into_iter().collect()
    }
}

/// Groups of events, sorted: the partition a map describes.
fn partition(of: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (e, p) in of {
        groups.entry(p).or_default().push(e.clone());
    }
    let mut out: Vec<Vec<String>> = groups.into_values().collect();
    out.sort();
    out
}

/// Small worlds where identifiers, names, birthdays and times collide:
/// merges, guard refusals (review pairs), rule links and splits all happen.
fn arb_event(i: usize) -> impl Strategy<Value = CanonicalEvent> {
    (
        // Up to 933 days apart: past a phone's 730-day window.
        0i64..8,
        proptest::collection::vec((0usize..4, 0u8..3), 1..4),
        proptest::option::of(0usize..4),
        proptest::option::of(0usize..3),
        0usize..3,
    )
        .prop_map(move |(day, ids, name, born, channel)| {
            let kinds = [
                IdentifierKind::MemberId,
                IdentifierKind::Phone,
                IdentifierKind::Email,
                IdentifierKind::Device,
            ];
            let mut identifiers: Vec<Identifier> = ids
                .into_iter()
                .map(|(k, v)| Identifier::new(kinds[k], value(kinds[k], v)))
                .collect();
            identifiers.sort();
            identifiers.dedup();
            let mut e = CanonicalEvent::new(
                format!("e{i:02}"),
                Channel::ALL[channel],
                day * 400 * DAY / 3,
                identifiers,
            );
            e.activity.points_earned = 1;
            e.attributes.full_name = name.map(|n| ["李娜", "Li Na", "王伟", "Li Nna"][n].into());
            if let Some(b) = born {
                e.attributes.birthday =
                    Some(["1990-01-02", "1990-02-01", "1962-08-25"][b].to_string());
                e.attributes.address = Some(kindred_model::Address {
                    postal_code: Some("200000".into()),
                    ..Default::default()
                });
            }
            e
        })
}

/// How the landlines of [`value`] begin (a household's line counts its
/// unnamed records' anchors).
const LANDLINES: &str = "phone:+86216";

fn value(kind: IdentifierKind, v: u8) -> String {
    match kind {
        IdentifierKind::MemberId => format!("MAIN:M{v}"),
        // Two mobiles and a Shanghai landline (which links alike names only).
        IdentifierKind::Phone if v < 2 => format!("+861390000000{v}"),
        IdentifierKind::Phone => format!("+86216123456{v}"),
        IdentifierKind::Email => format!("p{v}@x.cn"),
        _ => format!("web:d{v}"),
    }
}

/// Every identifier the events can carry, for erasure by identifier.
fn all_identifiers() -> Vec<Identifier> {
    let mut out = Vec::new();
    for kind in [
        IdentifierKind::MemberId,
        IdentifierKind::Phone,
        IdentifierKind::Email,
        IdentifierKind::Device,
    ] {
        for v in 0..3 {
            out.push(Identifier::new(kind, value(kind, v)));
        }
    }
    out
}

/// The rule sets `rules apply` switches between.
fn policy(base: &LinkPolicy, n: usize) -> LinkPolicy {
    let mut p = base.clone();
    match n {
        // Phones stop linking.
        1 => p.identifiers.phone.link = false,
        // The exact rule goes; the similar-name rule merges.
        2 => {
            p.rules.retain(|r| r.name != "name_birthday_postcode");
            if let Some(r) = p
                .rules
                .iter_mut()
                .find(|r| r.name == "similar_name_birthday_postcode")
            {
                r.action = RuleAction::Merge;
                r.version = 2;
            }
        }
        // The name guard off: households' shared identifiers link.
        3 => p.min_name_similarity = 0.0,
        // A landline on unnamed records of two customers links nothing.
        4 => p.quarantine.max_unnamed_holders = 1,
        // And a card seen with a second phone is a house card: the
        // receipts it stood for count alone on their lines.
        5 => {
            p.quarantine.max_unnamed_holders = 1;
            p.identifiers.member_id.max_companions = Some(1);
        }
        _ => {}
    }
    p
}

#[derive(Debug, Clone)]
enum Op {
    /// The next `n` events of the world, in one batch.
    Ingest(usize),
    /// An event of the world already ingested (or erased), again.
    Again(usize),
    /// A live profile split by one of its identifiers.
    SplitId {
        profile: usize,
        identifier: usize,
    },
    /// A live profile split by one of its identifiers, named by its index
    /// key ([`SplitSelector::IndexKey`]).
    SplitKey {
        profile: usize,
        identifier: usize,
    },
    /// A live profile split by a channel.
    SplitSource {
        profile: usize,
        channel: usize,
    },
    /// The live profile of the most records (a burst's, after one) split
    /// by one of its identifiers or (`Some`) a channel.
    SplitLargest {
        identifier: usize,
        channel: Option<usize>,
    },
    /// A waiting review pair decided.
    Review {
        pair: usize,
        approve: bool,
    },
    /// An approved pair rejected (the approval taken back).
    Unapprove(usize),
    /// One of the decisions above (a split or a review) sent as a decision
    /// request, as `kindred split|review --live` sends it (a split names
    /// its identifier by index key).
    Request(Box<Op>),
    /// A decision request naming a profile id that is not live (absorbed
    /// or erased): a review of it and a live one, or a split of it; or
    /// (`malformed`) a split naming both an identifier and a channel.
    StaleRequest {
        n: usize,
        split: bool,
        malformed: bool,
    },
    /// A live profile erased.
    EraseProfile(usize),
    /// Whoever holds an identifier erased.
    EraseIdentifier(usize),
    /// Another rule set applied.
    Rules(usize),
    Republish,
    /// The store's pinned decisions carried onto it again.
    Carry,
    /// The store rebuilt from its events, replayed in batches of this
    /// many, with its decisions carried over (a new consumer).
    Rebuild(usize),
    /// `64 + more` records of a new card (the first 64 by time from channel
    /// `early`, the later ones from `late`), then one record joining the
    /// card to an identifier of a live profile: a profile of more records
    /// than an absorbed id lists, absorbed.
    Burst {
        identifier: usize,
        early: usize,
        late: usize,
        more: usize,
    },
}

fn arb_decision() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..8, 0usize..8).prop_map(|(profile, identifier)| Op::SplitId {
            profile,
            identifier
        }),
        (0usize..8, 0usize..3).prop_map(|(profile, channel)| Op::SplitSource { profile, channel }),
        (0usize..4, any::<bool>()).prop_map(|(pair, approve)| Op::Review { pair, approve }),
        (0usize..4).prop_map(Op::Unapprove),
        (0usize..8, proptest::option::of(0usize..3)).prop_map(|(identifier, channel)| {
            Op::SplitLargest {
                identifier,
                channel,
            }
        }),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..4).prop_map(Op::Ingest),
        1 => (0usize..16).prop_map(Op::Again),
        3 => (0usize..8, 0usize..8).prop_map(|(profile, identifier)| Op::SplitId { profile, identifier }),
        2 => (0usize..8, 0usize..8).prop_map(|(profile, identifier)| Op::SplitKey { profile, identifier }),
        2 => (0usize..8, 0usize..3).prop_map(|(profile, channel)| Op::SplitSource { profile, channel }),
        3 => (0usize..8, proptest::option::of(0usize..3))
            .prop_map(|(identifier, channel)| Op::SplitLargest { identifier, channel }),
        3 => (0usize..4, any::<bool>()).prop_map(|(pair, approve)| Op::Review { pair, approve }),
        2 => (0usize..4).prop_map(Op::Unapprove),
        5 => arb_decision().prop_map(|d| Op::Request(Box::new(d))),
        1 => (0usize..16, any::<bool>(), proptest::bool::weighted(0.2))
            .prop_map(|(n, split, malformed)| Op::StaleRequest { n, split, malformed }),
        1 => (0usize..8).prop_map(Op::EraseProfile),
        1 => (0usize..12).prop_map(Op::EraseIdentifier),
        1 => (0usize..6).prop_map(Op::Rules),
        1 => Just(Op::Republish),
        1 => Just(Op::Carry),
        2 => (1usize..8).prop_map(Op::Rebuild),
        1 => (0usize..8, 0usize..3, 0usize..3, 1usize..4)
            .prop_map(|(identifier, early, late, more)| Op::Burst { identifier, early, late, more }),
    ]
}

/// An admin operation that was refused (not separable, merged since, ...)
/// changes nothing; a store error is a failure.
fn refused_or_done<T>(r: Result<T, AdminError>) {
    match r {
        Ok(_) => {}
        Err(AdminError::Store(e)) => panic!("store error: {e}"),
        Err(_) => {}
    }
}

/// Splits `id` by `selector`, or sends the split as a decision request
/// (an identifier by its index key).
fn split(
    w: &mut World,
    id: &str,
    selector: SplitSelector,
    t: i64,
    request: bool,
) -> Result<(), TestCaseError> {
    if !request {
        refused_or_done(w.r.split(id, &selector, "ops", t));
        w.publish();
        return Ok(());
    }
    let (identifier_key, source) = match selector {
        SplitSelector::Identifier(i) => (Some(kindred_resolver::index_key(None, &i)), None),
        SplitSelector::IndexKey(key) => (Some(key), None),
        SplitSelector::Source(channel) => (None, Some(channel)),
    };
    w.request(
        DecisionAction::Split {
            profile: id.to_string(),
            identifier_key,
            source,
        },
        t,
    )
}

/// A reviewer's decision on `a` and `b`, made directly or sent as a request.
fn review(
    w: &mut World,
    a: &str,
    b: &str,
    approve: bool,
    t: i64,
    request: bool,
) -> Result<(), TestCaseError> {
    if !request {
        refused_or_done(w.r.review(a, b, approve, "rev", t));
        w.publish();
        return Ok(());
    }
    w.request(
        DecisionAction::Review {
            a: a.to_string(),
            b: b.to_string(),
            approve,
        },
        t,
    )
}

/// The records of [`Op::Burst`] number `k`: a new card's, then the record
/// joining it to `identifier`.
fn burst(
    k: usize,
    identifier: &Identifier,
    channels: (usize, usize),
    more: usize,
) -> Vec<CanonicalEvent> {
    let card = Identifier::new(IdentifierKind::Email, format!("b{k}@x.cn"));
    let record = |j: usize, channel: usize, t: i64, ids: Vec<Identifier>| {
        let mut e = CanonicalEvent::new(format!("b{k}-{j:02}"), Channel::ALL[channel], t, ids);
        e.activity.points_earned = 1;
        e
    };
    let mut out: Vec<CanonicalEvent> = (0..64)
        .map(|j| record(j, channels.0, j as i64 * 1000, vec![card.clone()]))
        .collect();
    out.extend((64..64 + more).map(|j| record(j, channels.1, j as i64 * 1000, vec![card.clone()])));
    let mut ids = vec![card, identifier.clone()];
    ids.sort();
    out.push(record(64 + more, 0, 400 * DAY, ids));
    out
}

/// Runs `ops` over `events` (with erased people suppressed or not) and
/// checks the consumer against the store after every step: the partition,
/// then the profile ids. Returns the world as the last step left it.
fn run(events: &[CanonicalEvent], ops: &[Op], suppress: bool) -> Result<World, TestCaseError> {
    run_with(events, ops, suppress, &LinkPolicy::default(), false)
}

/// [`run`] from the link policy `base` (the rule sets `rules apply`
/// switches between derive from it); with `replay`, also checks after
/// every step that a store rebuilt from the events it holds, with its
/// decisions carried over, has the same partition.
fn run_with(
    events: &[CanonicalEvent],
    ops: &[Op],
    suppress: bool,
    base: &LinkPolicy,
    replay: bool,
) -> Result<World, TestCaseError> {
    let mut w = World::new(base.clone());
    w.set_suppress(suppress);
    let mut next = 0usize;
    let mut t = 10 * 400 * DAY;
    for (step, op) in ops.iter().enumerate() {
        t += DAY;
        let (op, request) = match op {
            Op::Request(inner) => (inner.as_ref(), true),
            op => (op, false),
        };
        match op {
            Op::Ingest(n) => {
                let end = (next + n).min(events.len());
                let batch = events[next..end].to_vec();
                next = end;
                if !batch.is_empty() {
                    w.ingest(&batch);
                }
            }
            Op::Again(i) => {
                if next > 0 {
                    let e = events[i % next].clone();
                    w.ingest(&[e]);
                }
            }
            Op::SplitId {
                profile,
                identifier,
            }
            | Op::SplitKey {
                profile,
                identifier,
            } => {
                let live = w.live_profiles();
                if !live.is_empty() {
                    let id = live[profile % live.len()].clone();
                    let record = w.r.store().profile(&id).expect("read").expect("live");
                    if !record.identifiers.is_empty() {
                        let i = record.identifiers[identifier % record.identifiers.len()].clone();
                        let selector = match op {
                            Op::SplitKey { .. } => {
                                SplitSelector::IndexKey(kindred_resolver::index_key(None, &i))
                            }
                            _ => SplitSelector::Identifier(i),
                        };
                        split(&mut w, &id, selector, t, request)?;
                    }
                }
            }
            Op::SplitSource { profile, channel } => {
                let live = w.live_profiles();
                if !live.is_empty() {
                    let id = live[profile % live.len()].clone();
                    let selector = SplitSelector::Source(Channel::ALL[*channel]);
                    split(&mut w, &id, selector, t, request)?;
                }
            }
            Op::SplitLargest {
                identifier,
                channel,
            } => {
                let stored = w.stored();
                let mut size: BTreeMap<&str, usize> = BTreeMap::new();
                for p in stored.values() {
                    *size.entry(p).or_default() += 1;
                }
                // The first of the largest.
                let largest = size
                    .iter()
                    .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
                    .map(|(p, _)| p.to_string());
                if let Some(id) = largest {
                    let record = w.r.store().profile(&id).expect("read").expect("live");
                    let selector = match channel {
                        Some(c) => Some(SplitSelector::Source(Channel::ALL[*c])),
                        None if record.identifiers.is_empty() => None,
                        None => Some(SplitSelector::Identifier(
                            record.identifiers[identifier % record.identifiers.len()].clone(),
                        )),
                    };
                    if let Some(selector) = selector {
                        split(&mut w, &id, selector, t, request)?;
                    }
                }
            }
            Op::Review { pair, approve } => {
                let pending = w.r.store().pending_suggestions().expect("queue");
                if !pending.is_empty() {
                    let p = &pending[pair % pending.len()];
                    let (a, b) = (p.profile_a.clone(), p.profile_b.clone());
                    review(&mut w, &a, &b, *approve, t, request)?;
                }
            }
            Op::Unapprove(n) => {
                let approved: Vec<Vec<String>> =
                    w.r.store()
                        .decisions()
                        .expect("decisions")
                        .into_iter()
                        .filter(|d| d.kind == DecisionKind::Approve && d.profiles.len() == 2)
                        .map(|d| d.profiles)
                        .collect();
                if !approved.is_empty() {
                    let p = &approved[n % approved.len()];
                    let (a, b) = (p[0].clone(), p[1].clone());
                    review(&mut w, &a, &b, false, t, request)?;
                }
            }
            Op::StaleRequest {
                n,
                split: by_split,
                malformed,
            } => {
                let live = w.live_profiles();
                let gone: Vec<String> = w
                    .ids_seen
                    .iter()
                    .filter(|id| !live.contains(id))
                    .cloned()
                    .collect();
                let action = if *malformed && !live.is_empty() {
                    Some(DecisionAction::Split {
                        profile: live[n % live.len()].clone(),
                        identifier_key: Some("member_id:MAIN:M0".into()),
                        source: Some(Channel::Pos),
                    })
                } else if gone.is_empty() {
                    None
                } else if *by_split {
                    Some(DecisionAction::Split {
                        profile: gone[n % gone.len()].clone(),
                        identifier_key: None,
                        source: Some(Channel::ALL[n % 3]),
                    })
                } else {
                    let other = live.first().cloned().unwrap_or_else(|| "kp-999".into());
                    Some(DecisionAction::Review {
                        a: gone[n % gone.len()].clone(),
                        b: other,
                        approve: n % 2 == 0,
                    })
                };
                if let Some(action) = action {
                    w.request(action, t)?;
                }
            }
            Op::EraseProfile(n) => {
                let live = w.live_profiles();
                if !live.is_empty() {
                    let id = live[n % live.len()].clone();
                    w.erase(ErasureTarget::Profile(id));
                }
            }
            Op::EraseIdentifier(n) => {
                let all = all_identifiers();
                w.erase(ErasureTarget::Identifier(all[n % all.len()].clone()));
            }
            Op::Rules(n) => {
                let plan = w.r.plan_rules(&policy(base, *n));
                let applied = w.r.apply_rules(policy(base, *n), "ops", t);
                if let (Ok(plan), Ok((applied, _))) = (plan, &applied) {
                    prop_assert_eq!(&plan, applied, "rules diff predicts what apply does");
                }
                refused_or_done(applied);
                w.publish();
            }
            Op::Republish => {
                refused_or_done(w.r.republish("ops", t, 3));
                w.publish();
            }
            Op::Carry => {
                let pinned = w.r.store().decisions_pinned().expect("pinned");
                refused_or_done(w.r.carry_decisions(
                    &pinned.events,
                    pinned.next_decision,
                    "ops",
                    t,
                ));
                w.publish();
            }
            Op::Rebuild(batch) => w = w.rebuilt(*batch),
            Op::Burst {
                identifier,
                early,
                late,
                more,
            } => {
                // An identifier some live profile holds, if any.
                let mut held: Vec<Identifier> = Vec::new();
                for id in w.live_profiles() {
                    let record = w.r.store().profile(&id).expect("read").expect("live");
                    held.extend(record.identifiers);
                }
                if held.is_empty() {
                    held = all_identifiers();
                }
                let k = w.bursts;
                w.bursts += 1;
                let records = burst(k, &held[identifier % held.len()], (*early, *late), *more);
                let (card, join) = records.split_at(records.len() - 1);
                w.ingest(card);
                w.ingest(join);
            }
            Op::Request(_) => unreachable!("unwrapped above"),
        }
        let (stored, seen) = (w.stored(), w.seen());
        if replay {
            let replay = w.rebuilt(10);
            let (live, theirs) = (guard_state(&w.r, &w.log), guard_state(&replay.r, &w.log));
            if !w.r.store().quarantine_recount_pending().expect("read") {
                prop_assert_eq!(
                    partition(&replay.stored()),
                    partition(&stored),
                    "step {} ({:?}): a replay with the decisions differs from the store",
                    step,
                    op
                );
                // Every count of the over-shared guard and every card's
                // shared mark are the replay's too, erasures included.
                prop_assert_eq!(
                    live,
                    theirs,
                    "step {} ({:?}): the guard's counts differ from a replay's",
                    step,
                    op
                );
            } else {
                // Until `rules apply` recounts what an erasure left
                // quarantined (the store notes it), the replay may link
                // through it, and count landlines' receipts by it; every
                // other identifier quarantined on neither side already
                // has the replay's counts and mark.
                let settled = |s: &Option<GuardState>| !s.as_ref().is_some_and(|s| s.quarantined);
                for ((id, a), (_, b)) in live.iter().zip(&theirs) {
                    if settled(a) && settled(b) && !id.starts_with(LANDLINES) {
                        prop_assert_eq!(
                            a,
                            b,
                            "step {} ({:?}): {} differs from a replay's",
                            step,
                            op,
                            id
                        );
                    }
                }
            }
        }
        prop_assert_eq!(
            partition(&seen),
            partition(&stored),
            "step {} ({:?}): downstream's partition differs from the store's",
            step,
            op
        );
        prop_assert_eq!(
            seen,
            stored,
            "step {} ({:?}): downstream finds events under other profile ids than the store",
            step,
            op
        );
    }
    Ok(w)
}

/// `default` cases, or `PROPTEST_CASES`.
fn cases(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(default),
        ..ProptestConfig::default()
    }
}

/// Most of a world's events first (so the operations have profiles to act
/// on), then `ops`, then the rest of its events.
fn framed(events: &[CanonicalEvent], ops: Vec<Op>) -> Vec<Op> {
    let mut all = vec![Op::Ingest(events.len() - 3)];
    all.extend(ops);
    all.push(Op::Ingest(events.len()));
    all
}

fn arb_world() -> impl Strategy<Value = (Vec<CanonicalEvent>, Vec<Op>, bool)> {
    (
        (6usize..14).prop_flat_map(|n| (0..n).map(arb_event).collect::<Vec<_>>()),
        proptest::collection::vec(arb_op(), 1..14),
        any::<bool>(),
    )
}

proptest! {
    // A longer hunt: `PROPTEST_CASES=2000 cargo test -p kindred-resolver
    // --release --test changelog`.
    #![proptest_config(cases(128))]

    /// Ingestion interleaved with splits, review decisions, erasure, rule
    /// changes and republishing: after every step, the consumer places
    /// every live event under the profile id the store has it under, and
    /// no erased event.
    #[test]
    fn the_change_events_follow_every_operation((events, ops, suppress) in arb_world()) {
        run(&events, &framed(&events, ops), suppress)?;
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// The store is what its events and decisions make it: carrying its own
    /// decisions onto it (as `kindred rebuild --decisions-from` would carry
    /// them onto a replay) moves no record and publishes no change, after
    /// any series of operations.
    #[test]
    fn carrying_a_stores_own_decisions_onto_it_changes_nothing((events, ops, suppress) in arb_world()) {
        let mut w = run(&events, &framed(&events, ops), suppress)?;
        let before = w.stored();
        let pinned = w.r.store().decisions_pinned().expect("pinned");
        refused_or_done(w.r.carry_decisions(&pinned.events, pinned.next_decision, "ops", 99 * 400 * DAY));
        let published = w.publish();
        prop_assert_eq!(&w.stored(), &before, "the carry moved records");
        prop_assert_eq!(published, 0, "the carry published changes");
    }
}

proptest! {
    #![proptest_config(cases(24))]

    /// The store is what its events and decisions make, whatever came in
    /// between: after every operation, a store rebuilt from the events it
    /// holds (in their order, in batches of 10) with its decisions carried
    /// over has the same partition (a rule change included: the rebuild
    /// runs under the rules applied).
    #[test]
    fn the_store_is_what_a_replay_of_its_events_and_decisions_makes((events, ops, suppress) in arb_world()) {
        replay_then_apply_the_same_rules(&events, ops, suppress, LinkPolicy::default())?;
    }

    /// The same under quarantine limits these small worlds cross often (a
    /// second companion of a kind, a third name, a second unnamed holder
    /// of a landline): quarantines and erasures of their holders, in any
    /// order.
    #[test]
    fn the_store_is_what_a_replay_makes_under_tight_quarantine_limits((events, ops, suppress) in arb_world()) {
        let mut base = LinkPolicy::default();
        base.quarantine.max_companions = 1;
        base.quarantine.max_names = 2;
        base.quarantine.max_unnamed_holders = 1;
        for kind in IdentifierKind::ALL {
            let p = base.identifiers.get_mut(kind);
            p.max_companions = None;
            p.max_names = None;
        }
        replay_then_apply_the_same_rules(&events, ops, suppress, base)?;
    }
}

/// [`run_with`] with replays after every step, then `rules apply` with the
/// rules the store holds: quarantines an erasure left are recounted, and
/// every guard state is the replay's, quarantined or not.
fn replay_then_apply_the_same_rules(
    events: &[CanonicalEvent],
    ops: Vec<Op>,
    suppress: bool,
    base: LinkPolicy,
) -> Result<(), TestCaseError> {
    let mut w = run_with(events, &framed(events, ops), suppress, &base, true)?;
    let policy = w.r.policy().clone();
    let pending = w.r.store().quarantine_recount_pending().expect("read");
    let plan = w.r.plan_rules(&policy).expect("plan");
    prop_assert_eq!(plan.recount_after_erasure, pending);
    if pending {
        let (applied, _) =
            w.r.apply_rules(policy, "ops", 99 * 400 * DAY)
                .expect("apply");
        prop_assert_eq!(&applied, &plan, "rules diff predicts what apply does");
        w.publish();
    } else {
        prop_assert!(
            plan.groups.is_empty(),
            "the same rules change nothing: {:?}",
            plan
        );
    }
    let replay = w.rebuilt(10);
    prop_assert_eq!(partition(&replay.stored()), partition(&w.stored()));
    prop_assert_eq!(
        guard_state(&w.r, &w.log),
        guard_state(&replay.r, &w.log),
        "after rules apply: the guard's counts differ from a replay's"
    );
    Ok(())
}

/// An event of the scenarios below, at `t` ms.
fn e(
    id: &str,
    channel: Channel,
    t: i64,
    ids: &[(IdentifierKind, &str)],
    name: Option<&str>,
    born: Option<&str>,
) -> CanonicalEvent {
    let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
    let mut e = CanonicalEvent::new(id, channel, t, ids);
    e.activity.points_earned = 1;
    e.attributes.full_name = name.map(Into::into);
    if let Some(b) = born {
        e.attributes.birthday = Some(b.into());
        e.attributes.address = Some(kindred_model::Address {
            postal_code: Some("200000".into()),
            ..Default::default()
        });
    }
    e
}

const T1: i64 = 400 * DAY / 3;

/// Found by the property test. e03 lands in kp-3, which e06 merges into
/// kp-2; e08 splits kp-2 and kp-4 takes e03, listing it as moved (and
/// redirecting kp-3 to kp-4). A source split then merges kp-4 back into
/// kp-2, and a split by e03's e-mail gives kp-4 back while e03 stays with
/// kp-2. The resolver looked for e03 under kp-3 (the absorbed id whose
/// list named it), which now ends in kp-2, so listed it nowhere; but the
/// consumer had it under kp-4 (the move placed it there), and put it in the
/// revived kp-4: e03 under kp-4 downstream, under kp-2 in the store.
#[test]
fn a_record_moved_under_a_profile_that_is_given_back_later_stays_where_the_store_has_it() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Pos,
            0,
            &[(Email, "p0@x.cn")],
            Some("李娜"),
            None,
        ),
        e(
            "e01",
            Channel::Web,
            T1,
            &[
                (Phone, "+8613900000000"),
                (Phone, "+8613900000001"),
                (Email, "p1@x.cn"),
            ],
            None,
            None,
        ),
        e(
            "e02",
            Channel::Pos,
            T1,
            &[(Phone, "+8613900000000")],
            None,
            None,
        ),
        e(
            "e03",
            Channel::Pos,
            0,
            &[(Email, "p0@x.cn"), (Device, "web:d0")],
            Some("王伟"),
            None,
        ),
        e(
            "e04",
            Channel::Pos,
            T1,
            &[(Email, "p1@x.cn")],
            None,
            Some("1990-01-02"),
        ),
        e(
            "e05",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M1"), (Email, "p0@x.cn")],
            Some("Li Nna"),
            Some("1962-08-25"),
        ),
        e(
            "e06",
            Channel::Pos,
            0,
            &[(Phone, "+8613900000000"), (Device, "web:d0")],
            None,
            None,
        ),
        e("e07", Channel::Pos, 0, &[(MemberId, "MAIN:M1")], None, None),
        e(
            "e08",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M1")],
            Some("王伟"),
            None,
        ),
    ];
    let ops = [
        Op::Ingest(events.len()),
        // kp-2 (the phones' profile) by its web records.
        Op::SplitSource {
            profile: 1,
            channel: 1,
        },
        // kp-2 by e03's e-mail (its third identifier).
        Op::SplitId {
            profile: 1,
            identifier: 2,
        },
    ];
    run(&events, &ops, true)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
}

/// Found by the property test. e09 merges kp-4 into kp-3, then e10 merges
/// kp-3 into kp-1 and gives kp-4 back (with e04 and e09). What kp-1 kept
/// of kp-3 still named e04, which the consumer finds under kp-4. A source
/// split of kp-4 then gave kp-3 back to e04's part (kp-3's list said it
/// stood for e04) and redirected it there, and the consumer took e03,
/// which it had under kp-3, along: e03 with e04 downstream, in kp-1 in the
/// store.
#[test]
fn an_absorbed_id_stands_only_for_the_records_found_under_it() {
    use IdentifierKind::*;
    let events = vec![
        e("e00", Channel::Pos, 0, &[(MemberId, "MAIN:M1")], None, None),
        e(
            "e01",
            Channel::Pos,
            T1,
            &[(Phone, "+8613900000001"), (Device, "web:d0")],
            Some("王伟"),
            None,
        ),
        e("e02", Channel::Pos, 0, &[(Device, "web:d0")], None, None),
        e(
            "e03",
            Channel::Pos,
            T1,
            &[(Phone, "+8613900000000")],
            None,
            None,
        ),
        e(
            "e04",
            Channel::Web,
            0,
            &[(Phone, "+8613900000001")],
            Some("李娜"),
            Some("1990-02-01"),
        ),
        e("e05", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
        e("e06", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
        e("e07", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
        e("e08", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
        e(
            "e09",
            Channel::Pos,
            2 * T1,
            &[(Phone, "+8613900000000")],
            Some("李娜"),
            Some("1990-02-01"),
        ),
        e(
            "e10",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M1"), (Phone, "+8613900000000")],
            None,
            Some("1962-08-25"),
        ),
    ];
    let ops = [
        Op::Ingest(9),
        Op::Ingest(2),
        // kp-4 (e04 and e09) by its point-of-sale records.
        Op::SplitSource {
            profile: 2,
            channel: 0,
        },
    ];
    run(&events, &ops, true)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
}

/// Found by the property test: review approvals, an erasure and splits.
/// After a source split gave kp-4 back (e04, e08), what kp-1 kept of kp-3
/// (absorbed into it) still named them; a split of kp-4 by identifier then
/// sent kp-3 (and with it e03, which the consumer finds under kp-3) to
/// kp-4: e03 under kp-4 downstream, under kp-1 in the store.
#[test]
fn an_id_given_back_takes_its_records_out_of_its_parents_list() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Pos,
            T1,
            &[(Email, "p0@x.cn")],
            Some("李娜"),
            None,
        ),
        e(
            "e01",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M0")],
            Some("李娜"),
            None,
        ),
        e(
            "e02",
            Channel::Pos,
            0,
            &[(Email, "p0@x.cn"), (Email, "p1@x.cn")],
            None,
            None,
        ),
        e(
            "e03",
            Channel::Pos,
            2 * T1,
            &[(Email, "p0@x.cn")],
            Some("王伟"),
            Some("1990-01-02"),
        ),
        e(
            "e04",
            Channel::Social,
            2 * T1,
            &[
                (MemberId, "MAIN:M1"),
                (Phone, "+8613900000000"),
                (Email, "p0@x.cn"),
            ],
            None,
            Some("1962-08-25"),
        ),
        e(
            "e05",
            Channel::Pos,
            2 * T1,
            &[(Phone, "+8613900000000"), (Phone, "+8613900000001")],
            None,
            None,
        ),
        e(
            "e06",
            Channel::Pos,
            2 * T1,
            &[(MemberId, "MAIN:M0")],
            None,
            None,
        ),
        e(
            "e07",
            Channel::Pos,
            0,
            &[(Phone, "+8613900000000"), (Email, "p0@x.cn")],
            None,
            None,
        ),
        e(
            "e08",
            Channel::Social,
            0,
            &[(MemberId, "MAIN:M0"), (MemberId, "MAIN:M1")],
            Some("王伟"),
            None,
        ),
    ];
    let ops = [
        Op::Ingest(6),
        Op::Republish,
        Op::Ingest(2),
        Op::SplitSource {
            profile: 2,
            channel: 0,
        },
        Op::Ingest(2),
        Op::Review {
            pair: 2,
            approve: true,
        },
        Op::EraseIdentifier(11),
        Op::EraseProfile(1),
        Op::Review {
            pair: 0,
            approve: true,
        },
        Op::SplitSource {
            profile: 4,
            channel: 2,
        },
        Op::Again(3),
        Op::SplitId {
            profile: 1,
            identifier: 5,
        },
    ];
    run(&events, &ops, true)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
}

/// Found by reading the absorbed lists' limit (the property test's bursts
/// find it too). kp-2, a card's 67 records (64 on the web, then 3 at the
/// till), is absorbed into kp-1 by a record joining the card's e-mail to
/// kp-1's phone: kp-2's absorbed entry lists its first 64 records. A split
/// of kp-1 by its web records gives kp-2 back to the 64 and keeps the till
/// records with kp-1. The consumer had the 3 till records under kp-2 (their
/// own changes placed them there) and, kp-2 live again, found them there:
/// 67 records in kp-2 downstream, 64 in the store, and kp-1 short of 3.
#[test]
fn records_past_an_absorbed_lists_limit_stay_with_the_survivor_when_the_id_is_given_back() {
    use IdentifierKind::*;
    let phone = Identifier::new(Phone, "+8613900000000");
    let mut events = vec![e(
        "e00",
        Channel::Pos,
        T1,
        &[(Phone, "+8613900000000")],
        None,
        None,
    )];
    // b0-00..b0-63 on the web, b0-64..b0-66 at the till, b0-67 joins.
    events.extend(burst(0, &phone, (1, 0), 3));
    assert_eq!(Channel::ALL[1], Channel::Web);
    let cards = events.len() - 2;
    let ops = [
        Op::Ingest(1),
        Op::Ingest(cards),
        Op::Ingest(1),
        // kp-1, 69 records, by its web records.
        Op::SplitSource {
            profile: 0,
            channel: 1,
        },
    ];
    let w = run(&events, &ops, true)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
    // As described: kp-2 given back to the web records, the till ones with kp-1.
    let stored = w.stored();
    assert_eq!(stored["b0-00"], "kp-000000000002");
    assert_eq!(stored["b0-63"], "kp-000000000002");
    for till in ["b0-64", "b0-65", "b0-66", "b0-67", "e00"] {
        assert_eq!(stored[till], "kp-000000000001", "{till}");
    }
}

/// Found by a longer run of the property test. kp-2 (e01) was absorbed
/// into kp-3, and kp-3 into kp-1 by an approval. Taking the approval back
/// gave kp-2 back to e01's part and redirected kp-3 to it, but kp-3's list
/// still named e01, which a consumer finds under kp-2 itself (live again),
/// not through kp-3. A split by source then gave kp-3 back to the web
/// records and the resolver, believing e01 came with kp-3, did not list it
/// as moved: e01 with the store records downstream, with e06 in the store.
#[test]
fn a_record_under_an_id_given_back_leaves_the_lists_of_the_ids_it_no_longer_passes() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Pos,
            T1,
            &[(MemberId, "MAIN:M1"), (Email, "p0@x.cn")],
            None,
            None,
        ),
        e(
            "e01",
            Channel::Web,
            T1,
            &[(Phone, "+8613900000001")],
            None,
            None,
        ),
        e(
            "e02",
            Channel::Pos,
            T1,
            &[(MemberId, "MAIN:M1"), (Phone, "+8613900000001")],
            None,
            None,
        ),
        e(
            "e03",
            Channel::Pos,
            0,
            &[(Phone, "+8613900000001")],
            None,
            Some("1990-01-02"),
        ),
        e(
            "e04",
            Channel::Pos,
            T1,
            &[(MemberId, "MAIN:M1")],
            None,
            Some("1962-08-25"),
        ),
        e(
            "e05",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M0")],
            Some("李娜"),
            None,
        ),
        e(
            "e06",
            Channel::Web,
            0,
            &[(Phone, "+8613900000001")],
            None,
            None,
        ),
        e("e07", Channel::Pos, 0, &[(Email, "p0@x.cn")], None, None),
        e(
            "e08",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M0")],
            Some("王伟"),
            None,
        ),
    ];
    let ops = [
        Op::Ingest(7),
        // kp-1 (e01, e03, e06) by its store records: e03 stays, the web
        // records go to kp-3 (kp-2 redirects there).
        Op::SplitSource {
            profile: 0,
            channel: 0,
        },
        // The guard's suggestion kp-1 / kp-3, approved: kp-3 into kp-1.
        Op::Review {
            pair: 0,
            approve: true,
        },
        Op::Ingest(2),
        // The approval taken back: kp-2 is live again, kp-3 redirects to it.
        Op::Unapprove(0),
        // kp-2 by its store records, as a decision request.
        Op::Request(Box::new(Op::SplitSource {
            profile: 1,
            channel: 0,
        })),
    ];
    let w = run(&events, &ops, false)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
    let stored = w.stored();
    assert_eq!(
        stored["e01"], stored["e06"],
        "the web records stay together"
    );
    assert_ne!(stored["e01"], stored["e00"]);
}

/// Found by carrying a store's own decisions onto it after an erasure. A
/// reviewer kept e03's profile apart from e02's (a card they share, names
/// that differ); e04 holds the card too and came with e03 (a phone). The
/// erasure of e03's person leaves e04 and e02 apart though nothing keeps
/// them so any more: a replay of the events without the person's (and the
/// decisions) puts them in one profile. The erasure clusters the profiles
/// still holding the person's keys again, as the replay does.
#[test]
fn an_erasure_lets_go_of_what_only_the_erased_records_kept_apart() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Pos,
            0,
            &[(Phone, "+8613900000000")],
            None,
            None,
        ),
        e(
            "e01",
            Channel::Web,
            0,
            &[(Phone, "+8613900000001"), (Email, "p0@x.cn")],
            None,
            None,
        ),
        e(
            "e02",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M1")],
            Some("王伟"),
            None,
        ),
        e(
            "e03",
            Channel::Web,
            0,
            &[(MemberId, "MAIN:M1"), (Email, "p0@x.cn")],
            Some("李娜"),
            None,
        ),
        e(
            "e04",
            Channel::Pos,
            0,
            &[(MemberId, "MAIN:M1"), (Phone, "+8613900000001")],
            Some("Li Nna"),
            None,
        ),
        e("e05", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
    ];
    // e03 links e01's profile (the e-mail) and e04 (the card, the
    // phone); the name guard sends kp-2 / kp-4 to review, and e02 stays
    // alone (its name differs from e04's and e03's).
    let ops = [
        Op::Ingest(3),
        Op::Ingest(2),
        Op::Review {
            pair: 0,
            approve: false,
        },
    ];
    let mut w = run(&events, &ops, false)
        .map_err(|e| e.to_string())
        .expect("the consumer follows");
    let before = w.stored();
    assert_ne!(before["e02"], before["e04"], "kept apart by the reject");
    let person = before["e03"].clone();
    assert_eq!(before["e01"], person);
    w.erase(ErasureTarget::Profile(person));
    let after = w.stored();
    assert_eq!(after["e02"], after["e04"], "{after:?}");
    assert_eq!(
        w.seen(),
        after,
        "the consumer follows the erasure's changes"
    );
    assert_eq!(partition(&after), partition(&w.rebuilt(10).stored()));
    // Carrying the store's own decisions onto it changes nothing now.
    let pinned = w.r.store().decisions_pinned().expect("pinned");
    refused_or_done(w.r.carry_decisions(
        &pinned.events,
        pinned.next_decision,
        "ops",
        30 * 400 * DAY,
    ));
    assert_eq!(w.publish(), 0);
    assert_eq!(w.stored(), after);
}

/// Found by the replay property test: `rules apply` leaves the store with
/// the partition a fresh run under the new rules makes. Phones stop
/// linking; e05 is joined to e00 and e04 only through e-mail p1, as in a
/// fresh run.
#[test]
fn rules_apply_leaves_what_a_fresh_run_under_the_new_rules_makes() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Pos,
            0,
            &[(Email, "p1@x.cn")],
            None,
            Some("1990-01-02"),
        ),
        e(
            "e01",
            Channel::Pos,
            T1,
            &[(Email, "p0@x.cn"), (Email, "p1@x.cn")],
            None,
            None,
        ),
        e("e02", Channel::Pos, 0, &[(MemberId, "MAIN:M0")], None, None),
        e(
            "e03",
            Channel::Pos,
            0,
            &[(Email, "p0@x.cn")],
            Some("李娜"),
            Some("1962-08-25"),
        ),
        e(
            "e04",
            Channel::Pos,
            0,
            &[(Phone, "+8613900000000"), (Email, "p1@x.cn")],
            None,
            None,
        ),
        e(
            "e05",
            Channel::Pos,
            T1,
            &[(Phone, "+8613900000000"), (Email, "p1@x.cn")],
            Some("王伟"),
            None,
        ),
    ];
    let base = LinkPolicy::default();
    let new = policy(&base, 1);
    let mut applied = World::new(base.clone());
    applied.ingest(&events);
    refused_or_done(applied.r.apply_rules(new.clone(), "ops", 400 * DAY));
    let mut fresh = World::new(new);
    fresh.ingest(&events);
    assert_eq!(
        partition(&applied.stored()),
        partition(&fresh.stored()),
        "rules apply vs a fresh run"
    );
}

// Found by a review of the rules-apply change (forty-fourth session).

/// A name for filler `i`: two tokens of letters no other filler's (nor
/// `Jon Smith`) is alike to.
fn filler_name(i: usize) -> String {
    let letters = b"bcdfghjklmnpqrtvwxz";
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut word = |len: usize| {
        let mut s = String::new();
        for _ in 0..len {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            s.push(letters[(x % letters.len() as u64) as usize] as char);
            s.push(['a', 'e', 'i', 'o', 'u'][((x >> 7) % 5) as usize]);
        }
        // Capitalised (the letters are ASCII).
        format!("{}{}", s[..1].to_ascii_uppercase(), &s[1..])
    };
    format!("{} {}", word(3), word(4))
}

fn fuzzy_birthday_rule() -> kindred_model::MatchRule {
    kindred_model::MatchRule {
        name: "fuzzy_birthday".into(),
        version: 1,
        action: RuleAction::Merge,
        fields: vec![kindred_model::RuleField::Birthday],
        name_similarity: Some(0.9),
        min_score: None,
    }
}

/// The events of [`a_rule_block_without_a_proposal_still_joins_its_holders_component`].
/// a (Jon Smith, t=0) and b (Jon Smith, t=65) share the fuzzy rule's
/// birthday block with 64 fillers between them (t=1..64, names alike to
/// no one): in the whole store's block a is compared with the fillers
/// only (FUZZY_REACH), b with no one alike; the block proposes nothing and
/// is left out of the components. a and b are one component through c
/// (Maria Garcia: e-mail p1 with a, p2 with b), whose e-mail links the
/// name guard refuses; d (Maria Garcia, p2) joins c under the new rules
/// (e-mails link): the changed group {c, d}.
fn inert_block_events() -> Vec<CanonicalEvent> {
    use IdentifierKind::*;
    let born = "1980-05-05";
    let mut events = vec![e(
        "a",
        Channel::Pos,
        0,
        &[(Email, "p1@x.cn")],
        Some("Jon Smith"),
        Some(born),
    )];
    for i in 0..64 {
        let mail = format!("f{i}@x.cn");
        let name = filler_name(i);
        events.push(e(
            &format!("f{i:02}"),
            Channel::Pos,
            1 + i as i64,
            &[(Email, mail.as_str())],
            Some(name.as_str()),
            Some(born),
        ));
    }
    events.push(e(
        "b",
        Channel::Pos,
        65,
        &[(Email, "p2@x.cn")],
        Some("Jon Smith"),
        Some(born),
    ));
    events.push(e(
        "c",
        Channel::Pos,
        100,
        &[(Email, "p1@x.cn"), (Email, "p2@x.cn")],
        Some("Maria Garcia"),
        None,
    ));
    events.push(e(
        "d",
        Channel::Pos,
        101,
        &[(Email, "p2@x.cn")],
        Some("Maria Garcia"),
        None,
    ));
    events
}

#[test]
fn a_rule_block_without_a_proposal_still_joins_its_holders_component() {
    let events = inert_block_events();
    let mut old = LinkPolicy::default();
    old.rules.clear();
    old.identifiers.email.link = false;
    let mut new = old.clone();
    new.identifiers.email.link = true;
    new.rules.push(fuzzy_birthday_rule());

    let mut fresh = World::new(new.clone());
    fresh.ingest(&events);
    let fresh_stored = fresh.stored();

    let mut applied = World::new(old);
    applied.ingest(&events);
    let before = applied.stored();
    assert_ne!(before["a"], before["b"]);
    let plan = applied.r.plan_rules(&new).expect("plan");
    let (_, done) = applied
        .r
        .apply_rules(new.clone(), "ops", 400 * DAY)
        .expect("apply");
    applied.publish();
    let after = applied.stored();
    let planned: BTreeSet<&String> = plan.groups.iter().flat_map(|g| &g.before).collect();
    let changed: BTreeSet<&String> = done.outcome.changes.iter().map(|c| &c.profile_id).collect();
    assert_eq!(
        fresh_stored["a"] == fresh_stored["b"],
        after["a"] == after["b"],
        "a and b: fresh run vs rules apply"
    );
    assert_eq!(
        partition(&after),
        partition(&fresh_stored),
        "rules apply vs a fresh run"
    );
    assert!(
        after["a"] != after["b"] || planned.contains(&before["a"]),
        "apply merged a and b, which rules diff does not name: {:?}",
        plan.groups
    );
    assert!(
        changed
            .iter()
            .all(|id| planned.contains(id) || !before.values().any(|b| b == *id)),
        "changes {changed:?} beyond the plan {:?}",
        plan.groups
    );
}

/// What `rules apply` did against what `rules diff` said, and against a
/// replay under the new rules, for `policy(base, n)`.
fn check_apply(w: &mut World, base: &LinkPolicy, n: usize, t: i64) -> Result<(), TestCaseError> {
    let new = policy(base, n);
    let live_before: BTreeSet<String> = w.live_profiles().into_iter().collect();
    let plan = match w.r.plan_rules(&new) {
        Ok(p) => p,
        Err(_) => return Ok(()),
    };
    let (_, done) = match w.r.apply_rules(new.clone(), "ops", t) {
        Ok(x) => x,
        Err(AdminError::Store(e)) => panic!("store error: {e}"),
        Err(_) => return Ok(()),
    };
    w.publish();
    if let Some(unplanned) = unplanned_change(&plan, &live_before, &done.outcome.changes) {
        return Err(TestCaseError::fail(unplanned));
    }
    // Pairs rules diff withdraws are gone (unless queued again).
    let pending_after: BTreeSet<(String, String)> =
        w.r.store()
            .pending_suggestions()
            .expect("queue")
            .into_iter()
            .map(|p| (p.profile_a, p.profile_b))
            .collect();
    let queued: BTreeSet<(String, String)> = done
        .outcome
        .suggestions
        .iter()
        .map(|s| (s.profile_a.clone(), s.profile_b.clone()))
        .collect();
    for (a, b) in &plan.withdrawn {
        let pair = (a.clone().min(b.clone()), a.clone().max(b.clone()));
        prop_assert!(
            !pending_after.contains(&pair) || queued.contains(&pair),
            "withdrawn pair {:?} still waits",
            pair
        );
    }
    let stored = w.stored();
    // The review pairs rules diff lists, placed by their records' profiles
    // after apply: what apply queues, no more, and each waits afterwards.
    let listed: BTreeSet<(String, String)> = plan
        .suggestions
        .iter()
        .filter_map(|s| {
            let a = stored.get(&s.events.0)?.clone();
            let b = stored.get(&s.events.1)?.clone();
            Some((a.clone().min(b.clone()), a.max(b)))
        })
        .collect();
    prop_assert_eq!(listed.len(), plan.suggestions.len(), "listed pairs placed");
    for pair in &queued {
        prop_assert!(
            listed.contains(pair),
            "apply queued {:?}, which rules diff does not list: {:?}",
            pair,
            plan.suggestions
        );
    }
    for pair in &listed {
        prop_assert!(
            pending_after.contains(pair),
            "listed pair {:?} does not wait",
            pair
        );
    }
    let replay = w.rebuilt(10);
    let replayed = replay.stored();
    prop_assert_eq!(
        partition(&replayed),
        partition(&stored),
        "rules apply {} vs a replay under the new rules",
        n
    );
    // The over-shared guard's state is the replay's too, erasures included
    // (apply recounts the quarantines an erasure could not).
    prop_assert_eq!(
        guard_state(&w.r, &w.log),
        guard_state(&replay.r, &w.log),
        "rules apply {} vs a replay: quarantines and counts",
        n
    );
    prop_assert!(!w.r.store().quarantine_recount_pending().expect("read"));
    // No entry for an identifier of a kind the new rules do not link (one
    // that stops linking kept its entries before), as in the replay; and
    // as many entries as the replay has (match-rule blocks included).
    let unlinked: Vec<&kindred_model::Identifier> = w
        .log
        .iter()
        .flat_map(|e| &e.identifiers)
        .filter(|i| !new.identifiers.get(i.kind).link)
        .collect();
    let entries = |r: &Resolver| {
        r.store()
            .guard_states(unlinked.iter().copied())
            .expect("read")
    };
    prop_assert_eq!(
        entries(&w.r),
        entries(&replay.r),
        "rules apply {}: unlinked kinds' entries",
        n
    );
    prop_assert_eq!(
        w.r.store().stats().expect("stats").identifiers,
        replay.r.store().stats().expect("stats").identifiers,
        "rules apply {}: index entries",
        n
    );
    Ok(())
}

/// Each linking identifier of `events` with its guard state
/// ([`kindred_resolver::IndexEntry::guard_state`]).
fn guard_state(r: &Resolver, events: &[CanonicalEvent]) -> Vec<(String, Option<GuardState>)> {
    let linking = events
        .iter()
        .flat_map(|e| &e.identifiers)
        .filter(|i| r.policy().identifiers.get(i.kind).link);
    r.store().guard_states(linking).expect("read")
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn rules_apply_does_what_rules_diff_says_and_a_replay_makes(
        (events, ops, suppress) in arb_world(),
        rules in proptest::collection::vec(0usize..6, 1..4),
    ) {
        let base = LinkPolicy::default();
        let mut w = run_with(&events, &framed(&events, ops), suppress, &base, false)?;
        let mut t = 90 * 400 * DAY;
        for n in rules {
            t += DAY;
            check_apply(&mut w, &base, n, t)?;
        }
    }
}

/// Phone P on five unnamed records with five e-mails (over the companion
/// limit: quarantined), then on n1 (王伟), which shares e-mail eG with g1
/// (李娜; the name guard keeps them apart); g1 and g2 are joined by phone
/// Q only.
fn quarantined_phone_world() -> Vec<CanonicalEvent> {
    use IdentifierKind::*;
    let p = "+8613911111111";
    let mut events = Vec::new();
    for i in 0..5 {
        let mail = format!("q{i}@x.cn");
        events.push(e(
            &format!("q{i}"),
            Channel::Pos,
            i,
            &[(Phone, p), (Email, mail.as_str())],
            None,
            None,
        ));
    }
    events.push(e(
        "g1",
        Channel::Pos,
        5,
        &[(Phone, "+8613922222222"), (Email, "eg@x.cn")],
        Some("李娜"),
        None,
    ));
    events.push(e(
        "g2",
        Channel::Pos,
        6,
        &[(Phone, "+8613922222222")],
        None,
        None,
    ));
    events.push(e(
        "n1",
        Channel::Pos,
        10,
        &[(Phone, p), (Email, "eg@x.cn"), (Email, "en@x.cn")],
        Some("王伟"),
        None,
    ));
    events
}

/// A phone quarantined for its five e-mail companions is off the golden
/// record of n1 (王伟), which shares e-mail eG with g1 (李娜; the name guard
/// keeps them apart). g1 and g2 are joined by phone Q only. Phones stop
/// linking (`policy(_, 1)`): {g1, g2} splits, and n1's profile, unchanged,
/// is in its component.
#[test]
fn rules_apply_changes_only_the_profiles_rules_diff_names() {
    let events = quarantined_phone_world();
    let base = LinkPolicy::default();
    let mut w = World::new(base.clone());
    for ev in &events {
        w.ingest(std::slice::from_ref(ev));
    }
    let before = w.stored();
    let new = policy(&base, 1);
    let plan = w.r.plan_rules(&new).expect("plan");
    let (_, done) = w.r.apply_rules(new, "ops", 400 * DAY).expect("apply");
    w.publish();
    let live_before: BTreeSet<String> = before.into_values().collect();
    let unplanned = unplanned_change(&plan, &live_before, &done.outcome.changes);
    assert_eq!(unplanned, None);
}

/// A change `rules apply` made to a profile live before it (in
/// `live_before`) that its plan does not name, described; None if none.
fn unplanned_change(
    plan: &RulesPlan,
    live_before: &BTreeSet<String>,
    changes: &[ProfileChange],
) -> Option<String> {
    let planned: BTreeSet<&String> = plan.groups.iter().flat_map(|g| &g.before).collect();
    changes
        .iter()
        .find(|c| !planned.contains(&c.profile_id) && live_before.contains(&c.profile_id))
        .map(|c| {
            format!(
                "a change ({:?}) of {}, which rules diff does not name: {:?}",
                c.change_type, c.profile_id, plan.groups
            )
        })
}

/// Per event: the identifiers on its profile's golden record (what a
/// consumer sees of the person holding it).
fn golden_identifiers(w: &World) -> BTreeMap<String, Vec<String>> {
    w.stored()
        .into_iter()
        .map(|(event, profile)| {
            let record = w.r.store().profile(&profile).expect("read").expect("live");
            let ids = record
                .identifiers
                .iter()
                .map(|i| format!("{}:{}", i.kind.as_str(), i.value))
                .collect();
            (event, ids)
        })
        .collect()
}

/// `events` resolved under `old`, then `rules apply` of `new`: the same
/// partition and golden records' identifiers as a fresh run under `new`.
fn apply_matches_a_fresh_run(events: &[CanonicalEvent], old: &LinkPolicy, new: &LinkPolicy) {
    let mut w = World::new(old.clone());
    let mut fresh = World::new(new.clone());
    for ev in events {
        w.ingest(std::slice::from_ref(ev));
        fresh.ingest(std::slice::from_ref(ev));
    }
    w.r.apply_rules(new.clone(), "ops", 400 * DAY)
        .expect("apply");
    assert_eq!(
        partition(&w.stored()),
        partition(&fresh.stored()),
        "partition"
    );
    assert_eq!(
        golden_identifiers(&w),
        golden_identifiers(&fresh),
        "golden records"
    );
}

/// Phones stop linking: phone P, quarantined under the old rules, is no
/// link key any more, so nothing quarantines it, and a fresh run shows it
/// on n1's golden record (and the unnamed records'). `rules apply` gave
/// it back only to the profiles it re-partitioned.
#[test]
fn a_quarantined_identifier_that_stops_linking_returns_to_golden_records() {
    let base = LinkPolicy::default();
    apply_matches_a_fresh_run(&quarantined_phone_world(), &base, &policy(&base, 1));
}

/// Phones start linking: P on five records with five e-mails is over the
/// companion limit, which a fresh run quarantines (it glues no one);
/// `rules apply` counted only the kinds whose limits changed.
#[test]
fn an_over_shared_identifier_that_starts_linking_is_quarantined() {
    let base = LinkPolicy::default();
    apply_matches_a_fresh_run(&quarantined_phone_world(), &policy(&base, 1), &base);
}

/// Phones start linking, with a limit of one unnamed holder: three
/// records of one 李娜 on one mobile were three profiles while phones did
/// not link, which says nothing of who holds it once it links (a fresh
/// run joins them through it; a review, helper-113, found them counted
/// as today's profiles and the mobile quarantined). A landline on two
/// customers' unnamed receipts is over the limit in both runs: its count
/// is of the receipts' cards, not of profiles.
#[test]
fn a_kind_that_starts_linking_is_quarantined_as_a_fresh_run_quarantines() {
    use IdentifierKind::*;
    let mut events: Vec<CanonicalEvent> = (0..3)
        .map(|i| {
            e(
                &format!("h{i}"),
                Channel::Pos,
                i * DAY,
                &[(Phone, "+8613955555555")],
                Some("李娜"),
                None,
            )
        })
        .collect();
    for (i, card) in ["MAIN:W1", "MAIN:W2"].into_iter().enumerate() {
        events.push(e(
            &format!("w{i}"),
            Channel::Pos,
            (5 + i as i64) * DAY,
            &[(Phone, "+862161234569"), (MemberId, card)],
            None,
            None,
        ));
    }
    let mut new = LinkPolicy::default();
    new.quarantine.max_unnamed_holders = 1;
    apply_matches_a_fresh_run(&events, &policy(&new, 1), &new);
    let mut fresh = World::new(new);
    fresh.ingest(&events);
    assert!(
        !golden_identifiers(&fresh)
            .values()
            .any(|ids| ids.iter().any(|id| id.contains("+862161234569"))),
        "the landline is quarantined in the fresh run"
    );
}

/// Found by `rules_apply_does_what_rules_diff_says_and_a_replay_makes` (shrunk).
#[test]
fn rules_apply_after_splits_and_taken_back_approvals_does_what_rules_diff_says() {
    use IdentifierKind::*;
    let events = vec![
        e(
            "e00",
            Channel::Social,
            11520000000,
            &[
                (Phone, "+8613900000001"),
                (Device, "web:d0"),
                (Device, "web:d1"),
            ],
            Some("Li Na"),
            None,
        ),
        e(
            "e01",
            Channel::Social,
            11520000000,
            &[
                (MemberId, "MAIN:M0"),
                (Email, "p0@x.cn"),
                (Device, "web:d1"),
            ],
            Some("王伟"),
            Some("1962-08-25"),
        ),
        e(
            "e02",
            Channel::Pos,
            46080000000,
            &[
                (MemberId, "MAIN:M0"),
                (Phone, "+8613900000000"),
                (Device, "web:d1"),
            ],
            None,
            None,
        ),
        e(
            "e03",
            Channel::Social,
            46080000000,
            &[(MemberId, "MAIN:M0"), (Phone, "+8613900000001")],
            None,
            Some("1990-01-02"),
        ),
        e(
            "e04",
            Channel::Pos,
            23040000000,
            &[(Phone, "+8613900000000"), (Email, "p0@x.cn")],
            Some("Li Na"),
            Some("1962-08-25"),
        ),
        e(
            "e05",
            Channel::Social,
            34560000000,
            &[(Phone, "+8613900000001")],
            None,
            Some("1990-01-02"),
        ),
        e(
            "e06",
            Channel::Social,
            34560000000,
            &[(Email, "p1@x.cn")],
            Some("Li Nna"),
            Some("1962-08-25"),
        ),
        e(
            "e07",
            Channel::Social,
            11520000000,
            &[(Device, "web:d0"), (Device, "web:d1")],
            None,
            Some("1990-02-01"),
        ),
    ];
    let ops = vec![
        Op::Burst {
            identifier: 5,
            early: 2,
            late: 1,
            more: 1,
        },
        Op::Request(Box::new(Op::SplitId {
            profile: 2,
            identifier: 1,
        })),
        Op::Ingest(2),
        Op::Unapprove(3),
        Op::Request(Box::new(Op::Unapprove(0))),
        Op::Unapprove(2),
    ];
    let base = LinkPolicy::default();
    let mut w = run_with(&events, &framed(&events, ops), true, &base, false)
        .map_err(|e| e.to_string())
        .expect("run");
    let mut t = 90 * 400 * DAY;
    for n in [1, 0, 3] {
        t += DAY;
        check_apply(&mut w, &base, n, t)
            .map_err(|e| e.to_string())
            .expect("apply as planned");
    }
}
