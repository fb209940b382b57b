//! Generated events onto the raw channel topics, exactly as the channel
//! systems would write them: Avro in the Confluent wire format, or JSON for
//! a channel the configuration's `[schemas.framing]` says is "json".

use kindred_config::Config;
use kindred_gen::Generated;
use kindred_kafka::{OutRecord, Producer};
use kindred_model::raw::RawEvent;
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::topics::{raw_framing, raw_topic};
use kindred_pipeline::{encode_raw_as, Schemas};
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
        let framing = raw_framing(&self.config, channel);
        let payload =
            encode_raw_as(&self.codec, event, framing).map_err(|source| LoadError::Encode {
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

#[cfg(test)]
mod tests {
    use kindred_gen::{generate, GenOptions};
    use kindred_model::Channel;

    use super::*;

    /// The load tool writes each channel as its ingest service will read
    /// it: a channel configured "json" gets JSON objects, the others
    /// Confluent-framed Avro (magic byte 0). No record is sent.
    #[tokio::test]
    async fn each_channel_is_written_in_its_configured_framing() {
        let mut config = Config::default();
        config.schemas.framing.insert("web".into(), "json".into());
        let writer = RawWriter::new(&config).await.expect("writer");
        let mut seen = Vec::new();
        for g in generate(&GenOptions {
            people: 30,
            ..GenOptions::default()
        }) {
            let channel = g.event.channel();
            let record = writer.record(&g.event).expect("record");
            assert_eq!(record.topic, raw_topic(&config, channel));
            let first = record.payload.first().copied();
            match channel {
                Channel::Web => assert_eq!(first, Some(b'{'), "web is JSON"),
                _ => assert_eq!(first, Some(0), "{channel} is Confluent Avro"),
            }
            seen.push(channel);
        }
        for channel in Channel::ALL {
            assert!(seen.contains(&channel), "no {channel} event generated");
        }
    }
}
