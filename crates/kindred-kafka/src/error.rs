/// A Kafka operation that failed, with what kindred was doing at the time.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("cannot create a Kafka {what} for brokers {brokers}: {source}")]
    Client {
        what: &'static str,
        brokers: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot create topic {topic}: {message}")]
    CreateTopic { topic: String, message: String },
    #[error("Kafka {operation} failed: {source}")]
    Operation {
        operation: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("delivery to {topic} was not acknowledged: {source}")]
    Delivery {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("topic {topic} does not exist (create it with `kindred topics create`)")]
    UnknownTopic { topic: String },
    #[error("Kafka {operation} did not finish within {after:?}")]
    Timeout {
        operation: String,
        after: std::time::Duration,
    },
    #[error("Kafka transaction of {transactional_id} failed: {source}")]
    Transaction {
        transactional_id: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("delivery to {topic} was cancelled: the producer shut down")]
    DeliveryCancelled { topic: String },
}

impl KafkaError {
    /// Wraps an rdkafka error with what kindred was doing.
    pub fn op(
        operation: impl Into<String>,
    ) -> impl FnOnce(rdkafka::error::KafkaError) -> KafkaError {
        let operation = operation.into();
        move |source| KafkaError::Operation { operation, source }
    }
}
