//! Schema compatibility, as a schema registry judges it.

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::Schema;

use crate::catalog::{parse, CURRENT, HISTORY};
use crate::SchemaError;

/// Whether data can cross between two versions of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compatibility {
    /// The new schema can read data written with the old one (consumers
    /// upgrade first). `Err` says why not.
    pub backward: Result<(), String>,
    /// The old schema can read data written with the new one (producers
    /// upgrade first).
    pub forward: Result<(), String>,
}

impl Compatibility {
    /// Named types used again by name are compared as their definitions
    /// ([`crate::writer::expand_refs`]): apache-avro compares a reference
    /// only with a reference, so moving a type's definition to another
    /// field read as incompatible.
    pub fn between(old: &Schema, new: &Schema) -> Self {
        // Kindred's own schemas, small: one too large to expand is compared
        // as written.
        let (old, new) = (
            crate::writer::expand_refs(old).unwrap_or_else(|| old.clone()),
            crate::writer::expand_refs(new).unwrap_or_else(|| new.clone()),
        );
        let read = |writer: &Schema, reader: &Schema| match read_by_alias(writer, reader) {
            Some(why) => Err(why),
            None => SchemaCompatibility::can_read(writer, reader).map_err(|e| e.to_string()),
        };
        Compatibility {
            backward: read(&old, &new),
            forward: read(&new, &old),
        }
    }

    /// FULL, BACKWARD, FORWARD or NONE, as Confluent's registry names them.
    pub fn level(&self) -> &'static str {
        match (self.backward.is_ok(), self.forward.is_ok()) {
            (true, true) => "FULL",
            (true, false) => "BACKWARD",
            (false, true) => "FORWARD",
            (false, false) => "NONE",
        }
    }

    pub fn is_full(&self) -> bool {
        self.backward.is_ok() && self.forward.is_ok()
    }

    /// Whether this meets the `required` level.
    pub fn satisfies(&self, required: CompatibilityLevel) -> bool {
        match required {
            CompatibilityLevel::Full => self.is_full(),
            CompatibilityLevel::Backward => self.backward.is_ok(),
            CompatibilityLevel::Forward => self.forward.is_ok(),
        }
    }
}

/// A field of `reader` that would read `writer`'s data only through one of
/// its aliases (a rename: `loyalty_card_no` with the alias
/// `member_card_no`), at any depth of records: Avro's resolution rules
/// allow it, but kindred's decoders (apache-avro's resolution, the fast
/// path) match fields by name only, so every old record's value would be
/// dropped for the default without a word.
fn read_by_alias(writer: &Schema, reader: &Schema) -> Option<String> {
    let records = |s: &Schema| -> Vec<apache_avro::schema::RecordSchema> {
        match s {
            Schema::Record(r) => vec![r.clone()],
            Schema::Union(u) => u
                .variants()
                .iter()
                .filter_map(|v| match v {
                    Schema::Record(r) => Some(r.clone()),
                    _ => None,
                })
                .collect(),
            Schema::Array(a) => match a.items.as_ref() {
                Schema::Record(r) => vec![r.clone()],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    for (w, r) in records(writer).iter().zip(records(reader).iter()) {
        for field in &r.fields {
            match w.fields.iter().find(|f| f.name == field.name) {
                Some(written) => {
                    if let Some(why) = read_by_alias(&written.schema, &field.schema) {
                        return Some(why);
                    }
                }
                None => {
                    let alias = field
                        .aliases
                        .iter()
                        .flatten()
                        .find(|a| w.fields.iter().any(|f| &f.name == *a));
                    if let Some(alias) = alias {
                        return Some(format!(
                            "field `{}` of {} would read the old field `{alias}` through its alias: kindred's decoders match fields by name only, so old records would lose its value; add the new field beside the old one instead of renaming",
                            field.name, r.name.name
                        ));
                    }
                }
            }
        }
    }
    None
}

/// The compatibility a schema must keep with each of its released versions,
/// as Confluent's registry names the levels. The check runs against every
/// released version, not only the latest (the registry's `_TRANSITIVE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompatibilityLevel {
    /// New readers read old data, and old readers read new data: producers
    /// and consumers upgrade in any order.
    Full,
    /// New readers read old data: consumers upgrade before producers.
    Backward,
    /// Old readers read new data: producers upgrade before consumers.
    Forward,
}

impl CompatibilityLevel {
    /// `FULL`, `BACKWARD` or `FORWARD`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::Forward => "FORWARD",
        }
    }
}

impl std::fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a compatibility report.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub old: String,
    pub new: String,
    pub compatibility: Compatibility,
    /// The level the change must meet.
    pub required: CompatibilityLevel,
}

impl CheckResult {
    /// Whether the change meets its required level.
    pub fn passes(&self) -> bool {
        self.compatibility.satisfies(self.required)
    }
}

/// Checks every current schema against each of its released versions, each
/// at its kind's declared level ([`crate::SchemaKind::required_compatibility`]).
pub fn check_embedded() -> Result<Vec<CheckResult>, SchemaError> {
    let mut out = Vec::new();
    for old in &HISTORY {
        let new = old.kind.current();
        out.push(CheckResult {
            old: old.file.to_string(),
            new: new.file.to_string(),
            compatibility: Compatibility::between(
                &parse(old.file, old.text)?,
                &parse(new.file, new.text)?,
            ),
            required: old.kind.required_compatibility(),
        });
    }
    debug_assert!(CURRENT.len() == 5);
    Ok(out)
}

/// Checks two schema files, requiring `required`.
pub fn check_files(
    old: &std::path::Path,
    new: &std::path::Path,
    required: CompatibilityLevel,
) -> Result<CheckResult, SchemaError> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| SchemaError::Read {
            file: p.display().to_string(),
            message: e.to_string(),
        })
    };
    let (old_text, new_text) = (read(old)?, read(new)?);
    let old_schema = parse(&old.display().to_string(), &old_text)?;
    let new_schema = parse(&new.display().to_string(), &new_text)?;
    Ok(CheckResult {
        old: old.display().to_string(),
        new: new.display().to_string(),
        compatibility: Compatibility::between(&old_schema, &new_schema),
        required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field renamed with an alias (Avro's way): refused both ways, as
    /// kindred's decoders read no alias (old records' cards would be lost).
    #[test]
    fn a_rename_through_an_alias_is_refused() {
        let old = r#"{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}, {"name": "member_card_no", "type": ["null", "string"], "default": null}]}"#;
        let new = r#"{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}, {"name": "loyalty_card_no", "aliases": ["member_card_no"], "type": ["null", "string"], "default": null}]}"#;
        let (old, new) = (
            parse("old", old).expect("old"),
            parse("new", new).expect("new"),
        );
        let c = Compatibility::between(&old, &new);
        assert_eq!(c.level(), "FORWARD", "{c:?}");
        assert!(
            c.backward
                .as_ref()
                .is_err_and(|e| e.contains("loyalty_card_no") && e.contains("alias")),
            "{c:?}"
        );
        // The same rename inside a nested record.
        let nest = |inner: &str| {
            format!(
                r#"{{"type": "record", "name": "R", "fields": [{{"name": "order", "type": ["null", {{"type": "record", "name": "O", "fields": [{{"name": "id", "type": "string"}}, {inner}]}}], "default": null}}]}}"#
            )
        };
        let old = parse(
            "old",
            &nest(r#"{"name": "total", "type": "long", "default": 0}"#),
        )
        .expect("old");
        let new = parse(
            "new",
            &nest(r#"{"name": "total_minor", "aliases": ["total"], "type": "long", "default": 0}"#),
        )
        .expect("new");
        assert!(Compatibility::between(&old, &new).backward.is_err());
    }

    /// A named type's definition moved to a field before its first use
    /// (a new optional field holding it): the data reads both ways, as a
    /// registry judges it. apache-avro's check compares a reference only
    /// with a reference, by name: it called the pair incompatible.
    #[test]
    fn moving_a_types_definition_to_another_field_keeps_it_compatible() {
        let leaf =
            r#"{"type": "record", "name": "Leaf", "fields": [{"name": "x", "type": "int"}]}"#;
        let old = format!(
            r#"{{"type": "record", "name": "R", "fields": [{{"name": "a", "type": {leaf}}}, {{"name": "b", "type": "Leaf"}}]}}"#
        );
        let new = format!(
            r#"{{"type": "record", "name": "R", "fields": [{{"name": "c", "type": ["null", {leaf}], "default": null}}, {{"name": "a", "type": "Leaf"}}, {{"name": "b", "type": "Leaf"}}]}}"#
        );
        let (old, new) = (
            parse("old", &old).expect("old"),
            parse("new", &new).expect("new"),
        );
        assert_eq!(Compatibility::between(&old, &new).level(), "FULL");
        // A real change to the type is still seen through the reference.
        let changed = format!(
            r#"{{"type": "record", "name": "R", "fields": [{{"name": "c", "type": ["null", {}], "default": null}}, {{"name": "a", "type": "Leaf"}}, {{"name": "b", "type": "Leaf"}}]}}"#,
            leaf.replace(r#""type": "int""#, r#""type": "string""#)
        );
        let changed = parse("changed", &changed).expect("changed");
        assert_eq!(Compatibility::between(&old, &changed).level(), "NONE");
    }

    #[test]
    fn released_versions_meet_their_declared_level() {
        let results = check_embedded().expect("schemas parse");
        assert_eq!(results.len(), HISTORY.len());
        for r in results {
            assert!(
                r.passes(),
                "{} -> {}: {:?}, required {}",
                r.old,
                r.new,
                r.compatibility,
                r.required
            );
            let declared = if r.new == "profile_change.avsc" {
                CompatibilityLevel::Backward
            } else {
                CompatibilityLevel::Full
            };
            assert_eq!(r.required, declared, "{}", r.new);
        }
    }

    #[test]
    fn only_the_profile_change_is_checked_below_full() {
        for kind in crate::SchemaKind::ALL {
            let want = match kind {
                crate::SchemaKind::ProfileChange => CompatibilityLevel::Backward,
                _ => CompatibilityLevel::Full,
            };
            assert_eq!(kind.required_compatibility(), want, "{kind}");
        }
    }

    /// `schemas check` at BACKWARD still refuses a profile change a new
    /// reader could not read old changes with.
    #[test]
    fn a_backward_breaking_profile_change_fails_its_check() {
        let current = crate::SchemaKind::ProfileChange.current();
        let old = HISTORY
            .iter()
            .find(|h| h.name == "profile_change.v1")
            .expect("released");
        let old_schema = parse(old.file, old.text).expect("parses");
        let check = |text: &str| CheckResult {
            old: old.file.to_string(),
            new: current.file.to_string(),
            compatibility: Compatibility::between(
                &old_schema,
                &parse(current.file, text).expect("parses"),
            ),
            required: crate::SchemaKind::ProfileChange.required_compatibility(),
        };
        assert!(check(current.text).passes());
        let field = r#"{"name": "cause_event_id", "type": "string"},"#;
        assert!(current.text.contains(field));
        let breaking = [
            // A new field without a default: old changes do not have it.
            current.text.replace(
                field,
                r#"{"name": "cause_event_id", "type": "string"}, {"name": "tenant", "type": "string"},"#,
            ),
            // A retyped field.
            current.text.replace(field, r#"{"name": "cause_event_id", "type": "long"},"#),
            // A symbol old changes carry, dropped.
            current.text.replace(r#""ERASED", "#, ""),
        ];
        for text in breaking {
            assert_ne!(text, current.text);
            let r = check(&text);
            assert!(r.compatibility.backward.is_err(), "{:?}", r.compatibility);
            assert!(!r.passes());
        }
        // Removing a field old readers require breaks only FORWARD, which
        // BACKWARD allows (as in the registry); the README's rules forbid it.
        let removed = current.text.replace(field, "");
        let r = check(&removed);
        assert_eq!(r.compatibility.level(), "BACKWARD", "{:?}", r.compatibility);
        assert!(r.passes());
        assert!(!r.compatibility.satisfies(CompatibilityLevel::Full));
    }

    /// Version 3 of the profile change adds `SPLIT` to the change type, a
    /// symbol a version-1 reader cannot read (apache-avro, like the
    /// registry, requires the reader to hold every writer symbol): new
    /// consumers read old changes, old consumers must upgrade before the
    /// resolver publishes splits. Everything else it adds is FULL.
    #[test]
    fn profile_change_v3_is_backward_compatible_and_only_split_breaks_forward() {
        let results = check_embedded().expect("schemas parse");
        let r = results
            .iter()
            .find(|r| r.old == "history/profile_change.v1.avsc")
            .expect("profile_change.v1 is released");
        assert_eq!(r.compatibility.level(), "BACKWARD", "{:?}", r.compatibility);
        let forward = r.compatibility.forward.clone().expect_err("SPLIT");
        assert!(forward.contains("change_type"), "{forward}");
        let current = crate::SchemaKind::ProfileChange.current();
        let without_split = current
            .text
            .replace(r#""ERASED", "SPLIT"]"#, r#""ERASED"]"#);
        assert_ne!(without_split, current.text);
        let old = crate::HISTORY
            .iter()
            .find(|h| h.name == "profile_change.v1")
            .expect("released");
        let c = Compatibility::between(
            &parse(old.file, old.text).expect("parses"),
            &parse(current.file, &without_split).expect("parses"),
        );
        assert_eq!(c.level(), "FULL", "{c:?}");
    }

    #[test]
    fn a_new_required_field_breaks_backward_compatibility() {
        let old = Schema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#,
        )
        .expect("valid");
        let new = Schema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"long"}]}"#,
        )
        .expect("valid");
        let c = Compatibility::between(&old, &new);
        assert!(c.backward.is_err());
        assert_eq!(c.level(), "FORWARD");
        let with_default = Schema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":["null","long"],"default":null}]}"#,
        )
        .expect("valid");
        assert_eq!(Compatibility::between(&old, &with_default).level(), "FULL");
        let retyped = Schema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#,
        )
        .expect("valid");
        assert_eq!(Compatibility::between(&old, &retyped).level(), "NONE");
    }

    /// The profile change's type has a default: a change type added in a
    /// later version is read as UPDATED by today's readers (Avro's schema
    /// resolution since 1.9, Confluent's registry check too). apache-avro's
    /// compatibility check does not weigh enum defaults, so `kindred
    /// schemas check` still calls such an addition BACKWARD: conservative.
    #[test]
    fn a_change_type_added_later_is_read_by_todays_readers_as_updated() {
        let current = CURRENT
            .iter()
            .find(|s| s.name == "profile_change")
            .expect("embedded");
        let change_type = |text: &str| -> Schema {
            let Schema::Record(record) = parse("profile_change", text).expect("valid") else {
                panic!("a record")
            };
            let field = record
                .fields
                .iter()
                .find(|f| f.name == "change_type")
                .expect("change_type");
            field.schema.clone()
        };
        let today = change_type(current.text);
        let later_text = current
            .text
            .replacen("\"SPLIT\"]", "\"SPLIT\", \"ARCHIVED\"]", 1);
        let later = change_type(&later_text);
        let written = apache_avro::to_avro_datum(
            &later,
            apache_avro::types::Value::Enum(6, "ARCHIVED".into()),
        )
        .expect("encode");
        let read = apache_avro::from_avro_datum(&later, &mut written.as_slice(), Some(&today))
            .expect("today's reader reads a later change type");
        assert_eq!(read, apache_avro::types::Value::Enum(1, "UPDATED".into()));
    }
}
