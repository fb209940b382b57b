//! The kindred pipeline: its stages and the services that run them.
//!
//! - [`IngestStage`]: raw bytes of one channel in, a canonical event (or the
//!   precise reason it is bad) out. Pure: no Kafka, used by the ingest
//!   service and the demo alike.
//! - [`services::ingest`] and [`services::resolve`]: the Kafka services, each a
//!   poll loop that commits its input offsets only after its outputs are acknowledged.
//! - [`demo`]: the same stages in one process with no broker.
//! - [`topics`]: the topics kindred needs, from configuration.

pub mod demo;
mod error;
mod ingest;
pub mod services;
mod shutdown;
pub mod topics;

pub use error::PipelineError;
pub use ingest::IngestStage;
pub use kindred_model::Channel;
pub use shutdown::Shutdown;

use kindred_config::Config;
use kindred_schema::{SchemaKind, WireCodec};

/// The wire codec with the schema ids and size limit from configuration.
pub fn codec_from_config(config: &Config) -> Result<WireCodec, PipelineError> {
    let s = &config.schemas;
    Ok(WireCodec::new(
        [
            (SchemaKind::PosTransaction, s.pos_transaction_id),
            (SchemaKind::WebEvent, s.web_event_id),
            (SchemaKind::SocialInteraction, s.social_interaction_id),
            (SchemaKind::CanonicalEvent, s.canonical_event_id),
            (SchemaKind::ProfileChange, s.profile_change_id),
        ],
        s.max_message_bytes,
    )?)
}
