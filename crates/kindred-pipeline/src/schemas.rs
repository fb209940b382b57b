//! The schema ids of a deployment: from configuration (`[schemas.ids]`,
//! `[[schemas.writers]]`), or from a Confluent-compatible schema registry
//! (`[schemas.registry]`), which then owns every id.
//!
//! With a registry, a process registers each schema it writes under its
//! topic's subject (`<topic>-value`) when it starts, and learns every id it
//! reads the first time a message carries it ([`Schemas::learn`]), before
//! decoding. An id the registry does not have, or whose schema kindred
//! cannot read, stays unknown: its messages are dead-lettered as
//! `unknown_schema_id`, as without a registry, and the id is asked for
//! again after [`ASK_AGAIN_AFTER`].

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_registry::{value_subject, Registry, RegistryError, RegistryOptions};
use kindred_schema::{Framing, SchemaKind, WireCodec};

use crate::{codec_from_config, PipelineError};

/// How long an id the registry did not give (or gave a schema kindred
/// cannot read) is not asked for again.
pub const ASK_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The waits before asking again for an id seen for the first time and not
/// found (a registry follower a moment behind its leader): about 3 s in
/// all, once a minute at most for an id no one registered.
const NOT_FOUND_GRACE: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(750),
    Duration::from_secs(2),
];

/// How long a tool waits for a registry that cannot answer.
pub const TOOL_PATIENCE: Duration = Duration::from_secs(120);

/// Most ids remembered as not learned.
const MAX_UNLEARNED: usize = 10_000;

/// How often a process tries to register its schemas at start before it
/// gives up (the registry unreachable or failing).
const REGISTER_ATTEMPTS: u32 = 6;

/// The client of the configured registry (no call made), which checks its
/// URL and CA file.
pub fn registry_from_config(config: &Config) -> Result<Registry, PipelineError> {
    let r = &config.schemas.registry;
    Ok(Registry::new(&RegistryOptions {
        url: r.url.clone(),
        username: r.username.clone(),
        password: r.password.clone(),
        ca_file: r.ca_file.clone(),
        timeout: Duration::from_millis(r.timeout_ms),
    })?)
}

/// The codec of a process and, when configured, the registry behind it.
#[derive(Clone)]
pub struct Schemas {
    codec: Arc<WireCodec>,
    registry: Option<Arc<Source>>,
    /// With a registry, for kindred's own topics: the configured ids'
    /// layouts, which records written before the switch to the registry
    /// carry ([`Schemas::decode_own`]).
    before_registry: Option<Arc<WireCodec>>,
}

struct Source {
    registry: Registry,
    /// Ids not learned, when they were last asked for, and the registry's
    /// answer or kindred's refusal (said in their dead letters).
    unlearned: Mutex<HashMap<u32, (Instant, String)>>,
}

/// The most bytes a record of kindred's own topics holds: the publisher's
/// cap ([`kindred_kafka::MAX_RECORD_BYTES`]) with room for its framing.
const OWN_RECORD_BYTES: usize = kindred_kafka::MAX_RECORD_BYTES + 65_536;

impl Schemas {
    /// [`Schemas::from_config`] for a process that reads kindred's own
    /// topics (canonical events, profile changes): `schemas.max_message_bytes`
    /// bounds what comes from outside, not what kindred wrote itself. A
    /// profile change past an input limit lowered below it was published,
    /// then refused by `kindred restore` and `rebuild` ("cannot read the
    /// profile topic's versions back") and by `eval --profile-topic`.
    pub async fn for_own_topics(
        config: &Config,
        writes: &[(SchemaKind, &str)],
    ) -> Result<Self, PipelineError> {
        let mut own = config.clone();
        own.schemas.max_message_bytes = own.schemas.max_message_bytes.max(OWN_RECORD_BYTES);
        let mut schemas = Self::from_config(&own, writes).await?;
        if own.schemas.registry.enabled() {
            // The ids kindred wrote its own records under; producers'
            // writer schemas (not used with a registry, perhaps no longer
            // mounted) are not needed for them.
            schemas.before_registry = Some(Arc::new(WireCodec::new(
                own.schemas.ids.clone(),
                own.schemas.max_message_bytes,
            )?));
        }
        Ok(schemas)
    }

    /// Decodes a Confluent-framed record of kindred's own topics (canonical
    /// events, profile changes). With a registry, one written before the
    /// switch to it carries the id the configuration gave its kind, which
    /// the registry does not give (or gives another team's schema): read
    /// with the configured layout, as it was written (only kindred writes
    /// these topics, and after the switch under the registry's ids). The
    /// compacted profile topic keeps such records for every profile not
    /// changed since; `kindred restore` and `rebuild` could not read it
    /// back.
    pub fn decode_own<T: serde::de::DeserializeOwned>(
        &self,
        kind: SchemaKind,
        payload: &[u8],
    ) -> Result<T, kindred_schema::DecodeError> {
        use kindred_schema::DecodeError;
        match self.codec.decode(Framing::Confluent, kind, payload) {
            Err(
                e @ (DecodeError::UnknownSchemaId { .. } | DecodeError::UnexpectedSchema { .. }),
            ) => match &self.before_registry {
                Some(before) => before
                    .decode(Framing::Confluent, kind, payload)
                    .map_err(|_| e),
                None => Err(e),
            },
            decoded => decoded,
        }
    }

    /// The codec of a process writing `writes` (each kind with its topic).
    /// With a registry, each is registered under `<topic>-value` and written
    /// under the id the registry gives; a registry that cannot be reached
    /// after a few attempts (about half a minute) is an error.
    pub async fn from_config(
        config: &Config,
        writes: &[(SchemaKind, &str)],
    ) -> Result<Self, PipelineError> {
        if !config.schemas.registry.enabled() {
            return Ok(Schemas {
                codec: Arc::new(codec_from_config(config)?),
                registry: None,
                before_registry: None,
            });
        }
        let registry = registry_from_config(config)?;
        if !config.schemas.writers.is_empty() {
            tracing::warn!(
                registry = %registry.address(),
                "[[schemas.writers]] is not used: the schema registry gives every writer schema"
            );
        }
        let mut codec = WireCodec::for_registry(config.schemas.max_message_bytes)?;
        for (kind, topic) in writes {
            let subject = value_subject(topic);
            let mut wait = Duration::from_millis(500);
            let mut attempt = 1;
            let id = loop {
                match registry.register(&subject, kind.current().text).await {
                    Ok(id) => break id,
                    Err(e) if e.is_transient() && attempt < REGISTER_ATTEMPTS => {
                        tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "schema registration failed; retrying");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(10));
                        attempt += 1;
                    }
                    // A key that may only read (registries where schemas
                    // are registered from CI): the schema may be there.
                    Err(refused @ RegistryError::Refused { status: 401 | 403 | 422, .. }) => {
                        match registry.lookup(&subject, kind.current().text).await {
                            Ok(id) => {
                                tracing::info!(schema = %kind, %subject, id, error = %refused, "kindred may not register schemas; found this one registered");
                                break id;
                            }
                            Err(lookup) => {
                                return Err(PipelineError::Config(format!(
                                    "{refused}; and {subject} does not hold kindred's {kind} schema either ({lookup}): register it there, or let kindred's registry credentials register"
                                )))
                            }
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            tracing::info!(schema = %kind, %subject, id, registry = %registry.address(), "schema registered");
            codec = codec.with_registered_id(*kind, id)?;
        }
        Ok(Schemas {
            codec: Arc::new(codec),
            registry: Some(Arc::new(Source {
                registry,
                unlearned: Mutex::default(),
            })),
            before_registry: None,
        })
    }

    /// Schemas from configuration only (no registry), for tools and tests.
    pub fn without_registry(codec: WireCodec) -> Self {
        Schemas {
            codec: Arc::new(codec),
            registry: None,
            before_registry: None,
        }
    }

    /// The codec, with every id learned so far.
    pub fn codec(&self) -> &Arc<WireCodec> {
        &self.codec
    }

    /// Learns from the registry the ids of `payloads` the codec does not
    /// know yet, so that decoding them finds their writer schemas. Without
    /// a registry it does nothing. An id the registry does not have, or
    /// whose schema is not one kindred reads, is left unknown (logged; its
    /// messages are dead-lettered). Fails on a registry that cannot answer
    /// now ([`RegistryError::is_transient`]: retry the batch later) or that
    /// refuses kindred (credentials, a wrong URL).
    pub async fn learn<'a>(
        &self,
        payloads: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), PipelineError> {
        let Some(source) = &self.registry else {
            return Ok(());
        };
        let mut ids: BTreeSet<u32> = payloads
            .into_iter()
            .filter_map(|p| self.codec.unknown_id(p))
            .collect();
        // An id seen for the first time and not found is asked for again
        // after NOT_FOUND_GRACE: a producer's serializer registers with the
        // registry's leader and sends at once, and the follower kindred
        // asks may not have the schema yet (40403 for a moment).
        for round in 0..=NOT_FOUND_GRACE.len() {
            if round > 0 {
                if ids.is_empty() {
                    break;
                }
                let wait = NOT_FOUND_GRACE[round - 1];
                tracing::debug!(ids = ?ids, wait_ms = wait.as_millis() as u64, "schema ids not found yet; asking again");
                tokio::time::sleep(wait).await;
            }
            let last_round = round == NOT_FOUND_GRACE.len();
            let mut not_found = BTreeSet::new();
            for id in std::mem::take(&mut ids) {
                let asked = source
                    .unlearned
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&id)
                    .map(|(at, _)| *at);
                if asked.is_some_and(|at| at.elapsed() < ASK_AGAIN_AFTER) {
                    continue;
                }
                // The wire format's id is a Java int in Confluent's and
                // Apicurio's registries: one past `i32::MAX` (a message not
                // framed at all, read as if) names no schema, and such
                // registries answer it with a 404 that is not 40403.
                if i32::try_from(id).is_err() {
                    source.settle(
                        id,
                        Err(format!(
                            "{id} is past the largest schema id a registry gives (2^31 - 1)"
                        )),
                    );
                    continue;
                }
                let address = source.registry.address();
                let outcome = match source.registry.schema_by_id(id).await {
                    Ok(text) => self
                        .codec
                        .learn(id, address, &text)
                        .map_err(|e| e.to_string()),
                    Err(RegistryError::NotFound { .. }) if asked.is_none() && !last_round => {
                        not_found.insert(id);
                        continue;
                    }
                    // The registry's answer about this id (not about
                    // kindred's access as a whole: a 403 here is a subject
                    // kindred's key may not read).
                    Err(
                        e @ (RegistryError::NotFound { .. }
                        | RegistryError::NotAvro { .. }
                        | RegistryError::References { .. }
                        | RegistryError::BadResponse { .. }
                        | RegistryError::Refused { status: 403, .. }),
                    ) => Err(e.to_string()),
                    Err(e) => return Err(e.into()),
                };
                if outcome.is_ok() {
                    let defaulted = self.codec.fields_defaulted(id);
                    if !defaulted.is_empty() {
                        tracing::warn!(id, fields = ?defaulted,
                            "the writer schema lacks fields kindred reads: every record written with it has their defaults there (a renamed field? kindred's schemas read no aliases)");
                    }
                }
                source.settle(id, outcome);
            }
            ids = not_found;
        }
        Ok(())
    }

    /// [`Schemas::learn`] for tools that read a topic once (`rebuild`,
    /// `eval --profile-topic`): a registry that cannot answer now is asked
    /// again, with backoff, for about [`TOOL_PATIENCE`] before the tool
    /// gives up.
    pub async fn learn_patiently<'a>(
        &self,
        payloads: impl IntoIterator<Item = &'a [u8]> + Clone,
    ) -> Result<(), PipelineError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            match self.learn(payloads.clone()).await {
                Err(PipelineError::Registry(e))
                    if e.is_transient() && started.elapsed() < TOOL_PATIENCE =>
                {
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "the schema registry cannot answer; asking again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
                other => return other,
            }
        }
    }
}

impl Schemas {
    /// Why the writer schema `id` was not learned from the registry, when
    /// it was asked for: the registry's answer (not found, not Avro) or why
    /// kindred cannot read it (a field it needs missing). `None` without a
    /// registry, or for an id not asked for.
    pub fn unlearned_because(&self, id: u32) -> Option<String> {
        let source = self.registry.as_ref()?;
        let unlearned = source
            .unlearned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        unlearned.get(&id).map(|(_, why)| why.clone())
    }
}

impl Source {
    /// Records what asking the registry for `id` came to: learned, or not
    /// (asked again after [`ASK_AGAIN_AFTER`]).
    fn settle(&self, id: u32, outcome: Result<SchemaKind, String>) {
        let address = self.registry.address();
        let mut unlearned = self
            .unlearned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Ok(kind) => {
                unlearned.remove(&id);
                tracing::info!(id, schema = %kind, registry = %address, "writer schema learned from the registry");
            }
            Err(why) => {
                // Bounded: garbage read as ids (an unframed message whose
                // first byte is 0) must not grow it for ever.
                if unlearned.len() >= MAX_UNLEARNED {
                    unlearned.retain(|_, (at, _)| at.elapsed() < ASK_AGAIN_AFTER);
                    if unlearned.len() >= MAX_UNLEARNED {
                        unlearned.clear();
                    }
                }
                tracing::warn!(id, registry = %address, error = %why, "schema id not learned: its messages are dead-lettered as unknown_schema_id");
                unlearned.insert(id, (Instant::now(), why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_registry::stand_in::StandInRegistry;

    async fn schemas_of(registry: &StandInRegistry) -> Schemas {
        let mut config = Config::default();
        config.schemas.registry.url = registry.url();
        Schemas::from_config(&config, &[]).await.expect("schemas")
    }

    /// A profile change larger than a lowered input limit (a kiosk's
    /// thousands of device ids) is read back by kindred's own readers.
    #[tokio::test]
    async fn kindreds_own_records_are_read_past_the_input_limit() {
        let mut config = Config::default();
        config.schemas.max_message_bytes = 65_536;
        let absorbed: Vec<String> = (0..5_000).map(|i| format!("kp-{i:012}")).collect();
        let change = kindred_model::ProfileChange::erased(
            "kp-000000000001".into(),
            1,
            "erasure:x".into(),
            absorbed,
        );
        let inputs = Schemas::from_config(&config, &[]).await.expect("schemas");
        let bytes = inputs
            .codec()
            .encode(SchemaKind::ProfileChange, &change)
            .expect("encoded");
        assert!(bytes.len() > 65_536);
        let refused: Result<kindred_model::ProfileChange, _> = inputs.codec().decode(
            kindred_schema::Framing::Confluent,
            SchemaKind::ProfileChange,
            &bytes,
        );
        assert!(refused.is_err(), "an input of that size is refused");
        let own = Schemas::for_own_topics(&config, &[])
            .await
            .expect("schemas");
        let read: kindred_model::ProfileChange = own
            .codec()
            .decode(
                kindred_schema::Framing::Confluent,
                SchemaKind::ProfileChange,
                &bytes,
            )
            .expect("read back");
        assert_eq!(read.absorbed_ids.len(), 5_000);
    }

    /// With a registry, the writer schemas are not used, and need not be
    /// there (no longer mounted after the switch): kindred's own readers
    /// start without them.
    #[tokio::test]
    async fn own_topics_in_registry_mode_need_no_writer_files() {
        let registry = StandInRegistry::start().await.expect("stand-in");
        let mut config = Config::default();
        config.schemas.registry.url = registry.url();
        config.schemas.writers.push(kindred_config::WriterSchema {
            id: 42,
            reads_as: "pos_transaction".into(),
            file: "/nonexistent/pos_transaction.v7.avsc".into(),
        });
        assert!(Schemas::for_own_topics(&config, &[]).await.is_ok());
    }

    /// A message whose header names `id`.
    fn framed(id: u32) -> Vec<u8> {
        let mut m = vec![0];
        m.extend_from_slice(&id.to_be_bytes());
        m.push(0);
        m
    }

    /// A registry key that may only read (schemas registered from CI):
    /// the service finds its schema registered instead of stopping at
    /// start, and says what to do when it is not.
    #[tokio::test]
    async fn a_read_only_registry_key_finds_the_schema_registered() {
        let registry = StandInRegistry::start().await.expect("registry");
        let mut config = Config::default();
        config.schemas.registry.url = registry.url();
        let subject = value_subject("kindred.canonical.events");
        let id = registry.register(&subject, SchemaKind::CanonicalEvent.current().text);
        registry.register("other-value", "\"string\"");
        registry.read_only();
        let writes = [(SchemaKind::CanonicalEvent, "kindred.canonical.events")];
        let schemas = Schemas::from_config(&config, &writes)
            .await
            .expect("found registered");
        let message = schemas
            .codec()
            .encode(
                SchemaKind::CanonicalEvent,
                &kindred_model::CanonicalEvent::new(
                    "pos:1",
                    kindred_model::Channel::Pos,
                    1,
                    vec![],
                ),
            )
            .expect("encode");
        assert_eq!(message[1..5], id.to_be_bytes());
        let writes = [(SchemaKind::ProfileChange, "kindred.profile.changes")];
        let refused = Schemas::from_config(&config, &writes)
            .await
            .err()
            .expect("not registered, and may not register")
            .to_string();
        assert!(
            refused.contains("HTTP 403") && refused.contains("kindred.profile.changes-value"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn an_id_a_follower_lacks_for_a_moment_is_learned_not_dead_lettered() {
        let registry = StandInRegistry::start().await.expect("registry");
        let schemas = schemas_of(&registry).await;
        let message = framed(1);
        // Registered half a second after the message asked for id 1: the
        // first answer is 40403.
        let (learned, ()) = tokio::join!(schemas.learn([message.as_slice()]), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            registry.register("pos-value", SchemaKind::CanonicalEvent.current().text);
        });
        learned.expect("learn");
        assert_eq!(schemas.codec().unknown_id(&message), None);
    }

    #[tokio::test]
    async fn an_id_no_one_registers_stays_unknown_and_is_not_asked_for_again_at_once() {
        let registry = StandInRegistry::start().await.expect("registry");
        let schemas = schemas_of(&registry).await;
        let message = framed(42);
        let started = Instant::now();
        schemas.learn([message.as_slice()]).await.expect("learn");
        assert!(started.elapsed() >= Duration::from_secs(3), "the grace");
        assert_eq!(schemas.codec().unknown_id(&message), Some(42));
        let calls = registry.calls();
        assert_eq!(calls, 4, "one ask and three more after the waits");
        schemas.learn([message.as_slice()]).await.expect("learn");
        assert_eq!(registry.calls(), calls, "not asked again within a minute");
    }

    /// A message framed as if (a leading zero byte) whose id is past
    /// `i32::MAX`: the registry answers a 404 that is not "schema not
    /// found" (it reads ids as Java ints), which stopped the service on
    /// every restart. The id is not asked for; its message is
    /// dead-lettered as `unknown_schema_id`.
    #[tokio::test]
    async fn an_id_past_the_registrys_ints_is_unknown_without_asking() {
        let registry = StandInRegistry::start().await.expect("registry");
        let schemas = schemas_of(&registry).await;
        let calls = registry.calls();
        let message = framed(0x8000_0000);
        schemas.learn([message.as_slice()]).await.expect("learn");
        assert_eq!(schemas.codec().unknown_id(&message), Some(0x8000_0000));
        assert_eq!(registry.calls(), calls, "not asked");
    }

    #[tokio::test]
    async fn a_tool_waits_out_a_registry_restart() {
        let registry = StandInRegistry::start().await.expect("registry");
        let schemas = schemas_of(&registry).await;
        let id = registry.register("pos-value", SchemaKind::CanonicalEvent.current().text);
        let message = framed(id);
        registry.fail_next(3);
        let one = [message.as_slice()];
        let err = schemas.learn(one).await.expect_err("a 503");
        assert!(
            matches!(err, PipelineError::Registry(ref e) if e.is_transient()),
            "{err}"
        );
        schemas.learn_patiently(one).await.expect("learned");
        assert_eq!(schemas.codec().unknown_id(&message), None);
    }
}
