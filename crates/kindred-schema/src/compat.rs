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
    pub fn between(old: &Schema, new: &Schema) -> Self {
        Compatibility {
            backward: SchemaCompatibility::can_read(old, new).map_err(|e| e.to_string()),
            forward: SchemaCompatibility::can_read(new, old).map_err(|e| e.to_string()),
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
}

/// One line of a compatibility report.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub old: String,
    pub new: String,
    pub compatibility: Compatibility,
}

/// Checks every current schema against each of its released versions.
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
        });
    }
    debug_assert!(CURRENT.len() == 5);
    Ok(out)
}

/// Checks two schema files.
pub fn check_files(
    old: &std::path::Path,
    new: &std::path::Path,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_versions_are_fully_compatible_with_current() {
        for r in check_embedded().expect("schemas parse") {
            assert!(
                r.compatibility.is_full(),
                "{} -> {}: {:?}",
                r.old,
                r.new,
                r.compatibility
            );
        }
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
}
