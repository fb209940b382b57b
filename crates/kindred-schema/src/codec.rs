use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::without_values;
use crate::{default_history_ids, Catalog, DecodeError, EncodeError, SchemaError, SchemaKind};

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

/// A schema a message may have been written with.
#[derive(Debug, Clone)]
struct Writer {
    kind: SchemaKind,
    /// The embedded version's name (`pos_transaction.v1`), or, for a
    /// producer's own schema added with [`WireCodec::with_writer`], the
    /// version it reads as and its file (`pos_transaction <- path.avsc`).
    name: String,
    /// `None` for the current version (no resolution needed).
    older: Option<apache_avro::Schema>,
}

/// The current version of each schema, parsed for `serde_avro_fast`, which
/// decodes Avro straight into the record type (no intermediate `Value` tree,
/// no per-record schema lookups) and is several times faster than
/// apache-avro's `from_avro_datum` + `from_value` (see BENCHMARKS.md).
/// apache-avro stays in charge of schema parsing, resolution of older
/// versions, and compatibility checks.
#[derive(Debug)]
struct FastSchemas(BTreeMap<SchemaKind, serde_avro_fast::Schema>);

impl FastSchemas {
    fn parse() -> Result<Self, SchemaError> {
        let mut out = BTreeMap::new();
        for kind in SchemaKind::ALL {
            let source = kind.current();
            let schema: serde_avro_fast::Schema =
                source
                    .text
                    .parse()
                    .map_err(
                        |e: serde_avro_fast::schema::SchemaError| SchemaError::Parse {
                            file: source.file.to_string(),
                            message: e.to_string(),
                        },
                    )?;
            out.insert(kind, schema);
        }
        Ok(FastSchemas(out))
    }
}

/// Encodes and decodes kindred's records, with Confluent schema ids mapped
/// to the schema versions embedded from `schemas/`. Data written with a
/// released older version decodes through Avro schema resolution into the
/// current version. Cheap to share: build once, use everywhere.
#[derive(Debug, Clone)]
pub struct WireCodec {
    catalog: Catalog,
    fast: std::sync::Arc<FastSchemas>,
    id_of: BTreeMap<SchemaKind, u32>,
    writers: BTreeMap<u32, Writer>,
    /// Writer schemas learned while running (from a schema registry, see
    /// [`WireCodec::learn`]), shared by every clone of this codec. An id
    /// names one schema for good, so an entry is never replaced.
    learned: std::sync::Arc<std::sync::RwLock<BTreeMap<u32, std::sync::Arc<Writer>>>>,
    max_message_bytes: usize,
    /// Each current schema's named types, for reading JSON (crate::json).
    json_names: std::sync::Arc<JsonNames>,
}

type JsonNames = BTreeMap<SchemaKind, JsonNameMap>;
type JsonNameMap = std::collections::HashMap<apache_avro::schema::Name, apache_avro::Schema>;

/// The least cap on what apache-avro allocates for one decoded count or
/// length (see [`WireCodec::new`]).
const MIN_ALLOCATION_CAP: usize = 1 << 20;

impl WireCodec {
    /// A codec with the default schema ids and a 1 MiB size limit.
    pub fn with_default_ids() -> Result<Self, SchemaError> {
        WireCodec::new(Self::default_ids(), 1 << 20)
    }

    /// The default id of every schema version: current versions 1 to 5,
    /// released older versions from 11.
    pub fn default_ids() -> BTreeMap<String, u32> {
        let mut ids: BTreeMap<String, u32> = SchemaKind::ALL
            .iter()
            .map(|k| (k.current().name.to_string(), k.default_id()))
            .collect();
        for (id, name) in default_history_ids() {
            ids.insert(name.to_string(), id);
        }
        ids
    }

    /// A codec with the given `name -> id` map (names as in
    /// [`Catalog::by_name`]). Every current version needs an id; ids are unique.
    pub fn new(
        ids: impl IntoIterator<Item = (String, u32)>,
        max_message_bytes: usize,
    ) -> Result<Self, SchemaError> {
        // apache-avro reserves room for an array or map by the count a
        // message claims, up to a process-wide cap (512 MiB by default): a
        // dozen bytes claiming 500 million items would abort the process
        // on an allocation failure, and a restarted service would read the
        // same message again. No count or length in a message can exceed
        // its size, so the cap is the message limit (at least 1 MiB; the
        // first codec of the process sets it).
        apache_avro::util::max_allocation_bytes(max_message_bytes.max(MIN_ALLOCATION_CAP));
        let catalog = Catalog::embedded()?;
        let mut id_of = BTreeMap::new();
        let mut writers: BTreeMap<u32, Writer> = BTreeMap::new();
        for (name, id) in ids {
            let (kind, schema) =
                catalog
                    .by_name(&name)
                    .ok_or_else(|| SchemaError::UnknownName {
                        id,
                        name: name.clone(),
                        known: catalog.names().collect::<Vec<_>>().join(", "),
                    })?;
            let source = kind.current();
            let is_current = source.name == name;
            if let Some(first) = writers.get(&id) {
                return Err(SchemaError::DuplicateId {
                    id,
                    first: first.name.to_string(),
                    second: name,
                });
            }
            if is_current {
                id_of.insert(kind, id);
            }
            writers.insert(
                id,
                Writer {
                    kind,
                    name,
                    older: (!is_current).then(|| schema.clone()),
                },
            );
        }
        for kind in SchemaKind::ALL {
            if !id_of.contains_key(&kind) {
                return Err(SchemaError::MissingId {
                    name: kind.current().name.to_string(),
                });
            }
        }
        let json_names = SchemaKind::ALL
            .iter()
            .map(|k| (*k, crate::json::names_of(catalog.get(*k))))
            .collect();
        Ok(WireCodec {
            catalog,
            fast: std::sync::Arc::new(FastSchemas::parse()?),
            id_of,
            writers,
            learned: std::sync::Arc::default(),
            max_message_bytes,
            json_names: std::sync::Arc::new(json_names),
        })
    }

    /// A codec for a deployment whose schema registry owns the ids: no id
    /// is known at first. Every id a message carries is learned from the
    /// registry ([`WireCodec::learn`]), and a kind can be written once the
    /// id the registry gave it is set ([`WireCodec::with_registered_id`]).
    pub fn for_registry(max_message_bytes: usize) -> Result<Self, SchemaError> {
        let mut codec = WireCodec::new(Self::default_ids(), max_message_bytes)?;
        codec.id_of.clear();
        codec.writers.clear();
        Ok(codec)
    }

    /// Writes `kind`'s current version under `id`, the id a schema registry
    /// gave it; messages under `id` read as that version too. Refused when
    /// `id` already names another schema version.
    pub fn with_registered_id(mut self, kind: SchemaKind, id: u32) -> Result<Self, SchemaError> {
        let name = kind.current().name.to_string();
        let taken = match self.writers.get(&id) {
            Some(w) => (w.name != name).then(|| w.name.clone()),
            None => self.learned_writer(id).map(|w| w.name.clone()),
        };
        if let Some(first) = taken {
            return Err(SchemaError::DuplicateId {
                id,
                first,
                second: name,
            });
        }
        if let Some(old) = self.id_of.insert(kind, id).filter(|old| *old != id) {
            self.writers.remove(&old);
        }
        self.writers.insert(
            id,
            Writer {
                kind,
                name,
                older: None,
            },
        );
        Ok(self)
    }

    /// The schema id of a Confluent-framed message when this codec does not
    /// know it yet (so it must be [learned](WireCodec::learn) before the
    /// message can be decoded); `None` for a known id or a message that
    /// is not Confluent-framed (its decode reports why).
    pub fn unknown_id(&self, bytes: &[u8]) -> Option<u32> {
        let header = bytes.first_chunk::<HEADER_LEN>()?;
        if header[0] != MAGIC_BYTE {
            return None;
        }
        let id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        (!self.writers.contains_key(&id) && self.learned_writer(id).is_none()).then_some(id)
    }

    /// Learns the writer schema `text` of id `id` (from `source`, e.g. the
    /// registry's address, for errors). The record's full name says which
    /// of kindred's schemas it is (Avro matches records by name); it must
    /// be readable as that schema's current version. Returns that schema.
    /// Learning an id again is a no-op when it is the same schema.
    pub fn learn(&self, id: u32, source: &str, text: &str) -> Result<SchemaKind, SchemaError> {
        let file = format!("schema id {id} from {source}");
        let written = crate::writer::WriterSchema::parse(&file, text)?;
        let record_name = written.record_name().unwrap_or_default().to_string();
        let found = match &written.schema {
            apache_avro::Schema::Record(r) => r.name.fullname(None),
            other => format!(
                "a {:?} schema",
                apache_avro::schema::SchemaKind::from(other)
            ),
        };
        // By the unqualified name, as Avro's resolution matches records: a
        // producer's `com.acme.PosTransaction` is kindred's
        // `dev.kindred.raw.PosTransaction` (the names are distinct).
        let kind = SchemaKind::ALL
            .into_iter()
            .find(|k| {
                matches!(self.catalog.get(*k), apache_avro::Schema::Record(r) if r.name.name == record_name)
            })
            .ok_or_else(|| SchemaError::NotKindred {
                file: file.clone(),
                found,
                known: SchemaKind::ALL
                    .iter()
                    .filter_map(|k| match self.catalog.get(*k) {
                        apache_avro::Schema::Record(r) => Some(r.name.fullname(None)),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let current = self.catalog.get(kind);
        let same = written.readable_as(&file, kind.current().name, current, kind.current().text)?;
        let schema = written.schema;
        let writer = Writer {
            kind,
            name: format!("{} <- {file}", kind.current().name),
            older: (!same).then_some(schema),
        };
        if let Some(known) = self.writers.get(&id) {
            return if known.kind == kind && known.older.is_none() == same {
                Ok(kind)
            } else {
                Err(SchemaError::DuplicateId {
                    id,
                    first: known.name.clone(),
                    second: writer.name,
                })
            };
        }
        self.learned
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_insert_with(|| std::sync::Arc::new(writer));
        Ok(kind)
    }

    /// The fields kindred reads that the writer schema learned under `id`
    /// lacks (top level): every record written with it has their defaults
    /// there, silently (a producer's renamed `member_card_no`: no event of
    /// it carries a card; kindred's schemas read no aliases). Empty for an
    /// id not learned, or one written with kindred's own schema.
    pub fn fields_defaulted(&self, id: u32) -> Vec<String> {
        let Some(writer) = self.learned_writer(id) else {
            return Vec::new();
        };
        let (Some(apache_avro::Schema::Record(written)), apache_avro::Schema::Record(read)) =
            (writer.older.as_ref(), self.catalog.get(writer.kind))
        else {
            return Vec::new();
        };
        read.fields
            .iter()
            .filter(|f| !written.lookup.contains_key(&f.name))
            .map(|f| f.name.clone())
            .collect()
    }

    fn learned_writer(&self, id: u32) -> Option<std::sync::Arc<Writer>> {
        self.learned
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// Adds a schema a producer registered under `id` (`text`, read from
    /// `file`), whose records read as the current version of the embedded
    /// schema `reads_as` (`pos_transaction`): a producer's own evolution of
    /// a schema (fields added, reordered or dropped with defaults), or the
    /// same layout registered again under another id. Refused when the
    /// current version cannot read data written with it, or when `id` is
    /// already taken.
    pub fn with_writer(
        mut self,
        id: u32,
        reads_as: &str,
        file: &str,
        text: &str,
    ) -> Result<Self, SchemaError> {
        let kind = SchemaKind::ALL
            .into_iter()
            .find(|k| k.current().name == reads_as)
            .ok_or_else(|| SchemaError::UnknownName {
                id,
                name: reads_as.to_string(),
                known: SchemaKind::ALL.map(|k| k.current().name).join(", "),
            })?;
        let name = format!("{reads_as} <- {file}");
        if let Some(first) = self.writers.get(&id) {
            return Err(SchemaError::DuplicateId {
                id,
                first: first.name.clone(),
                second: name,
            });
        }
        let written = crate::writer::WriterSchema::parse(file, text)?;
        // The same layout as the current version (Java's `avro.java.string`
        // and docs aside: Avro's canonical form drops them) takes the fast path.
        let same =
            written.readable_as(file, reads_as, self.catalog.get(kind), kind.current().text)?;
        let schema = written.schema;
        self.writers.insert(
            id,
            Writer {
                kind,
                name,
                older: (!same).then_some(schema),
            },
        );
        Ok(self)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The id `kind`'s current version is written under (none in a
    /// registry's codec until it is registered).
    pub fn schema_id(&self, kind: SchemaKind) -> Option<u32> {
        self.id_of.get(&kind).copied()
    }

    /// Encodes `record` as `kind` in the Confluent wire format.
    pub fn encode<T: Serialize>(
        &self,
        kind: SchemaKind,
        record: &T,
    ) -> Result<Vec<u8>, EncodeError> {
        self.encode_as(kind.current().name, record)
    }

    /// Encodes `record` with the schema version `name` (e.g.
    /// `pos_transaction.v1`) and that version's schema id, as a producer
    /// still on that version would. Fields the version lacks are left out.
    pub fn encode_as<T: Serialize>(&self, name: &str, record: &T) -> Result<Vec<u8>, EncodeError> {
        let fail = |message: String| EncodeError {
            schema: name.to_string(),
            message: without_values(&message),
        };
        let (id, _) = self
            .writers
            .iter()
            .find(|(_, w)| w.name == name)
            .ok_or_else(|| fail("no schema id is configured for this version".into()))?;
        let (_, schema) = self
            .catalog
            .by_name(name)
            .ok_or_else(|| fail("not an embedded schema version".into()))?;
        let mut out = Vec::with_capacity(256);
        out.push(MAGIC_BYTE);
        out.extend_from_slice(&id.to_be_bytes());
        match self.fast_kind_of(name) {
            // The hot path: the current version, serialized straight from the
            // record (no `Value` tree), as the decode hot path reads it.
            Some(kind) => {
                let mut config = serde_avro_fast::ser::SerializerConfig::new(&self.fast.0[&kind]);
                serde_avro_fast::to_datum(record, out, &mut config).map_err(|e| fail(e.to_string()))
            }
            None => {
                let value = apache_avro::to_value(record)
                    .and_then(|v| v.resolve(schema))
                    .map_err(|e| fail(e.to_string()))?;
                let body =
                    apache_avro::to_avro_datum(schema, value).map_err(|e| fail(e.to_string()))?;
                out.extend_from_slice(&body);
                Ok(out)
            }
        }
    }

    /// Encodes with apache-avro's `Value` path: the reference the fast
    /// encoder is tested against.
    pub fn encode_reference<T: Serialize>(
        &self,
        kind: SchemaKind,
        record: &T,
    ) -> Result<Vec<u8>, EncodeError> {
        let name = kind.current().name;
        let fail = |message: String| EncodeError {
            schema: name.to_string(),
            message: without_values(&message),
        };
        let id = self
            .schema_id(kind)
            .ok_or_else(|| fail("no schema id is configured for this version".into()))?;
        let (_, schema) = self
            .catalog
            .by_name(name)
            .ok_or_else(|| fail("not an embedded schema version".into()))?;
        let value = apache_avro::to_value(record)
            .and_then(|v| v.resolve(schema))
            .map_err(|e| fail(e.to_string()))?;
        let body = apache_avro::to_avro_datum(schema, value).map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.push(MAGIC_BYTE);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The kind whose current version is named `name`, if it is one.
    fn fast_kind_of(&self, name: &str) -> Option<SchemaKind> {
        SchemaKind::ALL
            .into_iter()
            .find(|k| k.current().name == name)
    }

    /// Encodes `record` as JSON (for channels configured with JSON framing).
    pub fn encode_json<T: Serialize>(
        &self,
        kind: SchemaKind,
        record: &T,
    ) -> Result<Vec<u8>, EncodeError> {
        serde_json::to_vec(record).map_err(|e| EncodeError {
            schema: kind.to_string(),
            message: without_values(&e.to_string()),
        })
    }

    /// Decodes a message framed as `framing` that must hold a `kind` record.
    pub fn decode<T: DeserializeOwned>(
        &self,
        framing: Framing,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        self.check_size(bytes)?;
        match framing {
            Framing::Confluent => self.decode_confluent(kind, bytes),
            Framing::Json => self.decode_json(kind, bytes),
        }
    }

    /// An empty message, or one past `max_message_bytes`, is refused before
    /// it is read.
    fn check_size(&self, bytes: &[u8]) -> Result<(), DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        if bytes.len() > self.max_message_bytes {
            return Err(DecodeError::Oversized {
                size: bytes.len(),
                limit: self.max_message_bytes,
            });
        }
        Ok(())
    }

    fn decode_confluent<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        if bytes[0] != MAGIC_BYTE {
            return Err(DecodeError::WrongMagicByte { found: bytes[0] });
        }
        let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::TruncatedHeader { size: bytes.len() });
        };
        let id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let learned;
        let writer = match self.writers.get(&id) {
            Some(w) => w,
            None => {
                learned = self
                    .learned_writer(id)
                    .ok_or(DecodeError::UnknownSchemaId { id })?;
                &*learned
            }
        };
        if writer.kind != kind {
            return Err(DecodeError::UnexpectedSchema {
                id,
                found: writer.name.clone(),
                expected: kind.to_string(),
            });
        }
        let schema = self.catalog.get(kind);
        // The writer as a dead letter names it: a learned writer's name
        // says its registry id already; a configured one's is a version
        // name (`pos_transaction.v1`), to which the id is added.
        // Made only for an error: the hot path allocates nothing for it.
        let named = || {
            if writer.name.contains("schema id") {
                writer.name.to_string()
            } else {
                format!("{} (schema id {id})", writer.name)
            }
        };
        let body_error = |message: String| DecodeError::Body {
            schema: named(),
            message,
        };
        match &writer.older {
            None => self
                .decode_current(kind, &writer.name, body)
                .map_err(|e| match e {
                    DecodeError::Body { message, .. } => body_error(message),
                    DecodeError::TrailingBytes { trailing, .. } => DecodeError::TrailingBytes {
                        schema: named(),
                        trailing,
                    },
                    other => other,
                }),
            Some(older) => {
                // apache-avro reads a union at the end of the input as its
                // first branch (null): a body cut short must not decode.
                let mut reader = ShortReads {
                    rest: body,
                    short: false,
                };
                let value = apache_avro::from_avro_datum(older, &mut reader, Some(schema))
                    .map_err(|e| {
                        let message = without_values(&e.to_string());
                        body_error(match written_field_refused(older, schema, body) {
                            Some(field) => format!("field {field}: {message}"),
                            None => message,
                        })
                    })?;
                if reader.short {
                    return Err(body_error("the body ends before its record does".into()));
                }
                if !reader.rest.is_empty() {
                    return Err(DecodeError::TrailingBytes {
                        schema: named(),
                        trailing: reader.rest.len(),
                    });
                }
                apache_avro::from_value(&value)
                    .map_err(|e| body_error(without_values(&e.to_string())))
            }
        }
    }

    /// The hot path: a current-version body, decoded by `serde_avro_fast`.
    fn decode_current<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        name: &str,
        body: &[u8],
    ) -> Result<T, DecodeError> {
        use std::io::BufRead;
        let schema = &self.fast.0[&kind];
        let mut state = serde_avro_fast::de::DeserializerState::from_slice(body, schema);
        let record = T::deserialize(state.deserializer()).map_err(|e| DecodeError::Body {
            schema: name.to_string(),
            message: without_values(&e.to_string()),
        })?;
        let trailing = state
            .into_reader()
            .fill_buf()
            .map(|rest| rest.len())
            .unwrap_or(0);
        if trailing > 0 {
            return Err(DecodeError::TrailingBytes {
                schema: name.to_string(),
                trailing,
            });
        }
        Ok(record)
    }

    /// Decodes a current-version Confluent message with apache-avro
    /// (`from_avro_datum` into a `Value`, then `from_value`): the reference
    /// implementation the fast path is tested and benchmarked against.
    pub fn decode_reference<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        let mut body = bytes
            .get(HEADER_LEN..)
            .ok_or(DecodeError::TruncatedHeader { size: bytes.len() })?;
        let name = kind.current().name;
        let value =
            apache_avro::from_avro_datum(self.catalog.get(kind), &mut body, None).map_err(|e| {
                DecodeError::Body {
                    schema: name.to_string(),
                    message: without_values(&e.to_string()),
                }
            })?;
        apache_avro::from_value(&value).map_err(|e| DecodeError::Body {
            schema: name.to_string(),
            message: without_values(&e.to_string()),
        })
    }

    fn decode_json<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        // JSON is read with Avro's rules: resolved against the schema, so
        // missing optional fields take their defaults and JSON and Avro
        // channels accept exactly the same records. Most records take the
        // fast path (`json::Plain`), which the reference path checks.
        let json = self.conformed_json(kind, bytes)?;
        let schema = self.catalog.get(kind);
        let plain = crate::json::Plain {
            names: self.json_names_of(kind),
        };
        if !plain.resolves(&json, schema) {
            return self.resolve_json(kind, json);
        }
        let mut json = json;
        plain.fill(&mut json, schema);
        match serde_json::from_value(json) {
            Ok(record) => Ok(record),
            // Not expected (the tests compare both paths); the reference
            // path decides, from the message itself.
            Err(_) => self.decode_json_reference(kind, bytes),
        }
    }

    /// A JSON message parsed and brought to its schema's shape: producers'
    /// unambiguous habits (whole floats, numeric strings, RFC 3339 times,
    /// null for a defaulted field, Avro's union wrappers, Kafka Connect's
    /// envelope) read as the schema means them (`crate::json`).
    fn conformed_json(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<serde_json::Value, DecodeError> {
        let json_error = |message: String| DecodeError::Json {
            schema: kind.to_string(),
            message,
        };
        let body = crate::json::without_bom(json_schema_body(bytes));
        let mut json: serde_json::Value = match serde_json::from_slice(body) {
            Ok(json) => json,
            // Half of an emoji's surrogate pair (a string cut short), or
            // Python's bare `NaN` for a gap: read with the replacement
            // character and null, as other JSON readers do, rather than
            // lose the whole event.
            Err(e) => match crate::json::repaired(body) {
                Some(fixed) => serde_json::from_slice(&fixed),
                None => Err(e),
            }
            .map_err(|e| json_error(without_values(&e.to_string())))?,
        };
        let schema = self.catalog.get(kind);
        crate::json::unwrap_connect_envelope(&mut json, schema);
        let unknown = crate::json::conform(&mut json, schema, self.json_names_of(kind))
            .map_err(json_error)?;
        crate::json::warn_unknown_fields(&kind.to_string(), &unknown);
        Ok(json)
    }

    /// The named types of `kind`'s schema, for reading JSON.
    fn json_names_of(&self, kind: SchemaKind) -> &JsonNameMap {
        static NONE: std::sync::LazyLock<JsonNameMap> = std::sync::LazyLock::new(JsonNameMap::new);
        self.json_names.get(&kind).unwrap_or(&NONE)
    }

    /// Decodes a JSON message (as `decode(Framing::Json, ..)` takes it: a
    /// byte-order mark, Confluent's JSON Schema header or a Kafka Connect
    /// envelope around it are read past) the reference way: its conformed
    /// JSON converted and resolved against the schema by apache-avro, then
    /// the record read from the Avro value. What `decode` does for a record
    /// its fast path is not sure of, and what the tests compare that fast
    /// path with.
    pub fn decode_json_reference<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        bytes: &[u8],
    ) -> Result<T, DecodeError> {
        self.check_size(bytes)?;
        let json = self.conformed_json(kind, bytes)?;
        self.resolve_json(kind, json)
    }

    /// Conformed JSON resolved against `kind`'s schema by apache-avro
    /// (which words the error), then the record read from the Avro value.
    fn resolve_json<T: DeserializeOwned>(
        &self,
        kind: SchemaKind,
        json: serde_json::Value,
    ) -> Result<T, DecodeError> {
        let json_error = |message: String| DecodeError::Json {
            schema: kind.to_string(),
            message,
        };
        let schema = self.catalog.get(kind);
        let value =
            apache_avro::to_value(json).map_err(|e| json_error(without_values(&e.to_string())))?;
        let value = value.clone().resolve(schema).map_err(|e| {
            let message = without_values(&e.to_string());
            json_error(match field_refused(&value, schema) {
                Some(field) => format!("field {field}: {message}"),
                None => message,
            })
        })?;
        apache_avro::from_value(&value).map_err(|e| json_error(without_values(&e.to_string())))
    }
}

/// Which of the reader's fields a body written with `writer` fails to
/// resolve into (`terminal_id`, `line_items[2].quantity`), for the dead
/// letter: apache-avro's resolution error does not say. The body is read
/// again by the writer's schema alone (only on this error path).
fn written_field_refused(
    writer: &apache_avro::Schema,
    reader: &apache_avro::Schema,
    body: &[u8],
) -> Option<String> {
    let value = apache_avro::from_avro_datum(writer, &mut &body[..], None).ok()?;
    field_refused(&value, reader)
}

/// The path of the first field of `value` (a record as the writer wrote it,
/// or JSON as apache-avro reads it) that does not resolve as `schema`'s
/// field of that name: as deep as the failure can be told (a field whose
/// type names another by reference is named itself).
fn field_refused(
    value: &apache_avro::types::Value,
    schema: &apache_avro::Schema,
) -> Option<String> {
    use apache_avro::types::Value;
    use apache_avro::Schema;
    let refused = |v: &Value, s: &Schema| v.clone().resolve(s).is_err();
    let under = |name: String, v: &Value, s: &Schema| match field_refused(v, s) {
        Some(inner) if inner.starts_with('[') => format!("{name}{inner}"),
        Some(inner) => format!("{name}.{inner}"),
        None => name,
    };
    match (value, schema) {
        (Value::Union(_, inner), s) if !matches!(s, Schema::Union(_)) => field_refused(inner, s),
        (Value::Record(_) | Value::Map(_), Schema::Record(r)) => r.fields.iter().find_map(|f| {
            let v = match value {
                Value::Record(fields) => fields.iter().find(|(n, _)| *n == f.name).map(|(_, v)| v),
                Value::Map(fields) => fields.get(&f.name),
                _ => None,
            }?;
            refused(v, &f.schema).then(|| under(f.name.clone(), v, &f.schema))
        }),
        (Value::Array(items), Schema::Array(a)) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| refused(v, &a.items).then(|| under(format!("[{i}]"), v, &a.items))),
        _ => None,
    }
}

/// An Avro body as apache-avro reads it, noting a read past its end (which
/// apache-avro takes for a null union branch instead of an error).
struct ShortReads<'a> {
    rest: &'a [u8],
    short: bool,
}

impl std::io::Read for ShortReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() && !buf.is_empty() {
            self.short = true;
        }
        self.rest.read(buf)
    }
}

/// A JSON message without the header Confluent's JSON Schema serializers
/// put before it (magic byte 0 and a 4-byte schema id): JSON never starts
/// with a zero byte.
fn json_schema_body(bytes: &[u8]) -> &[u8] {
    match bytes.split_first_chunk::<HEADER_LEN>() {
        Some((header, body))
            if header[0] == MAGIC_BYTE
                && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') =>
        {
            body
        }
        _ => bytes,
    }
}

#[cfg(test)]
mod tests {
    use apache_avro::types::Value;
    use kindred_model::raw::PosTransaction;

    use super::*;

    fn pos() -> PosTransaction {
        PosTransaction {
            transaction_id: "T-1".into(),
            store_id: "S01".into(),
            terminal_id: "3".into(),
            receipt_no: "R-9".into(),
            cashier_id: Some("c7".into()),
            loyalty_program: None,
            member_card_no: Some("m-001".into()),
            phone: None,
            customer_name: Some("Li Wei".into()),
            amount_minor: 12_900,
            currency: "CNY".into(),
            line_items: vec![kindred_model::LineItem {
                sku: "SKU-1".into(),
                quantity: 3,
                unit_price_minor: 4_300,
            }],
            points_earned: 129,
            points_redeemed: 0,
            payment_type: Some("alipay".into()),
            event_time: 1_700_000_000_000,
        }
    }

    /// A producer still on `pos_transaction.v1` (schema id 11) writes a record
    /// the way an old Confluent serializer would.
    fn v1_message(c: &WireCodec) -> Vec<u8> {
        use apache_avro::types::Record;
        let (_, v1) = c.catalog().by_name("pos_transaction.v1").expect("embedded");
        let mut r = Record::new(v1).expect("record schema");
        r.put("transaction_id", "T-OLD");
        r.put("store_id", "S02");
        r.put("terminal_id", "1");
        r.put("receipt_no", "R-1");
        r.put(
            "member_card_no",
            Value::Union(1, Box::new(Value::String("M-9".into()))),
        );
        r.put("phone", Value::Union(0, Box::new(Value::Null)));
        r.put("customer_name", Value::Union(0, Box::new(Value::Null)));
        r.put("amount_minor", 500i64);
        r.put("currency", "CNY");
        r.put("points_earned", 5i64);
        r.put("points_redeemed", 0i64);
        r.put("event_time", Value::TimestampMillis(1_700_000_000_000));
        let body = apache_avro::to_avro_datum(v1, r).expect("v1 encodes");
        let mut out = vec![0, 0, 0, 0, 11];
        out.extend(body);
        out
    }

    #[test]
    fn old_producer_new_consumer() {
        let c = codec();
        let got: PosTransaction = c
            .decode(
                Framing::Confluent,
                SchemaKind::PosTransaction,
                &v1_message(&c),
            )
            .expect("v1 data decodes into the current version");
        assert_eq!(got.transaction_id, "T-OLD");
        assert_eq!(got.member_card_no.as_deref(), Some("M-9"));
        // Fields added in version 2 take their defaults.
        assert_eq!(got.line_items, vec![]);
        assert_eq!(
            (got.payment_type, got.cashier_id, got.loyalty_program),
            (None, None, None)
        );
    }

    #[test]
    fn fast_path_agrees_with_apache_avro() {
        let c = codec();
        let bytes = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let reference = c.encode_as("pos_transaction", &pos()).expect("encode");
        assert_eq!(bytes, reference, "both encoders write the same bytes");
        let fast: PosTransaction = c
            .decode(Framing::Confluent, SchemaKind::PosTransaction, &bytes)
            .expect("decode");
        let slow: PosTransaction = c
            .decode_reference(SchemaKind::PosTransaction, &bytes)
            .expect("decode");
        assert_eq!(fast, slow);
    }

    #[test]
    fn encode_as_an_older_version_round_trips_through_resolution() {
        let c = codec();
        let bytes = c
            .encode_as("pos_transaction.v1", &pos())
            .expect("v1 encodes");
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 11]);
        let got: PosTransaction = c
            .decode(Framing::Confluent, SchemaKind::PosTransaction, &bytes)
            .expect("decodes");
        assert_eq!(got.transaction_id, "T-1");
        assert_eq!(got.line_items, vec![], "v1 has no line items");
    }

    #[test]
    fn new_producer_old_consumer() {
        let c = codec();
        let bytes = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let (_, v1) = c.catalog().by_name("pos_transaction.v1").expect("embedded");
        let current = c.catalog().get(SchemaKind::PosTransaction);
        let old_view = apache_avro::from_avro_datum(current, &mut &bytes[5..], Some(v1))
            .expect("a v1 reader reads v2 data, ignoring the new fields");
        let Value::Record(fields) = old_view else {
            panic!("a record")
        };
        assert_eq!(fields.len(), 12);
        assert!(fields.iter().all(|(name, _)| name != "line_items"));
    }

    /// `json` sent on a JSON-framed channel, read as a POS transaction.
    fn pos_from_json(
        c: &WireCodec,
        json: &serde_json::Value,
    ) -> Result<PosTransaction, DecodeError> {
        let bytes = serde_json::to_vec(json).expect("JSON");
        c.decode(Framing::Json, SchemaKind::PosTransaction, &bytes)
    }

    fn codec() -> WireCodec {
        WireCodec::with_default_ids().expect("embedded schemas")
    }

    /// With a registry, ids are learned: by the record's full name, checked
    /// readable, and a producer's layout decoded through resolution.
    #[test]
    fn a_registry_codec_learns_ids_and_refuses_what_is_not_kindreds() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let mut message = codec()
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        message[1..5].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(c.unknown_id(&message), Some(7));
        assert!(matches!(
            c.decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, &message),
            Err(DecodeError::UnknownSchemaId { id: 7 })
        ));
        let text = SchemaKind::PosTransaction.current().text;
        assert_eq!(
            c.learn(7, "http://registry", text).expect("learned"),
            SchemaKind::PosTransaction
        );
        assert_eq!(c.unknown_id(&message), None);
        // kindred's own layout, as a producer registers it, takes the fast
        // decoder: the timestamp-millis the writer's cleaning strips made
        // the layouts compare unalike, and every such id was resolved.
        for kind in [
            SchemaKind::PosTransaction,
            SchemaKind::WebEvent,
            SchemaKind::SocialInteraction,
        ] {
            let id = 100 + kind as u32;
            c.learn(id, "http://registry", kind.current().text)
                .expect("learned");
            let writer = c.learned_writer(id).expect("learned");
            assert!(writer.older.is_none(), "{kind}: the same layout");
        }
        // Clones share what was learned.
        let got: PosTransaction = c
            .clone()
            .decode(Framing::Confluent, SchemaKind::PosTransaction, &message)
            .expect("decodes");
        assert_eq!(got, pos());
        // Another team's record, and kindred's name without a field kindred needs.
        let foreign = r#"{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"id","type":"string"}]}"#;
        let err = c.learn(8, "http://registry", foreign).expect_err("foreign");
        assert!(matches!(err, SchemaError::NotKindred { .. }), "{err}");
        assert!(err.to_string().contains("com.example.Order"), "{err}");
        let lacking = text.replacen(r#""name": "store_id""#, r#""name": "shop_id""#, 1);
        assert_ne!(lacking, text);
        let err = c
            .learn(9, "http://registry", &lacking)
            .expect_err("unreadable");
        assert!(matches!(err, SchemaError::Unreadable { .. }), "{err}");
        assert_eq!(c.unknown_id(&[0, 0, 0, 0, 9, 1]), Some(9));
        // Writing needs the registered id.
        assert!(c.encode(SchemaKind::PosTransaction, &pos()).is_err());
        let c = c
            .with_registered_id(SchemaKind::PosTransaction, 3)
            .expect("registered");
        assert_eq!(c.schema_id(SchemaKind::PosTransaction), Some(3));
        let written = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        assert_eq!(written[1..5], 3u32.to_be_bytes());
        // An id naming another schema cannot be registered for this one.
        assert!(c
            .with_registered_id(SchemaKind::WebEvent, 7)
            .is_err_and(|e| matches!(e, SchemaError::DuplicateId { .. })));
    }

    /// Writer schemas as other teams' tools write them: another namespace,
    /// Avro IDL's `uuid`, a custom attribute under a reserved key; each is
    /// learned and its messages read (none may panic the process).
    #[test]
    fn third_party_writer_schemas_are_learned_as_avro_resolution_reads_them() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let variants = [
            text.replacen(
                r#""namespace": "dev.kindred.raw""#,
                r#""namespace": "com.acme.pos""#,
                1,
            ),
            text.replacen(
                r#"{"name": "transaction_id", "type": "string""#,
                r#"{"name": "transaction_id", "type": {"type": "string", "logicalType": "uuid"}"#,
                1,
            ),
            text.replacen(
                r#"{"name": "store_id", "type": "string"}"#,
                r#"{"name": "store_id", "type": "string", "size": "L", "items": 3}"#,
                1,
            ),
            // Defaults a registry that does not validate them takes (Avro
            // IDL's `string store_id = null;`): a writer's defaults play
            // no part in reading its records.
            text.replacen(
                r#"{"name": "store_id", "type": "string"}"#,
                r#"{"name": "store_id", "type": "string", "default": null}"#,
                1,
            ),
            text.replacen(
                r#"{"name": "store_id", "type": "string"}"#,
                r#"{"name": "store_id", "type": "string", "default": 17}"#,
                1,
            ),
        ];
        for (n, variant) in variants.iter().enumerate() {
            assert_ne!(variant, text, "variant {n} changed nothing");
            let id = 20 + n as u32;
            assert_eq!(
                c.learn(id, "http://registry", variant).expect("learned"),
                SchemaKind::PosTransaction,
                "variant {n}"
            );
            let mut message = codec()
                .encode(SchemaKind::PosTransaction, &pos())
                .expect("encode");
            message[1..5].copy_from_slice(&id.to_be_bytes());
            let got: PosTransaction = c
                .decode(Framing::Confluent, SchemaKind::PosTransaction, &message)
                .expect("decodes");
            assert_eq!(got, pos(), "variant {n}");
        }
    }

    /// Writers whose records read as kindred's once the writer is read as
    /// Avro's resolution reads it (Java's too), each learned and its
    /// records read: a `fixed` uuid (apache-avro read it as a
    /// length-prefixed string, misaligning every later field), a
    /// `local-timestamp-millis` event time (refused for kindred's
    /// `timestamp-millis`), and a record type defined in an earlier field
    /// and used again by name where kindred defines it (refused: the check
    /// compared a reference only with a reference).
    #[test]
    fn writers_read_as_avro_resolution_reads_them_whatever_their_logical_types_and_names() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let uuid_first = text.replacen(
            r#""fields": ["#,
            r#""fields": [{"name": "basket_id", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},"#,
            1,
        );
        let local_time = text.replacen(
            r#"{"type": "long", "logicalType": "timestamp-millis"}"#,
            r#"{"type": "long", "logicalType": "local-timestamp-millis"}"#,
            1,
        );
        let inline = r#"{"name": "line_items", "default": [], "type": {"type": "array", "items": {
      "type": "record", "name": "LineItem", "fields": [
        {"name": "sku", "type": "string"},
        {"name": "quantity", "type": "int"},
        {"name": "unit_price_minor", "type": "long"}
      ]}}},"#;
        assert!(text.contains(inline), "the test's idea of the schema");
        let defined_first = text
            .replacen(
                inline,
                r#"{"name": "line_items", "default": [], "type": {"type": "array", "items": "LineItem"}},"#,
                1,
            )
            .replacen(
                r#""fields": ["#,
                r#""fields": [{"name": "voided_items", "type": {"type": "array", "items": {"type": "record", "name": "LineItem", "fields": [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "int"}, {"name": "unit_price_minor", "type": "long"}]}}},"#,
                1,
            );
        // What each writer puts before kindred's body: 16 bytes of a uuid,
        // an empty array (one zero byte).
        for (n, (variant, before)) in [
            (uuid_first, vec![7u8; 16]),
            (local_time, Vec::new()),
            (defined_first, vec![0u8]),
        ]
        .into_iter()
        .enumerate()
        {
            assert_ne!(variant, text, "variant {n} changed nothing");
            let id = 60 + n as u32;
            assert_eq!(
                c.learn(id, "http://registry", &variant)
                    .unwrap_or_else(|e| panic!("variant {n} learned: {e}\n{variant}")),
                SchemaKind::PosTransaction,
                "variant {n}"
            );
            let body = codec()
                .encode(SchemaKind::PosTransaction, &pos())
                .expect("encode");
            let mut message = body[..5].to_vec();
            message[1..5].copy_from_slice(&id.to_be_bytes());
            message.extend(&before);
            message.extend(&body[5..]);
            let got: PosTransaction = c
                .decode(Framing::Confluent, SchemaKind::PosTransaction, &message)
                .unwrap_or_else(|e| panic!("variant {n} decodes: {e}"));
            assert_eq!(got, pos(), "variant {n}");
        }
    }

    /// apache-avro decodes a body by the writer's schema in full, with no
    /// limit on depth nor on items that take no bytes: a recursive type
    /// (a stack overflow) or an array of nulls (memory) in a writer would
    /// let a few bytes abort the process, at the same record on every
    /// restart. Such a writer is refused, saying why; a type used again
    /// by name that does not contain itself is not.
    #[test]
    fn a_writer_whose_records_could_abort_the_decoder_is_refused() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let with =
            |field: &str| text.replacen(r#""fields": ["#, &format!(r#""fields": [{field},"#), 1);
        let hazards = [
            (
                with(
                    r#"{"name": "tree", "default": null, "type": ["null", {"type": "record", "name": "Node", "fields": [{"name": "child", "type": ["null", "Node"]}]}]}"#,
                ),
                "contains itself",
            ),
            (
                with(
                    r#"{"name": "pad", "default": [], "type": {"type": "array", "items": "null"}}"#,
                ),
                "take no bytes",
            ),
            (
                with(
                    r#"{"name": "pad", "default": [], "type": {"type": "array", "items": {"type": "record", "name": "Empty", "fields": []}}}"#,
                ),
                "take no bytes",
            ),
            (
                with(
                    r#"{"name": "pad", "default": [], "type": {"type": "array", "items": {"type": "fixed", "name": "Z", "size": 0}}}"#,
                ),
                "take no bytes",
            ),
        ];
        for (n, (variant, why)) in hazards.iter().enumerate() {
            let err = c
                .learn(80 + n as u32, "http://registry", variant)
                .expect_err("refused");
            assert!(err.to_string().contains(why), "variant {n}: {err}");
        }
        let reused = with(
            r#"{"name": "pair", "default": null, "type": ["null", {"type": "record", "name": "Pair", "fields": [{"name": "a", "type": {"type": "record", "name": "Leaf", "fields": [{"name": "x", "type": "int"}]}}, {"name": "b", "type": "Leaf"}]}]}"#,
        );
        c.learn(90, "http://registry", &reused)
            .expect("a type used twice is no hazard");
        // Thirty types, each using the one before twice: a few KB of
        // schema that doubles with each type when written out for the
        // check. Refused at once, not walked.
        let mut chain =
            r#"{"type": "record", "name": "T0", "fields": [{"name": "x", "type": "int"}]}"#
                .to_string();
        for k in 1..=30 {
            chain = format!(
                r#"{{"type": "record", "name": "T{k}", "fields": [{{"name": "x", "type": {chain}}}, {{"name": "y", "type": "T{}"}}]}}"#,
                k - 1
            );
        }
        let doubling = with(&format!(
            r#"{{"name": "chain", "default": null, "type": ["null", {chain}]}}"#
        ));
        let started = std::time::Instant::now();
        let err = c
            .learn(91, "http://registry", &doubling)
            .expect_err("refused");
        assert!(err.to_string().contains("types to compare"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // A large writer that is no hazard: 2,000 optional fields of one
        // fifteen-field record type named after its first use (about
        // 36,000 types written out) is learned.
        let address = (0..15)
            .map(|i| format!(r#"{{"name": "a{i}", "type": "string"}}"#))
            .collect::<Vec<_>>()
            .join(", ");
        let mut fields = vec![format!(
            r#"{{"name": "f0", "default": null, "type": ["null", {{"type": "record", "name": "Addr", "fields": [{address}]}}]}}"#
        )];
        fields.extend(
            (1..2000).map(|i| {
                format!(r#"{{"name": "f{i}", "default": null, "type": ["null", "Addr"]}}"#)
            }),
        );
        let large = with(&fields.join(", "));
        c.learn(92, "http://registry", &large)
            .expect("a large writer within the budget");
    }

    /// A body that does not decode names its writer's registry id, also
    /// for an id configured by version name (`pos_transaction.v1` alone
    /// did not say which id the producer wrote).
    #[test]
    fn a_body_that_does_not_decode_names_the_schema_id() {
        let c = codec();
        let mut message = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let id = u32::from_be_bytes([message[1], message[2], message[3], message[4]]);
        message.truncate(message.len() / 2);
        let err = c
            .decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, &message)
            .expect_err("cut short");
        assert!(
            err.to_string().contains(&format!("(schema id {id})")),
            "{err}"
        );
        let mut longer = c
            .encode(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        longer.push(0);
        let err = c
            .decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, &longer)
            .expect_err("a byte too many");
        assert!(
            err.to_string().contains(&format!("(schema id {id})")),
            "{err}"
        );
    }

    /// A Kafka Connect or Debezium writer makes every nullable column a
    /// union with null: learned, its records read by the branch they hold,
    /// and only one that holds null where kindred needs a value is refused.
    #[test]
    fn a_writer_union_with_null_for_a_required_field_is_read_record_by_record() {
        nullable_column_read_record_by_record(
            "terminal_id",
            r#"{"name": "terminal_id", "type": "string"}"#,
            r#"{"name": "terminal_id", "type": ["null", "string"], "default": null}"#,
            Value::String("3".into()),
        );
    }

    /// Kafka Connect's nullable timestamp column, `["null",
    /// timestamp-millis]`, for `event_time`: the null branch was kept in the
    /// check (the reader's type is a logical type, which the check took for
    /// "may resolve"), so the writer was refused and every message of the
    /// producer dead-lettered. Learned now; a record holding null is
    /// refused on its own.
    #[test]
    fn a_nullable_timestamp_column_is_read_record_by_record() {
        nullable_column_read_record_by_record(
            "event_time",
            r#"{"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}"#,
            r#"{"name": "event_time", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null}"#,
            Value::TimestampMillis(pos().event_time),
        );
    }

    /// A Kafka Connect or Java producer whose optional birthday is a
    /// `date` (`["null", {"type": "int", "logicalType": "date", ...}]`):
    /// the branch written as an object was never judged, Avro's check
    /// refused the writer, and every message of the producer was
    /// dead-lettered, null birthdays too. Learned now; a record holding no
    /// birthday reads, one holding a date is refused on its own, naming
    /// the field.
    #[test]
    fn a_date_birthday_column_is_read_record_by_record() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::WebEvent.current().text;
        let required = r#"{"name": "birthday", "type": ["null", "string"], "default": null"#;
        let nullable = r#"{"name": "birthday", "type": ["null", {"type": "int", "connect.name": "org.apache.kafka.connect.data.Date", "logicalType": "date"}], "default": null"#;
        let connect = text.replacen(required, nullable, 1);
        assert_ne!(connect, text);
        assert_eq!(
            c.learn(41, "http://registry", &connect).expect("learned"),
            SchemaKind::WebEvent
        );
        let writer = crate::catalog::parse("connect", &connect).expect("parse");
        let event = kindred_model::raw::WebEvent {
            event_id: "w-1".into(),
            event_type: "signup".into(),
            user_id: None,
            anonymous_id: None,
            email: Some("ann@example.com".into()),
            phone: None,
            name: None,
            given_name: None,
            family_name: None,
            birthday: None,
            gender: None,
            address: None,
            sku: None,
            order: None,
            order_amount_minor: None,
            currency: None,
            consents: Vec::new(),
            event_time: 1_700_000_000_000,
        };
        let message = |birthday: Value| {
            let Value::Record(mut fields) = apache_avro::to_value(event.clone()).expect("value")
            else {
                panic!("a record")
            };
            for (name, value) in &mut fields {
                if name == "birthday" {
                    *value = birthday.clone();
                }
            }
            let value = Value::Record(fields).resolve(&writer).expect("resolves");
            let mut m = vec![0];
            m.extend(41u32.to_be_bytes());
            m.extend(apache_avro::to_avro_datum(&writer, value).expect("encodes"));
            m
        };
        let got: kindred_model::raw::WebEvent = c
            .decode(
                Framing::Confluent,
                SchemaKind::WebEvent,
                &message(Value::Null),
            )
            .expect("a record without a birthday");
        assert_eq!(got, event);
        let err = c
            .decode::<kindred_model::raw::WebEvent>(
                Framing::Confluent,
                SchemaKind::WebEvent,
                &message(Value::Date(7441)),
            )
            .expect_err("a date where kindred reads text");
        assert!(err.to_string().contains("birthday"), "{err}");
    }

    /// The POS schema with `field`'s declaration `required` replaced by
    /// `nullable` (a union with null): learned, a record holding `held`
    /// (the value [`pos`] has) reads as `pos()`, and one holding null is
    /// refused on its own.
    fn nullable_column_read_record_by_record(
        field: &str,
        required: &str,
        nullable: &str,
        held: Value,
    ) {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let connect = text.replacen(required, nullable, 1);
        assert_ne!(connect, text);
        assert_eq!(
            c.learn(40, "http://registry", &connect).expect("learned"),
            SchemaKind::PosTransaction
        );
        let writer = crate::catalog::parse("connect", &connect).expect("parse");
        let message = |held: Value| {
            let Value::Record(mut fields) = apache_avro::to_value(pos()).expect("value") else {
                panic!("a record")
            };
            for (name, value) in &mut fields {
                if name == field {
                    *value = held.clone();
                }
            }
            let value = Value::Record(fields).resolve(&writer).expect("resolves");
            let mut m = vec![0];
            m.extend(40u32.to_be_bytes());
            m.extend(apache_avro::to_avro_datum(&writer, value).expect("encodes"));
            m
        };
        let got: PosTransaction = c
            .decode(
                Framing::Confluent,
                SchemaKind::PosTransaction,
                &message(held),
            )
            .expect("a record holding a value");
        assert_eq!(got, pos());
        let err = c
            .decode::<PosTransaction>(
                Framing::Confluent,
                SchemaKind::PosTransaction,
                &message(Value::Null),
            )
            .expect_err("null where kindred needs a value");
        assert!(matches!(err, DecodeError::Body { .. }), "{field}: {err}");
        // The dead letter names the field (apache-avro's error does not).
        assert!(
            err.to_string().contains(&format!("field {field}:")),
            "{field}: {err}"
        );
    }

    /// A producer that renamed a field kindred reads (`member_card_no` to
    /// `card_no`): learned, as Avro resolution allows, and every record
    /// then has no card; the codec names the fields so the service can
    /// say so.
    #[test]
    fn a_writer_lacking_fields_kindred_reads_names_them() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let renamed = text.replacen(r#""name": "member_card_no""#, r#""name": "card_no""#, 1);
        assert_ne!(renamed, text);
        assert_eq!(
            c.learn(43, "http://registry", &renamed).expect("learned"),
            SchemaKind::PosTransaction
        );
        assert_eq!(c.fields_defaulted(43), vec!["member_card_no".to_string()]);
        c.learn(44, "http://registry", text).expect("learned");
        assert!(c.fields_defaulted(44).is_empty());
        assert!(c.fields_defaulted(45).is_empty());
    }

    /// A till that sends some card numbers as numbers writes a union of
    /// several types: learned, and only a record holding a type kindred's
    /// field cannot hold (a `long` card, a `string` amount) is refused.
    #[test]
    fn a_writer_union_of_several_types_is_read_record_by_record() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let till = text
            .replacen(
                r#""name": "member_card_no", "type": ["null", "string"]"#,
                r#""name": "member_card_no", "type": ["null", "string", "long"]"#,
                1,
            )
            .replacen(
                r#""name": "amount_minor", "type": "long""#,
                r#""name": "amount_minor", "type": ["int", "long", "string"]"#,
                1,
            );
        assert_eq!(till.matches(r#""long", "string""#).count(), 1, "{till}");
        assert_eq!(till.matches(r#""string", "long""#).count(), 1, "{till}");
        assert_eq!(
            c.learn(41, "http://registry", &till).expect("learned"),
            SchemaKind::PosTransaction
        );
        let writer = crate::catalog::parse("till", &till).expect("parse");
        let message = |card: Value, amount: Value| {
            let Value::Record(mut fields) = apache_avro::to_value(pos()).expect("value") else {
                panic!("a record")
            };
            for (name, value) in &mut fields {
                match name.as_str() {
                    "member_card_no" => *value = card.clone(),
                    "amount_minor" => *value = amount.clone(),
                    _ => {}
                }
            }
            let value = Value::Record(fields).resolve(&writer).expect("resolves");
            let mut m = vec![0];
            m.extend(41u32.to_be_bytes());
            m.extend(apache_avro::to_avro_datum(&writer, value).expect("encodes"));
            m
        };
        let decode = |m: &[u8]| {
            c.decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, m)
        };
        let card = pos().member_card_no.expect("the sample has a card");
        let amount = pos().amount_minor;
        let got = decode(&message(Value::String(card.clone()), Value::Long(amount)))
            .expect("a record holding types kindred reads");
        assert_eq!(got, pos());
        let int_amount = i32::try_from(amount).expect("a small amount");
        let got = decode(&message(Value::Null, Value::Int(int_amount)))
            .expect("an int amount reads as a long");
        assert_eq!((got.member_card_no, got.amount_minor), (None, amount));
        for (card, amount) in [
            (Value::Long(12_345), Value::Long(amount)),
            (Value::String(card), Value::String("12.50".into())),
        ] {
            let err = decode(&message(card.clone(), amount.clone()))
                .expect_err("a type kindred cannot read");
            assert!(
                matches!(err, DecodeError::Body { .. }),
                "{card:?} {amount:?}: {err}"
            );
        }
    }

    /// A union whose branch apache-avro would read lossily (a `long` for
    /// the `int` quantity: it truncates) keeps the writer refused, as
    /// before; and every branch of a union read into one type is checked,
    /// whatever the order of the branches.
    #[test]
    fn a_writer_union_is_judged_by_every_branch_it_has() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::PosTransaction.current().text;
        let with = |from: &str, to: &str| {
            let changed = text.replacen(from, to, 1);
            assert_ne!(changed, text, "{from}");
            changed
        };
        for lossy in [
            with(
                r#""name": "quantity", "type": "int""#,
                r#""name": "quantity", "type": ["int", "long"]"#,
            ),
            with(
                r#""name": "quantity", "type": "int""#,
                r#""name": "quantity", "type": ["null", "long", "int"]"#,
            ),
        ] {
            let err = c
                .learn(42, "http://registry", &lossy)
                .expect_err("a long quantity would be truncated");
            assert!(matches!(err, SchemaError::Unreadable { .. }), "{err}");
        }
        let event_time =
            r#""name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}"#;
        let learned: Vec<bool> = [
            r#""name": "event_time", "type": [{"type": "long", "logicalType": "timestamp-millis"}, "int"]"#,
            r#""name": "event_time", "type": ["int", {"type": "long", "logicalType": "timestamp-millis"}]"#,
        ]
        .iter()
        .zip(43..)
        .map(|(to, id)| c.learn(id, "http://registry", &with(event_time, to)).is_ok())
        .collect();
        // apache-avro's check does not take an int for a timestamp-millis
        // long (its resolution would): refused, in either order.
        assert_eq!(learned, [false, false]);
    }

    /// A later kindred's change type reads as the enum's default, and a
    /// body cut short is refused on the resolution path too (apache-avro
    /// reads a union at the end of the input as null).
    #[test]
    fn an_added_change_type_is_learned_and_a_cut_body_is_refused() {
        let c = WireCodec::for_registry(1 << 20).expect("codec");
        let text = SchemaKind::ProfileChange.current().text;
        let later = text.replacen(r#""ERASED", "SPLIT"]"#, r#""ERASED", "SPLIT", "NEW"]"#, 1);
        assert_ne!(later, text);
        assert_eq!(
            c.learn(30, "http://registry", &later).expect("learned"),
            SchemaKind::ProfileChange
        );
        let mut message = codec()
            .encode(SchemaKind::ProfileChange, &full_change())
            .expect("encode");
        message[1..5].copy_from_slice(&30u32.to_be_bytes());
        let got: kindred_model::ProfileChange = c
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &message)
            .expect("decodes through resolution");
        assert_eq!(got, full_change());
        // Without its last byte (`rfm`'s union index, 1), the body ends
        // where a union begins.
        let mut single = full_change();
        single.rfm = None;
        let mut message = codec()
            .encode(SchemaKind::ProfileChange, &single)
            .expect("encode");
        message[1..5].copy_from_slice(&30u32.to_be_bytes());
        message.pop();
        let err = c
            .decode::<kindred_model::ProfileChange>(
                Framing::Confluent,
                SchemaKind::ProfileChange,
                &message,
            )
            .expect_err("a cut body");
        assert!(matches!(err, DecodeError::Body { .. }), "{err}");
    }

    /// JSON as other producers send it: behind a Confluent JSON Schema
    /// serializer's header, numbers for text fields, Python's `True`.
    #[test]
    fn json_from_other_producers_reads() {
        let c = codec();
        let json = serde_json::json!({
            "transaction_id": "T-1", "store_id": "S01", "terminal_id": 3,
            "receipt_no": 1001, "phone": 13800138000_u64, "amount_minor": 500,
            "currency": "CNY", "points_earned": 5, "points_redeemed": 0,
            "event_time": 1_700_000_000_000_i64,
        });
        let mut framed = vec![0, 0, 0, 0, 42];
        framed.extend(serde_json::to_vec(&json).expect("JSON"));
        let got: PosTransaction = c
            .decode(Framing::Json, SchemaKind::PosTransaction, &framed)
            .expect("read");
        assert_eq!(
            (
                got.terminal_id.as_str(),
                got.receipt_no.as_str(),
                got.phone.as_deref()
            ),
            ("3", "1001", Some("13800138000"))
        );
        let fraction = serde_json::json!({
            "transaction_id": "T-1", "store_id": "S01", "terminal_id": 3.5,
            "receipt_no": "R", "amount_minor": 500, "currency": "CNY",
            "points_earned": 5, "points_redeemed": 0, "event_time": 1_700_000_000_000_i64,
        });
        assert!(
            pos_from_json(&c, &fraction).is_err(),
            "a fraction is no till number"
        );
        // Avro's own JSON encoding (Java's JsonEncoder, fastavro) of a
        // writer whose every column is `["null", X]`: each value wrapped
        // in its branch's name, kindred's fields not unions; an `int`
        // branch where kindred reads a long.
        let wrapped = serde_json::json!({
            "transaction_id": {"string": "T-1"}, "store_id": {"string": "S01"},
            "terminal_id": {"string": "3"}, "receipt_no": {"string": "R"},
            "amount_minor": {"int": 500}, "currency": {"string": "CNY"},
            "points_earned": {"int": 5}, "points_redeemed": {"long": 0},
            "event_time": {"long": 1_700_000_000_000_i64}, "phone": {"string": "13800138000"},
        });
        let got = pos_from_json(&c, &wrapped).expect("wrapped values read");
        assert_eq!(
            (
                got.store_id.as_str(),
                got.amount_minor,
                got.phone.as_deref()
            ),
            ("S01", 500, Some("13800138000"))
        );
        // A wrapper naming a type that does not read as the field's stays
        // refused.
        let mut wrong = wrapped.clone();
        wrong["amount_minor"] = serde_json::json!({"string": "500x"});
        assert!(pos_from_json(&c, &wrong).is_err());
        // Python's json.dumps of a pandas row with a gap: `NaN` for no
        // phone reads as none; for a required field, refused by its name.
        let nan = br#"{"transaction_id": "T-2", "store_id": "S01", "terminal_id": 3,
            "receipt_no": "1002", "phone": NaN, "amount_minor": 500, "currency": "CNY",
            "points_earned": 5, "points_redeemed": 0, "event_time": 1700000000000}"#;
        let got: PosTransaction = c
            .decode(Framing::Json, SchemaKind::PosTransaction, nan)
            .expect("read");
        assert_eq!((got.transaction_id.as_str(), got.phone), ("T-2", None));
        let required =
            String::from_utf8_lossy(nan).replace(r#""receipt_no": "1002""#, r#""receipt_no": NaN"#);
        let err = c
            .decode::<PosTransaction>(
                Framing::Json,
                SchemaKind::PosTransaction,
                required.as_bytes(),
            )
            .expect_err("a required field");
        assert!(err.to_string().contains("receipt_no"), "{err}");
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
        // A phone sent as a whole number is its digits; as a fraction it is
        // refused, and the reason names no value (it goes to the
        // dead-letter header), and still says what did not match.
        let mut json: serde_json::Value =
            serde_json::from_slice(&bytes).expect("the record as JSON");
        json["phone"] = serde_json::json!(8613910248876u64);
        let got = pos_from_json(&c, &json).expect("digits");
        assert_eq!(got.phone.as_deref(), Some("8613910248876"));
        json["phone"] = serde_json::json!(8613910248876.5);
        let err = pos_from_json(&c, &json).unwrap_err();
        assert_eq!(err.kind(), "invalid_json");
        assert!(!err.to_string().contains("13910248876"), "{err}");
        assert!(err.to_string().contains("(…)"), "{err}");
        // The reason names the field: a fraction for the phone, null for a
        // field kindred needs, a wrong type inside a line item.
        assert!(err.to_string().contains("field phone:"), "{err}");
        json["phone"] = serde_json::json!("8613910248876");
        json["store_id"] = serde_json::Value::Null;
        let err = pos_from_json(&c, &json).unwrap_err();
        assert!(err.to_string().contains("field store_id:"), "{err}");
        json["store_id"] = serde_json::json!("S1");
        json["line_items"][0]["quantity"] = serde_json::json!(true);
        let err = pos_from_json(&c, &json).unwrap_err();
        assert!(
            err.to_string().contains("field line_items[0].quantity:"),
            "{err}"
        );
    }

    /// A producer registered its own evolution of `pos_transaction` (a
    /// field dropped that kindred's version defaults, one moved, one of its
    /// own added) under id 42: added with `with_writer`, its messages
    /// read as the current version.
    #[test]
    fn a_producers_own_writer_schema_reads_as_the_current_version() {
        let mut doc: serde_json::Value =
            serde_json::from_str(SchemaKind::PosTransaction.current().text).expect("JSON");
        let fields = doc["fields"].as_array_mut().expect("fields");
        fields.retain(|f| f["name"] != "cashier_id");
        let at = fields
            .iter()
            .position(|f| f["name"] == "event_time")
            .expect("event_time");
        let event_time = fields.remove(at);
        fields.insert(0, event_time);
        fields.push(serde_json::json!({"name": "till_app", "type": "string"}));
        let text = doc.to_string();
        let c = codec()
            .with_writer(42, "pos_transaction", "registry-42.avsc", &text)
            .expect("readable as pos_transaction");

        let writer = apache_avro::Schema::parse_str(&text).expect("writer");
        let Value::Record(ours) = apache_avro::to_value(pos()).expect("value") else {
            panic!("a record")
        };
        let ours: BTreeMap<String, Value> = ours.into_iter().collect();
        let apache_avro::Schema::Record(record) = &writer else {
            panic!("a record schema")
        };
        let values = record
            .fields
            .iter()
            .map(|f| {
                let v = match f.name.as_str() {
                    "till_app" => Value::String("till 3.2".into()),
                    name => ours[name].clone(),
                };
                (f.name.clone(), v)
            })
            .collect();
        let value = Value::Record(values).resolve(&writer).expect("resolves");
        let mut bytes = vec![MAGIC_BYTE, 0, 0, 0, 42];
        bytes.extend(apache_avro::to_avro_datum(&writer, value).expect("encode"));
        let back: PosTransaction = c
            .decode(Framing::Confluent, SchemaKind::PosTransaction, &bytes)
            .expect("decodes");
        let mut expected = pos();
        expected.cashier_id = None;
        assert_eq!(back, expected);
        // Read as anything else, it is refused by id and name.
        let err = c
            .decode::<kindred_model::raw::WebEvent>(
                Framing::Confluent,
                SchemaKind::WebEvent,
                &bytes,
            )
            .unwrap_err();
        assert_eq!(err.kind(), "unexpected_schema");
        assert!(err.to_string().contains("registry-42.avsc"), "{err}");
    }

    #[test]
    fn a_writer_schema_the_current_version_cannot_read_is_refused_by_file() {
        let mut doc: serde_json::Value =
            serde_json::from_str(SchemaKind::PosTransaction.current().text).expect("JSON");
        for f in doc["fields"].as_array_mut().expect("fields") {
            if f["name"] == "amount_minor" {
                f["type"] = serde_json::json!("string");
            }
        }
        let err = codec()
            .with_writer(42, "pos_transaction", "bad.avsc", &doc.to_string())
            .unwrap_err();
        assert!(
            matches!(&err, SchemaError::Unreadable { file, .. } if file == "bad.avsc")
                && err.to_string().contains("amount_minor"),
            "{err}"
        );
        let err = codec()
            .with_writer(
                1,
                "pos_transaction",
                "again.avsc",
                SchemaKind::PosTransaction.current().text,
            )
            .unwrap_err();
        assert!(
            matches!(err, SchemaError::DuplicateId { id: 1, .. }),
            "{err}"
        );
        let err = codec()
            .with_writer(
                43,
                "pos",
                "x.avsc",
                SchemaKind::PosTransaction.current().text,
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("pos_transaction, web_event"),
            "{err}"
        );
    }

    /// What Kafka Connect's `JsonConverter` writes with `schemas.enable=true`
    /// (a source connector's records, a `kafka-console-producer` pasting
    /// them): the record is the envelope's payload.
    #[test]
    fn a_kafka_connect_json_envelope_is_read_as_its_payload() {
        let c = codec();
        let bytes = c
            .encode_json(SchemaKind::PosTransaction, &pos())
            .expect("encode");
        let payload: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        let envelope = serde_json::json!({
            "schema": {"type": "struct", "name": "PosTransaction", "optional": false, "fields": []},
            "payload": payload,
        });
        let back = pos_from_json(&c, &envelope).expect("the payload decodes");
        assert_eq!(back, pos());
        // A DATE column (Connect's Date: days since 1970) is the day it
        // counts, not the text of the count.
        let dated = |days: i64| {
            let envelope = serde_json::json!({
                "schema": {"type": "struct", "optional": false, "fields": [
                    {"field": "event_id", "type": "string", "optional": false},
                    {"field": "birthday", "type": "int32", "optional": true,
                     "name": "org.apache.kafka.connect.data.Date", "version": 1},
                ]},
                "payload": {"event_id": "w1", "event_type": "signup", "event_time": 1, "birthday": days},
            });
            let bytes = serde_json::to_vec(&envelope).expect("JSON");
            c.decode::<kindred_model::raw::WebEvent>(Framing::Json, SchemaKind::WebEvent, &bytes)
                .expect("decodes")
                .birthday
        };
        assert_eq!(dated(7441).as_deref(), Some("1990-05-17"));
        assert_eq!(dated(-1).as_deref(), Some("1969-12-31"));
        // Debezium's (ExtractNewRecordState, JsonConverter): a DATE column
        // as io.debezium.time.Date, a Postgres timestamp(6) as
        // microseconds.
        let debezium = serde_json::json!({
            "schema": {"type": "struct", "optional": false, "fields": [
                {"field": "event_id", "type": "string", "optional": false},
                {"field": "birthday", "type": "int32", "optional": true,
                 "name": "io.debezium.time.Date", "version": 1},
                {"field": "event_time", "type": "int64", "optional": false,
                 "name": "io.debezium.time.MicroTimestamp", "version": 1},
            ]},
            "payload": {"event_id": "w1", "event_type": "signup",
                        "event_time": 1_740_544_404_123_456_i64, "birthday": 7441},
        });
        let read = c
            .decode::<kindred_model::raw::WebEvent>(
                Framing::Json,
                SchemaKind::WebEvent,
                &serde_json::to_vec(&debezium).expect("JSON"),
            )
            .expect("decodes");
        assert_eq!(read.birthday.as_deref(), Some("1990-05-17"));
        assert_eq!(read.event_time, 1_740_544_404_123);
        // Anything else with those keys is still the record, and refused.
        let odd = serde_json::json!({"schema": 1, "payload": payload});
        let err = pos_from_json(&c, &odd).unwrap_err();
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
        let small = WireCodec::new(WireCodec::default_ids(), 16).expect("codec");
        assert_eq!(
            small
                .decode::<PosTransaction>(Framing::Confluent, SchemaKind::PosTransaction, &good)
                .unwrap_err()
                .kind(),
            "oversized"
        );
    }

    /// A dozen bytes claiming half a billion array items are an error once
    /// a codec exists, not an allocation of tens of gigabytes (which would
    /// abort the process).
    #[test]
    fn a_huge_claimed_count_is_refused_not_allocated() {
        let _codec = codec();
        let schema = apache_avro::Schema::parse_str(r#"{"type": "array", "items": "string"}"#)
            .expect("schema");
        // Zig-zag varint of 500,000,000, then nothing.
        let mut body = Vec::new();
        let mut n: u64 = 500_000_000 << 1;
        while n >= 0x80 {
            body.push((n as u8) | 0x80);
            n >>= 7;
        }
        body.push(n as u8);
        let err =
            apache_avro::from_avro_datum(&schema, &mut body.as_slice(), None).expect_err("refused");
        assert!(err.to_string().contains("allocate"), "{err}");
    }

    /// A change with every field of version 3 populated.
    fn full_change() -> kindred_model::ProfileChange {
        use kindred_model::{
            Activity, Address, Attributes, CanonicalEvent, ChangeType, Channel, Consent,
            GoldenRecord, Identifier, IdentifierKind, MergeEvidence, Order, ProfileChange,
        };
        let event = |id: &str, channel: Channel, t: i64, skus: &[&str], amount: Option<i64>| {
            CanonicalEvent {
                event_id: id.into(),
                channel,
                event_time_ms: t,
                identifiers: vec![
                    Identifier::new(IdentifierKind::Phone, "+8613800000000"),
                    Identifier::new(IdentifierKind::MemberId, "MAIN:m-1"),
                ],
                attributes: Attributes {
                    full_name: Some("Li Wei".into()),
                    given_name: Some("Wei".into()),
                    family_name: Some("Li".into()),
                    birthday: Some("1990-04-03".into()),
                    gender: Some("female".into()),
                    address: Some(Address {
                        city: Some("Shanghai".into()),
                        country: Some("CN".into()),
                        ..Address::default()
                    }),
                },
                activity: Activity {
                    event_type: "purchase".into(),
                    order: amount.map(|amount_minor| Order {
                        order_id: id.into(),
                        amount_minor,
                        currency: "CNY".into(),
                        lines: vec![],
                        payment_type: None,
                        store_id: None,
                    }),
                    points_earned: 40,
                    points_redeemed: 15,
                    browsed_skus: skus.iter().map(|s| s.to_string()).collect(),
                },
                consents: vec![Consent {
                    purpose: "marketing".into(),
                    channel: "sms".into(),
                    granted: true,
                }],
                dropped: vec![],
            }
        };
        let mut record = GoldenRecord::new(
            "kp-1".into(),
            &event("pos:1", Channel::Pos, 1_700_000_000_000, &[], Some(12_900)),
        );
        record.absorb_event(&event(
            "web:2",
            Channel::Web,
            1_700_000_500_000,
            &["SKU-1", "SKU-2"],
            None,
        ));
        record.absorb_event(&event(
            "social:3",
            Channel::Social,
            1_700_000_900_000,
            &["SKU-2"],
            Some(-2_000),
        ));
        record.version = 4;
        record.refresh_may_contact();
        let before = GoldenRecord::new(
            "kp-1".into(),
            &event("pos:1", Channel::Pos, 1_700_000_000_000, &[], Some(12_900)),
        );
        ProfileChange {
            profile_id: "kp-1".into(),
            change_type: ChangeType::Split,
            version: 4,
            cause_event_id: "social:3".into(),
            absorbed_ids: vec!["kp-7".into()],
            superseded_by: None,
            changed_fields: kindred_model::changed_fields(Some(&before), &record),
            evidence: Some(MergeEvidence {
                rule: "name_birthday_postcode".into(),
                rule_version: 1,
                kinds: vec!["full_name".into(), "birthday".into(), "postal_code".into()],
            }),
            split_into: vec!["kp-8".into(), "kp-9".into()],
            moved_event_ids: vec!["web:5".into(), "pos:6".into()],
            rfm: Some(record.rfm(1_702_000_000_000)),
            record: Some(record),
        }
    }

    #[test]
    fn profile_change_with_every_new_field_round_trips() {
        let c = codec();
        let change = full_change();
        let record = change.record.as_ref().expect("a record");
        assert!(!record.channel_activity.is_empty() && !record.recent_skus.is_empty());
        assert!(record.first_order_ms.is_some() && record.points_redeemed > 0);
        assert_eq!(
            record.may_contact.len(),
            kindred_model::CONTACT_CHANNELS.len()
        );
        assert!(!change.changed_fields.is_empty());
        let bytes = c
            .encode(SchemaKind::ProfileChange, &change)
            .expect("encode");
        let reference = c
            .encode_reference(SchemaKind::ProfileChange, &change)
            .expect("encode");
        // apache-avro writes maps of several entries in hash order, so the
        // bytes can differ there; each encoder's bytes decode to the change
        // with both decoders.
        assert_eq!(bytes.len(), reference.len());
        for written in [&bytes, &reference] {
            let fast: kindred_model::ProfileChange = c
                .decode(Framing::Confluent, SchemaKind::ProfileChange, written)
                .expect("decode");
            assert_eq!(fast, change);
            let slow: kindred_model::ProfileChange = c
                .decode_reference(SchemaKind::ProfileChange, written)
                .expect("decode");
            assert_eq!(slow, change);
        }
        // With at most one entry per map the bytes are the same.
        let mut single = change.clone();
        if let Some(r) = single.record.as_mut() {
            r.may_contact.retain(|k, _| k == "sms");
        }
        assert_eq!(
            c.encode(SchemaKind::ProfileChange, &single)
                .expect("encode"),
            c.encode_reference(SchemaKind::ProfileChange, &single)
                .expect("encode"),
            "both encoders write the same bytes"
        );
        let json = c
            .encode_json(SchemaKind::ProfileChange, &change)
            .expect("encode");
        let back: kindred_model::ProfileChange = c
            .decode(Framing::Json, SchemaKind::ProfileChange, &json)
            .expect("decode");
        assert_eq!(back, change);
    }

    #[test]
    fn profile_change_v1_data_decodes_with_the_new_fields_defaulted() {
        let c = codec();
        let mut change = full_change();
        change.change_type = kindred_model::ChangeType::Merged;
        let bytes = c
            .encode_as("profile_change.v1", &change)
            .expect("v1 encodes");
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 14]);
        let got: kindred_model::ProfileChange = c
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &bytes)
            .expect("v1 data decodes into the current version");
        assert_eq!(
            (
                got.changed_fields,
                got.evidence,
                got.split_into,
                got.moved_event_ids,
                got.rfm
            ),
            (vec![], None, vec![], vec![], None)
        );
        let record = got.record.expect("a record");
        let original = change.record.expect("a record");
        assert_eq!(record.points_balance, original.points_balance);
        assert_eq!(record.full_name, original.full_name);
        assert_eq!(
            (
                record.channel_activity,
                record.points_earned,
                record.points_redeemed
            ),
            (vec![], 0, 0)
        );
        assert_eq!(
            (
                record.first_order_ms,
                record.last_order_ms,
                record.recent_skus
            ),
            (None, None, vec![])
        );
    }

    #[test]
    fn a_v1_consumer_reads_new_changes_except_splits() {
        let c = codec();
        let (_, v1) = c.catalog().by_name("profile_change.v1").expect("embedded");
        let current = c.catalog().get(SchemaKind::ProfileChange);
        let mut change = full_change();
        change.change_type = kindred_model::ChangeType::Merged;
        let bytes = c
            .encode(SchemaKind::ProfileChange, &change)
            .expect("encode");
        let old_view = apache_avro::from_avro_datum(current, &mut &bytes[5..], Some(v1))
            .expect("a v1 reader reads v3 data, ignoring the new fields");
        let Value::Record(fields) = old_view else {
            panic!("a record")
        };
        assert_eq!(fields.len(), 7);
        change.change_type = kindred_model::ChangeType::Split;
        let bytes = c
            .encode(SchemaKind::ProfileChange, &change)
            .expect("encode");
        assert!(
            apache_avro::from_avro_datum(current, &mut &bytes[5..], Some(v1)).is_err(),
            "SPLIT is not a v1 symbol"
        );
    }

    #[test]
    fn duplicate_schema_ids_are_refused() {
        let mut ids = WireCodec::default_ids();
        ids.insert("web_event".into(), 1);
        let err = WireCodec::new(ids, 1024).unwrap_err();
        assert!(err.to_string().contains("schema id 1"), "{err}");
        let mut ids = WireCodec::default_ids();
        ids.insert("web_event.v9".into(), 99);
        assert!(WireCodec::new(ids, 1024)
            .unwrap_err()
            .to_string()
            .contains("web_event.v9"));
        let mut ids = WireCodec::default_ids();
        ids.remove("profile_change");
        assert!(WireCodec::new(ids, 1024)
            .unwrap_err()
            .to_string()
            .contains("profile_change"));
    }
}
