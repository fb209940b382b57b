//! The attribute comparison of scored match rules (`min_score`): how much
//! two records' descriptive attributes say they are one person, tolerant of
//! typos, in the manner of Fellegi and Sunter.
//!
//! Each attribute both records carry adds an agreement weight or a
//! disagreement weight; an attribute either lacks adds nothing. The weights
//! are rounded log2 odds (how much likelier the outcome is for one person
//! than for two people who share the rule's block):
//!
//! | attribute | agrees | nearly (typo) | disagrees |
//! |---|---|---|---|
//! | name (token-aware Jaro-Winkler) | +6 at 0.95 | +3 at 0.92, else -4 | refused below `min_name_similarity` |
//! | birthday | +10 | +3 (one digit, or day and month swapped; two equal 1 Januaries, a year alone or a form's default) | -6 (0 for a 1 January beside a date of its year) |
//! | postal code | +6 | +1 (one character changed, dropped or added, or two neighbours swapped) | -2 (people move) |
//! | city | +2 (Jaro-Winkler 0.9) | | -1 |
//! | country (when both state one) | | | postal code -2, city -1, street line 0, whatever they say |
//! | street line | +5 (Jaro-Winkler 0.9, or one record's line 2 naming the other's street; 0 when postal code and city say another place, or the house numbers differ) | | -1 |
//! | gender | 0 | | -8 |
//!
//! Names that clearly differ refuse the pair whatever the rest says (twins
//! share a birthday and an address), as the name guard does for weak links;
//! so do given names that differ, typed in their own fields, however alike
//! the whole names rate (a shared family name lifts them).

use kindred_model::{Address, CanonicalEvent};

use crate::keys::EventKeys;
use crate::names::{
    jaro_winkler, matched_tokens, person_similarity_for_rules, plain_eq, token_alike_with_nicknames,
};

/// Similarity of two folded names (tokens sorted): the better of
/// Jaro-Winkler over the whole (typos in several tokens) and the mean over
/// the tokens, each token of the shorter name matched to one of its own in
/// the other ([`matched_tokens`]), so a typo in one token or a dropped
/// middle name costs little and a given name is never matched to the
/// other's family name (`li lin` / `li yi'ni`, sisters). The whole can
/// still rate names of shared letters high (`namei wang` / `meina wang`
/// 0.92, the "nearly" band); dropping it cost FEBRL 0.015 F1 (BENCHMARKS.md).
/// A one-token name (a bare family name, or a missing space) is compared
/// whole and against each token, both ways.
pub(crate) fn token_similarity(a: &str, b: &str) -> f64 {
    if plain_eq(a, b) {
        return 1.0;
    }
    let whole = jaro_winkler(a, b);
    let (ta, tb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    let (short, long) = if ta.len() <= tb.len() {
        (&ta, &tb)
    } else {
        (&tb, &ta)
    };
    if short.len() >= 2 {
        let matched = matched_tokens(short, long, token_alike_with_nicknames);
        let mean = matched.iter().sum::<f64>() / short.len() as f64;
        return whole.max(mean);
    }
    let best_mean = |x: &[&str], y: &[&str]| {
        x.iter()
            .map(|t| {
                y.iter()
                    .map(|u| token_alike_with_nicknames(t, u))
                    .fold(0.0, f64::max)
            })
            .sum::<f64>()
            / x.len() as f64
    };
    whole.max((best_mean(&ta, &tb) + best_mean(&tb, &ta)) / 2.0)
}

/// Whether two records state one given name under two family names, each
/// typed in its own field (a married name;
/// [`crate::names::GivenName::family_changed`]).
pub(crate) fn family_changed(a: &EventKeys, b: &EventKeys) -> bool {
    matches!((&a.given, &b.given), (Some(x), Some(y)) if x.family_changed(y))
}

/// The score of a pair, or `None` when either has no name, when their names
/// clearly differ (below `min_name` as a whole; or token by token,
/// [`person_similarity`], when either states no given name in its own
/// field), or when both state given names that differ
/// ([`given_keys_differ`]; the given name of one typed in the other's
/// family-name field, and the family name in its given-name field, is the
/// same person's).
pub(crate) fn score(
    a: &CanonicalEvent,
    a_keys: &EventKeys,
    b: &CanonicalEvent,
    b_keys: &EventKeys,
    min_name: f64,
) -> Option<f64> {
    let (a_name, b_name) = (a_keys.name.as_deref()?, b_keys.name.as_deref()?);
    let n = token_similarity(a_name, b_name);
    // A shared family name lifts the whole and the mean (`milburn tamsin` /
    // `milburn thomas` 0.9 and 0.85): given names typed in their own fields
    // must not differ, and names without them must match token by token.
    let other_person = match (&a_keys.given, &b_keys.given) {
        (Some(x), Some(y)) => x.other_person(y),
        _ => person_similarity_for_rules(a_name, b_name) < min_name,
    };
    // One given name, two family names (a married name): weighed against
    // the pair, never refused for the whole names alone, so it takes the
    // birthday, the postal code and the street line (house numbers too)
    // agreeing: -6 + 10 + 6 + 5 (+ 2 for the city).
    let family_changed = family_changed(a_keys, b_keys);
    if other_person || (n < min_name && !family_changed) {
        return None;
    }
    let mut s = if family_changed {
        -6.0
    } else if n >= 0.95 {
        6.0
    } else if n >= 0.92 {
        3.0
    } else {
        -4.0
    };
    let (x, y) = (&a.attributes, &b.attributes);
    if let (Some(p), Some(q)) = (&x.birthday, &y.birthday) {
        // A 1 January ([`birthday_told`]) may be a year alone or a form's
        // default: two of them agreeing say at most that the year does, as
        // a typo's neighbour does; beside a told date of its year it
        // contradicts nothing.
        let told = birthday_told(p) && birthday_told(q);
        s += if p == q && told {
            10.0
        } else if p == q || near_date(p, q) {
            3.0
        } else if !told && p.get(..4) == q.get(..4) {
            0.0
        } else {
            -6.0
        };
    }
    let (ax, ay) = (x.address.as_ref(), y.address.as_ref());
    // Addresses in two countries are two places: a postal code or a town's
    // name repeats across borders (`2619`; Perth, Birmingham), so neither
    // agrees, and a street line cannot either.
    // Only codes the normalizer recognised: a name it keeps as typed
    // (`España`, `Schweiz`) may be the other record's country.
    fn iso(a: Option<&Address>) -> Option<&str> {
        a.and_then(|a| a.country.as_deref())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
    }
    let other_country = matches!((iso(ax), iso(ay)), (Some(p), Some(q)) if p != q);
    // Whether the postal code or city says "another place".
    let mut elsewhere = other_country;
    if let (Some(p), Some(q)) = (ax.and_then(postal_key), ay.and_then(postal_key)) {
        s += if other_country {
            -2.0
        } else if p == q {
            6.0
        } else if strsim::osa_distance(&p, &q) == 1 {
            // One typo: a character changed, dropped or added, or two
            // neighbours swapped (`2230` / `2203`).
            1.0
        } else {
            elsewhere = true;
            -2.0
        };
    }
    let city = match (
        ax.and_then(|a| a.city.as_deref()),
        ay.and_then(|a| a.city.as_deref()),
    ) {
        (Some(p), Some(q)) if !fold(p).is_empty() && !fold(q).is_empty() => {
            if alike_text(p, q) && !other_country {
                2.0
            } else {
                -1.0
            }
        }
        _ => 0.0,
    };
    s += city;
    // "8 Stanley Street" is in many towns: a street line agrees only in the
    // same place.
    let (street, other_door) = street_lines_agree(ax, ay);
    s += if street > 0.0 && ((elsewhere && city <= 0.0) || other_door || other_country) {
        0.0
    } else {
        street
    };
    if let (Some(p), Some(q)) = (&x.gender, &y.gender) {
        if p != q {
            s -= 8.0;
        }
    }
    Some(s)
}

/// A postal code as compared and blocked on: letters and digits,
/// upper-cased. A US ZIP+4 (`94105-1234`) is its ZIP (`94105`): the four
/// digits name a block of a street, which one system keeps and another
/// drops. In a country whose codes are all digits of one length
/// ([`kindred_normalize::postal_code_digits`]: five in Germany, four in
/// Australia, six in China), a shorter code of at least three digits and
/// nothing else lost up to two leading zeros to a spreadsheet (`2134` is `02134` in the US,
/// `800` is `0800` in Australia, `100` is `00100` in Finland).
pub(crate) fn postal_key(address: &Address) -> Option<String> {
    let raw = address.postal_code.as_deref()?.trim();
    if let Some(zip) = zip_of_zip_plus_4(raw, address.country.as_deref()) {
        return Some(zip);
    }
    // (The katakana long-vowel mark is a letter, and a dash in a postal
    // code typed in hiragana mode: `100ー0001`, stored so by older
    // releases.)
    let p: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() && *c != 'ー')
        .flat_map(char::to_uppercase)
        .collect();
    let digits = address
        .country
        .as_deref()
        .and_then(kindred_normalize::postal_code_digits);
    if let Some(n) = digits {
        // A number a spreadsheet rewrote has no separator: `123-45` is a
        // code written so (Japan's before 1998), not `0012345`.
        let lost_zeros = (n.saturating_sub(2).max(3)..n).contains(&p.len());
        if lost_zeros && raw.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("{p:0>n$}"));
        }
    }
    (!p.is_empty()).then_some(p)
}

/// The ZIP code of a US ZIP+4 code, however a form or an export wrote
/// it: `94105-1234`, `94105 1234`, `941051234`, and in the US and its
/// territories (whose ZIPs a spreadsheet may have stripped of leading
/// zeros) `2134-5678` (`02134`). Elsewhere a code of that shape is a
/// country's own (Japan's `123-4567`), so only five digits and four count,
/// and only where no other country is named.
fn zip_of_zip_plus_4(raw: &str, country: Option<&str>) -> Option<String> {
    let us = matches!(
        country,
        Some("US" | "PR" | "VI" | "GU" | "AS" | "MP" | "MH" | "FM" | "PW")
    );
    if !(us || country.is_none()) {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (zip, plus_4) = match raw.split_once(['-', ' ']) {
        Some((zip, plus_4)) => (zip.trim(), plus_4.trim()),
        None if raw.len() == 9 => raw.split_at(5),
        None => return None,
    };
    let zip_len = if us { 3..=5 } else { 5..=5 };
    (digits(zip) && digits(plus_4) && plus_4.len() == 4 && zip_len.contains(&zip.len()))
        .then(|| format!("{zip:0>5}"))
}

/// The street line's weight (+5 agree, -1 disagree, 0 when either lacks
/// one) and whether the two are another door.
///
/// "8 Stanley Street" and "18 Stanley Street" share nearly every letter
/// and are another door: no credit when the house numbers differ. A line
/// of unit words only (`Unit 4`, `PO Box 12`) names no street: the other
/// line does, and the unit is a flat, another door when both records name
/// flats with no number in common. The street may also be typed in one
/// record's second line and the other's first (a building name first, or
/// the two fields swapped): compared numbers aside, the house numbers then
/// taken from the line naming the street, or its record's other line.
fn street_lines_agree(a: Option<&Address>, b: Option<&Address>) -> (f64, bool) {
    let (Some(a), Some(b)) = (Lines::of(a), Lines::of(b)) else {
        return (0.0, false);
    };
    let flats = match (a.flat, b.flat) {
        (Some(x), Some(y)) => match (numbers(x), numbers(y)) {
            (Some(p), Some(q)) => !p.iter().any(|n| q.contains(n)),
            _ => false,
        },
        _ => false,
    };
    fn side<'l>(line: &'l str, other: Option<&'l str>) -> Option<Vec<&'l str>> {
        numbers(line).or_else(|| other.and_then(numbers))
    }
    let door = |x: &str, x_other: Option<&str>, y: &str, y_other: Option<&str>| matches!((side(x, x_other), side(y, y_other)), (Some(p), Some(q)) if p != q);
    let (Some(sa), Some(sb)) = (a.street, b.street) else {
        return (0.0, false);
    };
    if alike_street(sa, sb, false) {
        return (5.0, flats || door(sa, None, sb, None));
    }
    // One record's other line names the other's street.
    let crossed = [(a.other, sa, sb, b.other), (b.other, sb, sa, a.other)]
        .into_iter()
        .find_map(|(x_other, x, y, y_other)| {
            let x_other = x_other?;
            alike_street(x_other, y, true).then(|| door(x_other, Some(x), y, y_other))
        });
    match crossed {
        Some(other_door) => (5.0, flats || other_door),
        None => (-1.0, false),
    }
}

/// An address's lines as the street comparison reads them.
struct Lines<'a> {
    /// The line that names the street: line 1, unless it holds unit words
    /// only and line 2 is there.
    street: Option<&'a str>,
    /// The other line, if it names something other than a unit.
    other: Option<&'a str>,
    /// A line of unit words only.
    flat: Option<&'a str>,
}

impl<'a> Lines<'a> {
    fn of(address: Option<&'a Address>) -> Option<Self> {
        let address = address?;
        let present = |l: Option<&'a String>| l.map(String::as_str).filter(|l| !fold(l).is_empty());
        let (l1, l2) = (
            present(address.line1.as_ref()),
            present(address.line2.as_ref()),
        );
        let unit_only = |l: Option<&str>| l.is_some_and(|l| !names_a_street(l));
        Some(match (l1, l2) {
            (Some(_), Some(_)) if unit_only(l1) => Lines {
                street: l2,
                other: None,
                flat: l1,
            },
            _ if unit_only(l2) => Lines {
                street: l1,
                other: None,
                flat: l2,
            },
            _ => Lines {
                street: l1.or(l2),
                other: l1.and(l2),
                flat: None,
            },
        })
    }
}

/// Whether a line has a word that is not a unit word, a number or a single
/// letter (`Unit 4A`, `U4`, `P.O. Box 12` name no street).
fn names_a_street(line: &str) -> bool {
    fold(line).split(' ').any(|t| {
        t.chars().count() > 1 && !t.bytes().any(|c| c.is_ascii_digit()) && !UNIT_WORDS.contains(&t)
    })
}

/// Two street lines alike: [`alike_words`] as typed or with each word in
/// its USPS form (`North Main Street` is `n main st`, as `N Main St` is). Lines
/// whose directionals differ (`N Main St`, `S Main St`) are two streets,
/// however alike their letters.
fn alike_street(x: &str, y: &str, words_only: bool) -> bool {
    let (fx, fy) = (fold(x), fold(y));
    let (ux, uy) = (in_usps_forms(&fx), in_usps_forms(&fy));
    let (p, q) = (directionals(&ux), directionals(&uy));
    // As typed, or in the USPS forms: a suffix mistyped (`Plave`) is
    // further from `Pl` than from `Place`.
    (p.is_empty() || q.is_empty() || p == q)
        && (alike_words(&fx, &fy, words_only) || alike_words(&ux, &uy, words_only))
}

/// The directionals of a street line in USPS forms, sorted.
fn directionals(line: &str) -> Vec<&str> {
    let mut d: Vec<&str> = line
        .split(' ')
        .filter(|t| DIRECTIONALS.contains(t))
        .collect();
    d.sort_unstable();
    d
}

/// The directionals of a street line in their USPS forms.
const DIRECTIONALS: &[&str] = &["n", "s", "e", "w", "ne", "nw", "se", "sw"];

/// A folded street line ([`fold`]) with each word in its USPS form.
fn in_usps_forms(folded: &str) -> String {
    folded
        .split(' ')
        .map(kindred_normalize::street_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Two cities alike ([`alike_words`]).
fn alike_text(x: &str, y: &str) -> bool {
    alike_words(&fold(x), &fold(y), false)
}

/// The longest address text compared by Jaro-Winkler (bytes); longer ones
/// are alike only when equal. No street line or city is this long, and
/// the measure's cost grows with the product of the lengths.
const MAX_COMPARED_BYTES: usize = 256;

/// Two folded address texts alike: Jaro-Winkler 0.9; with `words_only`,
/// numbers and tokens holding digits left out of both.
fn alike_words(p: &str, q: &str, words_only: bool) -> bool {
    let words = |f: &str| -> String {
        if !words_only {
            return f.to_string();
        }
        f.split(' ')
            .filter(|t| !t.bytes().any(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (p, q) = (words(p), words(q));
    if p.len().max(q.len()) > MAX_COMPARED_BYTES {
        return !p.is_empty() && p == q;
    }
    !p.is_empty() && !q.is_empty() && strsim::jaro_winkler(&p, &q) >= 0.9
}

/// Words of an address line that name a unit, not a street (folded).
const UNIT_WORDS: &[&str] = &[
    "unit",
    "flat",
    "apt",
    "apartment",
    "suite",
    "ste",
    "level",
    "lvl",
    "floor",
    "fl",
    "room",
    "rm",
    "shop",
    "rear",
    "po",
    "box",
    "pobox",
    "gpo",
    "lot",
    "building",
    "bldg",
];

/// The numbers in a line, if it has any.
fn numbers(line: &str) -> Option<Vec<&str>> {
    let numbers: Vec<&str> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .collect();
    (!numbers.is_empty()).then_some(numbers)
}

/// Two ISO dates one typo apart: one differing character, or day and month
/// swapped (03/04 read the other way).
fn near_date(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1 {
        return true;
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('-').collect(), b.split('-').collect());
    match (pa.as_slice(), pb.as_slice()) {
        ([ya, ma, da], [yb, mb, db]) => ya == yb && ma == db && da == mb,
        _ => false,
    }
}

/// Whether a normalized birthday says when the person was born: a whole
/// ISO date, and not a 1 January, which systems that know only the year of
/// birth, and forms' defaults, write. The birthday guard compares only
/// these; a cluster whose birthdays are all untold states none.
pub(crate) fn birthday_told(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && !d.ends_with("-01-01")
}

/// Two birthdays no typo explains: both told ([`birthday_told`]), three
/// digits or more apart, not day and month swapped, and more than two days
/// apart on the calendar (`1990-02-28` / `1990-03-01`: a date written from
/// a local midnight in another time zone; `1996-02-28` / `1996-03-01`: a
/// 29 February written where a year has none). One differing digit is a typo
/// ([`near_date`]); two may be two, or neighbours swapped (`1985` /
/// `1958`). A father and son of one name on a family's landline are born
/// decades apart (and three digits or more apart, unless born on the same
/// day and month).
pub(crate) fn birthdays_far_apart(a: &str, b: &str) -> bool {
    birthday_told(a)
        && birthday_told(b)
        && !near_date(a, b)
        && a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() >= 3
        && !within_two_days(a, b)
}

/// Two ISO dates at most two days apart on the calendar.
fn within_two_days(a: &str, b: &str) -> bool {
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    match (day(a), day(b)) {
        (Some(x), Some(y)) => (x - y).num_days().abs() <= 2,
        _ => false,
    }
}

/// Lower-cased letters and digits, runs of anything else one space.
/// Turkish's dotted capital `İ` is `i` (Unicode's lower case without a
/// locale adds a combining dot: `İSTİKLAL` and `İstiklal` differed).
fn fold(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.contains('İ') {
                t.replace('İ', "i").to_lowercase()
            } else {
                t.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_model::{Attributes, Channel};

    fn person(name: &str, birthday: &str, postal: &str, city: &str, line1: &str) -> CanonicalEvent {
        CanonicalEvent {
            event_id: format!("web:{name}"),
            channel: Channel::Web,
            event_time_ms: 0,
            identifiers: vec![],
            attributes: Attributes {
                full_name: Some(name.into()),
                birthday: Some(birthday.into()),
                address: Some(Address {
                    line1: Some(line1.into()),
                    city: Some(city.into()),
                    postal_code: Some(postal.into()),
                    ..Address::default()
                }),
                ..Attributes::default()
            },
            activity: Default::default(),
            consents: vec![],
            dropped: vec![],
        }
    }

    #[test]
    fn turkish_capitals_fold_as_their_lower_case_letters() {
        assert_eq!(fold("İSTİKLAL CADDESİ"), fold("İstiklal Caddesi"));
        assert_eq!(fold("İstiklal Caddesi"), "istiklal caddesi");
    }

    #[test]
    fn zip_plus_4_and_zips_that_lost_their_zeros_compare_as_the_zip() {
        let key = |code: &str, country: Option<&str>| {
            postal_key(&Address {
                postal_code: Some(code.into()),
                country: country.map(Into::into),
                ..Address::default()
            })
        };
        assert_eq!(key("94105-1234", None), key("94105", Some("US")));
        // ZIP+4 as exports write it, and one that lost its leading zero.
        assert_eq!(key("941051234", Some("US")), key("94105", Some("US")));
        assert_eq!(key("94105 1234", None), key("94105", Some("US")));
        assert_eq!(key("2134-5678", Some("US")).as_deref(), Some("02134"));
        // Japan's codes have that shape and are whole codes.
        assert_eq!(key("123-4567", Some("JP")).as_deref(), Some("1234567"));
        // Typed in hiragana mode, the dash is the long-vowel mark (stored
        // so by older releases).
        assert_eq!(key("100ー0001", Some("JP")).as_deref(), Some("1000001"));
        assert_eq!(key("2134-5678", None).as_deref(), Some("21345678"));
        assert_eq!(key("2134", Some("US")).as_deref(), Some("02134"));
        assert_eq!(key("1067", Some("DE")).as_deref(), Some("01067"));
        // Four digits are a whole code in Switzerland or Australia.
        assert_eq!(key("8001", Some("CH")).as_deref(), Some("8001"));
        assert_eq!(key("8001", None).as_deref(), Some("8001"));
        assert_eq!(key("sw1a 1aa", Some("GB")).as_deref(), Some("SW1A1AA"));
        assert_eq!(key("200040", Some("CN")).as_deref(), Some("200040"));
        // Beyond the five-digit countries (linking version 9): Darwin,
        // Helsinki, Hohhot, Sapporo.
        assert_eq!(key("800", Some("AU")), key("0800", Some("AU")));
        assert_eq!(key("100", Some("FI")).as_deref(), Some("00100"));
        assert_eq!(key("10000", Some("CN")).as_deref(), Some("010000"));
        assert_eq!(key("600000", Some("JP")).as_deref(), Some("0600000"));
        // Linking version 11: countries whose codes start with set digits
        // (Puerto Rico's `00930`, the US Virgin Islands', the Vatican's).
        assert_eq!(key("930", Some("PR")).as_deref(), Some("00930"));
        assert_eq!(key("802", Some("VI")).as_deref(), Some("00802"));
        assert_eq!(key("120", Some("VA")).as_deref(), Some("00120"));
        // Not a lost zero: too short, letters in it, or written with a
        // separator (a Japanese code of before 1998).
        assert_eq!(key("123-45", Some("JP")).as_deref(), Some("12345"));
        assert_eq!(key("80", Some("AU")).as_deref(), Some("80"));
        assert_eq!(key("1234 AB", Some("NL")).as_deref(), Some("1234AB"));
    }

    fn pair(a: &CanonicalEvent, b: &CanonicalEvent) -> Option<f64> {
        let keys = |e: &CanonicalEvent| EventKeys {
            name: crate::names::fold_name(e.attributes.full_name.as_deref().unwrap_or_default()),
            given: crate::names::GivenName::of(&e.attributes),
            ..EventKeys::default()
        };
        score(a, &keys(a), b, &keys(b), 0.8)
    }

    /// A 1 January (a year alone, a form's default) weighs as the year at
    /// most: two of them agree as a typo's neighbour does, beside a told
    /// date of its year it contradicts nothing, of another year it does.
    #[test]
    fn a_first_of_january_weighs_as_the_year_at_most() {
        let at = |birthday: &str| person("Ann Lee", birthday, "2612", "Canberra", "4 Stow Place");
        let told = pair(&at("1985-03-14"), &at("1985-03-14")).expect("scored");
        let year = pair(&at("1985-01-01"), &at("1985-01-01")).expect("scored");
        assert_eq!(told - year, 7.0, "{told} / {year}");
        let beside = pair(&at("1985-01-01"), &at("1985-06-12")).expect("scored");
        assert_eq!(year - beside, 3.0, "{year} / {beside}");
        let other_year = pair(&at("1962-01-01"), &at("1985-06-12")).expect("scored");
        assert_eq!(beside - other_year, 6.0, "{beside} / {other_year}");
        // Names alone with the year: short of any rule's minimum.
        let bare = |birthday: &str| {
            let mut e = at(birthday);
            e.attributes.address = None;
            e
        };
        let s = pair(&bare("2000-01-01"), &bare("2000-01-01")).expect("scored");
        assert!(s < 14.0, "{s}");
    }

    /// Twins at one address, born the same day: refused whether or not the
    /// given names were typed in their own fields, and when a short family
    /// name is near the other's given name (`li` / `lin`); the same person
    /// with the fields swapped still scores.
    #[test]
    fn twins_are_refused_with_or_without_given_name_fields() {
        let at = |name: &str| person(name, "1990-05-01", "200001", "Shanghai", "8 Huaihai Road");
        let fielded = |given: &str, family: &str| {
            let mut e = at(&format!("{given} {family}"));
            e.attributes.given_name = Some(given.into());
            e.attributes.family_name = Some(family.into());
            e
        };
        assert_eq!(pair(&at("Tamsin Milburn"), &at("Thomas Milburn")), None);
        assert_eq!(
            pair(&fielded("Tamsin", "Milburn"), &fielded("Thomas", "Milburn")),
            None
        );
        assert_eq!(
            pair(&fielded("Tom", "Milburn"), &fielded("Tim", "Milburn")),
            None
        );
        assert_eq!(pair(&fielded("琳", "李"), &fielded("蕾", "李")), None);
        assert!(
            pair(&fielded("Harry", "Wanders"), &fielded("Wanders", "Harry"))
                .is_some_and(|s| s >= 14.0)
        );
        assert!(pair(
            &fielded("Thomas", "Milburn"),
            &fielded("Thom as", "Milburn")
        )
        .is_some_and(|s| s >= 14.0));
    }

    /// A given name and its nickname, in their own fields or typed whole,
    /// are one person's at one address and birthday (`Bob` / `Robert`,
    /// `Peggy` / `Margaret`); a name and the nickname of another's
    /// (`Samuel` / `Samantha`, both `Sam`) are not.
    #[test]
    fn a_given_name_and_its_nickname_score_as_one_persons() {
        let at = |name: &str| person(name, "1961-02-11", "2612", "Canberra", "4 Stow Place");
        let fielded = |given: &str, family: &str| {
            let mut e = at(&format!("{given} {family}"));
            e.attributes.given_name = Some(given.into());
            e.attributes.family_name = Some(family.into());
            e
        };
        for (x, y) in [
            ("Robert", "Bob"),
            ("Margaret", "Peggy"),
            ("William", "Bill"),
        ] {
            let whole = pair(
                &at(&format!("{x} Harrington")),
                &at(&format!("{y} Harrington")),
            );
            assert!(whole.is_some_and(|s| s >= 14.0), "{x} / {y}: {whole:?}");
            let own = pair(&fielded(x, "Harrington"), &fielded(y, "Harrington"));
            assert!(
                own.is_some_and(|s| s >= 14.0),
                "{x} / {y} in fields: {own:?}"
            );
        }
        assert_eq!(
            pair(
                &fielded("Samuel", "Harrington"),
                &fielded("Samantha", "Harrington")
            ),
            None
        );
        assert_eq!(
            pair(&at("Samuel Harrington"), &at("Samantha Harrington")),
            None
        );
        // Twins: both names given in their own right today.
        for (x, y) in [("Harry", "Henry"), ("Jack", "John"), ("Sally", "Sarah")] {
            assert_eq!(
                pair(&fielded(x, "Harrington"), &fielded(y, "Harrington")),
                None
            );
            let whole = pair(
                &at(&format!("{x} Harrington")),
                &at(&format!("{y} Harrington")),
            );
            assert!(whole.is_none_or(|s| s < 14.0), "{x} / {y}: {whole:?}");
        }
    }

    /// Address texts longer than any street line are alike only when
    /// equal: Jaro-Winkler over kilobytes (a line NFKC had expanded) cost
    /// seconds per block of a few dozen records.
    #[test]
    fn very_long_address_texts_are_compared_for_equality_only() {
        let long = "a".repeat(MAX_COMPARED_BYTES + 1);
        let other = format!("{}b", "a".repeat(MAX_COMPARED_BYTES));
        assert!(alike_words(&long, &long, false));
        assert!(!alike_words(&long, &other, false), "one letter apart");
        assert!(alike_words("12 stanley street", "12 stanly street", false));
    }

    /// Two neighbouring digits of a postal code swapped are one typo, as
    /// one digit changed is; a street typed in one record's second line
    /// (a flat in the first, or the lines swapped) is that street, at the
    /// same door only when the house numbers agree.
    #[test]
    fn a_swapped_postal_digit_and_a_street_in_the_second_line_are_forgiven() {
        let at = |postal: &str, line1: &str, line2: Option<&str>| {
            let mut e = person("Sean Hewson", "1990-05-01", postal, "Sydney", line1);
            if let Some(a) = e.attributes.address.as_mut() {
                a.line2 = line2.map(Into::into);
            }
            e
        };
        let base = at("2230", "12 Kinkerbell Place", None);
        let typo = pair(&base, &at("2231", "12 Kinkerbell Place", None));
        assert!(typo.is_some());
        assert_eq!(pair(&base, &at("2203", "12 Kinkerbell Place", None)), typo);
        assert!(pair(&base, &at("3022", "12 Kinkerbell Place", None)) < typo);

        let score = |a: &CanonicalEvent, b: &CanonicalEvent| pair(a, b).expect("scored");
        let same = score(&base, &base.clone());
        let flat_first = at("2230", "Unit 4", Some("12 Kinkerbell Place"));
        assert_eq!(score(&base, &flat_first), same);
        assert_eq!(score(&flat_first, &base), same);
        let swapped = at("2230", "12 Bellevue House", Some("Kinkerbell Place"));
        let unswapped = at("2230", "12 Kinkerbell Place", Some("Bellevue House"));
        assert_eq!(score(&unswapped, &swapped), same);
        // Another door of the street, and another street: no credit.
        let next_door = at("2230", "Unit 4", Some("14 Kinkerbell Place"));
        assert_eq!(score(&base, &next_door), same - 5.0);
        let elsewhere = at("2230", "Unit 4", Some("12 Stanley Street"));
        assert_eq!(score(&base, &elsewhere), same - 6.0);
        // A unit line names no street, in line 1 or line 2; flats with no
        // number in common are other doors of one building.
        let unit_then_street = at("2230", "Unit 4", Some("30 Stanley Street"));
        let street_then_unit = at("2230", "12 Kinkerbell Place", Some("Unit 4"));
        assert_eq!(score(&street_then_unit, &unit_then_street), same - 6.0);
        assert_eq!(score(&flat_first, &unit_then_street), same - 6.0);
        let po_box = at("2230", "P.O. Box 4", Some("12 Kinkerbell Place"));
        assert_eq!(score(&po_box, &base), same);
        let flat_6 = at("2230", "12 Kinkerbell Place", Some("Unit 6"));
        assert_eq!(score(&flat_first, &flat_6), same - 5.0);
        assert_eq!(score(&flat_first, &street_then_unit), same);
        // A line 2 that is no flat (a town and postcode) is no other door.
        let town_line = at("2230", "12 Kinkerbell Place", Some("Sydney NSW 2230"));
        assert_eq!(score(&flat_first, &town_line), same);
    }

    /// One given name under two family names (a married name): it takes
    /// the birthday, the postal code and the street line with its house
    /// number agreeing. A namesake born the same day at another door, one
    /// with another birthday, and records without given-name fields stay
    /// apart.
    #[test]
    fn a_married_name_links_only_at_the_same_door_on_the_same_birthday() {
        let signup = |given: &str, family: &str, bday: &str, line1: &str| {
            let mut e = person(&format!("{given} {family}"), bday, "3220", "Ryde", line1);
            e.attributes.given_name = Some(given.into());
            e.attributes.family_name = Some(family.into());
            e
        };
        let before = signup("Tahni", "Skeen", "1923-11-10", "11 Macfarland Crescent");
        let after = signup("Tahni", "Murton", "1923-11-10", "11 Macfarland Crescent");
        assert_eq!(pair(&before, &after), Some(17.0));
        let next_door = signup("Tahni", "Murton", "1923-11-10", "13 Macfarland Crescent");
        assert_eq!(pair(&before, &next_door), Some(12.0));
        // A short family name one letter off is a typo, not a new name.
        let typo = signup("Angus", "Reec", "1922-07-23", "9 Heaton Place");
        let rees = signup("Angus", "Rees", "1922-07-23", "23 Heaton Place");
        assert!(pair(&typo, &rees).is_some_and(|s| s >= 14.0));
        // Family names that share letters (the whole names rate 0.83, above
        // the name threshold) are weighed the same.
        let watson = signup("Tahni", "Watson", "1923-11-10", "13 Macfarland Crescent");
        assert_eq!(pair(&after, &watson), Some(12.0));
        let other_birthday = signup("Tahni", "Murton", "1950-09-09", "11 Macfarland Crescent");
        assert_eq!(pair(&before, &other_birthday), Some(1.0));
        let unfielded =
            |name: &str| person(name, "1923-11-10", "3220", "Ryde", "11 Macfarland Crescent");
        assert_eq!(
            pair(&unfielded("Tahni Skeen"), &unfielded("Tahni Murton")),
            None
        );
        // Twins stay refused: the given names differ.
        let sister = signup("Thalia", "Murton", "1923-11-10", "11 Macfarland Crescent");
        assert_eq!(pair(&after, &sister), None);
        // A double-barrelled family name, or one with its particle or first
        // surname dropped, is the same family name, not a married one: it
        // links without the street line.
        // A first given name dropped is one person's too.
        let full = signup("John Michael", "Smith", "1985-03-14", "");
        let goes_by = signup("Michael", "Smith", "1985-03-14", "");
        assert!(
            pair(&full, &goes_by).is_some_and(|s| s >= 14.0),
            "{:?}",
            pair(&full, &goes_by)
        );
        for (family, other) in [
            ("Schmidt", "Müller-Schmidt"),
            ("Berg", "van der Berg"),
            ("Santos", "Silva Santos"),
        ] {
            let one = signup("Anna", family, "1985-03-14", "");
            let two = signup("Anna", other, "1985-03-14", "");
            assert!(
                pair(&one, &two).is_some_and(|s| s >= 14.0),
                "{family} / {other}: {:?}",
                pair(&one, &two)
            );
        }
    }

    #[test]
    fn token_similarity_forgives_a_typo_in_one_token_and_a_dropped_token() {
        assert_eq!(token_similarity("anna smith", "anna smith"), 1.0);
        assert!(token_similarity("michaela neumann", "michaela nuemann") >= 0.95);
        assert!(token_similarity("jane mary smith", "jane smith") >= 0.92);
        assert!(token_similarity("anna li", "li mei") < 0.8);
        assert!(token_similarity("wang wei", "li na") < 0.6);
        assert!(
            token_similarity("li", "li mei") < 0.9,
            "a bare family name is not a match"
        );
    }

    #[test]
    fn one_person_with_typos_passes_the_default_threshold() {
        let a = person(
            "Michaela Neumann",
            "1915-11-11",
            "4223",
            "Winston Hills",
            "8 Stanley Street",
        );
        let typo = person(
            "Micheala Neumann",
            "1915-11-11",
            "4223",
            "Winston Hils",
            "8 Stanley St",
        );
        let moved = person(
            "Michaela Neumann",
            "1915-11-11",
            "2000",
            "Sydney",
            "12 George Street",
        );
        let swapped = person(
            "Michaela Neumann",
            "1915-11-12",
            "4223",
            "Winston Hills",
            "8 Stanley Street",
        );
        let min = kindred_model::DEFAULT_MIN_SCORE;
        assert!(
            pair(&a, &typo).is_some_and(|s| s >= min),
            "{:?}",
            pair(&a, &typo)
        );
        assert!(
            pair(&a, &swapped).is_some_and(|s| s >= min),
            "{:?}",
            pair(&a, &swapped)
        );
        // Same name and birthday elsewhere: namesakes as likely as a move.
        assert!(
            pair(&a, &moved).is_some_and(|s| s < min),
            "{:?}",
            pair(&a, &moved)
        );
    }

    #[test]
    fn twins_and_people_of_one_household_stay_apart() {
        let anna = person(
            "Anna Li",
            "1990-04-03",
            "200031",
            "Shanghai",
            "18 Wukang Road",
        );
        let mei = person(
            "Mei Li",
            "1990-04-03",
            "200031",
            "Shanghai",
            "18 Wukang Road",
        );
        assert_eq!(pair(&anna, &mei), None, "names clearly differ: refused");
        let mut john = person(
            "John Smith",
            "1990-04-03",
            "SW1A 1AA",
            "London",
            "10 Downing Street",
        );
        let mut jane = person(
            "Jane Smith",
            "1990-04-03",
            "SW1A1AA",
            "London",
            "10 Downing Street",
        );
        john.attributes.gender = Some("male".into());
        jane.attributes.gender = Some("female".into());
        let min = kindred_model::DEFAULT_MIN_SCORE;
        assert!(
            pair(&john, &jane).is_none_or(|s| s < min),
            "{:?}",
            pair(&john, &jane)
        );
        let parent = person(
            "Anna Li",
            "1962-09-17",
            "200031",
            "Shanghai",
            "18 Wukang Road",
        );
        assert!(
            pair(&anna, &parent).is_some_and(|s| s < min),
            "{:?}",
            pair(&anna, &parent)
        );
    }

    #[test]
    fn a_chinese_household_is_not_one_name() {
        let at_home = |name: &str| {
            let mut e = person(name, "", "518000", "Shenzhen", "Futian Road 8");
            e.attributes.birthday = None;
            e
        };
        // What the block without a birthday asks of a pair.
        let min = kindred_model::NO_BIRTHDAY_BLOCK_MIN_SCORE;
        // Sisters: one family name, given names that share a syllable or
        // the same characters in another order.
        for (a, b) in [("李琳", "李怡妮"), ("王娜梅", "王梅娜"), ("刘琳", "刘莹莉")]
        {
            let s = pair(&at_home(a), &at_home(b));
            assert!(s.is_none_or(|s| s < min), "{a} / {b}: {s:?}");
        }
        // One person, in hanzi and in pinyin.
        let s = pair(&at_home("李怡妮"), &at_home("Yini LI"));
        assert!(s.is_some_and(|s| s >= min), "{s:?}");
    }

    #[test]
    fn namesakes_in_one_street_at_other_doors_stay_apart() {
        let at = |line1: &str| {
            let mut e = person("Wang Wei", "", "518000", "Shenzhen", line1);
            e.attributes.birthday = None;
            e
        };
        let min = kindred_model::NO_BIRTHDAY_BLOCK_MIN_SCORE;
        let s = pair(&at("8 Stanley Street"), &at("18 Stanley Street"));
        assert!(s.is_some_and(|s| s < min), "{s:?}");
        let s = pair(
            &at("Block 3, 88 Futian Road"),
            &at("Block 5, 88 Futian Road"),
        );
        assert!(s.is_some_and(|s| s < min), "{s:?}");
        // The same door, written another way.
        let s = pair(&at("8 Stanley Street"), &at("8 Stanley St."));
        assert!(s.is_some_and(|s| s >= min), "{s:?}");
        // In USPS Publication 28's forms (linking version 12): suffixes,
        // directionals, unit designators.
        for (x, y) in [
            ("123 North Main Street", "123 N Main St"),
            ("40 Northwest Ocean Boulevard", "40 NW Ocean Blvd"),
            ("7 Kings Crescent Apartment 4", "7 Kings Cres Apt 4"),
        ] {
            let s = pair(&at(x), &at(y));
            assert!(s.is_some_and(|s| s >= min), "{x} / {y}: {s:?}");
        }
        // Another street of the same name, and another door.
        for (x, y) in [
            ("123 North Main Street", "123 South Main St"),
            ("12 Ocean Boulevard", "14 Ocean Blvd"),
        ] {
            let s = pair(&at(x), &at(y));
            assert!(s.is_some_and(|s| s < min), "{x} / {y}: {s:?}");
        }
    }

    /// Namesakes born the same day, in a town of one name and a postal code
    /// of the same digits, in two countries: two people (Faker's en_US and
    /// en_AU both make `Andrew Reed` of `Marshallside`). In one country,
    /// or when either record names none, the same record links.
    #[test]
    fn namesakes_in_two_countries_stay_apart() {
        let min = kindred_model::DEFAULT_MIN_SCORE;
        let at = |country: Option<&str>, line1: &str| {
            let mut e = person("Andrew Reed", "1990-07-17", "2619", "Marshallside", line1);
            if let Some(a) = e.attributes.address.as_mut() {
                a.country = country.map(str::to_string);
            }
            e
        };
        for line1 in ["", "12 Bay Road"] {
            let s = pair(&at(Some("US"), line1), &at(Some("AU"), line1));
            assert!(s.is_some_and(|s| s < min), "{line1:?}: {s:?}");
            // A name the normalizer kept as typed may be the same country.
            for (x, y) in [
                (Some("AU"), Some("AU")),
                (None, Some("AU")),
                (None, None),
                (Some("ES"), Some("ESPAÑA")),
            ] {
                let s = pair(&at(x, line1), &at(y, line1));
                assert!(
                    s.is_some_and(|s| s >= min),
                    "{x:?} / {y:?} {line1:?}: {s:?}"
                );
            }
        }
    }

    #[test]
    fn birthdays_far_apart_only_beyond_typos() {
        assert!(
            !birthdays_far_apart("1985-06-17", "1985-01-01"),
            "year only known"
        );
        assert!(
            !birthdays_far_apart("1960-01-01", "1992-08-03"),
            "a form's default"
        );
        assert!(
            birthdays_far_apart("1960-05-12", "1992-08-03"),
            "father and son"
        );
        assert!(!birthdays_far_apart("1985-03-12", "1985-03-12"));
        assert!(
            !birthdays_far_apart("1985-03-12", "1985-03-17"),
            "one digit"
        );
        assert!(
            !birthdays_far_apart("1985-03-12", "1958-03-12"),
            "neighbours swapped"
        );
        assert!(
            !birthdays_far_apart("1985-03-12", "1985-12-03"),
            "day and month"
        );
        assert!(
            !birthdays_far_apart("1985-03-12", "--03-12"),
            "no year: not told"
        );
        assert!(birthdays_far_apart("1985-03-12", "1987-06-20"));
        for (x, y) in [
            ("1990-02-28", "1990-03-01"),
            ("1992-02-29", "1992-03-01"),
            ("1990-04-30", "1990-05-01"),
            ("1989-12-30", "1989-12-31"),
            ("1996-02-28", "1996-03-01"),
        ] {
            assert!(!birthdays_far_apart(x, y), "{x} / {y}: a day or two apart");
        }
        assert!(birthdays_far_apart("1990-02-25", "1990-03-01"));
    }

    #[test]
    fn dates_one_typo_apart() {
        assert!(near_date("1990-04-03", "1990-04-08"));
        assert!(near_date("1990-04-03", "1990-03-04"));
        assert!(!near_date("1990-04-03", "1991-05-03"));
        assert!(!near_date("1990-04-03", "1990-04"));
    }

    /// Stores record which release's linking partitioned them
    /// ([`crate::store::LINKING_VERSION`]) so that an upgrade that links
    /// otherwise tells the operator to re-evaluate them; nothing else
    /// notices a change to the scores or name guards that forgets to bump
    /// it. This pins both, over a grid of pairs (every combination of a
    /// name, birthday, postal code, city, street and gender variant against
    /// one record), to the version.
    #[test]
    fn scores_and_name_guards_are_what_the_linking_version_records() {
        const RECORDED: (&str, &str) = ("35", "3ea46b77be4cfd0f");
        // (given, family) typed in their own fields; None: a whole name only.
        let names: [(&str, Option<(&str, &str)>); 13] = [
            ("Charlotte Petersen", Some(("Charlotte", "Petersen"))),
            ("Charlotte Petersen", None),
            ("Charlote Petersen", Some(("Charlote", "Petersen"))),
            ("Charlotte Petersne", Some(("Charlotte", "Petersne"))),
            ("Charlotte Peterson", Some(("Charlotte", "Peterson"))),
            ("Chloe Petersen", Some(("Chloe", "Petersen"))),
            ("C Petersen", Some(("C", "Petersen"))),
            ("Petersen Charlotte", Some(("Petersen", "Charlotte"))),
            ("Charlotte Murton", Some(("Charlotte", "Murton"))),
            ("Charlotte Anne Petersen", None),
            ("Lottie Petersen", None),
            // Linking version 34: a family name that is a word of the
            // other's, a given name that is a word of the other's.
            (
                "Charlotte Gonzalez-Petersen",
                Some(("Charlotte", "Gonzalez-Petersen")),
            ),
            (
                "Anne Charlotte Petersen",
                Some(("Anne Charlotte", "Petersen")),
            ),
        ];
        let birthdays = [
            Some("1969-12-17"),
            Some("1969-12-18"),
            Some("1969-17-12"),
            Some("1919-09-14"),
            // Linking version 30: a year alone (or a form's default).
            Some("1969-01-01"),
            None,
        ];
        let postals = [Some("2217"), Some("2218"), Some("2271"), Some("3104"), None];
        let cities = [Some("Landsdale"), Some("Landsdael"), Some("Corio"), None];
        let lines = [
            Some("66 Sturgess Place"),
            Some("66 Sturgesw Place"),
            Some("12 Sturgess Place"),
            Some("4 Meeson Street"),
            // Line 1, then line 2.
            Some("Unit 3|66 Sturgess Place"),
            Some("66 Sturgess Place|Unit 5"),
            Some("Sturgess House|66 Meeson Street"),
            None,
        ];
        let genders = [Some("female"), Some("male"), None];
        // Linking version 15: addresses in two countries.
        let countries = [Some("AU"), Some("NZ"), None];
        let record = |(full, fields): (&str, Option<(&str, &str)>),
                      bday: Option<&str>,
                      postal: Option<&str>,
                      city: Option<&str>,
                      line1: Option<&str>,
                      gender: Option<&str>,
                      country: Option<&str>| {
            let mut e = person(full, "", "", "", "");
            e.attributes.given_name = fields.map(|f| f.0.to_string());
            e.attributes.family_name = fields.map(|f| f.1.to_string());
            e.attributes.birthday = bday.map(str::to_string);
            e.attributes.gender = gender.map(str::to_string);
            let (line1, line2) = match line1.map(|l| l.split_once('|')) {
                Some(Some((first, second))) => (Some(first), Some(second)),
                _ => (line1, None),
            };
            e.attributes.address = Some(Address {
                line1: line1.map(str::to_string),
                line2: line2.map(str::to_string),
                city: city.map(str::to_string),
                postal_code: postal.map(str::to_string),
                country: country.map(str::to_string),
                ..Address::default()
            });
            e
        };
        let base = record(
            names[0],
            birthdays[0],
            postals[0],
            cities[0],
            lines[0],
            genders[0],
            countries[0],
        );
        let given = |e: &CanonicalEvent| crate::names::GivenName::of(&e.attributes);
        let mut seen = String::new();
        for name in names {
            let other = record(name, None, None, None, None, None, None);
            if let (Some(x), Some(y)) = (given(&base), given(&other)) {
                seen += &format!(
                    "{}{};",
                    x.other_person(&y) as u8,
                    x.family_changed(&y) as u8
                );
            }
            for bday in birthdays {
                for postal in postals {
                    for city in cities {
                        for line1 in lines {
                            for gender in genders {
                                for country in countries {
                                    let other =
                                        record(name, bday, postal, city, line1, gender, country);
                                    seen += &format!("{:?};", pair(&base, &other));
                                }
                            }
                        }
                    }
                }
            }
        }
        let fingerprint = format!("{:016x}", crate::keys::fnv1a(seen.as_bytes()));
        assert_eq!(
            (crate::store::LINKING_VERSION, fingerprint.as_str()),
            RECORDED,
            "scores or name guards changed on the grid of pairs. If what links changed, stores \
             linked by the old code must be re-evaluated: bump LINKING_VERSION in \
             crates/kindred-resolver/src/store.rs and record it here with the new fingerprint. \
             If nothing that links changed (the grid moved, or a score below and above 14 \
             stays so), record the new fingerprint and keep the version."
        );
    }
}
