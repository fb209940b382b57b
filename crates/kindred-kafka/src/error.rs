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
    #[error("[kafka.client] {property:?}: {message}")]
    ClientProperty { property: String, message: String },
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
    #[error(
        "Kafka transaction of {transactional_id} failed: {source}{}",
        if failed.is_empty() { String::new() } else { format!(" (records not delivered: {failed})") }
    )]
    Transaction {
        transactional_id: String,
        #[source]
        source: rdkafka::error::KafkaError,
        /// The records not delivered (yet) when the transaction failed, by
        /// topic: those with an error are the brokers' refusals; those
        /// without were still outstanding (after a flush timeout, or any
        /// failure that came first).
        failed: Box<crate::FailedDeliveries>,
    },
    /// The brokers refused the connection: authentication failed, or the
    /// TLS handshake did (retrying with the same settings cannot help).
    #[error(
        "Kafka {operation} failed: brokers {brokers} refused the connection: {reason} \
         (check the security settings in [kafka.client])"
    )]
    Refused {
        operation: String,
        brokers: String,
        reason: String,
    },
    /// No broker of the bootstrap list could be reached for a while: a
    /// wrong address, or the cluster is down.
    #[error(
        "Kafka {operation} failed: no broker in kafka.brokers ({brokers}) answers \
         (is the address right, and the cluster up?)"
    )]
    NoBroker { operation: String, brokers: String },
    /// No broker answered a command's first request in time: nothing it
    /// would have sent left the process.
    #[error("no Kafka broker at {brokers} (kafka.brokers) answered within {} s ({reason}): is the address right, and the cluster up?", after.as_secs_f32().ceil())]
    Unreachable {
        brokers: String,
        after: std::time::Duration,
        reason: String,
    },
    #[error("delivery to {topic} was cancelled: the producer shut down")]
    DeliveryCancelled { topic: String },
    /// librdkafka gave up on the producer for good (an idempotent
    /// producer's sequence lost after log truncation, a refused producer
    /// id): every later send fails, so retrying cannot help; a new
    /// producer (a restart) can.
    #[error("the Kafka producer failed fatally ({code}: {reason}); it cannot send again")]
    Fatal { code: String, reason: String },
}

impl KafkaError {
    /// Whether the record itself can never be produced as it is (too large
    /// for the producer or the topic's `max.message.bytes`, or refused as
    /// invalid): retrying it cannot succeed, unlike a broker outage.
    pub fn is_unproducible(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode as Code;
        match self {
            KafkaError::Delivery { source, .. } => matches!(
                source.rdkafka_error_code(),
                Some(
                    Code::MessageSizeTooLarge
                        | Code::MessageBatchTooLarge
                        | Code::InvalidRecord
                        | Code::InvalidMessageSize
                        | Code::InvalidMessage
                )
            ),
            _ => false,
        }
    }

    /// A record its topic refused for its timestamp (older, or further
    /// ahead, than the topic's `message.timestamp.*` settings allow).
    /// A delivery its topic refuses for good: [`Self::is_unproducible`],
    /// or a topic that does not exist (producers ask no broker to create
    /// one). A timeout, a broker out of reach, or a client without the
    /// right to write (run with another's credentials, it may well have
    /// it) is not.
    pub fn is_refused_for_good(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode as Code;
        self.is_unproducible()
            || matches!(
                self,
                KafkaError::Delivery { source, .. } if matches!(
                    source.rdkafka_error_code(),
                    Some(
                        Code::UnknownTopic
                            | Code::UnknownTopicOrPartition
                            | Code::UnknownPartition
                            | Code::InvalidTopic
                    )
                )
            )
    }

    pub fn is_invalid_timestamp(&self) -> bool {
        matches!(
            self,
            KafkaError::Delivery { source, .. }
                if source.rdkafka_error_code()
                    == Some(rdkafka::types::RDKafkaErrorCode::InvalidTimestamp)
        )
    }

    /// A client could not be created. When librdkafka rejected a
    /// pass-through property, its value is not repeated in the error: it may
    /// be a secret (`sasl.password`, or a misspelling of it).
    pub fn client(
        what: &'static str,
        settings: &crate::KafkaSettings,
        source: rdkafka::error::KafkaError,
    ) -> KafkaError {
        let source = match source {
            rdkafka::error::KafkaError::ClientConfig(code, description, key, value)
                if settings.client.contains_key(&key) =>
            {
                let description = if value.is_empty() {
                    description
                } else {
                    description.replace(&value, "********")
                };
                rdkafka::error::KafkaError::ClientConfig(code, description, key, "********".into())
            }
            other => other,
        };
        KafkaError::Client {
            what,
            brokers: settings.brokers.clone(),
            source,
        }
    }

    /// Wraps an rdkafka error with what kindred was doing.
    pub fn op(
        operation: impl Into<String>,
    ) -> impl FnOnce(rdkafka::error::KafkaError) -> KafkaError {
        let operation = operation.into();
        move |source| KafkaError::Operation { operation, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_pass_through_property_does_not_show_its_value() {
        let mut settings = crate::KafkaSettings::new("127.0.0.1:9094");
        settings
            .client
            .insert("sasl.passwrd".into(), "hunter2-secret".into());
        let source = settings
            .client_config(&[])
            .create::<rdkafka::producer::BaseProducer>()
            .err()
            .expect("librdkafka rejects an unknown property");
        assert!(source.to_string().contains("hunter2-secret"), "{source}");
        let error = KafkaError::client("producer", &settings, source);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("sasl.passwrd"), "{shown}");
    }
}
