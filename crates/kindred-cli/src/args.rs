//! The command line: every subcommand, flag and its help text (clap). What
//! each command does is in `main.rs`'s `run`, which hands over to the
//! libraries.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use kindred_config::Config;

use crate::emit;

/// kindred: a streaming customer-data platform for retail.
///
/// Ingests POS, web-shop and social events from Kafka, normalizes them,
/// resolves identities into one golden record per customer in RocksDB, and
/// publishes profile change events. Start with `kindred demo`, which needs
/// no broker.
#[derive(Parser)]
#[command(
    name = "kindred",
    version,
    propagate_version = true,
    args_override_self = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// TOML configuration file. Every key can also be set by environment
    /// variable KINDRED_<SECTION>__<KEY> (e.g. KINDRED_KAFKA__BROKERS).
    #[arg(long, short = 'c', global = true, env = "KINDRED_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Kafka bootstrap servers (overrides kafka.brokers; env
    /// KINDRED_KAFKA__BROKERS; default 127.0.0.1:9092).
    #[arg(long, global = true)]
    pub(crate) brokers: Option<String>,

    /// Address for /metrics, /healthz and /readyz (overrides http.listen;
    /// env KINDRED_HTTP__LISTEN; default 127.0.0.1:9464).
    #[arg(long, global = true)]
    pub(crate) http_listen: Option<String>,

    /// Set any configuration key by its dotted path, after the file and the
    /// environment; repeatable. Values are read as the key's type takes them
    /// (`2024` is text for a topic name, a number for a batch size). Examples: `--set resolver.batch_size=2000`,
    /// `--set kafka.client.security.protocol=SASL_SSL`; a map key holding a
    /// dot as an inline table, `--set 'schemas.ids={"pos_transaction.v1"=21}'`. Secrets (client
    /// properties naming a password, secret or key) are refused here, as
    /// command lines are visible to every local user: use the file or the
    /// environment (KINDRED_KAFKA_CLIENT_SASL_PASSWORD).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub(crate) sets: Vec<String>,

    /// Log format: `text` for people, `json` (one object per line, with the
    /// span's fields) for log pipelines. The level is set by KINDRED_LOG
    /// (default `info,rdkafka=warn`; e.g. `debug`, `kindred_resolver=debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "KINDRED_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,

    /// Also log one line per batch as it ends: its span's service, topic,
    /// partition:first-last offsets, message count and time busy and idle.
    /// KINDRED_LOG_SPANS takes 1/0, true/false, yes/no, on/off.
    #[arg(long, global = true, env = "KINDRED_LOG_SPANS",
          action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) log_spans: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every `--set KEY=VALUE` (or `--set=KEY=VALUE`) of a command line, in
/// order, before and after the subcommand alike. clap keeps only the
/// subcommand's when a global flag is given on both sides (`kindred --set
/// A resolve --set B` gave `[B]`, dropping A without a word), so the
/// command line is read again for them; `--` ends the flags.
pub(crate) fn every_set(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<String> {
    let mut sets = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "--" {
            break;
        } else if arg == "--set" {
            sets.extend(args.next().map(|v| v.to_string_lossy().into_owned()));
        } else if let Some(value) = arg.strip_prefix("--set=") {
            sets.push(value.to_string());
        }
    }
    sets
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the whole pipeline in-process on a generated sample: no broker needed.
    Demo {
        /// Seed of the generated sample (same seed, same output).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// How many synthetic customers to generate.
        #[arg(long, default_value_t = 120)]
        people: u32,
        /// Keep the RocksDB store here instead of in a temporary directory.
        /// Without a keyring (privacy.keyring_file or KINDRED_KEYRING) a
        /// kept store is plaintext: the customers' identifiers and values
        /// sit in it as read. Give your own data a keyring.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Read the events from a directory written by `kindred gen --out`,
        /// or in its form from data of your own (pos.jsonl, web.jsonl and
        /// social.jsonl: one raw record per line, as the channel's schema in
        /// JSON; truth.csv, optional, to be scored against) instead of
        /// generating them. The channel files are read a line at a time;
        /// the truth, and scoring, need memory in proportion to the events.
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// Generate synthetic retail events with ground truth, to files and optionally to Kafka.
    ///
    /// Writes pos.jsonl, web.jsonl and social.jsonl (one raw record per line,
    /// as the channels' JSON would be) and truth.csv (event_id,person). With
    /// --kafka, also produces the events to the configured raw topics, each
    /// channel in the framing `[schemas.framing]` gives it (Avro in the
    /// Confluent wire format by default, or JSON), in arrival order. Same
    /// seed and parameters, byte-identical output.
    Gen {
        /// Seed of the generator: the same seed and options write the same
        /// files, byte for byte.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// How many synthetic customers.
        #[arg(long, default_value_t = 1000)]
        people: u32,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Also produce the events to the raw Kafka topics.
        #[arg(long)]
        kafka: bool,
        /// Share of customers living in China; the others are spread over
        /// GB, US, SG, JP, DE and FR.
        #[arg(long, default_value_t = 0.7)]
        cn_share: f64,
        /// Length of the simulated period, days.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Scales every kind of mess (format variants, typos, households,
        /// changed phones, junk ids, repeats, late events): 0 gives clean
        /// data, 1 the default profile, 2 twice as messy.
        #[arg(long, default_value_t = 1.0)]
        mess: f64,
    },
    /// Score the profiles against ground truth: pairwise and B-cubed
    /// precision/recall/F1, over-merged profiles, under-merged persons.
    ///
    /// Reads the resolver's store (--data-dir) or, as a downstream system
    /// would, the profile change topic from its beginning (--profile-topic;
    /// complete while compaction has not yet removed older changes).
    #[command(group(
        clap::ArgGroup::new("profiles").required(true).args(["data_dir", "profile_topic"])
    ))]
    Eval {
        /// Directory of the resolver's RocksDB store (read only: the resolver
        /// may keep running).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Read the configured profile topic instead of a store.
        #[arg(long)]
        profile_topic: bool,
        /// Ground truth, CSV with the header `event_id,person` (truth.csv
        /// from `kindred gen`; quoted fields and a spreadsheet's byte-order
        /// mark are read as CSV reads them).
        #[arg(long, required_unless_present = "assignments")]
        truth: Option<PathBuf>,
        /// Also write which profile each event is in to this file, as CSV
        /// `event_id,profile_id` lines under that header (an event id
        /// holding a comma or a quote is quoted), to score the clustering
        /// with your own tools. Event ids are the source's (`pos:T-1001`),
        /// never personal values.
        #[arg(long, value_name = "FILE")]
        assignments: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many of the worst over- and under-merges to list.
        #[arg(long, default_value_t = 5)]
        worst: usize,
    },
    /// Measure the pipeline end to end through the real broker.
    ///
    /// Starts the ingest services (one per channel) and the resolver as
    /// separate processes of this binary (each given this command's
    /// --config and --set), on topics and groups of the run's own, produces a generated stream into the raw topics, and reports
    /// sustained events/s, produce-to-profile-change latency percentiles,
    /// consumer lag over time, peak RSS and CPU time of each service, and the
    /// accuracy of the resulting profiles.
    Load {
        /// Records to produce (duplicate deliveries included).
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Events per second; 0 produces as fast as possible.
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Synthetic customers to start from (raised until the generator
        /// yields --events); default events / 4.
        #[arg(long)]
        people: Option<u32>,
        /// Write the full result (with lag and memory over time) here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Keep service logs, the resolver store and the run's ground truth
        /// (truth.csv) here (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// End the run when no event landed for this many seconds.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=kindred_config::MAX_TIMEOUT_SECS))]
        idle_timeout_secs: u64,
        /// Keep the run's topics on the broker afterwards. The result names
        /// them and how to score the profile topic again (`kindred eval
        /// --profile-topic`, with --work-dir's truth.csv).
        #[arg(long)]
        keep_topics: bool,
    },
    /// Prove the delivery guarantees: run the pipeline as real processes
    /// and break it while a generated stream flows through.
    ///
    /// Faults at random (seeded) points of the stream: kill -9 of the
    /// resolver (restarted each time), kill -9 of one of two POS ingest
    /// instances, a broker restart (with --broker-restart), and a SIGTERM of
    /// the resolver and of the web ingest, whose exits are timed. Then checks the store and the
    /// profile topic against an uninterrupted in-process run of the same
    /// input: same people, golden records and points; offsets at the
    /// topic's end; every profile version on the topic exactly once, in
    /// order. Exits 1 if any check fails. The services get this command's
    /// --config and --set. See docs/operations.md.
    Chaos {
        /// Records to write (duplicate deliveries included).
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        /// Events per second to write.
        #[arg(long, default_value_t = 4000)]
        rate: u64,
        /// Generator seed (also places the faults).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// How many times to kill -9 (and restart) the resolver.
        #[arg(long, default_value_t = 5)]
        resolver_kills: u32,
        /// Do not kill an ingest instance.
        #[arg(long)]
        no_ingest_kill: bool,
        /// Do not SIGTERM the resolver and the web ingest.
        #[arg(long)]
        no_sigterm: bool,
        /// A shell command that restarts the broker, keeping its data, e.g.
        /// "deploy/local/kafka.sh restart". Not restarted when absent.
        #[arg(long)]
        broker_restart: Option<String>,
        /// Keep logs and stores here (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Give up when the pipeline makes no progress for this many seconds.
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=kindred_config::MAX_TIMEOUT_SECS))]
        idle_timeout_secs: u64,
        /// Keep the run's topics on the broker afterwards.
        #[arg(long)]
        keep_topics: bool,
    },
    /// Consume a channel's raw topic and produce canonical events (and dead letters).
    ///
    /// Reads topics.pos|web|social in the consumer group
    /// `<kafka.group_prefix>.ingest.<channel>`, decodes each record
    /// (schemas.framing), normalizes it and produces the canonical event to
    /// topics.canonical; a record that cannot be read goes to
    /// topics.dead_letter with the reason, source topic, partition and offset.
    /// Offsets are committed only after the broker acknowledged every output.
    ///
    /// Serves /metrics, /healthz (fails only if the poll loop stalls for
    /// http.stall_timeout_secs) and /readyz (partitions assigned) on
    /// http.listen. SIGTERM or SIGINT: finishes the batch in flight and exits
    /// within shutdown.timeout_secs. Sample configuration:
    /// deploy/config/ingest-<channel>.toml; runbook: docs/operations.md.
    Ingest {
        /// Which channel this instance serves; run several instances of one
        /// channel to split its partitions.
        #[arg(long, value_enum)]
        channel: ChannelArg,
    },
    /// Consume canonical events, resolve identities, produce profile changes.
    ///
    /// Applies topics.canonical to the RocksDB store in resolver.data_dir
    /// (one atomic write per batch, with the input offsets), and publishes
    /// profile changes (topics.profiles), review pairs and quarantine notices
    /// from the store's outbox in Kafka transactions (resolver.transactional_id).
    /// Run exactly one resolver per store.
    ///
    /// Serves /metrics, /healthz and /readyz (store open, outbox recovered,
    /// partitions assigned) on http.listen. SIGTERM or SIGINT: finishes the
    /// batch, publishes what it can and exits within shutdown.timeout_secs.
    /// Sample configuration: deploy/config/resolve.toml; runbook:
    /// docs/operations.md.
    Resolve {
        /// Directory of the RocksDB store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Manage the Kafka topics kindred uses.
    Topics {
        #[command(subcommand)]
        action: TopicsAction,
    },
    /// Review suggested merges: list the queue, approve or reject a pair.
    ///
    /// A guard (two member cards, a per-kind limit, clearly different names,
    /// the giant-profile guard) or a `suggest` rule puts pairs of profiles in
    /// the review queue (also published on topics.review). Approve merges
    /// them, recording the reviewer in the lineage; reject keeps them apart
    /// for good. With --live, the decision goes to the running resolver
    /// (topics.decision_requests) and the command waits for its reply.
    /// Without it, approve and reject work on the store directly: stop the
    /// resolver first; it publishes the change events when it starts again.
    /// `list` reads the store beside a running resolver.
    Review {
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Undo a merge: take an identifier's links or a channel's records out of a profile.
    ///
    /// With --identifier, that identifier stops joining the profile's
    /// records; the records it alone held together become separate profiles
    /// (attributes, points, orders and consents move with their events).
    /// With --source, the channel's records leave. The parts stay apart from
    /// then on. An id absorbed into another profile is refused (the split
    /// would act on the whole survivor: name the survivor), and so is a
    /// split by identifier that a review approval holds together (the
    /// error names the approval and the reject that takes it back). With --live, the split goes to the running resolver
    /// (topics.decision_requests; profile ids only) and the command waits
    /// for its reply; without it, stop the resolver first: the `split`
    /// change events wait in the store's outbox until it publishes them.
    Split {
        /// A profile id (kp-...) or an identifier kind:value it holds.
        target: String,
        /// The identifier to split off, kind:value (e.g. phone:13900001111).
        #[arg(long, conflicts_with = "source", required_unless_present = "source")]
        identifier: Option<String>,
        /// The channel whose records leave the profile.
        #[arg(long, value_enum)]
        source: Option<ChannelArg>,
        /// Who is splitting (recorded in the lineage and the decision log).
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Why these records are one customer: merges with rule, version,
    /// evidence and time, decisions, and which source won each attribute.
    ///
    /// Given an identifier, it also says when several profiles hold it (a
    /// shared card or computer, a household's line, a refused link) or when
    /// it is quarantined as over-shared. Identifiers are shown masked. Reads
    /// the store as it is when the command starts; the resolver may keep
    /// running (a RocksDB secondary instance, which never writes).
    Explain {
        /// A profile id (kp-..., absorbed ids are followed) or an identifier
        /// kind:value (normalized as in events, e.g. phone:139 0000 1111).
        target: String,
        #[arg(long)]
        json: bool,
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Change linking rules without fear: see what a new rule set would
    /// merge and split, then apply it to exactly those profiles.
    Rules {
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Queue every profile for the profile topic again, under the current
    /// output policy.
    ///
    /// After a change of [privacy.output] (say, e-mails from raw to hashed),
    /// the compacted profile topic still holds each record as it was last
    /// published until the profile changes. This queues every live profile
    /// as an `updated` change with its next version and no changed fields;
    /// the resolver publishes them, with its config's policy, when it next
    /// runs. Stop the resolver first (RocksDB lets one writer open the store).
    Republish {
        /// Who asked for it (recorded in the decision log).
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write a snapshot (RocksDB checkpoint) of a stopped resolver's store.
    ///
    /// A running resolver writes its own on a timer (resolver.snapshot_dir,
    /// resolver.snapshot_interval_secs). The snapshot holds the state, the
    /// source offsets it reflects and the unpublished outbox.
    Snapshot {
        /// Directory to write the snapshot to; must not exist yet.
        #[arg(long)]
        out: PathBuf,
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Restore a snapshot into an empty store directory.
    ///
    /// The restored store gets a new identity, resumes reading the
    /// canonical topic at the snapshot's offsets (events it sees again are
    /// de-duplicated) and publishes the snapshot's unpublished outbox.
    /// The erasures the audit topic lists (topics.erasure_audit) go on its
    /// suppression list first, so an erased person's events replayed from
    /// the canonical topic stay dropped; then the profile topic is read
    /// back, so new profiles are numbered after its ids, versions continue
    /// from its, and ids the store does not hold get a tombstone. The
    /// brokers must answer.
    Restore {
        /// The snapshot directory (from `kindred snapshot` or resolver.snapshot_dir).
        #[arg(long)]
        from: PathBuf,
        /// Directory to restore into, empty or absent (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Give up when the broker does not answer for this many seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=kindred_config::MAX_TIMEOUT_SECS))]
        timeout_secs: u64,
    },
    /// Rebuild a lost store by replaying the canonical topic from its beginning.
    ///
    /// For when no snapshot is left. People and golden records come out
    /// the same; profile ids are numbered afresh in replay order, after
    /// every id on the profile topic, so prefer `restore` when a snapshot
    /// exists. Leaves for the resolver to publish a tombstone for every old
    /// id and every live profile under its new id; fails if ids are
    /// published meanwhile (stop the old resolver first). Review approvals,
    /// rejects and splits are carried over from the decisions topic
    /// (topics.decisions), or from the old store with --decisions-from.
    Rebuild {
        /// Directory to build the store in, empty or absent (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Give up when nothing arrives from the broker for this many seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=kindred_config::MAX_TIMEOUT_SECS))]
        timeout_secs: u64,
        /// The old store (moved away, not in use), whose review approvals,
        /// rejects and splits are carried over instead of the decisions
        /// topic's (for decisions made before that topic existed, unless
        /// `kindred republish` has seeded it since). Read with this
        /// configuration's keyring.
        #[arg(long, value_name = "DIR")]
        decisions_from: Option<PathBuf>,
        /// Rebuild even though retention or delete-records removed the head
        /// of the canonical topic (refused otherwise): the people whose
        /// events are gone are missing from the store, and their ids are
        /// tombstoned on the profile topic.
        #[arg(long)]
        from_what_is_left: bool,
    },
    /// Forget a person (the right to erasure).
    ///
    /// Sends an erasure request to the erasure-request topic and waits for
    /// the resolver's audit record. The resolver follows the person's merge
    /// history to every profile id they had, removes the golden record,
    /// identifier index entries, source contributions and lineage, publishes
    /// an `erased` change and a tombstone for every id, and (unless
    /// privacy.suppress_erased is off) keeps a keyed hash of each identifier
    /// so later events do not bring the person back. With a keyring, the
    /// request carries the identifier's keyed hash, never the raw value. A
    /// shared identifier (quarantined, or held by several people) erases
    /// nobody: erase by --profile instead.
    ///
    /// A command line is visible to every local user and kept in shell
    /// history: give `-` as the value to read it from standard input
    /// (`printf %s "$EMAIL" | kindred forget --email -`).
    #[command(group(clap::ArgGroup::new("who").required(true).args(["email", "phone", "member", "profile"])))]
    Forget {
        /// The person's email address (normalized as in events); `-` reads it from stdin.
        #[arg(long)]
        email: Option<String>,
        /// The person's phone number (normalized as in events); `-` reads it from stdin.
        #[arg(long)]
        phone: Option<String>,
        /// The person's member card, PROGRAM:NUMBER or NUMBER (default program); `-` reads it from stdin.
        #[arg(long)]
        member: Option<String>,
        /// A profile id (kp-...; an absorbed id finds its survivor).
        #[arg(long)]
        profile: Option<String>,
        /// Your reference for the request, e.g. a ticket number; no personal data.
        #[arg(long)]
        request_id: Option<String>,
        /// Who asks (recorded in the audit record).
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
        /// Seconds to wait for the audit record; 0 sends and returns. When
        /// no broker answers, sending gives up after as long (5 s at least,
        /// 10 s with 0) and nothing is requested.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=kindred_config::MAX_TIMEOUT_SECS))]
        wait_secs: u64,
        /// Print the audit record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Keyrings: the keys that protect personal data in the store.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Work with the Avro schemas in schemas/.
    Schemas {
        #[command(subcommand)]
        action: SchemasAction,
    },
    /// Work with the dead-letter topic.
    Deadletter {
        #[command(subcommand)]
        action: DeadletterAction,
    },
}

#[derive(Subcommand)]
pub(crate) enum SchemasAction {
    /// Check schema compatibility, as a schema registry would.
    ///
    /// With no files: every current schema against each of its released
    /// versions in schemas/history, at the schema's declared level (FULL for
    /// the raw inputs and the canonical event; BACKWARD for the profile
    /// change, whose readers upgrade before the resolver). With OLD and NEW:
    /// those two files, at the level asked for. Exits with status 1 on an
    /// incompatible change.
    Check {
        /// The released schema file.
        #[arg(requires = "new")]
        old: Option<PathBuf>,
        /// The changed schema file.
        new: Option<PathBuf>,
        /// Required compatibility: for OLD -> NEW (default full), or, with no
        /// files, for every schema instead of its declared level.
        #[arg(long, value_enum)]
        level: Option<Level>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Level {
    /// New readers read old data, and old readers read new data.
    Full,
    /// New readers read old data (upgrade consumers first).
    Backward,
    /// Old readers read new data (upgrade producers first).
    Forward,
}

#[derive(Subcommand)]
pub(crate) enum DeadletterAction {
    /// Re-submit dead letters, key and bytes unchanged, to the topic they came
    /// from (after fixing what made them fail); never a cut one or a refused
    /// request kept masked. Reads from this command's
    /// last position up to the end of the topic as of the start. Each filter
    /// (--reason, --source-topic, both or none) keeps its own position, so
    /// what one run filtered out stays on offer to the others.
    Replay {
        /// Only dead letters with this reason (e.g. unknown_schema_id).
        #[arg(long)]
        reason: Option<String>,
        /// Only dead letters from this source topic.
        #[arg(long)]
        source_topic: Option<String>,
        /// Show what would be replayed; produce and commit nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReviewAction {
    /// The pairs waiting for a decision, with rule, evidence kinds and the guard that refused them.
    List {
        /// Print the queue as JSON.
        #[arg(long)]
        json: bool,
        /// Read the queue from the review topic (topics.review) instead of
        /// the store (both work while the resolver runs).
        #[arg(long)]
        live: bool,
    },
    /// Merge two profiles (ids, or identifiers kind:value they hold).
    Approve(PairDecision),
    /// Keep two profiles apart for good: no identifier or rule joins them again.
    Reject(PairDecision),
}

/// A reviewer's decision on a pair of profiles.
#[derive(clap::Args)]
pub(crate) struct PairDecision {
    pub(crate) a: String,
    pub(crate) b: String,
    /// Who decided (recorded in the decision log and the lineage).
    #[arg(long, env = "USER", default_value = "reviewer")]
    pub(crate) reviewer: String,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
}

/// Sending a decision to the running resolver instead of opening its store.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct LiveArgs {
    /// Send the decision to the running resolver (topics.decision_requests)
    /// and wait for its reply on topics.decision_outcomes; profiles by id
    /// (kp-...). The resolver applies it in order with the events.
    #[arg(long)]
    pub(crate) live: bool,
    /// With --live: seconds to wait for the reply; 0 sends and returns.
    /// When no broker answers, sending gives up after as long (5 s at
    /// least, 10 s with 0) and nothing is requested.
    #[arg(long, default_value_t = 60, requires = "live", value_parser = clap::value_parser!(u64).range(0..=kindred_config::MAX_TIMEOUT_SECS))]
    pub(crate) wait_secs: u64,
    /// With --live: print the reply as JSON on standard output, a refusal
    /// too (the exit status is then 1).
    #[arg(long, requires = "live")]
    pub(crate) json: bool,
}

impl LiveArgs {
    /// Sends `decision` to the running resolver and waits as asked.
    pub(crate) async fn send(
        &self,
        config: &Config,
        decision: kindred_pipeline::live::LiveDecision<'_>,
        actor: &str,
    ) -> anyhow::Result<String> {
        let wait = std::time::Duration::from_secs(self.wait_secs);
        match kindred_pipeline::live::decide(config, decision, actor, wait, self.json).await {
            // With --json the reply goes to standard output either way: a
            // script reads why from it, and the exit status says refused.
            Err(kindred_pipeline::PipelineError::Refused(reply)) => {
                emit(&format!("{reply}\n"))?;
                anyhow::bail!("the resolver refused the decision (its reply is on standard output)")
            }
            other => {
                let mut out = other?;
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                Ok(out)
            }
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum KeysAction {
    /// Write a new keyring: a random HMAC key (index keys; never changes)
    /// and encryption key 1. The file is readable by its owner only. Point
    /// privacy.keyring_file at it, or put its text in KINDRED_KEYRING.
    Generate {
        /// Where to write it; must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a new encryption key to privacy.keyring_file, make it active and
    /// re-seal every stored value with it (stop the resolver first). Older
    /// keys stay in the file for snapshots sealed with them.
    Rotate {
        /// Directory of the resolver's store (overrides resolver.data_dir;
        /// env KINDRED_RESOLVER__DATA_DIR; default ./data/resolver).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum RulesAction {
    /// Evaluate the [resolver.linking] of another config file against every
    /// stored contribution and report which profiles would merge or split.
    /// Changes nothing, so the resolver may keep running (the store is read
    /// as it is when the command starts).
    Diff {
        /// The config file with the new rules.
        #[arg(long)]
        new: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Apply the new rules: re-partition exactly the profiles `diff` names
    /// and re-index rule keys. Stop the resolver first; restart it with the
    /// new config.
    Apply {
        #[arg(long)]
        new: PathBuf,
        /// Who applied it (recorded in the decision log).
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum TopicsAction {
    /// Create every topic that does not exist yet (existing ones are left alone).
    Create,
}

#[derive(Subcommand)]
pub(crate) enum ConfigAction {
    /// Validate a configuration file and print the effective configuration, secrets masked.
    ///
    /// Applies the environment (KINDRED_<SECTION>__<KEY>,
    /// KINDRED_KAFKA_CLIENT_<PROPERTY>) and --set flags as a service would,
    /// checks every key and value, and prints the result as TOML with every
    /// key (defaults included). Pass-through client properties naming a
    /// password, secret or key are shown as ********. Exits 1 naming the file,
    /// line and key of each problem: of every out-of-range value, and of the
    /// first key the file cannot have (an unknown key or a wrong type; fix
    /// it and check again for the next).
    Check {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ChannelArg {
    Pos,
    Web,
    Social,
}

impl From<ChannelArg> for kindred_pipeline::Channel {
    fn from(c: ChannelArg) -> Self {
        match c {
            ChannelArg::Pos => Self::Pos,
            ChannelArg::Web => Self::Web,
            ChannelArg::Social => Self::Social,
        }
    }
}
