//! The personal-data policy of the output topics (`[privacy.output]`),
//! applied to golden records on their way out.
//!
//! Every golden record that leaves on a topic goes through [`apply`] with
//! that topic's [`OutputPolicy`]: the profile topic's changes
//! ([`apply_to_change`]) and both records of a review pair. Each personal
//! field is published `raw`, `hashed`, `masked` or `omitted`; the defaults
//! hash identifiers and mask contact fields (see `kindred_config::OutputPolicy`).
//! Tests and the chaos check compare the store with the topic through the
//! same function, so they compare like with like.
//!
//! Hashed values are `hmac:` and the first 32 hex digits of HMAC-SHA256
//! under the keyring's HMAC key, in the domain [`HASH_DOMAIN`], of
//! `field:value` (`phone:+8613910248876`, `full_name:Li Wei`,
//! `address.city:Shanghai`): the same value hashes the same on every
//! output topic, so downstream can join on it, but never to the store's
//! index key (another domain), and no one without the key can test a guess.

use std::sync::Arc;

use kindred_config::{Config, FieldPolicy, OutputConfig, OutputPolicy};
use kindred_crypto::Keyring;
use kindred_model::{
    mask_address, mask_birthday, mask_name, mask_value, GoldenRecord, Identifier, IdentifierKind,
    ProfileChange, Sourced,
};

use crate::PipelineError;

/// The HMAC domain of hashed output values (the store's index keys use
/// another, so a hash on a topic is not an index key).
pub const HASH_DOMAIN: &str = "output";

/// What a hashed value starts with, so a reader can tell it from a raw one.
pub const HASH_PREFIX: &str = "hmac:";

/// Applies `policy` to every personal field of `record`, in place.
/// `keyring` hashes; without one, a `hashed` field is an error (never a
/// raw value published in its place). Identifiers as [`identifiers`] does.
pub fn apply(
    policy: &OutputPolicy,
    keyring: Option<&Keyring>,
    record: &mut GoldenRecord,
) -> Result<(), PipelineError> {
    record.identifiers = identifiers(policy, keyring, std::mem::take(&mut record.identifiers))?;
    let name: fn(&str) -> String = mask_name;
    let year: fn(&str) -> String = mask_birthday;
    for (field, rule, slot, mask) in [
        ("full_name", policy.full_name, &mut record.full_name, name),
        (
            "given_name",
            policy.given_name,
            &mut record.given_name,
            name,
        ),
        (
            "family_name",
            policy.family_name,
            &mut record.family_name,
            name,
        ),
        ("birthday", policy.birthday, &mut record.birthday, year),
        ("gender", policy.gender, &mut record.gender, name),
    ] {
        apply_text(rule, slot, |v| match rule {
            FieldPolicy::Hashed => hash(keyring, field, v),
            _ => Ok(mask(v)),
        })?;
    }

    match policy.address {
        FieldPolicy::Raw => {}
        FieldPolicy::Omitted => record.address = None,
        FieldPolicy::Masked => {
            if let Some(a) = &mut record.address {
                a.value = mask_address(&a.value);
            }
        }
        FieldPolicy::Hashed => {
            if let Some(a) = &mut record.address {
                let v = &mut a.value;
                for (part, slot) in [
                    ("address.line1", &mut v.line1),
                    ("address.line2", &mut v.line2),
                    ("address.city", &mut v.city),
                    ("address.region", &mut v.region),
                    ("address.postal_code", &mut v.postal_code),
                    ("address.country", &mut v.country),
                ] {
                    *slot = slot
                        .as_deref()
                        .map(|s| hash(keyring, part, s))
                        .transpose()?;
                }
            }
        }
    }
    Ok(())
}

/// A golden record's identifiers under `policy` (what [`apply`] does to
/// them): each kind raw, hashed (its match key too, as a hash of its own),
/// masked (the match key dropped) or omitted. Sorted again after hashing
/// or masking, so their order tells nothing of the raw values.
pub fn identifiers(
    policy: &OutputPolicy,
    keyring: Option<&Keyring>,
    ids: Vec<Identifier>,
) -> Result<Vec<Identifier>, PipelineError> {
    let mut out = Vec::with_capacity(ids.len());
    for mut id in ids {
        match identifier_policy(policy, &id) {
            FieldPolicy::Raw => {}
            FieldPolicy::Hashed => {
                let kind = id.kind.as_str();
                // The match key is what linking compares (a card without
                // its separators too), so consumers join on it, else on
                // the value, as kindred links.
                let link = id.link_value();
                let match_key = (link != id.value.as_str())
                    .then(|| hash(keyring, kind, &link))
                    .transpose()?;
                id.value = hash(keyring, kind, &id.value)?;
                id.match_key = match_key;
            }
            FieldPolicy::Masked => {
                id.value = mask_value(id.kind, &id.value);
                id.match_key = None;
            }
            FieldPolicy::Omitted => continue,
        }
        out.push(id);
    }
    if IdentifierKind::ALL
        .iter()
        .any(|k| policy.identifier(*k) != FieldPolicy::Raw)
    {
        out.sort();
    }
    Ok(out)
}

/// The policy of one identifier: its kind's, except that an identifier
/// whose value is an e-mail address or a phone number (a WhatsApp id, the
/// account's number; a web login that is the e-mail; a loyalty card that
/// is the mobile number, common in China) goes out under the stricter of
/// its kind's and `email`'s or `phone`'s (`member_id = "raw"` must not
/// publish a number `phone = "masked"` hides).
fn identifier_policy(policy: &OutputPolicy, id: &Identifier) -> FieldPolicy {
    let own = policy.identifier(id.kind);
    if matches!(id.kind, IdentifierKind::Email | IdentifierKind::Phone) {
        return own;
    }
    let strictness = |p: FieldPolicy| match p {
        FieldPolicy::Raw => 0,
        FieldPolicy::Masked => 1,
        FieldPolicy::Hashed => 2,
        FieldPolicy::Omitted => 3,
    };
    // The value past its namespace (`web:`, `MAIN:`, `whatsapp:`).
    let value = id.value.rsplit(':').next().unwrap_or(&id.value);
    let address = kindred_normalize::is_email_shaped(value);
    // A number in international form, a Chinese mobile's eleven digits
    // (the loyalty cards that are the customer's mobile), or a national
    // number behind a trunk 0 (`090-1234-5678`, `010-1234-5678`,
    // `07700900123`), separators aside (cards keep theirs:
    // `138-1234-8000`): not any run of digits, which most card numbers
    // are. (Erring towards a number errs towards the stricter policy.)
    // An area code in brackets (`(415) 555-0123`) is a number's, never a
    // card's.
    let bracketed = value.contains('(') && value.contains(')');
    let value: String = value
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
        .collect();
    let value = value.as_str();
    let all_digits = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit());
    let international = value
        .strip_prefix('+')
        .is_some_and(|v| v.len() >= 8 && all_digits(v));
    let national = value
        .strip_prefix('0')
        .is_some_and(|v| (9..=11).contains(&v.len()) && all_digits(v) && !v.starts_with('0'))
        || (bracketed && (7..=15).contains(&value.len()) && all_digits(value));
    let cn_mobile = value.len() == 11
        && all_digits(value)
        && value.starts_with('1')
        && value
            .as_bytes()
            .get(1)
            .is_some_and(|d| (b'3'..=b'9').contains(d));
    let number = international || national || cn_mobile;
    let also = if address {
        Some(policy.identifier(IdentifierKind::Email))
    } else if number || (id.kind == IdentifierKind::Social && id.value.starts_with("whatsapp:")) {
        Some(policy.identifier(IdentifierKind::Phone))
    } else {
        None
    };
    match also {
        Some(other) if strictness(other) > strictness(own) => other,
        _ => own,
    }
}

/// `hmac:` and the keyed hash of `field:value`; an error without a keyring.
fn hash(keyring: Option<&Keyring>, field: &str, value: &str) -> Result<String, PipelineError> {
    let keyring = keyring.ok_or_else(|| {
        PipelineError::Config(format!(
            "the output policy hashes {field}, but there is no keyring to hash with \
             (privacy.plaintext_store without a keyring)"
        ))
    })?;
    let input = format!("{field}:{value}");
    Ok(format!(
        "{HASH_PREFIX}{}",
        keyring.hash_hex(HASH_DOMAIN, input.as_bytes())
    ))
}

/// One text attribute under `policy`: `change` computes the hashed or
/// masked value.
fn apply_text(
    policy: FieldPolicy,
    slot: &mut Option<Sourced<String>>,
    change: impl Fn(&str) -> Result<String, PipelineError>,
) -> Result<(), PipelineError> {
    match policy {
        FieldPolicy::Raw => {}
        FieldPolicy::Omitted => *slot = None,
        FieldPolicy::Hashed | FieldPolicy::Masked => {
            if let Some(s) = slot {
                s.value = change(&s.value)?;
            }
        }
    }
    Ok(())
}

/// Applies `policy` to a profile change: its golden record (if any) as
/// [`apply`] does, and `changed_fields` loses the fields the policy omits
/// entirely (`identifiers` only when every identifier kind is omitted).
pub fn apply_to_change(
    policy: &OutputPolicy,
    keyring: Option<&Keyring>,
    change: &mut ProfileChange,
) -> Result<(), PipelineError> {
    if let Some(record) = &mut change.record {
        apply(policy, keyring, record)?;
    }
    let all_ids_omitted = IdentifierKind::ALL
        .iter()
        .all(|k| policy.identifier(*k) == FieldPolicy::Omitted);
    change.changed_fields.retain(|field| {
        let omitted = match field.as_str() {
            "identifiers" => all_ids_omitted,
            "full_name" => policy.full_name == FieldPolicy::Omitted,
            "given_name" => policy.given_name == FieldPolicy::Omitted,
            "family_name" => policy.family_name == FieldPolicy::Omitted,
            "birthday" => policy.birthday == FieldPolicy::Omitted,
            "gender" => policy.gender == FieldPolicy::Omitted,
            "address" => policy.address == FieldPolicy::Omitted,
            _ => false,
        };
        !omitted
    });
    Ok(())
}

/// Refuses a policy that hashes without a keyring, naming every such key.
pub fn check(output: &OutputConfig, keyring: Option<&Keyring>) -> Result<(), PipelineError> {
    let hashed = output.keys_with(FieldPolicy::Hashed);
    if keyring.is_none() && !hashed.is_empty() {
        return Err(PipelineError::Config(format!(
            "{} = \"hashed\": hashing needs a keyring, and there is none \
             (privacy.plaintext_store = true without privacy.keyring_file or {}); \
             set a keyring, or choose \"masked\", \"omitted\" or \"raw\" for {}",
            hashed.join(", "),
            crate::privacy::KEYRING_ENV,
            if hashed.len() == 1 { "it" } else { "each" },
        )));
    }
    Ok(())
}

/// `member_id=hashed phone=masked ...`: a policy in one line, for logs.
pub fn summary(policy: &OutputPolicy) -> String {
    policy
        .fields()
        .iter()
        .map(|(field, p)| format!("{field}={}", p.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The output policies of a service with its keyring, checked: what the
/// outbox publisher applies to every golden record it publishes.
#[derive(Debug, Clone)]
pub struct OutputProtection {
    output: OutputConfig,
    keyring: Option<Arc<Keyring>>,
}

impl OutputProtection {
    /// The policies of `config` with its keyring (see
    /// [`crate::privacy::keyring`]); an error if a field is `hashed` and
    /// there is no keyring.
    pub fn from_config(config: &Config) -> Result<Self, PipelineError> {
        Self::new(
            config.privacy.output.clone(),
            crate::privacy::keyring(config)?,
        )
    }

    /// `output` with `keyring`, checked as [`check`] does.
    pub fn new(output: OutputConfig, keyring: Option<Arc<Keyring>>) -> Result<Self, PipelineError> {
        check(&output, keyring.as_deref())?;
        Ok(OutputProtection { output, keyring })
    }

    /// The profile topic's policy.
    pub fn profiles(&self) -> &OutputPolicy {
        &self.output.profiles
    }

    /// The review topic's policy.
    pub fn review(&self) -> &OutputPolicy {
        &self.output.review
    }

    /// The keyring hashed values are made with.
    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_deref()
    }

    /// `change` as the profile topic carries it.
    pub fn profile_change(&self, change: &ProfileChange) -> Result<ProfileChange, PipelineError> {
        let mut out = change.clone();
        apply_to_change(&self.output.profiles, self.keyring(), &mut out)?;
        Ok(out)
    }

    /// A golden record as the review topic carries it.
    pub fn review_record(&self, record: &GoldenRecord) -> Result<GoldenRecord, PipelineError> {
        let mut out = record.clone();
        apply(&self.output.review, self.keyring(), &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_model::{Address, Channel, Provenance};

    fn keyring() -> Keyring {
        Keyring::parse(&Keyring::generate(), "test").expect("a generated keyring parses")
    }

    fn sourced<T>(value: T) -> Option<Sourced<T>> {
        Some(Sourced {
            value,
            source: Provenance {
                channel: Channel::Web,
                event_id: "web:E1".into(),
                event_time_ms: 1,
            },
        })
    }

    const PHONE: &str = "+8613910248876";
    const EMAIL: &str = "li.wei@gmail.com";
    const EMAIL_KEY: &str = "liwei@gmail.com";

    /// A record with every personal field set.
    fn record() -> GoldenRecord {
        let event = kindred_model::CanonicalEvent::new("web:E1", Channel::Web, 1, Vec::new());
        let mut r = GoldenRecord::new("P1".into(), &event);
        r.identifiers = vec![
            Identifier::new(IdentifierKind::MemberId, "MAIN:M-A001"),
            Identifier::new(IdentifierKind::Phone, PHONE),
            Identifier {
                kind: IdentifierKind::Email,
                value: EMAIL.into(),
                match_key: Some(EMAIL_KEY.into()),
            },
            Identifier::new(IdentifierKind::Social, "wechat:oA_openid_1"),
            Identifier::new(IdentifierKind::Account, "web:u12345"),
            Identifier::new(IdentifierKind::Device, "web:3f2a9c"),
        ];
        r.full_name = sourced("Li Wei".into());
        r.given_name = sourced("Wei".into());
        r.family_name = sourced("Li".into());
        r.birthday = sourced("1990-05-17".into());
        r.gender = sourced("male".into());
        r.address = sourced(Address {
            line1: Some("88 Century Avenue".into()),
            line2: Some("Flat 12".into()),
            city: Some("Shanghai".into()),
            region: Some("Shanghai".into()),
            postal_code: Some("200120".into()),
            country: Some("CN".into()),
        });
        r
    }

    fn id(r: &GoldenRecord, kind: IdentifierKind) -> &Identifier {
        r.identifiers
            .iter()
            .find(|i| i.kind == kind)
            .expect("the identifier kind is there")
    }

    fn text(v: &Option<Sourced<String>>) -> Option<&str> {
        v.as_ref().map(|s| s.value.as_str())
    }

    fn applied(policy: &OutputPolicy, keyring: Option<&Keyring>) -> GoldenRecord {
        let mut r = record();
        apply(policy, keyring, &mut r).expect("the policy applies");
        r
    }

    #[test]
    fn raw_leaves_the_record_as_stored() {
        let k = keyring();
        assert_eq!(applied(&OutputPolicy::all_raw(), Some(&k)), record());
        // Raw needs no keyring.
        assert_eq!(applied(&OutputPolicy::all_raw(), None), record());
    }

    #[test]
    fn hashed_is_keyed_stable_and_hides_every_field() {
        let (k1, k2) = (keyring(), keyring());
        let policy = OutputPolicy::all(FieldPolicy::Hashed);
        let a = applied(&policy, Some(&k1));
        let again = applied(&policy, Some(&k1));
        let other_key = applied(&policy, Some(&k2));
        // Same value, same key: same hash (downstream can join on it).
        assert_eq!(a, again);
        let phone = id(&a, IdentifierKind::Phone);
        assert_eq!(
            phone.value,
            format!(
                "hmac:{}",
                k1.hash_hex(HASH_DOMAIN, format!("phone:{PHONE}").as_bytes())
            )
        );
        // Not the store's index key, which is another domain.
        assert!(!phone
            .value
            .contains(&k1.hash_hex("index", format!("phone:{PHONE}").as_bytes())));
        // Another key: every hash differs.
        assert_ne!(phone.value, id(&other_key, IdentifierKind::Phone).value);
        assert_ne!(text(&a.full_name), text(&other_key.full_name));
        // Every value is a hash; the match key too, as a hash of its own.
        for i in &a.identifiers {
            assert!(i.value.starts_with(HASH_PREFIX), "{i:?}");
            assert_eq!(i.value.len(), HASH_PREFIX.len() + 32, "{i:?}");
        }
        let email = id(&a, IdentifierKind::Email);
        let key = email.match_key.as_deref().expect("the match key is kept");
        assert!(key.starts_with(HASH_PREFIX) && key != email.value);
        // A card written with a separator: its match key is the hash of
        // the card as linking compares it, the value of `MAIN:MA001`.
        let card = id(&a, IdentifierKind::MemberId);
        assert_eq!(
            card.match_key.as_deref(),
            Some(
                hash(Some(&k1), "member_id", "MAIN:MA001")
                    .expect("hash")
                    .as_str()
            )
        );
        assert_eq!(id(&a, IdentifierKind::Phone).match_key, None);
        assert_eq!(a.identifiers.len(), 6);
        for field in [
            &a.full_name,
            &a.given_name,
            &a.family_name,
            &a.birthday,
            &a.gender,
        ] {
            assert!(text(field).is_some_and(|v| v.starts_with(HASH_PREFIX)));
        }
        // Equal values in different fields hash apart (city and region
        // are both Shanghai).
        let address = &a.address.as_ref().expect("address kept").value;
        assert!(address
            .city
            .as_deref()
            .is_some_and(|c| c.starts_with(HASH_PREFIX)));
        assert_ne!(address.city, address.region);
        // Nothing raw anywhere in what would be published. The hashes are
        // blanked first: under a fresh random key, one of them now and then
        // holds `1990` or `200120` in its hex digits.
        let json = serde_json::to_string(&a).expect("encodes");
        let json: String = json
            .split(HASH_PREFIX)
            .enumerate()
            .map(|(i, part)| match i {
                0 => part.to_string(),
                _ => format!(
                    "{HASH_PREFIX}#{}",
                    part.trim_start_matches(|c: char| c.is_ascii_hexdigit())
                ),
            })
            .collect();
        for raw in [
            PHONE,
            EMAIL,
            EMAIL_KEY,
            "M-A001",
            "oA_openid_1",
            "u12345",
            "3f2a9c",
            "Li Wei",
            "1990",
            "Century",
            "200120",
            "Shanghai",
        ] {
            assert!(!json.contains(raw), "{raw} in {json}");
        }
        // The identifiers are sorted by their hashes, not the raw values.
        let mut sorted = a.identifiers.clone();
        sorted.sort();
        assert_eq!(a.identifiers, sorted);
    }

    #[test]
    fn hashed_without_a_keyring_fails_and_never_publishes_raw() {
        let mut r = record();
        let mut policy = OutputPolicy::all_raw();
        policy.social = FieldPolicy::Hashed;
        let err = apply(&policy, None, &mut r).expect_err("no keyring to hash with");
        assert!(err.to_string().contains("social"), "{err}");
        let output = OutputConfig {
            profiles: policy,
            review: OutputPolicy::all_raw(),
        };
        let err = check(&output, None).expect_err("hashed needs a keyring");
        assert!(
            err.to_string()
                .contains("privacy.output.profiles.social = \"hashed\""),
            "{err}"
        );
        let err =
            OutputProtection::new(OutputConfig::default(), None).expect_err("the defaults hash");
        assert!(
            err.to_string().contains("privacy.output.review.member_id"),
            "{err}"
        );
        // Without any hashed field, no keyring is needed.
        let none_hashed = OutputConfig {
            profiles: OutputPolicy::all(FieldPolicy::Masked),
            review: OutputPolicy::all(FieldPolicy::Omitted),
        };
        assert!(OutputProtection::new(none_hashed, None).is_ok());
        assert!(check(&OutputConfig::default(), Some(&keyring())).is_ok());
    }

    #[test]
    fn masked_hides_the_middle_of_every_field() {
        let a = applied(&OutputPolicy::all(FieldPolicy::Masked), None);
        assert_eq!(id(&a, IdentifierKind::Phone).value, "+86****876");
        let email = id(&a, IdentifierKind::Email);
        assert_eq!(email.value, "l***@gmail.com");
        assert_eq!(email.match_key, None, "a match key is dropped, not masked");
        assert_eq!(id(&a, IdentifierKind::MemberId).value, "MA****01");
        assert_eq!(text(&a.full_name), Some("L**** W****"));
        assert_eq!(text(&a.birthday), Some("1990-**-**"));
        assert_eq!(text(&a.gender), Some("m****"));
        let address = &a.address.as_ref().expect("address kept").value;
        assert_eq!(address.line1.as_deref(), Some("****"));
        assert_eq!(address.postal_code.as_deref(), Some("20****"));
        assert_eq!(address.city.as_deref(), Some("Shanghai"));
        let json = serde_json::to_string(&a).expect("encodes");
        for raw in [
            PHONE, EMAIL, EMAIL_KEY, "M-A001", "Li Wei", "05-17", "Century",
        ] {
            assert!(!json.contains(raw), "{raw} in {json}");
        }
    }

    #[test]
    fn omitted_removes_the_field() {
        let a = applied(&OutputPolicy::all(FieldPolicy::Omitted), None);
        assert!(a.identifiers.is_empty());
        assert_eq!(
            (&a.full_name, &a.given_name, &a.family_name),
            (&None, &None, &None)
        );
        assert_eq!((&a.birthday, &a.gender), (&None, &None));
        assert_eq!(a.address, None);
        // One kind omitted: only that kind goes.
        let mut policy = OutputPolicy::all_raw();
        policy.device = FieldPolicy::Omitted;
        let b = applied(&policy, None);
        assert_eq!(b.identifiers.len(), 5);
        assert!(b
            .identifiers
            .iter()
            .all(|i| i.kind != IdentifierKind::Device));
        // The rest of the record is untouched.
        assert_eq!(
            (a.event_count, &a.channels, &a.profile_id),
            (
                record().event_count,
                &record().channels,
                &record().profile_id
            )
        );
    }

    /// A WhatsApp id is the account's phone number: with social ids raw
    /// and phones masked, it goes out masked as a phone does (or under
    /// its own policy when that is the stricter one).
    #[test]
    fn a_whatsapp_id_goes_out_no_plainer_than_a_phone() {
        let k = keyring();
        let mut r = record();
        r.identifiers.push(Identifier::new(
            IdentifierKind::Social,
            "whatsapp:8613910248876",
        ));
        let mut policy = OutputPolicy {
            social: FieldPolicy::Raw,
            phone: FieldPolicy::Masked,
            ..OutputPolicy::default()
        };
        let out = identifiers(&policy, Some(&k), r.identifiers.clone()).expect("applied");
        let social: Vec<&str> = out
            .iter()
            .filter(|i| i.kind == IdentifierKind::Social)
            .map(|i| i.value.as_str())
            .collect();
        assert!(social.contains(&"wechat:oA_openid_1"), "{social:?}");
        assert!(
            !social.iter().any(|v| v.contains("13910248876")),
            "{social:?}"
        );
        policy.social = FieldPolicy::Omitted;
        let out = identifiers(&policy, Some(&k), r.identifiers).expect("applied");
        assert!(out.iter().all(|i| i.kind != IdentifierKind::Social));
    }

    /// A web login that is the e-mail, a loyalty card that is the
    /// customer's mobile: published raw under `account` / `member_id =
    /// "raw"` though `email` / `phone` were masked. A card number that is
    /// no phone's stays as its kind says.
    #[test]
    fn an_identifier_that_is_an_email_or_a_mobile_goes_out_no_plainer_than_one() {
        let k = keyring();
        let ids = vec![
            Identifier::new(IdentifierKind::Account, "web:li.wei@gmail.com"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:13910248876"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:88231977"),
            // Cards keep their separators; national numbers behind a trunk 0.
            Identifier::new(IdentifierKind::MemberId, "MAIN:138-1234-8000"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:090-1234-5678"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:07700900123"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:0151 23984712"),
            Identifier::new(IdentifierKind::MemberId, "MAIN:(415) 555-0123"),
        ];
        let policy = OutputPolicy {
            account: FieldPolicy::Raw,
            member_id: FieldPolicy::Raw,
            email: FieldPolicy::Masked,
            phone: FieldPolicy::Masked,
            ..OutputPolicy::default()
        };
        let out = identifiers(&policy, Some(&k), ids).expect("applied");
        let text = format!("{out:?}");
        assert!(!text.contains("li.wei@gmail.com"), "{text}");
        assert!(!text.contains("13910248876"), "{text}");
        for number in [
            "138-1234-8000",
            "090-1234-5678",
            "07700900123",
            "0151 23984712",
            "555-0123",
        ] {
            assert!(!text.contains(number), "{number}: {text}");
        }
        assert!(
            text.contains("MAIN:88231977"),
            "a card number stays raw: {text}"
        );
    }

    #[test]
    fn each_field_follows_its_own_setting() {
        let k = keyring();
        let policy = OutputPolicy::default();
        let a = applied(&policy, Some(&k));
        // Defaults: identifiers hashed, contacts masked, gender raw.
        assert!(id(&a, IdentifierKind::MemberId)
            .value
            .starts_with(HASH_PREFIX));
        assert!(id(&a, IdentifierKind::Social)
            .value
            .starts_with(HASH_PREFIX));
        assert!(id(&a, IdentifierKind::Account)
            .value
            .starts_with(HASH_PREFIX));
        assert!(id(&a, IdentifierKind::Device)
            .value
            .starts_with(HASH_PREFIX));
        assert_eq!(id(&a, IdentifierKind::Phone).value, "+86****876");
        assert_eq!(id(&a, IdentifierKind::Email).value, "l***@gmail.com");
        assert_eq!(text(&a.given_name), Some("W****"));
        assert_eq!(text(&a.gender), Some("male"));
        // Each field switched alone changes that field alone.
        let mut raw_phone = policy.clone();
        raw_phone.phone = FieldPolicy::Raw;
        let b = applied(&raw_phone, Some(&k));
        assert_eq!(id(&b, IdentifierKind::Phone).value, PHONE);
        assert_eq!(id(&b, IdentifierKind::Email).value, "l***@gmail.com");
        let mut omit_birthday = policy.clone();
        omit_birthday.birthday = FieldPolicy::Omitted;
        let c = applied(&omit_birthday, Some(&k));
        assert_eq!(c.birthday, None);
        assert_eq!(text(&c.full_name), text(&a.full_name));
    }

    #[test]
    fn changes_lose_omitted_fields_from_changed_fields() {
        let mut change = ProfileChange::superseded("P1".into(), 1, "web:E1".into(), "P0".into());
        change.record = Some(record());
        change.changed_fields = vec![
            "identifiers".into(),
            "full_name".into(),
            "birthday".into(),
            "event_count".into(),
        ];
        let mut policy = OutputPolicy::all_raw();
        policy.birthday = FieldPolicy::Omitted;
        policy.phone = FieldPolicy::Omitted;
        apply_to_change(&policy, None, &mut change).expect("applies");
        assert_eq!(
            change.changed_fields,
            ["identifiers", "full_name", "event_count"]
        );
        let record = change.record.as_ref().expect("record kept");
        assert_eq!(record.birthday, None);
        assert_eq!(record.identifiers.len(), 5);
        let mut none = change.clone();
        apply_to_change(&OutputPolicy::all(FieldPolicy::Omitted), None, &mut none)
            .expect("applies");
        assert_eq!(none.changed_fields, ["event_count"]);
    }
}
