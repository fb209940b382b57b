//! `kindred load`: how fast is the pipeline, end to end, through the real broker?
//!
//! A run:
//! 1. makes topics and consumer groups of its own (suffixed with a run id),
//!    so runs never read each other's data;
//! 2. starts the services as separate processes of the `kindred` binary
//!    (one ingest per channel, one resolver with a fresh store) and waits
//!    until each holds its partitions;
//! 3. produces a generated stream ([`kindred_gen`]) at a fixed rate or as
//!    fast as possible, noting when each event was handed to the producer;
//! 4. meanwhile reads the profile and dead-letter topics like a downstream
//!    system, timing each event from produce to its first profile change,
//!    and samples consumer lag and memory once a second;
//! 5. when every event landed (or nothing moved for the idle timeout),
//!    reads each service's peak RSS and CPU time, stops it with SIGTERM, and
//!    scores the profiles read back from the topic against the ground truth.
//!
//! The load tool shares the machine with what it measures: its producer and
//! observer take CPU the services could use. The report says how many cores
//! there were.

pub mod chaos;
mod error;
mod observe;
mod report;
mod services;
mod writer;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use kindred_config::Config;
use kindred_gen::{GenOptions, Generated};
use kindred_kafka::consumer::LagProbe;
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::topics::{all_topics, raw_topic};
use kindred_pipeline::{Channel, Shutdown};

pub use error::LoadError;
pub use report::{Latency, LoadReport, Sample};
pub use services::{free_port, Launch, ServiceSpec, ServiceUsage, SCRAPE_TARGETS_FILE};
pub use writer::{event_id, RawWriter};

use observe::{lock, Shared};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Records to produce (duplicate deliveries included).
    pub events: u64,
    /// The generator's settings; `people` is raised until it yields `events`.
    pub gen: GenOptions,
    /// Events per second to produce; 0 = as fast as possible.
    pub rate: u64,
    /// How the services are started (their topics, groups, store and
    /// HTTP address are overridden for the run).
    pub launch: Launch,
    /// Where service logs and the resolver's store go; a temporary
    /// directory (removed afterwards) when None.
    pub work_dir: Option<PathBuf>,
    /// Give up waiting when no event landed for this long after producing ended.
    pub idle_timeout: Duration,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Delete the run's topics afterwards.
    pub delete_topics: bool,
}

/// Generates at least `events` records (raising the number of people as
/// needed) and keeps the first `events` in arrival order.
pub fn generate_at_least(gen: &GenOptions, events: u64) -> (Vec<Generated>, u32) {
    let mut opts = gen.clone();
    loop {
        let mut generated = kindred_gen::generate(&opts);
        if generated.len() as u64 >= events || opts.people >= u32::MAX / 2 {
            generated.truncate(events as usize);
            return (generated, opts.people);
        }
        let per_person = (generated.len().max(1) as f64) / f64::from(opts.people.max(1));
        let want = (events as f64 / per_person * 1.05).ceil() as u32;
        opts.people = want.max(opts.people + 1);
    }
}

/// Runs the pipeline under load and measures it.
pub async fn run(base: &Config, opts: &LoadOptions) -> Result<LoadReport, LoadError> {
    if opts.events == 0 {
        return Err(LoadError::Invalid("--events must be at least 1".into()));
    }
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let run_id = format!("load-{started_unix}-{}", std::process::id());
    let setup = prepare(base, &run_id, opts.work_dir.as_ref()).await?;
    let (config, work_dir) = (setup.config.clone(), setup.work_dir.clone());
    let settings = kafka_settings(&config);

    tracing::info!(events = opts.events, "generating the stream");
    let (events, people) =
        tokio::task::block_in_place(|| generate_at_least(&opts.gen, opts.events));
    let truth: BTreeMap<String, String> = events
        .iter()
        .map(|g| (event_id(&g.event), g.person.to_string()))
        .collect();
    // The ground truth beside the run's logs and store: with --work-dir and
    // --keep-topics, `kindred eval --profile-topic --truth` scores the run
    // again, or a tool of the user's own does from `--assignments`.
    let truth_file = work_dir.join(kindred_gen::TRUTH_FILE);
    kindred_gen::write_truth(
        &truth_file,
        truth.iter().map(|(e, p)| (e.as_str(), p.as_str())),
    )
    .map_err(|source| LoadError::Io {
        what: "cannot write the ground truth to",
        path: truth_file.clone(),
        source,
    })?;

    let run = run_settings(&config, &work_dir);
    let mut specs: Vec<ServiceSpec> = Channel::ALL
        .iter()
        .map(|c| ServiceSpec {
            name: format!("ingest-{c}"),
            args: vec!["ingest".into(), "--channel".into(), c.as_str().into()],
        })
        .collect();
    specs.push(ServiceSpec {
        name: "resolve".into(),
        args: vec!["resolve".into()],
    });
    let mut running = Vec::new();
    for spec in &specs {
        running.push(services::spawn(&opts.launch, spec, &run, &work_dir)?);
    }
    for service in &mut running {
        service.wait_ready(Duration::from_secs(90)).await?;
    }
    services::write_scrape_targets(&work_dir, &running)?;
    tracing::info!(services = running.len(), targets = %work_dir.join(services::SCRAPE_TARGETS_FILE).display(), "services ready");

    let shared = Shared::new()?;
    let stop = Shutdown::new();
    let observer = tokio::spawn(observe::observe(
        config.clone(),
        shared.clone(),
        stop.clone(),
    ));

    // Clients first: the run's clock starts when the first event can go.
    let probes = lag_probes(&config)?;
    let writer = RawWriter::new(&config).await?;
    let t0 = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let pids: Vec<(String, u32)> = running.iter().map(|s| (s.name.clone(), s.pid())).collect();
        let (samples, sampling) = (samples.clone(), sampling.clone());
        std::thread::spawn(move || sample_loop(t0, probes, pids, samples, sampling))
    };

    let bar = progress_bar(opts.progress, events.len() as u64);
    let distinct = truth.len() as u64;
    let produce_result = produce(&writer, &events, opts.rate, &shared, &bar).await;
    let produce_seconds = t0.elapsed().as_secs_f64();

    // Wait for the pipeline to drain.
    let mut last_progress = (0u64, Instant::now());
    while produce_result.is_ok() {
        let done = {
            let o = lock(&shared.observed);
            o.changelog.events() as u64 + o.dead_letters
        };
        bar.set_message(format!("{done}/{distinct} landed"));
        if done >= distinct {
            break;
        }
        if done != last_progress.0 {
            last_progress = (done, Instant::now());
        } else if last_progress.1.elapsed() > opts.idle_timeout {
            tracing::warn!(
                done,
                distinct,
                "no progress within the idle timeout; ending the run"
            );
            break;
        }
        for s in &mut running {
            s.check_alive()?;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bar.finish_and_clear();
    let usage: Vec<ServiceUsage> = running
        .into_iter()
        .map(|s| s.stop(Duration::from_secs(30)))
        .collect();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    // What the services published up to their stop (a final flush, a
    // redirect on another partition than its merge) is read before the
    // observer stops: the figures come from all of it.
    let stopped = Instant::now();
    let give_up = stopped + Duration::from_secs(60);
    while !observe::drained(
        stopped,
        lock(&shared.observed).last_message,
        Instant::now(),
        Duration::from_secs(2),
    ) && Instant::now() < give_up
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.trigger();
    match observer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(LoadError::Invalid(format!("the observer task failed: {e}"))),
    }
    produce_result?;
    if opts.delete_topics {
        let names: Vec<String> = all_topics(&config).into_iter().map(|t| t.name).collect();
        if let Err(e) = kindred_kafka::delete_topics(&settings, &names).await {
            tracing::warn!(error = %e, "could not delete the run's topics");
        }
    }

    let samples = std::mem::take(&mut *lock(&samples));
    let observed = lock(&shared.observed);
    let landed = observed.changelog.events() as u64;
    let pipeline_seconds = observed
        .last_done
        .map(|t| t.saturating_duration_since(t0).as_secs_f64())
        .unwrap_or(0.0);
    let h = &observed.latency_us;
    let ms = |us: u64| us as f64 / 1000.0;
    let mut max_lag = BTreeMap::new();
    for s in &samples {
        for (group, lag) in &s.lag {
            let slot = max_lag.entry(group.clone()).or_insert(0);
            *slot = (*slot).max(*lag);
        }
    }
    Ok(LoadReport {
        kindred_version: env!("CARGO_PKG_VERSION"),
        started_unix,
        run_id,
        topics: topic_names(&config).into_iter().collect(),
        topics_kept: !opts.delete_topics,
        truth_file: opts
            .work_dir
            .is_some()
            .then(|| std::path::absolute(&truth_file).unwrap_or(truth_file)),
        overrides: opts.launch.overrides.clone(),
        config_file: opts
            .launch
            .config_file
            .as_ref()
            .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone())),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        brokers: config.kafka.brokers.clone(),
        partitions: config.topics.partitions,
        seed: opts.gen.seed,
        people,
        persons: truth
            .values()
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64,
        target_rate: opts.rate,
        produced: events.len() as u64,
        distinct_events: distinct,
        produce_seconds,
        landed,
        dead_letters: observed.dead_letters,
        missing: distinct.saturating_sub(landed + observed.dead_letters),
        unreadable_changes: observed.unreadable,
        pipeline_seconds,
        events_per_second: if pipeline_seconds > 0.0 {
            (landed + observed.dead_letters) as f64 / pipeline_seconds
        } else {
            0.0
        },
        latency: Latency {
            samples: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        },
        max_lag,
        services: usage,
        profile_changes: observed.changes.clone(),
        accuracy: observed.changelog.evaluate(&truth, 5),
        samples,
    })
}

/// A run's own configuration (topics and groups suffixed with the run id,
/// topics created) and its work directory (a temporary one, removed with
/// the setup, when none is given).
pub(crate) struct RunSetup {
    pub config: Config,
    pub work_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

pub(crate) async fn prepare(
    base: &Config,
    run_id: &str,
    work_dir: Option<&PathBuf>,
) -> Result<RunSetup, LoadError> {
    let mut config = base.scoped(run_id);
    kindred_kafka::ensure_topics(&kafka_settings(&config), &all_topics(&config)).await?;
    let (work_dir, temp) = match work_dir {
        Some(d) => (d.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("kindred-")
                .tempdir()
                .map_err(|source| LoadError::Io {
                    what: "cannot create a temporary directory in",
                    path: std::env::temp_dir(),
                    source,
                })?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    std::fs::create_dir_all(&work_dir).map_err(|source| LoadError::Io {
        what: "cannot create the work directory",
        path: work_dir.clone(),
        source,
    })?;
    // A run without a keyring of its own gets one in its work directory:
    // its resolver store is keyed and sealed like a production one.
    if config.privacy.keyring_file.is_none()
        && std::env::var_os(kindred_pipeline::privacy::KEYRING_ENV).is_none()
    {
        let path = work_dir.join("keyring.toml");
        if !path.exists() {
            kindred_crypto::write_keyring(&path, &kindred_crypto::Keyring::generate())
                .map_err(kindred_pipeline::PipelineError::from)?;
        }
        config.privacy.keyring_file = Some(path);
    }
    Ok(RunSetup {
        config,
        work_dir,
        _temp: temp,
    })
}

/// Every topic name of the run by its `topics` key (`profiles`, `pos`, ...),
/// whatever topics the config has.
fn topic_names(config: &Config) -> Vec<(String, String)> {
    match serde_json::to_value(&config.topics) {
        Ok(serde_json::Value::Object(topics)) => topics
            .into_iter()
            .filter_map(|(key, value)| match value {
                serde_json::Value::String(name) => Some((key, name)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// What points a service at the run's own topics, groups, transactional
/// id, store and snapshots: `--set`s given after the user's (a later
/// `--set` wins, and `--set` wins over the file, the environment and
/// flags), so no user setting can send a run's service into production's
/// group, transactional id (fencing the production resolver) or store.
/// Plus `KINDRED_LOG` when the user's environment sets none.
pub(crate) struct RunSettings {
    pub sets: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The [`RunSettings`] of a run's (scoped) `config` in `work_dir`.
pub(crate) fn run_settings(config: &Config, work_dir: &std::path::Path) -> RunSettings {
    let mut sets = vec![
        format!("kafka.brokers={}", config.kafka.brokers),
        format!("kafka.group_prefix={}", config.kafka.group_prefix),
    ];
    for (key, name) in topic_names(config) {
        sets.push(format!("topics.{key}={name}"));
    }
    if let Some(keyring) = &config.privacy.keyring_file {
        sets.push(format!("privacy.keyring_file={}", keyring.display()));
    }
    sets.push(format!(
        "resolver.data_dir={}",
        work_dir.join("resolver").display()
    ));
    if let Some(id) = &config.resolver.transactional_id {
        sets.push(format!("resolver.transactional_id={id}"));
    }
    if config.resolver.snapshot_dir.is_some() {
        sets.push(format!(
            "resolver.snapshot_dir={}",
            work_dir.join("snapshots").display()
        ));
    }
    let mut env = Vec::new();
    if std::env::var_os("KINDRED_LOG").is_none() {
        env.push(("KINDRED_LOG".into(), "info,rdkafka=warn".into()));
    }
    RunSettings { sets, env }
}

/// One lag probe per consumer group of the pipeline.
fn lag_probes(config: &Config) -> Result<Vec<LagProbe>, LoadError> {
    let settings = kafka_settings(config);
    let timeout = Duration::from_secs(5);
    let prefix = &config.kafka.group_prefix;
    let mut probes = Vec::new();
    for channel in Channel::ALL {
        probes.push(LagProbe::new(
            &settings,
            &format!("{prefix}.ingest.{channel}"),
            raw_topic(config, channel),
            timeout,
        )?);
    }
    probes.push(LagProbe::new(
        &settings,
        &kindred_pipeline::services::resolve::group_id(config),
        &config.topics.canonical,
        timeout,
    )?);
    Ok(probes)
}

/// Once a second until `running` turns false: every group's lag and every
/// service's RSS.
fn sample_loop(
    t0: Instant,
    probes: Vec<LagProbe>,
    pids: Vec<(String, u32)>,
    samples: Arc<Mutex<Vec<Sample>>>,
    running: Arc<AtomicBool>,
) {
    while running.load(Ordering::Relaxed) {
        let tick = Instant::now();
        let mut sample = Sample {
            t_seconds: t0.elapsed().as_secs_f64(),
            lag: BTreeMap::new(),
            rss_bytes: BTreeMap::new(),
        };
        for probe in &probes {
            match probe.lag() {
                Ok(lag) => {
                    sample.lag.insert(probe.group().to_string(), lag);
                }
                Err(e) => tracing::debug!(error = %e, "lag sample failed"),
            }
        }
        for (name, pid) in &pids {
            if let Some(kib) = services::proc_status_kib(*pid, "VmRSS:") {
                sample.rss_bytes.insert(name.clone(), kib * 1024);
            }
        }
        lock(&samples).push(sample);
        while running.load(Ordering::Relaxed) && tick.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Produces every event, paced to `rate` per second (0 = unpaced), recording
/// when each distinct event was first handed to the producer. Up to
/// `IN_FLIGHT` slices await their acknowledgements at once, so a slow
/// acknowledgement does not hold back the pace.
async fn produce(
    writer: &RawWriter,
    events: &[Generated],
    rate: u64,
    shared: &Shared,
    bar: &ProgressBar,
) -> Result<(), LoadError> {
    const IN_FLIGHT: usize = 64;
    // Paced runs send in 10 ms slices; unpaced ones in large chunks.
    let chunk = if rate == 0 {
        1000
    } else {
        (rate / 100).clamp(1, 1000) as usize
    };
    let start = Instant::now();
    let mut sent = 0u64;
    let mut seen = HashSet::with_capacity(events.len());
    let mut in_flight = tokio::task::JoinSet::new();
    for slice in events.chunks(chunk) {
        // A paced event's latency runs from when it was due, not from when
        // the tool got round to sending it: a producer held back (all
        // slots waiting on the broker, no CPU) must not hide the delay
        // (coordinated omission).
        let due = if rate > 0 {
            let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
            due
        } else {
            Instant::now()
        };
        let records = slice
            .iter()
            .map(|g| writer.record(&g.event))
            .collect::<Result<Vec<_>, _>>()?;
        {
            let mut produced = lock(&shared.produced);
            for g in slice {
                let id = event_id(&g.event);
                if seen.insert(id.clone()) {
                    produced.insert(id, due);
                }
            }
        }
        while in_flight.len() >= IN_FLIGHT {
            acknowledged(in_flight.join_next().await)?;
        }
        let producer = writer.producer().clone();
        in_flight.spawn(async move { producer.send_all(&records).await });
        sent += slice.len() as u64;
        bar.set_position(sent);
    }
    while let Some(done) = in_flight.join_next().await {
        acknowledged(Some(done))?;
    }
    Ok(())
}

fn acknowledged(
    done: Option<Result<Result<(), kindred_kafka::KafkaError>, tokio::task::JoinError>>,
) -> Result<(), LoadError> {
    match done {
        None | Some(Ok(Ok(()))) => Ok(()),
        Some(Ok(Err(e))) => Err(e.into()),
        Some(Err(e)) => Err(LoadError::Invalid(format!("a produce task failed: {e}"))),
    }
}

fn progress_bar(enabled: bool, total: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} produced ({per_sec}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A user's `--set` of production's group prefix, transactional id,
    /// store, snapshots or port reached a run's services and beat the
    /// run's own settings (given in the environment, which `--set`
    /// beats): the run's resolver fenced production's. The run's settings
    /// now come after the user's, and its transactional id is the run's.
    #[test]
    fn a_runs_own_settings_win_over_the_users() {
        let user: Vec<String> = [
            "kafka.group_prefix=acme",
            "resolver.transactional_id=acme.resolve",
            "resolver.data_dir=/var/lib/kindred/resolver",
            "resolver.snapshot_dir=/var/lib/kindred/snapshots",
            "http.listen=0.0.0.0:9464",
            "resolver.batch_size=777",
        ]
        .map(String::from)
        .to_vec();
        let base = Config::load_with_sets(None, serde_json::json!({}), &user).expect("loads");
        let scoped = base.scoped("run1");
        let work = Path::new("/tmp/kindred-run1");
        let run = run_settings(&scoped, work);
        let launch = Launch {
            exe: "kindred".into(),
            config_file: None,
            overrides: user,
        };
        let sets = services::service_sets(&launch, &run, "127.0.0.1:5555");
        let service = Config::load_with_sets(None, serde_json::json!({}), &sets).expect("loads");
        assert_eq!(service.kafka.group_prefix, "acme.run1");
        assert_eq!(
            service.resolver.transactional_id.as_deref(),
            Some("acme.resolve.run1")
        );
        assert_eq!(service.resolver.data_dir, work.join("resolver"));
        assert_eq!(service.resolver.snapshot_dir, Some(work.join("snapshots")));
        assert_eq!(service.http.listen, "127.0.0.1:5555");
        assert_eq!(
            service.topics.profiles,
            format!("{}.run1", Config::default().topics.profiles)
        );
        // The user's other settings stay.
        assert_eq!(service.resolver.batch_size, 777);
    }
}
