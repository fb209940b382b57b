//! Avro schemas of kindred and the wire formats that carry them.
//!
//! - [`SchemaKind`] names each schema file in `schemas/`; the files are embedded
//!   at build time and parsed once ([`Catalog`]).
//! - [`WireCodec`] encodes and decodes records in the Confluent wire format
//!   (magic byte 0, 4-byte big-endian schema id, Avro binary body) or as JSON
//!   validated against the same schema, with a precise [`DecodeError`] for
//!   every way a message can be bad.
//!
//! Generic over the record types (any serde type matching its schema); it
//! does not depend on `kindred-model` except in tests.

mod catalog;
mod codec;
mod compat;
mod error;
mod json;
mod writer;

pub use catalog::{default_history_ids, Catalog, SchemaKind, SchemaSource, CURRENT, HISTORY};
pub use codec::{Framing, WireCodec, MAGIC_BYTE};
pub use compat::{check_embedded, check_files, CheckResult, Compatibility, CompatibilityLevel};
pub use error::{looks_like_a_field_name, without_values, DecodeError, EncodeError, SchemaError};
