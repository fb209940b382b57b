/// Why a pipeline service or tool stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Schema(#[from] kindred_schema::SchemaError),
    #[error(transparent)]
    Encode(#[from] kindred_schema::EncodeError),
    #[error(transparent)]
    Kafka(#[from] kindred_kafka::KafkaError),
    #[error(transparent)]
    Store(#[from] kindred_resolver::StoreError),
    #[error(transparent)]
    Http(#[from] kindred_ops::HttpError),
    #[error(transparent)]
    Keys(#[from] kindred_crypto::KeyError),
    #[error(transparent)]
    Registry(#[from] kindred_registry::RegistryError),
    #[error("cannot create the demo's temporary directory: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("{0}")]
    Config(String),
    #[error("outbox publishing: {0}")]
    Progress(String),
    #[error("{what} cannot be produced, so the service stops rather than lose it (read it at its source, fix the topic's limits and restart): {source}")]
    Unproducible {
        what: String,
        #[source]
        source: Box<kindred_kafka::KafkaError>,
    },
    #[error("the Kafka consumer failed for good ({0})")]
    Consumer(String),
    #[error("the transactional producer {0} was fenced: another instance with the same transactional id took over, or the broker aborted a transaction of this one that outlived transaction.timeout.ms (60 s: a transaction coordinator unavailable that long); stopping this one (a restart resumes where the store is, if no other instance runs)")]
    Fenced(String),
    /// A command's request never left the process: no broker answered.
    #[error("request {request_id} was not sent to {topic}, so nothing was requested and nothing erased or changed: {cause}")]
    NotSent {
        request_id: String,
        topic: String,
        cause: Box<kindred_kafka::KafkaError>,
    },
    /// A command's request was sent, but no reply came in time: it may
    /// still be applied (a resolver lagging or stopped reads it later).
    #[error("request {request_id} was sent to {topic}, but no reply for it appeared on {reply_topic} within {secs}s: it is applied when the resolver reads it (is the resolver running? lagging?); look for the request id on {reply_topic} before sending it again")]
    NoReply {
        request_id: String,
        topic: String,
        reply_topic: String,
        secs: u64,
    },
    #[error("cannot read input {0}")]
    Input(String),
    /// The running resolver refused a live decision; the reply as JSON
    /// (what `--json` prints on standard output).
    #[error("the resolver refused the decision: {0}")]
    Refused(String),
    /// An erasure request that erased no one because its identifier is
    /// shared: the audit record (text or JSON) as `forget` reports it.
    #[error("nobody was erased: the identifier is shared (quarantined, or held by several people); erase by profile id (`kindred forget --profile ID`, see `kindred explain`)\n{0}")]
    NotErased(String),
}
