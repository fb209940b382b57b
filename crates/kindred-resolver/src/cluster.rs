//! The deterministic core of identity resolution: a set of events in, their
//! partition into people out.
//!
//! The partition is a function of the *set* of events (and the policy and
//! the quarantined keys): inputs are put in a canonical order (event time,
//! then event id) before anything is decided, so any arrival order gives the
//! same clusters. The resolver calls it whenever an event could change how
//! existing profiles divide; the common cases (an event that joins one
//! uncontested profile, or one that brings nothing a guard weighs) are
//! applied incrementally with the same outcome.
//!
//! 1. Immutable identifiers (member cards, social and account ids) join
//!    every record that holds them. An identifier the set shows shared (a
//!    card whose records name clearly different people, a device holding
//!    two accounts of one shop) links only records with alike names instead,
//!    like a household's landline.
//! 2. Mutable identifiers (phones, emails, devices) and merge rules propose
//!    links between records: a mutable identifier only between records
//!    within its window of each other. Proposals are taken strongest first
//!    (email, phone, merge rules, device; then by time); one that would join
//!    two clusters holding different member cards of one program, more
//!    identifiers of a kind than the policy allows, more identifiers in all
//!    than the giant-profile guard allows, or whose names clearly differ, is
//!    refused and reported as a suggestion (see [`Refusal`]).
//! 3. Suggest rules only report pairs that end up in different clusters.
//!
//! Decisions by people ([`Constraint`]s pinned on events: a rejected
//! suggestion, a split) override all of it: records on different sides of
//! a decision are never joined, by any identifier; records an approved
//! review put together are joined like records sharing a member card.

use std::collections::{BTreeMap, BTreeSet};

use kindred_model::{CanonicalEvent, IdentifierKind, LinkPolicy, RuleAction};

use crate::decision::Constraint;
use crate::keys::{namespace_limit, one_per_person, per_namespace, EventKeys, KeyClass};
use crate::names::{
    clearly_different, name_similarity, names_someone, person_similarity,
    person_similarity_for_rules, GivenName, NameScript,
};
use crate::score::{birthday_told, birthdays_far_apart, family_changed, score};

/// One event as the clustering sees it.
pub(crate) struct Node<'a> {
    pub event: &'a CanonicalEvent,
    pub keys: &'a EventKeys,
    /// Decisions pinned on this event.
    pub constraints: &'a [Constraint],
    /// The profile the event belonged to before (events of one origin that
    /// end up apart make a split; different origins joined make a merge).
    pub origin: u32,
}

/// Why two records were linked: the rule and the kinds of evidence (never values).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Link {
    pub rule: String,
    pub version: i32,
    pub kinds: Vec<String>,
}

impl Link {
    pub fn identifier(kind: IdentifierKind) -> Self {
        Link {
            rule: "exact_identifier".into(),
            version: 1,
            kinds: vec![kind.as_str().to_string()],
        }
    }

    fn approved() -> Self {
        Link {
            rule: "review_approved".into(),
            version: 1,
            kinds: Vec::new(),
        }
    }
}

/// Why a proposed link was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// Different member cards of one loyalty program on the two sides.
    MemberCards,
    /// More identifiers of this kind than `max_per_profile`.
    Limit(IdentifierKind),
    /// Names on the two sides clearly differ.
    NameMismatch,
    /// More identifiers in all than the giant-profile guard allows.
    GiantProfile,
    /// A person decided these records are apart (reject, split).
    Decision,
    /// Not refused: a `suggest` rule only reports.
    SuggestRule,
    /// Birthdays on the two sides no typo explains (a mutable identifier's
    /// or a match rule's link: a father and son of one name on a family's
    /// landline, or at its address).
    BirthdayMismatch,
}

impl Refusal {
    /// Stable label (metrics, review topic).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::MemberCards => "member_cards",
            Refusal::Limit(kind) => match kind {
                IdentifierKind::MemberId => "limit_member_id",
                IdentifierKind::Phone => "limit_phone",
                IdentifierKind::Email => "limit_email",
                IdentifierKind::Social => "limit_social",
                IdentifierKind::Account => "limit_account",
                IdentifierKind::Device => "limit_device",
            },
            Refusal::NameMismatch => "name_mismatch",
            Refusal::GiantProfile => "giant_profile",
            Refusal::Decision => "decision",
            Refusal::SuggestRule => "suggest_rule",
            Refusal::BirthdayMismatch => "birthday_mismatch",
        }
    }
}

/// The outcome of [`cluster`].
#[derive(Debug, Default)]
pub(crate) struct Clustering {
    /// Node indices per person, each in canonical order; clusters ordered by
    /// their first node.
    pub clusters: Vec<Vec<usize>>,
    /// Per cluster: the links that joined records of different origins.
    pub links: Vec<Vec<Link>>,
    /// Per cluster: whether a mutable identifier or a rule joined any of its
    /// records (else immutable identifiers alone hold it together).
    pub weak_joined: Vec<bool>,
    /// Pairs of nodes in different clusters that a guard or a suggest rule
    /// flagged for review.
    pub suggestions: Vec<(usize, usize, Link, Refusal)>,
    /// Links refused by each guard (decisions included), for metrics.
    pub refused: BTreeMap<Refusal, u64>,
    /// Identifiers' link keys found shared (their records name clearly
    /// different people, or hold more cards or accounts than one person
    /// may): they linked only records with alike names.
    pub shared_keys: BTreeSet<String>,
    /// Rule blocks in which a pair reached the rule (proposed: joined,
    /// refused or suggested). A pair below it never links, whatever the
    /// partitions, so a block without one contests no one.
    pub proposed_blocks: BTreeSet<String>,
}

/// Where the records at positions `ps` (in canonical order) together hold
/// more identifiers of a limited kind than one profile may
/// (`max_per_profile`, per namespace: two accounts of one shop, two member
/// cards of one program): for each such namespace, the first record of
/// each value paired with the first record of the next value, and the
/// kind. Empty when within every limit.
fn over_limits<'k>(
    ps: &[usize],
    keys: &dyn Fn(usize) -> &'k EventKeys,
    policy: &LinkPolicy,
    quarantined: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize, IdentifierKind)> {
    let mut first: BTreeMap<&(IdentifierKind, String), Vec<(&str, usize)>> = BTreeMap::new();
    for &p in ps {
        let gone = keys(p).quarantined(quarantined);
        for (namespace, value, _) in keys(p).namespaced.iter().filter(|n| !gone.contains(&n.2)) {
            let seen = first.entry(namespace).or_default();
            if !seen.iter().any(|(v, _)| v == value) {
                seen.push((value, p));
            }
        }
    }
    let mut pairs = Vec::new();
    for (namespace, seen) in first {
        let limit = namespace_limit(policy, namespace.0, &namespace.1);
        if limit > 0 && seen.len() > limit {
            pairs.extend(seen.windows(2).map(|w| (w[0].1, w[1].1, namespace.0)));
        }
    }
    pairs
}

/// How many distinct names one identifier's records may carry before
/// [`names_differ`] calls it shared whatever they are: one person's card
/// sees their name, its typos and a married name, a few. It bounds the
/// pairwise comparison (a house card with more is usually quarantined by
/// the name count long before).
pub(crate) const MAX_SHARED_NAMES: usize = 16;

/// Whether the records behind `keys` name two clearly different people
/// ([`clearly_different`]), or more than [`MAX_SHARED_NAMES`] distinct
/// names. A function of the set of records, whatever their order, that
/// only turns true as records are added: every pair of distinct (name,
/// script) is compared (`Ivan Petrov` and `Иван Петров` fold alike but are
/// compared apart, scripts being part of the judgement), and the cap counts
/// distinct folded names.
pub(crate) fn names_differ<'k>(
    keys: impl Iterator<Item = &'k EventKeys>,
    policy: &LinkPolicy,
) -> bool {
    let min = household_similarity(policy);
    let mut seen: Vec<(&str, NameScript)> = Vec::new();
    let mut distinct_names = 0;
    for k in keys {
        let Some(name) = k.name.as_deref() else {
            continue;
        };
        let named = (name, k.name_script);
        if seen.contains(&named) {
            continue;
        }
        if !seen.iter().any(|(n, _)| *n == name) {
            distinct_names += 1;
            if distinct_names > MAX_SHARED_NAMES {
                return true;
            }
        }
        if seen.iter().any(|&s| clearly_different(s, named, min)) {
            return true;
        }
        seen.push(named);
    }
    false
}

/// How many names per cluster the name guard compares (a cluster collects
/// spellings and typos; the root's are kept, then the joining cluster's in
/// sorted order: a function of the set of events, not of their order).
const MAX_NAMES: usize = 16;
/// A fuzzy rule compares each record with this many later ones in its block.
pub(crate) const FUZZY_REACH: usize = 64;

#[derive(Default)]
struct Attrs {
    names: BTreeSet<String>,
    /// The names among `names` that say who the person is
    /// ([`is_full_name`]): what speaks for the cluster in the name guard
    /// once it holds one ([`telling_names`]).
    full_names: BTreeSet<String>,
    /// Given names typed in their own fields: a rule's link between two
    /// clusters needs one alike on each side, so a record that states only
    /// the family name cannot bridge twins.
    givens: BTreeSet<GivenName>,
    /// Birthdays stated (ISO dates, as normalized).
    birthdays: BTreeSet<String>,
    /// Per (kind, namespace), the values held ([`per_namespace`]).
    namespaced: BTreeMap<(IdentifierKind, String), BTreeSet<String>>,
    /// Distinct identifiers (devices not counted), as hashed link keys.
    ids: BTreeSet<(IdentifierKind, u64)>,
    /// Decision -> side, for decisions that keep records apart.
    apart: BTreeMap<u64, u32>,
    origins: BTreeSet<u32>,
    links: Vec<Link>,
    weak: bool,
}

struct Forest<'p> {
    parent: Vec<usize>,
    attrs: Vec<Attrs>,
    policy: &'p LinkPolicy,
}

impl Forest<'_> {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the clusters of `a` and `b`; the root with the smaller index
    /// (earlier in canonical order) stays root.
    fn union(&mut self, a: usize, b: usize, link: &Link, weak: bool) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (root, child) = (ra.min(rb), ra.max(rb));
        self.parent[child] = root;
        let moved = std::mem::take(&mut self.attrs[child]);
        let into = &mut self.attrs[root];
        if into.origins.is_disjoint(&moved.origins) {
            into.links.push(link.clone());
        }
        into.weak |= moved.weak || weak;
        into.origins.extend(moved.origins);
        into.links.extend(moved.links);
        for name in moved.names {
            if into.names.len() < MAX_NAMES {
                into.names.insert(name);
            }
        }
        for name in moved.full_names {
            if into.full_names.len() < MAX_NAMES {
                into.full_names.insert(name);
            }
        }
        for given in moved.givens {
            if into.givens.len() < MAX_NAMES {
                into.givens.insert(given);
            }
        }
        for birthday in moved.birthdays {
            if into.birthdays.len() < MAX_NAMES {
                into.birthdays.insert(birthday);
            }
        }
        for (namespace, values) in moved.namespaced {
            into.namespaced.entry(namespace).or_default().extend(values);
        }
        into.ids.extend(moved.ids);
        into.apart.extend(moved.apart);
    }

    /// Whether a person's decision keeps the clusters of `a` and `b` apart.
    fn decided_apart(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        kept_apart(&self.attrs[ra].apart, &self.attrs[rb].apart)
    }

    /// Why joining the clusters of `a` and `b` (through a mutable identifier
    /// or, `by_rule`, a match rule) would contradict what they hold, if it
    /// would. Names: an identifier link needs every name token matched
    /// ([`person_similarity`]); a rule, which compared the two records'
    /// names itself, Jaro-Winkler over the whole or every token matched.
    fn refuses(&mut self, a: usize, b: usize, by_rule: bool, married: bool) -> Option<Refusal> {
        if self.decided_apart(a, b) {
            return Some(Refusal::Decision);
        }
        let (ra, rb) = (self.find(a), self.find(b));
        let (x, y) = (&self.attrs[ra], &self.attrs[rb]);
        let policy = self.policy;
        for (namespace, values) in &x.namespaced {
            let kind = namespace.0;
            let limit = namespace_limit(policy, kind, &namespace.1);
            let over = limit > 0
                && y.namespaced
                    .get(namespace)
                    .is_some_and(|v| values.union(v).count() > limit);
            if over {
                return Some(match kind {
                    IdentifierKind::MemberId => Refusal::MemberCards,
                    _ => Refusal::Limit(kind),
                });
            }
        }
        let giant = policy.giant.max_identifiers as usize;
        if giant > 0 || has_kind_limits(policy) {
            let mut counts: BTreeMap<IdentifierKind, usize> = BTreeMap::new();
            for (kind, _) in x.ids.union(&y.ids) {
                *counts.entry(*kind).or_default() += 1;
            }
            for (kind, n) in &counts {
                let limit = policy.identifiers.get(*kind).max_per_profile as usize;
                if !per_namespace(*kind) && limit > 0 && *n > limit {
                    return Some(Refusal::Limit(*kind));
                }
            }
            if giant > 0 && counts.values().sum::<usize>() > giant {
                return Some(Refusal::GiantProfile);
            }
        }
        // Names first (the name guard, unless `min_name_similarity` is 0):
        // two people of clearly different names are refused as such,
        // whatever their birthdays.
        let min = policy.min_name_similarity;
        let names = (min > 0.0 && !x.names.is_empty() && !y.names.is_empty())
            .then(|| names_refuse(x, y, by_rule, married, min))
            .flatten();
        // Then birthdays, for a rule's link too: its score weighed the
        // pair's birthdays, not the clusters' (a record that states none
        // bridges a father and his son of one name at one address).
        names.or_else(|| birthdays_apart(x, y).then_some(Refusal::BirthdayMismatch))
    }
}

/// The name guard of [`Forest::refuses`], for clusters that both state
/// names.
fn names_refuse(x: &Attrs, y: &Attrs, by_rule: bool, married: bool, min: f64) -> Option<Refusal> {
    if by_rule && other_people(x, y, min) {
        return Some(Refusal::NameMismatch);
    }
    let similar = telling_names(x).any(|n| {
        telling_names(y).any(|m| {
            // A rule's proposal weighed the names itself: the whole
            // names alike, or every token of one alike to its own
            // token of the other (a space typed inside a name, `thom
            // as milburn`, splits a token; twins' given names differ).
            let sim = if by_rule {
                name_similarity(n, m).max(person_similarity_for_rules(n, m))
            } else {
                person_similarity(n, m)
            };
            sim >= min
        })
    });
    // A married name: the score weighed the pair's names itself (one
    // given name, two family names) and asked for birthday and door.
    (!similar && !married).then_some(Refusal::NameMismatch)
}

/// Whether the clusters holding `x` and `y` state two people's names, for
/// a rule's link between them: a record scored against a record of each
/// cluster, but another record of a cluster may say whose it is. A record
/// that states only the family name scores against each of two twins, and
/// must not join them.
/// - Both state given names in their own fields: every pair is another
///   person's ([`GivenName::other_person`]). An initial starts both twins'
///   names, so initials count only when a side has nothing else.
/// - Otherwise, their names of two tokens or more: none matches one of the
///   other token by token ([`person_similarity`]), as the score asks of a
///   pair without given-name fields.
fn other_people(x: &Attrs, y: &Attrs, min: f64) -> bool {
    // Without allocating: this runs for every rule proposal a recomputation
    // weighs.
    fn beyond_initials(a: &Attrs) -> impl Iterator<Item = &GivenName> {
        let full = a.givens.iter().any(|g| g.given.chars().count() > 1);
        a.givens
            .iter()
            .filter(move |g| !full || g.given.chars().count() > 1)
    }
    fn whole_names(a: &Attrs) -> impl Iterator<Item = &String> {
        a.names.iter().filter(|n| n.contains(' '))
    }
    if !x.givens.is_empty() && !y.givens.is_empty() {
        return beyond_initials(x).all(|g| beyond_initials(y).all(|h| g.other_person(h)));
    }
    whole_names(x).next().is_some()
        && whole_names(y).next().is_some()
        && !whole_names(x).any(|n| whole_names(y).any(|m| person_similarity_for_rules(n, m) >= min))
}

/// Whether the clusters holding `x` and `y` state birthdays and none of
/// one side's is a typo away from one of the other's
/// ([`birthdays_far_apart`]). `Attrs::birthdays` holds told birthdays only
/// ([`birthday_told`]): a year-only 1 January says nothing, rather than
/// being near every birthday and letting a son join his father.
fn birthdays_apart(x: &Attrs, y: &Attrs) -> bool {
    !x.birthdays.is_empty()
        && !y.birthdays.is_empty()
        && x.birthdays
            .iter()
            .all(|p| y.birthdays.iter().all(|q| birthdays_far_apart(p, q)))
}

/// The names that speak for a cluster in the name guard: its full names
/// ([`is_full_name`]) when it holds any, else all of them. A bare family
/// name (`milburn`) is alike to every member of the family: once it has
/// joined `Tamsin Milburn`, her full name speaks for the cluster, so
/// `Thomas Milburn` is not made alike to her through it.
fn telling_names(a: &Attrs) -> impl Iterator<Item = &String> {
    if a.full_names.is_empty() {
        a.names.iter()
    } else {
        a.full_names.iter()
    }
}

/// Whether a folded name says who the person is, not only their family or
/// their given name: a hanzi name of family and given name (`王娥`, `e
/// wang`: a syllable is no initial), or two tokens that name someone
/// ([`names_someone`]: `thomas j milburn`; a joining `e` or `y`, `ana silva
/// e santos`, is not what makes it full, nor does it spoil it; `van der
/// berg` and `milburn jr` are a family name alone).
fn is_full_name(name: &str, script: NameScript) -> bool {
    let mut tokens = name.split(' ');
    match script {
        NameScript::Hanzi => tokens.nth(1).is_some(),
        _ => tokens.filter(|t| names_someone(t)).nth(1).is_some(),
    }
}

/// Whether any kind counted over the whole profile (not per namespace) has
/// a per-profile limit.
fn has_kind_limits(policy: &LinkPolicy) -> bool {
    IdentifierKind::ALL
        .iter()
        .any(|k| !per_namespace(*k) && policy.identifiers.get(*k).max_per_profile > 0)
}

/// Whether one profile holding all of `identifiers` breaks no limit of
/// `policy` (per kind, per member program, giant guard); then no link among
/// records holding a subset of them is refused by a limit.
pub(crate) fn within_limits(
    policy: &LinkPolicy,
    identifiers: &[kindred_model::Identifier],
) -> bool {
    let mut counts: BTreeMap<IdentifierKind, usize> = BTreeMap::new();
    // Member cards count per loyalty program, accounts per shop: the
    // namespace before the first `:` (`MAIN:8800..`, `web:u123`).
    let mut namespaced: BTreeMap<(IdentifierKind, String), usize> = BTreeMap::new();
    let mut total = 0;
    // One identifier written two ways (a card with and without its
    // separators, a Gmail address with dots) counts once.
    let distinct: BTreeSet<(IdentifierKind, std::borrow::Cow<'_, str>)> = identifiers
        .iter()
        .filter(|id| id.kind != IdentifierKind::Device)
        .map(|id| (id.kind, id.link_value()))
        .collect();
    for (kind, value) in &distinct {
        total += 1;
        let namespace = value.split_once(':').map_or("", |(p, _)| p);
        if per_namespace(*kind) || one_per_person(*kind, namespace) {
            *namespaced
                .entry((*kind, namespace.to_string()))
                .or_default() += 1;
        }
        if !per_namespace(*kind) {
            *counts.entry(*kind).or_default() += 1;
        }
    }
    let giant = policy.giant.max_identifiers as usize;
    if giant > 0 && total > giant {
        return false;
    }
    let within = |kind: IdentifierKind, n: usize| {
        let limit = policy.identifiers.get(kind).max_per_profile as usize;
        limit == 0 || n <= limit
    };
    counts.iter().all(|(kind, n)| within(*kind, *n))
        && namespaced.iter().all(|((kind, namespace), n)| {
            let limit = namespace_limit(policy, *kind, namespace);
            limit == 0 || *n <= limit
        })
}

struct Proposal {
    rank: u8,
    /// Proposed by a match rule (which weighed the two records' names
    /// itself), not by a shared identifier.
    by_rule: bool,
    time: i64,
    a: usize,
    b: usize,
    link: Link,
    merge: bool,
    /// A scored rule's pair of one given name under two family names
    /// (`GivenName::family_changed`): the score weighed the names.
    married: bool,
}

/// How alike two names must be for a household's line to link them:
/// `min_name_similarity`, or 0.8 when that guard is off.
pub(crate) fn household_similarity(policy: &LinkPolicy) -> f64 {
    if policy.min_name_similarity > 0.0 {
        policy.min_name_similarity
    } else {
        0.8
    }
}

fn weak_rank(kind: IdentifierKind) -> u8 {
    match kind {
        IdentifierKind::Email => 0,
        IdentifierKind::Phone => 1,
        // Immutable kinds propose here only when shared (a lent card, a
        // family computer's account): after phones, with match rules (2).
        // Listed, not a wildcard: a new kind must be placed.
        IdentifierKind::MemberId | IdentifierKind::Social | IdentifierKind::Account => 2,
        IdentifierKind::Device => 3,
    }
}

/// The pairs that chain `ps` (positions in time order) together: each
/// record with the one before it, as without decisions, and a record that
/// carries separations (its footprint, `apart_of`) also with the latest
/// earlier record of the same footprint when a record of another footprint
/// lies between them: records on the same side of every decision stay
/// chained past the records a split took out between them, and past a new
/// record that carries no decision yet but already sits on the other side
/// (joined to it by a card): both of that record's chain pairs are refused
/// there, and the side's two records would be parted by a record they
/// were linked through without the decision. Records a decision keeps from
/// the one before are counted in `refused`.
fn chain(ps: &[usize], apart_of: &[BTreeMap<u64, u32>], refused: &mut u64) -> Vec<(usize, usize)> {
    let mut pairs = Vec::with_capacity(ps.len());
    // Footprint -> index in `ps` of its latest record.
    let mut latest: BTreeMap<&BTreeMap<u64, u32>, usize> = BTreeMap::new();
    for (i, &b) in ps.iter().enumerate() {
        let footprint = &apart_of[b];
        if let Some(&a) = i.checked_sub(1).and_then(|i| ps.get(i)) {
            if kept_apart(&apart_of[a], footprint) {
                *refused += 1;
            } else {
                pairs.push((a, b));
            }
        }
        if !footprint.is_empty() {
            // Every record between is of another footprint (`latest`).
            if let Some(&j) = latest.get(footprint).filter(|&&j| j + 1 < i) {
                pairs.push((ps[j], b));
            }
            latest.insert(footprint, i);
        }
    }
    pairs
}

/// The pairs that [`chain`] leaves out on an identifier two people share
/// (a couple's e-mail): a named record whose record before is not of an
/// alike name (another name's, or unnamed), with the latest earlier record
/// of an alike name (within [`FUZZY_REACH`]). Without them `Robert`,
/// `Margaret`, `Robert` on one e-mail chained Robert to Margaret twice,
/// both refused, and kept Robert's first record from his later ones; so
/// did an unnamed receipt of Margaret's between them. A record alike to
/// two earlier names that are not alike to each other (`Sam` after
/// `Samuel` and `Samantha`) is left to the chain: it could be either's.
/// Records a decision keeps apart are not paired. A record of an alike
/// name born decades apart ([`birthdays_far_apart`]: a father and son of
/// one name on a family's e-mail) counts as another name's; one that
/// states no birthday could be either's, so a record that states one is
/// also paired with the latest earlier alike record of a near birthday.
fn past_other_names<'n>(
    ps: &[usize],
    name: &dyn Fn(usize) -> Option<&'n str>,
    birthday: &dyn Fn(usize) -> Option<&'n str>,
    apart_of: &[BTreeMap<u64, u32>],
    alike: f64,
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let told = |p: usize| birthday(p).filter(|b| birthday_told(b));
    for (i, &b) in ps.iter().enumerate().skip(1) {
        let Some(nb) = name(b) else {
            // An unnamed record whose latest earlier record of a told
            // birthday was born decades apart from it (another person's:
            // refused by the birthday guard, and so is a record between
            // that joined that person) is paired with the latest earlier
            // record of a near birthday: without the other person's
            // records between them they were chained.
            let Some(bb) = told(b) else { continue };
            let far = |p: usize| told(p).is_some_and(|x| birthdays_far_apart(x, bb));
            let mut birthdayed = ps[..i]
                .iter()
                .rev()
                .take(FUZZY_REACH)
                .copied()
                .filter(|&p| told(p).is_some());
            if birthdayed.next().is_some_and(far) {
                let same = birthdayed.find(|&a| !far(a));
                if let Some(a) = same.filter(|&a| !kept_apart(&apart_of[a], &apart_of[b])) {
                    pairs.push((a, b));
                }
            }
            continue;
        };
        let born_apart = |p: usize| {
            birthday(p)
                .zip(birthday(b))
                .is_some_and(|(x, y)| birthdays_far_apart(x, y))
        };
        let is_alike = |p: usize| {
            name(p).is_some_and(|n| n == nb || person_similarity(n, nb) >= alike) && !born_apart(p)
        };
        // Chained to the same person's record before it already. An
        // unnamed record before it may be the other person's (joined to
        // them by a card): it is passed over. So may an alike-named one
        // that states no birthday, when this one does (the son's receipt
        // between his father's records): the latest earlier record of a
        // told birthday, near this one's, is its person's too.
        if is_alike(ps[i - 1]) {
            if told(b).is_some() && told(ps[i - 1]).is_none() {
                let same = ps[..i - 1]
                    .iter()
                    .rev()
                    .take(FUZZY_REACH)
                    .copied()
                    .find(|&a| told(a).is_some() && is_alike(a));
                if let Some(a) = same.filter(|&a| !kept_apart(&apart_of[a], &apart_of[b])) {
                    pairs.push((a, b));
                }
            }
            continue;
        }
        let mut earlier = ps[..i - 1]
            .iter()
            .rev()
            .take(FUZZY_REACH)
            .copied()
            .filter(|&a| is_alike(a));
        let Some(a) = earlier.next() else { continue };
        // Alike to two people (`Sam` after `Samuel` and `Samantha`): whose
        // it is, nothing here says.
        let na = name(a).unwrap_or_default();
        let ambiguous =
            earlier.any(|c| name(c).is_some_and(|n| n != na && person_similarity(n, na) < alike));
        if !ambiguous && !kept_apart(&apart_of[a], &apart_of[b]) {
            pairs.push((a, b));
        }
    }
    pairs
}

/// Two footprints on different sides of one decision.
fn kept_apart(x: &BTreeMap<u64, u32>, y: &BTreeMap<u64, u32>) -> bool {
    !x.is_empty()
        && !y.is_empty()
        && x.iter()
            .any(|(d, side)| y.get(d).is_some_and(|s| s != side))
}

/// Partitions `nodes` into people. `quarantined` says which link keys the
/// over-shared-identifier guard has taken out of linking.
pub(crate) fn cluster(
    nodes: &[Node<'_>],
    policy: &LinkPolicy,
    quarantined: &dyn Fn(&str) -> bool,
) -> Clustering {
    // Canonical order: everything below iterates in it.
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (nodes[a].event, nodes[b].event);
        (x.event_time_ms, &x.event_id).cmp(&(y.event_time_ms, &y.event_id))
    });
    // Work in positions; map back at the end.
    let node = |p: usize| &nodes[order[p]];
    let mut forest = Forest {
        policy,
        parent: (0..nodes.len()).collect(),
        attrs: (0..nodes.len())
            .map(|p| {
                let n = node(p);
                // A quarantined identifier is nobody's: the limits per
                // profile do not count it (as the resolver's incremental
                // path counts a golden record's identifiers, which never
                // hold one).
                let gone = n.keys.quarantined(quarantined);
                let mut namespaced: BTreeMap<(IdentifierKind, String), BTreeSet<String>> =
                    BTreeMap::new();
                for (namespace, value, _) in
                    n.keys.namespaced.iter().filter(|x| !gone.contains(&x.2))
                {
                    namespaced
                        .entry(namespace.clone())
                        .or_default()
                        .insert(value.clone());
                }
                let apart = n
                    .constraints
                    .iter()
                    .filter_map(|c| match c {
                        Constraint::Apart { decision, side } => Some((*decision, *side)),
                        Constraint::Together { .. } | Constraint::Suspended { .. } => None,
                    })
                    .collect();
                Attrs {
                    names: n.keys.name.iter().cloned().collect(),
                    full_names: n
                        .keys
                        .name
                        .iter()
                        .filter(|name| is_full_name(name, n.keys.name_script))
                        .cloned()
                        .collect(),
                    givens: n.keys.given.iter().cloned().collect(),
                    birthdays: n
                        .event
                        .attributes
                        .birthday
                        .iter()
                        .filter(|b| birthday_told(b))
                        .cloned()
                        .collect(),
                    namespaced,
                    ids: n
                        .keys
                        .companions
                        .iter()
                        .filter(|(_, hash)| !gone.contains(hash))
                        .copied()
                        .collect(),
                    apart,
                    origins: BTreeSet::from([n.origin]),
                    links: Vec::new(),
                    weak: false,
                }
            })
            .collect(),
    };
    let mut holders: BTreeMap<&str, (KeyClass, Vec<usize>)> = BTreeMap::new();
    for p in 0..nodes.len() {
        for k in &node(p).keys.links {
            if !quarantined(&k.key) {
                holders
                    .entry(k.key.as_str())
                    .or_insert_with(|| (k.class, Vec::new()))
                    .1
                    .push(p);
            }
        }
    }

    let mut out = Clustering::default();
    let mut flagged = Vec::new();
    // An identifier whose records name clearly different people (a lent
    // card, a store's house card) or hold more cards or accounts than one
    // person may (a family computer) is shared: it links like a household's
    // line, only records whose names are alike.
    for (key, (class, ps)) in holders.iter_mut() {
        let (strong, kind) = match *class {
            KeyClass::Strong(kind) => (true, kind),
            KeyClass::Weak(kind) => (false, kind),
            KeyClass::Household(_) | KeyClass::Rule(_) => continue,
        };
        let p = policy.identifiers.get(kind);
        let over = if p.shared_when_over_limits {
            over_limits(ps, &|p| node(p).keys, policy, quarantined)
        } else {
            Vec::new()
        };
        if !over.is_empty()
            || (strong
                && p.shared_when_names_differ
                && names_differ(ps.iter().map(|&p| node(p).keys), policy))
        {
            *class = KeyClass::Household(kind);
            out.shared_keys.insert(key.to_string());
        }
        // The holders of the cards or accounts a shared device saw are
        // still worth a reviewer's look (one person's two accounts, or a
        // family): the pair the limit refuses, as before it was shared.
        for (a, b, limited) in over {
            let refusal = match limited {
                IdentifierKind::MemberId => Refusal::MemberCards,
                other => Refusal::Limit(other),
            };
            *out.refused.entry(refusal).or_default() += 1;
            flagged.push((a, b, Link::identifier(kind), refusal));
        }
    }
    // 1. Immutable identifiers, and records a reviewer put together.
    let mut together: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for p in 0..nodes.len() {
        for c in node(p).constraints {
            if let Constraint::Together { decision } = c {
                together.entry(*decision).or_default().push(p);
            }
        }
    }
    let approved = Link::approved();
    let strong = holders.values().filter_map(|(class, ps)| match class {
        KeyClass::Strong(kind) => Some((Link::identifier(*kind), ps)),
        _ => None,
    });
    // Records a decision keeps apart, by their own constraints.
    let apart_of: Vec<BTreeMap<u64, u32>> = forest.attrs.iter().map(|a| a.apart.clone()).collect();
    let mut kept_by_decision = 0u64;
    for (link, ps) in together
        .values()
        .map(|ps| (approved.clone(), ps))
        .chain(strong)
    {
        for (a, b) in chain(ps, &apart_of, &mut kept_by_decision) {
            if forest.decided_apart(a, b) {
                *out.refused.entry(Refusal::Decision).or_default() += 1;
            } else {
                forest.union(a, b, &link, false);
            }
        }
    }

    // 2. Proposals from mutable identifiers and rules.
    let time = |p: usize| node(p).event.event_time_ms;
    let mut proposals = Vec::new();
    for (key, (class, ps)) in &holders {
        let proposed_before = proposals.len();
        match *class {
            KeyClass::Strong(_) => {}
            KeyClass::Weak(kind) => {
                let window = policy.identifiers.get(kind).window_ms();
                let link = Link::identifier(kind);
                let mut pairs = chain(ps, &apart_of, &mut kept_by_decision);
                pairs.extend(past_other_names(
                    ps,
                    &|p| node(p).keys.name.as_deref(),
                    &|p| node(p).event.attributes.birthday.as_deref(),
                    &apart_of,
                    household_similarity(policy),
                ));
                for (a, b) in pairs {
                    if window.is_none_or(|win| time(b).saturating_sub(time(a)) <= win) {
                        proposals.push(Proposal {
                            rank: weak_rank(kind),
                            by_rule: false,
                            time: time(b),
                            a,
                            b,
                            link: link.clone(),
                            merge: true,
                            married: false,
                        });
                    }
                }
            }
            KeyClass::Household(kind) => {
                // Only named records, each with the later ones whose name is
                // alike: an unnamed record is nobody in particular here.
                let window = policy.identifiers.get(kind).window_ms();
                let link = Link::identifier(kind);
                let alike = household_similarity(policy);
                let named: Vec<(usize, &str)> = ps
                    .iter()
                    .filter_map(|&p| node(p).keys.name.as_deref().map(|n| (p, n)))
                    .collect();
                for (x, &(a, na)) in named.iter().enumerate() {
                    for &(b, nb) in named.iter().skip(x + 1).take(FUZZY_REACH) {
                        if window.is_none_or(|win| time(b).saturating_sub(time(a)) <= win)
                            && person_similarity(na, nb) >= alike
                        {
                            proposals.push(Proposal {
                                rank: weak_rank(kind),
                                by_rule: false,
                                time: time(b),
                                a,
                                b,
                                link: link.clone(),
                                merge: true,
                                married: false,
                            });
                        }
                    }
                }
            }
            KeyClass::Rule(i) => {
                let Some(rule) = policy.rules.get(i) else {
                    continue;
                };
                let mut kinds: Vec<String> =
                    rule.fields.iter().map(|f| f.as_str().to_string()).collect();
                if rule.name_similarity.is_some() {
                    kinds.insert(0, "similar_name".into());
                }
                if rule.min_score.is_some() {
                    kinds.insert(0, "score".into());
                }
                let link = Link {
                    rule: rule.name.clone(),
                    version: rule.version,
                    kinds,
                };
                let merge = rule.action == RuleAction::Merge;
                let mut propose = |a: usize, b: usize, married: bool| {
                    proposals.push(Proposal {
                        rank: 2,
                        by_rule: true,
                        time: time(b),
                        a,
                        b,
                        link: link.clone(),
                        merge,
                        married,
                    })
                };
                match (rule.min_score, rule.name_similarity) {
                    (Some(min), _) => {
                        for (x, &a) in ps.iter().enumerate() {
                            for &b in ps.iter().skip(x + 1).take(FUZZY_REACH) {
                                let (na, nb) = (node(a), node(b));
                                let s = score(
                                    na.event,
                                    na.keys,
                                    nb.event,
                                    nb.keys,
                                    policy.min_name_similarity,
                                );
                                if s.is_some_and(|s| s >= min) {
                                    propose(a, b, family_changed(na.keys, nb.keys));
                                }
                            }
                        }
                    }
                    (None, None) => {
                        for (a, b) in chain(ps, &apart_of, &mut kept_by_decision) {
                            propose(a, b, false);
                        }
                    }
                    (None, Some(threshold)) => {
                        for (x, &a) in ps.iter().enumerate() {
                            for &b in ps.iter().skip(x + 1).take(FUZZY_REACH) {
                                let similar = match (&node(a).keys.name, &node(b).keys.name) {
                                    (Some(n), Some(m)) => name_similarity(n, m) >= threshold,
                                    _ => false,
                                };
                                if similar {
                                    propose(a, b, false);
                                }
                            }
                        }
                    }
                }
                if proposals.len() > proposed_before {
                    out.proposed_blocks.insert(key.to_string());
                }
            }
        }
    }
    if kept_by_decision > 0 {
        *out.refused.entry(Refusal::Decision).or_default() += kept_by_decision;
    }
    proposals.sort_by(|x, y| {
        (x.rank, x.time, x.a, x.b, &x.link.rule).cmp(&(y.rank, y.time, y.a, y.b, &y.link.rule))
    });
    // A rule with several blocks per record (one per name token's sound)
    // proposes a pair once per block the two share: once is enough (and a
    // refusal is counted once).
    proposals.dedup_by(|x, y| {
        x.by_rule
            && y.by_rule
            && (x.rank, x.time, x.a, x.b, &x.link.rule, x.link.version)
                == (y.rank, y.time, y.a, y.b, &y.link.rule, y.link.version)
    });
    for p in &proposals {
        if !p.merge {
            continue;
        }
        if forest.find(p.a) == forest.find(p.b) {
            continue;
        }
        match forest.refuses(p.a, p.b, p.by_rule, p.married) {
            Some(refusal) => {
                *out.refused.entry(refusal).or_default() += 1;
                if refusal != Refusal::Decision {
                    flagged.push((p.a, p.b, p.link.clone(), refusal));
                }
            }
            None => forest.union(p.a, p.b, &p.link, true),
        }
    }
    for p in proposals.iter().filter(|p| !p.merge) {
        if !forest.decided_apart(p.a, p.b) {
            flagged.push((p.a, p.b, p.link.clone(), Refusal::SuggestRule));
        }
    }

    // 3. The partition, in canonical order.
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for p in 0..nodes.len() {
        let root = forest.find(p);
        by_root.entry(root).or_default().push(p);
    }
    for (root, ps) in by_root {
        let mut links = std::mem::take(&mut forest.attrs[root].links);
        links.sort();
        links.dedup();
        out.clusters
            .push(ps.into_iter().map(|p| order[p]).collect());
        out.links.push(links);
        out.weak_joined.push(forest.attrs[root].weak);
    }
    let mut seen = BTreeSet::new();
    for (a, b, link, refusal) in flagged {
        let (ra, rb) = (forest.find(a), forest.find(b));
        // A pair a person already decided on is not put to them again.
        if ra != rb
            && !forest.decided_apart(a, b)
            && seen.insert((ra.min(rb), ra.max(rb), link.rule.clone()))
        {
            out.suggestions.push((order[a], order[b], link, refusal));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use kindred_model::{Channel, Identifier};

    use super::*;

    const DAY: i64 = 86_400_000;

    fn event(
        id: &str,
        t: i64,
        ids: &[(IdentifierKind, &str)],
        name: Option<&str>,
    ) -> CanonicalEvent {
        let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
        let mut e = CanonicalEvent::new(id, Channel::Pos, t, ids);
        e.attributes.full_name = name.map(Into::into);
        e
    }

    /// The default policy without the rules named.
    fn without_rules(names: &[&str]) -> LinkPolicy {
        let mut policy = LinkPolicy::default();
        policy.rules.retain(|r| !names.contains(&r.name.as_str()));
        policy
    }

    /// Clusters as sorted lists of event ids.
    fn run(events: &[CanonicalEvent], policy: &LinkPolicy) -> Vec<Vec<String>> {
        let keys: Vec<EventKeys> = events
            .iter()
            .map(|e| EventKeys::of(e, policy, &crate::protect::KeyHasher::plain()))
            .collect();
        let nodes: Vec<Node> = events
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, (event, keys))| Node {
                event,
                keys,
                constraints: &[],
                origin: i as u32,
            })
            .collect();
        let c = cluster(&nodes, policy, &|_| false);
        let mut out: Vec<Vec<String>> = c
            .clusters
            .iter()
            .map(|ns| {
                let mut ids: Vec<String> = ns.iter().map(|&n| events[n].event_id.clone()).collect();
                ids.sort();
                ids
            })
            .collect();
        out.sort();
        out
    }

    use IdentifierKind::{Email, MemberId, Phone};

    /// A father and son of one name on a family's e-mail are two people
    /// when their birthdays are decades apart; a typo in one's birthday
    /// keeps one person one; a card links whatever the birthdays say.
    #[test]
    fn a_shared_email_does_not_join_one_name_born_decades_apart() {
        let born = |id: &str, t: i64, ids: &[(IdentifierKind, &str)], day: &str| {
            let mut e = event(id, t, ids, Some("John Smith"));
            e.attributes.birthday = Some(day.into());
            e
        };
        let mail = "smiths@example.com";
        let events = [
            born("father", 0, &[(Email, mail)], "1960-05-12"),
            born("son", DAY, &[(Email, mail)], "1992-08-03"),
            born("father-typo", 2 * DAY, &[(Email, mail)], "1960-05-21"),
        ];
        assert_eq!(
            run(&events, &LinkPolicy::default()),
            vec![vec!["father", "father-typo"], vec!["son"]]
        );
        // Unnamed records (an app's sign-ups asking a birthday for a
        // coupon): another person's between two of one birthday parts
        // nothing.
        let unnamed = |id: &str, t: i64, day: &str| {
            let mut e = event(id, t, &[(Email, mail)], None);
            e.attributes.birthday = Some(day.into());
            e
        };
        assert_eq!(
            run(
                &[
                    unnamed("a", 0, "1960-05-12"),
                    unnamed("s", DAY, "1992-08-03"),
                    unnamed("c", 2 * DAY, "1960-05-12"),
                ],
                &LinkPolicy::default()
            ),
            vec![vec!["a", "c"], vec!["s"]]
        );
        // Nor does a record without a birthday after the other person's
        // (joined to them).
        assert_eq!(
            run(
                &[
                    unnamed("a", 0, "1960-05-12"),
                    unnamed("s", DAY, "1992-08-03"),
                    event("x", 2 * DAY, &[(Email, mail)], None),
                    unnamed("c", 3 * DAY, "1960-05-12"),
                ],
                &LinkPolicy::default()
            ),
            vec![vec!["a", "c"], vec!["s", "x"]]
        );
        // The name guard off leaves the birthday guard on.
        let no_name_guard = LinkPolicy {
            min_name_similarity: 0.0,
            ..LinkPolicy::default()
        };
        assert_eq!(
            run(&events, &no_name_guard),
            vec![vec!["father", "father-typo"], vec!["son"]]
        );
        // An unnamed, unbirthdayed record on the e-mail joins neither
        // guard's side by itself, and a card is no mutable identifier.
        let carded = [
            born("a", 0, &[(MemberId, "MAIN:1000001")], "1960-05-12"),
            born("b", DAY, &[(MemberId, "MAIN:1000001")], "1992-08-03"),
        ];
        assert_eq!(run(&carded, &LinkPolicy::default()).len(), 1);
    }

    /// A family's address, for the tests of match rules.
    fn stow_place() -> kindred_model::Address {
        kindred_model::Address {
            line1: Some("4 Stow Place".into()),
            city: Some("Canberra".into()),
            postal_code: Some("2612".into()),
            ..kindred_model::Address::default()
        }
    }

    fn john_smith(
        id: &str,
        t: i64,
        ids: &[(IdentifierKind, &str)],
        day: Option<&str>,
    ) -> CanonicalEvent {
        let mut e = event(id, t, ids, Some("John Smith"));
        e.attributes.birthday = day.map(Into::into);
        e
    }

    /// The refusals' reasons of a clustering, as (event, event, reason).
    fn refused(
        events: &[CanonicalEvent],
        policy: &LinkPolicy,
    ) -> Vec<(String, String, &'static str)> {
        let keys: Vec<EventKeys> = events
            .iter()
            .map(|e| EventKeys::of(e, policy, &crate::protect::KeyHasher::plain()))
            .collect();
        let nodes: Vec<Node> = (0..events.len())
            .map(|i| Node {
                event: &events[i],
                keys: &keys[i],
                constraints: &[],
                origin: i as u32,
            })
            .collect();
        cluster(&nodes, policy, &|_| false)
            .suggestions
            .iter()
            .map(|(a, b, _, r)| {
                (
                    events[*a].event_id.clone(),
                    events[*b].event_id.clone(),
                    r.as_str(),
                )
            })
            .collect()
    }

    /// The birthday guard compares told birthdays only: the father's
    /// year-only record (a 1 January) says no more than a record without a
    /// birthday, and does not let his son join him.
    #[test]
    fn a_year_only_birthday_does_not_disarm_the_birthday_guard() {
        let mail = [(Email, "smiths@example.com")];
        let with = |year_only: Option<&str>| {
            [
                john_smith("father", 0, &mail, Some("1960-05-12")),
                john_smith("father-2", DAY, &mail, year_only),
                john_smith("son", 2 * DAY, &mail, Some("1992-08-03")),
            ]
        };
        let want = vec![vec!["father", "father-2"], vec!["son"]];
        assert_eq!(run(&with(None), &LinkPolicy::default()), want);
        assert_eq!(run(&with(Some("1960-01-01")), &LinkPolicy::default()), want);
    }

    /// Two namesakes whose records give a 1 January (a year alone, a
    /// form's default) are not one person by it: no rule blocks on such a
    /// date, and the score takes it for the year at most. Two of one
    /// postcode and town stay apart too (the block without a birthday asks
    /// for the street as well); a told birthday still joins them.
    #[test]
    fn namesakes_of_a_year_alone_are_not_joined_by_it() {
        let two = |day: &str, address: Option<kindred_model::Address>| {
            let mut a = john_smith("a", 0, &[(Phone, "+8613900000001")], Some(day));
            let mut b = john_smith("b", DAY, &[(Phone, "+8613900000002")], Some(day));
            a.attributes.address = address.clone();
            b.attributes.address = address;
            [a, b]
        };
        let postcode = kindred_model::Address {
            line1: None,
            ..stow_place()
        };
        let policy = LinkPolicy::default();
        assert_eq!(run(&two("1985-01-01", None), &policy).len(), 2);
        assert_eq!(
            run(&two("1985-01-01", Some(postcode.clone())), &policy).len(),
            2
        );
        assert_eq!(run(&two("1985-03-14", None), &policy).len(), 1);
        assert_eq!(run(&two("1985-03-14", Some(postcode)), &policy).len(), 1);
    }

    /// The son's receipt without a birthday between his father's two
    /// records: the father's later record still finds his first one.
    #[test]
    fn a_birthdayless_record_of_the_son_does_not_split_the_father() {
        let mail = [(Email, "smiths@example.com")];
        let events = [
            john_smith("father", 0, &mail, Some("1960-05-12")),
            john_smith("son", DAY, &mail, Some("1992-08-03")),
            john_smith("son-receipt", 2 * DAY, &mail, None),
            john_smith("father-typo", 3 * DAY, &mail, Some("1960-05-21")),
        ];
        assert_eq!(
            run(&events, &LinkPolicy::default()),
            vec![vec!["father", "father-typo"], vec!["son", "son-receipt"]]
        );
    }

    /// A match rule's link through a record that states no birthday (an
    /// order at the family's address) does not join father and son: the
    /// guard weighs the clusters' birthdays for rules too.
    #[test]
    fn a_rule_link_through_a_birthdayless_record_does_not_join_father_and_son() {
        let mail = [(Email, "smiths@example.com")];
        let home = |mut e: CanonicalEvent| {
            e.attributes.address = Some(stow_place());
            e
        };
        let events = [
            home(john_smith("father", 0, &mail, Some("1960-05-12"))),
            home(john_smith("son", DAY, &mail, Some("1992-08-03"))),
            home(john_smith("order", 2 * DAY, &mail, None)),
        ];
        let got = run(&events, &LinkPolicy::default());
        assert_eq!(got.len(), 2, "{got:?}");
    }

    /// A couple of clearly different names is refused for their names,
    /// whatever their birthdays say; one name born decades apart, for the
    /// birthdays.
    #[test]
    fn a_refusal_names_the_names_before_the_birthdays() {
        let mail = [(Email, "lis@example.com")];
        let mut mary = event("b", DAY, &mail, Some("Mary Jones"));
        mary.attributes.birthday = Some("1962-09-25".into());
        let couple = [john_smith("a", 0, &mail, Some("1960-05-12")), mary];
        assert_eq!(
            refused(&couple, &LinkPolicy::default()),
            vec![("a".to_string(), "b".to_string(), "name_mismatch")]
        );
        let father_and_son = [
            john_smith("a", 0, &mail, Some("1960-05-12")),
            john_smith("b", DAY, &mail, Some("1992-08-03")),
        ];
        assert_eq!(
            refused(&father_and_son, &LinkPolicy::default()),
            vec![("a".to_string(), "b".to_string(), "birthday_mismatch")]
        );
    }

    #[test]
    fn household_phone_does_not_join_different_names() {
        let events = [
            event("a", 0, &[(Phone, "+8613900000001")], Some("李娜")),
            event("b", DAY, &[(Phone, "+8613900000001")], Some("王伟")),
            event("c", 2 * DAY, &[(Phone, "+8613900000001")], None),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c.len(), 2, "{c:?}");
    }

    #[test]
    fn a_phone_does_not_join_a_family_name_with_another_given_name() {
        let phone = [(Phone, "+8613900000001")];
        let events = [
            event("a", 0, &phone, Some("Jessica Hartfield")),
            event("c", DAY, &phone, Some("HARTFIELD Jesica")),
            event("b", 2 * DAY, &phone, Some("Megan Hartfield")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c"], vec!["b"]], "{c:?}");
    }

    /// One person's name in Cyrillic at one till and in Latin letters at
    /// another, on one e-mail, is one name; his wife's, in either script,
    /// is not.
    #[test]
    fn a_shared_email_links_one_name_in_cyrillic_and_latin_letters() {
        let email = [(Email, "ivan.petrov@example.ru")];
        let events = [
            event("a", 0, &email, Some("Иван Петров")),
            event("b", DAY, &email, Some("Ivan Petrov")),
            event("c", 2 * DAY, &email, Some("Olga Petrova")),
            event("d", 3 * DAY, &email, Some("Ольга Петрова")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "b"], vec!["c", "d"]], "{c:?}");
    }

    /// A couple whose names the name guard told apart only by a letter
    /// (`Mark` / `Mary`), or whose hanzi names are each other's reversed by
    /// sound (`刘洋` / `杨柳`), on one e-mail address: two people, each one
    /// with the records of their own name.
    #[test]
    fn a_shared_email_keeps_apart_names_one_letter_or_one_order_apart() {
        for (one, other) in [("Mark Smith", "Mary Smith"), ("刘洋", "杨柳")] {
            let email = [(Email, "home@example.com")];
            let events = [
                event("a", 0, &email, Some(one)),
                event("b", DAY, &email, Some(other)),
                event("c", 2 * DAY, &email, Some(one)),
            ];
            let c = run(&events, &LinkPolicy::default());
            assert_eq!(c, [vec!["a", "c"], vec!["b"]], "{one} / {other}: {c:?}");
        }
    }

    /// A couple sharing an e-mail address and a phone, their records
    /// interleaved in time: each partner's records are one person's, though
    /// the other's lie between them (they were chained to the partner's
    /// and refused, and Robert's first receipt stayed apart).
    #[test]
    fn interleaved_records_of_a_couple_on_one_email_are_two_people() {
        let shared = [(Email, "harringtons@example.com"), (Phone, "+447700900123")];
        let card = (MemberId, "MAIN:6124493097");
        let events = [
            event("a", 0, &shared, Some("Robert Harrington")),
            event(
                "b",
                DAY,
                &[shared[0], shared[1], card],
                Some("Margaret Harrington"),
            ),
            event("c", 2 * DAY, &shared, Some("Robert Harrington")),
            // Margaret's card receipt, unnamed, with the shared phone.
            event("d", 3 * DAY, &[shared[1], card], None),
            event("e", 4 * DAY, &shared, Some("Robert Harrngton")),
            event("f", 5 * DAY, &shared, Some("Margaret Harrington")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c", "e"], vec!["b", "d", "f"]], "{c:?}");
    }

    /// A sign-up form's given-name field alone (`泽斌`, `七海`) on a
    /// household's phone: the given name of the family member who bears
    /// it, not a family name `泽` and a given name `斌`.
    #[test]
    fn a_hanzi_given_name_typed_alone_joins_the_person_who_bears_it() {
        let phone = [(Phone, "+8613048728112")];
        let given_only = |id: &str, t: i64, given: &str| {
            let mut e = event(id, t, &phone, None);
            e.attributes.given_name = Some(given.into());
            e
        };
        let events = [
            event("a", 0, &phone, Some("李泽斌")),
            event("b", DAY, &phone, Some("李娜涵")),
            given_only("c", 2 * DAY, "泽斌"),
            given_only("d", 3 * DAY, "娜涵"),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c"], vec!["b", "d"]], "{c:?}");
        // Brothers sharing a generation character (`泽`): each given name
        // alone is its bearer's only, and a whole name typed in the
        // given-name field is read as a whole name.
        let events = [
            event("a", 0, &phone, Some("李泽斌")),
            event("b", DAY, &phone, Some("李泽明")),
            given_only("c", 2 * DAY, "泽斌"),
            given_only("d", 3 * DAY, "泽明"),
            given_only("e", 4 * DAY, "李泽斌"),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c", "e"], vec!["b", "d"]], "{c:?}");
        // A one-character given name alone is the wife 王丽's, not her
        // husband 李明's (whose family name sounds `li` too).
        let events = [
            event("a", 0, &phone, Some("李明")),
            event("b", DAY, &phone, Some("王丽")),
            given_only("c", 2 * DAY, "丽"),
            event("d", 3 * DAY, &phone, Some("李明")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "d"], vec!["b", "c"]], "{c:?}");
    }

    /// `Sam` after Samuel's and Samantha's records on the family's e-mail
    /// (a brother's between): alike to both, so whose it is nothing says,
    /// and it joins neither.
    #[test]
    fn a_name_alike_to_two_family_members_joins_neither() {
        let email = [(Email, "harringtons@example.com")];
        let events = [
            event("a", 0, &email, Some("Samuel Harrington")),
            event("b", DAY, &email, Some("Samantha Harrington")),
            event("c", 2 * DAY, &email, Some("David Harrington")),
            event("d", 3 * DAY, &email, Some("Sam Harrington")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a"], vec!["b"], vec!["c"], vec!["d"]], "{c:?}");
    }

    /// Nicknames count where a match rule weighs the names with a birthday
    /// (`Bob` and `Robert Harrington` born the same day at one address are
    /// one man), never on a shared identifier alone: `Jack` is a name of
    /// its own, and a father John and his son Jack share the family's
    /// e-mail.
    #[test]
    fn nicknames_count_with_a_birthday_not_on_a_shared_email_alone() {
        let email = [(Email, "harringtons@example.com")];
        let events = [
            event("a", 0, &email, Some("John Harrington")),
            event("b", DAY, &email, Some("Jack Harrington")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a"], vec!["b"]], "{c:?}");
        let born = |id: &str, t: i64, name: &str| {
            let mut e = event(id, t, &[], Some(name));
            e.attributes.birthday = Some("1961-02-11".into());
            e.attributes.address = Some(stow_place());
            e
        };
        let events = [
            born("a", 0, "Robert Harrington"),
            born("b", DAY, "Bob Harrington"),
            born("c", 2 * DAY, "Samantha Harrington"),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "b"], vec!["c"]], "{c:?}");
    }

    /// A couple sharing an e-mail address: his and her forms of one name.
    #[test]
    fn a_shared_email_does_not_join_paul_and_paula() {
        let email = [(Email, "smiths@example.com")];
        let events = [
            event("a", 0, &email, Some("Paul Smith")),
            event("b", DAY, &email, Some("Paula Smith")),
            event("c", 2 * DAY, &email, Some("Paula Smiht")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a"], vec!["b", "c"]], "{c:?}");
    }

    /// A Shanghai landline: a household's, not a person's.
    const LANDLINE: &str = "+862161234567";

    /// `Mr Li` and `Mrs Li` as the normalizer leaves them: the family name
    /// and the gender the title gave.
    fn titled(id: &str, t: i64, family: &str, gender: Option<&str>) -> CanonicalEvent {
        let mut e = event(id, t, &[(Phone, LANDLINE)], None);
        e.attributes.family_name = Some(family.into());
        e.attributes.gender = gender.map(str::to_string);
        e
    }

    #[test]
    fn a_landline_does_not_join_mr_and_mrs_of_one_family_name() {
        let events = [
            titled("a", 0, "李", Some("male")),
            titled("b", DAY, "李", Some("female")),
            titled("c", 2 * DAY, "李", Some("male")),
            // No gender said: nothing tells her or him apart.
            titled("d", 3 * DAY, "Smith", None),
            titled("e", 4 * DAY, "Smith", Some("female")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c"], vec!["b"], vec!["d", "e"]], "{c:?}");
    }

    #[test]
    fn a_landline_joins_only_alike_names() {
        let events = [
            event("a", 0, &[(Phone, LANDLINE)], Some("李娜")),
            event("b", DAY, &[(Phone, LANDLINE)], None),
            event("c", 2 * DAY, &[(Phone, LANDLINE)], Some("王伟")),
            event("d", 3 * DAY, &[(Phone, LANDLINE)], Some("李 娜")),
            event("e", 4 * DAY, &[(Phone, LANDLINE)], None),
        ];
        let c = run(&events, &LinkPolicy::default());
        // 李娜's two receipts join across 王伟's between them; the unnamed
        // receipts are nobody's in particular and stay on their own.
        assert_eq!(
            c,
            [vec!["a", "d"], vec!["b"], vec!["c"], vec!["e"]],
            "{c:?}"
        );
        // The same events with a mobile: the unnamed receipts join someone,
        // and 李娜's receipts join across 王伟's too (a mobile two people
        // share is no reason to split one of them).
        let mobile: Vec<CanonicalEvent> = events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.identifiers[0].value = "+8613900000001".into();
                e
            })
            .collect();
        let c = run(&mobile, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "b", "d", "e"], vec!["c"]], "{c:?}");
        // And with the guard off, the landline links like a mobile.
        let off = LinkPolicy {
            fixed_lines_need_names: false,
            ..LinkPolicy::default()
        };
        assert_eq!(run(&events, &off), run(&mobile, &off));
    }

    /// A household's line links alike names within the phone's window
    /// only: the same name years later on a number given to another
    /// household is another person, unless records between chain them.
    #[test]
    fn a_landline_joins_alike_names_within_its_window_only() {
        let events = [
            event("a", 0, &[(Phone, LANDLINE)], Some("李娜")),
            event("b", 800 * DAY, &[(Phone, LANDLINE)], Some("李娜")),
        ];
        assert_eq!(run(&events, &LinkPolicy::default()).len(), 2);
        let bridged = [
            events[0].clone(),
            event("m", 400 * DAY, &[(Phone, LANDLINE)], Some("李娜")),
            events[1].clone(),
        ];
        assert_eq!(run(&bridged, &LinkPolicy::default()).len(), 1);
    }

    /// A Japanese household on one landline: the son's name in kanji, his
    /// mother's given name in kana, his father's in kanji. Read as Chinese,
    /// `佐藤` split into `zuo` and a `teng` syllable every given name
    /// shared, so the mother's kana name was alike to every kanji one and
    /// joined the whole family. The son's name typed with a space is his.
    #[test]
    fn a_japanese_household_on_one_landline_stays_apart() {
        let events = [
            event("son", 0, &[(Phone, LANDLINE)], Some("佐藤陽翔")),
            event("mother", DAY, &[(Phone, LANDLINE)], Some("佐藤さくら")),
            event("father", 2 * DAY, &[(Phone, LANDLINE)], Some("佐藤誠")),
            event("son2", 3 * DAY, &[(Phone, LANDLINE)], Some("佐藤 陽翔")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(
            c,
            [vec!["father"], vec!["mother"], vec!["son", "son2"]],
            "{c:?}"
        );
    }

    #[test]
    fn a_landline_beside_a_card_does_not_stop_the_card_linking() {
        let events = [
            event("a", 0, &[(MemberId, "MAIN:A1")], Some("李娜")),
            event("b", DAY, &[(MemberId, "MAIN:A1"), (Phone, LANDLINE)], None),
            event("c", 2 * DAY, &[(Phone, LANDLINE)], Some("王伟")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "b"], vec!["c"]], "{c:?}");
    }

    /// A card lent to someone else: the names clearly differ, in Cyrillic
    /// as in Latin letters; the same name in either alphabet is one person.
    #[test]
    fn a_card_lent_between_people_named_in_cyrillic_is_shared() {
        let card = [(MemberId, "MAIN:A1")];
        let events = [
            event("a", 0, &card, Some("Иван Петров")),
            event("b", DAY, &card, Some("Мария Сидорова")),
            event("c", 2 * DAY, &card, Some("ИВАН ПЕТРОВ")),
        ];
        let c = run(&events, &LinkPolicy::default());
        assert_eq!(c, [vec!["a", "c"], vec!["b"]], "{c:?}");
        let transliterated = [
            event("a", 0, &card, Some("Иван Петров")),
            event("b", DAY, &card, Some("Ivan Petrov")),
        ];
        assert_eq!(run(&transliterated, &LinkPolicy::default()).len(), 1);
    }

    #[test]
    fn two_member_cards_of_one_program_never_join_through_a_phone() {
        let events = [
            event(
                "a",
                0,
                &[(MemberId, "MAIN:A1"), (Phone, "+8613900000001")],
                None,
            ),
            event(
                "b",
                DAY,
                &[(MemberId, "MAIN:B2"), (Phone, "+8613900000001")],
                None,
            ),
        ];
        assert_eq!(run(&events, &LinkPolicy::default()).len(), 2);
    }

    #[test]
    fn recycled_phone_outside_the_window_links_no_one() {
        let events = [
            event("old", 0, &[(Phone, "+8613900000001")], None),
            event("new", 800 * DAY, &[(Phone, "+8613900000001")], None),
        ];
        assert_eq!(run(&events, &LinkPolicy::default()).len(), 2);
        let bridged = [
            event("old", 0, &[(Phone, "+8613900000001")], None),
            event("mid", 400 * DAY, &[(Phone, "+8613900000001")], None),
            event("new", 800 * DAY, &[(Phone, "+8613900000001")], None),
        ];
        assert_eq!(
            run(&bridged, &LinkPolicy::default()).len(),
            1,
            "a chain within the window links"
        );
    }

    #[test]
    fn name_rule_links_records_without_a_shared_identifier() {
        let with = |id: &str, e: &str| {
            let mut ev = event(id, 0, &[(Email, e)], Some("Ann Lee"));
            ev.attributes.birthday = Some("1990-01-02".into());
            ev.attributes.address = Some(kindred_model::Address {
                postal_code: Some("SW1A 1AA".into()),
                ..Default::default()
            });
            ev
        };
        let events = [with("a", "a@x.com"), with("b", "b@y.com")];
        assert_eq!(run(&events, &LinkPolicy::default()).len(), 1);
        let mut no_rules = LinkPolicy::default();
        no_rules.rules.clear();
        assert_eq!(run(&events, &no_rules).len(), 2);
    }

    /// A sign-up at 8 Stanley Street with its own e-mail (so only the
    /// match rules can join it to another): given and family name as typed
    /// in their fields, the full name given then family.
    fn signup(
        id: &str,
        given: &str,
        family: &str,
        bday: &str,
        postal: &str,
        city: &str,
    ) -> CanonicalEvent {
        let name = format!("{given} {family}");
        let mut ev = event(id, 0, &[(Email, &format!("{id}@x.com"))], Some(&name));
        ev.attributes.given_name = Some(given.into());
        ev.attributes.family_name = Some(family.into());
        ev.attributes.birthday = Some(bday.into());
        ev.attributes.address = Some(kindred_model::Address {
            line1: Some("8 Stanley Street".into()),
            city: Some(city.into()),
            postal_code: Some(postal.into()),
            ..Default::default()
        });
        ev
    }

    /// The scored rules join one person's records across typos in the name,
    /// the birthday or the postal code (each block catches what a typo in
    /// the other's field hides, a typo in both the family name and the
    /// postal code included), a chain included; twins at one address and
    /// namesakes born the same day elsewhere stay apart.
    #[test]
    fn scored_rules_link_across_typos_and_keep_twins_and_namesakes_apart() {
        let person = signup;
        let events = [
            person(
                "a",
                "Michaela",
                "Neumann",
                "1975-11-11",
                "4223",
                "Winston Hills",
            ),
            // Typo in the family name: only the birthday-postcode block sees it.
            person(
                "b",
                "Michaela",
                "Nuemann",
                "1975-11-11",
                "4223",
                "Winston Hills",
            ),
            // Typo in the postal code: only the birthday-family-name block.
            person(
                "c",
                "Micheala",
                "Neumann",
                "1975-11-11",
                "4232",
                "Winston Hills",
            ),
            // Typos in the family name and the postal code: only the
            // birthday-given-name block.
            person(
                "f",
                "Michaela",
                "Neumanm",
                "1975-11-11",
                "4322",
                "Winston Hills",
            ),
            // Twin sister at the same address.
            person(
                "d",
                "Vanessa",
                "Neumann",
                "1975-11-11",
                "4223",
                "Winston Hills",
            ),
            // A namesake born the same day in another city.
            person("e", "Michaela", "Neumann", "1975-11-11", "2000", "Sydney"),
        ];
        let got = run(&events, &LinkPolicy::default());
        assert!(
            got.contains(&vec!["a".to_string(), "b".into(), "c".into(), "f".into()]),
            "{got:?}"
        );
        assert_eq!(got.len(), 3, "{got:?}");
        let mut unscored = LinkPolicy::default();
        unscored.rules.retain(|r| r.min_score.is_none());
        assert_eq!(run(&events, &unscored).len(), 6);
        let mut no_given = LinkPolicy::default();
        no_given.rules.retain(|r| {
            !r.fields.contains(&kindred_model::RuleField::GivenName)
                && !r.fields.contains(&kindred_model::RuleField::NameSound)
        });
        assert_eq!(
            run(&events, &no_given).len(),
            4,
            "f is found by the given-name block (or its sound's) only"
        );
    }

    /// A scored rule's pair whose names the whole-name measure rates low
    /// but whose tokens all match: a space typed inside a given name
    /// (`Thom as`), and given and family name typed in each other's field
    /// with a typo in the postal code (only the name + birthday block holds
    /// that pair). Twins who share the family name still differ.
    #[test]
    fn scored_rules_link_a_split_token_and_swapped_name_fields() {
        let events = [
            signup("a", "Thomas", "Milburn", "1908-06-29", "6153", "Kilcoy"),
            signup("b", "Thom as", "Milburn", "1908-06-29", "6153", "Kilcoy"),
            signup("c", "Milburn", "Thomas", "1908-06-29", "6135", "Kilcoy"),
            signup("d", "Tamsin", "Milburn", "1908-06-29", "6153", "Kilcoy"),
        ];
        let got = run(&events, &LinkPolicy::default());
        assert_eq!(
            got,
            vec![
                vec!["a".to_string(), "b".into(), "c".into()],
                vec!["d".into()]
            ]
        );
        let no_name_birthday =
            without_rules(&["scored_name_birthday", "scored_birthday_name_sound"]);
        assert_eq!(
            run(&events, &no_name_birthday),
            vec![
                vec!["a".to_string(), "b".into()],
                vec!["c".into()],
                vec!["d".into()]
            ],
            "c is found by the name + birthday block (or a token's sound's) only"
        );
    }

    /// Names typed in swapped fields with a token mistyped, and a postal
    /// code with a typo: no exact-name block holds the pair, the block of
    /// a name token's sound with the birthday does.
    #[test]
    fn a_name_tokens_sound_with_the_birthday_blocks_a_mistyped_swapped_name() {
        let events = [
            signup("a", "Sean", "Hewson", "1971-03-02", "2230", "Sydney"),
            signup("b", "Hewson", "Seanb", "1971-03-02", "2203", "Sydney"),
            signup("c", "Gwen", "Hewson", "1971-03-02", "2230", "Sydney"),
        ];
        assert_eq!(
            run(&events, &LinkPolicy::default()),
            vec![vec!["a".to_string(), "b".into()], vec!["c".into()]]
        );
        let no_sound = without_rules(&["scored_birthday_name_sound"]);
        assert_eq!(
            run(&events, &no_sound),
            vec![vec!["a".to_string()], vec!["b".into()], vec!["c".into()]],
            "b is found by the sound + birthday block only"
        );
    }

    /// A record that states only the family name scores against each twin
    /// (same family name, birthday and address); joined to one twin, it
    /// must not carry the rule's link on to the other, in any order. One
    /// person's records, one of them with only the family name, still join.
    #[test]
    fn a_family_name_alone_does_not_bridge_twins() {
        let family_only = |id: &str| {
            let mut ev = signup(id, "-", "Milburn", "1908-06-29", "6153", "Kilcoy");
            ev.attributes.given_name = None;
            ev.attributes.full_name = Some("Milburn".into());
            ev
        };
        let events = [
            signup("a", "Tamsin", "Milburn", "1908-06-29", "6153", "Kilcoy"),
            family_only("b"),
            signup("c", "Thomas", "Milburn", "1908-06-29", "6153", "Kilcoy"),
        ];
        for order in [[0, 1, 2], [1, 0, 2], [1, 2, 0], [2, 1, 0]] {
            let events: Vec<_> = order.iter().map(|&i| events[i].clone()).collect();
            let got = run(&events, &LinkPolicy::default());
            assert_eq!(got.len(), 2, "{order:?}: {got:?}");
            assert!(
                got.iter()
                    .any(|c| c.len() == 2 && c.contains(&"b".to_string())),
                "{order:?}: {got:?}"
            );
        }
        // Nor through the other twin typed without given-name fields, nor
        // through an initial, which starts both twins' names.
        let mut unfielded = signup("c", "Thomas", "Milburn", "1908-06-29", "6153", "Kilcoy");
        unfielded.attributes.given_name = None;
        unfielded.attributes.family_name = None;
        let initial = signup("b", "T", "Milburn", "1908-06-29", "6153", "Kilcoy");
        for bridge in [
            [events[0].clone(), family_only("b"), unfielded],
            [events[0].clone(), initial, events[2].clone()],
        ] {
            let got = run(&bridge, &LinkPolicy::default());
            assert_eq!(got.len(), 2, "{got:?}");
        }
        let one = [
            signup("a", "Tamsin", "Milburn", "1908-06-29", "6153", "Kilcoy"),
            family_only("b"),
            signup("c", "Tamsyn", "Milburn", "1908-06-29", "6153", "Kilcoy"),
        ];
        assert_eq!(run(&one, &LinkPolicy::default()).len(), 1);
    }

    /// A married name: one given name, birthday and door, two family names.
    /// The rule's link passes the cluster's name guard (the whole names rate
    /// low); a sister with another given name stays apart.
    #[test]
    fn a_married_name_joins_through_the_scored_rules() {
        let events = [
            signup("a", "Tahni", "Skeen", "1923-11-10", "3220", "Ryde"),
            signup("b", "Tahni", "Murton", "1923-11-10", "3220", "Ryde"),
            signup("c", "Thalia", "Murton", "1923-11-10", "3220", "Ryde"),
        ];
        let got = run(&events, &LinkPolicy::default());
        assert_eq!(
            got,
            vec![vec!["a".to_string(), "b".into()], vec!["c".into()]]
        );
    }

    #[test]
    fn partition_does_not_depend_on_input_order() {
        let events = vec![
            event(
                "a",
                3,
                &[(Phone, "+8613900000001"), (MemberId, "MAIN:A1")],
                Some("Li Na"),
            ),
            event("b", 1, &[(Phone, "+8613900000001")], Some("Wang Wei")),
            event(
                "c",
                2,
                &[(Phone, "+8613900000001"), (Email, "w@x.cn")],
                None,
            ),
            event("d", 2, &[(Email, "w@x.cn")], Some("王伟")),
            event("e", 5, &[(MemberId, "MAIN:B2"), (Email, "w@x.cn")], None),
        ];
        let want = run(&events, &LinkPolicy::default());
        let mut rev = events.clone();
        rev.reverse();
        assert_eq!(run(&rev, &LinkPolicy::default()), want);
        rev.rotate_left(2);
        assert_eq!(run(&rev, &LinkPolicy::default()), want);
    }
}
