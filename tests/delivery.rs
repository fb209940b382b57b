//! Delivery guarantees through a real Kafka broker, at the two places a
//! random kill rarely lands: between the publisher's Kafka commit and its
//! outbox delete, and a store that has never read a partition its consumer
//! group has committed offsets for. (`kindred chaos` covers random kills.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_model::{CanonicalEvent, Channel, Identifier, IdentifierKind, ProfileChange};
use kindred_pipeline::services::publish::Publisher;
use kindred_pipeline::services::{kafka_settings, resolve, Ops};
use kindred_pipeline::Shutdown;
use kindred_resolver::{Resolver, Store};
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::{create_topics, isolated_config, produce, read_all, read_until};

const T0: i64 = 1_735_689_600_000;

fn events(n: usize) -> Vec<CanonicalEvent> {
    (0..n)
        .map(|i| {
            let email = Identifier::new(IdentifierKind::Email, format!("p{i}@x.cn"));
            CanonicalEvent::new(format!("pos:{i}"), Channel::Pos, T0 + i as i64, vec![email])
        })
        .collect()
}

fn profile_topic(config: &kindred_config::Config) -> anyhow::Result<Vec<ProfileChange>> {
    let codec = WireCodec::with_default_ids()?;
    let records = kindred_kafka::consumer::read_to_end(
        &kafka_settings(config),
        &config.topics.profiles,
        Duration::from_secs(60),
    )?;
    Ok(records
        .iter()
        .map(|(_, _, p)| codec.decode(Framing::Confluent, SchemaKind::ProfileChange, p))
        .collect::<Result<_, _>>()?)
}

/// Starts the outbox publisher of `store` (its start reads the broker:
/// off the runtime's threads).
async fn start_publisher(
    config: &kindred_config::Config,
    store: Arc<Store>,
) -> anyhow::Result<Result<Publisher, kindred_pipeline::PipelineError>> {
    let c = config.clone();
    let codec = Arc::new(WireCodec::with_default_ids()?);
    Ok(tokio::task::spawn_blocking(move || {
        Publisher::start(
            &c,
            &kafka_settings(&c),
            store,
            codec,
            kindred_ops::Metrics::new("test"),
        )
    })
    .await?)
}

/// Why the outbox publisher of `store` refuses to start; an error naming
/// `taken` if it starts.
async fn refused_start(
    config: &kindred_config::Config,
    store: Arc<Store>,
    taken: &str,
) -> anyhow::Result<String> {
    start_publisher(config, store)
        .await?
        .err()
        .map(|e| e.to_string())
        .ok_or_else(|| anyhow::anyhow!("{taken}"))
}

/// Publishes `store`'s outbox until it is empty, then stops the publisher.
async fn publish(config: &kindred_config::Config, store: Arc<Store>) -> anyhow::Result<()> {
    let publisher = start_publisher(config, store).await??;
    let done = publisher
        .finish(Instant::now() + Duration::from_secs(60))
        .await?;
    anyhow::ensure!(done, "the outbox was not drained within 60 s");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_kafka_commit_and_the_outbox_delete_publishes_nothing_twice(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("outbox", &dir.path().join("live"));
    create_topics(&config).await?;
    let mut resolver = Resolver::new(Store::open(dir.path().join("live"))?);
    let outcome = resolver.apply(&events(5), &[])?;
    assert_eq!(outcome.outbox_last, Some(5));
    // The store as it was before publishing, same identity: what a process
    // killed right after the commit, before deleting the entries, leaves.
    resolver.store().checkpoint(&dir.path().join("crashed"))?;
    publish(&config, resolver.shared_store()).await?;
    assert!(resolver.store().outbox()?.is_empty());
    drop(resolver);

    let crashed = Arc::new(Store::open(dir.path().join("crashed"))?);
    assert_eq!(crashed.outbox()?.len(), 5, "the crash left the outbox full");
    publish(&config, crashed.clone()).await?;
    assert!(
        crashed.outbox()?.is_empty(),
        "the progress record told the restart they were published"
    );
    let topic = profile_topic(&config)?;
    let ids: Vec<_> = topic.iter().map(|c| (&c.profile_id, c.version)).collect();
    assert_eq!(topic.len(), 5, "each change once: {ids:?}");
    assert!(topic.iter().all(|c| c.version == 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_store_reads_from_the_beginning_whatever_the_group_committed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("positions", &dir.path().join("first"));
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    for e in events(6) {
        produce(
            &config,
            &config.topics.canonical,
            &e.event_id,
            codec.encode(SchemaKind::CanonicalEvent, &e)?,
        )
        .await?;
    }
    let run = |config: kindred_config::Config, shutdown: Shutdown| {
        tokio::spawn(async move {
            let ops = Ops::start(&config, "resolve").await?;
            resolve::run(&config, &ops, shutdown).await
        })
    };
    let timeout = Duration::from_secs(90);
    // The first store reads everything; the group commits the end offsets.
    let shutdown = Shutdown::new();
    let task = run(config.clone(), shutdown.clone());
    read_until(&config, &config.topics.profiles, timeout, |m| m.len() >= 6).await?;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    let committed = kindred_kafka::consumer::LagProbe::new(
        &kafka_settings(&config),
        &format!("{}.resolve", config.kafka.group_prefix),
        &config.topics.canonical,
        Duration::from_secs(10),
    )?
    .lag()?;
    assert_eq!(committed, 0, "the group committed the end of the topic");

    // An empty store where another one published is refused: a lost or
    // unmounted volume, not a fresh start, unless the operator says so.
    config.resolver.data_dir = dir.path().join("second");
    let refused = run(config.clone(), Shutdown::new());
    let err = tokio::time::timeout(Duration::from_secs(60), refused)
        .await??
        .expect_err("an empty store after another one is refused");
    assert!(err.to_string().contains("allow_new_store"), "{err}");
    // A second, empty store in the same group, allowed, must still see
    // every event.
    config.resolver.allow_new_store = true;
    let shutdown = Shutdown::new();
    let task = run(config.clone(), shutdown.clone());
    read_until(&config, &config.topics.profiles, timeout, |m| m.len() >= 12).await?;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    let store = kindred_pipeline::privacy::open_store(&config)?;
    assert_eq!(store.stats()?.events, 6);
    assert_eq!(store.stats()?.profiles, 6);
    // A reviewer says two of them are one person: a decision that lives
    // in this store only.
    let mut reviewed = kindred_resolver::Resolver::with_policy(
        store,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    let ids: Vec<String> = reviewed
        .store()
        .assignments()?
        .into_iter()
        .map(|(_, profile)| profile)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    reviewed.review(&ids[0], &ids[1], true, "alice", 0)?;
    let (want_people, want_offsets) = (reviewed.store().people()?, reviewed.store().offsets()?);
    assert_eq!(reviewed.store().stats()?.profiles, 5);
    drop(reviewed);
    // The resolver publishes what the review queued, the decisions pinned
    // on the two events among it.
    let shutdown = Shutdown::new();
    let task = run(config.clone(), shutdown.clone());
    let pinned = read_until(&config, &config.topics.decisions, timeout, |m| m.len() >= 2).await;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    pinned?;
    // Counted on the whole topic once the resolver has stopped.
    assert_eq!(
        read_all(&config, &config.topics.decisions).await?.len(),
        2,
        "one decisions record per event reviewed"
    );
    // A reviewer's live request no resolver answered before the volume
    // was lost: it names ids of the old numbering.
    produce(
        &config,
        &config.topics.decision_requests,
        "dr-orphan",
        br#"{"request_id":"dr-orphan","actor":"bob","at_ms":1,"action":{"review":{"a":"kp-000000000001","b":"kp-000000000002","approve":true}}}"#.to_vec(),
    )
    .await?;

    // `kindred rebuild`: the same people from the canonical topic alone
    // and the old store's decisions, with the offsets at their ends; left
    // to publish, the decisions it holds and a refusal for the request.
    let mut rebuilt_config = config.clone();
    rebuilt_config.resolver.data_dir = dir.path().join("rebuilt");
    let report = kindred_pipeline::state::rebuild(
        &rebuilt_config,
        Duration::from_secs(30),
        Some(&dir.path().join("second")),
        false,
    )
    .await?;
    assert!(report.contains("5 profiles"), "{report}");
    assert!(report.contains("2 of them replayed here"), "{report}");
    assert!(report.contains("1 decision requests"), "{report}");
    let rebuilt = kindred_pipeline::privacy::open_store(&rebuilt_config)?;
    assert_eq!(rebuilt.people()?, want_people);
    let mut want_offsets = want_offsets;
    want_offsets.insert((config.topics.decision_requests.clone(), 0), 1);
    assert_eq!(rebuilt.offsets()?, want_offsets);
    let queued = rebuilt.outbox()?;
    // Numbered after every change the topic carries: a consumer keeping
    // each event's placement of the highest sequence takes the rebuilt
    // store's (they restarted at 1, below the lost store's).
    let topic_seq = kindred_pipeline::profile_topic::read_published(&config, timeout)
        .await?
        .highest_change_seq();
    assert!(topic_seq > 0, "the profile topic's changes carry sequences");
    assert!(
        queued.iter().all(|(seq, _)| *seq > topic_seq),
        "queued from {:?}, the topic's highest {topic_seq}",
        queued.first().map(|(seq, _)| seq)
    );
    let left: Vec<kindred_resolver::OutboxEntry> = queued.into_iter().map(|(_, e)| e).collect();
    // Each live profile goes as created, every field named, its events
    // placed under its new id (a consumer had them under the old ids).
    for entry in &left {
        if let kindred_resolver::OutboxEntry::Change(c) = entry {
            if c.superseded_by.is_none() {
                assert_eq!(c.change_type, kindred_model::ChangeType::Created, "{c:?}");
                assert!(!c.changed_fields.is_empty(), "{c:?}");
                let mut moved = c.moved_event_ids.clone();
                moved.sort();
                let mut held = rebuilt
                    .stored_profile(&c.profile_id)?
                    .map(|p| p.members)
                    .unwrap_or_default();
                held.sort();
                assert_eq!(moved, held, "{c:?}");
            }
        }
    }
    let pinned = left
        .iter()
        .filter(|e| matches!(e, kindred_resolver::OutboxEntry::Decisions(_)))
        .count();
    let refused: Vec<_> = left
        .iter()
        .filter_map(|e| match e {
            kindred_resolver::OutboxEntry::Replied(r) => {
                Some((r.request_id.as_str(), r.outcome.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        (pinned, refused),
        (2, vec![("dr-orphan", "refused")]),
        "{left:?}"
    );
    // The replay's own changes are history; what downstream gets is every
    // live profile (and the redirect of the one the review absorbed) under
    // ids after the old ones, and a tombstone for each old id.
    let old_ids: Vec<String> = (1..=6).map(|n| format!("kp-{n:012}")).collect();
    let mut changed: Vec<(String, bool)> = left
        .iter()
        .filter_map(|e| match e {
            kindred_resolver::OutboxEntry::Change(c) => {
                Some((c.profile_id.clone(), c.superseded_by.is_some()))
            }
            _ => None,
        })
        .collect();
    changed.sort();
    assert_eq!(changed.len(), 6, "{changed:?}");
    assert_eq!(changed.iter().filter(|(_, redirect)| *redirect).count(), 1);
    assert!(
        changed.iter().all(|(id, _)| !old_ids.contains(id)),
        "{changed:?}"
    );
    let tombstoned: Vec<&str> = left
        .iter()
        .filter_map(|e| match e {
            kindred_resolver::OutboxEntry::Tombstone(kindred_resolver::Tombstone::Profile(id)) => {
                Some(id.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(tombstoned, old_ids);
    assert_eq!(left.len(), 2 + 1 + 6 + 6, "nothing else: {left:?}");
    assert!(
        report.contains("new profiles numbered from kp-000000000007"),
        "{report}"
    );
    // With the old volume gone, the decisions topic gives the same.
    let mut from_topic = config.clone();
    from_topic.resolver.data_dir = dir.path().join("from-topic");
    let report =
        kindred_pipeline::state::rebuild(&from_topic, Duration::from_secs(30), None, false).await?;
    assert!(report.contains("5 profiles"), "{report}");
    assert!(
        report.contains(&format!("decisions of topic {}", config.topics.decisions))
            && report.contains("2 of them replayed here"),
        "{report}"
    );
    assert_eq!(
        kindred_pipeline::privacy::open_store(&from_topic)?.people()?,
        want_people
    );
    assert!(!rebuilt.is_rebuilding()?, "a finished rebuild is a store");
    // One cut off halfway is refused by the resolver.
    rebuilt.set_rebuilding(true)?;
    drop(rebuilt);
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        run(rebuilt_config.clone(), Shutdown::new()),
    )
    .await??
    .expect_err("an unfinished rebuild is refused");
    assert!(err.to_string().contains("did not finish"), "{err}");

    // A finished rebuild resumes: the entries its replay wrote and deleted
    // are not a backlog to wait for (with a backlog limit below them, the
    // resolver used to stop reading for ever).
    kindred_pipeline::privacy::open_store(&rebuilt_config)?.set_rebuilding(false)?;
    rebuilt_config.resolver.outbox_max_backlog = 2;
    let late = events(7).pop().expect("an event");
    produce(
        &config,
        &config.topics.canonical,
        &late.event_id,
        codec.encode(SchemaKind::CanonicalEvent, &late)?,
    )
    .await?;
    let published = kindred_kafka::consumer::read_to_end(
        &kafka_settings(&config),
        &config.topics.profiles,
        timeout,
    )?
    .len();
    let shutdown = Shutdown::new();
    let task = run(rebuilt_config.clone(), shutdown.clone());
    // Until the late event's own change is out (the rebuild's queued
    // records come first).
    let changes = read_until(&config, &config.topics.profiles, timeout, |m| {
        m.len() > published
            && m.iter().any(|r| {
                kindred_kafka::rdkafka::Message::payload(r).is_some_and(|p| {
                    codec
                        .decode(Framing::Confluent, SchemaKind::ProfileChange, p)
                        .is_ok_and(|c: ProfileChange| c.cause_event_id == late.event_id)
                })
            })
    })
    .await;
    // What the rebuild left to publish goes out: the refusal of the
    // orphaned request, with the reason.
    let refused = read_until(&config, &config.topics.decision_outcomes, timeout, |m| {
        !m.is_empty()
    })
    .await;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    changes?;
    let refused = refused?;
    // The compacted topic ends with exactly the rebuilt store's profiles.
    let mut last = std::collections::BTreeMap::new();
    for (key, change) in profile_records(&config)? {
        last.insert(key, change);
    }
    let on_topic: std::collections::BTreeSet<String> = last
        .into_iter()
        .filter(|(_, c)| c.as_ref().is_some_and(|c| c.superseded_by.is_none()))
        .map(|(k, _)| k)
        .collect();
    let held: std::collections::BTreeSet<String> =
        kindred_pipeline::privacy::open_store(&rebuilt_config)?
            .assignments()?
            .into_iter()
            .map(|(_, profile)| profile)
            .collect();
    assert_eq!(on_topic, held);
    let reply: serde_json::Value = serde_json::from_slice(
        kindred_kafka::rdkafka::Message::payload(&refused[0]).unwrap_or_default(),
    )?;
    assert_eq!(
        (reply["request_id"].as_str(), reply["outcome"].as_str()),
        (Some("dr-orphan"), Some("refused")),
        "{reply}"
    );
    assert!(
        reply["reason"]
            .as_str()
            .is_some_and(|r| r.contains("rebuilt")),
        "{reply}"
    );
    Ok(())
}

/// Record `n` for the profile topic of `config`: `change n`, keyed `n`.
fn numbered_change(config: &kindred_config::Config, n: u32) -> kindred_kafka::OutRecord {
    kindred_kafka::OutRecord {
        topic: config.topics.profiles.clone(),
        key: Some(n.to_string().into_bytes()),
        payload: format!("change {n}").into_bytes(),
        headers: Vec::new(),
        timestamp_ms: None,
    }
}

/// A second instance with the same transactional id fences the first. The
/// first must stop, not rebuild its producer: a rebuilt one would fence the
/// newer instance in turn, and the two would take turns publishing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_producer_stops_and_leaves_the_newer_one_publishing() -> anyhow::Result<()> {
    use kindred_kafka::{TransactionalProducer, TxnFailure};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("fenced", dir.path());
    create_topics(&config).await?;
    let settings = kafka_settings(&config);
    let id = format!("{}.publisher", config.topics.profiles);
    let record = |n: u32| numbered_change(&config, n);
    let timeout = Duration::from_secs(30);
    tokio::task::block_in_place(|| {
        let mut old = TransactionalProducer::new(&settings, &id, timeout)?;
        old.send_transaction(&[record(1)])?;
        let mut new = TransactionalProducer::new(&settings, &id, timeout)?;
        match old.send_transaction(&[record(2)]) {
            Err(TxnFailure::Fenced(_)) => {}
            other => anyhow::bail!("the old producer is fenced, not {other:?}"),
        }
        new.send_transaction(&[record(3)])?;
        new.send_transaction(&[record(4)])?;
        anyhow::Ok(())
    })?;
    let mut seen: Vec<String> = kindred_kafka::consumer::read_to_end(
        &settings,
        &config.topics.profiles,
        Duration::from_secs(60),
    )?
    .into_iter()
    .map(|(_, _, payload)| String::from_utf8_lossy(&payload).into_owned())
    .collect();
    // Keyed by number, the records lie in different partitions: their
    // order across partitions is not the order they were sent in.
    seen.sort();
    assert_eq!(seen, ["change 1", "change 3", "change 4"]);
    Ok(())
}

/// A producer that learns it is fenced from an error other than the
/// transaction's own (librdkafka then fails a begin, a queued record or an
/// abort with `__FATAL` or a state error) stops as fenced too: rebuilt, it
/// would fence the newer instance in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_fenced_before_its_next_transaction_stops_and_is_not_rebuilt(
) -> anyhow::Result<()> {
    use kindred_kafka::{TransactionalProducer, TxnFailure};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("fenced-fatal", dir.path());
    create_topics(&config).await?;
    let settings = kafka_settings(&config);
    let id = format!("{}.publisher", config.topics.profiles);
    let record = |n: u32| numbered_change(&config, n);
    let timeout = Duration::from_secs(30);
    tokio::task::block_in_place(|| {
        let mut old = TransactionalProducer::new(&settings, &id, timeout)?;
        old.send_transaction(&[record(1)])?;
        old.fail_fenced()?;
        match old.send_transaction(&[record(2), record(3)]) {
            Err(TxnFailure::Fenced(_)) => {}
            other => anyhow::bail!("the old producer stops as fenced, not {other:?}"),
        }
        anyhow::Ok(())
    })?;
    let seen: Vec<String> = kindred_kafka::consumer::read_to_end(
        &settings,
        &config.topics.profiles,
        Duration::from_secs(60),
    )?
    .into_iter()
    .map(|(_, _, payload)| String::from_utf8_lossy(&payload).into_owned())
    .collect();
    assert_eq!(seen, ["change 1"]);
    Ok(())
}

/// A transaction whose records a topic refuses fails with the topic named:
/// librdkafka's own error says only how many records failed, which left an
/// operator guessing which output topic was missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_names_the_topic_that_took_no_record() -> anyhow::Result<()> {
    use kindred_kafka::{OutRecord, TransactionalProducer};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("undelivered", dir.path());
    create_topics(&config).await?;
    let settings = kafka_settings(&config);
    let missing = format!("{}.missing", config.topics.profiles);
    let record = |topic: &str, n: u32| OutRecord {
        topic: topic.to_string(),
        key: Some(n.to_string().into_bytes()),
        payload: format!("change {n}").into_bytes(),
        headers: Vec::new(),
        timestamp_ms: None,
    };
    let failure = tokio::task::block_in_place(|| {
        let id = format!("{}.publisher", config.topics.profiles);
        let mut producer = TransactionalProducer::new(&settings, &id, Duration::from_secs(5))?;
        let failure = producer
            .send_transaction(&[
                record(&config.topics.profiles, 1),
                record(&missing, 2),
                record(&missing, 3),
            ])
            .expect_err("no broker takes records for a topic that does not exist");
        // The next transaction is its own: the failures are not repeated.
        producer.send_transaction(&[record(&config.topics.profiles, 4)])?;
        anyhow::Ok(failure)
    })?;
    let shown = failure.to_string();
    assert!(shown.contains(&format!("2 to {missing} (")), "{shown}");
    assert!(
        !shown.contains(&format!("to {} (", config.topics.profiles)),
        "{shown}"
    );
    Ok(())
}

/// The publisher cuts profile changes to what the profile topic takes: an
/// operator's lower `max.message.bytes` is read from the broker (a record
/// over it would be refused on every try and stop all publishing), and
/// record batches are kept under it too (the broker checks whole batches).
/// Any other output topic's lower limit counts as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_reads_the_output_topics_record_limit() -> anyhow::Result<()> {
    use kindred_pipeline::services::publish::record_limit;
    let dir = tempfile::tempdir()?;
    let config = isolated_config("record-limit", dir.path());
    let settings = kafka_settings(&config);
    // Before the topic exists: the default.
    assert_eq!(
        record_limit(&config, &settings).await,
        kindred_kafka::MAX_RECORD_BYTES
    );
    create_topic_taking(&config, &config.topics.profiles, 20_000).await?;
    assert_eq!(record_limit(&config, &settings).await, 20_000 - 1_024);
    create_topic_taking(&config, &config.topics.review, 12_000).await?;
    assert_eq!(record_limit(&config, &settings).await, 12_000 - 1_024);

    // Thousands of small changes in one transaction: far more than one
    // batch of the default size (1 MB) the topic would refuse.
    create_topics(&config).await?;
    let mut resolver = Resolver::new(Store::open(dir.path().join("store"))?);
    resolver.apply(&events(3_000), &[])?;
    publish(&config, resolver.shared_store()).await?;
    assert_eq!(profile_topic(&config)?.len(), 3_000);
    Ok(())
}

/// A publisher that stops (here: fenced by another instance's producer)
/// stops the resolver even when no more input comes: an idle input used to
/// hide it until the next message arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_resolver_stops_though_no_more_input_comes() -> anyhow::Result<()> {
    use kindred_kafka::TransactionalProducer;
    let _logs = kindred_suite::capture_logs("info");
    let dir = tempfile::tempdir()?;
    let config = isolated_config("fenced-idle", dir.path());
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let shutdown = Shutdown::new();
    let task = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(async move {
            let ops = Ops::start(&config, "resolve").await?;
            resolve::run(&config, &ops, shutdown).await
        })
    };
    let mut newer = None;
    for (n, e) in events(2).into_iter().enumerate() {
        produce(
            &config,
            &config.topics.canonical,
            &e.event_id,
            codec.encode(SchemaKind::CanonicalEvent, &e)?,
        )
        .await?;
        if n == 0 {
            read_until(
                &config,
                &config.topics.profiles,
                Duration::from_secs(90),
                |m| !m.is_empty(),
            )
            .await?;
            // Another instance's producer: this one's is fenced when it
            // next publishes (the second event's change).
            let (settings, id) = (kafka_settings(&config), resolve::publisher_id(&config));
            newer = Some(tokio::task::block_in_place(|| {
                TransactionalProducer::new(&settings, &id, Duration::from_secs(30))
            })?);
        }
    }
    let stopped = tokio::time::timeout(Duration::from_secs(60), task).await;
    shutdown.trigger();
    tokio::task::block_in_place(|| drop(newer));
    let err = stopped
        .map_err(|_| anyhow::anyhow!("the fenced resolver kept running on an idle input"))??
        .expect_err("a fenced resolver stops with an error");
    assert!(err.to_string().to_lowercase().contains("fenced"), "{err}");
    // The failure is logged before its consumer closes (the close, bounded
    // by the watchdog from then on, revokes its partitions): the work's
    // block owned the consumer and closed it as it ended, unlogged and
    // unbounded.
    let logs = kindred_suite::captured_text();
    let id = resolve::publisher_id(&config);
    let line_of = |what: &str, this: &str| {
        logs.lines()
            .position(|l| l.contains(what) && l.contains(this))
    };
    let failed = line_of("the resolver failed", &id);
    let revoked = line_of("partition revoked", &config.topics.canonical);
    assert!(
        matches!((failed, revoked), (Some(f), Some(r)) if f < r),
        "failure logged at line {failed:?}, partitions revoked at line {revoked:?}"
    );
    Ok(())
}

/// The resolver service of `config` running in this process (its health
/// and metrics kept for the test), and a stop for it.
struct Running {
    health: kindred_ops::Health,
    metrics: kindred_ops::Metrics,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<Result<(), kindred_pipeline::PipelineError>>,
}

async fn spawn_resolver(config: &kindred_config::Config) -> anyhow::Result<Running> {
    let ops = Ops::start(config, "resolve").await?;
    let (health, metrics) = (ops.health.clone(), ops.metrics.clone());
    let shutdown = Shutdown::new();
    let task = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(async move { resolve::run(&config, &ops, shutdown).await })
    };
    Ok(Running {
        health,
        metrics,
        shutdown,
        task,
    })
}

/// Produces `e` to the canonical topic of `config`.
async fn send(
    config: &kindred_config::Config,
    codec: &WireCodec,
    e: &CanonicalEvent,
) -> anyhow::Result<()> {
    let payload = codec.encode(SchemaKind::CanonicalEvent, e)?;
    produce(config, &config.topics.canonical, &e.event_id, payload).await?;
    Ok(())
}

/// A publisher whose transactions keep failing (here: a profile topic that
/// takes no record as large as a change) turns the resolver unready, while
/// it stays live: nothing reaches downstream, and the probe says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_cannot_publish_turns_unready() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("unpublishable", dir.path());
    create_topic_taking(&config, &config.topics.profiles, 64).await?;
    create_topics(&config).await?;
    let Running {
        health,
        shutdown,
        task,
        ..
    } = spawn_resolver(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    send(&config, &codec, &events(1)[0]).await?;
    // Ready once it holds its partition; unready about 30 s after the
    // first failed transaction.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut was_ready = false;
    let mut unready_after_ready = false;
    while Instant::now() < deadline && !task.is_finished() {
        let ready = health.is_ready();
        was_ready |= ready;
        if was_ready && !ready {
            unready_after_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let still_running = !task.is_finished();
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await??
        .ok();
    assert!(was_ready, "the resolver never became ready");
    assert!(
        unready_after_ready,
        "still ready while nothing is published"
    );
    assert!(still_running, "it stays up (live), retrying");
    Ok(())
}

/// A resolver waiting for its outbox to drain (the profile topic is gone
/// a while: nothing is published) keeps polling, its partitions paused: it
/// stays in its group past `max.poll.interval.ms` (it was dropped from it,
/// its partitions lost, and rejoined when the wait ended), and publishes
/// and reads on once the topic is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_waiting_for_its_outbox_stays_in_its_group() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("outbox-wait", dir.path());
    kindred_suite::leaves_its_group_unpolled_for_7s(&mut config);
    config.resolver.outbox_max_backlog = 1;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let Running {
        health,
        metrics,
        shutdown,
        task,
    } = spawn_resolver(&config).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !health.is_ready() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(health.is_ready(), "the resolver holds its partitions");
    let held = |topic: &str| {
        metrics
            .assigned_partitions
            .with_label_values(&[topic])
            .get()
    };
    assert!(held(&config.topics.canonical) > 0, "and says so");
    assert!(held(&config.topics.erasure_requests) > 0, "per topic");
    // The profile topic goes: nothing can be published.
    kindred_suite::delete_topic(&config, &config.topics.profiles).await?;
    let mut all = events(4);
    let last = all.pop().expect("four");
    for e in &all {
        send(&config, &codec, e).await?;
    }
    // Three changes wait (the limit is 1): the resolver waits three times
    // `max.poll.interval.ms`, and a fourth event arrives meanwhile.
    tokio::time::sleep(Duration::from_secs(5)).await;
    send(&config, &codec, &last).await?;
    tokio::time::sleep(Duration::from_secs(17)).await;
    assert!(!task.is_finished(), "the resolver waits, running");
    assert!(
        health.is_started(),
        "started, whether ready or not while it waits"
    );
    let waited = metrics.outbox_backlog.get();
    let revoked = |m: &kindred_ops::Metrics| m.rebalances.with_label_values(&["revoked"]).get();
    let before = revoked(&metrics);
    create_topics(&config).await?;
    let published = read_until(
        &config,
        &config.topics.profiles,
        Duration::from_secs(120),
        |m| {
            m.iter().any(|r| {
                kindred_kafka::rdkafka::Message::payload(r).is_some_and(|p| {
                    codec
                        .decode(Framing::Confluent, SchemaKind::ProfileChange, p)
                        .is_ok_and(|c: ProfileChange| c.cause_event_id == last.event_id)
                })
            })
        },
    )
    .await;
    // Counted before the stop (its close revokes the partitions).
    let (after, assigned) = (
        revoked(&metrics),
        metrics.rebalances.with_label_values(&["assigned"]).get(),
    );
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), task).await???;
    published?;
    assert!(waited > 1, "the outbox waited: {waited} entries");
    assert_eq!(before, 0, "no partition lost while waiting");
    assert_eq!(after, 0, "nor after");
    assert_eq!(assigned, 1, "one assignment: the group never rebalanced");
    Ok(())
}

/// A resolver waiting on the schema registry (gone, while a message under
/// an id it has not learned waits) keeps polling, its partitions paused:
/// it stays in its group past `max.poll.interval.ms` (it was dropped from
/// it, its partitions lost, as ingest was before it polled too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_waiting_for_the_schema_registry_stays_in_its_group() -> anyhow::Result<()> {
    let registry = kindred_registry::stand_in::StandInRegistry::start().await?;
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("registry-wait", dir.path());
    config.schemas.registry.url = registry.url();
    config.schemas.registry.timeout_ms = 1_000;
    kindred_suite::leaves_its_group_unpolled_for_7s(&mut config);
    create_topics(&config).await?;
    let Running {
        health,
        metrics,
        shutdown,
        task,
    } = spawn_resolver(&config).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !health.is_ready() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(health.is_ready(), "the resolver holds its partitions");
    // The registry is unavailable (503 on every call); an event comes
    // under an id the resolver has not learned (a producer's new version).
    registry.fail_next(u32::MAX);
    let codec = WireCodec::with_default_ids()?;
    let mut payload = codec.encode(SchemaKind::CanonicalEvent, &events(1)[0])?;
    payload[1..5].copy_from_slice(&4242u32.to_be_bytes());
    produce(&config, &config.topics.canonical, "pos:0", payload).await?;
    tokio::time::sleep(Duration::from_secs(22)).await;
    assert!(!task.is_finished(), "the resolver waits, running");
    // The registry answers again (the id is unknown to it: a dead letter),
    // and the resolver reads on: a revocation would be served now.
    registry.fail_next(0);
    read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| !m.is_empty(),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let count = |event: &str| metrics.rebalances.with_label_values(&[event]).get();
    let (revoked, assigned) = (count("revoked"), count("assigned"));
    let errors = metrics
        .component_errors
        .with_label_values(&["schema_registry", "resolve"])
        .get();
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), task).await???;
    drop(registry);
    assert!(errors > 0, "it was waiting on the registry");
    assert_eq!(revoked, 0, "no partition lost while waiting");
    assert_eq!(assigned, 1, "one assignment: the group never rebalanced");
    Ok(())
}

/// Creates `topic` with two partitions.
async fn two_partitions(config: &kindred_config::Config, topic: &str) -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(config).client_config(&[]).create()?;
    for result in admin
        .create_topics(
            &[NewTopic::new(topic, 2, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    Ok(())
}

/// A new member of the group `<group_prefix>.<group>`, subscribed to
/// `topic`, committing its offsets to Kafka (as ingest does).
fn group_member(
    config: &kindred_config::Config,
    group: &str,
    topic: &str,
) -> Result<kindred_kafka::consumer::ServiceConsumer, kindred_kafka::KafkaError> {
    kindred_kafka::consumer::subscribe(
        &kafka_settings(config),
        &format!("{}.{group}", config.kafka.group_prefix),
        &[topic],
        kindred_kafka::ServiceContext::committed(|_| {}),
        None,
    )
}

/// A batch read while this member held a partition, whose outputs took
/// long enough that the partition went to another member (which read on
/// and committed) and came back: the batch's commit left it alone only if
/// the partition was gone at commit time. Taken away and given back, its
/// offset moved the group's back, and a restart read it all again (or
/// counted it lost to retention). `commit_since` leaves such a partition
/// out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_leaves_a_partition_that_went_away_and_came_back() -> anyhow::Result<()> {
    use kindred_kafka::consumer::{commit, commit_since, CommitMode};
    use kindred_kafka::rdkafka::consumer::Consumer;
    use kindred_kafka::rdkafka::{Offset, TopicPartitionList};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("commit_came_back", dir.path());
    let topic = config.topics.canonical.as_str();
    two_partitions(&config, topic).await?;
    let member = || group_member(&config, "commit-came-back", topic);
    let held = |c: &kindred_kafka::consumer::ServiceConsumer| -> usize {
        c.assignment().map(|l| l.count()).unwrap_or(0)
    };
    let a = member()?;
    let deadline = Instant::now() + Duration::from_secs(90);
    while held(&a) != 2 {
        anyhow::ensure!(Instant::now() < deadline, "A never held both partitions");
        let _ = tokio::time::timeout(Duration::from_millis(200), a.recv()).await;
    }
    // A reads a batch of both partitions.
    let read_at = a.context().assignment_epoch();
    // B joins and takes one, reads on and commits; then B leaves and the
    // partition comes back to A.
    let b = member()?;
    while held(&b) != 1 {
        anyhow::ensure!(Instant::now() < deadline, "the group never split");
        let _ = tokio::time::timeout(Duration::from_millis(200), a.recv()).await;
        let _ = tokio::time::timeout(Duration::from_millis(200), b.recv()).await;
    }
    let pb = b
        .assignment()?
        .elements()
        .first()
        .map(|e| e.partition())
        .ok_or_else(|| anyhow::anyhow!("B holds a partition"))?;
    let pa = 1 - pb;
    let mine = |p: i32, o: i64| (topic.to_string(), p, o);
    tokio::task::block_in_place(|| commit(&b, &[mine(pb, 600)], CommitMode::Sync))?;
    drop(b);
    while held(&a) != 2 {
        anyhow::ensure!(Instant::now() < deadline, "the partition never came back");
        let _ = tokio::time::timeout(Duration::from_millis(200), a.recv()).await;
    }
    // A's batch, its outputs sent at last.
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        commit_since(
            &a,
            &[mine(pa, 151), mine(pb, 151)],
            &read_at,
            CommitMode::Sync,
        )?;
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, pa);
        list.add_partition(topic, pb);
        let committed = a.committed_offsets(list, Duration::from_secs(10))?;
        let at = |p: i32| {
            committed
                .elements()
                .iter()
                .find(|e| e.partition() == p)
                .map(|e| e.offset())
        };
        assert_eq!(
            at(pb),
            Some(Offset::Offset(600)),
            "the partition B read on keeps B's offset"
        );
        Ok(())
    })?;
    Ok(())
}

/// An asynchronous commit's failure reaches the consumer context's commit
/// callback, which counts it (`kindred_component_errors_total
/// {error_type="kafka_commit"}`): rust-rdkafka's own asynchronous commit
/// named no reply queue, so every failure went unseen (a coordinator down
/// for twenty minutes raised no alert). One that succeeds counts nothing
/// and lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asynchronous_commit_that_fails_is_counted() -> anyhow::Result<()> {
    use kindred_kafka::consumer::{commit_list, subscribe, CommitMode};
    use kindred_kafka::rdkafka::consumer::Consumer;
    use kindred_kafka::rdkafka::{Offset, TopicPartitionList};
    use kindred_kafka::ServiceContext;
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("commit_failed", dir.path());
    create_topics(&config).await?;
    let settings = kafka_settings(&config);
    let topic = config.topics.canonical.as_str();
    let failures = Arc::new(AtomicU64::new(0));
    let counted = failures.clone();
    let consumer = subscribe(
        &settings,
        &format!("{}.commit-failed", config.kafka.group_prefix),
        &[topic],
        ServiceContext::committed(|_| {}).with_commit_failures(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        }),
        None,
    )?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let held = || consumer.assignment().map(|l| l.count()).unwrap_or(0);
    while held() == 0 && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await;
    }
    anyhow::ensure!(held() > 0, "never assigned");
    let mut good = TopicPartitionList::new();
    good.add_partition_offset(topic, 0, Offset::Offset(7))?;
    commit_list(&consumer, &good, CommitMode::Async)?;
    // A partition the topic does not have: the broker refuses it.
    let mut bad = TopicPartitionList::new();
    bad.add_partition_offset(topic, 9_999, Offset::Offset(1))?;
    commit_list(&consumer, &bad, CommitMode::Async)?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while failures.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await;
    }
    // Served a little longer: nothing more is counted.
    for _ in 0..5 {
        let _ = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await;
    }
    assert_eq!(
        failures.load(Ordering::SeqCst),
        1,
        "the refused commit, once"
    );
    let mut list = TopicPartitionList::new();
    list.add_partition(topic, 0);
    let committed =
        tokio::task::block_in_place(|| consumer.committed_offsets(list, Duration::from_secs(10)))?;
    assert_eq!(
        committed.elements().first().map(|e| e.offset()),
        Some(Offset::Offset(7)),
        "the other commit landed"
    );
    Ok(())
}

/// A resolver sending a dead letter the dead-letter topic does not take
/// (gone, or refusing writes) for minutes keeps polling, its partitions
/// paused, as it does while it waits on the registry: it did not, and left
/// its group past `max.poll.interval.ms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_waiting_to_dead_letter_stays_in_its_group() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("dead-letter-wait", dir.path());
    kindred_suite::leaves_its_group_unpolled_for_7s(&mut config);
    create_topics(&config).await?;
    let Running {
        health,
        metrics,
        shutdown,
        task,
    } = spawn_resolver(&config).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !health.is_ready() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(health.is_ready(), "the resolver holds its partitions");
    kindred_suite::delete_topic(&config, &config.topics.dead_letter).await?;
    // A message no decoder reads: a dead letter, which cannot be written.
    produce(
        &config,
        &config.topics.canonical,
        "junk",
        b"not a canonical event".to_vec(),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(22)).await;
    assert!(!task.is_finished(), "the resolver waits, running");
    create_topics(&config).await?;
    read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(120),
        |m| !m.is_empty(),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let count = |event: &str| metrics.rebalances.with_label_values(&[event]).get();
    let (revoked, assigned) = (count("revoked"), count("assigned"));
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), task).await???;
    assert_eq!(revoked, 0, "no partition lost while waiting");
    assert_eq!(assigned, 1, "one assignment: the group never rebalanced");
    Ok(())
}

/// A resolver stopped while its publisher keeps failing (the profile
/// topic takes no change) stops it too: the publisher thread outlived the
/// resolver, holding the store (reopening it in the process failed on
/// RocksDB's lock) and a transactional producer, still retrying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_resolver_stops_its_failing_publisher() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("publisher-stop", dir.path());
    config.shutdown.timeout_secs = 2;
    create_topic_taking(&config, &config.topics.profiles, 64).await?;
    create_topics(&config).await?;
    let Running {
        metrics,
        shutdown,
        task,
        ..
    } = spawn_resolver(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    send(&config, &codec, &events(1)[0]).await?;
    let failed = |m: &kindred_ops::Metrics| m.transactions.with_label_values(&["aborted"]).get();
    let deadline = Instant::now() + Duration::from_secs(60);
    while failed(&metrics) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed(&metrics) > 0, "the publisher fails");
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    // The publisher stops at once, or when the Kafka call it is in returns
    // (a commit and an abort, each within the producer's 30 s timeout):
    // then nothing holds the store. (It retried for ever.)
    let deadline = Instant::now() + Duration::from_secs(120);
    let reopened = loop {
        match kindred_pipeline::privacy::open_store(&config) {
            Ok(store) => break Ok(store),
            Err(e) if Instant::now() >= deadline => break Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    reopened?;
    Ok(())
}

/// Creates `topic` (compacted, one partition) taking records of at most
/// `max_message_bytes`, as an operator may set it.
async fn create_topic_taking(
    config: &kindred_config::Config,
    topic: &str,
    max_message_bytes: usize,
) -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(config).client_config(&[]).create()?;
    let limit = max_message_bytes.to_string();
    let profiles = NewTopic::new(topic, 1, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact")
        .set("max.message.bytes", &limit);
    for result in admin
        .create_topics(&[profiles], &AdminOptions::new())
        .await?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    // The create may return before the broker answers for the topic's
    // settings: wait until it does, as a topic made long ago would.
    let settings = kafka_settings(config);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match kindred_kafka::topic_setting(&settings, topic, "max.message.bytes").await {
            Ok(Some(v)) if v == limit => return Ok(()),
            _ if std::time::Instant::now() >= deadline => {
                anyhow::bail!("the broker never reported {topic}'s max.message.bytes")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A member commits only the partitions it holds. Ingest commits a batch's
/// offsets after its outputs are acknowledged; a partition revoked in the
/// meantime (a cooperative rebalance) was committed too, and the broker
/// takes any partition under a current member and generation: the offset
/// went back past what its new owner had committed, and that owner's next
/// start read the difference again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_leaves_the_partitions_another_member_holds() -> anyhow::Result<()> {
    use kindred_kafka::consumer::{commit, CommitMode};
    use kindred_kafka::rdkafka::consumer::Consumer;
    use kindred_kafka::rdkafka::{Offset, TopicPartitionList};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("commit_held", dir.path());
    let topic = config.topics.canonical.as_str();
    two_partitions(&config, topic).await?;
    let member = || group_member(&config, "commit-held", topic);
    let (a, b) = (member()?, member()?);
    let held = |c: &kindred_kafka::consumer::ServiceConsumer| -> Vec<i32> {
        c.assignment()
            .map(|l| l.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default()
    };
    // Polled in turn until the group gave each member one partition.
    let deadline = Instant::now() + Duration::from_secs(90);
    while held(&a).len() != 1 || held(&b).len() != 1 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the group never split: {:?} / {:?}",
            held(&a),
            held(&b)
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), a.recv()).await;
        let _ = tokio::time::timeout(Duration::from_millis(200), b.recv()).await;
    }
    let (pa, pb) = (held(&a)[0], held(&b)[0]);
    let mine = |p: i32, o: i64| (topic.to_string(), p, o);
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        commit(&b, &[mine(pb, 600)], CommitMode::Sync)?;
        // A batch of A's that still held B's partition when it was read.
        commit(&a, &[mine(pa, 151), mine(pb, 151)], CommitMode::Sync)?;
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, pa);
        list.add_partition(topic, pb);
        let committed = b.committed_offsets(list, Duration::from_secs(10))?;
        let at = |p: i32| {
            committed
                .elements()
                .iter()
                .find(|e| e.partition() == p)
                .map(|e| e.offset())
        };
        assert_eq!(at(pa), Some(Offset::Offset(151)), "A's own partition");
        assert_eq!(
            at(pb),
            Some(Offset::Offset(600)),
            "B's partition, as B left it"
        );
        Ok(())
    })?;
    Ok(())
}

/// A ksqlDB table or a Kafka Streams lookup keyed by profile id computes
/// the partition with murmur2: with `[kafka.client] partitioner =
/// "murmur2_random"` each profile lands there. The store records the
/// partitioner it published with, and a publisher configured with another
/// refuses to start: an erased person's tombstone must land on the
/// partition of the records it removes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_land_where_java_clients_look_and_the_partitioner_never_changes_silently(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("murmur2", &dir.path().join("live"));
    config
        .kafka
        .client
        .insert("partitioner".into(), "murmur2_random".into());
    create_topics(&config).await?;
    let partitions = config.topics.partitions;
    anyhow::ensure!(partitions > 1, "one partition would prove nothing");
    let mut resolver = Resolver::new(Store::open(dir.path().join("live"))?);
    resolver.apply(&events(24), &[])?;
    publish(&config, resolver.shared_store()).await?;
    let records = kindred_kafka::consumer::read_to_end(
        &kafka_settings(&config),
        &config.topics.profiles,
        Duration::from_secs(60),
    )?;
    assert_eq!(records.len(), 24);
    let misplaced: Vec<_> = records
        .iter()
        .filter_map(|(partition, key, _)| {
            let key = key.as_deref()?;
            // librdkafka's murmur2, which places keys as Java's does
            // (kindred_kafka::placement's tests hold Kafka's own vectors).
            let java = kindred_kafka::placement::keyed_partition("murmur2", key, partitions)?;
            (*partition != java)
                .then(|| (String::from_utf8_lossy(key).into_owned(), *partition, java))
        })
        .collect();
    assert!(
        misplaced.is_empty(),
        "(key, partition, Java's partition): {misplaced:?}"
    );
    assert!(records.iter().all(|(_, key, _)| key.is_some()));

    // The same store under librdkafka's default partitioner: refused.
    let mut default = config.clone();
    default.kafka.client.remove("partitioner");
    let refused = refused_start(
        &default,
        resolver.shared_store(),
        "a changed partitioner was taken",
    )
    .await?;
    assert!(
        refused.contains("\"consistent_random\" is not \"murmur2_random\""),
        "{refused}"
    );

    // A store rebuilt from the topics under the default partitioner goes
    // on with the topic's: it recorded the one it was configured with, and
    // the rebuilt resolver's tombstones of the old ids, placed by CRC32,
    // missed the records they were to remove.
    let mut rebuilt = default.clone();
    rebuilt.resolver.data_dir = dir.path().join("rebuilt");
    let report =
        kindred_pipeline::state::rebuild(&rebuilt, Duration::from_secs(30), None, false).await?;
    assert!(
        report.contains(
            "placed by partitioner \"murmur2_random\", not the configured \"consistent_random\""
        ),
        "{report}"
    );
    let store = Resolver::new(kindred_pipeline::privacy::open_store(&rebuilt)?).shared_store();
    let refused = refused_start(
        &rebuilt,
        store.clone(),
        "the rebuilt store took the configured partitioner",
    )
    .await?;
    assert!(
        refused.contains("\"consistent_random\" is not \"murmur2_random\""),
        "{refused}"
    );
    // Under the topic's partitioner the rebuilt store publishes (no event
    // was replayed: it is no lost volume) a tombstone for each old id, on
    // the partition of the record it removes.
    publish(&config, store).await?;
    let records = kindred_kafka::consumer::read_to_end(
        &kafka_settings(&config),
        &config.topics.profiles,
        Duration::from_secs(60),
    )?;
    let mut placed: std::collections::BTreeMap<Vec<u8>, Vec<(i32, bool)>> = Default::default();
    for (partition, key, payload) in &records {
        if let Some(key) = key {
            placed
                .entry(key.clone())
                .or_default()
                .push((*partition, payload.is_empty()));
        }
    }
    assert_eq!(placed.len(), 24);
    for (key, records) in &placed {
        let key = String::from_utf8_lossy(key);
        assert!(
            records.iter().any(|(_, tombstone)| *tombstone),
            "{key}: {records:?}"
        );
        assert!(
            records.iter().all(|(p, _)| *p == records[0].0),
            "{key}: {records:?}"
        );
    }
    Ok(())
}

/// A resolver fenced by a second one on its transactional id exits, and
/// its restart must not fence the other back: the restarted store's
/// publisher started as a new store's, fenced the running one, and the two
/// took turns, each giving profile ids the other gave too. It is refused
/// before its producer is initialised (the running one goes on), naming
/// the other store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_published_over_by_another_does_not_fence_it_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("replaced", &dir.path().join("a"));
    create_topics(&config).await?;
    let mut a = Resolver::new(Store::open(dir.path().join("a"))?);
    a.apply(&events(3), &[])?;
    publish(&config, a.shared_store()).await?;

    let mut second = config.clone();
    second.resolver.data_dir = dir.path().join("b");
    second.resolver.allow_new_store = true;
    let mut b = Resolver::new(Store::open(dir.path().join("b"))?);
    b.apply(&events(2), &[])?;
    let running = start_publisher(&second, b.shared_store()).await??;
    let b_id = b.store().store_id()?;
    read_until(
        &config,
        &config.topics.profiles,
        Duration::from_secs(60),
        |m| m.len() >= 5,
    )
    .await?;

    let refused = refused_start(
        &config,
        a.shared_store(),
        "the replaced store started publishing",
    )
    .await?;
    assert!(
        refused.contains(&format!("published from another store (id {b_id}")),
        "{refused}"
    );
    // The running one was not fenced: it publishes what comes next.
    b.apply(&events(4), &[])?;
    assert!(
        running
            .finish(Instant::now() + Duration::from_secs(60))
            .await?,
        "the running publisher was fenced"
    );
    assert_eq!(profile_topic(&config)?.len(), 7);
    Ok(())
}

/// The profile and review topics `kindred topics create` makes clear an
/// erased person's earlier records within the deadline and keep the
/// tombstones for consumers that were away; a profile topic made by hand
/// without those settings is named, with the command that fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_topic_that_would_keep_erased_records_is_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("compaction", dir.path());
    create_topics(&config).await?;
    let settings = kafka_settings(&config);
    // The broker may answer for a new topic's settings a moment late.
    let deadline = Instant::now() + Duration::from_secs(60);
    let problems = loop {
        let problems =
            kindred_pipeline::topics::erasure_compaction_problems(&config, &settings).await;
        if problems.is_empty() || Instant::now() >= deadline {
            break problems;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(problems.is_empty(), "{problems:?}");

    let mut by_hand = config.clone();
    by_hand.topics.profiles = format!("{}.by-hand", config.topics.profiles);
    create_topic_taking(&by_hand, &by_hand.topics.profiles, 1 << 20).await?;
    let problems = kindred_pipeline::topics::erasure_compaction_problems(&by_hand, &settings).await;
    let named: Vec<&String> = problems
        .iter()
        .filter(|p| p.contains(&by_hand.topics.profiles))
        .collect();
    assert_eq!(named.len(), 2, "{problems:?}");
    assert!(
        named.iter().any(|p| p.contains("max.compaction.lag.ms")
            && p.contains("--add-config max.compaction.lag.ms=604800000")),
        "{named:?}"
    );
    assert!(
        named
            .iter()
            .any(|p| p.contains("delete.retention.ms=86400000")),
        "{named:?}"
    );
    Ok(())
}

/// The configuration of a test's lost store (`<dir>/lost`), its topics
/// made, and the codec its events are written with.
async fn lost_store_topics(
    test: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(kindred_config::Config, WireCodec)> {
    let config = isolated_config(test, &dir.join("lost"));
    create_topics(&config).await?;
    Ok((config, WireCodec::with_default_ids()?))
}

/// A rebuild applies again an erasure request its audit topic does not
/// cover (audited by an older release, or aged out), timed as the running
/// resolver times it: by the record when the request does not say. It was
/// timed 0, which made its suppressions last for good: a recycled phone's
/// next owner, two years on, was dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_times_a_request_without_a_time_by_its_record() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config, codec) = lost_store_topics("rebuild_request_time", dir.path()).await?;
    let phone = Identifier::new(IdentifierKind::Phone, "+8613924681357");
    send(
        &config,
        &codec,
        &CanonicalEvent::new("pos:ann", Channel::Pos, T0, vec![phone.clone()]),
    )
    .await?;
    produce(
        &config,
        &config.topics.erasure_requests,
        "DSR-OLD",
        br#"{"request_id":"DSR-OLD","requested_by":"dpo","phone":"+86 139 2468 1357"}"#.to_vec(),
    )
    .await?;
    let sent_ms = kindred_pipeline::admin::now_ms();
    let mut rebuilt_config = config.clone();
    rebuilt_config.resolver.data_dir = dir.path().join("rebuilt");
    let report =
        kindred_pipeline::state::rebuild(&rebuilt_config, Duration::from_secs(30), None, false)
            .await?;
    assert!(
        report.contains("1 by identifier re-applied (1 erased someone)"),
        "{report}"
    );
    let mut rebuilt = Resolver::new(kindred_pipeline::privacy::open_store(&rebuilt_config)?);
    assert!(rebuilt.store().lookup(&phone)?.is_none(), "Ann is erased");
    // The number's next owner, past a phone's 730-day window from the
    // request's record.
    let later = sent_ms + 731 * 86_400_000;
    let next_owner = CanonicalEvent::new("pos:bo", Channel::Pos, later, vec![phone.clone()]);
    rebuilt.apply(&[next_owner], &[])?;
    assert!(
        rebuilt.store().lookup(&phone)?.is_some(),
        "the number's next owner was dropped: the suppression lasts for good"
    );
    Ok(())
}

/// A canonical topic whose head was removed (retention, delete-records)
/// holds part of the history: a rebuild from it lacked everyone whose
/// events were gone and tombstoned them downstream, reporting success. It
/// is refused, naming the partition and where it starts, unless told to
/// rebuild from what is left (then the report warns).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_a_canonical_topic_missing_its_head_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config, codec) = lost_store_topics("rebuild_truncated", dir.path()).await?;
    let mut at = Vec::new();
    for e in events(3) {
        let payload = codec.encode(SchemaKind::CanonicalEvent, &e)?;
        at.push(produce(&config, &config.topics.canonical, &e.event_id, payload).await?);
    }
    let (partition, offset) = at[0];
    kindred_suite::delete_records(&config, &config.topics.canonical, partition, offset + 1).await?;
    let mut rebuilt_config = config.clone();
    rebuilt_config.resolver.data_dir = dir.path().join("rebuilt");
    let refused =
        kindred_pipeline::state::rebuild(&rebuilt_config, Duration::from_secs(30), None, false)
            .await
            .expect_err("part of the history is gone");
    let said = refused.to_string();
    assert!(
        said.contains(&format!(
            "partition {partition} starts at offset {}",
            offset + 1
        )) && said.contains("--from-what-is-left"),
        "{said}"
    );
    assert!(
        !rebuilt_config.resolver.data_dir.exists(),
        "nothing was made"
    );
    let report =
        kindred_pipeline::state::rebuild(&rebuilt_config, Duration::from_secs(30), None, true)
            .await?;
    assert!(
        report.contains("WARNING: rebuilt from what is left") && report.contains("2 profiles"),
        "{report}"
    );
    Ok(())
}

/// `kindred restore` of `<dir>/snap` into `<dir>/restored`: the restored
/// store's configuration, the command's report and a resolver on it.
async fn restore_snapshot(
    config: &kindred_config::Config,
    dir: &std::path::Path,
) -> anyhow::Result<(kindred_config::Config, String, Resolver)> {
    let mut restored_config = config.clone();
    restored_config.resolver.data_dir = dir.join("restored");
    let report = kindred_pipeline::state::restore(
        &restored_config,
        &dir.join("snap"),
        Duration::from_secs(30),
    )
    .await?;
    let restored = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &restored_config,
        &dir.join("restored"),
    )?);
    Ok((restored_config, report, restored))
}

/// `kindred restore` while the old resolver still runs (a node cut off
/// from its orchestrator, not from Kafka): the restore read the profile
/// topic back, the old resolver published more (a new person's id, a
/// version), and only the restored store's publisher fenced it. That store
/// would give those ids and versions again to other people; its publisher
/// refuses to start instead, saying to stop the old one and restore again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_store_does_not_publish_after_an_old_resolver_that_published_since(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("restore_race", &dir.path().join("live"));
    create_topics(&config).await?;
    let mut old = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &config,
        &dir.path().join("live"),
    )?);
    let all = events(3);
    old.apply(&all[..2], &[])?;
    publish(&config, old.shared_store()).await?;
    old.store().checkpoint(&dir.path().join("snap"))?;
    let (restored_config, _, restored) = restore_snapshot(&config, dir.path()).await?;
    // The old resolver, still running, publishes a new person.
    old.apply(&all[2..], &[])?;
    publish(&config, old.shared_store()).await?;
    let refused = refused_start(
        &restored_config,
        restored.shared_store(),
        "the publisher started",
    )
    .await?;
    assert!(
        refused.contains("the old resolver was still running"),
        "{refused:?}"
    );
    Ok(())
}

/// A restored snapshot re-reads the erasure requests made since it in its
/// own interleaving with the events: one read before the erased person's
/// events finds no one (an e-mail not yet linked to her card), and her
/// card's event came back as a new profile. `kindred restore` now puts the
/// erasures the audit topic lists on the restored store's suppression
/// list first, as a rebuild does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_since_the_snapshot_holds_in_the_restored_store() -> anyhow::Result<()> {
    use kindred_resolver::{ErasureRequest, ErasureTarget};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("restore_erasure", &dir.path().join("live"));
    create_topics(&config).await?;
    let mut resolver = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &config,
        &dir.path().join("live"),
    )?);
    // The snapshot, before Ann's events.
    resolver.store().checkpoint(&dir.path().join("snap"))?;
    let email = Identifier::new(IdentifierKind::Email, "ann.lee@163.com");
    let card = Identifier::new(IdentifierKind::MemberId, "default:88001234");
    let ann = vec![
        CanonicalEvent::new("web:1", Channel::Web, T0, vec![email.clone()]),
        CanonicalEvent::new(
            "pos:1",
            Channel::Pos,
            T0 + 1,
            vec![email.clone(), card.clone()],
        ),
        CanonicalEvent::new("pos:2", Channel::Pos, T0 + 2, vec![card.clone()]),
    ];
    resolver.apply(&ann, &[])?;
    let request = ErasureRequest {
        request_id: "DSR-R1".into(),
        target: ErasureTarget::Identifier(email.clone()),
        requested_by: "dpo".into(),
        at_ms: T0 + 10,
    };
    resolver.erase(&request, &[])?;
    assert!(resolver.store().lookup(&card)?.is_none());
    // Its audit record reaches the audit topic.
    publish(&config, resolver.shared_store()).await?;
    drop(resolver);

    let (_, report, mut restored) = restore_snapshot(&config, dir.path()).await?;
    assert!(
        report.contains("1 erasures' suppression entries carried over"),
        "{report}"
    );
    // The replay: the request first (it finds no one yet), then the events.
    restored.erase(&request, &[])?;
    restored.apply(&ann, &[])?;
    assert!(
        restored.store().lookup(&card)?.is_none(),
        "Ann's card came back"
    );
    assert_eq!(restored.store().stats()?.profiles, 0);
    Ok(())
}

/// A person whose profiles the snapshot holds apart (a card's, a phone's,
/// an e-mail's) and whom an event joined and an erasure removed since: the
/// audit record suppresses that joining event, so the request read again
/// finds the e-mail's profile only, and the card's and the phone's stayed
/// live in the restored store. `kindred restore` now erases every
/// snapshot profile holding an erased event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_erases_the_snapshots_version_of_an_erased_person() -> anyhow::Result<()> {
    use kindred_resolver::{ErasureRequest, ErasureTarget};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("restore_erased_parts", &dir.path().join("live"));
    create_topics(&config).await?;
    let mut resolver = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &config,
        &dir.path().join("live"),
    )?);
    let card = Identifier::new(IdentifierKind::MemberId, "default:77001234");
    let phone = Identifier::new(IdentifierKind::Phone, "+8613924681357");
    let email = Identifier::new(IdentifierKind::Email, "zelda.q@163.com");
    let bo = Identifier::new(IdentifierKind::Email, "bo@163.com");
    let one =
        |id: &str, t: i64, ids: Vec<Identifier>| CanonicalEvent::new(id, Channel::Pos, t, ids);
    let apart = vec![
        one("pos:z1", T0, vec![card.clone()]),
        one("pos:z2", T0 + 1, vec![phone.clone()]),
        one("pos:z3", T0 + 2, vec![email.clone()]),
        one("pos:b1", T0 + 3, vec![bo.clone()]),
    ];
    resolver.apply(&apart, &[])?;
    assert_eq!(resolver.store().stats()?.profiles, 4);
    resolver.store().checkpoint(&dir.path().join("snap"))?;
    // Since the snapshot: one event joins her three profiles; she is erased.
    let joined = one(
        "pos:z4",
        T0 + 4,
        vec![card.clone(), phone.clone(), email.clone()],
    );
    resolver.apply(std::slice::from_ref(&joined), &[])?;
    assert_eq!(resolver.store().stats()?.profiles, 2);
    let request = ErasureRequest {
        request_id: "DSR-R2".into(),
        target: ErasureTarget::Identifier(email.clone()),
        requested_by: "dpo".into(),
        at_ms: T0 + 10,
    };
    resolver.erase(&request, &[])?;
    publish(&config, resolver.shared_store()).await?;
    drop(resolver);

    let (_, report, mut restored) = restore_snapshot(&config, dir.path()).await?;
    // The replay: the events since the snapshot, then the request.
    restored.apply(std::slice::from_ref(&joined), &[])?;
    restored.erase(&request, &[])?;
    for id in [&card, &phone, &email] {
        assert!(
            restored.store().lookup(id)?.is_none(),
            "{} came back",
            id.kind
        );
    }
    assert!(restored.store().lookup(&bo)?.is_some(), "Bo stays");
    assert_eq!(restored.store().stats()?.profiles, 1);
    assert!(
        report.contains("3 snapshot profiles holding erased events erased again"),
        "{report}"
    );
    Ok(())
}

/// A web sign-up by e-mail alone.
fn web_signup(id: &str, email: &str) -> CanonicalEvent {
    CanonicalEvent::new(
        id,
        Channel::Web,
        T0,
        vec![Identifier::new(IdentifierKind::Email, email)],
    )
}

/// A test's topics and a live store in `dir/live` holding two web sign-ups
/// (`web:1`, `web:2`), one per e-mail.
async fn two_web_signups(
    test: &str,
    dir: &std::path::Path,
    emails: [&str; 2],
) -> anyhow::Result<(kindred_config::Config, Resolver)> {
    let config = isolated_config(test, &dir.join("live"));
    create_topics(&config).await?;
    let mut resolver = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &config,
        &dir.join("live"),
    )?);
    resolver.apply(
        &[
            web_signup("web:1", emails[0]),
            web_signup("web:2", emails[1]),
        ],
        &[],
    )?;
    Ok((config, resolver))
}

/// Decisions made since the snapshot are on the decisions topic: a restored
/// store numbered its next decisions from the snapshot's counter, so an
/// offline `review` run before the service started gave a number the topic
/// holds for another decision (a rebuild reading the topic would join the
/// two decisions' sides). `kindred restore` now numbers after the topic's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_store_numbers_decisions_after_the_topics() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config, mut resolver) =
        two_web_signups("restore_decisions", dir.path(), ["ann@x.cn", "bo@x.cn"]).await?;
    resolver.store().checkpoint(&dir.path().join("snap"))?;
    // Since the snapshot: a reviewer keeps the two apart (decision 1).
    let ids: Vec<String> = ["ann@x.cn", "bo@x.cn"]
        .iter()
        .map(|e| {
            resolver
                .store()
                .lookup(&Identifier::new(IdentifierKind::Email, *e))
                .map(|p| p.map(|p| p.profile_id).unwrap_or_default())
        })
        .collect::<Result<_, _>>()?;
    resolver.review(&ids[0], &ids[1], false, "bob", T0 + 5)?;
    publish(&config, resolver.shared_store()).await?;
    drop(resolver);
    anyhow::ensure!(
        kindred_pipeline::state::highest_decision_on_topic(&config, Duration::from_secs(30))? == 1,
        "the decision reached the topic"
    );

    let (_, report, mut restored) = restore_snapshot(&config, dir.path()).await?;
    assert!(report.contains("decisions numbered after 1"), "{report}");
    assert!(
        report.contains("decisions made since the snapshot carried"),
        "{report}"
    );
    assert!(
        !restored.number_decisions_after(1)?,
        "the restored store would number its next decision 1 again"
    );
    // The reject is the restored store's too: a record carrying both
    // e-mails does not merge the pair (the snapshot did not hold it).
    let mut both = web_signup("web:3", "ann@x.cn");
    both.identifiers
        .push(Identifier::new(IdentifierKind::Email, "bo@x.cn"));
    restored.apply(&[both], &[])?;
    assert_eq!(
        restored.store().stats()?.profiles,
        2,
        "the rejected pair stays apart"
    );
    Ok(())
}

/// A decision the snapshot holds but had not published (the publisher
/// lagging) is newer than the decisions topic's list for its events:
/// restore carried the topic's older list over it, undoing the newer
/// decision (a reviewer's approval after an earlier reject split the pair
/// again). Only lists naming a decision the snapshot does not know are
/// carried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_keeps_a_decision_the_snapshot_made_after_the_topics() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config, mut resolver) = two_web_signups(
        "restore_newer_decision",
        dir.path(),
        ["ann@x.cn", "ann.lee@x.cn"],
    )
    .await?;
    let id_of = |r: &Resolver, e: &str| -> anyhow::Result<String> {
        Ok(r.store()
            .lookup(&Identifier::new(IdentifierKind::Email, e))?
            .map(|p| p.profile_id)
            .unwrap_or_default())
    };
    let (a, b) = (
        id_of(&resolver, "ann@x.cn")?,
        id_of(&resolver, "ann.lee@x.cn")?,
    );
    // A reviewer keeps them apart (published), then, on second thought,
    // joins them (not yet published when the snapshot is taken).
    resolver.review(&a, &b, false, "bob", T0 + 5)?;
    publish(&config, resolver.shared_store()).await?;
    resolver.review(&a, &b, true, "bob", T0 + 6)?;
    assert_eq!(resolver.store().stats()?.profiles, 1, "approved");
    resolver.store().checkpoint(&dir.path().join("snap"))?;
    drop(resolver);
    let (_, report, restored) = restore_snapshot(&config, dir.path()).await?;
    assert_eq!(
        restored.store().stats()?.profiles,
        1,
        "the approval stands: {report}"
    );
    Ok(())
}

/// The profile topic as a consumer reads it: each record's key and change
/// (`None`: a tombstone), each key's records in the order written.
fn profile_records(
    config: &kindred_config::Config,
) -> anyhow::Result<Vec<(String, Option<ProfileChange>)>> {
    let codec = WireCodec::with_default_ids()?;
    kindred_kafka::consumer::read_to_end(
        &kafka_settings(config),
        &config.topics.profiles,
        Duration::from_secs(60),
    )?
    .into_iter()
    .map(|(_, key, payload)| {
        let key = String::from_utf8(key.unwrap_or_default())?;
        if payload.is_empty() {
            return Ok((key, None));
        }
        let change = codec.decode(Framing::Confluent, SchemaKind::ProfileChange, &payload)?;
        Ok((key, Some(change)))
    })
    .collect()
}

/// A restored store replays the events since its snapshot, which the lost
/// store had already published. It numbered new people again from the
/// snapshot's counter (an id the topic holds, for whoever the replay's
/// interleaving reaches first) and versions from the snapshot's, so a
/// consumer keeping the highest version per id ignored the replay's
/// changes. `kindred restore` now reads the topic back: ids after its
/// highest, versions after its own, a tombstone for an id it does not hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_store_continues_the_profile_topic_ids_and_versions() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("restore_ids", &dir.path().join("live"));
    create_topics(&config).await?;
    let mut live = Resolver::new(kindred_pipeline::privacy::open_store_at(
        &config,
        &dir.path().join("live"),
    )?);
    // The canonical topic's position the store reflects (a store with none
    // is an empty one to the publisher).
    let at = |next_offset: i64| {
        vec![kindred_resolver::SourceOffset {
            topic: config.topics.canonical.clone(),
            partition: 0,
            next_offset,
        }]
    };
    let mut people = events(3);
    let bo = people.pop().expect("three people");
    live.apply(&people, &at(2))?;
    live.store().checkpoint(&dir.path().join("snap"))?;
    // Since the snapshot: a new person, and another event of the first.
    let mut again = people[0].clone();
    again.event_id = "pos:again".into();
    again.event_time_ms += 100;
    let since = vec![bo, again];
    live.apply(&since, &at(4))?;
    publish(&config, live.shared_store()).await?;
    drop(live);
    // A review pair the lost store raised since the snapshot, naming the
    // profile the restored store will not hold, and one it will.
    for (key, payload) in [
        ("kp-000000000001|kp-000000000003", "{}"),
        ("kp-000000000001|kp-000000000002", "{}"),
    ] {
        produce(
            &config,
            &config.topics.review,
            key,
            payload.as_bytes().to_vec(),
        )
        .await?;
    }

    let (restored_config, report, mut restored) = restore_snapshot(&config, dir.path()).await?;
    assert!(
        report.contains("(3 keys): new profiles numbered from kp-000000000004, 1 versions continued from the topic's, 1 ids this store does not hold tombstoned, 2 changes it already carries dropped from the outbox"),
        "{report}"
    );
    let review_tombstones: Vec<(String, String)> = restored
        .store()
        .outbox()?
        .into_iter()
        .filter_map(|(_, e)| match e {
            kindred_resolver::OutboxEntry::Tombstone(kindred_resolver::Tombstone::Review {
                profile_a,
                profile_b,
            }) => Some((profile_a, profile_b)),
            _ => None,
        })
        .collect();
    assert_eq!(
        review_tombstones,
        [("kp-000000000001".to_string(), "kp-000000000003".to_string())]
    );
    restored.apply(&since, &at(4))?;
    publish(&restored_config, restored.shared_store()).await?;

    // Every id's versions rise, across tombstones too (an id given again
    // would start at 1), and the topic ends with the store's people.
    let mut last: std::collections::BTreeMap<String, Option<ProfileChange>> = Default::default();
    let mut highest: std::collections::BTreeMap<String, i64> = Default::default();
    for (key, change) in profile_records(&config)? {
        if let Some(now) = &change {
            if let Some(before) = highest.get(&key) {
                assert!(
                    now.version > *before,
                    "{key}: version {} after {before}",
                    now.version
                );
            }
            highest.insert(key.clone(), now.version);
        }
        last.insert(key, change);
    }
    let on_topic: std::collections::BTreeSet<String> = last
        .iter()
        .filter(|(_, c)| c.as_ref().is_some_and(|c| c.superseded_by.is_none()))
        .map(|(k, _)| k.clone())
        .collect();
    let held: std::collections::BTreeSet<String> = restored
        .store()
        .assignments()?
        .into_iter()
        .map(|(_, profile)| profile)
        .collect();
    assert_eq!(on_topic, held);
    assert!(held.contains("kp-000000000004"), "{held:?}");
    assert!(!held.contains("kp-000000000003"), "{held:?}");
    Ok(())
}

/// A whole-topic reader (rebuild, restore, the decisions and audit topics)
/// whose partition's head is removed while it reads (retention, or
/// `delete-records`) was moved to the partition's end by librdkafka's
/// default `auto.offset.reset` and returned as if it had read everything:
/// a rebuild then lacked the rest of the partition and tombstoned those
/// people downstream. The read fails instead.
#[test]
fn a_whole_topic_read_whose_head_is_removed_meanwhile_fails() -> anyhow::Result<()> {
    use kindred_kafka::{OutRecord, Producer};
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("head_removed_mid_read", dir.path());
    runtime.block_on(create_topics(&config))?;
    // A topic of `cleanup.policy=delete`: a compacted one refuses
    // delete-records.
    let topic = config.topics.canonical.clone();
    // One partition's worth (one key), fetched a record at a time, so that
    // most of it is still on the broker when the head goes.
    let records: Vec<OutRecord> = (0..600)
        .map(|i| OutRecord {
            topic: topic.clone(),
            key: Some(b"one-key".to_vec()),
            payload: format!("{i:01024}").into_bytes(),
            headers: Vec::new(),
            timestamp_ms: None,
        })
        .collect();
    // Batches of a record or two: a fetch returns whole batches.
    let mut small_batches = config.clone();
    small_batches
        .kafka
        .client
        .insert("batch.size".into(), "2048".into());
    small_batches
        .kafka
        .client
        .insert("linger.ms".into(), "0".into());
    let producer = Producer::new(&kafka_settings(&small_batches))?;
    let at = runtime.block_on(producer.send_each(&records));
    let (partition, first) = at[0]
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_owned();
    for (key, value) in [
        ("max.partition.fetch.bytes", "1024"),
        ("fetch.max.bytes", "1024"),
        ("message.max.bytes", "1024"),
        ("queued.max.messages.kbytes", "1"),
    ] {
        config.kafka.client.insert(key.into(), value.into());
    }
    let mut read = 0usize;
    let result = kindred_kafka::consumer::read_each(
        &kafka_settings(&config),
        &topic,
        Duration::from_secs(20),
        |(p, _, _)| {
            if p != partition {
                return;
            }
            read += 1;
            if read == 1 {
                runtime
                    .block_on(kindred_suite::delete_records(
                        &config,
                        &topic,
                        partition,
                        first + 300,
                    ))
                    .expect("delete records");
            }
        },
    );
    let error = match result {
        Ok(()) => panic!("the read returned as complete after {read} of the partition's records"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("removed from the log meanwhile"), "{error}");
    Ok(())
}

/// While a service waits with its partitions paused (the registry down,
/// the outbox full), the lag gauge follows what arrives: librdkafka learns
/// a partition's end from its fetches only and fetches no paused
/// partition, so the lag its statistics gave stood still through an
/// outage, and the lag alerts could not fire. The ends asked of the
/// broker (`note_log_ends`, which a paused wait calls) are added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lag_of_paused_partitions_counts_what_arrives() -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::consumer::Consumer;
    let dir = tempfile::tempdir()?;
    let config = isolated_config("paused_lag", dir.path());
    create_topics(&config).await?;
    let topic = config.topics.canonical.clone();
    for i in 0..10 {
        produce(&config, &topic, &format!("k{i}"), b"x".to_vec()).await?;
    }
    let reported: Arc<std::sync::Mutex<Vec<kindred_kafka::PartitionLag>>> = Arc::default();
    let lags = reported.clone();
    let context = kindred_kafka::ServiceContext::committed(|_| {}).with_lag(move |l| {
        *lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = l.to_vec();
    });
    let consumer = kindred_kafka::consumer::subscribe(
        &kafka_settings(&config),
        &format!("{}.paused", config.kafka.group_prefix),
        &[&topic],
        context,
        None,
    )?;
    // Read what is there (librdkafka knows the partitions' ends), then
    // pause everything, as a service's wait does.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut read = 0;
    while read < 10 {
        anyhow::ensure!(Instant::now() < deadline, "read {read} of 10");
        if let Ok(m) = tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await {
            m?;
            read += 1;
        }
    }
    let assigned = consumer.assignment()?;
    consumer.pause(&assigned)?;
    let later: Vec<kindred_kafka::OutRecord> = (0..200)
        .map(|i| kindred_kafka::OutRecord {
            topic: topic.clone(),
            key: Some(format!("later{i}").into_bytes()),
            payload: b"x".to_vec(),
            headers: Vec::new(),
            timestamp_ms: None,
        })
        .collect();
    kindred_kafka::Producer::new(&kafka_settings(&config))?
        .send_all(&later)
        .await?;
    let partitions: Vec<(String, i32)> = assigned
        .elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect();
    tokio::task::block_in_place(|| {
        kindred_kafka::consumer::note_log_ends(&consumer, partitions, Duration::from_secs(10))
    });
    let total = || -> i64 {
        reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|l| l.messages)
            .sum()
    };
    // The next statistics (every 5 s) carry it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while total() < 200 && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await;
    }
    let reported_now = reported
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert_eq!(total(), 200, "what arrived while paused: {reported_now:?}");
    Ok(())
}

/// A transaction holds at most `resolver.transaction_max_bytes` of keys
/// and values (one record at least), whatever its record count allows:
/// 5,000 large profile changes held gigabytes in one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_holds_at_most_its_byte_budget() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("txn_bytes", &dir.path().join("live"));
    config.resolver.transaction_max_bytes = 1;
    create_topics(&config).await?;
    let mut resolver = Resolver::new(Store::open(dir.path().join("live"))?);
    resolver.apply(&events(4), &[])?;
    let metrics = kindred_ops::Metrics::new("test");
    let publisher = {
        let (c, store, m) = (config.clone(), resolver.shared_store(), metrics.clone());
        let codec = Arc::new(WireCodec::with_default_ids()?);
        tokio::task::spawn_blocking(move || {
            Publisher::start(&c, &kafka_settings(&c), store, codec, m)
        })
        .await??
    };
    anyhow::ensure!(
        publisher
            .finish(Instant::now() + Duration::from_secs(60))
            .await?,
        "the outbox was not drained within 60 s"
    );
    assert_eq!(profile_topic(&config)?.len(), 4);
    assert_eq!(
        metrics.transactions.with_label_values(&["committed"]).get(),
        4,
        "one record each"
    );
    Ok(())
}
