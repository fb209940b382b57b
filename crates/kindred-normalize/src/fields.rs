//! Normalizers for single fields. Each returns the normalized value or why
//! the value cannot identify a person.

use crate::NormalizeOptions;

/// Why a value was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("empty after cleaning")]
    Empty,
    #[error("not a valid {0}")]
    Invalid(&'static str),
    #[error("known junk or placeholder value")]
    Junk,
}

/// Phone numbers to E.164 (`+8613800138000`).
///
/// Accepts spaces, dashes, dots, parentheses, full-width digits, a `00`
/// international prefix and, for national numbers, the configured default
/// country code. Numbers of implausible length are rejected, not guessed.
pub fn normalize_phone(raw: &str, opts: &NormalizeOptions) -> Result<String, Rejected> {
    let mut digits = String::with_capacity(raw.len());
    let mut international = false;
    for (i, c) in raw.trim().chars().enumerate() {
        let c = fold_full_width(c);
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => international = true,
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return Err(Rejected::Invalid("phone number")),
        }
    }
    if digits.is_empty() {
        return Err(Rejected::Empty);
    }
    if !international {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
        } else {
            let national = digits.strip_prefix('0').unwrap_or(&digits);
            digits = format!("{}{}", opts.default_country_code, national);
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(Rejected::Invalid("phone number"));
    }
    if is_junk_digits(&digits) {
        return Err(Rejected::Junk);
    }
    if digits.starts_with("86") && digits.len() == 13 && !digits[2..].starts_with('1') {
        return Err(Rejected::Invalid("phone number"));
    }
    Ok(format!("+{digits}"))
}

fn fold_full_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '＋' => '+',
        '－' => '-',
        '　' => ' ',
        _ => c,
    }
}

fn is_junk_digits(e164_digits: &str) -> bool {
    // Strip the country code's worth of leading digits loosely: the
    // subscriber part is what cashiers fill with placeholders.
    let tail = &e164_digits[e164_digits.len().saturating_sub(8)..];
    let first = tail.chars().next();
    tail.chars().all(|c| Some(c) == first)
        || e164_digits.ends_with("12345678901")
        || e164_digits.ends_with("12345678")
}

/// Emails: display-name form stripped, trimmed, lower-cased, syntax checked.
pub fn normalize_email(raw: &str) -> Result<String, Rejected> {
    let mut s = raw.trim();
    if let (Some(open), Some(close)) = (s.rfind('<'), s.rfind('>')) {
        if open < close {
            s = &s[open + 1..close];
        }
    }
    let s = s.trim().to_lowercase();
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err(Rejected::Invalid("email address"));
    };
    let valid = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',');
    if !valid {
        return Err(Rejected::Invalid("email address"));
    }
    const JUNK_LOCALS: [&str; 6] = ["noreply", "no-reply", "test", "none", "null", "na"];
    const JUNK_DOMAINS: [&str; 3] = ["test.com", "example.com", "none.com"];
    if JUNK_LOCALS.contains(&local) || JUNK_DOMAINS.contains(&domain) {
        return Err(Rejected::Junk);
    }
    Ok(s)
}

/// Member card numbers: trimmed, inner spaces removed, upper-cased.
pub fn normalize_member_id(raw: &str) -> Result<String, Rejected> {
    let s: String = raw
        .chars()
        .map(fold_full_width)
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Rejected::Invalid("member id"));
    }
    let significant: Vec<char> = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let first = significant.first().copied();
    if significant.len() < 3 || significant.iter().all(|&c| Some(c) == first) {
        return Err(Rejected::Junk);
    }
    Ok(s)
}

/// Social ids namespaced by platform: `wechat:o6_bmjrPTlm6`. The id itself is
/// case-sensitive on most platforms and is kept as given, trimmed.
pub fn normalize_social_id(platform: &str, raw: &str) -> Result<String, Rejected> {
    let platform = platform.trim().to_lowercase();
    let id = raw.trim();
    if id.is_empty() {
        return Err(Rejected::Empty);
    }
    if platform.is_empty() || platform.contains(':') || id.chars().any(char::is_whitespace) {
        return Err(Rejected::Invalid("social platform id"));
    }
    // Already namespaced (idempotence): keep as is.
    if let Some(rest) = id.strip_prefix(&format!("{platform}:")) {
        return Ok(format!("{platform}:{rest}"));
    }
    Ok(format!("{platform}:{id}"))
}

/// Names: trimmed, inner whitespace collapsed. `None` when nothing is left.
pub fn normalize_name(raw: &str) -> Option<String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> Result<String, Rejected> {
        normalize_phone(s, &NormalizeOptions::default())
    }

    #[test]
    fn phones() {
        for (raw, want) in [
            ("+86 138 0013 8000", "+8613800138000"),
            ("0086-138-0013-8000", "+8613800138000"),
            ("138 0013 8000", "+8613800138000"),
            ("１３８００１３８０００", "+8613800138000"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+8613800138000", "+8613800138000"),
        ] {
            assert_eq!(phone(raw).as_deref(), Ok(want), "{raw}");
        }
        assert_eq!(phone("   "), Err(Rejected::Empty));
        assert_eq!(phone("call me"), Err(Rejected::Invalid("phone number")));
        assert_eq!(phone("12345678901"), Err(Rejected::Junk));
        assert_eq!(phone("13888888888"), Err(Rejected::Junk));
        assert_eq!(phone("123"), Err(Rejected::Invalid("phone number")));
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("Maria Sentosa <Maria@Example.ORG>").as_deref(),
            Ok("maria@example.org")
        );
        assert_eq!(normalize_email(" A@B.CN ").as_deref(), Ok("a@b.cn"));
        assert_eq!(
            normalize_email("a@b"),
            Err(Rejected::Invalid("email address"))
        );
        assert_eq!(normalize_email("test@test.com"), Err(Rejected::Junk));
        assert_eq!(normalize_email("noreply@shop.cn"), Err(Rejected::Junk));
    }

    #[test]
    fn member_ids_and_social() {
        assert_eq!(normalize_member_id(" m 001 ").as_deref(), Ok("M001"));
        assert_eq!(normalize_member_id("0000000"), Err(Rejected::Junk));
        assert_eq!(
            normalize_social_id(" WeChat ", "o6_bm").as_deref(),
            Ok("wechat:o6_bm")
        );
    }

    #[test]
    fn idempotent_on_normalized_values() {
        let p = phone("138 0013 8000").expect("valid");
        assert_eq!(phone(&p).as_deref(), Ok(p.as_str()));
        let e = normalize_email("X <A@B.CN>").expect("valid");
        assert_eq!(normalize_email(&e).as_deref(), Ok(e.as_str()));
        let m = normalize_member_id("m-001").expect("valid");
        assert_eq!(normalize_member_id(&m).as_deref(), Ok(m.as_str()));
        let s = normalize_social_id("wechat", "abc").expect("valid");
        assert_eq!(normalize_social_id("wechat", &s).as_deref(), Ok(s.as_str()));
    }
}
