use std::sync::Arc;

use kindred_model::raw::{PosTransaction, RawEvent, SocialInteraction, WebEvent};
use kindred_model::{CanonicalEvent, Channel};
use kindred_normalize::{normalize_at, InvalidRecord, NormalizeOptions};
use kindred_schema::{DecodeError, Framing, SchemaKind, WireCodec};

/// Why a raw message cannot become a canonical event: it does not decode,
/// it decodes into a record that cannot be an event, or (a bug) the event
/// cannot be encoded. Whichever, it is dead-lettered with
/// [`Rejection::kind`] as the reason and the service goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
    /// The canonical event could not be written in its schema (a bug, not
    /// the producer's fault; the message is kept on the dead-letter topic
    /// for a replay once fixed).
    #[error(transparent)]
    Encode(#[from] kindred_schema::EncodeError),
    /// The canonical event encodes larger than a Kafka record may be (a
    /// huge field, or text that Unicode normalization expands): the
    /// producer would refuse it on every try.
    #[error("the canonical event is {bytes} bytes with its key, more than the {limit} a record may carry")]
    OversizedOutput { bytes: usize, limit: usize },
    /// Decoding or normalizing the message panicked (a bug in kindred or
    /// a library it uses): the message is dead-lettered rather than stop
    /// the service on it at every start (the service then commits past it
    /// and stops, so a restart clears what the panic may have left
    /// broken). The panic's own words are not repeated (they may quote a
    /// value).
    #[error(
        "kindred failed on this message (a bug: report it, and replay the message once fixed)"
    )]
    Panicked,
}

impl Rejection {
    /// Stable, low-cardinality reason name.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Decode(e) => e.kind(),
            Rejection::Invalid(e) => e.kind(),
            Rejection::Encode(_) => "unencodable",
            Rejection::OversizedOutput { .. } => "oversized_output",
            Rejection::Panicked => "internal_panic",
        }
    }
}

/// Runs `work` on one message; a panic in it becomes
/// [`Rejection::Panicked`] (the message's dead letter), not the end of the
/// service, which would meet the same message again after every restart.
fn guarded<T>(work: impl FnOnce() -> Result<T, Rejection>) -> Result<T, Rejection> {
    catch_panic(work, Rejection::Panicked)
}

/// `work`, or `Err(on_panic)` if it panicked (see [`guarded`]).
pub(crate) fn catch_panic<T, E>(work: impl FnOnce() -> Result<T, E>, on_panic: E) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or(Err(on_panic))
}

/// Decode and normalize for one channel: raw bytes in, canonical event out.
#[derive(Clone)]
pub struct IngestStage {
    channel: Channel,
    framing: Framing,
    codec: Arc<WireCodec>,
    normalize: NormalizeOptions,
}

impl IngestStage {
    pub fn new(
        channel: Channel,
        framing: Framing,
        codec: Arc<WireCodec>,
        normalize: NormalizeOptions,
    ) -> Self {
        IngestStage {
            channel,
            framing,
            codec,
            normalize,
        }
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The schema of this channel's raw records.
    pub fn schema(&self) -> SchemaKind {
        raw_kind(self.channel)
    }

    /// Decodes one message of this channel and normalizes it, refusing an
    /// event time too far ahead of this machine's clock.
    pub fn process(&self, payload: &[u8]) -> Result<CanonicalEvent, Rejection> {
        let raw = self.decode(payload)?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Ok(normalize_at(&raw, &self.normalize, now_ms)?)
    }

    /// [`Self::process`], then the canonical event encoded for the
    /// canonical topic, refused if it and its key (the event id) are over
    /// `max_record_bytes`.
    pub fn canonical(
        &self,
        payload: &[u8],
        max_record_bytes: usize,
    ) -> Result<(CanonicalEvent, Vec<u8>), Rejection> {
        guarded(|| self.canonical_unguarded(payload, max_record_bytes))
    }

    fn canonical_unguarded(
        &self,
        payload: &[u8],
        max_record_bytes: usize,
    ) -> Result<(CanonicalEvent, Vec<u8>), Rejection> {
        let event = self.process(payload)?;
        let encoded = self.codec.encode(SchemaKind::CanonicalEvent, &event)?;
        let bytes = encoded.len() + event.event_id.len();
        if bytes > max_record_bytes {
            return Err(Rejection::OversizedOutput {
                bytes,
                limit: max_record_bytes,
            });
        }
        Ok((event, encoded))
    }

    /// Decodes one message of this channel without normalizing it.
    pub fn decode(&self, payload: &[u8]) -> Result<RawEvent, DecodeError> {
        let kind = self.schema();
        let c = &self.codec;
        Ok(match self.channel {
            Channel::Pos => {
                RawEvent::Pos(c.decode::<PosTransaction>(self.framing, kind, payload)?)
            }
            Channel::Web => RawEvent::Web(c.decode::<WebEvent>(self.framing, kind, payload)?),
            Channel::Social => {
                RawEvent::Social(c.decode::<SocialInteraction>(self.framing, kind, payload)?)
            }
        })
    }
}

/// The schema of a channel's raw records.
pub fn raw_kind(channel: Channel) -> SchemaKind {
    match channel {
        Channel::Pos => SchemaKind::PosTransaction,
        Channel::Web => SchemaKind::WebEvent,
        Channel::Social => SchemaKind::SocialInteraction,
    }
}

/// Encodes a raw record of any channel in the Confluent wire format (used by
/// the demo, the tests and the load tool).
pub fn encode_raw(
    codec: &WireCodec,
    raw: &RawEvent,
) -> Result<Vec<u8>, kindred_schema::EncodeError> {
    encode_raw_as(codec, raw, Framing::Confluent)
}

/// Encodes a raw record of any channel as `framing` says: Confluent-framed
/// Avro, or a JSON object as a JSON producer writes it.
pub fn encode_raw_as(
    codec: &WireCodec,
    raw: &RawEvent,
    framing: Framing,
) -> Result<Vec<u8>, kindred_schema::EncodeError> {
    let kind = raw_kind(raw.channel());
    match (framing, raw) {
        (Framing::Confluent, RawEvent::Pos(e)) => codec.encode(kind, e),
        (Framing::Confluent, RawEvent::Web(e)) => codec.encode(kind, e),
        (Framing::Confluent, RawEvent::Social(e)) => codec.encode(kind, e),
        (Framing::Json, RawEvent::Pos(e)) => codec.encode_json(kind, e),
        (Framing::Json, RawEvent::Web(e)) => codec.encode_json(kind, e),
        (Framing::Json, RawEvent::Social(e)) => codec.encode_json(kind, e),
    }
}

#[cfg(test)]
mod tests {
    use kindred_gen::{generate, GenOptions};
    use kindred_model::{GoldenRecord, ProfileChange};

    use super::*;

    fn codec() -> Arc<WireCodec> {
        Arc::new(WireCodec::with_default_ids().expect("codec"))
    }

    /// A panic on one message (in kindred or a library: a parser's bug)
    /// stopped the service, and every restart met the same message again.
    #[test]
    fn a_panic_on_one_message_is_its_rejection() {
        let panicked: Result<(), Rejection> = guarded(|| panic!("a parser's bug"));
        let rejection = panicked.expect_err("a rejection");
        assert_eq!(rejection.kind(), "internal_panic");
        assert!(!rejection.to_string().contains("parser's bug"));
        let fine: Result<u8, Rejection> = guarded(|| Ok(7));
        assert_eq!(fine.ok(), Some(7));
    }

    #[test]
    fn every_generated_event_decodes_and_normalizes_on_its_channel() {
        let codec = codec();
        for g in generate(&GenOptions {
            people: 20,
            ..GenOptions::default()
        }) {
            let mut read = Vec::new();
            for framing in [Framing::Confluent, Framing::Json] {
                let stage = IngestStage::new(
                    g.event.channel(),
                    framing,
                    codec.clone(),
                    NormalizeOptions::default(),
                );
                let bytes = encode_raw_as(&codec, &g.event, framing).expect("encode");
                assert_eq!(bytes.first() == Some(&b'{'), framing == Framing::Json);
                let event = stage.process(&bytes).expect("decode");
                assert_eq!(event.channel, g.event.channel());
                assert!(
                    !event.identifiers.is_empty() || !event.dropped.is_empty(),
                    "{event:?}"
                );
                read.push(event);
            }
            assert_eq!(read[0], read[1], "both framings read the same event");
        }
    }

    /// A JSON consent that names no channel (absent or null): a
    /// withdrawal withdraws every channel, as on the Avro path; it was
    /// dead-lettered as invalid_json (the schema's channel had no
    /// default), and the person stayed contactable.
    #[test]
    fn a_json_withdrawal_naming_no_channel_withdraws_every_channel() {
        let stage = IngestStage::new(
            Channel::Web,
            Framing::Json,
            codec(),
            NormalizeOptions::default(),
        );
        for consent in [
            r#"{"purpose": "marketing", "granted": false}"#,
            r#"{"purpose": "marketing", "channel": null, "granted": false}"#,
        ] {
            let json = format!(
                r#"{{"event_id": "w1", "event_type": "consent_change", "event_time": 1735689600000, "email": "a@b.cn", "consents": [{consent}]}}"#
            );
            let event = stage.process(json.as_bytes()).expect("kept");
            let got: Vec<(String, String, bool)> = event
                .consents
                .iter()
                .map(|c| (c.purpose.clone(), c.channel.clone(), c.granted))
                .collect();
            assert_eq!(
                got,
                vec![("marketing".to_string(), "all".to_string(), false)],
                "{consent}"
            );
        }
    }

    /// A JSON nickname cut between the halves of an emoji (a lone
    /// surrogate escape, as JavaScript writes it): the event is read, the
    /// half a replacement character; the whole event was dead-lettered as
    /// invalid_json, its phone with it.
    #[test]
    fn a_json_string_cut_inside_an_emoji_loses_only_the_half() {
        let stage = IngestStage::new(
            Channel::Web,
            Framing::Json,
            codec(),
            NormalizeOptions::default(),
        );
        let json = r#"{"event_id": "w2", "event_type": "signup", "event_time": 1735689600000, "phone": "13910248876", "name": "Xiao Ming\ud83d"}"#;
        let event = stage.process(json.as_bytes()).expect("kept");
        assert_eq!(event.identifiers.len(), 1, "{event:?}");
        assert_eq!(event.identifiers[0].value, "+8613910248876");
    }

    /// A canonical event larger than the record limit is refused with its
    /// size, which the service dead-letters instead of retrying the batch
    /// forever. A receipt of 70,000 lines under the decode limit was such
    /// an event (a dropped entry per line past the limit), its card and
    /// total lost with it: it is kept, with its first lines and one entry
    /// saying the rest were dropped.
    #[test]
    fn a_canonical_event_over_the_record_limit_is_refused_not_sent() {
        let codec = codec();
        let Some(mut raw) = generate(&GenOptions {
            people: 20,
            ..GenOptions::default()
        })
        .into_iter()
        .map(|g| g.event)
        .find(|e| matches!(e, RawEvent::Pos(_))) else {
            panic!("the generator makes POS events");
        };
        let stage = IngestStage::new(
            Channel::Pos,
            Framing::Confluent,
            codec.clone(),
            NormalizeOptions::default(),
        );
        let limit = kindred_kafka::MAX_RECORD_BYTES;
        let bytes = encode_raw(&codec, &raw).expect("encode");
        let (event, encoded) = stage.canonical(&bytes, limit).expect("a plain event fits");
        let size = encoded.len() + event.event_id.len();
        assert!(size <= limit);
        // The limit is exact: one byte less refuses the same event.
        assert!(matches!(
            stage.canonical(&bytes, size - 1),
            Err(Rejection::OversizedOutput { bytes, .. }) if bytes == size
        ));

        if let RawEvent::Pos(p) = &mut raw {
            p.line_items = vec![
                kindred_model::raw::LineItem {
                    sku: "SKU-00001".into(),
                    quantity: 1,
                    unit_price_minor: 100,
                };
                70_000
            ];
        }
        let bytes = encode_raw(&codec, &raw).expect("encode");
        assert!(bytes.len() < 1 << 20, "{} raw bytes", bytes.len());
        let (event, _) = stage
            .canonical(&bytes, limit)
            .unwrap_or_else(|e| panic!("the receipt is kept: {e}"));
        let lines = event.activity.order.as_ref().map(|o| o.lines.len());
        assert_eq!(lines, Some(kindred_normalize::MAX_ORDER_LINES));
        assert_eq!(event.dropped.len(), 1, "{:?}", event.dropped);
    }

    #[test]
    fn fast_and_reference_avro_agree_on_every_generated_record() {
        let codec = codec();
        for g in generate(&GenOptions {
            people: 300,
            ..GenOptions::default()
        }) {
            let bytes = encode_raw(&codec, &g.event).expect("encode");
            let stage = IngestStage::new(
                g.event.channel(),
                Framing::Confluent,
                codec.clone(),
                NormalizeOptions::default(),
            );
            let fast = stage.decode(&bytes).expect("fast decode");
            let reference = match g.event.channel() {
                Channel::Pos => RawEvent::Pos(
                    codec
                        .decode_reference(SchemaKind::PosTransaction, &bytes)
                        .expect("decode"),
                ),
                Channel::Web => RawEvent::Web(
                    codec
                        .decode_reference(SchemaKind::WebEvent, &bytes)
                        .expect("decode"),
                ),
                Channel::Social => RawEvent::Social(
                    codec
                        .decode_reference(SchemaKind::SocialInteraction, &bytes)
                        .expect("decode"),
                ),
            };
            assert_eq!(fast, reference);
            assert_eq!(fast, g.event);
            let reference_bytes = match &g.event {
                RawEvent::Pos(e) => codec.encode_reference(SchemaKind::PosTransaction, e),
                RawEvent::Web(e) => codec.encode_reference(SchemaKind::WebEvent, e),
                RawEvent::Social(e) => codec.encode_reference(SchemaKind::SocialInteraction, e),
            }
            .expect("reference encode");
            assert_eq!(bytes, reference_bytes, "fast and reference encoders differ");
            let event = stage.process(&bytes).expect("normalize");
            let canonical = codec
                .encode(SchemaKind::CanonicalEvent, &event)
                .expect("encode");
            assert_eq!(
                canonical,
                codec
                    .encode_reference(SchemaKind::CanonicalEvent, &event)
                    .expect("encode")
            );
            let back: CanonicalEvent = codec
                .decode_reference(SchemaKind::CanonicalEvent, &canonical)
                .expect("decode");
            assert_eq!(back, event);
        }
    }

    #[test]
    fn fast_and_reference_encoders_agree_on_profile_changes() {
        let codec = codec();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut resolver = kindred_resolver::Resolver::new(
            kindred_resolver::Store::open(dir.path()).expect("store"),
        );
        let options = NormalizeOptions::default();
        let events: Vec<CanonicalEvent> = generate(&GenOptions {
            people: 200,
            ..GenOptions::default()
        })
        .iter()
        .filter_map(|g| kindred_normalize::normalize(&g.event, &options).ok())
        .collect();
        let outcome = resolver.apply(&events, &[]).expect("apply");
        assert!(outcome.changes.iter().any(|c| !c.absorbed_ids.is_empty()));
        for change in &outcome.changes {
            // Golden records hold maps, which apache-avro writes in hash
            // order: the bytes may differ in entry order, so compare what
            // each engine reads back from the other's output.
            let fast = codec
                .encode(SchemaKind::ProfileChange, change)
                .expect("encode");
            let reference = codec
                .encode_reference(SchemaKind::ProfileChange, change)
                .expect("reference encode");
            assert_eq!(fast.len(), reference.len(), "{change:?}");
            let by_reference: ProfileChange = codec
                .decode_reference(SchemaKind::ProfileChange, &fast)
                .expect("reference decode");
            assert_eq!(&by_reference, change);
            let by_fast: ProfileChange = codec
                .decode(Framing::Confluent, SchemaKind::ProfileChange, &reference)
                .expect("decode");
            assert_eq!(&by_fast, change);
        }
    }

    #[test]
    fn a_pos_record_on_the_web_channel_is_rejected() {
        let codec = codec();
        let g = generate(&GenOptions::default())
            .into_iter()
            .find(|g| g.event.channel() == Channel::Pos)
            .expect("a POS event");
        let bytes = encode_raw(&codec, &g.event).expect("encode");
        let web = IngestStage::new(
            Channel::Web,
            Framing::Confluent,
            codec,
            NormalizeOptions::default(),
        );
        assert_eq!(web.process(&bytes).unwrap_err().kind(), "unexpected_schema");
    }

    #[test]
    fn canonical_events_and_profile_changes_round_trip_through_avro() {
        let codec = codec();
        let g = &generate(&GenOptions::default())[0];
        let stage = IngestStage::new(
            g.event.channel(),
            Framing::Confluent,
            codec.clone(),
            NormalizeOptions::default(),
        );
        let event = stage
            .process(&encode_raw(&codec, &g.event).expect("encode"))
            .expect("decode");
        let bytes = codec
            .encode(SchemaKind::CanonicalEvent, &event)
            .expect("encode");
        let back: CanonicalEvent = codec
            .decode(Framing::Confluent, SchemaKind::CanonicalEvent, &bytes)
            .expect("decode");
        assert_eq!(back, event);

        let mut record = GoldenRecord::new("kp-1".into(), &event);
        record.spend_minor.insert("EUR".into(), 5);
        record.consents.insert(
            "marketing:email".into(),
            kindred_model::Sourced {
                value: true,
                source: kindred_model::Provenance {
                    channel: Channel::Web,
                    event_id: "web:1".into(),
                    event_time_ms: 5,
                },
            },
        );
        let change = ProfileChange {
            profile_id: "kp-1".into(),
            change_type: kindred_model::ChangeType::Merged,
            version: 3,
            cause_event_id: event.event_id.clone(),
            absorbed_ids: vec!["kp-2".into()],
            superseded_by: None,
            record: Some(record),
            changed_fields: vec!["identifiers".into()],
            evidence: Some(kindred_model::MergeEvidence {
                rule: "exact_identifier".into(),
                rule_version: 1,
                kinds: vec!["phone".into()],
            }),
            split_into: vec![],
            moved_event_ids: vec![],
            rfm: None,
        };
        let bytes = codec
            .encode(SchemaKind::ProfileChange, &change)
            .expect("encode");
        let back: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &bytes)
            .expect("decode");
        assert_eq!(back, change);
    }
}
