//! Survivorship: which of the values the sources state for an attribute
//! becomes the golden value.
//!
//! [`AttributeVotes`] tallies, per attribute, every value each channel
//! stated (how often, and its latest occurrence); it folds events and merges
//! commutatively and associatively, so it can be stored next to a golden
//! record and merged with it. [`AttributeVotes::settle`] then applies a
//! [`Survivorship`] policy (plain data with documented defaults, read from
//! configuration) to pick the winners.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize};

use std::collections::BTreeMap;

use crate::consent::{ConsentMerge, ConsentVotes};
use crate::{Address, CanonicalEvent, Channel, GoldenRecord, Provenance, Sourced};

/// How the winning value of an attribute is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurvivorshipRule {
    /// The value of the latest event wins (ties by event id).
    #[default]
    MostRecent,
    /// The value from the highest-priority channel that stated one wins, the
    /// most recent within that channel. Channels not listed rank below the
    /// listed ones (and equal among themselves).
    SourcePriority,
    /// The value stated most often, across channels, wins; ties go to the
    /// most recent.
    MostFrequent,
}

/// The survivorship rule of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeRule {
    pub rule: SurvivorshipRule,
    /// For `source_priority`: channels, highest priority first (`POS`,
    /// `WEB`, `SOCIAL`; lower case is accepted too).
    #[serde(deserialize_with = "channels_any_case")]
    pub priority: Vec<Channel>,
    /// Empty strings, and addresses with no field set, never win. Default
    /// true. Today the normalizer drops empty values before they reach a
    /// golden record, so `false` changes nothing: a source cannot clear a
    /// name or an address by sending an empty one.
    pub ignore_empty: bool,
}

impl Default for AttributeRule {
    fn default() -> Self {
        AttributeRule::most_recent()
    }
}

impl AttributeRule {
    /// `most_recent`, ignoring empty values.
    pub fn most_recent() -> Self {
        AttributeRule {
            rule: SurvivorshipRule::MostRecent,
            priority: Vec::new(),
            ignore_empty: true,
        }
    }

    /// `source_priority` over `priority` (highest first), ignoring empty values.
    pub fn source_priority(priority: Vec<Channel>) -> Self {
        AttributeRule {
            rule: SurvivorshipRule::SourcePriority,
            priority,
            ignore_empty: true,
        }
    }

    /// `most_frequent`, ignoring empty values.
    pub fn most_frequent() -> Self {
        AttributeRule {
            rule: SurvivorshipRule::MostFrequent,
            priority: Vec::new(),
            ignore_empty: true,
        }
    }

    /// Rank of a channel under `source_priority`: its position in
    /// `priority`, or below every listed channel.
    fn rank(&self, channel: Channel) -> usize {
        self.priority
            .iter()
            .position(|c| *c == channel)
            .unwrap_or(self.priority.len())
    }
}

/// The survivorship policy: one rule per golden attribute, and how consents
/// combine. Defaults: names, birthday and gender `most_recent`; address
/// `source_priority` POS, WEB, SOCIAL (a till clerk's typed address beats a
/// web form's, which beats a social profile's); consents
/// `most_restrictive` (see [`ConsentMerge`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Survivorship {
    pub full_name: AttributeRule,
    pub given_name: AttributeRule,
    pub family_name: AttributeRule,
    pub birthday: AttributeRule,
    pub gender: AttributeRule,
    pub address: AttributeRule,
    /// How the consents of identities found to be one person combine.
    pub consents: ConsentMerge,
}

impl Default for Survivorship {
    fn default() -> Self {
        Survivorship {
            full_name: AttributeRule::most_recent(),
            given_name: AttributeRule::most_recent(),
            family_name: AttributeRule::most_recent(),
            birthday: AttributeRule::most_recent(),
            gender: AttributeRule::most_recent(),
            address: AttributeRule::source_priority(vec![
                Channel::Pos,
                Channel::Web,
                Channel::Social,
            ]),
            consents: ConsentMerge::default(),
        }
    }
}

impl Survivorship {
    /// Checks that no priority list names a channel twice and that a
    /// `source_priority` rule has one (without, it would quietly be
    /// `most_recent`); the message names the offending attribute.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rule) in self.rules() {
            if rule.rule == SurvivorshipRule::SourcePriority && rule.priority.is_empty() {
                return Err(format!(
                    "survivorship.{name}: source_priority needs a priority list (e.g. priority = [\"pos\", \"web\", \"social\"])"
                ));
            }
            for (i, c) in rule.priority.iter().enumerate() {
                if rule.priority[..i].contains(c) {
                    return Err(format!(
                        "survivorship.{name}.priority names {} twice",
                        c.as_str()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Each attribute's name and rule, in declaration order.
    pub fn rules(&self) -> [(&'static str, &AttributeRule); 6] {
        [
            ("full_name", &self.full_name),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("birthday", &self.birthday),
            ("gender", &self.gender),
            ("address", &self.address),
        ]
    }
}

/// Reads channel names in either case (`POS` as serialized, `pos` as the
/// CLI and the rest of the configuration spell them).
fn channels_any_case<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Channel>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            n.to_ascii_lowercase()
                .parse()
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

/// One value a channel stated for an attribute: how often, and when last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate<T> {
    pub channel: Channel,
    pub value: T,
    /// Events of `channel` that stated `value`.
    pub count: i64,
    /// The latest of them (by event time, then event id).
    pub latest: Provenance,
}

/// The candidates of one attribute, sorted by (channel, value), each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Votes<T> {
    pub candidates: Vec<Candidate<T>>,
}

impl<T> Default for Votes<T> {
    fn default() -> Self {
        Votes {
            candidates: Vec::new(),
        }
    }
}

/// Whether an address counts as empty for `ignore_empty`: it names no
/// street, town or postal code. A form that sends empty lines with its
/// default country (or a region alone) says where no one lives, and must
/// not replace a whole address.
fn blank_address(a: &Address) -> bool {
    [&a.line1, &a.line2, &a.city, &a.postal_code]
        .iter()
        .all(|f| f.as_deref().is_none_or(blank))
}

/// Whether a text value counts as empty for `ignore_empty`: nothing but
/// white space (the normalizers drop such values; an event written to the
/// canonical topic by another producer may carry them).
fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// How many whole names of a profile [`AttributeVotes::settle`] compares
/// with one another (pairwise) to leave out those another holds; a
/// profile with more (a shared counter's) is settled without.
const MAX_NAMES_COMPARED: usize = 32;

/// Whether the whole name `full` holds the name part `part`, both folded
/// ([`fold_name`]): each of the part's words is one of the whole name's (a
/// one-letter word, an initial, one that starts with it), or, in a name
/// written in CJK characters without spaces, the part is in it.
fn name_holds(full: &str, part: &str) -> bool {
    // The common case, parts as the whole name spells them (the normalizer
    // builds a whole name from its fields): no fold, no allocation.
    if part
        .split_whitespace()
        .all(|w| full.split_whitespace().any(|f| f == w))
    {
        return true;
    }
    let (full, part) = (fold_name(full), fold_name(part));
    let cjk = |s: &str| s.chars().any(|c| u32::from(c) >= 0x2E80);
    if !full.contains(' ') && cjk(&full) {
        return full.contains(part.as_str());
    }
    let words: Vec<&str> = full.split(' ').collect();
    part.split(' ').all(|w| {
        words.contains(&w) || (w.chars().count() == 1 && words.iter().any(|f| f.starts_with(w)))
    })
}

/// Whether `part` is one word of a name written like `full`: no space in
/// it once folded, or, beside a name written in CJK characters without
/// spaces, a family name alone: one character, or one of `families` (the
/// person's family names as their events split them: `佐藤` of
/// `佐藤明美`, `佐々木` of `佐々木希`, `欧阳` of `欧阳娜娜`). A first part
/// that is no family name (`王芳` of `王芳芳`) is a name of its own.
fn one_word_of(full: &str, part: &str, families: &[String]) -> bool {
    let (full, part) = (fold_name(full), fold_name(part));
    if part.contains(' ') {
        return false;
    }
    let cjk = full.chars().any(|c| u32::from(c) >= 0x2E80);
    !cjk || full.contains(' ') || part.chars().count() == 1 || families.contains(&part)
}

/// A name as [`name_holds`] compares it: compatibility-decomposed, accents
/// and apostrophes dropped (`José` / `Jose`, `O’Brien` / `OBrien`),
/// lower-case, hyphens and dots as spaces (`Anne-Marie` / `Anne Marie`,
/// `Jr.` / `Jr`), one space between words.
fn fold_name(name: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let spaced: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c) && !matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`'))
        .flat_map(char::to_lowercase)
        .map(|c| if c == '-' || c == '.' { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Orders provenances by recency: later event time, then larger event id.
fn recency(a: &Provenance, b: &Provenance) -> Ordering {
    (a.event_time_ms, &a.event_id).cmp(&(b.event_time_ms, &b.event_id))
}

impl<T: Ord + Clone> Votes<T> {
    fn add(&mut self, add: Candidate<T>) {
        let found = self
            .candidates
            .binary_search_by(|c| (c.channel, &c.value).cmp(&(add.channel, &add.value)));
        match found {
            Ok(i) => {
                let c = &mut self.candidates[i];
                c.count += add.count;
                if recency(&add.latest, &c.latest) == Ordering::Greater {
                    c.latest = add.latest;
                }
            }
            Err(i) => self.candidates.insert(i, add),
        }
    }

    fn absorb_value(&mut self, value: Option<&T>, event: &CanonicalEvent) {
        if let Some(value) = value {
            self.add(Candidate {
                channel: event.channel,
                value: value.clone(),
                count: 1,
                latest: Provenance::of(event),
            });
        }
    }

    fn absorb(&mut self, other: Votes<T>) {
        for c in other.candidates {
            self.add(c);
        }
    }

    /// The winning value under `rule`, with the provenance of its latest
    /// occurrence. Every comparison ends in a total order, so the winner
    /// depends only on the tallies.
    fn winner(&self, rule: &AttributeRule, is_blank: fn(&T) -> bool) -> Option<Sourced<T>> {
        self.winner_among(rule, is_blank, |_| true)
    }

    /// [`Votes::winner`] among the values that `fits` (whatever the rule).
    fn winner_among(
        &self,
        rule: &AttributeRule,
        is_blank: fn(&T) -> bool,
        fits: impl Fn(&T) -> bool,
    ) -> Option<Sourced<T>> {
        let eligible = self
            .candidates
            .iter()
            .filter(|c| !(rule.ignore_empty && is_blank(&c.value)) && fits(&c.value));
        // Among candidates, "better" is greater; ties on recency (the same
        // event stating two values cannot happen, but a reused event id
        // could) fall to the value and channel.
        let by_recency = |a: &&Candidate<T>, b: &&Candidate<T>| {
            recency(&a.latest, &b.latest)
                .then_with(|| b.value.cmp(&a.value))
                .then_with(|| b.channel.cmp(&a.channel))
        };
        let best = match rule.rule {
            SurvivorshipRule::MostRecent => eligible.max_by(by_recency),
            SurvivorshipRule::SourcePriority => eligible.max_by(|a, b| {
                rule.rank(b.channel)
                    .cmp(&rule.rank(a.channel))
                    .then_with(|| by_recency(a, b))
            }),
            SurvivorshipRule::MostFrequent => {
                // Total count and latest occurrence per value, across channels.
                let mut totals: Vec<(&T, i64, &Candidate<T>)> = Vec::new();
                for c in eligible {
                    match totals.iter_mut().find(|(v, _, _)| *v == &c.value) {
                        Some((_, count, latest)) => {
                            *count += c.count;
                            if by_recency(&c, latest) == Ordering::Greater {
                                *latest = c;
                            }
                        }
                        None => totals.push((&c.value, c.count, c)),
                    }
                }
                totals
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| by_recency(&a.2, &b.2)))
                    .map(|(_, _, latest)| latest)
            }
        };
        best.map(|c| Sourced {
            value: c.value.clone(),
            source: c.latest.clone(),
        })
    }
}

/// Every value each channel stated for each survivorship-governed
/// attribute, with counts and latest provenance. Stored beside a golden
/// record; folding events and merging vote sets are commutative and
/// associative, so the tallies (and what [`settle`](Self::settle) picks)
/// never depend on arrival order or on how profiles were merged. Each event
/// must be absorbed once (the resolver de-duplicates events).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeVotes {
    pub full_name: Votes<String>,
    pub given_name: Votes<String>,
    pub family_name: Votes<String>,
    pub birthday: Votes<String>,
    pub gender: Votes<String>,
    pub address: Votes<Address>,
    /// Per `purpose:channel`, the latest grant and the latest withdrawal.
    pub consents: BTreeMap<String, ConsentVotes>,
}

impl AttributeVotes {
    /// The votes of one event.
    pub fn from_event(event: &CanonicalEvent) -> Self {
        let mut votes = AttributeVotes::default();
        votes.absorb_event(event);
        votes
    }

    /// Counts the values `event` states (empty ones too: whether they may
    /// win is the policy's `ignore_empty`).
    pub fn absorb_event(&mut self, event: &CanonicalEvent) {
        let a = &event.attributes;
        self.full_name.absorb_value(a.full_name.as_ref(), event);
        self.given_name.absorb_value(a.given_name.as_ref(), event);
        self.family_name.absorb_value(a.family_name.as_ref(), event);
        self.birthday.absorb_value(a.birthday.as_ref(), event);
        self.gender.absorb_value(a.gender.as_ref(), event);
        self.address.absorb_value(a.address.as_ref(), event);
        for (key, granted) in crate::consent::statements(event) {
            self.consents
                .entry(key)
                .or_default()
                .add(granted, Provenance::of(event));
        }
    }

    /// Adds another profile's votes (a merge).
    pub fn absorb(&mut self, other: AttributeVotes) {
        self.full_name.absorb(other.full_name);
        self.given_name.absorb(other.given_name);
        self.family_name.absorb(other.family_name);
        self.birthday.absorb(other.birthday);
        self.gender.absorb(other.gender);
        self.address.absorb(other.address);
        for (key, votes) in other.consents {
            self.consents.entry(key).or_default().absorb(votes);
        }
    }

    /// Whether settling the consents under `policy` needs the profile's
    /// events: a `most_restrictive` policy and some consent whose latest
    /// statement is a grant made after a withdrawal (were both made by one
    /// identity, the grant stands; if not, the withdrawal). The caller then
    /// sets them with [`crate::combine_consents`] over every event of the
    /// profile. Otherwise [`AttributeVotes::settle`] is exact.
    pub fn consents_need_history(&self, policy: &Survivorship) -> bool {
        policy.consents == ConsentMerge::MostRestrictive
            && (self.consents.values().any(ConsentVotes::needs_history)
                || crate::consent::all_and_channels_need_history(&self.consents))
    }

    /// Sets full_name, given_name, family_name, birthday, gender and address
    /// of `record` to the winners under `policy`, each with the provenance of
    /// the winning value's latest occurrence; `None` where no value is
    /// eligible. Sets each consent to its latest statement (exact unless
    /// [`AttributeVotes::consents_need_history`]) and the `may_contact`
    /// flags from the consents and the record's identifiers.
    pub fn settle(&self, policy: &Survivorship, record: &mut GoldenRecord) {
        let blank_text = |s: &String| blank(s);
        // A one-word whole name that another one holds is part of it (a
        // till's `Ann` beside the web's `Ann Lee`, `李` beside `李娜`):
        // it adds nothing, and winning it dropped the part it lacks from
        // the record. The fuller name competes instead. A longer name held
        // by another (`Ann Lee` after `Ann Lee-Smith`) may be a correction
        // and competes as it is.
        let names: Vec<&String> = self.full_name.candidates.iter().map(|c| &c.value).collect();
        let families: Vec<String> = self
            .family_name
            .candidates
            .iter()
            .map(|c| fold_name(&c.value))
            .collect();
        let partial = |name: &String| {
            // (An empty one is `ignore_empty`'s to decide.)
            !blank(name)
                && names.len() <= MAX_NAMES_COMPARED
                && names.iter().any(|other| {
                    *other != name
                        && !blank(other)
                        && one_word_of(other, name, &families)
                        && name_holds(other, name)
                        && !name_holds(name, other)
                })
        };
        record.full_name = self
            .full_name
            .winner_among(&policy.full_name, blank_text, |n| !partial(n))
            .or_else(|| self.full_name.winner(&policy.full_name, blank_text));
        // One name, not three that contradict each other: a given or family
        // name that the winning whole name does not hold is of another name
        // the person went by (`Ann Lee` typed in two fields, then `Ann
        // Smith` in one after a marriage: the family name is not `Lee`), so
        // the part is the rule's winner among those the whole name holds.
        let full = record.full_name.as_ref().map(|f| f.value.as_str());
        let held = |part: &String| full.is_none_or(|full| name_holds(full, part));
        record.given_name = self
            .given_name
            .winner_among(&policy.given_name, blank_text, held);
        record.family_name = self
            .family_name
            .winner_among(&policy.family_name, blank_text, held);
        record.birthday = self.birthday.winner(&policy.birthday, blank_text);
        record.gender = self.gender.winner(&policy.gender, blank_text);
        record.address = self.address.winner(&policy.address, blank_address);
        record.consents = self
            .consents
            .iter()
            .filter_map(|(key, votes)| Some((key.clone(), votes.latest()?)))
            .collect();
        crate::consent::spell_out_all(&mut record.consents);
        crate::consent::all_decides_other_channels(&mut record.consents);
        record.refresh_may_contact();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activity, Attributes, Identifier, IdentifierKind};

    fn event(id: &str, channel: Channel, t: i64, name: Option<&str>) -> CanonicalEvent {
        CanonicalEvent {
            event_id: id.into(),
            channel,
            event_time_ms: t,
            identifiers: vec![Identifier::new(IdentifierKind::MemberId, "m-1")],
            attributes: Attributes {
                full_name: name.map(Into::into),
                ..Attributes::default()
            },
            activity: Activity::default(),
            consents: vec![],
            dropped: vec![],
        }
    }

    fn with_address(mut e: CanonicalEvent, city: Option<&str>) -> CanonicalEvent {
        e.attributes.address = Some(Address {
            city: city.map(Into::into),
            ..Address::default()
        });
        e
    }

    fn votes(events: &[CanonicalEvent]) -> AttributeVotes {
        let mut v = AttributeVotes::default();
        for e in events {
            v.absorb_event(e);
        }
        v
    }

    fn record() -> GoldenRecord {
        GoldenRecord::new("p".into(), &event("x", Channel::Pos, 0, None))
    }

    /// The full name `policy` picks from `events`, and its source event.
    fn name(events: &[CanonicalEvent], rule: AttributeRule) -> Option<(String, String)> {
        let policy = Survivorship {
            full_name: rule,
            ..Survivorship::default()
        };
        let mut r = record();
        votes(events).settle(&policy, &mut r);
        r.full_name.map(|s| (s.value, s.source.event_id))
    }

    fn pair(value: &str, event: &str) -> Option<(String, String)> {
        Some((value.into(), event.into()))
    }

    #[test]
    fn most_recent_takes_the_latest_event_ties_by_event_id() {
        let events = [
            event("pos:1", Channel::Pos, 10, Some("Ann")),
            event("web:2", Channel::Web, 30, Some("Anna")),
            event("soc:3", Channel::Social, 20, Some("Annie")),
        ];
        assert_eq!(
            name(&events, AttributeRule::most_recent()),
            pair("Anna", "web:2")
        );
        let tie = [
            event("web:b", Channel::Web, 30, Some("B")),
            event("web:a", Channel::Web, 30, Some("A")),
        ];
        assert_eq!(name(&tie, AttributeRule::most_recent()), pair("B", "web:b"));
    }

    #[test]
    fn source_priority_takes_the_best_channel_then_the_latest_in_it() {
        let events = [
            event("pos:1", Channel::Pos, 10, Some("Pos Old")),
            event("pos:2", Channel::Pos, 15, Some("Pos New")),
            event("web:3", Channel::Web, 30, Some("Web")),
            event("soc:4", Channel::Social, 40, Some("Social")),
        ];
        let rule = AttributeRule::source_priority;
        assert_eq!(
            name(&events, rule(vec![Channel::Pos, Channel::Web])),
            pair("Pos New", "pos:2")
        );
        assert_eq!(
            name(&events, rule(vec![Channel::Web, Channel::Pos])),
            pair("Web", "web:3")
        );
        // Unlisted channels rank below listed ones, and among themselves by recency.
        assert_eq!(
            name(&events[..3], rule(vec![Channel::Social])),
            pair("Web", "web:3")
        );
        assert_eq!(name(&events, rule(vec![])), pair("Social", "soc:4"));
    }

    #[test]
    fn default_address_prefers_pos_over_a_newer_web_address() {
        let events = [
            with_address(event("web:1", Channel::Web, 50, None), Some("Web City")),
            with_address(event("pos:1", Channel::Pos, 10, None), Some("Till City")),
            with_address(
                event("soc:1", Channel::Social, 90, None),
                Some("Social City"),
            ),
        ];
        let mut r = record();
        votes(&events).settle(&Survivorship::default(), &mut r);
        let address = r.address.expect("an address");
        assert_eq!(address.value.city.as_deref(), Some("Till City"));
        assert_eq!(address.source.event_id, "pos:1");
        assert_eq!(r.full_name, None, "no event named the person");
    }

    #[test]
    fn most_frequent_counts_across_channels_and_keeps_the_latest_occurrence() {
        let events = [
            event("pos:1", Channel::Pos, 10, Some("Ann")),
            event("web:2", Channel::Web, 20, Some("Ann")),
            event("soc:3", Channel::Social, 30, Some("Anna")),
        ];
        assert_eq!(
            name(&events, AttributeRule::most_frequent()),
            pair("Ann", "web:2")
        );
        // A tie goes to the most recent value.
        assert_eq!(
            name(&events[1..], AttributeRule::most_frequent()),
            pair("Anna", "soc:3")
        );
    }

    #[test]
    fn empty_values_win_only_when_allowed() {
        let events = [
            event("pos:1", Channel::Pos, 10, Some("Ann")),
            event("web:2", Channel::Web, 20, Some("")),
            with_address(event("web:3", Channel::Web, 30, None), None),
        ];
        assert_eq!(
            name(&events, AttributeRule::most_recent()),
            pair("Ann", "pos:1")
        );
        let keep_empty = AttributeRule {
            ignore_empty: false,
            ..AttributeRule::most_recent()
        };
        assert_eq!(name(&events, keep_empty.clone()), pair("", "web:2"));
        let mut r = record();
        let v = votes(&events);
        v.settle(&Survivorship::default(), &mut r);
        assert_eq!(r.address, None, "an address with no field set never wins");
        let policy = Survivorship {
            address: keep_empty,
            ..Survivorship::default()
        };
        v.settle(&policy, &mut r);
        assert_eq!(
            r.address.map(|a| a.source.event_id).as_deref(),
            Some("web:3")
        );
    }

    /// A whole name from one event and name parts from an older one
    /// (`Ann Lee` in two fields, then `Ann Smith` in one): the golden
    /// record keeps only the parts the winning whole name holds.
    #[test]
    fn name_parts_of_another_name_do_not_survive() {
        let mut fields = event("web:1", Channel::Web, 10, Some("Ann Lee"));
        fields.attributes.given_name = Some("Ann".into());
        fields.attributes.family_name = Some("Lee".into());
        let whole = event("web:2", Channel::Web, 20, Some("Ann Smith"));
        let mut r = record();
        votes(&[fields.clone(), whole]).settle(&Survivorship::default(), &mut r);
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann Smith"));
        assert_eq!(r.given_name.map(|n| n.value).as_deref(), Some("Ann"));
        assert_eq!(r.family_name, None);
        // Parts the whole name holds stay, in any case and in names written
        // without spaces.
        let mut r = record();
        votes(&[fields]).settle(&Survivorship::default(), &mut r);
        assert_eq!(r.family_name.map(|n| n.value).as_deref(), Some("Lee"));
        assert!(name_holds("ANN MILLS-MILES", "Mills-Miles"));
        assert!(name_holds("李娜", "李"));
        assert!(!name_holds("Lisa Wang", "Li"));
        assert!(!name_holds("Lisa", "Li"));
        // Written another way, still the same part.
        assert!(name_holds("Jose Garcia", "José"));
        assert!(name_holds("Jose Garcia", "García"));
        assert!(name_holds("Patrick O’Brien", "O'Brien"));
        assert!(name_holds("Anne-Marie Dupont", "Anne Marie"));
        assert!(name_holds("John Smith Jr", "Smith Jr."));
        assert!(name_holds("John Smith", "J."));
        assert!(name_holds("佐藤 明美", "佐藤"));
    }

    /// A name part the winning whole name does not hold gives way to one
    /// it holds: the rule's winner among those (`Ann Lee` in two fields,
    /// then `Mrs Smith` read as a family name alone: the family name is
    /// `Lee`, not none).
    #[test]
    fn a_name_part_the_whole_name_holds_survives_a_newer_one_it_does_not() {
        let mut fields = event("web:1", Channel::Web, 10, Some("Ann Lee"));
        fields.attributes.given_name = Some("Ann".into());
        fields.attributes.family_name = Some("Lee".into());
        let mut title = event("pos:2", Channel::Pos, 20, None);
        title.attributes.family_name = Some("Smith".into());
        let mut r = record();
        votes(&[fields, title]).settle(&Survivorship::default(), &mut r);
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann Lee"));
        let family = r.family_name.expect("a family name");
        assert_eq!(
            (family.value.as_str(), family.source.event_id.as_str()),
            ("Lee", "web:1")
        );
        assert_eq!(r.given_name.map(|n| n.value).as_deref(), Some("Ann"));
    }

    /// A whole name that another of the person's holds word for word (a
    /// till's one-word `Ann`, a hanzi family name alone) does not win over
    /// the fuller one, however recent: it took the record's whole name and
    /// dropped the family name it lacks. A name that is not part of the
    /// other (`Ann Smith` after `Ann Lee`) still wins by recency.
    #[test]
    fn a_name_another_holds_does_not_replace_the_fuller_one() {
        let mut fields = event("web:1", Channel::Web, 10, Some("Ann Lee"));
        fields.attributes.given_name = Some("Ann".into());
        fields.attributes.family_name = Some("Lee".into());
        let till = event("pos:2", Channel::Pos, 20, Some("Ann"));
        let settled = |events: &[CanonicalEvent]| {
            let mut r = record();
            votes(events).settle(&Survivorship::default(), &mut r);
            (
                r.full_name.map(|n| n.value),
                r.given_name.map(|n| n.value),
                r.family_name.map(|n| n.value),
            )
        };
        let whole = (
            Some("Ann Lee".to_string()),
            Some("Ann".to_string()),
            Some("Lee".to_string()),
        );
        assert_eq!(settled(&[fields.clone(), till.clone()]), whole);
        assert_eq!(settled(&[till.clone(), fields.clone()]), whole, "any order");
        let mut hanzi = event("web:3", Channel::Web, 10, Some("李娜"));
        hanzi.attributes.family_name = Some("李".into());
        hanzi.attributes.given_name = Some("娜".into());
        let family_only = event("pos:4", Channel::Pos, 20, Some("李"));
        assert_eq!(
            settled(&[hanzi, family_only]),
            (
                Some("李娜".to_string()),
                Some("娜".to_string()),
                Some("李".to_string())
            )
        );
        let married = event("pos:5", Channel::Pos, 30, Some("Ann Smith"));
        assert_eq!(
            settled(&[fields, till, married]).0.as_deref(),
            Some("Ann Smith")
        );
        // A word dropped from a longer name is a correction, not a part:
        // the newer name wins (helper-179: `Ann Lee` never replaced
        // `Ann Lee-Smith`, and the family name contradicted it).
        let both = event("web:6", Channel::Web, 10, Some("Ann Lee-Smith"));
        let corrected = event("web:7", Channel::Web, 20, Some("Ann Lee"));
        assert_eq!(settled(&[both, corrected]).0.as_deref(), Some("Ann Lee"));
        let three = event("web:8", Channel::Web, 10, Some("陈李娜"));
        let two = event("web:9", Channel::Web, 20, Some("李娜"));
        assert_eq!(settled(&[three, two]).0.as_deref(), Some("李娜"));
        // A family name of two characters alone beside the unspaced
        // whole name (Japanese, a Chinese compound surname).
        // (Known as one by the family name the whole name's event split
        // off, as the normalizer splits it: 佐々木 has three characters.)
        for (whole, family) in [
            ("佐藤明美", "佐藤"),
            ("欧阳娜娜", "欧阳"),
            ("佐々木希", "佐々木"),
        ] {
            let mut web = event("web:12", Channel::Web, 10, Some(whole));
            web.attributes.family_name = Some(family.into());
            let till = event("pos:13", Channel::Pos, 20, Some(family));
            assert_eq!(settled(&[web, till]).0.as_deref(), Some(whole));
        }
        // A first part that is no family name is a name of its own: a
        // shortened one wins by recency (helper-184).
        let mut longer = event("web:14", Channel::Web, 10, Some("王芳芳"));
        longer.attributes.family_name = Some("王".into());
        let shorter = event("web:15", Channel::Web, 20, Some("王芳"));
        assert_eq!(settled(&[longer, shorter]).0.as_deref(), Some("王芳"));
        // A family name alone beside a spaced name is one of its words.
        let spaced = event("web:10", Channel::Web, 10, Some("佐藤 明美"));
        let family = event("pos:11", Channel::Pos, 20, Some("佐藤"));
        assert_eq!(settled(&[spaced, family]).0.as_deref(), Some("佐藤 明美"));
    }

    /// White space is empty for `ignore_empty`, in names and in an
    /// address's lines (events on the canonical topic from another
    /// producer are not normalized).
    #[test]
    fn blank_text_does_not_win_over_a_value() {
        let named = with_address(
            event("web:1", Channel::Web, 10, Some("Ann")),
            Some("Shanghai"),
        );
        let mut blank = with_address(event("web:2", Channel::Web, 20, Some("  ")), Some(" "));
        blank.attributes.birthday = Some(" ".into());
        let policy = Survivorship {
            address: AttributeRule::most_recent(),
            ..Survivorship::default()
        };
        let mut r = record();
        votes(&[named, blank]).settle(&policy, &mut r);
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann"));
        assert_eq!(
            r.address.map(|a| a.source.event_id).as_deref(),
            Some("web:1")
        );
        assert_eq!(r.birthday, None);
    }

    /// A later form that sends empty lines and its default country leaves
    /// the whole address as it was.
    #[test]
    fn a_country_alone_does_not_replace_an_address() {
        let full = with_address(event("web:1", Channel::Web, 10, None), Some("Shanghai"));
        let mut country_only = event("web:2", Channel::Web, 20, None);
        country_only.attributes.address = Some(Address {
            region: Some("SH".into()),
            country: Some("CN".into()),
            ..Address::default()
        });
        let policy = Survivorship {
            address: AttributeRule::most_recent(),
            ..Survivorship::default()
        };
        let mut r = record();
        votes(&[full, country_only]).settle(&policy, &mut r);
        assert_eq!(
            r.address.map(|a| a.source.event_id).as_deref(),
            Some("web:1")
        );
    }

    #[test]
    fn a_late_older_event_changes_most_frequent_but_not_most_recent() {
        let mut v = votes(&[
            event("pos:1", Channel::Pos, 10, Some("Ann")),
            event("web:2", Channel::Web, 20, Some("Anna")),
        ]);
        let settle = |v: &AttributeVotes, rule: AttributeRule| {
            let mut r = record();
            v.settle(
                &Survivorship {
                    full_name: rule,
                    ..Survivorship::default()
                },
                &mut r,
            );
            r.full_name.map(|s| (s.value, s.source.event_id))
        };
        assert_eq!(
            settle(&v, AttributeRule::most_frequent()),
            pair("Anna", "web:2")
        );
        v.absorb_event(&event("soc:0", Channel::Social, 5, Some("Ann")));
        assert_eq!(
            settle(&v, AttributeRule::most_recent()),
            pair("Anna", "web:2")
        );
        // "Ann" now has two votes; its latest occurrence is still pos:1.
        assert_eq!(
            settle(&v, AttributeRule::most_frequent()),
            pair("Ann", "pos:1")
        );
    }

    fn mixed_events() -> Vec<CanonicalEvent> {
        vec![
            with_address(event("pos:1", Channel::Pos, 10, Some("Ann")), Some("A")),
            event("web:2", Channel::Web, 20, Some("Anna")),
            with_address(event("soc:3", Channel::Social, 20, Some("Ann")), Some("B")),
            with_address(event("web:4", Channel::Web, 5, Some("")), Some("B")),
            event("pos:5", Channel::Pos, 31, Some("Anne")),
            with_address(event("web:6", Channel::Web, 30, Some("Anna")), None),
        ]
    }

    #[test]
    fn votes_and_winners_do_not_depend_on_order_or_grouping() {
        let events = mixed_events();
        let expected = votes(&events);
        let policies = [
            Survivorship::default(),
            Survivorship {
                full_name: AttributeRule::most_frequent(),
                address: AttributeRule {
                    ignore_empty: false,
                    ..AttributeRule::most_recent()
                },
                ..Survivorship::default()
            },
            Survivorship {
                full_name: AttributeRule::source_priority(vec![Channel::Social]),
                address: AttributeRule::most_frequent(),
                ..Survivorship::default()
            },
        ];
        let settled = |v: &AttributeVotes| {
            policies
                .iter()
                .map(|p| {
                    let mut r = record();
                    v.settle(p, &mut r);
                    (r.full_name, r.address)
                })
                .collect::<Vec<_>>()
        };
        let want = settled(&expected);
        // Rotations and reversals of the event order, and every split into
        // two partial vote sets merged with `absorb`, either way round.
        for shift in 0..events.len() {
            let mut order = events.clone();
            order.rotate_left(shift);
            for order in [order.clone(), order.into_iter().rev().collect()] {
                assert_eq!(votes(&order), expected);
                for mask in 0..(1u32 << order.len()) {
                    let (left, right): (Vec<_>, Vec<_>) = order
                        .iter()
                        .enumerate()
                        .partition(|(i, _)| mask & (1 << i) != 0);
                    let part = |p: Vec<(usize, &CanonicalEvent)>| {
                        votes(&p.into_iter().map(|(_, e)| e.clone()).collect::<Vec<_>>())
                    };
                    let (l, r) = (part(left), part(right));
                    let mut a = l.clone();
                    a.absorb(r.clone());
                    let mut b = r;
                    b.absorb(l);
                    assert_eq!(a, expected);
                    assert_eq!(b, expected);
                    assert_eq!(settled(&a), want);
                }
            }
        }
        // Three-way grouping: (x + y) + z == x + (y + z).
        let (x, y, z) = (
            votes(&events[..2]),
            votes(&events[2..4]),
            votes(&events[4..]),
        );
        let mut left = x.clone();
        left.absorb(y.clone());
        left.absorb(z.clone());
        let mut yz = y;
        yz.absorb(z);
        let mut right = x;
        right.absorb(yz);
        assert_eq!(left, right);
    }

    #[test]
    fn winners_of_the_mixed_events() {
        let v = votes(&mixed_events());
        let mut r = record();
        v.settle(&Survivorship::default(), &mut r);
        let name = r.full_name.clone().expect("a name");
        assert_eq!(
            (name.value.as_str(), name.source.event_id.as_str()),
            ("Anne", "pos:5")
        );
        let address = r.address.clone().expect("an address");
        assert_eq!(address.value.city.as_deref(), Some("A"), "POS first");
        let policy = Survivorship {
            full_name: AttributeRule::most_frequent(),
            ..Survivorship::default()
        };
        v.settle(&policy, &mut r);
        // Ann and Anna have two votes each; Anna's latest (web:6 at 30) is newer.
        assert_eq!(
            r.full_name.map(|n| (n.value, n.source.event_id)),
            pair("Anna", "web:6")
        );
    }

    #[test]
    fn priority_channels_read_in_either_case() {
        use serde::de::value::{Error, SeqDeserializer};
        let read = |names: Vec<&str>| {
            channels_any_case(SeqDeserializer::<_, Error>::new(names.into_iter()))
        };
        assert_eq!(
            read(vec!["pos", "WEB", "Social"]).expect("channels"),
            vec![Channel::Pos, Channel::Web, Channel::Social]
        );
        assert!(read(vec!["fax"]).is_err());
    }

    #[test]
    fn defaults_are_valid_and_duplicates_are_named() {
        let mut p = Survivorship::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.address.rule, SurvivorshipRule::SourcePriority);
        assert!(p.full_name.ignore_empty);
        p.gender = AttributeRule::source_priority(vec![Channel::Web, Channel::Web]);
        let err = p.validate().expect_err("duplicate");
        assert!(err.contains("survivorship.gender"), "{err}");
    }
}
