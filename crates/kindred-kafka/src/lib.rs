//! Kafka plumbing for kindred, with no knowledge of customers or schemas:
//! client settings ([`KafkaSettings`]), topic administration ([`ensure_topics`]),
//! consumers with manual offset commits ([`consumer`]), an idempotent producer
//! whose sends are awaited until the broker acknowledges them ([`Producer`]),
//! a transactional producer ([`TransactionalProducer`]), the consumer
//! context that starts partitions at a service's stored positions
//! ([`ServiceContext`]), and the dead-letter envelope ([`DeadLetter`]).

mod admin;
pub mod consumer;
mod context;
mod dead_letter;
mod error;
pub mod headers;
mod logs;
pub mod placement;
mod producer;
mod settings;
mod transactional;

pub use admin::{delete_topics, ensure_topics, topic_setting, TopicSpec, TopicStatus};
pub use context::{
    partition_lags, AssignmentEpoch, PartitionLag, Positions, RebalanceEvent, ServiceContext,
};
pub use dead_letter::{DeadLetter, DLQ_HEADER_PREFIX};
pub use error::KafkaError;
pub use logs::{admit as admit_log, Hushed, Quiet};
pub use producer::{OutRecord, Producer};
pub use settings::{GroupProtocol, KafkaSettings};
pub use transactional::{FailedDeliveries, TransactionalProducer, TxnFailure};

/// The most key and payload bytes kindred puts in one record: under the
/// producer's (`message.max.bytes`) and the broker's default 1 MB limits,
/// with room for headers. A larger record would be refused by the producer
/// on every try, so services check their outputs against this first.
pub const MAX_RECORD_BYTES: usize = 900_000;

/// Re-exported so services can name message types without their own rdkafka dependency.
pub use rdkafka;
