//! Member cards, social platform ids, web accounts and devices.

use crate::text::{fold, fold_lower, fold_upper, Rejected};

const JUNK_IDS: &[&str] = &[
    "null",
    "undefined",
    "none",
    "nil",
    "nan",
    "unknown",
    "anonymous",
    "guest",
    "test",
    "n/a",
    "-",
    "0",
    "-1",
    "[object object]",
    "(null)",
    "<null>",
    "false",
];

/// A member card number: NFKC, spaces removed, upper-cased. Cards of one
/// repeated character, plain runs (`12345678`) and cards shorter than four
/// characters are junk (a cashier's default or a typo).
pub fn normalize_member_card(raw: &str) -> Result<String, Rejected> {
    // A card number typed on an Arabic or Indian keyboard is the same number.
    let s: String = crate::text::ascii_digits(&fold_upper(crate::text::without_zero_fraction(raw)))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Rejected::Invalid);
    }
    let significant: Vec<u8> = s.bytes().filter(u8::is_ascii_alphanumeric).collect();
    if significant.len() < 4 {
        return Err(Rejected::Junk);
    }
    // An all-digit card links without its leading zeros
    // (`kindred_model::member_card_link_value`): a till padding the
    // cashier's `12345678` or `8888` to ten digits (`0012345678`,
    // `0000008888`) is the same placeholder. Fewer than four digits left
    // (`00000022`, `00000123`): an early member's card, as typed.
    let digits = significant.iter().all(u8::is_ascii_digit);
    let zeros = significant.iter().take_while(|&&b| b == b'0').count();
    let linked = if digits && significant.len() - zeros >= 4 {
        &significant[zeros..]
    } else {
        &significant[..]
    };
    let repeated = linked.windows(2).all(|w| w[0] == w[1]);
    let run =
        linked.len() >= 6 && digits && linked.windows(2).all(|w| (w[1] + 10 - w[0]) % 10 == 1);
    if repeated || run {
        return Err(Rejected::Junk);
    }
    Ok(s)
}

/// A loyalty program code: upper-cased, NFKC, no spaces.
pub fn normalize_program(raw: &str) -> Option<String> {
    let s: String = fold_upper(raw)
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!s.is_empty()).then_some(s)
}

/// A social platform's canonical name: lower case, with common aliases and
/// Chinese names mapped (`WeChat`, `weixin`, `微信` -> `wechat`).
pub fn normalize_platform(raw: &str) -> Option<String> {
    // Fold again after removing separators: `c ̧` becomes `ç` only then.
    let s = fold_lower(&fold_lower(raw).replace([' ', '_', '-'], ""));
    let name = match s.as_str() {
        "" => return None,
        "wechat" | "weixin" | "wx" | "微信" | "wechatminiprogram" | "miniprogram" => "wechat",
        "weibo" | "sinaweibo" | "微博" => "weibo",
        "douyin" | "抖音" | "tiktokcn" => "douyin",
        "xiaohongshu" | "xhs" | "red" | "rednote" | "小红书" => "xiaohongshu",
        "tiktok" => "tiktok",
        "instagram" | "ig" | "insta" => "instagram",
        "facebook" | "fb" | "meta" => "facebook",
        "line" => "line",
        "whatsapp" | "wa" => "whatsapp",
        "kakaotalk" | "kakao" => "kakaotalk",
        "x" | "twitter" => "x",
        other => return Some(other.to_string()),
    };
    Some(name.to_string())
}

/// An opaque id from a platform, account system or device: trimmed, kept
/// case-sensitive (openids, cookie ids are), namespaced as `namespace:id`.
/// Already namespaced input is returned as it is (idempotence).
pub fn normalize_namespaced_id(namespace: &str, raw: &str) -> Result<String, Rejected> {
    let id = fold(raw);
    let prefix = format!("{namespace}:");
    let id = id.strip_prefix(&prefix).unwrap_or(&id);
    if id.is_empty() {
        return Err(Rejected::Empty);
    }
    if JUNK_IDS.contains(&id.to_lowercase().as_str()) || one_repeated_character(id) {
        return Err(Rejected::Junk);
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) || id.len() > 256 {
        return Err(Rejected::Invalid);
    }
    Ok(format!("{namespace}:{id}"))
}

/// A long id (16 or more letters and digits) of one character repeated,
/// separators aside: an unset SDK value (the zeroed advertising id
/// `00000000-0000-0000-0000-000000000000`, `ffffffff...`), which every
/// device without one sends. Shorter ones are left alone: `111` or the
/// vanity `88888888` may be an account number.
fn one_repeated_character(id: &str) -> bool {
    let significant: Vec<char> = id.chars().filter(|c| c.is_alphanumeric()).collect();
    match significant.first() {
        None => true,
        Some(first) => {
            significant.len() >= 16 && significant.iter().all(|c| c.eq_ignore_ascii_case(first))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_cards() {
        let cases: &[(&str, Result<&str, Rejected>)] = &[
            (" m-a001 ", Ok("M-A001")),
            ("m a 0 0 1", Ok("MA001")),
            ("ｍ００１２３", Ok("M00123")),
            ("6222 0202 0011 2233", Ok("6222020200112233")),
            // Typed on an Arabic or a Hindi keyboard.
            ("٤٨٢٠ ٥٧٣٩", Ok("48205739")),
            ("M-४८२०५७", Ok("M-482057")),
            ("١٢٣٤٥٦٧٨", Err(Rejected::Junk)),
            ("", Err(Rejected::Empty)),
            ("M#001", Err(Rejected::Invalid)),
            ("0000000", Err(Rejected::Junk)),
            ("88888888", Err(Rejected::Junk)),
            ("12345678", Err(Rejected::Junk)),
            ("M1", Err(Rejected::Junk)),
            // Zero-padded by a till: linked as the placeholder it pads.
            ("0012345678", Err(Rejected::Junk)),
            ("00123456", Err(Rejected::Junk)),
            ("0000008888", Err(Rejected::Junk)),
            ("0088888888", Err(Rejected::Junk)),
            // An early member's card, padded, stays one.
            ("00000123", Ok("00000123")),
            ("0001234", Ok("0001234")),
            ("0000000022", Ok("0000000022")),
            ("0000000001", Ok("0000000001")),
            // A member number that is a run only once its zeros are gone
            // but shorter than the runs refused (six digits)...
            ("0000002345", Ok("0000002345")),
            // Through a spreadsheet as a decimal.
            ("6282488140.0", Ok("6282488140")),
            // Beyond a float's exact digits: maybe another card's number.
            ("9876543210987652.0", Err(Rejected::Invalid)),
            ("6282.4881", Err(Rejected::Invalid)),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize_member_card(raw).as_deref(),
                want.as_deref(),
                "{raw:?}"
            );
        }
        assert_eq!(normalize_program(" vip club ").as_deref(), Some("VIPCLUB"));
    }

    #[test]
    fn platforms_and_ids() {
        for (raw, want) in [
            ("WeChat", "wechat"),
            ("微信", "wechat"),
            ("weixin", "wechat"),
            ("小红书", "xiaohongshu"),
            ("XHS", "xiaohongshu"),
            ("抖音", "douyin"),
            ("Sina Weibo", "weibo"),
            ("IG", "instagram"),
            ("Facebook", "facebook"),
            ("Mastodon", "mastodon"),
        ] {
            assert_eq!(normalize_platform(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(normalize_platform("  "), None);
        assert_eq!(
            normalize_namespaced_id("wechat", " oA_b1 ").as_deref(),
            Ok("wechat:oA_b1")
        );
        assert_eq!(
            normalize_namespaced_id("wechat", "wechat:oA_b1").as_deref(),
            Ok("wechat:oA_b1")
        );
        assert_eq!(
            normalize_namespaced_id("web", "undefined"),
            Err(Rejected::Junk)
        );
        assert_eq!(
            normalize_namespaced_id("web", "a b"),
            Err(Rejected::Invalid)
        );
        // Unset SDK values every device without an id sends.
        for junk in [
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "[object Object]",
            "-1",
            "---",
        ] {
            assert_eq!(
                normalize_namespaced_id("device", junk),
                Err(Rejected::Junk),
                "{junk}"
            );
        }
        // A small shop's account numbers are ids.
        for id in ["7", "111", "1111111", "88888888"] {
            assert!(normalize_namespaced_id("web", id).is_ok(), "{id}");
        }
        assert_eq!(normalize_namespaced_id("web", ""), Err(Rejected::Empty));
    }
}
