use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use tokio::sync::watch;

use crate::{KafkaError, KafkaSettings};

/// A topic kindred needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    /// Topic configs, e.g. `cleanup.policy=compact`.
    pub config: Vec<(String, String)>,
}

/// What [`ensure_topics`] found or did for one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicStatus {
    Created,
    AlreadyExisted,
}

/// Creates each topic that does not exist yet. Existing topics are left as
/// they are (their partitions and configs are not changed).
pub async fn ensure_topics(
    settings: &KafkaSettings,
    topics: &[TopicSpec],
) -> Result<Vec<(String, TopicStatus)>, KafkaError> {
    let admin = admin_client(settings)?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            t.config.iter().fold(
                NewTopic::new(
                    &t.name,
                    t.partitions,
                    TopicReplication::Fixed(t.replication_factor),
                ),
                |nt, (k, v)| nt.set(k, v),
            )
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = unless_refused(
        settings,
        "create topics",
        admin.create_topics(new_topics.iter(), &opts),
    )
    .await?
    .map_err(KafkaError::op("create topics"))?;
    results
        .into_iter()
        .map(|result| match result {
            Ok(name) => Ok((name, TopicStatus::Created)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                Ok((name, TopicStatus::AlreadyExisted))
            }
            Err((topic, code)) => Err(KafkaError::CreateTopic {
                topic,
                message: code.to_string(),
            }),
        })
        .collect()
}

/// A topic's setting `name` as the broker reports it (its own or the
/// broker's default), `None` if the broker reports no such setting.
pub async fn topic_setting(
    settings: &KafkaSettings,
    topic: &str,
    name: &str,
) -> Result<Option<String>, KafkaError> {
    use rdkafka::admin::ResourceSpecifier;
    let admin = admin_client(settings)?;
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let what = format!("describe the configuration of topic {topic}");
    let results = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
        .await
        .map_err(KafkaError::op(what.clone()))?;
    for result in results {
        let resource = result.map_err(|code| {
            KafkaError::op(what.clone())(rdkafka::error::KafkaError::AdminOp(code))
        })?;
        if let Some(entry) = resource.get(name) {
            return Ok(entry.value.clone());
        }
    }
    Ok(None)
}

/// Deletes topics (those already gone are skipped).
pub async fn delete_topics(settings: &KafkaSettings, names: &[String]) -> Result<(), KafkaError> {
    let admin = admin_client(settings)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = unless_refused(
        settings,
        "delete topics",
        admin.delete_topics(&names, &opts),
    )
    .await?
    .map_err(KafkaError::op("delete topics"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::Operation {
                    operation: format!("delete topic {topic}"),
                    source: rdkafka::error::KafkaError::AdminOp(code),
                })
            }
        }
    }
    Ok(())
}

/// Hears of a refused connection. librdkafka reports one no retry can fix
/// (the brokers refused the credentials, or the TLS handshake failed: wrong
/// CA, wrong host name) as a client error event, but rdkafka's `AdminClient`
/// never serves its client's event queue, so an admin operation would only
/// time out. A producer opened alongside for the operation's duration
/// (rdkafka polls it in its own thread) connects to the same brokers with
/// the same settings and hears of it; its other errors are logged as
/// rdkafka's default context does.
struct RefusalWatch {
    refused: watch::Sender<Option<String>>,
    /// Every broker of the bootstrap list is down (librdkafka said so).
    down: watch::Sender<bool>,
}

impl ClientContext for RefusalWatch {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::logs::log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        crate::logs::client_error(&error, reason);
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.down.send_replace(true);
        }
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)
        ) {
            self.refused.send_if_modified(|first| {
                let new = first.is_none();
                if new {
                    *first = Some(reason.to_string());
                }
                new
            });
        }
    }
}

impl ProducerContext for RefusalWatch {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// How long an operation goes on once every broker is down: librdkafka
/// keeps reconnecting, and a broker that was starting answers within it.
const NO_BROKER_GRACE: Duration = Duration::from_secs(10);

/// `work`'s result, or [`KafkaError::Refused`] as soon as the brokers refuse
/// a connection made with `settings` ([`RefusalWatch`]), or
/// [`KafkaError::NoBroker`] when none has answered for [`NO_BROKER_GRACE`]
/// after librdkafka found them all down (an operation's own timeout is a
/// minute, and says only that it timed out).
async fn unless_refused<T>(
    settings: &KafkaSettings,
    operation: &str,
    work: impl std::future::Future<Output = T>,
) -> Result<T, KafkaError> {
    let watch: ThreadedProducer<RefusalWatch> = settings
        .client_config(&[])
        .create_with_context(RefusalWatch {
            refused: watch::Sender::new(None),
            down: watch::Sender::new(false),
        })
        .map_err(|source| KafkaError::client("connection probe", settings, source))?;
    let mut refused = watch.context().refused.subscribe();
    let refusal = async move {
        match refused.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    };
    let mut down = watch.context().down.subscribe();
    let unreachable = async move {
        if down.wait_for(|d| *d).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(NO_BROKER_GRACE).await;
    };
    tokio::select! {
        result = work => Ok(result),
        reason = refusal => Err(KafkaError::Refused {
            operation: operation.to_string(),
            brokers: settings.brokers.clone(),
            reason,
        }),
        () = unreachable => Err(KafkaError::NoBroker {
            operation: operation.to_string(),
            brokers: settings.brokers.clone(),
        }),
    }
}

fn admin_client(settings: &KafkaSettings) -> Result<AdminClient<crate::Quiet>, KafkaError> {
    settings
        .client_config(&[])
        .create_with_context(crate::Quiet)
        .map_err(|source| KafkaError::client("admin client", settings, source))
}
