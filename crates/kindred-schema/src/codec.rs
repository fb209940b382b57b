use std::collections::BTreeMap;

use apache_avro::types::Value;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Catalog, DecodeError, EncodeError, SchemaError, SchemaKind};

/// The first byte of every Confluent-framed message.
pub const MAGIC_BYTE: u8 = 0;
const HEADER_LEN: usize = 5;

/// How the records of a topic are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// Magic byte 0, 4-byte big-endian schema id, Avro binary body.
    #[default]
    Confluent,
    /// One JSON object per message, validated against the Avro schema.
    Json,
}

/// Encodes and decodes kindred's records, with schema ids mapped to the
/// schemas in `schemas/`. Cheap to share: build once, use everywhere.
#[derive(Debug, Clone)]
pub struct WireCodec {
    catalog: Catalog,
    id_of: BTreeMap<SchemaKind, u32>,
    kind_of: BTreeMap<u32, SchemaKind>,
    max_message_bytes: usize,
}

impl WireCodec {
    /// A codec with the default schema ids (1..=5) and a 1 MiB size limit.
    pub fn with_default_ids() -> Result<Self, SchemaError> {
        let ids = SchemaKind::ALL.map(|k| (k, k.default_id()));
        WireCodec::new(ids, 1 << 20)
    }

    /// A codec with the given schema ids. Two schemas may not share an id.
    pub fn new(
        ids: impl IntoIterator<Item = (SchemaKind, u32)>,
        max_message_bytes: usize,
    ) -> Result<Self, SchemaError> {
        let catalog = Catalog::embedded()?;
        let mut id_of: BTreeMap<SchemaKind, u32> =
            SchemaKind::ALL.map(|k| (k, k.default_id())).into();
        for (kind, id) in ids {
            id_of.insert(kind, id);
        }
        let mut kind_of = BTreeMap::new();
        for (&kind, &id) in &id_of {
            if let Some(first) = kind_of.insert(id, kind) {
                return Err(SchemaError::DuplicateId {
                    id,
                    first: first.to_string(),
                    second: kind.to_string(),
                });
            }
        }
        Ok(WireCodec {
            catalog,
            id_of,
            kind_of,
            max_message_bytes,
        })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn schema_id(&self, kind: SchemaKind) -> u32 {
        self.id_of[&kind]
    }

    /// Encodes `record` as `kind` in the Confluent wire format.
    pub fn encode<T: Serialize>(
        &self,
        kind: SchemaKind,
        record: &T,
    ) -> Result<Vec<u8>, EncodeError> {
        let schema = self.catalog.get(kind);
        let fail = |message: String| EncodeError {
            schema: kind.to_string(),
            message,
        };
        let value = apache_avro::to_value(record)
            .and_then(|v| v.resolve(schema))
            .map_err(|e| fail(e.to_string()))?;
        let body = apache_avro::to_avro_datum(schema, value).map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.push(MAGIC_BYTE);
        out.extend_from_slice(&self.schema_id(kind).to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Encodes `record` as JSON (for channels configured with JSON framing).
    pub fn encode_json<T: Serialize>(
        &self,
        kind: SchemaKind,
        record: &T,
    ) -> Result<Vec<u8>, EncodeError> {
        serde_json::to_vec(record).map_err(|e| EncodeError {
            schema: kind.to_string(),
            message: e.to_string(),
        })
    }

    /// Decodes a message framed as `framing` that must hold a `kind` record.
    pub fn decode<T: DeserializeOwned>(
        &self,
        framing: Framing,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        if bytes.len() > self.max_message_bytes {
            return Err(DecodeError::Oversized {
                size: bytes.len(),
                limit: self.max_message_bytes,
            });
        }
        match framing {
            Framing::Confluent => self.decode_confluent(kind, bytes),
            Framing::Json => self.decode_json(kind, bytes),
        }
    }

    fn decode_confluent<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        if bytes[0] != MAGIC_BYTE {
            return Err(DecodeError::WrongMagicByte { found: bytes[0] });
        }
        let Some((header, mut body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::TruncatedHeader { size: bytes.len() });
        };
        let id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let found = *self
            .kind_of
            .get(&id)
            .ok_or(DecodeError::UnknownSchemaId { id })?;
        if found != kind {
            return Err(DecodeError::UnexpectedSchema {
                id,
                found: found.to_string(),
                expected: kind.to_string(),
            });
        }
        let schema = self.catalog.get(kind);
        let body_error = |message: String| DecodeError::Body {
            schema: kind.to_string(),
            message,
        };
        let value = apache_avro::from_avro_datum(schema, &mut body, None)
            .map_err(|e| body_error(e.to_string()))?;
        if !body.is_empty() {
            return Err(DecodeError::TrailingBytes {
                schema: kind.to_string(),
                trailing: body.len(),
            });
        }
        apache_avro::from_value(&value).map_err(|e| body_error(e.to_string()))
    }

    fn decode_json<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        let json_error = |message: String| DecodeError::Json {
            schema: kind.to_string(),
            message,
        };
        let record: T = serde_json::from_slice(bytes).map_err(|e| json_error(e.to_string()))?;
        // Validate against the Avro schema too, so JSON and Avro channels
        // accept exactly the same records.
        let value: Value = apache_avro::to_value(
            serde_json::from_slice::<serde_json::Value>(bytes)
                .map_err(|e| json_error(e.to_string()))?,
        )
        .map_err(|e| json_error(e.to_string()))?;
        value
            .resolve(self.catalog.get(kind))
            .map_err(|e| json_error(e.to_string()))?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use kindred_model::raw::PosTransaction;

    use super::*;

    fn pos() -> PosTransaction {
        PosTransaction {
            transaction_id: "T-1".into(),
            store_id: "S01".into(),
            terminal_id: "3".into(),
            receipt_no: "R-9".into(),
            member_card_no: Some("m-001".into()),
            phone: None,
            customer_name: Some("Li Wei".into()),
            amount_minor: 12_900,
            currency: "CNY".into(),
            points_earned: 129,
            points_redeemed: 0,
            event_time: 1_700_000_000_000,
        }
    }

    fn codec() -> WireCodec {
        WireCodec::with_default_ids().expect("embedded schemas")
    }

    #[test]
    fn confluent_round_trip() {
        let c = codec();
        let bytes = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 1]);
        let back: PosTransaction = c
            .decode(Framing::Confluent, SchemaKind::PosTransaction, &bytes)
            .expect("decode");
        assert_eq!(back, pos());
    }

    #[test]
    fn json_round_trip_and_validation() {
        let c = codec();
        let bytes = c
            .encode_json(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let back: PosTransaction = c
            .decode(Framing::Json, SchemaKind::PosTransaction, &bytes)
            .expect("decode");
        assert_eq!(back, pos());
        let err = c
            .decode::<PosTransaction>(
                Framing::Json,
                SchemaKind::PosTransaction,
                br#"{"transaction_id": 5}"#,
            )
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_json");
    }

    #[test]
    fn every_bad_frame_has_its_own_reason() {
        let c = codec().clone();
        let good = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let decode = |b: &[u8]| {
            c.decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, b)
                .unwrap_err()
                .kind()
        };
        assert_eq!(decode(b""), "empty");
        assert_eq!(decode(b"\x01\x00\x00\x00\x01abc"), "wrong_magic_byte");
        assert_eq!(decode(b"\x00\x00\x01"), "truncated");
        assert_eq!(decode(b"\x00\x00\x00\x00\x63abc"), "unknown_schema_id");
        assert_eq!(decode(b"\x00\x00\x00\x00\x02abc"), "unexpected_schema");
        assert_eq!(decode(&good[..good.len() - 4]), "malformed_body");
        let mut trailing = good.clone();
        trailing.push(7);
        assert_eq!(decode(&trailing), "trailing_bytes");
        let small = WireCodec::new([], 16).expect("codec");
        assert_eq!(
            small
                .decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, &good)
                .unwrap_err()
                .kind(),
            "oversized"
        );
    }

    #[test]
    fn duplicate_schema_ids_are_refused() {
        let err = WireCodec::new([(SchemaKind::WebEvent, 1)], 1024).unwrap_err();
        assert!(err.to_string().contains("schema id 1"), "{err}");
    }
}
