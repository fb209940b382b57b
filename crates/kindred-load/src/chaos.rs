//! `kindred chaos`: the delivery guarantees, proven with real processes
//! against the real broker.
//!
//! A run writes a generated stream to the raw topics at a steady rate while
//! the pipeline runs as separate processes (two ingest instances for POS,
//! one each for web and social, one resolver), and injects faults at random
//! points of the stream (seeded): `kill -9` of the resolver (restarted each
//! time), `kill -9` of one POS ingest instance (not restarted: the other
//! takes its partitions over), a broker restart, and a SIGTERM of the
//! resolver and of the web ingest (each must exit within the shutdown
//! timeout; each is restarted).
//!
//! When everything is consumed and published, it stops the services and
//! checks, against an uninterrupted in-process run over the same input:
//! - the store holds exactly the same people with the same golden records
//!   (loyalty points included) and recorded the canonical topic's end
//!   offsets, with an empty outbox;
//! - a `read_committed` reader of the profile topic sees every profile's
//!   versions exactly once and in order (no gap, no duplicate), and the
//!   last record of every profile equals the store's golden record under
//!   the profile topic's output policy (`[privacy.output.profiles]`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kindred_config::Config;
use kindred_gen::{GenOptions, Generated};
use kindred_model::{ChangeType, GoldenRecord, ProfileChange};
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::topics::all_topics;
use kindred_pipeline::{codec_from_config, normalize_options, Channel, IngestStage};
use kindred_resolver::Resolver;
use kindred_schema::{Framing, SchemaKind};
use serde::Serialize;

use crate::services::{self, Launch, Service, ServiceSpec};
use crate::{generate_at_least, lag_probes, run_settings, LoadError, RawWriter, RunSettings};

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Records to write (duplicate deliveries included).
    pub events: u64,
    pub gen: GenOptions,
    /// Events per second to write (the faults land while the pipeline is busy).
    pub rate: u64,
    /// `kill -9` of the resolver, each followed by a restart.
    pub resolver_kills: u32,
    /// `kill -9` one of two POS ingest instances.
    pub kill_ingest: bool,
    /// SIGTERM the resolver once and time its exit.
    pub sigterm: bool,
    /// A command that restarts the broker (same storage), run once
    /// mid-stream, e.g. `["bash", "deploy/local/kafka.sh", "restart"]`.
    pub broker_restart: Option<Vec<String>>,
    /// How the services are started.
    pub launch: Launch,
    /// Logs, stores and the reference store go here (default: a temporary
    /// directory, removed afterwards).
    pub work_dir: Option<PathBuf>,
    /// Give up when nothing moves for this long after writing ended.
    pub idle_timeout: Duration,
    pub delete_topics: bool,
}

/// One injected fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    /// Seconds since the start of writing.
    pub at_seconds: f64,
    /// Share of the stream written when it happened.
    pub at_fraction: f64,
    pub what: String,
    pub detail: String,
}

/// What the run did and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosReport {
    pub events: u64,
    pub distinct_events: u64,
    pub faults: Vec<Fault>,
    /// Seconds each service took to exit after SIGTERM, by service.
    pub sigterm_exit_seconds: BTreeMap<String, f64>,
    pub shutdown_timeout_secs: u64,
    pub run_seconds: f64,
    pub reference_people: usize,
    pub store_people: usize,
    /// People (member set) in one and not the other, or with a different
    /// golden record.
    pub people_missing: usize,
    pub people_extra: usize,
    pub records_different: usize,
    pub first_difference: Option<String>,
    pub points_reference: i64,
    pub points_store: i64,
    pub offsets_at_end: bool,
    pub outbox_left: usize,
    pub topic_records: usize,
    pub topic_profiles: usize,
    pub version_gaps: usize,
    pub version_duplicates: usize,
    /// Live profiles whose last topic record differs from the store, plus
    /// ids live on one side only.
    pub topic_mismatches: usize,
    /// Services that did not exit in order when stopped at the end (not 0,
    /// and not their shutdown watchdog's status): the run fails.
    pub unclean_stops: Vec<String>,
    /// Stops (mid-run SIGTERMs and the final ones) that the service's own
    /// shutdown watchdog ended at the timeout: in order, but not clean;
    /// listed, the run not failed by them.
    pub forced_stops: Vec<String>,
    pub passed: bool,
}

impl std::fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "kindred chaos: {} events ({} distinct) in {:.1} s",
            self.events, self.distinct_events, self.run_seconds
        )?;
        for fault in &self.faults {
            writeln!(
                f,
                "  {:>6.1} s  {:>5.1}%  {:<16} {}",
                fault.at_seconds,
                fault.at_fraction * 100.0,
                fault.what,
                fault.detail
            )?;
        }
        for (service, s) in &self.sigterm_exit_seconds {
            writeln!(
                f,
                "SIGTERM exit:        {service} {s:.2} s (limit {} s)",
                self.shutdown_timeout_secs + 2
            )?;
        }
        let ok = |b: bool| if b { "ok" } else { "FAILED" };
        writeln!(
            f,
            "store vs reference:  {} people vs {}; {} missing, {} extra, {} records different [{}]",
            self.store_people,
            self.reference_people,
            self.people_missing,
            self.people_extra,
            self.records_different,
            ok(self.store_people == self.reference_people
                && self.people_missing + self.people_extra + self.records_different == 0)
        )?;
        for stop in &self.unclean_stops {
            writeln!(f, "final stop:          {stop} [FAILED]")?;
        }
        for stop in &self.forced_stops {
            writeln!(
                f,
                "forced stop:         {stop} (ended by its shutdown watchdog, not cleanly)"
            )?;
        }
        if let Some(d) = &self.first_difference {
            writeln!(f, "  first difference: {d}")?;
        }
        writeln!(
            f,
            "loyalty points:      {} vs {} [{}]",
            self.points_store,
            self.points_reference,
            ok(self.points_store == self.points_reference)
        )?;
        writeln!(
            f,
            "store offsets:       {} the canonical topic's end; outbox left {} [{}]",
            if self.offsets_at_end { "at" } else { "NOT at" },
            self.outbox_left,
            ok(self.offsets_at_end && self.outbox_left == 0)
        )?;
        writeln!(
            f,
            "profile topic:       {} records, {} profile ids; {} version gaps, {} duplicates, {} mismatches with the store [{}]",
            self.topic_records,
            self.topic_profiles,
            self.version_gaps,
            self.version_duplicates,
            self.topic_mismatches,
            ok(self.version_gaps + self.version_duplicates + self.topic_mismatches == 0)
        )?;
        write!(
            f,
            "result:              {}",
            if self.passed { "PASSED" } else { "FAILED" }
        )
    }
}

/// A seeded xorshift: fault points are random but repeatable.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Planned {
    KillResolver,
    KillIngest,
    RestartBroker,
    Sigterm,
    SigtermIngest,
}

/// Fault points over the written share of the stream, sorted.
fn plan(opts: &ChaosOptions) -> Vec<(f64, Planned)> {
    let mut dice = Dice(opts.gen.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut plan: Vec<(f64, Planned)> = (0..opts.resolver_kills)
        .map(|_| (0.05 + 0.9 * dice.next(), Planned::KillResolver))
        .collect();
    if opts.kill_ingest {
        plan.push((0.2 + 0.2 * dice.next(), Planned::KillIngest));
    }
    if opts.broker_restart.is_some() {
        plan.push((0.45 + 0.1 * dice.next(), Planned::RestartBroker));
    }
    if opts.sigterm {
        plan.push((0.6 + 0.2 * dice.next(), Planned::Sigterm));
        plan.push((0.1 + 0.8 * dice.next(), Planned::SigtermIngest));
    }
    plan.sort_by(|a, b| a.0.total_cmp(&b.0));
    plan
}

/// The services of a chaos run.
struct Fleet {
    launch: Launch,
    run: RunSettings,
    dir: PathBuf,
    running: Vec<(ServiceSpec, Service)>,
}

impl Fleet {
    fn spawn(&self, spec: &ServiceSpec) -> Result<Service, LoadError> {
        services::spawn(&self.launch, spec, &self.run, &self.dir)
    }

    fn get(&mut self, name: &str) -> Result<&mut Service, LoadError> {
        self.running
            .iter_mut()
            .find(|(s, _)| s.name == name)
            .map(|(_, svc)| svc)
            .ok_or_else(|| LoadError::Invalid(format!("no running service {name}")))
    }

    /// Replaces a stopped service with a fresh process and waits until it
    /// holds its partitions again.
    async fn restart(&mut self, name: &str) -> Result<Duration, LoadError> {
        let started = Instant::now();
        let Some(i) = self.running.iter().position(|(s, _)| s.name == name) else {
            return Err(LoadError::Invalid(format!("no service {name} to restart")));
        };
        let spec = self.running[i].0.clone();
        let mut fresh = self.spawn(&spec)?;
        fresh.wait_ready(Duration::from_secs(120)).await?;
        self.running[i].1 = fresh;
        self.write_scrape_targets()?;
        Ok(started.elapsed())
    }

    fn write_scrape_targets(&self) -> Result<(), LoadError> {
        services::write_scrape_targets(&self.dir, self.running.iter().map(|(_, s)| s))
    }

    fn check_alive(&mut self) -> Result<(), LoadError> {
        for (_, s) in &mut self.running {
            s.check_alive()?;
        }
        Ok(())
    }
}

/// Runs the chaos scenario and checks the result.
pub async fn run(base: &Config, opts: &ChaosOptions) -> Result<ChaosReport, LoadError> {
    if opts.events == 0 || opts.rate == 0 {
        return Err(LoadError::Invalid(
            "--events and --rate must be at least 1".into(),
        ));
    }
    if base.schemas.registry.enabled() {
        // Its reference run and its read-back decode with the configured ids.
        return Err(LoadError::Invalid(
            "kindred chaos reads and writes with the configured [schemas.ids]: run it without [schemas.registry]".into(),
        ));
    }
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let setup = crate::prepare(
        base,
        &format!("chaos-{unix}-{}", std::process::id()),
        opts.work_dir.as_ref(),
    )
    .await?;
    let (config, work_dir) = (setup.config.clone(), setup.work_dir.clone());
    let settings = kafka_settings(&config);

    tracing::info!(
        events = opts.events,
        "generating the stream and the uninterrupted reference"
    );
    let (events, _) = tokio::task::block_in_place(|| generate_at_least(&opts.gen, opts.events));
    let distinct = events
        .iter()
        .map(|g| crate::event_id(&g.event))
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    let reference = tokio::task::block_in_place(|| {
        reference_people(&config, &events, &work_dir.join("reference"))
    })?;

    let mut specs: Vec<ServiceSpec> = vec![
        ServiceSpec {
            name: "ingest-pos-a".into(),
            args: vec!["ingest".into(), "--channel".into(), "pos".into()],
        },
        ServiceSpec {
            name: "ingest-pos-b".into(),
            args: vec!["ingest".into(), "--channel".into(), "pos".into()],
        },
    ];
    for c in [Channel::Web, Channel::Social] {
        specs.push(ServiceSpec {
            name: format!("ingest-{c}"),
            args: vec!["ingest".into(), "--channel".into(), c.as_str().into()],
        });
    }
    specs.push(ServiceSpec {
        name: "resolve".into(),
        args: vec!["resolve".into()],
    });
    let mut fleet = Fleet {
        launch: opts.launch.clone(),
        run: run_settings(&config, &work_dir),
        dir: work_dir.clone(),
        running: Vec::new(),
    };
    for spec in specs {
        let service = fleet.spawn(&spec)?;
        fleet.running.push((spec, service));
    }
    for (_, s) in &mut fleet.running {
        s.wait_ready(Duration::from_secs(120)).await?;
    }
    fleet.write_scrape_targets()?;
    tracing::info!("services ready; writing the stream with faults");

    let writer = RawWriter::new(&config).await?;
    let mut faults = Vec::new();
    let mut sigterms = Sigterms::default();
    let mut schedule = plan(opts).into_iter().peekable();
    let t0 = Instant::now();
    let chunk = (opts.rate / 10).clamp(1, 2000) as usize;
    let total = events.len();
    let mut written = 0usize;
    for slice in events.chunks(chunk) {
        let due = t0 + Duration::from_secs_f64(written as f64 / opts.rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let records = slice
            .iter()
            .map(|g| writer.record(&g.event))
            .collect::<Result<Vec<_>, _>>()?;
        writer.send(&records).await?;
        written += slice.len();
        let fraction = written as f64 / total as f64;
        while let Some((_, planned)) = schedule.next_if(|(at, _)| *at <= fraction) {
            let at_seconds = t0.elapsed().as_secs_f64();
            let (what, detail) = inject(planned, &mut fleet, opts, &mut sigterms).await?;
            tracing::info!(what, %detail, fraction, "fault injected");
            faults.push(Fault {
                at_seconds,
                at_fraction: fraction,
                what: what.into(),
                detail,
            });
        }
        fleet.check_alive()?;
    }

    tracing::info!("stream written; waiting for the pipeline to drain");
    drain(&config, &mut fleet, opts.idle_timeout).await?;
    let run_seconds = t0.elapsed().as_secs_f64();
    let mut unclean_stops = Vec::new();
    for (spec, s) in fleet.running.drain(..) {
        let usage = s.stop(Duration::from_secs(30));
        if !usage.orderly {
            unclean_stops.push(format!("{}: {}", spec.name, usage.exit));
        } else if usage.forced {
            sigterms.forced.push(format!("{} at the end", spec.name));
        }
    }

    let mut report = verify(&config, &work_dir.join("resolver"), &reference).await?;
    report.events = events.len() as u64;
    report.distinct_events = distinct;
    report.faults = faults;
    report.sigterm_exit_seconds = sigterms.exit_seconds;
    report.forced_stops = sigterms.forced;
    report.shutdown_timeout_secs = config.shutdown.timeout_secs;
    report.run_seconds = run_seconds;
    let sigterm_ok = report
        .sigterm_exit_seconds
        .values()
        .all(|s| *s <= (config.shutdown.timeout_secs + 2) as f64);
    report.unclean_stops = unclean_stops;
    report.passed = sigterm_ok
        && report.unclean_stops.is_empty()
        && report.store_people == report.reference_people
        && report.people_missing + report.people_extra + report.records_different == 0
        && report.points_store == report.points_reference
        && report.offsets_at_end
        && report.outbox_left == 0
        && report.version_gaps + report.version_duplicates + report.topic_mismatches == 0;
    if opts.delete_topics {
        let names: Vec<String> = all_topics(&config).into_iter().map(|t| t.name).collect();
        if let Err(e) = kindred_kafka::delete_topics(&settings, &names).await {
            tracing::warn!(error = %e, "could not delete the run's topics");
        }
    }
    Ok(report)
}

/// Carries out one planned fault.
/// The SIGTERMs' outcomes: seconds to exit by service (infinite: not in
/// order), and the stops a shutdown watchdog forced.
#[derive(Default)]
struct Sigterms {
    exit_seconds: BTreeMap<String, f64>,
    forced: Vec<String>,
}

async fn inject(
    planned: Planned,
    fleet: &mut Fleet,
    opts: &ChaosOptions,
    sigterms: &mut Sigterms,
) -> Result<(&'static str, String), LoadError> {
    Ok(match planned {
        Planned::KillResolver => {
            // What the kill interrupts: a kill with nothing in flight tests
            // no guarantee. Read just before it (the figures are a second
            // old at most: the lag is librdkafka's statistics).
            let addr = fleet.get("resolve")?.http.clone();
            let in_flight = services::http_get(&addr, "/metrics")
                .await
                .map(|(_, body)| {
                    let outbox = gauge(&body, "kindred_outbox_entries").unwrap_or(0);
                    let lag: i64 = body
                        .lines()
                        .filter(|l| l.starts_with("kindred_consumer_lag_messages{"))
                        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                        .map(|v| v as i64)
                        .sum();
                    (outbox, lag)
                });
            fleet.get("resolve")?.kill9();
            let back = fleet.restart("resolve").await?;
            let at_kill = match in_flight {
                Some((outbox, lag)) => {
                    format!("at the kill {outbox} outbox entries not yet on Kafka, {lag} messages of lag; ")
                }
                None => "at the kill: /metrics did not answer; ".to_string(),
            };
            (
                "kill -9 resolve",
                format!(
                    "{at_kill}restarted, holding its partitions again after {:.1} s",
                    back.as_secs_f64()
                ),
            )
        }
        Planned::KillIngest => {
            fleet.get("ingest-pos-b")?.kill9();
            fleet.running.retain(|(s, _)| s.name != "ingest-pos-b");
            (
                "kill -9 ingest",
                "ingest-pos-b killed, not restarted: ingest-pos-a takes its partitions".into(),
            )
        }
        Planned::RestartBroker => {
            let Some(command) = &opts.broker_restart else {
                return Err(LoadError::Invalid("no broker restart command".into()));
            };
            let started = Instant::now();
            let status = tokio::task::block_in_place(|| {
                std::process::Command::new(&command[0])
                    .args(&command[1..])
                    .status()
            })
            .map_err(|source| LoadError::Spawn {
                service: "broker restart".into(),
                exe: PathBuf::from(&command[0]),
                source,
            })?;
            if !status.success() {
                return Err(LoadError::Invalid(format!(
                    "the broker restart command `{}` failed: {status}",
                    command.join(" ")
                )));
            }
            (
                "broker restart",
                format!(
                    "`{}` took {:.1} s",
                    command.join(" "),
                    started.elapsed().as_secs_f64()
                ),
            )
        }
        Planned::Sigterm | Planned::SigtermIngest => {
            let (name, what) = match planned {
                Planned::Sigterm => ("resolve", "SIGTERM resolve"),
                _ => ("ingest-web", "SIGTERM ingest"),
            };
            let (exit, kind) = fleet.get(name)?.terminate(Duration::from_secs(30));
            // An exit not in order (a panic, an error, killed after the
            // grace) counts as past the limit: the run fails.
            let seconds = match kind {
                crate::services::ExitKind::Failed => f64::INFINITY,
                crate::services::ExitKind::Forced => {
                    sigterms.forced.push(format!("{name} (mid-run SIGTERM)"));
                    exit.as_secs_f64()
                }
                crate::services::ExitKind::Clean => exit.as_secs_f64(),
            };
            sigterms.exit_seconds.insert(name.to_string(), seconds);
            let back = fleet.restart(name).await?;
            (
                what,
                format!(
                    "exited {} after {:.2} s; restarted, ready after {:.1} s",
                    match kind {
                        crate::services::ExitKind::Clean => "cleanly",
                        crate::services::ExitKind::Forced => "by its shutdown watchdog",
                        crate::services::ExitKind::Failed => "NOT in order",
                    },
                    exit.as_secs_f64(),
                    back.as_secs_f64()
                ),
            )
        }
    })
}

/// Waits until every consumer group has consumed its topic and the
/// resolver's outbox is empty, twice in a row.
async fn drain(config: &Config, fleet: &mut Fleet, idle: Duration) -> Result<(), LoadError> {
    let probes = lag_probes(config)?;
    let mut settled = 0;
    let mut last = (i64::MAX, Instant::now());
    loop {
        fleet.check_alive()?;
        let mut lag = 0i64;
        for p in &probes {
            lag += tokio::task::block_in_place(|| p.lag()).unwrap_or(i64::MAX / 8);
        }
        let addr = fleet.get("resolve")?.http.clone();
        let outbox = services::http_get(&addr, "/metrics")
            .await
            .and_then(|(_, body)| gauge(&body, "kindred_outbox_entries"))
            .unwrap_or(i64::MAX / 8);
        let pending = lag.saturating_add(outbox);
        settled = if pending == 0 { settled + 1 } else { 0 };
        if settled >= 2 {
            return Ok(());
        }
        if pending < last.0 {
            last = (pending, Instant::now());
        } else if last.1.elapsed() > idle {
            return Err(LoadError::Invalid(format!(
                "the pipeline did not drain: {lag} messages of consumer lag and {outbox} outbox entries left after {} s without progress",
                idle.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The value of an unlabelled-by-us gauge in a Prometheus exposition.
fn gauge(body: &str, name: &str) -> Option<i64> {
    body.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as i64)
}

/// The uninterrupted run: the same raw events through the same ingest
/// stage and resolver policy, in one process, in order.
fn reference_people(
    config: &Config,
    events: &[Generated],
    dir: &Path,
) -> Result<Vec<(Vec<String>, GoldenRecord)>, LoadError> {
    let writer_codec = std::sync::Arc::new(codec_from_config(config)?);
    let stages: BTreeMap<Channel, IngestStage> = Channel::ALL
        .into_iter()
        .map(|c| {
            Ok((
                c,
                IngestStage::new(
                    c,
                    Framing::Confluent,
                    writer_codec.clone(),
                    normalize_options(config)?,
                ),
            ))
        })
        .collect::<Result<_, kindred_pipeline::PipelineError>>()?;
    let mut canonical = Vec::with_capacity(events.len());
    for g in events {
        let channel = g.event.channel();
        let bytes = kindred_pipeline::encode_raw(&writer_codec, &g.event).map_err(|source| {
            LoadError::Encode {
                channel: channel.as_str(),
                source,
            }
        })?;
        if let Ok(event) = stages[&channel].process(&bytes) {
            canonical.push(event);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let mut resolver = Resolver::with_policy(
        kindred_pipeline::privacy::open_store_at(config, dir)?,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    for batch in canonical.chunks(1000) {
        let outcome = resolver
            .apply(batch, &[])
            .map_err(kindred_pipeline::PipelineError::from)?;
        if let Some(last) = outcome.outbox_last {
            resolver
                .store()
                .ack_outbox(last)
                .map_err(kindred_pipeline::PipelineError::from)?;
        }
    }
    Ok(resolver
        .store()
        .people()
        .map_err(kindred_pipeline::PipelineError::from)?)
}

/// Compares the run's store and profile topic with the reference.
async fn verify(
    config: &Config,
    store_dir: &Path,
    reference: &[(Vec<String>, GoldenRecord)],
) -> Result<ChaosReport, LoadError> {
    let store = kindred_pipeline::privacy::open_store_at(config, store_dir)?;
    let people = store
        .people()
        .map_err(kindred_pipeline::PipelineError::from)?;
    let mut report = ChaosReport {
        events: 0,
        distinct_events: 0,
        faults: Vec::new(),
        sigterm_exit_seconds: BTreeMap::new(),
        unclean_stops: Vec::new(),
        forced_stops: Vec::new(),
        shutdown_timeout_secs: 0,
        run_seconds: 0.0,
        reference_people: reference.len(),
        store_people: people.len(),
        people_missing: 0,
        people_extra: 0,
        records_different: 0,
        first_difference: None,
        points_reference: reference.iter().map(|(_, r)| r.points_balance).sum(),
        points_store: people.iter().map(|(_, r)| r.points_balance).sum(),
        offsets_at_end: false,
        outbox_left: 0,
        topic_records: 0,
        topic_profiles: 0,
        version_gaps: 0,
        version_duplicates: 0,
        topic_mismatches: 0,
        passed: false,
    };
    let ours: BTreeMap<&Vec<String>, &GoldenRecord> = people.iter().map(|(m, r)| (m, r)).collect();
    let theirs: BTreeMap<&Vec<String>, &GoldenRecord> =
        reference.iter().map(|(m, r)| (m, r)).collect();
    for (members, record) in &theirs {
        match ours.get(members) {
            None => {
                report.people_missing += 1;
                report.first_difference.get_or_insert_with(|| {
                    format!("the person with events {members:?} is missing from the store")
                });
            }
            Some(r) if *r != *record => {
                report.records_different += 1;
                report.first_difference.get_or_insert_with(|| {
                    format!(
                        "the person with events {members:?} differs in {:?}",
                        kindred_model::changed_fields(Some(record), r)
                    )
                });
            }
            Some(_) => {}
        }
    }
    report.people_extra = ours.keys().filter(|m| !theirs.contains_key(*m)).count();

    let settings = kafka_settings(config);
    let timeout = Duration::from_secs(30);
    let canonical_ends = tokio::task::block_in_place(|| {
        kindred_kafka::consumer::topic_end_offsets(&settings, &config.topics.canonical, timeout)
    })?;
    let offsets = store
        .offsets()
        .map_err(kindred_pipeline::PipelineError::from)?;
    report.offsets_at_end = canonical_ends.iter().all(|(p, end)| {
        *end == 0 || offsets.get(&(config.topics.canonical.clone(), *p)) == Some(end)
    });
    report.outbox_left = store
        .outbox()
        .map_err(kindred_pipeline::PipelineError::from)?
        .len();

    // The profile topic as a read_committed consumer sees it; the store's
    // records are compared as the publisher publishes them.
    let protection = kindred_pipeline::output_policy::OutputProtection::from_config(config)?;
    let codec = codec_from_config(config)?;
    let records = tokio::task::block_in_place(|| {
        kindred_kafka::consumer::read_to_end(
            &settings,
            &config.topics.profiles,
            Duration::from_secs(120),
        )
    })?;
    report.topic_records = records.len();
    let mut last: BTreeMap<String, ProfileChange> = BTreeMap::new();
    for (_, _, payload) in &records {
        let change: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, payload)
            .map_err(|e| LoadError::Invalid(format!("an unreadable profile change: {e}")))?;
        match last.get(&change.profile_id) {
            None if change.version != 1 => report.version_gaps += 1,
            Some(prev) if change.version == prev.version => report.version_duplicates += 1,
            Some(prev) if change.version != prev.version + 1 => report.version_gaps += 1,
            _ => {}
        }
        last.insert(change.profile_id.clone(), change);
    }
    report.topic_profiles = last.len();
    report.topic_mismatches = topic_mismatches(
        &last,
        people.len(),
        |id| {
            store
                .profile(id)
                .map_err(kindred_pipeline::PipelineError::from)?
                .filter(|r| r.profile_id == id)
                .map(|mut r| {
                    kindred_pipeline::output_policy::apply(
                        protection.profiles(),
                        protection.keyring(),
                        &mut r,
                    )
                    .map(|()| r)
                })
                .transpose()
                .map_err(LoadError::from)
        },
        |id| {
            store
                .resolve_redirects(id)
                .map_err(|e| LoadError::from(kindred_pipeline::PipelineError::from(e)))
        },
    )?;
    Ok(report)
}

/// How many of the store's `people` live profiles and the topic's ids
/// (`last`: each id's last change) disagree: a live profile whose last
/// record is not its record as the store holds it (or is missing), and an
/// absorbed id whose redirect does not lead where the store's does
/// (`stored`: the live record under exactly that id, as published;
/// `survivor`: where the store's redirects lead from an id). Each
/// disagreement counts once.
fn topic_mismatches<E>(
    last: &BTreeMap<String, ProfileChange>,
    people: usize,
    stored: impl Fn(&str) -> Result<Option<kindred_model::GoldenRecord>, E>,
    survivor: impl Fn(&str) -> Result<String, E>,
) -> Result<usize, E> {
    let (mut mismatches, mut live_seen) = (0usize, 0usize);
    for (id, change) in last {
        let here = stored(id)?;
        live_seen += usize::from(here.is_some());
        let agrees = match (change.change_type, change.record.as_ref(), here) {
            // The id redirects in the store, to where the record says.
            (ChangeType::Superseded, _, None) => match &change.superseded_by {
                Some(to) => {
                    let end = survivor(id)?;
                    end != *id && end == survivor(to)?
                }
                None => false,
            },
            (ChangeType::Superseded, _, Some(_)) => false,
            (_, Some(record), Some(stored)) => *record == stored,
            _ => false,
        };
        mismatches += usize::from(!agrees);
    }
    // The store's profiles with no record on the topic at all.
    Ok(mismatches + people.saturating_sub(live_seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The topic's last records against a store holding p1 live (p2 and
    /// p3 absorbed into it): each disagreement counts once.
    #[test]
    fn the_topic_check_follows_redirects_and_counts_each_disagreement_once() {
        let record = |id: &str| {
            let event =
                kindred_model::CanonicalEvent::new("pos:1", kindred_model::Channel::Pos, 1, vec![]);
            kindred_model::GoldenRecord::new(id.into(), &event)
        };
        // A change carrying the record (built from a redirect's fields).
        let live = |id: &str| ProfileChange {
            change_type: ChangeType::Updated,
            superseded_by: None,
            record: Some(record(id)),
            ..ProfileChange::superseded(id.into(), 0, "pos:1".into(), String::new())
        };
        let moved =
            |id: &str, to: &str| ProfileChange::superseded(id.into(), 1, "pos:2".into(), to.into());
        let stored = |id: &str| Ok::<_, ()>((id == "p1").then(|| record("p1")));
        let survivor = |id: &str| {
            Ok::<_, ()>(match id {
                "p2" | "p3" => "p1".to_string(),
                other => other.to_string(),
            })
        };
        let check = |last: Vec<(&str, ProfileChange)>| {
            let last: BTreeMap<String, ProfileChange> =
                last.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
            topic_mismatches(&last, 1, stored, survivor)
        };
        assert_eq!(
            check(vec![("p1", live("p1")), ("p2", moved("p2", "p1"))]),
            Ok(0)
        );
        // A redirect through another absorbed id ends at the same place.
        assert_eq!(
            check(vec![("p1", live("p1")), ("p2", moved("p2", "p3"))]),
            Ok(0)
        );
        // A redirect to somewhere the store does not lead.
        assert_eq!(
            check(vec![("p1", live("p1")), ("p2", moved("p2", "p9"))]),
            Ok(1)
        );
        // An id the store has never heard of.
        assert_eq!(
            check(vec![("p1", live("p1")), ("p7", moved("p7", "p1"))]),
            Ok(1)
        );
        // The live profile's last record a redirect: one problem, not two.
        assert_eq!(check(vec![("p1", moved("p1", "p2"))]), Ok(1));
        // The live profile missing from the topic.
        assert_eq!(check(vec![("p2", moved("p2", "p1"))]), Ok(1));
    }

    fn options(kills: u32, broker: bool) -> ChaosOptions {
        ChaosOptions {
            events: 10,
            gen: GenOptions::default(),
            rate: 1,
            resolver_kills: kills,
            kill_ingest: true,
            sigterm: true,
            broker_restart: broker.then(|| vec!["true".to_string()]),
            launch: Launch {
                exe: PathBuf::from("kindred"),
                config_file: None,
                overrides: Vec::new(),
            },
            work_dir: None,
            idle_timeout: Duration::from_secs(1),
            delete_topics: true,
        }
    }

    #[test]
    fn the_plan_has_every_fault_inside_the_stream_in_order_and_is_repeatable() {
        let plan = plan(&options(5, true));
        assert_eq!(plan.len(), 9);
        let count = |p: Planned| plan.iter().filter(|(_, q)| *q == p).count();
        assert_eq!(count(Planned::KillResolver), 5);
        assert_eq!(count(Planned::RestartBroker), 1);
        assert!(plan.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(plan.iter().all(|(at, _)| *at > 0.0 && *at < 1.0));
        assert_eq!(
            plan.iter().map(|(at, _)| at.to_bits()).collect::<Vec<_>>(),
            super::plan(&options(5, true))
                .iter()
                .map(|(at, _)| at.to_bits())
                .collect::<Vec<_>>()
        );
        assert_eq!(super::plan(&options(0, false)).len(), 3);
    }

    #[test]
    fn gauges_are_read_from_the_exposition() {
        let body = "# HELP kindred_outbox_entries Outputs\n# TYPE kindred_outbox_entries gauge\nkindred_outbox_entries{service=\"resolve\"} 17\nkindred_profiles{service=\"resolve\"} 3\n";
        assert_eq!(gauge(body, "kindred_outbox_entries"), Some(17));
        assert_eq!(gauge(body, "kindred_missing"), None);
    }
}
