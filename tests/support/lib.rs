//! Shared harness of the end-to-end tests: a real broker (started by
//! `deploy/local/kafka.sh start`), isolated topic names per test, and
//! helpers to produce raw messages and read topics back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use kindred_config::Config;
use kindred_kafka::rdkafka::consumer::{Consumer, StreamConsumer};
use kindred_kafka::rdkafka::message::OwnedMessage;
use kindred_kafka::{ensure_topics, OutRecord, Producer};
use kindred_pipeline::services::kafka_settings;

/// The logs of this test process, captured from the first call on (one
/// subscriber per test binary, at the `filter` of that first call):
/// kindred's tracing events and librdkafka's log lines, which rdkafka
/// sends through the `log` crate.
pub fn capture_logs(filter: &str) -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .try_init()
            .expect("the only subscriber of this test binary");
        logs
    })
    .clone()
}

/// What [`capture_logs`] has captured so far, as text.
pub fn captured_text() -> String {
    let logs = capture_logs("info");
    let logs = logs.lock().unwrap_or_else(PoisonError::into_inner);
    String::from_utf8_lossy(&logs).into_owned()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut logs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        logs.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The broker the tests use: `KINDRED_TEST_BROKERS`, or the local script's default.
pub fn brokers() -> String {
    std::env::var("KINDRED_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// A configuration whose topics, consumer groups and store are this test's
/// alone, so tests can share one broker and run in parallel.
pub fn isolated_config(test: &str, data_dir: &std::path::Path) -> Config {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let run = format!("{test}-{}-{nanos}", std::process::id());
    let mut base = Config::default();
    base.kafka.brokers = brokers();
    base.kafka.group_prefix = "kindred-test".into();
    let mut c = base.scoped(&run);
    c.resolver.data_dir = data_dir.to_path_buf();
    c.privacy.keyring_file = Some(test_keyring(data_dir));
    c.http.listen = "127.0.0.1:0".into();
    c.ingest.batch_linger_ms = 20;
    c.resolver.batch_linger_ms = 20;
    c
}

/// Makes the services of `config` leave their group when they do not poll
/// for 7 s (`max.poll.interval.ms`; the session timeout at the broker's
/// least, 6 s): what a test of a long wait needs, instead of 5 minutes.
pub fn leaves_its_group_unpolled_for_7s(config: &mut Config) {
    config
        .kafka
        .client
        .insert("max.poll.interval.ms".into(), "7000".into());
    config
        .kafka
        .client
        .insert("session.timeout.ms".into(), "6000".into());
}

/// A keyring for a test's store, inside its directory (made once), so it
/// goes with the test's temp dir: the services run keyed and sealed, as in
/// production. (RocksDB leaves files it does not know alone.)
pub fn test_keyring(data_dir: &std::path::Path) -> std::path::PathBuf {
    let path = data_dir.join("test.keyring.toml");
    if !path.exists() {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        kindred_crypto::write_keyring(&path, &kindred_crypto::Keyring::generate())
            .unwrap_or_else(|e| panic!("cannot write the test keyring: {e}"));
    }
    path
}

/// Starts the pipeline as it runs in production: one ingest service per
/// channel and the resolver, as tasks sharing `shutdown`. Await the handles
/// after triggering it.
pub fn start_pipeline(
    config: &Config,
    shutdown: &kindred_pipeline::Shutdown,
) -> Vec<tokio::task::JoinHandle<Result<(), kindred_pipeline::PipelineError>>> {
    use kindred_pipeline::services::{ingest, Ops};
    let mut tasks = Vec::new();
    for channel in kindred_pipeline::Channel::ALL {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            let ops = Ops::start(&config, &format!("ingest-{channel}")).await?;
            ingest::run(&config, channel, &ops, shutdown).await
        }));
    }
    tasks.push(start_resolver(config, shutdown));
    tasks
}

/// Starts the resolver service alone, as a task stopped by `shutdown`.
pub fn start_resolver(
    config: &Config,
    shutdown: &kindred_pipeline::Shutdown,
) -> tokio::task::JoinHandle<Result<(), kindred_pipeline::PipelineError>> {
    use kindred_pipeline::services::{resolve, Ops};
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move {
        let ops = Ops::start(&config, "resolve").await?;
        resolve::run(&config, &ops, shutdown).await
    })
}

/// The local broker's SASL_SSL listener as `deploy/local/kafka.sh secure-env`
/// gives it to users: the bootstrap servers and the Kafka client properties
/// (TLS with the local CA, SCRAM user and password), read by evaluating the
/// script's exports in a shell. Fails with the script's hint when the broker
/// has no such listener (e.g. one started by an older script).
pub fn secure_listener() -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/local/kafka.sh");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"exports="$("$0" secure-env)" && eval "$exports" && env -0"#)
        .arg(&script)
        // Only what the evaluated exports set: none of this process's KINDRED_ variables.
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| {
            [
                "PATH",
                "HOME",
                "KINDRED_CACHE",
                "KAFKA_PORT",
                "KAFKA_SECURE_PORT",
                "KAFKA_RUN_DIR",
            ]
            .contains(&k.as_str())
        }))
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "the local broker's SASL_SSL listener is not available ({} secure-env): {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut brokers = None;
    let mut client = BTreeMap::new();
    for entry in out.stdout.split(|b| *b == 0) {
        let entry = String::from_utf8_lossy(entry);
        let Some((name, value)) = entry.split_once('=') else {
            continue;
        };
        if name == "KINDRED_KAFKA__BROKERS" {
            brokers = Some(value.to_string());
        } else if let Some(property) = name.strip_prefix("KINDRED_KAFKA_CLIENT_") {
            // As kindred-config maps them: `_` stands for `.`.
            client.insert(
                property.to_ascii_lowercase().replace('_', "."),
                value.to_string(),
            );
        }
    }
    let brokers = brokers.context("kafka.sh secure-env set no KINDRED_KAFKA__BROKERS")?;
    Ok((brokers, client))
}

/// [`isolated_config`] whose every Kafka client goes through the local
/// broker's SASL_SSL listener ([`secure_listener`]).
pub fn secure_config(test: &str, data_dir: &std::path::Path) -> anyhow::Result<Config> {
    let (brokers, client) = secure_listener()?;
    let mut c = isolated_config(test, data_dir);
    c.kafka.brokers = brokers;
    c.kafka.client = client;
    Ok(c)
}

/// Creates the configuration's topics, failing with a hint when no broker answers.
pub async fn create_topics(config: &Config) -> anyhow::Result<()> {
    let settings = kafka_settings(config);
    tokio::time::timeout(
        Duration::from_secs(60),
        ensure_topics(&settings, &kindred_pipeline::topics::all_topics(config)),
    )
    .await
    .with_context(|| {
        format!(
            "no Kafka broker answered at {} within 60 s: start one with `deploy/local/kafka.sh start`",
            config.kafka.brokers
        )
    })??;
    Ok(())
}

/// Produces `payload` to `topic` and returns (partition, offset).
pub async fn produce(
    config: &Config,
    topic: &str,
    key: &str,
    payload: Vec<u8>,
) -> anyhow::Result<(i32, i64)> {
    produce_with_headers(config, topic, key, payload, vec![]).await
}

/// [`produce`], the record carrying `headers` (a producer's own: trace
/// context, a portal's fields).
pub async fn produce_with_headers(
    config: &Config,
    topic: &str,
    key: &str,
    payload: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<(i32, i64)> {
    let producer = Producer::new(&kafka_settings(config))?;
    Ok(producer
        .send(&OutRecord {
            topic: topic.into(),
            key: Some(key.as_bytes().to_vec()),
            payload,
            headers,
            timestamp_ms: None,
        })
        .await?)
}

/// Deletes `topic` (a topic gone: its writes wait, then fail, until
/// [`create_topics`] makes it again).
pub async fn delete_topic(config: &Config, topic: &str) -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(config).client_config(&[]).create()?;
    for result in admin.delete_topics(&[topic], &AdminOptions::new()).await? {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot delete {topic}: {code}"))?;
    }
    Ok(())
}

/// Deletes `topic`'s partition `partition` below `offset`, as retention
/// outrun by an outage (or `kafka-delete-records`) would.
pub async fn delete_records(
    config: &Config,
    topic: &str,
    partition: i32,
    offset: i64,
) -> anyhow::Result<()> {
    use kindred_kafka::rdkafka::admin::{AdminClient, AdminOptions};
    use kindred_kafka::rdkafka::client::DefaultClientContext;
    use kindred_kafka::rdkafka::{Offset, TopicPartitionList};
    let admin: AdminClient<DefaultClientContext> =
        kafka_settings(config).client_config(&[]).create()?;
    let mut upto = TopicPartitionList::new();
    upto.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    admin.delete_records(&upto, &AdminOptions::new()).await?;
    Ok(())
}

/// Reads `topic` from the beginning until `done` holds for what was read, or
/// fails after `timeout` with what it had.
pub async fn read_until(
    config: &Config,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[OwnedMessage]) -> bool,
) -> anyhow::Result<Vec<OwnedMessage>> {
    let group = format!("{}.reader.{topic}", config.kafka.group_prefix);
    let consumer: StreamConsumer = kafka_settings(config)
        .client_config(&[
            ("group.id", &group),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"),
            ("isolation.level", "read_committed"),
        ])
        .create()?;
    consumer.subscribe(&[topic])?;
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    loop {
        if done(&out) {
            return Ok(out);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!(
                "timed out after {timeout:?} reading {topic}: {} messages read",
                out.len()
            );
        }
        if let Ok(m) =
            tokio::time::timeout(left.min(Duration::from_millis(500)), consumer.recv()).await
        {
            out.push(m?.detach());
        }
    }
}

/// Every message `topic` holds now as a `read_committed` reader sees it,
/// read to the end of each partition: for counting exactly what a topic
/// holds ([`read_until`] returns at the first read that satisfies it, so
/// it cannot see a surplus).
pub async fn read_all(config: &Config, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    use kindred_kafka::rdkafka::consumer::BaseConsumer;
    use kindred_kafka::rdkafka::error::KafkaError;
    use kindred_kafka::rdkafka::{Offset, TopicPartitionList};
    let settings = kafka_settings(config);
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<OwnedMessage>> {
        let consumer: BaseConsumer = settings
            .client_config(&[
                ("group.id", "kindred-tests-read-all"),
                ("enable.auto.commit", "false"),
                ("enable.partition.eof", "true"),
                ("isolation.level", "read_committed"),
            ])
            .create()?;
        let metadata = consumer.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
        let partitions = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len());
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition_offset(&topic, p as i32, Offset::Beginning)?;
        }
        consumer.assign(&list)?;
        let mut out = Vec::new();
        let mut at_end = std::collections::BTreeSet::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while at_end.len() < partitions {
            if Instant::now() > deadline {
                bail!(
                    "timed out reading {topic} to its end: {} messages read",
                    out.len()
                );
            }
            match consumer.poll(Duration::from_millis(200)) {
                None => {}
                Some(Ok(m)) => out.push(m.detach()),
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                Some(Err(e)) => return Err(e.into()),
            }
        }
        Ok(out)
    })
    .await?
}

/// What `topic` holds once it holds anything (within a minute).
pub async fn read_some(config: &Config, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    read_until(config, topic, Duration::from_secs(60), |m| !m.is_empty()).await
}

/// A message's headers as text.
pub fn headers(message: &OwnedMessage) -> BTreeMap<String, String> {
    kindred_kafka::headers::of(message)
        .into_iter()
        .map(|(name, value)| {
            (
                name.into_owned(),
                String::from_utf8_lossy(value.unwrap_or_default()).into_owned(),
            )
        })
        .collect()
}

/// Raw channel records for tests, with every optional field empty.
pub mod raw {
    use kindred_model::raw::{PosTransaction, RawEvent, SocialInteraction, WebEvent};

    /// A POS receipt of 100.00 CNY.
    pub fn pos(
        id: &str,
        member: Option<&str>,
        phone: Option<&str>,
        name: Option<&str>,
        t: i64,
        points: i64,
    ) -> RawEvent {
        RawEvent::Pos(PosTransaction {
            transaction_id: id.into(),
            store_id: "S01".into(),
            terminal_id: "1".into(),
            receipt_no: format!("R-{id}"),
            cashier_id: None,
            loyalty_program: None,
            member_card_no: member.map(Into::into),
            phone: phone.map(Into::into),
            customer_name: name.map(Into::into),
            amount_minor: 10_000,
            currency: "CNY".into(),
            line_items: vec![],
            points_earned: points,
            points_redeemed: 0,
            payment_type: None,
            event_time: t,
        })
    }

    /// A web-shop signup.
    pub fn web(id: &str, email: Option<&str>, phone: Option<&str>, t: i64) -> RawEvent {
        RawEvent::Web(WebEvent {
            event_id: id.into(),
            event_type: "signup".into(),
            user_id: None,
            anonymous_id: None,
            email: email.map(Into::into),
            phone: phone.map(Into::into),
            name: None,
            given_name: None,
            family_name: None,
            birthday: None,
            gender: None,
            address: None,
            sku: None,
            order: None,
            order_amount_minor: None,
            currency: None,
            consents: vec![],
            event_time: t,
        })
    }

    /// A WeChat follow.
    pub fn social(
        id: &str,
        openid: &str,
        phone: Option<&str>,
        email: Option<&str>,
        t: i64,
    ) -> RawEvent {
        RawEvent::Social(SocialInteraction {
            event_id: id.into(),
            platform: "WeChat".into(),
            platform_user_id: openid.into(),
            union_id: None,
            handle: None,
            display_name: None,
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            interaction_type: "follow".into(),
            sku: None,
            order: None,
            event_time: t,
        })
    }
}

/// Runs `deploy/local/kafka.sh ARGS` with `stdin` and returns what it did.
pub fn kafka_sh(args: &[&str], stdin: &str) -> anyhow::Result<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("bash")
        .arg(format!("{root}/deploy/local/kafka.sh"))
        .args(args)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running deploy/local/kafka.sh (needs Java 17 and Maven)")?;
    // Fed on a thread while its output is read (a pipe holds 64 KiB); a
    // script that exits without reading it (say, an install failed) says
    // why on stderr, which a broken pipe here must not hide.
    let mut input = child.stdin.take().context("the script's stdin")?;
    let stdin = stdin.to_owned();
    let feeder = std::thread::spawn(move || match input.write_all(stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    });
    let out = child.wait_with_output()?;
    feeder
        .join()
        .map_err(|_| anyhow::anyhow!("the thread feeding kafka.sh panicked"))??;
    Ok(out)
}

/// Runs one of Kafka's own Java command-line tools (`CLASS`, e.g.
/// `org.apache.kafka.tools.ConsoleProducer`) with the jars
/// `deploy/local/kafka.sh` installed: a Kafka client that is not
/// librdkafka, as most channel systems and downstream consumers use. Feeds
/// `stdin` lines, returns what it printed; fails with its output when it
/// exits non-zero or logs an error.
pub fn kafka_java_tool(class: &str, args: &[&str], stdin: &[String]) -> anyhow::Result<String> {
    let input: String = stdin.iter().map(|l| format!("{l}\n")).collect();
    let out = kafka_sh(&[&["tool", class][..], args].concat(), &input)?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    anyhow::ensure!(
        out.status.success() && !stderr.contains("ERROR"),
        "{class} failed ({}): {stdout}{stderr}",
        out.status
    );
    Ok(stdout)
}
