/// A schema file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema file {file} is not valid Avro: {message}")]
    Parse { file: String, message: String },
    #[error("cannot read schema file {file}: {message}")]
    Read { file: String, message: String },
    #[error("schema id {id} maps to {name:?}, which is not an embedded schema (known: {known})")]
    UnknownName {
        id: u32,
        name: String,
        known: String,
    },
    #[error("no schema id is configured for {name}: kindred cannot write it")]
    MissingId { name: String },
    #[error("schema id {id} is configured for both {first} and {second}")]
    DuplicateId {
        id: u32,
        first: String,
        second: String,
    },
}

/// Why a message could not be decoded. Each variant is a dead-letter reason;
/// [`DecodeError::kind`] is its stable, low-cardinality name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("message is empty")]
    Empty,
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized { size: usize, limit: usize },
    #[error("wrong magic byte {found:#04x}: expected 0x00 (Confluent wire format)")]
    WrongMagicByte { found: u8 },
    #[error("message of {size} bytes is too short for the 5-byte Confluent header")]
    TruncatedHeader { size: usize },
    #[error("unknown schema id {id}: no schema in the configured [schemas] ids has it")]
    UnknownSchemaId { id: u32 },
    #[error("schema id {id} is {found}, but this topic carries {expected}")]
    UnexpectedSchema {
        id: u32,
        found: String,
        expected: String,
    },
    #[error("Avro body does not match {schema}: {message}")]
    Body { schema: String, message: String },
    #[error("{trailing} unread bytes after the Avro body of {schema}")]
    TrailingBytes { schema: String, trailing: usize },
    #[error("JSON does not match {schema}: {message}")]
    Json { schema: String, message: String },
}

impl DecodeError {
    /// Stable name for the dead-letter `reason` header and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::Oversized { .. } => "oversized",
            DecodeError::WrongMagicByte { .. } => "wrong_magic_byte",
            DecodeError::TruncatedHeader { .. } => "truncated",
            DecodeError::UnknownSchemaId { .. } => "unknown_schema_id",
            DecodeError::UnexpectedSchema { .. } => "unexpected_schema",
            DecodeError::Body { .. } => "malformed_body",
            DecodeError::TrailingBytes { .. } => "trailing_bytes",
            DecodeError::Json { .. } => "invalid_json",
        }
    }
}

/// A record that could not be encoded: always a bug in kindred (the record
/// type and its schema disagree), never bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a record as {schema}: {message}")]
pub struct EncodeError {
    pub schema: String,
    pub message: String,
}
