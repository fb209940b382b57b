//! The right to be forgotten through a real Kafka broker: `kindred forget`
//! (its library call) sends an erasure request, the running resolver erases
//! the person, publishes an `erased` change, a tombstone for every id of
//! theirs and an audit record without raw values; a later event carrying
//! their identifier does not bring them back; a malformed request is
//! dead-lettered with its reason and position.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_kafka::rdkafka::{ClientConfig, Offset, TopicPartitionList};
use kindred_model::raw::RawEvent;
use kindred_model::{CanonicalEvent, ChangeType, Identifier, IdentifierKind, ProfileChange};
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::Shutdown;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::raw::{pos, web};
use kindred_suite::{
    create_topics, headers, isolated_config, produce, produce_with_headers, read_until,
};

const T0: i64 = 1_735_689_600_000;
const ZELDA_EMAIL: &str = "Zelda.Quixote@QQ.com";
const ZELDA_PHONE: &str = "+86 139 2468 1357";

fn encode(codec: &WireCodec, raw: &RawEvent) -> Vec<u8> {
    kindred_pipeline::encode_raw(codec, raw).expect("test records match their schemas")
}

fn changes(codec: &WireCodec, messages: &[OwnedMessage]) -> Vec<ProfileChange> {
    messages
        .iter()
        .filter_map(|m| m.payload())
        .map(|p| {
            codec
                .decode(Framing::Confluent, SchemaKind::ProfileChange, p)
                .expect("profile changes decode")
        })
        .collect()
}

fn holds(change: &ProfileChange, id: &Identifier) -> bool {
    change
        .record
        .as_ref()
        .is_some_and(|r| r.identifiers.contains(id))
}

/// The resolver group's committed position on a canonical partition.
fn committed(config: &kindred_config::Config, partition: i32) -> anyhow::Result<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", format!("{}.resolve", config.kafka.group_prefix))
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&config.topics.canonical, partition);
    let got = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
    Ok(match got.elements().first().map(|e| e.offset()) {
        Some(Offset::Offset(o)) => o,
        _ => -1,
    })
}

/// `kindred forget TARGET --json` by the privacy officer: the audit
/// record, checked to say `erased`.
async fn forget(
    config: &kindred_config::Config,
    target: &str,
    request_id: &str,
    timeout: Duration,
) -> anyhow::Result<serde_json::Value> {
    let audit = kindred_pipeline::erasure::forget(
        config,
        target,
        request_id,
        "privacy-officer",
        timeout,
        true,
    )
    .await?;
    let audit: serde_json::Value = serde_json::from_str(&audit)?;
    anyhow::ensure!(audit["outcome"] == "erased", "{audit}");
    Ok(audit)
}

/// `forget --wait` waits for the reply to the request it sent: an older
/// request's audit record of the same id (an operator's ticket number sent
/// again) does not answer for it. With no resolver running, no reply comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_is_not_answered_by_an_older_request_of_the_same_id() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("stale_reply", dir.path());
    create_topics(&config).await?;
    produce(
        &config,
        &config.topics.erasure_audit,
        "DSR-11",
        br#"{"request_id":"DSR-11","outcome":"erased","profiles":["kp-000000000001"]}"#.to_vec(),
    )
    .await?;
    let waited = kindred_pipeline::erasure::forget(
        &config,
        "kp-000000000001",
        "DSR-11",
        "privacy-officer",
        Duration::from_secs(3),
        true,
    )
    .await;
    let err = waited.expect_err("no resolver runs: no reply can come");
    assert!(err.to_string().contains("no reply"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forgotten_person_is_erased_downstream_and_stays_gone() -> anyhow::Result<()> {
    // What the services log at info and above, checked at the end.
    let _logs = kindred_suite::capture_logs("info");
    let dir = tempfile::tempdir()?;
    let config = isolated_config("privacy", dir.path());
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;

    // Zelda: a web order (email + phone), then a POS visit with a card and
    // the same phone: two profiles that merge. Otto is someone else.
    let first = [
        web("Z-WEB-1", Some(ZELDA_EMAIL), None, T0),
        web("O-WEB-1", Some("otto.b@163.com"), None, T0 + 500),
        pos(
            "Z-POS-1",
            Some("zq-77"),
            Some("13924681357"),
            Some("Zelda Quixote"),
            T0 + 1_000,
            30,
        ),
    ];
    for raw in &first {
        let topic = kindred_pipeline::topics::raw_topic(&config, raw.channel()).to_string();
        produce(&config, &topic, raw.source_id(), encode(&codec, raw)).await?;
    }

    let shutdown = Shutdown::new();
    let tasks = kindred_suite::start_pipeline(&config, &shutdown);
    let timeout = Duration::from_secs(90);
    let card = Identifier::new(IdentifierKind::MemberId, "MAIN:ZQ-77");
    let email = Identifier::new(IdentifierKind::Email, "zelda.quixote@qq.com");
    // The profile topic carries them as the output policy publishes them
    // (by default the card hashed, the email masked).
    let protection = kindred_pipeline::output_policy::OutputProtection::from_config(&config)?;
    let published = |id: &Identifier| -> anyhow::Result<Identifier> {
        kindred_pipeline::output_policy::identifiers(
            protection.profiles(),
            protection.keyring(),
            vec![id.clone()],
        )?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the policy omits {}", id.kind))
    };
    let (card_out, email_out) = (published(&card)?, published(&email)?);
    assert_ne!(card_out, card, "the card is not published raw");
    read_until(&config, &config.topics.profiles, timeout, |m| {
        let c = changes(&codec, m);
        c.iter().any(|c| holds(c, &email_out)) && c.iter().any(|c| holds(c, &card_out))
    })
    .await?;
    // Her next web order carries email and phone: the two profiles merge.
    let link = web("Z-WEB-2", Some(ZELDA_EMAIL), Some(ZELDA_PHONE), T0 + 2_000);
    produce(
        &config,
        &config.topics.web,
        link.source_id(),
        encode(&codec, &link),
    )
    .await?;
    read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m).iter().any(|c| {
            c.change_type == ChangeType::Merged && holds(c, &card_out) && holds(c, &email_out)
        })
    })
    .await?;

    // Forget her by email, as `kindred forget --email` does.
    let audit = forget(&config, &format!("email:{ZELDA_EMAIL}"), "DSR-7", timeout).await?;
    assert_eq!(audit["requested_by"], "privacy-officer");
    let subject = audit["subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with("email:") && !subject.to_lowercase().contains("zelda"),
        "{subject}"
    );
    let ids: Vec<String> = audit["profiles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        ids.len(),
        2,
        "the survivor and the profile it absorbed: {audit}"
    );
    // The request on the topic carries a keyed hash, not her address.
    let requests = read_until(&config, &config.topics.erasure_requests, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    let request = String::from_utf8_lossy(requests[0].payload().unwrap_or_default()).to_lowercase();
    assert!(
        request.contains("identifier_key") && !request.contains("zelda"),
        "{request}"
    );

    // Downstream: an erased change, then a tombstone for each of her ids.
    let profiles = read_until(&config, &config.topics.profiles, timeout, |m| {
        ids.iter().all(|id| {
            m.iter()
                .any(|r| r.key() == Some(id.as_bytes()) && r.payload().is_none())
        })
    })
    .await?;
    let erased: Vec<ProfileChange> = changes(&codec, &profiles)
        .into_iter()
        .filter(|c| c.change_type == ChangeType::Erased)
        .collect();
    assert_eq!(erased.len(), 1);
    assert!(ids.contains(&erased[0].profile_id));
    assert!(erased[0].record.is_none());
    // The audit topic has the record, with no raw value in its bytes.
    let audits = read_until(&config, &config.topics.erasure_audit, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    let bytes = String::from_utf8_lossy(audits[0].payload().unwrap_or_default()).to_lowercase();
    assert!(
        !bytes.contains("zelda") && !bytes.contains("13924681357"),
        "{bytes}"
    );

    // She shops again with her card: suppressed, no profile comes back.
    let again = pos("Z-POS-2", Some("ZQ-77"), None, None, T0 + 9_000, 5);
    produce(
        &config,
        &config.topics.pos,
        again.source_id(),
        encode(&codec, &again),
    )
    .await?;
    let is_late = |r: &OwnedMessage| {
        r.payload()
            .and_then(|p| {
                codec
                    .decode::<CanonicalEvent>(Framing::Confluent, SchemaKind::CanonicalEvent, p)
                    .ok()
            })
            .is_some_and(|e| e.event_id.ends_with("Z-POS-2"))
    };
    let canonical = read_until(&config, &config.topics.canonical, timeout, |m| {
        m.iter().any(is_late)
    })
    .await?;
    let late = canonical
        .iter()
        .find(|r| is_late(r))
        .map(|r| (r.partition(), r.offset()))
        .expect("found above");
    let deadline = Instant::now() + timeout;
    while committed(&config, late.0)? <= late.1 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the resolver did not pass the late event"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A malformed request: dead-lettered with its reason and position.
    // Keyed by the person's e-mail (a portal's choice): the dead letter's
    // key is masked like its payload. A header naming them is not carried.
    let bad_at = produce_with_headers(
        &config,
        &config.topics.erasure_requests,
        "ann.lee@gmail.com",
        br#"{"request_id":"DSR-8","email":"a@b.cn","phone":"13910248876"}"#.to_vec(),
        vec![("x-subject-email".into(), b"ann.lee@gmail.com".to_vec())],
    )
    .await?;
    let dead = read_until(&config, &config.topics.dead_letter, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    let h = headers(&dead[0]);
    assert_eq!(h["kindred.dlq.reason"], "erasure_incomplete");
    assert_eq!(
        h["kindred.dlq.source.topic"],
        config.topics.erasure_requests
    );
    assert_eq!(h["kindred.dlq.source.partition"], bad_at.0.to_string());
    assert_eq!(h["kindred.dlq.source.offset"], bad_at.1.to_string());
    let key = String::from_utf8_lossy(dead[0].key().unwrap_or_default()).into_owned();
    assert!(
        !key.contains("ann.lee") && key.ends_with("@gmail.com"),
        "{key}"
    );
    let kept = String::from_utf8_lossy(dead[0].payload().unwrap_or_default()).into_owned();
    assert!(kept.contains("DSR-8") && !kept.contains("a@b.cn"), "{kept}");
    assert!(
        h.iter()
            .all(|(k, v)| k.starts_with("kindred.dlq.") && !v.contains("ann.lee")),
        "{h:?}"
    );

    // Pia signs up; then Otto asks to be forgotten and the operator
    // erases him by profile id (an id a rebuild numbers afresh).
    let otto_email = Identifier::new(IdentifierKind::Email, "otto.b@163.com");
    let pia_email = Identifier::new(IdentifierKind::Email, "pia.n@163.com");
    let pia = web("P-WEB-1", Some("pia.n@163.com"), None, T0 + 10_000);
    produce(
        &config,
        &config.topics.web,
        pia.source_id(),
        encode(&codec, &pia),
    )
    .await?;
    let (otto_out, pia_out) = (published(&otto_email)?, published(&pia_email)?);
    let seen = read_until(&config, &config.topics.profiles, timeout, |m| {
        let c = changes(&codec, m);
        c.iter().any(|c| holds(c, &otto_out)) && c.iter().any(|c| holds(c, &pia_out))
    })
    .await?;
    let otto_id = changes(&codec, &seen)
        .into_iter()
        .find(|c| holds(c, &otto_out))
        .map(|c| c.profile_id)
        .expect("found above");
    forget(&config, &otto_id, "DSR-9", timeout).await?;

    // A store's counter phone on eight customers' receipts (each with a
    // card of their own) is quarantined: asked to forget it, the resolver
    // erases no one. `kindred forget` says so in its exit status (it
    // exited 0), with the audit record for the caller to read.
    let counter = "13900007777";
    for i in 0..8 {
        let id = format!("SHOP-{i}");
        let card = format!("M-SHOP-{i}");
        let receipt = pos(&id, Some(&card), Some(counter), None, T0 + 20_000 + i, 1);
        produce(&config, &config.topics.pos, &id, encode(&codec, &receipt)).await?;
    }
    read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m)
            .iter()
            .filter(|c| c.cause_event_id.starts_with("pos:SHOP-"))
            .count()
            >= 8
    })
    .await?;
    let refused = kindred_pipeline::erasure::forget(
        &config,
        &format!("phone:+86{counter}"),
        "DSR-10",
        "privacy-officer",
        timeout,
        true,
    )
    .await;
    match refused {
        Err(kindred_pipeline::PipelineError::NotErased(audit)) => {
            let audit: serde_json::Value = serde_json::from_str(&audit)?;
            assert_eq!(audit["outcome"], "ambiguous", "{audit}");
        }
        other => panic!("nobody erased is an error: {other:?}"),
    }

    shutdown.trigger();
    for t in tasks {
        t.await??;
    }
    // What a compacted reader of the profile topic ends with: each key's
    // last record. None may hold her card.
    let all = kindred_kafka::consumer::read_to_end(
        &kafka_settings(&config),
        &config.topics.profiles,
        timeout,
    )?;
    assert!(!all.is_empty());
    let mut last: BTreeMap<Vec<u8>, Option<ProfileChange>> = BTreeMap::new();
    for (_, key, payload) in &all {
        let change = (!payload.is_empty()).then(|| {
            codec
                .decode(Framing::Confluent, SchemaKind::ProfileChange, payload)
                .expect("profile changes decode")
        });
        last.insert(key.clone().unwrap_or_default(), change);
    }
    assert_eq!(
        last.get(otto_id.as_bytes()),
        Some(&None),
        "the erased profile ends in a tombstone"
    );
    assert!(
        !last.values().flatten().any(|c| holds(c, &card_out)),
        "a profile with her card came back"
    );
    let store = kindred_pipeline::privacy::open_store(&config)?;
    assert!(store.lookup(&card)?.is_none());
    assert!(store.is_suppressed(&card)?);
    assert!(store.lookup(&otto_email)?.is_none());
    assert!(store.lookup(&pia_email)?.is_some());
    drop(store);
    // A store rebuilt from the topics: the audit records' suppression
    // entries drop both erased people's events as they are replayed, and
    // no request applies again (the new numbering starts after the old ids,
    // so Otto's erased id names no one; the counter phone's request erased
    // no one, and its audit record says so).
    let mut rebuilt = config.clone();
    rebuilt.resolver.data_dir = dir.path().join("rebuilt");
    let summary =
        kindred_pipeline::state::rebuild(&rebuilt, Duration::from_secs(30), None, false).await?;
    for part in [
        "from 3 audit records",
        "erasure requests: 3 covered by their audit records, 0 by identifier re-applied",
    ] {
        assert!(summary.contains(part), "{part:?} in {summary}");
    }
    assert!(!summary.contains("WARNING"), "{summary}");
    let store = kindred_pipeline::privacy::open_store(&rebuilt)?;
    assert!(store.lookup(&card)?.is_none(), "a rebuild brought her back");
    assert!(store.lookup(&email)?.is_none());
    assert!(store.is_suppressed(&card)?);
    assert!(
        store.lookup(&otto_email)?.is_none(),
        "a rebuild brought him back"
    );
    assert!(store.lookup(&pia_email)?.is_some(), "a rebuild erased Pia");
    assert_eq!(
        store.stats()?.profiles,
        9,
        "Pia and the eight shop customers"
    );
    // Nothing logged at info or above names anyone: no raw value the
    // events, the requests or the malformed request carried (in any case,
    // as typed or normalized), and no profile id.
    let logs = kindred_suite::captured_text();
    assert!(
        logs.contains("resolver started") && logs.contains("ingest service started"),
        "the services' logs are captured"
    );
    let lower = logs.to_lowercase();
    let mut personal: Vec<String> = [
        "zelda",
        "quixote",
        "13924681357",
        "2468 1357",
        "zq-77",
        "otto.b",
        "pia.n",
        "ann.lee",
        "a@b.cn",
        "13910248876",
        counter,
    ]
    .iter()
    .map(|v| v.to_string())
    .collect();
    personal.extend(ids.iter().chain([&otto_id]).map(|id| id.to_lowercase()));
    for value in &personal {
        assert!(
            !lower.contains(value.as_str()),
            "{value:?} is in the logs: {}",
            logs.lines()
                .filter(|l| l.to_lowercase().contains(value.as_str()))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(())
}
