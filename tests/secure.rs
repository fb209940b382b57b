//! Secured Kafka (issue 9), through the local broker's SASL_SSL listener
//! (`deploy/local/kafka.sh start` sets it up: TLS with a self-signed CA,
//! SCRAM-SHA-512): the pipeline runs with every Kafka client configured by
//! `[kafka.client]` properties and the broker's certificate verified; a wrong
//! password or an unknown CA is refused at once with a clear error; the
//! password shows in neither the services' logs nor `config check`.
//!
//! A broker without the listener (started by an older kafka.sh) fails these
//! tests with the hint to run `deploy/local/kafka.sh restart`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::ensure_topics;
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_model::raw::RawEvent;
use kindred_model::{Identifier, IdentifierKind, ProfileChange};
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::Shutdown;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::raw::{pos, social, web};
use kindred_suite::{create_topics, produce, read_until, secure_config};

const T0: i64 = 1_735_689_600_000;

/// Everything logged in this test process (kindred's tracing events and
/// librdkafka's log lines, which rdkafka sends through the `log` crate), at
/// debug level.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    kindred_suite::capture_logs("debug")
}

fn logs_text() -> String {
    kindred_suite::captured_text()
}

fn password(config: &Config) -> String {
    let password = config
        .kafka
        .client
        .get("sasl.password")
        .cloned()
        .unwrap_or_default();
    assert!(password.len() >= 16, "kafka.sh secure-env gives a password");
    password
}

fn encode(codec: &WireCodec, raw: &RawEvent) -> Vec<u8> {
    kindred_pipeline::encode_raw(codec, raw).expect("test records match their schemas")
}

/// The live golden records' identifier sets and event counts, from the
/// profile topic (the latest change per profile id).
fn live(codec: &WireCodec, messages: &[OwnedMessage]) -> Vec<(Vec<Identifier>, i64)> {
    let mut latest: BTreeMap<String, ProfileChange> = BTreeMap::new();
    for m in messages {
        let change: ProfileChange = codec
            .decode(
                Framing::Confluent,
                SchemaKind::ProfileChange,
                m.payload().expect("payload"),
            )
            .expect("profile topic holds ProfileChange records");
        latest.insert(change.profile_id.clone(), change);
    }
    let mut out: Vec<_> = latest
        .into_values()
        .filter_map(|c| c.record)
        .map(|r| {
            let mut ids = r.identifiers;
            ids.sort();
            (ids, r.event_count)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pipeline_runs_through_sasl_ssl() -> anyhow::Result<()> {
    let logs = captured_logs();
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let mut config = secure_config("secure", dir.path())?;
    let password = password(&config);
    assert_eq!(
        config
            .kafka
            .client
            .get("security.protocol")
            .map(String::as_str),
        Some("SASL_SSL")
    );
    assert_eq!(
        config
            .kafka
            .client
            .get("ssl.endpoint.identification.algorithm")
            .map(String::as_str),
        Some("https"),
        "the broker's host name is verified"
    );
    // librdkafka's own TLS and SASL debug lines too, in the logs checked below.
    config
        .kafka
        .client
        .insert("debug".into(), "security".into());
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;

    // A: web signup (email + phone), WeChat follow with the same phone, then a
    // till receipt with card and phone; B: a till receipt with a card.
    let events = [
        web(
            "A-WEB-1",
            Some("li.wei@qq.com"),
            Some("+86 139-1024-8876"),
            T0,
        ),
        social(
            "A-SOC-1",
            "oA_openid_1",
            Some("13910248876"),
            None,
            T0 + 1_000,
        ),
        pos(
            "A-POS-1",
            Some("M-A001"),
            Some("13910248876"),
            Some("李伟"),
            T0 + 2_000,
            10,
        ),
        pos(
            "B-POS-1",
            Some("M-B002"),
            None,
            Some("Maria Sentosa"),
            T0 + 3_000,
            40,
        ),
    ];
    for raw in &events {
        let topic = kindred_pipeline::topics::raw_topic(&config, raw.channel()).to_string();
        produce(&config, &topic, raw.source_id(), encode(&codec, raw)).await?;
    }

    // The services as they run in production, every client through SASL_SSL.
    let shutdown = Shutdown::new();
    let tasks = kindred_suite::start_pipeline(&config, &shutdown);

    // As the output policy publishes them (identifiers hashed or masked).
    let protection = kindred_pipeline::output_policy::OutputProtection::from_config(&config)?;
    let published = |ids: Vec<Identifier>| {
        kindred_pipeline::output_policy::identifiers(
            protection.profiles(),
            protection.keyring(),
            ids,
        )
    };
    let a = published(vec![
        Identifier::new(IdentifierKind::MemberId, "MAIN:M-A001"),
        Identifier::new(IdentifierKind::Email, "li.wei@qq.com"),
        Identifier::new(IdentifierKind::Phone, "+8613910248876"),
        Identifier::new(IdentifierKind::Social, "wechat:oA_openid_1"),
    ])?;
    let b = published(vec![Identifier::new(
        IdentifierKind::MemberId,
        "MAIN:M-B002",
    )])?;
    let mut expected = vec![(a, 3), (b, 1)];
    expected.sort();
    let messages = read_until(
        &config,
        &config.topics.profiles,
        Duration::from_secs(90),
        |m| live(&codec, m) == expected,
    )
    .await?;
    assert_eq!(live(&codec, &messages), expected);
    let canonical = read_until(
        &config,
        &config.topics.canonical,
        Duration::from_secs(30),
        |m| m.len() >= 4,
    )
    .await?;
    drop(canonical);

    shutdown.trigger();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task).await???;
    }
    // Counted on the whole topic once the services have stopped.
    assert_eq!(
        kindred_suite::read_all(&config, &config.topics.canonical)
            .await?
            .len(),
        4,
        "each event once on the canonical topic"
    );
    eprintln!("the pipeline through SASL_SSL took {:?}", started.elapsed());

    // The services logged, librdkafka's security debug lines showing the
    // broker's certificate verified, its host name checked and SCRAM
    // authentication, and never the password.
    let text = logs_text();
    drop(logs);
    assert!(
        text.contains("resolver started"),
        "the services' logs are captured"
    );
    let user = &config.kafka.client["sasl.username"];
    for line in [
        "Broker SSL certificate verified".to_string(),
        "Enabled endpoint identification using hostname 127.0.0.1".to_string(),
        format!("Authenticated as {user} using SCRAM-SHA-512"),
    ] {
        assert!(text.contains(&line), "no {line:?} in the logs");
    }
    assert!(
        !text.contains(&password),
        "the SCRAM password is in the logs"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_at_once_with_an_authentication_error() -> anyhow::Result<()> {
    let _logs = captured_logs();
    let dir = tempfile::tempdir()?;
    let mut config = secure_config("secure-wrong-password", dir.path())?;
    let wrong = format!("not-{}", password(&config));
    config
        .kafka
        .client
        .insert("sasl.password".into(), wrong.clone());
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        ensure_topics(
            &kafka_settings(&config),
            &kindred_pipeline::topics::all_topics(&config),
        ),
    )
    .await
    .expect("a wrong password fails, it does not hang");
    let error = result.expect_err("a wrong password is refused").to_string();
    eprintln!("refused after {:?}: {error}", started.elapsed());
    assert!(
        error.contains("Authentication failed") && error.contains("SCRAM-SHA-512"),
        "{error}"
    );
    assert!(error.contains("[kafka.client]"), "{error}");
    assert!(!error.contains(&wrong), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "refused after {:?}",
        started.elapsed()
    );
    assert!(
        !logs_text().contains(&wrong),
        "the wrong password is in the logs"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_certificate_from_another_ca_is_refused() -> anyhow::Result<()> {
    let _logs = captured_logs();
    let dir = tempfile::tempdir()?;
    let other_ca = dir.path().join("other-ca.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the local kindred CA", "-keyout"])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut config = secure_config("secure-other-ca", dir.path())?;
    config
        .kafka
        .client
        .insert("ssl.ca.location".into(), other_ca.display().to_string());
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        ensure_topics(
            &kafka_settings(&config),
            &kindred_pipeline::topics::all_topics(&config),
        ),
    )
    .await
    .expect("an unverifiable broker fails, it does not hang");
    let error = result
        .expect_err("the broker's certificate is verified against ssl.ca.location")
        .to_string();
    eprintln!("refused: {error}");
    assert!(error.contains("certificate verify failed"), "{error}");
    Ok(())
}

/// `kindred config check` prints `Config::to_masked_toml` of what
/// `Config::load_with_sets` loaded: the listener's settings in a file, as a
/// user would keep them, load, and the password is masked; on the command
/// line it is refused without being echoed.
#[test]
fn config_check_masks_the_password_and_the_command_line_refuses_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = secure_config("secure-config-check", dir.path())?;
    let password = password(&config);
    let mut file = format!(
        "[kafka]\nbrokers = \"{}\"\n\n[kafka.client]\n",
        config.kafka.brokers
    );
    for (k, v) in &config.kafka.client {
        file.push_str(&format!("\"{k}\" = \"{v}\"\n"));
    }
    let path = dir.path().join("secure.toml");
    std::fs::write(&path, file)?;
    let loaded = Config::load_with_sets(Some(&path), serde_json::json!({}), &[])?;
    assert_eq!(loaded.kafka.client, config.kafka.client);
    let shown = loaded.to_masked_toml();
    assert!(!shown.contains(&password), "{shown}");
    assert!(
        shown.contains("\"sasl.password\" = \"********\""),
        "{shown}"
    );
    assert!(
        shown.contains("SASL_SSL") && shown.contains("ca.pem"),
        "{shown}"
    );
    let debug = format!("{loaded:?}");
    if let Some(at) = debug.find(&password) {
        // What precedes it, to name the field, but not the password itself.
        panic!(
            "the password is in Config's Debug form after: {}",
            &debug[at.saturating_sub(200)..at]
        );
    }

    let error = Config::load_with_sets(
        Some(&path),
        serde_json::json!({}),
        &[format!("kafka.client.sasl.password={password}")],
    )
    .expect_err("a password on the command line is refused")
    .to_string();
    assert!(
        error.contains("KINDRED_KAFKA_CLIENT_SASL_PASSWORD"),
        "{error}"
    );
    assert!(!error.contains(&password), "{error}");
    Ok(())
}
