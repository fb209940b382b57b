//! The pipeline with a schema registry owning the ids (`[schemas.registry]`),
//! through the real broker. No registry server can be installed here, so
//! the registry is `kindred_registry::stand_in`, an in-memory one speaking
//! the same HTTP API (global ids from 1, idempotent registration, 404 with
//! error code 40403 for an unknown id).

use std::time::Duration;

use kindred_kafka::rdkafka::message::Message;
use kindred_model::ProfileChange;
use kindred_pipeline::{encode_raw, Shutdown};
use kindred_registry::stand_in::StandInRegistry;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::{create_topics, headers, isolated_config, produce, read_until, start_pipeline};

fn schema_id(payload: &[u8]) -> u32 {
    u32::from_be_bytes([payload[1], payload[2], payload[3], payload[4]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ids_come_from_the_registry_and_unknown_ones_are_dead_lettered() -> anyhow::Result<()> {
    let registry = StandInRegistry::start().await?;
    // Another team's schema takes id 1 (kindred's built-in id of
    // pos_transaction): with a registry, only the registry says what an id is.
    let foreign = registry.register(
        "orders-value",
        r#"{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"id","type":"string"}]}"#,
    );
    assert_eq!(foreign, 1);
    // The POS producer registered its own evolution of pos_transaction: a
    // field of its own added (with a default), Java's string hint.
    let producer_schema = SchemaKind::PosTransaction
        .current()
        .text
        .replace(
            r#""type": "string""#,
            r#""type": {"type": "string", "avro.java.string": "String"}"#,
        )
        .replacen(
            r#""fields": ["#,
            r#""fields": [{"name": "till_firmware", "type": "string", "default": ""},"#,
            1,
        );
    let dir = tempfile::tempdir()?;
    let mut config = isolated_config("registry", dir.path());
    let pos_id = registry.register(&format!("{}-value", config.topics.pos), &producer_schema);
    config.schemas.registry.url = registry.url();
    config.schemas.registry.timeout_ms = 2_000;
    create_topics(&config).await?;

    // What the POS producer sends: its record under its id (written here
    // with kindred's layout and the header rewritten; the added field is
    // not in it, so the body is written with the producer schema itself).
    let raw = kindred_suite::raw::pos(
        "R-1",
        Some("M-77"),
        None,
        Some("Ann Lee"),
        1_735_689_600_000,
        5,
    );
    let ours = encode_raw(&WireCodec::with_default_ids()?, &raw)?;
    let producer_avro = apache_avro::Schema::parse_str(&producer_schema)?;
    let kindred_avro = apache_avro::Schema::parse_str(SchemaKind::PosTransaction.current().text)?;
    let mut body = &ours[5..];
    let value = apache_avro::from_avro_datum(&kindred_avro, &mut body, None)?;
    let apache_avro::types::Value::Record(mut fields) = value else {
        anyhow::bail!("not a record");
    };
    fields.insert(
        0,
        (
            "till_firmware".into(),
            apache_avro::types::Value::String("7.1".into()),
        ),
    );
    let mut good = vec![0];
    good.extend_from_slice(&pos_id.to_be_bytes());
    good.extend(apache_avro::to_avro_datum(
        &producer_avro,
        apache_avro::types::Value::Record(fields),
    )?);
    let mut foreign_message = ours.clone();
    foreign_message[1..5].copy_from_slice(&foreign.to_be_bytes());
    let mut missing = ours.clone();
    missing[1..5].copy_from_slice(&999u32.to_be_bytes());

    let shutdown = Shutdown::new();
    let tasks = start_pipeline(&config, &shutdown);
    // Both writers registered their schemas under their topics' subjects.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while registry
        .versions(&format!("{}-value", config.topics.canonical))
        .is_empty()
        || registry
            .versions(&format!("{}-value", config.topics.profiles))
            .is_empty()
    {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "schemas not registered within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let canonical_id = registry.versions(&format!("{}-value", config.topics.canonical))[0];
    let profile_id = registry.versions(&format!("{}-value", config.topics.profiles))[0];
    // The registry restarting when the first message arrives: ingest waits
    // for it instead of dead-lettering the message.
    registry.fail_next(2);
    produce(&config, &config.topics.pos, "R-1", good).await?;
    produce(&config, &config.topics.pos, "R-2", foreign_message).await?;
    produce(&config, &config.topics.pos, "R-3", missing).await?;

    let changes = read_until(
        &config,
        &config.topics.profiles,
        Duration::from_secs(90),
        |m| !m.is_empty(),
    )
    .await?;
    let dead = read_until(
        &config,
        &config.topics.dead_letter,
        Duration::from_secs(60),
        |m| m.len() >= 2,
    )
    .await?;
    let canonical = read_until(
        &config,
        &config.topics.canonical,
        Duration::from_secs(60),
        |m| !m.is_empty(),
    )
    .await?;
    shutdown.trigger();
    for t in tasks {
        t.await??;
    }

    // Written under the registry's ids, and readable by a registry reader.
    let payload = changes[0].payload().unwrap_or_default();
    assert_eq!(schema_id(payload), profile_id);
    assert_eq!(canonical.len(), 1, "only the readable message got through");
    assert_eq!(
        schema_id(canonical[0].payload().unwrap_or_default()),
        canonical_id
    );
    let reader = WireCodec::for_registry(1 << 20)?;
    let text = registry_schema(&registry, profile_id).await?;
    assert_eq!(
        reader.learn(profile_id, "test", &text)?,
        SchemaKind::ProfileChange
    );
    let change: ProfileChange =
        reader.decode(Framing::Confluent, SchemaKind::ProfileChange, payload)?;
    assert_eq!(
        change
            .record
            .as_ref()
            .and_then(|r| r.full_name.as_ref())
            .map(|v| v.value.as_str()),
        Some("A**** L****"),
        "the name, as the default output policy masks it"
    );

    // The other team's id and an id nobody registered: dead letters.
    let mut reasons: Vec<(String, String)> = dead
        .iter()
        .map(|m| {
            let h = headers(m);
            (
                h.get("kindred.dlq.reason").cloned().unwrap_or_default(),
                String::from_utf8_lossy(m.key().unwrap_or_default()).to_string(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("unknown_schema_id".to_string(), "R-2".to_string()),
            ("unknown_schema_id".to_string(), "R-3".to_string()),
        ]
    );
    // Each letter says what the registry answered: the other team's schema
    // is there but is none of kindred's; the missing id is not there.
    let message_of = |key: &str| {
        dead.iter()
            .find(|m| m.key() == Some(key.as_bytes()))
            .map(|m| {
                headers(m)
                    .get("kindred.dlq.message")
                    .cloned()
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let foreign = message_of("R-2");
    assert!(
        foreign.contains("not learned from the schema registry") && !foreign.contains("neither"),
        "{foreign}"
    );
    let missing = message_of("R-3");
    assert!(
        missing.contains("not learned from the schema registry"),
        "{missing}"
    );
    Ok(())
}

/// A schema's text as the registry gives it (what a downstream reader does).
async fn registry_schema(registry: &StandInRegistry, id: u32) -> anyhow::Result<String> {
    let client = kindred_registry::Registry::new(&kindred_registry::RegistryOptions {
        url: registry.url(),
        username: None,
        password: None,
        ca_file: None,
        timeout: Duration::from_secs(5),
    })?;
    Ok(client.schema_by_id(id).await?)
}

/// Switching an existing deployment to a registry: the compacted profile
/// topic keeps, for every profile not changed since, a record under the
/// configured id, which the registry does not give or gives another
/// team's schema. `kindred restore` and `rebuild` read the topic back
/// ("cannot read the profile topic's versions back": for good) and so does
/// `eval --profile-topic`: they read such records with the configured
/// layout, and the switch's later ones under the registry's ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_written_before_the_switch_to_a_registry_are_read_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let before = isolated_config("registry_switch", dir.path());
    create_topics(&before).await?;
    let configured = WireCodec::with_default_ids()?;
    let change = |n: u64| {
        ProfileChange::erased(
            format!("{}{n:012}", kindred_resolver::PROFILE_ID_PREFIX),
            1,
            "erasure:x".into(),
            Vec::new(),
        )
    };
    for n in [1, 2] {
        let c = change(n);
        produce(
            &before,
            &before.topics.profiles,
            &c.profile_id,
            configured.encode(SchemaKind::ProfileChange, &c)?,
        )
        .await?;
    }
    // The registry: another team's schemas hold kindred's built-in ids.
    let registry = StandInRegistry::start().await?;
    let profile_default = SchemaKind::ProfileChange.default_id();
    for i in 1..=profile_default {
        registry.register(
            &format!("team-{i}-value"),
            &format!(r#"{{"type":"record","name":"T{i}","namespace":"com.example","fields":[{{"name":"id","type":"string"}}]}}"#),
        );
    }
    let mut after = before.clone();
    after.schemas.registry.url = registry.url();
    after.schemas.registry.timeout_ms = 2_000;
    let id = registry.register(
        &format!("{}-value", after.topics.profiles),
        SchemaKind::ProfileChange.current().text,
    );
    let registered = WireCodec::for_registry(after.schemas.max_message_bytes)?
        .with_registered_id(SchemaKind::ProfileChange, id)?;
    let c = change(3);
    produce(
        &after,
        &after.topics.profiles,
        &c.profile_id,
        registered.encode(SchemaKind::ProfileChange, &c)?,
    )
    .await?;
    let published =
        kindred_pipeline::profile_topic::read_published(&after, Duration::from_secs(30)).await?;
    assert_eq!(published.len(), 3);
    assert_eq!(published.highest_profile_seq(), 3);
    Ok(())
}
