use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kindred_model::{AttributeVotes, CanonicalEvent, GoldenRecord, Identifier, IdentifierKind};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch,
    DB,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use kindred_crypto::Keyring;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::protect::{context, is_sealed, KeyHasher, Protection, PROTECTION, SEALED_FAMILIES};

/// Column families, one per access path.
pub(crate) mod cf {
    /// link key (`kind:match-key`, or a match rule's block key) -> [`IndexEntry`](crate::store::IndexEntry):
    /// the profiles holding it, its companions, whether it is quarantined.
    pub const IDENTIFIERS: &str = "identifiers";
    /// profile id -> [`StoredProfile`](crate::store::StoredProfile): golden record, votes, flags.
    pub const PROFILES: &str = "profiles";
    /// profile id -> the source event ids that make up the person,
    /// length-prefixed and concatenated; a new event is appended with a merge
    /// operand, so a loyal customer's next receipt does not rewrite the list.
    /// Event ids are not personal data (they are keys of `contributions`).
    pub const MEMBERS: &str = "members";
    /// profile id -> the distinct folded-name digests of its events (keyed
    /// like the index's), sorted, at most four kept (`MAX_PROFILE_NAMES`):
    /// whether the person goes by few names lets an event with one of them
    /// join without a recomputation. Absent (a store from before it):
    /// unknown.
    pub const NAMES: &str = "names";
    /// source event id -> the canonical event as applied: what each source
    /// said, so any profile can be recomputed; also the de-duplication set.
    pub const CONTRIBUTIONS: &str = "contributions";
    /// absorbed profile id -> survivor profile id.
    pub const REDIRECTS: &str = "redirects";
    /// `profile id \0 sequence` -> [`LineageRecord`](crate::store::LineageRecord): merges and
    /// splits, under the survivor's id; a split's record also under each part's.
    pub const LINEAGE: &str = "lineage";
    /// `survivor id \0 absorbed id` -> [`AbsorbedProfile`](crate::store::AbsorbedProfile):
    /// the events an absorbed id stood for, so that a split which divides
    /// them again gives the id back to them (and moves its redirect with
    /// them) instead of leaving it pointing at the other person. Keyed by
    /// the id it redirects to now; absent for merges by releases before it.
    pub const ABSORBED: &str = "absorbed";
    /// counters, the watermark and the source offsets the state reflects.
    pub const META: &str = "meta";
    /// source event id -> decisions pinned on it ([`Constraint`](crate::Constraint)s).
    pub const CONSTRAINTS: &str = "constraints";
    /// decision id (u64 big-endian) -> [`DecisionRecord`](crate::DecisionRecord): the audit trail.
    pub const DECISIONS: &str = "decisions";
    /// `profile a \0 profile b` -> [`PendingSuggestion`](crate::store::PendingSuggestion): the review queue.
    pub const SUGGESTIONS: &str = "suggestions";
    /// sequence (u64 big-endian) -> [`OutboxEntry`](crate::OutboxEntry) not
    /// yet published: written with the state that produced it; the resolver
    /// service publishes it in a Kafka transaction, then deletes it.
    pub const OUTBOX: &str = "outbox";
    /// index key of an erased person's identifier -> the audit sequence of
    /// the erasure: events carrying it are dropped.
    pub const SUPPRESSED: &str = "suppressed";
    /// audit sequence (u64 big-endian) -> [`AuditRecord`](crate::AuditRecord)
    /// of an erasure request.
    pub const AUDIT: &str = "audit";
    pub const ALL: [&str; 15] = [
        IDENTIFIERS,
        PROFILES,
        MEMBERS,
        NAMES,
        CONTRIBUTIONS,
        REDIRECTS,
        LINEAGE,
        ABSORBED,
        META,
        CONSTRAINTS,
        DECISIONS,
        SUGGESTIONS,
        OUTBOX,
        SUPPRESSED,
        AUDIT,
    ];
}

/// The profiles holding one link key, and what the quarantine guard knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Sorted by profile id. More than one: the key is contested (a guard
    /// kept its holders apart). Empty when quarantined.
    pub holders: Vec<Holder>,
    /// Distinct companion identifiers seen with this key, as (kind, hash),
    /// at most `max_companions + 1` per kind.
    pub companions: Vec<(IdentifierKind, u64)>,
    /// Distinct folded names seen with this key, as hashes, at most
    /// `max_names + 1`.
    pub names: Vec<u64>,
    /// Over-shared: links nothing.
    pub quarantined: bool,
    /// For a household's line: the customers of the unnamed records
    /// carrying it, one per record (`EventKeys::counted_anchor`: its most
    /// lasting identifier that links it, or the record itself when it has
    /// none or that one is quarantined or marked `names_differ`), sorted, at
    /// most `max_unnamed_holders + 1`. After the fields above, so that an
    /// entry written before it existed (linking version 26 and earlier)
    /// still reads, with none ([`from_postcard`]).
    #[serde(default)]
    pub anchors: Vec<u64>,
    /// For a kind `shared_when_names_differ` (a member card): its records
    /// name two clearly different people (a lent card, a store's house
    /// card), so it links only alike names and, like a quarantined key,
    /// anchors no unnamed record on a household's line (each counts alone).
    /// Set when an event shows it (kept while the holder limit is on); it
    /// only grows with the set of events, as the counts do. Last, so that
    /// an entry written before it (linking version 28 and earlier) reads
    /// with `false` ([`from_postcard`]).
    #[serde(default)]
    pub names_differ: bool,
}

impl IndexEntry {
    /// What the over-shared guard holds for the key as far as it depends
    /// only on the set of events carrying it, not on their order: a
    /// quarantined key's flag alone (its counts stop at the cap with
    /// whichever came first), a linking key's counts. What a fresh run, a
    /// replay in another order and `rules apply` must agree on.
    pub fn guard_state(&self) -> GuardState {
        if self.quarantined {
            return GuardState {
                quarantined: true,
                ..GuardState::default()
            };
        }
        GuardState {
            quarantined: false,
            companions: self.companions.clone(),
            names: self.names.clone(),
            anchors: self.anchors.clone(),
            names_differ: self.names_differ,
        }
    }
}

/// [`IndexEntry::guard_state`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardState {
    pub quarantined: bool,
    pub companions: Vec<(IdentifierKind, u64)>,
    pub names: Vec<u64>,
    pub anchors: Vec<u64>,
    pub names_differ: bool,
}

/// A profile holding a key, and when its events carrying the key happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub profile_id: String,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// A profile as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProfile {
    pub record: GoldenRecord,
    /// Every candidate value of each attribute, for survivorship.
    pub votes: AttributeVotes,
    /// The source events that make up this person, by event id. Kept in
    /// the `members` family: read through [`Store::stored_profile`] (or a
    /// resolver batch) it is the whole list; the profile value itself holds
    /// it only in stores written before that family existed, and the next
    /// write of the profile moves it there.
    pub members: Vec<String>,
    /// Some link key of this profile is also held by another profile (a
    /// guard kept them apart): changes to it are recomputed together, but
    /// for an event that brings nothing a guard weighs.
    pub contested: bool,
    /// A mutable identifier or a rule joined some of its events (a guard
    /// could change its mind when new names arrive): events bringing a name
    /// other than the one every event states are recomputed rather than
    /// folded in.
    pub weak_joined: bool,
    /// Some member event carries a decision (review, split): recomputations
    /// read the `constraints` family.
    pub constrained: bool,
}

/// The decisions a store has pinned on events ([`Store::decisions_pinned`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedDecisions {
    pub events: Vec<(String, Vec<crate::Constraint>)>,
    pub next_decision: u64,
}

/// A pair of profiles waiting for a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSuggestion {
    pub profile_a: String,
    pub profile_b: String,
    pub rule: String,
    pub rule_version: i32,
    /// Evidence kinds (never values).
    pub kinds: Vec<String>,
    /// Which guard refused the link (`member_cards`, `limit_phone`,
    /// `name_mismatch`, `birthday_mismatch`, `giant_profile`, `suggest_rule`).
    pub reason: String,
    /// Event time of the event that raised it.
    pub at_ms: i64,
    /// The store's lineage sequence when the pair was queued or last shown
    /// again: the number the next merge or split would be written under.
    /// A decision on the pair is refused when either profile's lineage
    /// holds a merge or split numbered from here on (it is not the profile
    /// the review topic showed); the pair is then shown again. `None` in
    /// pairs queued by a release before the fifty-fifth session's (no check); set when a
    /// view writes the pair ([`crate::resolver::BatchView`]).
    #[serde(default)]
    pub since_lineage: Option<u64>,
}

/// What happened to a profile's identity, for explanations and audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageRecord {
    /// Event time of the event that caused it.
    pub at_ms: i64,
    pub cause_event_id: String,
    pub survivor: String,
    /// Profiles absorbed into the survivor.
    pub absorbed: Vec<String>,
    /// Profiles split off the survivor.
    pub split_into: Vec<String>,
    /// The rules that joined the records, with the evidence kinds.
    pub links: Vec<(String, i32, Vec<String>)>,
    /// The decision (review, split, rules apply) that caused it, and who made it.
    pub decision: Option<(u64, String)>,
}

/// A profile id absorbed into another: what it stood for when it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsorbedProfile {
    /// The version of the last change published under the id (its
    /// `superseded` change): a split that gives the id back continues from it.
    pub version: i64,
    /// The source event ids of the profile when it was absorbed (its
    /// first 64 by event time; the survivor's change moved the others to
    /// it), sorted by id.
    pub members: Vec<String>,
}

/// The `absorbed` family's key of `absorbed`, redirecting to `survivor`.
pub(crate) fn absorbed_key(survivor: &str, absorbed: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(survivor.len() + 1 + absorbed.len());
    key.extend_from_slice(survivor.as_bytes());
    key.push(0);
    key.extend_from_slice(absorbed.as_bytes());
    key
}

pub(crate) const NEXT_PROFILE_SEQ: &[u8] = b"next_profile_seq";
pub(crate) const NEXT_LINEAGE_SEQ: &[u8] = b"next_lineage_seq";
/// `meta` keys `refused_request/<digest of the request id>`: decision
/// requests refused because their pair had changed since it was flagged;
/// a repeat of one (a retry, a duplicate) is refused too, whatever became
/// of the pair. A keyed digest: request ids are free text.
pub(crate) const REFUSED_REQUEST_PREFIX: &str = "refused_request/";
pub(crate) const WATERMARK: &[u8] = b"watermark_ms";
pub(crate) const NEXT_DECISION_SEQ: &[u8] = b"next_decision_seq";
pub(crate) const NEXT_OUTBOX_SEQ: &[u8] = b"next_outbox_seq";
/// This store's identity: made when the store is created, made anew by
/// [`Store::restore`]. The publisher's progress record names it, so a store
/// restored from an older snapshot is never mistaken for the one whose
/// outbox was published.
pub(crate) const STORE_ID: &[u8] = b"store_id";
/// The link policy last applied by `rules apply`.
pub(crate) const LINK_POLICY: &[u8] = b"link_policy";
/// The link policy and the survivorship rules the resolve service last
/// started with (JSON each): operator commands compare theirs with these.
pub(crate) const RUNNING_POLICY: &[u8] = b"running_policy";
/// Every distinct link policy the resolve service has started with or
/// `rules apply` replaced (JSON, oldest first, at most
/// [`MAX_POLICY_HISTORY`]): an erasure derives the person's index keys
/// under each, since entries a former policy made (a rule's earlier
/// version, a kind that no longer links) stay in the index.
pub(crate) const POLICY_HISTORY: &[u8] = b"policy_history";
/// How many link policies [`POLICY_HISTORY`] keeps.
pub(crate) const MAX_POLICY_HISTORY: usize = 16;
pub(crate) const RUNNING_SURVIVORSHIP: &[u8] = b"running_survivorship";
/// The survivorship rules the store's records were all settled by (JSON):
/// set when the resolve service first runs on a store, and by `republish`,
/// which settles every record again; a service started with other rules
/// warns until then.
pub(crate) const SETTLED_SURVIVORSHIP: &[u8] = b"settled_survivorship";
/// The partitioner the outbox publisher placed keyed records with (its
/// librdkafka name): a compacted topic must keep each key on one partition.
pub(crate) const OUTPUT_PARTITIONER: &[u8] = b"output_partitioner";
/// The publisher's progress record a restore or a rebuild read before it
/// read the profile topic back (`store_id:seq`, empty: none).
const PROGRESS_SEEN: &[u8] = b"publisher_progress_seen";
/// The identity ([`STORE_ID`]) under which the store's outbox was last
/// published: a store that published and finds another store's progress
/// was replaced, or fenced by a second resolver, and must not fence back.
const PUBLISHED_AS: &[u8] = b"published_as";
/// Set while `kindred rebuild` fills the store; a store that still has it
/// is a rebuild that did not finish.
pub(crate) const REBUILDING: &[u8] = b"rebuilding";
const OFFSET_PREFIX: &[u8] = b"offset\x00";
/// Which name folding (`names::fold_name`) the store's name digests come
/// from: index entries keep digests of folded names for the quarantine's
/// distinct-name count, so a store written by an older folding may count a
/// name twice (old and new form) until it is rebuilt. Absent: before
/// 2026-12-01's folding of hanzi names as romanized (version 2). Version 3
/// (2026-12-02): Latin letters without accents, apostrophes joining.
/// Version 4 (2026-12-03): `ü` as `v` (`吕` is `lv`, as `Lyu`), family
/// names by their surname reading (`曾` zeng), traditional compound
/// surnames. Version 5 (2026-12-04): the Hundred Family Surnames' 62
/// compound family names (`左丘`, `第五`), and surname readings checked
/// against the `pinyin` npm package's (`卜` bu, `澹台` tantai). Version 6
/// (2026-12-04): katakana as hiragana (`ヤマダ` is `やまだ`). Version 7
/// (2026-12-04): of version 5's new compounds, the 12 whose first
/// character is a family name of its own are one-character family names
/// again (`梁丘明` is Liang Qiuming), and `乐`, `能` keep their first
/// readings (le, neng; both readings are in use). Version 8 (2026-12-05):
/// Cyrillic and Greek letters transliterated (`deunicode`: `Иван` is
/// `ivan`), and a given name typed alone in hanzi is one given name (`泽斌`
/// is `ze'bin`, not the family name `ze` and the given name `bin`); a
/// one-character hanzi given name carries its mark too (`wang wei'`),
/// which digests do not see but a profile's kept names (`ProfileNames`)
/// do: an older store keeps both forms of such a name until rebuilt.
/// Version 9 (2026-12-05): a Japanese family name of two or three
/// characters (`kindred_normalize::family_name_len`) is one token, its
/// reading in passport Hepburn (`佐藤陽翔` is `sato yang'xiang`, `齋藤` and
/// `斉藤` are both `saito`), and an iteration mark repeats the character
/// before it (`佐々木` is `sasaki`). Version 10: a Korean full name in
/// hangul is its family name and its given name (`김민준` is `김 민준`).
/// Version 11: family names in traditional characters and modern ones
/// (`kindred_normalize::MODERN_CHINESE_SURNAMES`: `肖`, `覃`) are Chinese,
/// so such a name is no longer read as a Japanese family name by sound
/// (`肖林峰` was `kobayashi`), and a whole name in the given-name field
/// folds as the whole name (`陳美玲`). Version 12: a Korean family name as
/// South Korea spells it (`리지은` is `이 지은`, the initial-sound law).
/// Version 13: a given name of three characters typed alone is a whole
/// name only if its first is a Chinese family name in simplified
/// characters (`龍之介`, `陽太郎` stay Japanese given names). Version 14:
/// the test is a list of Japanese given names instead
/// (`kindred_normalize::is_japanese_given_name`): `麻里子` stays a given
/// name, `陳美玲` is a whole name again. Version 15: a hangul name of
/// three syllables starts with a compound family name only for `남궁`,
/// `제갈`, `독고`, `사공` (`황보라` is `황 보라`). Version 16: `ё` is `е`
/// before Cyrillic is transliterated (`Фёдор` was `fiodor`, `Федор`
/// `fedor`); Arabic's alef with hamza or madda is the bare alef, a final
/// `ى` is `ي` and `ة` is `ه`, Persian `ی` and `ک` are Arabic's letters, and
/// Arabic and Hebrew vowel marks and the tatweel fold away. Version 17:
/// the dot Unicode's lower case leaves of Turkish `İ` (`emi̇ne`) is no
/// break between words (`emi ne` was another name than `emine`). Version
/// 18: nor is any combining mark that is not alphanumeric (a Devanagari
/// virama, a Thai tone mark), and Hebrew's geresh is an apostrophe.
pub(crate) const NAME_FOLDING: &[u8] = b"name_folding";
const NAME_FOLDING_VERSION: &[u8] = b"18";
/// Which release's linking code (scores and name guards, not the configured
/// policy) partitioned the store's profiles: a release that links the same
/// events otherwise leaves older merges and splits in place until `kindred
/// rules apply` re-evaluates them. Absent: before 2026-12-02's twin guard,
/// married names and typo'd family names (version 2). Version 3: a
/// decision's records chain past the ones another decision keeps apart (a
/// source split no longer breaks the rest of the profile apart, and a
/// separation keeps the approvals it crosses). Version 4: member cards
/// link without separators and leading zeros (`8800-0012` is `88000012`,
/// `00123456` is `123456`), and names compare without accents (`José` is
/// `Jose`, `O'Brien` is `OBrien`). Version 5: two neighbouring digits of a
/// postal code swapped are one typo, and a street typed in one record's
/// second line counts as its street. Version 6: a cluster's names stop
/// speaking for it in the name guard once it holds a full name (two
/// tokens longer than a letter, or a hanzi family and given name; a record
/// stating only `Milburn` on a family e-mail bridged twins), and an
/// unnamed event on a profile of unalike names is recomputed. Version 7:
/// a hanzi or hangul given name with one character replaced by one that
/// does not sound alike is another person's (siblings, `王伟明` /
/// `王伟强`); particles written apart or joined (`De La Cruz` /
/// `Dela Cruz`) compare as one name; name folding version 4. Version 8:
/// the limits per profile (phones, e-mails, cards per program, the giant
/// guard) do not count quarantined identifiers in a recomputation either,
/// as the incremental path never did (a store's counter phone on a
/// customer's first receipt made a recomputation refuse her fourth own
/// phone); with the name guard off, a card is judged shared one event at
/// a time as a recomputation judges it (at the household threshold).
/// Version 9: a postal code's lost leading zeros are restored in every
/// country whose codes are digits of one length (Google's address
/// metadata), not only in eight five-digit countries. Version 10: name
/// folding version 5 (more compound surnames, more surname readings): a
/// name in hanzi and the same name in pinyin compare alike for those
/// family names. Version 11: postal code lengths also for the 31
/// countries whose codes start with set digits (Puerto Rico's `00930`
/// lost its zeros as `930`). Version 12: street lines compare with their
/// words in USPS Publication 28's forms (`North Main Street` is `N Main
/// St`), and lines with other directionals (`N Main St`, `S Main St`) are
/// other streets. Version 13: name folding version 6 (a name typed in
/// katakana is the same name typed in hiragana). Version 14: name folding
/// version 7. Version 15: addresses in two stated countries are two
/// places. Version 16: where match rules weigh names, a given name and its
/// nickname (`Bob` / `Robert`, `crate::nicknames`) are alike; on a mobile
/// or an e-mail two people share, a named record whose record before is
/// not of an alike name also links with the latest earlier record of an
/// alike name, when no other earlier name makes that ambiguous (a couple's
/// interleaved records split one partner in two); name folding version 8
/// (a hanzi given name of one or two characters typed alone is one given
/// name, compared with given names only; a one-character given name is
/// marked as one, `li' wang`, which digests do not see). The score
/// grid below compares pairs, not clusters, so it cannot catch a change
/// like these: bump by hand. Version 17: name folding version 9 (a
/// Japanese family name of the list is read whole, `佐藤陽翔` is `sato
/// yang'xiang`, so the given names of a household are compared with each
/// other: `佐藤さくら` and `佐藤陽翔` no longer share a `teng` syllable).
/// Version 18: name folding version 10 (two Korean names in hangul share
/// no token, `김민준` / `이지은`: a card whose receipts name both is lent).
/// Version 19: given names in hanzi typed in their own fields are compared
/// character by character where twins are told apart (`陽翔` / `陽菜`,
/// `翔` / `翔太` are two people; their pinyin's letters rated alike).
/// Version 20: a mutable identifier does not link records whose birthdays
/// no typo explains (`cluster::birthdays_apart`: a father and son of one
/// name on a family's landline). Version 21: the birthday guard compares
/// told birthdays only (a 1 January is none), weighs a match rule's link
/// too, takes dates a day apart as one, and pairs a record with the latest
/// earlier one of its near birthday past a birthday-less record of an
/// alike name (`cluster::past_other_names`). Version 22: name folding
/// version 11 (Chinese family names in traditional characters and modern
/// ones read as Chinese), an iteration mark in a given name repeats the
/// character before it where twins are told apart (`奈々` is `奈奈`), and
/// birthdays two days apart are one (a 29 February written as 28 February
/// or 1 March). Version 23: name folding version 12 (`리` / `이`, `류` /
/// `유`: one Korean family name), and the normalizer splits a hangul
/// compound family name (`남궁민수`) and a name with a middle dot
/// (`佐藤・陽翔`) where they part. Version 24: the incremental path
/// recomputes where a recomputation could decide otherwise (given names of
/// two people in a profile a rule holds, a card shared over limits, an
/// event inside a typo-tolerant rule's long block); name folding version
/// 13; a one-character given name is swapped into the family-name field
/// only if it is a family name of the classical list (`陸`, `南` are
/// Japanese given names); the family-name block of match rules reads a
/// family name as the guards do (`리` is `이`); `황보라` is split 황 보라.
/// Version 25: name folding version 14, and a one-character given name is
/// swapped into the family-name field when it is a Chinese family name and
/// no Japanese given name of the list (`肖` / `雨涵` swaps, `陸` / `冨樫`
/// does not). Version 26: name folding version 15. Version 27: the holder
/// limit counts the customers of a household line's unnamed records
/// (`quarantine.max_unnamed_holders`, index entries' `anchors`), no longer
/// the profiles holding a key when an event arrives. Version 28: an unnamed
/// record whose most lasting identifier is quarantined counts alone on a
/// household's line (a house card no longer makes one customer of every
/// walk-in receipt). Version 29: so does one whose card its records show
/// shared, naming clearly different people (index entries'
/// `names_differ`). Version 30: a 1 January birthday (a year alone, a
/// form's default) blocks no match rule and scores as the year at most.
/// Version 31: name folding version 16 (`ё` is `е` before Cyrillic is
/// transliterated; Arabic's hamza forms, final `ى` and `ة`, Persian `ی`
/// and `ک`, and Arabic and Hebrew vowel marks fold away). Version 32: a
/// profile holds at most one WeChat union id (`keys::one_per_person`): a
/// link that would give it a second is refused and queued for review.
/// Version 33: a ZIP+4 code written without its hyphen (`941051234`,
/// `94105 1234`) or stripped of a leading zero (`2134-5678`) is its ZIP
/// (`score::zip_of_zip_plus_4`). Version 34: short name tokens one letter
/// replaced apart (`mark` / `mary`) are unalike to the name guards, as are
/// two hanzi names' family and given names by sound (`刘洋` / `杨柳`);
/// Turkish `İ` folds to `i` in the scored rules' addresses, and name
/// folding version 17; in the scored rules, a family name that is a word
/// of the other (`Schmidt` / `Müller-Schmidt`) is no married name, and a
/// given name that is a word of the other (`Michael` / `John Michael`) is
/// no other person. Version 35: the birthday guard holds with the name
/// guard off (`min_name_similarity` 0), and records on one side of a
/// reviewer's decision chain past any record of another side between them
/// (`cluster::chain`), and an unnamed record whose record before on a
/// mutable identifier was born decades apart is paired with the latest
/// earlier record of a near birthday (`cluster::past_other_names`); name
/// folding version 18. Bump it with any such
/// change: the test `scores_and_name_guards_are_what_the_linking_version_records`
/// fails when scores or name guards change on a fixed grid of record pairs.
pub(crate) const LINKING: &[u8] = b"linking";
pub const LINKING_VERSION: &str = "35";

/// Everything that can go wrong with the store. Each says which store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the resolver store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rocksdb::Error,
    },
    #[error("resolver store I/O failed: {0}")]
    Io(#[from] rocksdb::Error),
    #[error("resolver store holds a corrupt {what} under key {key:?}: {message}")]
    Corrupt {
        what: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot {what} {path}: {source}")]
    File {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot restore into {0}: the directory is not empty (move it away first)")]
    NotEmpty(PathBuf),
    #[error("redirect chain from profile {0} does not end (cycle in the redirects column family)")]
    RedirectCycle(String),
    #[error("cannot open the resolver store at {path}: {problem}")]
    Protection { path: PathBuf, problem: String },
    #[error(
        "the resolver store at {0} is open for reading only (a reader beside the running \
         resolver): this command changes it, so stop the resolver service first"
    )]
    ReadOnly(PathBuf),
    #[error("resolver store holds a sealed {what} under key {key:?} that does not open: {source}")]
    Sealed {
        what: &'static str,
        key: String,
        #[source]
        source: kindred_crypto::KeyError,
    },
}

/// A position in a source topic: the next offset to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceOffset {
    pub topic: String,
    pub partition: i32,
    /// The next offset to consume (last processed + 1).
    pub next_offset: i64,
}

/// Counts for the demo summary and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub profiles: u64,
    pub identifiers: u64,
    pub events: u64,
    pub redirects: u64,
    pub lineage: u64,
}

/// The golden-record store: RocksDB with one column family per access path.
pub struct Store {
    db: DB,
    path: PathBuf,
    write_options: rocksdb::WriteOptions,
    cache: Cache,
    /// Index keys and digests: keyed hashes in a keyed store.
    hasher: KeyHasher,
    /// Outbox entries below this sequence are already deleted (0: none
    /// known since the store was opened), so each acknowledgement deletes
    /// only its own range.
    outbox_acked_below: AtomicU64,
    /// A reader's scratch directory (RocksDB's secondary instance keeps
    /// its own log there); `None` for the store's one writer. Declared
    /// after `db`, so it is removed after the database is closed.
    reader: Option<tempfile::TempDir>,
}

/// Work on the store running on a thread of its own
/// ([`Store::count_profiles_in_background`], [`Store::flush_every`]):
/// dropped, it tells the thread to stop and waits for it, so the store is
/// closed when its last user is done with it.
#[derive(Debug)]
pub struct BackgroundTask {
    stop: Arc<AtomicBool>,
    /// Dropped to wake a thread waiting between rounds.
    wake: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundTask {
    /// Runs `work` on a thread named `name`, with the store, the flag that
    /// says stop, and a receiver that is closed once the task is dropped
    /// (to wait on between rounds).
    fn spawn(
        store: &Arc<Store>,
        name: &str,
        work: impl FnOnce(Arc<Store>, &AtomicBool, std::sync::mpsc::Receiver<()>) + Send + 'static,
    ) -> Result<BackgroundTask, StoreError> {
        let on_thread = Arc::clone(store);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(on_thread, &stopped, woken))
            .map_err(|source| StoreError::File {
                what: "start a thread to work on",
                path: store.path.clone(),
                source,
            })?;
        Ok(BackgroundTask {
            stop,
            wake: Some(wake),
            thread: Some(thread),
        })
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            // A panic in the task is its own (it reported nothing).
            let _ = thread.join();
        }
    }
}

/// What RocksDB reports about itself, for the service's gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Estimated bytes of live data, all column families.
    pub live_data_bytes: u64,
    /// Estimated bytes compaction must rewrite to bring every level under
    /// its target size; growing without bound means compaction falls behind.
    pub pending_compaction_bytes: u64,
    /// Bytes held in the shared block cache.
    pub block_cache_usage_bytes: u64,
    /// RocksDB has stopped writes (too many L0 files, memtables or pending
    /// compaction bytes): batches block until compaction catches up.
    pub write_stopped: bool,
    /// RocksDB is slowing writes down for the same reasons.
    pub write_delayed: bool,
    /// Estimated entries in the identifier index.
    pub identifiers_estimate: u64,
}

/// How the store uses memory and protects personal data.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// RocksDB block cache shared by all column families, bytes. Index and
    /// bloom-filter blocks live in it too. Default 256 MiB.
    pub cache_bytes: usize,
    /// fsync the write-ahead log on every batch, so a committed batch
    /// survives a power loss, not only a process crash. Default false
    /// (the service turns it on: its outbox must never fall behind what
    /// Kafka already has).
    pub sync_writes: bool,
    /// The keyring: index keys become keyed hashes and personal data is
    /// sealed (see [`crate::protect`]). A store made with a keyring opens
    /// only with it; one made without opens only without. Default none.
    pub keyring: Option<Arc<Keyring>>,
    /// Write-ahead log size past which the families holding its oldest
    /// file flush. Default [`MAX_TOTAL_WAL_BYTES`]; 0 is RocksDB's own
    /// default, four times every family's memtables (8 GiB here).
    pub max_total_wal_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_bytes: 256 << 20,
            sync_writes: false,
            keyring: None,
            max_total_wal_bytes: MAX_TOTAL_WAL_BYTES,
        }
    }
}

/// Column family options tuned for point lookups: a bloom filter per table
/// and per memtable (a lookup of an unknown identifier or event id rarely
/// touches a data block or walks the skiplist), and the shared block cache.
fn family_options(cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    // Most lookups are for keys that do not exist yet (a new identifier, a
    // new event id): a bloom filter over the memtable answers them without
    // walking the skiplist.
    opts.set_memtable_whole_key_filtering(true);
    opts.set_memtable_prefix_bloom_ratio(0.1);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    // Every table file is rewritten at least weekly: the values an erasure
    // deleted leave the files within that (RocksDB's default is 30 days),
    // not only when other writes happen to compact their range.
    opts.set_periodic_compaction_seconds(ERASED_VALUES_GONE_SECS);
    opts
}

/// Whether opening a reader failed on a moment of the writer's work (a
/// MANIFEST or log file switched or deleted under it), worth a retry.
fn retried_on_open(e: &rocksdb::Error) -> bool {
    use rocksdb::ErrorKind::{Busy, IOError, NotFound, TryAgain};
    matches!(e.kind(), TryAgain | Busy | IOError | NotFound)
}

/// Every column family with its options; RocksDB's own `default` family
/// (kindred keeps nothing there) is listed too, so that it takes the same
/// options.
fn family_descriptors(cache: &Cache) -> impl Iterator<Item = ColumnFamilyDescriptor> + '_ {
    cf::ALL
        .into_iter()
        .chain([rocksdb::DEFAULT_COLUMN_FAMILY_NAME])
        .map(|name| {
            let mut o = family_options(cache);
            if name == cf::MEMBERS {
                o.set_merge_operator_associative("kindred.append", append_members);
            }
            ColumnFamilyDescriptor::new(name, o)
        })
}

/// The write-ahead log's size past which the families holding its oldest
/// file are flushed (see `open_with`): what a restart replays at most, and
/// about what a reader beside the writer holds in memory.
pub const MAX_TOTAL_WAL_BYTES: u64 = 256 << 20;

/// Within how long a deleted value leaves the store's table files
/// (periodic compaction): seven days.
pub const ERASED_VALUES_GONE_SECS: u64 = 7 * 86_400;

/// A sealed value as [`Store::sealed_values`] yields it: key, value
/// (format byte first), key id.
type SealedValue = (Box<[u8]>, Box<[u8]>, u32);

impl Store {
    /// Opens (or creates) the store in `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store in `path`.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let cache = Cache::new_lru_cache(options.cache_bytes);
        let mut opts = family_options(&cache);
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // A write-ahead log file lives until every family with data in it
        // has flushed, and some families take a few bytes per batch (the
        // offsets in `meta`) or per erasure (`audit`): by RocksDB's default
        // (four times every family's memtables, 8 GiB here) the log grows
        // to gigabytes, which a restart replays and a reader holds in
        // memory. Past this size the families holding the oldest log flush.
        opts.set_max_total_wal_size(options.max_total_wal_bytes);
        let db = DB::open_cf_descriptors(&opts, &path, family_descriptors(&cache)).map_err(
            |source| StoreError::Open {
                path: path.clone(),
                source,
            },
        )?;
        let store = Store::new(db, path, cache, &options, None);
        let keyring = options.keyring.as_deref();
        let is_new = store.get_raw(cf::META, STORE_ID)?.is_none();
        let protection = match store.get_raw(cf::META, PROTECTION)? {
            Some(bytes) => decode(cf::META, "protection", &bytes)?,
            // A new store records how it protects data; one made before
            // protection existed is plaintext.
            None if is_new => Protection::new(keyring),
            None => Protection::Plaintext,
        };
        let changed = protection.check(keyring, &store.path)?;
        if is_new || changed.is_some() {
            let record = changed.unwrap_or(protection);
            store.db.put_cf_opt(
                store.handle(cf::META),
                PROTECTION,
                encode(&record),
                &store.write_options,
            )?;
        }
        if is_new {
            store.new_identity()?;
            for (key, version) in [
                (NAME_FOLDING, NAME_FOLDING_VERSION),
                (LINKING, LINKING_VERSION.as_bytes()),
            ] {
                store
                    .db
                    .put_cf_opt(store.handle(cf::META), key, version, &store.write_options)?;
            }
        } else {
            if !store.name_folding_is_current()? {
                tracing::warn!(
                    path = %store.path.display(),
                    "the store's name digests come from an older release's name folding: \
                     the quarantine's distinct-name counts may count a name twice; \
                     rebuild the store (`kindred rebuild`) to refresh them"
                );
            }
            if !store.linking_is_current()? {
                tracing::warn!(
                    path = %store.path.display(),
                    "the store's profiles were partitioned by an older release's linking \
                     (scores, name guards): `kindred rules diff --new <config>` shows what \
                     this release would merge or split and, with the resolver stopped, \
                     `kindred rules apply --new <config>` re-evaluates those profiles"
                );
            }
        }
        Ok(store)
    }

    /// Opens the store in `path` to read it while its writer (the resolver
    /// service) may be running: a RocksDB secondary instance, which sees
    /// every batch the writer had committed when it opened (and more after
    /// [`Store::catch_up`]), never takes the writer's lock and cannot
    /// write. Any write on it fails with [`StoreError::ReadOnly`].
    ///
    /// The store must exist and be of this release's layout; its keyring
    /// is checked as for the writer.
    pub fn open_reader(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let cache = Cache::new_lru_cache(options.cache_bytes);
        let mut opts = family_options(&cache);
        // A secondary instance must keep every table file it has open: the
        // writer's compactions delete files under it.
        opts.set_max_open_files(-1);
        let scratch = tempfile::Builder::new()
            .prefix("kindred-reader-")
            .tempdir()
            .map_err(|source| StoreError::File {
                what: "create a scratch directory to read",
                path: path.clone(),
                source,
            })?;
        // Opening tails the writer's MANIFEST and write-ahead log, which a
        // busy writer switches and deletes: RocksDB then answers TryAgain
        // or a missing file for a moment. A few tries, 50 ms to 0.4 s apart.
        let mut attempt = 0;
        let db = loop {
            let opened = DB::list_cf(&opts, &path).and_then(|existing| {
                match cf::ALL
                    .into_iter()
                    .find(|name| !existing.iter().any(|e| e == name))
                {
                    Some(missing) => Ok(Err(missing)),
                    None => DB::open_cf_descriptors_as_secondary(
                        &opts,
                        &path,
                        &scratch.path().to_path_buf(),
                        family_descriptors(&cache),
                    )
                    .map(Ok),
                }
            });
            match opened {
                Ok(Ok(db)) => break db,
                Ok(Err(missing)) => {
                    return Err(StoreError::Protection {
                        path,
                        problem: format!(
                            "the store has no column family `{missing}` (an older release made \
                             it), and a reader cannot add one: start this release's resolver \
                             on the store once (it adds the family), then run the command again"
                        ),
                    })
                }
                Err(e) if attempt < 4 && retried_on_open(&e) => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(25 << attempt));
                }
                Err(source) => return Err(StoreError::Open { path, source }),
            }
        };
        let store = Store::new(db, path, cache, &options, Some(scratch));
        // A rebuild writes its store as its writer, from empty: what a
        // reader would see there is only part of the history.
        if store.is_rebuilding()? {
            return Err(StoreError::Protection {
                path: store.path.clone(),
                problem: "it is a `kindred rebuild` or `kindred restore` in progress (or one that did not finish): \
                          its profiles are not all there yet"
                    .into(),
            });
        }
        let protection = match store.get_raw(cf::META, PROTECTION)? {
            Some(bytes) => decode(cf::META, "protection", &bytes)?,
            None if store.get_raw(cf::META, STORE_ID)?.is_none() => {
                return Err(StoreError::Protection {
                    path: store.path.clone(),
                    problem: "it is not a kindred store (no store id in its `meta` family)".into(),
                })
            }
            None => Protection::Plaintext,
        };
        // A keyring with a newer active key is recorded by the writer when
        // it next opens; a reader only checks that the keys open the store.
        protection.check(options.keyring.as_deref(), &store.path)?;
        Ok(store)
    }

    fn new(
        db: DB,
        path: PathBuf,
        cache: Cache,
        options: &StoreOptions,
        reader: Option<tempfile::TempDir>,
    ) -> Store {
        let mut write_options = rocksdb::WriteOptions::default();
        write_options.set_sync(options.sync_writes);
        Store {
            db,
            path,
            write_options,
            cache,
            hasher: KeyHasher::new(options.keyring.clone()),
            outbox_acked_below: AtomicU64::new(0),
            reader,
        }
    }

    /// Whether this is a reader ([`Store::open_reader`]), not the writer.
    pub fn is_reader(&self) -> bool {
        self.reader.is_some()
    }

    /// A reader: brings its view up to what the writer has committed now.
    /// The writer: nothing to do.
    pub fn catch_up(&self) -> Result<(), StoreError> {
        if self.is_reader() {
            self.db.try_catch_up_with_primary()?;
        }
        Ok(())
    }

    /// Whether the store's profiles were partitioned by this release's
    /// linking code (see `LINKING`); if not, `rules apply` re-evaluates them.
    pub fn linking_is_current(&self) -> Result<bool, StoreError> {
        Ok(self.get_raw(cf::META, LINKING)?.as_deref() == Some(LINKING_VERSION.as_bytes()))
    }

    /// The partitioner this store's outputs were placed with, recorded by
    /// the first call: `partitioner` when none was recorded yet (and then
    /// kept), else the recorded one. A compacted topic's key must stay on
    /// one partition for good: an erased person's tombstone removes only
    /// the records of the partition it lands on.
    pub fn output_partitioner(&self, partitioner: &str) -> Result<String, StoreError> {
        if let Some(recorded) = self.get_raw(cf::META, OUTPUT_PARTITIONER)? {
            return Ok(String::from_utf8_lossy(&recorded).into_owned());
        }
        self.db.put_cf_opt(
            self.handle(cf::META),
            OUTPUT_PARTITIONER,
            partitioner.as_bytes(),
            &self.write_options,
        )?;
        Ok(partitioner.to_string())
    }

    /// Records the publisher's progress (`store_id:seq`; empty when there
    /// was none) as a restore or a rebuild read it, before it read the
    /// profile topic back: the publisher starting on this store compares
    /// it with the progress it finds once it has fenced the old one
    /// ([`Store::progress_seen`]).
    pub fn record_progress_seen(&self, seen: &str) -> Result<(), StoreError> {
        self.db.put_cf_opt(
            self.handle(cf::META),
            PROGRESS_SEEN,
            seen.as_bytes(),
            &self.write_options,
        )?;
        Ok(())
    }

    /// Records that the store published under its present identity
    /// (its publisher's progress record names it).
    pub fn record_published(&self) -> Result<(), StoreError> {
        let id = self.store_id()?;
        if self.get_raw(cf::META, PUBLISHED_AS)?.as_deref() == Some(id.as_bytes()) {
            return Ok(());
        }
        Ok(self
            .db
            .put_cf_opt(self.handle(cf::META), PUBLISHED_AS, id, &self.write_options)?)
    }

    /// Whether the store published under its present identity before
    /// ([`Store::record_published`]; a restore's new identity has not).
    pub fn published_before(&self) -> Result<bool, StoreError> {
        let id = self.store_id()?;
        Ok(!id.is_empty()
            && self.get_raw(cf::META, PUBLISHED_AS)?.as_deref() == Some(id.as_bytes()))
    }

    /// The progress [`Store::record_progress_seen`] recorded, if any.
    pub fn progress_seen(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_raw(cf::META, PROGRESS_SEEN)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Whether the store's name digests come from this release's name
    /// folding (see `NAME_FOLDING`); if not, a rebuild refreshes them.
    pub fn name_folding_is_current(&self) -> Result<bool, StoreError> {
        Ok(self.get_raw(cf::META, NAME_FOLDING)?.as_deref() == Some(NAME_FOLDING_VERSION))
    }

    /// How this store turns identifiers into index keys.
    pub(crate) fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }

    /// Whether index keys are keyed hashes and personal data is sealed.
    pub fn is_keyed(&self) -> bool {
        self.hasher.keyring().is_some()
    }

    /// Encodes a value for `family` under `key`: sealed with the active
    /// key if the family holds personal data and the store is keyed.
    pub(crate) fn encode_value<T: Serialize>(
        &self,
        family: &str,
        key: &[u8],
        value: &T,
    ) -> Vec<u8> {
        let plain = encode(value);
        match self.hasher.keyring() {
            Some(k) if is_sealed(family) => {
                let mut out = Vec::with_capacity(plain.len() + 40);
                out.push(FORMAT_SEALED_V1);
                out.extend(k.seal(&plain[1..], &context(family, key)));
                out
            }
            _ => plain,
        }
    }

    /// Decodes a value of `family` stored under `key`, opening it if sealed.
    pub(crate) fn decode_value<T: DeserializeOwned>(
        &self,
        family: &'static str,
        key: impl AsRef<[u8]>,
        bytes: &[u8],
    ) -> Result<T, StoreError> {
        let key = key.as_ref();
        let shown = || self.shown_key(family, key);
        if bytes.first() != Some(&FORMAT_SEALED_V1) {
            return decode(family, &shown(), bytes);
        }
        let Some(k) = self.hasher.keyring() else {
            return Err(StoreError::Corrupt {
                what: family,
                key: shown(),
                message: "the value is sealed but the store was opened without a keyring".into(),
            });
        };
        let body = k
            .open(&bytes[1..], &context(family, key))
            .map_err(|source| StoreError::Sealed {
                what: family,
                key: shown(),
                source,
            })?;
        from_postcard(family, &body).map_err(|e| StoreError::Corrupt {
            what: family,
            key: shown(),
            message: e.to_string(),
        })
    }

    /// Puts a value into a batch, sealed where [`Store::encode_value`] says.
    pub(crate) fn put_value<T: Serialize>(
        &self,
        batch: &mut WriteBatch,
        family: &str,
        key: &[u8],
        value: &T,
    ) {
        let bytes = self.encode_value(family, key, value);
        self.put(batch, family, key, &bytes);
    }

    /// The encryption keys values may be sealed with (empty: plaintext store).
    pub fn keys_in_use(&self) -> Result<Vec<u32>, StoreError> {
        Ok(match self.get_raw(cf::META, PROTECTION)? {
            Some(bytes) => decode::<Protection>(cf::META, "protection", &bytes)?.keys_in_use(),
            None => Vec::new(),
        })
    }

    /// How many stored values are sealed with each key (and, under
    /// `None`, with an earlier release's scheme, whatever the key): what
    /// [`Store::reseal`] leaves is every value under the active key.
    pub fn sealed_with(&self) -> Result<BTreeMap<Option<u32>, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for family in SEALED_FAMILIES {
            for item in self.sealed_values(family) {
                let (_, value, id) = item?;
                let slot = Keyring::is_current_scheme(&value[1..]).then_some(id);
                *out.entry(slot).or_default() += 1;
            }
        }
        Ok(out)
    }

    /// Each sealed value of `family`: its key, the value (format byte
    /// first) and the id of the key it was sealed with.
    fn sealed_values(
        &self,
        family: &'static str,
    ) -> impl Iterator<Item = Result<SealedValue, StoreError>> + '_ {
        let sealed = move |(key, value): (Box<[u8]>, Box<[u8]>)| {
            if value.first() != Some(&FORMAT_SEALED_V1) {
                return None;
            }
            let id = Keyring::key_id(&value[1..]).map_err(|source| StoreError::Sealed {
                what: family,
                key: self.shown_key(family, &key),
                source,
            });
            Some(id.map(|id| (key, value, id)))
        };
        self.db
            .iterator_cf(self.handle(family), IteratorMode::Start)
            .filter_map(move |item| match item {
                Ok(kv) => sealed(kv),
                Err(e) => Some(Err(e.into())),
            })
    }

    /// Re-seals every sealed value with the keyring's active key, then
    /// compacts, so no table file keeps a value sealed with an older key.
    /// Afterwards the store needs only the active key. Returns how many
    /// values were re-sealed. Run with the resolver stopped.
    pub fn reseal(&self) -> Result<u64, StoreError> {
        self.writable()?;
        let Some(keyring) = self.hasher.keyring().cloned() else {
            return Err(StoreError::Protection {
                path: self.path.clone(),
                problem: "the store is plaintext: there is nothing to re-encrypt".into(),
            });
        };
        let active = keyring.active();
        let mut count = 0u64;
        for family in SEALED_FAMILIES {
            let mut batch = WriteBatch::default();
            for item in self.sealed_values(family) {
                let (key, value, id) = item?;
                // Values of the active key and scheme stay; an earlier
                // release's plain AES-GCM ones are re-sealed too.
                if id == active && Keyring::is_current_scheme(&value[1..]) {
                    continue;
                }
                let ctx = context(family, &key);
                let body = match keyring.open(&value[1..], &ctx) {
                    Ok(body) => body,
                    // A names entry is derived (the profile's next
                    // recomputation writes it); rotations by releases before
                    // 2026-12-01 did not re-seal this family, so it may be
                    // sealed with a key no longer held: drop it.
                    Err(_) if family == cf::NAMES => {
                        self.delete(&mut batch, family, &key);
                        count += 1;
                        continue;
                    }
                    Err(source) => {
                        return Err(StoreError::Sealed {
                            what: family,
                            key: self.shown_key(family, &key),
                            source,
                        })
                    }
                };
                let mut out = vec![FORMAT_SEALED_V1];
                out.extend(keyring.seal(&body, &ctx));
                self.put(&mut batch, family, &key, &out);
                count += 1;
                if batch.len() >= 1000 {
                    self.write(std::mem::take(&mut batch))?;
                }
            }
            self.write(batch)?;
        }
        self.db.put_cf_opt(
            self.handle(cf::META),
            PROTECTION,
            encode(&Protection::resealed(&keyring)),
            &self.write_options,
        )?;
        self.compact()?;
        Ok(count)
    }

    /// Compacts every family fully, then flushes the write-ahead log: what
    /// deletes and overwrites removed is gone from the files afterwards.
    pub fn compact(&self) -> Result<(), StoreError> {
        self.writable()?;
        for family in cf::ALL {
            let handle = self.handle(family);
            self.db.flush_cf(handle)?;
            let mut opts = rocksdb::CompactOptions::default();
            opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
            self.db
                .compact_range_cf_opt(handle, None::<&[u8]>, None::<&[u8]>, &opts);
        }
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// Gives the store a new identity (see [`STORE_ID`]).
    fn new_identity(&self) -> Result<(), StoreError> {
        self.writable()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("{nanos:x}-{:x}", std::process::id());
        Ok(self
            .db
            .put_cf_opt(self.handle(cf::META), STORE_ID, id, &self.write_options)?)
    }

    /// This store's identity (made at creation, renewed by a restore).
    pub fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.get_string(cf::META, "store_id")?.unwrap_or_default())
    }

    /// Writes a consistent point-in-time copy of the store to `dir` (a
    /// RocksDB checkpoint: hard links to the immutable table files, so it is
    /// cheap on the same filesystem). `dir` must not exist yet.
    pub fn checkpoint(&self, dir: &Path) -> Result<(), StoreError> {
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db)?;
        checkpoint.create_checkpoint(dir)?;
        Ok(())
    }

    /// Makes `to` a copy of the checkpoint in `from` and gives it a new
    /// identity. The restored store resumes from the offsets the snapshot
    /// recorded (the service re-reads everything after them; events it
    /// already had are de-duplicated) and publishes its outbox afresh. It
    /// comes marked in progress ([`Store::is_rebuilding`]): the caller
    /// clears the mark once it has reconciled the store with the topics.
    pub fn restore(from: &Path, to: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let file_err = |what, path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::File { what, path, source }
        };
        if to.exists() {
            let mut entries = std::fs::read_dir(to).map_err(file_err("read", to))?;
            if entries.next().is_some() {
                return Err(StoreError::NotEmpty(to.to_path_buf()));
            }
        }
        // Into a sibling directory first, the files and the directory
        // synced and the new identity set there, then renamed into place:
        // a crash or power loss midway leaves no half-copied store (or one
        // still bearing the snapshot's identity) at `to`.
        let staging = PathBuf::from(format!("{}.restoring", to.display()));
        if staging.exists() {
            // A restore cut off before: start it again.
            std::fs::remove_dir_all(&staging).map_err(file_err("remove", &staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(file_err("create", &staging))?;
        for entry in std::fs::read_dir(from).map_err(file_err("read", from))? {
            let entry = entry.map_err(file_err("read", from))?;
            let target = staging.join(entry.file_name());
            std::fs::copy(entry.path(), &target).map_err(file_err("copy", &entry.path()))?;
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(file_err("sync", &target))?;
        }
        sync_dir(&staging).map_err(file_err("sync", &staging))?;
        // Marked in progress before it is in place (the caller reconciles
        // it with the topics, then clears the mark): a crash or an error
        // between the rename and the caller's own mark left a store the
        // resolver took for a finished one, never reconciled (profile ids
        // given again, erasures since the snapshot not applied).
        {
            let staged = Store::open_with(&staging, options.clone())?;
            staged.new_identity()?;
            staged.set_rebuilding(true)?;
        }
        if to.exists() {
            std::fs::remove_dir(to).map_err(file_err("remove", to))?;
        }
        std::fs::rename(&staging, to).map_err(file_err("rename", &staging))?;
        if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent).map_err(file_err("sync", parent))?;
        }
        Store::open_with(to, options)
    }

    /// Values of many keys of one family in one call (RocksDB's batched
    /// MultiGet: one pass over the memtables and files for the whole set).
    pub(crate) fn multi_get(
        &self,
        family: &str,
        keys: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.db
            .batched_multi_get_cf(self.handle(family), keys, false)
            .into_iter()
            .map(|r| r.map(|v| v.map(|v| v.to_vec())).map_err(StoreError::from))
            .collect()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn get_raw(&self, family: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.handle(family), key)?)
    }

    pub(crate) fn get_value<T: DeserializeOwned>(
        &self,
        family: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get_raw(family, key.as_bytes())?
            .map(|bytes| self.decode_value(family, key, &bytes))
            .transpose()
    }

    pub(crate) fn get_string(
        &self,
        family: &'static str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        self.get_raw(family, key.as_bytes())?
            .map(|bytes| utf8(family, key, bytes))
            .transpose()
    }

    fn handle(&self, family: &str) -> &rocksdb::ColumnFamily {
        // Every family in cf::ALL is created by `open_with` (the writer) and
        // required by `open_reader`.
        self.db
            .cf_handle(family)
            .unwrap_or_else(|| unreachable!("column family {family} is created on open"))
    }

    pub(crate) fn put(&self, batch: &mut WriteBatch, family: &str, key: &[u8], value: &[u8]) {
        batch.put_cf(self.handle(family), key, value);
    }

    pub(crate) fn delete(&self, batch: &mut WriteBatch, family: &str, key: &[u8]) {
        batch.delete_cf(self.handle(family), key);
    }

    pub(crate) fn delete_range(
        &self,
        batch: &mut WriteBatch,
        family: &str,
        from: &[u8],
        to: &[u8],
    ) {
        batch.delete_range_cf(self.handle(family), from, to);
    }

    /// Whether an identifier is on the suppression list (its person was erased).
    pub fn is_suppressed(&self, identifier: &Identifier) -> Result<bool, StoreError> {
        if self.is_suppressed_key(&self.index_key(identifier))? {
            return Ok(true);
        }
        match self.legacy_index_key(identifier) {
            Some(legacy) => self.is_suppressed_key(&legacy),
            None => Ok(false),
        }
    }

    /// Whether an index key is on the suppression list.
    pub(crate) fn is_suppressed_key(&self, index_key: &str) -> Result<bool, StoreError> {
        Ok(self.suppressed_since(index_key)?.is_some())
    }

    /// When an index key went on the suppression list: `None` if it is
    /// not on it, `Some(None)` if the entry has no time (an older release
    /// wrote it: for good), else the erasure request's time (ms).
    pub(crate) fn suppressed_since(
        &self,
        index_key: &str,
    ) -> Result<Option<Option<i64>>, StoreError> {
        Ok(self
            .get_raw(cf::SUPPRESSED, self.digest_key(index_key).as_bytes())?
            .map(|v| suppression_time(&v)))
    }

    /// The suppression-list entry of a source event id: `event:` and a keyed
    /// hash of the id (its [`digest_key`](Self::digest_key) in a plaintext
    /// store). An erased person's events go on the list so that reading one
    /// of them again (an at-least-once redelivery, a replay, a rebuild)
    /// does not bring the person back, whatever identifiers it carries.
    pub(crate) fn event_digest(&self, event_id: &str) -> String {
        self.digest_key(&self.hasher.key("event", event_id))
    }

    /// Whether a source event was erased (its id is on the suppression list).
    pub(crate) fn is_suppressed_event(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .get_raw(cf::SUPPRESSED, self.event_digest(event_id).as_bytes())?
            .is_some())
    }

    /// Puts suppression-list entries (as [`digest_key`](Self::digest_key)
    /// and [`event_digest`](Self::event_digest) make them) on the list, as
    /// an erasure's audit record lists them: how `kindred rebuild` carries
    /// the erasures of the lost store over to the new one before it
    /// replays any event. Returns how many were new.
    pub fn suppress_digests<'d>(
        &self,
        digests: impl IntoIterator<Item = &'d str>,
        at_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut batch = WriteBatch::default();
        let mut added = 0u64;
        for digest in digests {
            if self.get_raw(cf::SUPPRESSED, digest.as_bytes())?.is_none() {
                added += 1;
            }
            // Audit sequence 0: carried over.
            self.put_suppression(&mut batch, digest, 0, at_ms)?;
        }
        self.write(batch)?;
        Ok(added)
    }

    /// Puts `digest` on the suppression list for erasure `seq`, requested
    /// at `at_ms` (`None`: unknown, for good); an entry already there
    /// keeps the later of the two times (a window runs from the latest
    /// erasure), and one for good stays one.
    pub(crate) fn put_suppression(
        &self,
        batch: &mut WriteBatch,
        digest: &str,
        seq: u64,
        at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let at = match self.get_raw(cf::SUPPRESSED, digest.as_bytes())? {
            Some(old) => match (suppression_time(&old), at_ms) {
                (None, _) => return Ok(()),
                (Some(t), Some(a)) => Some(t.max(a)),
                (Some(_), None) => None,
            },
            None => at_ms,
        };
        self.put(
            batch,
            cf::SUPPRESSED,
            digest.as_bytes(),
            &suppression_value(seq, at),
        );
        Ok(())
    }

    /// A key as an error message may show it: an identifier index key of a
    /// plaintext store holds the raw value (a phone, an e-mail), so it is
    /// shown as its [`digest_key`](Self::digest_key); every other key (a
    /// keyed hash, a profile or event id, a sequence) as it is.
    pub(crate) fn shown_key(&self, family: &str, key: &[u8]) -> String {
        // Families keyed by a big-endian sequence number: the number.
        if matches!(family, cf::OUTBOX | cf::DECISIONS | cf::AUDIT) {
            if let Ok(seq) = <[u8; 8]>::try_from(key) {
                return format!("#{}", u64::from_be_bytes(seq));
            }
        }
        let key = String::from_utf8_lossy(key);
        if family == cf::IDENTIFIERS {
            self.digest_key(&key)
        } else {
            key.into_owned()
        }
    }

    /// An index key as the suppression list and audit records hold it: the
    /// key itself in a keyed store (already a keyed hash); in a plaintext
    /// store, whose keys are raw values, `kind:FNV-1a digest` (unkeyed:
    /// plaintext stores are for demos; use a keyring).
    pub(crate) fn digest_key(&self, index_key: &str) -> String {
        if self.is_keyed() {
            return index_key.to_string();
        }
        let digest = crate::keys::fnv1a(index_key.as_bytes());
        match index_key.split_once(':') {
            Some((kind, _)) => format!("{kind}:{digest:016x}"),
            None => format!("{digest:016x}"),
        }
    }

    /// Whether the suppression list has any entry (a cheap seek).
    pub(crate) fn has_suppressions(&self) -> Result<bool, StoreError> {
        let mut it = self
            .db
            .iterator_cf(self.handle(cf::SUPPRESSED), IteratorMode::Start);
        Ok(it.next().transpose()?.is_some())
    }

    /// Every erasure audit record, oldest first.
    pub fn audit_records(&self) -> Result<Vec<crate::AuditRecord>, StoreError> {
        self.values(cf::AUDIT)
    }

    pub(crate) fn put_offset(&self, batch: &mut WriteBatch, offset: &SourceOffset) {
        let key = offset_key(&offset.topic, offset.partition);
        self.put(batch, cf::META, &key, &offset.next_offset.to_be_bytes());
    }

    pub(crate) fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.writable()?;
        Ok(self.db.write_opt(batch, &self.write_options)?)
    }

    /// An error for a write through a reader, which RocksDB would refuse
    /// in its own words.
    fn writable(&self) -> Result<(), StoreError> {
        match self.reader {
            Some(_) => Err(StoreError::ReadOnly(self.path.clone())),
            None => Ok(()),
        }
    }

    /// Adds a merge operand (the `members` family appends).
    pub(crate) fn merge(&self, batch: &mut WriteBatch, family: &str, key: &[u8], value: &[u8]) {
        batch.merge_cf(self.handle(family), key, value);
    }

    /// The member event ids of `profile_id` in the `members` family (not
    /// those a profile value of an older store still holds).
    pub(crate) fn members(&self, profile_id: &str) -> Result<Vec<String>, StoreError> {
        match self.get_raw(cf::MEMBERS, profile_id.as_bytes())? {
            Some(bytes) => decode_members(profile_id, &bytes),
            None => Ok(Vec::new()),
        }
    }

    /// A stored profile with its whole member list.
    fn with_members(&self, mut p: StoredProfile) -> Result<StoredProfile, StoreError> {
        let more = self.members(&p.record.profile_id)?;
        p.members.extend(more);
        Ok(p)
    }

    /// The golden record of `profile_id`, following redirects of absorbed ids.
    pub fn profile(&self, profile_id: &str) -> Result<Option<GoldenRecord>, StoreError> {
        Ok(self.stored_profile(profile_id)?.map(|p| p.record))
    }

    /// The stored profile of `profile_id` (following redirects): record,
    /// votes and member events.
    pub fn stored_profile(&self, profile_id: &str) -> Result<Option<StoredProfile>, StoreError> {
        let id = self.resolve_redirects(profile_id)?;
        match self.get_value(cf::PROFILES, &id)? {
            Some(p) => Ok(Some(self.with_members(p)?)),
            None => Ok(None),
        }
    }

    /// The current profile id for an id that may have been absorbed.
    pub fn resolve_redirects(&self, profile_id: &str) -> Result<String, StoreError> {
        walk_redirects(profile_id, |id| self.get_string(cf::REDIRECTS, id))
    }

    /// The live profile `profile_id` stands for (redirects followed), or
    /// `None` when that profile is gone (erased).
    pub(crate) fn live_profile_id(&self, profile_id: &str) -> Result<Option<String>, StoreError> {
        let id = self.resolve_redirects(profile_id)?;
        Ok(self
            .get_raw(cf::PROFILES, id.as_bytes())?
            .is_some()
            .then_some(id))
    }

    /// The index entry of an identifier (compared by link key; in a store
    /// written before linking version 4, a card's entry may be only under
    /// its written form, [`Self::legacy_index_key`]).
    pub fn index_entry(&self, identifier: &Identifier) -> Result<Option<IndexEntry>, StoreError> {
        self.get_value(cf::IDENTIFIERS, &self.entry_key(identifier)?)
    }

    /// The guard state ([`IndexEntry::guard_state`]) of each of
    /// `identifiers`, once each, in order, `None` for one without an entry:
    /// what two stores holding the same events must agree on.
    pub fn guard_states<'i>(
        &self,
        identifiers: impl IntoIterator<Item = &'i Identifier>,
    ) -> Result<Vec<(String, Option<GuardState>)>, StoreError> {
        let ids: BTreeSet<&Identifier> = identifiers.into_iter().collect();
        ids.into_iter()
            .map(|i| Ok((i.to_string(), self.index_entry(i)?.map(|e| e.guard_state()))))
            .collect()
    }

    /// The index key under which `identifier` has an entry: its link key's,
    /// else its written form's when only that has one, else its link key.
    pub(crate) fn entry_key(&self, identifier: &Identifier) -> Result<String, StoreError> {
        let key = self.index_key(identifier);
        if self.get_raw(cf::IDENTIFIERS, key.as_bytes())?.is_some() {
            return Ok(key);
        }
        if let Some(legacy) = self.legacy_index_key(identifier) {
            if self.get_raw(cf::IDENTIFIERS, legacy.as_bytes())?.is_some() {
                return Ok(legacy);
            }
        }
        Ok(key)
    }

    /// The key an identifier was indexed under before linking version 4,
    /// when it differs from today's (a member card with separators or
    /// leading zeros): its written form.
    pub(crate) fn legacy_index_key(&self, identifier: &Identifier) -> Option<String> {
        let written = identifier.match_key.as_deref().unwrap_or(&identifier.value);
        (written != identifier.link_value())
            .then(|| self.hasher.key(identifier.kind.as_str(), written))
    }

    /// The index key of an identifier in this store.
    pub(crate) fn index_key(&self, identifier: &Identifier) -> String {
        crate::protect::index_key(self.hasher.keyring(), identifier)
    }

    /// The profile an identifier belongs to, if any (compared by link key).
    /// A contested identifier belongs to several: the oldest is returned.
    pub fn lookup(&self, identifier: &Identifier) -> Result<Option<GoldenRecord>, StoreError> {
        // Holders are sorted by id, so the first live one is the oldest; a
        // holder whose profile was erased is skipped.
        for holder in self
            .index_entry(identifier)?
            .map(|e| e.holders)
            .unwrap_or_default()
        {
            if let Some(profile) = self.profile(&holder.profile_id)? {
                return Ok(Some(profile));
            }
        }
        Ok(None)
    }

    /// The canonical event a source event contributed, if it was applied.
    pub fn contribution(&self, event_id: &str) -> Result<Option<CanonicalEvent>, StoreError> {
        self.get_value(cf::CONTRIBUTIONS, event_id)
    }

    /// Merges and splits recorded for `profile_id` (as survivor, or as a
    /// part split off the record's survivor), oldest first.
    pub fn lineage(&self, profile_id: &str) -> Result<Vec<LineageRecord>, StoreError> {
        Ok(self
            .lineage_in_order(profile_id)?
            .into_iter()
            .map(|(_, record)| record)
            .collect())
    }

    /// [`Store::lineage`], each record with its sequence number: the order
    /// the records were written in (event times and decisions' wall-clock
    /// times do not order them: a backfill's merges come after a decision
    /// made today).
    pub fn lineage_in_order(
        &self,
        profile_id: &str,
    ) -> Result<Vec<(u64, LineageRecord)>, StoreError> {
        let mut prefix = profile_id.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            self.handle(cf::LINEAGE),
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let seq = key
                .get(prefix.len()..)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map_or(u64::MAX, u64::from_be_bytes);
            out.push((seq, decode(cf::LINEAGE, profile_id, &value)?));
        }
        Ok(out)
    }

    /// The ids absorbed into `survivor` that redirect to it directly, with
    /// what each stood for (only merges recorded since the `absorbed`
    /// family exists).
    pub fn absorbed_into(
        &self,
        survivor: &str,
    ) -> Result<Vec<(String, AbsorbedProfile)>, StoreError> {
        let prefix = absorbed_key(survivor, "");
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            self.handle(cf::ABSORBED),
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (key, value) = item?;
            let Some(id) = key.strip_prefix(prefix.as_slice()) else {
                break;
            };
            let id = utf8(cf::ABSORBED, survivor, id.to_vec())?;
            out.push((id, decode(cf::ABSORBED, survivor, &value)?));
        }
        Ok(out)
    }

    /// Moves the counter under `key` (a sequence the store numbers its
    /// records by) past `highest`, if it is not already; says whether it
    /// moved.
    pub(crate) fn number_after(&self, key: &[u8], highest: u64) -> Result<bool, StoreError> {
        let next = crate::resolver::read_counter(self, key, 1)?;
        if next > highest {
            return Ok(false);
        }
        let mut batch = rocksdb::WriteBatch::default();
        self.put(
            &mut batch,
            cf::META,
            key,
            &highest.saturating_add(1).to_be_bytes(),
        );
        self.write(batch)?;
        Ok(true)
    }

    /// Numbers this store's next erasure audit records after `highest`
    /// (the audit topic's, read by a restore or a rebuild): two records
    /// under one key on the compliance topic, and `erasure:N` causes naming
    /// either, otherwise. Says whether the counter moved.
    pub fn number_audits_after(&self, highest: u64) -> Result<bool, StoreError> {
        self.number_after(crate::erase::NEXT_AUDIT_SEQ, highest)
    }

    /// The decisions pinned on an event.
    pub fn constraints(&self, event_id: &str) -> Result<Vec<crate::Constraint>, StoreError> {
        Ok(self
            .get_value(cf::CONSTRAINTS, event_id)?
            .unwrap_or_default())
    }

    /// Every event's pinned decisions (event id, its list), and the next
    /// decision number: what [`crate::Resolver::carry_decisions`] pins on
    /// another store. Reads only the `constraints` family and a counter,
    /// so a store whose profiles no longer decode still gives them.
    pub fn decisions_pinned(&self) -> Result<PinnedDecisions, StoreError> {
        Ok(PinnedDecisions {
            events: self.all(cf::CONSTRAINTS)?,
            next_decision: crate::resolver::read_counter(self, NEXT_DECISION_SEQ, 1)?,
        })
    }

    /// Every decision recorded, oldest first.
    pub fn decisions(&self) -> Result<Vec<crate::DecisionRecord>, StoreError> {
        self.values(cf::DECISIONS)
    }

    /// The review queue: pairs of profiles waiting for a decision.
    pub fn pending_suggestions(&self) -> Result<Vec<PendingSuggestion>, StoreError> {
        self.values(cf::SUGGESTIONS)
    }

    /// The pair `a`, `b` (in either order) if it waits in the review queue.
    pub fn pending_suggestion(
        &self,
        a: &str,
        b: &str,
    ) -> Result<Option<PendingSuggestion>, StoreError> {
        let key = crate::resolver::pair_key(a.min(b), a.max(b));
        self.get_raw(cf::SUGGESTIONS, &key)?
            .map(|bytes| self.decode_value(cf::SUGGESTIONS, &key, &bytes))
            .transpose()
    }

    /// Everything waiting in the outbox, oldest first, with its sequence.
    pub fn outbox(&self) -> Result<Vec<(u64, crate::OutboxEntry)>, StoreError> {
        self.outbox_after(0, usize::MAX)
    }

    /// How many entries the outbox holds, counted by key (nothing decoded
    /// or held: a day's backlog is millions of entries).
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for item in self
            .db
            .iterator_cf(self.handle(cf::OUTBOX), IteratorMode::Start)
        {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Up to `limit` outbox entries with a sequence above `after`, oldest first.
    pub fn outbox_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, crate::OutboxEntry)>, StoreError> {
        self.outbox_within(after, limit, usize::MAX)
    }

    /// [`Store::outbox_after`], stopping too before the stored bytes of
    /// the entries taken pass `max_bytes` (one entry at least): what a
    /// transaction of the publisher may hold is read, not 5,000 decoded
    /// entries to send a few of.
    pub fn outbox_within(
        &self,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, crate::OutboxEntry)>, StoreError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let start = (after.saturating_add(1)).to_be_bytes();
        for item in self.db.iterator_cf(
            self.handle(cf::OUTBOX),
            IteratorMode::From(&start, Direction::Forward),
        ) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            if !out.is_empty() && bytes.saturating_add(value.len()) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(value.len());
            let seq: [u8; 8] = key.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                what: cf::OUTBOX,
                key: String::from_utf8_lossy(&key).into_owned(),
                message: "key is not an 8-byte sequence".into(),
            })?;
            let seq = u64::from_be_bytes(seq);
            out.push((seq, self.decode_value(cf::OUTBOX, &key, &value)?));
        }
        Ok(out)
    }

    /// The sequence the next outbox entry will get (1 for a new store).
    pub fn next_outbox_seq(&self) -> Result<u64, StoreError> {
        crate::resolver::read_counter(self, NEXT_OUTBOX_SEQ, 1)
    }

    /// Removes published outbox entries up to and including `seq`.
    ///
    /// Each call deletes only the range above the previous acknowledgement:
    /// range tombstones that all started at 0 overlapped one another, and
    /// every flush and compaction of the outbox re-fragmented all of them
    /// (about 4% of a `perf` profile of `kindred demo`).
    pub fn ack_outbox(&self, seq: u64) -> Result<(), StoreError> {
        let from = self.outbox_acked_below.load(Ordering::Acquire);
        let to = seq.saturating_add(1);
        if to <= from {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(
            self.handle(cf::OUTBOX),
            from.to_be_bytes(),
            to.to_be_bytes(),
        );
        self.write(batch)?;
        self.outbox_acked_below.fetch_max(to, Ordering::AcqRel);
        Ok(())
    }

    /// The people in the store, comparable across stores: each profile as
    /// its sorted member event ids and its golden record without profile id
    /// and version (which depend on arrival order and batching), sorted.
    /// Two stores that resolved the same events agree on this exactly.
    pub fn people(&self) -> Result<Vec<(Vec<String>, GoldenRecord)>, StoreError> {
        let mut out = Vec::new();
        for p in self.stored_profiles() {
            let p = p?;
            let mut members = p.members;
            members.sort();
            let mut record = p.record;
            record.profile_id.clear();
            record.version = 0;
            out.push((members, record));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Every (key, value) of a family, decoded (whole-store tools only).
    pub(crate) fn all<T: DeserializeOwned>(
        &self,
        family: &'static str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.handle(family), IteratorMode::Start)
        {
            let (key, value) = item?;
            let value = self.decode_value(family, &key, &value)?;
            out.push((String::from_utf8_lossy(&key).into_owned(), value));
        }
        Ok(out)
    }

    /// The events that carry a side of separating decision `decision` (a
    /// scan of the constraints: for admin commands only).
    pub(crate) fn decision_records(
        &self,
        decision: u64,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut out = std::collections::BTreeSet::new();
        for item in self
            .db
            .iterator_cf(self.handle(cf::CONSTRAINTS), IteratorMode::Start)
        {
            let (key, value) = item?;
            let list: Vec<crate::Constraint> = self.decode_value(cf::CONSTRAINTS, &key, &value)?;
            if list.iter().any(
                |c| matches!(c, crate::Constraint::Apart { decision: d, .. } if *d == decision),
            ) {
                out.insert(String::from_utf8_lossy(&key).into_owned());
            }
        }
        Ok(out)
    }

    fn values<T: DeserializeOwned>(&self, family: &'static str) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.handle(family), IteratorMode::Start)
        {
            let (key, value) = item?;
            out.push(self.decode_value(family, &key, &value)?);
        }
        Ok(out)
    }

    /// Up to `limit` live profile ids after `after` (from the first when
    /// `None`), in id order: a whole-store pass in chunks.
    pub fn profile_ids_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mode = match after {
            Some(id) => IteratorMode::From(id.as_bytes(), Direction::Forward),
            None => IteratorMode::Start,
        };
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.handle(cf::PROFILES), mode) {
            let (key, _) = item?;
            if after.is_some_and(|a| a.as_bytes() == key.as_ref()) {
                continue;
            }
            if out.len() >= limit {
                break;
            }
            out.push(String::from_utf8_lossy(&key).into_owned());
        }
        Ok(out)
    }

    /// Every golden record, in profile id order.
    pub fn profiles(&self) -> impl Iterator<Item = Result<GoldenRecord, StoreError>> + '_ {
        self.stored_profiles().map(|p| p.map(|p| p.record))
    }

    /// Every stored profile with its member list, in profile id order.
    pub fn stored_profiles(&self) -> impl Iterator<Item = Result<StoredProfile, StoreError>> + '_ {
        self.db
            .iterator_cf(self.handle(cf::PROFILES), IteratorMode::Start)
            .map(|item| {
                let (key, value) = item?;
                self.with_members(self.decode_value(cf::PROFILES, &key, &value)?)
            })
    }

    /// The profile holding each of `events` (those the store holds), in one
    /// pass over the profiles that keeps only these: memory in proportion
    /// to `events`, not to every event the store holds ([`Store::assignments`]).
    pub fn owners_of(
        &self,
        events: &std::collections::HashSet<&str>,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut owners = std::collections::HashMap::new();
        if events.is_empty() {
            return Ok(owners);
        }
        for p in self.stored_profiles() {
            let p = p?;
            for event_id in p.members {
                if events.contains(event_id.as_str()) {
                    owners.insert(event_id, p.record.profile_id.clone());
                }
            }
            if owners.len() == events.len() {
                break;
            }
        }
        Ok(owners)
    }

    /// (source event id, profile id) for every applied event.
    pub fn assignments(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for p in self.stored_profiles() {
            let p = p?;
            for event_id in p.members {
                out.push((event_id, p.record.profile_id.clone()));
            }
        }
        Ok(out)
    }

    /// Marks the store as being rebuilt (`kindred rebuild`), or done.
    pub fn set_rebuilding(&self, rebuilding: bool) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        if rebuilding {
            self.put(&mut batch, cf::META, REBUILDING, b"1");
        } else {
            self.delete(&mut batch, cf::META, REBUILDING);
        }
        self.write(batch)
    }

    /// Whether a rebuild began on this store and did not finish.
    pub fn is_rebuilding(&self) -> Result<bool, StoreError> {
        Ok(self.get_raw(cf::META, REBUILDING)?.is_some())
    }

    /// The source offsets the committed state reflects, per topic and partition.
    pub fn offsets(&self) -> Result<BTreeMap<(String, i32), i64>, StoreError> {
        let mut out = BTreeMap::new();
        let iter = self.db.iterator_cf(
            self.handle(cf::META),
            IteratorMode::From(OFFSET_PREFIX, Direction::Forward),
        );
        for item in iter {
            let (key, value) = item?;
            let Some(rest) = key.strip_prefix(OFFSET_PREFIX) else {
                break;
            };
            let corrupt = |message: &str| StoreError::Corrupt {
                what: "offset",
                key: String::from_utf8_lossy(&key).into_owned(),
                message: message.to_string(),
            };
            let (topic, partition) = rest
                .split_last_chunk::<4>()
                .ok_or_else(|| corrupt("key too short"))?;
            let topic = topic
                .strip_suffix(b"\x00")
                .ok_or_else(|| corrupt("no separator"))?;
            let value: [u8; 8] = value
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("value is not 8 bytes"))?;
            out.insert(
                (
                    String::from_utf8_lossy(topic).into_owned(),
                    i32::from_be_bytes(*partition),
                ),
                i64::from_be_bytes(value),
            );
        }
        Ok(out)
    }

    /// Counts of what the store holds (a full scan: for the demo, tools and tests).
    /// RocksDB's own figures (estimates; cheap: no scan).
    pub fn engine_stats(&self) -> Result<EngineStats, StoreError> {
        let mut stats = EngineStats {
            block_cache_usage_bytes: self.cache.get_usage() as u64,
            ..EngineStats::default()
        };
        for family in cf::ALL {
            let handle = self.handle(family);
            let int = |name: &str| -> Result<u64, StoreError> {
                Ok(self.db.property_int_value_cf(handle, name)?.unwrap_or(0))
            };
            stats.live_data_bytes += int("rocksdb.estimate-live-data-size")?;
            stats.pending_compaction_bytes += int("rocksdb.estimate-pending-compaction-bytes")?;
            stats.write_stopped |= int("rocksdb.is-write-stopped")? > 0;
            if family == cf::IDENTIFIERS {
                stats.identifiers_estimate = int("rocksdb.estimate-num-keys")?;
            }
        }
        stats.write_delayed = self
            .db
            .property_int_value("rocksdb.actual-delayed-write-rate")?
            .unwrap_or(0)
            > 0;
        Ok(stats)
    }

    /// Counts the profiles as they are now, on a thread of its own, and
    /// calls `done` with the count. Returns once that thread holds a
    /// RocksDB snapshot: the count is of the store before any write made
    /// after this returns, however long the scan takes (on a large store,
    /// minutes that its user need not wait). Dropping the returned handle
    /// stops the count (`done` is then not called) and waits for the
    /// thread, so the store is closed when its last user is done with it.
    pub fn count_profiles_in_background(
        self: &Arc<Self>,
        done: impl FnOnce(Result<u64, StoreError>) + Send + 'static,
    ) -> Result<BackgroundTask, StoreError> {
        let (pinned, wait) = std::sync::mpsc::channel::<()>();
        let task =
            BackgroundTask::spawn(self, "kindred-count-profiles", move |store, stopped, _| {
                let snapshot = store.db.snapshot();
                // The receiver is gone only if `count_profiles_in_background` returned: nothing to tell.
                let _ = pinned.send(());
                let mut read = rocksdb::ReadOptions::default();
                read.set_snapshot(&snapshot);
                // One pass over every profile: keep the block cache for the
                // profiles the service reads.
                read.fill_cache(false);
                let mut count = 0u64;
                for item in
                    store
                        .db
                        .iterator_cf_opt(store.handle(cf::PROFILES), read, IteratorMode::Start)
                {
                    if let Err(e) = item {
                        done(Err(e.into()));
                        return;
                    }
                    count += 1;
                    if count % 4096 == 0 && stopped.load(Ordering::Relaxed) {
                        return;
                    }
                }
                done(Ok(count));
            })?;
        if wait.recv().is_err() {
            tracing::warn!("the thread counting the store's profiles ended before it started");
        }
        Ok(task)
    }

    /// Flushes every family's memtable to table files, so that every
    /// write-ahead log file written before is deleted.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.flush_while(|| true)
    }

    /// [`Store::flush`] as far as `deadline` allows (a family started is
    /// finished); returns whether every family was flushed. A service
    /// stopping cleanly calls it, so that its next start (and a reader
    /// opened meanwhile) replays no write-ahead log.
    pub fn flush_until(&self, deadline: std::time::Instant) -> Result<bool, StoreError> {
        let mut flushed = 0;
        self.flush_while(|| {
            let go_on = std::time::Instant::now() < deadline;
            flushed += usize::from(go_on);
            go_on
        })?;
        Ok(flushed == cf::ALL.len())
    }

    /// [`Store::flush`], one family after another while `go_on` says so
    /// (a flush can wait on compaction: a stopping service does not wait
    /// for all sixteen).
    fn flush_while(&self, mut go_on: impl FnMut() -> bool) -> Result<(), StoreError> {
        self.writable()?;
        for family in cf::ALL {
            if !go_on() {
                break;
            }
            self.db.flush_cf(self.handle(family))?;
        }
        Ok(())
    }

    /// Calls [`Store::flush`] every `interval` on a thread of its own,
    /// handing each failure to `failed`. A log file lives until every
    /// family with data in it has flushed, and a family written a few bytes
    /// at a time (or not at all for days) may not flush for weeks: so what
    /// an erasure deleted is gone from the logs within `interval`, as
    /// periodic compaction takes it out of the table files.
    pub fn flush_every(
        self: &Arc<Self>,
        interval: std::time::Duration,
        failed: impl Fn(StoreError) + Send + 'static,
    ) -> Result<BackgroundTask, StoreError> {
        self.writable()?;
        BackgroundTask::spawn(self, "kindred-flush", move |store, stopped, woken| {
            use std::sync::mpsc::RecvTimeoutError;
            while let Err(RecvTimeoutError::Timeout) = woken.recv_timeout(interval) {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                match store.flush_while(|| !stopped.load(Ordering::Relaxed)) {
                    Ok(()) => tracing::debug!("store flushed (its older log files deleted)"),
                    Err(e) => failed(e),
                }
            }
        })
    }

    /// Calls `work` with the store every `interval` on a thread named
    /// `name`, until the task is dropped (the service's snapshots: on a
    /// clock of their own, so a store that receives nothing still takes
    /// and prunes them).
    pub fn every(
        self: &Arc<Self>,
        name: &str,
        interval: std::time::Duration,
        work: impl Fn(&Store) + Send + 'static,
    ) -> Result<BackgroundTask, StoreError> {
        BackgroundTask::spawn(self, name, move |store, stopped, woken| {
            use std::sync::mpsc::RecvTimeoutError;
            while let Err(RecvTimeoutError::Timeout) = woken.recv_timeout(interval) {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                work(&store);
            }
        })
    }

    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        let count = |family: &str| -> Result<u64, StoreError> {
            let mut n = 0;
            for item in self
                .db
                .iterator_cf(self.handle(family), IteratorMode::Start)
            {
                item?;
                n += 1;
            }
            Ok(n)
        };
        Ok(StoreStats {
            profiles: count(cf::PROFILES)?,
            identifiers: count(cf::IDENTIFIERS)?,
            events: count(cf::CONTRIBUTIONS)?,
            redirects: count(cf::REDIRECTS)?,
            lineage: count(cf::LINEAGE)?,
        })
    }
}

/// A suppression-list value: the audit sequence of the erasure, then the
/// time of its request (ms) when known, 8 bytes each, big-endian. Without
/// a time (as older releases wrote every entry) the entry is for good.
fn suppression_value(seq: u64, at_ms: Option<i64>) -> Vec<u8> {
    let mut value = seq.to_be_bytes().to_vec();
    if let Some(at) = at_ms {
        value.extend(at.to_be_bytes());
    }
    value
}

/// The request time of a [`suppression_value`]; `None` for an entry of an
/// older release (the sequence alone).
fn suppression_time(value: &[u8]) -> Option<i64> {
    let at: [u8; 8] = value.get(8..16)?.try_into().ok()?;
    Some(i64::from_be_bytes(at))
}

fn offset_key(topic: &str, partition: i32) -> Vec<u8> {
    let mut key = OFFSET_PREFIX.to_vec();
    key.extend_from_slice(topic.as_bytes());
    key.push(0);
    key.extend_from_slice(&partition.to_be_bytes());
    key
}

/// A stored profile id (or other text value), checked to be UTF-8.
pub(crate) fn utf8(family: &'static str, key: &str, bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|e| StoreError::Corrupt {
        what: family,
        key: key.to_string(),
        message: e.to_string(),
    })
}

/// A member list as stored: each event id as postcard encodes a string
/// (varint length, bytes), concatenated; appending is concatenation, which
/// is what the merge operator does.
pub(crate) fn encode_members<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<u8> {
    let mut out = Vec::new();
    for id in ids {
        // A String always serializes.
        if let Ok(bytes) = postcard::to_allocvec(id) {
            out.extend(bytes);
        }
    }
    out
}

pub(crate) fn decode_members(key: &str, mut bytes: &[u8]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (id, rest) =
            postcard::take_from_bytes::<String>(bytes).map_err(|e| StoreError::Corrupt {
                what: cf::MEMBERS,
                key: key.to_string(),
                message: e.to_string(),
            })?;
        out.push(id);
        bytes = rest;
    }
    Ok(out)
}

/// The `members` family's merge operator: concatenation.
fn append_members(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let mut out = existing.map(<[u8]>::to_vec).unwrap_or_default();
    for op in operands {
        out.extend_from_slice(op);
    }
    Some(out)
}

/// Makes a directory's entries durable (the files in it are synced apart).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The first byte of every encoded value: the format, so that a later
/// release can read and migrate what an older one wrote.
const FORMAT_POSTCARD_V1: u8 = 1;
/// A [`FORMAT_POSTCARD_V1`] body sealed with the keyring's active key
/// (AES-256-GCM-SIV; plain AES-256-GCM in values of earlier releases): key
/// id, nonce, ciphertext and tag (see [`kindred_crypto::Keyring::seal`]).
const FORMAT_SEALED_V1: u8 = 2;

/// Encodes a stored value: a format byte, then postcard (a compact binary
/// serde format; several times smaller and faster than JSON).
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_POSTCARD_V1];
    // Serializing our own plain structs into a Vec cannot fail: postcard
    // supports every serde type they use, and Vec grows as needed.
    postcard::to_io(value, &mut out)
        .unwrap_or_else(|e| unreachable!("stored values serialize: {e}"));
    out
}

/// An index entry as linking version 26 and earlier wrote it: read only to
/// see where such an entry ends ([`from_postcard`]).
#[derive(Serialize, Deserialize)]
struct EntryBeforeAnchors {
    holders: Vec<Holder>,
    companions: Vec<(IdentifierKind, u64)>,
    names: Vec<u64>,
    quarantined: bool,
}

/// An index entry as linking versions 27 and 28 wrote it (anchors, no
/// `names_differ`): read only to see where such an entry ends.
#[derive(Serialize, Deserialize)]
struct EntryBeforeNamesDiffer {
    holders: Vec<Holder>,
    companions: Vec<(IdentifierKind, u64)>,
    names: Vec<u64>,
    quarantined: bool,
    anchors: Vec<u64>,
}

/// A review-queue pair as releases before `since_lineage` wrote it: read
/// only to see where such a pair ends.
#[derive(Serialize, Deserialize)]
struct PendingBeforeSince {
    profile_a: String,
    profile_b: String,
    rule: String,
    rule_version: i32,
    kinds: Vec<String>,
    reason: String,
    at_ms: i64,
}

/// Whether `body` is exactly one `T`, nothing left over.
fn exactly<T: DeserializeOwned>(body: &[u8]) -> bool {
    matches!(postcard::take_from_bytes::<T>(body), Ok((_, rest)) if rest.is_empty())
}

/// Reads a postcard body of `family`. An index entry written by an older
/// release ends where its later fields would start: when the body is
/// exactly such an entry, it is read with their empty values appended
/// (postcard writes an empty sequence and `false` as one zero byte each):
/// before `anchors` (linking version 26 and earlier) two, before
/// `names_differ` (27 and 28) one. So is a review-queue pair written before
/// `since_lineage` (`None` is one zero byte too). Any other error stands
/// (an entry cut inside its anchors is no older entry).
fn from_postcard<T: DeserializeOwned>(family: &str, body: &[u8]) -> postcard::Result<T> {
    match postcard::from_bytes(body) {
        Err(postcard::Error::DeserializeUnexpectedEnd)
            if family == cf::IDENTIFIERS || family == cf::SUGGESTIONS =>
        {
            let missing = if family == cf::SUGGESTIONS {
                if exactly::<PendingBeforeSince>(body) {
                    1
                } else {
                    return Err(postcard::Error::DeserializeUnexpectedEnd);
                }
            } else if exactly::<EntryBeforeAnchors>(body) {
                2
            } else if exactly::<EntryBeforeNamesDiffer>(body) {
                1
            } else {
                return Err(postcard::Error::DeserializeUnexpectedEnd);
            };
            let mut longer = Vec::with_capacity(body.len() + missing);
            longer.extend_from_slice(body);
            longer.resize(body.len() + missing, 0);
            postcard::from_bytes(&longer)
        }
        read => read,
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    family: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        what: family,
        key: key.to_string(),
        message,
    };
    match bytes.split_first() {
        Some((&FORMAT_POSTCARD_V1, body)) => {
            from_postcard(family, body).map_err(|e| corrupt(e.to_string()))
        }
        Some((format, _)) => Err(corrupt(format!("unknown value format {format}"))),
        None => Err(corrupt("empty value".into())),
    }
}

/// Follows redirects from `profile_id` (`next` gives the id one redirects
/// to) to the id at the end of the chain. A chain has no length limit: each
/// merge of a survivor adds a step for the ids it had absorbed, and a
/// backfill arriving newest-first can nest merges as deep as it likes; only
/// an id seen twice (a cycle, which no write makes) is an error.
pub(crate) fn walk_redirects(
    profile_id: &str,
    mut next: impl FnMut(&str) -> Result<Option<String>, StoreError>,
) -> Result<String, StoreError> {
    let mut id = profile_id.to_string();
    let mut seen = std::collections::HashSet::new();
    while let Some(to) = next(&id)? {
        if !seen.insert(std::mem::replace(&mut id, to)) {
            return Err(StoreError::RedirectCycle(profile_id.to_string()));
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service's snapshots ran only after a batch of new events, so a
    /// quiet store kept one taken before an erasure for good. `every` runs
    /// on its own clock, and stops when dropped.
    #[test]
    fn work_on_a_clock_runs_without_traffic_and_stops_when_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(Store::open(dir.path()).expect("store"));
        let runs = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&runs);
        let task = store
            .every(
                "test-clock",
                std::time::Duration::from_millis(20),
                move |_| {
                    counted.fetch_add(1, Ordering::Relaxed);
                },
            )
            .expect("spawn");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while runs.load(Ordering::Relaxed) < 3 {
            assert!(std::time::Instant::now() < deadline, "ran {runs:?}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(task);
        let stopped_at = runs.load(Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(
            runs.load(Ordering::Relaxed),
            stopped_at,
            "stopped when dropped"
        );
    }

    /// A value of a family keyed by sequence that does not decode is
    /// named by its number, not by eight raw bytes.
    #[test]
    fn a_corrupt_outbox_entry_is_named_by_its_sequence() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let mut batch = WriteBatch::default();
        store.put(&mut batch, cf::OUTBOX, &200u64.to_be_bytes(), b"\x01\xff");
        store.write(batch).expect("written");
        let err = store.outbox().expect_err("corrupt").to_string();
        assert!(err.contains("outbox under key \"#200\""), "{err}");
    }

    /// An index entry as linking version 26 and earlier wrote it: no
    /// anchors. It reads with none, and the rest as written.
    #[test]
    fn an_index_entry_written_before_anchors_reads_with_none() {
        let holders = vec![Holder {
            profile_id: "kp-1".into(),
            first_ms: 1,
            last_ms: 2,
        }];
        let old = encode(&EntryBeforeAnchors {
            holders: holders.clone(),
            companions: vec![(IdentifierKind::Email, 7)],
            names: vec![9],
            quarantined: true,
        });
        let read: IndexEntry = decode("identifiers", "k", &old).expect("reads");
        assert_eq!(
            read,
            IndexEntry {
                holders,
                companions: vec![(IdentifierKind::Email, 7)],
                names: vec![9],
                quarantined: true,
                anchors: Vec::new(),
                names_differ: false,
            }
        );
        // Today's entries keep their anchors; one cut inside them is an
        // error, not an entry without them; so is an old shape elsewhere.
        let now = IndexEntry {
            anchors: vec![u64::MAX, u64::MAX - 1],
            ..read
        };
        let bytes = encode(&now);
        let read = |b: &[u8]| decode::<IndexEntry>("identifiers", "k", b);
        assert_eq!(read(&bytes).expect("reads"), now);
        assert!(read(&bytes[..bytes.len() - 3]).is_err());
        assert!(read(&bytes[..4]).is_err());
        assert!(decode::<IndexEntry>("profiles", "k", &old).is_err());
        // And as JSON, written with and without anchors.
        let text = serde_json::to_string(&now).expect("writes");
        assert_eq!(
            serde_json::from_str::<IndexEntry>(&text).expect("reads"),
            now
        );
        let without = text.replace(
            r#","anchors":[18446744073709551615,18446744073709551614]"#,
            "",
        );
        assert!(!without.contains("anchors"), "{without}");
        let json: IndexEntry = serde_json::from_str(&without).expect("reads");
        assert!(json.anchors.is_empty());
    }

    /// A review-queue pair as releases before `since_lineage` wrote it
    /// reads with none (no check of changes since); today's keep it.
    #[test]
    fn a_waiting_pair_written_before_since_lineage_reads_with_none() {
        let old = encode(&PendingBeforeSince {
            profile_a: "kp-1".into(),
            profile_b: "kp-2".into(),
            rule: "phone".into(),
            rule_version: 1,
            kinds: vec!["phone".into()],
            reason: "name_mismatch".into(),
            at_ms: 5,
        });
        let read: PendingSuggestion = decode(cf::SUGGESTIONS, "k", &old).expect("reads");
        assert_eq!(read.since_lineage, None);
        assert_eq!((read.profile_b.as_str(), read.at_ms), ("kp-2", 5));
        let now = PendingSuggestion {
            since_lineage: Some(u64::MAX),
            ..read
        };
        let bytes = encode(&now);
        let read = |b: &[u8]| decode::<PendingSuggestion>(cf::SUGGESTIONS, "k", b);
        assert_eq!(read(&bytes).expect("reads"), now);
        assert!(read(&bytes[..bytes.len() - 2]).is_err(), "cut inside it");
        assert!(decode::<PendingSuggestion>(cf::PROFILES, "k", &old).is_err());
    }

    /// An index entry as linking versions 27 and 28 wrote it: anchors, no
    /// `names_differ`. It reads with `false`; today's entries keep the flag.
    #[test]
    fn an_index_entry_written_before_names_differ_reads_without_it() {
        let old = encode(&EntryBeforeNamesDiffer {
            holders: Vec::new(),
            companions: vec![(IdentifierKind::Phone, 3)],
            names: vec![1, 2],
            quarantined: false,
            anchors: vec![u64::MAX],
        });
        let read: IndexEntry = decode("identifiers", "k", &old).expect("reads");
        assert_eq!(
            read,
            IndexEntry {
                holders: Vec::new(),
                companions: vec![(IdentifierKind::Phone, 3)],
                names: vec![1, 2],
                quarantined: false,
                anchors: vec![u64::MAX],
                names_differ: false,
            }
        );
        let now = IndexEntry {
            names_differ: true,
            ..read
        };
        let bytes = encode(&now);
        assert_eq!(
            decode::<IndexEntry>("identifiers", "k", &bytes).expect("reads"),
            now
        );
        // Cut inside the anchors: neither shape, an error.
        assert!(decode::<IndexEntry>("identifiers", "k", &old[..old.len() - 2]).is_err());
    }
}
