//! One typed configuration for every kindred service.
//!
//! Sources, later ones overriding earlier ones:
//! 1. the defaults documented on each field below;
//! 2. a TOML file (`--config FILE`);
//! 3. environment variables `KINDRED_<SECTION>__<KEY>`, e.g.
//!    `KINDRED_KAFKA__BROKERS=10.0.0.5:9092`;
//!    Pass-through Kafka client properties have their own form,
//!    `KINDRED_KAFKA_CLIENT_<PROPERTY>` with `_` for `.`, e.g.
//!    `KINDRED_KAFKA_CLIENT_SASL_PASSWORD` sets `sasl.password` (the way to
//!    hand a secret from a Kubernetes Secret to the service);
//! 4. command-line flags: a few named ones (`--brokers`), and `--set
//!    KEY=VALUE` for any key (`--set resolver.batch_size=2000`,
//!    `--set kafka.client.security.protocol=SASL_SSL`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub topics: TopicsConfig,
    pub schemas: SchemasConfig,
    pub ingest: IngestConfig,
    pub resolver: ResolverConfig,
    pub normalize: NormalizeConfig,
    pub http: HttpConfig,
    pub shutdown: ShutdownConfig,
    pub privacy: PrivacyConfig,
}

/// `[privacy]`: how personal data is protected at rest and after erasure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The keyring (`kindred keys generate` writes one): its HMAC key makes
    /// the store's index keys, its AES-256-GCM keys seal stored personal
    /// data. The environment variable `KINDRED_KEYRING` may hold the
    /// keyring's text instead. Default: none, and the resolver refuses to
    /// start without one unless `plaintext_store` is set.
    pub keyring_file: Option<PathBuf>,
    /// Run the resolver with raw identifiers as index keys and stored values
    /// unencrypted. For throw-away demos only. Default false.
    pub plaintext_store: bool,
    /// After an erasure, keep a keyed hash of each of the person's
    /// identifiers, so that later events or a replay carrying one do not
    /// bring the person back (such events are dropped and counted).
    /// Default true.
    pub suppress_erased: bool,
    /// `[privacy.output]`: how each personal field of a golden record
    /// leaves on each output topic that carries golden records.
    pub output: OutputConfig,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            keyring_file: None,
            plaintext_store: false,
            suppress_erased: true,
            output: OutputConfig::default(),
        }
    }
}

/// How one personal field of a golden record leaves on an output topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldPolicy {
    /// As stored: the normalized value. Only where every reader may see it.
    Raw,
    /// `hmac:` and 32 hex digits: HMAC-SHA256 under the keyring's HMAC key,
    /// in a domain of its own (`output`), so the same value gives the same
    /// hash on every output topic and in every run (downstream can join on
    /// it) but it is not the store's index key, and nobody without the key
    /// can test a guess. Needs a keyring: the resolver refuses to start
    /// when a field is `hashed` and it has none (`plaintext_store`).
    Hashed,
    /// Partly hidden for people to recognise: phones `+86****876`,
    /// emails `j***@example.com`, other identifiers `MA****67`, names
    /// `M**** S****`, birthdays `1990-**-**`, addresses keep country,
    /// region, city and the first two characters of the postal code.
    Masked,
    /// Left out: identifiers of the kind are removed, attributes are absent.
    Omitted,
}

impl FieldPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldPolicy::Raw => "raw",
            FieldPolicy::Hashed => "hashed",
            FieldPolicy::Masked => "masked",
            FieldPolicy::Omitted => "omitted",
        }
    }
}

/// `[privacy.output]`: the personal-data policy of each output topic that
/// carries golden records. No raw personal data leaves unless configured
/// `raw`. The quarantine topic is masked by construction and the erasure
/// audit carries keyed hashes only; neither has a policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// `[privacy.output.profiles]`: the profile topic (`topics.profiles`),
    /// read by every downstream subscriber. Defaults as [`OutputPolicy`].
    pub profiles: OutputPolicy,
    /// `[privacy.output.review]`: both golden records of each review pair
    /// (`topics.review`). Same defaults: a reviewer reads masked names and
    /// contacts and tells equal member cards or social ids by equal hashes;
    /// an operator who may see everything uses `kindred explain` on the store.
    pub review: OutputPolicy,
}

/// One topic's policy, per personal field of the golden record: each of
/// `raw`, `hashed`, `masked` or `omitted` ([`FieldPolicy`]).
///
/// Defaults: identifiers hashed (member cards, social ids, web accounts,
/// devices: stable join keys, unreadable without the key), contact fields
/// masked (phones, emails, names, address), birthday masked to its year,
/// gender raw (it identifies nobody alone; set `omitted` to leave it out).
/// The rest of the golden record (activity, orders, spend, points, skus,
/// consents, provenance event ids) is not personal data by itself and is
/// always published as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputPolicy {
    /// Loyalty member card identifiers. Default `hashed`.
    pub member_id: FieldPolicy,
    /// Phone identifiers (E.164). Default `masked`.
    pub phone: FieldPolicy,
    /// Email identifiers. Default `masked`.
    pub email: FieldPolicy,
    /// Social platform ids (`wechat:...`). Default `hashed`.
    pub social: FieldPolicy,
    /// Web-shop account ids. Default `hashed`.
    pub account: FieldPolicy,
    /// Browser and device ids. Default `hashed`.
    pub device: FieldPolicy,
    /// `full_name`. Default `masked`.
    pub full_name: FieldPolicy,
    /// `given_name`. Default `masked`.
    pub given_name: FieldPolicy,
    /// `family_name`. Default `masked`.
    pub family_name: FieldPolicy,
    /// `birthday` (masked: the year only). Default `masked`.
    pub birthday: FieldPolicy,
    /// `gender` (masked keeps the first letter, which gives it away: use
    /// `omitted` to hide it). Default `raw`.
    pub gender: FieldPolicy,
    /// `address`, each of its parts (hashed: each part on its own).
    /// Default `masked`.
    pub address: FieldPolicy,
}

impl Default for OutputPolicy {
    fn default() -> Self {
        use FieldPolicy::*;
        OutputPolicy {
            member_id: Hashed,
            phone: Masked,
            email: Masked,
            social: Hashed,
            account: Hashed,
            device: Hashed,
            full_name: Masked,
            given_name: Masked,
            family_name: Masked,
            birthday: Masked,
            gender: Raw,
            address: Masked,
        }
    }
}

impl OutputPolicy {
    /// Every field raw: the golden record as stored.
    pub fn all_raw() -> Self {
        OutputPolicy::all(FieldPolicy::Raw)
    }

    /// Every field under one policy.
    pub fn all(policy: FieldPolicy) -> Self {
        OutputPolicy {
            member_id: policy,
            phone: policy,
            email: policy,
            social: policy,
            account: policy,
            device: policy,
            full_name: policy,
            given_name: policy,
            family_name: policy,
            birthday: policy,
            gender: policy,
            address: policy,
        }
    }

    /// The policy of identifiers of `kind`.
    pub fn identifier(&self, kind: kindred_model::IdentifierKind) -> FieldPolicy {
        use kindred_model::IdentifierKind as K;
        match kind {
            K::MemberId => self.member_id,
            K::Phone => self.phone,
            K::Email => self.email,
            K::Social => self.social,
            K::Account => self.account,
            K::Device => self.device,
        }
    }

    /// Each field by its key, in declaration order.
    pub fn fields(&self) -> [(&'static str, FieldPolicy); 12] {
        // Destructured: a field added to the struct and not listed here
        // fails to compile.
        let OutputPolicy {
            member_id,
            phone,
            email,
            social,
            account,
            device,
            full_name,
            given_name,
            family_name,
            birthday,
            gender,
            address,
        } = *self;
        [
            ("member_id", member_id),
            ("phone", phone),
            ("email", email),
            ("social", social),
            ("account", account),
            ("device", device),
            ("full_name", full_name),
            ("given_name", given_name),
            ("family_name", family_name),
            ("birthday", birthday),
            ("gender", gender),
            ("address", address),
        ]
    }
}

impl OutputConfig {
    /// Each topic's policy by its key (`profiles`, `review`).
    pub fn topics(&self) -> [(&'static str, &OutputPolicy); 2] {
        [("profiles", &self.profiles), ("review", &self.review)]
    }

    /// The full keys (`privacy.output.profiles.member_id`) of every field
    /// set to `policy`.
    pub fn keys_with(&self, policy: FieldPolicy) -> Vec<String> {
        self.topics()
            .into_iter()
            .flat_map(|(topic, p)| {
                p.fields()
                    .into_iter()
                    .filter(move |(_, f)| *f == policy)
                    .map(move |(field, _)| format!("privacy.output.{topic}.{field}"))
            })
            .collect()
    }
}

/// `[kafka]`: how to reach the cluster. Its `Debug` form masks secrets as
/// [`Config::to_masked_toml`] does.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`. Default `127.0.0.1:9092` (the local script's broker).
    pub brokers: String,
    /// Prefix of consumer group ids: groups are `<prefix>.ingest.<channel>`
    /// and `<prefix>.resolve`. Default `kindred`.
    pub group_prefix: String,
    /// librdkafka properties passed through unchanged (e.g. `security.protocol`,
    /// `sasl.mechanisms`, `ssl.ca.location`). Default empty. Properties
    /// kindred sets per client for its guarantees (`group.id`,
    /// `transactional.id`, `enable.auto.commit`, `isolation.level`, `acks`,
    /// ...: [`owned_client_property`]) are refused. A number or boolean
    /// written without quotes (`"session.timeout.ms" = 45000`) is taken as
    /// its text, as librdkafka wants it.
    #[serde(deserialize_with = "properties")]
    pub client: BTreeMap<String, String>,
    /// The consumer group protocol of every consumer group kindred joins.
    /// Default `classic` (every broker has it). `consumer` is KIP-848's
    /// protocol, which brokers from Apache Kafka 4.0 on serve: the broker
    /// assigns partitions, one member at a time, with no group-wide pause,
    /// and heartbeats, the session timeout and the assignor are the
    /// broker's settings (`group.consumer.*`), not the client's.
    pub group_protocol: GroupProtocol,
}

/// `kafka.group_protocol`: how kindred's consumers form their groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupProtocol {
    /// The classic protocol: kindred's consumers use the cooperative-sticky
    /// assignor, a 15 s session timeout and 3 s heartbeats.
    #[default]
    Classic,
    /// KIP-848 (`group.protocol=consumer`): needs Apache Kafka 4.0 or later.
    Consumer,
}

impl GroupProtocol {
    /// As written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupProtocol::Classic => "classic",
            GroupProtocol::Consumer => "consumer",
        }
    }
}

/// A string, or a number or boolean written without quotes (TOML, an
/// environment variable, `--set`): its text.
fn scalar_as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Scalar;
    impl serde::de::Visitor<'_> for Scalar {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string, number or boolean")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_string<E>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_bool<E>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_char<E>(self, v: char) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Scalar)
}

/// `[kafka.client]`: property name -> value, scalars taken as text.
fn properties<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    struct Text(#[serde(deserialize_with = "scalar_as_string")] String);
    let map = BTreeMap::<String, Text>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, Text(v))| (k, v)).collect())
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("group_prefix", &self.group_prefix)
            .field("client", &masked(&self.client))
            .field("group_protocol", &self.group_protocol)
            .finish()
    }
}

/// `client` with the value of every secret property replaced by `********`.
fn masked(client: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    client
        .iter()
        .map(|(k, v)| {
            let v = if is_secret(k) { "********" } else { v };
            (k.clone(), v.to_string())
        })
        .collect()
}

/// `[topics]`: names and shapes of the topics kindred uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicsConfig {
    /// Raw POS transactions. Default `retail.pos.events`.
    pub pos: String,
    /// Raw web-shop events. Default `retail.web.events`.
    pub web: String,
    /// Raw social interactions. Default `retail.social.events`.
    pub social: String,
    /// Canonical (normalized) events. Default `kindred.canonical.events`.
    pub canonical: String,
    /// Profile change events, compacted, keyed by profile id. Default `kindred.profile.changes`.
    pub profiles: String,
    /// Dead letters. Default `kindred.deadletter`.
    pub dead_letter: String,
    /// Review queue: pairs of profiles a guard or a suggest rule flagged,
    /// keyed by the pair, compacted. Default `kindred.review.suggestions`.
    pub review: String,
    /// Identifiers quarantined as over-shared (masked value, digest, kind).
    /// Default `kindred.quarantine`.
    pub quarantine: String,
    /// The resolver's publish progress: one record per transactional id,
    /// written in the same Kafka transaction as the outputs it covers;
    /// compacted, one partition. Default `kindred.resolve.progress`.
    pub progress: String,
    /// Erasure requests (`{"email": ...}`, `{"phone": ...}`, `{"member": ...}`
    /// or `{"profile": ...}` as JSON), read by the resolver in order with the
    /// events. Default `kindred.erasure.requests`.
    pub erasure_requests: String,
    /// One audit record per erasure request: a keyed hash of the request,
    /// the time and the outcome; never a raw value. Default `kindred.erasure.audit`.
    pub erasure_audit: String,
    /// Decisions by people (review approvals and rejects, splits) as they
    /// are pinned on events: the store's `constraints` changelog, keyed by
    /// event id, compacted; `kindred rebuild` reads it back. Event ids and
    /// decision numbers only. Default `kindred.decisions`.
    pub decisions: String,
    /// Review and split decisions sent to the running resolver (`kindred
    /// review ... --live`, `kindred split ... --live`), JSON, applied in
    /// order with the events; one partition. Default `kindred.decision.requests`.
    pub decision_requests: String,
    /// What became of each decision request (applied, with the decision's
    /// number and the profiles it left, or refused, with why), JSON keyed
    /// by request id. Default `kindred.decision.outcomes`.
    pub decision_outcomes: String,
    /// Partitions for topics `kindred topics create` makes. Default 3.
    pub partitions: i32,
    /// Replication factor for topics `kindred topics create` makes. Default 1.
    /// From 3 up, the topics also get `min.insync.replicas` = a majority.
    pub replication_factor: i32,
    /// The longest an erased person's earlier records stay on the compacted
    /// profile and review topics: their `max.compaction.lag.ms`, which also
    /// makes the broker roll the active segment (never compacted) by then,
    /// at the next record it appends. Without it a quiet topic keeps them
    /// for as long as its segment is not full. Default 604800000 (7 days).
    pub compaction_deadline_ms: i64,
    /// How long the cleaner keeps an erased person's tombstone on those
    /// topics (`delete.retention.ms`): a downstream consumer away longer
    /// than this may miss the erasure and must then read the topic anew
    /// from the beginning. Default 604800000 (7 days; Kafka's own is 1 day).
    pub tombstone_retention_ms: i64,
}

impl TopicsConfig {
    /// Each topic with its key.
    fn named(&self) -> [(&'static str, &str); 14] {
        [
            ("topics.pos", &self.pos),
            ("topics.web", &self.web),
            ("topics.social", &self.social),
            ("topics.canonical", &self.canonical),
            ("topics.profiles", &self.profiles),
            ("topics.dead_letter", &self.dead_letter),
            ("topics.review", &self.review),
            ("topics.quarantine", &self.quarantine),
            ("topics.progress", &self.progress),
            ("topics.erasure_requests", &self.erasure_requests),
            ("topics.erasure_audit", &self.erasure_audit),
            ("topics.decisions", &self.decisions),
            ("topics.decision_requests", &self.decision_requests),
            ("topics.decision_outcomes", &self.decision_outcomes),
        ]
    }

    /// Names Kafka refuses, and one topic given two jobs (a service would
    /// read its own output).
    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, name) in self.named() {
            let legal = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if name.is_empty() || name.len() > 249 || !legal || name == "." || name == ".." {
                problems.push((
                    key,
                    format!(
                        "{name:?} is not a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-')"
                    ),
                ));
            }
            // Named on both keys: either may be the one set by mistake
            // (a file's review topic named as the default quarantine's).
            match seen.insert(name, key) {
                Some(other) if other != key => {
                    problems.push((
                        other,
                        format!("{name:?} is also {key}: each topic has one job"),
                    ));
                    problems.push((
                        key,
                        format!("{name:?} is also {other}: each topic has one job"),
                    ));
                }
                _ => {}
            }
        }
        problems
    }
}

/// `[schemas]`: Confluent schema ids of each schema version in `schemas/`,
/// and the framing of each raw channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchemasConfig {
    /// Schema version name -> Confluent schema id. Current versions are named
    /// after their file (`pos_transaction`), released older ones with their
    /// version (`pos_transaction.v1`). Defaults: pos_transaction 1, web_event 2,
    /// social_interaction 3, canonical_event 4, profile_change 5,
    /// pos_transaction.v1 11, web_event.v1 12, social_interaction.v1 13,
    /// profile_change.v1 14.
    /// Map them to your schema registry's ids.
    pub ids: BTreeMap<String, u32>,
    /// `[[schemas.writers]]`: schemas your producers registered themselves,
    /// each read as the current version of one of kindred's: a producer's
    /// own evolution of a schema (fields added, reordered, or dropped where
    /// kindred's version has a default), or the same layout under another
    /// registry id. Checked at start: the current version must be able to
    /// read data written with it. Default none.
    pub writers: Vec<WriterSchema>,
    /// Framing per raw channel: `confluent` (Avro) or `json`. Default all `confluent`.
    pub framing: BTreeMap<String, String>,
    /// Messages larger than this go to the dead-letter topic. Default 1048576 (1 MiB).
    pub max_message_bytes: usize,
    /// `[schemas.registry]`: a Confluent-compatible schema registry that
    /// owns the schema ids. Default none: ids come from `ids` and `writers`.
    pub registry: RegistryConfig,
}

/// `[schemas.registry]`. With a `url`, the registry owns every schema id:
/// `ids` and `writers` are not used. Each id a message carries is fetched
/// once (`GET /schemas/ids/{id}`), and each schema kindred writes is
/// registered under its topic's subject (`<topic>-value`) at start.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Base URL (`https://registry:8081`; a path prefix is kept). Default
    /// empty: no registry.
    pub url: String,
    /// HTTP basic-auth user (Confluent Cloud: the API key). Default none.
    pub username: Option<String>,
    /// HTTP basic-auth password (Confluent Cloud: the API secret): from the
    /// file or `KINDRED_SCHEMAS__REGISTRY__PASSWORD`, never a flag. Default none.
    pub password: Option<String>,
    /// PEM file of CA certificates to trust besides the system's. Default none.
    pub ca_file: Option<PathBuf>,
    /// Longest wait for one call to the registry, in milliseconds. Default 10000.
    pub timeout_ms: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            url: String::new(),
            username: None,
            password: None,
            ca_file: None,
            timeout_ms: 10_000,
        }
    }
}

impl RegistryConfig {
    /// Whether a registry is configured.
    pub fn enabled(&self) -> bool {
        !self.url.trim().is_empty()
    }

    fn masked(&self) -> RegistryConfig {
        RegistryConfig {
            url: url_without_credentials(&self.url),
            password: self.password.as_ref().map(|_| "********".to_string()),
            ..self.clone()
        }
    }
}

/// `url` with a `user:password@` part replaced by `********@`.
fn url_without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://********@{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.masked();
        f.debug_struct("RegistryConfig")
            .field("url", &shown.url)
            .field("username", &shown.username)
            .field("password", &shown.password)
            .field("ca_file", &shown.ca_file)
            .field("timeout_ms", &shown.timeout_ms)
            .finish()
    }
}

/// One `[[schemas.writers]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterSchema {
    /// The schema id your registry gave it (what its messages carry).
    pub id: u32,
    /// The kindred schema its records are: `pos_transaction`, `web_event`
    /// or `social_interaction` (or `canonical_event`, `profile_change`).
    pub reads_as: String,
    /// The `.avsc` file holding it (as the registry returns it).
    pub file: PathBuf,
}

/// `[ingest]`: the channel consumer services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Most messages handled per batch. Default 500.
    pub batch_size: usize,
    /// Most bytes (keys and payloads as read) handled per batch: a batch
    /// ends at the message that reaches it, so that a backlog of near-1 MB
    /// records under a long linger does not hold hundreds of them (and
    /// their dead letters) in memory at once. Default 33554432 (32 MiB).
    pub batch_max_bytes: u64,
    /// Longest wait for a batch to fill, in milliseconds. Default 50.
    pub batch_linger_ms: u64,
}

/// `[resolver]`: the identity resolver service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResolverConfig {
    /// Directory of the RocksDB golden-record store. Default `./data/resolver`.
    pub data_dir: PathBuf,
    /// Most events applied per batch (one atomic write). Default 1000.
    pub batch_size: usize,
    /// Most bytes (keys and payloads as read) applied per batch, as
    /// `ingest.batch_max_bytes`. Default 33554432 (32 MiB).
    pub batch_max_bytes: u64,
    /// Longest wait for a batch to fill, in milliseconds. Default 50.
    pub batch_linger_ms: u64,
    /// `[resolver.linking]`: which identifiers and match rules link records,
    /// their windows and guards (see `kindred_model::LinkPolicy`).
    pub linking: kindred_model::LinkPolicy,
    /// `[resolver.survivorship]`: which value of each attribute wins
    /// (see `kindred_model::Survivorship`).
    pub survivorship: kindred_model::Survivorship,
    /// The Kafka `transactional.id` of the outbox publisher. Keep it stable
    /// across restarts of one resolver (a restart then fences the old
    /// process and resumes its progress). Default `<group_prefix>.resolve`.
    pub transactional_id: Option<String>,
    /// Start on an empty store although the progress topic shows that
    /// another store published under this `transactional_id` before.
    /// Default false: an empty data directory there is taken for a lost or
    /// unmounted volume (replaying what the topics still hold into a new
    /// store would renumber every profile and apply erasures out of order);
    /// restore a snapshot (`kindred restore`) or rebuild (`kindred
    /// rebuild`) instead, or set this for a deliberate fresh start.
    pub allow_new_store: bool,
    /// fsync the store's write-ahead log on every batch, so a batch that
    /// was applied survives a power loss too. Default true.
    pub sync_writes: bool,
    /// Most outbox records published in one Kafka transaction. Default 5000.
    pub transaction_max_records: usize,
    /// Most bytes (keys and values) of outbox records published in one Kafka
    /// transaction, whichever of the two limits comes first (one record at
    /// least). Default 33554432 (32 MiB).
    pub transaction_max_bytes: usize,
    /// The resolver stops consuming while more outputs than this wait in the
    /// outbox (the broker is slow or down): the backlog lives on disk, and
    /// stays bounded. Default 100000.
    pub outbox_max_backlog: u64,
    /// Where the running resolver writes snapshots of its store (RocksDB
    /// checkpoints, `snapshot-<unix millis>`); restore one with `kindred
    /// restore`. Put it on the store's filesystem: checkpoints hard-link
    /// the table files. Default none (no snapshots).
    pub snapshot_dir: Option<PathBuf>,
    /// Seconds between snapshots when `snapshot_dir` is set. Default 3600.
    pub snapshot_interval_secs: u64,
    /// Snapshots kept; older ones are removed. Default 3.
    pub snapshot_keep: usize,
}

/// `[shutdown]`: how services stop on SIGTERM or SIGINT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After the signal, a service stops reading, finishes the batch in
    /// flight, publishes and commits what it can, and exits within this
    /// many seconds (whatever is unfinished is redone after the restart:
    /// nothing is lost). Keep it below Kubernetes'
    /// `terminationGracePeriodSeconds`. Default 8; at most 86,400.
    pub timeout_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig { timeout_secs: 8 }
    }
}

/// `[normalize]`: how raw values are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeConfig {
    /// ISO 3166 region for national phone numbers (no `+`). Default `CN`.
    pub default_region: String,
    /// Loyalty program of member cards whose event names none. Default `MAIN`.
    pub default_loyalty_program: String,
    /// How `03/04/1990` is read: `day_first` (3 April) or `month_first`,
    /// where the event names no region with a convention of its own (see
    /// `date_order_from_event`). Default `day_first`.
    pub date_order: String,
    /// Read `03/04/1990` as the country of the event's address writes dates
    /// (never by an order's currency): month first in the United
    /// States, its territories, the Philippines and Panama, day first in
    /// most other regions (CLDR's short date formats); `date_order` where
    /// the region writes the year first or names none. Default true.
    pub date_order_from_event: bool,
    /// Match Gmail addresses without dots and `+tags` (and `+tags` at
    /// Outlook, iCloud, ...). Changes match keys only, never stored values. Default true.
    pub email_provider_rules: bool,
    /// Identifiers that must never link anyone, as `kind:value`, e.g. a
    /// store's counter phone `phone:+862155550000` (or `phone:021 5555 0000`,
    /// read in `default_region`): each is normalized as the same value in an
    /// event is, and one that cannot be an identifier of its kind is refused
    /// at start. Default empty.
    pub blocklist: Vec<String>,
    /// Read a national phone number first in the region its event names (a
    /// web event's address country, else its e-mail's country-code domain,
    /// `docomo.ne.jp`: JP, only for a mobile there that is a landline at
    /// home; a sale's store, from `store_regions`, or
    /// else its currency when one country uses it: SGD, GBP, JPY, ..., not
    /// EUR), then in `default_region`. Default true.
    pub phone_region_from_event: bool,
    /// Where the stores stand, for national phone numbers typed at their
    /// tills: store-id prefix -> ISO 3166 region (`{ "FR" = "FR", "DE0" =
    /// "DE", "S-0042" = "AT" }`; the longest prefix wins). What a currency
    /// several countries share (EUR) cannot say. Default empty.
    pub store_regions: BTreeMap<String, String>,
    /// An event whose time is more than this many seconds ahead of the
    /// ingest service's clock is dead-lettered (`event_time_in_future`):
    /// kept, it would move the resolver's watermark, and every profile's
    /// recency, ahead for good. 0: no limit. Default 86400 (a day).
    pub max_future_secs: u64,
}

/// `[http]`: the /metrics, /healthz, /readyz endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address; port 0 picks a free port. Default `127.0.0.1:9464`.
    pub listen: String,
    /// `/healthz` fails when the poll loop made no progress for this long, in seconds. Default 60; at most 86,400.
    pub stall_timeout_secs: u64,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            group_prefix: "kindred".into(),
            client: BTreeMap::new(),
            group_protocol: GroupProtocol::Classic,
        }
    }
}

impl Default for TopicsConfig {
    fn default() -> Self {
        TopicsConfig {
            pos: "retail.pos.events".into(),
            web: "retail.web.events".into(),
            social: "retail.social.events".into(),
            canonical: "kindred.canonical.events".into(),
            profiles: "kindred.profile.changes".into(),
            dead_letter: "kindred.deadletter".into(),
            review: "kindred.review.suggestions".into(),
            quarantine: "kindred.quarantine".into(),
            progress: "kindred.resolve.progress".into(),
            erasure_requests: "kindred.erasure.requests".into(),
            erasure_audit: "kindred.erasure.audit".into(),
            decisions: "kindred.decisions".into(),
            decision_requests: "kindred.decision.requests".into(),
            decision_outcomes: "kindred.decision.outcomes".into(),
            partitions: 3,
            replication_factor: 1,
            compaction_deadline_ms: 604_800_000,
            tombstone_retention_ms: 604_800_000,
        }
    }
}

impl Default for SchemasConfig {
    fn default() -> Self {
        SchemasConfig {
            ids: [
                ("pos_transaction", 1),
                ("web_event", 2),
                ("social_interaction", 3),
                ("canonical_event", 4),
                ("profile_change", 5),
                ("pos_transaction.v1", 11),
                ("web_event.v1", 12),
                ("social_interaction.v1", 13),
                ("profile_change.v1", 14),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            writers: Vec::new(),
            framing: BTreeMap::new(),
            max_message_bytes: 1 << 20,
            registry: RegistryConfig::default(),
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            batch_size: 500,
            batch_max_bytes: 32 << 20,
            batch_linger_ms: 50,
        }
    }
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            data_dir: PathBuf::from("./data/resolver"),
            batch_size: 1000,
            batch_max_bytes: 32 << 20,
            batch_linger_ms: 50,
            linking: kindred_model::LinkPolicy::default(),
            survivorship: kindred_model::Survivorship::default(),
            transactional_id: None,
            allow_new_store: false,
            sync_writes: true,
            transaction_max_records: 5000,
            transaction_max_bytes: 33_554_432,
            outbox_max_backlog: 100_000,
            snapshot_dir: None,
            snapshot_interval_secs: 3600,
            snapshot_keep: 3,
        }
    }
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        NormalizeConfig {
            default_region: "CN".into(),
            default_loyalty_program: "MAIN".into(),
            date_order: "day_first".into(),
            date_order_from_event: true,
            email_provider_rules: true,
            blocklist: Vec::new(),
            phone_region_from_event: true,
            store_regions: BTreeMap::new(),
            max_future_secs: 86_400,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:9464".into(),
            stall_timeout_secs: 60,
        }
    }
}

/// A configuration that could not be loaded; the message names the key or file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    /// One line per problem: `FILE:LINE: KEY: what is wrong` (or the
    /// environment variable or flag that set the key).
    #[error("invalid configuration:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("invalid configuration: {key}: {message}")]
    Value { key: &'static str, message: String },
}

/// Consumer properties of the classic group protocol only: librdkafka
/// refuses them with `group.protocol=consumer` (the broker decides them).
pub const CLASSIC_GROUP_PROPERTIES: &[&str] = &[
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "partition.assignment.strategy",
    "group.protocol.type",
];

/// Why kindred owns a librdkafka property, if it does: `[kafka.client]`
/// may not set it.
pub fn owned_client_property(key: &str) -> Option<&'static str> {
    Some(match key {
        "bootstrap.servers" | "metadata.broker.list" => "use kafka.brokers",
        "group.id" => "from kafka.group_prefix",
        "group.protocol" => "use kafka.group_protocol",
        "group.instance.id" => "one per replica: the resolver's is resolver.transactional_id",
        "transactional.id" => "one per resolver: set resolver.transactional_id",
        "enable.auto.commit" | "enable.auto.offset.store" => {
            "offsets are committed only after a batch's outputs are acknowledged"
        }
        "isolation.level" => "the resolver reads committed data only",
        "enable.idempotence" | "acks" | "request.required.acks" => {
            "outputs are acknowledged by all in-sync replicas, once"
        }
        "auto.offset.reset" => "a partition never read starts at its beginning",
        "enable.partition.eof" => "readers of whole topics stop at each partition's end",
        "message.max.bytes" => "kindred sizes its records to the default 1,000,000 bytes",
        _ => return None,
    })
}

/// The largest timeout a configuration may set, in seconds (a day).
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

/// The shortest `resolver.snapshot_interval_secs` taken (with a
/// `snapshot_dir`).
pub const MIN_SNAPSHOT_INTERVAL_SECS: u64 = 60;

/// The profile topic's `min.compaction.lag.ms` (`kindred topics create`):
/// a change stays readable for a minute before compaction may drop it.
/// `topics.compaction_deadline_ms` may not be shorter.
pub const PROFILE_MIN_COMPACTION_LAG_MS: i64 = 60_000;

/// The longest `batch_linger_ms` taken, ingest's and the resolver's.
pub const MAX_BATCH_LINGER_MS: u64 = 60_000;

impl Config {
    /// The same configuration with topics, consumer groups and the
    /// publisher's transactional id of a run's own (`<topic>.<run>`,
    /// `<group_prefix>.<run>`, `<transactional_id>.<run>`; the default id
    /// follows the group prefix): for load runs and tests that share a
    /// cluster without reading each other's data or fencing each other's
    /// resolver.
    pub fn scoped(&self, run: &str) -> Config {
        let mut c = self.clone();
        c.kafka.group_prefix = format!("{}.{run}", self.kafka.group_prefix);
        c.resolver.transactional_id = self
            .resolver
            .transactional_id
            .as_ref()
            .map(|id| format!("{id}.{run}"));
        let t = &mut c.topics;
        for topic in [
            &mut t.pos,
            &mut t.web,
            &mut t.social,
            &mut t.canonical,
            &mut t.profiles,
            &mut t.dead_letter,
            &mut t.review,
            &mut t.quarantine,
            &mut t.progress,
            &mut t.erasure_requests,
            &mut t.erasure_audit,
            &mut t.decisions,
            &mut t.decision_requests,
            &mut t.decision_outcomes,
        ] {
            *topic = format!("{topic}.{run}");
        }
        c
    }

    /// Loads defaults, then `file` (if given), then `KINDRED_*` environment
    /// variables, then `overrides` (flags, as a partial nested map).
    pub fn load(file: Option<&Path>, overrides: impl Serialize) -> Result<Config, ConfigError> {
        Self::load_with_sets(file, overrides, &[])
    }

    /// [`Config::load`], then `sets`: `KEY=VALUE` assignments of any key by
    /// its dotted path (`resolver.batch_size=2000`). Values are read as the
    /// key's type takes them: digits are a number for a numeric key and text
    /// for a text key ([`scalar_as_text`]), as in the environment; under
    /// `kafka.client.` the rest of the key is one property.
    pub fn load_with_sets(
        file: Option<&Path>,
        overrides: impl Serialize,
        sets: &[String],
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Named(
            FROM_DEFAULTS,
            Serialized::defaults(Config::default()),
        ));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Missing(file.to_path_buf()));
            }
            figment = figment.merge(Renamed(Toml::file_exact(file)));
        }
        let defaults = default_values();
        figment = figment
            // Only section-qualified names: KINDRED_CONFIG, KINDRED_LOG and the
            // scripts' KINDRED_CACHE are not configuration keys.
            .merge(Renamed(TextEnv(
                Env::prefixed("KINDRED_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
                defaults.clone(),
            )))
            .merge(Named(
                FROM_CLIENT_ENV,
                Serialized::defaults(client_properties_from_env(std::env::vars())),
            ))
            .merge(Named(FROM_COMMAND_LINE, Serialized::defaults(overrides)));
        for set in sets {
            let (key, value) = set.split_once('=').ok_or_else(|| ConfigError::Value {
                key: "--set",
                message: format!("{set:?}: expected KEY=VALUE, e.g. resolver.batch_size=2000"),
            })?;
            if matches!(key.trim(), "kafka" | "kafka.client") {
                return Err(ConfigError::Value {
                    key: "--set",
                    message: format!(
                        "{}: set one property at a time (kafka.client.NAME=VALUE), not a whole table",
                        key.trim()
                    ),
                });
            }
            if matches!(key.trim(), "schemas.registry" | "schemas") {
                return Err(ConfigError::Value {
                    key: "--set",
                    message: format!(
                        "{}: set one key at a time (schemas.registry.url=...), not a whole table",
                        key.trim()
                    ),
                });
            }
            let registry_url_with_credentials =
                key.trim() == "schemas.registry.url" && url_without_credentials(value) != value;
            if key.trim() == "schemas.registry.password" || registry_url_with_credentials {
                return Err(ConfigError::Value {
                    key: "--set",
                    message: format!(
                        "{}: secrets are not taken from the command line \
                         (every local user can read it); put the password in the configuration file or in \
                         KINDRED_SCHEMAS__REGISTRY__PASSWORD",
                        key.trim()
                    ),
                });
            }
            if key.trim().starts_with("kafka.client.") && is_secret(key.trim()) {
                return Err(ConfigError::Value {
                    key: "--set",
                    message: format!(
                        "{}: secrets are not taken from the command line (every local user can read it); \
                         put it in the configuration file or in KINDRED_KAFKA_CLIENT_{}",
                        key.trim(),
                        key.trim()["kafka.client.".len()..].replace('.', "_").to_uppercase()
                    ),
                });
            }
            // A key's old name ([`RENAMED_KEYS`]) is set under its new one.
            let renamed = RENAMED_KEYS.iter().find_map(|(path, old, new)| {
                (key.trim() == format!("{}.{old}", path.join(".")))
                    .then(|| format!("{}.{new}", path.join(".")))
            });
            let key = renamed.as_deref().unwrap_or(key);
            figment = match key.trim().strip_prefix("kafka.client.") {
                // A librdkafka property's value is text, as typed
                // (`ssl.key.password=0012` keeps its zeros).
                Some(property) => figment.merge(Named(
                    FROM_COMMAND_LINE,
                    Serialized::default(
                        "kafka.client",
                        BTreeMap::from([(property.to_string(), value.to_string())]),
                    ),
                )),
                None => figment.merge(Named(
                    FROM_COMMAND_LINE,
                    Serialized::default(key.trim(), typed_scalar(&defaults, key.trim(), value)),
                )),
            };
        }
        refuse_unknown_env(std::env::vars().map(|(name, _)| name))?;
        // Lossy: a number or boolean given as text (see [`scalar_as_text`])
        // is read as one where the key takes one.
        let config: Config = figment
            .extract_lossy()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        let mut problems: Vec<(String, String)> = config
            .problems()
            .into_iter()
            .map(|(key, message)| (key.to_string(), message))
            .collect();
        // `config check` could not print such a configuration (and said so
        // in a comment, exiting 0).
        if let Some((key, number)) = too_large_for_toml(&Serialized::defaults(&config)) {
            problems.push((
                key,
                format!(
                    "{number} is above {}, the largest number TOML holds",
                    i64::MAX
                ),
            ));
        }
        if !problems.is_empty() {
            // Each named where its value came from (file and line, the
            // environment variable, a flag), as a parse error is.
            return Err(ConfigError::Invalid(
                problems
                    .into_iter()
                    .map(|(key, message)| {
                        let path: Vec<String> = key.split('.').map(str::to_string).collect();
                        let place = place(figment.find_metadata(&key), &path);
                        format!("{place}: {key}: {message}")
                    })
                    .collect(),
            ));
        }
        Ok(config)
    }

    /// Every value out of its range or contradicting another, as (key,
    /// what is wrong): all of them, not the first.
    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        let mut positive = |key, v: u64| {
            if v == 0 {
                problems.push((key, "must be at least 1".into()));
            }
        };
        positive("ingest.batch_size", self.ingest.batch_size as u64);
        positive("ingest.batch_max_bytes", self.ingest.batch_max_bytes);
        positive("resolver.batch_max_bytes", self.resolver.batch_max_bytes);
        // 0 would report every service stalled at once (restarted by its
        // liveness probe in a loop).
        positive("http.stall_timeout_secs", self.http.stall_timeout_secs);
        // 0 would end every stop at once (exit 75, no batch finished, no
        // partitions handed over).
        positive("shutdown.timeout_secs", self.shutdown.timeout_secs);
        positive("resolver.batch_size", self.resolver.batch_size as u64);
        positive("topics.partitions", self.topics.partitions.max(0) as u64);
        positive(
            "topics.replication_factor",
            self.topics.replication_factor.max(0) as u64,
        );
        positive(
            "topics.compaction_deadline_ms",
            self.topics.compaction_deadline_ms.max(0) as u64,
        );
        positive(
            "topics.tombstone_retention_ms",
            self.topics.tombstone_retention_ms.max(0) as u64,
        );
        if self.schemas.registry.enabled() {
            positive(
                "schemas.registry.timeout_ms",
                self.schemas.registry.timeout_ms,
            );
        }
        // 0 would dead-letter every message as oversized.
        positive(
            "schemas.max_message_bytes",
            self.schemas.max_message_bytes as u64,
        );
        positive(
            "resolver.transaction_max_records",
            self.resolver.transaction_max_records as u64,
        );
        positive(
            "resolver.transaction_max_bytes",
            self.resolver.transaction_max_bytes as u64,
        );
        // 0 was taken as 1 without a word.
        positive("resolver.snapshot_keep", self.resolver.snapshot_keep as u64);
        // The broker refuses a max.compaction.lag.ms below the profile
        // topic's min.compaction.lag.ms (`kindred topics create` said only
        // "Configuration is invalid").
        if (1..PROFILE_MIN_COMPACTION_LAG_MS).contains(&self.topics.compaction_deadline_ms) {
            problems.push((
                "topics.compaction_deadline_ms",
                format!(
                    "{}: at least {PROFILE_MIN_COMPACTION_LAG_MS} (the profile topic's min.compaction.lag.ms)",
                    self.topics.compaction_deadline_ms
                ),
            ));
        }
        // Each snapshot flushes the store's memtables: one per batch would
        // write a table file per batch.
        if self.resolver.snapshot_dir.is_some()
            && self.resolver.snapshot_interval_secs < MIN_SNAPSHOT_INTERVAL_SECS
        {
            problems.push((
                "resolver.snapshot_interval_secs",
                format!(
                    "{}: at least {MIN_SNAPSHOT_INTERVAL_SECS} (each snapshot flushes the store)",
                    self.resolver.snapshot_interval_secs
                ),
            ));
        }
        // A batch waiting longer than a minute to fill holds its first
        // message that long, and a consumer that long away from its poll.
        for (key, ms) in [
            ("ingest.batch_linger_ms", self.ingest.batch_linger_ms),
            ("resolver.batch_linger_ms", self.resolver.batch_linger_ms),
        ] {
            if ms > MAX_BATCH_LINGER_MS {
                problems.push((
                    key,
                    format!("{ms}: at most {MAX_BATCH_LINGER_MS} (a minute)"),
                ));
            }
        }
        // A day is far more than any shutdown or stall needs; larger values
        // (u64::MAX meant as "forever") would overflow a deadline.
        for (key, secs) in [
            ("shutdown.timeout_secs", self.shutdown.timeout_secs),
            ("http.stall_timeout_secs", self.http.stall_timeout_secs),
        ] {
            if secs > MAX_TIMEOUT_SECS {
                problems.push((key, format!("{secs}: at most {MAX_TIMEOUT_SECS} (a day)")));
            }
        }
        // kindred sets these itself, per client, and its delivery
        // guarantees rest on them: passed through, they would apply to
        // every client (one transactional.id or group.instance.id for all
        // replicas) or silently weaken what the services promise.
        for key in self.kafka.client.keys() {
            if let Some(why) = owned_client_property(key) {
                problems.push((
                    "kafka.client",
                    format!("{key:?} is set by kindred for each client ({why}); remove it"),
                ));
            }
            // librdkafka refuses to create a KIP-848 consumer with these.
            if self.kafka.group_protocol == GroupProtocol::Consumer
                && CLASSIC_GROUP_PROPERTIES.contains(&key.as_str())
            {
                problems.push((
                    "kafka.client",
                    format!(
                        "{key:?} belongs to the classic group protocol; with \
                         kafka.group_protocol = \"consumer\" the broker sets it \
                         (group.consumer.*): remove it"
                    ),
                ));
            }
        }
        if self.kafka.brokers.trim().is_empty() {
            problems.push((
                "kafka.brokers",
                "is empty: name at least one broker, e.g. \"kafka-0:9092\"".into(),
            ));
        }
        // HOST:PORT, the host a name (`localhost`) or an address
        // (`0.0.0.0`, `[::]`), as the listener resolves it.
        let host_and_port = self
            .http
            .listen
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.trim().is_empty() && port.parse::<u16>().is_ok());
        if !host_and_port {
            problems.push((
                "http.listen",
                format!(
                    "{:?} is not a host and port, e.g. \"0.0.0.0:9100\"",
                    self.http.listen
                ),
            ));
        }
        for (key, value) in [
            ("kafka.group_prefix", Some(&self.kafka.group_prefix)),
            (
                "resolver.transactional_id",
                self.resolver.transactional_id.as_ref(),
            ),
        ] {
            if value.is_some_and(|v| v.trim().is_empty()) {
                problems.push((key, "is empty".into()));
            }
        }
        if self
            .resolver
            .snapshot_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            // An empty template value: every snapshot would fail, an hour on.
            problems.push((
                "resolver.snapshot_dir",
                "is empty (leave it unset for no snapshots)".into(),
            ));
        }
        if self.resolver.data_dir.as_os_str().is_empty() {
            problems.push(("resolver.data_dir", "is empty".into()));
        }
        problems.extend(self.topics.problems());
        if !["day_first", "month_first"].contains(&self.normalize.date_order.as_str()) {
            problems.push((
                "normalize.date_order",
                format!(
                    "{:?}: expected \"day_first\" or \"month_first\"",
                    self.normalize.date_order
                ),
            ));
        }
        if let Err(message) = self.resolver.linking.validate() {
            problems.push(("resolver.linking", message));
        }
        if let Err(message) = self.resolver.survivorship.validate() {
            problems.push(("resolver.survivorship", message));
        }
        for (channel, framing) in &self.schemas.framing {
            if !["pos", "web", "social"].contains(&channel.as_str()) {
                problems.push((
                    "schemas.framing",
                    format!("unknown channel {channel:?} (expected pos, web or social)"),
                ));
            }
            if !["confluent", "json"].contains(&framing.as_str()) {
                problems.push((
                    "schemas.framing",
                    format!("{channel} = {framing:?}: expected \"confluent\" or \"json\""),
                ));
            }
        }
        problems
    }

    /// The effective configuration as TOML, with secrets (any pass-through
    /// client property naming a password, secret or key) masked.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.kafka.client = masked(&self.kafka.client);
        shown.schemas.registry = self.schemas.registry.masked();
        let rendered = toml::Value::try_from(&shown).map(|mut value| {
            spell_out_false_flags(&mut value);
            value
        });
        rendered
            .and_then(|value| toml::to_string_pretty(&value))
            .unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

/// The identifier policies' flags that are left out of their serialized
/// form when false (the store records policies so, and compares them byte
/// for byte), written out: a kind whose default is on (`member_id`'s
/// `shared_when_names_differ`, `device`'s `shared_when_over_limits`) and
/// that is configured off would otherwise be printed without the key, and
/// the printed configuration, loaded again, would link otherwise.
fn spell_out_false_flags(config: &mut toml::Value) {
    let kinds = config
        .get_mut("resolver")
        .and_then(|r| r.get_mut("linking"))
        .and_then(|l| l.get_mut("identifiers"))
        .and_then(toml::Value::as_table_mut);
    for policy in kinds.into_iter().flat_map(|t| t.iter_mut().map(|(_, v)| v)) {
        if let Some(policy) = policy.as_table_mut() {
            for flag in ["shared_when_names_differ", "shared_when_over_limits"] {
                policy.entry(flag).or_insert(toml::Value::Boolean(false));
            }
        }
    }
}

/// Each of figment's errors as `FILE:LINE: KEY: problem`, the line found
/// with toml_edit's spans (figment knows the file and key, not the line).
/// A value from the environment or `--set`, as figment would read it, but
/// a number or boolean kept as the text typed: a password `48151623` or a
/// group prefix `2024` is text to a text key (and `0012` keeps its zeros),
/// and [`figment::Figment::extract_lossy`] reads the text as the number or
/// boolean where a key takes one. Quoted text, arrays and tables are read
/// as figment reads them. [`typed_scalar`] reads by the key's type first.
fn scalar_as_text(raw: &str) -> figment::value::Value {
    use figment::value::Value;
    match raw.parse::<Value>().unwrap_or_else(|e| match e {}) {
        Value::Num(..) | Value::Bool(..) => Value::from(raw.trim().to_string()),
        other => other,
    }
}

/// A value from the environment or `--set` for the dotted `key`: a
/// secret is the text as typed (a password `"x"` keeps its quotes); a key
/// whose default is a decimal is read as an `f64` (figment reads a short
/// decimal text through `f32`, and `0.85` would be `0.8500000238418579`);
/// anything else as [`scalar_as_text`] reads it (TOML's quotes taken off:
/// `--set 'topics.pos="x"'` is `x`).
fn typed_scalar(defaults: &figment::value::Value, key: &str, raw: &str) -> figment::value::Value {
    use figment::value::{Num, Value};
    if is_secret(key) {
        return Value::from(raw.to_string());
    }
    match defaults.find_ref(key) {
        Some(Value::Num(_, Num::F32(_) | Num::F64(_))) => raw
            .trim()
            .parse::<f64>()
            .map_or_else(|_| scalar_as_text(raw), Value::from),
        _ => scalar_as_text(raw),
    }
}

/// The first number of `provider`'s values past `i64::MAX` (TOML's
/// largest), with its key.
fn too_large_for_toml(provider: &impl figment::Provider) -> Option<(String, String)> {
    use figment::value::{Num, Value};
    fn find(value: &Value, path: &mut Vec<String>) -> Option<(String, String)> {
        match value {
            Value::Dict(_, map) => map.iter().find_map(|(key, value)| {
                path.push(key.clone());
                let found = find(value, path);
                path.pop();
                found
            }),
            Value::Array(_, items) => items.iter().find_map(|v| find(v, path)),
            Value::Num(_, Num::U64(n)) if *n > i64::MAX as u64 => {
                Some((path.join("."), n.to_string()))
            }
            Value::Num(_, Num::USize(n)) if *n as u64 > i64::MAX as u64 => {
                Some((path.join("."), n.to_string()))
            }
            Value::Num(_, Num::U128(n)) if *n > i64::MAX as u128 => {
                Some((path.join("."), n.to_string()))
            }
            _ => None,
        }
    }
    let data = provider.data().ok()?;
    let dict = data.get(&figment::Profile::Default)?;
    find(&Value::from(dict.clone()), &mut Vec::new())
}

/// The built-in configuration as figment's values, for [`typed_scalar`].
fn default_values() -> figment::value::Value {
    use figment::Provider;
    let dict = Serialized::defaults(Config::default())
        .data()
        .ok()
        .and_then(|mut profiles| profiles.remove(&figment::Profile::Default))
        .unwrap_or_default();
    figment::value::Value::from(dict)
}

/// Names of the places a value can come from besides a file and the
/// `KINDRED_SECTION__KEY` variables, as [`place`] reads them back.
const FROM_DEFAULTS: &str = "the default";
const FROM_CLIENT_ENV: &str = "KINDRED_KAFKA_CLIENT_* variables";
const FROM_COMMAND_LINE: &str = "command line (--set or a flag)";

/// A provider under one of the names above (figment names a
/// `Serialized` after its Rust type, which says nothing of where the
/// value came from).
struct Named<P>(&'static str, P);

impl<P: figment::Provider> figment::Provider for Named<P> {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(self.0)
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        self.1.data()
    }
}

/// Keys read under an old name, as (table path, old name, new name).
const RENAMED_KEYS: &[(&[&str], &str, &str)] = &[(
    &["resolver", "linking", "quarantine"],
    "max_holders",
    "max_unnamed_holders",
)];

/// A provider whose keys of an old name ([`RENAMED_KEYS`]) are given
/// their new one. Not a serde alias: the defaults always hold the new
/// name, so an alias met beside it is a "duplicate field".
struct Renamed<P>(P);

impl<P: figment::Provider> figment::Provider for Renamed<P> {
    fn metadata(&self) -> figment::Metadata {
        self.0.metadata()
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        let mut data = self.0.data()?;
        for dict in data.values_mut() {
            for (path, old, new) in RENAMED_KEYS {
                let mut table = Some(&mut *dict);
                for part in *path {
                    table = match table.and_then(|t| t.get_mut(*part)) {
                        Some(figment::value::Value::Dict(_, inner)) => Some(inner),
                        _ => None,
                    };
                }
                if let Some(table) = table {
                    if let Some(value) = table.remove(*old) {
                        // The new name wins where both are given.
                        table.entry(new.to_string()).or_insert(value);
                    }
                }
            }
        }
        Ok(data)
    }
}

/// The `KINDRED_SECTION__KEY` environment provider, its values read by
/// [`typed_scalar`] against the defaults it holds.
struct TextEnv(Env, figment::value::Value);

impl figment::Provider for TextEnv {
    fn metadata(&self) -> figment::Metadata {
        self.0.metadata()
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        let mut dict = figment::value::Dict::new();
        for (key, value) in self.0.iter() {
            let nested =
                figment::util::nest(key.as_str(), typed_scalar(&self.1, key.as_str(), &value));
            if let Some(nested) = nested.into_dict() {
                merge_into(&mut dict, nested);
            }
        }
        Ok(figment::Profile::Default.collect(dict))
    }
}

/// `from`'s keys put into `into`, tables merged key by key.
fn merge_into(into: &mut figment::value::Dict, from: figment::value::Dict) {
    use figment::value::Value;
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, inner)), Value::Dict(_, more)) => merge_into(inner, more),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn describe(errors: figment::Error) -> Vec<String> {
    errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let place = place(e.metadata.as_ref(), &e.path);
            // A secret's value is never repeated: serde's message quotes it
            // (`found signed int 48151623`).
            // A TOML syntax error quotes the line it is on, which may hold
            // a secret: the place (file, line, column) is enough.
            let problem = if let figment::error::Kind::Message(message) = &e.kind {
                without_source_lines(message)
            } else if is_secret(&key) {
                match &e.kind {
                    figment::error::Kind::InvalidType(_, expected) => {
                        format!("invalid type (the value is not shown), expected {expected}")
                    }
                    figment::error::Kind::InvalidValue(_, expected) => {
                        format!("invalid value (not shown), expected {expected}")
                    }
                    other => other.to_string(),
                }
            } else {
                e.kind.to_string()
            };
            if key.is_empty() {
                format!("{place}: {problem}")
            } else {
                format!("{place}: {key}: {problem}")
            }
        })
        .collect()
}

/// A parser's message without the lines it quotes from the source (toml's
/// `2 | "sasl.password" = "…"` and the caret line under it), the rest
/// joined by "; ".
fn without_source_lines(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line
                    .split_once('|')
                    .is_some_and(|(gutter, _)| gutter.trim().chars().all(|c| c.is_ascii_digit()))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where the value at `path` came from, as figment's `metadata` of its
/// provider says: `FILE:LINE`, the environment variable, or a flag. A key
/// left at its default names the configuration.
fn place(metadata: Option<&figment::Metadata>, path: &[String]) -> String {
    let source = metadata.and_then(|m| m.source.as_ref());
    match (source, metadata) {
        (Some(figment::Source::File(file)), _) => {
            let line = locate(file, path).map_or(String::new(), |l| format!(":{l}"));
            format!("{}{line}", file.display())
        }
        (_, Some(m)) if m.name == FROM_DEFAULTS => FROM_DEFAULTS.to_string(),
        (_, Some(m)) if m.name == FROM_CLIENT_ENV => match path.get(2..) {
            Some(property) if !property.is_empty() => format!(
                "environment variable KINDRED_KAFKA_CLIENT_{}",
                property.join(".").replace('.', "_").to_uppercase()
            ),
            _ => FROM_CLIENT_ENV.to_string(),
        },
        (_, Some(m)) if m.name.contains("environment") => {
            format!(
                "environment variable KINDRED_{}",
                path.join("__").to_uppercase()
            )
        }
        (_, Some(m)) if m.name == FROM_COMMAND_LINE => FROM_COMMAND_LINE.to_string(),
        _ => "configuration".to_string(),
    }
}

/// The 1-based line of the key at `path` in a TOML file (array-of-tables
/// entries by index), or of its closest enclosing table that exists.
fn locate(file: &Path, path: &[String]) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    let doc = toml_edit::ImDocument::parse(text.as_str()).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut span = None;
    let mut parts = path.iter();
    while let Some(part) = parts.next() {
        let Some((key, value)) = table.get_key_value(part) else {
            break;
        };
        span = key.span().or(span);
        match value {
            toml_edit::Item::ArrayOfTables(array) => {
                let entry = parts
                    .next()
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| array.get(i));
                let Some(entry) = entry else { break };
                span = entry.span().or(span);
                table = entry;
            }
            other => match other.as_table_like() {
                Some(inner) => table = inner,
                None => break,
            },
        }
    }
    let at = span?.start;
    Some(text[..at].matches('\n').count() + 1)
}

/// Whether a pass-through client property holds a secret (a password, a
/// secret, a private key or an OAuth configuration): `sasl.password`,
/// `ssl.key.password`, `ssl.keystore.password`, `ssl.key.pem`,
/// `sasl.oauthbearer.client.secret`, ... File locations are not
/// (`ssl.key.location`, `sasl.kerberos.keytab`).
fn is_secret(property: &str) -> bool {
    let property = property.trim().to_ascii_lowercase();
    [
        "password",
        "passphrase",
        "secret",
        "key",
        "oauthbearer.config",
    ]
    .iter()
    .any(|s| property.contains(s))
        && !property.ends_with(".location")
        && !property.ends_with(".keytab")
        && !property.ends_with(".file")
        && !property.ends_with("_file")
}

/// The `KINDRED_` environment variables that are not configuration keys
/// (section and key joined by `__`): read by the binary, its scripts and
/// tests. `KINDRED_KAFKA_CLIENT_*` carry librdkafka properties.
pub const OTHER_ENV_VARS: &[&str] = &[
    "KINDRED_CONFIG",
    "KINDRED_LOG",
    "KINDRED_LOG_FORMAT",
    "KINDRED_LOG_SPANS",
    "KINDRED_KEYRING",
    "KINDRED_CACHE",
    "KINDRED_KEEP_TOPICS",
    "KINDRED_TEST_BROKERS",
    "KINDRED_BINARY",
];

/// The configuration's sections, as `KINDRED_<SECTION>__<KEY>` spells them.
const SECTIONS: [&str; 9] = [
    "KAFKA",
    "TOPICS",
    "SCHEMAS",
    "INGEST",
    "RESOLVER",
    "NORMALIZE",
    "HTTP",
    "SHUTDOWN",
    "PRIVACY",
];

/// Whether `rest` (a name after `KINDRED_`) has the shape of the variables
/// Kubernetes gives every pod for each Service (`<SERVICE>_SERVICE_HOST`,
/// `<SERVICE>_PORT_9464_TCP_ADDR`, ...): a Service named `kindred-http`
/// would otherwise read as a misspelt key.
fn is_service_link(rest: &str) -> bool {
    rest.ends_with("_SERVICE_HOST")
        || rest.contains("_SERVICE_PORT")
        || rest.ends_with("_PORT")
        || rest.contains("_PORT_")
}

/// Refuses a `KINDRED_` variable that starts like a configuration key (a
/// section's name) but is none, nor one of [`OTHER_ENV_VARS`]:
/// `KINDRED_HTTP_LISTEN` (one underscore) would otherwise be ignored
/// without a word, and the service would listen where nobody looks. Other
/// `KINDRED_` names (`KINDRED_METRICS_SERVICE_HOST`, which Kubernetes sets
/// for the Service `kindred-metrics`) are not kindred's and are left alone.
fn refuse_unknown_env(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let Some(rest) = name.strip_prefix("KINDRED_") else {
            continue;
        };
        let section = rest.split('_').next().unwrap_or("");
        if rest.contains("__")
            || rest.starts_with("KAFKA_CLIENT_")
            || OTHER_ENV_VARS.contains(&name.as_str())
            || !SECTIONS.contains(&section)
            || is_service_link(rest)
        {
            continue;
        }
        let hint = match (env_name_of(rest), rest.split_once('_')) {
            (Some(meant), _) => format!(
                "; a configuration key's parts are joined by two underscores: {meant}"
            ),
            (None, Some((section, key))) => format!(
                "; a configuration key is section and key joined by two underscores, e.g. KINDRED_{section}__{key}"
            ),
            (None, None) => String::new(),
        };
        return Err(ConfigError::Value {
            key: "environment",
            message: format!(
                "{name} is not a kindred variable{hint} (others: {}, KINDRED_KAFKA_CLIENT_<PROPERTY>)",
                OTHER_ENV_VARS.join(", ")
            ),
        });
    }
    Ok(())
}

/// The variable of the configuration key whose parts, joined by one
/// underscore, spell `rest` (`SCHEMAS_REGISTRY_PASSWORD` is
/// `KINDRED_SCHEMAS__REGISTRY__PASSWORD`), if there is one.
fn env_name_of(rest: &str) -> Option<String> {
    fn find(value: &figment::value::Value, path: &mut Vec<String>, rest: &str) -> Option<String> {
        let figment::value::Value::Dict(_, map) = value else {
            return None;
        };
        for (key, value) in map {
            path.push(key.to_ascii_uppercase());
            let spelled = path.join("_");
            if spelled == rest {
                return Some(format!("KINDRED_{}", path.join("__")));
            }
            if rest.starts_with(&format!("{spelled}_")) {
                if let Some(found) = find(value, path, rest) {
                    return Some(found);
                }
            }
            path.pop();
        }
        None
    }
    find(&default_values(), &mut Vec::new(), rest)
}

/// `kafka.client` properties from `KINDRED_KAFKA_CLIENT_<PROPERTY>`
/// variables (`_` stands for `.`: librdkafka's property names have no `_`).
fn client_properties_from_env(
    vars: impl Iterator<Item = (String, String)>,
) -> BTreeMap<&'static str, BTreeMap<&'static str, BTreeMap<String, String>>> {
    let client: BTreeMap<String, String> = vars
        .filter_map(|(name, value)| {
            let property = name.strip_prefix("KINDRED_KAFKA_CLIENT_")?;
            Some((property.to_ascii_lowercase().replace('_', "."), value))
        })
        .collect();
    if client.is_empty() {
        return BTreeMap::new();
    }
    BTreeMap::from([("kafka", BTreeMap::from([("client", client)]))])
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature
mod tests {
    use super::*;

    #[test]
    fn file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[kafka]\nbrokers = \"file:9092\"\n[topics]\npos = \"from-file\"\n[kafka.client]\n\"sasl.password\" = \"hunter2\"\n",
            )?;
            jail.set_env("KINDRED_TOPICS__POS", "from-env");
            jail.set_env("KINDRED_CACHE", "/not/a/config/key");
            let flags = serde_json::json!({"kafka": {"brokers": "flag:9092"}});
            let c = Config::load(Some(Path::new("k.toml")), flags).map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.brokers, "flag:9092");
            assert_eq!(c.topics.pos, "from-env");
            assert_eq!(c.topics.web, "retail.web.events");
            let shown = c.to_masked_toml();
            assert!(!shown.contains("hunter2"), "{shown}");
            Ok(())
        });
    }

    /// What `config check` prints loads back as the same configuration:
    /// a flag configured off whose default is on (a member card's
    /// `shared_when_names_differ`, a device's `shared_when_over_limits`)
    /// was left out of the print, and loaded back it was on again.
    #[test]
    fn the_printed_configuration_loads_back_the_same() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[resolver.linking.identifiers.member_id]\nshared_when_names_differ = false\n\
                 [resolver.linking.identifiers.device]\nshared_when_over_limits = false\n",
            )?;
            let c = Config::load(Some(Path::new("k.toml")), serde_json::json!({}))
                .map_err(|e| e.to_string())?;
            assert!(
                !c.resolver
                    .linking
                    .identifiers
                    .member_id
                    .shared_when_names_differ
            );
            jail.create_file("printed.toml", &c.to_masked_toml())?;
            let again = Config::load(Some(Path::new("printed.toml")), serde_json::json!({}))
                .map_err(|e| e.to_string())?;
            assert_eq!(again.resolver.linking, c.resolver.linking);
            assert_eq!(again.to_masked_toml(), c.to_masked_toml());
            Ok(())
        });
    }

    /// Values a service or `config check` could not use are refused at
    /// load, by key: a compaction deadline under the profile topic's
    /// min.compaction.lag.ms (the broker refused the topic), a number TOML
    /// cannot hold (`config check` printed nothing and exited 0). A
    /// keyring file's path loses its TOML quotes like any text (it was
    /// taken for a secret, kept as typed, quotes and all).
    #[test]
    fn values_the_services_could_not_use_are_refused_by_key() {
        figment::Jail::expect_with(|_| {
            let load = |set: &str| {
                Config::load_with_sets(None, serde_json::json!({}), &[set.to_string()])
                    .map_err(|e| e.to_string())
            };
            let err = load("topics.compaction_deadline_ms=30000").expect_err("too short");
            assert!(
                err.contains("topics.compaction_deadline_ms: 30000: at least 60000"),
                "{err}"
            );
            assert!(load("topics.compaction_deadline_ms=60000").is_ok());
            let err =
                load("resolver.outbox_max_backlog=18446744073709551615").expect_err("too large");
            assert!(
                err.contains("resolver.outbox_max_backlog: 18446744073709551615 is above"),
                "{err}"
            );
            let c = load("privacy.keyring_file=\"/etc/kindred/keyring.toml\"")?;
            assert_eq!(
                c.privacy.keyring_file.as_deref(),
                Some(Path::new("/etc/kindred/keyring.toml"))
            );
            Ok(())
        });
    }

    /// A TOML syntax error names the file, line and column, never the
    /// line itself (toml's message quotes it: a password with a bad
    /// escape was printed to the pod's log).
    #[test]
    fn a_toml_syntax_error_does_not_repeat_the_line() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[kafka.client]\n\"sasl.password\" = \"ab\\qSECRETcd\"\n",
            )?;
            let err = Config::load(Some(Path::new("k.toml")), serde_json::json!({}))
                .expect_err("not TOML")
                .to_string();
            assert!(err.contains("k.toml"), "{err}");
            assert!(err.contains("line 2"), "{err}");
            assert!(!err.contains("SECRET"), "{err}");
            Ok(())
        });
    }

    /// librdkafka takes every property as text: a number or boolean
    /// written without quotes in the file, or typed in `--set`, is its
    /// text (a `--set` value as typed, leading zeros kept).
    #[test]
    fn client_properties_written_as_numbers_or_booleans_are_their_text() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[kafka.client]\n\"session.timeout.ms\" = 45000\n\"enable.ssl.certificate.verification\" = false\n",
            )?;
            let sets = vec![
                "kafka.client.socket.timeout.ms=0060000".to_string(),
                "kafka.client.check.crcs=true".to_string(),
            ];
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            let get = |k: &str| c.kafka.client.get(k).map(String::as_str);
            assert_eq!(get("session.timeout.ms"), Some("45000"));
            assert_eq!(get("enable.ssl.certificate.verification"), Some("false"));
            assert_eq!(get("socket.timeout.ms"), Some("0060000"));
            assert_eq!(get("check.crcs"), Some("true"));
            // A whole table through --set would dodge the secrets check.
            let table = vec!["kafka.client={\"sasl.password\"=\"x\"}".to_string()];
            let err = Config::load_with_sets(None, serde_json::json!({}), &table)
                .expect_err("a table")
                .to_string();
            assert!(err.contains("one property at a time"), "{err}");
            Ok(())
        });
    }

    /// A key read under its old name loads through the merge with the
    /// defaults (which hold the new name): from the file and from the
    /// environment.
    #[test]
    fn a_renamed_key_loads_under_its_old_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "[resolver.linking.quarantine]\nmax_holders = 5\n")?;
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.quarantine.max_unnamed_holders, 5);
            jail.set_env("KINDRED_RESOLVER__LINKING__QUARANTINE__MAX_HOLDERS", "7");
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.quarantine.max_unnamed_holders, 7);
            let sets = vec!["resolver.linking.quarantine.max_holders=9".to_string()];
            let c = Config::load_with_sets(None, serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.quarantine.max_unnamed_holders, 9);
            Ok(())
        });
    }

    /// A survivorship rule that could not do as it says, and an empty
    /// snapshot directory, are refused at load, each named.
    #[test]
    fn survivorship_without_a_priority_and_an_empty_snapshot_dir_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[resolver.survivorship]\ngender = { rule = \"source_priority\" }\n",
            )?;
            let err = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .expect_err("no priority")
                .to_string();
            assert!(
                err.contains("survivorship.gender") && err.contains("priority list"),
                "{err}"
            );
            jail.create_file(
                "k.toml",
                "[resolver.survivorship]\naddress = { rule = \"source_priority\", priority = [\"pos\", \"pos\"] }\n",
            )?;
            let err = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .expect_err("twice")
                .to_string();
            assert!(err.contains("names pos twice"), "{err}");
            // Switching a rule keeps the default's list beside it: fine.
            jail.create_file(
                "k.toml",
                "[resolver.survivorship]\naddress = { rule = \"most_recent\" }\n",
            )?;
            Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            jail.set_env("KINDRED_RESOLVER__SNAPSHOT_DIR", "");
            let err = Config::load_with_sets(None, serde_json::json!({}), &[])
                .expect_err("empty")
                .to_string();
            assert!(err.contains("resolver.snapshot_dir: is empty"), "{err}");
            Ok(())
        });
    }

    /// The registry's password comes from the file or the environment,
    /// never a flag, and is masked wherever the configuration is shown.
    #[test]
    fn the_registry_password_is_masked_and_refused_on_the_command_line() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[schemas.registry]\nurl = \"https://registry:8081\"\nusername = \"key\"\n",
            )?;
            jail.set_env("KINDRED_SCHEMAS__REGISTRY__PASSWORD", "env-secret");
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            assert!(c.schemas.registry.enabled());
            assert_eq!(c.schemas.registry.password.as_deref(), Some("env-secret"));
            assert_eq!(c.schemas.registry.timeout_ms, 10_000);
            let shown = c.to_masked_toml();
            assert!(!shown.contains("env-secret"), "{shown}");
            assert!(shown.contains("https://registry:8081"), "{shown}");
            let debug = format!("{c:?}");
            assert!(!debug.contains("env-secret"), "{debug}");
            // A password of digits is a password, not a number refused
            // (with the number in the error).
            jail.set_env("KINDRED_SCHEMAS__REGISTRY__PASSWORD", "0048151623");
            jail.set_env("KINDRED_KAFKA__GROUP_PREFIX", "2024");
            jail.set_env("KINDRED_RESOLVER__BATCH_SIZE", "1500");
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            assert_eq!(c.schemas.registry.password.as_deref(), Some("0048151623"));
            assert_eq!(c.kafka.group_prefix, "2024");
            assert_eq!(c.resolver.batch_size, 1500);
            let sets = ["topics.dead_letter=404".to_string()];
            let c = Config::load_with_sets(None, serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.topics.dead_letter, "404");
            jail.set_env(
                "KINDRED_SCHEMAS__REGISTRY__URL",
                "https://key:url-secret@registry:8081/x",
            );
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            let shown = format!("{}{c:?}", c.to_masked_toml());
            assert!(!shown.contains("url-secret"), "{shown}");
            assert!(
                shown.contains("https://********@registry:8081/x"),
                "{shown}"
            );
            for set in [
                "schemas.registry.password=x",
                "schemas.registry={password=\"x\"}",
                "schemas.registry.url=https://key:s3cret@registry:8081",
            ] {
                let err = Config::load_with_sets(None, serde_json::json!({}), &[set.to_string()])
                    .expect_err("refused")
                    .to_string();
                assert!(err.contains("schemas.registry"), "{err}");
            }
            let sets = vec!["schemas.registry.timeout_ms=0".to_string()];
            let err =
                Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &sets)
                    .expect_err("zero timeout")
                    .to_string();
            assert!(err.contains("timeout_ms"), "{err}");
            Ok(())
        });
    }

    /// A problem is named where its value came from: a default as the
    /// default, a client property by its variable, and a clash of topic
    /// names on both keys (both were named "command line" before, with no
    /// flag given).
    #[test]
    fn problems_name_the_default_the_client_variable_and_both_clashing_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "dup.toml",
                "[kafka]\nbrokers = \"b:9092\"\n\n[topics]\nreview = \"kindred.quarantine\"\n",
            )?;
            jail.set_env("KINDRED_KAFKA_CLIENT_ACKS", "1");
            let text = Config::load(Some(Path::new("dup.toml")), serde_json::json!({}))
                .expect_err("clash")
                .to_string();
            for line in [
                "dup.toml:5: topics.review: \"kindred.quarantine\" is also topics.quarantine",
                "the default: topics.quarantine: \"kindred.quarantine\" is also topics.review",
                "KINDRED_KAFKA_CLIENT_* variables: kafka.client: \"acks\" is set by kindred",
            ] {
                assert!(text.contains(line), "{line} in:\n{text}");
            }
            assert!(!text.contains("command line"), "{text}");
            Ok(())
        });
    }

    /// A decimal from the environment or `--set` is the number typed
    /// (figment alone reads `0.85` through `f32`: 0.8500000238418579, so
    /// one value behaved differently by where it was set), and a secret is
    /// the text typed, quotes and all (other text loses TOML's quotes).
    #[test]
    fn env_and_set_values_are_read_by_the_keys_type() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("KINDRED_RESOLVER__LINKING__MIN_NAME_SIMILARITY", "0.85");
            jail.set_env("KINDRED_SCHEMAS__REGISTRY__PASSWORD", "\"quoted\"");
            jail.set_env("KINDRED_TOPICS__POS", "\"pos\"");
            let c = Config::load_with_sets(None, serde_json::json!({}), &[])
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.min_name_similarity, 0.85);
            assert_eq!(c.schemas.registry.password.as_deref(), Some("\"quoted\""));
            assert_eq!(c.topics.pos, "pos");
            let sets = ["resolver.linking.min_name_similarity=0.9".to_string()];
            let c = Config::load_with_sets(None, serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.min_name_similarity, 0.9);
            let sets = ["resolver.linking.min_name_similarity=1".to_string()];
            let c = Config::load_with_sets(None, serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.min_name_similarity, 1.0);
            Ok(())
        });
    }

    /// A `KINDRED_` variable with one underscore between section and key
    /// is refused with the spelling that works, not ignored.
    #[test]
    fn a_misspelt_environment_variable_is_refused_with_the_right_name() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("KINDRED_HTTP_LISTEN", "0.0.0.0:9464");
            let err = Config::load(None, serde_json::json!({}))
                .expect_err("misspelt")
                .to_string();
            assert!(err.contains("KINDRED_HTTP_LISTEN"), "{err}");
            assert!(err.contains("KINDRED_HTTP__LISTEN"), "{err}");
            jail.clear_env();
            // A nested key's parts each joined by two underscores (the
            // hint said KINDRED_SCHEMAS__REGISTRY_PASSWORD, refused too).
            jail.set_env("KINDRED_SCHEMAS_REGISTRY_PASSWORD", "x");
            let err = Config::load(None, serde_json::json!({}))
                .expect_err("misspelt")
                .to_string();
            assert!(
                err.contains(": KINDRED_SCHEMAS__REGISTRY__PASSWORD"),
                "{err}"
            );
            jail.clear_env();
            // What Kubernetes sets for the Services kindred-metrics and
            // kindred-http: not kindred's variables.
            jail.set_env("KINDRED_METRICS_SERVICE_HOST", "10.0.0.7");
            jail.set_env("KINDRED_METRICS_PORT_9464_TCP_ADDR", "10.0.0.7");
            jail.set_env("KINDRED_HTTP_SERVICE_PORT", "9464");
            jail.set_env("KINDRED_HTTP_PORT", "tcp://10.0.0.8:9464");
            jail.set_env("KINDRED_HTTP__LISTEN", "0.0.0.0:9464");
            jail.set_env("KINDRED_LOG", "debug");
            jail.set_env("KINDRED_KAFKA_CLIENT_SASL_USERNAME", "svc");
            let c = Config::load(None, serde_json::json!({})).map_err(|e| e.to_string())?;
            assert_eq!(c.http.listen.to_string(), "0.0.0.0:9464");
            jail.set_env("KINDRED_HTTP__STALL_TIMEOUT_SECS", "0");
            let err = Config::load(None, serde_json::json!({}))
                .expect_err("no stall timeout")
                .to_string();
            assert!(err.contains("http.stall_timeout_secs"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn linking_rules_and_windows_load_from_toml_and_bad_ones_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[resolver.linking.identifiers]\nphone = { link = true, mutable = true, window_days = 30 }\n\
                 [[resolver.linking.rules]]\nname = \"dob_zip\"\nversion = 2\naction = \"suggest\"\nfields = [\"birthday\", \"postal_code\"]\n",
            )?;
            let c = Config::load(Some(Path::new("k.toml")), serde_json::json!({}))
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.linking.identifiers.phone.window_days, 30);
            assert_eq!(c.resolver.linking.rules.len(), 1);
            assert_eq!(c.resolver.linking.rules[0].version, 2);
            jail.create_file(
                "bad.toml",
                "[[resolver.linking.rules]]\nname = \"empty\"\nversion = 1\naction = \"merge\"\nfields = []\n",
            )?;
            let err = Config::load(Some(Path::new("bad.toml")), serde_json::json!({})).unwrap_err();
            assert!(err.to_string().contains("resolver.linking"), "{err}");
            Ok(())
        });
    }

    /// Client properties kindred sets per client, on which its delivery
    /// guarantees rest, are refused with the reason; others pass through.
    #[test]
    fn client_properties_kindred_owns_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[kafka.client]\n\"enable.auto.commit\" = \"true\"\n\"security.protocol\" = \"SSL\"\n",
            )?;
            let err = Config::load(Some(Path::new("k.toml")), serde_json::json!({})).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("kafka.client") && message.contains("\"enable.auto.commit\""),
                "{message}"
            );
            assert!(
                message.contains("after a batch's outputs are acknowledged"),
                "{message}"
            );
            jail.set_env("KINDRED_KAFKA_CLIENT_TRANSACTIONAL_ID", "one-for-all");
            jail.create_file(
                "ok.toml",
                "[kafka.client]\n\"security.protocol\" = \"SSL\"\n",
            )?;
            let err = Config::load(Some(Path::new("ok.toml")), serde_json::json!({})).unwrap_err();
            assert!(err.to_string().contains("transactional.id"), "{err}");
            jail.clear_env();
            let c = Config::load(Some(Path::new("ok.toml")), serde_json::json!({}))
                .map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.client.len(), 1);
            Ok(())
        });
    }

    /// `kafka.group_protocol` picks KIP-848's protocol; the classic
    /// protocol's client settings, which librdkafka refuses with it, are
    /// named at load, and `group.protocol` itself is the typed key's.
    #[test]
    fn the_consumer_group_protocol_refuses_classic_group_settings() {
        figment::Jail::expect_with(|jail| {
            let load = |file: &str| Config::load(Some(Path::new(file)), serde_json::json!({}));
            assert_eq!(
                Config::default().kafka.group_protocol,
                GroupProtocol::Classic
            );
            jail.create_file("c.toml", "[kafka]\ngroup_protocol = \"consumer\"\n")?;
            let c = load("c.toml").map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.group_protocol, GroupProtocol::Consumer);
            jail.create_file(
                "both.toml",
                "[kafka]\ngroup_protocol = \"consumer\"\n[kafka.client]\n\"session.timeout.ms\" = 45000\n",
            )?;
            let err = load("both.toml").unwrap_err().to_string();
            assert!(
                err.contains("\"session.timeout.ms\"") && err.contains("group.consumer"),
                "{err}"
            );
            // The classic protocol takes the same file's client setting.
            jail.create_file(
                "classic.toml",
                "[kafka.client]\n\"session.timeout.ms\" = 45000\n",
            )?;
            load("classic.toml").map_err(|e| e.to_string())?;
            jail.create_file(
                "raw.toml",
                "[kafka.client]\n\"group.protocol\" = \"consumer\"\n",
            )?;
            let err = load("raw.toml").unwrap_err().to_string();
            assert!(err.contains("kafka.group_protocol"), "{err}");
            jail.create_file("bad.toml", "[kafka]\ngroup_protocol = \"kip848\"\n")?;
            let err = load("bad.toml").unwrap_err().to_string();
            assert!(
                err.contains("group_protocol") && err.contains("consumer"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn any_key_can_be_set_by_flag_and_client_properties_by_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "[resolver]\nbatch_size = 10\n")?;
            jail.set_env("KINDRED_KAFKA_CLIENT_SASL_PASSWORD", "from-env-secret");
            jail.set_env("KINDRED_KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL");
            let sets = [
                "resolver.batch_size=2000".to_string(),
                "resolver.sync_writes=false".to_string(),
                "normalize.default_region=GB".to_string(),
                "kafka.client.ssl.ca.location=/etc/ca.pem".to_string(),
            ];
            let c = Config::load_with_sets(Some(Path::new("k.toml")), serde_json::json!({}), &sets)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.resolver.batch_size, 2000);
            assert!(!c.resolver.sync_writes);
            assert_eq!(c.normalize.default_region, "GB");
            let client = &c.kafka.client;
            assert_eq!(
                client.get("ssl.ca.location").map(String::as_str),
                Some("/etc/ca.pem")
            );
            assert_eq!(
                client.get("security.protocol").map(String::as_str),
                Some("SASL_SSL")
            );
            assert_eq!(
                client.get("sasl.password").map(String::as_str),
                Some("from-env-secret")
            );
            let shown = c.to_masked_toml();
            assert!(!shown.contains("from-env-secret"), "{shown}");
            assert!(shown.contains("/etc/ca.pem"), "{shown}");

            let err = Config::load_with_sets(
                None,
                serde_json::json!({}),
                &["resolver.batch_sise=3".into()],
            )
            .unwrap_err();
            assert!(err.to_string().contains("batch_sise"), "{err}");
            let err = Config::load_with_sets(
                None,
                serde_json::json!({}),
                &["resolver.batch_size".into()],
            )
            .unwrap_err();
            assert!(err.to_string().contains("KEY=VALUE"), "{err}");
            let err = Config::load_with_sets(
                None,
                serde_json::json!({}),
                &["resolver.batch_size=many".into()],
            )
            .unwrap_err();
            assert!(err.to_string().contains("batch_size"), "{err}");
            Ok(())
        });
    }

    /// `u64::MAX` meant as "wait forever" would overflow a deadline at
    /// shutdown: past a day, a timeout is refused at load, by its key; so
    /// is 0 (a stop ended at once; every service stalled).
    #[test]
    fn a_timeout_past_a_day_or_of_zero_is_refused_by_its_key() {
        // In a jail: other tests' jails set variables in this process.
        figment::Jail::expect_with(|_| {
            for key in ["shutdown.timeout_secs", "http.stall_timeout_secs"] {
                let set = |v: u64| vec![format!("{key}={v}")];
                let load = |v| Config::load_with_sets(None, serde_json::json!({}), &set(v));
                for bad in [u64::MAX, 0] {
                    let err = load(bad).expect_err("refused");
                    assert!(err.to_string().contains(key), "{bad}: {err}");
                }
                assert!(load(MAX_TIMEOUT_SECS).is_ok());
                assert!(load(1).is_ok());
            }
            Ok(())
        });
    }

    #[test]
    fn every_secret_client_property_is_masked_and_refused_on_the_command_line() {
        let secrets = [
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "ssl.truststore.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "sasl.oauthbearer.config",
            "sasl.oauthbearer.assertion.private.key.passphrase",
            "SASL.PASSWORD",
        ];
        let not_secrets = [
            "security.protocol",
            "sasl.mechanism",
            "sasl.username",
            "ssl.ca.location",
            "ssl.key.location",
            "ssl.keystore.location",
            "ssl.certificate.pem",
            "ssl.endpoint.identification.algorithm",
            "sasl.kerberos.keytab",
            "sasl.oauthbearer.assertion.private.key.file",
        ];
        for p in secrets {
            assert!(is_secret(p), "{p} is a secret");
            let err = Config::load_with_sets(
                None,
                serde_json::json!({}),
                &[format!("kafka.client.{p}=s3cret-value")],
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("not taken from the command line"),
                "{p}: {err}"
            );
            assert!(!err.contains("s3cret-value"), "{p}: {err}");
        }
        for p in not_secrets {
            assert!(!is_secret(p), "{p} is not a secret");
        }
        let mut c = Config::default();
        for p in secrets {
            c.kafka.client.insert(p.into(), format!("value-of-{p}"));
        }
        c.kafka
            .client
            .insert("sasl.username".into(), "kindred".into());
        for shown in [c.to_masked_toml(), format!("{c:?}")] {
            assert!(!shown.contains("value-of-"), "{shown}");
            assert!(shown.contains("kindred"), "{shown}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("k.toml", "[kafka]\nbrokerz = \"x\"\n")?;
            let err = Config::load(Some(Path::new("k.toml")), serde_json::json!({})).unwrap_err();
            assert!(err.to_string().contains("brokerz"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_wrong_value_is_named_with_its_file_line_and_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[kafka]\nbrokers = \"b:9092\"\n\n[resolver]\ndata_dir = \"/x\"\nbatch_size = \"lots\"\n\n\
                 [[resolver.linking.rules]]\nname = \"r\"\nversion = \"one\"\naction = \"merge\"\nfields = [\"birthday\"]\n",
            )?;
            let err = Config::load(Some(Path::new("k.toml")), serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("k.toml:6: resolver.batch_size: invalid type"),
                "{text}"
            );
            jail.create_file(
                "r.toml",
                "[[resolver.linking.rules]]\nname = \"r\"\nversion = \"one\"\naction = \"merge\"\nfields = [\"birthday\"]\n",
            )?;
            let err = Config::load(Some(Path::new("r.toml")), serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("r.toml:3: resolver.linking.rules.0.version"),
                "{text}"
            );
            jail.set_env("KINDRED_HTTP__STALL_TIMEOUT_SECS", "soon");
            let err = Config::load(None, serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("KINDRED_HTTP__STALL_TIMEOUT_SECS"), "{text}");
            assert!(text.contains("http.stall_timeout_secs"), "{text}");
            Ok(())
        });
    }

    #[test]
    fn output_policy_defaults_hash_identifiers_and_mask_contacts() {
        let c = Config::default();
        for policy in [&c.privacy.output.profiles, &c.privacy.output.review] {
            assert_eq!(policy.member_id, FieldPolicy::Hashed);
            assert_eq!(policy.social, FieldPolicy::Hashed);
            assert_eq!(policy.account, FieldPolicy::Hashed);
            assert_eq!(policy.device, FieldPolicy::Hashed);
            assert_eq!(policy.phone, FieldPolicy::Masked);
            assert_eq!(policy.email, FieldPolicy::Masked);
            assert_eq!(policy.full_name, FieldPolicy::Masked);
            assert_eq!(policy.given_name, FieldPolicy::Masked);
            assert_eq!(policy.family_name, FieldPolicy::Masked);
            assert_eq!(policy.birthday, FieldPolicy::Masked);
            assert_eq!(policy.address, FieldPolicy::Masked);
            assert_eq!(policy.gender, FieldPolicy::Raw);
        }
        // Nothing but gender is raw by default.
        assert_eq!(
            c.privacy.output.keys_with(FieldPolicy::Raw),
            [
                "privacy.output.profiles.gender",
                "privacy.output.review.gender"
            ]
        );
        assert_eq!(
            c.privacy
                .output
                .profiles
                .identifier(kindred_model::IdentifierKind::Phone),
            FieldPolicy::Masked
        );
    }

    #[test]
    fn output_policy_loads_per_topic_and_field_from_file_env_and_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[privacy.output.profiles]\nphone = \"raw\"\nmember_id = \"omitted\"\n\n\
                 [privacy.output.review]\nfull_name = \"hashed\"\n",
            )?;
            jail.set_env("KINDRED_PRIVACY__OUTPUT__REVIEW__BIRTHDAY", "omitted");
            let c = Config::load_with_sets(
                Some(Path::new("k.toml")),
                serde_json::json!({}),
                &["privacy.output.profiles.email=hashed".into()],
            )
            .map_err(|e| e.to_string())?;
            let (p, r) = (&c.privacy.output.profiles, &c.privacy.output.review);
            assert_eq!(p.phone, FieldPolicy::Raw);
            assert_eq!(p.member_id, FieldPolicy::Omitted);
            assert_eq!(p.email, FieldPolicy::Hashed);
            // Keys not set keep their defaults, per topic.
            assert_eq!(p.full_name, FieldPolicy::Masked);
            assert_eq!(p.social, FieldPolicy::Hashed);
            assert_eq!(r.full_name, FieldPolicy::Hashed);
            assert_eq!(r.birthday, FieldPolicy::Omitted);
            assert_eq!(r.phone, FieldPolicy::Masked);
            assert_eq!(r.member_id, FieldPolicy::Hashed);
            // The effective configuration shows the policy by name.
            let shown = c.to_masked_toml();
            assert!(shown.contains("[privacy.output.profiles]"), "{shown}");
            assert!(shown.contains("phone = \"raw\""), "{shown}");
            Ok(())
        });
    }

    /// deploy/kindred.toml spells out the privacy section with its defaults.
    #[test]
    fn the_reference_file_shows_the_privacy_defaults() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kindred.toml");
        // Inside a jail: other tests set KINDRED_* variables in theirs, and
        // jails run one at a time, so none leaks into this load.
        let c = std::cell::RefCell::new(None);
        figment::Jail::expect_with(|_| {
            *c.borrow_mut() = Some(Config::load(Some(&file), serde_json::json!({})));
            Ok(())
        });
        let c = c
            .into_inner()
            .expect("loaded in the jail")
            .expect("deploy/kindred.toml loads");
        assert_eq!(c.privacy, PrivacyConfig::default());
        // Every field of every topic written out, not left to the defaults.
        let text = std::fs::read_to_string(&file).expect("deploy/kindred.toml");
        let doc: toml::Table = text.parse().expect("TOML");
        for (topic, policy) in OutputConfig::default().topics() {
            let table = doc["privacy"]["output"][topic]
                .as_table()
                .expect("a table per topic");
            let mut written: Vec<&str> = table.keys().map(String::as_str).collect();
            written.sort_unstable();
            let mut fields: Vec<&str> = policy.fields().iter().map(|(f, _)| *f).collect();
            fields.sort_unstable();
            assert_eq!(written, fields, "privacy.output.{topic}");
        }
        // Every topic, at its default: operators renaming topics per
        // environment copy this section.
        let topics = toml::Value::try_from(Config::default().topics).expect("topics serialize");
        for (key, value) in topics.as_table().expect("a table") {
            assert_eq!(doc["topics"].get(key), Some(value), "topics.{key}");
        }
    }

    /// A secret of the wrong type is named, its value never repeated.
    #[test]
    fn a_secret_of_the_wrong_type_is_not_echoed() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "s.toml",
                "[schemas.registry]\nurl = \"http://registry:8081\"\npassword = 48151623\n",
            )?;
            let err = Config::load(Some(Path::new("s.toml")), serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("s.toml:3: schemas.registry.password: invalid type"),
                "{text}"
            );
            assert!(!text.contains("48151623"), "{text}");
            Ok(())
        });
    }

    /// A value out of range is named where it was set (the file and line,
    /// the environment variable, the flag), and every such value is named,
    /// not only the first.
    #[test]
    fn values_out_of_range_are_named_where_they_were_set_all_of_them() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[topics]\npartitions = 3\ncanonical = \"retail.pos.events\"\n\n[http]\nlisten = \"not-an-addr\"\n",
            )?;
            jail.set_env("KINDRED_TOPICS__PARTITIONS", "0");
            let err = Config::load_with_sets(
                Some(Path::new("k.toml")),
                serde_json::json!({}),
                &[
                    "resolver.batch_size=0".into(),
                    "kafka.brokers= ".into(),
                    "schemas.max_message_bytes=0".into(),
                    "resolver.snapshot_keep=0".into(),
                    "resolver.snapshot_dir=/tmp/snapshots".into(),
                    "resolver.snapshot_interval_secs=0".into(),
                    "ingest.batch_linger_ms=3600000".into(),
                ],
            )
            .unwrap_err();
            let text = err.to_string();
            for line in [
                "command line (--set or a flag): schemas.max_message_bytes: must be at least 1",
                "command line (--set or a flag): resolver.snapshot_keep: must be at least 1",
                "command line (--set or a flag): resolver.snapshot_interval_secs: 0: at least 60",
                "command line (--set or a flag): ingest.batch_linger_ms: 3600000: at most 60000",
                "environment variable KINDRED_TOPICS__PARTITIONS: topics.partitions: must be at least 1",
                "command line (--set or a flag): resolver.batch_size: must be at least 1",
                "command line (--set or a flag): kafka.brokers: is empty",
                "k.toml:6: http.listen: \"not-an-addr\" is not a host and port",
                "k.toml:3: topics.canonical: \"retail.pos.events\" is also topics.pos: each topic has one job",
            ] {
                assert!(text.contains(line), "{line} in:\n{text}");
            }
            // A host name and an IPv6 address are a host too.
            for listen in ["localhost:9100", "[::]:9100"] {
                jail.create_file("h.toml", &format!("[http]\nlisten = \"{listen}\"\n"))?;
                jail.set_env("KINDRED_TOPICS__PARTITIONS", "3");
                Config::load(Some(Path::new("h.toml")), serde_json::json!({}))
                    .unwrap_or_else(|e| panic!("{listen}: {e}"));
            }
            jail.create_file("t.toml", "[topics]\nprofiles = \"bad topic!\"\n")?;
            jail.set_env("KINDRED_TOPICS__PARTITIONS", "3");
            let err = Config::load(Some(Path::new("t.toml")), serde_json::json!({})).unwrap_err();
            assert!(
                err.to_string().contains(
                    "t.toml:2: topics.profiles: \"bad topic!\" is not a Kafka topic name"
                ),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_wrong_output_policy_is_named_with_its_file_line_and_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "[privacy]\nplaintext_store = false\n\n[privacy.output.profiles]\nphone = \"hash\"\n",
            )?;
            let err = Config::load(Some(Path::new("k.toml")), serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("k.toml:5: privacy.output.profiles.phone"),
                "{text}"
            );
            assert!(text.contains("hash"), "{text}");
            assert!(
                text.contains("hashed") && text.contains("omitted"),
                "{text}"
            );

            jail.create_file("u.toml", "[privacy.output.review]\nfax = \"raw\"\n")?;
            let err = Config::load(Some(Path::new("u.toml")), serde_json::json!({})).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("u.toml:2"), "{text}");
            assert!(text.contains("fax"), "{text}");

            jail.create_file("t.toml", "[privacy.output.audit]\nphone = \"raw\"\n")?;
            let err = Config::load(Some(Path::new("t.toml")), serde_json::json!({})).unwrap_err();
            assert!(err.to_string().contains("audit"), "{err}");

            let err = Config::load_with_sets(
                None,
                serde_json::json!({}),
                &["privacy.output.review.email=clear".into()],
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("command line (--set or a flag): privacy.output.review.email"),
                "{text}"
            );
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = Config::load(
            Some(Path::new("/nonexistent/k.toml")),
            serde_json::json!({}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/k.toml"));
    }
}
