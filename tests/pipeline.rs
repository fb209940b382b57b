//! The walking skeleton end to end, through a real Kafka broker:
//! raw Avro on three channel topics -> ingest services -> canonical topic ->
//! resolver (RocksDB) -> profile topic, with a corrupt message dead-lettered.
//! The profile topic carries golden records under the output policy
//! (`[privacy.output.profiles]`): the default leaves no raw phone, email,
//! name, card or social id of the input on it, while the store keeps them.

use std::collections::BTreeMap;
use std::time::Duration;

use kindred_config::OutputPolicy;
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_model::raw::RawEvent;
use kindred_model::{
    CanonicalEvent, ChangeType, Channel, GoldenRecord, Identifier, IdentifierKind, ProfileChange,
};
use kindred_pipeline::output_policy::{self, OutputProtection};
use kindred_pipeline::Shutdown;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::raw::{pos, social, web};
use kindred_suite::{create_topics, headers, isolated_config, produce, read_all, read_until};

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
    // The default policy, applied by the same function the publisher uses:
    // expected values are compared as the topic carries them.
    let protection = OutputProtection::from_config(&config)?;
    assert_eq!(protection.profiles(), &OutputPolicy::default());
    let published = |ids: Vec<Identifier>| -> Vec<Identifier> {
        output_policy::identifiers(protection.profiles(), protection.keyring(), ids)
            .expect("the policy applies")
    };

    // Person A, phase 1: three events that form two separate profiles.
    //   POS card M-A001 (alone), web email + phone, social openid + the same phone.
    // Person B: one POS event. Person C: web email, then social with that email.
    let phase1 = [
        pos("A-POS-1", Some("m-a001"), None, Some("李伟"), T0, 100),
        with_consents(
            web(
                "A-WEB-1",
                Some("Li.Wei@QQ.com"),
                Some("+86 139-1024-8876"),
                T0 + 1_000,
            ),
            &[("Marketing", "Email", true), ("marketing", "SMS", false)],
        ),
        social(
            "A-SOC-1",
            "oA_openid_1",
            Some("0086 13910248876"),
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
    for raw in &phase1 {
        let topic = kindred_pipeline::topics::raw_topic(&config, raw.channel()).to_string();
        produce(&config, &topic, raw.source_id(), encode(&codec, raw)).await?;
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
    let a_phone = id(IdentifierKind::Phone, "+8613910248876");
    let a_social = id(IdentifierKind::Social, "wechat:oA_openid_1");
    let b_card = id(IdentifierKind::MemberId, "MAIN:M-B002");
    let c_email = id(IdentifierKind::Email, "chen.jing@163.com");
    let c_social = id(IdentifierKind::Social, "wechat:oC_openid_3");
    let phase1_sets = {
        let mut v = vec![
            published(vec![a_card.clone()]),
            published(vec![a_email.clone(), a_phone.clone(), a_social.clone()]),
            published(vec![b_card.clone()]),
            published(vec![c_email.clone(), c_social.clone()]),
        ];
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
        Some("13910248876"),
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
        let a = published(vec![
            a_card.clone(),
            a_email.clone(),
            a_phone.clone(),
            a_social.clone(),
        ]);
        let c = published(vec![c_email.clone(), c_social.clone()]);
        let mut v = vec![a, published(vec![b_card.clone()]), c];
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
    // Every change says where it stands in the resolver's order, across
    // partitions: distinct sequences, rising within each partition.
    let mut seqs: Vec<(i32, u64)> = messages
        .iter()
        .filter(|m| m.payload().is_some())
        .map(|m| {
            let seq = headers(m)
                .get(kindred_pipeline::services::publish::CHANGE_SEQ)
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a change carries kindred.change.seq");
            (m.partition(), seq)
        })
        .collect();
    for partition in seqs
        .iter()
        .map(|(p, _)| *p)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let own: Vec<u64> = seqs
            .iter()
            .filter(|(p, _)| *p == partition)
            .map(|(_, s)| *s)
            .collect();
        assert!(own.windows(2).all(|w| w[0] < w[1]), "{own:?}");
    }
    seqs.sort_by_key(|(_, s)| *s);
    seqs.dedup_by_key(|(_, s)| *s);
    assert_eq!(
        seqs.len(),
        messages.iter().filter(|m| m.payload().is_some()).count()
    );

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
    let on_topic = |id: &Identifier| published(vec![id.clone()]).remove(0);
    let a = live
        .iter()
        .find(|r| r.identifiers.contains(&on_topic(&a_card)))
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
    // Masked by default: the name, phone and email show their first
    // characters only; the card is a keyed hash.
    assert_eq!(
        a.full_name.as_ref().map(|n| n.value.as_str()),
        Some("李****")
    );
    let a_values: Vec<&str> = a.identifiers.iter().map(|i| i.value.as_str()).collect();
    assert!(a_values.contains(&"+86****876"), "{a_values:?}");
    assert!(a_values.contains(&"l***@qq.com"), "{a_values:?}");
    assert!(
        a.identifiers
            .iter()
            .filter(|i| matches!(i.kind, IdentifierKind::MemberId | IdentifierKind::Social))
            .all(|i| i.value.starts_with(output_policy::HASH_PREFIX)),
        "{a_values:?}"
    );
    assert_eq!((a.first_seen_ms, a.last_seen_ms), (T0, T0 + 10_000));
    // Consents travel with their source, and the contact flags downstream
    // systems act on follow from them: email granted (she has an address),
    // SMS withdrawn, WeChat and push never asked.
    let consent = |key: &str| {
        a.consents
            .get(key)
            .map(|c| (c.value, c.source.event_id.clone()))
    };
    assert_eq!(
        consent("marketing:email"),
        Some((true, "web:A-WEB-1".into()))
    );
    assert_eq!(
        consent("marketing:sms"),
        Some((false, "web:A-WEB-1".into()))
    );
    assert_eq!(
        a.may_contact,
        BTreeMap::from([
            ("email".to_string(), true),
            ("push".to_string(), false),
            ("sms".to_string(), false),
            ("wechat".to_string(), false),
        ])
    );
    let b = live
        .iter()
        .find(|r| r.identifiers.contains(&on_topic(&b_card)))
        .expect("B's profile");
    assert_eq!((b.event_count, b.points_balance), (1, 40));
    assert_eq!(
        b.full_name.as_ref().map(|n| n.value.as_str()),
        Some("M**** S****")
    );
    let c = live
        .iter()
        .find(|r| r.identifiers.contains(&on_topic(&c_email)))
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
    assert_eq!(dead[0].payload(), Some(&b"garbage, not avro"[..]));
    let h = headers(&dead[0]);
    assert_eq!(h["kindred.dlq.reason"], "wrong_magic_byte");
    assert_eq!(h["kindred.dlq.source.topic"], config.topics.pos);
    assert_eq!(h["kindred.dlq.source.partition"], corrupt_at.0.to_string());
    assert_eq!(h["kindred.dlq.source.offset"], corrupt_at.1.to_string());
    assert_eq!(h["kindred.dlq.service"], "ingest-pos");
    read_until(&config, &config.topics.canonical, timeout, |m| m.len() >= 7).await?;

    shutdown.trigger();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task).await???;
    }
    // Once every service stopped: the dead-letter topic holds the corrupt
    // message only, and the canonical topic exactly the 7 good events.
    assert_eq!(
        read_all(&config, &config.topics.dead_letter).await?.len(),
        1
    );
    assert_eq!(read_all(&config, &config.topics.canonical).await?.len(), 7);

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

    // Each live record on the topic is the store's, under the policy.
    for record in &live {
        let mut stored = store
            .profile(&record.profile_id)?
            .expect("a live profile is in the store");
        output_policy::apply(protection.profiles(), protection.keyring(), &mut stored)?;
        assert_eq!(&stored, record);
    }

    // No raw personal value of the input is anywhere in the topic's bytes
    // (any case, as given or normalized), while the store still has them all.
    let raw_values = [
        "13910248876", // +86 139-1024-8876, 0086 13910248876, +8613910248876
        "139-1024-8876",
        "li.wei@qq.com",
        "chen.jing@163.com",
        "李伟",
        "maria sentosa",
        "m-a001",
        "m-b002",
        "oa_openid_1",
        "oc_openid_3",
    ];
    let all = read_until(&config, &config.topics.profiles, timeout, |m| {
        m.len() >= messages.len()
    })
    .await?;
    // A downstream system on Kafka's Java client (read_committed) sees
    // exactly the records kindred's reader sees: the transactional
    // publisher's commits, no aborted writes, keyed by profile id.
    let brokers = kindred_suite::brokers();
    let max = all.len().to_string();
    let topic = config.topics.profiles.clone();
    let printed = tokio::task::spawn_blocking(move || {
        kindred_suite::kafka_java_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &brokers,
                "--topic",
                &topic,
                "--from-beginning",
                "--isolation-level",
                "read_committed",
                "--max-messages",
                &max,
                "--timeout-ms",
                "120000",
                "--property",
                "print.partition=true",
                "--property",
                "print.offset=true",
                "--property",
                "print.key=true",
                "--property",
                "print.value=false",
            ],
            &[],
        )
    })
    .await??;
    let java: std::collections::BTreeSet<String> = printed
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let ours: std::collections::BTreeSet<String> = all
        .iter()
        .map(|m| {
            format!(
                "Partition:{}\tOffset:{}\t{}",
                m.partition(),
                m.offset(),
                String::from_utf8_lossy(m.key().unwrap_or_default())
            )
        })
        .collect();
    assert_eq!(java, ours, "the Java consumer read other records");
    for m in &all {
        let bytes = m.payload().unwrap_or_default().to_ascii_lowercase();
        for value in raw_values {
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "{value:?} is on the profile topic"
            );
        }
    }
    for (identifier, name) in [(&a_phone, Some("李伟")), (&b_card, Some("Maria Sentosa"))] {
        let stored = store
            .lookup(identifier)?
            .expect("the store finds the profile by its raw identifier");
        assert!(stored.identifiers.contains(identifier));
        assert_eq!(stored.full_name.map(|n| n.value).as_deref(), name);
    }
    let c_stored = store.lookup(&c_social)?.expect("C in the store");
    assert!(c_stored.identifiers.contains(&c_email));
    Ok(())
}

/// Events straight onto the canonical topic, as ingest writes them.
fn canonical(id: &str, t: i64, ids: &[(IdentifierKind, &str)], name: &str) -> CanonicalEvent {
    let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
    let mut e = CanonicalEvent::new(id, Channel::Pos, t, ids);
    e.attributes.full_name = Some(name.into());
    e
}

/// Writes `events` to the canonical topic, keyed by event id.
async fn produce_canonical(
    config: &kindred_config::Config,
    codec: &WireCodec,
    events: &[CanonicalEvent],
) -> anyhow::Result<()> {
    for e in events {
        produce(
            config,
            &config.topics.canonical,
            &e.event_id,
            codec.encode(SchemaKind::CanonicalEvent, e)?,
        )
        .await?;
    }
    Ok(())
}

/// Canonical events the resolver never read because retention (here
/// `delete_records`) took them while it was down are counted, not skipped
/// silently: the gap from the store's position to the log start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_events_deleted_before_the_resolver_read_them_are_counted() -> anyhow::Result<()>
{
    use kindred_pipeline::services::{resolve, Ops};
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("resolve-skipped", dir.path());
    config.topics.partitions = 1;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let send = |range: std::ops::Range<i64>| {
        let (config, codec) = (&config, &codec);
        async move {
            for i in range {
                let card = format!("MAIN:S-{i:03}");
                let e = canonical(
                    &format!("pos:s{i}"),
                    T0 + i,
                    &[(IdentifierKind::MemberId, &card)],
                    &format!("Sam Skipper{i}"),
                );
                produce_canonical(config, codec, &[e]).await?;
            }
            anyhow::Ok(())
        }
    };
    let run = |want: i64| {
        let config = config.clone();
        let codec = &codec;
        async move {
            let shutdown = Shutdown::new();
            let ops = Ops::start(&config, "resolve").await?;
            let task = tokio::spawn({
                let (config, shutdown) = (config.clone(), shutdown.clone());
                async move {
                    resolve::run(&config, &ops, shutdown).await?;
                    anyhow::Ok(ops)
                }
            });
            read_until(
                &config,
                &config.topics.profiles,
                Duration::from_secs(90),
                |m| live_event_count(&decode_changes(codec, m)) == want,
            )
            .await?;
            shutdown.trigger();
            tokio::time::timeout(Duration::from_secs(15), task).await??
        }
    };
    send(0..3).await?;
    run(3).await?;
    // Ten more while the resolver is down; retention takes offsets 3 to 10.
    send(3..13).await?;
    kindred_suite::delete_records(&config, &config.topics.canonical, 0, 11).await?;
    let ops = run(5).await?;
    let skipped = ops
        .metrics
        .skipped_messages
        .with_label_values(&[&config.topics.canonical])
        .get();
    assert_eq!(skipped, 8);
    Ok(())
}

/// Runs the resolver on `events` (written to the canonical topic) until
/// `live` of them are on the profile topic and a dead letter is out, then
/// stops it; the one dead letter's headers.
async fn resolve_with_one_dead_letter(
    config: &kindred_config::Config,
    codec: &WireCodec,
    events: &[CanonicalEvent],
    live: i64,
) -> anyhow::Result<BTreeMap<String, String>> {
    produce_canonical(config, codec, events).await?;
    let shutdown = Shutdown::new();
    let task = kindred_suite::start_resolver(config, &shutdown);
    let timeout = Duration::from_secs(90);
    read_until(config, &config.topics.profiles, timeout, |m| {
        live_event_count(&decode_changes(codec, m)) == live
    })
    .await?;
    read_until(config, &config.topics.dead_letter, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    let dead = read_all(config, &config.topics.dead_letter).await?;
    assert_eq!(dead.len(), 1);
    Ok(headers(&dead[0]))
}

/// A canonical event out of the bounds ingest keeps (written by another
/// producer) is dead-lettered by the resolver with the reason and where it
/// was; the events around it are applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canonical_event_out_of_bounds_is_dead_lettered_by_the_resolver() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("resolve-bounds", dir.path());
    config.topics.partitions = 1;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let card = (IdentifierKind::MemberId, "MAIN:B-001");
    let mut huge = canonical("pos:b2", T0 + 1, &[card], "Bo Bounds");
    huge.activity.points_earned = i64::MAX;
    let events = [
        canonical("pos:b1", T0, &[card], "Bo Bounds"),
        huge,
        canonical("pos:b3", T0 + 2, &[card], "Bo Bounds"),
    ];
    let h = resolve_with_one_dead_letter(&config, &codec, &events, 2).await?;
    assert_eq!(h["kindred.dlq.reason"], "value_out_of_range");
    assert_eq!(h["kindred.dlq.source.topic"], config.topics.canonical);
    assert_eq!(h["kindred.dlq.source.offset"], "1");
    assert_eq!(h["kindred.dlq.service"], "resolve");
    let store = kindred_pipeline::privacy::open_store(&config)?;
    let bo = store
        .lookup(&Identifier::new(card.0, card.1))?
        .expect("Bo's profile");
    assert_eq!(bo.event_count, 2);
    Ok(())
}

/// Two tills numbering receipts alike: till 2's sale `pos:d1` (another
/// customer, another time) was dropped as a duplicate of till 1's, with
/// nothing said. It is dead-lettered now, with where it was and why; a
/// redelivery of till 1's own sale is still a duplicate, no letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_reusing_another_events_id_is_dead_lettered_not_dropped() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("resolve-reused-id", dir.path());
    config.topics.partitions = 1;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    let ann = (IdentifierKind::MemberId, "MAIN:D-001");
    let bo = (IdentifierKind::MemberId, "MAIN:D-002");
    let first = canonical("pos:d1", T0, &[ann], "Ann Dupont");
    let events = [
        first.clone(),
        canonical("pos:d1", T0 + 3_600_000, &[bo], "Bo Dupont"),
        first,
        canonical("pos:d2", T0 + 1, &[ann], "Ann Dupont"),
    ];
    let h = resolve_with_one_dead_letter(&config, &codec, &events, 2).await?;
    assert_eq!(h["kindred.dlq.reason"], "conflicting_duplicate");
    assert_eq!(h["kindred.dlq.source.topic"], config.topics.canonical);
    assert_eq!(h["kindred.dlq.source.offset"], "1");
    let store = kindred_pipeline::privacy::open_store(&config)?;
    assert!(store.lookup(&Identifier::new(bo.0, bo.1))?.is_none());
    let profile = store
        .lookup(&Identifier::new(ann.0, ann.1))?
        .expect("Ann's profile");
    assert_eq!(profile.event_count, 2);
    Ok(())
}

/// Switched to `raw`, the profile topic carries the golden records exactly
/// as stored; one field set apart (`omitted`) follows its own setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_output_policy_publishes_the_stored_records() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("pipeline-raw", dir.path());
    config.privacy.output.profiles = OutputPolicy::all_raw();
    config.privacy.output.profiles.device = kindred_config::FieldPolicy::Omitted;
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    use IdentifierKind::{Device, Email, MemberId, Phone};
    let events = [
        canonical(
            "pos:r1",
            T0,
            &[(MemberId, "MAIN:R-001"), (Phone, "+8613924681357")],
            "Ruth Rawlings",
        ),
        canonical(
            "pos:r2",
            T0 + 1,
            &[
                (Email, "ruth@example.com"),
                (Phone, "+8613924681357"),
                (Device, "web:d-77"),
            ],
            "Ruth Rawlings",
        ),
    ];
    produce_canonical(&config, &codec, &events).await?;
    let shutdown = Shutdown::new();
    let task = kindred_suite::start_resolver(&config, &shutdown);
    let timeout = Duration::from_secs(90);
    let messages = read_until(&config, &config.topics.profiles, timeout, |m| {
        live_event_count(&decode_changes(&codec, m)) == 2
    })
    .await?;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;

    let live: Vec<GoldenRecord> = latest(&decode_changes(&codec, &messages))
        .into_values()
        .filter_map(|c| c.record)
        .collect();
    assert_eq!(live.len(), 1);
    let on_topic = &live[0];
    // Raw: the values as stored; the device identifier omitted.
    let mut expected = vec![
        Identifier::new(MemberId, "MAIN:R-001"),
        Identifier::new(Phone, "+8613924681357"),
        Identifier::new(Email, "ruth@example.com"),
    ];
    expected.sort();
    assert_eq!(on_topic.identifiers, expected);
    assert_eq!(
        on_topic.full_name.as_ref().map(|n| n.value.as_str()),
        Some("Ruth Rawlings")
    );
    let store = kindred_pipeline::privacy::open_store(&config)?;
    let mut stored = store
        .profile(&on_topic.profile_id)?
        .expect("the profile is in the store");
    assert!(stored.identifiers.iter().any(|i| i.kind == Device));
    output_policy::apply(
        &config.privacy.output.profiles,
        kindred_pipeline::privacy::keyring(&config)?.as_deref(),
        &mut stored,
    )?;
    assert_eq!(&stored, on_topic);
    Ok(())
}

/// `event` (a web event) with these consents (purpose, channel, granted),
/// spelled as a web shop might.
fn with_consents(mut event: RawEvent, consents: &[(&str, &str, bool)]) -> RawEvent {
    if let RawEvent::Web(w) = &mut event {
        w.consents = consents
            .iter()
            .map(
                |&(purpose, channel, granted)| kindred_model::raw::RawConsent {
                    purpose: purpose.into(),
                    channel: channel.into(),
                    granted,
                },
            )
            .collect();
    }
    event
}
