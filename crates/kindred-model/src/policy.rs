//! Linking policy: which identifiers and rules make two records one person.
//!
//! Plain data with documented defaults, read from the `[resolver.linking]`
//! table of the config file. The resolver interprets it; see ARCHITECTURE.md
//! ("Linking") for the algorithm.

use serde::{Deserialize, Serialize};

use crate::IdentifierKind;

/// How one kind of identifier links records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentifierPolicy {
    /// Whether this kind links records at all.
    pub link: bool,
    /// Mutable identifiers (phones, emails, shared devices) change hands:
    /// they link records only within `window_days` of each other, and only
    /// between records whose names and member cards do not contradict each
    /// other. Immutable ones (member cards, social and account ids) link
    /// unconditionally.
    pub mutable: bool,
    /// For mutable kinds: two records link through this identifier only if
    /// their event times are at most this many days apart (a chain of
    /// records each within the window links too). 0 = no limit.
    pub window_days: u32,
    /// The most distinct identifiers of this kind one profile may hold
    /// through linking (member ids count per loyalty program, account ids
    /// per shop: the namespace before the first `:`). A link that
    /// would exceed it is refused and becomes a review suggestion. Records
    /// that carry more on one event (or share an immutable id) are kept
    /// together regardless. 0 = no limit.
    pub max_per_profile: u32,
    /// The over-shared quarantine's companion limit for identifiers of this
    /// kind, when it differs from `quarantine.max_companions`: an identifier
    /// of this kind seen with more than this many distinct identifiers of
    /// one other kind is quarantined. Unset = `quarantine.max_companions`.
    /// One member card belongs to one person, who gives it with their own
    /// mobile, a new number after a change, now and then the home line; a
    /// cashier's default card sits with every walk-in customer's phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_companions: Option<u32>,
    /// The over-shared quarantine's distinct-name limit for identifiers of
    /// this kind, when it differs from `quarantine.max_names`. Unset =
    /// `quarantine.max_names`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_names: Option<u32>,
    /// For immutable kinds: once the records carrying one identifier name
    /// two clearly different people (no name token alike, both names
    /// written in the same script and of two or more tokens), the
    /// identifier is taken as shared, a card lent to a friend or a store's
    /// house card, and links only records whose names are alike, like a
    /// household's landline; records without a name link to no one through
    /// it. A married name keeps the given name and a typo keeps the other
    /// token, so neither makes a card shared. Default: on for member ids.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared_when_names_differ: bool,
    /// Once the records carrying one identifier of this kind hold more
    /// identifiers of a limited kind than one profile may
    /// (`max_per_profile`: two accounts of one shop, two member cards of one
    /// program), the identifier is shared, a family or shop computer: it
    /// links only records whose names are alike, and an anonymous page view
    /// on it links to no one. Default: on for devices.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared_when_over_limits: bool,
}

impl IdentifierPolicy {
    fn immutable(max_per_profile: u32) -> Self {
        IdentifierPolicy {
            link: true,
            mutable: false,
            window_days: 0,
            max_per_profile,
            max_companions: None,
            max_names: None,
            shared_when_names_differ: false,
            shared_when_over_limits: false,
        }
    }

    fn mutable(window_days: u32, max_per_profile: u32) -> Self {
        IdentifierPolicy {
            link: true,
            mutable: true,
            window_days,
            max_per_profile,
            max_companions: None,
            max_names: None,
            shared_when_names_differ: false,
            shared_when_over_limits: false,
        }
    }

    /// The window in milliseconds, `None` when unlimited.
    pub fn window_ms(&self) -> Option<i64> {
        (self.mutable && self.window_days > 0).then(|| i64::from(self.window_days) * 86_400_000)
    }
}

impl Default for IdentifierPolicy {
    fn default() -> Self {
        IdentifierPolicy::immutable(0)
    }
}

/// Per identifier kind. Defaults: member ids, social and account ids are
/// immutable; phones link within 730 days, emails within 1825 days, devices
/// within 180 days. Limits per profile: one member card per program, one
/// account per shop, 4 phones, 6 emails; social and device ids unlimited (a
/// person has an openid per mini-program and many cookies). A member card
/// seen with more than 3 distinct identifiers of one kind (3 phones: the
/// member's, a new number, the home line) is quarantined; other kinds use
/// `quarantine.max_companions`. Every kind uses `quarantine.max_names`
/// unless its own `max_names` is set. A member card whose records name two
/// clearly different people is shared (`shared_when_names_differ`), and so
/// is a device two accounts of one shop were signed in on
/// (`shared_when_over_limits`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentifierPolicies {
    pub member_id: IdentifierPolicy,
    pub phone: IdentifierPolicy,
    pub email: IdentifierPolicy,
    pub social: IdentifierPolicy,
    pub account: IdentifierPolicy,
    pub device: IdentifierPolicy,
}

impl Default for IdentifierPolicies {
    fn default() -> Self {
        IdentifierPolicies {
            member_id: IdentifierPolicy {
                max_companions: Some(3),
                shared_when_names_differ: true,
                ..IdentifierPolicy::immutable(1)
            },
            phone: IdentifierPolicy::mutable(730, 4),
            email: IdentifierPolicy::mutable(1825, 6),
            social: IdentifierPolicy::immutable(0),
            account: IdentifierPolicy::immutable(1),
            device: IdentifierPolicy {
                shared_when_over_limits: true,
                ..IdentifierPolicy::mutable(180, 0)
            },
        }
    }
}

impl IdentifierPolicies {
    pub fn get(&self, kind: IdentifierKind) -> &IdentifierPolicy {
        match kind {
            IdentifierKind::MemberId => &self.member_id,
            IdentifierKind::Phone => &self.phone,
            IdentifierKind::Email => &self.email,
            IdentifierKind::Social => &self.social,
            IdentifierKind::Account => &self.account,
            IdentifierKind::Device => &self.device,
        }
    }

    pub fn get_mut(&mut self, kind: IdentifierKind) -> &mut IdentifierPolicy {
        match kind {
            IdentifierKind::MemberId => &mut self.member_id,
            IdentifierKind::Phone => &mut self.phone,
            IdentifierKind::Email => &mut self.email,
            IdentifierKind::Social => &mut self.social,
            IdentifierKind::Account => &mut self.account,
            IdentifierKind::Device => &mut self.device,
        }
    }
}

/// What a match rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Link the records (subject to the same guards as a mutable identifier).
    Merge,
    /// Do not link; report the pair as a suggestion for review.
    Suggest,
}

/// An attribute a match rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleField {
    /// The full name (or given and family name), case- and space-folded.
    FullName,
    FamilyName,
    /// The given name, folded like names (only records that state it apart
    /// from the family name have one).
    GivenName,
    Birthday,
    PostalCode,
    /// The Soundex code of each token of the full name (`hewson` and
    /// `hewsen` are both `H250`): one block per token, so a typo in any
    /// token, or the name typed in swapped fields, stays in a block with
    /// the other tokens' codes. A blocking key only: for scored rules
    /// (`min_score`).
    NameSound,
}

impl RuleField {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleField::FullName => "full_name",
            RuleField::FamilyName => "family_name",
            RuleField::GivenName => "given_name",
            RuleField::Birthday => "birthday",
            RuleField::PostalCode => "postal_code",
            RuleField::NameSound => "name_sound",
        }
    }
}

/// A match rule beyond exact identifiers: records whose `fields` are all
/// present and equal match; with `name_similarity`, the full name is not
/// required to be equal but to have a Jaro-Winkler similarity of at least
/// that much (the other fields still match exactly); with `min_score`,
/// `fields` only block (say which records are compared) and a pair matches
/// when its attribute comparison score reaches `min_score` (see
/// `kindred_resolver`'s `score` module for the weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRule {
    /// Stable name, recorded as evidence on every merge the rule makes.
    pub name: String,
    /// Bump when the rule's meaning changes; recorded with the name.
    pub version: i32,
    pub action: RuleAction,
    /// Attributes compared exactly (at least one).
    pub fields: Vec<RuleField>,
    /// Jaro-Winkler threshold in (0, 1] for a fuzzy full-name comparison.
    #[serde(default)]
    pub name_similarity: Option<f64>,
    /// Fellegi-Sunter style threshold: the sum of per-attribute agreement
    /// and disagreement weights (name, birthday, postal code, city, street,
    /// gender) a pair of records in the block must reach. Names must not
    /// clearly differ (`min_name_similarity`) whatever the score.
    #[serde(default)]
    pub min_score: Option<f64>,
}

/// Guards against identifiers shared by many people (a store's counter
/// phone, a cashier's default card, `test@test.com`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuarantinePolicy {
    /// An identifier seen together with more than this many distinct
    /// identifiers of one other kind (say, a phone on records carrying 5
    /// different member cards) is quarantined: it stops linking anything,
    /// and the profiles it glued are recomputed without it. Device ids are
    /// not counted. One person's phone sits with one or two cards, a few
    /// emails, and per social platform an openid, a unionid and a
    /// mini-program id; a counter phone with hundreds. 0 disables the guard.
    /// Default 4 (on the default generator profile, 2 starts to cost recall;
    /// 8 lets small junk values glue up to 8 people: BENCHMARKS.md).
    pub max_companions: u32,
    /// An identifier seen on records carrying more than this many distinct
    /// names (folded: case, spacing, script and word order do not count) is
    /// quarantined too: a cashier's default member number, a store's card
    /// used for walk-in customers. One person's records carry one name and
    /// its typos; a household two or three. 0 disables. Default 4.
    pub max_names: u32,
    /// A household's line (a fixed-line phone, which links only records
    /// that carry alike names) typed on unnamed records of more than this
    /// many customers is quarantined too: a store's landline on walk-in
    /// receipts, where each receipt stays a profile of its own and the
    /// line's index entry would grow with every sale. Each unnamed record
    /// counts by its most lasting identifier that links unnamed records (a
    /// member card before an account, an e-mail, a mobile, a social id, a
    /// device), so a member's receipts with their card count once however
    /// many there are; a record with none, or whose such identifier is
    /// quarantined (a house card on every walk-in receipt) or is a card its
    /// records show shared (`shared_when_names_differ`: two clearly
    /// different names on it), counts alone.
    /// The count depends only on which records carry the line, never on
    /// the order they came in (a count of the profiles holding it would:
    /// they merge and split). A household's line is on a few members' cards and
    /// devices. 0 disables. Default 32. Named `max_holders` before (still
    /// read).
    #[serde(alias = "max_holders")]
    pub max_unnamed_holders: u32,
}

impl Default for QuarantinePolicy {
    fn default() -> Self {
        QuarantinePolicy {
            max_companions: 4,
            max_names: 4,
            max_unnamed_holders: 32,
        }
    }
}

/// Stops a profile from growing into a "blob" through linking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GiantGuard {
    /// A link that would give one profile more than this many distinct
    /// identifiers (devices not counted) is refused, reported as a
    /// suggestion and counted in `kindred_merges_refused_total{reason=
    /// "giant_profile"}` (alert on its rate). A profile absorbed through an
    /// identifier brings at least one, so this also bounds those; records
    /// joined by match rules alone (name, birthday, address, no
    /// identifier) are not counted: the rules' scores and name guards hold
    /// those. 0 disables the guard. Default 40.
    pub max_identifiers: u32,
}

impl Default for GiantGuard {
    fn default() -> Self {
        GiantGuard {
            max_identifiers: 40,
        }
    }
}

/// The whole linking policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkPolicy {
    pub identifiers: IdentifierPolicies,
    pub quarantine: QuarantinePolicy,
    pub giant: GiantGuard,
    /// A link through a mutable identifier (or a merge rule) between records
    /// whose names both exist and are less similar than this is refused: a
    /// household's shared phone, a recycled number. Names are folded (case,
    /// script, word order); for an identifier link every name token must
    /// find its own alike token in the other name (Jaro-Winkler per token,
    /// so `Jessica Hartfield` and `Megan Hartfield` differ), for a rule
    /// link Jaro-Winkler over the whole name. 0 disables the guard (not
    /// the birthday guard, which refuses such a link between birthdays no
    /// typo apart whatever the names). Default 0.8.
    pub min_name_similarity: f64,
    /// A fixed-line phone number (a landline, by libphonenumber's metadata;
    /// where the numbering plan cannot tell, as in North America, a number
    /// counts as mobile) belongs to a household or an office, not to one
    /// person: it links two records only when both carry a name and the
    /// names are alike (`min_name_similarity`, or 0.8 when that guard is
    /// off). A receipt with a landline and no name is not attributed to
    /// anyone through it. `false` links landlines like mobiles. Default true.
    pub fixed_lines_need_names: bool,
    /// Match rules beyond exact identifiers. Default: `name_birthday_postcode`
    /// (v1, merge: equal full name, birthday and postal code),
    /// `similar_name_birthday_postcode` (v1, suggest: Jaro-Winkler >= 0.9
    /// with equal birthday and postal code), and six scored rules (v1,
    /// merge): `scored_birthday_postcode`, `scored_birthday_family_name`,
    /// `scored_birthday_given_name`, `scored_name_birthday` and
    /// `scored_birthday_name_sound` ([`DEFAULT_MIN_SCORE`]), `scored_name_postcode`
    /// ([`NO_BIRTHDAY_BLOCK_MIN_SCORE`]).
    pub rules: Vec<MatchRule>,
}

/// The default `min_score` of the scored rules: a similar name (+3) with
/// the same birthday (+10) and postal code (+6) passes; the same name and
/// birthday in another postal code and city (6 + 10 - 2 - 1) does not (two
/// namesakes born the same day are common in a large country).
pub const DEFAULT_MIN_SCORE: f64 = 14.0;

/// The `min_score` of the default scored rule whose block is not a
/// birthday (`scored_name_postcode`), which finds the pairs with a typo in
/// the birthday or only one birthday: the name, postal code, street (house
/// numbers too) and city agreeing (6 + 6 + 5 + 2) pass, or a birthday one
/// typo apart with the name and postal code (6 + 3 + 6, and the city or
/// street); namesakes of one postal code with no birthday (6 + 6 + 2,
/// common names), or in one street at other doors, do not.
pub const NO_BIRTHDAY_BLOCK_MIN_SCORE: f64 = 18.0;

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            identifiers: IdentifierPolicies::default(),
            quarantine: QuarantinePolicy::default(),
            giant: GiantGuard::default(),
            min_name_similarity: 0.8,
            fixed_lines_need_names: true,
            rules: vec![
                MatchRule {
                    name: "name_birthday_postcode".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![
                        RuleField::FullName,
                        RuleField::Birthday,
                        RuleField::PostalCode,
                    ],
                    name_similarity: None,
                    min_score: None,
                },
                MatchRule {
                    name: "similar_name_birthday_postcode".into(),
                    version: 1,
                    action: RuleAction::Suggest,
                    fields: vec![RuleField::Birthday, RuleField::PostalCode],
                    name_similarity: Some(0.9),
                    min_score: None,
                },
                // Typo-tolerant matching on everything a record says about
                // the person, in two blocks small at any scale (a birthday
                // and a postal code or family name); either block alone
                // misses pairs with a typo in one of its fields.
                MatchRule {
                    name: "scored_birthday_postcode".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::Birthday, RuleField::PostalCode],
                    name_similarity: None,
                    min_score: Some(DEFAULT_MIN_SCORE),
                },
                MatchRule {
                    name: "scored_birthday_family_name".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::Birthday, RuleField::FamilyName],
                    name_similarity: None,
                    min_score: Some(DEFAULT_MIN_SCORE),
                },
                // A typo in both the family name and the postal code
                // hides a pair from both blocks above; the given name with
                // the birthday is as small a block.
                MatchRule {
                    name: "scored_birthday_given_name".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::Birthday, RuleField::GivenName],
                    name_similarity: None,
                    min_score: Some(DEFAULT_MIN_SCORE),
                },
                // A name typed family name first in the given-name field
                // (`wanders harry` / `harry wanders`) leaves both name
                // blocks above, and a typo in the postal code the first:
                // the whole folded name (its tokens sorted) with the
                // birthday holds it, and is smaller than either.
                MatchRule {
                    name: "scored_name_birthday".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::FullName, RuleField::Birthday],
                    name_similarity: None,
                    min_score: Some(DEFAULT_MIN_SCORE),
                },
                // A typo in a name token and another in the postal code
                // (or the name typed in swapped fields and a token
                // mistyped) leave every block above: one block per name
                // token's Soundex code with the birthday holds them, and
                // stays small (a birthday and a sound).
                MatchRule {
                    name: "scored_birthday_name_sound".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::Birthday, RuleField::NameSound],
                    name_similarity: None,
                    min_score: Some(DEFAULT_MIN_SCORE),
                },
                // Pairs with a typo in the birthday, or one birthday
                // missing, fall outside both blocks above: a third block
                // without the birthday, held to a higher score. It blocks
                // on the whole (folded) name, since the score needs the
                // names nearly equal anyway: a family name and a postal
                // code make a block of thousands in a large city, and every
                // event in a block re-partitions the profiles holding it.
                MatchRule {
                    name: "scored_name_postcode".into(),
                    version: 1,
                    action: RuleAction::Merge,
                    fields: vec![RuleField::FullName, RuleField::PostalCode],
                    name_similarity: None,
                    min_score: Some(NO_BIRTHDAY_BLOCK_MIN_SCORE),
                },
            ],
        }
    }
}

impl LinkPolicy {
    /// The quarantine's companion limit for identifiers of `kind`: the
    /// kind's own `max_companions`, else `quarantine.max_companions`.
    pub fn max_companions_of(&self, kind: IdentifierKind) -> u32 {
        let own = self.identifiers.get(kind).max_companions;
        own.unwrap_or(self.quarantine.max_companions)
    }

    /// The quarantine's distinct-name limit for identifiers of `kind`: the
    /// kind's own `max_names`, else `quarantine.max_names`.
    pub fn max_names_of(&self, kind: IdentifierKind) -> u32 {
        let own = self.identifiers.get(kind).max_names;
        own.unwrap_or(self.quarantine.max_names)
    }

    /// What is valid but likely a mistake, one message per rule: a rule
    /// whose block has neither a birthday nor the full name (say, family
    /// name + postal code) makes blocks that grow with the customer base,
    /// thousands of people in a large city, and every event in a block
    /// re-partitions the profiles holding it. And a list of rules that
    /// leaves default rules out: a file's `[[resolver.linking.rules]]`
    /// replaces the default list rather than adding to it, so a file that
    /// lists one optional rule drops every default merge rule.
    pub fn warnings(&self) -> Vec<String> {
        let dropped: Vec<String> = LinkPolicy::default()
            .rules
            .into_iter()
            .filter(|d| !self.rules.iter().any(|r| r.name == d.name))
            .map(|d| d.name)
            .collect();
        let replaced = (!dropped.is_empty()).then(|| {
            format!(
                "resolver.linking.rules lists {} rules and replaces the default list, which it \
                 does not add to: the default rules {} are not in it (copy them from \
                 deploy/kindred.toml to keep them)",
                self.rules.len(),
                dropped.join(", ")
            )
        });
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !r.fields
                    .iter()
                    .any(|f| matches!(f, RuleField::Birthday | RuleField::FullName))
            })
            .map(|(i, r)| {
                format!(
                    "resolver.linking.rules[{i}] ({:?}) blocks on neither birthday nor full_name: \
                     its blocks grow with the customer base, and every event in a block \
                     re-evaluates the profiles holding it",
                    r.name
                )
            })
            .chain(replaced)
            .collect()
    }

    /// Checks thresholds and rules; the message names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.min_name_similarity) {
            return Err(format!(
                "resolver.linking.min_name_similarity must be between 0 and 1, not {}",
                self.min_name_similarity
            ));
        }
        for kind in IdentifierKind::ALL {
            let p = self.identifiers.get(kind);
            if p.mutable && p.shared_when_names_differ {
                return Err(format!(
                    "resolver.linking.identifiers.{}.shared_when_names_differ applies to immutable kinds only (mutable ones link only alike names anyway)",
                    kind.as_str()
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("resolver.linking.rules[{i}] ({:?})", rule.name);
            if rule.name.is_empty() || !names.insert(rule.name.as_str()) {
                return Err(format!("{at}: rule names must be non-empty and unique"));
            }
            if rule.fields.is_empty() {
                return Err(format!("{at}: fields must name at least one attribute"));
            }
            let distinct: std::collections::BTreeSet<_> = rule.fields.iter().collect();
            if distinct.len() != rule.fields.len() {
                return Err(format!("{at}: fields must not name an attribute twice"));
            }
            if let Some(t) = rule.name_similarity {
                if !(t > 0.0 && t <= 1.0) {
                    return Err(format!("{at}: name_similarity must be in (0, 1], not {t}"));
                }
                if rule.fields.contains(&RuleField::FullName) {
                    return Err(format!(
                        "{at}: with name_similarity, full_name is compared fuzzily and must not be in fields"
                    ));
                }
            }
            if rule.fields.contains(&RuleField::NameSound) && rule.min_score.is_none() {
                return Err(format!(
                    "{at}: name_sound only blocks (names that sound alike are not one person): give the rule a min_score"
                ));
            }
            if let Some(m) = rule.min_score {
                if !m.is_finite() || m <= 0.0 {
                    return Err(format!(
                        "{at}: min_score must be a positive number, not {m}"
                    ));
                }
                if rule.name_similarity.is_some() {
                    return Err(format!(
                        "{at}: min_score and name_similarity exclude each other (a scored rule compares names itself)"
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_with_a_block_that_grows_with_the_customer_base_is_warned_about() {
        let mut p = LinkPolicy::default();
        p.rules[2].fields = vec![RuleField::FamilyName, RuleField::PostalCode];
        let warnings = p.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("resolver.linking.rules[2] (\"scored_birthday_postcode\")"));
    }

    /// A file listing one optional rule silently dropped the eight default
    /// ones (the list replaces the defaults).
    #[test]
    fn a_rule_list_that_drops_default_rules_is_warned_about() {
        let mut p = LinkPolicy::default();
        let kept = p.rules.remove(0);
        p.rules = vec![p.rules[1].clone()];
        let warnings = p.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("lists 1 rules"), "{warnings:?}");
        assert!(warnings[0].contains(&kept.name), "{warnings:?}");
        assert!(!warnings[0].contains(&p.rules[0].name), "{warnings:?}");
    }

    #[test]
    fn the_unnamed_holder_limit_is_still_read_under_its_old_name() {
        let read =
            |text: &str| toml::from_str::<QuarantinePolicy>(text).map(|q| q.max_unnamed_holders);
        assert_eq!(read("max_holders = 5"), Ok(5));
        assert_eq!(read("max_unnamed_holders = 7"), Ok(7));
        assert_eq!(read(""), Ok(32));
        assert!(
            read("max_holder = 5").is_err(),
            "a misspelt key is an error"
        );
    }

    #[test]
    fn defaults_are_valid_and_mutable_kinds_have_windows() {
        let p = LinkPolicy::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.warnings(), Vec::<String>::new());
        assert_eq!(
            p.identifiers.get(IdentifierKind::Phone).window_ms(),
            Some(730 * 86_400_000)
        );
        assert_eq!(
            p.identifiers.get(IdentifierKind::MemberId).window_ms(),
            None
        );
    }

    #[test]
    fn a_kind_s_own_quarantine_limits_override_the_global_ones() {
        let mut p = LinkPolicy::default();
        assert_eq!(p.max_companions_of(IdentifierKind::MemberId), 3);
        assert_eq!(p.max_companions_of(IdentifierKind::Phone), 4);
        assert_eq!(p.max_names_of(IdentifierKind::MemberId), 4);
        p.quarantine.max_names = 7;
        p.identifiers.email.max_names = Some(2);
        assert_eq!(p.max_names_of(IdentifierKind::MemberId), 7);
        assert_eq!(p.max_names_of(IdentifierKind::Email), 2);
    }

    #[test]
    fn shared_identifier_flags_read_from_toml() {
        let p = LinkPolicy::default();
        assert!(p.identifiers.device.shared_when_over_limits);
        assert!(!p.identifiers.phone.shared_when_over_limits);
        let device: IdentifierPolicy =
            toml::from_str("mutable = true\nshared_when_over_limits = false").expect("parses");
        assert!(!device.shared_when_over_limits);
        let err = toml::from_str::<IdentifierPolicy>("shared_when_names_diffex = true")
            .expect_err("unknown key");
        assert!(
            err.to_string().contains("shared_when_names_diffex"),
            "{err}"
        );
    }

    #[test]
    fn shared_when_names_differ_is_refused_on_mutable_kinds() {
        let mut p = LinkPolicy::default();
        assert!(p.identifiers.member_id.shared_when_names_differ);
        p.identifiers.phone.shared_when_names_differ = true;
        let err = p.validate().expect_err("invalid");
        assert!(
            err.contains("identifiers.phone.shared_when_names_differ"),
            "{err}"
        );
    }

    #[test]
    fn validate_names_the_bad_rule() {
        let mut p = LinkPolicy::default();
        p.rules[1].fields.push(RuleField::FullName);
        let err = p.validate().expect_err("invalid");
        assert!(err.contains("rules[1]"), "{err}");
        p.rules[1].fields.clear();
        assert!(p.validate().is_err());

        // A sound block only blocks, once per rule.
        let mut p = LinkPolicy::default();
        p.rules[0].fields.push(RuleField::NameSound);
        let err = p.validate().expect_err("name_sound in an exact rule");
        assert!(
            err.contains("rules[0]") && err.contains("min_score"),
            "{err}"
        );
        let mut p = LinkPolicy::default();
        p.rules[2].fields = vec![RuleField::NameSound, RuleField::NameSound];
        let err = p.validate().expect_err("a field twice");
        assert!(err.contains("rules[2]") && err.contains("twice"), "{err}");
    }
}
