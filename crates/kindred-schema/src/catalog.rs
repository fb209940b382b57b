use std::collections::BTreeMap;
use std::fmt;

use apache_avro::Schema;

use crate::SchemaError;

/// Every schema kindred knows, one per file in `schemas/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaKind {
    PosTransaction,
    WebEvent,
    SocialInteraction,
    CanonicalEvent,
    ProfileChange,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 5] = [
        SchemaKind::PosTransaction,
        SchemaKind::WebEvent,
        SchemaKind::SocialInteraction,
        SchemaKind::CanonicalEvent,
        SchemaKind::ProfileChange,
    ];

    /// The file in `schemas/` that defines this schema.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::PosTransaction => "pos_transaction.avsc",
            SchemaKind::WebEvent => "web_event.avsc",
            SchemaKind::SocialInteraction => "social_interaction.avsc",
            SchemaKind::CanonicalEvent => "canonical_event.avsc",
            SchemaKind::ProfileChange => "profile_change.avsc",
        }
    }

    /// The schema text as embedded at build time.
    pub fn source(self) -> &'static str {
        match self {
            SchemaKind::PosTransaction => include_str!("../../../schemas/pos_transaction.avsc"),
            SchemaKind::WebEvent => include_str!("../../../schemas/web_event.avsc"),
            SchemaKind::SocialInteraction => {
                include_str!("../../../schemas/social_interaction.avsc")
            }
            SchemaKind::CanonicalEvent => include_str!("../../../schemas/canonical_event.avsc"),
            SchemaKind::ProfileChange => include_str!("../../../schemas/profile_change.avsc"),
        }
    }

    /// The default Confluent schema id (overridable in config).
    pub fn default_id(self) -> u32 {
        match self {
            SchemaKind::PosTransaction => 1,
            SchemaKind::WebEvent => 2,
            SchemaKind::SocialInteraction => 3,
            SchemaKind::CanonicalEvent => 4,
            SchemaKind::ProfileChange => 5,
        }
    }
}

impl fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// The parsed schemas, each parsed exactly once.
#[derive(Debug, Clone)]
pub struct Catalog {
    schemas: BTreeMap<SchemaKind, Schema>,
}

impl Catalog {
    /// Parses every embedded schema. Fails only if a file in `schemas/` is
    /// not valid Avro, which a unit test rules out.
    pub fn embedded() -> Result<Self, SchemaError> {
        let mut schemas = BTreeMap::new();
        for kind in SchemaKind::ALL {
            let schema = Schema::parse_str(kind.source()).map_err(|e| SchemaError::Parse {
                file: kind.file_name().to_string(),
                message: e.to_string(),
            })?;
            schemas.insert(kind, schema);
        }
        Ok(Catalog { schemas })
    }

    pub fn get(&self, kind: SchemaKind) -> &Schema {
        // Every kind is inserted by `embedded`, the only constructor.
        &self.schemas[&kind]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_parses() {
        let catalog = Catalog::embedded().expect("schemas/ must hold valid Avro");
        for kind in SchemaKind::ALL {
            assert!(matches!(catalog.get(kind), Schema::Record(_)), "{kind}");
        }
    }
}
