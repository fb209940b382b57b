//! Writer schemas of producers kindred does not control (a registry's, or
//! `[[schemas.writers]]`), made ready to be compared with and read as one of
//! kindred's schemas the way Avro's resolution rules read them:
//!
//! - a string with `"logicalType": "uuid"` (Avro IDL's `uuid`, Java's and
//!   Python's generators) is the string it is: apache-avro would decode it
//!   as a UUID value its resolution does not turn back into a string;
//! - a reserved attribute on a type it means nothing for (`"size"` on a
//!   string, `"items"` on a record field) is a custom property, as Java
//!   reads it: apache-avro would panic computing the canonical form;
//! - for the readability check only, writer enum symbols the reader lacks
//!   where the reader's enum has a default: they read as that default;
//! - for the readability check only, a branch of a writer's union that the
//!   reader's field cannot hold: `null` where the field is required
//!   (`["null","string"]` for a `string`, as Kafka Connect and Debezium
//!   write every nullable column), a `long` where it is a string
//!   (`["null","string","long"]` for a card number some tills send as a
//!   number). Avro's resolution reads each record by the branch it holds
//!   (Java's too), so only a record that holds such a branch is refused
//!   (dead-lettered), not the whole producer. Only a branch apache-avro's
//!   resolution refuses outright is left out: one it would read lossily
//!   (a `long` for an `int`: it truncates) keeps the writer refused;
//! - for the readability check only, a reader's field of one type that the
//!   writer makes a union of (`["int","long"]` for a `long`) is compared as
//!   a one-branch union, so that every branch is checked: apache-avro's
//!   check compares a writer's union only with a union;
//! - a field's `default` is dropped: Avro resolution reads only the
//!   reader's defaults, and a registry that does not validate defaults
//!   (Confluent's, unless told to) takes a wrong one (`"default": null` on
//!   a `string`, Avro IDL's `string x = null;`) that apache-avro refuses
//!   to parse, which would refuse every record of a producer every Java
//!   consumer reads;
//! - a `fixed` with `"logicalType": "uuid"` is the `fixed` it is too:
//!   apache-avro would read it as a length-prefixed string, misaligning
//!   every field after it;
//! - a millisecond logical type on an `int` or `long` (`timestamp-millis`,
//!   `local-timestamp-millis`, `date`, `time-millis`) is the number it
//!   annotates, as Avro's resolution (Java's too) ignores logical types:
//!   apache-avro would refuse a `local-timestamp-millis` writer for
//!   kindred's `timestamp-millis`, and fail every record of a writer that
//!   annotates a field kindred reads as a plain number; a microsecond or
//!   nanosecond one stays, and is refused where kindred reads milliseconds
//!   (its values would read a thousand times off);
//! - for the readability check only, a named type used again by name is
//!   compared as its definition ([`expand_refs`]): apache-avro's check
//!   compares a reference only with a reference, by name, so a writer that
//!   defines `LineItem` in another field first was refused;
//! - a schema whose records could make apache-avro's decoder abort the
//!   process is refused ([`decoder_hazard`]): a recursive type, an array
//!   of items that take no bytes;
//! - the check itself never panics the process: a schema apache-avro
//!   cannot compare is refused as unreadable.

use std::collections::BTreeMap;

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::Schema;
use serde_json::Value;

use crate::SchemaError;

/// A producer's writer schema, cleaned as the module says.
pub(crate) struct WriterSchema {
    json: Value,
    pub schema: Schema,
}

impl WriterSchema {
    pub fn parse(file: &str, text: &str) -> Result<Self, SchemaError> {
        let mut json: Value = serde_json::from_str(text).map_err(|e| SchemaError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        clean(&mut json);
        let schema = crate::catalog::parse(file, &json.to_string())?;
        Ok(WriterSchema { json, schema })
    }

    /// The record's name without its namespace (Avro matches a writer's
    /// record to the reader's by the unqualified name).
    pub fn record_name(&self) -> Option<&str> {
        match &self.schema {
            Schema::Record(r) => Some(r.name.name.as_str()),
            _ => None,
        }
    }

    /// Whether data written with this schema reads as `reader` (from the
    /// schema text `reader_text`): `Ok(true)` when the layout is the same
    /// (the fast path reads it), `Ok(false)` when it resolves.
    pub fn readable_as(
        &self,
        file: &str,
        reads_as: &str,
        reader: &Schema,
        reader_text: &str,
    ) -> Result<bool, SchemaError> {
        let unreadable = |message: String| SchemaError::Unreadable {
            file: file.to_string(),
            reads_as: reads_as.to_string(),
            message,
        };
        if let Some(hazard) = decoder_hazard(&self.schema) {
            return Err(unreadable(hazard));
        }
        let reader_json = serde_json::from_str::<Value>(reader_text).unwrap_or(Value::Null);
        let mut checked = self.json.clone();
        drop_defaulted_symbols(&mut checked, &enum_defaults(&reader_json));
        let unions = drop_branches_the_reader_refuses(&mut checked, &field_types(&reader_json));
        let checked = crate::catalog::parse(file, &checked.to_string())?;
        let wrapped = if unions.is_empty() {
            None
        } else {
            let mut json = reader_json.clone();
            wrap_fields_in_unions(&mut json, &unions);
            Some(crate::catalog::parse(reads_as, &json.to_string())?)
        };
        let (Some(written), Some(read)) = (
            expand_refs(&checked),
            expand_refs(wrapped.as_ref().unwrap_or(reader)),
        ) else {
            return Err(unreadable(format!(
                "its named types, each written out where it is used, make more than {EXPANDED_NODES} types to compare"
            )));
        };
        // The same layout: the reader cleaned as the writer was (a logical
        // type stripped on one side only made kindred's own layout, as a
        // registry producer registers it, never take the fast decoder).
        let mut reader_clean = reader_json.clone();
        clean(&mut reader_clean);
        let reader_clean = crate::catalog::parse(reads_as, &reader_clean.to_string())
            .unwrap_or_else(|_| reader.clone());
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SchemaCompatibility::can_read(&written, &read)
                .map(|()| self.schema.canonical_form() == reader_clean.canonical_form())
                .map_err(|e| e.to_string())
        }));
        match compared {
            Ok(result) => result.map_err(unreadable),
            Err(_) => Err(unreadable(
                "apache-avro cannot compare this schema (a custom attribute it misreads?)".into(),
            )),
        }
    }
}

/// Keys the Avro specification gives a meaning only for one type.
const TYPE_KEYS: [(&str, &[&str]); 5] = [
    ("size", &["fixed"]),
    ("items", &["array"]),
    ("values", &["map"]),
    ("symbols", &["enum"]),
    ("fields", &["record", "error"]),
];

/// Cleans a schema's JSON in place (see the module).
fn clean(json: &mut Value) {
    match json {
        Value::Array(items) => items.iter_mut().for_each(clean),
        Value::Object(map) => {
            // A field object's `type` is its schema; its other keys are the
            // field's (name, default, doc, order, aliases, custom ones).
            let ty = map.get("type").cloned();
            let is_field = map.contains_key("name") && !ty.as_ref().is_some_and(is_named_type);
            if is_field {
                for (key, _) in TYPE_KEYS {
                    map.remove(key);
                }
                map.remove("default");
            } else if let Some(Value::String(ty)) = ty {
                let logical = map.get("logicalType").and_then(Value::as_str);
                let plain = matches!(
                    (ty.as_str(), logical),
                    ("string" | "fixed", Some("uuid"))
                        | ("long", Some("timestamp-millis" | "local-timestamp-millis"))
                        | ("int", Some("date" | "time-millis"))
                );
                if plain {
                    map.remove("logicalType");
                }
                for (key, types) in TYPE_KEYS {
                    if !types.contains(&ty.as_str()) {
                        map.remove(key);
                    }
                }
            }
            for (key, value) in map.iter_mut() {
                if matches!(key.as_str(), "type" | "items" | "values" | "fields") {
                    clean(value);
                }
            }
        }
        _ => {}
    }
}

/// Whether a `type` value names a type that defines a named schema in the
/// same object (`{"type": "record", "name": ...}` is a record, not a field).
fn is_named_type(ty: &Value) -> bool {
    matches!(ty.as_str(), Some("record" | "error" | "enum" | "fixed"))
}

/// The enums of a schema that have a default: name (unqualified) ->
/// symbols.
fn enum_defaults(json: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    walk(json, &mut |map| {
        if map.get("type").and_then(Value::as_str) == Some("enum") && map.contains_key("default") {
            if let (Some(name), Some(Value::Array(symbols))) = (map.get("name"), map.get("symbols"))
            {
                let name = name.as_str().unwrap_or_default();
                let name = name.rsplit('.').next().unwrap_or(name).to_string();
                let symbols = symbols
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect();
                out.insert(name, symbols);
            }
        }
    });
    out
}

/// Drops from each enum of `json` the symbols its namesake in `defaults`
/// lacks (they read as the reader's default).
fn drop_defaulted_symbols(json: &mut Value, defaults: &BTreeMap<String, Vec<String>>) {
    walk_mut(json, &mut |map| {
        if map.get("type").and_then(Value::as_str) != Some("enum") {
            return;
        }
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
        let Some(known) = defaults.get(name.rsplit('.').next().unwrap_or(name)) else {
            return;
        };
        if let Some(Value::Array(symbols)) = map.get_mut("symbols") {
            symbols.retain(|s| s.as_str().is_some_and(|s| known.iter().any(|k| k == s)));
        }
        let default_kept = match (map.get("default"), map.get("symbols")) {
            (Some(Value::String(d)), Some(Value::Array(symbols))) => symbols.iter().any(|s| s == d),
            _ => true,
        };
        if !default_kept {
            map.remove("default");
        }
    });
}

/// The types each field of each record of a schema can hold: record name
/// (unqualified, as Avro matches records) -> field name -> the field's
/// type, or each branch of its union, by type name (`"string"`, `"long"`,
/// `"record"`, `"LineItem"`; a logical type as `"logical"`). A name two
/// records share maps to `None`: which one a writer's record is cannot be
/// told, so neither is used.
type FieldTypes = BTreeMap<String, Option<BTreeMap<String, Vec<String>>>>;

fn field_types(json: &Value) -> FieldTypes {
    let mut out = FieldTypes::new();
    walk(json, &mut |map| {
        if !matches!(
            map.get("type").and_then(Value::as_str),
            Some("record" | "error")
        ) {
            return;
        }
        let (Some(name), Some(Value::Array(fields))) =
            (map.get("name").and_then(Value::as_str), map.get("fields"))
        else {
            return;
        };
        let fields = fields
            .iter()
            .filter_map(|f| {
                let types = match &f["type"] {
                    Value::Array(branches) => branches.iter().filter_map(type_name).collect(),
                    other => type_name(other).into_iter().collect(),
                };
                Some((f["name"].as_str()?.to_string(), types))
            })
            .collect();
        let name = name.rsplit('.').next().unwrap_or(name).to_string();
        let shared = out.contains_key(&name);
        out.insert(name, (!shared).then_some(fields));
    });
    out
}

/// A type's name: a primitive's, a complex type's kind, a named
/// reference's name; `"logical"` for a type with a logical type.
fn type_name(ty: &Value) -> Option<String> {
    match ty {
        Value::String(t) => Some(t.clone()),
        Value::Object(o) if o.contains_key("logicalType") => Some("logical".into()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// Whether apache-avro 0.21's resolution may turn a value of the writer's
/// primitive type `w` into the reader's type `r` (`types.rs`,
/// `resolve_*`). More than Avro's promotions: it also reads a `long` as an
/// `int` (truncating), a `double` as a `float`, a string as a float
/// (`"NaN"`), an enum symbol or a `fixed`. A type it is not sure of (a
/// named reference) may; a logical type may, but from `null` (a logical
/// type annotates a primitive or a `fixed`, never `null`: Kafka Connect's
/// nullable timestamp column is `["null", timestamp-millis]`).
fn may_resolve(w: &str, r: &str) -> bool {
    match r {
        "null" | "boolean" => w == r,
        "logical" => w != "null",
        "int" | "long" => matches!(w, "int" | "long"),
        "float" | "double" => matches!(w, "int" | "long" | "float" | "double" | "string"),
        "bytes" | "string" => matches!(w, "bytes" | "string"),
        "record" | "error" | "array" | "map" => false,
        "enum" => w == "string",
        "fixed" => matches!(w, "bytes" | "string"),
        _ => true,
    }
}

/// Takes out of each writer union the primitive branches that its field's
/// type in the reader refuses outright (see the module): `null` where the
/// reader requires a value, a `long` where it reads a string. Only a
/// branch the resolution refuses for every type the reader's field has is
/// taken out, so that a record holding it fails on its own; one it would
/// read lossily (a `long` for an `int`) stays, and Avro's check refuses
/// the writer. A union is never emptied; one branch left is the field's
/// type, and the writer's default goes with any change (defaults play no
/// part in reading). Returns the fields (by record) that are still unions
/// where the reader's field has one type.
fn drop_branches_the_reader_refuses(
    json: &mut Value,
    reader: &FieldTypes,
) -> BTreeMap<String, Vec<String>> {
    let mut unions = BTreeMap::<String, Vec<String>>::new();
    walk_records_mut(json, &mut |name, map| {
        let name = name.to_string();
        let Some(Some(reader_fields)) = reader.get(&name) else {
            return;
        };
        let Some(Value::Array(fields)) = map.get_mut("fields") else {
            return;
        };
        for field in fields.iter_mut().filter_map(Value::as_object_mut) {
            let Some((field_name, holds)) = field
                .get("name")
                .and_then(Value::as_str)
                .and_then(|n| Some((n.to_string(), reader_fields.get(n)?)))
            else {
                continue;
            };
            let Some(Value::Array(branches)) = field.get_mut("type") else {
                continue;
            };
            // A branch is its primitive type, written as a name (`"long"`)
            // or as an object with no logical type left on it (`{"type":
            // "int", "connect.name": "...Date"}` once `clean` took a
            // `date` off: how Kafka Connect writes every column).
            fn primitive(b: &Value) -> Option<&str> {
                b.as_str().or_else(|| {
                    let o = b.as_object()?;
                    (!o.contains_key("logicalType"))
                        .then(|| o.get("type")?.as_str())
                        .flatten()
                })
            }
            let kept = |b: &Value| match primitive(b) {
                Some(w) if PRIMITIVES.contains(&w) => holds.iter().any(|r| may_resolve(w, r)),
                _ => true,
            };
            if branches.iter().any(kept) && !branches.iter().all(kept) {
                branches.retain(kept);
                if branches.len() == 1 {
                    let only = branches.remove(0);
                    field.insert("type".into(), only);
                }
                field.remove("default");
            }
            let still_union = matches!(field.get("type"), Some(Value::Array(b)) if b.len() > 1);
            if still_union && holds.len() == 1 {
                unions.entry(name.clone()).or_default().push(field_name);
            }
        }
    });
    unions
}

/// The reader's fields of one type that the writer makes a union of,
/// made one-branch unions (see [`drop_branches_the_reader_refuses`]): by
/// Avro's rules a writer's union is read branch by branch into the
/// reader's type, which is what a reader's union of that one type reads;
/// apache-avro's check compares a writer's union only with a union.
fn wrap_fields_in_unions(json: &mut Value, fields: &BTreeMap<String, Vec<String>>) {
    walk_records_mut(json, &mut |name, map| {
        let Some(wrapped) = fields.get(name) else {
            return;
        };
        let Some(Value::Array(record_fields)) = map.get_mut("fields") else {
            return;
        };
        for field in record_fields.iter_mut().filter_map(Value::as_object_mut) {
            let named = field
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| wrapped.iter().any(|w| w == n));
            if let (true, Some(ty)) = (named, field.get_mut("type")) {
                if !ty.is_array() {
                    *ty = Value::Array(vec![ty.take()]);
                }
            }
        }
    });
}

fn walk(json: &Value, f: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match json {
        Value::Array(items) => items.iter().for_each(|i| walk(i, f)),
        Value::Object(map) => {
            f(map);
            map.values().for_each(|v| walk(v, f));
        }
        _ => {}
    }
}

/// Calls `f` with each record of a schema: its name without namespace
/// (as Avro matches records) and its JSON object.
fn walk_records_mut(
    json: &mut Value,
    f: &mut dyn FnMut(&str, &mut serde_json::Map<String, Value>),
) {
    walk_mut(json, &mut |map| {
        if !matches!(
            map.get("type").and_then(Value::as_str),
            Some("record" | "error")
        ) {
            return;
        }
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
        let name = name.rsplit('.').next().unwrap_or(name).to_string();
        f(&name, map);
    });
}

fn walk_mut(json: &mut Value, f: &mut dyn FnMut(&mut serde_json::Map<String, Value>)) {
    match json {
        Value::Array(items) => items.iter_mut().for_each(|i| walk_mut(i, f)),
        Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| walk_mut(v, f));
        }
        _ => {}
    }
}

/// Why apache-avro's decoder could abort the process on a record of this
/// writer schema, whatever the record holds, if it could: it decodes the
/// whole body by the writer's schema before resolving it, with no limit on
/// depth nor on items that take no bytes. A recursive type nests as deep
/// as a message's bytes go (a stack overflow, which no panic guard
/// catches), and an array whose items take no bytes (`null`, an empty
/// record, a `fixed` of size 0) holds as many as its block counts claim
/// (memory). Either would stop the service on every restart, at the same
/// record. None of kindred's fields is of such a type.
pub(crate) fn decoder_hazard(schema: &Schema) -> Option<String> {
    fn walk<'s>(
        schema: &'s Schema,
        open: &mut Vec<String>,
        defined: &mut BTreeMap<String, &'s Schema>,
    ) -> Option<String> {
        match schema {
            Schema::Record(r) => {
                let name = r.name.fullname(None);
                defined.insert(name.clone(), schema);
                open.push(name);
                let found = r
                    .fields
                    .iter()
                    .find_map(|f| walk(&f.schema, open, defined));
                open.pop();
                found
            }
            Schema::Enum(e) => {
                defined.insert(e.name.fullname(None), schema);
                None
            }
            Schema::Fixed(f) => {
                defined.insert(f.name.fullname(None), schema);
                None
            }
            Schema::Ref { name } => {
                let name = name.fullname(None);
                open.contains(&name)
                    .then(|| format!("the type {name} contains itself: a recursive type is not read (its records could nest deeper than the decoder's stack)"))
            }
            Schema::Array(a) => walk(&a.items, open, defined).or_else(|| {
                takes_no_bytes(&a.items, defined).then(|| {
                    "an array's items take no bytes (null, an empty record, a fixed of size 0): not read (a few bytes could claim any number of them)".to_string()
                })
            }),
            Schema::Map(m) => walk(&m.types, open, defined),
            Schema::Union(u) => u.variants().iter().find_map(|v| walk(v, open, defined)),
            _ => None,
        }
    }
    walk(schema, &mut Vec::new(), &mut BTreeMap::new())
}

/// Whether a value of `schema` is encoded in no bytes at all.
fn takes_no_bytes(schema: &Schema, defined: &BTreeMap<String, &Schema>) -> bool {
    match schema {
        Schema::Null => true,
        Schema::Fixed(f) => f.size == 0,
        Schema::Record(r) => r.fields.iter().all(|f| takes_no_bytes(&f.schema, defined)),
        Schema::Ref { name } => defined
            .get(&name.fullname(None))
            .is_some_and(|s| !matches!(s, Schema::Ref { .. }) && takes_no_bytes(s, defined)),
        _ => false,
    }
}

/// `schema` with every use of a named type by name replaced by the type's
/// definition, for apache-avro's compatibility check, which compares a
/// reference only with another reference, by name alone: a writer that
/// defined a record in another field first than the reader (or in a field
/// the reader lacks) was refused, and an incompatible change to a type used
/// by name could pass. For a schema without recursive types
/// ([`decoder_hazard`] refuses those in writers; kindred's own have none).
/// `None` when the expansion would pass [`EXPANDED_NODES`] (types that
/// each use the one before twice double with each).
pub(crate) fn expand_refs(schema: &Schema) -> Option<Schema> {
    /// Each node made is charged once against the budget: a node of the
    /// schema one, a reference's copy the nodes of its definition. Returns
    /// the expanded schema and its size in nodes.
    fn expand(
        schema: &Schema,
        defined: &mut BTreeMap<String, (Schema, usize)>,
        budget: &mut usize,
    ) -> Option<(Schema, usize)> {
        let mut charge = |n: usize| -> Option<()> {
            *budget = budget.checked_sub(n)?;
            Some(())
        };
        Some(match schema {
            Schema::Record(r) => {
                charge(1)?;
                let mut r = r.clone();
                let mut nodes = 1;
                for f in &mut r.fields {
                    let (s, n) = expand(&f.schema, defined, budget)?;
                    f.schema = s;
                    nodes += n;
                }
                let name = r.name.fullname(None);
                let expanded = Schema::Record(r);
                defined.insert(name, (expanded.clone(), nodes));
                (expanded, nodes)
            }
            Schema::Enum(e) => {
                charge(1)?;
                defined.insert(e.name.fullname(None), (schema.clone(), 1));
                (schema.clone(), 1)
            }
            Schema::Fixed(f) => {
                charge(1)?;
                defined.insert(f.name.fullname(None), (schema.clone(), 1));
                (schema.clone(), 1)
            }
            // A recursive reference (its definition is not complete yet)
            // stays one.
            Schema::Ref { name } => match defined.get(&name.fullname(None)) {
                Some((definition, nodes)) => {
                    let nodes = *nodes;
                    charge(nodes)?;
                    (definition.clone(), nodes)
                }
                None => {
                    charge(1)?;
                    (schema.clone(), 1)
                }
            },
            Schema::Array(a) => {
                charge(1)?;
                let mut a = a.clone();
                let (items, n) = expand(&a.items, defined, budget)?;
                a.items = Box::new(items);
                (Schema::Array(a), n + 1)
            }
            Schema::Map(m) => {
                charge(1)?;
                let mut m = m.clone();
                let (types, n) = expand(&m.types, defined, budget)?;
                m.types = Box::new(types);
                (Schema::Map(m), n + 1)
            }
            Schema::Union(u) => {
                charge(1)?;
                let mut variants = Vec::with_capacity(u.variants().len());
                let mut nodes = 1;
                for v in u.variants() {
                    let (s, n) = expand(v, defined, budget)?;
                    variants.push(s);
                    nodes += n;
                }
                // The same kinds as before: a union that was valid stays so.
                let union = apache_avro::schema::UnionSchema::new(variants)
                    .map(Schema::Union)
                    .unwrap_or_else(|_| schema.clone());
                (union, nodes)
            }
            other => {
                charge(1)?;
                (other.clone(), 1)
            }
        })
    }
    let mut budget = EXPANDED_NODES;
    expand(schema, &mut BTreeMap::new(), &mut budget).map(|(s, _)| s)
}

/// The most schema nodes [`expand_refs`] makes before giving up: kindred's
/// own schemas expand to a few hundred.
const EXPANDED_NODES: usize = 100_000;
