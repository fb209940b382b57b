//! Email addresses: display-name forms stripped, internationalized domains
//! to their ASCII (punycode) form, syntax checked, and provider rules for
//! the match key.

use crate::text::Rejected;

/// A normalized email: the stored value, and the match key when provider
/// rules make it differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub value: String,
    pub match_key: Option<String>,
}

const JUNK_LOCALS: &[&str] = &[
    "test",
    "testing",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "none",
    "null",
    "nil",
    "na",
    "n.a",
    "unknown",
    "nobody",
    "example",
    "sample",
    "asdf",
    "qwerty",
    "xxx",
    "abc",
    "aaa",
    "fake",
    "dummy",
    "customer",
    "guest",
    "nomail",
    "noemail",
];
const JUNK_DOMAINS: &[&str] = &[
    "test.com",
    "test.cn",
    "example.com",
    "example.org",
    "example.net",
    "example.cn",
    "localhost.localdomain",
    "none.com",
    "noemail.com",
    "nomail.com",
    "mailinator.com",
    "invalid",
    "fake.com",
    // A real free-mail domain of mail.com's, but typed as a placeholder
    // (`none@email.com`, `test@email.com`) at tills and on forms far more
    // often than a customer's address is on it: linking through such
    // placeholders glues strangers, so its few real addresses are given up.
    "email.com",
];

/// Mailboxes of a role, not a person (RFC 2142's and the ones shops see on
/// business customers' orders): linking by one would join everyone who
/// reads it, or the business to each of its buyers.
const ROLE_LOCALS: &[&str] = &[
    "info",
    "sales",
    "support",
    "admin",
    "office",
    "contact",
    "enquiries",
    "inquiries",
    "service",
    "customerservice",
    "orders",
    "billing",
    "accounts",
    "accounting",
    "marketing",
    "hr",
    "reception",
    "webmaster",
    "postmaster",
    "hostmaster",
    "abuse",
    "team",
    "hello",
];

/// Whether `text` has an e-mail address's shape (one `@`, something on
/// each side, a dot in the domain), without reading it: for telling an
/// address typed where something else goes (a consent's channel, an
/// account id that is the login e-mail) from the label it is not.
pub fn is_email_shaped(text: &str) -> bool {
    text.matches('@').count() == 1
        && text.split('@').all(|side| !side.is_empty())
        && text
            .rsplit('@')
            .next()
            .is_some_and(|domain| domain.contains('.'))
}

/// Normalizes an email address as typed or sent.
pub fn normalize_email(raw: &str, provider_rules: bool) -> Result<Email, Rejected> {
    // The address itself, without the dots (or an ellipsis) typed after it.
    let typed = addr_spec(raw).trim_end_matches(['.', '\u{2026}']);
    if typed.chars().any(splits_when_folded) {
        return Err(Rejected::Invalid);
    }
    let folded = crate::text::fold(raw);
    let s = addr_spec(&folded);
    let s = s
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
        .map_or(s, |_| &s[7..])
        .trim()
        .trim_end_matches('.');
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    let (local, domain) = s.rsplit_once('@').ok_or(Rejected::Invalid)?;
    let local = crate::text::fold_lower(local);
    if !valid_local(&local) {
        return Err(Rejected::Invalid);
    }
    if !domain.chars().all(idna_2008_letter) || !in_context(domain) {
        return Err(Rejected::Invalid);
    }
    // IDNA 2008 through UTS 46, strictly: letters, digits and hyphens, no
    // `--` in a label's third and fourth places unless it is an A-label,
    // DNS's lengths.
    let domain = idna::domain_to_ascii_strict(domain).map_err(|_| Rejected::Invalid)?;
    if !valid_domain(&domain) {
        return Err(Rejected::Invalid);
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    // The mailbox as typed, without its sub-address (`test+1`, which every
    // large provider delivers to `test`), and as its provider reads it
    // (Gmail's `n.o.n.e` is `none`): a placeholder or a role however it
    // is spelled, whether or not `provider_rules` links by the last.
    let provider_key = provider_match_key(&local, &domain);
    let mailboxes = [
        Some(local.as_str()),
        local.split('+').next(),
        provider_key
            .as_deref()
            .and_then(|k| k.rsplit_once('@'))
            .map(|(l, _)| l),
    ];
    let is = |list: &[&str]| mailboxes.iter().flatten().any(|l| list.contains(l));
    if is(JUNK_LOCALS) || JUNK_DOMAINS.contains(&domain.as_str()) || SPECIAL_USE_TLDS.contains(&tld)
    {
        return Err(Rejected::Junk);
    }
    if is(ROLE_LOCALS) {
        return Err(Rejected::Role);
    }
    let value = format!("{local}@{domain}");
    let match_key = provider_key
        .filter(|_| provider_rules)
        .filter(|k| *k != value);
    Ok(Email { value, match_key })
}

/// The address of `Maria Sentosa <maria@example.com>` and
/// `<maria@example.com>` (and of Outlook's `'maria@example.com'
/// <maria@example.com>`); any other text as it is, trimmed, which then
/// fails as invalid when it holds two addresses (`John <john@x.com>, Jane
/// <jane@y.com>`: whichever one picked would link John's event to Jane).
/// Full-width brackets count: the fold check reads the text before NFKC
/// makes them ASCII.
fn addr_spec(text: &str) -> &str {
    let open = text.char_indices().rfind(|(_, c)| matches!(c, '<' | '＜'));
    let close = text.char_indices().rfind(|(_, c)| matches!(c, '>' | '＞'));
    match (open, close) {
        (Some((at, o)), Some((close, c))) if at < close => {
            let inner = text[at + o.len_utf8()..close].trim();
            // Outlook's plain-text link form: `maria@x.com <mailto:maria@x.com>`.
            let inner = inner
                .get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
                .map_or(inner, |_| inner[7..].trim_start());
            let outside = [&text[..at], &text[close + c.len_utf8()..]];
            let another = outside.iter().any(|part| {
                part.contains(['<', '＜', '>', '＞'])
                    || part
                        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\''))
                        .any(|word| word.contains(['@', '＠']) && !word.eq_ignore_ascii_case(inner))
            });
            if another {
                text.trim()
            } else {
                inner
            }
        }
        _ => text.trim(),
    }
}

/// Names no mailbox anyone reads can be under (RFC 6761 `test`, `invalid`,
/// `localhost`; RFC 6762 `local`; RFC 7686 `onion`; RFC 9476 `alt`; `arpa`'s
/// private zones; RFC 2606 `example`): an address there is a form filled in
/// for a test or a private system, not a customer's.
const SPECIAL_USE_TLDS: &[&str] = &[
    "test",
    "invalid",
    "localhost",
    "local",
    "onion",
    "alt",
    "arpa",
    "example",
];

/// A character beyond ASCII that a domain name may hold: IDNA 2008 takes
/// letters, accents and digits, not symbols or punctuation (`💩.la`, which
/// UTS 46 alone would take), and of the letter-numbers only `〇`. Except:
/// the ideographic full stop that Chinese and Japanese keyboards type
/// between labels, and the punctuation IDNA 2008 allows in context (RFC
/// 5892's CONTEXTO, checked by [`in_context`]).
fn idna_2008_letter(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    c.is_ascii()
        || matches!(
            c,
            '\u{3002}'
                | '\u{3007}'
                | '\u{00B7}'
                | '\u{0375}'
                | '\u{05F3}'
                | '\u{05F4}'
                | '\u{30FB}'
        )
        || crate::text::is_letter_or_mark(c)
        || get_general_category(c) == G::DecimalNumber
}

/// RFC 5892's rules for the punctuation IDNA 2008 allows in context: the
/// middle dot only between two `l` (Catalan `col·legi`), the Greek keraia
/// only before a Greek letter, the Hebrew geresh and gershayim only after a
/// Hebrew letter, the katakana middle dot only in a label with kana or
/// Han.
fn in_context(domain: &str) -> bool {
    let greek = |c: char| matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}');
    let hebrew = |c: char| matches!(c, '\u{0590}'..='\u{05FF}');
    let kana_or_han = |c: char| {
        matches!(c,
            '\u{3040}'..='\u{30FA}' | '\u{30FC}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3FFFF}')
    };
    domain.split(['.', '\u{3002}']).all(|label| {
        let chars: Vec<char> = label.chars().collect();
        chars.iter().enumerate().all(|(i, &c)| {
            let before = i.checked_sub(1).and_then(|b| chars.get(b)).copied();
            let after = chars.get(i + 1).copied();
            match c {
                '\u{00B7}' => matches!(before, Some('l' | 'L')) && matches!(after, Some('l' | 'L')),
                '\u{0375}' => after.is_some_and(greek),
                '\u{05F3}' | '\u{05F4}' => before.is_some_and(hebrew),
                '\u{30FB}' => chars.iter().any(|&k| kana_or_han(k)),
                _ => true,
            }
        })
    })
}

/// A character whose compatibility form holds a full stop or an at sign
/// beside something else (`⒈` is `1.`): folded, it would make labels or
/// an address that were not typed. A full-width `．` or `＠` is one
/// character in another width and stays readable.
fn splits_when_folded(c: char) -> bool {
    use unicode_normalization::char::decompose_compatible;
    if c.is_ascii() {
        return false;
    }
    let mut parts = Vec::new();
    decompose_compatible(c, |d| parts.push(d));
    parts.len() > 1 && parts.iter().any(|d| matches!(d, '.' | '@'))
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().enumerate().all(|(i, c)| {
            if c.is_ascii() {
                c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
            } else {
                is_safe_unicode(c, i == 0)
            }
        })
}

/// A character beyond ASCII that an internationalized address (RFC 6532)
/// may hold and still be read as itself: a letter, number, punctuation or
/// symbol, or an accent after one. Not spaces, controls, format characters
/// (those the fold leaves), private-use or unassigned code points, nor an
/// accent at the start: each makes an address render as another, or as
/// nothing. (The rule of the `email-validator` library.)
fn is_safe_unicode(c: char, first: bool) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    match get_general_category(c) {
        G::NonspacingMark | G::SpacingMark | G::EnclosingMark => !first,
        G::SpaceSeparator
        | G::LineSeparator
        | G::ParagraphSeparator
        | G::Control
        | G::Format
        | G::PrivateUse
        | G::Surrogate
        | G::Unassigned => false,
        _ => true,
    }
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // A top-level domain ends in a letter (all of them do; `qq.123`
        // and `a.c1` are typos or addresses on a network).
        && labels
            .last()
            .is_some_and(|tld| tld.ends_with(|c: char| c.is_ascii_alphabetic()))
}

/// Provider rules: mailboxes that deliver several spellings to one inbox.
/// Gmail ignores dots and `+tags` (and googlemail.com is gmail.com);
/// Outlook, Hotmail, Live, iCloud and Fastmail ignore `+tags`. The match
/// key is computed here, at ingest, and stored with the event: adding a
/// provider would give its addresses' older events another key than the
/// new ones, so the list changes only with a re-ingest of the history.
fn provider_match_key(local: &str, domain: &str) -> Option<String> {
    let untagged = local.split('+').next().filter(|l| !l.is_empty())?;
    match domain {
        "gmail.com" | "googlemail.com" => Some(format!("{}@gmail.com", untagged.replace('.', ""))),
        "outlook.com" | "hotmail.com" | "live.com" | "icloud.com" | "me.com" | "fastmail.com" => {
            Some(format!("{untagged}@{domain}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> Result<String, Rejected> {
        normalize_email(raw, true).map(|e| e.value)
    }

    fn key(raw: &str) -> Option<String> {
        normalize_email(raw, true).ok().and_then(|e| e.match_key)
    }

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, Rejected>)] = &[
            ("maria@shop.cn", Ok("maria@shop.cn")),
            ("  Maria@Shop.CN ", Ok("maria@shop.cn")),
            (
                "Maria Sentosa <maria.sentosa@mail.co.id>",
                Ok("maria.sentosa@mail.co.id"),
            ),
            (
                "\"Sentosa, Maria\" <Maria@Mail.co.id>",
                Ok("maria@mail.co.id"),
            ),
            ("<li.wei@qq.com>", Ok("li.wei@qq.com")),
            // Copied with a zero-width space or a byte-order mark in it.
            ("li.wei\u{200B}@qq.com", Ok("li.wei@qq.com")),
            ("\u{FEFF}li.wei@qq.com", Ok("li.wei@qq.com")),
            ("mailto:li.wei@qq.com", Ok("li.wei@qq.com")),
            ("Mailto:li.wei@qq.com", Ok("li.wei@qq.com")),
            // Outlook's display name is the address itself.
            ("'li.wei@qq.com' <li.wei@qq.com>", Ok("li.wei@qq.com")),
            ("\"Li.Wei@qq.com\" <li.wei@qq.com>", Ok("li.wei@qq.com")),
            // Outlook's plain-text link form.
            ("maria@x.com <mailto:maria@x.com>", Ok("maria@x.com")),
            ("maria@x.com<MAILTO:maria@x.com>", Ok("maria@x.com")),
            ("maria@x.com <mailto:jane@x.com>", Err(Rejected::Invalid)),
            // Two addresses: neither is the customer's for sure.
            (
                "John <john@x.com>, Jane <jane@y.com>",
                Err(Rejected::Invalid),
            ),
            ("John <john@x.com>, jane@y.com", Err(Rejected::Invalid)),
            ("jane@y.com; John <john@x.com>", Err(Rejected::Invalid)),
            ("li.wei@qq.com.", Ok("li.wei@qq.com")),
            ("ｌｉ．ｗｅｉ＠ｑｑ．ｃｏｍ", Ok("li.wei@qq.com")),
            ("user@例子.中国", Ok("user@xn--fsqu00a.xn--fiqs8s")),
            ("user@münchen.de", Ok("user@xn--mnchen-3ya.de")),
            ("用户@例子.中国", Ok("用户@xn--fsqu00a.xn--fiqs8s")),
            ("o'brien+shop@eircom.ie", Ok("o'brien+shop@eircom.ie")),
            ("a@b.co", Ok("a@b.co")),
            ("", Err(Rejected::Empty)),
            ("  ", Err(Rejected::Empty)),
            ("li.wei", Err(Rejected::Invalid)),
            ("li.wei@", Err(Rejected::Invalid)),
            ("@qq.com", Err(Rejected::Invalid)),
            ("li wei@qq.com", Err(Rejected::Invalid)),
            ("li..wei@qq.com", Err(Rejected::Invalid)),
            (".liwei@qq.com", Err(Rejected::Invalid)),
            ("liwei@qq", Err(Rejected::Invalid)),
            ("liwei@qq..com", Err(Rejected::Invalid)),
            ("liwei@-qq.com", Err(Rejected::Invalid)),
            ("liwei@qq.123", Err(Rejected::Invalid)),
            ("li,wei@qq.com", Err(Rejected::Invalid)),
            // Checked against email-validator (tests/email_validator.rs).
            ("user@例子。中国", Ok("user@xn--fsqu00a.xn--fiqs8s")),
            ("liwei@qq.c1", Err(Rejected::Invalid)),
            ("liwei@ex--ample.com", Err(Rejected::Invalid)),
            ("liwei@⒈qq.com", Err(Rejected::Invalid)),
            ("liwei@💩.la", Err(Rejected::Invalid)),
            ("\u{301}liwei@qq.com", Err(Rejected::Invalid)),
            ("li\u{E000}wei@qq.com", Err(Rejected::Invalid)),
            ("li\u{3000}wei@qq.com", Err(Rejected::Invalid)),
            ("liwei@shop.test", Err(Rejected::Junk)),
            // A placeholder or a role however the provider reads it: with
            // a sub-address, or Gmail's dots.
            ("no.email@gmail.com", Err(Rejected::Junk)),
            ("n.o.n.e@gmail.com", Err(Rejected::Junk)),
            ("test+1@gmail.com", Err(Rejected::Junk)),
            ("test+2@qq.com", Err(Rejected::Junk)),
            ("support+x@outlook.com", Err(Rejected::Role)),
            ("info+shop@company.cn", Err(Rejected::Role)),
            // A person's name with dots, or a tag, is theirs.
            ("ma.ria+news@gmail.com", Ok("ma.ria+news@gmail.com")),
            ("testa.rossi@gmail.com", Ok("testa.rossi@gmail.com")),
            ("liwei@printer.local", Err(Rejected::Junk)),
            ("user@col·legi.cat", Ok("user@xn--collegi-xma.cat")),
            ("user@〇〇商店.jp", Ok("user@xn--w6ja917zu1h.jp")),
            ("Li Wei… <liwei@qq.com>", Ok("liwei@qq.com")),
            ("liwei@qq.com…", Ok("liwei@qq.com")),
            // Out of context (RFC 5892), and a letter-number IDNA 2008
            // refuses.
            ("user@a·b.cat", Err(Rejected::Invalid)),
            ("user@ab・cd.com", Err(Rejected::Invalid)),
            ("user@ab͵cd.gr", Err(Rejected::Invalid)),
            ("user@ᛮ.com", Err(Rejected::Invalid)),
            // Full-width brackets around the address.
            ("<x> ＜liwei@⒈qq.com＞", Err(Rejected::Invalid)),
            ("李伟… ＜liwei@qq.com＞", Ok("liwei@qq.com")),
            ("test@test.com", Err(Rejected::Junk)),
            ("noreply@shop.cn", Err(Rejected::Junk)),
            ("no-reply@shop.cn", Err(Rejected::Junk)),
            ("anyone@example.com", Err(Rejected::Junk)),
            ("none@none.com", Err(Rejected::Junk)),
            ("guest@shop.cn", Err(Rejected::Junk)),
            ("info@acme-trading.de", Err(Rejected::Role)),
            ("Sales@Acme.com", Err(Rejected::Role)),
            // A person whose address starts like a role's is a person.
            ("info.li@qq.com", Ok("info.li@qq.com")),
            ("salesman.joe@gmail.com", Ok("salesman.joe@gmail.com")),
        ];
        for (raw, want) in cases {
            assert_eq!(value(raw).as_deref(), want.as_deref(), "{raw:?}");
        }
    }

    #[test]
    fn provider_rules_change_only_the_match_key() {
        let e = normalize_email("John.Doe+newsletter@GoogleMail.com", true).expect("valid");
        assert_eq!(e.value, "john.doe+newsletter@googlemail.com");
        assert_eq!(e.match_key.as_deref(), Some("johndoe@gmail.com"));
        assert_eq!(key("johndoe@gmail.com"), None, "already its own key");
        assert_eq!(
            key("j.o.h.n.doe@gmail.com").as_deref(),
            Some("johndoe@gmail.com")
        );
        assert_eq!(
            key("maria+shop@outlook.com").as_deref(),
            Some("maria@outlook.com")
        );
        assert_eq!(key("maria.s@outlook.com"), None, "Outlook keeps dots");
        assert_eq!(key("li.wei+x@qq.com"), None, "no rule for other providers");
        let off = normalize_email("John.Doe+x@gmail.com", false).expect("valid");
        assert_eq!(off.match_key, None);
    }
}
