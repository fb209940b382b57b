//! The walking skeleton end to end, through a real Kafka broker:
//! raw Avro on three channel topics -> ingest services -> canonical topic ->
//! resolver (RocksDB) -> profile topic, with a corrupt message dead-lettered.

use std::collections::BTreeMap;
use std::time::Duration;

use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_model::raw::RawEvent;
use kindred_model::{ChangeType, Channel, Identifier, IdentifierKind, ProfileChange};
use kindred_pipeline::Shutdown;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::raw::{pos, social, web};
use kindred_suite::{create_topics, headers, isolated_config, produce, read_until};

const T0: i64 = 1_735_689_600_000;

fn encode(codec: &WireCodec, raw: &RawEvent) -> Vec<u8> {
    kindred_pipeline::encode_raw(codec, raw).expect("test records match their schemas")
}

fn decode_changes(codec: &WireCodec, messages: &[OwnedMessage]) -> Vec<ProfileChange> {
    messages
        .iter()
        .map(|m| {
            codec
                .decode(
                    Framing::Confluent,
                    SchemaKind::ProfileChange,
                    m.payload().expect("payload"),
                )
                .expect("profile topic holds ProfileChange records")
        })
        .collect()
}

/// The latest change per profile id, as a compacted topic converges to.
fn latest(changes: &[ProfileChange]) -> BTreeMap<String, ProfileChange> {
    let mut out = BTreeMap::new();
    for c in changes {
        out.insert(c.profile_id.clone(), c.clone());
    }
    out
}

/// Events counted in the live golden records: the state has converged only
/// when every good event produced so far is in it (an identifier set can be
/// complete before all of a person's events have arrived).
fn live_event_count(changes: &[ProfileChange]) -> i64 {
    latest(changes)
        .into_values()
        .filter_map(|c| c.record.map(|r| r.event_count))
        .sum()
}

fn live_identifier_sets(changes: &[ProfileChange]) -> Vec<Vec<Identifier>> {
    let mut sets: Vec<_> = latest(changes)
        .into_values()
        .filter_map(|c| c.record.map(|r| r.identifiers))
        .collect();
    sets.sort();
    sets
}

fn id(kind: IdentifierKind, value: &str) -> Identifier {
    Identifier::new(kind, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_channels_resolve_into_golden_records_through_kafka() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("pipeline", dir.path());
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;

    // Person A, phase 1: three events that form two separate profiles.
    //   POS card M-A001 (alone), web email + phone, social openid + the same phone.
    // Person B: one POS event. Person C: web email, then social with that email.
    let phase1 = [
        pos("A-POS-1", Some("m-a001"), None, Some("李伟"), T0, 100),
        web(
            "A-WEB-1",
            Some("Li.Wei@QQ.com"),
            Some("+86 138-0013-8000"),
            T0 + 1_000,
        ),
        social(
            "A-SOC-1",
            "oA_openid_1",
            Some("0086 13800138000"),
            None,
            T0 + 2_000,
        ),
        pos(
            "B-POS-1",
            Some("M-B002"),
            None,
            Some("Maria Sentosa"),
            T0 + 3_000,
            40,
        ),
        web("C-WEB-1", Some("chen.jing@163.com"), None, T0 + 4_000),
        social(
            "C-SOC-1",
            "oC_openid_3",
            None,
            Some("CHEN.JING@163.COM"),
            T0 + 5_000,
        ),
    ];
    let mut pos_offsets = Vec::new();
    for raw in &phase1 {
        let topic = kindred_pipeline::topics::raw_topic(&config, raw.channel()).to_string();
        let at = produce(&config, &topic, raw.source_id(), encode(&codec, raw)).await?;
        if raw.channel() == Channel::Pos {
            pos_offsets.push(at);
        }
    }
    // A corrupt message on the POS topic: not Confluent-framed Avro.
    let corrupt_at = produce(
        &config,
        &config.topics.pos,
        "garbage",
        b"garbage, not avro".to_vec(),
    )
    .await?;

    // The services, each as it runs in production, sharing one shutdown signal.
    let shutdown = Shutdown::new();
    let tasks = kindred_suite::start_pipeline(&config, &shutdown);

    // Phase 1 resolved: A is still two profiles (card alone; email+phone+openid).
    let a_card = id(IdentifierKind::MemberId, "MAIN:M-A001");
    let a_email = id(IdentifierKind::Email, "li.wei@qq.com");
    let a_phone = id(IdentifierKind::Phone, "+8613800138000");
    let a_social = id(IdentifierKind::Social, "wechat:oA_openid_1");
    let b_card = id(IdentifierKind::MemberId, "MAIN:M-B002");
    let c_email = id(IdentifierKind::Email, "chen.jing@163.com");
    let c_social = id(IdentifierKind::Social, "wechat:oC_openid_3");
    let phase1_sets = {
        let mut v = vec![
            vec![a_card.clone()],
            vec![a_email.clone(), a_phone.clone(), a_social.clone()],
            vec![b_card.clone()],
            vec![c_email.clone(), c_social.clone()],
        ];
        v.iter_mut().for_each(|s| s.sort());
        v.sort();
        v
    };
    let timeout = Duration::from_secs(90);
    read_until(&config, &config.topics.profiles, timeout, |m| {
        let changes = decode_changes(&codec, m);
        live_identifier_sets(&changes) == phase1_sets && live_event_count(&changes) == 6
    })
    .await?;

    // Phase 2: A pays at the till with card and phone: the two profiles merge.
    let link = pos(
        "A-POS-2",
        Some("M-A001"),
        Some("13800138000"),
        None,
        T0 + 10_000,
        25,
    );
    produce(
        &config,
        &config.topics.pos,
        link.source_id(),
        encode(&codec, &link),
    )
    .await?;
    let expected_sets = {
        let mut a = vec![
            a_card.clone(),
            a_email.clone(),
            a_phone.clone(),
            a_social.clone(),
        ];
        a.sort();
        let mut c = vec![c_email.clone(), c_social.clone()];
        c.sort();
        let mut v = vec![a, vec![b_card.clone()], c];
        v.sort();
        v
    };
    // Converged: the live profiles are as expected and the absorbed id's
    // redirect has arrived too (it may sit on another partition).
    let messages = read_until(&config, &config.topics.profiles, timeout, |m| {
        let changes = decode_changes(&codec, m);
        live_identifier_sets(&changes) == expected_sets
            && live_event_count(&changes) == 7
            && changes
                .iter()
                .any(|c| c.change_type == ChangeType::Superseded)
    })
    .await?;
    let changes = decode_changes(&codec, &messages);

    // The merge is explicit: one MERGED change whose survivor is the older
    // profile, and a SUPERSEDED redirect for the absorbed one.
    let merged: Vec<_> = changes
        .iter()
        .filter(|c| c.change_type == ChangeType::Merged)
        .collect();
    assert_eq!(merged.len(), 1, "{changes:#?}");
    let merged = merged[0];
    assert_eq!(merged.cause_event_id, "pos:A-POS-2");
    assert_eq!(merged.absorbed_ids.len(), 1);
    let superseded: Vec<_> = changes
        .iter()
        .filter(|c| c.change_type == ChangeType::Superseded)
        .collect();
    assert_eq!(superseded.len(), 1, "{changes:#?}");
    assert_eq!(superseded[0].profile_id, merged.absorbed_ids[0]);
    assert_eq!(
        superseded[0].superseded_by.as_deref(),
        Some(merged.profile_id.as_str())
    );
    // Every message of the profile topic is keyed by its profile id.
    for m in &messages {
        let change = &decode_changes(&codec, std::slice::from_ref(m))[0];
        assert_eq!(m.key(), Some(change.profile_id.as_bytes()));
    }

    // The golden records, exactly.
    let live: Vec<_> = latest(&changes)
        .into_values()
        .filter_map(|c| c.record)
        .collect();
    assert_eq!(live.len(), 3);
    let a = live
        .iter()
        .find(|r| r.identifiers.contains(&a_card))
        .expect("A's profile");
    assert_eq!(a.identifiers.len(), 4);
    assert_eq!(
        a.channels,
        vec![Channel::Pos, Channel::Web, Channel::Social]
    );
    assert_eq!(a.event_count, 4);
    assert_eq!(a.points_balance, 125);
    assert_eq!(a.order_count, 2);
    assert_eq!(a.spend_minor.get("CNY"), Some(&20_000));
    assert_eq!(a.full_name.as_ref().map(|n| n.value.as_str()), Some("李伟"));
    assert_eq!((a.first_seen_ms, a.last_seen_ms), (T0, T0 + 10_000));
    let b = live
        .iter()
        .find(|r| r.identifiers.contains(&b_card))
        .expect("B's profile");
    assert_eq!((b.event_count, b.points_balance), (1, 40));
    assert_eq!(
        b.full_name.as_ref().map(|n| n.value.as_str()),
        Some("Maria Sentosa")
    );
    let c = live
        .iter()
        .find(|r| r.identifiers.contains(&c_email))
        .expect("C's profile");
    assert_eq!((c.event_count, c.channels.len()), (2, 2));
    // Nothing lost: the 7 good events are all in the golden records.
    assert_eq!(live.iter().map(|r| r.event_count).sum::<i64>(), 7);

    // The corrupt message, and only it, is in the dead-letter topic, intact,
    // with where it came from and why.
    let dead = read_until(&config, &config.topics.dead_letter, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].payload(), Some(&b"garbage, not avro"[..]));
    let h = headers(&dead[0]);
    assert_eq!(h["kindred.dlq.reason"], "wrong_magic_byte");
    assert_eq!(h["kindred.dlq.source.topic"], config.topics.pos);
    assert_eq!(h["kindred.dlq.source.partition"], corrupt_at.0.to_string());
    assert_eq!(h["kindred.dlq.source.offset"], corrupt_at.1.to_string());
    assert_eq!(h["kindred.dlq.service"], "ingest-pos");
    // The canonical topic holds exactly the 7 good events.
    let canonical =
        read_until(&config, &config.topics.canonical, timeout, |m| m.len() >= 7).await?;
    assert_eq!(canonical.len(), 7);

    shutdown.trigger();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task).await???;
    }
    assert!(!pos_offsets.is_empty());

    // Read back as a downstream system would, the profile topic gives the
    // same clustering as the store: here the true one.
    let truth: std::collections::BTreeMap<String, String> = [
        ("pos:A-POS-1", "A"),
        ("web:A-WEB-1", "A"),
        ("social:A-SOC-1", "A"),
        ("pos:A-POS-2", "A"),
        ("pos:B-POS-1", "B"),
        ("web:C-WEB-1", "C"),
        ("social:C-SOC-1", "C"),
    ]
    .into_iter()
    .map(|(e, p)| (e.to_string(), p.to_string()))
    .collect();
    let from_topic = kindred_pipeline::profile_topic::read_changelog(&config, timeout)
        .await?
        .changelog
        .evaluate(&truth, 3);
    let store = kindred_pipeline::privacy::open_store(&config)?;
    let from_store = kindred_pipeline::evaluate_store(&store, &truth, 3)?;
    assert_eq!(from_topic, from_store);
    assert_eq!((from_topic.records, from_topic.profiles), (7, 3));
    assert_eq!(from_topic.pairwise.f1, 1.0);
    Ok(())
}
