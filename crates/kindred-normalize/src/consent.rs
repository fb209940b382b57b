//! Consent statements: a source's purpose and channel labels read into the
//! names the golden record's `may_contact` flags read (purpose `marketing`;
//! channels `email`, `sms`, `wechat`, `push`, `all`).
//!
//! A withdrawal that kindred cannot read as one of those leaves the person
//! contactable, so the folding errs towards reading: `Marketing
//! Communications`, `营销` and `email_marketing` are marketing, `Text
//! message (SMS)` and `手机短信` are SMS, `Email & SMS` is a statement of
//! each, and a withdrawal naming no channel withdraws every channel. A
//! label naming no known purpose or channel is kept as typed (lower case),
//! never guessed from a part of a word.

use kindred_model::Consent;

use crate::text::{fold_lower, Rejected};

/// A consent purpose or channel label: lower case, spaces to underscores.
pub fn normalize_label(raw: &str) -> Option<String> {
    let s = fold_lower(&fold_lower(raw).replace([' ', '-'], "_"));
    (!s.is_empty()).then_some(s)
}

/// A consent's contact channel: [`normalize_label`], with the spellings
/// channel systems use for the contact channels folded into the names the
/// golden record's "may contact" flags read (`email`, `sms`, `wechat`,
/// `push`, `all`). Without this, a withdrawal sent as `E-mail` would never
/// override an older `email` grant, and the person would stay contactable.
/// A label naming several contact channels (`Email & SMS`) is kept as
/// typed here; [`consent_statements`] reads it as one statement of each.
pub fn normalize_consent_channel(raw: &str) -> Option<String> {
    if let Some([first, ..]) = contact_point_channels(raw, true) {
        return Some(first.to_string());
    }
    let label = normalize_label(raw)?;
    match named_channels(&label).as_slice() {
        [one] => Some(one.to_string()),
        _ => Some(label),
    }
}

/// A consent's purpose: [`normalize_label`], with the labels of direct
/// marketing (`Marketing Communications`, `direct_marketing`,
/// `promotions`, `营销`, `email_marketing`...) folded into `marketing`,
/// the purpose `may_contact` reads. Other purposes (`personalised_ads`,
/// `profiling`) are kept as typed.
pub fn normalize_consent_purpose(raw: &str) -> Option<String> {
    normalize_label(raw).map(purpose_of_label)
}

/// [`normalize_consent_purpose`] of a label already normalized.
fn purpose_of_label(label: String) -> String {
    if is_marketing(&label) {
        "marketing".to_string()
    } else {
        label
    }
}

/// The statements one consent of a source makes: its purpose
/// ([`normalize_consent_purpose`]) for each contact channel it names. A
/// channel label naming several channels is a statement of each; an empty
/// channel, or `all`, under a purpose that names channels
/// (`email_marketing`) is a statement of those. A withdrawal naming no
/// channel at all withdraws every channel (`all`): it must not be lost. A
/// grant naming none is refused, as is an empty purpose: consent is given
/// for something, never assumed.
pub fn consent_statements(
    purpose: &str,
    channel: &str,
    granted: bool,
) -> Result<Vec<Consent>, Rejected> {
    // A withdrawal naming no purpose (an SMS gateway's STOP), or a
    // contact point where the purpose goes, withdraws every purpose: it
    // must not be lost, and the contact point never kept. A grant of
    // either is refused: consent is given for something.
    let purpose_label = match normalize_label(purpose) {
        Some(label) if contact_point_channels(purpose, granted).is_none() => label,
        _ if !granted => kindred_model::EVERY_PURPOSE.to_string(),
        _ => return Err(Rejected::Invalid),
    };
    // Every purpose has one spelling (`all`), which the golden record's
    // withdrawal of every purpose is read under.
    let purpose = if names_every_purpose(&purpose_label) {
        kindred_model::EVERY_PURPOSE.to_string()
    } else {
        purpose_of_label(purpose_label.clone())
    };
    let from_purpose = if purpose == "marketing" {
        named_channels(&purpose_label)
    } else {
        Vec::new()
    };
    let channels: Vec<String> = match (
        contact_point_channels(channel, granted),
        normalize_label(channel),
    ) {
        // A contact point where the channel goes (a CRM's consent per
        // address or number): its channel, never the address itself, which
        // went out raw in the consent's key, and withdrew nothing
        // `may_contact` reads.
        (Some(channels), _) => channels.iter().map(|c| c.to_string()).collect(),
        (None, Some(label)) => {
            let named = named_channels(&label);
            if named.is_empty() {
                vec![label]
            } else if named == ["all"] && !from_purpose.is_empty() {
                from_purpose.iter().map(|c| c.to_string()).collect()
            } else {
                named.iter().map(|c| c.to_string()).collect()
            }
        }
        (None, None) if !from_purpose.is_empty() => {
            from_purpose.iter().map(|c| c.to_string()).collect()
        }
        (None, None) if !granted => vec!["all".to_string()],
        (None, None) => return Err(Rejected::Invalid),
    };
    // A withdrawal of every purpose (`all`, `All purposes`, `全部`) is one
    // of marketing too, where contact permission is read: a global
    // unsubscribe must not leave the person contactable.
    let purposes: Vec<String> = if !granted && purpose == kindred_model::EVERY_PURPOSE {
        vec![purpose, "marketing".to_string()]
    } else {
        vec![purpose]
    };
    Ok(purposes
        .iter()
        .flat_map(|purpose| {
            channels.iter().map(|channel| Consent {
                purpose: purpose.clone(),
                channel: channel.clone(),
                granted,
            })
        })
        .collect())
}

/// The channels a contact point typed where a channel goes stands for: an
/// e-mail address, e-mail; a phone number, SMS (a withdrawal: calls too,
/// `phone`). Read on the folded text (full-width `＠` and digits, as an
/// IME types them), an address inside a longer label too (`Ann Lee
/// <ann@x.cn>`), a number after `tel:` or before a note in brackets.
/// `None` for a channel label.
fn contact_point_channels(channel: &str, granted: bool) -> Option<&'static [&'static str]> {
    // Most labels hold neither an at sign nor seven digits (in any
    // script): read without folding them (every consent's purpose and
    // channel comes here).
    if !channel.contains(['@', '＠']) && channel.chars().filter(|c| c.is_numeric()).count() < 7 {
        return None;
    }
    // `。` is a CJK IME's dot (NFKC leaves it), in an address's domain too.
    let text = crate::text::fold(channel).replace('。', ".");
    let address = text
        .split(|c: char| c.is_whitespace() || "<>,;\"'()[]".contains(c))
        .any(|token| crate::email::is_email_shaped(token.strip_prefix("mailto:").unwrap_or(token)));
    // A number: the whole label (seven digits or more, `tel:` and a note
    // aside), or a run beside words (`WhatsApp +44 7700 900123`, `手机
    // 13812348000`, `Mobile: ...`) of nine digits or more or behind a `+`,
    // spaces and `+-.()/` inside it; not a date (`Email (2024-12-07)`) nor
    // a campaign's number (`email_campaign_1234567`).
    let mut number_part = text.as_str();
    if number_part
        .get(..4)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("tel:"))
    {
        number_part = &number_part[4..];
    }
    let number_part = match number_part.rsplit_once('(') {
        Some((before, note))
            if note.trim_end().ends_with(')') && !note.chars().any(|c| c.is_ascii_digit()) =>
        {
            before
        }
        _ => number_part,
    }
    .trim();
    let whole = number_part.chars().filter(char::is_ascii_digit).count() >= 7
        && number_part
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    let beside_words = text
        .split(|c: char| !(c.is_ascii_digit() || " +-.()/".contains(c)))
        .map(str::trim)
        .any(|run| {
            let digits = run.chars().filter(char::is_ascii_digit).count();
            (digits >= 9 || (digits >= 7 && run.starts_with('+'))) && !date_like(run)
        });
    let number = whole || beside_words;
    match (address, number, granted) {
        (true, _, _) => Some(&["email"]),
        (false, true, true) => Some(&["sms"]),
        (false, true, false) => Some(&["phone", "sms"]),
        _ => None,
    }
}

/// Whether a run of digits starts as a date does (`2024-12-07`,
/// `2024.12.07 10`): a year of 19xx or 20xx, then a separator.
fn date_like(run: &str) -> bool {
    let run = run.trim_start_matches(['(', ' ']);
    let b = run.as_bytes();
    b.len() > 5
        && (run.starts_with("19") || run.starts_with("20"))
        && b[..4].iter().all(u8::is_ascii_digit)
        && matches!(b[4], b'-' | b'.' | b'/')
}

/// Whether a purpose label names every purpose (`all`, `any`,
/// `all_purposes`, `全部`), not one of them (`all_season_offers` names
/// `all` with another word, and is not read so).
fn names_every_purpose(label: &str) -> bool {
    let ws: Vec<&str> = words(label).collect();
    let every = |w: &&str| {
        matches!(
            *w,
            "all" | "any" | "every" | "everything" | "全部" | "所有" | "全部用途" | "所有用途"
        )
    };
    let filler = |w: &&str| matches!(*w, "purpose" | "purposes" | "consents" | "consent" | "用途");
    ws.iter().any(every) && ws.iter().all(|w| every(w) || filler(w))
}

/// Words (a label's parts between separators) naming direct marketing.
const MARKETING_WORDS: &[&str] = &[
    "marketing",
    "promotion",
    "promotions",
    "promotional",
    "promo",
    "promos",
    // A newsletter is direct marketing (an unsubscribe from it must
    // withdraw marketing e-mail; one naming no channel withdraws every
    // channel, as any such withdrawal does); so are French `prospection`
    // (commerciale) and Korean 뉴스레터. Not `mailing`, which names service
    // mail as often.
    "newsletter",
    "newsletters",
    "prospection",
    "뉴스레터",
    "营销",
    "推广",
    "促销",
    "市场营销",
    "营销推广",
];

/// Chinese words naming direct marketing inside a longer word (Chinese
/// writes no separators: `营销短信` is marketing SMS).
/// Japanese's mail magazine (`メルマガ`, `メールマガジン`) likewise.
const MARKETING_INSIDE: &[&str] = &["营销", "推广", "促销", "メルマガ", "メールマガジン"];

fn is_marketing(label: &str) -> bool {
    words(label).any(|w| MARKETING_WORDS.contains(&w))
        || MARKETING_INSIDE.iter().any(|m| label.contains(m))
        || names_a_channel_subscription(label)
}

/// A subscription or an opt-in naming nothing but a channel (`Email
/// Subscription`, `SMS opt-in`, `Subscribe`): a shop's list, which is
/// direct marketing, so that unsubscribing withdraws it. Not one naming
/// another purpose (`analytics opt-in`, `subscription_billing`).
fn names_a_channel_subscription(label: &str) -> bool {
    let ws: Vec<&str> = words(label).collect();
    let subscription = |w: &str| {
        matches!(
            w,
            "subscription" | "subscriptions" | "subscribe" | "subscribed" | "optin"
        ) || w.strip_suffix("订阅").is_some_and(|channel| {
            // Chinese writes no separators: `邮件订阅`, `短信订阅`.
            channel.is_empty() || CHANNELS_INSIDE.iter().any(|(word, _)| *word == channel)
        })
    };
    let opt_in = ws.windows(2).any(|p| p == ["opt", "in"]);
    // A channel typed in two words (`E-mail`, `We Chat`, `text message`):
    // each half names it beside the other only.
    let half_of_a_channel = |i: usize| {
        let (before, after) = (i.checked_sub(1).and_then(|j| ws.get(j)), ws.get(i + 1));
        match ws[i] {
            "e" => after == Some(&"mail"),
            "mail" => before == Some(&"e"),
            "we" => after == Some(&"chat"),
            "chat" => before == Some(&"we"),
            "message" | "messages" => matches!(before, Some(&"text" | &"sms")),
            _ => false,
        }
    };
    (opt_in || ws.iter().any(|w| subscription(w)))
        && (0..ws.len()).all(|i| {
            let w = ws[i];
            subscription(w)
                || matches!(w, "opt" | "in" | "consent" | "list")
                || half_of_a_channel(i)
                || channel_of_word(w).is_some()
        })
}

/// A label's words: its parts between anything not a letter or digit.
fn words(label: &str) -> impl Iterator<Item = &str> {
    label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The contact channels a channel word names.
fn channel_of_word(word: &str) -> Option<&'static str> {
    Some(match word {
        // Not `mail`: in many consent feeds that is postal mail.
        "email" | "emails" | "edm" | "电子邮件" | "邮件" | "邮箱" => "email",
        "sms" | "mms" | "text" | "texts" | "短信" | "彩信" => "sms",
        "push" | "推送" => "push",
        "wechat" | "weixin" | "微信" => "wechat",
        "all" | "any" | "全部" | "所有渠道" | "全渠道" => "all",
        _ => return None,
    })
}

/// Chinese channel words inside a longer word (`手机短信`, `微信推送`).
const CHANNELS_INSIDE: &[(&str, &str)] = &[
    ("电子邮件", "email"),
    ("邮件", "email"),
    ("邮箱", "email"),
    ("短信", "sms"),
    ("彩信", "sms"),
    ("推送", "push"),
    ("微信", "wechat"),
    ("全渠道", "all"),
    ("所有渠道", "all"),
];

/// The contact channels a label names, sorted and distinct: whole words
/// (`Text message (SMS)`: `text`, `sms`), `e mail` and `we chat` typed in
/// two, Chinese channel words inside longer words. `all` stands alone: a
/// label naming `all` and a channel (`all_email`) names the channel.
fn named_channels(label: &str) -> Vec<&'static str> {
    let ws: Vec<&str> = words(label).collect();
    let mut found: Vec<&'static str> = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        let next = ws.get(i + 1).copied().unwrap_or("");
        let channel = match (*w, next) {
            ("e", "mail" | "mails") => Some("email"),
            ("we", "chat") => Some("wechat"),
            ("app", "push") | ("mobile", "push") => Some("push"),
            _ => channel_of_word(w),
        };
        found.extend(channel);
        if !w.is_ascii() {
            found.extend(
                CHANNELS_INSIDE
                    .iter()
                    .filter(|(word, _)| w.contains(word))
                    .map(|&(_, c)| c),
            );
        }
    }
    found.sort_unstable();
    found.dedup();
    if found.len() > 1 {
        found.retain(|c| *c != "all");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(purpose: &str, channel: &str, granted: bool) -> Vec<String> {
        consent_statements(purpose, channel, granted)
            .map(|v| {
                v.into_iter()
                    .map(|c| format!("{}:{}", c.purpose, c.channel))
                    .collect()
            })
            .unwrap_or_else(|_| vec!["refused".to_string()])
    }

    #[test]
    fn consent_channels_fold_to_the_contact_channels() {
        for (raw, want) in [
            ("E-mail", "email"),
            ("EMAIL", "email"),
            ("e mail", "email"),
            ("邮件", "email"),
            ("E-Mail Newsletter", "email"),
            ("Text Message", "sms"),
            ("Text message (SMS)", "sms"),
            ("SMS/MMS", "sms"),
            ("短信", "sms"),
            ("手机短信", "sms"),
            ("Push Notification", "push"),
            ("app_push", "push"),
            ("WeChat", "wechat"),
            ("We-Chat", "wechat"),
            ("All Channels", "all"),
            ("全渠道", "all"),
            ("in_store", "in_store"),
            ("mail", "mail"),
            ("postal_mail", "postal_mail"),
            ("context", "context"),
            ("Email & SMS", "email_&_sms"),
        ] {
            assert_eq!(
                normalize_consent_channel(raw).as_deref(),
                Some(want),
                "{raw}"
            );
        }
        assert_eq!(normalize_consent_channel("  "), None);
    }

    #[test]
    fn labels_are_lower_case_with_underscores() {
        assert_eq!(
            normalize_label("Marketing Email").as_deref(),
            Some("marketing_email")
        );
    }

    #[test]
    fn marketing_purposes_fold_to_marketing() {
        for raw in [
            "marketing",
            " MARKETING ",
            "Marketing Communications",
            "direct_marketing",
            "promotions",
            "Marketing-Email",
            "email_marketing",
            "营销",
            "营销短信",
            "市场推广",
            // An unsubscribe from a newsletter withdraws marketing e-mail.
            "newsletter",
            "Email Newsletter",
            "prospection commerciale",
            "メルマガ配信",
            "뉴스레터",
            // A channel's list: unsubscribing from it withdraws marketing.
            "Email Subscription",
            "sms_opt_in",
            "SMS opt-in",
            "Subscribe",
            "email optin",
            "邮件订阅",
            "E-mail Subscription",
            "Text message opt-in",
            "All subscriptions",
        ] {
            assert_eq!(
                normalize_consent_purpose(raw).as_deref(),
                Some("marketing"),
                "{raw}"
            );
        }
        for (raw, kept) in [
            ("personalised_ads", "personalised_ads"),
            ("Profiling", "profiling"),
            ("analytics", "analytics"),
            ("service_mailing", "service_mailing"),
            ("analytics opt-in", "analytics_opt_in"),
            // Words that name no channel alone: not read as every channel.
            ("Mobile opt-in", "mobile_opt_in"),
            ("App opt-in", "app_opt_in"),
            ("subscription_billing", "subscription_billing"),
        ] {
            assert_eq!(normalize_consent_purpose(raw).as_deref(), Some(kept));
        }
    }

    #[test]
    fn a_statement_for_each_channel_named() {
        assert_eq!(
            statements("marketing", "Email & SMS", false),
            ["marketing:email", "marketing:sms"]
        );
        assert_eq!(
            statements("email_marketing", "all", false),
            ["marketing:email"]
        );
        assert_eq!(statements("email_marketing", "", true), ["marketing:email"]);
        assert_eq!(statements("Marketing", "sms", true), ["marketing:sms"]);
        assert_eq!(
            statements("profiling", "in store", true),
            ["profiling:in_store"]
        );
    }

    #[test]
    fn a_withdrawal_naming_no_channel_withdraws_all_and_a_grant_is_refused() {
        assert_eq!(statements("marketing", "", false), ["marketing:all"]);
        assert_eq!(statements("marketing", "  ", false), ["marketing:all"]);
        assert_eq!(statements("marketing", "", true), ["refused"]);
        // An SMS gateway's STOP names no purpose: every purpose withdrawn.
        assert_eq!(statements("", "sms", false), ["all:sms", "marketing:sms"]);
        assert_eq!(statements("", "sms", true), ["refused"]);
    }

    /// A consent stated per contact point (a CRM's address or number
    /// where the channel goes) is a statement of its channel: the address
    /// went out raw in the golden record's consent key, and the withdrawal
    /// withdrew nothing `may_contact` reads. `bob@text.com` is an address,
    /// not the word `text` (SMS).
    #[test]
    fn a_contact_point_in_the_channel_is_its_channel_never_kept() {
        assert_eq!(
            statements("marketing", "ann.lee@mail.cn", false),
            ["marketing:email"]
        );
        assert_eq!(
            statements("marketing", "bob@text.com", true),
            ["marketing:email"]
        );
        assert_eq!(
            statements("marketing", "+86 138 1234 8000", false),
            ["marketing:phone", "marketing:sms"]
        );
        assert_eq!(
            statements("marketing", "13812348000", true),
            ["marketing:sms"]
        );
        // A channel label with a few digits is still a label.
        assert_eq!(statements("marketing", "sms 2024", true).len(), 1);
        // As an IME types them, inside a display name, after `tel:`, with
        // a note (helper-183).
        for (channel, granted, expected) in [
            ("ann.lee＠mail.cn", false, &["marketing:email"][..]),
            ("Ann Lee <ann@x.cn>", false, &["marketing:email"]),
            ("１３８１２３４８０００", true, &["marketing:sms"]),
            ("tel:+8613812348000", true, &["marketing:sms"]),
            (
                "138 1234 8000 (mobile)",
                false,
                &["marketing:phone", "marketing:sms"],
            ),
            // helper-184: brackets around an area code, TEL:, the IME's dot.
            (
                "(021) 6123 4567",
                false,
                &["marketing:phone", "marketing:sms"],
            ),
            ("+1 (415) 555-0123", true, &["marketing:sms"]),
            ("Tel:+8613812348000", true, &["marketing:sms"]),
            ("ann.lee@qq。com", false, &["marketing:email"]),
            ("bob@text。com", false, &["marketing:email"]),
            // A date or a campaign's number in the label is no phone.
            ("Email (2024-12-07)", false, &["marketing:email"]),
            ("email_campaign_1234567", false, &["marketing:email"]),
            // helper-194: a number beside words.
            ("WhatsApp +44 7700 900123", true, &["marketing:sms"]),
            (
                "Mobile: 13812348000",
                false,
                &["marketing:phone", "marketing:sms"],
            ),
            (
                "手机 13812348000",
                false,
                &["marketing:phone", "marketing:sms"],
            ),
        ] {
            assert_eq!(
                statements("marketing", channel, granted),
                expected,
                "{channel}"
            );
        }
    }

    /// A contact point where the purpose goes is never kept: a withdrawal
    /// withdraws every purpose on its channel, a grant is refused.
    #[test]
    fn a_contact_point_in_the_purpose_is_never_kept() {
        assert_eq!(
            statements("ann.lee@mail.cn", "email", false),
            ["all:email", "marketing:email"]
        );
        assert_eq!(statements("ann.lee@mail.cn", "email", true), ["refused"]);
        assert_eq!(statements("13812348000", "sms", true), ["refused"]);
        // A date in the purpose is no contact point.
        assert_eq!(
            statements("Newsletter 2024-12-07", "email", true),
            ["marketing:email"]
        );
    }

    #[test]
    fn a_withdrawal_of_every_purpose_withdraws_marketing() {
        assert_eq!(
            statements("all", "email", false),
            ["all:email", "marketing:email"]
        );
        // One spelling, whatever the form typed.
        assert_eq!(
            statements("All purposes", "", false),
            ["all:all", "marketing:all"]
        );
        assert_eq!(
            statements("全部", "短信", false),
            ["all:sms", "marketing:sms"]
        );
        assert_eq!(statements("Any consent", "", true), ["refused"]);
        // A grant of them is read as typed: consent is never assumed.
        assert_eq!(statements("all", "email", true), ["all:email"]);
        // A purpose naming `all` with other words is not every purpose.
        assert_eq!(
            statements("all_season_offers", "email", false),
            ["all_season_offers:email"]
        );
    }
}
