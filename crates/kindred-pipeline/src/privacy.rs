//! The keyring from configuration, and the resolver store opened with it.

use std::sync::Arc;

use kindred_config::Config;
use kindred_crypto::Keyring;
use kindred_resolver::{Store, StoreOptions};

use crate::PipelineError;

/// The environment variable that may hold the keyring's text (e.g. from a
/// Kubernetes Secret); it wins over `privacy.keyring_file`.
pub const KEYRING_ENV: &str = "KINDRED_KEYRING";

/// The keyring configured for the resolver store: `KINDRED_KEYRING`, else
/// `privacy.keyring_file`. None only when `privacy.plaintext_store` is set;
/// otherwise a missing keyring is an error that says how to make one.
pub fn keyring(config: &Config) -> Result<Option<Arc<Keyring>>, PipelineError> {
    match configured_keyring(config)? {
        Some(k) => Ok(Some(k)),
        None if config.privacy.plaintext_store => Ok(None),
        None => Err(PipelineError::Config(format!(
            "the resolver store needs a keyring: set privacy.keyring_file \
             (make one with `kindred keys generate --out FILE`) or {KEYRING_ENV}; \
             for a throw-away demo, privacy.plaintext_store = true with every \
             [privacy.output] field that defaults to hashed set to masked, omitted or raw"
        ))),
    }
}

/// The keyring configured, if any: `KINDRED_KEYRING`, else `privacy.keyring_file`.
pub fn configured_keyring(config: &Config) -> Result<Option<Arc<Keyring>>, PipelineError> {
    let keyring = match std::env::var(KEYRING_ENV) {
        Ok(text) if !text.trim().is_empty() => {
            Keyring::parse(&text, &format!("environment variable {KEYRING_ENV}"))?
        }
        _ => match &config.privacy.keyring_file {
            Some(path) => Keyring::from_file(path)?,
            None => return Ok(None),
        },
    };
    Ok(Some(Arc::new(keyring)))
}

/// Opens (or creates) the resolver store of `config` with its keyring.
pub fn open_store(config: &Config) -> Result<Store, PipelineError> {
    open_store_at(config, &config.resolver.data_dir)
}

/// Opens (or creates) a resolver store in `dir` with `config`'s keyring.
///
/// A store that exists already says itself how it was made: with no
/// keyring configured, an existing plaintext store (a kept demo store)
/// opens, and a keyed one fails with an error saying it needs its keyring.
/// Creating a store needs a keyring unless `privacy.plaintext_store` is set.
pub fn open_store_at(config: &Config, dir: &std::path::Path) -> Result<Store, PipelineError> {
    let options = if dir.join("CURRENT").is_file() {
        StoreOptions {
            sync_writes: config.resolver.sync_writes,
            keyring: configured_keyring(config)?,
            ..StoreOptions::default()
        }
    } else {
        store_options(config)?
    };
    Ok(Store::open_with(dir, options)?)
}

/// Opens the resolver store in `dir` to read it beside a running resolver
/// (see [`Store::open_reader`]), with `config`'s keyring.
pub fn open_reader_at(config: &Config, dir: &std::path::Path) -> Result<Store, PipelineError> {
    let options = StoreOptions {
        keyring: configured_keyring(config)?,
        // A reader often runs in the resolver's own container (`kubectl
        // exec`), under its memory limit: a small cache of its own.
        cache_bytes: 32 << 20,
        ..StoreOptions::default()
    };
    Ok(Store::open_reader(dir, options)?)
}

/// How `config` wants the store opened: its keyring and write durability.
pub fn store_options(config: &Config) -> Result<StoreOptions, PipelineError> {
    Ok(StoreOptions {
        sync_writes: config.resolver.sync_writes,
        keyring: keyring(config)?,
        ..StoreOptions::default()
    })
}
