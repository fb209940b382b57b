//! Personal data at rest: keyed index keys and sealed values.
//!
//! A store is made either **keyed** (with a [`Keyring`]) or **plaintext**
//! (for demos and unit tests), and remembers which in its `meta` family:
//! - keyed: every identifier index key and rule block key is
//!   `prefix:HMAC-SHA256(normalized value)` (see [`KeyHasher`]), the
//!   suppression list holds the same hashes, and the values of the families
//!   that hold personal data ([`SEALED_FAMILIES`]: profiles, contributions,
//!   outbox, names) are sealed with AES-256-GCM-SIV (a random nonce per
//!   value; values sealed by older releases with AES-256-GCM still open,
//!   and `keys rotate` re-seals them), bound to their family and key;
//! - plaintext: keys and values as they are.
//!
//! Opening checks the keyring against the store before anything is read:
//! a missing keyring, a different HMAC key, a missing or wrong encryption
//! key each stop the open with an error that says which, never a silent
//! mismatch (a different HMAC key would make every identifier look new and
//! duplicate every customer).

use std::collections::BTreeMap;
use std::sync::Arc;

use kindred_crypto::Keyring;
use serde::{Deserialize, Serialize};

use crate::keys::fnv1a;
use crate::store::{cf, StoreError};

/// Meta key of the store's [`Protection`] record.
pub(crate) const PROTECTION: &[u8] = b"protection";

/// What text the canaries hold: opening one proves a key is the right one.
const CANARY: &[u8] = b"kindred key check";

/// How a store protects personal data, recorded when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Protection {
    Plaintext,
    Keyed {
        /// HMAC of a fixed text under the keyring's HMAC key.
        hmac_check: Vec<u8>,
        /// Per encryption key in use: a fixed text sealed with it.
        canaries: BTreeMap<u32, Vec<u8>>,
    },
}

/// The families whose values hold personal data and are sealed.
pub(crate) fn is_sealed(family: &str) -> bool {
    SEALED_FAMILIES.contains(&family)
}

/// The column families whose values a keyed store seals.
pub(crate) const SEALED_FAMILIES: [&str; 4] =
    [cf::PROFILES, cf::CONTRIBUTIONS, cf::OUTBOX, cf::NAMES];

/// What a sealed value is bound to: its family and key.
pub(crate) fn context(family: &str, key: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(family.len() + 1 + key.len());
    c.extend_from_slice(family.as_bytes());
    c.push(0);
    c.extend_from_slice(key);
    c
}

impl Protection {
    /// The record a new store gets.
    pub(crate) fn new(keyring: Option<&Keyring>) -> Self {
        match keyring {
            None => Protection::Plaintext,
            Some(k) => Protection::Keyed {
                hmac_check: hmac_check(k),
                canaries: BTreeMap::from([(k.active(), canary(k))]),
            },
        }
    }

    /// Checks `keyring` against this record. Returns the record to store
    /// if it changed (the keyring's active key was not in use yet).
    pub(crate) fn check(
        &self,
        keyring: Option<&Keyring>,
        path: &std::path::Path,
    ) -> Result<Option<Protection>, StoreError> {
        let problem = |problem: String| StoreError::Protection {
            path: path.to_path_buf(),
            problem,
        };
        match (self, keyring) {
            (Protection::Plaintext, None) => Ok(None),
            (Protection::Plaintext, Some(k)) => Err(problem(format!(
                "the store was made without a keyring (plaintext), but keyring {} was given; \
                 a plaintext store cannot be opened as a protected one (rebuild it from the topics with the keyring)",
                k.origin()
            ))),
            (Protection::Keyed { .. }, None) => Err(problem(
                "the store is protected by a keyring and none was given: set privacy.keyring_file \
                 or the environment variable KINDRED_KEYRING"
                    .into(),
            )),
            (
                Protection::Keyed {
                    hmac_check: check,
                    canaries,
                },
                Some(k),
            ) => {
                if &hmac_check(k) != check {
                    return Err(problem(format!(
                        "keyring {}'s hmac_key is not the one this store was made with \
                         (every identifier would look new): use the store's own keyring",
                        k.origin()
                    )));
                }
                for (id, sealed) in canaries {
                    k.open(sealed, CANARY)
                        .map_err(|e| problem(format!("{e}; the store has values sealed with key {id}")))?;
                }
                if canaries.contains_key(&k.active()) {
                    return Ok(None);
                }
                let mut canaries = canaries.clone();
                canaries.insert(k.active(), canary(k));
                Ok(Some(Protection::Keyed {
                    hmac_check: check.clone(),
                    canaries,
                }))
            }
        }
    }

    /// The record after every value was re-sealed with `keyring`'s active key.
    pub(crate) fn resealed(keyring: &Keyring) -> Self {
        Protection::new(Some(keyring))
    }

    /// Ids of the encryption keys values may be sealed with.
    pub(crate) fn keys_in_use(&self) -> Vec<u32> {
        match self {
            Protection::Plaintext => Vec::new(),
            Protection::Keyed { canaries, .. } => canaries.keys().copied().collect(),
        }
    }
}

fn hmac_check(k: &Keyring) -> Vec<u8> {
    k.hash("check", CANARY).to_vec()
}

fn canary(k: &Keyring) -> Vec<u8> {
    k.seal(CANARY, CANARY)
}

/// The index key of a normalized identifier in a store made with
/// `keyring` (or a plaintext one, for None): what an erasure request may
/// carry instead of the raw value.
pub fn index_key(keyring: Option<&Arc<Keyring>>, identifier: &kindred_model::Identifier) -> String {
    KeyHasher::new(keyring.cloned()).key(identifier.kind.as_str(), &identifier.link_value())
}

/// Turns normalized identifiers, rule blocks and names into the keys and
/// digests the store holds: themselves in a plaintext store, keyed hashes
/// in a keyed one.
#[derive(Debug, Clone, Default)]
pub struct KeyHasher(Option<Arc<Keyring>>);

impl KeyHasher {
    pub(crate) fn new(keyring: Option<Arc<Keyring>>) -> Self {
        KeyHasher(keyring)
    }

    /// A plaintext hasher (unit tests of pure logic).
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        KeyHasher(None)
    }

    /// The index key of a link key `prefix:value` (`prefix` is the
    /// identifier kind, or `rule:NAME:VERSION`): the prefix stays readable,
    /// the value becomes a keyed hash.
    pub(crate) fn key(&self, prefix: &str, value: &str) -> String {
        match &self.0 {
            None => format!("{prefix}:{value}"),
            Some(k) => {
                let raw = format!("{prefix}:{value}");
                format!("{prefix}:{}", k.hash_hex("index", raw.as_bytes()))
            }
        }
    }

    /// A 64-bit digest of a value (a folded name, for the quarantine
    /// guard's name count): FNV-1a in a plaintext store, keyed otherwise,
    /// so a stored digest cannot be checked against a list of names.
    pub(crate) fn digest(&self, domain: &str, value: &str) -> u64 {
        match &self.0 {
            None => fnv1a(value.as_bytes()),
            Some(k) => {
                let h = k.hash(domain, value.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&h[..8]);
                u64::from_be_bytes(first)
            }
        }
    }

    /// The keyring, if the store is keyed.
    pub(crate) fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.0.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::parse(&Keyring::generate(), "test").expect("keyring")
    }

    #[test]
    fn a_store_opens_only_with_its_own_keyring() {
        let path = std::path::Path::new("/tmp/store");
        let k = ring();
        let record = Protection::new(Some(&k));
        assert_eq!(record.check(Some(&k), path).expect("its own keyring"), None);
        let err = record.check(None, path).unwrap_err().to_string();
        assert!(
            err.contains("/tmp/store") && err.contains("KINDRED_KEYRING"),
            "{err}"
        );
        let other = ring();
        let err = record.check(Some(&other), path).unwrap_err().to_string();
        assert!(err.contains("hmac_key is not the one"), "{err}");
        let err = Protection::Plaintext
            .check(Some(&k), path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("made without a keyring"), "{err}");
    }

    #[test]
    fn a_wrong_or_missing_encryption_key_is_named() {
        let path = std::path::Path::new("/tmp/store");
        let text = Keyring::generate();
        let k = Keyring::parse(&text, "k1").expect("a generated keyring");
        let record = Protection::new(Some(&k));
        // Same HMAC key, key 1 replaced by another: the canary does not open.
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let other = Keyring::generate();
        let other_key = other.lines().find(|l| l.starts_with("1 =")).expect("key 1");
        for l in &mut lines {
            if l.starts_with("1 =") {
                *l = other_key.to_string();
            }
        }
        let wrong = Keyring::parse(&lines.join("\n"), "wrong.toml").expect("a well-formed keyring");
        let err = record.check(Some(&wrong), path).unwrap_err().to_string();
        assert!(
            err.contains("does not open with keyring wrong.toml's key 1"),
            "{err}"
        );
        // Rotated (key 2 active) but key 1 dropped: key 1 is missing.
        let (rotated, _) = Keyring::rotate_text(&text, "k").expect("rotates");
        let without_1: String = rotated
            .lines()
            .filter(|l| !l.starts_with("1 ="))
            .collect::<Vec<_>>()
            .join("\n");
        let k2 = Keyring::parse(&without_1, "k2.toml").expect("a well-formed keyring");
        let err = record.check(Some(&k2), path).unwrap_err().to_string();
        assert!(
            err.contains("sealed with key 1, which keyring k2.toml does not hold"),
            "{err}"
        );
        // With both keys, the new active key joins the keys in use.
        let both = Keyring::parse(&rotated, "both").expect("the rotated keyring");
        let updated = record
            .check(Some(&both), path)
            .expect("both keys")
            .expect("an updated record");
        assert_eq!(updated.keys_in_use(), vec![1, 2]);
    }

    #[test]
    fn keyed_index_keys_keep_the_kind_and_hide_the_value() {
        let k = Arc::new(ring());
        let h = KeyHasher::new(Some(k));
        let key = h.key("phone", "+8613812348000");
        // Not a substring test on a short run of digits: the hex of a
        // random key contains "138" about once in a hundred runs.
        assert!(
            key.starts_with("phone:") && !key.contains("13812348000"),
            "{key}"
        );
        let hex = &key["phone:".len()..];
        assert!(
            hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{key}"
        );
        assert_eq!(key, h.key("phone", "+8613812348000"));
        assert_ne!(key, h.key("email", "+8613812348000"));
        assert_eq!(KeyHasher::plain().key("phone", "+1"), "phone:+1");
        assert_ne!(h.digest("name", "ann lee"), fnv1a(b"ann lee"));
    }
}
