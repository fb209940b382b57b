//! The `kindred` binary: parses flags, loads configuration, sets up logging
//! and signal handling, then hands over to `kindred-pipeline`. No logic lives here.

mod args;

use std::path::PathBuf;

/// mimalloc instead of glibc malloc: the resolver allocates and frees many
/// small values per event (BENCHMARKS.md, "Resolver core").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use args::{
    Cli, Command, ConfigAction, DeadletterAction, KeysAction, Level, LogFormat, ReviewAction,
    RulesAction, SchemasAction, TopicsAction,
};
use clap::Parser;
use kindred_config::Config;
use kindred_pipeline::services::{ingest, resolve, Ops};
use kindred_pipeline::{admin, demo, topics, Shutdown};
use kindred_schema::CompatibilityLevel;
use serde_json::json;

/// `println!` for a command's output, which ends quietly when the reader
/// has gone (`kindred review list | head -1`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        emit(&format!($($arg)*))?
    };
}

/// `eprintln!` for a command's notes and warnings, which drops the line
/// when standard error is a closed pipe instead of panicking.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> std::process::ExitCode {
    drop_empty_flag_variables();
    let mut cli = Cli::parse();
    // Those before the subcommand too (clap keeps one side's).
    let sets = args::every_set(std::env::args_os().skip(1));
    if sets.len() > cli.sets.len() {
        cli.sets = sets;
    }
    init_logging(cli.log_format, cli.log_spans);
    install_panic_hook();
    let done = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            errln!("{}", error_report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An environment variable a flag reads (`KINDRED_CONFIG`,
/// `KINDRED_LOG_FORMAT`, ...), set but empty (`KINDRED_CONFIG=` in a
/// manifest template), counts as not set: clap refused it as a flag given
/// without its value. Called first in `main`, before any other thread.
fn drop_empty_flag_variables() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, names: &mut Vec<std::ffi::OsString>) {
        names.extend(
            command
                .get_arguments()
                .filter_map(|a| a.get_env().map(std::ffi::OsStr::to_os_string)),
        );
        for sub in command.get_subcommands() {
            walk(sub, names);
        }
    }
    let mut names = Vec::new();
    walk(&Cli::command(), &mut names);
    for name in names {
        if std::env::var_os(&name).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(&name);
        }
    }
}

/// Panics go to the log with where they happened; their message only at
/// debug level: it may quote a value the code was handling (a string
/// slicing panic prints the customer's name it cut). The default hook
/// printed it to standard error, which is collected as logs.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        tracing::error!(%location, %thread, "kindred panicked: a bug, please report it (its message is logged at debug level only: it may quote personal data)");
        tracing::debug!(%location, %thread, %message, "panic message");
    }));
}

/// An error as a user reads it: what failed, then each cause, once (a
/// cause whose words a line above already holds adds nothing). Never a
/// backtrace, whatever `RUST_BACKTRACE` says: a refused configuration or
/// an unreachable broker is not a bug in kindred (a panic still prints
/// one).
fn error_report(e: &anyhow::Error) -> String {
    let mut lines: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !lines.iter().any(|l| l.contains(&text)) {
            lines.push(text);
        }
    }
    let mut out = format!("Error: {}", lines.first().map_or("", String::as_str));
    match &lines[1.min(lines.len())..] {
        [] => {}
        [one] => out.push_str(&format!("\n\nCaused by:\n    {one}")),
        many => {
            out.push_str("\n\nCaused by:");
            for (i, l) in many.iter().enumerate() {
                out.push_str(&format!("\n    {i}: {l}"));
            }
        }
    }
    out
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
        .with_writer(std::io::stderr)
        // A log line that cannot be written (stderr a closed pipe: `kindred
        // ingest 2>&1 | head`) is lost, and the service goes on. Reported,
        // the report went to the same closed pipe with `eprintln!`, which
        // panicked, and a second panic aborted (exit 134). SIGPIPE stays
        // ignored, as Rust starts programs: a socket closed under librdkafka
        // or the metrics server must not end a service.
        .log_internal_errors(false);
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

/// How `kindred load` and `kindred chaos` start their services: this
/// binary, with this run's configuration file and `--set` overrides.
fn launch(cli: &Cli) -> anyhow::Result<kindred_load::Launch> {
    Ok(kindred_load::Launch {
        exe: std::env::current_exe().context("cannot find the kindred binary")?,
        config_file: cli.config.clone(),
        overrides: cli.sets.clone(),
    })
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
                errln!(
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
            // Named as the flag (the options' own check says `cn_share`).
            anyhow::ensure!(
                (0.0..=1.0).contains(cn_share),
                "invalid generator options: --cn-share must be between 0 and 1, not {cn_share}"
            );
            opts.validate()
                .map_err(|e| anyhow::anyhow!("invalid generator options: {e}"))?;
            // Events dated after today are dead-lettered by ingest (more
            // than a day ahead: event_time_in_future) and counted lost by
            // eval: a period that ends after today measures nothing.
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(i64::MAX, |d| {
                    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
                });
            let most = (now_ms - opts.start_ms) / 86_400_000;
            anyhow::ensure!(
                opts.end_ms() <= now_ms,
                "invalid generator options: --days {days} ends the period after today (it starts on 2025-01-01): \
                 ingest dead-letters events dated more than a day ahead, and eval would count them lost; give at most --days {most}"
            );
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
            outln!(
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
                outln!(
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
                Some(path) => {
                    let truth = kindred_gen::read_truth(path)
                        .with_context(|| format!("cannot read ground truth {}", path.display()))?;
                    // Nothing to score against: every figure would read 1.0.
                    anyhow::ensure!(
                        !truth.is_empty(),
                        "the ground truth {} names no event (a header and no rows): nothing to score",
                        path.display()
                    );
                    truth
                }
                None => Default::default(),
            };
            let mut incomplete = (0, 0);
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
                    errln!(
                        "read {} records from {}: {} unreadable, {} tombstones of erased profiles, {} changes with cut id lists",
                        read.messages,
                        config.topics.profiles,
                        read.unreadable,
                        read.tombstones,
                        read.cut
                    );
                    incomplete = (read.unreadable, read.cut);
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
                errln!(
                    "wrote the profile of each of {} events to {}",
                    clustering.len(),
                    path.display()
                );
            }
            if truth_path.is_none() {
                return Ok(());
            }
            let mut report = kindred_eval::evaluate_against(clustering, &truth, *worst);
            (report.unreadable_changes, report.cut_changes) = incomplete;
            anyhow::ensure!(
                report.missing_records < report.records,
                "none of the {} events of the ground truth is in the clustering: is it the truth of this data set?",
                report.records
            );
            if report.missing_records * 100 > report.records {
                errln!(
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
                launch: launch(&cli)?,
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
                launch: launch(&cli)?,
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
                outln!(
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
                outln!(
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
                            outln!("     not {what} compatible: {e}");
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
            outln!(
                "read {}, {verb} {}, skipped {}, unreadable {}, truncated (not replayed) {}, \
                 masked requests (not replayed) {}, refused by their source topic (not replayed) {}",
                report.read,
                report.replayed.values().sum::<u64>(),
                report.skipped,
                report.unreadable,
                report.truncated,
                report.masked,
                report.refused.len()
            );
            for (reason, n) in &report.replayed {
                outln!("  {reason}: {n}");
            }
            for refused in &report.refused {
                outln!("  refused: {refused}");
            }
        }
        Command::Review { data_dir, action } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let out = match action {
                ReviewAction::List { json, live: true } => {
                    kindred_pipeline::live::review_list(&config, *json).await?
                }
                ReviewAction::List { json, live: false } => {
                    tokio::task::block_in_place(|| admin::review_list(&config, *json))?
                }
                ReviewAction::Approve(d) | ReviewAction::Reject(d) => {
                    let approve = matches!(action, ReviewAction::Approve(_));
                    if d.live.live {
                        let (a, b) = (&d.a, &d.b);
                        let decision =
                            kindred_pipeline::live::LiveDecision::Review { a, b, approve };
                        d.live.send(&config, decision, &d.reviewer).await?
                    } else {
                        tokio::task::block_in_place(|| {
                            admin::review(&config, &d.a, &d.b, approve, &d.reviewer)
                        })?
                    }
                }
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
        Command::Restore {
            from,
            data_dir,
            timeout_secs,
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let timeout = std::time::Duration::from_secs(*timeout_secs);
            let report = kindred_pipeline::state::restore(&config, from, timeout)
                .await
                .context("restore failed")?;
            emit(&report)?;
        }
        Command::Rebuild {
            data_dir,
            timeout_secs,
            decisions_from,
            from_what_is_left,
        } => {
            let config = load_config(&cli, data_dir.as_ref())?;
            let timeout = std::time::Duration::from_secs(*timeout_secs);
            let report = kindred_pipeline::state::rebuild(
                &config,
                timeout,
                decisions_from.as_deref(),
                *from_what_is_left,
            )
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
            // With the flags and --set overrides the service would run
            // with (the file replaces its configuration, the command line
            // stays), and its warnings said now, before an apply acts on
            // them (a rules list that drops the default rules).
            let new = Config::load_with_sets(
                Some(new_file),
                flag_overrides(&cli, data_dir.as_ref()),
                &cli.sets,
            )
            .with_context(|| format!("cannot load the new rules from {}", new_file.display()))?;
            for warning in new.resolver.linking.warnings() {
                tracing::warn!("the new rules in {}: {warning}", new_file.display());
            }
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
            let request_id = request_id.clone().unwrap_or_else(|| {
                kindred_pipeline::erasure::default_request_id(kindred_pipeline::admin::now_ms())
            });
            let out = kindred_pipeline::erasure::forget(
                &config,
                &target,
                &request_id,
                actor,
                std::time::Duration::from_secs(*wait_secs),
                *json,
            )
            .await;
            match out {
                // The audit record goes to standard output either way (a
                // script reads it), and the exit status says nobody was
                // erased.
                Err(kindred_pipeline::PipelineError::NotErased(report)) => {
                    emit(&report)?;
                    anyhow::bail!(
                        "nobody was erased: the identifier is shared; erase by profile id (`kindred forget --profile ID`)"
                    )
                }
                other => emit(&other?)?,
            }
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
                        None => "the configuration (the defaults, with the environment's and the command line's overrides) is not valid".to_string(),
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
                Some(file) if keyring_env => errln!(
                    "warning: KINDRED_KEYRING is set, so privacy.keyring_file {} is not read (the variable wins)",
                    file.display()
                ),
                Some(file) if !file.is_file() => errln!(
                    "warning: privacy.keyring_file {} does not exist here: a service started with this configuration needs it",
                    file.display()
                ),
                Some(_) if config.privacy.plaintext_store => errln!(
                    "warning: privacy.plaintext_store = true does nothing while a keyring is configured (privacy.keyring_file)"
                ),
                None if config.privacy.plaintext_store && !keyring_env => {
                    kindred_pipeline::output_policy::check(&config.privacy.output, None)
                        .context("[privacy.output] cannot be used with a plaintext store")?;
                }
                _ => {}
            }
            for warning in config.resolver.linking.warnings() {
                errln!("warning: {warning}");
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

/// Ends the process at once with `code`, running no exit handlers:
/// `std::process::exit` runs C++ static destructors, and RocksDB's default
/// environment joins its background threads in one, so a forced exit
/// would wait for a running compaction.
fn forced_exit(code: i32) -> ! {
    use std::io::Write as _;
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` takes no pointers and never returns; skipping the
    // exit handlers is the point (nothing uncommitted is lost: it is
    // redone after the restart, which is why the watchdog may fire).
    unsafe { libc::_exit(code) }
}

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
        let code = if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            EXIT_SHUTDOWN_TIMEOUT
        } else {
            1
        };
        forced_exit(code)
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

#[cfg(test)]
mod tests {
    use super::error_report;
    use anyhow::Context;

    #[test]
    fn an_error_report_names_each_cause_once() {
        let io = std::io::Error::other("permission denied");
        let e = Err::<(), _>(io)
            .context("cannot open /data/store: permission denied")
            .context("cannot start the resolver")
            .expect_err("an error");
        assert_eq!(
            error_report(&e),
            "Error: cannot start the resolver\n\nCaused by:\n    cannot open /data/store: permission denied"
        );
        let e = anyhow::anyhow!("bad flag");
        assert_eq!(error_report(&e), "Error: bad flag");
        let e = Err::<(), _>(std::io::Error::other("refused"))
            .context("no broker answers")
            .context("cannot create topics")
            .expect_err("an error");
        assert_eq!(
            error_report(&e),
            "Error: cannot create topics\n\nCaused by:\n    0: no broker answers\n    1: refused"
        );
    }
}
