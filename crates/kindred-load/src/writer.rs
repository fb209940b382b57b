//! Generated events onto the raw channel topics, Avro in the Confluent wire
//! format, exactly as the channel systems would write them.

use kindred_config::Config;
use kindred_gen::Generated;
use kindred_kafka::{OutRecord, Producer};
use kindred_model::raw::RawEvent;
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::topics::raw_topic;
use kindred_pipeline::{encode_raw, Schemas};
use kindred_schema::{SchemaKind, WireCodec};

use crate::LoadError;

/// Writes raw events to the topics named in a configuration.
pub struct RawWriter {
    producer: Producer,
    codec: WireCodec,
    config: Config,
}

impl RawWriter {
    /// With `[schemas.registry]`, it registers the raw schemas under the
    /// channel topics' subjects first, as the channel systems' serializers do.
    pub async fn new(config: &Config) -> Result<Self, LoadError> {
        let writes = [
            (SchemaKind::PosTransaction, config.topics.pos.as_str()),
            (SchemaKind::WebEvent, config.topics.web.as_str()),
            (SchemaKind::SocialInteraction, config.topics.social.as_str()),
        ];
        let schemas = Schemas::from_config(config, &writes).await?;
        Ok(RawWriter {
            producer: Producer::new(&kafka_settings(config))?,
            codec: schemas.codec().as_ref().clone(),
            config: config.clone(),
        })
    }

    /// The record for one event: on its channel's raw topic, keyed by its
    /// source id (as a channel system that knows nothing of customers would).
    pub fn record(&self, event: &RawEvent) -> Result<OutRecord, LoadError> {
        let channel = event.channel();
        let payload = encode_raw(&self.codec, event).map_err(|source| LoadError::Encode {
            channel: channel.as_str(),
            source,
        })?;
        Ok(OutRecord {
            topic: raw_topic(&self.config, channel).to_string(),
            key: Some(event.source_id().as_bytes().to_vec()),
            payload,
            headers: Vec::new(),
            timestamp_ms: None,
        })
    }

    /// Sends records and waits until the broker acknowledged every one.
    pub async fn send(&self, records: &[OutRecord]) -> Result<(), LoadError> {
        Ok(self.producer.send_all(records).await?)
    }

    /// The producer, for callers that keep several sends in flight.
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Writes every event, in order, in acknowledged chunks; `progress` is
    /// called with the count written so far.
    pub async fn write_all(
        &self,
        events: &[Generated],
        mut progress: impl FnMut(usize),
    ) -> Result<usize, LoadError> {
        let mut written = 0;
        for chunk in events.chunks(2000) {
            let records = chunk
                .iter()
                .map(|g| self.record(&g.event))
                .collect::<Result<Vec<_>, _>>()?;
            self.send(&records).await?;
            written += chunk.len();
            progress(written);
        }
        Ok(written)
    }
}

/// The pipeline's id of a generated event (`channel:source-id`): what the
/// ground truth and the profile change events name it by.
pub fn event_id(event: &RawEvent) -> String {
    kindred_normalize::event_id(event.channel(), event.source_id())
}
