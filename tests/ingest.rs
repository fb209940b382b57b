//! Channel ingestion through the real broker: every good event reaches the
//! canonical topic, every bad one the dead-letter topic with the right
//! reason, nothing is lost, and a channel scales out in its consumer group.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kindred_config::Config;
use kindred_gen::{generate, GenOptions, MessRates};
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_kafka::{DeadLetter, OutRecord, Producer};
use kindred_model::raw::RawEvent;
use kindred_model::{CanonicalEvent, Channel};
use kindred_pipeline::services::deadletter::{replay, ReplayFilter};
use kindred_pipeline::services::{ingest, kafka_settings, Ops};
use kindred_pipeline::topics::raw_topic;
use kindred_pipeline::{encode_raw, Shutdown};
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::{create_topics, headers, isolated_config, read_all, read_some, read_until};
use tokio::task::JoinHandle;

type Key = (String, i32, i64);

/// Starts ingest instances (`n` of each channel) and waits until every one
/// has joined its group and holds partitions; returns them with their tasks.
async fn start_ingest(
    config: &Config,
    per_channel: &[(Channel, usize)],
    shutdown: &Shutdown,
) -> anyhow::Result<Vec<(Channel, JoinHandle<anyhow::Result<Ops>>)>> {
    let mut tasks = Vec::new();
    let mut health = Vec::new();
    for &(channel, n) in per_channel {
        for _ in 0..n {
            let ops = Ops::start(config, &format!("ingest-{channel}")).await?;
            health.push(ops.health.clone());
            let (config, shutdown) = (config.clone(), shutdown.clone());
            tasks.push((
                channel,
                tokio::spawn(async move {
                    ingest::run(&config, channel, &ops, shutdown).await?;
                    Ok(ops)
                }),
            ));
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !health.iter().all(|h| h.is_ready()) {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "ingest instances not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(tasks)
}

/// Stops ingest instances started by [`start_ingest`]; returns their ops.
async fn stop(
    shutdown: &Shutdown,
    tasks: Vec<(Channel, JoinHandle<anyhow::Result<Ops>>)>,
) -> anyhow::Result<Vec<Ops>> {
    shutdown.trigger();
    let mut out = Vec::with_capacity(tasks.len());
    for (_, t) in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// The first event on the canonical topic.
async fn first_canonical(config: &Config, codec: &WireCodec) -> anyhow::Result<CanonicalEvent> {
    let canonical = read_some(config, &config.topics.canonical).await?;
    Ok(codec.decode(
        Framing::Confluent,
        SchemaKind::CanonicalEvent,
        canonical[0].payload().unwrap_or_default(),
    )?)
}

/// Produces records and returns where each landed.
async fn produce_all(config: &Config, records: &[OutRecord]) -> anyhow::Result<Vec<Key>> {
    let producer = Producer::new(&kafka_settings(config))?;
    let mut at = Vec::with_capacity(records.len());
    for chunk in records.chunks(1000) {
        let sends = chunk.iter().map(|r| producer.send(r));
        for (r, res) in chunk
            .iter()
            .zip(futures_util::future::join_all(sends).await)
        {
            let (p, o) = res?;
            at.push((r.topic.clone(), p, o));
        }
    }
    Ok(at)
}

fn record(topic: &str, key: &str, payload: Vec<u8>) -> OutRecord {
    OutRecord {
        topic: topic.to_string(),
        key: Some(key.as_bytes().to_vec()),
        payload,
        headers: vec![],
        timestamp_ms: None,
    }
}

/// The i-th way of corrupting `good` (a valid message of `channel`), and the
/// dead-letter reason it must get.
fn corrupt(i: usize, good: &[u8], event: &RawEvent, codec: &WireCodec) -> (Vec<u8>, &'static str) {
    let channel = event.channel();
    match i % 9 {
        0 => (
            br#"{"transaction_id": "T1", "amount": 5}"#.to_vec(),
            "wrong_magic_byte",
        ),
        1 => (good[..good.len() / 2].to_vec(), "malformed_body"),
        2 => {
            let mut b = good.to_vec();
            b[1..5].copy_from_slice(&999u32.to_be_bytes());
            (b, "unknown_schema_id")
        }
        3 => {
            // A record of another channel's schema on this channel's topic.
            let other = if channel == Channel::Pos { 2u32 } else { 1u32 };
            let mut b = good.to_vec();
            b[1..5].copy_from_slice(&other.to_be_bytes());
            (b, "unexpected_schema")
        }
        4 => {
            let mut b = good.to_vec();
            b.extend_from_slice(&[7, 7, 7]);
            (b, "trailing_bytes")
        }
        5 => (Vec::new(), "empty"),
        6 => {
            let mut b = good[..5].to_vec();
            b.resize(5_000, 0x41);
            (b, "oversized")
        }
        7 => (vec![0, 0, 0], "truncated"),
        _ => {
            // Well-formed Avro of the right schema, but no source event id.
            let mut e = event.clone();
            match &mut e {
                RawEvent::Pos(p) => p.transaction_id.clear(),
                RawEvent::Web(w) => w.event_id.clear(),
                RawEvent::Social(s) => s.event_id = " ".into(),
            }
            (encode_raw(codec, &e).expect("encodes"), "missing_source_id")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_mixed_events_with_five_percent_corrupt_all_accounted_for(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("ingest10k", dir.path());
    config.schemas.max_message_bytes = 4_096;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;

    // The default mess (format variants, typos, junk values, late events)
    // but no repeated deliveries: this test counts every record once.
    let generated = generate(&GenOptions {
        people: 4_000,
        mess: MessRates {
            duplicate_delivery: 0.0,
            ..MessRates::default()
        },
        ..GenOptions::default()
    });
    assert!(
        generated.len() >= 9_500,
        "generator gave {}",
        generated.len()
    );
    let mut records = Vec::new();
    let mut expected_good = BTreeSet::new();
    let mut bad_reasons = Vec::new();
    for (i, g) in generated.iter().take(10_000).enumerate() {
        let channel = g.event.channel();
        let topic = raw_topic(&config, channel);
        let good = encode_raw(&codec, &g.event)?;
        if i % 20 == 7 {
            // 5%: corrupted in nine different ways.
            let (bad, reason) = corrupt(i / 20, &good, &g.event, &codec);
            bad_reasons.push((records.len(), reason));
            records.push(record(topic, g.event.source_id(), bad));
        } else {
            expected_good.insert(format!("{}:{}", channel.as_str(), g.event.source_id()));
            records.push(record(topic, g.event.source_id(), good));
        }
    }
    // Two POS instances in one group split the POS partitions: both have
    // joined and hold partitions before the data arrives.
    let shutdown = Shutdown::new();
    let tasks = start_ingest(
        &config,
        &[(Channel::Pos, 2), (Channel::Web, 1), (Channel::Social, 1)],
        &shutdown,
    )
    .await?;

    let produced = produce_all(&config, &records).await?;
    let expected_bad: BTreeMap<Key, &str> = bad_reasons
        .iter()
        .map(|(idx, reason)| (produced[*idx].clone(), *reason))
        .collect();
    assert_eq!(records.len(), 10_000);
    assert_eq!(expected_bad.len(), 500);

    let timeout = Duration::from_secs(120);
    read_until(&config, &config.topics.canonical, timeout, |m| {
        m.len() >= expected_good.len()
    })
    .await?;
    read_until(&config, &config.topics.dead_letter, timeout, |m| {
        m.len() >= expected_bad.len()
    })
    .await?;
    shutdown.trigger();
    let mut consumed_by_pos_instance = Vec::new();
    for (channel, task) in tasks {
        let ops = tokio::time::timeout(Duration::from_secs(15), task).await???;
        if channel == Channel::Pos {
            consumed_by_pos_instance.push(
                ops.metrics
                    .events_consumed
                    .with_label_values(&[&config.topics.pos])
                    .get(),
            );
        }
    }
    // Counted once every instance stopped, each topic read to its end (a
    // duplicate or a stray would show as a surplus).
    let canonical_again = read_all(&config, &config.topics.canonical).await?;
    let dead_again = read_all(&config, &config.topics.dead_letter).await?;

    // Every good event exactly once on the canonical topic.
    let got: Vec<String> = canonical_again
        .iter()
        .map(|m| {
            let e: CanonicalEvent = codec
                .decode(
                    Framing::Confluent,
                    SchemaKind::CanonicalEvent,
                    m.payload().unwrap_or_default(),
                )
                .expect("canonical topic holds canonical events");
            e.event_id
        })
        .collect();
    assert_eq!(
        got.len(),
        expected_good.len(),
        "no duplicates, nothing lost"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected_good);

    // Every bad one exactly once in the dead-letter topic, with its reason,
    // its source coordinates, and its bytes intact.
    let mut got_bad: BTreeMap<Key, String> = BTreeMap::new();
    for m in &dead_again {
        let h = headers(m);
        let key = (
            h["kindred.dlq.source.topic"].clone(),
            h["kindred.dlq.source.partition"].parse()?,
            h["kindred.dlq.source.offset"].parse()?,
        );
        let idx = produced
            .iter()
            .position(|p| *p == key)
            .expect("dead letter points at a produced message");
        assert_eq!(
            m.payload().unwrap_or_default(),
            records[idx].payload.as_slice(),
            "original bytes kept"
        );
        assert!(h["kindred.dlq.service"].starts_with("ingest-"));
        got_bad.insert(key, h["kindred.dlq.reason"].clone());
    }
    assert_eq!(dead_again.len(), 500);
    let expected_bad: BTreeMap<Key, String> = expected_bad
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let wrong: Vec<_> = expected_bad
        .iter()
        .filter(|(k, v)| got_bad.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: expected {v}, got {:?}", got_bad.get(k)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} dead letters wrong, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    assert_eq!(got_bad.len(), expected_bad.len());
    assert_eq!(
        canonical_again.len() + dead_again.len(),
        10_000,
        "the counts add up exactly"
    );

    // Both POS instances did work: the group split the partitions.
    assert_eq!(consumed_by_pos_instance.len(), 2);
    assert!(
        consumed_by_pos_instance.iter().all(|n| *n > 0),
        "{consumed_by_pos_instance:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_replay_after_the_fix() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("replay", dir.path());
    create_topics(&config).await?;
    // An old POS system writes pos_transaction.v1 under schema id 77, which
    // kindred is not (yet) configured for; plus a few undecodable messages.
    let mut old_producer_ids = WireCodec::default_ids();
    old_producer_ids.insert("pos_transaction.v1".into(), 77);
    let old_producer = WireCodec::new(old_producer_ids, 1 << 20)?;
    let mut records = Vec::new();
    // An hour ago: within the topics' retention.
    let sent_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64
        - 3_600_000;
    for i in 0..20 {
        let RawEvent::Pos(p) = kindred_suite::raw::pos(
            &format!("OLD-{i}"),
            Some("M-5678"),
            None,
            None,
            1_735_689_600_000 + i,
            1,
        ) else {
            unreachable!()
        };
        // The producer's own headers and timestamp are the message too:
        // the letter and the replay carry them.
        records.push(OutRecord {
            headers: vec![("traceparent".into(), format!("00-{i:032x}-01").into_bytes())],
            timestamp_ms: Some(sent_at + i),
            ..record(
                &config.topics.pos,
                &p.transaction_id,
                old_producer.encode_as("pos_transaction.v1", &p)?,
            )
        });
    }
    for i in 0..5 {
        records.push(record(
            &config.topics.pos,
            &format!("junk-{i}"),
            b"not avro".to_vec(),
        ));
    }
    produce_all(&config, &records).await?;

    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| m.len() >= 25,
    )
    .await?;
    shutdown.trigger();
    for (_, t) in tasks {
        t.await??;
    }

    // The fix: map id 77 to pos_transaction.v1, restart, replay that reason only.
    let mut fixed = config.clone();
    fixed.schemas.ids.insert("pos_transaction.v1".into(), 77);
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&fixed, &[(Channel::Pos, 1)], &shutdown).await?;
    let dry = replay(
        &fixed,
        &ReplayFilter {
            reason: Some("unknown_schema_id".into()),
            dry_run: true,
            ..ReplayFilter::default()
        },
    )
    .await?;
    assert_eq!(dry.replayed.get("unknown_schema_id"), Some(&20));
    let report = replay(
        &fixed,
        &ReplayFilter {
            reason: Some("unknown_schema_id".into()),
            ..ReplayFilter::default()
        },
    )
    .await?;
    assert_eq!((report.read, report.skipped), (25, 5));
    assert_eq!(report.replayed.get("unknown_schema_id"), Some(&20));
    let canonical = read_until(
        &fixed,
        &config.topics.canonical,
        Duration::from_secs(60),
        |m| m.len() >= 20,
    )
    .await?;
    let ids: BTreeSet<String> = canonical
        .iter()
        .map(|m| {
            let e: CanonicalEvent = WireCodec::with_default_ids()
                .expect("codec")
                .decode(
                    Framing::Confluent,
                    SchemaKind::CanonicalEvent,
                    m.payload().unwrap_or_default(),
                )
                .expect("canonical");
            e.event_id
        })
        .collect();
    assert_eq!(ids, (0..20).map(|i| format!("pos:OLD-{i}")).collect());
    // Each replayed message is the one sent: its headers, its timestamp
    // (which the canonical event derived from it carries in a header).
    let stamps: BTreeSet<i64> = canonical
        .iter()
        .filter_map(|m| headers(m).get("kindred.raw.timestamp_ms")?.parse().ok())
        .collect();
    assert_eq!(stamps, (0..20).map(|i| sent_at + i).collect());
    let raw = read_until(&fixed, &config.topics.pos, Duration::from_secs(60), |m| {
        m.len() >= 45
    })
    .await?;
    let replayed: Vec<&OwnedMessage> = raw
        .iter()
        .filter(|m| {
            headers(m).contains_key(kindred_pipeline::services::deadletter::REPLAYED_FROM_HEADER)
        })
        .collect();
    assert_eq!(replayed.len(), 20);
    for m in replayed {
        let h = headers(m);
        assert!(
            h.keys()
                .all(|k| !k.starts_with(kindred_kafka::DLQ_HEADER_PREFIX)),
            "{h:?}"
        );
        let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
        let i: i64 = key.trim_start_matches("OLD-").parse()?;
        assert_eq!(
            h.get("traceparent").map(String::as_str),
            Some(format!("00-{i:032x}-01").as_str())
        );
        assert_eq!(m.timestamp().to_millis(), Some(sent_at + i), "{key}");
    }
    // The same filter again finds nothing new: its position is committed.
    let again = replay(
        &fixed,
        &ReplayFilter {
            reason: Some("unknown_schema_id".into()),
            ..ReplayFilter::default()
        },
    )
    .await?;
    assert_eq!((again.read, again.replayed.values().sum::<u64>()), (0, 0));
    // What it filtered out is still on offer to other filters: an
    // unfiltered run sees all 25 (the 5 junk ones among them).
    let rest = replay(
        &fixed,
        &ReplayFilter {
            dry_run: true,
            ..ReplayFilter::default()
        },
    )
    .await?;
    assert_eq!(rest.read, 25);
    assert_eq!(rest.replayed.values().sum::<u64>(), 25);
    stop(&shutdown, tasks).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_json_channel_is_read_with_the_avro_schema_rules() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("json", dir.path());
    config.schemas.framing.insert("web".into(), "json".into());
    create_topics(&config).await?;
    // A web shop that sends JSON, leaving out optional fields (they take the
    // schema's defaults), and one record with a field of the wrong type.
    let good = br#"{"event_id": "J-1", "event_type": "signup", "email": "Ann@Shop.CN", "event_time": 1735689600000}"#;
    let bad = br#"{"event_id": "J-2", "event_type": "signup", "event_time": "yesterday"}"#;
    // J-1 was written three days ago (a re-ingested backlog).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let written_ms = now_ms - 3 * 86_400_000;
    let records = vec![
        OutRecord {
            timestamp_ms: Some(written_ms),
            ..record(&config.topics.web, "J-1", good.to_vec())
        },
        record(&config.topics.web, "J-2", bad.to_vec()),
    ];
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Web, 1)], &shutdown).await?;
    produce_all(&config, &records).await?;
    let codec = WireCodec::with_default_ids()?;
    let event = first_canonical(&config, &codec).await?;
    assert_eq!(event.event_id, "web:J-1");
    assert_eq!(event.identifiers[0].value, "ann@shop.cn");
    // The canonical record is stamped when ingest wrote it (the canonical
    // topic's retention counts from then); the raw record's time rides in
    // a header, for the resolver's end-to-end lag.
    let canonical = read_some(&config, &config.topics.canonical).await?;
    let stamped = canonical[0].timestamp().to_millis().unwrap_or(0);
    assert!(
        stamped >= now_ms - 60_000,
        "stamped {stamped}, now {now_ms}"
    );
    assert_eq!(
        headers(&canonical[0]).get("kindred.raw.timestamp_ms"),
        Some(&written_ms.to_string())
    );
    let dead = read_some(&config, &config.topics.dead_letter).await?;
    assert_eq!(headers(&dead[0])["kindred.dlq.reason"], "invalid_json");
    stop(&shutdown, tasks).await?;
    Ok(())
}

/// A Java producer registered `pos_transaction` itself: its registry holds
/// the schema as Java's Avro writes it (`"avro.java.string"` on each
/// string) under id 42, and its messages carry 42. Listed in
/// `[[schemas.writers]]`, they are read; before, they were dead-lettered
/// as `unknown_schema_id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_producers_own_registry_id_is_read_through_schemas_writers() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("writers", dir.path());
    let java_text = SchemaKind::PosTransaction.current().text.replace(
        r#""type": "string""#,
        r#""type": {"type": "string", "avro.java.string": "String"}"#,
    );
    assert_ne!(java_text, SchemaKind::PosTransaction.current().text);
    let file = dir.path().join("pos-42.avsc");
    std::fs::write(&file, &java_text)?;
    config.schemas.writers.push(kindred_config::WriterSchema {
        id: 42,
        reads_as: "pos_transaction".into(),
        file,
    });
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let raw = kindred_suite::raw::pos(
        "J-42",
        Some("M-42"),
        None,
        Some("Ann Lee"),
        1_735_689_600_000,
        5,
    );
    let mut payload = encode_raw(&codec, &raw)?;
    payload[1..5].copy_from_slice(&42u32.to_be_bytes());
    let records = vec![record(&config.topics.pos, "J-42", payload)];
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    produce_all(&config, &records).await?;
    let event = first_canonical(&config, &codec).await?;
    assert_eq!(event.event_id, "pos:J-42");
    assert_eq!(event.attributes.full_name.as_deref(), Some("Ann Lee"));
    stop(&shutdown, tasks).await?;
    Ok(())
}

/// A header whose name is not UTF-8 (any client but rdkafka's can write
/// one): rdkafka's header reader unwraps names, and ingest panicked on the
/// record, at every restart on the same batch, its canonical events sent
/// again each time. Read lossily, the valid record is ingested and the
/// malformed one dead-lettered with the header carried, the service running.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_header_name_that_is_not_utf8_neither_stops_ingest_nor_is_lost() -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::message::{Header, OwnedHeaders};
    use kindred_kafka::rdkafka::producer::{FutureProducer, FutureRecord};
    let dir = tempfile::tempdir()?;
    let config = isolated_config("latin1-header", dir.path());
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let raw = kindred_suite::raw::pos("H-1", Some("M-1"), None, None, 1_735_689_600_000, 5);
    let good = encode_raw(&codec, &raw)?;
    let producer: FutureProducer = kafka_settings(&config).client_config(&[]).create()?;
    for (key, payload) in [("H-1", good), ("H-2", b"not avro".to_vec())] {
        let headers = OwnedHeaders::new().insert(Header {
            key: "trace",
            value: Some(b"t-1".as_slice()),
        });
        let headers = kindred_kafka::headers::with_raw_name(headers, b"r\xe9gion", b"EU");
        producer
            .send(
                FutureRecord::to(&config.topics.pos)
                    .key(key)
                    .payload(&payload)
                    .headers(headers),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)?;
    }
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    let letters = read_some(&config, &config.topics.dead_letter).await?;
    first_canonical(&config, &codec).await?;
    assert!(
        tasks.iter().all(|(_, t)| !t.is_finished()),
        "ingest is running"
    );
    stop(&shutdown, tasks).await?;
    let letter = headers(&letters[0]);
    assert_eq!(
        letter.get("r\u{fffd}gion").map(String::as_str),
        Some("EU"),
        "{letter:?}"
    );
    assert_eq!(letter.get("trace").map(String::as_str), Some("t-1"));
    let canonical = read_all(&config, &config.topics.canonical).await?;
    assert_eq!(canonical.len(), 1, "the valid record once");
    assert_eq!(
        read_all(&config, &config.topics.dead_letter).await?.len(),
        1
    );
    // Its offsets committed: a restart reads nothing again.
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop(&shutdown, tasks).await?;
    assert_eq!(read_all(&config, &config.topics.canonical).await?.len(), 1);
    Ok(())
}

/// A batch ends at `ingest.batch_max_bytes` of keys and payloads, not only
/// at `batch_size` or the linger: large malformed records under a long
/// linger (each held with its dead letter) gathered by the hundred and a
/// pod ran out of memory on the batch at every restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_ends_at_its_byte_budget() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("batch-bytes", dir.path());
    config.topics.partitions = 1;
    config.ingest.batch_linger_ms = 3_000;
    config.ingest.batch_max_bytes = 500_000;
    create_topics(&config).await?;
    // Twelve malformed records of 200 KB: 2.4 MB, three to a batch (the
    // one that reaches the budget ends it).
    let records: Vec<OutRecord> = (0..12)
        .map(|i| record(&config.topics.pos, &format!("B-{i}"), vec![b'x'; 200_000]))
        .collect();
    produce_all(&config, &records).await?;
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| m.len() >= 12,
    )
    .await?;
    let ops = stop(&shutdown, tasks).await?;
    let batches = ops[0]
        .metrics
        .batch_duration
        .with_label_values(&["ingest"])
        .get_sample_count();
    assert!(batches >= 3, "{batches} batches for 2.4 MB at 500 KB each");
    assert_eq!(
        read_all(&config, &config.topics.dead_letter).await?.len(),
        12
    );
    Ok(())
}

/// Retention (here its API, `kafka-delete-records`) deleted messages ingest
/// had not read yet: the consumer is reset to the log start and skips them.
/// The service counts them (`kindred_consumer_skipped_messages_total`, an
/// error log) instead of going on without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_deleted_before_ingest_read_them_are_counted_as_skipped() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("skipped", dir.path());
    config.topics.partitions = 1;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let receipts = |range: std::ops::Range<i64>| -> anyhow::Result<Vec<OutRecord>> {
        range
            .map(|i| {
                let id = format!("S-{i}");
                let raw = kindred_suite::raw::pos(
                    &id,
                    Some(&format!("M-{i}")),
                    None,
                    None,
                    1_735_689_600_000 + i,
                    0,
                );
                Ok(record(&config.topics.pos, &id, encode_raw(&codec, &raw)?))
            })
            .collect()
    };
    let canonical_count = |n: usize| {
        read_until(
            &config,
            &config.topics.canonical,
            Duration::from_secs(60),
            move |m| m.len() >= n,
        )
    };
    // Three receipts read and committed.
    produce_all(&config, &receipts(0..3)?).await?;
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    canonical_count(3).await?;
    stop(&shutdown, tasks).await?;
    // Ten more while it is down; retention takes offsets 3 to 10.
    produce_all(&config, &receipts(3..13)?).await?;
    kindred_suite::delete_records(&config, &config.topics.pos, 0, 11).await?;

    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    canonical_count(5).await?;
    let stopped = stop(&shutdown, tasks).await?;
    // Counted on the whole topic once the service has stopped: the first
    // three and the two retention left (S-11, S-12), each once.
    let mut keys: Vec<String> = kindred_suite::read_all(&config, &config.topics.canonical)
        .await?
        .iter()
        .map(|m| String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["pos:S-0", "pos:S-1", "pos:S-11", "pos:S-12", "pos:S-2"],
        "the two receipts left are read, each event once"
    );
    for ops in stopped {
        let skipped = ops
            .metrics
            .skipped_messages
            .with_label_values(&[&config.topics.pos])
            .get();
        assert_eq!(skipped, 8);
    }
    Ok(())
}

/// Kafka's own Java console producer with `codec`, sending each
/// `key \t value` line to `topic`.
fn java_produce(topic: &str, codec: &str, lines: &[String]) -> anyhow::Result<()> {
    let brokers = kindred_suite::brokers();
    kindred_suite::kafka_java_tool(
        "org.apache.kafka.tools.ConsoleProducer",
        &[
            "--bootstrap-server",
            &brokers,
            "--topic",
            topic,
            "--compression-codec",
            codec,
            // The tool's own 1.5 s and 3 retries fail on a loaded machine.
            "--request-timeout-ms",
            "30000",
            "--message-send-max-retries",
            "10",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=\t",
        ],
        lines,
    )?;
    Ok(())
}

/// Records from Kafka's Java producer, in every compression codec a
/// producer may choose (Java clients often pick zstd), are all read: a JSON
/// web event in each codec reaches the canonical topic, a line that is not
/// Avro on the POS topic reaches the dead-letter topic with its reason. A
/// consumer that cannot decompress a batch would lose it silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_java_producer_is_read_in_every_compression_codec() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("codecs", dir.path());
    config.schemas.framing.insert("web".into(), "json".into());
    create_topics(&config).await?;
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Web, 1), (Channel::Pos, 1)], &shutdown).await?;
    let codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    for codec in codecs {
        let (web, pos) = (config.topics.web.clone(), config.topics.pos.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let event = format!(
                r#"{{"event_id": "JAVA-{codec}", "event_type": "signup", "email": "{codec}@shop.example", "event_time": 1735689600000}}"#
            );
            java_produce(&web, codec, &[format!("JAVA-{codec}\t{event}")])?;
            java_produce(&pos, codec, &[format!("T-{codec}\tnot avro ({codec})")])
        })
        .await??;
    }
    let codec = WireCodec::with_default_ids()?;
    let canonical = read_until(
        &config,
        &config.topics.canonical,
        Duration::from_secs(60),
        |m| m.len() >= codecs.len(),
    )
    .await?;
    let mut ids = BTreeSet::new();
    for m in &canonical {
        let event: CanonicalEvent = codec.decode(
            Framing::Confluent,
            SchemaKind::CanonicalEvent,
            m.payload().unwrap_or_default(),
        )?;
        ids.insert(event.event_id);
    }
    let want: BTreeSet<String> = codecs.iter().map(|c| format!("web:JAVA-{c}")).collect();
    assert_eq!(ids, want);
    let dead = read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| m.len() >= codecs.len(),
    )
    .await?;
    let mut payloads = BTreeSet::new();
    for m in &dead {
        let h = headers(m);
        assert_eq!(h["kindred.dlq.reason"], "wrong_magic_byte", "{h:?}");
        assert_eq!(h["kindred.dlq.source.topic"], config.topics.pos, "{h:?}");
        payloads.insert(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
    }
    let want: BTreeSet<String> = codecs.iter().map(|c| format!("not avro ({c})")).collect();
    assert_eq!(payloads, want, "each codec's record, its bytes intact");
    stop(&shutdown, tasks).await?;
    Ok(())
}

/// A message too large for a dead letter whole (past the codec's limit, or
/// just under it) is dead-lettered cut to its first bytes, with its length
/// in a header; before, the producer refused the record and ingest retried
/// the batch forever. The events after it flow, and replay leaves it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_too_large_to_dead_letter_whole_is_cut_and_ingest_goes_on() -> anyhow::Result<()>
{
    use kindred_kafka::rdkafka::producer::{FutureProducer, FutureRecord};
    use kindred_kafka::DeadLetter;
    let dir = tempfile::tempdir()?;
    let config = isolated_config("too-large", dir.path());
    create_topics(&config).await?;
    let topic = &config.topics.web;
    // A producer that sends compressible megabyte messages (the broker's
    // limit applies to the compressed batch).
    let big: FutureProducer = kafka_settings(&config)
        .client_config(&[
            ("compression.type", "lz4"),
            ("message.max.bytes", "4000000"),
        ])
        .create()?;
    let oversized = vec![b'a'; 1_200_000]; // past the 1 MiB codec limit
    let malformed = vec![b'a'; 950_000]; // under it, not Avro
    for (key, payload) in [("big", &oversized), ("bad", &malformed)] {
        big.send(
            FutureRecord::to(topic).key(key).payload(payload.as_slice()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)?;
    }
    let codec = WireCodec::with_default_ids()?;
    let good = encode_raw(
        &codec,
        &kindred_suite::raw::web("W-after", Some("a@b.cn"), None, 1_735_689_600_000),
    )?;
    produce_all(&config, &[record(topic, "W-after", good)]).await?;

    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Web, 1)], &shutdown).await?;
    let canonical = read_some(&config, &config.topics.canonical).await?;
    assert_eq!(canonical.len(), 1, "the event after the large ones flowed");
    let dead = read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| m.len() >= 2,
    )
    .await?;
    let mut seen: Vec<(String, usize, String)> = dead
        .iter()
        .map(|m| {
            let h = headers(m);
            (
                h["kindred.dlq.reason"].clone(),
                m.payload().map_or(0, <[u8]>::len),
                h.get(DeadLetter::TRUNCATED_FROM)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "oversized".to_string(),
                DeadLetter::MAX_PAYLOAD_BYTES - "big".len(),
                "1200000".to_string()
            ),
            (
                "wrong_magic_byte".to_string(),
                DeadLetter::MAX_PAYLOAD_BYTES - "bad".len(),
                "950000".to_string()
            ),
        ]
    );
    shutdown.trigger();
    for (_, t) in tasks {
        t.await??;
    }
    let report = replay(&config, &ReplayFilter::default()).await?;
    assert_eq!((report.read, report.truncated), (2, 2), "{report:?}");
    assert!(report.replayed.is_empty(), "{report:?}");
    Ok(())
}

/// A dead letter of `source`'s partition 0, offset 4, as ingest writes
/// one for a schema id it was not given.
fn unknown_schema_letter(
    config: &kindred_config::Config,
    source: &str,
    key: &[u8],
    payload: &[u8],
) -> kindred_kafka::OutRecord {
    DeadLetter {
        reason: "unknown_schema_id".into(),
        message: "schema id 77 is not configured".into(),
        source_topic: source.to_string(),
        source_partition: 0,
        source_offset: 4,
        service: "ingest-pos".into(),
    }
    .into_record(&config.topics.dead_letter, Some(key), payload)
}

/// A dead letter whose source topic no longer takes its own (old)
/// timestamp is replayed stamped now, its own timestamp in a header: the
/// replay got INVALID_TIMESTAMP on it, run after run, and replayed nothing
/// past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_too_old_for_its_topic_is_replayed_stamped_now() -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    use kindred_pipeline::services::deadletter::REPLAYED_TIMESTAMP_HEADER;
    let dir = tempfile::tempdir()?;
    let config = isolated_config("replay-old", dir.path());
    create_topics(&config).await?;
    let source = format!("{}.strict", config.topics.pos);
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(&config).client_config(&[]).create()?;
    let strict = NewTopic::new(&source, 1, TopicReplication::Fixed(1))
        .set("message.timestamp.before.max.ms", "86400000");
    for result in admin.create_topics(&[strict], &AdminOptions::new()).await? {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    let letter = unknown_schema_letter(&config, &source, b"L-9", b"the raw bytes");
    let mut letter_headers = letter.headers.clone();
    letter_headers.push((DeadLetter::SOURCE_TIMESTAMP.to_string(), b"1000".to_vec()));
    kindred_suite::produce_with_headers(
        &config,
        &config.topics.dead_letter,
        "L-9",
        letter.payload.clone(),
        letter_headers,
    )
    .await?;
    let report = replay(&config, &ReplayFilter::default()).await?;
    assert_eq!(
        report.replayed.get("unknown_schema_id"),
        Some(&1),
        "{report:?}"
    );
    let replayed = read_all(&config, &source).await?;
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].payload(), Some(&b"the raw bytes"[..]));
    assert_eq!(headers(&replayed[0])[REPLAYED_TIMESTAMP_HEADER], "1000");
    assert!(replayed[0]
        .timestamp()
        .to_millis()
        .is_some_and(|t| t > 1000));
    // Done: a second replay has nothing left.
    let again = replay(&config, &ReplayFilter::default()).await?;
    assert!(again.replayed.is_empty(), "{again:?}");
    Ok(())
}

/// A dead letter whose source topic refuses it for good (the topic gone,
/// a channel retired) stopped every replay there, and the letters before
/// it in the chunk were sent again on each run. It is listed as refused,
/// naming where it is on the dead-letter topic, and the replay goes on:
/// the letters around it are replayed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_its_topic_refuses_for_good_is_listed_and_passed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("replay-refused", dir.path());
    // Told soon that the gone topic does not exist.
    config
        .kafka
        .client
        .insert("topic.metadata.propagation.max.ms".into(), "2000".into());
    config
        .kafka
        .client
        .insert("message.timeout.ms".into(), "10000".into());
    create_topics(&config).await?;
    let gone = format!("{}.gone", config.topics.pos);
    for (key, source) in [
        ("A", &config.topics.pos),
        ("B", &gone),
        ("C", &config.topics.pos),
    ] {
        let letter = unknown_schema_letter(&config, source, key.as_bytes(), key.as_bytes());
        kindred_suite::produce_with_headers(
            &config,
            &config.topics.dead_letter,
            key,
            letter.payload.clone(),
            letter.headers.clone(),
        )
        .await?;
    }
    let report = replay(&config, &ReplayFilter::default()).await?;
    assert_eq!(
        report.replayed.get("unknown_schema_id"),
        Some(&2),
        "{report:?}"
    );
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert!(report.refused[0].starts_with(&gone), "{report:?}");
    let again = replay(&config, &ReplayFilter::default()).await?;
    assert!(
        again.replayed.is_empty() && again.refused.is_empty(),
        "{again:?}"
    );
    let replayed = read_all(&config, &config.topics.pos).await?;
    let mut payloads: Vec<&[u8]> = replayed.iter().filter_map(|m| m.payload()).collect();
    payloads.sort();
    assert_eq!(payloads, [&b"A"[..], &b"C"[..]], "each once");
    Ok(())
}

/// A replay of a dead-letter topic that does not exist fails naming it
/// (it said it replayed nothing, as of an empty topic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_of_a_missing_dead_letter_topic_fails_naming_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("replay-missing", dir.path());
    config.topics.dead_letter = format!("{}.never-created", config.topics.dead_letter);
    let err = replay(&config, &ReplayFilter::default())
        .await
        .expect_err("no such topic");
    let text = err.to_string();
    assert!(text.contains(&config.topics.dead_letter), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    Ok(())
}

/// A canonical event its topic refuses (larger than the topic's
/// `max.message.bytes`, which an operator may have set) can never be
/// produced: it becomes a dead letter (`unproducible`) of its raw message,
/// and the rest of the batch, and the service, go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_its_topic_refuses_is_dead_lettered_not_retried_forever() -> anyhow::Result<()> {
    let (dead, raw_len) = refused_by_topics("unproducible", false).await?;
    assert_eq!(dead[0].key(), Some("L-1".as_bytes()));
    assert_eq!(dead[0].payload().map(<[u8]>::len), Some(raw_len));
    Ok(())
}

/// The same with a dead-letter topic that refuses the letter too (its
/// `max.message.bytes` as low): the letter goes as its envelope alone,
/// with the lengths it left out; the service went on. (It stopped, naming
/// nothing but the dead-letter topic.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_letter_its_topic_refuses_goes_as_its_envelope() -> anyhow::Result<()> {
    let (dead, raw_len) = refused_by_topics("unproducible_dlq", true).await?;
    assert_eq!(dead[0].key(), None);
    assert_eq!(dead[0].payload().map_or(0, <[u8]>::len), 0);
    let h = headers(&dead[0]);
    assert_eq!(
        h.get(DeadLetter::TRUNCATED_FROM),
        Some(&raw_len.to_string())
    );
    assert_eq!(
        h.get(DeadLetter::KEY_TRUNCATED_FROM).map(String::as_str),
        Some("3")
    );
    assert_eq!(h["kindred.dlq.source.offset"], "0");
    // The source's baggage left out of the last envelope, counted.
    assert!(!h.contains_key("baggage"), "{h:?}");
    assert_eq!(
        h.get(DeadLetter::HEADERS_DROPPED).map(String::as_str),
        Some("1")
    );
    Ok(())
}

/// A batch lingering longer than the stall timeout (`batch_linger_ms`
/// takes up to a minute) told liveness nothing while it waited: `/healthz`
/// failed for the rest of the linger and a liveness probe restarted a
/// healthy pod. The poll loop now reports every half second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lingering_batch_keeps_the_service_live() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("linger_live", dir.path());
    // Margin for a loaded machine: the loop reports every half second.
    config.http.stall_timeout_secs = 2;
    config.ingest.batch_linger_ms = 5_000;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let shutdown = Shutdown::new();
    let ops = Ops::start(&config, "ingest-pos").await?;
    let health = ops.health.clone();
    let task = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(async move { ingest::run(&config, Channel::Pos, &ops, shutdown).await })
    };
    let ready_by = std::time::Instant::now() + Duration::from_secs(60);
    while !health.is_ready() {
        anyhow::ensure!(
            std::time::Instant::now() < ready_by,
            "not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let one = kindred_suite::raw::pos("LIVE-1", Some("M-1"), None, None, 1_735_689_600_000, 1);
    produce_all(
        &config,
        &[record(
            &config.topics.pos,
            "LIVE-1",
            encode_raw(&codec, &one)?,
        )],
    )
    .await?;
    // Sampled through the linger: live every time.
    let started = std::time::Instant::now();
    let mut samples = 0;
    while started.elapsed() < Duration::from_millis(5_500) {
        assert!(
            health.is_live(),
            "not live {:?} after the message",
            started.elapsed()
        );
        samples += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(samples > 30);
    let event = first_canonical(&config, &codec).await?;
    assert_eq!(event.event_id, "pos:LIVE-1");
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(60), task).await???;
    Ok(())
}

/// An ingest service whose produce the broker does not acknowledge for
/// minutes (the canonical topic is gone a while) keeps polling, its
/// partitions paused: it stays in its group past `max.poll.interval.ms`
/// (it was dropped from it, its partitions handed to a member no better
/// off), and produces and reads on once the topic is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ingest_retrying_its_produce_stays_in_its_group() -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("produce_wait", dir.path());
    kindred_suite::leaves_its_group_unpolled_for_7s(&mut config);
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    // The canonical topic goes: nothing ingest reads can be produced.
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(&config).client_config(&[]).create()?;
    for result in admin
        .delete_topics(&[&config.topics.canonical], &AdminOptions::new())
        .await?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot delete {topic}: {code}"))?;
    }
    let raw = |i: usize| -> anyhow::Result<OutRecord> {
        let id = format!("WAIT-{i}");
        let event = kindred_suite::raw::pos(&id, Some("M-1"), None, None, 1_735_689_600_000, 1);
        Ok(record(&config.topics.pos, &id, encode_raw(&codec, &event)?))
    };
    produce_all(&config, &[raw(1)?]).await?;
    // Three times `max.poll.interval.ms`, and a second event meanwhile.
    tokio::time::sleep(Duration::from_secs(5)).await;
    produce_all(&config, &[raw(2)?]).await?;
    tokio::time::sleep(Duration::from_secs(17)).await;
    anyhow::ensure!(
        tasks.iter().all(|(_, t)| !t.is_finished()),
        "ingest waits, running"
    );
    create_topics(&config).await?;
    let canonical = read_until(
        &config,
        &config.topics.canonical,
        Duration::from_secs(120),
        |m| m.len() >= 2,
    )
    .await?;
    let ops = stop(&shutdown, tasks).await?;
    let ids: BTreeSet<String> = canonical
        .iter()
        .map(|m| {
            codec
                .decode(
                    Framing::Confluent,
                    SchemaKind::CanonicalEvent,
                    m.payload().unwrap_or_default(),
                )
                .map(|e: CanonicalEvent| e.event_id)
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(
        ids,
        BTreeSet::from(["pos:WAIT-1".to_string(), "pos:WAIT-2".to_string()]),
        "both events produced once the topic is back"
    );
    let rebalances = |kind: &str| ops[0].metrics.rebalances.with_label_values(&[kind]).get();
    // The stop's close revokes the partitions once.
    assert!(
        rebalances("revoked") <= 1,
        "no partition lost while waiting: {} revocations",
        rebalances("revoked")
    );
    assert_eq!(
        rebalances("assigned"),
        1,
        "one assignment: the group never rebalanced"
    );
    Ok(())
}

/// A stop while a batch lingers ends the linger: the batch is processed
/// and the service stops within its shutdown timeout (it read on until the
/// linger's end, up to a minute, and was killed first).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_ends_a_lingering_batch_and_processes_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("linger_stop", dir.path());
    config.ingest.batch_linger_ms = 30_000;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    let one = kindred_suite::raw::pos("STOP-1", Some("M-1"), None, None, 1_735_689_600_000, 1);
    produce_all(
        &config,
        &[record(
            &config.topics.pos,
            "STOP-1",
            encode_raw(&codec, &one)?,
        )],
    )
    .await?;
    // Read by now, and lingering for 30 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopping = std::time::Instant::now();
    shutdown.trigger();
    for (_, t) in tasks {
        tokio::time::timeout(Duration::from_secs(10), t).await???;
    }
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let event = first_canonical(&config, &codec).await?;
    assert_eq!(event.event_id, "pos:STOP-1");
    Ok(())
}

/// Runs ingest on a large and a small POS message with the canonical topic
/// (and, if `dead_letters_too`, the dead-letter topic) taking records of
/// at most 4,000 bytes; checks the small one passed and the large one was
/// dead-lettered as `unproducible`, and returns the dead letters and the
/// large message's length.
async fn refused_by_topics(
    name: &str,
    dead_letters_too: bool,
) -> anyhow::Result<(Vec<OwnedMessage>, usize)> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    let dir = tempfile::tempdir()?;
    let config = isolated_config(name, dir.path());
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(&config).client_config(&[]).create()?;
    let mut limited = vec![&config.topics.canonical];
    if dead_letters_too {
        limited.push(&config.topics.dead_letter);
    }
    let topics: Vec<NewTopic<'_>> = limited
        .iter()
        .map(|t| NewTopic::new(t, 1, TopicReplication::Fixed(1)).set("max.message.bytes", "4000"))
        .collect();
    for result in admin.create_topics(&topics, &AdminOptions::new()).await? {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let small = kindred_suite::raw::pos("S-1", Some("M-1"), None, None, 1_735_689_600_000, 1);
    let mut large = kindred_suite::raw::pos("L-1", Some("M-2"), None, None, 1_735_689_600_000, 1);
    if let RawEvent::Pos(p) = &mut large {
        // SKUs that do not compress (the producer compresses with lz4).
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        p.line_items = (0..200)
            .map(|_| kindred_model::LineItem {
                sku: (0..4)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        format!("{x:016x}")
                    })
                    .collect(),
                quantity: 1,
                unit_price_minor: 50,
            })
            .collect();
    }
    let large = encode_raw(&codec, &large)?;
    let raw_len = large.len();
    let mut large = record(&config.topics.pos, "L-1", large);
    if dead_letters_too {
        // Trace baggage that alone is over the dead-letter topic's limit
        // (bytes that do not compress): the envelope that carries it is
        // refused too.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let baggage: String = (0..750)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{:08x}", x as u32)
            })
            .collect();
        large.headers.push(("baggage".into(), baggage.into_bytes()));
    }
    let records = vec![
        large,
        record(&config.topics.pos, "S-1", encode_raw(&codec, &small)?),
    ];
    let shutdown = Shutdown::new();
    let tasks = start_ingest(&config, &[(Channel::Pos, 1)], &shutdown).await?;
    produce_all(&config, &records).await?;
    let dead = read_some(&config, &config.topics.dead_letter).await?;
    let event = first_canonical(&config, &codec).await?;
    let ops = tokio::time::timeout(Duration::from_secs(60), stop(&shutdown, tasks)).await??;
    assert_eq!(event.event_id, "pos:S-1");
    assert_eq!(dead.len(), 1);
    let h = headers(&dead[0]);
    assert_eq!(
        h.get("kindred.dlq.reason").map(String::as_str),
        Some("unproducible")
    );
    assert!(
        h.get("kindred.dlq.message")
            .is_some_and(|m| m.contains(&config.topics.canonical)),
        "{h:?}"
    );
    let metrics = ops[0].metrics.render();
    assert!(metrics.contains("reason=\"unproducible\""), "{metrics}");
    Ok((dead, raw_len))
}

/// Under KIP-848's consumer group protocol (`kafka.group_protocol =
/// "consumer"`, which librdkafka refuses alongside kindred's classic
/// session and assignor settings), two instances of a channel split its
/// partitions, and when one stops the other takes its partitions over at
/// the committed offsets: every record reaches the canonical topic once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_channel_scales_out_and_hands_over_under_the_consumer_group_protocol(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("kip848", dir.path());
    config.kafka.group_protocol = kindred_config::GroupProtocol::Consumer;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let generated = generate(&GenOptions {
        people: 1_500,
        mess: MessRates {
            duplicate_delivery: 0.0,
            ..MessRates::default()
        },
        ..GenOptions::default()
    });
    let pos: Vec<&RawEvent> = generated
        .iter()
        .map(|g| &g.event)
        .filter(|e| e.channel() == Channel::Pos)
        .take(2_000)
        .collect();
    assert_eq!(pos.len(), 2_000, "the generator gave too few receipts");
    let mut records = Vec::new();
    for e in &pos {
        records.push(record(
            &config.topics.pos,
            e.source_id(),
            encode_raw(&codec, e)?,
        ));
    }
    let (first, second) = (Shutdown::new(), Shutdown::new());
    let a = start_ingest(&config, &[(Channel::Pos, 1)], &first).await?;
    let b = start_ingest(&config, &[(Channel::Pos, 1)], &second).await?;
    let (half, rest) = records.split_at(records.len() / 2);
    produce_all(&config, half).await?;
    let timeout = Duration::from_secs(90);
    let events = |messages: &[_]| -> anyhow::Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        for m in messages {
            let m: &kindred_kafka::rdkafka::message::OwnedMessage = m;
            let e: CanonicalEvent = codec.decode(
                Framing::Confluent,
                SchemaKind::CanonicalEvent,
                m.payload().unwrap_or_default(),
            )?;
            anyhow::ensure!(ids.insert(e.event_id.clone()), "{} twice", e.event_id);
        }
        Ok(ids)
    };
    read_until(&config, &config.topics.canonical, timeout, |m| {
        m.len() >= half.len()
    })
    .await?;
    // The first instance stops; the second takes over its partitions.
    let stopped = stop(&first, a).await?;
    produce_all(&config, rest).await?;
    let canonical = read_until(&config, &config.topics.canonical, timeout, |m| {
        m.len() >= records.len()
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let remaining = stop(&second, b).await?;
    let canonical_again = read_until(&config, &config.topics.canonical, timeout, |m| {
        m.len() >= canonical.len()
    })
    .await?;
    let expected: BTreeSet<String> = pos
        .iter()
        .map(|e| format!("pos:{}", e.source_id()))
        .collect();
    assert_eq!(events(&canonical_again)?, expected, "every receipt once");
    let consumed = |ops: &[Ops]| -> Vec<u64> {
        ops.iter()
            .map(|o| {
                o.metrics
                    .events_consumed
                    .with_label_values(&[&config.topics.pos])
                    .get()
            })
            .collect()
    };
    // Both held partitions while the first half flowed; the second then
    // read the rest alone.
    let (a_read, b_read) = (consumed(&stopped)[0], consumed(&remaining)[0]);
    assert!(a_read > 0 && b_read > 0, "{a_read} / {b_read}");
    assert!(b_read >= rest.len() as u64, "{a_read} / {b_read}");
    assert_eq!(a_read + b_read, records.len() as u64, "{a_read} / {b_read}");
    Ok(())
}
