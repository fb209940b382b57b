//! `kindred demo`: the whole pipeline in one process, with no broker.
//!
//! Generates a multi-channel sample, encodes every event in the Confluent
//! wire format as a channel system would, adds a redelivered event and a few
//! corrupt messages, then runs the very same ingest stage and resolver the
//! services run, on a RocksDB store in a temporary directory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_gen::{generate, GenOptions};
use kindred_model::{Channel, GoldenRecord, LinkPolicy, Survivorship};
use kindred_normalize::NormalizeOptions;
use kindred_resolver::{Resolver, Store};
use kindred_schema::{Framing, WireCodec};

use crate::ingest::encode_raw;
use crate::{IngestStage, PipelineError};

/// What the demo runs on.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub people: u32,
    /// Where to keep the store; a temporary directory (deleted after) if `None`.
    pub data_dir: Option<PathBuf>,
    /// How many example golden records to show.
    pub examples: usize,
    /// Read the events from files written by `kindred gen --out DIR`
    /// instead of generating them.
    pub input: Option<PathBuf>,
    /// How messy the generated sample is (the generator's default profile
    /// unless set).
    pub mess: kindred_gen::MessRates,
    /// The keyring for the store. None: a temporary store gets a keyring of
    /// its own (keyed and sealed, as in production); a kept store
    /// (`data_dir`) is plaintext, so that `kindred eval`, `review` and
    /// `explain` can open it afterwards without one.
    pub keyring: Option<std::sync::Arc<kindred_crypto::Keyring>>,
    /// Which identifiers and rules link records (`[resolver.linking]`).
    pub linking: LinkPolicy,
    /// Which value of each attribute wins (`[resolver.survivorship]`).
    pub survivorship: Survivorship,
    /// How raw values are read (`[normalize]`).
    pub normalize: NormalizeOptions,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            people: 120,
            data_dir: None,
            examples: 3,
            input: None,
            mess: kindred_gen::MessRates::default(),
            keyring: None,
            linking: LinkPolicy::default(),
            survivorship: Survivorship::default(),
            normalize: NormalizeOptions::default(),
        }
    }
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub messages: u64,
    pub events_by_channel: BTreeMap<Channel, u64>,
    pub dead_letters: BTreeMap<String, u64>,
    pub duplicates: u64,
    pub values_dropped: u64,
    pub true_people: u64,
    pub profiles: u64,
    /// Rows of the identifier index: identifiers, and the keys match rules
    /// block on.
    pub identifiers: u64,
    pub merges: u64,
    /// Stored events the resolver re-read to recompute profiles (an event
    /// that provably joins one profile is folded in without any).
    pub recomputed_events: u64,
    /// Accuracy against the generator's ground truth.
    pub accuracy: kindred_eval::Report,
    pub examples: Vec<GoldenRecord>,
    pub elapsed: Duration,
    pub store_path: PathBuf,
}

/// Runs the demo.
pub fn run(opts: &DemoOptions) -> Result<DemoReport, PipelineError> {
    let started = Instant::now();
    let temp;
    let store_path = match &opts.data_dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().map_err(PipelineError::TempDir)?;
            temp.path().join("resolver")
        }
    };
    let codec = Arc::new(WireCodec::with_default_ids()?);
    // Messages are read, ingested and resolved a batch at a time: the
    // demo's memory is the store's, not the input's, so a large data set
    // given with --input runs in the memory a small one does.
    let (messages, truth, framing): (MessageStream, _, _) = match &opts.input {
        Some(dir) => {
            let (messages, truth) = read_input(dir)?;
            (messages, truth, Framing::Json)
        }
        None => {
            let (messages, truth) = generated_sample(opts, &codec)?;
            (
                Box::new(messages.into_iter().map(Ok)),
                truth,
                Framing::Confluent,
            )
        }
    };

    let stages: BTreeMap<Channel, IngestStage> = Channel::ALL
        .into_iter()
        .map(|c| {
            (
                c,
                IngestStage::new(c, framing, codec.clone(), opts.normalize.clone()),
            )
        })
        .collect();
    let mut report = DemoReport {
        messages: 0,
        events_by_channel: BTreeMap::new(),
        dead_letters: BTreeMap::new(),
        duplicates: 0,
        values_dropped: 0,
        true_people: truth
            .values()
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64,
        profiles: 0,
        identifiers: 0,
        merges: 0,
        recomputed_events: 0,
        accuracy: kindred_eval::evaluate(Vec::<(String, String)>::new(), 0),
        examples: Vec::new(),
        elapsed: Duration::ZERO,
        store_path: store_path.clone(),
    };

    let keyring = match (&opts.keyring, &opts.data_dir) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(std::sync::Arc::new(kindred_crypto::Keyring::parse(
            &kindred_crypto::Keyring::generate(),
            "the demo's own keyring",
        )?)),
    };
    let mut resolver = Resolver::with_policy(
        Store::open_with(
            &store_path,
            kindred_resolver::StoreOptions {
                keyring,
                ..kindred_resolver::StoreOptions::default()
            },
        )?,
        opts.linking.clone(),
        opts.survivorship.clone(),
    );
    let mut batch = Vec::with_capacity(BATCH);
    let mut messages = messages.peekable();
    // Where each message was: its line in its channel's file (the files
    // are read one after the other), or its place in the generated sample.
    let mut read: BTreeMap<Channel, u64> = BTreeMap::new();
    while let Some(message) = messages.next() {
        let (channel, bytes) = message?;
        report.messages += 1;
        let at = read.entry(channel).or_default();
        *at += 1;
        match stages[&channel].process(&bytes) {
            Ok(event) => {
                *report.events_by_channel.entry(channel).or_default() += 1;
                report.values_dropped += event.dropped.len() as u64;
                batch.push(event);
            }
            Err(e) => {
                let dead = report.dead_letters.values().sum::<u64>();
                // The first few by where they are and why (never their
                // values, which may be personal); the report counts all.
                if dead < MAX_DEAD_LETTERS_LOGGED {
                    let place = match &opts.input {
                        Some(dir) => format!(
                            "{}:{at}",
                            dir.join(kindred_gen::channel_file(channel)).display()
                        ),
                        None => format!("{} message {at}", channel.as_str()),
                    };
                    tracing::warn!("{place}: dead-lettered as {}", e.kind());
                } else if dead == MAX_DEAD_LETTERS_LOGGED {
                    tracing::warn!("more dead letters: the report counts them by reason");
                }
                *report.dead_letters.entry(e.kind().to_string()).or_default() += 1;
            }
        }
        if batch.len() == BATCH || (messages.peek().is_none() && !batch.is_empty()) {
            let outcome = resolver.apply(&batch, &[])?;
            batch.clear();
            // The demo has no broker to publish to: its report is the output.
            if let Some(last) = outcome.outbox_last {
                resolver.store().ack_outbox(last)?;
            }
            report.duplicates += outcome.duplicates;
            report.merges += outcome.absorbed;
            report.recomputed_events += outcome.recomputed_events;
        }
    }
    let stats = resolver.store().stats()?;
    report.profiles = stats.profiles;
    report.identifiers = stats.identifiers;

    if !truth.is_empty() {
        report.accuracy = crate::evaluate_store(resolver.store(), &truth, 3)?;
    }

    // Examples: the profiles seen on the most channels, then most events
    // (the best few kept while reading, not every profile).
    let rank = |r: &GoldenRecord| {
        (
            std::cmp::Reverse(r.channels.len()),
            std::cmp::Reverse(r.event_count),
            r.profile_id.clone(),
        )
    };
    let mut best: Vec<GoldenRecord> = Vec::new();
    for record in resolver.store().profiles() {
        best.push(record?);
        if best.len() >= 2 * opts.examples + 64 {
            best.sort_by_key(rank);
            best.truncate(opts.examples);
        }
    }
    best.sort_by_key(rank);
    best.truncate(opts.examples);
    report.examples = best;
    report.elapsed = started.elapsed();
    Ok(report)
}

type Message = (Channel, Vec<u8>);
type Messages = Vec<Message>;
/// Messages read as they are needed (an input file's lines).
type MessageStream = Box<dyn Iterator<Item = Result<Message, PipelineError>>>;
type Truth = BTreeMap<String, String>;

/// Events per resolver batch.
const BATCH: usize = 100;

/// The built-in sample: generated events encoded as Confluent Avro, plus a
/// redelivery and three corrupt messages, as real feeds have.
fn generated_sample(
    opts: &DemoOptions,
    codec: &WireCodec,
) -> Result<(Messages, Truth), PipelineError> {
    let generated = generate(&GenOptions {
        seed: opts.seed,
        people: opts.people,
        mess: opts.mess.clone(),
        ..GenOptions::default()
    });
    let mut messages = Vec::new();
    let mut truth = BTreeMap::new();
    for g in &generated {
        let channel = g.event.channel();
        messages.push((channel, encode_raw(codec, &g.event)?));
        truth.insert(
            kindred_normalize::event_id(channel, g.event.source_id()),
            g.person.to_string(),
        );
    }
    if let Some(first) = messages.first().cloned() {
        messages.push(first);
    }
    messages.push((Channel::Pos, b"{\"not\": \"avro\"}".to_vec()));
    messages.push((Channel::Web, vec![0, 0, 0, 0, 2, 0xff]));
    messages.push((Channel::Social, vec![0, 0, 0, 0x30, 0x39, 1, 2, 3]));
    Ok((messages, truth))
}

/// How many dead letters the demo names one by one (file and line, reason).
const MAX_DEAD_LETTERS_LOGGED: u64 = 10;

/// Files written by `kindred gen --out DIR`, or in the same form from data
/// of your own: one JSON record per line per channel (`pos.jsonl`,
/// `web.jsonl`, `social.jsonl`; an empty file for a channel you lack), read
/// through the JSON framing, a line at a time; and the ground truth
/// (`truth.csv`) if there is one. A missing channel file fails here,
/// before anything is read; a file that cannot be read further fails the
/// run there, with what was resolved before it in the store.
fn read_input(dir: &std::path::Path) -> Result<(MessageStream, Truth), PipelineError> {
    use std::io::BufRead;
    let io = |path: &std::path::Path, e: std::io::Error| {
        PipelineError::Input(format!("{}: {e}", path.display()))
    };
    let mut files = Vec::new();
    for channel in Channel::ALL {
        let path = dir.join(kindred_gen::channel_file(channel));
        let file = std::fs::File::open(&path).map_err(|e| io(&path, e))?;
        files.push((channel, path, std::io::BufReader::new(file)));
    }
    // Without a truth (a data set of your own), nothing is scored.
    let path = dir.join(kindred_gen::TRUTH_FILE);
    let truth = match kindred_gen::read_truth(&path) {
        Ok(truth) => truth,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Truth::new(),
        Err(e) => return Err(io(&path, e)),
    };
    let messages = files.into_iter().flat_map(move |(channel, path, reader)| {
        reader.split(b'\n').map(move |line| {
            let mut line = line.map_err(|e| io(&path, e))?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Ok((channel, line))
        })
    });
    Ok((Box::new(messages), truth))
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "kindred demo: {} messages through ingest and resolve in {:.2?}",
            self.messages, self.elapsed
        )?;
        let channels: Vec<String> = self
            .events_by_channel
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        writeln!(f, "  events ingested     {}", channels.join(", "))?;
        let dead: u64 = self.dead_letters.values().sum();
        let reasons: Vec<String> = self
            .dead_letters
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        writeln!(f, "  dead letters        {dead} ({})", reasons.join(", "))?;
        writeln!(f, "  duplicates skipped  {}", self.duplicates)?;
        writeln!(
            f,
            "  values dropped      {} (invalid or junk phones, emails, names...; events kept)",
            self.values_dropped
        )?;
        if self.true_people > 0 {
            writeln!(f, "  true people         {}", self.true_people)?;
        }
        writeln!(
            f,
            "  golden profiles     {} ({} index keys: identifiers and match-rule keys)",
            self.profiles, self.identifiers
        )?;
        writeln!(f, "  merges              {}", self.merges)?;
        writeln!(
            f,
            "  recomputed events   {} (stored events re-read to re-partition profiles)",
            self.recomputed_events
        )?;
        if self.true_people == 0 {
            writeln!(
                f,
                "  accuracy            not measured (no ground truth: truth.csv)"
            )?;
        } else {
            writeln!(f, "  accuracy against the ground truth:")?;
            write!(f, "{}", self.accuracy)?;
        }
        writeln!(f, "  store               {}", self.store_path.display())?;
        for r in &self.examples {
            writeln!(f)?;
            writeln!(f, "  profile {} (version {})", r.profile_id, r.version)?;
            if let Some(name) = &r.full_name {
                writeln!(
                    f,
                    "    name        {} (from {} {})",
                    kindred_model::mask_name(&name.value),
                    name.source.channel,
                    name.source.event_id
                )?;
            }
            // Masked as `kindred explain` shows them: a data set given
            // with --input may be real people's.
            let ids: Vec<String> = r.identifiers.iter().map(|i| i.masked()).collect();
            writeln!(f, "    identifiers {}", ids.join(", "))?;
            let channels: Vec<&str> = r.channels.iter().map(|c| c.as_str()).collect();
            writeln!(
                f,
                "    channels    {}   events {}   orders {}",
                channels.join(", "),
                r.event_count,
                r.order_count
            )?;
            let spend: Vec<String> = r
                .spend_minor
                .iter()
                .map(|(c, m)| format!("{} {c}", major_units(*m, c)))
                .collect();
            writeln!(
                f,
                "    spend       {}   points {}",
                if spend.is_empty() {
                    "none".to_string()
                } else {
                    spend.join(", ")
                },
                r.points_balance
            )?;
        }
        Ok(())
    }
}

/// An amount in minor units as major units of its currency: `-1.50`,
/// `1200` (yen), `2.000` (dinars).
pub(crate) fn major_units(minor: i64, currency: &str) -> String {
    let digits = kindred_model::minor_unit_digits(currency).unwrap_or(2);
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(digits);
    let (sign, abs) = (if minor < 0 { "-" } else { "" }, minor.unsigned_abs());
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--input` is read a line at a time and resolved a batch at a time:
    /// every line counts (a blank one is a dead letter, as a message would
    /// be), Windows line ends are read like Unix ones, the last partial
    /// batch is resolved and no batch twice (the only repeats the resolver
    /// skips are the generator's own redeliveries).
    #[test]
    fn input_files_stream_through_in_batches() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (plain, crlf) = (dir.path().join("plain"), dir.path().join("crlf"));
        let generated = generate(&GenOptions {
            seed: 5,
            people: 60,
            ..GenOptions::default()
        });
        kindred_gen::write_files(&generated, &plain).expect("written");
        kindred_gen::write_files(&generated, &crlf).expect("written");
        let web = crlf.join(kindred_gen::channel_file(Channel::Web));
        let text = std::fs::read_to_string(&web).expect("read");
        std::fs::write(
            &web,
            format!("{}\r\n\r\n", text.trim_end().replace('\n', "\r\n")),
        )
        .expect("written");
        let run_on = |input: &std::path::Path| {
            run(&DemoOptions {
                input: Some(input.to_path_buf()),
                ..DemoOptions::default()
            })
            .expect("the demo runs")
        };
        let (a, b) = (run_on(&plain), run_on(&crlf));
        assert!(a.messages as usize == generated.len() && a.messages as usize % BATCH != 0);
        assert_eq!(b.messages, a.messages + 1, "the blank line is a message");
        assert_eq!(b.dead_letters.values().sum::<u64>(), 1);
        assert_eq!(a.events_by_channel, b.events_by_channel);
        let events: u64 = a.events_by_channel.values().sum();
        assert_eq!(events, generated.len() as u64, "{a}");
        assert_eq!(
            a.accuracy.missing_records, 0,
            "every event is resolved: {a}"
        );
        assert_eq!(
            b.accuracy.missing_records, 0,
            "every event is resolved: {b}"
        );
        let distinct: std::collections::BTreeSet<(Channel, &str)> = generated
            .iter()
            .map(|g| (g.event.channel(), g.event.source_id()))
            .collect();
        let redelivered = (generated.len() - distinct.len()) as u64;
        assert!(redelivered > 0);
        assert_eq!(a.duplicates, redelivered, "{a}");
        assert_eq!(b.duplicates, redelivered, "{b}");
        assert_eq!(a.profiles, b.profiles);
        assert_eq!(a.accuracy.to_string(), b.accuracy.to_string());

        std::fs::remove_file(crlf.join(kindred_gen::TRUTH_FILE)).expect("removed");
        let unscored = run_on(&crlf);
        assert_eq!(unscored.profiles, b.profiles);
        assert!(
            unscored
                .to_string()
                .contains("not measured (no ground truth"),
            "{unscored}"
        );
        std::fs::remove_file(plain.join(kindred_gen::channel_file(Channel::Social)))
            .expect("removed");
        let Err(e) = run(&DemoOptions {
            input: Some(plain.clone()),
            ..DemoOptions::default()
        }) else {
            panic!("a missing input file is an error");
        };
        assert!(e.to_string().contains("social"), "{e}");
    }

    #[test]
    fn amounts_read_in_their_currencys_major_units() {
        assert_eq!(major_units(-150, "CNY"), "-1.50");
        assert_eq!(major_units(4_810_608, "CNY"), "48106.08");
        assert_eq!(major_units(1_200, "JPY"), "1200");
        assert_eq!(major_units(2_005, "KWD"), "2.005");
    }

    #[test]
    fn demo_links_channels_and_dead_letters_the_corrupt_messages() {
        // Clean generated data: exact linking never joins two people, and
        // the only repeat is the demo's own redelivery.
        let report = run(&DemoOptions {
            people: 60,
            mess: kindred_gen::MessRates::none(),
            ..DemoOptions::default()
        })
        .expect("demo runs");
        assert_eq!(report.dead_letters.values().sum::<u64>(), 3, "{report}");
        assert_eq!(report.duplicates, 1, "{report}");
        assert_eq!(report.accuracy.over_merged_profiles, 0, "{report}");
        assert_eq!(report.accuracy.pairwise.precision, 1.0, "{report}");
        assert_eq!(
            report.accuracy.records,
            report.events_by_channel.values().sum::<u64>() - 1,
            "{report}"
        );
        assert!(
            report.profiles >= 60,
            "every person has a profile: {report}"
        );
        assert!(
            report.merges > 0,
            "some people were linked across channels: {report}"
        );
        assert!(report.examples[0].channels.len() > 1, "{report}");
    }

    #[test]
    fn demo_on_messy_data_skips_every_repeat_and_scores_every_event() {
        let opts = DemoOptions {
            people: 300,
            ..DemoOptions::default()
        };
        let (generated, stats) = kindred_gen::generate_with_stats(&GenOptions {
            seed: opts.seed,
            people: opts.people,
            ..GenOptions::default()
        });
        assert!(
            stats.duplicates > 0,
            "the default profile repeats some deliveries"
        );
        let report = run(&opts).expect("demo runs");
        assert_eq!(report.duplicates, stats.duplicates + 1, "{report}");
        assert_eq!(report.messages, generated.len() as u64 + 4, "{report}");
        assert_eq!(
            report.accuracy.records,
            generated.len() as u64 - stats.duplicates,
            "{report}"
        );
    }

    #[test]
    fn demo_reads_generated_files_through_the_json_framing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (events, stats) = kindred_gen::generate_with_stats(&GenOptions {
            people: 30,
            ..GenOptions::default()
        });
        kindred_gen::write_files(&events, dir.path()).expect("write");
        let report = run(&DemoOptions {
            input: Some(dir.path().to_path_buf()),
            ..DemoOptions::default()
        })
        .expect("demo runs");
        assert_eq!(report.dead_letters.values().sum::<u64>(), 0, "{report}");
        assert_eq!(
            report.accuracy.records,
            events.len() as u64 - stats.duplicates,
            "{report}"
        );
        assert_eq!(report.true_people, 30);
    }

    #[test]
    fn demo_links_by_the_configured_policy() {
        // With no identifier and no rule allowed to link, every distinct
        // event stays a profile of its own; the default policy links.
        let mut isolated = LinkPolicy::default();
        for kind in kindred_model::IdentifierKind::ALL {
            isolated.identifiers.get_mut(kind).link = false;
        }
        isolated.rules.clear();
        let opts = DemoOptions {
            people: 60,
            mess: kindred_gen::MessRates::none(),
            ..DemoOptions::default()
        };
        let linked = run(&opts).expect("demo runs");
        let apart = run(&DemoOptions {
            linking: isolated,
            ..opts
        })
        .expect("demo runs");
        assert_eq!(apart.profiles, apart.accuracy.records, "{apart}");
        assert!(linked.profiles < apart.profiles, "{linked}\n{apart}");
    }
}
