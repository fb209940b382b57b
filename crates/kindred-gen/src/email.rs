//! Email addresses: how people choose them, write them and mistype them.

use rand::Rng;

use crate::country::{email_domains, full_width, Country, WORK_DOMAINS};
use crate::dice::{digits_nz, pick, weighted};
use crate::names::{neighbour, Name};

/// The key under which two spellings reach the same mailbox: lower case,
/// and for providers that ignore them, without dots (Gmail) and `+tags`.
/// Used for uniqueness (two customers never share a mailbox by accident).
pub(crate) fn mailbox_key(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    let untagged = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", untagged.replace('.', "")),
        "outlook.com" | "hotmail.com" | "live.com" | "icloud.com" | "me.com" | "fastmail.com" => {
            format!("{untagged}@{domain}")
        }
        _ => format!("{local}@{domain}"),
    }
}

/// A personal address for this person (`attempt` > 0 after a clash adds digits).
pub(crate) fn personal<R: Rng + ?Sized>(
    rng: &mut R,
    country: Country,
    name: &Name,
    birth_year: Option<i32>,
    attempt: u32,
) -> String {
    let (domains, weights) = email_domains(country);
    let domain = domains[weighted(rng, weights)];
    let g = name.roman_given.replace([' ', '-', '\''], "");
    let f = name.roman_family.replace([' ', '-', '\''], "");
    let first_initial = g.chars().next().unwrap_or('x');
    let yy = birth_year.map(|y| format!("{:02}", y % 100));
    let year = birth_year.map(|y| y.to_string());
    let n2 = format!("{:02}", rng.random_range(1..100));
    let mut local = if domain == "qq.com" && rng.random_bool(0.6) {
        // QQ numbers.
        let n = rng.random_range(6..11);
        digits_nz(rng, n)
    } else {
        match rng.random_range(0..10) {
            0 | 1 => format!("{g}.{f}"),
            2 => format!("{g}{f}"),
            3 => format!("{f}{g}{}", yy.unwrap_or(n2)),
            4 => format!("{first_initial}{f}"),
            5 => format!("{g}_{f}"),
            6 => format!("{g}.{f}{n2}"),
            7 => format!("{f}.{g}"),
            8 => format!("{g}{}", year.unwrap_or_else(|| digits_nz(rng, 4))),
            _ => format!(
                "{}{}",
                pick(
                    rng,
                    &["lucky", "sunny", "happy", "blue", "little", "cool", "star", "moon"]
                ),
                pick(
                    rng,
                    &["cat", "fish", "bear", "sky", "rain", "tree", "fox", "girl", "boy"]
                )
            ),
        }
    };
    if local.is_empty() || local.starts_with('.') {
        local = format!("user{}", digits_nz(rng, 6));
    }
    if attempt > 0 {
        local.push_str(
            &rng.random_range(1..10u32.pow(attempt.min(6) + 1))
                .to_string(),
        );
    }
    format!("{local}@{domain}")
}

/// A work address.
pub(crate) fn work<R: Rng + ?Sized>(rng: &mut R, name: &Name, attempt: u32) -> String {
    let g = name.roman_given.replace([' ', '-', '\''], "");
    let f = name.roman_family.replace([' ', '-', '\''], "");
    let domain = pick(rng, WORK_DOMAINS);
    let mut local = if rng.random_bool(0.6) {
        format!("{g}.{f}")
    } else {
        format!("{}{f}", g.chars().next().unwrap_or('x'))
    };
    if attempt > 0 {
        local.push_str(&attempt.to_string());
    }
    format!("{local}@{domain}")
}

fn title_local(local: &str) -> String {
    local
        .split('.')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The address written differently: same mailbox, other text.
pub(crate) fn variant<R: Rng + ?Sized>(rng: &mut R, email: &str, display: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email.to_uppercase();
    };
    let gmail = matches!(domain, "gmail.com" | "googlemail.com");
    let tags = gmail
        || matches!(
            domain,
            "outlook.com" | "hotmail.com" | "live.com" | "icloud.com" | "me.com"
        );
    let r = rng.random_range(0..100);
    let s = match r {
        0..=14 => email.to_uppercase(),
        15..=29 => format!("{}@{domain}", title_local(local)),
        30..=37 => format!("{local}@{}", domain.to_uppercase()),
        38..=49 => format!(" {email} "),
        50..=57 => format!("{display} <{email}>"),
        58..=60 => format!("mailto:{email}"),
        61..=63 => format!("{email}."),
        64..=66 => full_width(email),
        67..=79 if gmail && local.contains('.') => format!("{}@{domain}", local.replace('.', "")),
        67..=79 if gmail && local.len() > 3 => {
            let cut = rng.random_range(1..local.len());
            if local.is_char_boundary(cut) {
                format!("{}.{}@{domain}", &local[..cut], &local[cut..])
            } else {
                email.to_uppercase()
            }
        }
        80..=91 if tags => format!(
            "{local}+{}@{domain}",
            pick(rng, &["shop", "promo", "news", "retail", "vip"])
        ),
        92..=99 if domain == "gmail.com" => format!("{local}@googlemail.com"),
        _ => format!("{}@{domain}", title_local(local)),
    };
    if s == email {
        email.to_uppercase()
    } else {
        s
    }
}

/// A mistyped address: another identifier that no mailbox answers.
pub(crate) fn typo<R: Rng + ?Sized>(rng: &mut R, email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return format!("{email}m");
    };
    const DOMAIN_TYPOS: &[(&str, &[&str])] = &[
        (
            "gmail.com",
            &[
                "gmial.com",
                "gmai.com",
                "gmail.co",
                "gamil.com",
                "gmail.cm",
                "gmaill.com",
                "gmail.con",
            ],
        ),
        ("qq.com", &["qq.co", "qq.cm", "qq.con", "qqq.com", "q.com"]),
        (
            "163.com",
            &["136.com", "163.co", "163.con", "16.com", "163.cm"],
        ),
        ("126.com", &["162.com", "126.co", "126.con"]),
        (
            "hotmail.com",
            &["hotmial.com", "hotmail.co", "hotmai.com", "hotmali.com"],
        ),
        (
            "outlook.com",
            &["outlok.com", "outllook.com", "outlook.co", "outloo.com"],
        ),
        ("yahoo.com", &["yaho.com", "yahooo.com", "yahoo.co"]),
        ("icloud.com", &["iclould.com", "icoud.com", "icloud.co"]),
        ("sina.com", &["sian.com", "sina.con"]),
        ("foxmail.com", &["foxmial.com", "foxmail.co"]),
    ];
    if rng.random_bool(0.55) {
        if let Some((_, typos)) = DOMAIN_TYPOS.iter().find(|(d, _)| *d == domain) {
            return format!("{local}@{}", pick(rng, typos));
        }
        // A letter dropped from the domain's first label.
        let (label, rest) = domain.split_once('.').unwrap_or((domain, "com"));
        if label.len() > 2 && label.is_ascii() {
            let i = rng.random_range(1..label.len());
            return format!("{}{}.{rest}", &label[..i], &label[i + 1..]);
        }
    }
    let chars: Vec<char> = local.chars().collect();
    // Positions whose edit keeps the address valid (no dot at either end, no `..`).
    let letters: Vec<usize> = (0..chars.len())
        .filter(|i| chars[*i].is_ascii_alphanumeric())
        .collect();
    if letters.len() < 2 {
        return format!("{local}{}@{domain}", rng.random_range(0..10));
    }
    let mut out = chars.clone();
    match rng.random_range(0..4) {
        0 => {
            let pairs: Vec<usize> = letters
                .windows(2)
                .filter(|w| w[1] == w[0] + 1 && chars[w[0]] != chars[w[1]])
                .map(|w| w[0])
                .collect();
            if pairs.is_empty() {
                out.push('1');
            } else {
                let i = *pick(rng, &pairs);
                out.swap(i, i + 1);
            }
        }
        1 => {
            let i = *pick(rng, &letters);
            let prev_dot = i > 0 && chars[i - 1] == '.';
            let next_dot = i + 1 < chars.len() && chars[i + 1] == '.';
            // Removing it must not leave a dot at either end or two in a row.
            let breaks = (next_dot && (prev_dot || i == 0)) || (prev_dot && i + 1 == chars.len());
            if !breaks {
                out.remove(i);
            } else {
                out.insert(i, chars[i]);
            }
        }
        2 => {
            let i = *pick(rng, &letters);
            out.insert(i, chars[i]);
        }
        _ => {
            let i = *pick(rng, &letters);
            if chars[i].is_ascii_alphabetic() {
                out[i] = neighbour(rng, chars[i]);
            } else {
                out[i] = char::from(b'0' + ((chars[i] as u8 - b'0' + 1) % 10));
            }
        }
    }
    let new_local: String = out.into_iter().collect();
    if new_local == local || new_local.is_empty() {
        format!("{local}x@{domain}")
    } else {
        format!("{new_local}@{domain}")
    }
}
