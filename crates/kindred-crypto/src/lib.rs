//! Keys for personal data.
//!
//! A [`Keyring`] holds two kinds of secret:
//! - one **HMAC-SHA256 key**: keyed hashes of normalized identifiers are the
//!   resolver's index keys, the suppression list's entries and the
//!   "hashed" form of identifiers on output topics. It never rotates (every
//!   index key would change); guard it like the data.
//! - numbered **encryption keys**, one of them active: stored values holding
//!   personal data are sealed with the active key (AES-256-GCM-SIV under a
//!   key derived from it); older keys stay to open what they sealed until
//!   `kindred keys rotate` has re-sealed everything.
//!
//! Why GCM-SIV: a store seals several values per event under one key, with
//! random 96-bit nonces. Plain AES-GCM is safe for about 2^32 such
//! encryptions per key (NIST SP 800-38D), a day and a half at 35,000 seals
//! a second; a repeated nonce there leaks the authentication key.
//! AES-GCM-SIV (RFC 8452) stays safe when a random nonce repeats (it then
//! only shows whether the two plaintexts were equal). Values sealed with
//! plain AES-GCM by earlier releases still open; `kindred keys rotate`
//! re-seals them.
//!
//! The keyring is a small TOML file (`kindred keys generate` writes one):
//!
//! ```toml
//! hmac_key = "<64 hex digits>"
//! active = 2
//! [keys]
//! 1 = "<64 hex digits>"
//! 2 = "<64 hex digits>"
//! ```
//!
//! (Masking, which needs no key, is `kindred_model::mask_value`.)

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::Aes256Gcm;
use aes_gcm_siv::Aes256GcmSiv;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A sealed value: the marker [`SIV_V2`] (4 bytes), the key id (4 bytes,
/// big endian), the nonce (12 bytes), then ciphertext and tag. Values of
/// earlier releases (plain AES-GCM) start with the key id instead; the
/// marker is the one key id no keyring may use.
const SIV_V2: [u8; 4] = [0xFF; 4];
const SEAL_HEADER: usize = 4 + 4 + 12;
const LEGACY_GCM_HEADER: usize = 4 + 12;
/// The largest key id: `u32::MAX` is the marker.
const MAX_KEY_ID: u32 = u32::MAX - 1;
/// Both schemes append a 16-byte tag.
const TAG: usize = 16;

/// Everything that can be wrong with a keyring or a sealed value. Each
/// names where the keyring came from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the keyring {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the keyring {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("keyring {origin} is not valid: {problem}")]
    Invalid { origin: String, problem: String },
    #[error("a value was sealed with key {id}, which keyring {origin} does not hold (add the key back, or restore the keyring that has it)")]
    MissingKey { id: u32, origin: String },
    #[error("a value sealed with key {id} does not open with keyring {origin}'s key {id}: the key is wrong, or the value was damaged or moved")]
    WrongKey { id: u32, origin: String },
    #[error("a sealed value is too short ({0} bytes) to hold its header")]
    Truncated(usize),
}

/// The secrets that protect personal data. Cheap to share behind an `Arc`.
#[derive(Clone)]
pub struct Keyring {
    /// The HMAC state after absorbing the key (cloned per hash: saves
    /// re-keying on every call).
    mac: HmacSha256,
    /// Per key id: the cipher that seals (GCM-SIV, under a key derived
    /// from the keyring's key) and the plain GCM one that opens values of
    /// earlier releases.
    keys: BTreeMap<u32, (Aes256GcmSiv, Aes256Gcm)>,
    active: u32,
    /// Where the keyring came from, for error messages (never its content).
    origin: String,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("origin", &self.origin)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// The keyring file, as written.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyringFile {
    hmac_key: String,
    active: u32,
    keys: BTreeMap<String, String>,
}

impl Keyring {
    /// Reads a keyring file.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses keyring text; `origin` names where it came from (a file, an
    /// environment variable) in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let invalid = |problem: String| KeyError::Invalid {
            origin: origin.to_string(),
            problem,
        };
        let file: KeyringFile =
            toml::from_str(text).map_err(|e| invalid(toml_problem(text, &e)))?;
        let hmac_key = key_bytes(&file.hmac_key).map_err(|p| invalid(format!("hmac_key: {p}")))?;
        let mac = <HmacSha256 as Mac>::new_from_slice(&hmac_key)
            .map_err(|e| invalid(format!("hmac_key: {e}")))?;
        let mut keys = BTreeMap::new();
        let mut seen: Vec<[u8; 32]> = vec![hmac_key];
        for (id, hex_key) in &file.keys {
            // `01` and `1` would both be key 1, the later one silently
            // replacing the other: only the plain number names a key.
            let n: u32 = id
                .parse()
                .ok()
                .filter(|n: &u32| *n <= MAX_KEY_ID && n.to_string() == *id)
                .ok_or_else(|| {
                    invalid(format!(
                        "keys.{id}: a key's name must be a number below {}",
                        MAX_KEY_ID + 1
                    ))
                })?;
            let bytes = key_bytes(hex_key).map_err(|p| invalid(format!("keys.{id}: {p}")))?;
            // A key copied twice (or equal to the index key) is a
            // hand-edit gone wrong: the keys must be independent.
            if seen.contains(&bytes) {
                return Err(invalid(format!(
                    "keys.{id}: the same key as another of this keyring (or its hmac_key); each must be its own random key"
                )));
            }
            seen.push(bytes);
            let legacy = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|e| invalid(format!("keys.{id}: {e}")))?;
            // A key of its own for GCM-SIV: one key is never used by two
            // schemes.
            let mut derive = <HmacSha256 as Mac>::new_from_slice(&bytes)
                .map_err(|e| invalid(format!("keys.{id}: {e}")))?;
            derive.update(b"kindred seal v2: AES-256-GCM-SIV");
            let siv = Aes256GcmSiv::new_from_slice(&derive.finalize().into_bytes())
                .map_err(|e| invalid(format!("keys.{id}: {e}")))?;
            keys.insert(n, (siv, legacy));
        }
        if !keys.contains_key(&file.active) {
            return Err(invalid(format!(
                "active = {} but [keys] has no key {}",
                file.active, file.active
            )));
        }
        Ok(Keyring {
            mac,
            keys,
            active: file.active,
            origin: origin.to_string(),
        })
    }

    /// A new keyring's text: a random HMAC key and encryption key 1.
    pub fn generate() -> String {
        let file = KeyringFile {
            hmac_key: hex::encode(random_key()),
            active: 1,
            keys: BTreeMap::from([("1".to_string(), hex::encode(random_key()))]),
        };
        render(&file)
    }

    /// Adds a new random encryption key to keyring text and makes it active;
    /// returns the new text and the new key's id. Older keys stay, so values
    /// they sealed still open until they are re-sealed.
    pub fn rotate_text(text: &str, origin: &str) -> Result<(String, u32), KeyError> {
        Self::parse(text, origin)?;
        let mut file: KeyringFile = toml::from_str(text).map_err(|e| KeyError::Invalid {
            origin: origin.to_string(),
            problem: toml_problem(text, &e),
        })?;
        let next = file
            .keys
            .keys()
            .filter_map(|k| k.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .filter(|n| *n <= MAX_KEY_ID)
            .ok_or_else(|| KeyError::Invalid {
                origin: origin.to_string(),
                problem: format!("no key id above the highest one is left (at most {MAX_KEY_ID})"),
            })?;
        file.keys
            .insert(next.to_string(), hex::encode(random_key()));
        file.active = next;
        Ok((render(&file), next))
    }

    /// Where the keyring came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The id of the key new values are sealed with.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// The ids of every encryption key held.
    pub fn key_ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// HMAC-SHA256 of `domain`, a 0 byte and `value` (the domain keeps a hash
    /// made for one purpose from ever equalling one made for another).
    pub fn hash(&self, domain: &str, value: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    /// The first 16 bytes of [`Keyring::hash`], as 32 hex digits: 128 bits
    /// make a collision among billions of identifiers vanishingly unlikely.
    pub fn hash_hex(&self, domain: &str, value: &[u8]) -> String {
        hex::encode(&self.hash(domain, value)[..16])
    }

    /// Seals `plaintext` with the active key. `context` (e.g. the column
    /// family and key the value is stored under) is authenticated but not
    /// stored: a sealed value opens only in the place it was sealed for.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        // A nonce from the thread's CSPRNG (ChaCha12, reseeded from the OS
        // every 64 KiB): one system call per value sealed was 1.2% of
        // `kindred demo`. GCM-SIV stays safe even if a nonce repeats.
        let mut nonce = aes_gcm_siv::Nonce::default();
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let (cipher, _) = &self.keys[&self.active];
        // Encryption fails only for plaintexts beyond 64 GiB.
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .unwrap_or_else(|e| unreachable!("AES-GCM-SIV seals values under 64 GiB: {e}"));
        let mut out = Vec::with_capacity(SEAL_HEADER + sealed.len());
        out.extend_from_slice(&SIV_V2);
        out.extend_from_slice(&self.active.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value [`Keyring::seal`] made (or an earlier release sealed
    /// with plain AES-GCM), with the key it names.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, KeyError> {
        let id = Self::key_id(sealed)?;
        let (siv, legacy) = self.keys.get(&id).ok_or_else(|| KeyError::MissingKey {
            id,
            origin: self.origin.clone(),
        })?;
        let opened = if Self::is_current_scheme(sealed) {
            let payload = Payload {
                msg: &sealed[SEAL_HEADER..],
                aad: context,
            };
            siv.decrypt(
                aes_gcm_siv::Nonce::from_slice(&sealed[8..SEAL_HEADER]),
                payload,
            )
        } else {
            let payload = Payload {
                msg: &sealed[LEGACY_GCM_HEADER..],
                aad: context,
            };
            let nonce = aes_gcm::Nonce::from_slice(&sealed[4..LEGACY_GCM_HEADER]);
            legacy.decrypt(nonce, payload)
        };
        opened.map_err(|_| KeyError::WrongKey {
            id,
            origin: self.origin.clone(),
        })
    }

    /// The id of the key a sealed value was sealed with.
    pub fn key_id(sealed: &[u8]) -> Result<u32, KeyError> {
        let (at, header) = if Self::is_current_scheme(sealed) {
            (4, SEAL_HEADER)
        } else {
            (0, LEGACY_GCM_HEADER)
        };
        if sealed.len() < header + TAG {
            return Err(KeyError::Truncated(sealed.len()));
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&sealed[at..at + 4]);
        Ok(u32::from_be_bytes(id))
    }

    /// Whether a sealed value is of the scheme [`Keyring::seal`] writes now
    /// (else an earlier release's, which `kindred keys rotate` re-seals).
    pub fn is_current_scheme(sealed: &[u8]) -> bool {
        sealed.starts_with(&SIV_V2)
    }
}

/// Writes keyring text to `path`, readable by its owner only, atomically
/// (a temporary file renamed over the old one).
pub fn write_keyring(path: &Path, text: &str) -> Result<(), KeyError> {
    let err = |source| KeyError::Write {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        // A file left at the temporary name (a stale one, a symlink, one of
        // another owner with wider permissions) is never written through:
        // it is removed, and the new one created with owner-only access.
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(text.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)?;
    // The rename itself must survive a crash: `keys rotate` re-seals the
    // store with the new key right after.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

fn render(file: &KeyringFile) -> String {
    let body = toml::to_string(file)
        .unwrap_or_else(|e| unreachable!("a keyring of strings renders as TOML: {e}"));
    format!(
        "# kindred keyring: secret. Whoever holds it can read the resolver's store.\n\
         # hmac_key never changes; `kindred keys rotate` adds a key to [keys] and makes it active.\n{body}"
    )
}

fn random_key() -> [u8; 32] {
    Aes256Gcm::generate_key(&mut OsRng).into()
}

/// A TOML error in keyring text, by line and column: toml's own message
/// quotes the offending line, which in a keyring holds key material.
fn toml_problem(text: &str, e: &toml::de::Error) -> String {
    // serde's own message quotes a value of the wrong type (`invalid
    // type: string "<64 hex digits>", expected a map`): quoted text is
    // left out.
    let message = without_quoted(e.message().lines().next().unwrap_or("invalid TOML"));
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("not a valid keyring at line {line}, column {column}: {message}")
        }
        None => format!("not a valid keyring: {message}"),
    }
}

/// `message` with the text between each pair of double quotes replaced
/// by `…` (an unpaired quote hides the rest).
fn without_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    out.push_str(parts.next().unwrap_or_default());
    let mut inside = true;
    for part in parts {
        if inside {
            out.push_str("\"…\"");
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

fn key_bytes(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|e| format!("not hex: {e}"))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{} bytes, must be 32 (64 hex digits)", b.len()))?;
    // One byte repeated (all zeros, a placeholder): not a random key.
    if key.iter().all(|b| *b == key[0]) {
        return Err(
            "one byte repeated: not a random key (make one with `kindred keys generate`)".into(),
        );
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn ring() -> Keyring {
        Keyring::parse(&Keyring::generate(), "test").expect("generated keyring parses")
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() -> TestResult {
        let k = ring();
        let sealed = k.seal(b"+8613812348000", b"profiles\0p1");
        assert!(!sealed.windows(4).any(|w| w == b"8613"));
        assert_eq!(k.open(&sealed, b"profiles\0p1")?, b"+8613812348000");
        assert!(matches!(
            k.open(&sealed, b"profiles\0p2"),
            Err(KeyError::WrongKey { id: 1, .. })
        ));
        let other = ring();
        let err = other.open(&sealed, b"profiles\0p1").unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        assert!(matches!(
            k.open(&sealed[..10], b""),
            Err(KeyError::Truncated(10))
        ));
        Ok(())
    }

    #[test]
    fn values_are_sealed_with_gcm_siv_and_earlier_plain_gcm_values_still_open() -> TestResult {
        let k = ring();
        let sealed = k.seal(b"l***@qq.com", b"profiles\0p1");
        assert_eq!(sealed[..4], SIV_V2);
        assert!(Keyring::is_current_scheme(&sealed));
        assert_eq!(Keyring::key_id(&sealed)?, 1);
        // Equal plaintexts seal differently (random nonces).
        assert_ne!(sealed, k.seal(b"l***@qq.com", b"profiles\0p1"));
        let nonces: std::collections::BTreeSet<Vec<u8>> = (0..10_000)
            .map(|_| k.seal(b"x", b"c")[8..SEAL_HEADER].to_vec())
            .collect();
        assert_eq!(nonces.len(), 10_000, "a fresh nonce per value sealed");
        // Tampering with the scheme byte, key id, nonce or body fails.
        for at in [0, 4, 8, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(k.open(&bad, b"profiles\0p1").is_err(), "byte {at}");
        }

        // What an earlier release wrote: key id, nonce, AES-256-GCM under
        // the keyring's key itself.
        let text = Keyring::generate();
        let file: KeyringFile = toml::from_str(&text)?;
        let key = key_bytes(&file.keys["1"])?;
        let nonce = [7u8; 12];
        let body = Aes256Gcm::new_from_slice(&key)
            .expect("a 32-byte key")
            .encrypt(
                aes_gcm::Nonce::from_slice(&nonce),
                Payload {
                    msg: b"+8613812348000",
                    aad: b"contributions\0e1",
                },
            )
            .expect("GCM encrypts");
        let mut legacy = 1u32.to_be_bytes().to_vec();
        legacy.extend_from_slice(&nonce);
        legacy.extend_from_slice(&body);
        let k = Keyring::parse(&text, "test")?;
        assert!(!Keyring::is_current_scheme(&legacy));
        assert_eq!(Keyring::key_id(&legacy)?, 1);
        assert_eq!(k.open(&legacy, b"contributions\0e1")?, b"+8613812348000");
        assert!(k.open(&legacy, b"contributions\0e2").is_err());
        // The GCM-SIV key is not the GCM one: a value sealed now does not
        // open as plain GCM under the keyring's key.
        let now = k.seal(b"x", b"c");
        let as_gcm = Aes256Gcm::new_from_slice(&key)
            .expect("a 32-byte key")
            .decrypt(
                aes_gcm::Nonce::from_slice(&now[8..SEAL_HEADER]),
                Payload {
                    msg: &now[SEAL_HEADER..],
                    aad: b"c",
                },
            );
        assert!(as_gcm.is_err());
        // Any key id an earlier release accepted still works, a date-like
        // one included; only the marker's is refused.
        let dated = text
            .replace("[keys]\n1 =", "[keys]\n20240101 =")
            .replace("active = 1", "active = 20240101");
        let k = Keyring::parse(&dated, "dated")?;
        let mut legacy = 20240101u32.to_be_bytes().to_vec();
        legacy.extend_from_slice(&nonce);
        legacy.extend_from_slice(&body);
        assert_eq!(Keyring::key_id(&legacy)?, 20240101);
        assert_eq!(k.open(&legacy, b"contributions\0e1")?, b"+8613812348000");
        let sealed = k.seal(b"x", b"c");
        assert_eq!(Keyring::key_id(&sealed)?, 20240101);
        assert_eq!(k.open(&sealed, b"c")?, b"x");
        let marker = dated.replace("20240101", "4294967295");
        let err = Keyring::parse(&marker, "f").unwrap_err().to_string();
        assert!(err.contains("below 4294967295"), "{err}");
        let last = dated.replace("20240101", "4294967294");
        let err = Keyring::rotate_text(&last, "f").unwrap_err().to_string();
        assert!(err.contains("no key id"), "{err}");
        Ok(())
    }

    #[test]
    fn rotation_adds_an_active_key_and_old_values_still_open() -> TestResult {
        let text = Keyring::generate();
        let old = Keyring::parse(&text, "old")?;
        let sealed = old.seal(b"anna@example.com", b"c");
        let (rotated, id) = Keyring::rotate_text(&text, "old")?;
        assert_eq!(id, 2);
        let new = Keyring::parse(&rotated, "new")?;
        assert_eq!(new.active(), 2);
        assert_eq!(new.key_ids(), vec![1, 2]);
        assert_eq!(new.open(&sealed, b"c")?, b"anna@example.com");
        assert_eq!(Keyring::key_id(&new.seal(b"x", b"c"))?, 2);
        // The HMAC key is kept: index keys stay valid across rotations.
        assert_eq!(old.hash("idx", b"a"), new.hash("idx", b"a"));
        // A keyring without key 1 cannot open what key 1 sealed.
        let only2 = rotated
            .lines()
            .filter(|l| !l.starts_with("1 ="))
            .collect::<Vec<_>>()
            .join("\n");
        let err = Keyring::parse(&only2, "k.toml")?
            .open(&sealed, b"c")
            .unwrap_err();
        assert!(matches!(err, KeyError::MissingKey { id: 1, .. }), "{err}");
        Ok(())
    }

    #[test]
    fn hashes_are_keyed_and_separated_by_domain() {
        let a = ring();
        let b = ring();
        assert_eq!(a.hash("idx", b"phone:+1"), a.hash("idx", b"phone:+1"));
        assert_ne!(a.hash("idx", b"phone:+1"), b.hash("idx", b"phone:+1"));
        assert_ne!(a.hash("idx", b"phone:+1"), a.hash("out", b"phone:+1"));
        assert_eq!(a.hash_hex("idx", b"x").len(), 32);
    }

    #[test]
    fn bad_keyrings_say_what_is_wrong_and_where() {
        let err = Keyring::parse("hmac_key = \"ab\"\nactive = 1\n[keys]\n", "/etc/k.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/etc/k.toml") && err.contains("hmac_key: 1 bytes"),
            "{err}"
        );
        let good = Keyring::generate().replace("active = 1", "active = 7");
        let err = Keyring::parse(&good, "env KINDRED_KEYRING")
            .unwrap_err()
            .to_string();
        assert!(err.contains("active = 7 but [keys] has no key 7"), "{err}");
        // A keyring whose newlines were lost (a secret pasted into one
        // line) or with an unclosed quote: the error says where, never
        // what the line holds.
        let text = Keyring::generate();
        let key = text
            .lines()
            .find_map(|l| l.strip_prefix("hmac_key = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("a generated keyring has an hmac_key line")
            .to_string();
        for broken in [
            text.replace('\n', " "),
            text.replacen(&format!("{key}\""), &key, 1),
        ] {
            let err = Keyring::parse(&broken, "env KINDRED_KEYRING")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("env KINDRED_KEYRING") && err.contains("at line "),
                "{err}"
            );
            assert!(!err.contains(&key[..16]), "{err}");
        }
        // A value of the wrong type: serde quotes it in its message.
        let b = "33".repeat(16) + &"44".repeat(16);
        let err = Keyring::parse(
            &format!("hmac_key = \"{key}\"\nactive = 1\nkeys = \"{b}\"\n"),
            "/etc/k.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("/etc/k.toml") && err.contains("line 3"),
            "{err}"
        );
        assert!(
            !err.contains(&b[..16]) && !err.contains(&key[..16]),
            "{err}"
        );
        let debug = format!("{:?}", ring());
        assert!(
            !debug.contains("hmac_key") && debug.contains("origin"),
            "{debug}"
        );
    }

    #[test]
    fn keyring_files_are_private() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keyring.toml");
        write_keyring(&path, &Keyring::generate())?;
        Keyring::from_file(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode();
            assert_eq!(mode & 0o077, 0, "keyring readable by others: {mode:o}");
        }
        Ok(())
    }

    /// Keys that are no keys are refused: one byte repeated, a key copied
    /// under two names or equal to the index key, a name that is not the
    /// plain number (`01` would silently replace `1`).
    #[test]
    fn degenerate_keyrings_are_refused() {
        let a = "11".repeat(16) + &"22".repeat(16);
        let b = "33".repeat(16) + &"44".repeat(16);
        let c = "55".repeat(16) + &"66".repeat(16);
        let ring = |hmac: &str, keys: &[(&str, &str)]| {
            let mut text = format!("hmac_key = \"{hmac}\"\nactive = 1\n[keys]\n");
            for (id, k) in keys {
                text.push_str(&format!("\"{id}\" = \"{k}\"\n"));
            }
            Keyring::parse(&text, "test")
        };
        assert!(ring(&a, &[("1", &b), ("2", &c)]).is_ok());
        let zeros = "00".repeat(32);
        for (hmac, keys, why) in [
            (a.as_str(), vec![("1", zeros.as_str())], "repeated"),
            (zeros.as_str(), vec![("1", b.as_str())], "repeated"),
            (
                a.as_str(),
                vec![("1", b.as_str()), ("2", b.as_str())],
                "same key",
            ),
            (a.as_str(), vec![("1", a.as_str())], "same key"),
            (
                a.as_str(),
                vec![("1", b.as_str()), ("01", c.as_str())],
                "plain number",
            ),
        ] {
            let err = ring(hmac, &keys).expect_err(why).to_string();
            assert!(
                err.contains(why) || err.contains("number below"),
                "{why}: {err}"
            );
        }
    }

    /// A file left at the temporary name is not written through: a
    /// symlink to elsewhere, or a world-readable file.
    #[cfg(unix)]
    #[test]
    fn a_stale_temporary_file_is_not_written_through() -> TestResult {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keyring.toml");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "")?;
        std::os::unix::fs::symlink(&elsewhere, path.with_extension("tmp"))?;
        write_keyring(&path, &Keyring::generate())?;
        assert_eq!(std::fs::read_to_string(&elsewhere)?, "");
        Keyring::from_file(&path)?;

        let open = path.with_extension("tmp");
        std::fs::write(&open, "")?;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644))?;
        write_keyring(&path, &Keyring::generate())?;
        let mode = std::fs::metadata(&path)?.permissions().mode();
        assert_eq!(mode & 0o077, 0, "keyring readable by others: {mode:o}");
        Ok(())
    }
}
