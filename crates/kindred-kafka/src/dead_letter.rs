use crate::OutRecord;

/// Prefix of every dead-letter header.
pub const DLQ_HEADER_PREFIX: &str = "kindred.dlq.";

/// A message that could not be processed, and where it came from. The
/// original key and bytes travel unchanged; the context goes in headers, so
/// the message can be replayed after a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Stable reason name (`wrong_magic_byte`, `malformed_body`, ...).
    pub reason: String,
    /// Human-readable detail. Never holds raw field values (they may be PII).
    pub message: String,
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    /// The service that gave up on it, e.g. `ingest-pos`.
    pub service: String,
}

impl DeadLetter {
    const REASON: &'static str = "kindred.dlq.reason";
    const MESSAGE: &'static str = "kindred.dlq.message";
    const TOPIC: &'static str = "kindred.dlq.source.topic";
    const PARTITION: &'static str = "kindred.dlq.source.partition";
    const OFFSET: &'static str = "kindred.dlq.source.offset";
    const SERVICE: &'static str = "kindred.dlq.service";
    /// Set when the payload was cut (key and payload to [`Self::MAX_PAYLOAD_BYTES`]): the
    /// original length. The whole message is at the source coordinates.
    pub const TRUNCATED_FROM: &'static str = "kindred.dlq.truncated_from";
    /// Set when the key was cut (to [`Self::MAX_KEY_BYTES`]): its original length.
    pub const KEY_TRUNCATED_FROM: &'static str = "kindred.dlq.key_truncated_from";
    /// Set (`true`) when the payload is not the message as sent but a copy
    /// with its values masked (a refused erasure or decision request names
    /// a person): it is no request to replay, since the copy may parse
    /// where the original did not. The message is at the source coordinates.
    pub const MASKED: &'static str = "kindred.dlq.masked";
    /// The source record's own Kafka timestamp (milliseconds since the
    /// epoch): the letter itself is stamped when it is written, so that the
    /// dead-letter topic's retention runs from then; a replay stamps the
    /// record it sends back with this one.
    pub const SOURCE_TIMESTAMP: &'static str = "kindred.dlq.source.timestamp_ms";
    /// Set when some of the source record's headers were left out (past
    /// [`Self::MAX_SOURCE_HEADER_BYTES`]): how many.
    pub const HEADERS_DROPPED: &'static str = "kindred.dlq.headers_dropped";
    /// The most bytes of the source record's own headers a letter carries.
    pub const MAX_SOURCE_HEADER_BYTES: usize = 64 * 1024;

    /// Adds the source record's own headers (trace context, a content type,
    /// a schema id sent in a header: the message as sent is its headers
    /// too) and its timestamp to `record`, a letter [`Self::into_record`]
    /// made: up to [`Self::MAX_SOURCE_HEADER_BYTES`], any past that counted
    /// in [`Self::HEADERS_DROPPED`]. Headers of an earlier letter
    /// (`kindred.dlq.*`) and null-valued ones are not carried.
    pub fn carry_source<'a>(
        record: &mut OutRecord,
        timestamp_ms: Option<i64>,
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) {
        if let Some(ms) = timestamp_ms {
            record.headers.push((
                Self::SOURCE_TIMESTAMP.to_string(),
                ms.to_string().into_bytes(),
            ));
        }
        let (mut room, mut dropped) = (Self::MAX_SOURCE_HEADER_BYTES, 0usize);
        for (key, value) in headers {
            if key.starts_with(DLQ_HEADER_PREFIX) {
                continue;
            }
            let size = key.len() + value.len();
            if size > room {
                dropped += 1;
                continue;
            }
            room -= size;
            record.headers.push((key.to_string(), value.to_vec()));
        }
        if dropped > 0 {
            record.headers.push((
                Self::HEADERS_DROPPED.to_string(),
                dropped.to_string().into_bytes(),
            ));
        }
    }

    /// The most key bytes a dead letter carries: a key near the record
    /// limit would leave no room for the payload, or not fit at all.
    pub const MAX_KEY_BYTES: usize = 16 * 1024;

    /// The most key and payload bytes a dead letter carries. Larger messages (an
    /// `oversized` one, or a malformed one near the limit) are cut to this,
    /// so the record fits under the producer's and the broker's default
    /// 1 MB message limits with its headers; were it not cut, the producer
    /// would refuse it and the service would retry it forever.
    pub const MAX_PAYLOAD_BYTES: usize = crate::MAX_RECORD_BYTES;

    /// The dead-letter record for `dlq_topic`, carrying the original key and
    /// payload (cut to [`Self::MAX_PAYLOAD_BYTES`], with a
    /// [`Self::TRUNCATED_FROM`] header, when longer).
    pub fn into_record(self, dlq_topic: &str, key: Option<&[u8]>, payload: &[u8]) -> OutRecord {
        let mut headers = vec![
            (Self::REASON.to_string(), self.reason.into_bytes()),
            (Self::MESSAGE.to_string(), self.message.into_bytes()),
            (Self::TOPIC.to_string(), self.source_topic.into_bytes()),
            (
                Self::PARTITION.to_string(),
                self.source_partition.to_string().into_bytes(),
            ),
            (
                Self::OFFSET.to_string(),
                self.source_offset.to_string().into_bytes(),
            ),
            (Self::SERVICE.to_string(), self.service.into_bytes()),
        ];
        let key = key.map(|k| {
            if k.len() > Self::MAX_KEY_BYTES {
                headers.push((
                    Self::KEY_TRUNCATED_FROM.to_string(),
                    k.len().to_string().into_bytes(),
                ));
                &k[..Self::MAX_KEY_BYTES]
            } else {
                k
            }
        });
        // The key counts against the same limit.
        let room = Self::MAX_PAYLOAD_BYTES.saturating_sub(key.map_or(0, <[u8]>::len));
        let kept = if payload.len() > room {
            headers.push((
                Self::TRUNCATED_FROM.to_string(),
                payload.len().to_string().into_bytes(),
            ));
            &payload[..room]
        } else {
            payload
        };
        OutRecord {
            topic: dlq_topic.to_string(),
            key: key.map(<[u8]>::to_vec),
            payload: kept.to_vec(),
            headers,
            timestamp_ms: None,
        }
    }

    /// A dead letter `record` the dead-letter topic refused (its
    /// `max.message.bytes` set below the letter's size) sent again with no
    /// key and no payload, only its envelope and the lengths cut
    /// ([`Self::TRUNCATED_FROM`], [`Self::KEY_TRUNCATED_FROM`]): the
    /// message is at its source coordinates, and replay leaves truncated
    /// letters. An envelope refused in turn (the source's own headers it
    /// carries, up to [`Self::MAX_SOURCE_HEADER_BYTES`], over the topic's
    /// limit) goes last without them, their number added to
    /// [`Self::HEADERS_DROPPED`]. `None` when `record` is no dead letter or
    /// has nothing left to cut.
    pub fn without_payload(record: &OutRecord) -> Option<OutRecord> {
        let headers = || {
            record
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
        };
        Self::from_headers(headers())?;
        // The lengths as sent: those an earlier cut recorded, if any.
        let was = |name: &str, now: usize| {
            headers()
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
                .unwrap_or(now)
        };
        let key_len = record.key.as_ref().map_or(0, Vec::len);
        if record.payload.is_empty() && key_len == 0 {
            let carried = headers()
                .filter(|(k, _)| !k.starts_with(DLQ_HEADER_PREFIX))
                .count();
            if carried == 0 {
                return None;
            }
            let dropped = was(Self::HEADERS_DROPPED, 0) + carried;
            let mut envelope: Vec<(String, Vec<u8>)> = record
                .headers
                .iter()
                .filter(|(k, _)| k.starts_with(DLQ_HEADER_PREFIX) && k != Self::HEADERS_DROPPED)
                .cloned()
                .collect();
            envelope.push((
                Self::HEADERS_DROPPED.to_string(),
                dropped.to_string().into_bytes(),
            ));
            return Some(OutRecord {
                topic: record.topic.clone(),
                key: None,
                payload: Vec::new(),
                headers: envelope,
                timestamp_ms: record.timestamp_ms,
            });
        }
        let mut out = OutRecord {
            topic: record.topic.clone(),
            key: None,
            payload: Vec::new(),
            headers: record
                .headers
                .iter()
                .filter(|(k, _)| k != Self::TRUNCATED_FROM && k != Self::KEY_TRUNCATED_FROM)
                .cloned()
                .collect(),
            timestamp_ms: record.timestamp_ms,
        };
        for (name, now) in [
            (Self::TRUNCATED_FROM, record.payload.len()),
            (Self::KEY_TRUNCATED_FROM, key_len),
        ] {
            let length = was(name, now);
            if length > 0 {
                out.headers
                    .push((name.to_string(), length.to_string().into_bytes()));
            }
        }
        Some(out)
    }

    /// Reads the envelope back from a dead letter's headers; `None` if a
    /// header is missing or malformed.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Option<Self> {
        let mut reason = None;
        let mut message = None;
        let mut topic = None;
        let mut partition = None;
        let mut offset = None;
        let mut service = None;
        for (key, value) in headers {
            // The source's own headers ride along (`carry_source`), in any
            // encoding (a binary trace id, Confluent's schema-id header):
            // only the envelope's are text.
            if !key.starts_with(DLQ_HEADER_PREFIX) {
                continue;
            }
            let text = std::str::from_utf8(value).ok()?.to_string();
            match key {
                Self::REASON => reason = Some(text),
                Self::MESSAGE => message = Some(text),
                Self::TOPIC => topic = Some(text),
                Self::PARTITION => partition = text.parse().ok(),
                Self::OFFSET => offset = text.parse().ok(),
                Self::SERVICE => service = Some(text),
                _ => {}
            }
        }
        Some(DeadLetter {
            reason: reason?,
            message: message?,
            source_topic: topic?,
            source_partition: partition?,
            source_offset: offset?,
            service: service?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A letter of ingest-pos for `retail.pos.events` at `partition` and
    /// `offset`.
    fn pos_letter(reason: &str, message: &str, partition: i32, offset: i64) -> DeadLetter {
        DeadLetter {
            reason: reason.into(),
            message: message.into(),
            source_topic: "retail.pos.events".into(),
            source_partition: partition,
            source_offset: offset,
            service: "ingest-pos".into(),
        }
    }

    /// The envelope a letter's headers give back.
    fn read_back(record: &OutRecord) -> Option<DeadLetter> {
        DeadLetter::from_headers(
            record
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice())),
        )
    }

    #[test]
    fn envelope_round_trips_through_headers() {
        let dl = pos_letter("wrong_magic_byte", "wrong magic byte 0x7b", 2, 41);
        let record = dl
            .clone()
            .into_record("kindred.deadletter", Some(b"k"), b"{bad");
        assert_eq!(record.payload, b"{bad");
        assert_eq!(record.key.as_deref(), Some(&b"k"[..]));
        let back = read_back(&record);
        assert_eq!(back, Some(dl));
    }

    /// A letter carrying a source header that is not text (a binary trace
    /// id, Confluent's schema-id header) could not be read back: replay
    /// skipped it for good, and a letter its topic refused could not fall
    /// back to its envelope, so the service stopped on it at every start.
    #[test]
    fn a_letter_with_binary_source_headers_reads_back() {
        let dl = pos_letter("wrong_magic_byte", "wrong magic byte 0x01", 0, 9);
        let mut record = dl
            .clone()
            .into_record("kindred.deadletter", Some(b"k"), b"\x01garbage");
        DeadLetter::carry_source(
            &mut record,
            Some(1),
            [
                ("x-trace-bin", &[0xff, 0x00][..]),
                ("__value_schema_id", &[0x00, 0x9f][..]),
            ],
        );
        let back = read_back(&record);
        assert_eq!(back, Some(dl));
        assert!(DeadLetter::without_payload(&record).is_some());
    }

    /// A letter its topic refuses goes again as its envelope alone, with
    /// the lengths of what it left out; not again once nothing is left.
    #[test]
    fn a_refused_letter_goes_again_without_key_and_payload() {
        let dl = pos_letter("malformed_body", "not Avro", 3, 77);
        let payload = vec![b'p'; 950_000];
        let record = dl
            .clone()
            .into_record("kindred.deadletter", Some(b"key-1"), &payload);
        let bare = DeadLetter::without_payload(&record).expect("a letter");
        assert!(bare.payload.is_empty() && bare.key.is_none());
        let header = |name: &str| {
            bare.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        // The length the message had, not the cut letter's.
        assert_eq!(
            header(DeadLetter::TRUNCATED_FROM).as_deref(),
            Some("950000")
        );
        assert_eq!(header(DeadLetter::KEY_TRUNCATED_FROM).as_deref(), Some("5"));
        let back = read_back(&bare);
        assert_eq!(back, Some(dl));
        assert!(DeadLetter::without_payload(&bare).is_none());
        // Not a dead letter: nothing to cut it to.
        let other = OutRecord {
            topic: "kindred.canonical.events".into(),
            key: Some(b"k".to_vec()),
            payload: b"x".to_vec(),
            headers: Vec::new(),
            timestamp_ms: None,
        };
        assert!(DeadLetter::without_payload(&other).is_none());
    }

    /// An envelope refused in turn for the source headers it carries goes
    /// last with the envelope's own headers only, the carried ones
    /// counted; then nothing is left to cut.
    #[test]
    fn a_refused_envelope_goes_last_without_the_sources_headers() {
        let dl = pos_letter("malformed_body", "not Avro", 1, 5);
        let mut record = dl
            .clone()
            .into_record("kindred.deadletter", Some(b"k"), b"junk");
        let baggage = vec![b'b'; 3_000];
        DeadLetter::carry_source(
            &mut record,
            Some(1),
            [("baggage", &baggage[..]), ("tracestate", &baggage[..])],
        );
        let envelope = DeadLetter::without_payload(&record).expect("the envelope");
        assert!(envelope.headers.iter().any(|(k, _)| k == "baggage"));
        let last = DeadLetter::without_payload(&envelope).expect("the envelope alone");
        assert!(
            last.headers
                .iter()
                .all(|(k, _)| k.starts_with(DLQ_HEADER_PREFIX)),
            "{:?}",
            last.headers
        );
        let size: usize = last.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(size < 1_000, "{size} bytes of headers");
        let header = |name: &str| {
            last.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(header(DeadLetter::HEADERS_DROPPED).as_deref(), Some("2"));
        assert_eq!(header(DeadLetter::TRUNCATED_FROM).as_deref(), Some("4"));
        assert_eq!(read_back(&last), Some(dl));
        assert!(DeadLetter::without_payload(&last).is_none());
    }

    #[test]
    fn a_key_near_the_record_limit_is_cut_so_the_letter_still_fits() {
        let dl = pos_letter(
            "source_id_too_long",
            "the source event id is 950000 bytes",
            0,
            7,
        );
        let key = vec![b'k'; 950_000];
        let record = dl.into_record("kindred.deadletter", Some(&key), b"payload");
        let header = |name: &str| {
            record
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            record.key.as_ref().map(Vec::len),
            Some(DeadLetter::MAX_KEY_BYTES)
        );
        assert_eq!(
            header(DeadLetter::KEY_TRUNCATED_FROM).as_deref(),
            Some("950000")
        );
        // The payload keeps its bytes: the cut key left room for them.
        assert_eq!(record.payload, b"payload");
        assert_eq!(header(DeadLetter::TRUNCATED_FROM), None);
        assert!(
            record.key.map_or(0, |k| k.len()) + record.payload.len() <= crate::MAX_RECORD_BYTES
        );
    }
}
