//! kindred between clients that share no code with it, through the real
//! broker: `tests/interop/AvroClients.java`, on the Apache Avro Java library
//! (the reference implementation, the one a Confluent schema registry uses)
//! and Kafka's Java client, plays the channel systems and a downstream
//! consumer. Every other test encodes and decodes with kindred's own codec,
//! so a schema file only apache-avro accepts, or bytes only it writes or
//! reads, would pass them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Context;
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_model::ProfileChange;
use kindred_pipeline::Shutdown;
use kindred_schema::{CompatibilityLevel, Framing, SchemaKind, WireCodec};
use kindred_suite::{create_topics, headers, isolated_config, read_until, start_pipeline};
use serde_json::{json, Value};

const T0: i64 = 1_735_689_600_000;

/// Runs `AvroClients.java ARGS` with `stdin`; its standard output, or an
/// error with what it printed.
fn java_client(args: &[&str], stdin: &str) -> anyhow::Result<String> {
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/AvroClients.java"
    );
    let out = kindred_suite::kafka_sh(&[&["java-client", source][..], args].concat(), stdin)?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "AvroClients {args:?} failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// Avro's own parser accepts every schema file, current and released, and
/// Avro's own compatibility check agrees with the level each schema
/// declares (`kindred schemas check` uses apache-avro's).
#[test]
fn avros_java_library_accepts_the_schemas_and_their_declared_compatibility() -> anyhow::Result<()> {
    let out = java_client(&["schemas", "schemas"], "")?;
    assert!(out.contains("parsed 5 current schemas"), "{out}");
    let mut checked = BTreeSet::new();
    for line in out.lines().filter(|l| l.contains("backward=")) {
        let mut words = line.split_whitespace();
        let version = words.next().context("a version")?;
        let verdict: BTreeMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
        let name = version.split(".v").next().unwrap_or(version);
        let kind = SchemaKind::ALL
            .into_iter()
            .find(|k| k.file_name() == format!("{name}.avsc"))
            .with_context(|| format!("{version}: no such schema"))?;
        let needed: &[&str] = match kind.required_compatibility() {
            CompatibilityLevel::Full => &["backward", "forward"],
            CompatibilityLevel::Backward => &["backward"],
            CompatibilityLevel::Forward => &["forward"],
        };
        for direction in needed {
            assert_eq!(
                verdict.get(direction),
                Some(&"COMPATIBLE"),
                "{version}: Avro's Java library finds the current {kind} not {direction} compatible"
            );
        }
        checked.insert(version.to_string());
    }
    let released: BTreeSet<String> = kindred_schema::default_history_ids()
        .into_values()
        .map(str::to_string)
        .collect();
    assert_eq!(checked, released, "every released version is checked");
    Ok(())
}

/// One record for the Java producer: topic, key, schema file, schema id and
/// the record in Avro's JSON encoding (unions name their branch).
fn line(topic: &str, key: &str, schema: &str, id: u32, record: &Value) -> String {
    format!("{topic}\t{key}\t{schema}\t{id}\t{record}\n")
}

/// `Some(v)` as Avro's JSON encoding writes a `["null", "string"]` union.
fn s(v: &str) -> Value {
    json!({ "string": v })
}

/// Channel systems on Avro's Java library write raw events (current and
/// released schema versions, and two records kindred cannot read); kindred
/// resolves them; a downstream consumer on Avro's Java library and Kafka's
/// Java client reads the compacted profile topic (read_committed) and
/// decodes every record with `schemas/profile_change.avsc`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn java_avro_producers_and_consumers_interoperate() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = isolated_config("interop", dir.path());
    create_topics(&config).await?;
    let ids = &config.schemas.ids;
    let id = |name: &str| ids.get(name).copied().context(name.to_string());
    let (pos, web, social) = (
        &config.topics.pos,
        &config.topics.web,
        &config.topics.social,
    );

    let none = Value::Null;
    // Person A at a till, in the web shop and on WeChat; person B at a till
    // running the first release's POS schema and a web shop on the first
    // release's web schema.
    let mut input = String::new();
    input += &line(
        pos,
        "JV-POS-1",
        "schemas/pos_transaction.avsc",
        id("pos_transaction")?,
        &json!({
            "transaction_id": "JV-POS-1", "store_id": "S01", "terminal_id": "3",
            "receipt_no": "R-1", "cashier_id": none, "loyalty_program": none,
            "member_card_no": s("M-20481"), "phone": s("+86 139 1024 8876"),
            "customer_name": s("李伟"), "amount_minor": 25_800, "currency": "CNY",
            "line_items": [{"sku": "SKU-1", "quantity": 2, "unit_price_minor": 12_900}],
            "points_earned": 258, "points_redeemed": 0, "payment_type": s("alipay"),
            "event_time": T0,
        }),
    );
    input += &line(
        web,
        "JV-WEB-1",
        "schemas/web_event.avsc",
        id("web_event")?,
        &json!({
            "event_id": "JV-WEB-1", "event_type": "order", "user_id": none,
            "email": s("Li.Wei@QQ.com"), "phone": s("0086 139-1024-8876"), "name": none,
            "order_amount_minor": none, "currency": none, "event_time": T0 + 3_600_000,
            "anonymous_id": none, "given_name": none, "family_name": none, "birthday": none,
            "gender": none, "address": none, "sku": none,
            "order": {"dev.kindred.raw.RawOrder": {
                "order_id": "O-1", "total_minor": 9_900, "currency": "CNY",
                "lines": [{"sku": "SKU-2", "quantity": 1, "unit_price_minor": 9_900}],
                "points_earned": 99, "points_redeemed": 50,
            }},
            "consents": [{"purpose": "marketing", "channel": "email", "granted": true}],
        }),
    );
    input += &line(
        social,
        "JV-SOC-1",
        "schemas/social_interaction.avsc",
        id("social_interaction")?,
        &json!({
            "event_id": "JV-SOC-1", "platform": "WeChat", "platform_user_id": "oJV_openid_1",
            "handle": none, "phone": none, "email": s("li.wei@qq.com"),
            "interaction_type": "follow", "event_time": T0 + 7_200_000, "union_id": none,
            "display_name": none, "sku": none, "order": none,
        }),
    );
    input += &line(
        pos,
        "JV-POS-2",
        "schemas/history/pos_transaction.v1.avsc",
        id("pos_transaction.v1")?,
        &json!({
            "transaction_id": "JV-POS-2", "store_id": "S02", "terminal_id": "1",
            "receipt_no": "R-2", "member_card_no": s("M-99000"),
            "phone": s("+44 7911 123456"), "customer_name": s("Maria Sentosa"),
            "amount_minor": 4_000, "currency": "CNY", "points_earned": 40,
            "points_redeemed": 0, "event_time": T0 + 1_000,
        }),
    );
    input += &line(
        web,
        "JV-WEB-2",
        "schemas/history/web_event.v1.avsc",
        id("web_event.v1")?,
        &json!({
            "event_id": "JV-WEB-2", "event_type": "signup", "user_id": none,
            "email": s("maria.sentosa@outlook.com"), "phone": s("+447911123456"),
            "name": s("Maria Sentosa"), "order_amount_minor": none, "currency": none,
            "event_time": T0 + 2_000,
        }),
    );
    // Not Avro at all, and a good web event under an id no one registered.
    input += &format!("{pos}\tJV-BAD-1\t-\t0\tnot avro, from a Java producer\n");
    input += &line(
        web,
        "JV-BAD-2",
        "schemas/history/web_event.v1.avsc",
        999,
        &json!({
            "event_id": "JV-BAD-2", "event_type": "signup", "user_id": none, "email": none,
            "phone": none, "name": none, "order_amount_minor": none, "currency": none,
            "event_time": T0,
        }),
    );

    let shutdown = Shutdown::new();
    let tasks = start_pipeline(&config, &shutdown);
    let brokers = config.kafka.brokers.clone();
    let sent =
        tokio::task::spawn_blocking(move || java_client(&["produce", &brokers], &input)).await??;
    let sent: Vec<(String, String, String)> = sent
        .lines()
        .filter_map(|l| l.strip_prefix("sent "))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3).then(|| (w[0].to_string(), w[1].to_string(), w[2].to_string()))
        })
        .collect();
    assert_eq!(
        sent.len(),
        7,
        "the Java producer sent every record: {sent:?}"
    );

    // kindred's own reader waits until the golden records are final: two
    // live profiles, of three and two events (a profile absorbed by a merge
    // stays live until its SUPERSEDED record, which may sit on another
    // partition, is read).
    let codec = WireCodec::with_default_ids()?;
    let decode = |m: &OwnedMessage| -> Option<ProfileChange> {
        codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, m.payload()?)
            .ok()
    };
    let live_event_counts = |messages: &[OwnedMessage]| -> Vec<i64> {
        let mut latest = BTreeMap::new();
        for c in messages.iter().filter_map(decode) {
            latest.insert(c.profile_id.clone(), c);
        }
        let mut counts: Vec<i64> = latest
            .into_values()
            .filter_map(|c| c.record.map(|r| r.event_count))
            .collect();
        counts.sort_unstable();
        counts
    };
    let timeout = Duration::from_secs(90);
    read_until(&config, &config.topics.profiles, timeout, |m| {
        live_event_counts(m) == [2, 3]
    })
    .await?;
    // Both unreadable records (every good one is in those five events).
    let dead = read_until(&config, &config.topics.dead_letter, timeout, |m| {
        m.len() >= 2
    })
    .await;
    shutdown.trigger();
    for task in tasks {
        task.await??;
    }

    // The dead letters say where each came from, and why.
    let dead = dead?;
    let dead_from: BTreeSet<(String, String, String)> = dead
        .iter()
        .map(|m| {
            let h = headers(m);
            (
                h["kindred.dlq.source.topic"].clone(),
                h["kindred.dlq.source.partition"].clone(),
                h["kindred.dlq.source.offset"].clone(),
            )
        })
        .collect();
    assert_eq!(dead_from, sent[5..].iter().cloned().collect());
    let reasons: BTreeSet<String> = dead
        .iter()
        .map(|m| headers(m)["kindred.dlq.reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from([
            "unknown_schema_id".to_string(),
            "wrong_magic_byte".to_string()
        ])
    );

    // The downstream consumer on Java's Avro and Kafka client reads the
    // whole topic, now that nothing more is written to it.
    let (brokers, topic) = (config.kafka.brokers.clone(), config.topics.profiles.clone());
    let profile_id = id("profile_change")?.to_string();
    let printed = tokio::task::spawn_blocking(move || {
        java_client(
            &[
                "consume",
                &brokers,
                &topic,
                "schemas/profile_change.avsc",
                &profile_id,
                "60000",
            ],
            "",
        )
    })
    .await??;
    let java: Vec<Value> = printed
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| format!("the Java consumer printed: {printed}"))?;
    let ours = read_until(&config, &config.topics.profiles, timeout, |m| {
        m.len() >= java.len()
    })
    .await?;
    let place = |v: &Value| (v["partition"].as_i64(), v["offset"].as_i64());
    let java_places: BTreeSet<_> = java.iter().map(place).collect();
    let our_places: BTreeSet<_> = ours
        .iter()
        .map(|m| (Some(i64::from(m.partition())), Some(m.offset())))
        .collect();
    assert_eq!(
        java_places, our_places,
        "the Java consumer read other records"
    );

    // The compacted view: the latest value per key.
    let mut latest = BTreeMap::new();
    for v in &java {
        let key = v["key"].as_str().context("a key")?;
        assert_eq!(v["value"]["profile_id"], key, "keyed by profile id");
        latest.insert(key.to_string(), v["value"].clone());
    }
    let live: Vec<&Value> = latest
        .values()
        .filter(|v| v["change_type"] != "SUPERSEDED")
        .collect();
    for v in latest.values().filter(|v| v["change_type"] == "SUPERSEDED") {
        let to = v["superseded_by"]
            .as_str()
            .context("a redirect names its survivor")?;
        assert!(latest[to]["change_type"] != "SUPERSEDED", "{v}");
    }
    assert_eq!(live.len(), 2, "two people: {live:?}");
    let portrait = |channels: usize| -> anyhow::Result<&Value> {
        live.iter()
            .map(|v| &v["record"])
            .find(|r| r["channels"].as_array().map(Vec::len) == Some(channels))
            .with_context(|| format!("a profile with {channels} channels: {live:?}"))
    };
    let a = portrait(3)?;
    // Masked under the default policy, in UTF-8 from end to end.
    assert!(
        a["full_name"]["value"]
            .as_str()
            .is_some_and(|n| n.starts_with('李')),
        "{a}"
    );
    assert_eq!(a["event_count"], 3);
    assert_eq!(a["order_count"], 2);
    assert_eq!(a["spend_minor"], json!({"CNY": 35_700}));
    assert_eq!(a["points_balance"], 258 + 99 - 50);
    let kinds: BTreeSet<&str> = a["identifiers"]
        .as_array()
        .context("identifiers")?
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["EMAIL", "MEMBER_ID", "PHONE", "SOCIAL"])
    );
    let b = portrait(2)?;
    assert_eq!(b["event_count"], 2);
    assert_eq!(b["points_balance"], 40);
    // Under the default output policy no raw contact value is on the topic.
    for raw in [
        "13910248876",
        "li.wei@qq.com",
        "m-20481",
        "7911123456",
        "oJV_openid_1",
    ] {
        assert!(
            !printed.to_lowercase().contains(&raw.to_lowercase()),
            "{raw} is on the profile topic"
        );
    }
    Ok(())
}
