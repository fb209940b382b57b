//! Consents: what a person allowed, per purpose and contact channel, and
//! the "may contact via X" flags downstream systems act on.
//!
//! Within one identity the latest statement wins. When identities turn out
//! to be one person, their consents combine by [`ConsentMerge`]: by default
//! the most restrictive wins until the person, known as one, consents
//! again. "Known as one" is decided on event time, not on arrival order:
//! [`combine`] replays the person's events in event-time order, joining
//! the events that share an identifier as they come (a time-ordered
//! union-find), so the result is a function of the set of events alone and
//! a split (which recomputes each side from its own events) gives each side
//! back its own consents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{CanonicalEvent, Consent, Identifier, IdentifierKind, Provenance, Sourced};

/// The purpose whose consents decide [`may_contact`].
pub const CONTACT_PURPOSE: &str = "marketing";

/// The consent channel that stands for every contact channel.
pub const ALL_CHANNELS: &str = "all";

/// The consent purpose that stands for every purpose (a form's "withdraw
/// all consents"): normalization spells `All purposes`, `any`, `全部` so.
pub const EVERY_PURPOSE: &str = "all";

/// The contact channels [`may_contact`] reports on, each with the kind of
/// identifier that is its contact point.
pub const CONTACT_CHANNELS: [&str; 4] = ["email", "sms", "wechat", "push"];

/// The consent keys of [`CONTACT_CHANNELS`] and of all channels, spelled
/// out: [`may_contact`] runs on every change and looks them up without
/// formatting them (a test checks they match).
const CONTACT_KEYS: [&str; 4] = [
    "marketing:email",
    "marketing:sms",
    "marketing:wechat",
    "marketing:push",
];
const CONTACT_ALL_KEY: &str = "marketing:all";

/// How the consents of identities that turn out to be one person combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMerge {
    /// A withdrawal by any of the merged identities wins over their grants,
    /// until the person grants again after the identities were connected
    /// (by event time). The default: nobody is contacted on the strength of
    /// a consent another part of the same person withdrew.
    #[default]
    MostRestrictive,
    /// The latest statement wins, whichever identity made it.
    MostRecent,
}

/// The key of a consent in [`GoldenRecord::consents`](crate::GoldenRecord):
/// `purpose:channel`.
pub fn consent_key(c: &Consent) -> String {
    format!("{}:{}", c.purpose, c.channel)
}

/// The consent statements of `event`, by key: each key once (a withdrawal
/// wins over a grant of the same key in one event), and a `marketing:all`
/// statement also as a statement of each contact channel, which it
/// decides (combined with the event's own statement of that channel: both
/// must grant). So a withdrawal of all channels by one identity meets
/// another identity's grant of one channel as the same key, and the most
/// restrictive combination holds across the two spellings.
pub fn statements(event: &CanonicalEvent) -> Vec<(String, bool)> {
    let mut out: BTreeMap<String, bool> = BTreeMap::new();
    for c in &event.consents {
        out.entry(consent_key(c))
            .and_modify(|v| *v &= c.granted)
            .or_insert(c.granted);
    }
    if let Some(&all) = out.get(CONTACT_ALL_KEY) {
        for key in CONTACT_KEYS {
            out.entry(key.to_string())
                .and_modify(|v| *v &= all)
                .or_insert(all);
        }
    }
    out.into_iter().collect()
}

/// Votes counted before [`statements`] spelled `marketing:all` out (a
/// store's older profiles) hold `all` apart from the channels: the channel
/// keys settle to the newer of theirs and `all`'s latest statement (both,
/// if one event made them), as spelling out would have. With votes counted
/// since, each channel already holds every `all` statement: nothing moves.
pub(crate) fn spell_out_all(consents: &mut BTreeMap<String, Sourced<bool>>) {
    let Some(all) = consents.get(CONTACT_ALL_KEY).cloned() else {
        return;
    };
    for key in CONTACT_KEYS {
        let settled = match consents.get(key) {
            Some(own) if own.source == all.source => sourced(own.value && all.value, &all.source),
            Some(own) if !overrides(&all, own) => continue,
            _ => all.clone(),
        };
        consents.insert(key.to_string(), settled);
    }
}

/// Whether `all`'s statement decides a channel whose own latest statement
/// is `own`: it is later, or of the same time and a withdrawal of a grant
/// (a withdrawal wins a tie of event times, as in [`ConsentVotes::latest`]
/// and [`combine`]; never the event ids, which are a coin flip).
fn overrides(all: &Sourced<bool>, own: &Sourced<bool>) -> bool {
    let (a, o) = (all.source.event_time_ms, own.source.event_time_ms);
    a > o || (a == o && !all.value && own.value)
}

/// A withdrawal of a purpose's `all` (`marketing:all`, `profiling:all`:
/// a form that withdraws the purpose without naming a channel) reaches the
/// purpose's other channels too: for marketing those kept as typed (postal
/// `mail`, `phone`, `whatsapp`...), which [`statements`] does not spell it
/// out to (it knows only the event's own keys), for any other purpose
/// every channel. Each takes the withdrawal where it is later
/// ([`overrides`]), so a consumer reading its own key (a direct-mail or
/// call-centre system, an ad platform's `personalised_ads:push`) does not
/// act for someone who withdrew the whole purpose. A withdrawal of every
/// purpose ([`EVERY_PURPOSE`]: `all:all`, or `all:email` for one channel)
/// reaches every purpose's keys (of that channel) alike. A grant of `all`
/// does not reach them: it may be another identity's, joined without the
/// replay that would weigh it against this channel's withdrawal. Run on
/// the settled consents, either path.
pub fn all_decides_other_channels(consents: &mut BTreeMap<String, Sourced<bool>>) {
    let withdrawn: Vec<(String, Sourced<bool>)> = consents
        .iter()
        .filter(|(_, s)| !s.value)
        .map(|(key, s)| (key.clone(), s.clone()))
        .collect();
    let every_purpose = format!("{EVERY_PURPOSE}:");
    let every_channel = format!(":{ALL_CHANNELS}");
    for (withdrawal, all) in withdrawn {
        let of_purpose = withdrawal
            .strip_suffix(&every_channel)
            .map(|purpose| (format!("{purpose}:"), purpose == CONTACT_PURPOSE));
        let of_every_purpose = withdrawal
            .strip_prefix(&every_purpose)
            .map(|channel| (channel == ALL_CHANNELS, format!(":{channel}")));
        for (key, own) in consents.iter_mut() {
            // A key `ads:_partners:email` is read as a channel of `ads`
            // too: labels keep a colon as typed, so it may be a channel
            // `_partners:email` of `ads` as well as a purpose
            // `ads:_partners`; withdrawing it errs the safe way.
            let of_that_purpose = of_purpose.as_ref().is_some_and(|(prefix, marketing)| {
                key.strip_prefix(prefix.as_str()).is_some_and(|channel| {
                    channel != ALL_CHANNELS && !(*marketing && CONTACT_CHANNELS.contains(&channel))
                })
            });
            let of_that_channel = of_every_purpose
                .as_ref()
                .is_some_and(|(every, suffix)| *every || key.ends_with(suffix.as_str()));
            if *key != withdrawal && (of_that_purpose || of_that_channel) && overrides(&all, own) {
                *own = all.clone();
            }
        }
    }
}

/// Whether `marketing:all` and a channel's key, counted apart (votes of a
/// store's older profiles), hold a grant made after a withdrawal across the
/// two spellings: then only the events tell whether one identity made both.
pub(crate) fn all_and_channels_need_history(votes: &BTreeMap<String, ConsentVotes>) -> bool {
    let Some(all) = votes.get(CONTACT_ALL_KEY) else {
        return false;
    };
    CONTACT_KEYS.iter().filter_map(|k| votes.get(*k)).any(|own| {
        let after = |g: &Option<Provenance>, w: &Option<Provenance>| {
            matches!((g, w), (Some(g), Some(w)) if grant_after(g, w))
        };
        after(&own.granted, &all.withdrawn) || after(&all.granted, &own.withdrawn)
    })
}

/// The latest grant and the latest withdrawal of one `purpose:channel`
/// among a profile's events: enough to settle it, and to tell whether the
/// event history must be replayed ([`ConsentVotes::needs_history`]).
/// Folds commutatively and associatively, like every vote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentVotes {
    pub granted: Option<Provenance>,
    pub withdrawn: Option<Provenance>,
}

impl ConsentVotes {
    pub(crate) fn add(&mut self, granted: bool, source: Provenance) {
        let slot = if granted {
            &mut self.granted
        } else {
            &mut self.withdrawn
        };
        newer_provenance(slot, source);
    }

    pub(crate) fn absorb(&mut self, other: ConsentVotes) {
        if let Some(p) = other.granted {
            newer_provenance(&mut self.granted, p);
        }
        if let Some(p) = other.withdrawn {
            newer_provenance(&mut self.withdrawn, p);
        }
    }

    /// The latest statement (a withdrawal wins a tie of event times,
    /// [`grant_after`]).
    pub(crate) fn latest(&self) -> Option<Sourced<bool>> {
        match (&self.granted, &self.withdrawn) {
            (Some(g), Some(w)) if grant_after(g, w) => Some(sourced(true, g)),
            (_, Some(w)) => Some(sourced(false, w)),
            (Some(g), None) => Some(sourced(true, g)),
            (None, None) => None,
        }
    }

    /// Whether the latest statement is a grant made after a withdrawal:
    /// only then can "most restrictive" differ from "most recent", and only
    /// the event history tells whether the two came from one identity.
    pub(crate) fn needs_history(&self) -> bool {
        matches!((&self.granted, &self.withdrawn), (Some(g), Some(w)) if grant_after(g, w))
    }
}

/// Whether a grant was made after a withdrawal: strictly later in event
/// time. Statements of one time (one event's, or two systems' stamped the
/// same millisecond) are not ordered by anything the person did, and the
/// withdrawal stands: never contacting someone who said no is the safe
/// reading (tied event ids would otherwise decide, a coin flip with UUIDs).
fn grant_after(granted: &Provenance, withdrawn: &Provenance) -> bool {
    granted.event_time_ms > withdrawn.event_time_ms
}

fn newer_provenance(slot: &mut Option<Provenance>, candidate: Provenance) {
    match slot {
        Some(current) if !candidate.newer_than(current) => {}
        _ => *slot = Some(candidate),
    }
}

fn sourced(value: bool, source: &Provenance) -> Sourced<bool> {
    Sourced {
        value,
        source: source.clone(),
    }
}

/// Combines two states of one consent key when two identities join: a
/// withdrawal wins over a grant; between equals, the newer statement.
/// Commutative and associative.
fn restrictive(a: Sourced<bool>, b: Sourced<bool>) -> Sourced<bool> {
    match (a.value, b.value) {
        (false, true) => a,
        (true, false) => b,
        _ if b.newer_than(&a) => b,
        _ => a,
    }
}

type State = BTreeMap<String, Sourced<bool>>;

fn join_states(into: &mut State, from: State) {
    for (key, value) in from {
        let merged = match into.remove(&key) {
            Some(current) => restrictive(current, value),
            None => value,
        };
        into.insert(key, merged);
    }
}

/// The consents of one person under [`ConsentMerge::MostRestrictive`],
/// from all of their events (in any order; duplicates by event id count
/// once).
///
/// Events are replayed by (event time, event id). An event first joins the
/// identities of its identifiers (their states combine: a withdrawal wins),
/// then its statements set its identity's state (latest wins within one
/// identity). Identities no identifier ever connected (joined by a match
/// rule, or by a reviewer) combine at the end, the same way.
pub fn combine<'e>(events: impl IntoIterator<Item = &'e CanonicalEvent>) -> State {
    combine_joined_by(events, |_| true)
}

/// [`combine`], with only the identifiers whose link key `joins` accepts
/// joining identities: the person's own. An identifier linking has set
/// aside as over-shared (a family computer, a store's phone) is not proof
/// that two of its records are one person's, so a grant on one does not
/// overrule a withdrawal on the other through it.
pub fn combine_joined_by<'e>(
    events: impl IntoIterator<Item = &'e CanonicalEvent>,
    joins: impl Fn(&str) -> bool,
) -> State {
    let mut events: Vec<&CanonicalEvent> = events.into_iter().collect();
    events.sort_by(|a, b| (a.event_time_ms, &a.event_id).cmp(&(b.event_time_ms, &b.event_id)));
    events.dedup_by(|a, b| a.event_id == b.event_id);

    let mut parent: Vec<usize> = (0..events.len()).collect();
    let mut states: Vec<State> = vec![State::new(); events.len()];
    // By link key, as linking compares them: `a.nn@gmail.com` and
    // `ann@gmail.com`, or a card with and without separators, are one
    // identity.
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        for id in &event.identifiers {
            let key = id.link_key();
            if !joins(&key) {
                continue;
            }
            match owner.get(&key) {
                Some(&j) => union(&mut parent, &mut states, i, j),
                None => {
                    owner.insert(key, i);
                }
            }
        }
        let root = find(&mut parent, i);
        let source = Provenance::of(event);
        for (key, granted) in statements(event) {
            // The latest statement wins, but a grant never overrides a
            // withdrawal of the same time ([`grant_after`]).
            let tied_withdrawal = states[root]
                .get(&key)
                .is_some_and(|s| !s.value && granted && !grant_after(&source, &s.source));
            if !tied_withdrawal {
                states[root].insert(key, sourced(granted, &source));
            }
        }
    }
    let mut person = State::new();
    for (i, state) in states.into_iter().enumerate() {
        // Only roots hold a state; the others were moved into their root.
        if parent[i] == i {
            join_states(&mut person, state);
        }
    }
    person
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], states: &mut [State], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return;
    }
    let (keep, gone) = (ra.min(rb), ra.max(rb));
    parent[gone] = keep;
    let moved = std::mem::take(&mut states[gone]);
    join_states(&mut states[keep], moved);
}

/// Whether the person may be contacted through each of
/// [`CONTACT_CHANNELS`] for [`CONTACT_PURPOSE`]: `true` only when the
/// deciding consent grants it and the profile holds a contact point for the
/// channel (an email address for `email`, a phone for `sms`, a WeChat id
/// for `wechat`, an app account or device for `push`).
///
/// The deciding consent is `marketing:<channel>`: a `marketing:all`
/// statement is also a statement of each channel ([`statements`]), so the
/// channel's key already holds it, combined across identities. `marketing:all`
/// decides alone only for a channel never stated; and a withdrawal of all
/// at least as new as the channel's key wins (records settled before
/// [`statements`] spelled `all` out). No consent means no contact.
pub fn may_contact(
    consents: &BTreeMap<String, Sourced<bool>>,
    identifiers: &[Identifier],
) -> BTreeMap<String, bool> {
    let all = consents.get(CONTACT_ALL_KEY);
    CONTACT_CHANNELS
        .iter()
        .zip(CONTACT_KEYS)
        .map(|(&channel, key)| {
            let own = consents.get(key);
            let granted = match (own, all) {
                (Some(o), Some(a)) if !a.value && !grant_after(&o.source, &a.source) => false,
                (Some(c), _) | (None, Some(c)) => c.value,
                (None, None) => false,
            };
            let reachable = || identifiers.iter().any(|i| contact_point(channel, i));
            (channel.to_string(), granted && reachable())
        })
        .collect()
}

fn contact_point(channel: &str, id: &Identifier) -> bool {
    match channel {
        "email" => id.kind == IdentifierKind::Email,
        "sms" => id.kind == IdentifierKind::Phone,
        "wechat" => id.kind == IdentifierKind::Social && id.value.starts_with("wechat"),
        "push" => matches!(id.kind, IdentifierKind::Account | IdentifierKind::Device),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;

    #[test]
    fn contact_keys_are_purpose_and_channel() {
        for (channel, key) in CONTACT_CHANNELS.iter().zip(CONTACT_KEYS) {
            assert_eq!(key, format!("{CONTACT_PURPOSE}:{channel}"));
        }
        assert_eq!(CONTACT_ALL_KEY, format!("{CONTACT_PURPOSE}:{ALL_CHANNELS}"));
    }

    fn statement(
        id: &str,
        t: i64,
        ids: &[(IdentifierKind, &str)],
        consents: &[(&str, bool)],
    ) -> CanonicalEvent {
        let mut e = CanonicalEvent::new(
            id,
            Channel::Web,
            t,
            ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect(),
        );
        e.consents = consents
            .iter()
            .map(|(key, granted)| {
                let (purpose, channel) = key.split_once(':').unwrap_or((key, ALL_CHANNELS));
                Consent {
                    purpose: purpose.into(),
                    channel: channel.into(),
                    granted: *granted,
                }
            })
            .collect();
        e
    }

    const EMAIL: IdentifierKind = IdentifierKind::Email;
    const PHONE: IdentifierKind = IdentifierKind::Phone;

    fn value(state: &State, key: &str) -> Option<(bool, String)> {
        state.get(key).map(|s| (s.value, s.source.event_id.clone()))
    }

    #[test]
    fn latest_wins_within_one_identity() {
        let events = [
            statement(
                "w:1",
                10,
                &[(EMAIL, "a@x.cn")],
                &[("marketing:email", false)],
            ),
            statement(
                "w:2",
                20,
                &[(EMAIL, "a@x.cn")],
                &[("marketing:email", true)],
            ),
        ];
        let s = combine(&events);
        assert_eq!(value(&s, "marketing:email"), Some((true, "w:2".into())));
    }

    /// A grant and a withdrawal stamped with one time (two systems, or a
    /// retry with a new id): the withdrawal stands, whichever event id sorts
    /// last, in the replay, in the votes and in `may_contact`.
    #[test]
    fn a_withdrawal_wins_a_tie_of_event_times() {
        let ids = [(EMAIL, "a@x.cn")];
        for (w, g) in [("web:1a2b", "web:9f8e"), ("web:9f8e", "web:1a2b")] {
            let events = [
                statement(w, 10, &ids, &[("marketing:email", false)]),
                statement(g, 10, &ids, &[("marketing:email", true)]),
            ];
            let s = combine(&events);
            assert_eq!(value(&s, "marketing:email"), Some((false, w.into())));
            let mut votes = ConsentVotes::default();
            for e in &events {
                for (_, granted) in statements(e) {
                    votes.add(granted, Provenance::of(e));
                }
            }
            assert!(!votes.needs_history());
            assert_eq!(votes.latest().map(|l| l.value), Some(false));
            // `marketing:all` withdrawn at the time the channel was granted.
            let mut consents = BTreeMap::new();
            consents.insert(
                CONTACT_ALL_KEY.to_string(),
                sourced(false, &Provenance::of(&events[0])),
            );
            consents.insert(
                "marketing:email".to_string(),
                sourced(true, &Provenance::of(&events[1])),
            );
            let ids: Vec<Identifier> = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
            assert_eq!(may_contact(&consents, &ids).get("email"), Some(&false));
        }
        // One millisecond later, the grant is the latest statement.
        let events = [
            statement("web:9f8e", 10, &ids, &[("marketing:email", false)]),
            statement("web:1a2b", 11, &ids, &[("marketing:email", true)]),
        ];
        assert_eq!(
            value(&combine(&events), "marketing:email"),
            Some((true, "web:1a2b".into()))
        );
    }

    /// Settled by the votes (no replay needed): a channel withdrawn and
    /// every channel granted in the same millisecond. The channel's own
    /// latest is the withdrawal (a tie goes to it), but `spell_out_all`
    /// let `all`'s grant override it when its event id sorted last: the
    /// person showed as contactable by e-mail, whichever way the replay
    /// (which keeps the withdrawal) said.
    #[test]
    fn a_channel_withdrawn_in_the_millisecond_all_were_granted_stays_withdrawn() {
        let ids = [(EMAIL, "a@x.cn")];
        for (w, g) in [("web:a", "web:b"), ("web:b", "web:a")] {
            let events = [
                statement(w, 1_000, &ids, &[("marketing:email", false)]),
                statement(g, 1_000, &ids, &[("marketing:all", true)]),
            ];
            let mut votes = crate::survivorship::AttributeVotes::default();
            for e in &events {
                votes.absorb_event(e);
            }
            let policy = crate::Survivorship::default();
            assert!(!votes.consents_need_history(&policy), "the votes settle it");
            let mut record = crate::GoldenRecord::new("p".into(), &events[0]);
            votes.settle(&policy, &mut record);
            assert!(!record.consents["marketing:email"].value, "{w}/{g}");
            assert_eq!(record.may_contact.get("email"), Some(&false), "{w}/{g}");
            assert!(
                !combine(&events)["marketing:email"].value,
                "the replay agrees"
            );
        }
    }

    /// A person's consents settled both ways the resolver settles them:
    /// from the votes (`AttributeVotes::settle`) and by the replay
    /// (`combine`), each followed by `all_decides_other_channels`.
    fn settled_both_ways(events: &[&CanonicalEvent]) -> (State, State) {
        let mut votes = crate::survivorship::AttributeVotes::default();
        for e in events {
            votes.absorb_event(e);
        }
        let mut record = crate::GoldenRecord::new("p".into(), events[0]);
        votes.settle(&crate::Survivorship::default(), &mut record);
        let mut replayed = combine(events.iter().copied());
        all_decides_other_channels(&mut replayed);
        (record.consents, replayed)
    }

    /// A channel kept as typed (`mail`: postal) granted, then every channel
    /// withdrawn: the withdrawal reaches it, by the votes and by the
    /// replay; a grant of it after the withdrawal stands. A later grant of
    /// every channel does not undo its own withdrawal (it may be another
    /// identity's).
    #[test]
    fn withdrawing_every_channel_reaches_channels_kept_as_typed() {
        let ids = [(EMAIL, "a@x.cn")];
        let mail_yes = statement("w:1", 10, &ids, &[("marketing:mail", true)]);
        let all_no = statement("w:2", 20, &ids, &[("marketing:all", false)]);
        let mail_again = statement("w:3", 30, &ids, &[("marketing:mail", true)]);
        let settle = |events: &[&CanonicalEvent]| {
            let (settled, replayed) = settled_both_ways(events);
            (
                settled["marketing:mail"].value,
                replayed["marketing:mail"].value,
            )
        };
        assert_eq!(settle(&[&mail_yes, &all_no]), (false, false));
        assert_eq!(settle(&[&all_no, &mail_yes]), (false, false), "any order");
        assert_eq!(settle(&[&mail_yes, &all_no, &mail_again]), (true, true));
        let mail_no = statement(
            "p:1",
            10,
            &[(PHONE, "+8613900000001")],
            &[("marketing:mail", false)],
        );
        let all_yes = statement("w:4", 20, &ids, &[("marketing:all", true)]);
        assert_eq!(settle(&[&mail_no, &all_yes]), (false, false));
    }

    /// Any purpose's `all` withdrawal reaches its channels, not only
    /// marketing's: an ad platform reading `personalised_ads:push` kept the
    /// earlier grant after the person withdrew personalised ads as a whole.
    #[test]
    fn withdrawing_a_whole_purpose_reaches_each_of_its_channels() {
        let ids = [(EMAIL, "a@x.cn")];
        let push_yes = statement("w:1", 10, &ids, &[("personalised_ads:push", true)]);
        let all_no = statement("w:2", 20, &ids, &[("personalised_ads:all", false)]);
        let push_again = statement("w:3", 30, &ids, &[("personalised_ads:push", true)]);
        let other = statement(
            "w:4",
            5,
            &ids,
            &[
                ("profiling:push", true),
                ("personalised_ads:_partners:push", true),
            ],
        );
        let settle = |events: &[&CanonicalEvent]| {
            let (settled, replayed) = settled_both_ways(events);
            for consents in [&settled, &replayed] {
                assert!(consents["profiling:push"].value, "another purpose");
                // A label with a colon may name a channel of the purpose:
                // the withdrawal reaches it (the safe way to err).
                assert!(
                    !consents["personalised_ads:_partners:push"].value,
                    "a channel typed with a colon"
                );
            }
            (
                settled["personalised_ads:push"].value,
                replayed["personalised_ads:push"].value,
            )
        };
        assert_eq!(settle(&[&other, &push_yes, &all_no]), (false, false));
        assert_eq!(
            settle(&[&all_no, &other, &push_yes]),
            (false, false),
            "any order"
        );
        assert_eq!(
            settle(&[&other, &push_yes, &all_no, &push_again]),
            (true, true)
        );
    }

    /// A withdrawal of every purpose (`all:all`, with the `marketing:all`
    /// normalization adds) reaches every purpose's keys, and one of every
    /// purpose on one channel (`all:push`) that channel's keys of every
    /// purpose: `personalised_ads:push` kept its grant.
    #[test]
    fn withdrawing_every_purpose_reaches_every_purposes_keys() {
        let ids = [(EMAIL, "a@x.cn")];
        let grants = statement(
            "w:1",
            10,
            &ids,
            &[
                ("personalised_ads:push", true),
                ("profiling:email", true),
                ("analytics:all", true),
            ],
        );
        let everything_no = statement(
            "w:2",
            20,
            &ids,
            &[("all:all", false), ("marketing:all", false)],
        );
        let push_no = statement(
            "w:3",
            20,
            &ids,
            &[("all:push", false), ("marketing:push", false)],
        );
        let ads_again = statement("w:4", 30, &ids, &[("personalised_ads:push", true)]);
        for events in [[&grants, &everything_no], [&everything_no, &grants]] {
            let (settled, replayed) = settled_both_ways(&events);
            for consents in [&settled, &replayed] {
                for key in ["personalised_ads:push", "profiling:email", "analytics:all"] {
                    assert_eq!(value(consents, key), Some((false, "w:2".into())), "{key}");
                }
            }
        }
        let (settled, replayed) = settled_both_ways(&[&grants, &push_no]);
        for consents in [&settled, &replayed] {
            assert!(!consents["personalised_ads:push"].value, "that channel");
            assert!(consents["profiling:email"].value, "another channel");
            assert!(consents["analytics:all"].value, "every channel is not push");
        }
        let (settled, replayed) = settled_both_ways(&[&grants, &everything_no, &ads_again]);
        for consents in [&settled, &replayed] {
            assert!(
                consents["personalised_ads:push"].value,
                "granted again since"
            );
            assert!(!consents["profiling:email"].value);
        }
    }

    #[test]
    fn a_withdrawal_of_another_identity_wins_until_the_person_consents_again() {
        // The phone identity withdrew at 10; the email identity granted at
        // 20; an event at 30 shows both are one person.
        let phone_no = statement(
            "p:1",
            10,
            &[(PHONE, "+8613900000001")],
            &[("marketing:email", false)],
        );
        let email_yes = statement(
            "w:1",
            20,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:email", true)],
        );
        let link = statement(
            "w:2",
            30,
            &[(EMAIL, "a@x.cn"), (PHONE, "+8613900000001")],
            &[],
        );
        let s = combine([&phone_no, &email_yes, &link]);
        assert_eq!(value(&s, "marketing:email"), Some((false, "p:1".into())));
        // Latest-wins would have said yes.
        let mut v = ConsentVotes::default();
        for e in [&phone_no, &email_yes] {
            v.add(e.consents[0].granted, Provenance::of(e));
        }
        assert_eq!(v.latest().map(|s| s.value), Some(true));
        assert!(v.needs_history());

        // The person, known as one, grants again at 40.
        let again = statement(
            "w:3",
            40,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:email", true)],
        );
        let s = combine([&phone_no, &email_yes, &link, &again]);
        assert_eq!(value(&s, "marketing:email"), Some((true, "w:3".into())));
    }

    /// An identifier that is not the person's (set aside as over-shared)
    /// joins no identities: the grant made under it at 20 does not come
    /// after a connection, so the withdrawal at 10 still wins.
    #[test]
    fn an_identifier_not_the_persons_joins_no_identities() {
        let no = statement(
            "w:1",
            10,
            &[(EMAIL, "a@x.cn"), (PHONE, "+8613900000009")],
            &[("marketing:email", false)],
        );
        let yes = statement(
            "w:2",
            20,
            &[(EMAIL, "b@x.cn"), (PHONE, "+8613900000009")],
            &[("marketing:email", true)],
        );
        let joined = combine([&no, &yes]);
        assert_eq!(
            value(&joined, "marketing:email"),
            Some((true, "w:2".into()))
        );
        let shared = no
            .identifiers
            .iter()
            .find(|i| yes.identifiers.contains(i))
            .expect("the shared phone")
            .link_key();
        let apart = combine_joined_by([&no, &yes], |k| k != shared);
        assert_eq!(
            value(&apart, "marketing:email"),
            Some((false, "w:1".into()))
        );
    }

    #[test]
    fn a_grant_after_the_connection_wins_and_order_of_arrival_does_not_matter() {
        // Connected at 15, before the grant at 20: one identity by then.
        let phone_no = statement(
            "p:1",
            10,
            &[(PHONE, "+8613900000001")],
            &[("marketing:email", false)],
        );
        let link = statement(
            "w:0",
            15,
            &[(EMAIL, "a@x.cn"), (PHONE, "+8613900000001")],
            &[],
        );
        let email_yes = statement(
            "w:1",
            20,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:email", true)],
        );
        let forward = combine([&phone_no, &link, &email_yes]);
        let backward = combine([&email_yes, &link, &phone_no]);
        assert_eq!(forward, backward);
        assert_eq!(
            value(&forward, "marketing:email"),
            Some((true, "w:1".into()))
        );
    }

    /// `marketing:all` and one channel's key, stated by two identities
    /// before they were known as one person: the withdrawal wins whichever
    /// spelling it used, in both directions, on the replay and on the
    /// incremental path (whose votes then ask for the replay).
    #[test]
    fn a_withdrawal_of_all_channels_meets_a_grant_of_one_across_identities() {
        let link = statement(
            "w:9",
            30,
            &[(EMAIL, "a@x.cn"), (PHONE, "+8613900000001")],
            &[],
        );
        let email = [Identifier::new(EMAIL, "a@x.cn")];
        for (withdrawn, granted) in [
            ("marketing:all", "marketing:email"),
            ("marketing:email", "marketing:all"),
        ] {
            let no = statement(
                "p:1",
                10,
                &[(PHONE, "+8613900000001")],
                &[(withdrawn, false)],
            );
            let yes = statement("w:1", 20, &[(EMAIL, "a@x.cn")], &[(granted, true)]);
            let s = combine([&no, &yes, &link]);
            assert_eq!(
                may_contact(&s, &email).get("email"),
                Some(&false),
                "{withdrawn} withdrawn, then {granted} granted by another identity: {s:?}"
            );
            let mut votes = crate::AttributeVotes::default();
            for e in [&no, &yes, &link] {
                votes.absorb_event(e);
            }
            assert!(votes.consents_need_history(&crate::Survivorship::default()));
            // Known as one (after 30), the person grants all again.
            let again = statement("w:2", 40, &[(EMAIL, "a@x.cn")], &[("marketing:all", true)]);
            let s = combine([&no, &yes, &link, &again]);
            assert_eq!(may_contact(&s, &email).get("email"), Some(&true), "{s:?}");
        }
        // Within one identity nothing changes: the newer statement decides.
        let no = statement("w:1", 10, &[(EMAIL, "a@x.cn")], &[("marketing:all", false)]);
        let yes = statement(
            "w:2",
            20,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:email", true)],
        );
        let s = combine([&no, &yes]);
        assert_eq!(may_contact(&s, &email).get("email"), Some(&true), "{s:?}");
        // One event stating both: both must grant.
        let both = statement(
            "w:3",
            10,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:all", true), ("marketing:email", false)],
        );
        let s = combine([&both]);
        assert_eq!(may_contact(&s, &email).get("email"), Some(&false), "{s:?}");
        assert_eq!(value(&s, "marketing:sms"), Some((true, "w:3".into())));
    }

    /// Votes counted before `marketing:all` was spelled out (an older
    /// store's profiles) settle as the replay of the same events does.
    #[test]
    fn votes_counted_before_all_was_spelled_out_settle_as_the_replay() {
        let at = |id: &str, t: i64| Provenance {
            channel: Channel::Web,
            event_id: id.into(),
            event_time_ms: t,
        };
        let email = [Identifier::new(EMAIL, "a@x.cn")];
        let most_recent = crate::Survivorship {
            consents: ConsentMerge::MostRecent,
            ..Default::default()
        };
        let settle = |votes: &crate::AttributeVotes| {
            let mut r = crate::GoldenRecord::new(
                "kp-1".into(),
                &statement("w:0", 0, &[(EMAIL, "a@x.cn")], &[]),
            );
            votes.settle(&most_recent, &mut r);
            r.may_contact.get("email").copied()
        };
        // Email withdrawn at 10, all granted at 20: the newer statement
        // under most_recent (as the replay of one identity's events says);
        // under most_restrictive the events tell whether one identity made
        // both, so the votes ask for the replay.
        let mut old = crate::AttributeVotes::default();
        old.consents
            .entry("marketing:email".into())
            .or_default()
            .withdrawn = Some(at("w:1", 10));
        old.consents
            .entry(CONTACT_ALL_KEY.into())
            .or_default()
            .granted = Some(at("w:2", 20));
        assert!(old.consents_need_history(&crate::Survivorship::default()));
        assert_eq!(settle(&old), Some(true));
        let replay = combine([
            &statement(
                "w:1",
                10,
                &[(EMAIL, "a@x.cn")],
                &[("marketing:email", false)],
            ),
            &statement("w:2", 20, &[(EMAIL, "a@x.cn")], &[("marketing:all", true)]),
        ]);
        assert_eq!(may_contact(&replay, &email).get("email"), Some(&true));
        // All withdrawn at 10, email granted at 20: maybe two identities,
        // so the votes ask for the replay.
        let mut old = crate::AttributeVotes::default();
        old.consents
            .entry(CONTACT_ALL_KEY.into())
            .or_default()
            .withdrawn = Some(at("p:1", 10));
        old.consents
            .entry("marketing:email".into())
            .or_default()
            .granted = Some(at("w:1", 20));
        assert!(old.consents_need_history(&crate::Survivorship::default()));
    }

    /// Two spellings of one mailbox (one match key) are one identity: a
    /// grant after the withdrawal, under the other spelling, wins.
    #[test]
    fn identities_are_joined_by_link_key_not_spelling() {
        let gmail = |value: &str| Identifier {
            kind: EMAIL,
            value: value.into(),
            match_key: Some("ann@gmail.com".into()),
        };
        let mut no = statement("w:1", 10, &[], &[("marketing:email", false)]);
        no.identifiers = vec![gmail("a.nn@gmail.com")];
        let mut yes = statement("w:2", 20, &[], &[("marketing:email", true)]);
        yes.identifiers = vec![gmail("ann@gmail.com")];
        let s = combine([&no, &yes]);
        assert_eq!(value(&s, "marketing:email"), Some((true, "w:2".into())));
    }

    #[test]
    fn identities_joined_by_no_identifier_combine_restrictively_at_the_end() {
        let a = statement(
            "p:1",
            10,
            &[(PHONE, "+8613900000001")],
            &[("marketing:sms", false), ("profiling:all", true)],
        );
        let b = statement(
            "w:1",
            20,
            &[(EMAIL, "a@x.cn")],
            &[("marketing:sms", true), ("profiling:all", true)],
        );
        let s = combine([&a, &b]);
        assert_eq!(value(&s, "marketing:sms"), Some((false, "p:1".into())));
        // Two grants: the newer one, with its source.
        assert_eq!(value(&s, "profiling:all"), Some((true, "w:1".into())));
    }

    #[test]
    fn contact_needs_consent_and_a_contact_point() {
        let events = [statement(
            "w:1",
            10,
            &[(EMAIL, "a@x.cn"), (IdentifierKind::Social, "wechat:o1")],
            &[
                ("marketing:email", true),
                ("marketing:sms", true),
                ("marketing:wechat", false),
            ],
        )];
        let s = combine(&events);
        let ids = &events[0].identifiers;
        let m = may_contact(&s, ids);
        assert!(m["email"]);
        assert!(!m["sms"], "no phone to text");
        assert!(!m["wechat"], "withdrawn");
        assert!(!m["push"], "never asked");
        assert_eq!(m.len(), CONTACT_CHANNELS.len());
    }

    #[test]
    /// Within one identity (the events share an e-mail; without it they
    /// would be two identities, combined most restrictively).
    fn the_newer_of_channel_and_all_decides() {
        let ids = [
            Identifier::new(EMAIL, "a@x.cn"),
            Identifier::new(PHONE, "+8613900000001"),
        ];
        let grant_all_later = [
            statement(
                "w:1",
                10,
                &[(EMAIL, "a@x.cn")],
                &[("marketing:email", false)],
            ),
            statement("w:2", 20, &[(EMAIL, "a@x.cn")], &[("marketing:all", true)]),
        ];
        let m = may_contact(&combine(&grant_all_later), &ids);
        assert!(m["email"] && m["sms"]);
        let withdraw_all_later = [
            statement(
                "w:1",
                10,
                &[(EMAIL, "a@x.cn")],
                &[("marketing:email", true)],
            ),
            statement("w:2", 20, &[(EMAIL, "a@x.cn")], &[("marketing:all", false)]),
        ];
        let m = may_contact(&combine(&withdraw_all_later), &ids);
        assert!(!m["email"] && !m["sms"]);
        let same_event = [statement(
            "w:1",
            10,
            &[],
            &[("marketing:email", true), ("marketing:all", false)],
        )];
        assert!(!may_contact(&combine(&same_event), &ids)["email"]);
    }

    #[test]
    fn within_one_event_a_withdrawal_wins() {
        let e = statement(
            "w:1",
            10,
            &[],
            &[("marketing:email", true), ("marketing:email", false)],
        );
        assert_eq!(
            value(&combine([&e]), "marketing:email"),
            Some((false, "w:1".into()))
        );
        let mut v = ConsentVotes::default();
        for c in &e.consents {
            v.add(c.granted, Provenance::of(&e));
        }
        assert_eq!(v.latest().map(|s| s.value), Some(false));
        assert!(!v.needs_history());
    }
}
