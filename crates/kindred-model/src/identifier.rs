use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of identifier that can link records of one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentifierKind {
    /// A loyalty member card number, upper-cased and trimmed.
    MemberId,
    /// A phone number in E.164 form (`+8613910248876`).
    Phone,
    /// An email address, trimmed and lower-cased.
    Email,
    /// A social platform user id, namespaced by platform (`wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M`,
    /// `wechat-union:oTmHYjg...` for a WeChat unionid).
    Social,
    /// A web-shop account id, namespaced by shop (`web:u12345`).
    Account,
    /// A browser or device id of an anonymous visitor (`web:3f2a...`).
    Device,
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 6] = [
        IdentifierKind::MemberId,
        IdentifierKind::Phone,
        IdentifierKind::Email,
        IdentifierKind::Social,
        IdentifierKind::Account,
        IdentifierKind::Device,
    ];

    /// The short, stable name used in store keys, metrics labels and evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::MemberId => "member_id",
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::Social => "social",
            IdentifierKind::Account => "account",
            IdentifierKind::Device => "device",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdentifierKind {
    type Err = ParseIdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdentifierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseIdentifierError(format!("unknown identifier kind {s:?}")))
    }
}

/// A typed, normalized identifier.
///
/// `value` is the normalized value as it is stored and shown. `match_key`,
/// when present, is what linking compares instead: provider rules (such as
/// ignoring dots and `+tags` in Gmail addresses) change only the match key,
/// never the stored value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub value: String,
    #[serde(default)]
    pub match_key: Option<String>,
}

impl Identifier {
    pub fn new(kind: IdentifierKind, value: impl Into<String>) -> Self {
        Identifier {
            kind,
            value: value.into(),
            match_key: None,
        }
    }

    /// The `kind:value` form, shown to users and accepted on the command line.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.value)
    }

    /// The `kind:link-value` form that linking compares: two identifiers
    /// link the same person exactly when their link keys are equal.
    pub fn link_key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.link_value())
    }

    /// What linking compares: the match key when there is one, a member
    /// card without its separators and leading zeros
    /// ([`member_card_link_value`]), otherwise the value.
    pub fn link_value(&self) -> Cow<'_, str> {
        match (&self.match_key, self.kind) {
            (Some(m), _) => Cow::Borrowed(m),
            (None, IdentifierKind::MemberId) => member_card_link_value(&self.value),
            (None, _) => Cow::Borrowed(&self.value),
        }
    }

    /// `kind:masked-value` (see [`mask_value`]).
    pub fn masked(&self) -> String {
        format!(
            "{}:{}",
            self.kind.as_str(),
            mask_value(self.kind, &self.value)
        )
    }
}

/// A normalized member id (`PROGRAM:CARD`) as linking compares it: the card
/// without `-` and `_`, and an all-digit card without leading zeros. Tills,
/// web forms and exports write one card as `8800-1234-5678`,
/// `880012345678` or, read as a number by a spreadsheet, without its
/// leading zeros; the program's own numbering does not tell them apart.
/// The stored value keeps the form it came in.
pub fn member_card_link_value(value: &str) -> Cow<'_, str> {
    let (program, card) = value.split_once(':').unwrap_or(("", value));
    let padded = card.starts_with('0') && card.len() > 1;
    if !(padded || card.contains(['-', '_'])) {
        return Cow::Borrowed(value);
    }
    let mut bare: String = card.chars().filter(|c| !matches!(c, '-' | '_')).collect();
    if bare.bytes().all(|b| b.is_ascii_digit()) {
        let zeros = bare.len() - bare.trim_start_matches('0').len();
        bare.drain(..zeros.min(bare.len().saturating_sub(1)));
    }
    if bare.is_empty() || bare == card {
        return Cow::Borrowed(value);
    }
    Cow::Owned(match value.split_once(':') {
        Some(_) => format!("{program}:{bare}"),
        None => bare,
    })
}

/// A value with its middle hidden, for reports and topics that must show
/// *which* identifier without showing it whole: `+86****876`,
/// `j***@example.com`, `AB***YZ`. Short values are hidden entirely.
pub fn mask_value(kind: IdentifierKind, value: &str) -> String {
    let n = value.chars().count();
    let keep = |head: usize, tail: usize| keep_ends(value, head, tail);
    match kind {
        IdentifierKind::Email => match value.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => keep(1, 0),
        },
        // The calling code's first digits and the last three: at least
        // five digits hidden (10^5 candidates and more; keeping all but
        // four left 10,000, which a subscriber holding a phone list and
        // the record's other masked fields could try).
        IdentifierKind::Phone => keep(3.min(n.saturating_sub(8)), 3),
        _ => keep(2, 2),
    }
}

/// `value` with all but its first `head` and last `tail` characters
/// replaced by `****` (a fixed width: the mask does not tell the length);
/// entirely hidden when it is that short. The one masking primitive: every
/// masker below is built on it.
fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        return "*".repeat(n.max(4));
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str("****");
    out.extend(&chars[n - tail..]);
    out
}

/// A name (or any short free text) masked word by word: the first
/// character of each whitespace-separated word stays, `Maria Sentosa` ->
/// `M**** S****`, `李伟` -> `李****`; a one-character word is hidden.
pub fn mask_name(value: &str) -> String {
    value
        .split_whitespace()
        .map(|word| keep_ends(word, 1, 0))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A birthday masked to its year: `1990-05-17` -> `1990-**-**` (the
/// normalizer writes ISO dates); anything else is hidden entirely.
pub fn mask_birthday(value: &str) -> String {
    let b = value.as_bytes();
    let iso = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    match value.get(..4) {
        Some(year) if iso => format!("{year}-**-**"),
        _ => keep_ends(value, 0, 0),
    }
}

/// An address masked to where, not which door: country, region and city
/// stay, the postal code keeps its first two characters, street lines are
/// hidden (`****` where there was one).
pub fn mask_address(address: &crate::Address) -> crate::Address {
    crate::Address {
        line1: address.line1.as_deref().map(|l| keep_ends(l, 0, 0)),
        line2: address.line2.as_deref().map(|l| keep_ends(l, 0, 0)),
        city: address.city.clone(),
        region: address.region.clone(),
        postal_code: address.postal_code.as_deref().map(|p| keep_ends(p, 2, 0)),
        country: address.country.clone(),
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseIdentifierError(String);

impl FromStr for Identifier {
    type Err = ParseIdentifierError;
    /// Parses the `kind:value` form, e.g. `phone:+8613910248876`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            ParseIdentifierError(format!(
                "identifier {s:?} is not of the form kind:value (kinds: member_id, phone, email, social, account, device)"
            ))
        })?;
        if value.is_empty() {
            return Err(ParseIdentifierError(format!(
                "identifier {s:?} has an empty value"
            )));
        }
        Ok(Identifier::new(kind.parse()?, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_through_from_str() {
        let id = Identifier::new(IdentifierKind::Social, "wechat:o6_bm");
        assert_eq!(id.key(), "social:wechat:o6_bm");
        assert_eq!(id.key().parse::<Identifier>(), Ok(id));
    }

    #[test]
    fn member_cards_link_without_separators_and_leading_zeros() {
        let card = |v: &str| Identifier::new(IdentifierKind::MemberId, v);
        for (a, b) in [
            ("MAIN:8800-1234-5678", "MAIN:880012345678"),
            ("MAIN:8800_1234_5678", "MAIN:880012345678"),
            ("MAIN:000123456", "MAIN:123456"),
            ("MAIN:0-0012-3456", "MAIN:123456"),
            ("MAIN:M-A001", "MAIN:MA001"),
        ] {
            assert_eq!(card(a).link_key(), card(b).link_key(), "{a} / {b}");
        }
        for (a, b) in [
            // Zeros inside a card, or before a letter, are part of it.
            ("MAIN:M00123", "MAIN:M123"),
            ("MAIN:0A123", "MAIN:A123"),
            // Programs stay apart.
            ("MAIN:123456", "KIDS:123456"),
        ] {
            assert_ne!(card(a).link_key(), card(b).link_key(), "{a} / {b}");
        }
        assert_eq!(
            member_card_link_value("MAIN:880012345678"),
            "MAIN:880012345678"
        );
        assert!(matches!(
            member_card_link_value("MAIN:880012345678"),
            Cow::Borrowed(_)
        ));
        assert_eq!(member_card_link_value("MAIN:0000"), "MAIN:0");
        // Other kinds and match keys are untouched.
        let phone = Identifier::new(IdentifierKind::Phone, "+8613910248876");
        assert_eq!(phone.link_value(), "+8613910248876");
        let mut email = Identifier::new(IdentifierKind::Email, "j.doe@gmail.com");
        email.match_key = Some("jdoe@gmail.com".into());
        assert_eq!(email.link_key(), "email:jdoe@gmail.com");
    }

    #[test]
    fn from_str_rejects_unknown_kind_and_empty_value() {
        assert!("fax:123".parse::<Identifier>().is_err());
        assert!("phone:".parse::<Identifier>().is_err());
        assert!("phone".parse::<Identifier>().is_err());
    }

    #[test]
    fn masks_hide_the_middle_of_every_kind() {
        assert_eq!(
            mask_value(IdentifierKind::Phone, "+8613910248876"),
            "+86****876"
        );
        assert_eq!(
            mask_value(IdentifierKind::Email, "jane.doe@example.com"),
            "j***@example.com"
        );
        assert_eq!(
            mask_value(IdentifierKind::MemberId, "MAIN:A1234567"),
            "MA****67"
        );
        assert_eq!(mask_value(IdentifierKind::MemberId, "A1"), "****");
        assert!(!Identifier::new(IdentifierKind::Phone, "+14155550123")
            .masked()
            .contains("5550"));
    }

    #[test]
    fn names_birthdays_and_addresses_are_masked() {
        assert_eq!(mask_name("Maria Sentosa"), "M**** S****");
        assert_eq!(mask_name("李伟"), "李****");
        assert_eq!(mask_name("X"), "****");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_birthday("1990-05-17"), "1990-**-**");
        assert_eq!(mask_birthday("17/05/1990"), "****");
        let address = crate::Address {
            line1: Some("88 Century Avenue".into()),
            line2: None,
            city: Some("Shanghai".into()),
            region: Some("Shanghai".into()),
            postal_code: Some("200120".into()),
            country: Some("CN".into()),
        };
        let masked = mask_address(&address);
        assert_eq!(masked.line1.as_deref(), Some("****"));
        assert_eq!(masked.line2, None);
        assert_eq!(masked.postal_code.as_deref(), Some("20****"));
        assert_eq!(masked.city.as_deref(), Some("Shanghai"));
        assert_eq!(masked.country.as_deref(), Some("CN"));
    }
}
