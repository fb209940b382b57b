//! JSON as producers write it, brought to the shape Avro's JSON reading
//! expects before it is resolved against the schema. Every rule here only
//! accepts a value whose meaning is unambiguous; anything else is left for
//! the schema to refuse, and what this pass refuses names the field.
//!
//! - a UTF-8 byte-order mark before the object is skipped;
//! - Kafka Connect's JSON envelope (`{"schema": {...}, "payload": {...}}`,
//!   what `JsonConverter` writes with `schemas.enable=true`) is read as its
//!   payload;
//! - `null` for a field that cannot be null but has a default (`"line_items":
//!   null` from a serializer that writes every field) takes the default;
//! - an integer written as a whole float (`87298.0`, or `114.99999999999999`
//!   from JavaScript's `1.15 * 100`: within a millionth) or as a string of
//!   digits (`"87298"`) is that integer; a fraction is refused by name;
//! - a `timestamp-millis` field may be an RFC 3339 time
//!   (`"2025-02-26T04:33:24Z"`, `"2025-02-26T12:33:24+08:00"`);
//! - a boolean may be the string `"true"` or `"false"`;
//! - a union value in Avro's own JSON encoding (`{"string": "Ann"}`, or a
//!   record's name as the key) is unwrapped.

use std::collections::HashMap;

use apache_avro::schema::{Name, Schema};
use serde_json::Value;

/// The UTF-8 byte-order mark some tools write before a JSON document.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `bytes` without a leading byte-order mark.
pub(crate) fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// `bytes` with every `\u` escape of a UTF-16 surrogate that is not one
/// half of a pair replaced by `\uFFFD` (the replacement character), and
/// every bare `NaN`, `Infinity` or `-Infinity` value by `null`; `None`
/// when it has neither. JavaScript's `JSON.stringify` writes such an
/// escape for a string cut between the halves of an emoji (a nickname
/// truncated with `substring`); Python's `json.dumps` writes `NaN` for a
/// pandas column's gap (`"phone": NaN`); Jackson and Python read both, and
/// serde_json refused the whole message.
pub(crate) fn repaired(bytes: &[u8]) -> Option<Vec<u8>> {
    let hex = |at: usize| -> Option<u16> {
        let digits = bytes.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let escape_at = |at: usize| -> Option<u16> {
        (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
            .then(|| hex(at + 2))
            .flatten()
    };
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => match escape_at(i) {
                // A pair: both halves kept.
                Some(0xD800..=0xDBFF)
                    if escape_at(i + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
                {
                    i += 12;
                }
                Some(0xD800..=0xDFFF) => {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                    buf.extend_from_slice(&bytes[copied..i]);
                    buf.extend_from_slice(b"\\uFFFD");
                    i += 6;
                    copied = i;
                }
                // Any other escape: two bytes (a `\u` escape's four digits
                // are plain characters after it).
                _ => i += 2,
            },
            b'N' | b'I' | b'-' if !in_string => match non_number_at(bytes, i) {
                Some(len) => {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                    buf.extend_from_slice(&bytes[copied..i]);
                    buf.extend_from_slice(b"null");
                    i += len;
                    copied = i;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&bytes[copied..]);
    Some(buf)
}

/// The length of a bare `NaN`, `Infinity` or `-Infinity` value at `at`
/// (outside a string): after `:`, `[` or `,` and before `,`, `}`, `]` or
/// the end, spaces aside.
fn non_number_at(bytes: &[u8], at: usize) -> Option<usize> {
    let len = [&b"NaN"[..], b"Infinity", b"-Infinity"]
        .iter()
        .find(|token| bytes[at..].starts_with(token))?
        .len();
    let before = bytes[..at].iter().rev().find(|b| !b.is_ascii_whitespace());
    let after = bytes[at + len..].iter().find(|b| !b.is_ascii_whitespace());
    (matches!(before, Some(b':' | b'[' | b',')) && matches!(after, None | Some(b',' | b'}' | b']')))
        .then_some(len)
}

/// The record of a Kafka Connect JSON envelope: `value` is replaced by its
/// `payload` when it is an object of exactly `schema` and `payload` (an
/// object) and `schema` (the record it must hold) has neither field.
pub(crate) fn unwrap_connect_envelope(value: &mut Value, schema: &Schema) {
    let Value::Object(top) = value else { return };
    let is_envelope = top.len() == 2
        && top
            .get("schema")
            .is_some_and(|s| s.is_object() || s.is_null())
        && top.get("payload").is_some_and(Value::is_object);
    let has_own_field = match schema {
        Schema::Record(r) => r
            .fields
            .iter()
            .any(|f| f.name == "schema" || f.name == "payload"),
        _ => true,
    };
    if is_envelope && !has_own_field {
        if let Some(mut payload) = top.remove("payload") {
            if let Some(schema) = top.get("schema") {
                connect_days_as_dates(schema, &mut payload);
            }
            *value = payload;
        }
    }
}

/// Days since 1970-01-01 (an int32): Connect's logical date, and
/// Debezium's (`time.precision.mode` adaptive or connect).
const DAY_COUNTS: &[&str] = &[
    "org.apache.kafka.connect.data.Date",
    "io.debezium.time.Date",
];

/// Debezium's timestamps in a unit finer than kindred's milliseconds, with
/// the divisor to milliseconds: a Postgres `timestamp(6)` column comes as
/// microseconds.
const FINE_TIMESTAMPS: &[(&str, i64)] = &[
    ("io.debezium.time.MicroTimestamp", 1_000),
    ("io.debezium.time.NanoTimestamp", 1_000_000),
];

/// Writes each field of `payload` that the envelope's Connect `schema`
/// types as a day count ([`DAY_COUNTS`]) as the day it counts (`7441` as
/// `1990-05-17`): a JDBC source connector's or Debezium's `DATE` column
/// comes so, and a day count read as text is no birthday (every one was
/// dropped). A Debezium timestamp in micro- or nanoseconds
/// ([`FINE_TIMESTAMPS`]) becomes milliseconds: read as milliseconds it was
/// out of range and every event dead-lettered. Fields of nested structs
/// too.
fn connect_days_as_dates(schema: &Value, payload: &mut Value) {
    let (Some(Value::Array(fields)), Value::Object(record)) = (schema.get("fields"), payload)
    else {
        return;
    };
    for field in fields {
        let Some(value) = field
            .get("field")
            .and_then(Value::as_str)
            .and_then(|name| record.get_mut(name))
        else {
            continue;
        };
        let logical = field.get("name").and_then(Value::as_str);
        let fine = FINE_TIMESTAMPS
            .iter()
            .find(|(name, _)| Some(*name) == logical);
        if let Some((_, per_ms)) = fine {
            if let Some(t) = value.as_i64() {
                *value = Value::from(t.div_euclid(*per_ms));
            }
        } else if logical.is_some_and(|l| DAY_COUNTS.contains(&l)) {
            let day = value
                .as_i64()
                .and_then(chrono::TimeDelta::try_days)
                .and_then(|days| {
                    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(days)
                });
            if let Some(day) = day {
                *value = Value::String(day.format("%Y-%m-%d").to_string());
            }
        } else if field.get("type").and_then(Value::as_str) == Some("struct") {
            connect_days_as_dates(field, value);
        }
    }
}

/// The named types of `schema`, which a field may refer to by name (built
/// once per schema, not per message).
pub(crate) fn names_of(schema: &Schema) -> HashMap<Name, Schema> {
    match apache_avro::schema::ResolvedSchema::try_from(schema) {
        Ok(resolved) => resolved
            .get_names()
            .iter()
            .map(|(n, s)| (n.clone(), (*s).clone()))
            .collect(),
        Err(_) => HashMap::new(),
    }
}

/// Brings `value` to the shape `schema` reads (see the module docs); an
/// error names the field (`order.total_minor`) and what was wrong with it,
/// never the value. `names`: [`names_of`] the schema.
///
/// Returns the names of the top-level fields the schema lacks (dropped,
/// as resolution drops them), sorted: a producer's `phoneNumber` where
/// the schema reads `phone` loses every phone silently otherwise.
pub(crate) fn conform(
    value: &mut Value,
    schema: &Schema,
    names: &HashMap<Name, Schema>,
) -> Result<Vec<String>, String> {
    let record = match schema {
        Schema::Ref { name } => names.get(name),
        other => Some(other),
    };
    let mut unknown: Vec<String> = match (record, &*value) {
        (Some(Schema::Record(record)), Value::Object(fields)) => fields
            .keys()
            .filter(|name| !record.lookup.contains_key(*name))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    unknown.sort();
    Conform { names }.value(value, schema, &Path::Root)?;
    Ok(unknown)
}

/// An instant written as text with its offset: RFC 3339, and the forms
/// producers write beside it with the offset unambiguous (`+0800` from
/// Python's `%z` and Java's `Z`, `+08` and a space for the `T` from
/// PostgreSQL's `timestamptz`). A time without an offset is no instant:
/// `None`.
fn instant_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"]
        .iter()
        .find_map(|format| chrono::DateTime::parse_from_str(text, format).ok())
        .map(|t| t.timestamp_millis())
}

/// An unknown JSON key as a log may show it: a key that is no field name
/// may be data (`"email=ann@x.cn"`, a form body serialized badly), and is
/// never shown.
fn shown_field_name(name: &str) -> &str {
    if crate::error::looks_like_a_field_name(name) {
        name
    } else {
        "(a key that is no field name, not shown)"
    }
}

/// How many distinct unknown field names [`warn_unknown_fields`] remembers
/// per schema (names are a producer's to choose: the set must not grow for
/// ever).
const UNKNOWN_FIELDS_REMEMBERED: usize = 256;

/// Warns once per schema and field name of the JSON fields a schema lacks
/// (the names only, never a value), as a writer schema without fields
/// kindred reads is warned of on the registry path.
pub(crate) fn warn_unknown_fields(schema: &str, unknown: &[String]) {
    type Seen = HashMap<String, std::collections::HashSet<String>>;
    static SEEN: std::sync::LazyLock<std::sync::Mutex<Seen>> =
        std::sync::LazyLock::new(Default::default);
    if unknown.is_empty() {
        return;
    }
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Per schema: one producer's many campaign keys must not silence the
    // warning about another's misspelt phone.
    let seen = seen.entry(schema.to_string()).or_default();
    for name in unknown {
        if seen.len() >= UNKNOWN_FIELDS_REMEMBERED {
            return;
        }
        let shown = shown_field_name(name);
        if seen.insert(shown.to_string()) {
            tracing::warn!(
                %schema,
                field = %shown,
                "a JSON field the schema does not have is ignored (each such name is said once): is a field the schema reads spelt otherwise by this producer?"
            );
        }
    }
}

struct Conform<'a> {
    names: &'a HashMap<Name, Schema>,
}

impl Conform<'_> {
    fn value(&self, value: &mut Value, schema: &Schema, path: &Path<'_>) -> Result<(), String> {
        // Avro's JSON encoding from a writer whose field is a union
        // (`["null", "string"]`, as Kafka Connect writes every nullable
        // column) wraps the value in its branch's name (`{"string": "S01"}`)
        // where kindred's field is not a union: the binary path reads such
        // a writer record by record, and so does this.
        if let Some(inner) = primitive_wrapped(value, schema) {
            *value = inner;
        }
        match schema {
            Schema::Ref { name } => match self.names.get(name) {
                Some(s) => self.value(value, s, path),
                None => Ok(()),
            },
            Schema::Record(record) => {
                let Value::Object(fields) = value else {
                    return Ok(());
                };
                // Fields the schema lacks are dropped, as resolution drops
                // them: apache-avro's `to_value` would refuse the whole
                // record first for an integer past a long in one (a Go
                // producer's uint64 span id).
                fields.retain(|name, _| record.lookup.contains_key(name));
                for field in &record.fields {
                    let path = Path::Field(path, &field.name);
                    let nullable = matches!(&field.schema, Schema::Null)
                        || matches!(&field.schema, Schema::Union(u) if u.is_nullable());
                    if fields.get(&field.name) == Some(&Value::Null)
                        && !nullable
                        && field.default.is_some()
                    {
                        fields.remove(&field.name);
                        continue;
                    }
                    if let Some(v) = fields.get_mut(&field.name) {
                        self.value(v, &field.schema, &path)?;
                    }
                }
                Ok(())
            }
            Schema::Union(union) => {
                if value.is_null() {
                    return Ok(());
                }
                let branches: Vec<&Schema> = union
                    .variants()
                    .iter()
                    .filter(|s| !matches!(s, Schema::Null))
                    .collect();
                if let Some(inner) = self.union_wrapped(value, &branches) {
                    *value = inner;
                }
                match branches.as_slice() {
                    [only] => self.value(value, only, path),
                    _ => Ok(()),
                }
            }
            Schema::Array(array) => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        self.value(item, &array.items, &Path::Index(path, i))?;
                    }
                    Ok(())
                }
                _ => Ok(()),
            },
            Schema::Map(map) => match value {
                Value::Object(entries) => {
                    for (key, v) in entries.iter_mut() {
                        self.value(v, &map.types, &Path::Field(path, key))?;
                    }
                    Ok(())
                }
                _ => Ok(()),
            },
            Schema::Long | Schema::TimestampMicros | Schema::TimeMicros => integer(value, path),
            Schema::Int => {
                integer(value, path)?;
                // apache-avro narrows a long to an int with `as`: 4294967298
                // would read as 2.
                match value.as_i64() {
                    Some(i) if i32::try_from(i).is_err() => {
                        Err(format!("field `{path}` is out of range for a 32-bit int"))
                    }
                    _ => Ok(()),
                }
            }
            Schema::TimestampMillis => {
                match value {
                    Value::String(text) => {
                        if let Some(ms) = instant_millis(text) {
                            *value = Value::from(ms);
                            return Ok(());
                        }
                    }
                    // Python's `time.time() * 1000`: a fraction of a
                    // millisecond says nothing ambiguous about an instant
                    // (it does about a minor unit, which stays refused).
                    Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
                        if let Some(ms) = n
                            .as_f64()
                            .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                            .map(|f| f.floor() as i64)
                        {
                            *value = Value::from(ms);
                            return Ok(());
                        }
                    }
                    _ => {}
                }
                integer(value, path)
            }
            Schema::Boolean => {
                // Python's `str(True)` writes `True`; spreadsheets and
                // forms write 1/0 and yes/no, CSV and PostgreSQL exports
                // Y/N and T/F, an HTML checkbox `on`, consent tools
                // `opt-in` and `subscribed`.
                let flag = match value {
                    Value::String(text) => flag_word(text),
                    Value::Number(n) => match n.as_f64() {
                        Some(1.0) => Some(true),
                        Some(0.0) => Some(false),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(flag) = flag {
                    *value = Value::Bool(flag);
                }
                Ok(())
            }
            // A till's number typed as a JSON number (`"terminal_id": 3`,
            // `"phone": 13800138000`) is the text of its digits, a whole
            // float too (`13800138000.0`: pandas writes a column with gaps
            // so); a fraction stays refused.
            Schema::String => {
                if let Value::Number(n) = value {
                    if n.is_i64() || n.is_u64() {
                        *value = Value::String(n.to_string());
                    } else if let Some(f) =
                        n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    {
                        *value = Value::String((f as i64).to_string());
                    }
                } else if let Some(date) = local_date_array(value) {
                    *value = Value::String(date);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The value inside Avro's JSON encoding of a union (`{"string": "x"}`,
    /// `{"long": 5}`, `{"dev.kindred.raw.RawOrder": {...}}`), when `value`
    /// is one object with one key naming one of `branches`.
    fn union_wrapped(&self, value: &Value, branches: &[&Schema]) -> Option<Value> {
        let Value::Object(map) = value else {
            return None;
        };
        let (key, inner) = map.iter().next().filter(|_| map.len() == 1)?;
        // A record's branch under the producer's own namespace too
        // (`com.acme.RawAddress`): Avro matches records by the unqualified
        // name, as `WireCodec::learn` does for binary input.
        let unqualified = key.rsplit_once('.').map(|(_, name)| name);
        branches
            .iter()
            .any(|b| {
                branch_names(b).iter().any(|n| n == key)
                    || promotes_to(key, b)
                    || unqualified.is_some_and(|name| {
                        matches!(b, Schema::Record(r) if r.name.name == name)
                            || matches!(b, Schema::Ref { name: r } if r.name == name)
                    })
            })
            .then(|| inner.clone())
    }
}

/// The fast way to read conformed JSON (`WireCodec::decode_json`): when
/// [`Plain::resolves`] is sure that the reference path, apache-avro's
/// `to_value(value)` and then its resolution against the schema, succeeds,
/// [`Plain::fill`] makes the JSON what that resolution yields (defaults of
/// missing fields in, fields the schema lacks out), and serde reads the
/// record from it directly, without building and resolving an Avro value
/// (which was most of a JSON message's cost). Every rule mirrors
/// apache-avro 0.21's `to_value` and `Value::resolve` for the schema
/// features kindred's schemas use; for anything else, and for every value
/// they would refuse, `resolves` says no and the reference path decides
/// (and words the error). The record type must be the one made for the
/// schema (kindred-model's: no `Option` where the schema has no null). The
/// tests compare both paths on generated records and on mutations of them.
pub(crate) struct Plain<'a> {
    pub(crate) names: &'a HashMap<Name, Schema>,
}

impl Plain<'_> {
    /// Whether resolution of `value` against `schema` surely succeeds.
    pub(crate) fn resolves(&self, value: &Value, schema: &Schema) -> bool {
        match schema {
            Schema::Ref { name } => self.named(name).is_some_and(|s| self.resolves(value, s)),
            Schema::Null => value.is_null(),
            Schema::Boolean => value.is_boolean(),
            // A JSON integer is an Avro long, which an int field narrows
            // with `as`: only values within range (conform refuses the rest
            // of the longs; past a long, `to_value` refuses).
            Schema::Int => value.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            Schema::Long | Schema::TimestampMillis => value.as_i64().is_some(),
            Schema::String => value.is_string(),
            Schema::Enum(e) => value
                .as_str()
                .is_some_and(|s| e.symbols.iter().any(|symbol| symbol == s)),
            Schema::Array(array) => value
                .as_array()
                .is_some_and(|items| items.iter().all(|i| self.resolves(i, &array.items))),
            Schema::Map(map) => value
                .as_object()
                .is_some_and(|entries| entries.values().all(|v| self.resolves(v, &map.types))),
            // (Fields the schema lacks were dropped by `conform`.)
            Schema::Record(record) => value.as_object().is_some_and(|fields| {
                record
                    .fields
                    .iter()
                    .all(|field| match fields.get(&field.name) {
                        Some(v) => self.resolves(v, &field.schema),
                        None => field
                            .default
                            .as_ref()
                            .is_some_and(|d| self.default_resolves(d, &field.schema)),
                    })
            }),
            // A null finds the union's null branch; anything else, in a
            // union of null and one other branch, resolves against that
            // branch or not at all (by kind or by trying each branch).
            Schema::Union(union) => match (value, Self::nullable_branch(union)) {
                (Value::Null, _) => union.is_nullable(),
                (v, Some(branch)) => self.resolves(v, branch),
                (_, None) => false,
            },
            _ => false,
        }
    }

    /// Makes `value`, which [`resolves`](Self::resolves) against `schema`,
    /// what its resolution yields: each record's missing fields take their
    /// defaults and fields the schema does not have are dropped.
    pub(crate) fn fill(&self, value: &mut Value, schema: &Schema) {
        match (schema, value) {
            (Schema::Ref { name }, value) => {
                if let Some(s) = self.named(name) {
                    self.fill(value, s);
                }
            }
            (Schema::Array(array), Value::Array(items)) => {
                for item in items {
                    self.fill(item, &array.items);
                }
            }
            (Schema::Map(map), Value::Object(entries)) => {
                for v in entries.values_mut() {
                    self.fill(v, &map.types);
                }
            }
            (Schema::Record(record), Value::Object(fields)) => {
                fields.retain(|name, _| record.lookup.contains_key(name));
                for field in &record.fields {
                    match fields.get_mut(&field.name) {
                        Some(v) => self.fill(v, &field.schema),
                        None => {
                            let mut v = field.default.clone().unwrap_or(Value::Null);
                            self.fill(&mut v, &field.schema);
                            fields.insert(field.name.clone(), v);
                        }
                    }
                }
            }
            (Schema::Union(union), value) if !value.is_null() => {
                if let Some(branch) = Self::nullable_branch(union) {
                    self.fill(value, branch);
                }
            }
            _ => {}
        }
    }

    /// Whether a missing field's `default` resolves as the field's value:
    /// a union takes its default in its first branch (null here, the only
    /// kind this path knows); any other field resolves the default itself.
    fn default_resolves(&self, default: &Value, schema: &Schema) -> bool {
        match schema {
            Schema::Union(union) => {
                default.is_null() && matches!(union.variants().first(), Some(Schema::Null))
            }
            _ => self.resolves(default, schema),
        }
    }

    /// The one branch other than null of a union of two that has null.
    fn nullable_branch(union: &apache_avro::schema::UnionSchema) -> Option<&Schema> {
        match union.variants() {
            [Schema::Null, other] | [other, Schema::Null] if !matches!(other, Schema::Null) => {
                Some(other)
            }
            _ => None,
        }
    }

    /// A named type a reference stands for: only a fully qualified name
    /// (as the parser writes references), so that it is the type
    /// apache-avro finds too.
    fn named(&self, name: &Name) -> Option<&Schema> {
        name.namespace.as_ref()?;
        self.names.get(name)
    }
}

/// The names a union branch goes by in Avro's JSON encoding.
/// Whether a union branch named `key` (a primitive type) is read into
/// `schema` by Avro's promotions: an `int` as a `long`, `float` or
/// `double`, a `long` as a `float` or `double`, a `float` as a `double`,
/// `bytes` as a `string` and back.
fn promotes_to(key: &str, schema: &Schema) -> bool {
    matches!(
        (key, schema),
        (
            "int",
            Schema::Long | Schema::TimestampMillis | Schema::Float | Schema::Double
        ) | ("long", Schema::Float | Schema::Double)
            | ("float", Schema::Double)
            | ("bytes", Schema::String)
            | ("string", Schema::Bytes)
    )
}

/// The value inside `{"<type>": value}` when `schema` is a primitive type
/// (no union, record, map or array) that `<type>` names or is promoted to:
/// Avro's JSON encoding of a writer's union branch.
fn primitive_wrapped(value: &Value, schema: &Schema) -> Option<Value> {
    let Value::Object(map) = value else {
        return None;
    };
    let (key, inner) = map.iter().next().filter(|_| map.len() == 1)?;
    let primitive = matches!(
        schema,
        Schema::String
            | Schema::Long
            | Schema::Int
            | Schema::Boolean
            | Schema::Double
            | Schema::Float
            | Schema::Bytes
            | Schema::TimestampMillis
    );
    (primitive
        && !inner.is_object()
        && (branch_names(schema).iter().any(|n| n == key) || promotes_to(key, schema)))
    .then(|| inner.clone())
}

fn branch_names(schema: &Schema) -> Vec<String> {
    let primitive = |n: &str| vec![n.to_string()];
    match schema {
        Schema::String => primitive("string"),
        Schema::Long | Schema::TimestampMillis | Schema::TimestampMicros => primitive("long"),
        Schema::Int => primitive("int"),
        Schema::Boolean => primitive("boolean"),
        Schema::Double => primitive("double"),
        Schema::Float => primitive("float"),
        Schema::Bytes => primitive("bytes"),
        Schema::Array(_) => primitive("array"),
        Schema::Map(_) => primitive("map"),
        Schema::Record(r) => vec![r.name.fullname(None), r.name.name.clone()],
        Schema::Ref { name } => vec![name.fullname(None), name.name.clone()],
        _ => Vec::new(),
    }
}

/// A whole float or a string of digits, as the integer it writes.
fn integer(value: &mut Value, path: &Path<'_>) -> Result<(), String> {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within a millionth of a whole number is that number: binary
            // floating point's noise (JavaScript's `1.15 * 100` is
            // 114.99999999999999), not a fraction anyone meant.
            let whole = f.round();
            if (f - whole).abs() < 1e-6 && whole.abs() < 9.0e15 {
                *value = Value::from(whole as i64);
                Ok(())
            } else {
                Err(format!(
                    "field `{path}` must be a whole number, found a fraction or one too large"
                ))
            }
        }
        Value::String(text) => match text.trim().parse::<i64>() {
            Ok(i) => {
                *value = Value::from(i);
                Ok(())
            }
            Err(_) => Err(format!("field `{path}` must be a whole number, found text")),
        },
        _ => Ok(()),
    }
}

/// Where a value sits in the message (`order.lines[0].quantity`), written
/// out only for an error: most messages have none.
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A date as Jackson's `JavaTimeModule` writes a `LocalDate` by default
/// (`[1990, 5, 17]`), as the text `1990-05-17`: year, month and day, and
/// nothing else in the array.
fn local_date_array(value: &Value) -> Option<String> {
    let Value::Array(parts) = value else {
        return None;
    };
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = (year.as_u64()?, month.as_u64()?, day.as_u64()?);
    ((1000..=9999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// A yes or no written as a word: what a boolean field reads from text.
/// Words only a yes or a no is written as; anything else stays text, for
/// the schema to refuse (the message then says which field).
fn flag_word(text: &str) -> Option<bool> {
    let word = text.trim().to_lowercase().replace(['_', ' '], "-");
    match word.as_str() {
        "true" | "1" | "yes" | "y" | "t" | "on" | "opt-in" | "optin" | "opted-in"
        | "subscribed" | "granted" | "是" => Some(true),
        "false" | "0" | "no" | "n" | "f" | "off" | "opt-out" | "optout" | "opted-out"
        | "unsubscribed" | "denied" | "否" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Catalog, SchemaKind};

    fn web(mut value: Value) -> Result<Value, String> {
        let catalog = Catalog::embedded().expect("embedded schemas");
        let schema = catalog.get(SchemaKind::WebEvent);
        conform(&mut value, schema, &names_of(schema))?;
        Ok(value)
    }

    /// Unknown keys are logged by name only when they look like field
    /// names: a key that is data is never shown.
    #[test]
    fn an_unknown_key_that_is_data_is_not_shown() {
        assert_eq!(shown_field_name("emial"), "emial");
        assert_eq!(shown_field_name("utm_campaign"), "utm_campaign");
        for data in [
            "email=ann.lee@mail.cn&phone=13812348000",
            "ann.lee@mail.cn",
            "13812348000",
            "李娜",
        ] {
            assert!(!shown_field_name(data).contains(data), "{data}");
        }
    }

    /// A string cut between the halves of a surrogate pair (JavaScript's
    /// `JSON.stringify` of a truncated nickname): the lone half becomes the
    /// replacement character; pairs and other escapes stay.
    #[test]
    fn lone_surrogate_escapes_are_replaced() {
        let fix =
            |text: &str| repaired(text.as_bytes()).map(|b| String::from_utf8(b).expect("utf-8"));
        assert_eq!(
            fix(r#"{"name":"小明\ud83d","phone":"1"}"#).as_deref(),
            Some(r#"{"name":"小明\uFFFD","phone":"1"}"#)
        );
        assert_eq!(
            fix(r#"{"a":"\udc00x","b":"\ud83d\ude00"}"#).as_deref(),
            Some(r#"{"a":"\uFFFDx","b":"\ud83d\ude00"}"#)
        );
        // Python's NaN and infinities outside strings read as null; inside
        // a string, or as part of another word, they stay.
        assert_eq!(
            fix(r#"{"phone": NaN, "a": [Infinity,-Infinity ], "n":"NaN"}"#).as_deref(),
            Some(r#"{"phone": null, "a": [null,null ], "n":"NaN"}"#)
        );
        assert_eq!(fix(r#"{"n":"x","m":NaNa}"#), None);
        assert_eq!(fix(r#"{"n":"a NaN, b"}"#), None);
        assert_eq!(fix(r#"{"a":"\\ud83d","b":"\ud83d\ude00 \n"}"#), None);
        let fixed = fix(r#"{"name":"x\ud83d"}"#).expect("fixed");
        let read: Value = serde_json::from_slice(fixed.as_bytes()).expect("reads");
        assert_eq!(read["name"], json!("x\u{FFFD}"));
    }

    /// Avro JSON's union wrapper of a record under the producer's own
    /// namespace (`kafka-avro-console-consumer` output of their topic):
    /// unwrapped as kindred's own (it was left, and its one key dropped as
    /// a field the schema lacks: the address came out empty).
    #[test]
    fn a_union_wrapper_in_the_producers_namespace_is_unwrapped() {
        for wrapper in [
            "com.acme.RawAddress",
            "dev.kindred.raw.RawAddress",
            "RawAddress",
        ] {
            let got = web(json!({
                "event_id": "w1",
                "event_type": "x",
                "event_time": 1,
                "address": {wrapper: {"city": "Shanghai"}},
            }))
            .expect("conforms");
            assert_eq!(got["address"]["city"], json!("Shanghai"), "{wrapper}");
        }
    }

    /// Event times as producers write them with an unambiguous offset, and
    /// a fraction of a millisecond, are read; a time without an offset is
    /// still refused.
    #[test]
    fn event_times_in_producers_forms_are_read() {
        let at = |time: Value| {
            web(json!({"event_id": "w1", "event_type": "x", "event_time": time}))
                .map(|v| v["event_time"].clone())
        };
        let want = Ok(json!(1_740_544_404_000i64));
        for text in [
            "2025-02-26T12:33:24+08:00",
            "2025-02-26T12:33:24+0800",
            "2025-02-26 12:33:24+08",
            "2025-02-26 12:33:24.000+08:00",
            "2025-02-26T04:33:24Z",
        ] {
            assert_eq!(at(json!(text)), want, "{text}");
        }
        assert_eq!(at(json!(1_740_544_404_000.4)), want);
        assert_eq!(
            at(json!("2025-02-26 12:33:24.123+08")),
            Ok(json!(1_740_544_404_123i64))
        );
        for unplaced in ["2025-02-26T12:33:24", "2025-02-26 12:33:24", "yesterday"] {
            assert!(at(json!(unplaced)).is_err(), "{unplaced}");
        }
    }

    /// The top-level fields the schema lacks are named (a producer's own
    /// spelling of a field kindred reads), sorted; nested ones are not.
    #[test]
    fn fields_the_schema_lacks_are_named() {
        let catalog = Catalog::embedded().expect("embedded schemas");
        let schema = catalog.get(SchemaKind::WebEvent);
        let mut value = json!({
            "event_id": "w1",
            "event_type": "signup",
            "event_time": 1,
            "phoneNumber": "13910248876",
            "email_address": "a@b.cn",
            "consents": [{"purpose": "marketing", "channel": "email", "granted": true, "source": "form"}],
        });
        let unknown = conform(&mut value, schema, &names_of(schema)).expect("conforms");
        assert_eq!(unknown, vec!["email_address", "phoneNumber"]);
        assert!(value.get("phoneNumber").is_none(), "dropped");
        let mut known = json!({"event_id": "w1", "event_type": "signup", "event_time": 1});
        assert!(conform(&mut known, schema, &names_of(schema))
            .expect("conforms")
            .is_empty());
    }

    #[test]
    fn unambiguous_producer_habits_are_read_and_the_rest_named() {
        let got = web(json!({
            "event_id": "w1",
            "event_type": "order",
            "event_time": "2025-02-26T12:33:24+08:00",
            "email": {"string": "a@b.cn"},
            "order_amount_minor": 87298.0,
            "order": {"order_id": "o1", "total_minor": "87298", "currency": "CNY", "lines": null},
            "consents": [{"purpose": "marketing", "channel": "email", "granted": "true"}],
        }))
        .expect("conforms");
        assert_eq!(got["event_time"], json!(1_740_544_404_000_i64));
        assert_eq!(got["email"], json!("a@b.cn"));
        assert_eq!(got["order_amount_minor"], json!(87298));
        assert_eq!(got["order"]["total_minor"], json!(87298));
        let noisy = web(json!({
            "event_id": "w1", "event_type": "order", "event_time": 1,
            "order": {"order_id": "o1", "total_minor": 1.15 * 100.0, "currency": "CNY"},
        }))
        .expect("float noise is no fraction");
        assert_eq!(noisy["order"]["total_minor"], json!(115));
        assert!(
            got["order"].get("lines").is_none(),
            "null takes the default"
        );
        assert_eq!(got["consents"][0]["granted"], json!(true));

        let err = web(
            json!({"event_id": "w1", "event_type": "order", "event_time": 1,
            "order": {"order_id": "o1", "total_minor": 872.98, "currency": "CNY"}}),
        )
        .expect_err("a fraction of a minor unit");
        assert_eq!(
            err,
            "field `order.total_minor` must be a whole number, found a fraction or one too large"
        );
        let err = web(json!({"event_id": "w1", "event_type": "x", "event_time": "yesterday"}))
            .expect_err("not a time");
        assert_eq!(err, "field `event_time` must be a whole number, found text");
        let err = web(
            json!({"event_id": "w1", "event_type": "order", "event_time": 1,
            "order": {"order_id": "o1", "total_minor": 1, "currency": "CNY",
                "lines": [{"sku": "s", "quantity": 4_294_967_298_i64, "unit_price_minor": 1}]}}),
        )
        .expect_err("past an int");
        assert_eq!(
            err,
            "field `order.lines[0].quantity` is out of range for a 32-bit int"
        );
    }

    /// A phone or card number as a whole float (pandas writes a column
    /// with gaps so) and a consent's flag as 1/0 or yes/no were refused,
    /// and the whole event with them was dead-lettered.
    #[test]
    fn whole_floats_in_text_fields_and_flags_as_numbers_or_words_are_read() {
        let got = web(json!({
            "event_id": "w1",
            "event_type": "signup",
            "event_time": 1,
            "phone": 13910248876.0,
            "consents": [
                {"purpose": "marketing", "channel": "email", "granted": 1},
                {"purpose": "marketing", "channel": "sms", "granted": "0"},
                {"purpose": "marketing", "channel": "push", "granted": "Yes"},
                {"purpose": "marketing", "channel": "wechat", "granted": "no"},
            ],
        }))
        .expect("conforms");
        assert_eq!(got["phone"], json!("13910248876"));
        let flags: Vec<&Value> = (0..4).map(|i| &got["consents"][i]["granted"]).collect();
        assert_eq!(
            flags,
            [&json!(true), &json!(false), &json!(true), &json!(false)]
        );
        // Exports' and consent tools' words: the event is read, not
        // dead-lettered for its consent.
        for (word, flag) in [
            ("Y", true),
            ("n", false),
            ("T", true),
            ("F", false),
            ("on", true),
            ("off", false),
            ("Opt-In", true),
            ("opt_out", false),
            ("opted in", true),
            ("Subscribed", true),
            ("UNSUBSCRIBED", false),
            ("是", true),
            ("否", false),
        ] {
            let got = web(json!({
                "event_id": "w1", "event_type": "signup", "event_time": 1,
                "consents": [{"purpose": "marketing", "channel": "email", "granted": word}],
            }))
            .unwrap_or_else(|e| panic!("{word}: {e}"));
            assert_eq!(got["consents"][0]["granted"], json!(flag), "{word}");
        }
        // A fraction where text goes, or a flag of another number, is left
        // as it came, for the schema to refuse.
        let got = web(json!({
            "event_id": "w1", "event_type": "signup", "event_time": 1, "phone": 139.5,
            "consents": [{"purpose": "marketing", "channel": "email", "granted": 2}],
        }))
        .expect("conform leaves them");
        assert_eq!(got["phone"], json!(139.5));
        assert_eq!(got["consents"][0]["granted"], json!(2));
        // A LocalDate as Jackson writes it is a date's text; another
        // array where text goes stays, for the schema to refuse.
        let got = web(json!({
            "event_id": "w1", "event_type": "signup", "event_time": 1,
            "birthday": [1990, 5, 17], "phone": [1, 2],
        }))
        .expect("conforms");
        assert_eq!(got["birthday"], json!("1990-05-17"));
        assert_eq!(got["phone"], json!([1, 2]));
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(without_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(without_bom(b"{}"), b"{}");
    }
}
