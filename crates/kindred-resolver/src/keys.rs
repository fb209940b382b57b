//! What an event offers to linking: its link keys (identifiers and match-rule
//! blocks), its name folded for comparison, its member cards per program, and
//! the companions counted by the over-shared-identifier guard.

use crate::names::{
    fold_name, fold_name_and_script, fold_name_part, plain, GivenName, NamePart, NameScript,
    FEMALE, GENERATIONAL_SUFFIXES, MALE, NAME_PARTICLES,
};
use crate::protect::KeyHasher;
use kindred_model::{CanonicalEvent, IdentifierKind, LinkPolicy, RuleField};

/// How a link key links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyClass {
    /// An immutable identifier: links unconditionally.
    Strong(IdentifierKind),
    /// A mutable identifier: links within a window, subject to the guards.
    Weak(IdentifierKind),
    /// A mutable identifier a household shares (a fixed-line phone): links
    /// like [`KeyClass::Weak`], but only records that carry alike names.
    /// The clustering also treats an immutable identifier this way once its
    /// records name clearly different people (a lent or house card).
    Household(IdentifierKind),
    /// The block of match rule number `.0` in the policy.
    Rule(usize),
}

impl KeyClass {
    /// The identifier kind of an identifier key (`None` for a rule block).
    pub(crate) fn kind(self) -> Option<IdentifierKind> {
        match self {
            KeyClass::Strong(k) | KeyClass::Weak(k) | KeyClass::Household(k) => Some(k),
            KeyClass::Rule(_) => None,
        }
    }
}

/// One key under which an event is indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkKey {
    /// As stored: a keyed hash of the value in a keyed store.
    pub key: String,
    pub class: KeyClass,
    /// For an identifier key, the identifier's index in the event (to show
    /// it masked, since the key no longer says what it is).
    pub identifier: Option<usize>,
}

/// Everything linking needs from one event, derived once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EventKeys {
    pub links: Vec<LinkKey>,
    /// The name, transliterated (hanzi to pinyin), case-folded, tokens sorted.
    pub name: Option<String>,
    /// The script the name was written in (what [`clearly_different`]
    /// needs: a name in kanji and the same name in romaji fold apart).
    pub name_script: NameScript,
    /// Index keys of this event's identifiers under the written form
    /// releases before linking version 4 used, where it differs (member
    /// cards with separators or leading zeros). They link nothing: an
    /// older store's suppressions are checked, and an erasure clears the
    /// entries, under them too.
    pub legacy: Vec<String>,
    /// Match-rule block keys releases before linking version 30 made and
    /// this one does not (the blocks of a 1 January birthday). They link
    /// nothing; an erasure, and `rules apply` on an older store, clear
    /// their entries.
    pub retired: Vec<LinkKey>,
    /// Identifiers limited per namespace ([`namespace_limit`]) as
    /// ((kind, namespace), value, companion hash): member cards by loyalty
    /// program, accounts by shop, WeChat union ids. The hash is the identifier's entry in
    /// `companions` (what [`EventKeys::quarantined`] returns when it is
    /// taken out of linking).
    pub namespaced: Vec<((IdentifierKind, String), String, u64)>,
    /// Non-device identifiers as (kind, hash of link key): what the
    /// quarantine guard counts as an identifier's companions.
    pub companions: Vec<(IdentifierKind, u64)>,
    /// A digest of the folded name (keyed in a keyed store), for the
    /// quarantine guard's count of distinct names.
    pub name_digest: Option<u64>,
    /// The given and family names as typed in their own fields, as keys:
    /// what tells twins apart ([`GivenName::other_person`]).
    pub given: Option<GivenName>,
    /// For an unnamed event carrying a household's line (which links no
    /// unnamed record): who the customer is, as far as linking can tell,
    /// for the guard's count of the line's unnamed holders
    /// (`quarantine.max_unnamed_holders`; [`EventKeys::counted_anchor`]).
    /// `None` for a named event or one without such a line.
    pub unnamed_anchor: Option<UnnamedAnchor>,
}

/// Who an unnamed record on a household's line is, for the count of the
/// line's unnamed holders. One per record, so a customer's receipts with
/// their card and a new device id each time count once: its most lasting
/// identifier that links unnamed records ([`anchor_rank`]: a card, an
/// account, an e-mail, a mobile, a social id, a device; the first by key
/// among equals), or, when it has none or that one anchors no one (it is
/// quarantined, or a card whose records name clearly different people,
/// `IndexEntry::names_differ`: a house card on every walk-in receipt is
/// nobody's), the record itself: a walk-in receipt is a customer of its
/// own.
///
/// The count over a line's records is then a function of the set of
/// events: the record's identifiers are its own, and whether one is
/// quarantined or shown shared depends on its companions and names only,
/// never on a line's anchors. Both only turn one anchor into the records
/// it stood for, so a line's count never falls as events arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnnamedAnchor {
    /// Its most lasting identifier, as an index in [`EventKeys::links`].
    pub link: Option<usize>,
}

/// What a line's `anchors` hold for a record that counts alone.
pub(crate) fn alone_anchor(event_id: &str, hasher: &KeyHasher) -> u64 {
    hasher.digest("event", event_id)
}

/// What a line's `anchors` hold for a record counted by the identifier
/// under index key `key`.
pub(crate) fn anchor_of_key(key: &str) -> u64 {
    fnv1a(key.as_bytes())
}

/// How lasting a person's identifier of `kind` is, lowest first: what
/// [`EventKeys::unnamed_anchor`] takes among an event's identifiers.
fn anchor_rank(kind: IdentifierKind) -> u8 {
    match kind {
        IdentifierKind::MemberId => 0,
        IdentifierKind::Account => 1,
        IdentifierKind::Email => 2,
        IdentifierKind::Phone => 3,
        IdentifierKind::Social => 4,
        IdentifierKind::Device => 5,
    }
}

/// Kinds whose `max_per_profile` counts per namespace, the part of the value
/// before the first `:`: one card per loyalty program (`MAIN:8800..`), one
/// account per shop (`web:u123`).
pub(crate) fn per_namespace(kind: IdentifierKind) -> bool {
    matches!(kind, IdentifierKind::MemberId | IdentifierKind::Account)
}

/// Whether an identifier of `kind` in `namespace` is one a person has at
/// most one of there, though its kind is not limited per namespace: a
/// WeChat union id (`wechat-union:...`), which names one WeChat user
/// across every app of the brand. Two of them are two people: a profile
/// never holds two (a spouse's phone given in a mini-program order would
/// otherwise join two WeChat users), whatever `social.max_per_profile`
/// says; a person's open ids, one per app, are not limited.
pub(crate) fn one_per_person(kind: IdentifierKind, namespace: &str) -> bool {
    kind == IdentifierKind::Social && namespace.ends_with("-union")
}

/// The most identifiers of `kind` in `namespace` one profile may hold
/// (0: no limit): one per person ([`one_per_person`]), the kind's
/// `max_per_profile` for a kind limited per namespace ([`per_namespace`]).
pub(crate) fn namespace_limit(policy: &LinkPolicy, kind: IdentifierKind, namespace: &str) -> usize {
    if one_per_person(kind, namespace) {
        1
    } else if per_namespace(kind) {
        policy.identifiers.get(kind).max_per_profile as usize
    } else {
        0
    }
}

impl EventKeys {
    /// The index key of the identifier an unnamed record on a household's
    /// line counts by while that identifier links.
    pub(crate) fn anchor_key(&self) -> Option<&str> {
        let link = self.unnamed_anchor?.link?;
        self.links.get(link).map(|l| l.key.as_str())
    }

    /// What the unnamed record `event_id` (these its keys) counts as among
    /// the unnamed holders of its households' lines, `quarantined` telling
    /// whether an index key anchors no one (taken out of linking, or a
    /// card shown shared: [`UnnamedAnchor`]);
    /// `None` for a named record or one without such a line.
    pub(crate) fn counted_anchor(
        &self,
        event_id: &str,
        hasher: &KeyHasher,
        quarantined: impl FnOnce(&str) -> bool,
    ) -> Option<u64> {
        self.unnamed_anchor?;
        Some(match self.anchor_key() {
            Some(key) if !quarantined(key) => anchor_of_key(key),
            _ => alone_anchor(event_id, hasher),
        })
    }

    /// The companion hashes of this event's identifiers that `quarantined`
    /// takes out of linking: a quarantined identifier is nobody's, so the
    /// limits per profile do not count it (usually empty).
    pub(crate) fn quarantined(&self, quarantined: &dyn Fn(&str) -> bool) -> Vec<u64> {
        self.links
            .iter()
            .filter(|l| quarantined(&l.key))
            .map(|l| fnv1a(l.key.as_bytes()))
            .collect()
    }

    pub fn of(event: &CanonicalEvent, policy: &LinkPolicy, hasher: &KeyHasher) -> Self {
        let (name, name_script) = match event_name(event) {
            Some((name, script)) => (Some(name), script),
            None => (None, NameScript::Other),
        };
        let mut out = EventKeys {
            name_digest: name.as_deref().map(|n| hasher.digest("name", &plain(n))),
            name,
            given: GivenName::of(&event.attributes),
            name_script,
            ..EventKeys::default()
        };
        for (index, id) in event.identifiers.iter().enumerate() {
            let link_value = id.link_value();
            let key = hasher.key(id.kind.as_str(), &link_value);
            // A card written with separators or leading zeros was indexed
            // under its written form before linking version 4: an older
            // store's entries and suppressions of it are there.
            let written = id.match_key.as_deref().unwrap_or(&id.value);
            if written != link_value {
                out.legacy.push(hasher.key(id.kind.as_str(), written));
            }
            let hash = fnv1a(key.as_bytes());
            if id.kind != IdentifierKind::Device {
                out.companions.push((id.kind, hash));
            }
            // Compared as linking compares them: one card written with and
            // without separators is one card, not two.
            let (namespace, value) = link_value.split_once(':').unwrap_or(("", &link_value));
            if per_namespace(id.kind) || one_per_person(id.kind, namespace) {
                out.namespaced
                    .push(((id.kind, namespace.to_string()), value.to_string(), hash));
            }
            let p = policy.identifiers.get(id.kind);
            if !p.link {
                continue;
            }
            let class = if p.mutable && household_line(id, policy) {
                KeyClass::Household(id.kind)
            } else if p.mutable {
                KeyClass::Weak(id.kind)
            } else {
                KeyClass::Strong(id.kind)
            };
            out.links.push(LinkKey {
                key,
                class,
                identifier: Some(index),
            });
        }
        // A 1 January birthday blocks no rule since linking version 30; an
        // older store's blocks of it are `retired`.
        let untold_birthday = untold_birthday(event);
        for (i, rule) in policy.rules.iter().enumerate() {
            if (rule.name_similarity.is_some() || rule.min_score.is_some()) && out.name.is_none() {
                continue;
            }
            let prefix = format!("{RULE_KEY_PREFIX}{}:{}", rule.name, rule.version);
            let key = |block: &str| LinkKey {
                key: hasher.key(&prefix, block),
                class: KeyClass::Rule(i),
                identifier: None,
            };
            out.links.extend(
                rule_blocks(event, rule, out.name.as_deref(), None)
                    .iter()
                    .map(|b| key(b)),
            );
            if let Some(day) =
                untold_birthday.filter(|_| rule.fields.contains(&RuleField::Birthday))
            {
                out.retired.extend(
                    rule_blocks(event, rule, out.name.as_deref(), Some(day))
                        .iter()
                        .map(|b| key(b)),
                );
            }
        }
        out.links.sort_by(|a, b| a.key.cmp(&b.key));
        out.links.dedup_by(|a, b| a.key == b.key);
        let household = |l: &LinkKey| matches!(l.class, KeyClass::Household(_));
        if out.name.is_none() && out.links.iter().any(household) {
            // Links are sorted by key: the first of the best rank.
            let lasting = out
                .links
                .iter()
                .enumerate()
                .filter_map(|(i, l)| match l.class {
                    KeyClass::Strong(kind) | KeyClass::Weak(kind) => Some((anchor_rank(kind), i)),
                    KeyClass::Household(_) | KeyClass::Rule(_) => None,
                })
                .min_by_key(|(rank, _)| *rank);
            out.unnamed_anchor = Some(UnnamedAnchor {
                link: lasting.map(|(_, i)| i),
            });
        }
        out
    }
}

/// How a rule block's index key starts, plain or keyed (the hasher keeps
/// the prefix readable); no identifier kind is named `rule`.
const RULE_KEY_PREFIX: &str = "rule:";

/// Whether an index key is a rule's block, not an identifier's.
pub(crate) fn is_rule_key(key: &str) -> bool {
    key.starts_with(RULE_KEY_PREFIX)
}

/// Whether `id` is a fixed-line phone the policy treats as a household's.
fn household_line(id: &kindred_model::Identifier, policy: &LinkPolicy) -> bool {
    policy.fixed_lines_need_names
        && id.kind == IdentifierKind::Phone
        && kindred_normalize::phone_line(&id.value) == kindred_normalize::PhoneLine::FixedLine
}

/// The event's birthday when it is one no rule blocks on since linking
/// version 30 (a 1 January, a partial date): older stores hold blocks of
/// it ([`EventKeys::retired`]).
pub(crate) fn untold_birthday(event: &CanonicalEvent) -> Option<&str> {
    event
        .attributes
        .birthday
        .as_deref()
        .filter(|d| !d.is_empty() && !crate::score::birthday_told(d))
}

/// The blocks `rule` puts the event in: each field has one value, or
/// several (a name's tokens), one block per combination. `birthday`, when
/// given, stands for the event's birthday (an older release's blocks of a
/// 1 January).
fn rule_blocks(
    event: &CanonicalEvent,
    rule: &kindred_model::MatchRule,
    name: Option<&str>,
    birthday: Option<&str>,
) -> Vec<String> {
    let mut blocks: Vec<String> = vec![String::new()];
    for (n, field) in rule.fields.iter().enumerate() {
        let values = match (field, birthday) {
            (RuleField::Birthday, Some(day)) => vec![day.to_string()],
            _ => field_values(event, *field, name),
        };
        blocks = blocks
            .iter()
            .flat_map(|block| {
                values.iter().map(move |v| {
                    if n == 0 {
                        v.clone()
                    } else {
                        format!("{block}\u{1f}{v}")
                    }
                })
            })
            .collect();
    }
    blocks
}

/// A field's values for blocking: none when the event lacks it, one, or
/// one per name token ([`RuleField::NameSound`]).
fn field_values(event: &CanonicalEvent, field: RuleField, name: Option<&str>) -> Vec<String> {
    if field == RuleField::NameSound {
        return name.map(name_sounds).unwrap_or_default();
    }
    field_value(event, field, name).into_iter().collect()
}

/// The Soundex code of each token of a folded name, once each, at most
/// [`MAX_NAME_SOUNDS`]. Left out, since a block of each would hold a
/// large share of the customers born on a day: a code that says no more
/// than the initial (`li`, `lee`, `liu`, `de`, `do` are all `L000` or
/// `D000`; an initial), name particles (`van`, `bin`) and generational
/// suffixes (`jr`); and tokens not wholly of the letters a to z (Soundex
/// codes English letters only, and rphonetic's encoder panics on others):
/// a name in hanzi is coded by its pinyin, one in Cyrillic not at all.
fn name_sounds(name: &str) -> Vec<String> {
    use rphonetic::Encoder as _;
    let soundex = rphonetic::Soundex::default();
    let mut codes: Vec<String> = plain(name)
        .split(' ')
        .filter(|t| {
            t.bytes().all(|b| b.is_ascii_lowercase())
                && !NAME_PARTICLES.contains(t)
                && !GENERATIONAL_SUFFIXES.contains(t)
                && !JOINING_WORDS.contains(t)
        })
        .map(|t| soundex.encode(t))
        .filter(|c| c.len() > 1 && !c[1..].bytes().all(|b| b == b'0'))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes.truncate(MAX_NAME_SOUNDS);
    codes
}

/// Words that join names or mark descent, also names now and then (so not
/// [`NAME_PARTICLES`], which must not rate alike to other tokens), each
/// shared by a large share of some countries' customers: no sound block.
const JOINING_WORDS: &[&str] = &[
    "da", "das", "do", "dos", "di", "del", "al", "el", "abu", "bint", "ben", "ap",
];

/// The most sound blocks one name makes (a name of many tokens is junk
/// more often than a person's).
const MAX_NAME_SOUNDS: usize = 6;

pub(crate) fn field_value(
    event: &CanonicalEvent,
    field: RuleField,
    name: Option<&str>,
) -> Option<String> {
    let a = &event.attributes;
    let v = match field {
        RuleField::FullName => name.map(|n| plain(n).into_owned()),
        // Read as a family name, as the name guards read it (`리` is `이`).
        RuleField::FamilyName => a
            .family_name
            .as_deref()
            .and_then(|f| fold_name_part(f, NamePart::Family))
            .map(|(folded, _)| folded),
        RuleField::GivenName => a
            .given_name
            .as_deref()
            .and_then(fold_name)
            .map(|n| plain(&n).into_owned()),
        // A 1 January is no told birthday (a year alone, a form's
        // default): blocked on, it would gather everyone of a year.
        RuleField::Birthday => a
            .birthday
            .clone()
            .filter(|d| crate::score::birthday_told(d)),
        RuleField::PostalCode => a.address.as_ref().and_then(crate::score::postal_key),
        RuleField::NameSound => None,
    };
    v.filter(|v| !v.is_empty())
}

/// The event's name for comparison, folded, and the script it was written
/// in: the full name, else given and family.
pub(crate) fn event_name(event: &CanonicalEvent) -> Option<(String, NameScript)> {
    let a = &event.attributes;
    match &a.full_name {
        Some(n) if !n.trim().is_empty() => fold_name_and_script(n),
        _ => {
            let joined = [a.given_name.as_deref(), a.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            // A given name alone (`泽斌` in a sign-up form's given-name
            // field) has no family name to take its first character for:
            // folded whole, it is the given name of `李泽斌`'s.
            let part = match (&a.given_name, &a.family_name) {
                (_, None) => NamePart::Given,
                (None, Some(_)) => NamePart::Family,
                (Some(_), Some(_)) => NamePart::Whole,
            };
            let (folded, script) = fold_name_part(&joined, part)?;
            // A family name alone (`Mr Smith`, `李先生`) says little of who
            // the person is; its gender, when known, tells a couple apart.
            let mark = match (&a.given_name, a.gender.as_deref()) {
                (None, Some("male")) => Some(MALE),
                (None, Some("female")) => Some(FEMALE),
                _ => None,
            };
            Some(match mark {
                Some(m) => (format!("{folded} {m}"), script),
                None => (folded, script),
            })
        }
    }
}

/// FNV-1a: a stable 64-bit hash (stored, so it must not change between releases).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_sounds_are_one_code_per_token_without_initials() {
        let sounds = |n: &str| name_sounds(&fold_name(n).expect("a name"));
        assert_eq!(sounds("Sean Hewson"), sounds("Hewsen Shaun"));
        assert_eq!(
            sounds("Hewson, Sean"),
            vec!["H250".to_string(), "S500".into()]
        );
        assert_eq!(sounds("J. Smith"), vec!["S530".to_string()]);
        // Codes that say no more than the initial, particles and suffixes
        // make blocks of too many people.
        assert_eq!(sounds("Li Lee"), Vec::<String>::new());
        assert_eq!(
            sounds("Maria do Carmo"),
            vec!["C650".to_string(), "M600".into()]
        );
        assert_eq!(
            sounds("Ana dos Santos"),
            vec!["A500".to_string(), "S532".into()]
        );
        assert_eq!(
            sounds("Omar al Rashid"),
            vec!["O560".to_string(), "R230".into()]
        );
        assert_eq!(
            sounds("Ludwig van Beethoven Jr"),
            vec!["B315".to_string(), "L320".into()]
        );
        // Names in other scripts give no code, or their romanized one
        // (Cyrillic and Greek are read in Latin letters).
        assert!(sounds("김민준").is_empty());
        assert_eq!(sounds("Иван Петров"), sounds("Ivan Petrov"));
        assert_eq!(sounds("李怡妮"), sounds("Li Yini"));
    }

    #[test]
    fn keys_cover_identifiers_and_complete_rule_blocks() {
        use kindred_model::{Address, Attributes, Channel, Identifier};
        let event = CanonicalEvent {
            event_id: "pos:1".into(),
            channel: Channel::Pos,
            event_time_ms: 0,
            identifiers: vec![
                Identifier::new(IdentifierKind::MemberId, "MAIN:M1"),
                Identifier::new(IdentifierKind::Phone, "+8613900000000"),
                Identifier::new(IdentifierKind::Device, "web:d1"),
            ],
            attributes: Attributes {
                full_name: Some("Ann Lee".into()),
                birthday: Some("1990-01-02".into()),
                address: Some(Address {
                    postal_code: Some("sw1a 1aa".into()),
                    ..Address::default()
                }),
                ..Attributes::default()
            },
            activity: Default::default(),
            consents: vec![],
            dropped: vec![],
        };
        let keys = EventKeys::of(&event, &LinkPolicy::default(), &KeyHasher::plain());
        let classes: Vec<KeyClass> = keys.links.iter().map(|k| k.class).collect();
        assert!(classes.contains(&KeyClass::Strong(IdentifierKind::MemberId)));
        assert!(classes.contains(&KeyClass::Weak(IdentifierKind::Phone)));
        assert!(classes.contains(&KeyClass::Rule(0)) && classes.contains(&KeyClass::Rule(1)));
        // A rule's block is told from an identifier by its key alone.
        for link in &keys.links {
            assert_eq!(
                is_rule_key(&link.key),
                matches!(link.class, KeyClass::Rule(_)),
                "{}",
                link.key
            );
        }
        assert!(
            keys.links
                .iter()
                .any(|k| k.key
                    == "rule:name_birthday_postcode:1:ann lee\u{1f}1990-01-02\u{1f}SW1A1AA")
        );
        assert_eq!(keys.namespaced.len(), 1);
        assert_eq!(
            (&keys.namespaced[0].0, keys.namespaced[0].1.as_str()),
            (&(IdentifierKind::MemberId, "MAIN".into()), "M1")
        );
        assert!(keys
            .companions
            .contains(&(IdentifierKind::MemberId, keys.namespaced[0].2)));
        assert_eq!(keys.companions.len(), 2, "devices are not companions");
    }
}
