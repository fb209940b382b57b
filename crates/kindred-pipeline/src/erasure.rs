//! Erasure requests on the wire: the JSON a privacy portal or `kindred
//! forget` writes to the erasure-request topic, read by the resolver in
//! order with the events.
//!
//! ```json
//! {"request_id": "DSR-1042", "requested_by": "privacy-portal", "email": "Ann@Example.com"}
//! ```
//!
//! Exactly one of `email`, `phone`, `member_id` (raw values, normalized as in
//! events), `profile` (a profile id, `kp-` and digits) or `identifier_key`
//! (the store's keyed index key, `kind:hash`, which `kindred forget` sends
//! so that no raw value sits on the topic; a raw `kind:value` there is
//! normalized as in events and hashed by the resolver, never kept as sent;
//! a key of no identifier kind, `mobile:...` or a bare number, is refused
//! as `erasure_invalid_identifier`, since it would name no one) names the
//! person. `request_id` is the caller's
//! reference and must not hold personal data.

use crate::admin::now_ms;
use crate::live::{is_profile_id, MAX_FREE_TEXT_BYTES};
use kindred_config::Config;
use kindred_model::IdentifierKind;
use kindred_normalize::NormalizeOptions;
use kindred_resolver::{ErasureRequest, ErasureTarget};
use serde::{Deserialize, Serialize};

/// The request as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    pub request_id: String,
    #[serde(default)]
    pub requested_by: String,
    /// When asked, ms since the epoch (the record's timestamp if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_key: Option<String>,
}

impl WireRequest {
    /// The caller's free text (request id, requester) is at most
    /// 256 bytes (`MAX_FREE_TEXT_BYTES`) each: the audit record quotes it and must
    /// fit one Kafka record.
    pub fn check_lengths(&self) -> Result<(), RequestError> {
        let free_text = [&self.request_id, &self.requested_by];
        if free_text.iter().any(|t| t.len() > MAX_FREE_TEXT_BYTES) {
            return Err(RequestError::TooLong);
        }
        Ok(())
    }
}

/// Why a request could not be applied (it goes to the dead-letter topic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("erasure request is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("erasure request {0:?} names {1} targets; it must name exactly one of email, phone, member_id, profile, identifier_key")]
    Targets(String, usize),
    /// (Who asked is not quoted: a self-service form may put the person's
    /// own email there.)
    #[error("erasure request has no request_id")]
    NoId,
    /// (Not quoted either: it may be anything.)
    #[error("erasure request's request_id or requested_by is longer than 256 bytes")]
    TooLong,
    #[error("erasure request {request_id:?}: the {kind} is not a valid identifier ({reason})")]
    Invalid {
        request_id: String,
        kind: &'static str,
        reason: &'static str,
    },
}

impl RequestError {
    /// The dead-letter reason.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Json(_) => "erasure_malformed",
            RequestError::Targets(..) | RequestError::NoId => "erasure_incomplete",
            RequestError::TooLong => "erasure_malformed",
            RequestError::Invalid { .. } => "erasure_invalid_identifier",
        }
    }
}

/// What a request that could not be applied leaves on the dead-letter
/// topic instead of its bytes: the same JSON with every value masked
/// except the request id, a profile id and the time asked. Its bytes would
/// keep the raw identifier of someone asking to be forgotten for the
/// topic's retention, and a refused request is often one with a misspelled
/// field (`emial`), so no field is trusted by its name; the names stay, so
/// the reason still reads against them. A replay of it fails again for the
/// same reason anyway. Not a JSON object: nothing.
pub fn masked_payload(payload: &[u8]) -> Vec<u8> {
    use serde_json::Value;
    let Ok(Value::Object(given)) = serde_json::from_slice(payload) else {
        return Vec::new();
    };
    // A name may be data itself (a form body serialized badly:
    // `"email=ann.lee@mail.cn": ""`): one that does not look like a field
    // name (a word of letters, digits and `_-.`, with no run of digits a
    // phone would have) is masked by its looks, as a value is; a
    // misspelled field (`emial`) stays, to read the reason against.
    let a_field_name = kindred_schema::looks_like_a_field_name;
    let mut fields = serde_json::Map::new();
    for (field, value) in given {
        let field = if a_field_name(&field) {
            field
        } else {
            mask_free_text(&field)
        };
        fields.insert(field, value);
    }
    for (field, value) in fields.iter_mut() {
        if let (true, Some(id)) = (field == "request_id", value.as_str()) {
            *value = Value::String(masked_request_id(id));
            continue;
        }
        let keep = match field.as_str() {
            "requested_at_ms" => value.is_i64(),
            "profile" => value.as_str().is_some_and(is_profile_id),
            _ => false,
        };
        if keep {
            continue;
        }
        let masked = match value.as_str() {
            Some(text) if field == "requested_by" => masked_requester(text),
            Some(text) => mask_free_text(text),
            None => "****".to_string(),
        };
        *value = Value::String(masked);
    }
    Value::Object(fields).to_string().into_bytes()
}

/// A value of unknown meaning masked by its looks: an e-mail as one, a
/// run of digits as a phone, anything else to its ends.
fn mask_free_text(text: &str) -> String {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    // The e-mail mask keeps the domain, and the phone mask the ends: each
    // only for a text that is nothing else (`Ann <ann@x.cn>, 139...` is
    // masked to its ends like any free text).
    let one_address = text.matches('@').count() == 1 && !text.contains(char::is_whitespace);
    let one_number = digits >= 6
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let kind = if one_address {
        IdentifierKind::Email
    } else if one_number {
        IdentifierKind::Phone
    } else {
        IdentifierKind::Device
    };
    kindred_model::mask_value(kind, text)
}

/// Who asked, as the audit record and a dead letter keep it: a portal's or
/// an operator's name as given; an e-mail or a phone number (a
/// self-service form may put the person's own there) masked.
pub fn masked_requester(requested_by: &str) -> String {
    let looks_personal = requested_by.contains('@')
        || requested_by.chars().filter(char::is_ascii_digit).count() >= 6;
    if looks_personal {
        mask_free_text(requested_by)
    } else {
        requested_by.to_string()
    }
}

/// Whether a request id looks like personal data: an e-mail address, a
/// phone number (seven digits or more and nothing but phone punctuation),
/// or a member card or account number among other text (a run of
/// [`CARD_LIKE_DIGITS`] digits or more: `MAIN:8800001177`).
/// `DSR-1042` and `REQ-20261205-000123` (a date's eight digits) do not.
fn request_id_looks_personal(id: &str) -> bool {
    let digits = id.chars().filter(char::is_ascii_digit).count();
    let longest_run = id
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    id.contains('@')
        || longest_run >= CARD_LIKE_DIGITS
        || (digits >= 7
            && id
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c)))
}

/// Digits in a row that make a request id look like a card or account
/// number: more than a date's eight (`20261205`).
const CARD_LIKE_DIGITS: usize = 9;

/// A request id as kindred keeps it (audit record and topic, dead
/// letters): as sent, or masked when it looks personal
/// ([`request_id_looks_personal`]). Masking is a function of the id, so a
/// rebuild that reads the request again matches it to its audit record.
pub fn masked_request_id(id: &str) -> String {
    if request_id_looks_personal(id) {
        mask_free_text(id)
    } else {
        id.to_string()
    }
}

/// Parses a request payload; `record_ms` is the record's timestamp.
pub fn parse_request(
    payload: &[u8],
    opts: &NormalizeOptions,
    record_ms: i64,
) -> Result<ErasureRequest, RequestError> {
    let wire: WireRequest = serde_json::from_slice(payload).map_err(|e| {
        // A wrong type quotes the value (an identifier to erase) into
        // the message, which goes to the dead-letter header.
        RequestError::Json(kindred_schema::without_values(&e.to_string()))
    })?;
    let mut wire = wire;
    if wire.request_id.trim().is_empty() {
        return Err(RequestError::NoId);
    }
    wire.check_lengths()?;
    // Kept for years in the audit: a portal's id holding the person's
    // e-mail or phone is kept masked, everywhere from here on.
    wire.request_id = masked_request_id(&wire.request_id);
    let named = [
        wire.email.is_some(),
        wire.phone.is_some(),
        wire.member_id.is_some(),
        wire.profile.is_some(),
        wire.identifier_key.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count();
    if named != 1 {
        return Err(RequestError::Targets(wire.request_id, named));
    }
    let identifier = |kind: IdentifierKind, value: &str| {
        // A national number would be read in the default region, where it
        // may be another person's line: an erasure names one person.
        if kind == IdentifierKind::Phone && !kindred_normalize::typed_internationally(value) {
            return Err(RequestError::Invalid {
                request_id: wire.request_id.clone(),
                kind: kind.as_str(),
                reason: "not in international form (+ and the country code): a national number could name another person",
            });
        }
        kindred_normalize::normalize_identifier(kind, value, opts)
            .map(ErasureTarget::Identifier)
            .map_err(|r| RequestError::Invalid {
                request_id: wire.request_id.clone(),
                kind: kind.as_str(),
                reason: r.as_str(),
            })
    };
    let target = if let Some(v) = &wire.email {
        identifier(IdentifierKind::Email, v)?
    } else if let Some(v) = &wire.phone {
        identifier(IdentifierKind::Phone, v)?
    } else if let Some(v) = &wire.member_id {
        identifier(IdentifierKind::MemberId, v)?
    } else if let Some(v) = &wire.profile {
        // A profile id is `kp-` and digits; anything else (a phone sent
        // as a profile) is refused without echoing it, as it would be
        // logged and audited as the subject.
        let id = v.trim();
        if !is_profile_id(id) {
            return Err(RequestError::Invalid {
                request_id: wire.request_id.clone(),
                kind: "profile",
                reason: "not a profile id (kp- and digits)",
            });
        }
        ErasureTarget::Profile(id.to_string())
    } else {
        let key = wire.identifier_key.clone().unwrap_or_default();
        // Only `kind:digest` or `kind:value` of a kind kindred keys: any
        // other key (a bare `+8613...`, a portal's `mobile:` or `tel:`)
        // is in no index, so it would erase no one and be audited as
        // `not_found`, which reads as done. Refused instead, without
        // quoting the key.
        let invalid = |reason: &'static str| RequestError::Invalid {
            request_id: wire.request_id.clone(),
            kind: "identifier_key",
            reason,
        };
        let (kind, rest) = key.split_once(':').ok_or_else(|| {
            invalid("not kind:value or kind:digest; the kind one of member_id, phone, email, social, account, device")
        })?;
        // Kinds in any case (`Email:`, `PHONE:`): a portal's spelling.
        let kind = kind
            .trim()
            .to_ascii_lowercase()
            .parse::<IdentifierKind>()
            .map_err(|_| {
                invalid("its kind is none of member_id, phone, email, social, account, device")
            })?;
        if rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            // An index key as `kindred forget` sends it: kind and a keyed
            // hash (32 hex digits; no raw phone, e-mail or card looks so),
            // as the store writes it (lower case).
            ErasureTarget::IndexKey(format!("{}:{}", kind.as_str(), rest.to_ascii_lowercase()))
        } else {
            // A raw `kind:value` a portal sent as the key: normalized as
            // the same value in an event is, or it would name nobody.
            identifier(kind, rest)?
        }
    };
    // A request time ahead of the record's by more than events may be
    // (a portal sending microseconds: 54,000 years on) would start the
    // suppression windows then: the identifiers suppressed for ever, a
    // recycled number's next owner's events all dropped. Read as the
    // record's time instead (the erasure itself must not be lost).
    let ahead = i64::try_from(opts.max_future_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let at_ms = match wire.requested_at_ms {
        Some(at) if at > record_ms.saturating_add(ahead) => {
            tracing::warn!(
                request_id = %wire.request_id,
                requested_at_ms = at,
                record_ms,
                "an erasure request's requested_at_ms is ahead of its record's time (microseconds?): read as the record's time"
            );
            record_ms
        }
        Some(at) => at,
        None => record_ms,
    };
    Ok(ErasureRequest {
        request_id: wire.request_id,
        target,
        requested_by: masked_requester(&wire.requested_by),
        at_ms,
    })
}

/// What `kindred rebuild` carried over from the erasure audit topic.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CarriedErasures {
    /// Audit records that listed their suppression entries.
    pub listed: u64,
    /// Entries put on the new store's suppression list.
    pub digests: u64,
    /// Records that listed only part of their entries (a person with more
    /// erased events than one record lists).
    pub partial: u64,
    /// The requests (request id, subject) whose audit records list what
    /// they suppressed: a rebuild does not apply them again.
    pub covered: std::collections::BTreeSet<(String, String)>,
    /// The profile ids the audit records say were erased: taken for good,
    /// though their tombstones may be gone from the compacted profile
    /// topic ([`kindred_resolver::Published::record_erased`]).
    pub erased_profiles: std::collections::BTreeSet<String>,
}

impl CarriedErasures {
    /// Whether the audit records cover the request `request`.
    pub fn covers(&self, store: &kindred_resolver::Store, request: &ErasureRequest) -> bool {
        self.covered.contains(&(
            request.request_id.clone(),
            store.erasure_subject(&request.target),
        ))
    }
}

/// Puts the suppression entries the audit records `payloads` (the audit
/// topic's JSON values) list on `store`'s suppression list.
///
/// A record covers its request when it lists what the erasure suppressed;
/// one that erased someone and lists nothing (an older release, or
/// suppression turned off) does not.
pub fn carry_over<'p>(
    store: &kindred_resolver::Store,
    payloads: impl Iterator<Item = &'p [u8]>,
) -> Result<CarriedErasures, crate::PipelineError> {
    #[derive(Deserialize)]
    struct Listed {
        #[serde(default)]
        seq: u64,
        request_id: String,
        subject: String,
        outcome: String,
        requested_at_ms: i64,
        /// When the entries' windows start (this release's records): the
        /// later of the request's time and the person's last event.
        #[serde(default)]
        suppressed_from_ms: Option<i64>,
        suppressed: Option<Vec<String>>,
        #[serde(default)]
        suppressed_total: u64,
        #[serde(default)]
        profiles: Vec<String>,
    }
    let mut carried = CarriedErasures::default();
    let mut highest_seq = 0u64;
    for (n, payload) in payloads.enumerate() {
        let record: Listed = serde_json::from_slice(payload).map_err(|e| {
            crate::PipelineError::Input(format!(
                "erasure audit record {n} (0-based, in topic order) is not an audit record: {e}"
            ))
        })?;
        highest_seq = highest_seq.max(record.seq);
        if record.outcome == "erased" {
            carried
                .erased_profiles
                .extend(record.profiles.iter().cloned());
        }
        let Some(list) = record.suppressed else {
            continue;
        };
        carried.listed += 1;
        if (list.len() as u64) < record.suppressed_total {
            carried.partial += 1;
        }
        let at = (record.requested_at_ms >= kindred_resolver::MIN_REQUEST_TIME_MS)
            .then(|| record.suppressed_from_ms.unwrap_or(record.requested_at_ms));
        carried.digests += store.suppress_digests(list.iter().map(String::as_str), at)?;
        if record.outcome != "erased" || record.suppressed_total > 0 {
            carried.covered.insert((record.request_id, record.subject));
        }
    }
    // The store's next audit records are numbered after the topic's: the
    // records are keyed by their number there.
    store.number_audits_after(highest_seq)?;
    Ok(carried)
}

/// The request id `kindred forget` sends when it is given none: the time
/// in UTC, `forget-20261207T083618.123Z`, whose runs of digits are shorter
/// than a card number's (an id that looks personal is refused, and masked
/// where it is kept).
pub fn default_request_id(now_ms: i64) -> String {
    let time = chrono::DateTime::from_timestamp_millis(now_ms).map_or_else(
        || "unknown".to_string(),
        |t| t.format("%Y%m%dT%H%M%S%.3fZ").to_string(),
    );
    format!("forget-{time}")
}

/// The request `kindred forget` sends for a `kind:value` or profile id
/// typed by an operator: identifiers travel as the store's keyed index key
/// when a keyring is configured, so the topic never holds the raw value.
pub fn forget_request(
    config: &Config,
    request_id: &str,
    requested_by: &str,
    target: &str,
) -> Result<WireRequest, crate::PipelineError> {
    let mut wire = WireRequest {
        request_id: request_id.to_string(),
        requested_by: requested_by.to_string(),
        requested_at_ms: Some(now_ms()),
        ..WireRequest::default()
    };
    // Refused here rather than by the resolver, whose refusal this command
    // would only see as a reply that never comes.
    wire.check_lengths()
        .map_err(|e| crate::PipelineError::Config(e.to_string()))?;
    // The resolver keeps such an id masked, so its audit record would
    // never answer to it; and it is personal data where none belongs.
    if request_id_looks_personal(request_id) {
        return Err(crate::PipelineError::Config(
            "--request-id looks like an e-mail address, a phone number or a card or account number (nine digits or more in a row): use a ticket number, no personal data"
                .to_string(),
        ));
    }
    let id = target.trim();
    if id.starts_with("kp-") {
        // The resolver refuses any other `kp-` text (a letter O for a
        // zero) with no audit record, and this command would wait for a
        // reply that never comes and say it will be applied.
        if !is_profile_id(id) {
            return Err(crate::PipelineError::Config(format!(
                "{target:?} is not a profile id: kp- and digits only, as `kindred explain` and the profile topic's keys print them"
            )));
        }
        wire.profile = Some(id.to_string());
        return Ok(wire);
    }
    if let Some(number) = target.strip_prefix("phone:") {
        if !kindred_normalize::typed_internationally(number) {
            return Err(crate::PipelineError::Config(
                "phone: write the number in international form (+44 20 7031 3000): a national number is read in the default region and may name another person's line"
                    .to_string(),
            ));
        }
    }
    let identifier = crate::admin::parse_identifier(config, target)?;
    match crate::privacy::keyring(config)? {
        Some(keyring) => {
            wire.identifier_key = Some(kindred_resolver::index_key(Some(&keyring), &identifier));
        }
        None => match identifier.kind {
            IdentifierKind::Email => wire.email = Some(identifier.value),
            IdentifierKind::Phone => wire.phone = Some(identifier.value),
            IdentifierKind::MemberId => wire.member_id = Some(identifier.value),
            other => {
                return Err(crate::PipelineError::Config(format!(
                    "erasing by {other} needs the keyring (privacy.keyring_file): the request carries its keyed hash"
                )))
            }
        },
    }
    Ok(wire)
}

/// `kindred forget`: sends the request for `target` (`kind:value` or a
/// profile id) to the erasure-request topic and, unless `wait` is zero,
/// waits for the resolver's audit record. Returns a summary (or the audit
/// record as JSON).
pub async fn forget(
    config: &Config,
    target: &str,
    request_id: &str,
    requested_by: &str,
    wait: std::time::Duration,
    as_json: bool,
) -> Result<String, crate::PipelineError> {
    let wire = forget_request(config, request_id, requested_by, target)?;
    let payload = serde_json::to_vec(&wire)
        .map_err(|e| crate::PipelineError::Input(format!("erasure request: {e}")))?;
    let sent = format!(
        "erasure request {request_id} sent to {}",
        config.topics.erasure_requests
    );
    let audit = crate::live::send_and_await(
        config,
        &config.topics.erasure_requests,
        request_id,
        payload,
        &config.topics.erasure_audit,
        wait,
    )
    .await?;
    let Some(audit) = audit else {
        // `--wait-secs 0`: sent, no reply waited for.
        return Ok(if as_json {
            serde_json::json!({
                "request_id": request_id,
                "topic": config.topics.erasure_requests,
                "outcome": "sent",
            })
            .to_string()
        } else {
            sent
        });
    };
    let field = |k: &str| audit.get(k).cloned().unwrap_or_default();
    let report = if as_json {
        audit.to_string()
    } else {
        format!(
            "{sent}\noutcome: {}\nsubject: {}\nprofiles erased: {}\nevents erased: {}\nidentifiers suppressed: {}",
            field("outcome").as_str().unwrap_or("?"),
            field("subject").as_str().unwrap_or("?"),
            field("profiles"),
            field("events_erased"),
            field("identifiers_suppressed"),
        )
    };
    // A shared identifier erased no one while the person's data stays: an
    // error for the exit status (a script must not take it for done).
    // Nobody holding it (`not_found`) is done: there is nothing to erase,
    // and the identifier is suppressed.
    if field("outcome").as_str() == Some(kindred_resolver::ErasureOutcome::Ambiguous.as_str()) {
        return Err(crate::PipelineError::NotErased(report));
    }
    Ok(report)
}

/// `kindred keys rotate`: adds a new encryption key to the keyring file and
/// makes it active, then re-seals the store with it (resolver stopped).
pub fn rotate_keys(config: &Config) -> Result<String, crate::PipelineError> {
    let Some(path) = config.privacy.keyring_file.clone() else {
        return Err(crate::PipelineError::Config(
            "keys rotate rewrites the keyring file: set privacy.keyring_file (a keyring from the environment cannot be rotated in place)".into(),
        ));
    };
    // The store would open with the environment's keyring (it wins over
    // the file), still active on the old key: nothing would be re-sealed,
    // and removing the old key afterwards would lock the store.
    if std::env::var(crate::privacy::KEYRING_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        return Err(crate::PipelineError::Config(format!(
            "{} is set and would be used instead of {}: unset it to rotate the file, \
             or rotate the keyring where that variable comes from",
            crate::privacy::KEYRING_ENV,
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        crate::PipelineError::Config(format!("cannot read the keyring {}: {e}", path.display()))
    })?;
    let origin = path.display().to_string();
    let (rotated, id) = kindred_crypto::Keyring::rotate_text(&text, &origin)?;
    // The store first, with the keyring as it is: a mistyped data
    // directory (an empty store would be made and "re-sealed"), a running
    // resolver (its lock), a plaintext store or another store's keyring
    // stop the rotation before the keyring file changes.
    let data_dir = &config.resolver.data_dir;
    if !data_dir.join("CURRENT").is_file() {
        return Err(crate::PipelineError::Config(format!(
            "no resolver store at {} (resolver.data_dir): nothing to re-seal, the keyring is left as it is",
            data_dir.display()
        )));
    }
    drop(crate::privacy::open_store(config)?);
    // The new key is written before re-sealing: if re-sealing stops half
    // way, the keyring still opens every value.
    kindred_crypto::write_keyring(&path, &rotated)?;
    let store = crate::privacy::open_store(config)?;
    let resealed = store.reseal()?;
    Ok(format!(
        "key {id} added to {origin} and active; {resealed} stored values re-sealed with it; the store now needs only key {id} (keep older keys while snapshots sealed with them exist). \
         Replace every other copy of the keyring (the copy kept apart from backups, a Kubernetes Secret) with {origin} now: without key {id} the store cannot be read"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids an erasure took stay taken after a restore or rebuild, though
    /// the compacted profile topic may have dropped their tombstones: the
    /// audit records name them.
    #[test]
    fn the_audit_records_name_the_erased_profile_ids() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = kindred_resolver::Store::open(dir.path()).expect("store");
        let record = |outcome: &str, profiles: &[&str]| {
            serde_json::json!({
                "seq": 1, "request_id": "DSR-1", "subject": "email:x", "requested_by": "dpo",
                "requested_at_ms": 1_700_000_000_000_i64, "outcome": outcome,
                "profiles": profiles, "events_erased": 1, "identifiers_suppressed": 0,
                "suppressed": [], "suppressed_total": 0,
            })
            .to_string()
            .into_bytes()
        };
        let records = [
            record("erased", &["kp-000000000003", "kp-000000000007"]),
            record("not_found", &["kp-000000000009"]),
        ];
        let carried = carry_over(&store, records.iter().map(Vec::as_slice)).expect("carried");
        assert_eq!(
            carried.erased_profiles.into_iter().collect::<Vec<_>>(),
            ["kp-000000000003", "kp-000000000007"]
        );
    }

    /// The windows of an erasure's suppression entries run from the later of
    /// the request's date and the person's last event, and a rebuild that
    /// carries the entries over from the audit topic keeps that start: a
    /// request dated long before (a portal's resend) does not let the
    /// person's own next events back in on either store.
    #[test]
    fn a_rebuild_keeps_where_the_suppression_windows_start() {
        use kindred_model::{CanonicalEvent, Channel, Identifier};
        use kindred_resolver::{ErasureRequest, OutboxEntry, Resolver};
        const DAY: i64 = 86_400_000;
        let phone = Identifier::new(IdentifierKind::Phone, "+8613924681357");
        let on_phone =
            |id: &str, t: i64| CanonicalEvent::new(id, Channel::Web, t, vec![phone.clone()]);
        let asked = 1_700_000_000_000;
        let last = asked + 1000 * DAY;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut old =
            Resolver::new(kindred_resolver::Store::open(dir.path().join("old")).expect("store"));
        old.apply(&[on_phone("z1", last)], &[]).expect("applied");
        old.erase(
            &ErasureRequest {
                request_id: "DSR-1".into(),
                target: ErasureTarget::Identifier(phone.clone()),
                requested_by: "portal".into(),
                at_ms: asked,
            },
            &[],
        )
        .expect("erased");
        let Some((
            _,
            OutboxEntry::AuditWindowed {
                listed,
                suppressed_from_ms,
            },
        )) = old.store().outbox().expect("outbox").last().cloned()
        else {
            panic!("the audit record comes last");
        };
        let record = crate::services::publish::listed_audit(
            &Config::default(),
            &listed,
            suppressed_from_ms,
            1 << 20,
        )
        .expect("a record");
        let new = kindred_resolver::Store::open(dir.path().join("new")).expect("store");
        let carried =
            carry_over(&new, std::iter::once(record.payload.as_slice())).expect("carried");
        assert_eq!(carried.digests, 2, "the phone and the event");
        let mut new = Resolver::new(new);
        for r in [&mut old, &mut new] {
            // 800 days after the request, 700 after the last event: hers.
            let within = r
                .apply(&[on_phone("n1", last + 700 * DAY)], &[])
                .expect("ok");
            assert_eq!(within.suppressed, 1);
            let after = r
                .apply(&[on_phone("n2", last + 731 * DAY)], &[])
                .expect("ok");
            assert_eq!((after.suppressed, after.created), (0, 1));
        }
        // The new store's audit records are numbered after the carried
        // one's: the topic keys them by their number.
        let erased = new
            .erase(
                &ErasureRequest {
                    request_id: "DSR-2".into(),
                    target: ErasureTarget::Identifier(phone.clone()),
                    requested_by: "portal".into(),
                    at_ms: last + 800 * DAY,
                },
                &[],
            )
            .expect("erased");
        assert_eq!(erased.audit.seq, 2, "after the carried record's 1");
    }

    /// `keys rotate` checks the store before it rewrites the keyring: a
    /// mistyped data directory changes nothing and makes no empty store;
    /// a real one is re-sealed, and the operator is told to replace the
    /// keyring's other copies.
    #[test]
    fn keys_rotate_leaves_the_keyring_alone_when_there_is_no_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keyring = dir.path().join("keyring.toml");
        kindred_crypto::write_keyring(&keyring, &kindred_crypto::Keyring::generate())
            .expect("written");
        let before = std::fs::read_to_string(&keyring).expect("read");
        let mut config = Config::default();
        config.privacy.keyring_file = Some(keyring.clone());
        config.resolver.data_dir = dir.path().join("mistyped");
        let err = rotate_keys(&config).expect_err("no store").to_string();
        assert!(
            err.contains("no resolver store") && err.contains("mistyped"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&keyring).expect("read"), before);
        assert!(!config.resolver.data_dir.exists(), "no empty store made");
        // A store made with the keyring rotates.
        config.resolver.data_dir = dir.path().join("store");
        drop(crate::privacy::open_store(&config).expect("a keyed store"));
        let said = rotate_keys(&config).expect("rotated");
        assert!(
            said.contains("key 2 added") && said.contains("Replace every other copy"),
            "{said}"
        );
        assert_ne!(std::fs::read_to_string(&keyring).expect("read"), before);
    }

    fn opts() -> NormalizeOptions {
        NormalizeOptions::for_region(NormalizeOptions::parse_region("CN").expect("CN"))
    }

    /// A request that cannot be applied leaves no raw identifier, and no
    /// requester's email, on the dead-letter topic.
    #[test]
    fn a_refused_request_is_dead_lettered_masked() {
        let raw = br#"{"request_id":"","requested_by":"ann.lee@gmail.com","phone":"139 1024 8876","email":"ann.lee@gmail.com","identifier_key":"email:ann.lee@gmail.com"}"#;
        let err = parse_request(raw, &opts(), 5).expect_err("no id");
        assert!(!err.to_string().contains("ann.lee"), "{err}");
        let kept = String::from_utf8(masked_payload(raw)).expect("text");
        for secret in ["ann.lee", "1024", "8876"] {
            assert!(!kept.contains(secret), "{kept}");
        }
        assert!(kept.contains(r#""request_id":"""#), "{kept}");
        let portal = String::from_utf8(masked_payload(
            br#"{"request_id":"DSR-2","requested_by":"portal","member_id":["M-1"]}"#,
        ))
        .expect("text");
        assert!(
            portal.contains(r#""requested_by":"portal""#) && !portal.contains("M-1"),
            "{portal}"
        );
        assert!(masked_payload(b"not json 13910248876").is_empty());
        // A misspelled or unknown field is refused, and its value is
        // masked all the same: no field is trusted by its name.
        let typo = br#"{"request_id":"DSR-3","requested_by":"+86 139 1024 8876","emial":"ann.lee@gmail.com","member":"M-88231977","note":"Ann Lee","profile":"kp-000000000004","requested_at_ms":17}"#;
        assert_eq!(
            parse_request(typo, &opts(), 5).expect_err("unknown").kind(),
            "erasure_malformed"
        );
        let kept = String::from_utf8(masked_payload(typo)).expect("text");
        for secret in ["ann.lee", "1024", "8823", "Ann Lee"] {
            assert!(!kept.contains(secret), "{kept}");
        }
        let comment = String::from_utf8(masked_payload(
            br#"{"request_id":"DSR-4","comment":"ann@x.com, +86 139 1024 8876","email":"ann@x.com"}"#,
        ))
        .expect("text");
        // Data in a field's name (a form body serialized badly) is masked
        // as a value is.
        let badly = String::from_utf8(masked_payload(
            br#"{"request_id":"DSR-9","email=ann.lee@mail.cn":"","+86 139 1024 8876":"x"}"#,
        ))
        .expect("text");
        for secret in ["ann.lee", "1024"] {
            assert!(!badly.contains(secret), "{badly}");
        }
        assert!(
            !comment.contains("1024") && !comment.contains("8876"),
            "{comment}"
        );
        for shown in [
            r#""emial":"a***@gmail.com""#,
            r#""profile":"kp-000000000004""#,
            r#""requested_at_ms":17"#,
            r#""request_id":"DSR-3""#,
        ] {
            assert!(kept.contains(shown), "{shown} in {kept}");
        }
    }

    /// A request time far ahead of its record's (microseconds) would start
    /// the suppression windows millennia on: read as the record's time. A
    /// time within the events' own bound stays.
    #[test]
    fn a_request_time_far_ahead_of_its_record_is_the_records() {
        let at = |requested: i64| {
            let raw = format!(
                r#"{{"request_id":"DSR-9","phone":"+8613900000001","requested_at_ms":{requested}}}"#
            );
            parse_request(raw.as_bytes(), &opts(), 1_765_065_600_000)
                .expect("valid")
                .at_ms
        };
        assert_eq!(at(1_765_065_600_000_000), 1_765_065_600_000);
        assert_eq!(
            at(1_765_065_600_000 + 3_600_000),
            1_765_065_600_000 + 3_600_000
        );
        assert_eq!(at(1_700_000_000_000), 1_700_000_000_000);
    }

    /// A portal's `identifier_key` in its own case (`Email:Li.Wei@Gmail.com`,
    /// a digest in upper-case hex) named nobody: the kind did not parse, so
    /// the value was hashed as sent, never normalized, and an upper-case
    /// digest was hashed again. Both name the key the store holds.
    #[test]
    fn an_identifier_key_in_any_case_names_the_stored_key() {
        let target = |key: &str| {
            let raw = format!(r#"{{"request_id":"DSR-1","identifier_key":"{key}"}}"#);
            parse_request(raw.as_bytes(), &opts(), 0)
                .expect("valid")
                .target
        };
        let email = parse_request(
            br#"{"request_id":"DSR-1","email":"li.wei@gmail.com"}"#,
            &opts(),
            0,
        )
        .expect("valid")
        .target;
        assert_eq!(target("Email:Li.Wei@Gmail.com"), email);
        assert_eq!(target("email:li.wei@gmail.com"), email);
        let phone = parse_request(
            br#"{"request_id":"DSR-1","phone":"+8613910248876"}"#,
            &opts(),
            0,
        )
        .expect("valid")
        .target;
        assert_eq!(target("Phone:+86 139 1024 8876"), phone);
        let digest = "0a0b0c0d0e0f00112233445566778899";
        let stored = ErasureTarget::IndexKey(format!("phone:{digest}"));
        assert_eq!(target(&format!("phone:{}", digest.to_uppercase())), stored);
        assert_eq!(target(&format!("PHONE:{digest}")), stored);
    }

    /// `kindred forget` without `--request-id` makes one from the time; it
    /// must pass its own check (an id in epoch milliseconds, thirteen
    /// digits in a row, reads as a card number and was refused).
    #[test]
    fn forget_s_own_request_id_is_no_personal_data() {
        let id = default_request_id(1_765_096_578_123);
        assert_eq!(id, "forget-20251207T083618.123Z");
        let wire = forget_request(&Config::default(), &id, "ops", "kp-000000000001")
            .expect("its own id passes");
        assert_eq!(wire.request_id, id);
        assert!(forget_request(
            &Config::default(),
            "forget-1765096578123",
            "ops",
            "kp-000000000001"
        )
        .is_err());
    }

    /// A portal that puts the person's e-mail or phone in its request id
    /// does not get it kept for years in the audit, nor on the dead-letter
    /// topic; a ticket number or a dated id stays as sent.
    #[test]
    fn a_request_id_holding_personal_data_is_kept_masked() {
        let id = |request_id: &str| {
            let raw = format!(r#"{{"request_id":"{request_id}","profile":"kp-1"}}"#);
            parse_request(raw.as_bytes(), &opts(), 0)
                .expect("valid")
                .request_id
        };
        assert_eq!(id("DSR-1042"), "DSR-1042");
        assert_eq!(id("REQ-20261205-000123"), "REQ-20261205-000123");
        for personal in [
            "ann.lee@gmail.com",
            "+86 139 1024 8876",
            "13910248876",
            "MAIN:8800001024",
            "M-0010245678",
        ] {
            let kept = id(personal);
            assert!(
                !kept.contains("ann.lee") && !kept.contains("1024"),
                "{personal} -> {kept}"
            );
            assert_eq!(kept, masked_request_id(personal), "one mask for one id");
        }
        let letter = String::from_utf8(masked_payload(
            br#"{"request_id":"ann.lee@gmail.com","emial":"x"}"#,
        ))
        .expect("text");
        assert!(!letter.contains("ann.lee"), "{letter}");
        let err = parse_request(
            br#"{"request_id":"ann.lee@gmail.com","email":"not an email"}"#,
            &opts(),
            0,
        )
        .expect_err("invalid");
        assert!(!err.to_string().contains("ann.lee"), "{err}");
        // `kindred forget` refuses one: its audit record would answer to
        // the masked id only.
        let config = Config::default();
        let refused = forget_request(&config, "ann.lee@gmail.com", "op", "kp-000000000001")
            .expect_err("personal request id");
        assert!(refused.to_string().contains("ticket number"), "{refused}");
        assert!(forget_request(&config, "DSR-7", "op", "kp-000000000001").is_ok());
    }

    /// The audit record keeps who asked: a portal's name as given, a
    /// person's own e-mail or phone number masked.
    #[test]
    fn a_personal_requester_is_masked_in_the_request() {
        let asked = |by: &str| {
            let raw = format!(r#"{{"request_id":"D","requested_by":"{by}","profile":"kp-1"}}"#);
            parse_request(raw.as_bytes(), &opts(), 0)
                .expect("valid")
                .requested_by
        };
        let long = "x".repeat(MAX_FREE_TEXT_BYTES + 1);
        for raw in [
            format!(r#"{{"request_id":"{long}","profile":"kp-1"}}"#),
            format!(r#"{{"request_id":"D","requested_by":"{long}","profile":"kp-1"}}"#),
        ] {
            let e = parse_request(raw.as_bytes(), &opts(), 0).expect_err("too long");
            assert_eq!(e.kind(), "erasure_malformed");
        }
        // `kindred forget` refuses it before sending, not after a wait.
        let e = forget_request(&Config::default(), &long, "ops", "kp-000000000001")
            .expect_err("too long");
        assert!(e.to_string().contains("longer than 256 bytes"), "{e}");
        assert!(forget_request(&Config::default(), "DSR-9", "ops", "kp-000000000001").is_ok());
        assert_eq!(asked("privacy-portal"), "privacy-portal");
        // Free text with an address and a number in it is masked to its
        // ends, not as an e-mail (whose mask keeps all after the @).
        let mixed = asked("Ann Lee (ann@x.com, 13910248876)");
        assert!(
            !mixed.contains("x.com") && !mixed.contains("1024"),
            "{mixed}"
        );
        assert_eq!(asked("ops 42"), "ops 42");
        assert_eq!(asked("Ann.Lee@gmail.com"), "A***@gmail.com");
        let phone = asked("13910248876");
        assert!(!phone.contains("1024") && phone.ends_with("876"), "{phone}");
    }

    #[test]
    fn forget_refuses_a_profile_id_the_resolver_would_refuse() {
        for bad in ["kp-00000000001O", "kp-", "kp-12 34", "kp-+8613910248876"] {
            let e = forget_request(&Config::default(), "DSR-9", "ops", bad)
                .expect_err(bad)
                .to_string();
            assert!(e.contains("not a profile id"), "{bad}: {e}");
        }
        // Whatever it sends, the resolver reads as a profile.
        let wire = forget_request(&Config::default(), "DSR-9", "ops", " kp-000000000001 ")
            .expect("a padded id");
        let bytes = serde_json::to_vec(&wire).expect("json");
        let request =
            parse_request(&bytes, &NormalizeOptions::default(), 0).expect("the resolver reads it");
        assert_eq!(
            request.target,
            ErasureTarget::Profile("kp-000000000001".into())
        );
    }

    #[test]
    fn requests_name_exactly_one_person_and_are_normalized() {
        let r = parse_request(
            br#"{"request_id":"DSR-1","requested_by":"portal","email":" Ann@QQ.COM "}"#,
            &opts(),
            5,
        )
        .expect("valid");
        assert_eq!(r.at_ms, 5);
        match r.target {
            ErasureTarget::Identifier(id) => {
                assert_eq!(id.kind, IdentifierKind::Email);
                assert_eq!(id.value, "ann@qq.com");
            }
            other => panic!("{other:?}"),
        }
        let r = parse_request(
            br#"{"request_id":"D","profile":"kp-000000000007"}"#,
            &opts(),
            0,
        )
        .expect("profile");
        assert_eq!(r.target, ErasureTarget::Profile("kp-000000000007".into()));
    }

    /// An `identifier_key` of no kind kindred keys (a bare number, a
    /// portal's `mobile:` or `tel:`) was hashed as sent into a key no index
    /// holds: the request erased no one and was audited as `not_found`,
    /// which reads as done. Refused now, without quoting the key.
    #[test]
    fn an_identifier_key_of_no_known_kind_is_refused_not_found() {
        let digest = "0a0b0c0d0e0f00112233445566778899";
        for key in [
            "+8613912345678".to_string(),
            "mobile:+8613912345678".to_string(),
            "tel:+8613912345678".to_string(),
            "e-mail:ann@x.cn".to_string(),
            format!("mobile:{digest}"),
        ] {
            let raw = format!(r#"{{"request_id":"DSR-1","identifier_key":"{key}"}}"#);
            let err = parse_request(raw.as_bytes(), &opts(), 0).unwrap_err();
            assert_eq!(err.kind(), "erasure_invalid_identifier", "{key}: {err}");
            let message = err.to_string();
            assert!(message.contains("identifier_key"), "{message}");
            assert!(!message.contains("12345678"), "no raw value: {message}");
            assert!(!message.contains("ann@"), "no raw value: {message}");
        }
    }

    /// A phone must be typed internationally: a national number is read in
    /// the default region (CN here), where `020 7031 3000` is a Guangzhou
    /// line, not the London one the requester meant.
    #[test]
    fn a_national_phone_number_names_no_one_to_erase() {
        for payload in [
            &br#"{"request_id":"D","phone":"020 7031 3000"}"#[..],
            br#"{"request_id":"D","identifier_key":"phone:020 7031 3000"}"#,
        ] {
            let err = parse_request(payload, &opts(), 0).unwrap_err();
            assert_eq!(err.kind(), "erasure_invalid_identifier");
            assert!(err.to_string().contains("international form"), "{err}");
            assert!(!err.to_string().contains("7031"), "no raw value: {err}");
        }
        let r = parse_request(
            br#"{"request_id":"D","phone":"+44 20 7031 3000"}"#,
            &opts(),
            0,
        )
        .expect("international");
        match r.target {
            ErasureTarget::Identifier(id) => assert_eq!(id.value, "+442070313000"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let two = parse_request(
            br#"{"request_id":"D","email":"a@b.cn","phone":"13910248876"}"#,
            &opts(),
            0,
        )
        .unwrap_err();
        assert_eq!(two.kind(), "erasure_incomplete");
        assert!(two.to_string().contains("names 2 targets"), "{two}");
        let none = parse_request(br#"{"request_id":"D"}"#, &opts(), 0).unwrap_err();
        assert!(none.to_string().contains("names 0 targets"), "{none}");
        let bad =
            parse_request(br#"{"request_id":"D","email":"not an email"}"#, &opts(), 0).unwrap_err();
        assert_eq!(bad.kind(), "erasure_invalid_identifier");
        assert!(
            !bad.to_string().contains("not an email"),
            "no raw value: {bad}"
        );
        // A wrong type: serde's message would quote the identifier.
        let typed =
            parse_request(br#"{"request_id":"D","phone":8613910248876}"#, &opts(), 0).unwrap_err();
        assert_eq!(typed.kind(), "erasure_malformed");
        assert!(!typed.to_string().contains("13910248876"), "{typed}");
        assert!(typed.to_string().contains("invalid type"), "{typed}");
        // A raw value sent as an identifier_key is normalized as in events.
        let r = parse_request(
            br#"{"request_id":"D","identifier_key":"email:Ann@Shop.CN"}"#,
            &opts(),
            0,
        )
        .expect("a raw kind:value");
        match r.target {
            ErasureTarget::Identifier(id) => assert_eq!(id.value, "ann@shop.cn"),
            other => panic!("{other:?}"),
        }
        let hashed = format!("phone:{}", "0a".repeat(16));
        let r = parse_request(
            format!(r#"{{"request_id":"D","identifier_key":"{hashed}"}}"#).as_bytes(),
            &opts(),
            0,
        )
        .expect("an index key");
        assert_eq!(r.target, ErasureTarget::IndexKey(hashed));
        // A phone sent as a profile id: refused, not echoed.
        let profile = parse_request(
            br#"{"request_id":"D","profile":"+8613910248876"}"#,
            &opts(),
            0,
        )
        .unwrap_err();
        assert_eq!(profile.kind(), "erasure_invalid_identifier");
        assert!(!profile.to_string().contains("13910248876"), "{profile}");
        assert!(profile.to_string().contains("profile"), "{profile}");
        let json = parse_request(b"{", &opts(), 0).unwrap_err();
        assert_eq!(json.kind(), "erasure_malformed");
        let unknown = parse_request(br#"{"request_id":"D","name":"Ann"}"#, &opts(), 0).unwrap_err();
        assert_eq!(unknown.kind(), "erasure_malformed");
    }

    /// With no broker answering, `forget` gives up about when --wait-secs
    /// says (5 s at least; 10 s with 0), not after the producer's two
    /// minutes: it says the request was not sent and names the brokers.
    #[tokio::test]
    async fn forget_gives_up_in_time_when_no_broker_answers() {
        use std::time::{Duration, Instant};
        let mut config = Config::default();
        // Nothing listens on port 1.
        config.kafka.brokers = "127.0.0.1:1".into();
        for (wait, within) in [(2, 20), (0, 20)] {
            let started = Instant::now();
            let sent = tokio::time::timeout(
                Duration::from_secs(within),
                forget(
                    &config,
                    "kp-000000000001",
                    "DSR-77",
                    "ops",
                    Duration::from_secs(wait),
                    false,
                ),
            )
            .await;
            let Ok(result) = sent else {
                panic!("--wait-secs {wait}: still trying after {within} s");
            };
            let err = result.expect_err("no broker answers");
            let text = err.to_string();
            assert!(
                matches!(err, crate::PipelineError::NotSent { .. }),
                "{text}"
            );
            assert!(
                text.contains("request DSR-77 was not sent")
                    && text.contains("nothing was requested")
                    && text.contains("no Kafka broker at 127.0.0.1:1"),
                "{text}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "--wait-secs {wait}: {:?}",
                started.elapsed()
            );
        }
    }
}
