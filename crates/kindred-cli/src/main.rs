//! The `kindred` binary: parses flags, loads configuration, sets up logging
//! and signal handling, then hands over to `kindred-pipeline`. No logic lives here.

use std::path::PathBuf;

/// mimalloc instead of glibc malloc: the resolver allocates and frees many
/// small values per event (BENCHMARKS.md, "Resolver core").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use kindred_config::Config;
use kindred_pipeline::services::{ingest, resolve, Ops};
use kindred_pipeline::{admin, demo, topics, Shutdown};
use kindred_schema::CompatibilityLevel;
use serde_json::json;

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
struct Cli {
    /// TOML configuration file. Every key can also be set by environment
    /// variable KINDRED_<SECTION>__<KEY> (e.g. KINDRED_KAFKA__BROKERS).
    #[arg(long, short = 'c', global = true, env = "KINDRED_CONFIG")]
    config: Option<PathBuf>,

    /// Kafka bootstrap servers (overrides kafka.brokers).
    #[arg(long, global = true)]
    brokers: Option<String>,

    /// Address for /metrics, /healthz and /readyz (overrides http.listen).
    #[arg(long, global = true)]
    http_listen: Option<String>,

    /// Set any configuration key by its dotted path, after the file and the
    /// environment; repeatable. Values are read as the key's type takes them
    /// (`2024` is text for a topic name, a number for a batch size). Examples: `--set resolver.batch_size=2000`,
    /// `--set kafka.client.security.protocol=SASL_SSL`. Secrets (client
    /// properties naming a password, secret or key) are refused here, as
    /// command lines are visible to every local user: use the file or the
    /// environment (KINDRED_KAFKA_CLIENT_SASL_PASSWORD).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    sets: Vec<String>,

    /// Log format: `text` for people, `json` (one object per line, with the
    /// span's fields) for log pipelines. The level is set by KINDRED_LOG
    /// (default `info,rdkafka=warn`; e.g. `debug`, `kindred_resolver=debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "KINDRED_LOG_FORMAT")]
    log_format: LogFormat,

    /// Also log one line per batch as it ends: its span's service, topic,
    /// partition:first-last offsets, message count and time busy and idle.
    #[arg(long, global = true, env = "KINDRED_LOG_SPANS")]
    log_spans: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
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
    /// --kafka, also produces the events to the configured raw topics (Avro,
    /// Confluent wire format), in arrival order. Same seed and parameters,
    /// byte-identical output.
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
    /// separate processes of this binary, on topics and groups of the run's
    /// own, produces a generated stream into the raw topics, and reports
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
        #[arg(long, default_value_t = 60)]
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
    /// order. Exits 1 if any check fails. See docs/operations.md.
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
        #[arg(long, default_value_t = 120)]
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
        /// Directory of the RocksDB store (overrides resolver.data_dir).
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
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
    /// then on. With --live, the split goes to the running resolver
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Change linking rules without fear: see what a new rule set would
    /// merge and split, then apply it to exactly those profiles.
    Rules {
        /// Directory of the resolver's store (overrides resolver.data_dir).
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Restore a snapshot into an empty store directory.
    ///
    /// The restored store gets a new identity, resumes reading the
    /// canonical topic at the snapshot's offsets (events it sees again are
    /// de-duplicated) and publishes the snapshot's unpublished outbox.
    Restore {
        /// The snapshot directory (from `kindred snapshot` or resolver.snapshot_dir).
        #[arg(long)]
        from: PathBuf,
        /// Directory to restore into, empty or absent (overrides resolver.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Rebuild a lost store by replaying the canonical topic from its beginning.
    ///
    /// For when no snapshot is left. Publishes nothing (the profile topic
    /// already has the history). People and golden records come out the
    /// same; profile ids and versions are numbered afresh in replay order,
    /// so prefer `restore` when a snapshot exists. Review approvals,
    /// rejects and splits are carried over from the decisions topic
    /// (topics.decisions), or from the old store with --decisions-from.
    Rebuild {
        /// Directory to build the store in, empty or absent (overrides resolver.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Give up when nothing arrives from the broker for this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
        /// The old store (moved away, not in use), whose review approvals,
        /// rejects and splits are carried over instead of the decisions
        /// topic's (for decisions made before that topic existed, unless
        /// `kindred republish` has seeded it since). Read with this
        /// configuration's keyring.
        #[arg(long, value_name = "DIR")]
        decisions_from: Option<PathBuf>,
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
        /// Seconds to wait for the audit record; 0 sends and returns.
        #[arg(long, default_value_t = 60)]
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
enum SchemasAction {
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
enum Level {
    /// New readers read old data, and old readers read new data.
    Full,
    /// New readers read old data (upgrade consumers first).
    Backward,
    /// Old readers read new data (upgrade producers first).
    Forward,
}

#[derive(Subcommand)]
enum DeadletterAction {
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
enum ReviewAction {
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
    Approve {
        a: String,
        b: String,
        /// Who decided (recorded in the lineage).
        #[arg(long, env = "USER", default_value = "reviewer")]
        reviewer: String,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Keep two profiles apart for good: no identifier or rule joins them again.
    Reject {
        a: String,
        b: String,
        /// Who decided (recorded in the decision log).
        #[arg(long, env = "USER", default_value = "reviewer")]
        reviewer: String,
        #[command(flatten)]
        live: LiveArgs,
    },
}

/// Sending a decision to the running resolver instead of opening its store.
#[derive(clap::Args, Debug, Clone)]
struct LiveArgs {
    /// Send the decision to the running resolver (topics.decision_requests)
    /// and wait for its reply on topics.decision_outcomes; profiles by id
    /// (kp-...). The resolver applies it in order with the events.
    #[arg(long)]
    live: bool,
    /// With --live: seconds to wait for the reply; 0 sends and returns.
    #[arg(long, default_value_t = 60, requires = "live")]
    wait_secs: u64,
    /// With --live: print the reply as JSON on standard output, a refusal
    /// too (the exit status is then 1).
    #[arg(long, requires = "live")]
    json: bool,
}

impl LiveArgs {
    /// Sends `decision` to the running resolver and waits as asked.
    async fn send(
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
enum KeysAction {
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
        /// Directory of the resolver's store (overrides resolver.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RulesAction {
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
enum TopicsAction {
    /// Create every topic that does not exist yet (existing ones are left alone).
    Create,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Validate a configuration file and print the effective configuration, secrets masked.
    ///
    /// Applies the environment (KINDRED_<SECTION>__<KEY>,
    /// KINDRED_KAFKA_CLIENT_<PROPERTY>) and --set flags as a service would,
    /// checks every key and value, and prints the result as TOML with every
    /// key (defaults included). Pass-through client properties naming a
    /// password, secret or key are shown as ********. Exits 1 naming the file,
    /// line and key of each problem.
    Check {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
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

fn main() -> anyhow::Result<()> {
    sigpipe_ends_the_process();
    let cli = Cli::parse();
    init_logging(cli.log_format, cli.log_spans);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

/// A closed pipe ends kindred as it ends any Unix tool (`kindred explain
/// ... | head`, `kindred ingest 2>&1 | head`): Rust starts programs with
/// SIGPIPE ignored, so the next print to the closed pipe failed instead,
/// a panic, and a second one while logging it aborted (exit 134).
fn sigpipe_ends_the_process() {
    // SAFETY: called first in `main`, before any other thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logging(format: LogFormat, spans: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::fmt::format::FmtSpan;
    const DEFAULT_FILTER: &str = "info,rdkafka=warn";
    let (filter, refused) = match std::env::var("KINDRED_LOG") {
        Ok(spec) => match tracing_subscriber::EnvFilter::try_new(&spec) {
            Ok(filter) => (filter, None),
            Err(e) => (
                tracing_subscriber::EnvFilter::new(DEFAULT_FILTER),
                Some((spec, e)),
            ),
        },
        Err(_) => (tracing_subscriber::EnvFilter::new(DEFAULT_FILTER), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(if spans { FmtSpan::CLOSE } else { FmtSpan::NONE })
        // Colours only for a person at a terminal: a file, a pipe,
        // journald or `kubectl logs` get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    if let Some((spec, e)) = refused {
        tracing::warn!(
            "KINDRED_LOG={spec:?} is not a log filter ({e}); logging at {DEFAULT_FILTER}"
        );
    }
}

fn load_config(cli: &Cli, data_dir: Option<&PathBuf>) -> anyhow::Result<Config> {
    let config = Config::load_with_sets(
        cli.config.as_deref(),
        flag_overrides(cli, data_dir),
        &cli.sets,
    )
    .context("cannot load the configuration")?;
    for warning in config.resolver.linking.warnings() {
        tracing::warn!("configuration: {warning}");
    }
    Ok(config)
}

/// The global flags that override configuration keys, as a partial nested map.
fn flag_overrides(
    cli: &Cli,
    data_dir: Option<&PathBuf>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut overrides = serde_json::Map::new();
    if let Some(b) = &cli.brokers {
        overrides.insert("kafka".into(), json!({ "brokers": b }));
    }
    if let Some(l) = &cli.http_listen {
        overrides.insert("http".into(), json!({ "listen": l }));
    }
    if let Some(d) = data_dir {
        overrides.insert("resolver".into(), json!({ "data_dir": d }));
    }
    overrides
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Demo {
            seed,
            people,
            data_dir,
            input,
        } => {
            let config = load_config(&cli, None)?;
            let keyring = kindred_pipeline::privacy::configured_keyring(&config)?;
            if let (Some(dir), None) = (data_dir, &keyring) {
                eprintln!(
                    "warning: no keyring is configured, so the store kept in {} is plaintext: \
                     identifiers and personal values are written as read. Set \
                     privacy.keyring_file or KINDRED_KEYRING (`kindred keys generate`) for data \
                     that is not synthetic.",
                    dir.display()
                );
            }
            let opts = demo::DemoOptions {
                seed: *seed,
                people: *people,
                data_dir: data_dir.clone(),
                input: input.clone(),
                keyring,
                linking: config.resolver.linking.clone(),
                survivorship: config.resolver.survivorship.clone(),
                normalize: kindred_pipeline::normalize_options(&config)?,
                ..demo::DemoOptions::default()
            };
            let report =
                tokio::task::block_in_place(|| demo::run(&opts)).context("the demo failed")?;
            emit(&report.to_string())?;
        }
        Command::Gen {
            seed,
            people,
            out,
            kafka,
            cn_share,
            days,
            mess,
        } => {
            let opts = kindred_gen::GenOptions {
                seed: *seed,
                people: *people,
                cn_share: *cn_share,
                days: *days,
                mess: kindred_gen::MessRates::default().scale(*mess),
                ..kindred_gen::GenOptions::default()
            };
            anyhow::ensure!(
                *mess >= 0.0,
                "invalid generator options: --mess must be 0 or more, not {mess}"
            );
            opts.validate()
                .map_err(|e| anyhow::anyhow!("invalid generator options: {e}"))?;
            anyhow::ensure!(
                !out.exists() || out.is_dir(),
                "--out {}: is a file; the generator writes a directory (pos.jsonl, web.jsonl, social.jsonl, truth.csv, gen.json)",
                out.display()
            );
            let (events, stats) = kindred_gen::generate_with_stats(&opts);
            kindred_gen::write_files(&events, out)
                .and_then(|()| kindred_gen::write_manifest(out, &opts, &stats))
                .with_context(|| format!("cannot write generated events to {}", out.display()))?;
            emit(&format!("{stats}"))?;
            println!(
                "{} records ({} distinct events) of {people} people written to {} (options and summary in {})",
                events.len(),
                stats.events,
                out.display(),
                kindred_gen::MANIFEST_FILE
            );
            if *kafka {
                let config = load_config(&cli, None)?;
                let writer = kindred_load::RawWriter::new(&config).await?;
                let n = writer
                    .write_all(&events, |_| {})
                    .await
                    .with_context(|| format!("cannot produce to {}", config.kafka.brokers))?;
                println!(
                    "{n} events produced to {}, {}, {} on {}",
                    config.topics.pos,
                    config.topics.web,
                    config.topics.social,
                    config.kafka.brokers
                );
            }
        }
        Command::Eval {
            data_dir,
            profile_topic,
            truth: truth_path,
            assignments,
            json,
            worst,
        } => {
            let truth = match truth_path {
                Some(path) => kindred_gen::read_truth(path)
                    .with_context(|| format!("cannot read ground truth {}", path.display()))?,
                None => Default::default(),
            };
            let clustering: Vec<(String, String)> = match data_dir {
                Some(data_dir) if !*profile_topic => {
                    anyhow::ensure!(
                        data_dir.join("CURRENT").is_file(),
                        "no resolver store at {} (no RocksDB CURRENT file in it)",
                        data_dir.display()
                    );
                    let config = load_config(&cli, None)?;
                    let store = kindred_pipeline::privacy::open_reader_at(&config, data_dir)?;
                    store.assignments()?
                }
                _ => {
                    let config = load_config(&cli, None)?;
                    let read = kindred_pipeline::profile_topic::read_changelog(
                        &config,
                        std::time::Duration::from_secs(600),
                    )
                    .await
                    .with_context(|| format!("cannot read {}", config.topics.profiles))?;
                    eprintln!(
                        "read {} records from {}: {} unreadable, {} tombstones of erased profiles, {} changes with cut id lists",
                        read.messages,
                        config.topics.profiles,
                        read.unreadable,
                        read.tombstones,
                        read.cut
                    );
                    read.changelog
                        .assignments()
                        .map(|(event, profile)| (event.to_string(), profile))
                        .collect()
                }
            };
            if let Some(path) = assignments {
                kindred_eval::write_assignments(path, &clustering).with_context(|| {
                    format!("cannot write the assignments to {}", path.display())
                })?;
                eprintln!(
                    "wrote the profile of each of {} events to {}",
                    clustering.len(),
                    path.display()
                );
            }
            if truth_path.is_none() {
                return Ok(());
            }
            let report = kindred_eval::evaluate_against(clustering, &truth, *worst);
            anyhow::ensure!(
                truth.is_empty() || report.missing_records < report.records,
                "none of the {} events of the ground truth is in the clustering: is it the truth of this data set?",
                report.records
            );
            if report.missing_records * 100 > report.records {
                eprintln!(
                    "warning: {} of the {} events of the ground truth are not in the clustering (scored as profiles of their own)",
                    report.missing_records, report.records
                );
            }
            if *json {
                emit(&format!("{}\n", report.to_json()))?;
            } else {
                emit(&report.to_string())?;
            }
        }
        Command::Load {
            events,
            rate,
            seed,
            people,
            json,
            work_dir,
            idle_timeout_secs,
            keep_topics,
        } => {
            let config = load_config(&cli, None)?;
            let opts = kindred_load::LoadOptions {
                events: *events,
                gen: kindred_gen::GenOptions {
                    seed: *seed,
                    people: people.unwrap_or((*events / 4).clamp(1, u64::from(u32::MAX)) as u32),
                    ..kindred_gen::GenOptions::default()
                },
                rate: *rate,
                exe: std::env::current_exe().context("cannot find the kindred binary")?,
                config_file: cli.config.clone(),
                work_dir: work_dir.clone(),
                idle_timeout: std::time::Duration::from_secs(*idle_timeout_secs),
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                delete_topics: !*keep_topics,
            };
            let report = kindred_load::run(&config, &opts)
                .await
                .context("the load run failed")?;
            if let Some(path) = json {
                std::fs::write(path, report.to_json())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            emit(&report.to_string())?;
            if let Some(why) = report.invalid() {
                anyhow::bail!("the run does not stand as a measurement: {why}");
            }
        }
        Command::Chaos {
            events,
            rate,
            seed,
            resolver_kills,
            no_ingest_kill,
            no_sigterm,
            broker_restart,
            work_dir,
            json,
            idle_timeout_secs,
            keep_topics,
        } => {
            let config = load_config(&cli, None)?;
            let opts = kindred_load::chaos::ChaosOptions {
                events: *events,
                gen: kindred_gen::GenOptions {
                    seed: *seed,
                    people: (*events / 4).clamp(1, u64::from(u32::MAX)) as u32,
                    ..kindred_gen::GenOptions::default()
                },
                rate: *rate,
                resolver_kills: *resolver_kills,
                kill_ingest: !*no_ingest_kill,
                sigterm: !*no_sigterm,
                broker_restart: broker_restart
                    .as_ref()
                    .map(|c| vec!["sh".to_string(), "-c".to_string(), c.clone()]),
                exe: std::env::current_exe().context("cannot find the kindred binary")?,
                config_file: cli.config.clone(),
                work_dir: work_dir.clone(),
                idle_timeout: std::time::Duration::from_secs(*idle_timeout_secs),
                delete_topics: !*keep_topics,
            };
            let report = kindred_load::chaos::run(&config, &opts)
                .await
                .context("the chaos run could not finish")?;
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&report)?;
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            emit(&report.to_string())?;
            if !report.passed {
                anyhow::bail!("the chaos run found a broken guarantee (see the report above)");
            }
        }
        Command::Ingest { channel } => {
            let config = load_config(&cli, None)?;
            let channel = (*channel).into();
            let ops = Ops::start(&config, &format!("ingest-{channel}")).await?;
            let shutdown = shutdown_on_signals(&config);
            ingest::run(&config, channel, &ops, shutdown)
                .await
                .with_context(|| format!("the {channel} ingest service failed"))?;
        }
        Command::Resolve { data_dir } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let ops = Ops::start(&config, "resolve").await?;
            let shutdown = shutdown_on_signals(&config);
            resolve::run(&config, &ops, shutdown)
                .await
                .context("the resolver failed")?;
        }
        Command::Topics {
            action: TopicsAction::Create,
        } => {
            let config = load_config(&cli, None)?;
            let settings = kindred_pipeline::services::kafka_settings(&config);
            let results = kindred_kafka::ensure_topics(&settings, &topics::all_topics(&config))
                .await
                .with_context(|| format!("cannot create topics on {}", config.kafka.brokers))?;
            for (name, status) in results {
                println!(
                    "{name}: {}",
                    match status {
                        kindred_kafka::TopicStatus::Created => "created",
                        kindred_kafka::TopicStatus::AlreadyExisted => "already exists",
                    }
                );
            }
        }
        Command::Schemas {
            action: SchemasAction::Check { old, new, level },
        } => {
            let level = level.map(|l| match l {
                Level::Full => CompatibilityLevel::Full,
                Level::Backward => CompatibilityLevel::Backward,
                Level::Forward => CompatibilityLevel::Forward,
            });
            let mut results = match (old, new) {
                (Some(old), Some(new)) => vec![kindred_schema::check_files(
                    old,
                    new,
                    level.unwrap_or(CompatibilityLevel::Full),
                )?],
                _ => kindred_schema::check_embedded()?,
            };
            if let Some(level) = level {
                for r in &mut results {
                    r.required = level;
                }
            }
            let mut failed = 0;
            for r in &results {
                let c = &r.compatibility;
                let ok = r.passes();
                println!(
                    "{} {} -> {}: {} (required {})",
                    if ok { "ok  " } else { "FAIL" },
                    r.old,
                    r.new,
                    c.level(),
                    r.required
                );
                if !ok {
                    failed += 1;
                    for (what, res) in [("backward", &c.backward), ("forward", &c.forward)] {
                        if let Err(e) = res {
                            println!("     not {what} compatible: {e}");
                        }
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} incompatible schema change(s)");
            }
        }
        Command::Deadletter {
            action:
                DeadletterAction::Replay {
                    reason,
                    source_topic,
                    dry_run,
                },
        } => {
            let config = load_config(&cli, None)?;
            let filter = kindred_pipeline::services::deadletter::ReplayFilter {
                reason: reason.clone(),
                source_topic: source_topic.clone(),
                dry_run: *dry_run,
            };
            let report = kindred_pipeline::services::deadletter::replay(&config, &filter)
                .await
                .with_context(|| {
                    format!(
                        "cannot replay dead letters from {}",
                        config.topics.dead_letter
                    )
                })?;
            let verb = if *dry_run { "would replay" } else { "replayed" };
            println!(
                "read {}, {verb} {}, skipped {}, unreadable {}, truncated (not replayed) {}, \
                 masked requests (not replayed) {}",
                report.read,
                report.replayed.values().sum::<u64>(),
                report.skipped,
                report.unreadable,
                report.truncated,
                report.masked
            );
            for (reason, n) in &report.replayed {
                println!("  {reason}: {n}");
            }
        }
        Command::Review { data_dir, action } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out = match action {
                ReviewAction::List { json, live: true } => {
                    kindred_pipeline::live::review_list(&config, *json).await?
                }
                ReviewAction::Approve {
                    a,
                    b,
                    reviewer,
                    live,
                }
                | ReviewAction::Reject {
                    a,
                    b,
                    reviewer,
                    live,
                } if live.live => {
                    let approve = matches!(action, ReviewAction::Approve { .. });
                    let decision = kindred_pipeline::live::LiveDecision::Review { a, b, approve };
                    live.send(&config, decision, reviewer).await?
                }
                _ => tokio::task::block_in_place(|| match action {
                    ReviewAction::List { json, .. } => admin::review_list(&config, *json),
                    ReviewAction::Approve { a, b, reviewer, .. } => {
                        admin::review(&config, a, b, true, reviewer)
                    }
                    ReviewAction::Reject { a, b, reviewer, .. } => {
                        admin::review(&config, a, b, false, reviewer)
                    }
                })?,
            };
            emit(&out)?;
        }
        Command::Split {
            target,
            identifier,
            source,
            actor,
            data_dir,
            live,
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out = if live.live {
                let decision = kindred_pipeline::live::LiveDecision::Split {
                    profile: target,
                    identifier: identifier.as_deref(),
                    source: source.map(Into::into),
                };
                live.send(&config, decision, actor).await?
            } else {
                tokio::task::block_in_place(|| {
                    admin::split(
                        &config,
                        target,
                        identifier.as_deref(),
                        source.map(Into::into),
                        actor,
                    )
                })?
            };
            emit(&out)?;
        }
        Command::Republish { actor, data_dir } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out = tokio::task::block_in_place(|| admin::republish(&config, actor))?;
            emit(&out)?;
        }
        Command::Snapshot { out, data_dir } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let report =
                tokio::task::block_in_place(|| kindred_pipeline::state::snapshot(&config, out))
                    .context("snapshot failed")?;
            emit(&report)?;
        }
        Command::Restore { from, data_dir } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let report =
                tokio::task::block_in_place(|| kindred_pipeline::state::restore(&config, from))
                    .context("restore failed")?;
            emit(&report)?;
        }
        Command::Rebuild {
            data_dir,
            timeout_secs,
            decisions_from,
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let timeout = std::time::Duration::from_secs(*timeout_secs);
            let report =
                kindred_pipeline::state::rebuild(&config, timeout, decisions_from.as_deref())
                    .await
                    .context("rebuild failed")?;
            emit(&report)?;
        }
        Command::Explain {
            target,
            json,
            data_dir,
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out = tokio::task::block_in_place(|| admin::explain(&config, target, *json))?;
            emit(&out)?;
        }
        Command::Rules { data_dir, action } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let new_file = match action {
                RulesAction::Diff { new, .. } | RulesAction::Apply { new, .. } => new,
            };
            let new = Config::load(Some(new_file), serde_json::Map::new()).with_context(|| {
                format!("cannot load the new rules from {}", new_file.display())
            })?;
            let out = tokio::task::block_in_place(|| match action {
                RulesAction::Diff { json, .. } => admin::rules_diff(&config, &new, *json),
                RulesAction::Apply { actor, .. } => admin::rules_apply(&config, &new, actor),
            })?;
            emit(&out)?;
        }
        Command::Forget {
            email,
            phone,
            member,
            profile,
            request_id,
            actor,
            wait_secs,
            json,
        } => {
            let config = load_config(&cli, None)?;
            let target = match (email, phone, member, profile) {
                (Some(v), ..) => format!("email:{}", value_or_stdin(v, "--email")?),
                (_, Some(v), ..) => format!("phone:{}", value_or_stdin(v, "--phone")?),
                (_, _, Some(v), _) => format!("member_id:{}", value_or_stdin(v, "--member")?),
                (.., Some(v)) => v.clone(),
                _ => anyhow::bail!("say whom to forget: --email, --phone, --member or --profile"),
            };
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let request_id = request_id
                .clone()
                .unwrap_or_else(|| format!("forget-{millis}"));
            let out = kindred_pipeline::erasure::forget(
                &config,
                &target,
                &request_id,
                actor,
                std::time::Duration::from_secs(*wait_secs),
                *json,
            )
            .await?;
            emit(&out)?;
        }
        Command::Keys {
            action: KeysAction::Generate { out },
        } => {
            anyhow::ensure!(
                !out.exists(),
                "{} exists already: a keyring is never overwritten (its keys open the store)",
                out.display()
            );
            kindred_crypto::write_keyring(out, &kindred_crypto::Keyring::generate())?;
            emit(&format!(
                "keyring written to {} (owner-only); set privacy.keyring_file to it and keep a copy where the store's backups are not",
                out.display()
            ))?;
        }
        Command::Keys {
            action: KeysAction::Rotate { data_dir },
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out =
                tokio::task::block_in_place(|| kindred_pipeline::erasure::rotate_keys(&config))?;
            emit(&out)?;
        }
        Command::Config {
            action: ConfigAction::Check { file },
        } => {
            let file = file.clone().or_else(|| cli.config.clone());
            // Every override a service takes (flags, --set), as it takes them.
            let config =
                Config::load_with_sets(file.as_deref(), flag_overrides(&cli, None), &cli.sets)
                    .with_context(|| match &file {
                        Some(f) => format!(
                            "the configuration ({}, with the environment's and the command line's overrides) is not valid",
                            f.display()
                        ),
                        None => "the configuration from the environment is not valid".to_string(),
                    })?;
            // What the services derive from it at start, checked here too,
            // so a clash (a schema id configured twice, counting the
            // built-in ids of older versions) fails the check, not a pod.
            if config.schemas.registry.enabled() {
                kindred_pipeline::schemas::registry_from_config(&config)
                    .context("[schemas.registry] cannot be used")?;
            } else {
                kindred_pipeline::codec_from_config(&config)
                    .context("[schemas] cannot be used (ids of older schema versions are built in; writer schemas must be readable: see docs/operations.md)")?;
            }
            kindred_pipeline::normalize_options(&config).context("[normalize] cannot be used")?;
            kindred_pipeline::services::kafka_settings(&config)
                .check()
                .context("[kafka.client] cannot be used")?;
            // What the keyring decides, as far as this machine can tell (the
            // keyring itself is often mounted in the pod only).
            let keyring_env = std::env::var(kindred_pipeline::privacy::KEYRING_ENV)
                .is_ok_and(|k| !k.trim().is_empty());
            match &config.privacy.keyring_file {
                Some(file) if !keyring_env && !file.is_file() => eprintln!(
                    "warning: privacy.keyring_file {} does not exist here: a service started with this configuration needs it",
                    file.display()
                ),
                Some(_) if config.privacy.plaintext_store => eprintln!(
                    "warning: privacy.plaintext_store = true does nothing while a keyring is configured (privacy.keyring_file)"
                ),
                None if config.privacy.plaintext_store && !keyring_env => {
                    kindred_pipeline::output_policy::check(&config.privacy.output, None)
                        .context("[privacy.output] cannot be used with a plaintext store")?;
                }
                _ => {}
            }
            for warning in config.resolver.linking.warnings() {
                eprintln!("warning: {warning}");
            }
            emit(&config.to_masked_toml())?;
        }
    }
    Ok(())
}

/// `value`, or for `-` the first line of standard input (a value kept out
/// of the process list and shell history), trimmed.
fn value_or_stdin(value: &str, flag: &str) -> anyhow::Result<String> {
    if value != "-" {
        return Ok(value.to_string());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .with_context(|| format!("{flag} -: cannot read the value from standard input"))?;
    let line = line.trim();
    anyhow::ensure!(!line.is_empty(), "{flag} -: standard input held no value");
    Ok(line.to_string())
}

/// Writes command output to stdout, ending in a newline (the shell's
/// prompt starts on a line of its own). A closed pipe (`kindred demo |
/// head`) ends the output quietly instead of panicking, as Unix tools do.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let end: &[u8] = if text.is_empty() || text.ends_with('\n') {
        b""
    } else {
        b"\n"
    };
    match out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(end))
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Exit status of a service the shutdown watchdog ended after a signal
/// (EX_TEMPFAIL): not a clean stop, nor a failure; what was not committed
/// is redone after the restart.
const EXIT_SHUTDOWN_TIMEOUT: i32 = 75;

/// Whether a signal (not a service's failure) started the shutdown.
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A shutdown signal triggered by SIGINT (Ctrl-C) or SIGTERM. The process
/// exits `[shutdown] timeout_secs` after the signal if the service has not
/// stopped by then: a broker that does not answer must not hold it (what
/// was not committed is redone after the restart), with status 75
/// (`EXIT_SHUTDOWN_TIMEOUT`): a forced exit is no clean stop. A service
/// that failed (which triggers the shutdown as it returns) exits 1, never
/// 0, while closing its clients.
fn shutdown_on_signals(config: &kindred_config::Config) -> Shutdown {
    let shutdown = Shutdown::new();
    let grace = std::time::Duration::from_secs(config.shutdown.timeout_secs);
    shutdown.arm_watchdog(grace, move || {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "not stopped within the shutdown timeout: exiting now; unfinished work is redone after the restart"
        );
        if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(EXIT_SHUTDOWN_TIMEOUT)
        }
        std::process::exit(1)
    });
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("signal received: finishing the batch in flight, then stopping");
        SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
        trigger.trigger();
    });
    shutdown
}
