use std::collections::BTreeMap;
use std::fmt;

use apache_avro::Schema;

use crate::{CompatibilityLevel, SchemaError};

/// Every record kindred knows, one per current file in `schemas/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaKind {
    PosTransaction,
    WebEvent,
    SocialInteraction,
    CanonicalEvent,
    ProfileChange,
}

/// One version of a schema, embedded at build time.
#[derive(Debug, Clone, Copy)]
pub struct SchemaSource {
    pub kind: SchemaKind,
    /// `pos_transaction` for the current version, `pos_transaction.v1` for a released older one.
    pub name: &'static str,
    /// The file under `schemas/`.
    pub file: &'static str,
    pub text: &'static str,
}

macro_rules! schema_file {
    ($kind:ident, $name:literal, $file:literal) => {
        SchemaSource {
            kind: SchemaKind::$kind,
            name: $name,
            file: $file,
            text: include_str!(concat!("../../../schemas/", $file)),
        }
    };
}

/// The current version of every schema.
pub const CURRENT: [SchemaSource; 5] = [
    schema_file!(PosTransaction, "pos_transaction", "pos_transaction.avsc"),
    schema_file!(WebEvent, "web_event", "web_event.avsc"),
    schema_file!(
        SocialInteraction,
        "social_interaction",
        "social_interaction.avsc"
    ),
    schema_file!(CanonicalEvent, "canonical_event", "canonical_event.avsc"),
    schema_file!(ProfileChange, "profile_change", "profile_change.avsc"),
];

/// Every released older version, kept so that data written with it still
/// decodes and so that `kindred schemas check` can prove compatibility.
pub const HISTORY: [SchemaSource; 4] = [
    schema_file!(
        PosTransaction,
        "pos_transaction.v1",
        "history/pos_transaction.v1.avsc"
    ),
    schema_file!(WebEvent, "web_event.v1", "history/web_event.v1.avsc"),
    schema_file!(
        SocialInteraction,
        "social_interaction.v1",
        "history/social_interaction.v1.avsc"
    ),
    schema_file!(
        ProfileChange,
        "profile_change.v1",
        "history/profile_change.v1.avsc"
    ),
];

impl SchemaKind {
    pub const ALL: [SchemaKind; 5] = [
        SchemaKind::PosTransaction,
        SchemaKind::WebEvent,
        SchemaKind::SocialInteraction,
        SchemaKind::CanonicalEvent,
        SchemaKind::ProfileChange,
    ];

    /// The current schema's source.
    pub fn current(self) -> &'static SchemaSource {
        CURRENT
            .iter()
            .find(|s| s.kind == self)
            .unwrap_or_else(|| unreachable!("CURRENT lists every kind"))
    }

    /// The file in `schemas/` that defines the current version.
    pub fn file_name(self) -> &'static str {
        self.current().file
    }

    /// The compatibility the current version must keep with every released
    /// version (what `kindred schemas check` requires, and what to set in
    /// the schema registry for the subject).
    ///
    /// FULL for the raw inputs and the canonical event: their producers
    /// (stores, the web shop, connectors, the ingest services) and their
    /// consumers upgrade on their own schedules. BACKWARD for the profile
    /// change: its downstream readers upgrade before the resolver (the order
    /// Confluent recommends for BACKWARD), since a version-1 reader cannot
    /// read a `SPLIT` change.
    pub fn required_compatibility(self) -> CompatibilityLevel {
        match self {
            SchemaKind::PosTransaction
            | SchemaKind::WebEvent
            | SchemaKind::SocialInteraction
            | SchemaKind::CanonicalEvent => CompatibilityLevel::Full,
            SchemaKind::ProfileChange => CompatibilityLevel::Backward,
        }
    }

    /// The default Confluent schema id of the current version (overridable in config).
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

/// Default Confluent ids of the released older versions (overridable in config).
pub fn default_history_ids() -> BTreeMap<u32, &'static str> {
    [
        (11, "pos_transaction.v1"),
        (12, "web_event.v1"),
        (13, "social_interaction.v1"),
        (14, "profile_change.v1"),
    ]
    .into()
}

impl fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Parses a schema text, naming the file on error.
pub fn parse(file: &str, text: &str) -> Result<Schema, SchemaError> {
    Schema::parse_str(text).map_err(|e| SchemaError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

/// Every embedded schema version, each parsed exactly once.
#[derive(Debug, Clone)]
pub struct Catalog {
    current: BTreeMap<SchemaKind, Schema>,
    by_name: BTreeMap<&'static str, (SchemaKind, Schema)>,
}

impl Catalog {
    /// Parses every embedded schema. Fails only if a file in `schemas/` is
    /// not valid Avro, which a unit test rules out.
    pub fn embedded() -> Result<Self, SchemaError> {
        let mut current = BTreeMap::new();
        let mut by_name = BTreeMap::new();
        for source in CURRENT.iter().chain(HISTORY.iter()) {
            let schema = parse(source.file, source.text)?;
            if CURRENT.iter().any(|c| c.name == source.name) {
                current.insert(source.kind, schema.clone());
            }
            by_name.insert(source.name, (source.kind, schema));
        }
        Ok(Catalog { current, by_name })
    }

    /// The current schema of `kind`.
    pub fn get(&self, kind: SchemaKind) -> &Schema {
        // Every kind is inserted by `embedded`, the only constructor.
        &self.current[&kind]
    }

    /// A schema version by name (`pos_transaction`, `pos_transaction.v1`, ...).
    pub fn by_name(&self, name: &str) -> Option<(SchemaKind, &Schema)> {
        self.by_name.get(name).map(|(k, s)| (*k, s))
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
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
        for name in default_history_ids().values() {
            assert!(catalog.by_name(name).is_some(), "{name}");
        }
    }

    /// The layout (Avro's Parsing Canonical Form, Rabin fingerprint) each
    /// embedded version was released with. An id names one layout for
    /// good: a reader holding id 5 decodes with the layout it learned for
    /// 5. So a schema file whose layout changes must be released as a new
    /// version: copy the released file to `history/` (it keeps its id, in
    /// `default_history_ids`), give the current version the next free id in
    /// `SchemaKind::default_id`, and update this table. (Docs and defaults
    /// are not part of the layout.)
    const RELEASED: [(&str, &str); 9] = [
        ("pos_transaction", "aab4c9384f11918e"),
        ("web_event", "9937f51000f72b8a"),
        ("social_interaction", "55be79794f10c458"),
        ("canonical_event", "d33beea49cf1d640"),
        ("profile_change", "c2731002c296338d"),
        ("pos_transaction.v1", "1b57143938015cfe"),
        ("web_event.v1", "f9127b2d96810fd1"),
        ("social_interaction.v1", "247015bd8bed1051"),
        ("profile_change.v1", "a3f88a6232b0455f"),
    ];

    #[test]
    fn no_released_layout_changes_under_its_id() {
        let catalog = Catalog::embedded().expect("schemas/ must hold valid Avro");
        for (name, released) in RELEASED {
            let (_, schema) = catalog.by_name(name).expect("embedded");
            let now = schema
                .fingerprint::<apache_avro::rabin::Rabin>()
                .to_string();
            assert_eq!(
                now, released,
                "the layout of {name} changed under its released id: release it as a new version (see RELEASED)"
            );
        }
        assert_eq!(
            RELEASED.len(),
            CURRENT.len() + HISTORY.len(),
            "every embedded version is listed"
        );
    }
}
