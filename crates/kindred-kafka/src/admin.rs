use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

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
    let results = admin
        .create_topics(new_topics.iter(), &opts)
        .await
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

/// Deletes topics (those already gone are skipped).
pub async fn delete_topics(settings: &KafkaSettings, names: &[String]) -> Result<(), KafkaError> {
    let admin = admin_client(settings)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .delete_topics(&names, &opts)
        .await
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

fn admin_client(settings: &KafkaSettings) -> Result<AdminClient<DefaultClientContext>, KafkaError> {
    settings
        .client_config(&[])
        .create()
        .map_err(|source| KafkaError::Client {
            what: "admin client",
            brokers: settings.brokers.clone(),
            source,
        })
}
