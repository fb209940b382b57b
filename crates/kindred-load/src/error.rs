use std::path::PathBuf;

/// Why a load run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Kafka(#[from] kindred_kafka::KafkaError),
    #[error(transparent)]
    Pipeline(#[from] kindred_pipeline::PipelineError),
    #[error(transparent)]
    Schema(#[from] kindred_schema::SchemaError),
    #[error("cannot encode a generated {channel} event: {source}")]
    Encode {
        channel: &'static str,
        #[source]
        source: kindred_schema::EncodeError,
    },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the {service} service ({}): {source}", exe.display())]
    Spawn {
        service: String,
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {service} service exited early ({status}); its log {}:\n{tail}", log.display())]
    ServiceDied {
        service: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("the {service} service was not ready within {secs} s (its /readyz at {addr}); see {}", log.display())]
    NotReady {
        service: String,
        secs: u64,
        addr: String,
        log: PathBuf,
    },
    #[error("{0}")]
    Invalid(String),
}
