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
//! - for the readability check only, `null` in a writer's union where the
//!   reader's field is required (`["null","string"]` for a `string`, as
//!   Kafka Connect and Debezium write every nullable column): Avro's
//!   resolution reads each record by the branch it holds, so only a record
//!   that holds null is refused (dead-lettered), not the whole producer;
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
        let reader_json = serde_json::from_str::<Value>(reader_text).unwrap_or(Value::Null);
        let mut checked = self.json.clone();
        drop_defaulted_symbols(&mut checked, &enum_defaults(&reader_json));
        drop_nulls_the_reader_refuses(&mut checked, &required_fields(&reader_json));
        let checked = crate::catalog::parse(file, &checked.to_string())?;
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SchemaCompatibility::can_read(&checked, reader)
                .map(|()| self.schema.canonical_form() == reader.canonical_form())
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
            } else if let Some(Value::String(ty)) = ty {
                if ty == "string" && map.get("logicalType").and_then(Value::as_str) == Some("uuid")
                {
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

/// The fields of each record of a schema that cannot hold null: record
/// name (unqualified) -> field names.
fn required_fields(json: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
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
        let required = fields
            .iter()
            .filter(|f| !may_be_null(&f["type"]))
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect();
        out.insert(
            name.rsplit('.').next().unwrap_or(name).to_string(),
            required,
        );
    });
    out
}

fn may_be_null(ty: &Value) -> bool {
    match ty {
        Value::String(t) => t == "null",
        Value::Array(branches) => branches.iter().any(may_be_null),
        Value::Object(o) => o.get("type").is_some_and(may_be_null),
        _ => false,
    }
}

/// Takes `null` out of each writer union whose field the reader requires
/// (see the module), with a `null` default that then no longer fits.
fn drop_nulls_the_reader_refuses(json: &mut Value, required: &BTreeMap<String, Vec<String>>) {
    walk_mut(json, &mut |map| {
        if !matches!(
            map.get("type").and_then(Value::as_str),
            Some("record" | "error")
        ) {
            return;
        }
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
        let Some(needed) = required.get(name.rsplit('.').next().unwrap_or(name)) else {
            return;
        };
        let Some(Value::Array(fields)) = map.get_mut("fields") else {
            return;
        };
        for field in fields.iter_mut().filter_map(Value::as_object_mut) {
            let needed_here = field
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| needed.iter().any(|r| r == n));
            let Some(Value::Array(branches)) = field.get_mut("type") else {
                continue;
            };
            if !needed_here || branches.len() < 2 {
                continue;
            }
            branches.retain(|b| b.as_str() != Some("null"));
            if branches.len() == 1 {
                let only = branches.remove(0);
                field.insert("type".into(), only);
            }
            if field.get("default") == Some(&Value::Null) {
                field.remove("default");
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
